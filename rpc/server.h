/*
 * msgpack-RPC over stream unix sockets (and AF_VSOCK, for a host outside
 * the VM) on libevent: listeners, bounded connections, a method table
 * whose handlers may answer later (so answers leave out of order), and
 * notifications to subscribed connections.
 */
#ifndef BL_SERVER_H
#define BL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <msgpack.h>

#include "rpc/schema.h"
#include "rpc/wire.h"

struct rpc_server;
struct rpc_conn;
struct rpc_call;

typedef void rpc_handler(struct rpc_call *, const struct rpc_args *,
    void *arg);

#define RPC_M_STATUS	0x1	/* also served on the status socket */

struct rpc_method {
	const char		*name;
	const struct rpc_param	*params;	/* ends with a NULL name */
	rpc_handler		*handler;
	int			 flags;
};

struct rpc_limits {
	struct wire_limits	wire;
	size_t		max_out;	/* queued output before a peer is dropped */
	size_t		pause_out;	/* queued output that pauses reading */
	size_t		max_conns;	/* connections per kind of listener */
	size_t		max_pending;	/* unanswered requests per connection */
	uint64_t	idle_ms;	/* quiet time before a connection is closed */
};

extern const struct rpc_limits rpc_default_limits;

#define RPC_L_STATUS		0x1	/* only RPC_M_STATUS methods */
#define RPC_L_CHECK_PEER	0x2	/* only uid 0 and our own uid */

struct rpc_server *rpc_server_new(struct event_base *,
		    const struct rpc_method *const *methods, size_t nmethods,
		    const struct rpc_limits *, void *arg);
/* Replaces a stale socket file; refuses when a live server answers there. */
int		 rpc_server_listen(struct rpc_server *, const char *path,
		    mode_t mode, int flags, char **cause);

/*
 * Also listens on AF_VSOCK, any local CID, port. A peer whose CID is not
 * one of allow[0..nallow) is closed at accept: SO_PEERCRED means nothing
 * across the VM boundary, the CID is the whole check. flags as for a unix
 * listener (0: every method, as the control socket); the listener has a
 * connection budget of its own.
 */
int		 rpc_server_listen_vsock(struct rpc_server *, uint32_t port,
		    const uint32_t *allow, size_t nallow, int flags,
		    char **cause);
/* The accept-time check: 1 when cid is listed (never VMADDR_CID_ANY). */
int		 rpc_vsock_peer_allowed(uint32_t cid, const uint32_t *allow,
		    size_t nallow);
/* Closes every listener and connection and removes the socket files. */
void		 rpc_server_free(struct rpc_server *);
size_t		 rpc_server_nconns(const struct rpc_server *);
/* Connections open now on each kind of listener. */
enum rpc_conn_kind { RPC_CONN_CONTROL, RPC_CONN_STATUS, RPC_CONN_VSOCK };
size_t		 rpc_server_nconns_kind(const struct rpc_server *,
		     enum rpc_conn_kind);
/* Calls of methods[i] (the table given to rpc_server_new) handled. */
uint64_t	 rpc_server_served(const struct rpc_server *, size_t i);

/* Sends a notification to every subscribed connection. */
void		 rpc_server_broadcast(struct rpc_server *, const char *method,
		    rpc_pack_fn *, const void *arg);

/* A msgpack string of s (NUL-terminated), for result packers. */
void		 rpc_pack_str(msgpack_packer *, const char *s);

/* Exactly one of these ends every call; it frees the call. */
void		 rpc_call_reply(struct rpc_call *, rpc_pack_fn *, const void *);
void		 rpc_call_error(struct rpc_call *, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Marks the caller's connection for MountStateChanged-style pushes. */
void		 rpc_call_subscribe(struct rpc_call *);
/* Whether the caller is still connected (a waiting handler may give up). */
int		 rpc_call_alive(const struct rpc_call *);
const char	*rpc_call_method(const struct rpc_call *);

#endif
