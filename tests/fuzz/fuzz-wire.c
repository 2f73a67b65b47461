/*
 * libFuzzer target over the connection decoder, as rpc/server.c drives
 * it: bytes arrive in pieces, wire_scan finds each message (resuming
 * across pieces), msgpack_unpack_next decodes only that span, wire_parse
 * checks the msgpack-RPC shape, and rpc_args_parse checks the params
 * against a real method declaration (Mount's).
 *
 * The first input byte chooses how the rest is cut into pieces, so the
 * fuzzer explores the resumable scanner. Invariants checked (abort on
 * failure, so the fuzzer reports them):
 *   - a message wire_scan calls complete lies within the bytes received
 *     and the bound, and msgpack-c decodes exactly those bytes;
 *   - cutting the stream anywhere never changes what is found: the same
 *     messages, then the same verdict, as when it arrives at once;
 *   - small limits (so short inputs reach every bound) hold the same.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/params.h"
#include "rpc/schema.h"
#include "rpc/wire.h"

#define MAX_EVENTS 4096

/* What a decoder run found: message lengths, then how it ended. */
struct trace {
	size_t		lens[MAX_EVENTS];
	size_t		n;
	enum wire_status end;
};

static void
check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-wire: invariant broken: %s\n", what);
		abort();
	}
}

static void
use_args(const struct rpc_param *decl, const struct rpc_args *a)
{
	size_t n;
	volatile size_t sink = 0;

	if (decl == params_mount) {
		const struct rpc_args *o = rpc_args_map(a, "options");

		sink += strlen(rpc_args_str(a, "drive"));
		sink += strlen(rpc_args_str(a, "mount_path"));
		sink += strlen(rpc_args_str(a, "drive_path"));
		sink += (size_t)rpc_args_bool(a, "read_only");
		sink += (size_t)rpc_args_uint(a, "timeout_ms");
		check(o != NULL, "Mount's options map is always there");
		sink += (size_t)rpc_args_uint(o, "cache_size");
		sink += (size_t)rpc_args_bool(o, "writeback");
	} else {
		char *const *ids = rpc_args_strs(a, "mount_session_ids", &n);

		for (size_t i = 0; i < n; i++)
			sink += strlen(ids[i]);
		check(n == 0 || ids[n] == NULL, "string arrays end with NULL");
	}
	(void)sink;
}

/* One whole message, as rpc_conn_message handles it. */
static void
handle(const unsigned char *buf, size_t len)
{
	msgpack_unpacked u;
	struct wire_msg m;
	struct rpc_args *args;
	const char *why;
	char *cause = NULL;
	size_t off = 0;
	int ok;

	msgpack_unpacked_init(&u);
	check(msgpack_unpack_next(&u, (const char *)buf, len, &off) ==
	    MSGPACK_UNPACK_SUCCESS, "msgpack-c decodes what wire_scan "
	    "called complete");
	check(off == len, "msgpack-c and wire_scan agree where it ends");
	if (wire_parse(&u.data, &m, &ok, &why) == 0 &&
	    m.kind != WIRE_RESPONSE) {
		const struct rpc_param *decl = m.method_len > 0 &&
		    m.method[0] == 'W' ? params_wait_mounts : params_mount;

		if (rpc_args_parse(decl, &m.params, &args, &cause) == 0) {
			check(args != NULL, "parsed args exist");
			use_args(decl, args);
			rpc_args_free(args);
		} else {
			check(cause != NULL && args == NULL, "a refusal says "
			    "why and returns nothing");
			free(cause);
		}
	}
	msgpack_unpacked_destroy(&u);
}

/*
 * Feeds data in pieces whose sizes come from seed (0: all at once), like
 * reads from a socket, scanning and handling as the server does.
 */
static void
run(const struct wire_limits *lim, const unsigned char *data, size_t size,
    unsigned seed, struct trace *t)
{
	struct wire_scanner s;
	size_t have = 0, consumed = 0;
	uint32_t rng = seed * 2654435761u + 1;

	wire_scanner_reset(&s);
	t->n = 0;
	t->end = WIRE_INCOMPLETE;
	while (have < size) {
		size_t piece = size - have;

		if (seed != 0) {
			rng = rng * 1103515245u + 12345u;
			piece = 1 + (rng >> 16) % (seed & 0x40 ? 3 : 64);
			if (piece > size - have)
				piece = size - have;
		}
		have += piece;
		for (;;) {
			const unsigned char *buf = data + consumed;
			size_t len = have - consumed, msglen = 0;
			const char *why = NULL;
			uint32_t msgid;
			enum wire_status st;

			if (len == 0)
				break;
			st = wire_scan(&s, lim, buf, len, &msglen, &why);
			if (st == WIRE_INCOMPLETE) {
				check(len < lim->max_msg, "never wait past "
				    "the bound");
				break;
			}
			if (st == WIRE_BAD) {
				check(why != NULL, "BAD says why");
				(void)wire_peek_request_msgid(buf, len, &msgid);
				t->end = WIRE_BAD;
				return;
			}
			check(msglen > 0 && msglen <= len, "a complete "
			    "message lies within the bytes received");
			check(msglen <= lim->max_msg, "a complete message "
			    "fits the bound");
			handle(buf, msglen);
			if (t->n < MAX_EVENTS)
				t->lens[t->n++] = msglen;
			consumed += msglen;
		}
	}
}

static void
same(const struct trace *a, const struct trace *b)
{
	check(a->n == b->n, "cutting the stream finds as many messages");
	for (size_t i = 0; i < a->n; i++)
		check(a->lens[i] == b->lens[i], "cutting the stream finds the "
		    "same messages");
	check(a->end == b->end, "cutting the stream ends the same way");
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wire_limits small = { .max_msg = 256,
	    .max_depth = 6, .max_objects = 48 };
	static struct trace whole, cut;
	unsigned seed;

	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;

	run(&wire_default_limits, data, size, 0, &whole);
	run(&wire_default_limits, data, size, seed | 1, &cut);
	same(&whole, &cut);

	run(&small, data, size, 0, &whole);
	run(&small, data, size, seed | 1, &cut);
	same(&whole, &cut);
	return 0;
}
