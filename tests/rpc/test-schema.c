/*
 * Unit tests of declared-parameter validation (rpc/schema.c): every
 * refusal names the field and says what was wrong; defaults fill what
 * was not given, nested maps included.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/schema.h"
#include "tests/tap.h"
#include "tests/rpc/mp.h"

/* Shaped like Mount's declaration, with a default in the nested map. */
static const struct rpc_param opts_decl[] = {
	{ .name = "cache_size", .type = RPC_P_UINT, .def_uint = 7,
	    .max = 1ULL << 40 },
	{ .name = "writeback", .type = RPC_P_BOOL, .def_bool = 1 },
	{ .name = "label", .type = RPC_P_STR, .def_str = "none" },
	{ .name = NULL },
};

static const struct rpc_param decl[] = {
	{ .name = "drive", .type = RPC_P_STR, .required = 1, .max = 63 },
	{ .name = "mount_path", .type = RPC_P_STR, .required = 1 },
	{ .name = "drive_path", .type = RPC_P_STR, .def_str = "/" },
	{ .name = "read_only", .type = RPC_P_BOOL },
	{ .name = "options", .type = RPC_P_MAP, .sub = opts_decl },
	{ .name = "timeout_ms", .type = RPC_P_UINT, .def_uint = 30000,
	    .max = 86400000 },
	{ .name = "ids", .type = RPC_P_STR_ARRAY, .max = 3 },
	{ .name = NULL },
};

static const struct rpc_param empty_decl[] = {
	{ .name = NULL },
};

