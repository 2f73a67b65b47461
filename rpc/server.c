/*
 * msgpack-RPC server: listeners, connections and calls.
 *
 * Every connection is bounded: what it may have buffered in (one message
 * plus a read), what it may have queued out, how many requests it may
 * have unanswered, how long it may stay quiet. Reading pauses while its
 * output is backed up, so a client that never reads costs at most
 * pause_out bytes until the idle timer drops it. Connections are
 * refcounted (the list holds one reference, each unanswered call one) and
 * freed on a later loop turn, never inside their own callbacks.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <linux/vm_sockets.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "rpc/server.h"

const struct rpc_limits rpc_default_limits = {
	.wire = { .max_msg = 1024 * 1024, .max_depth = 32,
	    .max_objects = 65536 },
	.max_out = 8 * 1024 * 1024,
	.pause_out = 1024 * 1024,
	.max_conns = 4096,
	.max_pending = 128,
	.idle_ms = 120 * 1000,
};

/* A listener on AF_VSOCK (set by rpc_server_listen_vsock only). */
#define RPC_L_VSOCK	0x100

/*
 * Which connection budget a listener's connections count against: the
 * control socket, the status socket, vsock. A workload filling the status
 * socket cannot lock out the others, nor a host the local control socket.
 */
#define RPC_KIND(flags)	(((flags) & RPC_L_VSOCK) ? RPC_CONN_VSOCK : \
			 ((flags) & RPC_L_STATUS) ? RPC_CONN_STATUS : \
			 RPC_CONN_CONTROL)
#define RPC_NKINDS	3

#define RPC_READ_CHUNK	65536
#define RPC_BACKOFF_MS	1000

struct rpc_listener {
	TAILQ_ENTRY(rpc_listener) entry;
	struct rpc_server	*srv;
	int			 fd;
	int			 flags;
	char			*path;	/* or "vsock port N", for messages */
	dev_t			 dev;	/* to unlink only the socket we made */
	ino_t			 ino;
	uint32_t		*allow;	/* vsock: the CIDs let in */
	size_t			 nallow;
	struct event		*ev;
	struct event		*backoff;
};

struct rpc_conn {
	TAILQ_ENTRY(rpc_conn)	 entry;
	struct rpc_server	*srv;
	int			 fd;
	int			 flags;		/* the listener's RPC_L_* */
	int			 refs;
	int			 dead;
	int			 eof;		/* peer closed its side */
	int			 closing;	/* close once output is flushed */
	int			 denied;	/* failed the peer check */
	int			 subscribed;
	int			 paused;
	int			 writing;	/* wev is added */
	int			 busy;		/* inside rpc_conn_process */
	size_t			 pending;
	uint64_t		 active_ms;	/* last message or write */
	uid_t			 uid;
	pid_t			 pid;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;
	struct wire_scanner	 scan;
};

struct rpc_call {
	struct rpc_conn	*conn;
	uint32_t	 msgid;
	const struct rpc_method *method;
};

struct rpc_server {
	struct event_base		*base;
	const struct rpc_method *const	*methods;
	size_t				 nmethods;
	struct rpc_limits		 lim;
	void				*arg;
	size_t				 nconns;
	/*
	 * Connections per kind of listener (control, status), each bounded
	 * by max_conns on its own: a workload filling the status socket must
	 * never lock the orchestrator out of the control socket.
	 */
	size_t				 nkind[RPC_NKINDS];
	uint64_t			*served;	/* calls, per method */
	TAILQ_HEAD(, rpc_listener)	 listeners;
	TAILQ_HEAD(, rpc_conn)		 conns;
	/*
	 * Reused for every message: a fresh msgpack zone (8 KiB) per
	 * message made glibc consolidate its fastbins on each one. Busy
	 * while a message is being handled, in case a handler's reply lets
	 * another connection's queued messages be decoded meanwhile.
	 */
	msgpack_zone			*zone;
	int				 zone_busy;
	/*
	 * The answers to one read's worth of requests from one connection
	 * (batch) are packed straight into sb and leave in one send(2)
	 * once its messages are handled: no copy into an evbuffer, unless
	 * the socket takes only part. What goes to any other connection
	 * meanwhile is packed in scratch and queued on its evbuffer.
	 */
	struct rpc_conn			*batch;
	msgpack_sbuffer			 sb;
	msgpack_sbuffer			 scratch;
};

