/*
 * Unit tests of the bounded msgpack framing (rpc/wire.c): every header
 * type, every declared length against the bounds, resumable scanning of
 * truncated input, nesting and object limits, msgid peeking and the
 * msgpack-RPC shape check.
 */
#include "config.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/wire.h"
#include "tests/tap.h"
#include "tests/rpc/mp.h"

#define B(...) ((const unsigned char[]){ __VA_ARGS__ })
#define BLEN(...) sizeof((const unsigned char[]){ __VA_ARGS__ })

static const char *
status_name(enum wire_status s)
{
	switch (s) {
	case WIRE_COMPLETE:
		return "COMPLETE";
	case WIRE_INCOMPLETE:
		return "INCOMPLETE";
	case WIRE_BAD:
		return "BAD";
	}
	return "?";
}

/* One scan of a fresh scanner. */
static enum wire_status
scan1(const struct wire_limits *lim, const unsigned char *buf, size_t len,
    size_t *msglen, const char **why)
{
	struct wire_scanner s;

	wire_scanner_reset(&s);
	*msglen = 0;
	*why = NULL;
	return wire_scan(&s, lim, buf, len, msglen, why);
}

/* A whole object of exactly len bytes: COMPLETE, and msgpack-c agrees. */
static void
check_complete(const char *name, const unsigned char *buf, size_t len)
{
	const struct wire_limits *lim = &wire_default_limits;
	unsigned char *more;
	msgpack_unpacked u;
	enum wire_status st;
	const char *why;
	size_t msglen, off = 0;
	int r;

	st = scan1(lim, buf, len, &msglen, &why);
	if (st != WIRE_COMPLETE || msglen != len) {
		tap_ok(0, "%s scans as one message of %zu bytes: got %s, %zu "
		    "(%s)", name, len, status_name(st), msglen,
		    why ? why : "");
		return;
	}
	/* A following message must not be taken as part of this one. */
	more = malloc(len + 3);
	memcpy(more, buf, len);
	memcpy(more + len, "\x93\x01\x02", 3);
	st = scan1(lim, more, len + 3, &msglen, &why);
	free(more);
	if (st != WIRE_COMPLETE || msglen != len) {
		tap_ok(0, "%s followed by more bytes ends at %zu: got %s, %zu",
		    name, len, status_name(st), msglen);
		return;
	}
	msgpack_unpacked_init(&u);
	r = msgpack_unpack_next(&u, (const char *)buf, len, &off);
	msgpack_unpacked_destroy(&u);
	tap_ok(r == MSGPACK_UNPACK_SUCCESS && off == len,
	    "%s scans as one message of %zu bytes, as msgpack-c decodes it "
	    "(unpack %d, %zu bytes)", name, len, r, off);
}

/*
 * Cut at every byte: a fresh scanner sees INCOMPLETE for every prefix,
 * and one scanner fed the prefixes one after another (resuming) ends
 * with COMPLETE at exactly len.
 */
static void
check_truncations(const char *name, const unsigned char *buf, size_t len)
{
	const struct wire_limits *lim = &wire_default_limits;
	struct wire_scanner resumed;
	enum wire_status st;
	const char *why = NULL;
	size_t msglen, cut;

	for (cut = 0; cut < len; cut++) {
		st = scan1(lim, buf, cut, &msglen, &why);
		if (st != WIRE_INCOMPLETE) {
			tap_ok(0, "%s cut at byte %zu of %zu is INCOMPLETE: "
			    "got %s", name, cut, len, status_name(st));
			return;
		}
	}
	wire_scanner_reset(&resumed);
	for (cut = 0; cut <= len; cut++) {
		msglen = 0;
		st = wire_scan(&resumed, lim, buf, cut, &msglen, &why);
		if (cut < len && st != WIRE_INCOMPLETE) {
			tap_ok(0, "%s resumed at byte %zu is INCOMPLETE: got "
			    "%s", name, cut, status_name(st));
			return;
		}
	}
	tap_ok(st == WIRE_COMPLETE && msglen == len, "%s cut at each of its "
	    "%zu bytes is INCOMPLETE, and a resumed scan completes at %zu "
	    "(got %s, %zu)", name, len, len, status_name(st), msglen);
}

