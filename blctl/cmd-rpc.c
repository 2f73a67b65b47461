/*
 * blctl's RPC commands: ping, status, wait, watch, mount, unmount (stats
 * and metrics: cmd-stats.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blctl/blctl.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "rpc/client.h"

#define BLCTL_CONTROL	"/run/blagent/control.sock"
#define BLCTL_STATUS	"/run/blagent/status.sock"


static void __attribute__((noreturn))
rpc_usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: blctl [--socket PATH] [--json] COMMAND [ARGS]\n"
"\n"
"  ping                          check that the agent answers\n"
"  status [ID|PATH]              list mounts, or one\n"
"  wait [--timeout DURATION] [ID...]  wait until mounts settle\n"
"  watch                         print every mount state change\n"
"  mount DRIVE PATH [--drive-path P] [--read-only] [--wait]\n"
"        [--timeout DURATION] [--cache-size N] [--buffer-size N]\n"
"        [--prefetch N] [--writeback]\n"
"  unmount ID|PATH [--force] [--no-wait]\n"
"  stats [ID|PATH]               what the agent and each mount served\n"
"  metrics                       the same, as Prometheus text\n"
"  drive ...                     manage drives in a store (blctl drive --help)\n"
"\n"
"  --socket PATH  the agent's socket [%s; read commands fall back\n"
"                 to %s when the control socket is not accessible]\n"
"  --json         print results as JSON\n"
"Exit status: 0 success, 1 the agent answered an error, 2 usage error.\n",
	    BLCTL_CONTROL, BLCTL_STATUS);
	exit(status);
}

static int __attribute__((format(printf, 1, 2)))
usage_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "blctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'blctl --help'.\n");
	return BLCTL_EXIT_USAGE;
}

/* JSON text of a decoded msgpack object, for --json. */
static void
json_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
blctl_json_print(FILE *f, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(f, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		fprintf(f, "%.17g", o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		json_string(f, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				fputc(',', f);
			blctl_json_print(f, &o->via.array.ptr[i]);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];

			if (i > 0)
				fputc(',', f);
			if (kv->key.type == MSGPACK_OBJECT_STR)
				blctl_json_print(f, &kv->key);
			else
				fputs("\"?\"", f);
			fputc(':', f);
			blctl_json_print(f, &kv->val);
		}
		fputc('}', f);
		break;
	default:
		fputs("null", f);
		break;
	}
}