/* Keep no large buffer around after a large answer. */
static void
rpc_sbuffer_shrink(msgpack_sbuffer *sb)
{
	if (sb->alloc > RPC_READ_CHUNK) {
		msgpack_sbuffer_destroy(sb);
		msgpack_sbuffer_init(sb);
	}
}

/*
 * Queues bytes on a connection's output: after its batch's answers when
 * it has one open (so nothing overtakes an answer), else on c->out.
 */
static void
rpc_conn_queue(struct rpc_conn *c, const void *data, size_t len)
{
	if (c->srv->batch == c) {
		if (msgpack_sbuffer_write(&c->srv->sb, data, len) != 0)
			fatalx("msgpack_sbuffer_write");
	} else if (evbuffer_add(c->out, data, len) == -1)
		fatalx("evbuffer_add");
}

/* What a connection has to send: c->out, and its open batch. */
static size_t
rpc_conn_outlen(const struct rpc_conn *c)
{
	return evbuffer_get_length(c->out) +
	    (c->srv->batch == c ? c->srv->sb.size : 0);
}

/* A packed message is on its way: in place in the batch, or queued. */
static void
rpc_conn_add(struct rpc_conn *c, msgpack_sbuffer *sb)
{
	if (sb == &c->srv->sb)
		return;
	rpc_conn_queue(c, sb->data, sb->size);
	rpc_sbuffer_shrink(sb);
}

static void	rpc_conn_close(struct rpc_conn *, const char *why);
static void	rpc_conn_abort(struct rpc_conn *, const char *why);
static void	rpc_conn_process(struct rpc_conn *);
static void	rpc_conn_flush(struct rpc_conn *);

static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
	    .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

struct rpc_server *
rpc_server_new(struct event_base *base, const struct rpc_method *const *methods,
    size_t nmethods, const struct rpc_limits *lim, void *arg)
{
	struct rpc_server *srv = xcalloc(1, sizeof(*srv));

	srv->base = base;
	srv->methods = methods;
	srv->nmethods = nmethods;
	srv->served = xcalloc(nmethods + 1, sizeof(*srv->served));
	srv->lim = lim ? *lim : rpc_default_limits;
	srv->arg = arg;
	TAILQ_INIT(&srv->listeners);
	TAILQ_INIT(&srv->conns);
	if ((srv->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE)) == NULL)
		fatalx("msgpack_zone_new");
	msgpack_sbuffer_init(&srv->sb);
	msgpack_sbuffer_init(&srv->scratch);
	return srv;
}

size_t
rpc_server_nconns(const struct rpc_server *srv)
{
	return srv->nconns;
}

size_t
rpc_server_nconns_kind(const struct rpc_server *srv, enum rpc_conn_kind k)
{
	return (unsigned)k < RPC_NKINDS ? srv->nkind[k] : 0;
}

uint64_t
rpc_server_served(const struct rpc_server *srv, size_t i)
{
	return i < srv->nmethods ? srv->served[i] : 0;
}

static void
rpc_conn_ref(struct rpc_conn *c)
{
	c->refs++;
}

static void
on_conn_free(evutil_socket_t fd, short what, void *arg)
{
	free(arg);
}

static void
rpc_conn_unref(struct rpc_conn *c)
{
	if (--c->refs > 0)
		return;
	/* Callers up the stack may still look at c->dead: free later. */
	event_base_once(c->srv->base, -1, EV_TIMEOUT, on_conn_free, c, NULL);
}

/*
 * Monotonic milliseconds at the clock's tick (a few ms): it stamps each
 * connection's activity, and a vDSO read costs far less than moving a
 * timer in libevent's heap on every request.
 */
static uint64_t
rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Arms the idle timer to fire idle_ms after the last activity. */
static void
rpc_conn_arm_idle(struct rpc_conn *c, uint64_t now)
{
	uint64_t idle = c->srv->lim.idle_ms, quiet = now - c->active_ms;
	struct timeval tv = ms_tv(quiet < idle ? idle - quiet : 0);

	if (idle > 0)
		evtimer_add(c->timer, &tv);
}

