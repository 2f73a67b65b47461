/*
 * A drive's description: the checks every field must pass, and drive.json
 * read strictly (a hand-edited file gets a clear refusal, never a guess).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/labels.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"

#define DRIVE_CREATED_AT_MAX	64

static const char *drive_keys[] = {
	"name", "display_name", "labels", "permissions", "access_mode",
	"capacity_bytes", "kind", "size_bytes", "created_at",
};

static const char *const drive_kind_names[] = {
	[DRIVE_KIND_DRIVE] = "drive",
	[DRIVE_KIND_VOLUME] = "volume",
};

static const char *const drive_access_names[] = {
	[DRIVE_ACCESS_RWX] = "RWX",
	[DRIVE_ACCESS_RWO] = "RWO",
	[DRIVE_ACCESS_ROX] = "ROX",
};

struct drive *
drive_new(void)
{
	return xcalloc(1, sizeof(struct drive));
}

void
drive_free(struct drive *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->display_name);
	labels_clear(&d->labels);
	perm_rules_clear(&d->perms);
	free(d->created_at);
	free(d);
}

/* Well-formed UTF-8: no overlong forms, surrogates, or past U+10FFFF. */
static int
drive_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char	c = s[i];
		size_t		n;
		unsigned int	cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* 1 when s holds a byte below 0x20 or 0x7f. */
static int
drive_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A bounded, printable rendering of untrusted text for messages. */
static char *
drive_quote(const char *s)
{
	size_t	 len = strnlen(s, 64), o = 0;
	char	*q = xmalloc(len * 4 + 8);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)sprintf(q + o, "\\x%02x", c);
		else
			q[o++] = (char)c;
	}
	if (s[len] != '\0') {
		memcpy(q + o, "...", 3);
		o += 3;
	}
	q[o] = '\0';
	return q;
}

int
drive_name_check(const char *name, char **cause)
{
	size_t	 len;
	char	*q;

	if (name == NULL || *name == '\0') {
		cause_set(cause, "drive name is empty");
		return -1;
	}
	len = strnlen(name, DRIVE_NAME_MAX + 1);
	q = drive_quote(name);
	if (len > DRIVE_NAME_MAX) {
		cause_set(cause, "drive name \"%s\" is longer than %d "
		    "characters", q, DRIVE_NAME_MAX);
		goto fail;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-')) {
			cause_set(cause, "drive name \"%s\" must be a DNS label: "
			    "only a-z, 0-9 and '-' (character %zu is not)", q,
			    i + 1);
			goto fail;
		}
	}
	if (name[0] == '-' || name[len - 1] == '-') {
		cause_set(cause, "drive name \"%s\" must be a DNS label: it "
		    "may not start or end with '-'", q);
		goto fail;
	}
	free(q);
	return 0;
fail:
	free(q);
	return -1;
}

int
drive_display_name_check(const char *s, char **cause)
{
	size_t len;

	if (s == NULL || *s == '\0') {
		cause_set(cause, "display_name is empty");
		return -1;
	}
	len = strnlen(s, DRIVE_DISPLAY_NAME_MAX + 1);
	if (len > DRIVE_DISPLAY_NAME_MAX) {
		cause_set(cause, "display_name is longer than %d bytes",
		    DRIVE_DISPLAY_NAME_MAX);
		return -1;
	}
	if (drive_has_control(s)) {
		cause_set(cause, "display_name contains a control character");
		return -1;
	}
	if (!drive_utf8_valid((const unsigned char *)s, len)) {
		cause_set(cause, "display_name is not valid UTF-8");
		return -1;
	}
	return 0;
}