int
blctl_connect(struct blctl *b, int read_only)
{
	char *cause = NULL;

	b->cl = rpc_client_connect(b->socket, &cause);
	if (b->cl == NULL && read_only && !b->socket_given &&
	    (errno == EACCES || errno == EPERM || errno == ENOENT)) {
		free(cause);
		cause = NULL;
		b->cl = rpc_client_connect(BLCTL_STATUS, &cause);
	}
	if (b->cl == NULL) {
		fprintf(stderr, "blctl: %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Sends and waits; prints the agent's error and returns -1 on any failure. */
int
blctl_call(struct blctl *b, const char *method, rpc_pack_fn *fn,
    const void *arg, struct wire_msg *resp)
{
	char *cause = NULL;
	char code[32], msg[1024];

	if (rpc_client_call(b->cl, method, fn, arg, resp, -1, &cause) == -1) {
		fprintf(stderr, "blctl: %s: %s\n", method, cause);
		free(cause);
		return -1;
	}
	if (resp->error.type != MSGPACK_OBJECT_NIL) {
		rpc_client_error(resp, code, sizeof(code), msg, sizeof(msg));
		/* The agent's message already names the method. */
		fprintf(stderr, "blctl: %s (%s)\n", msg, code);
		return -1;
	}
	return 0;
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* Named arguments, built up and packed as one map. */
#define KV_MAX 16
struct kv {
	const char	*key;
	enum { KV_STR, KV_BOOL, KV_UINT, KV_STRS, KV_MAP } type;
	const char	*s;
	int		 b;
	uint64_t	 u;
	char		**strs;
	int		 nstrs;
	const struct kvs *map;
};
struct kvs {
	size_t		n;
	struct kv	v[KV_MAX];
};

static struct kv *
kv_add(struct kvs *k, const char *key)
{
	struct kv *e = &k->v[k->n++];

	memset(e, 0, sizeof(*e));
	e->key = key;
	return e;
}

static void
pack_kvs(msgpack_packer *pk, const void *arg)
{
	const struct kvs *k = arg;

	msgpack_pack_map(pk, k->n);
	for (size_t i = 0; i < k->n; i++) {
		const struct kv *e = &k->v[i];

		pack_str(pk, e->key);
		switch (e->type) {
		case KV_STR:
			pack_str(pk, e->s);
			break;
		case KV_BOOL:
			if (e->b)
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
			break;
		case KV_UINT:
			msgpack_pack_uint64(pk, e->u);
			break;
		case KV_STRS:
			msgpack_pack_array(pk, (size_t)e->nstrs);
			for (int j = 0; j < e->nstrs; j++)
				pack_str(pk, e->strs[j]);
			break;
		case KV_MAP:
			pack_kvs(pk, e->map);
			break;
		}
	}
}

static const char *
mi_str(const msgpack_object *mi, const char *key, char *buf, size_t len)
{
	return rpc_obj_str(rpc_obj_get(mi, key), buf, len);
}

/* Width of a string field over every row (at least the header's). */
static int
column_width(const msgpack_object *arr, const char *key, const char *head)
{
	size_t w = strlen(head);

	for (uint32_t i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *o = rpc_obj_get(&arr->via.array.ptr[i],
		    key);

		if (o != NULL && o->type == MSGPACK_OBJECT_STR &&
		    o->via.str.size > w)
			w = o->via.str.size;
	}
	return w > 1024 ? 1024 : (int)w;
}

static void
print_mount_table(const msgpack_object *arr)
{
	int wid = column_width(arr, "mount_session_id", "ID");
	int wdr = column_width(arr, "drive", "DRIVE");
	int wpa = column_width(arr, "mount_path", "PATH");
	int wdp = column_width(arr, "drive_path", "DRIVE PATH");

	printf("%-*s  %-*s  %-*s  %-*s  %-4s  %-10s  %s\n", wid, "ID", wdr,
	    "DRIVE", wpa, "PATH", wdp, "DRIVE PATH", "MODE", "STATE", "ERROR");
	for (uint32_t i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *mi = &arr->via.array.ptr[i];
		const msgpack_object *ro = rpc_obj_get(mi, "read_only");
		const msgpack_object *err = rpc_obj_get(mi, "error");
		char id[130], drive[64], path[1025], dpath[1025], state[16];
		char emsg[512] = "-";

		if (err != NULL && err->type == MSGPACK_OBJECT_MAP) {
			char code[32], m[480];

			snprintf(emsg, sizeof(emsg), "%s: %s",
			    rpc_obj_str(rpc_obj_get(err, "code"), code,
			    sizeof(code)), rpc_obj_str(rpc_obj_get(err,
			    "message"), m, sizeof(m)));
		}
		printf("%-*s  %-*s  %-*s  %-*s  %-4s  %-10s  %s\n", wid,
		    mi_str(mi, "mount_session_id", id, sizeof(id)), wdr,
		    mi_str(mi, "drive", drive, sizeof(drive)), wpa,
		    mi_str(mi, "mount_path", path, sizeof(path)), wdp,
		    mi_str(mi, "drive_path", dpath, sizeof(dpath)),
		    ro != NULL && ro->type == MSGPACK_OBJECT_BOOLEAN &&
		    ro->via.boolean ? "ro" : "rw",
		    mi_str(mi, "state", state, sizeof(state)), emsg);
	}
}

static void
print_result(struct blctl *b, const msgpack_object *o, int table)
{
	if (b->json) {
		blctl_json_print(stdout, o);
		putchar('\n');
	} else if (table && o->type == MSGPACK_OBJECT_ARRAY)
		print_mount_table(o);
	else if (table && o->type == MSGPACK_OBJECT_MAP) {
		msgpack_object arr = { .type = MSGPACK_OBJECT_ARRAY };

		arr.via.array.size = 1;
		arr.via.array.ptr = (msgpack_object *)o;
		print_mount_table(&arr);
	}
}

static int
cmd_ping(struct blctl *b, int argc, char **argv)
{
	struct wire_msg r;
	uint64_t t0 = now_ms_mono();
	char version[64];
	const msgpack_object *up;

	if (argc != 1)
		return usage_fail("ping takes no arguments");
	if (blctl_connect(b, 1) == -1 || blctl_call(b, "Ping", NULL, NULL,
	    &r) == -1)
		return BLCTL_EXIT_ERROR;
	if (b->json) {
		print_result(b, &r.result, 0);
		return BLCTL_EXIT_OK;
	}
	up = rpc_obj_get(&r.result, "uptime_ms");
	printf("blagent %s, up %" PRIu64 " ms, answered in %" PRIu64 " ms\n",
	    rpc_obj_str(rpc_obj_get(&r.result, "version"), version,
	    sizeof(version)), up != NULL && up->type ==
	    MSGPACK_OBJECT_POSITIVE_INTEGER ? up->via.u64 : 0,
	    now_ms_mono() - t0);
	return BLCTL_EXIT_OK;
}

static int
cmd_status(struct blctl *b, int argc, char **argv)
{
	struct kvs k = { 0 };
	struct wire_msg r;

	if (argc > 2)
		return usage_fail("status takes at most one ID or PATH");
	if (argc == 2) {
		struct kv *e = kv_add(&k, argv[1][0] == '/' ? "mount_path" :
		    "mount_session_id");

		e->type = KV_STR;
		e->s = argv[1];
	}
	if (blctl_connect(b, 1) == -1 || blctl_call(b, "MountStatus",
	    pack_kvs, &k, &r) == -1)
		return BLCTL_EXIT_ERROR;
	print_result(b, &r.result, 1);
	return BLCTL_EXIT_OK;
}

static int
all_mounted(const msgpack_object *arr)
{
	char state[16];

	if (arr->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (uint32_t i = 0; i < arr->via.array.size; i++)
		if (strcmp(mi_str(&arr->via.array.ptr[i], "state", state,
		    sizeof(state)), "mounted") != 0)
			return 0;
	return 1;
}

static int
parse_timeout(const char *s, uint64_t *ms)
{
	return parse_duration_ms(s, ms);
}

static int
cmd_wait(struct blctl *b, int argc, char **argv)
{
	struct kvs k = { 0 };
	struct wire_msg r;
	uint64_t timeout;
	int i = 1;
	struct kv *e;

	if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
		if (parse_timeout(argv[2], &timeout) == -1)
			return usage_fail("wait --timeout: %s is not a "
			    "duration (like 500ms, 10s, 2m)", argv[2]);
		e = kv_add(&k, "timeout_ms");
		e->type = KV_UINT;
		e->u = timeout;
		i = 3;
	}
	if (i < argc) {
		e = kv_add(&k, "mount_session_ids");
		e->type = KV_STRS;
		e->strs = argv + i;
		e->nstrs = argc - i;
	}
	if (blctl_connect(b, 1) == -1 || blctl_call(b, "WaitMounts",
	    pack_kvs, &k, &r) == -1)
		return BLCTL_EXIT_ERROR;
	print_result(b, &r.result, 1);
	/* Settled is not enough for scripts: say whether all are mounted. */
	return all_mounted(&r.result) ? BLCTL_EXIT_OK : BLCTL_EXIT_ERROR;
}

static int
cmd_watch(struct blctl *b, int argc, char **argv)
{
	struct wire_msg r;
	char *cause = NULL;

	if (argc != 1)
		return usage_fail("watch takes no arguments");
	if (blctl_connect(b, 1) == -1 || blctl_call(b, "Subscribe", NULL,
	    NULL, &r) == -1)
		return BLCTL_EXIT_ERROR;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		const msgpack_object *mi;
		char id[64], path[1024], state[16], drive[64];

		if (rpc_client_read(b->cl, &r, -1, &cause) == -1) {
			fprintf(stderr, "blctl: watch: %s\n", cause);
			free(cause);
			return BLCTL_EXIT_ERROR;
		}
		if (r.kind != WIRE_NOTIFICATION ||
		    r.params.type != MSGPACK_OBJECT_ARRAY ||
		    r.params.via.array.size != 1)
			continue;
		mi = &r.params.via.array.ptr[0];
		if (b->json) {
			blctl_json_print(stdout, mi);
			putchar('\n');
			continue;
		}
		printf("%s %s %s %s\n", mi_str(mi, "mount_session_id", id,
		    sizeof(id)), mi_str(mi, "state", state, sizeof(state)),
		    mi_str(mi, "drive", drive, sizeof(drive)),
		    mi_str(mi, "mount_path", path, sizeof(path)));
	}
}

static int
size_opt(const char *opt, const char *v, uint64_t *out)
{
	if (parse_u64(v, UINT64_MAX, out) == -1) {
		usage_fail("%s: %s is not a number of bytes", opt, v);
		return -1;
	}
	return 0;
}

static int
cmd_mount(struct blctl *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "drive-path", required_argument, NULL, 'd' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cache-size", required_argument, NULL, 'c' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "writeback", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	struct kvs k = { 0 }, o = { 0 };
	struct wire_msg r;
	struct kv *e;
	uint64_t v;
	int ch, wait = 0;

	/* 0 re-initialises GNU getopt, which lets options follow DRIVE PATH. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			e = kv_add(&k, "drive_path");
			e->type = KV_STR;
			e->s = optarg;
			break;
		case 'r':
			e = kv_add(&k, "read_only");
			e->type = KV_BOOL;
			e->b = 1;
			break;
		case 'w':
			wait = 1;
			break;
		case 't':
			if (parse_timeout(optarg, &v) == -1)
				return usage_fail("mount --timeout: %s is not "
				    "a duration (like 500ms, 10s)", optarg);
			e = kv_add(&k, "timeout_ms");
			e->type = KV_UINT;
			e->u = v;
			break;
		case 'c': case 'b': case 'p':
			if (size_opt(argv[optind - 1], optarg, &v) == -1)
				return BLCTL_EXIT_USAGE;
			e = kv_add(&o, ch == 'c' ? "cache_size" : ch == 'b' ?
			    "buffer_size" : "prefetch");
			e->type = KV_UINT;
			e->u = v;
			break;
		case 'W':
			e = kv_add(&o, "writeback");
			e->type = KV_BOOL;
			e->b = 1;
			break;
		default:
			return usage_fail("mount: unknown or incomplete "
			    "option %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_fail("mount needs DRIVE and PATH");
	e = kv_add(&k, "drive");
	e->type = KV_STR;
	e->s = argv[optind];
	e = kv_add(&k, "mount_path");
	e->type = KV_STR;
	e->s = argv[optind + 1];
	e = kv_add(&k, "wait");
	e->type = KV_BOOL;
	e->b = wait;
	if (o.n > 0) {
		e = kv_add(&k, "options");
		e->type = KV_MAP;
		e->map = &o;
	}
	if (blctl_connect(b, 0) == -1 || blctl_call(b, "Mount", pack_kvs, &k,
	    &r) == -1)
		return BLCTL_EXIT_ERROR;
	print_result(b, &r.result, 1);
	return BLCTL_EXIT_OK;
}

static int
cmd_unmount(struct blctl *b, int argc, char **argv)
{
	struct kvs k = { 0 };
	struct wire_msg r;
	struct kv *e;
	const char *target = NULL;
	int force = 0, wait = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--no-wait") == 0)
			wait = 0;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return usage_fail("unmount: unknown option %s",
			    argv[i]);
		else if (target == NULL)
			target = argv[i];
		else
			return usage_fail("unmount takes one ID or PATH");
	}
	if (target == NULL)
		return usage_fail("unmount needs an ID or a PATH");
	e = kv_add(&k, target[0] == '/' ? "mount_path" : "mount_session_id");
	e->type = KV_STR;
	e->s = target;
	e = kv_add(&k, "force");
	e->type = KV_BOOL;
	e->b = force;
	e = kv_add(&k, "wait");
	e->type = KV_BOOL;
	e->b = wait;
	if (blctl_connect(b, 0) == -1 || blctl_call(b, "Unmount", pack_kvs,
	    &k, &r) == -1)
		return BLCTL_EXIT_ERROR;
	print_result(b, &r.result, 1);
	return BLCTL_EXIT_OK;
}

static const struct {
	const char	*name;
	int		(*fn)(struct blctl *, int, char **);
} blctl_cmds[] = {
	{ "ping", cmd_ping },
	{ "status", cmd_status },
	{ "wait", cmd_wait },
	{ "watch", cmd_watch },
	{ "mount", cmd_mount },
	{ "unmount", cmd_unmount },
	{ "stats", blctl_cmd_stats },
	{ "metrics", blctl_cmd_metrics },
};

int
blctl_rpc_main(int argc, char **argv)
{
	struct blctl b = { .socket = BLCTL_CONTROL };
	int i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0) {
			if (++i == argc)
				return usage_fail("--socket needs a path");
			b.socket = argv[i];
			b.socket_given = 1;
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			b.socket = argv[i] + 9;
			b.socket_given = 1;
		} else if (strcmp(argv[i], "--json") == 0)
			b.json = 1;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			rpc_usage(0);
		else if (strcmp(argv[i], "--version") == 0) {
			printf("blctl %s\n", PACKAGE_VERSION);
			return BLCTL_EXIT_OK;
		} else
			break;
	}
	if (i == argc)
		return usage_fail("no command given");
	if (strcmp(argv[i], "drive") == 0)
		return blctl_drive_main(argc - i, argv + i, b.json);
	for (size_t c = 0; c < nitems(blctl_cmds); c++) {
		if (strcmp(argv[i], blctl_cmds[c].name) != 0)
			continue;
		r = blctl_cmds[c].fn(&b, argc - i, argv + i);
		rpc_client_free(b.cl);
		return r;
	}
	return usage_fail("unknown command %s", argv[i]);
}
