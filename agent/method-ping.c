/* Ping: liveness, version and uptime. */
#include "config.h"

#include <string.h>

#include "agent/agent.h"
#include "common/util.h"

static const struct rpc_param ping_params[] = {
	{ .name = NULL },
};

static void
ping_pack(msgpack_packer *pk, const void *arg)
{
	const struct agent *a = arg;

	msgpack_pack_map(pk, 2);
	msgpack_pack_str(pk, 7);
	msgpack_pack_str_body(pk, "version", 7);
	msgpack_pack_str(pk, strlen(PACKAGE_VERSION));
	msgpack_pack_str_body(pk, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
	msgpack_pack_str(pk, 9);
	msgpack_pack_str_body(pk, "uptime_ms", 9);
	msgpack_pack_uint64(pk, now_ms_mono() - a->started_ms);
}

static void
ping_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	rpc_call_reply(call, ping_pack, arg);
}

const struct rpc_method method_ping = {
	.name = "Ping",
	.params = ping_params,
	.handler = ping_handler,
	.flags = RPC_M_STATUS,
};