/* Parses params given as JSON; returns 0/-1, *cause on failure. */
static int
parse(const struct rpc_param *d, const char *json, struct rpc_args **a,
    char **cause)
{
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	int r;

	*cause = NULL;
	msgpack_sbuffer_init(&sb);
	mp_json(&sb, json);
	r = rpc_args_parse(d, mp_unpack(&u, &sb), a, cause);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* Refused, with a message holding every one of the words given. */
static void
refuses(const struct rpc_param *d, const char *json, const char *what,
    const char *w1, const char *w2, const char *w3)
{
	struct rpc_args *a;
	char *cause;
	int r = parse(d, json, &a, &cause);
	int named = cause != NULL && strstr(cause, w1) != NULL &&
	    (w2 == NULL || strstr(cause, w2) != NULL) &&
	    (w3 == NULL || strstr(cause, w3) != NULL);

	tap_ok(r == -1 && a == NULL && named, "%s: %s is refused naming "
	    "\"%s\"%s%s%s%s (got %d: %s)", what, json, w1, w2 ? ", \"" : "",
	    w2 ? w2 : "", w3 ? "\", \"" : "", w3 ? w3 : "", r,
	    cause ? cause : "(no message)");
	free(cause);
	rpc_args_free(a);
}

static struct rpc_args *
accepts(const struct rpc_param *d, const char *json, const char *what)
{
	struct rpc_args *a;
	char *cause;
	int r = parse(d, json, &a, &cause);

	tap_ok(r == 0 && a != NULL, "%s: %s is accepted (got %d: %s)", what,
	    json, r, cause ? cause : "");
	free(cause);
	return r == 0 ? a : NULL;
}

#define MIN "\"drive\": \"d1\", \"mount_path\": \"/mnt/x\""

static void
test_defaults(void)
{
	struct rpc_args *a;
	const struct rpc_args *o;
	size_t n;

	if ((a = accepts(decl, "[{" MIN "}]", "required only")) == NULL)
		return;
	tap_is_str(rpc_args_str(a, "drive"), "d1", "a given string is kept");
	tap_is_str(rpc_args_str(a, "drive_path"), "/",
	    "an absent string takes its default");
	tap_is_int(rpc_args_uint(a, "timeout_ms"), 30000,
	    "an absent uint takes its default");
	tap_is_int(rpc_args_bool(a, "read_only"), 0,
	    "an absent bool without a default is false");
	tap_is_int(rpc_args_has(a, "read_only"), 0,
	    "an absent argument is not reported as given");
	tap_is_int(rpc_args_has(a, "drive"), 1,
	    "a given argument is reported as given");
	o = rpc_args_map(a, "options");
	tap_ok(o != NULL, "an absent nested map still yields a map");
	if (o != NULL) {
		tap_is_int(rpc_args_uint(o, "cache_size"), 7,
		    "an absent nested map yields its members' uint default");
		tap_is_int(rpc_args_bool(o, "writeback"), 1,
		    "an absent nested map yields its members' bool default");
		tap_is_str(rpc_args_str(o, "label"), "none",
		    "an absent nested map yields its members' string default");
	}
	rpc_args_strs(a, "ids", &n);
	tap_is_int((long long)n, 0, "an absent string array is empty");
	rpc_args_free(a);

	a = accepts(decl, "[{" MIN ", \"options\": {\"cache_size\": 9}}]",
	    "a partial nested map");
	if (a != NULL) {
		o = rpc_args_map(a, "options");
		tap_is_int(rpc_args_uint(o, "cache_size"), 9,
		    "a given nested member is kept");
		tap_is_int(rpc_args_bool(o, "writeback"), 1,
		    "the other members of a given nested map take defaults");
		tap_is_str(rpc_args_str(o, "label"), "none",
		    "a nested string default fills a given map");
		rpc_args_free(a);
	}

	a = accepts(decl, "[{" MIN ", \"read_only\": true, \"timeout_ms\": "
	    "86400000, \"ids\": [\"a\", \"b\", \"c\"], \"drive_path\": "
	    "\"/sub\"}]", "every type given");
	if (a != NULL) {
		char *const *ids = rpc_args_strs(a, "ids", &n);

		tap_ok(rpc_args_bool(a, "read_only") == 1 &&
		    rpc_args_uint(a, "timeout_ms") == 86400000 && n == 3 &&
		    strcmp(ids[0], "a") == 0 && strcmp(ids[2], "c") == 0 &&
		    ids[3] == NULL && strcmp(rpc_args_str(a, "drive_path"),
		    "/sub") == 0, "given values of every type are returned, "
		    "the string array NULL-terminated");
		rpc_args_free(a);
	}
}

static void
test_nil_is_absent(void)
{
	struct rpc_args *a;

	a = accepts(decl, "[{" MIN ", \"read_only\": null, \"drive_path\": "
	    "null, \"options\": null, \"timeout_ms\": null}]",
	    "optional arguments given as nil");
	if (a != NULL) {
		tap_ok(!rpc_args_has(a, "read_only") &&
		    strcmp(rpc_args_str(a, "drive_path"), "/") == 0 &&
		    rpc_args_uint(a, "timeout_ms") == 30000 &&
		    rpc_args_uint(rpc_args_map(a, "options"), "cache_size") ==
		    7, "nil arguments are treated as absent and take their "
		    "defaults");
		rpc_args_free(a);
	}
	refuses(decl, "[{\"drive\": null, \"mount_path\": \"/m\"}]",
	    "a required argument given as nil", "missing required",
	    "\"drive\"", NULL);
	a = accepts(empty_decl, "[null]", "params holding nil");
	rpc_args_free(a);
	a = accepts(empty_decl, "[]", "empty params");
	rpc_args_free(a);
	a = accepts(empty_decl, "[{}]", "params holding an empty map");
	rpc_args_free(a);
}

static void
test_refusals(void)
{
	char *big, *json;

	refuses(decl, "[{" MIN ", \"readonly\": true}]",
	    "a misspelt read_only", "unknown argument", "\"readonly\"", NULL);
	refuses(decl, "[{" MIN ", \"options\": {\"cache\": 1}}]",
	    "an unknown nested key", "unknown argument", "\"options.cache\"",
	    NULL);
	refuses(empty_decl, "[{\"x\": 1}]", "any key for a method without "
	    "arguments", "unknown argument", "\"x\"", NULL);
	refuses(decl, "[{" MIN ", \"read_only\": \"yes\"}]", "a string for a "
	    "bool", "\"read_only\"", "must be a boolean", "got a string");
	refuses(decl, "[{" MIN ", \"read_only\": 1}]", "an integer for a bool",
	    "\"read_only\"", "a boolean", "got an unsigned integer");
	refuses(decl, "[{" MIN ", \"timeout_ms\": -1}]", "a negative uint",
	    "\"timeout_ms\"", "an unsigned integer", "got a negative integer");
	refuses(decl, "[{" MIN ", \"timeout_ms\": 1.5}]", "a float for a uint",
	    "\"timeout_ms\"", "an unsigned integer", "got a float");
	refuses(decl, "[{\"drive\": 5, \"mount_path\": \"/m\"}]", "an "
	    "integer for a string", "\"drive\"", "must be a string",
	    "got an unsigned integer");
	refuses(decl, "[{" MIN ", \"options\": [1]}]", "an array for a map",
	    "\"options\"", "must be a map", "got an array");
	refuses(decl, "[{" MIN ", \"options\": {\"writeback\": \"no\"}}]",
	    "a wrong type inside a nested map", "\"options.writeback\"",
	    "a boolean", "got a string");
	refuses(decl, "[{" MIN ", \"ids\": \"a\"}]", "a string for a string "
	    "array", "\"ids\"", "an array of strings", "got a string");
	refuses(decl, "[{" MIN ", \"ids\": [\"a\", 2]}]", "a non-string entry",
	    "\"ids\"", "entry 1", NULL);
	refuses(decl, "[{\"mount_path\": \"/m\"}]", "a missing required "
	    "argument", "missing required", "\"drive\"", NULL);
	refuses(decl, "[{\"drive\": \"d\"}]", "another missing required "
	    "argument", "missing required", "\"mount_path\"", NULL);
	refuses(decl, "[]", "empty params for a method with required "
	    "arguments", "missing required", "\"drive\"", NULL);
	refuses(decl, "[{\"drive\": \"d\\u0000x\", \"mount_path\": \"/m\"}]",
	    "a string with a NUL byte", "\"drive\"", "no NUL byte", NULL);
	refuses(decl, "[{" MIN ", \"ids\": [\"a\\u0000\"]}]", "a string array "
	    "entry with a NUL byte", "\"ids\"", "entry 0", NULL);
	refuses(decl, "[{\"drive\": \"" "0123456789012345678901234567890123"
	    "456789012345678901234567890123" "\", \"mount_path\": \"/m\"}]",
	    "a string over its max (64 bytes, max 63)", "\"drive\"",
	    "at most 63 bytes", NULL);
	refuses(decl, "[{" MIN ", \"timeout_ms\": 86400001}]", "a uint over its "
	    "max", "\"timeout_ms\"", "at most 86400000", "got 86400001");
	refuses(decl, "[{" MIN ", \"options\": {\"cache_size\": "
	    "1099511627777}}]", "a nested uint over its max",
	    "\"options.cache_size\"", "at most 1099511627776", NULL);
	refuses(decl, "[{" MIN ", \"ids\": [\"a\", \"b\", \"c\", \"d\"]}]",
	    "a string array over its max entries", "\"ids\"",
	    "at most 3 entries", NULL);

	/* A string with no declared max gets the 4096-byte default. */
	big = malloc(4098);
	memset(big, 'p', 4097);
	big[4097] = '\0';
	if (asprintf(&json, "[{\"drive\": \"d\", \"mount_path\": \"%s\"}]",
	    big) == -1)
		abort();
	refuses(decl, json, "a 4097-byte string without a declared max",
	    "\"mount_path\"", "at most 4096 bytes", NULL);
	free(json);
	big[4096] = '\0';
	if (asprintf(&json, "[{\"drive\": \"d\", \"mount_path\": \"%s\"}]",
	    big) == -1)
		abort();
	rpc_args_free(accepts(decl, json, "a 4096-byte string"));
	free(json);
	free(big);

	refuses(decl, "{\"drive\": \"d\"}", "params as a bare map",
	    "params must be an array", NULL, NULL);
	refuses(decl, "\"x\"", "params as a string", "params must be an array",
	    NULL, NULL);
	refuses(decl, "[{" MIN "}, {}]", "params of two elements",
	    "params must be an array holding one map", NULL, NULL);
	refuses(decl, "[\"d1\", \"/mnt/x\"]", "positional params",
	    "params must be an array holding one map", NULL, NULL);
	refuses(decl, "[\"d1\"]", "params holding a string",
	    "must hold a map of named arguments", "got a string", NULL);
	refuses(decl, "[[1]]", "params holding an array",
	    "must hold a map of named arguments", "got an array", NULL);
	refuses(decl, "[7]", "params holding an integer",
	    "must hold a map of named arguments", "got an unsigned integer",
	    NULL);

	/* A long unknown key is named, cut short, never overflowing. */
	big = malloc(300);
	memset(big, 'k', 299);
	big[299] = '\0';
	if (asprintf(&json, "[{\"%s\": 1}]", big) == -1)
		abort();
	refuses(decl, json, "a 299-byte unknown key", "unknown argument",
	    "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", NULL);
	free(json);
	free(big);
}

/* Shapes JSON cannot write: non-string keys, duplicate keys. */
static void
test_packed_shapes(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct rpc_args *a;
	char *cause = NULL;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_true(&pk);
	r = rpc_args_parse(decl, mp_unpack(&u, &sb), &a, &cause);
	tap_ok(r == -1 && cause != NULL && strstr(cause, "argument names must "
	    "be strings") && strstr(cause, "got an unsigned integer"),
	    "an integer key is refused saying names must be strings (got "
	    "%d: %s)", r, cause ? cause : "");
	free(cause);
	cause = NULL;
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(&sb);

	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "drive", 5);
	msgpack_pack_str_with_body(&pk, "a", 1);
	msgpack_pack_str_with_body(&pk, "mount_path", 10);
	msgpack_pack_str_with_body(&pk, "/m", 2);
	msgpack_pack_str_with_body(&pk, "drive", 5);
	msgpack_pack_str_with_body(&pk, "b", 1);
	r = rpc_args_parse(decl, mp_unpack(&u, &sb), &a, &cause);
	tap_ok(r == -1 && cause != NULL && strstr(cause, "\"drive\"") &&
	    strstr(cause, "given twice"), "a key given twice is refused "
	    "naming it (got %d: %s)", r, cause ? cause : "");
	free(cause);
	cause = NULL;
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(&sb);

	/* A key with a NUL inside never matches a declared name. */
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "drive\0x", 7);
	msgpack_pack_str_with_body(&pk, "a", 1);
	r = rpc_args_parse(decl, mp_unpack(&u, &sb), &a, &cause);
	tap_ok(r == -1 && cause != NULL && strstr(cause, "unknown argument"),
	    "a key \"drive\\0x\" is not taken for \"drive\" (got %d: %s)", r,
	    cause ? cause : "");
	free(cause);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

int
main(void)
{
	test_defaults();
	test_nil_is_absent();
	test_refusals();
	test_packed_shapes();
	return tap_done();
}
