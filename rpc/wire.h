/*
 * Bounded msgpack framing. msgpack-c's unpacker trusts the sizes a message
 * declares (a few bytes can make it allocate gigabytes), so every byte
 * stream from outside is first walked by wire_scan, which checks each
 * declared length against hard bounds and finds where one message ends;
 * only that span is handed to msgpack_unpack_next.
 */
#ifndef BL_WIRE_H
#define BL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* msgpack-c's unpacker nests at most 32 deep (MSGPACK_EMBED_STACK_SIZE). */
#define WIRE_MAX_DEPTH_LIMIT 32

struct wire_limits {
	size_t		max_msg;	/* bytes in one message */
	unsigned	max_depth;	/* nesting of arrays and maps */
	size_t		max_objects;	/* objects in one message */
};

extern const struct wire_limits wire_default_limits;

enum wire_status {
	WIRE_COMPLETE,		/* one whole message of *msglen bytes */
	WIRE_INCOMPLETE,	/* need more bytes */
	WIRE_BAD,		/* malformed or over a bound: *why says which */
};

/* Resumable: the walk of a partial message picks up where it stopped. */
struct wire_scanner {
	size_t		pos;
	unsigned	depth;
	size_t		objects;
	uint64_t	left[WIRE_MAX_DEPTH_LIMIT + 1];
};

void	wire_scanner_reset(struct wire_scanner *);
enum wire_status wire_scan(struct wire_scanner *, const struct wire_limits *,
	    const unsigned char *buf, size_t len, size_t *msglen,
	    const char **why);

/*
 * Reads the msgid of a request from its first bytes, without trusting the
 * rest: lets an over-long or broken request still get an error reply.
 */
int	wire_peek_request_msgid(const unsigned char *buf, size_t len,
	    uint32_t *msgid);

enum wire_kind { WIRE_REQUEST = 0, WIRE_RESPONSE = 1, WIRE_NOTIFICATION = 2 };

struct wire_msg {
	enum wire_kind	 kind;
	uint32_t	 msgid;		/* requests and responses */
	const char	*method;	/* requests and notifications; not NUL-terminated */
	size_t		 method_len;
	msgpack_object	 params;	/* requests and notifications */
	msgpack_object	 error;		/* responses */
	msgpack_object	 result;	/* responses */
};

/*
 * Checks the msgpack-RPC shape of a decoded message. On failure, *why
 * says what is wrong and *msgid_ok tells whether a msgid could be read
 * (then msg->msgid holds it, and the peer deserves an error reply).
 */
int	wire_parse(const msgpack_object *, struct wire_msg *msg, int *msgid_ok,
	    const char **why);

/* Packs one msgpack object: params, a result, a notification's payload. */
typedef void rpc_pack_fn(msgpack_packer *, const void *arg);


#endif
