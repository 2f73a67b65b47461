/*
 * Stats: what each mount's blfs served (read from the metrics file it
 * counts into: no request to blfs) and what the agent itself serves.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/mount.h"
#include "mountmgr/stats.h"

static const struct rpc_param stats_params[] = {
	{ .name = "mount_session_id", .type = RPC_P_STR, .max = 128 },
	{ .name = "mount_path", .type = RPC_P_STR },
	{ .name = NULL },
};

struct stats_reply {
	struct agent	*a;
	struct mount	**v;
	size_t		  n;
};

static void
pack_kv(msgpack_packer *pk, const char *k, uint64_t v)
{
	rpc_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

/* "ENOENT", or "E123" for an errno libc has no name for. */
static const char *
stats_errno_name(unsigned e, char *buf, size_t len)
{
	const char *s = e < STATS_ERRNOS - 1 ? strerrorname_np((int)e) : NULL;

	if (s != NULL)
		return s;
	if (e >= STATS_ERRNOS - 1)
		return "EOTHER";
	snprintf(buf, len, "E%u", e);
	return buf;
}

static void
pack_mount_stats(msgpack_packer *pk, struct mount *m)
{
	struct stats_sum *s = xcalloc(1, sizeof(*s));
	struct mount_view v;
	char buf[16];
	size_t nerr = 0;
	unsigned i;
	int have;

	mount_view(m, &v);
	have = mount_stats(m, s) == 0;
	for (i = 1; i < STATS_ERRNOS; i++)
		nerr += s->errors[i] != 0;

	msgpack_pack_map(pk, 12);
	rpc_pack_str(pk, "mount_session_id");
	rpc_pack_str(pk, v.id);
	rpc_pack_str(pk, "drive");
	rpc_pack_str(pk, v.drive);
	rpc_pack_str(pk, "mount_path");
	rpc_pack_str(pk, v.mount_path);
	rpc_pack_str(pk, "state");
	rpc_pack_str(pk, mount_state_name(v.state));
	rpc_pack_str(pk, "operations");
	msgpack_pack_map(pk, STATS_NOPS);
	for (i = 0; i < STATS_NOPS; i++)
		pack_kv(pk, stats_op_name(i), s->ops[i]);
	pack_kv(pk, "bytes_read", s->bytes_read);
	pack_kv(pk, "bytes_written", s->bytes_written);
	rpc_pack_str(pk, "errors");
	msgpack_pack_map(pk, nerr);
	for (i = 1; i < STATS_ERRNOS; i++)
		if (s->errors[i] != 0)
			pack_kv(pk, stats_errno_name(i, buf, sizeof(buf)),
			    s->errors[i]);
	rpc_pack_str(pk, "latency_us");
	msgpack_pack_map(pk, STATS_NOPS);
	for (i = 0; i < STATS_NOPS; i++) {
		rpc_pack_str(pk, stats_op_name(i));
		msgpack_pack_map(pk, 2);
		pack_kv(pk, "p50", stats_percentile(s, i, 50));
		pack_kv(pk, "p99", stats_percentile(s, i, 99));
	}
	/*
	 * The drive's use and capacity as this mount's blfs last saw them
	 * (no read of the store here: it may sit on a network); nil for a
	 * drive without a capacity.
	 */
	rpc_pack_str(pk, "used_bytes");
	if (s->capacity != 0)
		msgpack_pack_uint64(pk, s->used);
	else
		msgpack_pack_nil(pk);
	rpc_pack_str(pk, "capacity_bytes");
	if (s->capacity != 0)
		msgpack_pack_uint64(pk, s->capacity);
	else
		msgpack_pack_nil(pk);
	/* false: this mount has no metrics file (its counts are zeros). */
	rpc_pack_str(pk, "metrics");
	if (have)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	free(s);
}

static void
pack_agent_stats(msgpack_packer *pk, struct agent *a)
{
	size_t n, i, bystate[MOUNT_FAILED + 1] = { 0 };
	struct mount **v;

	v = mountmgr_list(a->mm, &n);
	for (i = 0; i < n; i++)
		bystate[mount_get_state(v[i])]++;
	mount_list_free(v, n);

	msgpack_pack_map(pk, 4);
	pack_kv(pk, "uptime_ms", now_ms_mono() - a->started_ms);
	rpc_pack_str(pk, "connections");
	msgpack_pack_map(pk, 3);
	pack_kv(pk, "control", rpc_server_nconns_kind(a->rpc,
	    RPC_CONN_CONTROL));
	pack_kv(pk, "status", rpc_server_nconns_kind(a->rpc,
	    RPC_CONN_STATUS));
	pack_kv(pk, "vsock", rpc_server_nconns_kind(a->rpc, RPC_CONN_VSOCK));
	rpc_pack_str(pk, "requests");
	msgpack_pack_map(pk, a->nmethods);
	for (i = 0; i < a->nmethods; i++)
		pack_kv(pk, a->methods[i]->name, rpc_server_served(a->rpc, i));
	/* Gone mounts leave the list: every other state. */
	rpc_pack_str(pk, "mounts");
	msgpack_pack_map(pk, MOUNT_FAILED);
	for (i = 0; i <= MOUNT_FAILED; i++)
		if (i != MOUNT_GONE)
			pack_kv(pk, mount_state_name(i), bystate[i]);
}

static void
stats_pack(msgpack_packer *pk, const void *arg)
{
	const struct stats_reply *r = arg;
	size_t i;

	msgpack_pack_map(pk, 2);
	rpc_pack_str(pk, "agent");
	pack_agent_stats(pk, r->a);
	rpc_pack_str(pk, "mounts");
	msgpack_pack_array(pk, r->n);
	for (i = 0; i < r->n; i++)
		pack_mount_stats(pk, r->v[i]);
}

static void
stats_handler(struct rpc_call *call, const struct rpc_args *args, void *arg)
{
	struct stats_reply r = { .a = arg };
	struct mount *m;

	if (rpc_args_has(args, "mount_session_id") ||
	    rpc_args_has(args, "mount_path")) {
		if ((m = agent_find_mount(r.a, call, args, "Stats")) == NULL)
			return;
		r.v = &m;
		r.n = 1;
		rpc_call_reply(call, stats_pack, &r);
		mount_unref(m);
		return;
	}
	r.v = mountmgr_list(r.a->mm, &r.n);
	rpc_call_reply(call, stats_pack, &r);
	mount_list_free(r.v, r.n);
}

const struct rpc_method method_stats = {
	.name = "Stats",
	.params = stats_params,
	.handler = stats_handler,
	.flags = RPC_M_STATUS,
};
