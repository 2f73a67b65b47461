/*
 * blctl stats and blctl metrics: the agent's Stats, for people and in
 * the Prometheus text exposition format (for a host exporter or
 * node_exporter's textfile collector).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blctl/blctl.h"
#include "common/util.h"

/* { mount_session_id | mount_path: ARG } or {} */
static void
pack_target(msgpack_packer *pk, const void *arg)
{
	const char *t = arg;

	if (t == NULL) {
		msgpack_pack_map(pk, 0);
		return;
	}
	msgpack_pack_map(pk, 1);
	if (t[0] == '/') {
		msgpack_pack_str(pk, 10);
		msgpack_pack_str_body(pk, "mount_path", 10);
	} else {
		msgpack_pack_str(pk, 16);
		msgpack_pack_str_body(pk, "mount_session_id", 16);
	}
	msgpack_pack_str(pk, strlen(t));
	msgpack_pack_str_body(pk, t, strlen(t));
}

static uint64_t
obj_u64(const msgpack_object *o)
{
	return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    o->via.u64 : 0;
}

static int
obj_is_map(const msgpack_object *o)
{
	return o != NULL && o->type == MSGPACK_OBJECT_MAP;
}

/* A map's key as a string (they are all short words or paths). */
static const char *
obj_key(const msgpack_object_kv *kv, char *buf, size_t len)
{
	return rpc_obj_str(&kv->key, buf, len);
}

/* "k1 v1, k2 v2" of a map of counts, leaving out zeros unless all. */
static void
print_counts(const char *head, const msgpack_object *m, int zeros)
{
	char k[128];
	const char *sep = "";
	uint32_t i;

	if (!obj_is_map(m))
		return;
	printf("  %-13s", head);
	for (i = 0; i < m->via.map.size; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];

		if (!zeros && obj_u64(&kv->val) == 0)
			continue;
		printf("%s%s %" PRIu64, sep, obj_key(kv, k, sizeof(k)),
		    obj_u64(&kv->val));
		sep = ", ";
	}
	printf("%s\n", *sep == '\0' ? "none" : "");
}

