/*
 * Test helper: msgpack bytes from JSON text, so a test reads as the message
 * it sends ("[0, 1, \"Ping\", []]") rather than a page of packer calls.
 * JSON null, booleans, integers, reals, strings (NUL allowed), arrays and
 * objects map onto nil, bool, int, float64, str, array and map.
 */
#ifndef BL_TESTS_RPC_MP_H
#define BL_TESTS_RPC_MP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

static void
mp_pack_json(msgpack_packer *pk, const json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_STRING:
		msgpack_pack_str(pk, json_string_length(j));
		msgpack_pack_str_body(pk, json_string_value(j),
		    json_string_length(j));
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
			mp_pack_json(pk, v);
		break;
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)j, key, v) {
			msgpack_pack_str(pk, strlen(key));
			msgpack_pack_str_body(pk, key, strlen(key));
			mp_pack_json(pk, v);
		}
		break;
	}
}

/* Appends the msgpack form of json to sb; aborts on a typo in the test. */
static void __attribute__((unused))
mp_json(msgpack_sbuffer *sb, const char *json)
{
	msgpack_packer pk;
	json_error_t err;
	json_t *j;

	j = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	    JSON_PRESERVE_ORDER, &err);
	if (j == NULL) {
		fprintf(stderr, "bad JSON in test: %s: %s\n", json, err.text);
		abort();
	}
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	mp_pack_json(&pk, j);
	json_decref(j);
}

/* Decodes sb into u (which the caller destroys); aborts if it cannot. */
static const msgpack_object * __attribute__((unused))
mp_unpack(msgpack_unpacked *u, const msgpack_sbuffer *sb)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	if (msgpack_unpack_next(u, sb->data, sb->size, &off) !=
	    MSGPACK_UNPACK_SUCCESS) {
		fprintf(stderr, "test bytes do not decode\n");
		abort();
	}
	return &u->data;
}

#endif
