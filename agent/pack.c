/* MountInfo on the wire. */
#include "config.h"

#include <string.h>

#include "agent/agent.h"
#include "mountmgr/mount.h"

void
agent_pack_mount(msgpack_packer *pk, const void *arg)
{
	struct mount_view v;

	mount_view(arg, &v);
	msgpack_pack_map(pk, 9);
	rpc_pack_str(pk, "mount_session_id");
	rpc_pack_str(pk, v.id);
	rpc_pack_str(pk, "drive");
	rpc_pack_str(pk, v.drive);
	rpc_pack_str(pk, "mount_path");
	rpc_pack_str(pk, v.mount_path);
	rpc_pack_str(pk, "drive_path");
	rpc_pack_str(pk, v.drive_path);
	rpc_pack_str(pk, "read_only");
	if (v.read_only)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	rpc_pack_str(pk, "state");
	rpc_pack_str(pk, mount_state_name(v.state));
	rpc_pack_str(pk, "error");
	if (v.err_code != NULL) {
		msgpack_pack_map(pk, 2);
		rpc_pack_str(pk, "code");
		rpc_pack_str(pk, v.err_code);
		rpc_pack_str(pk, "message");
		rpc_pack_str(pk, v.err_msg != NULL ? v.err_msg : "");
	} else
		msgpack_pack_nil(pk);
	rpc_pack_str(pk, "created_at_ms");
	msgpack_pack_uint64(pk, v.created_at_ms);
	rpc_pack_str(pk, "updated_at_ms");
	msgpack_pack_uint64(pk, v.updated_at_ms);
}

struct mount_array {
	struct mount	**v;
	size_t		  n;
};

void
agent_pack_mounts(msgpack_packer *pk, const void *arg)
{
	const struct mount_array *a = arg;

	msgpack_pack_array(pk, a->n);
	for (size_t i = 0; i < a->n; i++)
		agent_pack_mount(pk, a->v[i]);
}

void
agent_reply_mounts(struct rpc_call *call, struct mount **v, size_t n)
{
	struct mount_array a = { v, n };

	rpc_call_reply(call, agent_pack_mounts, &a);
}
