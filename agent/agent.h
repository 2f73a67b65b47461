/* The agent: one event loop wiring the RPC server to the mount manager. */
#ifndef BL_AGENT_H
#define BL_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mountmgr/store.h"
#include "rpc/server.h"

#define AGENT_DEFAULT_RUN_DIR		"/run/blagent"
#define AGENT_DEFAULT_CONTROL		"/run/blagent/control.sock"
#define AGENT_DEFAULT_STATUS		"/run/blagent/status.sock"
#define AGENT_DEFAULT_STATE_DIR		"/run/blagent/state"
#define AGENT_DEFAULT_STORE		"/var/lib/blagent/store"
#define AGENT_DEFAULT_TOKEN		"/var/run/secrets/blaxel.ai/identity/token"
#define AGENT_DEFAULT_VSOCK_CID		2	/* VMADDR_CID_HOST */
#define AGENT_VSOCK_CIDS_MAX		64

struct mountmgr;
struct mount;
struct token_state;

struct agent_config {
	const char	*control_socket;
	const char	*status_socket;
	const char	*store;
	struct store_options store_opts; /* --ceph-conf... (store.h) */
	const char	*token;
	const char	*token_key;
	const char	*state_dir;
	const char	*blfs;
	char		**mounts;	/* --mount specs */
	size_t		 nmounts;
	uint64_t	 wait_mounts_ms;
	int		 foreground;
	uint64_t	 idle_timeout_ms;
	size_t		 max_connections;
	int		 vsock;		/* --vsock-port given */
	uint32_t	 vsock_port;
	uint32_t	*vsock_cids;	/* --vsock-allow-cid, or the host's */
	size_t		 nvsock_cids;
};

struct agent {
	struct event_base	*base;
	struct agent_config	 cfg;
	struct rpc_server	*rpc;
	struct mountmgr		*mm;
	struct token_state	*token;
	struct event		*token_ev;
	struct event		*token_retry;
	uint64_t		 started_ms;
	char			*run_dir;
	const struct rpc_method *const *methods;	/* the table served */
	size_t			 nmethods;
};

/* MountInfo, one or an array (pack.c). */
void	agent_pack_mount(msgpack_packer *, const void *mount);
void	agent_pack_mounts(msgpack_packer *, const void *);
void	agent_reply_mounts(struct rpc_call *, struct mount **, size_t n);
/* The mount an Unmount or MountStatus names, or an error reply and NULL. */
struct mount *agent_find_mount(struct agent *, struct rpc_call *,
	    const struct rpc_args *, const char *method);

/* The method table entries, one family per file. */
extern const struct rpc_method method_ping;
extern const struct rpc_method method_mount;
extern const struct rpc_method method_unmount;
extern const struct rpc_method method_mount_status;
extern const struct rpc_method method_wait_mounts;
extern const struct rpc_method method_subscribe;
extern const struct rpc_method method_stats;

#endif