static void
check_bad(const char *name, const struct wire_limits *lim,
    const unsigned char *buf, size_t len, const char *want_why)
{
	enum wire_status st;
	const char *why;
	size_t msglen;

	st = scan1(lim, buf, len, &msglen, &why);
	if (st != WIRE_BAD) {
		tap_ok(0, "%s is BAD: got %s", name, status_name(st));
		return;
	}
	tap_ok(why != NULL && strstr(why, want_why) != NULL,
	    "%s is BAD saying \"%s\" (got \"%s\")", name, want_why,
	    why ? why : "(null)");
}

static void
test_every_header(void)
{
	const struct {
		const char		*name;
		const unsigned char	*b;
		size_t			 len;
	} objs[] = {
#define O(n, ...) { n, B(__VA_ARGS__), BLEN(__VA_ARGS__) }
		O("nil", 0xc0),
		O("false", 0xc2),
		O("true", 0xc3),
		O("positive fixint", 0x7f),
		O("negative fixint", 0xe0),
		O("uint8", 0xcc, 0xff),
		O("uint16", 0xcd, 0xff, 0xff),
		O("uint32", 0xce, 0xff, 0xff, 0xff, 0xff),
		O("uint64", 0xcf, 1, 2, 3, 4, 5, 6, 7, 8),
		O("int8", 0xd0, 0x80),
		O("int16", 0xd1, 0x80, 0x00),
		O("int32", 0xd2, 0x80, 0, 0, 0),
		O("int64", 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
		O("float32", 0xca, 0x3f, 0x80, 0, 0),
		O("float64", 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0),
		O("fixstr", 0xa3, 'a', 'b', 'c'),
		O("empty fixstr", 0xa0),
		O("str8", 0xd9, 3, 'a', 'b', 'c'),
		O("str16", 0xda, 0, 3, 'a', 'b', 'c'),
		O("str32", 0xdb, 0, 0, 0, 3, 'a', 'b', 'c'),
		O("bin8", 0xc4, 2, 0, 1),
		O("bin16", 0xc5, 0, 2, 0, 1),
		O("bin32", 0xc6, 0, 0, 0, 2, 0, 1),
		O("fixext1", 0xd4, 1, 0xaa),
		O("fixext2", 0xd5, 1, 0xaa, 0xbb),
		O("fixext4", 0xd6, 1, 1, 2, 3, 4),
		O("fixext8", 0xd7, 1, 1, 2, 3, 4, 5, 6, 7, 8),
		O("fixext16", 0xd8, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		    13, 14, 15, 16),
		O("ext8", 0xc7, 2, 5, 0xaa, 0xbb),
		O("ext16", 0xc8, 0, 2, 5, 0xaa, 0xbb),
		O("ext32", 0xc9, 0, 0, 0, 2, 5, 0xaa, 0xbb),
		O("empty ext8", 0xc7, 0, 5),
		O("fixarray", 0x92, 0x01, 0xc0),
		O("empty fixarray", 0x90),
		O("array16", 0xdc, 0, 2, 0x01, 0xc0),
		O("array32", 0xdd, 0, 0, 0, 2, 0x01, 0xc0),
		O("empty array32", 0xdd, 0, 0, 0, 0),
		O("fixmap", 0x81, 0xa1, 'k', 0x01),
		O("empty fixmap", 0x80),
		O("map16", 0xde, 0, 1, 0xa1, 'k', 0x01),
		O("map32", 0xdf, 0, 0, 0, 1, 0xa1, 'k', 0x01),
		O("nested containers", 0x92, 0x81, 0xa1, 'k', 0x91, 0x90,
		    0xdc, 0, 1, 0x80),
#undef O
	};

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		check_complete(objs[i].name, objs[i].b, objs[i].len);
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		check_truncations(objs[i].name, objs[i].b, objs[i].len);
}

/* Bytes of a real request, from its JSON form. */
static void
test_rpc_messages_resumable(void)
{
	static const char *msgs[] = {
		"[0, 1, \"Ping\", []]",
		"[0, 4294967295, \"Mount\", [{\"drive\": \"d1\", "
		    "\"mount_path\": \"/mnt/x\", \"read_only\": true, "
		    "\"options\": {\"cache_size\": 1048576}, \"wait\": false, "
		    "\"timeout_ms\": 30000}]]",
		"[1, 7, {\"code\": \"EINVAL\", \"message\": \"no\"}, null]",
		"[2, \"MountStateChanged\", [{\"state\": \"mounted\", "
		    "\"error\": null, \"updated_at_ms\": 1700000000000}]]",
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		msgpack_sbuffer sb;
		char name[64];

		msgpack_sbuffer_init(&sb);
		mp_json(&sb, msgs[i]);
		snprintf(name, sizeof(name), "RPC message %zu", i + 1);
		check_complete(name, (unsigned char *)sb.data, sb.size);
		check_truncations(name, (unsigned char *)sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
	}
}

/* Two messages back to back fed in one buffer: found one after the other. */
static void
test_back_to_back(void)
{
	const unsigned char buf[] = { 0x94, 0, 1, 0xa4, 'P', 'i', 'n', 'g',
	    0x90, 0x94, 0, 2, 0xa4, 'P', 'i', 'n', 'g', 0x90 };
	struct wire_scanner s;
	const char *why;
	size_t len1 = 0, len2 = 0;
	enum wire_status st1, st2;

	wire_scanner_reset(&s);
	st1 = wire_scan(&s, &wire_default_limits, buf, sizeof(buf), &len1,
	    &why);
	st2 = wire_scan(&s, &wire_default_limits, buf + len1, sizeof(buf) -
	    len1, &len2, &why);
	tap_ok(st1 == WIRE_COMPLETE && len1 == 9 && st2 == WIRE_COMPLETE &&
	    len2 == 9, "two pipelined requests scan as two messages of 9 "
	    "bytes (got %s %zu, %s %zu)", status_name(st1), len1,
	    status_name(st2), len2);
}

static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/*
 * Declared lengths over the message bound are refused from the header
 * alone, before the payload arrives and without allocating anything.
 */
static void
test_declared_lengths(void)
{
	struct wire_limits small = { .max_msg = 100, .max_depth = 8,
	    .max_objects = 1000 };
	const struct {
		const char		*name;
		const unsigned char	*b;
		size_t			 len;
	} over_small[] = {
#define O(n, ...) { n, B(__VA_ARGS__), BLEN(__VA_ARGS__) }
		O("str8 declaring 200 bytes", 0xd9, 200),
		O("str16 declaring 200 bytes", 0xda, 0, 200),
		O("str32 declaring 200 bytes", 0xdb, 0, 0, 0, 200),
		O("bin8 declaring 200 bytes", 0xc4, 200),
		O("bin16 declaring 200 bytes", 0xc5, 0, 200),
		O("bin32 declaring 200 bytes", 0xc6, 0, 0, 0, 200),
		O("ext8 declaring 200 bytes", 0xc7, 200, 1),
		O("ext16 declaring 200 bytes", 0xc8, 0, 200, 1),
		O("ext32 declaring 200 bytes", 0xc9, 0, 0, 0, 200, 1),
		O("array16 declaring 200 elements", 0xdc, 0, 200),
		O("array32 declaring 200 elements", 0xdd, 0, 0, 0, 200),
		O("map16 declaring 200 pairs", 0xde, 0, 200),
		O("map32 declaring 200 pairs", 0xdf, 0, 0, 0, 200),
		O("map16 declaring 51 pairs (102 objects)", 0xde, 0, 51),
		O("str8 of 99 bytes in a 100-byte bound", 0xd9, 99),
		O("str8 inside an array past the bound", 0x92, 0xc0, 0xd9, 98),
#undef O
	};
	const struct {
		const char		*name;
		const unsigned char	*b;
		size_t			 len;
	} huge[] = {
#define O(n, ...) { n, B(__VA_ARGS__), BLEN(__VA_ARGS__) }
		O("array32 of 2^32-1 elements (5 bytes: 0xdd ff ff ff ff)",
		    0xdd, 0xff, 0xff, 0xff, 0xff),
		O("map32 of 2^32-1 pairs", 0xdf, 0xff, 0xff, 0xff, 0xff),
		O("str32 of 4 GB", 0xdb, 0xff, 0xff, 0xff, 0xff),
		O("bin32 of 4 GB", 0xc6, 0xff, 0xff, 0xff, 0xff),
		O("ext32 of 4 GB", 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01),
		O("array32 of 2^20+1 elements in a request", 0x94, 0x00, 0x01,
		    0xa4, 'P', 'i', 'n', 'g', 0xdd, 0x00, 0x10, 0x00, 0x01),
		O("str32 of 4 GB as a Mount argument", 0x94, 0x00, 0x01,
		    0xa5, 'M', 'o', 'u', 'n', 't', 0x91, 0x81, 0xa5, 'd', 'r',
		    'i', 'v', 'e', 0xdb, 0xff, 0xff, 0xff, 0xff),
#undef O
	};
	size_t before, after;

	for (size_t i = 0; i < sizeof(over_small) / sizeof(over_small[0]);
	    i++)
		check_bad(over_small[i].name, &small, over_small[i].b,
		    over_small[i].len, "larger than the limit");

	/* Exactly at the bound is fine: 2 header bytes + 98 = 100. */
	{
		unsigned char buf[100];
		size_t msglen;
		const char *why;
		enum wire_status st;

		memset(buf, 'x', sizeof(buf));
		buf[0] = 0xd9;
		buf[1] = 98;
		st = scan1(&small, buf, 2, &msglen, &why);
		tap_ok(st == WIRE_INCOMPLETE, "str8 of 98 bytes (100 in all) "
		    "in a 100-byte bound waits for its payload (got %s)",
		    status_name(st));
		st = scan1(&small, buf, 100, &msglen, &why);
		tap_ok(st == WIRE_COMPLETE && msglen == 100, "str8 of 98 bytes "
		    "fills a 100-byte bound exactly (got %s, %zu)",
		    status_name(st), msglen);
	}

	before = heap_in_use();
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++)
		check_bad(huge[i].name, &wire_default_limits, huge[i].b,
		    huge[i].len, "larger than the limit");
	after = heap_in_use();
	tap_ok(after <= before, "refusing huge declared sizes allocates "
	    "nothing (heap in use %zu bytes before, %zu after)", before,
	    after);
}

/* A stream that never completes is refused once it reaches the bound. */
static void
test_incomplete_at_bound(void)
{
	struct wire_limits small = { .max_msg = 100, .max_depth = 8,
	    .max_objects = 1000 };
	unsigned char buf[100];
	struct wire_scanner s;
	enum wire_status st = WIRE_INCOMPLETE;
	const char *why = NULL;
	size_t msglen, len;

	/* array16 of 99 nils declares 102 bytes; sent in pieces. */
	memset(buf, 0xc0, sizeof(buf));
	buf[0] = 0xdc;
	buf[1] = 0;
	buf[2] = 99;
	wire_scanner_reset(&s);
	for (len = 1; len <= sizeof(buf); len++) {
		st = wire_scan(&s, &small, buf, len, &msglen, &why);
		if (st != WIRE_INCOMPLETE)
			break;
	}
	tap_ok(st == WIRE_BAD && len == 100, "an array of 99 nils fed byte by "
	    "byte is BAD once 100 bytes (the bound) are buffered (got %s at "
	    "%zu bytes: %s)", status_name(st), len, why ? why : "");
}

static void
nest(unsigned char *buf, size_t levels, unsigned char open)
{
	/* open is 0x91 (array of one) or 0x81 (map of one: key 0, value). */
	size_t p = 0;

	for (size_t i = 0; i < levels; i++) {
		buf[p++] = open;
		if (open == 0x81)
			buf[p++] = 0x00;
	}
	buf[p] = 0xc0;
}

static void
test_nesting(void)
{
	struct wire_limits lim = wire_default_limits;
	unsigned char buf[2 * 1100];
	enum wire_status st;
	const char *why;
	size_t msglen;
	msgpack_unpacked u;
	size_t off = 0;
	int r;

	nest(buf, 32, 0x91);
	st = scan1(&lim, buf, 33, &msglen, &why);
	msgpack_unpacked_init(&u);
	r = msgpack_unpack_next(&u, (const char *)buf, 33, &off);
	msgpack_unpacked_destroy(&u);
	tap_ok(st == WIRE_COMPLETE && msglen == 33 &&
	    r == MSGPACK_UNPACK_SUCCESS, "32 nested arrays (the default depth "
	    "limit) are COMPLETE and msgpack-c decodes them (got %s, unpack "
	    "%d)", status_name(st), r);
	nest(buf, 33, 0x91);
	check_bad("33 nested arrays (one over the depth limit)", &lim, buf,
	    34, "nested too deeply");
	nest(buf, 1000, 0x91);
	check_bad("1000 nested arrays", &lim, buf, 1001, "nested too deeply");
	check_bad("1000 nested arrays, only the first 40 bytes received",
	    &lim, buf, 40, "nested too deeply");
	nest(buf, 32, 0x81);
	st = scan1(&lim, buf, 65, &msglen, &why);
	tap_ok(st == WIRE_COMPLETE && msglen == 65, "32 nested maps are "
	    "COMPLETE (got %s, %zu)", status_name(st), msglen);
	nest(buf, 33, 0x81);
	check_bad("33 nested maps", &lim, buf, 67, "nested too deeply");

	lim.max_depth = 4;
	nest(buf, 4, 0x91);
	st = scan1(&lim, buf, 5, &msglen, &why);
	tap_ok(st == WIRE_COMPLETE, "4 nested arrays with max_depth 4 are "
	    "COMPLETE (got %s)", status_name(st));
	nest(buf, 5, 0x91);
	check_bad("5 nested arrays with max_depth 4", &lim, buf, 6,
	    "nested too deeply");

	/* A depth limit beyond the scanner's stack is clamped, never
	 * overflowing it. */
	lim.max_depth = 100000;
	nest(buf, WIRE_MAX_DEPTH_LIMIT, 0x91);
	st = scan1(&lim, buf, WIRE_MAX_DEPTH_LIMIT + 1, &msglen, &why);
	tap_ok(st == WIRE_COMPLETE, "%d nested arrays pass a max_depth of "
	    "100000 (got %s)", WIRE_MAX_DEPTH_LIMIT, status_name(st));
	nest(buf, 1000, 0x91);
	check_bad("1000 nested arrays with max_depth 100000 (clamped to the "
	    "scanner's stack)", &lim, buf, 1001, "nested too deeply");

	/*
	 * Siblings share a level; an empty container is a level of its own,
	 * as msgpack-c counts it (the fuzzer found 32 arrays around an empty
	 * one passing the scan and failing msgpack-c).
	 */
	{
		const unsigned char flat[] = { 0x93, 0x90, 0x90, 0x91, 0x90 };

		lim.max_depth = 3;
		st = scan1(&lim, flat, sizeof(flat), &msglen, &why);
		tap_ok(st == WIRE_COMPLETE, "sibling arrays share a level, an "
		    "empty one is a level (depth 3 passes; got %s)",
		    status_name(st));
		lim.max_depth = 2;
		check_bad("[[],[],[[]]] with max_depth 2", &lim, flat,
		    sizeof(flat), "nested too deeply");
	}
	{
		unsigned char deep[WIRE_MAX_DEPTH_LIMIT + 1];

		/* 32 levels around an empty array is 33 for msgpack-c. */
		lim.max_depth = WIRE_MAX_DEPTH_LIMIT;
		nest(deep, WIRE_MAX_DEPTH_LIMIT, 0x91);
		deep[WIRE_MAX_DEPTH_LIMIT] = 0x90;
		check_bad("32 arrays around an empty one", &lim, deep,
		    sizeof(deep), "nested too deeply");
	}
}

static void
test_object_count(void)
{
	struct wire_limits lim = { .max_msg = 1000, .max_depth = 8,
	    .max_objects = 10 };
	unsigned char buf[16];
	enum wire_status st;
	const char *why;
	size_t msglen;

	memset(buf, 0xc0, sizeof(buf));
	buf[0] = 0x99;	/* array of 9 nils: 10 objects */
	st = scan1(&lim, buf, 10, &msglen, &why);
	tap_ok(st == WIRE_COMPLETE && msglen == 10, "an array of 9 nils (10 "
	    "objects) passes a limit of 10 objects (got %s)",
	    status_name(st));
	buf[0] = 0x9a;	/* 11 objects */
	check_bad("an array of 10 nils (11 objects) with a limit of 10",
	    &lim, buf, 11, "too many objects");
	/* Counting goes on across a resumed scan. */
	{
		struct wire_scanner s;
		size_t len;

		wire_scanner_reset(&s);
		st = WIRE_INCOMPLETE;
		for (len = 1; len <= 11 && st == WIRE_INCOMPLETE; len++)
			st = wire_scan(&s, &lim, buf, len, &msglen, &why);
		tap_ok(st == WIRE_BAD && strstr(why, "too many objects"),
		    "the object limit holds when fed byte by byte (got %s)",
		    status_name(st));
	}
}

static void
test_never_used_byte(void)
{
	check_bad("0xc1 alone", &wire_default_limits, B(0xc1), 1,
	    "0xc1");
	check_bad("0xc1 inside a request", &wire_default_limits,
	    B(0x94, 0x00, 0x01, 0xc1), 4, "0xc1");
	check_bad("0xc1 as a map key", &wire_default_limits,
	    B(0x81, 0xc1, 0xc0), 3, "0xc1");
}

static void
test_peek_msgid(void)
{
	const struct {
		const char		*name;
		const unsigned char	*b;
		size_t			 len;
		int			 ok;
		uint32_t		 msgid;
	} cases[] = {
#define P(n, ok, id, ...) { n, B(__VA_ARGS__), BLEN(__VA_ARGS__), ok, id }
		P("fixint msgid", 0, 5, 0x94, 0x00, 0x05),
		P("uint8 msgid", 0, 255, 0x94, 0x00, 0xcc, 0xff),
		P("uint16 msgid", 0, 0x1234, 0x94, 0x00, 0xcd, 0x12, 0x34),
		P("uint32 msgid", 0, 0xdeadbeef, 0x94, 0x00, 0xce, 0xde, 0xad,
		    0xbe, 0xef),
		P("array16 header", 0, 7, 0xdc, 0x00, 0x04, 0x00, 0x07),
		P("array32 header", 0, 9, 0xdd, 0, 0, 0, 4, 0x00, 0x09),
		P("a response is no request", -1, 0, 0x94, 0x01, 0x05),
		P("a notification is no request", -1, 0, 0x93, 0x02, 0xa1,
		    'x'),
		P("an array of 3", -1, 0, 0x93, 0x00, 0x05),
		P("array16 of 5", -1, 0, 0xdc, 0x00, 0x05, 0x00, 0x07),
		P("a uint64 msgid", -1, 0, 0x94, 0x00, 0xcf, 0, 0, 0, 0, 0, 0,
		    0, 1),
		P("a negative msgid", -1, 0, 0x94, 0x00, 0xff),
		P("a string msgid", -1, 0, 0x94, 0x00, 0xa1, '1'),
		P("two bytes", -1, 0, 0x94, 0x00),
		P("a truncated uint16 msgid", -1, 0, 0x94, 0x00, 0xcd, 0x12),
		P("a truncated uint32 msgid", -1, 0, 0x94, 0x00, 0xce, 0x12,
		    0x34, 0x56),
		P("a truncated array16 header", -1, 0, 0xdc, 0x00),
		P("a map", -1, 0, 0x84, 0x00, 0x05),
#undef P
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t id = 0;
		int r = wire_peek_request_msgid(cases[i].b, cases[i].len, &id);

		if (cases[i].ok == 0)
			tap_ok(r == 0 && id == cases[i].msgid, "peek reads "
			    "msgid %u from a request with a %s (got %d, %u)",
			    cases[i].msgid, cases[i].name, r, id);
		else
			tap_ok(r == -1, "peek finds no msgid in %s (got %d)",
			    cases[i].name, r);
	}
}

struct parse_case {
	const char	*json;
	int		 ok;
	int		 msgid_ok;
	const char	*why;	/* part of the reason on failure */
};

static void
test_parse(void)
{
	static const struct parse_case cases[] = {
		{ "[0, 1, \"Ping\", []]", 0, 1, NULL },
		{ "[0, 4294967295, \"Ping\", [{}]]", 0, 1, NULL },
		{ "[2, \"MountStateChanged\", [{}]]", 0, 0, NULL },
		{ "[1, 7, null, {\"version\": \"1\"}]", 0, 1, NULL },
		{ "[1, 7, {\"code\": \"EIO\"}, null]", 0, 1, NULL },
		{ "5", -1, 0, "array of 3 or 4" },
		{ "\"Ping\"", -1, 0, "array of 3 or 4" },
		{ "{\"type\": 0}", -1, 0, "array of 3 or 4" },
		{ "[0, 1]", -1, 0, "array of 3 or 4" },
		{ "[]", -1, 0, "array of 3 or 4" },
		{ "[3, 1, \"Ping\", []]", -1, 0, "message type" },
		{ "[-1, 1, \"Ping\", []]", -1, 0, "message type" },
		{ "[\"0\", 1, \"Ping\", []]", -1, 0, "message type" },
		{ "[0.0, 1, \"Ping\", []]", -1, 0, "message type" },
		{ "[0, 4294967296, \"Ping\", []]", -1, 0, "msgid" },
		{ "[0, -1, \"Ping\", []]", -1, 0, "msgid" },
		{ "[0, \"1\", \"Ping\", []]", -1, 0, "msgid" },
		{ "[0, null, \"Ping\", []]", -1, 0, "msgid" },
		{ "[0, 1, \"Ping\"]", -1, 1, "[0, msgid, method, params]" },
		{ "[0, 1, \"Ping\", [], 5]", -1, 1,
		    "[0, msgid, method, params]" },
		{ "[0, 1, 42, []]", -1, 1, "method must be a string" },
		{ "[0, 1, null, []]", -1, 1, "method must be a string" },
		{ "[0, 1, \"Ping\", {}]", -1, 1, "params must be an array" },
		{ "[0, 1, \"Ping\", null]", -1, 1, "params must be an array" },
		{ "[2, \"X\", [], 1]", -1, 0, "[2, method, params]" },
		{ "[2, 5, []]", -1, 0, "method must be a string" },
		{ "[2, \"X\", \"params\"]", -1, 0, "params must be an array" },
		{ "[1, 7, null]", -1, 1, "[1, msgid, error, result]" },
		{ "[1, 4294967296, null, null]", -1, 0, "msgid" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		msgpack_sbuffer sb;
		msgpack_unpacked u;
		struct wire_msg m;
		const char *why = NULL;
		int msgid_ok = -1, r;

		msgpack_sbuffer_init(&sb);
		mp_json(&sb, c->json);
		r = wire_parse(mp_unpack(&u, &sb), &m, &msgid_ok, &why);
		if (c->ok == 0)
			tap_ok(r == 0 && msgid_ok == c->msgid_ok, "wire_parse "
			    "accepts %s (got %d: %s)", c->json, r,
			    why ? why : "");
		else
			tap_ok(r == -1 && msgid_ok == c->msgid_ok &&
			    why != NULL && strstr(why, c->why) != NULL,
			    "wire_parse refuses %s saying \"%s\", msgid %s "
			    "(got %d, msgid_ok %d, \"%s\")", c->json, c->why,
			    c->msgid_ok ? "readable" : "unreadable", r,
			    msgid_ok, why ? why : "");
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_destroy(&sb);
	}

	/* The fields of each kind land where a caller looks for them. */
	{
		msgpack_sbuffer sb;
		msgpack_unpacked u;
		struct wire_msg m;
		const char *why;
		int ok;

		msgpack_sbuffer_init(&sb);
		mp_json(&sb, "[0, 4294967295, \"Mount\", [{\"drive\": \"d\"}]]");
		wire_parse(mp_unpack(&u, &sb), &m, &ok, &why);
		tap_ok(m.kind == WIRE_REQUEST && m.msgid == 4294967295u &&
		    m.method_len == 5 && memcmp(m.method, "Mount", 5) == 0 &&
		    m.params.type == MSGPACK_OBJECT_ARRAY &&
		    m.params.via.array.size == 1, "a request yields its kind, "
		    "msgid 2^32-1, method and params");
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_clear(&sb);

		mp_json(&sb, "[2, \"MountStateChanged\", [1]]");
		wire_parse(mp_unpack(&u, &sb), &m, &ok, &why);
		tap_ok(m.kind == WIRE_NOTIFICATION && m.method_len == 17 &&
		    memcmp(m.method, "MountStateChanged", 17) == 0 &&
		    m.params.type == MSGPACK_OBJECT_ARRAY, "a notification "
		    "yields its method and params");
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_clear(&sb);

		mp_json(&sb, "[1, 9, {\"code\": \"EIO\"}, 3]");
		wire_parse(mp_unpack(&u, &sb), &m, &ok, &why);
		tap_ok(m.kind == WIRE_RESPONSE && m.msgid == 9 &&
		    m.error.type == MSGPACK_OBJECT_MAP &&
		    m.result.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    m.result.via.u64 == 3, "a response yields its msgid, "
		    "error and result");
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_destroy(&sb);
	}
}

int
main(void)
{
	test_every_header();
	test_rpc_messages_resumable();
	test_back_to_back();
	test_declared_lengths();
	test_incomplete_at_bound();
	test_nesting();
	test_object_count();
	test_never_used_byte();
	test_peek_msgid();
	test_parse();
	return tap_done();
}
