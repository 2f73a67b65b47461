/*
 * rpc-load: a load generator for the RPC benchmark. M connections on one
 * poll loop, each writing N requests at once and waiting for all N
 * answers before the next batch (what redis-benchmark -c M -P N does), so
 * blagent and redis-server are driven the same way. Speaks msgpack-RPC
 * Ping (plain sockets and msgpack-c, none of rpc/) or, with --resp,
 * redis's PING, so the same client can measure both servers.
 *
 * Prints one line: requests=R seconds=S rps=X p50_us=A p99_us=B
 * With --hold FILE it then creates FILE and keeps every connection open
 * until FILE is removed (to measure the server with M connections).
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#define LOAD_BUF	65536

struct load_conn {
	int		 fd;
	uint32_t	 next_id;	/* msgid of the next request */
	uint32_t	 want_id;	/* msgid of the next answer */
	unsigned	 outstanding;
	uint64_t	 sent_ns;	/* when the batch was written */
	unsigned char	 buf[LOAD_BUF];
	size_t		 len;
};

static int		 resp_mode;
static unsigned		 depth = 1;
static uint64_t		 total = 100000;
static uint64_t		 sent, done;
static uint32_t		*lat_us;
static size_t		 nlat;
static msgpack_zone	 zone;

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "rpc-load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void __attribute__((noreturn))
diex(const char *what)
{
	fprintf(stderr, "rpc-load: %s\n", what);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
load_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		diex("socket path too long");
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die(path);
	return fd;
}

/* Writes all of buf, waiting for room if the socket is full. */
static void
load_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

static void
load_send_batch(struct load_conn *c)
{
	static msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned n = depth;

	if (sent >= total)
		return;
	if (n > total - sent)
		n = (unsigned)(total - sent);
	msgpack_sbuffer_clear(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (unsigned i = 0; i < n; i++) {
		if (resp_mode) {
			msgpack_sbuffer_write(&sb, "*1\r\n$4\r\nPING\r\n", 14);
			continue;
		}
		msgpack_pack_array(&pk, 4);
		msgpack_pack_uint32(&pk, 0);
		msgpack_pack_uint32(&pk, c->next_id++);
		msgpack_pack_str_with_body(&pk, "Ping", 4);
		msgpack_pack_array(&pk, 0);
	}
	c->outstanding = n;
	sent += n;
	c->sent_ns = now_ns();
	load_write(c->fd, sb.data, sb.size);
}

static void
load_answer(struct load_conn *c, uint64_t now)
{
	lat_us[nlat++] = (uint32_t)((now - c->sent_ns) / 1000);
	c->outstanding--;
	done++;
}

/* Consumes whole answers from c->buf; returns -1 on a wrong one. */
static int
load_parse(struct load_conn *c, uint64_t now)
{
	size_t off = 0;

	while (off < c->len && c->outstanding > 0) {
		if (resp_mode) {
			unsigned char *nl = memchr(c->buf + off, '\n',
			    c->len - off);

			if (nl == NULL)
				break;
			if (c->buf[off] != '+')
				return -1;
			off = (size_t)(nl - c->buf) + 1;
			load_answer(c, now);
			continue;
		}
		msgpack_object o;
		size_t before = off;
		msgpack_unpack_return r = msgpack_unpack((const char *)c->buf,
		    c->len, &off, &zone, &o);

		if (r == MSGPACK_UNPACK_CONTINUE) {
			off = before;
			break;
		}
		if (r < 0 || o.type != MSGPACK_OBJECT_ARRAY ||
		    o.via.array.size != 4 ||
		    o.via.array.ptr[1].via.u64 != c->want_id ||
		    o.via.array.ptr[2].type != MSGPACK_OBJECT_NIL)
			return -1;
		c->want_id++;
		load_answer(c, now);
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	msgpack_zone_clear(&zone);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "depth", required_argument, NULL, 'P' },
		{ "requests", required_argument, NULL, 'n' },
		{ "resp", no_argument, NULL, 'r' },
		{ "hold", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *hold = NULL;
	unsigned clients = 1;
	struct load_conn *conns;
	struct pollfd *pfds;
	uint64_t t0, t1;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:c:P:n:rH:", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'c':
			clients = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'P':
			depth = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			total = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			resp_mode = 1;
			break;
		case 'H':
			hold = optarg;
			break;
		default:
			fprintf(stderr, "usage: rpc-load --socket PATH "
			    "[--clients M] [--depth N] [--requests R] [--resp] "
			    "[--hold FILE]\n");
			return 2;
		}
	}
	if (path == NULL || clients == 0 || depth == 0 || total == 0) {
		fprintf(stderr, "rpc-load: --socket is required; counts must "
		    "be positive\n");
		return 2;
	}
	raise_nofile();
	msgpack_zone_init(&zone, 4096);
	if ((lat_us = calloc(total, sizeof(*lat_us))) == NULL ||
	    (conns = calloc(clients, sizeof(*conns))) == NULL ||
	    (pfds = calloc(clients, sizeof(*pfds))) == NULL)
		diex("out of memory");
	for (unsigned i = 0; i < clients; i++) {
		conns[i].fd = load_connect(path);
		conns[i].next_id = conns[i].want_id = 1;
		pfds[i].fd = conns[i].fd;
		pfds[i].events = POLLIN;
		if (fcntl(conns[i].fd, F_SETFL, O_NONBLOCK) == -1)
			die("fcntl");
	}

	t0 = now_ns();
	for (unsigned i = 0; i < clients; i++)
		load_send_batch(&conns[i]);
	while (done < total) {
		int n = poll(pfds, clients, 10000);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			diex(n == 0 ? "no answer in 10 s" : "poll failed");
		for (unsigned i = 0; i < clients && n > 0; i++) {
			struct load_conn *c = &conns[i];
			ssize_t r;

			if (pfds[i].revents == 0)
				continue;
			n--;
			r = read(c->fd, c->buf + c->len, LOAD_BUF - c->len);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0)
				diex("the server closed a connection");
			c->len += (size_t)r;
			if (load_parse(c, now_ns()) == -1)
				diex("unexpected answer");
			if (c->outstanding == 0)
				load_send_batch(c);
		}
	}
	t1 = now_ns();

	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	printf("requests=%" PRIu64 " seconds=%.3f rps=%.0f p50_us=%u "
	    "p99_us=%u\n", done, (double)(t1 - t0) / 1e9,
	    (double)done / ((double)(t1 - t0) / 1e9), lat_us[nlat / 2],
	    lat_us[nlat * 99 / 100]);
	fflush(stdout);

	if (hold != NULL) {
		struct stat st;
		int fd = open(hold, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd == -1)
			die(hold);
		close(fd);
		while (stat(hold, &st) == 0)
			usleep(10000);
	}
	for (unsigned i = 0; i < clients; i++)
		close(conns[i].fd);
	msgpack_zone_destroy(&zone);
	free(lat_us);
	free(conns);
	free(pfds);
	return 0;
}