/*
 * Activity only stamps the time: the idle timer stays where it is, and
 * when it fires for a connection that has been busy since, it is moved
 * to idle_ms after that (on_conn_timer).
 */
static void
rpc_conn_touch(struct rpc_conn *c)
{
	c->active_ms = rpc_now_ms();
}

static void
rpc_conn_close(struct rpc_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	log_debug("connection fd %d (uid %d pid %d) closed: %s", c->fd,
	    (int)c->uid, (int)c->pid, why);
	if (c->srv->batch == c) {
		c->srv->batch = NULL;
		msgpack_sbuffer_clear(&c->srv->sb);
	}
	TAILQ_REMOVE(&c->srv->conns, c, entry);
	c->srv->nconns--;
	c->srv->nkind[RPC_KIND(c->flags)]--;
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	c->in = c->out = NULL;
	close(c->fd);
	c->fd = -1;
	rpc_conn_unref(c);
}

/* Closes a connection that has nothing more to say or hear. */
static void
rpc_conn_maybe_done(struct rpc_conn *c)
{
	if (c->dead)
		return;
	if ((c->eof || c->closing) && c->pending == 0 &&
	    evbuffer_get_length(c->out) == 0)
		rpc_conn_close(c, c->eof ? "peer closed" : "done");
}

static void
rpc_conn_flush(struct rpc_conn *c)
{
	size_t left;

	if (c->dead)
		return;
	while ((left = evbuffer_get_length(c->out)) > 0) {
		int n = evbuffer_write(c->out, c->fd);

		if (n > 0) {
			rpc_conn_touch(c);
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		rpc_conn_close(c, "write failed");
		return;
	}
	if (left > c->srv->lim.max_out) {
		log_warnx("dropping a client (uid %d pid %d) that does not "
		    "read its answers (%zu bytes queued)", (int)c->uid,
		    (int)c->pid, left);
		rpc_conn_close(c, "output over the limit");
		return;
	}
	/* Only on a change: most answers leave at once, and wev stays off. */
	if ((left > 0) != c->writing) {
		c->writing = left > 0;
		if (c->writing)
			event_add(c->wev, NULL);
		else
			event_del(c->wev);
	}
	/* Output drained below the mark: take requests again. */
	if (c->paused && left <= c->srv->lim.pause_out &&
	    c->pending < c->srv->lim.max_pending) {
		c->paused = 0;
		if (!c->eof)
			event_add(c->rev, NULL);
		rpc_conn_process(c);
		if (c->dead)
			return;
	}
	rpc_conn_maybe_done(c);
}

void
rpc_pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

/*
 * A response's framing, [1, msgid, error, result], up to the error, in
 * the buffer returned (the connection's batch, or scratch): the caller
 * packs the rest and hands the buffer to rpc_conn_add.
 */
static msgpack_sbuffer *
rpc_response_begin(struct rpc_conn *c, uint32_t msgid, msgpack_packer *pk)
{
	msgpack_sbuffer *sb = &c->srv->sb;

	if (c->srv->batch != c) {
		sb = &c->srv->scratch;
		msgpack_sbuffer_clear(sb);
	}
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint32(pk, 1);
	msgpack_pack_uint32(pk, msgid);
	return sb;
}

static void
rpc_send_error(struct rpc_conn *c, uint32_t msgid, const char *code,
    const char *message)
{
	msgpack_sbuffer *sb;
	msgpack_packer pk;

	sb = rpc_response_begin(c, msgid, &pk);
	msgpack_pack_map(&pk, 2);
	rpc_pack_str(&pk, "code");
	rpc_pack_str(&pk, code);
	rpc_pack_str(&pk, "message");
	rpc_pack_str(&pk, message);
	msgpack_pack_nil(&pk);
	rpc_conn_add(c, sb);
}

static const struct rpc_method *
rpc_find_method(struct rpc_server *srv, const char *name, size_t len,
    size_t *idx)
{
	for (size_t i = 0; i < srv->nmethods; i++) {
		const char *m = srv->methods[i]->name;

		if (strlen(m) == len && memcmp(m, name, len) == 0) {
			*idx = i;
			return srv->methods[i];
		}
	}
	return NULL;
}

static void
rpc_conn_request(struct rpc_conn *c, const struct wire_msg *m)
{
	const struct rpc_method *meth;
	struct rpc_args *args;
	struct rpc_call *call;
	char *cause = NULL;
	char name[64];
	size_t idx = 0;
	size_t n = m->method_len < sizeof(name) - 1 ? m->method_len :
	    sizeof(name) - 1;

	memcpy(name, m->method, n);
	name[n] = '\0';
	if (c->denied) {
		rpc_send_error(c, m->msgid, "EPERM", "the control socket "
		    "serves only root and the agent's own user; use the "
		    "status socket");
		c->closing = 1;
		return;
	}
	if ((meth = rpc_find_method(c->srv, m->method, m->method_len,
	    &idx)) == NULL) {
		char *msg;

		xasprintf(&msg, "no such method \"%s\"", name);
		rpc_send_error(c, m->msgid, "ENOSYS", msg);
		free(msg);
		return;
	}
	if ((c->flags & RPC_L_STATUS) && !(meth->flags & RPC_M_STATUS)) {
		char *msg;

		xasprintf(&msg, "%s is not served on the status socket; use "
		    "the control socket", meth->name);
		rpc_send_error(c, m->msgid, "EPERM", msg);
		free(msg);
		return;
	}
	if (rpc_args_parse(meth->params, &m->params, &args, &cause) == -1) {
		char *msg;

		xasprintf(&msg, "%s: %s", meth->name, cause);
		rpc_send_error(c, m->msgid, "EINVAL", msg);
		free(msg);
		free(cause);
		return;
	}
	c->srv->served[idx]++;
	call = xcalloc(1, sizeof(*call));
	call->conn = c;
	call->msgid = m->msgid;
	call->method = meth;
	rpc_conn_ref(c);
	c->pending++;
	meth->handler(call, args, c->srv->arg);
	rpc_args_free(args);
}

/* One whole message of len bytes at buf. */
static void
rpc_conn_message(struct rpc_conn *c, const unsigned char *buf, size_t len)
{
	struct rpc_server *srv = c->srv;
	msgpack_zone *zone = srv->zone;
	msgpack_object obj;
	struct wire_msg m;
	const char *why;
	int msgid_ok;
	size_t off = 0;

	if (srv->zone_busy &&
	    (zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE)) == NULL)
		fatalx("msgpack_zone_new");
	if (zone == srv->zone)
		srv->zone_busy = 1;
	if (msgpack_unpack((const char *)buf, len, &off, zone, &obj) !=
	    MSGPACK_UNPACK_SUCCESS || off != len) {
		rpc_conn_abort(c, "undecodable message");
		goto out;
	}
	if (wire_parse(&obj, &m, &msgid_ok, &why) == -1) {
		if (msgid_ok && m.kind == WIRE_REQUEST)
			rpc_send_error(c, m.msgid, "EINVAL", why);
		else
			rpc_conn_abort(c, why);
		goto out;
	}
	/* Notifications and responses from clients carry nothing for us. */
	if (m.kind == WIRE_REQUEST)
		rpc_conn_request(c, &m);
out:
	if (zone == srv->zone) {
		msgpack_zone_clear(zone);
		srv->zone_busy = 0;
	} else
		msgpack_zone_free(zone);
}

