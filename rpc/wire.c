/* Bounded msgpack framing: declared sizes are checked before anything is allocated. */
#include "config.h"

#include <string.h>

#include "rpc/wire.h"

const struct wire_limits wire_default_limits = {
	.max_msg = 1024 * 1024,
	.max_depth = 32,
	.max_objects = 65536,
};

void
wire_scanner_reset(struct wire_scanner *s)
{
	s->pos = 0;
	s->depth = 0;
	s->objects = 0;
}

static uint64_t
be_uint(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * One object header at buf[pos]: how many header bytes, how many payload
 * bytes follow it, and how many child objects it opens. -1 when the byte
 * is never used by msgpack, 0 when more bytes are needed to read it.
 */
static int
wire_header(const unsigned char *buf, size_t avail, size_t *hdr,
    uint64_t *payload, uint64_t *children, int *container)
{
	unsigned char b = buf[0];
	size_t lenbytes = 0;

	*hdr = 1;
	*payload = 0;
	*children = 0;
	*container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 1;
	if (b >= 0x80 && b <= 0x8f) {
		*children = 2 * (uint64_t)(b & 0x0f);
		return 1;
	}
	if (b >= 0x90 && b <= 0x9f) {
		*children = b & 0x0f;
		return 1;
	}
	if (b >= 0xa0 && b <= 0xbf) {
		*payload = b & 0x1f;
		return 1;
	}
	switch (b) {
	case 0xc1:
		return -1;
	case 0xc4: case 0xc5: case 0xc6:	/* bin 8/16/32 */
		lenbytes = (size_t)1 << (b - 0xc4);
		break;
	case 0xc7: case 0xc8: case 0xc9:	/* ext 8/16/32: length, type */
		lenbytes = (size_t)1 << (b - 0xc7);
		break;
	case 0xca:
		*payload = 4;
		return 1;
	case 0xcb:
		*payload = 8;
		return 1;
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		*payload = (uint64_t)1 << (b - 0xcc);
		return 1;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		*payload = (uint64_t)1 << (b - 0xd0);
		return 1;
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		*payload = 1 + ((uint64_t)1 << (b - 0xd4));	/* type + data */
		return 1;
	case 0xd9: case 0xda: case 0xdb:	/* str 8/16/32 */
		lenbytes = (size_t)1 << (b - 0xd9);
		break;
	case 0xdc: case 0xdd:			/* array 16/32 */
		lenbytes = b == 0xdc ? 2 : 4;
		break;
	case 0xde: case 0xdf:			/* map 16/32 */
		lenbytes = b == 0xde ? 2 : 4;
		break;
	default:
		return -1;
	}
	if (avail < 1 + lenbytes)
		return 0;
	*hdr = 1 + lenbytes;
	uint64_t n = be_uint(buf + 1, lenbytes);
	if (b >= 0xc7 && b <= 0xc9) {
		*hdr += 1;	/* the ext type byte */
		if (avail < *hdr)
			return 0;
	}
	if (b == 0xdc || b == 0xdd)
		*children = n;
	else if (b == 0xde || b == 0xdf)
		*children = 2 * n;
	else
		*payload = n;
	return 1;
}

enum wire_status
wire_scan(struct wire_scanner *s, const struct wire_limits *lim,
    const unsigned char *buf, size_t len, size_t *msglen, const char **why)
{
	unsigned maxdepth = lim->max_depth;

	if (maxdepth > WIRE_MAX_DEPTH_LIMIT)
		maxdepth = WIRE_MAX_DEPTH_LIMIT;
	if (s->pos == 0 && s->depth == 0) {
		/* A fresh message: one object is wanted at the top. */
		s->left[0] = 1;
		s->objects = 0;
	}
	for (;;) {
		size_t hdr;
		uint64_t payload, children;
		int r, container;

		if (s->pos >= len)
			goto incomplete;
		r = wire_header(buf + s->pos, len - s->pos, &hdr, &payload,
		    &children, &container);
		if (r == -1) {
			*why = "byte 0xc1 is never used by msgpack";
			return WIRE_BAD;
		}
		if (r == 0)
			goto incomplete;
		/* Every element takes at least one byte: counts beyond the
		 * message bound can never be honest. */
		if (payload > lim->max_msg || children > lim->max_msg ||
		    s->pos + hdr + payload > lim->max_msg) {
			*why = "message larger than the limit";
			return WIRE_BAD;
		}
		if (s->pos + hdr + payload > len)
			goto incomplete;
		if (++s->objects > lim->max_objects) {
			*why = "too many objects in one message";
			return WIRE_BAD;
		}
		/* An empty array or map is a level too, as msgpack-c counts. */
		if (container && s->depth + 1 > maxdepth) {
			*why = "message nested too deeply";
			return WIRE_BAD;
		}
		s->pos += hdr + payload;
		s->left[s->depth]--;
		if (children > 0)
			s->left[++s->depth] = children;
		while (s->left[s->depth] == 0) {
			if (s->depth == 0) {
				*msglen = s->pos;
				wire_scanner_reset(s);
				return WIRE_COMPLETE;
			}
			s->depth--;
		}
	}
incomplete:
	if (len >= lim->max_msg) {
		*why = "message larger than the limit";
		return WIRE_BAD;
	}
	return WIRE_INCOMPLETE;
}

int
wire_peek_request_msgid(const unsigned char *buf, size_t len, uint32_t *msgid)
{
	size_t p;

	if (len < 3)
		return -1;
	/* [0, msgid, ...]: an array of four whose first element is 0. */
	if (buf[0] == 0x94)
		p = 1;
	else if (buf[0] == 0xdc && len >= 4 && be_uint(buf + 1, 2) == 4)
		p = 3;
	else if (buf[0] == 0xdd && len >= 6 && be_uint(buf + 1, 4) == 4)
		p = 5;
	else
		return -1;
	if (p + 2 > len || buf[p] != 0x00)
		return -1;
	p++;
	if (buf[p] <= 0x7f) {
		*msgid = buf[p];
		return 0;
	}
	if (buf[p] >= 0xcc && buf[p] <= 0xce) {
		size_t n = (size_t)1 << (buf[p] - 0xcc);

		if (p + 1 + n > len)
			return -1;
		*msgid = (uint32_t)be_uint(buf + p + 1, n);
		return 0;
	}
	return -1;
}

static int
wire_uint32(const msgpack_object *o, uint32_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > UINT32_MAX)
		return -1;
	*v = (uint32_t)o->via.u64;
	return 0;
}