int
drive_label_check(const char *key, const char *value, char **cause)
{
	size_t	 klen, vlen;
	char	*q;

	if (key == NULL || *key == '\0') {
		cause_set(cause, "label key is empty");
		return -1;
	}
	klen = strnlen(key, DRIVE_LABEL_KEY_MAX + 1);
	q = drive_quote(key);
	if (klen > DRIVE_LABEL_KEY_MAX) {
		cause_set(cause, "label key \"%s\" is longer than %d bytes", q,
		    DRIVE_LABEL_KEY_MAX);
		goto fail;
	}
	if (drive_has_control(key) || strpbrk(key, "=,:") != NULL) {
		cause_set(cause, "label key \"%s\" contains a control "
		    "character, '=', ',' or ':'", q);
		goto fail;
	}
	if (!drive_utf8_valid((const unsigned char *)key, klen)) {
		cause_set(cause, "label key \"%s\" is not valid UTF-8", q);
		goto fail;
	}
	if (value == NULL || *value == '\0') {
		cause_set(cause, "label \"%s\" has an empty value", q);
		goto fail;
	}
	vlen = strnlen(value, DRIVE_LABEL_VALUE_MAX + 1);
	if (vlen > DRIVE_LABEL_VALUE_MAX) {
		cause_set(cause, "label \"%s\" has a value longer than %d "
		    "bytes", q, DRIVE_LABEL_VALUE_MAX);
		goto fail;
	}
	if (drive_has_control(value)) {
		cause_set(cause, "label \"%s\" has a control character in its "
		    "value", q);
		goto fail;
	}
	if (!drive_utf8_valid((const unsigned char *)value, vlen)) {
		cause_set(cause, "label \"%s\" has a value that is not valid "
		    "UTF-8", q);
		goto fail;
	}
	free(q);
	return 0;
fail:
	free(q);
	return -1;
}

/* Exactly n digits at *p, advancing it. */
static int
drive_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
drive_created_at_check(const char *s, char **cause)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char	*p = s;
	int		 y, mo, d, h, mi, sec, oh, om;

	if (s == NULL || strnlen(s, DRIVE_CREATED_AT_MAX + 1) >
	    DRIVE_CREATED_AT_MAX)
		goto bad;
	if (drive_digits(&p, 4, &y) || *p++ != '-' ||
	    drive_digits(&p, 2, &mo) || *p++ != '-' ||
	    drive_digits(&p, 2, &d) || (*p != 'T' && *p != 't') ||
	    (p++, drive_digits(&p, 2, &h)) || *p++ != ':' ||
	    drive_digits(&p, 2, &mi) || *p++ != ':' ||
	    drive_digits(&p, 2, &sec))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		goto bad;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		p++;
		if (drive_digits(&p, 2, &oh) || *p++ != ':' ||
		    drive_digits(&p, 2, &om) || oh > 23 || om > 59)
			goto bad;
	} else
		goto bad;
	if (*p != '\0')
		goto bad;
	return 0;
bad:
	cause_set(cause, "created_at is not an RFC 3339 date-time "
	    "(like 2025-01-02T03:04:05.678Z)");
	return -1;
}

int
drive_access_parse(const char *s, int nocase, enum drive_access *out,
    char **cause)
{
	char *q;

	for (size_t i = 0; i < nitems(drive_access_names); i++) {
		if ((nocase ? strcasecmp(s, drive_access_names[i]) :
		    strcmp(s, drive_access_names[i])) == 0) {
			*out = (enum drive_access)i;
			return 0;
		}
	}
	q = drive_quote(s);
	if (nocase)
		cause_set(cause, "access mode \"%s\" is not one of rwx, rwo, "
		    "rox", q);
	else
		cause_set(cause, "\"%s\" is not one of \"RWX\", \"RWO\", "
		    "\"ROX\"", q);
	free(q);
	return -1;
}

const char *
drive_access_name(enum drive_access a)
{
	if ((size_t)a >= nitems(drive_access_names))
		return "?";
	return drive_access_names[a];
}