/*
 * Stops reading from a connection whose stream cannot be trusted any
 * more; answers already queued still leave, then it closes.
 */
static void
rpc_conn_abort(struct rpc_conn *c, const char *why)
{
	log_debug("connection fd %d (uid %d pid %d): %s; closing", c->fd,
	    (int)c->uid, (int)c->pid, why);
	c->closing = 1;
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	event_del(c->rev);
}

/* Opens c's batch, unless another's is open (then c->out takes all). */
static void
rpc_batch_begin(struct rpc_conn *c)
{
	if (c->srv->batch == NULL) {
		c->srv->batch = c;
		msgpack_sbuffer_clear(&c->srv->sb);
	}
}

/*
 * Closes c's batch: its answers leave in one send(2) when nothing is
 * queued ahead of them, and what the socket does not take is queued.
 */
static void
rpc_batch_end(struct rpc_conn *c)
{
	struct rpc_server *srv = c->srv;
	msgpack_sbuffer *sb = &srv->sb;
	ssize_t n = 0;

	if (srv->batch != c)
		return;
	srv->batch = NULL;
	if (sb->size > 0 && evbuffer_get_length(c->out) == 0) {
		n = send(c->fd, sb->data, sb->size, MSG_NOSIGNAL);
		if (n > 0)
			rpc_conn_touch(c);
		else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			rpc_conn_close(c, "write failed");
			goto out;
		} else
			n = 0;
	}
	if ((size_t)n < sb->size && evbuffer_add(c->out, sb->data + n,
	    sb->size - (size_t)n) == -1)
		fatalx("evbuffer_add");