int
wire_parse(const msgpack_object *o, struct wire_msg *m, int *msgid_ok,
    const char **why)
{
	const msgpack_object *e;
	uint32_t kind;

	memset(m, 0, sizeof(*m));
	*msgid_ok = 0;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 3) {
		*why = "a message must be an array of 3 or 4 elements";
		return -1;
	}
	e = o->via.array.ptr;
	if (wire_uint32(&e[0], &kind) == -1 || kind > 2) {
		*why = "message type must be 0, 1 or 2";
		return -1;
	}
	m->kind = (enum wire_kind)kind;
	if (kind != WIRE_NOTIFICATION) {
		if (wire_uint32(&e[1], &m->msgid) == -1) {
			*why = "msgid must be an unsigned 32-bit integer";
			return -1;
		}
		*msgid_ok = 1;
	}
	switch (m->kind) {
	case WIRE_REQUEST:
		if (o->via.array.size != 4) {
			*why = "a request must be [0, msgid, method, params]";
			return -1;
		}
		e++;
		/* FALLTHROUGH */
	case WIRE_NOTIFICATION:
		if (m->kind == WIRE_NOTIFICATION && o->via.array.size != 3) {
			*why = "a notification must be [2, method, params]";
			return -1;
		}
		if (e[1].type != MSGPACK_OBJECT_STR) {
			*why = "method must be a string";
			return -1;
		}
		m->method = e[1].via.str.ptr;
		m->method_len = e[1].via.str.size;
		if (e[2].type != MSGPACK_OBJECT_ARRAY) {
			*why = "params must be an array";
			return -1;
		}
		m->params = e[2];
		return 0;
	case WIRE_RESPONSE:
		if (o->via.array.size != 4) {
			*why = "a response must be [1, msgid, error, result]";
			return -1;
		}
		m->error = e[2];
		m->result = e[3];
		return 0;
	}
	return -1;
}
