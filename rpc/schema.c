/* Validation of named arguments against a method's declaration. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "rpc/schema.h"

#define SCHEMA_STR_MAX		4096
#define SCHEMA_ARRAY_MAX	1024

static const char *
schema_type_name(msgpack_object_type t)
{
	switch (t) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return "an unsigned integer";
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "a negative integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "a float";
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	case MSGPACK_OBJECT_BIN:
		return "binary data";
	case MSGPACK_OBJECT_EXT:
		return "an extension";
	}
	return "unknown";
}

static const char *
schema_ptype_name(enum rpc_ptype t)
{
	switch (t) {
	case RPC_P_STR:
		return "a string";
	case RPC_P_BOOL:
		return "a boolean";
	case RPC_P_UINT:
		return "an unsigned integer";
	case RPC_P_STR_ARRAY:
		return "an array of strings";
	case RPC_P_MAP:
		return "a map";
	}
	return "unknown";
}

static size_t
schema_count(const struct rpc_param *decl)
{
	size_t n = 0;

	while (decl[n].name != NULL)
		n++;
	return n;
}

static struct rpc_args *
schema_args_new(const struct rpc_param *decl)
{
	size_t n = schema_count(decl);
	struct rpc_args *a;

	a = xcalloc(1, sizeof(*a) + n * sizeof(a->v[0]));
	a->decl = decl;
	a->n = n;
	return a;
}

/* A string argument: bounded, and free of NUL bytes that would cut it short. */
static int
schema_str(const msgpack_object *o, size_t max, char **out)
{
	if (o->via.str.size > max || memchr(o->via.str.ptr, '\0',
	    o->via.str.size) != NULL)
		return -1;
	*out = xstrndup(o->via.str.ptr, o->via.str.size);
	return 0;
}

static void
schema_defaults(struct rpc_args *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct rpc_param *p = &a->decl[i];
		struct rpc_value *v = &a->v[i];

		if (v->present)
			continue;
		switch (p->type) {
		case RPC_P_STR:
			v->str = p->def_str ? xstrdup(p->def_str) : NULL;
			break;
		case RPC_P_UINT:
			v->u = p->def_uint;
			break;
		case RPC_P_BOOL:
			v->b = p->def_bool;
			break;
		case RPC_P_MAP:
			/* An absent map still yields its members' defaults. */
			v->map = schema_args_new(p->sub);
			schema_defaults(v->map);
			break;
		case RPC_P_STR_ARRAY:
			break;
		}
	}
}

static int schema_map(const struct rpc_param *, const msgpack_object *,
    const char *, struct rpc_args **, char **);

static int
schema_value(const struct rpc_param *p, const msgpack_object *o,
    const char *prefix, struct rpc_value *v, char **cause)
{
	uint64_t max = p->max;

	switch (p->type) {
	case RPC_P_STR:
		if (o->type != MSGPACK_OBJECT_STR)
			break;
		if (schema_str(o, max ? max : SCHEMA_STR_MAX, &v->str) == -1) {
			xasprintf(cause, "\"%s%s\" must be at most %zu bytes "
			    "with no NUL byte", prefix, p->name,
			    (size_t)(max ? max : SCHEMA_STR_MAX));
			return -1;
		}
		return 0;
	case RPC_P_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			break;
		v->b = o->via.boolean;
		return 0;
	case RPC_P_UINT:
		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			break;
		if (max != 0 && o->via.u64 > max) {
			xasprintf(cause, "\"%s%s\" must be at most %llu, got %llu",
			    prefix, p->name, (unsigned long long)max,
			    (unsigned long long)o->via.u64);
			return -1;
		}
		v->u = o->via.u64;
		return 0;
	case RPC_P_STR_ARRAY: {
		size_t most = max ? max : SCHEMA_ARRAY_MAX;

		if (o->type != MSGPACK_OBJECT_ARRAY)
			break;
		if (o->via.array.size > most) {
			xasprintf(cause, "\"%s%s\" may hold at most %zu entries",
			    prefix, p->name, most);
			return -1;
		}
		v->strs = xcalloc(o->via.array.size + 1, sizeof(char *));
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			const msgpack_object *e = &o->via.array.ptr[i];

			if (e->type != MSGPACK_OBJECT_STR ||
			    schema_str(e, SCHEMA_STR_MAX, &v->strs[i]) == -1) {
				xasprintf(cause, "\"%s%s\" entry %u must be a "
				    "string of at most %d bytes", prefix,
				    p->name, i, SCHEMA_STR_MAX);
				return -1;
			}
			v->nstrs++;
		}
		return 0;
	}
	case RPC_P_MAP: {
		char *sub;
		int r;

		if (o->type != MSGPACK_OBJECT_MAP)
			break;
		xasprintf(&sub, "%s%s.", prefix, p->name);
		r = schema_map(p->sub, o, sub, &v->map, cause);
		free(sub);
		return r;
	}
	}
	xasprintf(cause, "\"%s%s\" must be %s, got %s", prefix, p->name,
	    schema_ptype_name(p->type), schema_type_name(o->type));
	return -1;
}