out:
	msgpack_sbuffer_clear(sb);
	rpc_sbuffer_shrink(sb);
}

/*
 * Handles the whole messages at buf (len bytes, from the start of one)
 * and returns how many bytes they took. Stops at an incomplete message,
 * when the connection must pause (output backed up, too many calls
 * unanswered) and when it closes. The caller holds c->busy and a batch:
 * answers are only gathered meanwhile and leave together in one write at
 * the end, not one write per answer, which is what makes pipelining pay.
 */
static size_t
rpc_conn_consume(struct rpc_conn *c, const unsigned char *buf, size_t len)
{
	const struct rpc_limits *lim = &c->srv->lim;
	size_t used = 0, msglen;
	const char *why;
	uint32_t msgid;

	while (used < len && !c->dead && !c->closing) {
		if (rpc_conn_outlen(c) > lim->pause_out ||
		    c->pending >= lim->max_pending) {
			c->paused = 1;
			event_del(c->rev);
			break;
		}
		switch (wire_scan(&c->scan, &lim->wire, buf + used, len - used,
		    &msglen, &why)) {
		case WIRE_INCOMPLETE:
			return used;
		case WIRE_BAD:
			/* The stream cannot be resynchronised: answer if a
			 * msgid is readable, then close. */
			if (wire_peek_request_msgid(buf + used, len - used,
			    &msgid) == 0) {
				char *msg;

				/* Name the bounds, so the sender can act. */
				xasprintf(&msg, "%s (a message may hold at "
				    "most %zu bytes, %u levels of nesting "
				    "and %zu objects)", why, lim->wire.max_msg,
				    lim->wire.max_depth, lim->wire.max_objects);
				rpc_send_error(c, msgid, "EINVAL", msg);
				free(msg);
			}
			rpc_conn_abort(c, why);
			return used;
		case WIRE_COMPLETE:
			rpc_conn_touch(c);
			rpc_conn_message(c, buf + used, msglen);
			used += msglen;
			break;
		}
	}
	return used;
}

/* Handles every whole message kept in c->in, then flushes the answers. */
static void
rpc_conn_process(struct rpc_conn *c)
{
	size_t len, used;

	if (c->dead)
		return;
	c->busy++;
	rpc_batch_begin(c);
	if ((len = evbuffer_get_length(c->in)) > 0) {
		used = rpc_conn_consume(c, evbuffer_pullup(c->in, -1), len);
		if (!c->dead)
			evbuffer_drain(c->in, used);
	}
	c->busy--;
	rpc_batch_end(c);
	if (!c->dead)
		rpc_conn_flush(c);
}