const char *
drive_access_words(enum drive_access a)
{
	switch (a) {
	case DRIVE_ACCESS_RWX:
		return "any number of mounts";
	case DRIVE_ACCESS_RWO:
		return "one mount at a time";
	case DRIVE_ACCESS_ROX:
		return "read-only mounts only";
	}
	return "?";
}

int
drive_kind_parse(const char *s, enum drive_kind *out, char **cause)
{
	for (size_t i = 0; i < nitems(drive_kind_names); i++) {
		if (strcmp(s, drive_kind_names[i]) == 0) {
			*out = (enum drive_kind)i;
			return 0;
		}
	}
	if (cause != NULL) {
		char *q = drive_quote(s);

		cause_set(cause, "kind \"%s\" is not drive or volume", q);
		free(q);
	}
	return -1;
}

const char *
drive_kind_name(enum drive_kind k)
{
	if ((size_t)k >= nitems(drive_kind_names))
		return "unknown";
	return drive_kind_names[k];
}

/* The fields a kind needs and the ones it refuses, together. */
static int
drive_kind_check(const struct drive *d, char **cause)
{
	switch (d->kind) {
	case DRIVE_KIND_DRIVE:
		if (d->size != 0) {
			cause_set(cause, "size_bytes: only a volume has a "
			    "size (a drive's bound is capacity_bytes)");
			return -1;
		}
		return 0;
	case DRIVE_KIND_VOLUME:
		if (d->size < VOLUME_SIZE_MIN || d->size > DRIVE_CAPACITY_MAX) {
			cause_set(cause, "size_bytes: a volume needs a size "
			    "from %" PRIu64 " (16 MiB) to %" PRIu64 " bytes%s",
			    VOLUME_SIZE_MIN, DRIVE_CAPACITY_MAX,
			    d->size == 0 ? ", and has none" : "");
			return -1;
		}
		if (d->capacity != 0) {
			cause_set(cause, "capacity_bytes: a volume's size is "
			    "its capacity; it takes no capacity_bytes");
			return -1;
		}
		if (d->access != DRIVE_ACCESS_RWO) {
			cause_set(cause, "access_mode: a volume is RWO (one "
			    "mount at a time), not %s",
			    drive_access_name(d->access));
			return -1;
		}
		return 0;
	}
	cause_set(cause, "kind: not drive or volume");
	return -1;
}

int
drive_access_check(const struct drive *d, int read_only, int held,
    const char *holders, char **cause)
{
	switch (d->access) {
	case DRIVE_ACCESS_RWX:
		return 0;
	case DRIVE_ACCESS_ROX:
		if (!read_only) {
			cause_set(cause, "drive %s is ROX (read-only mounts "
			    "only): mount it with read_only", d->name);
			return -EACCES;
		}
		return 0;
	case DRIVE_ACCESS_RWO:
		if (held > 0) {
			cause_set(cause, "drive %s is RWO (one mount at a "
			    "time) and is mounted already (session %s)",
			    d->name, holders != NULL ? holders : "unknown");
			return -EBUSY;
		}
		return 0;
	}
	cause_set(cause, "drive %s has an unknown access mode", d->name);
	return -EINVAL;
}

char *
drive_created_at_now(void)
{
	uint64_t	 ms = now_ms_real();
	time_t		 t = (time_t)(ms / 1000);
	struct tm	 tm;
	char		 buf[32], *s;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	xasprintf(&s, "%s.%03uZ", buf, (unsigned)(ms % 1000));
	return s;
}

