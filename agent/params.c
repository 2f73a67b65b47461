/*
 * The declared parameters of Mount and WaitMounts, apart from their
 * handlers so the wire fuzzer checks the very declarations the agent
 * serves, without linking the mount manager.
 */
#include "config.h"

#include "agent/params.h"

static const struct rpc_param params_mount_options[] = {
	{ .name = "cache_size", .type = RPC_P_UINT, .max = 1ULL << 40 },
	{ .name = "buffer_size", .type = RPC_P_UINT, .max = 1ULL << 30 },
	{ .name = "prefetch", .type = RPC_P_UINT, .max = 1ULL << 30 },
	{ .name = "writeback", .type = RPC_P_BOOL },
	{ .name = NULL },
};

const struct rpc_param params_mount[] = {
	{ .name = "drive", .type = RPC_P_STR, .required = 1, .max = 63 },
	{ .name = "mount_path", .type = RPC_P_STR, .required = 1 },
	{ .name = "drive_path", .type = RPC_P_STR, .def_str = "/" },
	{ .name = "read_only", .type = RPC_P_BOOL },
	{ .name = "options", .type = RPC_P_MAP, .sub = params_mount_options },
	{ .name = "wait", .type = RPC_P_BOOL },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = NULL },
};

const struct rpc_param params_wait_mounts[] = {
	{ .name = "mount_session_ids", .type = RPC_P_STR_ARRAY, .max = 1024 },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = NULL },
};