static void
on_conn_read(evutil_socket_t fd, short what, void *arg)
{
	/*
	 * read(2) into one buffer shared by every connection (the loop is
	 * single-threaded): evbuffer_read would ask FIONREAD first (an ioctl
	 * per read, a quarter of the syscalls of a Ping) and caps each read
	 * at 4 KiB anyway.
	 */
	static unsigned char rbuf[RPC_READ_CHUNK];
	struct rpc_conn *c = arg;
	size_t have = evbuffer_get_length(c->in), used;
	size_t room = c->srv->lim.wire.max_msg + 1 - (have <
	    c->srv->lim.wire.max_msg ? have : c->srv->lim.wire.max_msg);
	ssize_t n;

	if (room > sizeof(rbuf))
		room = sizeof(rbuf);
	n = read(fd, rbuf, room);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		rpc_conn_close(c, "read failed");
		return;
	}
	rpc_conn_ref(c);
	if (n == 0) {
		/* Half-close: answer what was asked, then close. */
		c->eof = 1;
		event_del(c->rev);
	}
	if (n > 0 && have == 0) {
		/*
		 * Nothing kept from before, the usual case: the messages are
		 * handled straight from rbuf, and only what is left (part of
		 * a message, or what a pause held back) is kept in c->in.
		 * Nothing reads into rbuf meanwhile: only this callback does.
		 */
		c->busy++;
		rpc_batch_begin(c);
		used = rpc_conn_consume(c, rbuf, (size_t)n);
		c->busy--;
		if (!c->dead && !c->closing && used < (size_t)n &&
		    evbuffer_add(c->in, rbuf + used, (size_t)n - used) == -1)
			fatalx("evbuffer_add");
		rpc_batch_end(c);
		if (!c->dead)
			rpc_conn_flush(c);
	} else {
		if (n > 0 && evbuffer_add(c->in, rbuf, (size_t)n) == -1)
			fatalx("evbuffer_add");
		rpc_conn_process(c);
	}
	if (!c->dead && c->eof && evbuffer_get_length(c->in) > 0 &&
	    !c->paused)
		c->closing = 1;	/* a partial message will never complete */
	if (!c->dead)
		rpc_conn_maybe_done(c);
	rpc_conn_unref(c);
}

static void
on_conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_conn *c = arg;

	rpc_conn_ref(c);
	rpc_conn_flush(c);
	rpc_conn_unref(c);
}

static void
on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_conn *c = arg;
	uint64_t now = rpc_now_ms();

	/* Active since the timer was set: quiet for less than idle_ms. */
	if (now - c->active_ms < c->srv->lim.idle_ms) {
		rpc_conn_arm_idle(c, now);
		return;
	}
	if (evbuffer_get_length(c->out) > 0) {
		log_warnx("dropping a client (uid %d pid %d) that stopped "
		    "reading", (int)c->uid, (int)c->pid);
		rpc_conn_close(c, "not reading");
	} else if (c->pending == 0 && !c->subscribed)
		rpc_conn_close(c, "idle");
	else {
		rpc_conn_touch(c);
		rpc_conn_arm_idle(c, c->active_ms);
	}
}

static void
rpc_conn_new(struct rpc_listener *l, int fd)
{
	struct rpc_server *srv = l->srv;
	struct rpc_conn *c = xcalloc(1, sizeof(*c));
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	c->srv = srv;
	c->fd = fd;
	c->flags = l->flags;
	c->refs = 1;
	c->uid = (uid_t)-1;
	c->pid = -1;
	/* Across the VM boundary there are no credentials: the CID was
	 * checked at accept. */
	if (!(l->flags & RPC_L_VSOCK) &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
		c->uid = cred.uid;
		c->pid = cred.pid;
	}
	if ((l->flags & RPC_L_CHECK_PEER) && c->uid != 0 &&
	    c->uid != geteuid()) {
		log_warnx("control socket: refusing uid %d (pid %d)",
		    (int)c->uid, (int)c->pid);
		c->denied = 1;
	}
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	if (c->in == NULL || c->out == NULL)
		fatalx("evbuffer_new");
	c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_conn_read,
	    c);
	c->wev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST,
	    on_conn_write, c);
	c->timer = evtimer_new(srv->base, on_conn_timer, c);
	if (c->rev == NULL || c->wev == NULL || c->timer == NULL)
		fatalx("event_new");
	wire_scanner_reset(&c->scan);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	srv->nkind[RPC_KIND(c->flags)]++;
	event_add(c->rev, NULL);
	rpc_conn_touch(c);
	rpc_conn_arm_idle(c, c->active_ms);
	log_debug("connection fd %d from uid %d pid %d on %s", fd,
	    (int)c->uid, (int)c->pid, l->path);
}

static void
on_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_listener *l = arg;

	event_add(l->ev, NULL);
}

int
rpc_vsock_peer_allowed(uint32_t cid, const uint32_t *allow, size_t nallow)
{
	if (cid == VMADDR_CID_ANY)
		return 0;
	for (size_t i = 0; i < nallow; i++)
		if (allow[i] == cid)
			return 1;
	return 0;
}

