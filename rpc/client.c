/* Blocking msgpack-RPC client; bounded like the server's decoder. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "rpc/client.h"

/* Answers (a MountStatus of many mounts) may be larger than requests. */
#define CLIENT_MAX_MSG	(16 * 1024 * 1024)

struct rpc_client {
	int			 fd;
	uint32_t		 next_id;
	unsigned char		*buf;
	size_t			 len;
	size_t			 cap;
	size_t			 consumed;	/* bytes of the last message */
	struct wire_scanner	 scan;
	struct wire_limits	 lim;
	msgpack_unpacked	 u;
};

struct rpc_client *
rpc_client_connect(const char *path, char **cause)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct rpc_client *cl;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(cause, "socket path %s is too long", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		xasprintf(cause, "cannot reach the agent at %s: %s", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->fd = fd;
	cl->next_id = 1;
	cl->lim = wire_default_limits;
	cl->lim.max_msg = CLIENT_MAX_MSG;
	/* Enough for thousands of mounts; a hostile agent cannot make us
	 * allocate more than ~25 MiB of objects for one answer. */
	cl->lim.max_objects = 1024 * 1024;
	wire_scanner_reset(&cl->scan);
	msgpack_unpacked_init(&cl->u);
	return cl;
}

void
rpc_client_free(struct rpc_client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	msgpack_unpacked_destroy(&cl->u);
	free(cl->buf);
	free(cl);
}

int
rpc_client_fd(const struct rpc_client *cl)
{
	return cl->fd;
}

int
rpc_client_send(struct rpc_client *cl, const char *method, rpc_pack_fn *fn,
    const void *arg, uint32_t *msgid, char **cause)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t mlen = strlen(method);
	int r = 0;

	*msgid = cl->next_id++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 0);
	msgpack_pack_uint32(&pk, *msgid);
	msgpack_pack_str(&pk, mlen);
	msgpack_pack_str_body(&pk, method, mlen);
	if (fn != NULL) {
		msgpack_pack_array(&pk, 1);
		fn(&pk, arg);
	} else
		msgpack_pack_array(&pk, 0);
	if (write_full(cl->fd, sb.data, sb.size) == -1) {
		xasprintf(cause, "sending %s: %s", method, strerror(errno));
		r = -1;
	}
	msgpack_sbuffer_destroy(&sb);
	return r;
}

int
rpc_client_read(struct rpc_client *cl, struct wire_msg *m, int timeout_ms,
    char **cause)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms_mono() +
	    (uint64_t)timeout_ms;

	/* Forget the previous message. */
	if (cl->consumed > 0) {
		memmove(cl->buf, cl->buf + cl->consumed, cl->len -
		    cl->consumed);
		cl->len -= cl->consumed;
		cl->consumed = 0;
	}
	for (;;) {
		size_t msglen = 0, off = 0;
		const char *why;
		int msgid_ok;

		switch (wire_scan(&cl->scan, &cl->lim, cl->buf, cl->len,
		    &msglen, &why)) {
		case WIRE_BAD:
			xasprintf(cause, "bad message from the agent: %s", why);
			errno = EPROTO;
			return -1;
		case WIRE_COMPLETE:
			msgpack_unpacked_destroy(&cl->u);
			msgpack_unpacked_init(&cl->u);
			if (msgpack_unpack_next(&cl->u, (const char *)cl->buf,
			    msglen, &off) != MSGPACK_UNPACK_SUCCESS ||
			    wire_parse(&cl->u.data, m, &msgid_ok, &why) == -1) {
				xasprintf(cause, "bad message from the agent");
				errno = EPROTO;
				return -1;
			}
			cl->consumed = msglen;
			return 0;
		case WIRE_INCOMPLETE:
			break;
		}
		if (cl->len == cl->cap) {
			cl->cap = cl->cap ? cl->cap * 2 : 65536;
			cl->buf = xreallocarray(cl->buf, cl->cap, 1);
		}
		if (timeout_ms >= 0) {
			struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };
			uint64_t now = now_ms_mono();
			int r;

			if (now >= deadline)
				goto timeout;
			r = poll(&pfd, 1, (int)(deadline - now));
			if (r == -1 && errno == EINTR)
				continue;
			if (r == 0)
				goto timeout;
		}
		ssize_t n = read(cl->fd, cl->buf + cl->len, cl->cap - cl->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			xasprintf(cause, "the agent closed the connection%s%s",
			    n == -1 ? ": " : "", n == -1 ? strerror(errno) : "");
			errno = n == 0 ? ECONNRESET : errno;
			return -1;
		}
		cl->len += (size_t)n;
	}
timeout:
	xasprintf(cause, "no answer from the agent within %d ms", timeout_ms);
	errno = ETIMEDOUT;
	return -1;
}

int
rpc_client_call(struct rpc_client *cl, const char *method, rpc_pack_fn *fn,
    const void *arg, struct wire_msg *resp, int timeout_ms, char **cause)
{
	uint32_t msgid;

	if (rpc_client_send(cl, method, fn, arg, &msgid, cause) == -1)
		return -1;
	for (;;) {
		if (rpc_client_read(cl, resp, timeout_ms, cause) == -1)
			return -1;
		if (resp->kind == WIRE_RESPONSE && resp->msgid == msgid)
			return 0;
	}
}

const msgpack_object *
rpc_obj_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);

	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

const char *
rpc_obj_str(const msgpack_object *o, char *buf, size_t len)
{
	size_t n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return buf;
	n = o->via.str.size < len - 1 ? o->via.str.size : len - 1;
	memcpy(buf, o->via.str.ptr, n);
	buf[n] = '\0';
	return buf;
}

void
rpc_client_error(const struct wire_msg *resp, char *code, size_t codelen,
    char *message, size_t msglen)
{
	rpc_obj_str(rpc_obj_get(&resp->error, "code"), code, codelen);
	rpc_obj_str(rpc_obj_get(&resp->error, "message"), message, msglen);
}
