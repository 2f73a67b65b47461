/* MountStatus, WaitMounts and Subscribe: the read methods. */
#include "config.h"

#include <stdlib.h>

#include "agent/agent.h"
#include "agent/params.h"
#include "common/xmalloc.h"
#include "mountmgr/mount.h"

static const struct rpc_param status_params[] = {
	{ .name = "mount_session_id", .type = RPC_P_STR, .max = 128 },
	{ .name = "mount_path", .type = RPC_P_STR },
	{ .name = NULL },
};


static const struct rpc_param subscribe_params[] = {
	{ .name = NULL },
};

static void
pack_empty_map(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 0);
}

static void
status_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	struct agent *a = arg;
	struct mount **v, *m;
	size_t n;

	if (rpc_args_has(args, "mount_session_id") ||
	    rpc_args_has(args, "mount_path")) {
		if ((m = agent_find_mount(a, call, args, "MountStatus")) ==
		    NULL)
			return;
		agent_reply_mounts(call, &m, 1);
		mount_unref(m);
		return;
	}
	v = mountmgr_list(a->mm, &n);
	agent_reply_mounts(call, v, n);
	mount_list_free(v, n);
}

struct wait_mounts {
	struct rpc_call	*call;
	struct mount	**v;
	size_t		  n;
};

/*
 * WaitMounts is served to the workload (the status socket): its waiters
 * are bounded as a whole, so no client can grow the agent with them.
 * Mount and Unmount waits (control socket only) do not count.
 */
#define WAIT_MOUNTS_MAX	1024
static size_t wait_mounts_active;

static void
on_mounts_settled(int timed_out, void *arg)
{
	struct wait_mounts *w = arg;

	/* Settled or out of time, the answer is where each one stands. */
	agent_reply_mounts(w->call, w->v, w->n);
	mount_list_free(w->v, w->n);
	free(w);
	wait_mounts_active--;
}

static void
wait_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	struct agent *a = arg;
	struct wait_mounts *w;
	char *const *ids;
	size_t nids;

	if (wait_mounts_active >= WAIT_MOUNTS_MAX) {
		rpc_call_error(call, "EBUSY", "WaitMounts: %d calls are waiting "
		    "already; try again later", WAIT_MOUNTS_MAX);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	ids = rpc_args_strs(args, "mount_session_ids", &nids);
	w->call = call;
	if (rpc_args_has(args, "mount_session_ids")) {
		w->v = xcalloc(nids ? nids : 1, sizeof(*w->v));
		for (size_t i = 0; i < nids; i++) {
			struct mount *m = mountmgr_find_id(a->mm, ids[i]);

			if (m == NULL) {
				rpc_call_error(call, "ENOENT", "WaitMounts: no "
				    "mount session %s", ids[i]);
				mount_list_free(w->v, w->n);
				free(w);
				return;
			}
			w->v[w->n++] = m;
		}
	} else
		w->v = mountmgr_list(a->mm, &w->n);
	wait_mounts_active++;
	mountmgr_wait(a->mm, w->v, w->n, MOUNT_SETTLED,
	    rpc_args_uint(args, "timeout_ms"), on_mounts_settled, w);
}

static void
subscribe_handler(struct rpc_call *call, const struct rpc_args *args,
    void *arg)
{
	rpc_call_subscribe(call);
	rpc_call_reply(call, pack_empty_map, NULL);
}

const struct rpc_method method_mount_status = {
	.name = "MountStatus",
	.params = status_params,
	.handler = status_handler,
	.flags = RPC_M_STATUS,
};

const struct rpc_method method_wait_mounts = {
	.name = "WaitMounts",
	.params = params_wait_mounts,
	.handler = wait_handler,
	.flags = RPC_M_STATUS,
};

const struct rpc_method method_subscribe = {
	.name = "Subscribe",
	.params = subscribe_params,
	.handler = subscribe_handler,
	.flags = RPC_M_STATUS,
};