/* A vsock peer from a CID not listed: refused before anything is read. */
static int
rpc_vsock_refuse(struct rpc_listener *l, const struct sockaddr_vm *svm,
    socklen_t len)
{
	uint32_t cid = VMADDR_CID_ANY;

	if (!(l->flags & RPC_L_VSOCK))
		return 0;
	if (len >= sizeof(*svm) && svm->svm_family == AF_VSOCK)
		cid = svm->svm_cid;
	if (rpc_vsock_peer_allowed(cid, l->allow, l->nallow))
		return 0;
	log_warnx("%s: refusing a connection from CID %u (not in "
	    "--vsock-allow-cid)", l->path, cid);
	return 1;
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct rpc_listener *l = arg;

	for (;;) {
		struct sockaddr_vm svm;
		socklen_t len = sizeof(svm);
		int fd;

		memset(&svm, 0, sizeof(svm));
		fd = accept4(lfd, (struct sockaddr *)&svm, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of fds: back off instead of spinning on
				 * a listener that stays readable. */
				struct timeval tv = ms_tv(RPC_BACKOFF_MS);

				log_warn("accept on %s", l->path);
				event_del(l->ev);
				evtimer_add(l->backoff, &tv);
			}
			return;
		}
		if (rpc_vsock_refuse(l, &svm, len)) {
			close(fd);
			continue;
		}
		if (l->srv->nkind[RPC_KIND(l->flags)] >=
		    l->srv->lim.max_conns) {
			log_warnx("%s: %zu connections already; refusing one",
			    l->path, l->srv->nkind[RPC_KIND(l->flags)]);
			close(fd);
			continue;
		}
		rpc_conn_new(l, fd);
	}
}

/* Is something serving at path? Decides between "busy" and "stale". */
static int
rpc_socket_alive(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return r == 0;
}

/* A listening fd served from now on; name is taken over. */
static struct rpc_listener *
rpc_listener_add(struct rpc_server *srv, int fd, int flags, char *name)
{
	struct rpc_listener *l = xcalloc(1, sizeof(*l));

	l->srv = srv;
	l->fd = fd;
	l->flags = flags;
	l->path = name;
	l->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, on_accept, l);
	l->backoff = evtimer_new(srv->base, on_backoff, l);
	if (l->ev == NULL || l->backoff == NULL)
		fatalx("event_new");
	event_add(l->ev, NULL);
	TAILQ_INSERT_TAIL(&srv->listeners, l, entry);
	return l;
}