int
drive_check(const struct drive *d, char **cause)
{
	char *why = NULL;

	if (drive_name_check(d->name, cause) != 0)
		return -1;
	if (drive_display_name_check(d->display_name, cause) != 0)
		return -1;
	if (d->labels.n > DRIVE_LABELS_MAX) {
		cause_set(cause, "labels: more than %d", DRIVE_LABELS_MAX);
		return -1;
	}
	for (size_t i = 0; i < d->labels.n; i++) {
		if (drive_label_check(d->labels.v[i].key, d->labels.v[i].value,
		    &why) != 0) {
			cause_set(cause, "labels: %s", why);
			free(why);
			return -1;
		}
	}
	if (d->perms.n > PERM_MAX_RULES) {
		cause_set(cause, "permissions: at most %d rules",
		    PERM_MAX_RULES);
		return -1;
	}
	if ((size_t)d->access >= nitems(drive_access_names)) {
		cause_set(cause, "access_mode: not one of RWX, RWO, ROX");
		return -1;
	}
	if (drive_kind_check(d, cause) != 0)
		return -1;
	return drive_created_at_check(d->created_at, cause);
}

/* A JSON string field, NUL-free. */
static int
drive_json_string(json_t *v, const char *field, const char **out,
    char **cause)
{
	if (!json_is_string(v)) {
		cause_set(cause, "field \"%s\": not a string", field);
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		cause_set(cause, "field \"%s\": contains a NUL byte", field);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int
drive_parse_object(json_t *root, struct drive *d, char **cause)
{
	const char	*key, *s;
	json_t		*v, *lv;
	char		*why = NULL, *q;

	json_object_foreach(root, key, v) {
		size_t i;

		for (i = 0; i < nitems(drive_keys); i++)
			if (strcmp(key, drive_keys[i]) == 0)
				break;
		if (i == nitems(drive_keys)) {
			q = drive_quote(key);
			cause_set(cause, "unknown field \"%s\" (known: name, "
			    "display_name, labels, permissions, access_mode, "
			    "capacity_bytes, kind, size_bytes, created_at)", q);
			free(q);
			return -1;
		}
	}

	if ((v = json_object_get(root, "name")) == NULL) {
		cause_set(cause, "field \"name\": missing");
		return -1;
	}
	if (drive_json_string(v, "name", &s, cause) != 0)
		return -1;
	if (drive_name_check(s, &why) != 0) {
		cause_set(cause, "field \"name\": %s", why);
		free(why);
		return -1;
	}
	d->name = xstrdup(s);

	if ((v = json_object_get(root, "display_name")) != NULL) {
		if (drive_json_string(v, "display_name", &s, cause) != 0)
			return -1;
		/* Its cause names the field already. */
		if (drive_display_name_check(s, cause) != 0)
			return -1;
		d->display_name = xstrdup(s);
	} else
		d->display_name = xstrdup(d->name);

	if ((v = json_object_get(root, "labels")) != NULL) {
		if (!json_is_object(v)) {
			cause_set(cause, "field \"labels\": not an object of "
			    "strings");
			return -1;
		}
		if (json_object_size(v) > DRIVE_LABELS_MAX) {
			cause_set(cause, "field \"labels\": more than %d "
			    "labels", DRIVE_LABELS_MAX);
			return -1;
		}
		json_object_foreach(v, key, lv) {
			if (!json_is_string(lv) ||
			    strlen(json_string_value(lv)) !=
			    json_string_length(lv)) {
				q = drive_quote(key);
				cause_set(cause, "field \"labels\": \"%s\" is "
				    "not a string", q);
				free(q);
				return -1;
			}
			if (drive_label_check(key, json_string_value(lv),
			    &why) != 0) {
				cause_set(cause, "field \"labels\": %s", why);
				free(why);
				return -1;
			}
			labels_set(&d->labels, key, json_string_value(lv));
		}
	}

	if ((v = json_object_get(root, "permissions")) != NULL) {
		/*
		 * perm.c accepts null as "no rules"; so do we, as an empty
		 * array. Its causes already name "permissions" or the rule.
		 */
		if (perm_rules_from_json(v, &d->perms, &why) != 0) {
			if (strncmp(why, "permission", 10) == 0)
				cause_set(cause, "field \"permissions\": %s",
				    why + (strncmp(why, "permissions: ", 13) ==
				    0 ? 13 : 0));
			else
				cause_set(cause, "field \"permissions\": %s",
				    why);
			free(why);
			return -1;
		}
	}

	/* Absent: RWX, as every drive was before access modes. */
	if ((v = json_object_get(root, "access_mode")) != NULL) {
		if (drive_json_string(v, "access_mode", &s, cause) != 0)
			return -1;
		if (drive_access_parse(s, 0, &d->access, &why) != 0) {
			cause_set(cause, "field \"access_mode\": %s", why);
			free(why);
			return -1;
		}
	}

	/* Absent: no capacity, as every drive had before. */
	if ((v = json_object_get(root, "capacity_bytes")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			cause_set(cause, "field \"capacity_bytes\": not a "
			    "whole number of bytes from 1 to %" PRIu64,
			    DRIVE_CAPACITY_MAX);
			return -1;
		}
		d->capacity = (uint64_t)json_integer_value(v);
	}

	/* Absent: a drive, as every drive was before volumes. */
	if ((v = json_object_get(root, "kind")) != NULL) {
		if (drive_json_string(v, "kind", &s, cause) != 0)
			return -1;
		if (drive_kind_parse(s, &d->kind, &why) != 0) {
			cause_set(cause, "field \"kind\": %s", why);
			free(why);
			return -1;
		}
		/* A volume's mode goes without saying. */
		if (d->kind == DRIVE_KIND_VOLUME &&
		    json_object_get(root, "access_mode") == NULL)
			d->access = DRIVE_ACCESS_RWO;
	}
	if ((v = json_object_get(root, "size_bytes")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			cause_set(cause, "field \"size_bytes\": not a whole "
			    "number of bytes from %" PRIu64 " to %" PRIu64,
			    VOLUME_SIZE_MIN, DRIVE_CAPACITY_MAX);
			return -1;
		}
		d->size = (uint64_t)json_integer_value(v);
	}
	if (drive_kind_check(d, cause) != 0)
		return -1;

	if ((v = json_object_get(root, "created_at")) == NULL) {
		cause_set(cause, "field \"created_at\": missing");
		return -1;
	}
	if (drive_json_string(v, "created_at", &s, cause) != 0)
		return -1;
	if (drive_created_at_check(s, cause) != 0)
		return -1;
	d->created_at = xstrdup(s);
	return 0;
}

int
drive_from_json(const char *buf, size_t len, struct drive **out,
    char **cause)
{
	json_error_t	 err;
	json_t		*root;
	struct drive	*d;

	*out = NULL;
	if (len > DRIVE_JSON_MAX) {
		cause_set(cause, "larger than %d bytes", DRIVE_JSON_MAX);
		return -1;
	}
	/*
	 * Duplicate keys refused: with two "permissions" keys, which one
	 * the reader honours must never be a question.
	 */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		/* jansson quotes the bad token: it may hold raw bytes. */
		for (char *p = err.text; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		cause_set(cause, "not valid JSON (line %d, column %d: %s)",
		    err.line, err.column, err.text);
		return -1;
	}
	if (!json_is_object(root)) {
		cause_set(cause, "not a JSON object");
		json_decref(root);
		return -1;
	}
	d = drive_new();
	if (drive_parse_object(root, d, cause) != 0) {
		json_decref(root);
		drive_free(d);
		return -1;
	}
	json_decref(root);
	*out = d;
	return 0;
}

json_t *
drive_to_json(const struct drive *d)
{
	json_t *o, *labels, *perms;

	o = json_object();
	labels = json_object();
	perms = perm_rules_to_json(&d->perms);
	if (o == NULL || labels == NULL || perms == NULL)
		goto fail;
	for (size_t i = 0; i < d->labels.n; i++) {
		if (json_object_set_new(labels, d->labels.v[i].key,
		    json_string(d->labels.v[i].value)) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "name", json_string(d->name)) != 0 ||
	    json_object_set_new(o, "display_name",
	    json_string(d->display_name)) != 0)
		goto fail;
	if (json_object_set_new(o, "labels", labels) != 0) {
		labels = NULL;
		goto fail;
	}
	labels = NULL;
	if (json_object_set_new(o, "permissions", perms) != 0) {
		perms = NULL;
		goto fail;
	}
	perms = NULL;
	if (json_object_set_new(o, "access_mode",
	    json_string(drive_access_name(d->access))) != 0)
		goto fail;
	if (d->capacity != 0 && json_object_set_new(o, "capacity_bytes",
	    json_integer((json_int_t)d->capacity)) != 0)
		goto fail;
	if (json_object_set_new(o, "kind",
	    json_string(drive_kind_name(d->kind))) != 0)
		goto fail;
	if (d->size != 0 && json_object_set_new(o, "size_bytes",
	    json_integer((json_int_t)d->size)) != 0)
		goto fail;
	if (json_object_set_new(o, "created_at",
	    json_string(d->created_at)) != 0)
		goto fail;
	return o;
fail:
	json_decref(labels);
	json_decref(perms);
	json_decref(o);
	return NULL;
}

char *
drive_to_text(const struct drive *d)
{
	json_t	*o = drive_to_json(d);
	char	*s, *text;

	if (o == NULL)
		return NULL;
	if (d->access == DRIVE_ACCESS_RWX)
		(void)json_object_del(o, "access_mode");
	if (d->kind == DRIVE_KIND_DRIVE)
		(void)json_object_del(o, "kind");
	s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(o);
	if (s == NULL)
		return NULL;
	xasprintf(&text, "%s\n", s);
	free(s);
	return text;
}

int
drive_size_parse(const char *s, uint64_t *out, char **cause)
{
	static const struct {
		const char	*unit;
		unsigned	 shift;
	} units[] = {
		{ "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 },
		{ "GiB", 30 }, { "TiB", 40 }, { "PiB", 50 },
	};
	size_t digits = strspn(s, "0123456789"), i;
	uint64_t v = 0;

	if (digits == 0 || digits > 20) {
		cause_set(cause, "not a size: want bytes, or a number with "
		    "B, KiB, MiB, GiB, TiB or PiB (10GiB, 500MiB)");
		return -1;
	}
	for (i = 0; i < nitems(units); i++)
		if (strcmp(s + digits, units[i].unit) == 0)
			break;
	if (i == nitems(units)) {
		char unit[17];
		size_t k;

		/* Echoed to a terminal or a log: printable bytes only. */
		for (k = 0; k < sizeof(unit) - 1 && s[digits + k] != '\0'; k++)
			unit[k] = isprint((unsigned char)s[digits + k]) ?
			    s[digits + k] : '?';
		unit[k] = '\0';
		cause_set(cause, "unknown unit \"%s\": use B, KiB, MiB, "
		    "GiB, TiB or PiB (powers of 1024)", unit);
		return -1;
	}
	for (size_t k = 0; k < digits; k++) {
		if (v > (UINT64_MAX - 9) / 10) {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + (uint64_t)(s[k] - '0');
	}
	if (v == 0) {
		cause_set(cause, "a size of 0 holds nothing");
		return -1;
	}
	if (v > (DRIVE_CAPACITY_MAX >> units[i].shift)) {
		cause_set(cause, "larger than %" PRIu64 " bytes",
		    DRIVE_CAPACITY_MAX);
		return -1;
	}
	*out = v << units[i].shift;
	return 0;
}

char *
drive_size_words(uint64_t v)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB", "EiB" };
	double d = (double)v;
	unsigned i = 0;
	char *s;

	while (d >= 1024 && i + 1 < nitems(names)) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		xasprintf(&s, "%" PRIu64 " B", v);
	else if (d == (double)(uint64_t)d)
		xasprintf(&s, "%.0f %s", d, names[i]);
	else
		xasprintf(&s, "%.1f %s", d, names[i]);
	return s;
}
