/* Mount and Unmount. */
#include "config.h"

#include "agent/agent.h"

static const struct rpc_param mount_options_params[] = {
	{ .name = "cache_size", .type = RPC_P_UINT, .max = 1ULL << 40 },
	{ .name = "buffer_size", .type = RPC_P_UINT, .max = 1ULL << 30 },
	{ .name = "prefetch", .type = RPC_P_UINT, .max = 1ULL << 30 },
	{ .name = "writeback", .type = RPC_P_BOOL },
	{ .name = NULL },
};

static const struct rpc_param mount_params[] = {
	{ .name = "drive", .type = RPC_P_STR, .required = 1, .max = 63 },
	{ .name = "mount_path", .type = RPC_P_STR, .required = 1 },
	{ .name = "drive_path", .type = RPC_P_STR, .def_str = "/" },
	{ .name = "read_only", .type = RPC_P_BOOL },
	{ .name = "options", .type = RPC_P_MAP, .sub = mount_options_params },
	{ .name = "wait", .type = RPC_P_BOOL },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = NULL },
};

static const struct rpc_param unmount_params[] = {
	{ .name = "mount_session_id", .type = RPC_P_STR, .max = 128 },
	{ .name = "mount_path", .type = RPC_P_STR },
	{ .name = "force", .type = RPC_P_BOOL },
	{ .name = "wait", .type = RPC_P_BOOL, .def_bool = 1 },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = NULL },
};

static void
mount_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	rpc_call_error(call, "ENOSYS", "Mount: the mount manager is not "
	    "built yet");
}

static void
unmount_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	if (rpc_args_has(args, "mount_session_id") ==
	    rpc_args_has(args, "mount_path")) {
		rpc_call_error(call, "EINVAL", "Unmount: give exactly one of "
		    "\"mount_session_id\" or \"mount_path\"");
		return;
	}
	rpc_call_error(call, "ENOSYS", "Unmount: the mount manager is not "
	    "built yet");
}

const struct rpc_method method_mount = {
	.name = "Mount",
	.params = mount_params,
	.handler = mount_handler,
};

const struct rpc_method method_unmount = {
	.name = "Unmount",
	.params = unmount_params,
	.handler = unmount_handler,
};