int
rpc_server_listen(struct rpc_server *srv, const char *path, mode_t mode,
    int flags, char **cause)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct rpc_listener *l;
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(cause, "socket path %s is longer than %zu bytes",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			xasprintf(cause, "%s exists and is not a socket", path);
			return -1;
		}
		if (rpc_socket_alive(path)) {
			xasprintf(cause, "an agent is already serving on %s",
			    path);
			return -1;
		}
		log_info("removing stale socket %s", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			xasprintf(cause, "removing stale socket %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	/* Never let the socket exist with wider permissions than asked. */
	old = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		xasprintf(cause, "bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, mode) == -1 || lstat(path, &st) == -1 ||
	    listen(fd, 512) == -1) {
		xasprintf(cause, "setting up %s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	l = rpc_listener_add(srv, fd, flags, xstrdup(path));
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
}

int
rpc_server_listen_vsock(struct rpc_server *srv, uint32_t port,
    const uint32_t *allow, size_t nallow, int flags, char **cause)
{
	struct sockaddr_vm svm;
	struct rpc_listener *l;
	char *name;
	int fd;

	xasprintf(&name, "vsock port %u", port);
	if ((fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		if (errno == EAFNOSUPPORT)
			xasprintf(cause, "%s: this kernel has no AF_VSOCK (the "
			    "vsock module is not loaded)", name);
		else
			xasprintf(cause, "%s: socket: %s", name,
			    strerror(errno));
		free(name);
		return -1;
	}
	memset(&svm, 0, sizeof(svm));
	svm.svm_family = AF_VSOCK;
	svm.svm_cid = VMADDR_CID_ANY;
	svm.svm_port = port;
	if (bind(fd, (struct sockaddr *)&svm, sizeof(svm)) == -1 ||
	    listen(fd, 512) == -1) {
		if (errno == EADDRINUSE)
			xasprintf(cause, "%s: in use by another program", name);
		else if (errno == EADDRNOTAVAIL || errno == ENODEV)
			xasprintf(cause, "%s: no vsock transport (no "
			    "virtio-vsock device in this VM, no "
			    "vsock_loopback): %s", name, strerror(errno));
		else
			xasprintf(cause, "%s: %s", name, strerror(errno));
		close(fd);
		free(name);
		return -1;
	}
	/* No SO_PEERCRED to check there: the allowed CIDs stand for it. */
	l = rpc_listener_add(srv, fd, (flags & ~RPC_L_CHECK_PEER) |
	    RPC_L_VSOCK, name);
	l->allow = xreallocarray(NULL, nallow > 0 ? nallow : 1,
	    sizeof(*l->allow));
	if (nallow > 0)
		memcpy(l->allow, allow, nallow * sizeof(*l->allow));
	l->nallow = nallow;
	return 0;
}

void
rpc_server_free(struct rpc_server *srv)
{
	struct rpc_listener *l;
	struct rpc_conn *c;
	struct stat st;

	if (srv == NULL)
		return;
	while ((l = TAILQ_FIRST(&srv->listeners)) != NULL) {
		TAILQ_REMOVE(&srv->listeners, l, entry);
		if (!(l->flags & RPC_L_VSOCK) && lstat(l->path, &st) == 0 &&
		    st.st_dev == l->dev && st.st_ino == l->ino)
			unlink(l->path);
		event_free(l->ev);
		event_free(l->backoff);
		close(l->fd);
		free(l->path);
		free(l->allow);
		free(l);
	}
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		rpc_conn_close(c, "server stopping");
	msgpack_zone_free(srv->zone);
	msgpack_sbuffer_destroy(&srv->sb);
	msgpack_sbuffer_destroy(&srv->scratch);
	free(srv->served);
	free(srv);
}


void
rpc_server_broadcast(struct rpc_server *srv, const char *method,
    rpc_pack_fn *fn, const void *arg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct rpc_conn *c, *next;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint32(&pk, 2);
	rpc_pack_str(&pk, method);
	msgpack_pack_array(&pk, 1);
	fn(&pk, arg);
	for (c = TAILQ_FIRST(&srv->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->subscribed || c->dead)
			continue;
		rpc_conn_queue(c, sb.data, sb.size);
		/* An open batch sends it after the answers before it. */
		if (srv->batch != c)
			rpc_conn_flush(c);
	}
	msgpack_sbuffer_destroy(&sb);
}

static void
rpc_call_end(struct rpc_call *call)
{
	struct rpc_conn *c = call->conn;

	c->pending--;
	/* Answered while its connection's input is being handled: that
	 * flushes once at the end. */
	if (!c->dead && c->busy == 0)
		rpc_conn_flush(c);
	rpc_conn_unref(c);
	free(call);
}

void
rpc_call_reply(struct rpc_call *call, rpc_pack_fn *fn, const void *arg)
{
	struct rpc_conn *c = call->conn;

	if (!c->dead) {
		msgpack_sbuffer *sb;
		msgpack_packer pk;

		sb = rpc_response_begin(c, call->msgid, &pk);
		msgpack_pack_nil(&pk);
		fn(&pk, arg);
		rpc_conn_add(c, sb);
	}
	rpc_call_end(call);
}

void
rpc_call_error(struct rpc_call *call, const char *code, const char *fmt, ...)
{
	struct rpc_conn *c = call->conn;
	va_list ap;
	char *msg;

	if (!c->dead) {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) == -1)
			fatal("vasprintf");
		va_end(ap);
		rpc_send_error(c, call->msgid, code, msg);
		free(msg);
	}
	rpc_call_end(call);
}

void
rpc_call_subscribe(struct rpc_call *call)
{
	call->conn->subscribed = 1;
}

int
rpc_call_alive(const struct rpc_call *call)
{
	return !call->conn->dead;
}

const char *
rpc_call_method(const struct rpc_call *call)
{
	return call->method->name;
}