static void
print_human(const msgpack_object *r)
{
	const msgpack_object *ag = rpc_obj_get(r, "agent");
	const msgpack_object *ms = rpc_obj_get(r, "mounts");
	char a[256], b[256], c[256], d[64];
	uint32_t i, j;

	if (obj_is_map(ag)) {
		printf("agent: up %.1f s\n",
		    (double)obj_u64(rpc_obj_get(ag, "uptime_ms")) / 1000);
		print_counts("connections", rpc_obj_get(ag, "connections"), 1);
		print_counts("requests", rpc_obj_get(ag, "requests"), 0);
		print_counts("mounts", rpc_obj_get(ag, "mounts"), 0);
	}
	if (ms == NULL || ms->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (i = 0; i < ms->via.array.size; i++) {
		const msgpack_object *m = &ms->via.array.ptr[i];
		const msgpack_object *ops = rpc_obj_get(m, "operations");
		const msgpack_object *lat = rpc_obj_get(m, "latency_us");

		printf("mount %s: %s at %s, %s\n",
		    rpc_obj_str(rpc_obj_get(m, "mount_session_id"), a,
		    sizeof(a)), rpc_obj_str(rpc_obj_get(m, "drive"), b,
		    sizeof(b)), rpc_obj_str(rpc_obj_get(m, "mount_path"), c,
		    sizeof(c)), rpc_obj_str(rpc_obj_get(m, "state"), d,
		    sizeof(d)));
		print_counts("operations", ops, 0);
		printf("  %-13s", "p50/p99 us");
		for (j = 0; obj_is_map(lat) && j < lat->via.map.size; j++) {
			const msgpack_object_kv *kv = &lat->via.map.ptr[j];

			if (obj_u64(rpc_obj_get(ops, obj_key(kv, a,
			    sizeof(a)))) == 0)
				continue;
			printf("%s %" PRIu64 "/%" PRIu64 " ", a,
			    obj_u64(rpc_obj_get(&kv->val, "p50")),
			    obj_u64(rpc_obj_get(&kv->val, "p99")));
		}
		printf("\n  %-13sread %" PRIu64 ", written %" PRIu64 "\n",
		    "bytes", obj_u64(rpc_obj_get(m, "bytes_read")),
		    obj_u64(rpc_obj_get(m, "bytes_written")));
		print_counts("errors", rpc_obj_get(m, "errors"), 0);
	}
}

int
blctl_cmd_stats(struct blctl *b, int argc, char **argv)
{
	struct wire_msg r;

	if (argc > 2)
		return fprintf(stderr, "blctl: stats takes at most one ID or "
		    "PATH\n"), BLCTL_EXIT_USAGE;
	if (blctl_connect(b, 1) == -1 || blctl_call(b, "Stats", pack_target,
	    argc == 2 ? argv[1] : NULL, &r) == -1)
		return BLCTL_EXIT_ERROR;
	if (b->json) {
		blctl_json_print(stdout, &r.result);
		putchar('\n');
	} else
		print_human(&r.result);
	return BLCTL_EXIT_OK;
}

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(const char *name, const msgpack_object *o)
{
	char buf[4096];
	const char *p;

	printf("%s=\"", name);
	for (p = rpc_obj_str(o, buf, sizeof(buf)); *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			printf("\\%c", *p);
		else if (*p == '\n')
			printf("\\n");
		else
			putchar(*p);
	}
	putchar('"');
}

static void
prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{drive,mount_path[,label="key"]} value, for each key of map. */
static void
prom_mount_map(const char *name, const msgpack_object *ms, const char *field,
    const char *label, const char *sub)
{
	uint32_t i, j;

	for (i = 0; i < ms->via.array.size; i++) {
		const msgpack_object *m = &ms->via.array.ptr[i];
		const msgpack_object *map = rpc_obj_get(m, field);

		for (j = 0; obj_is_map(map) && j < map->via.map.size; j++) {
			const msgpack_object_kv *kv = &map->via.map.ptr[j];

			printf("%s{", name);
			prom_label("drive", rpc_obj_get(m, "drive"));
			putchar(',');
			prom_label("mount_path", rpc_obj_get(m, "mount_path"));
			putchar(',');
			prom_label(label, &kv->key);
			if (sub != NULL)
				printf(",quantile=\"%s\"} %" PRIu64 "\n",
				    strcmp(sub, "p50") == 0 ? "0.5" : "0.99",
				    obj_u64(rpc_obj_get(&kv->val, sub)));
			else
				printf("} %" PRIu64 "\n", obj_u64(&kv->val));
		}
	}
}

static void
prom_mount_value(const char *name, const msgpack_object *ms,
    const char *field)
{
	uint32_t i;

	for (i = 0; i < ms->via.array.size; i++) {
		const msgpack_object *m = &ms->via.array.ptr[i];

		printf("%s{", name);
		prom_label("drive", rpc_obj_get(m, "drive"));
		putchar(',');
		prom_label("mount_path", rpc_obj_get(m, "mount_path"));
		printf("} %" PRIu64 "\n", obj_u64(rpc_obj_get(m, field)));
	}
}

static void
prom_agent_map(const char *name, const msgpack_object *map,
    const char *label)
{
	uint32_t i;

	for (i = 0; obj_is_map(map) && i < map->via.map.size; i++) {
		printf("%s{", name);
		prom_label(label, &map->via.map.ptr[i].key);
		printf("} %" PRIu64 "\n", obj_u64(&map->via.map.ptr[i].val));
	}
}

int
blctl_cmd_metrics(struct blctl *b, int argc, char **argv)
{
	const msgpack_object *ag, *ms;
	struct wire_msg r;

	(void)argv;
	if (argc > 1)
		return fprintf(stderr, "blctl: metrics takes no arguments\n"),
		    BLCTL_EXIT_USAGE;
	if (blctl_connect(b, 1) == -1 || blctl_call(b, "Stats", pack_target,
	    NULL, &r) == -1)
		return BLCTL_EXIT_ERROR;
	ag = rpc_obj_get(&r.result, "agent");
	ms = rpc_obj_get(&r.result, "mounts");
	if (!obj_is_map(ag) || ms == NULL ||
	    ms->type != MSGPACK_OBJECT_ARRAY) {
		fprintf(stderr, "blctl: Stats: an answer of another shape\n");
		return BLCTL_EXIT_ERROR;
	}

	prom_head("blagent_uptime_seconds", "gauge",
	    "Seconds since the agent started.");
	printf("blagent_uptime_seconds %.3f\n",
	    (double)obj_u64(rpc_obj_get(ag, "uptime_ms")) / 1000);
	prom_head("blagent_connections", "gauge",
	    "Connections open now, per socket.");
	prom_agent_map("blagent_connections", rpc_obj_get(ag, "connections"),
	    "socket");
	prom_head("blagent_requests_total", "counter",
	    "Requests handled, per method.");
	prom_agent_map("blagent_requests_total", rpc_obj_get(ag, "requests"),
	    "method");
	prom_head("blagent_mounts", "gauge", "Mounts, per state.");
	prom_agent_map("blagent_mounts", rpc_obj_get(ag, "mounts"), "state");

	prom_head("blagent_mount_operations_total", "counter",
	    "Operations a mount's blfs served, per kind.");
	prom_mount_map("blagent_mount_operations_total", ms, "operations",
	    "op", NULL);
	prom_head("blagent_mount_errors_total", "counter",
	    "Operations a mount's blfs answered with an error, per errno.");
	prom_mount_map("blagent_mount_errors_total", ms, "errors", "errno",
	    NULL);
	prom_head("blagent_mount_read_bytes_total", "counter",
	    "Bytes read through a mount.");
	prom_mount_value("blagent_mount_read_bytes_total", ms, "bytes_read");
	prom_head("blagent_mount_written_bytes_total", "counter",
	    "Bytes written through a mount.");
	prom_mount_value("blagent_mount_written_bytes_total", ms,
	    "bytes_written");
	prom_head("blagent_mount_latency_microseconds", "gauge",
	    "Latency of a mount's operations since it was mounted, per kind: "
	    "the upper bound of the bucket holding the quantile.");
	prom_mount_map("blagent_mount_latency_microseconds", ms, "latency_us",
	    "op", "p50");
	prom_mount_map("blagent_mount_latency_microseconds", ms, "latency_us",
	    "op", "p99");
	return BLCTL_EXIT_OK;
}