static int
schema_map(const struct rpc_param *decl, const msgpack_object *map,
    const char *prefix, struct rpc_args **out, char **cause)
{
	struct rpc_args *a = schema_args_new(decl);

	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];
		const msgpack_object *k = &kv->key;
		size_t j;

		if (k->type != MSGPACK_OBJECT_STR) {
			xasprintf(cause, "argument names must be strings, "
			    "got %s", schema_type_name(k->type));
			goto fail;
		}
		for (j = 0; j < a->n; j++)
			if (strlen(decl[j].name) == k->via.str.size &&
			    memcmp(decl[j].name, k->via.str.ptr,
			    k->via.str.size) == 0)
				break;
		if (j == a->n) {
			char name[64];
			size_t len = k->via.str.size < sizeof(name) - 1 ?
			    k->via.str.size : sizeof(name) - 1;

			memcpy(name, k->via.str.ptr, len);
			name[len] = '\0';
			xasprintf(cause, "unknown argument \"%s%s\"", prefix,
			    name);
			goto fail;
		}
		if (a->v[j].present) {
			xasprintf(cause, "argument \"%s%s\" given twice",
			    prefix, decl[j].name);
			goto fail;
		}
		/* nil means "not given" so clients may send defaults as nil. */
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		if (schema_value(&decl[j], &kv->val, prefix, &a->v[j],
		    cause) == -1)
			goto fail;
		a->v[j].present = 1;
	}
	for (size_t j = 0; j < a->n; j++) {
		if (decl[j].required && !a->v[j].present) {
			xasprintf(cause, "missing required argument \"%s%s\"",
			    prefix, decl[j].name);
			goto fail;
		}
	}
	schema_defaults(a);
	*out = a;
	return 0;
fail:
	rpc_args_free(a);
	return -1;
}

int
rpc_args_parse(const struct rpc_param *decl, const msgpack_object *params,
    struct rpc_args **out, char **cause)
{
	static const msgpack_object empty = { .type = MSGPACK_OBJECT_MAP };
	const msgpack_object *map = &empty;

	*out = NULL;
	if (params->type != MSGPACK_OBJECT_ARRAY || params->via.array.size > 1) {
		xasprintf(cause, "params must be an array holding one map "
		    "of named arguments, or empty");
		return -1;
	}
	if (params->via.array.size == 1) {
		map = &params->via.array.ptr[0];
		if (map->type == MSGPACK_OBJECT_NIL)
			map = &empty;
		else if (map->type != MSGPACK_OBJECT_MAP) {
			xasprintf(cause, "params must hold a map of named "
			    "arguments, got %s", schema_type_name(map->type));
			return -1;
		}
	}
	return schema_map(decl, map, "", out, cause);
}

void
rpc_args_free(struct rpc_args *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		struct rpc_value *v = &a->v[i];

		free(v->str);
		for (size_t j = 0; j < v->nstrs; j++)
			free(v->strs[j]);
		free(v->strs);
		rpc_args_free(v->map);
	}
	free(a);
}

static const struct rpc_value *
schema_find(const struct rpc_args *a, const char *name, enum rpc_ptype t)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->decl[i].name, name) == 0 && a->decl[i].type == t)
			return &a->v[i];
	fatalx("argument %s of that type is not declared", name);
}

int
rpc_args_has(const struct rpc_args *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->decl[i].name, name) == 0)
			return a->v[i].present;
	fatalx("argument %s is not declared", name);
}

const char *
rpc_args_str(const struct rpc_args *a, const char *name)
{
	return schema_find(a, name, RPC_P_STR)->str;
}

uint64_t
rpc_args_uint(const struct rpc_args *a, const char *name)
{
	return schema_find(a, name, RPC_P_UINT)->u;
}

int
rpc_args_bool(const struct rpc_args *a, const char *name)
{
	return schema_find(a, name, RPC_P_BOOL)->b;
}

const struct rpc_args *
rpc_args_map(const struct rpc_args *a, const char *name)
{
	return schema_find(a, name, RPC_P_MAP)->map;
}

char *const *
rpc_args_strs(const struct rpc_args *a, const char *name, size_t *n)
{
	const struct rpc_value *v = schema_find(a, name, RPC_P_STR_ARRAY);

	*n = v->nstrs;
	return v->strs;
}
