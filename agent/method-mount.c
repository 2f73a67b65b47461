/* Mount and Unmount. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/params.h"
#include "common/xmalloc.h"
#include "mountmgr/mount.h"

static const struct rpc_param unmount_params[] = {
	{ .name = "mount_session_id", .type = RPC_P_STR, .max = 128 },
	{ .name = "mount_path", .type = RPC_P_STR },
	{ .name = "force", .type = RPC_P_BOOL },
	{ .name = "wait", .type = RPC_P_BOOL, .def_bool = 1 },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = NULL },
};

/* A call waiting for its mount to settle. */
struct mount_wait {
	struct rpc_call	*call;
	struct mount	*m;
	struct agent	*a;
	int		 unmount;
};

static void
on_mount_settled(int timed_out, void *arg)
{
	struct mount_wait *w = arg;
	struct mount_view v;
	const char *code;
	char *cause = NULL;

	mount_view(w->m, &v);
	if (timed_out && !w->unmount) {
		/* Nothing half done is left behind a timeout. */
		if (mountmgr_unmount(w->a->mm, w->m, 1, &code, &cause) == -1)
			free(cause);
		rpc_call_error(w->call, "ETIMEDOUT", "Mount: %s at %s was not "
		    "mounted in time; the attempt was cancelled", v.drive,
		    v.mount_path);
	} else if (timed_out)
		rpc_call_error(w->call, "ETIMEDOUT", "Unmount: %s is still "
		    "%s", v.mount_path, mount_state_name(v.state));
	else if (v.state == MOUNT_FAILED && !w->unmount)
		rpc_call_error(w->call, v.err_code, "Mount: %s", v.err_msg);
	else
		rpc_call_reply(w->call, agent_pack_mount, w->m);
	mount_unref(w->m);
	free(w);
}

static void
agent_wait_mount(struct agent *a, struct rpc_call *call, struct mount *m,
    unsigned mask, uint64_t timeout_ms, int unmount)
{
	struct mount_wait *w = xcalloc(1, sizeof(*w));

	w->call = call;
	w->m = m;
	w->a = a;
	w->unmount = unmount;
	mount_ref(m);
	mountmgr_wait(a->mm, &m, 1, mask, timeout_ms, on_mount_settled, w);
}

static void
mount_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	struct agent *a = arg;
	const struct rpc_args *o = rpc_args_map(args, "options");
	struct mount_request req = {
		.drive = rpc_args_str(args, "drive"),
		.mount_path = rpc_args_str(args, "mount_path"),
		.drive_path = rpc_args_str(args, "drive_path"),
		.read_only = rpc_args_bool(args, "read_only"),
		.cache_size = rpc_args_uint(o, "cache_size"),
		.buffer_size = rpc_args_uint(o, "buffer_size"),
		.prefetch = rpc_args_uint(o, "prefetch"),
		.writeback = rpc_args_bool(o, "writeback"),
		.timeout_ms = rpc_args_uint(args, "timeout_ms"),
	};
	struct mount *m;
	const char *code;
	char *cause = NULL;

	if (req.timeout_ms == 0) {
		rpc_call_error(call, "EINVAL", "Mount: \"timeout_ms\" must be "
		    "at least 1");
		return;
	}
	if (req.writeback && req.read_only) {
		rpc_call_error(call, "EINVAL", "Mount: \"options.writeback\" "
		    "makes no sense on a read-only mount");
		return;
	}
	if (mountmgr_mount(a->mm, &req, &m, &code, &cause) == -1) {
		rpc_call_error(call, code, "Mount: %s", cause);
		free(cause);
		return;
	}
	if (rpc_args_bool(args, "wait"))
		agent_wait_mount(a, call, m, MOUNT_SETTLED, req.timeout_ms, 0);
	else
		rpc_call_reply(call, agent_pack_mount, m);
	mount_unref(m);
}

/* The mount named by mount_session_id or mount_path, or an error reply. */
struct mount *
agent_find_mount(struct agent *a, struct rpc_call *call,
    const struct rpc_args *args, const char *method)
{
	const char *id = rpc_args_str(args, "mount_session_id");
	const char *path = rpc_args_str(args, "mount_path");
	struct mount *m;

	if (id != NULL && path != NULL) {
		rpc_call_error(call, "EINVAL", "%s: give \"mount_session_id\" "
		    "or \"mount_path\", not both", method);
		return NULL;
	}
	m = id != NULL ? mountmgr_find_id(a->mm, id) :
	    mountmgr_find_path(a->mm, path);
	if (m == NULL)
		rpc_call_error(call, "ENOENT", "%s: no mount %s %s", method,
		    id != NULL ? "session" : "at", id != NULL ? id : path);
	return m;
}

static void
unmount_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	struct agent *a = arg;
	struct mount *m;
	const char *code;
	char *cause = NULL;

	if (!rpc_args_has(args, "mount_session_id") &&
	    !rpc_args_has(args, "mount_path")) {
		rpc_call_error(call, "EINVAL", "Unmount: give "
		    "\"mount_session_id\" or \"mount_path\"");
		return;
	}
	if ((m = agent_find_mount(a, call, args, "Unmount")) == NULL)
		return;
	if (mountmgr_unmount(a->mm, m, rpc_args_bool(args, "force"), &code,
	    &cause) == -1) {
		rpc_call_error(call, code, "Unmount: %s", cause);
		free(cause);
	} else if (rpc_args_bool(args, "wait"))
		agent_wait_mount(a, call, m, MOUNT_ENDED,
		    rpc_args_uint(args, "timeout_ms"), 1);
	else
		rpc_call_reply(call, agent_pack_mount, m);
	mount_unref(m);
}

const struct rpc_method method_mount = {
	.name = "Mount",
	.params = params_mount,
	.handler = mount_handler,
};

const struct rpc_method method_unmount = {
	.name = "Unmount",
	.params = unmount_params,
	.handler = unmount_handler,
};
