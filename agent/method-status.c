/* MountStatus, WaitMounts and Subscribe: the read methods. */
#include "config.h"

#include "agent/agent.h"

static const struct rpc_param status_params[] = {
	{ .name = "mount_session_id", .type = RPC_P_STR, .max = 128 },
	{ .name = "mount_path", .type = RPC_P_STR },
	{ .name = NULL },
};

static const struct rpc_param wait_params[] = {
	{ .name = "mount_session_ids", .type = RPC_P_STR_ARRAY, .max = 1024 },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = NULL },
};

static const struct rpc_param subscribe_params[] = {
	{ .name = NULL },
};

static void
pack_empty_array(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_array(pk, 0);
}

static void
pack_empty_map(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 0);
}

static void
status_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	if (rpc_args_has(args, "mount_session_id") &&
	    rpc_args_has(args, "mount_path")) {
		rpc_call_error(call, "EINVAL", "MountStatus: give at most one "
		    "of \"mount_session_id\" or \"mount_path\"");
		return;
	}
	rpc_call_reply(call, pack_empty_array, NULL);
}

static void
wait_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	rpc_call_error(call, "ENOSYS", "WaitMounts: the mount manager is not "
	    "built yet");
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
	.params = wait_params,
	.handler = wait_handler,
	.flags = RPC_M_STATUS,
};

const struct rpc_method method_subscribe = {
	.name = "Subscribe",
	.params = subscribe_params,
	.handler = subscribe_handler,
	.flags = RPC_M_STATUS,
};
