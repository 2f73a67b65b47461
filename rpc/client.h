/* A small blocking msgpack-RPC client, for blctl and the tests. */
#ifndef BL_CLIENT_H
#define BL_CLIENT_H

#include <stdint.h>

#include "rpc/wire.h"

struct rpc_client;

struct rpc_client *rpc_client_connect(const char *path, char **cause);
void		 rpc_client_free(struct rpc_client *);
int		 rpc_client_fd(const struct rpc_client *);

/* Sends [0, msgid, method, [params]]; params packs one map (NULL: []). */
int	rpc_client_send(struct rpc_client *, const char *method,
	    rpc_pack_fn *params, const void *arg, uint32_t *msgid,
	    char **cause);
/*
 * Reads the next message; what *m points into stays valid until the next
 * read. timeout_ms < 0 waits forever. 0, or -1 with *cause (on a timeout
 * errno is ETIMEDOUT).
 */
int	rpc_client_read(struct rpc_client *, struct wire_msg *m,
	    int timeout_ms, char **cause);
/* send, then read until the response to it (other messages are skipped). */
int	rpc_client_call(struct rpc_client *, const char *method,
	    rpc_pack_fn *params, const void *arg, struct wire_msg *resp,
	    int timeout_ms, char **cause);

/* Error map {code, message} of a response, or NULLs when it has none. */
void	rpc_client_error(const struct wire_msg *resp, char *code, size_t codelen,
	    char *message, size_t msglen);

/* Field look-ups in a decoded map; NULL when absent. */
const msgpack_object *rpc_obj_get(const msgpack_object *map, const char *key);
/* Copies a string object into buf (truncating); "" when not a string. */
const char *rpc_obj_str(const msgpack_object *o, char *buf, size_t len);

#endif
