/*
 * Drive permission rules: drive.json and command-line parsing, and the
 * mount-time decision (DESIGN "Drives and stores"; the platform's
 * drive-permissions reference).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/labels.h"
#include "common/xmalloc.h"
#include "mountmgr/paths.h"
#include "mountmgr/perm.h"

static const char *const perm_mode_names[] = {
	[PERM_READ_WRITE] = "read-write",
	[PERM_READ] = "read",
};

const char *
perm_mode_name(enum perm_mode mode)
{
	if (mode == PERM_READ)
		return perm_mode_names[PERM_READ];
	return perm_mode_names[PERM_READ_WRITE];
}

/*
 * Append s to *buf, escaping what could break a one-line message, and
 * spending at most max bytes of output on it.
 */
static void
perm_append_escaped(char **buf, size_t *len, const char *s, size_t max)
{
	unsigned char c;
	size_t cost;

	*buf = xreallocarray(*buf, 1, *len + strlen(s) * 4 + 4);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		cost = (c < 0x20 || c == 0x7f || c == '\\') ? 4 : 1;
		if (cost + 3 > max) {
			memcpy(*buf + *len, "...", 3);
			*len += 3;
			break;
		}
		if (cost == 4)
			snprintf(*buf + *len, 5, "\\x%02x", c);
		else
			(*buf)[*len] = (char)c;
		*len += cost;
		max -= cost;
	}
	(*buf)[*len] = '\0';
}

/* "team=backend,env=prod", escaped and bounded, for messages. */
static char *
perm_labels_string(const struct labels *l)
{
	char *buf = xstrdup("");
	size_t len = 0;

	if (l == NULL)
		return buf;
	for (size_t i = 0; i < l->n; i++) {
		if (len > 512) {
			perm_append_escaped(&buf, &len, ",...", 8);
			break;
		}
		if (i > 0)
			perm_append_escaped(&buf, &len, ",", 4);
		perm_append_escaped(&buf, &len, l->v[i].key, 256);
		perm_append_escaped(&buf, &len, "=", 4);
		perm_append_escaped(&buf, &len, l->v[i].value, 256);
	}
	return buf;
}

void
perm_rules_clear(struct perm_rules *r)
{
	for (size_t i = 0; i < r->n; i++) {
		labels_clear(&r->rule[i].labels);
		free(r->rule[i].path);
		r->rule[i].path = NULL;
	}
	r->n = 0;
}

/* Valid UTF-8 (jansson refuses to hold anything else). */
static int
perm_utf8_ok(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);

	if (j == NULL)
		return 0;
	json_decref(j);
	return 1;
}

static int
perm_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * A label key or value as drive.json or the command line may spell it,
 * under the bounds drive labels share (drive.h): a key holds no control
 * character, '=', ',' or ':' (the command line splits on them), a value
 * no control character, both UTF-8. The key is checked before any
 * message quotes it.
 */
static int
perm_check_label(const char *key, const char *value, size_t vlen,
    char **cause)
{
	size_t klen = strlen(key);

	if (klen == 0) {
		xasprintf(cause, "a label key is empty");
		return -1;
	}
	if (klen > PERM_LABEL_KEY_MAX) {
		xasprintf(cause, "a label key is longer than %d bytes",
		    PERM_LABEL_KEY_MAX);
		return -1;
	}
	if (perm_has_control(key, klen) || strpbrk(key, "=,:") != NULL ||
	    !perm_utf8_ok(key, klen)) {
		xasprintf(cause, "a label key holds a control character, "
		    "'=', ',', ':' or invalid UTF-8");
		return -1;
	}
	if (vlen == 0) {
		xasprintf(cause, "label \"%s\" has an empty value", key);
		return -1;
	}
	if (vlen != strlen(value)) {
		xasprintf(cause, "label \"%s\" has a NUL byte in its value",
		    key);
		return -1;
	}
	if (vlen > PERM_LABEL_VALUE_MAX) {
		xasprintf(cause, "label \"%s\" has a value longer than %d "
		    "bytes", key, PERM_LABEL_VALUE_MAX);
		return -1;
	}
	if (perm_has_control(value, vlen) || !perm_utf8_ok(value, vlen)) {
		xasprintf(cause, "label \"%s\" has a control character or "
		    "invalid UTF-8 in its value", key);
		return -1;
	}
	return 0;
}

static int
perm_mode_parse(const char *s, enum perm_mode *mode)
{
	/* The reference: a rule with an empty mode defaults to read-write. */
	if (*s == '\0' || strcmp(s, "read-write") == 0)
		*mode = PERM_READ_WRITE;
	else if (strcmp(s, "read") == 0)
		*mode = PERM_READ;
	else
		return -1;
	return 0;
}

/*
 * A rule's path; empty means the whole drive (as the reference says).
 * ".." is refused outright rather than resolved: a rule that spells ".."
 * is a mistake or an attempt to reach past its own subtree, and refusing
 * it leaves no room to grant more than the text seems to say.
 */
static int
perm_rule_path(const char *s, char **out, char **cause)
{
	const char *p;

	if (*s == '\0')
		s = "/";
	for (p = s; (p = strstr(p, "..")) != NULL; p += 2) {
		if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) {
			xasprintf(cause, "path must not contain \"..\"");
			return -1;
		}
	}
	if (!perm_utf8_ok(s, strlen(s))) {
		xasprintf(cause, "path is not valid UTF-8");
		return -1;
	}
	if (paths_normalise("path", s, out, cause) != PATHS_OK)
		return -1;
	return 0;
}

static int
perm_rule_from_json(const json_t *obj, struct perm_rule *rule, char **cause)
{
	const char *key, *s;
	json_t *v, *lv;
	char *why = NULL;

	if (!json_is_object(obj)) {
		xasprintf(cause, "is not an object");
		return -1;
	}
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "labels") != 0 && strcmp(key, "mode") != 0 &&
		    strcmp(key, "path") != 0) {
			xasprintf(cause, "unknown field \"%.64s\"", key);
			return -1;
		}
	}

	v = json_object_get(obj, "labels");
	if (v == NULL || json_is_null(v)) {
		xasprintf(cause, "labels: missing (a rule needs at least one "
		    "label)");
		return -1;
	}
	if (!json_is_object(v)) {
		xasprintf(cause, "labels: not an object");
		return -1;
	}
	if (json_object_size(v) == 0) {
		xasprintf(cause, "labels: empty (a rule needs at least one "
		    "label)");
		return -1;
	}
	if (json_object_size(v) > PERM_LABELS_MAX) {
		xasprintf(cause, "labels: more than %d", PERM_LABELS_MAX);
		return -1;
	}
	json_object_foreach(v, key, lv) {
		if (!json_is_string(lv)) {
			xasprintf(cause, "labels: \"%.64s\" is not a string",
			    key);
			return -1;
		}
		if (perm_check_label(key, json_string_value(lv),
		    json_string_length(lv), &why) != 0) {
			xasprintf(cause, "labels: %s", why);
			free(why);
			return -1;
		}
		labels_set(&rule->labels, key, json_string_value(lv));
	}

	rule->mode = PERM_READ_WRITE;
	v = json_object_get(obj, "mode");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v)) {
			xasprintf(cause, "mode: not a string");
			return -1;
		}
		if (perm_mode_parse(json_string_value(v), &rule->mode) != 0) {
			xasprintf(cause, "mode: must be \"read\" or "
			    "\"read-write\"");
			return -1;
		}
	}

	s = "/";
	v = json_object_get(obj, "path");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v)) {
			xasprintf(cause, "path: not a string");
			return -1;
		}
		s = json_string_value(v);
		if (json_string_length(v) != strlen(s)) {
			xasprintf(cause, "path: contains a NUL byte");
			return -1;
		}
	}
	if (perm_rule_path(s, &rule->path, cause) != 0)
		return -1;
	return 0;
}

int
perm_rules_from_json(const json_t *arr, struct perm_rules *out, char **cause)
{
	struct perm_rules r;
	char *why = NULL;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (arr != NULL && !json_is_null(arr)) {
		if (!json_is_array(arr)) {
			xasprintf(cause, "permissions: not an array");
			return -1;
		}
		if (json_array_size(arr) > PERM_MAX_RULES) {
			xasprintf(cause, "permissions: at most %d rules, got "
			    "%zu", PERM_MAX_RULES, json_array_size(arr));
			return -1;
		}
		for (i = 0; i < json_array_size(arr); i++) {
			r.n = i + 1;
			if (perm_rule_from_json(json_array_get(arr, i),
			    &r.rule[i], &why) != 0) {
				xasprintf(cause, "permission %zu: %s", i + 1,
				    why);
				free(why);
				perm_rules_clear(&r);
				return -1;
			}
		}
	}
	perm_rules_clear(out);
	*out = r;
	return 0;
}

json_t *
perm_rules_to_json(const struct perm_rules *r)
{
	json_t *arr, *obj, *labels;
	const struct perm_rule *rule;

	arr = json_array();
	if (arr == NULL)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		rule = &r->rule[i];
		obj = json_object();
		labels = json_object();
		if (obj == NULL || labels == NULL)
			goto fail;
		for (size_t j = 0; j < rule->labels.n; j++) {
			if (json_object_set_new(labels, rule->labels.v[j].key,
			    json_string(rule->labels.v[j].value)) != 0)
				goto fail;
		}
		if (json_object_set_new(obj, "labels", labels) != 0) {
			labels = NULL;
			goto fail;
		}
		labels = NULL;
		if (json_object_set_new(obj, "mode",
		    json_string(perm_mode_name(rule->mode))) != 0 ||
		    json_object_set_new(obj, "path",
		    json_string(rule->path != NULL ? rule->path : "/")) != 0 ||
		    json_array_append_new(arr, obj) != 0) {
			obj = NULL;
			goto fail;
		}
		continue;
fail:
		json_decref(labels);
		json_decref(obj);
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* The labels part of a command-line rule: "K=V[,K=V...]". */
static int
perm_cli_labels(const char *s, size_t len, struct labels *out, char **cause)
{
	char *copy, *p, *item, *eq, *why = NULL;
	int rc = -1;

	if (len == 0) {
		xasprintf(cause, "no labels (expected K=V[,K=V...])");
		return -1;
	}
	copy = xstrndup(s, len);
	p = copy;
	while ((item = strsep(&p, ",")) != NULL) {
		eq = strchr(item, '=');
		if (eq == NULL) {
			xasprintf(cause, "label \"%.64s\" is not K=V", item);
			goto out;
		}
		*eq++ = '\0';
		if (perm_check_label(item, eq, strlen(eq), &why) != 0) {
			*cause = why;
			goto out;
		}
		if (labels_get(out, item) != NULL) {
			xasprintf(cause, "label \"%s\" given twice", item);
			goto out;
		}
		if (out->n >= PERM_LABELS_MAX) {
			xasprintf(cause, "more than %d labels",
			    PERM_LABELS_MAX);
			goto out;
		}
		labels_set(out, item, eq);
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int
perm_rule_parse_cli(const char *spec, struct perm_rules *out, char **cause)
{
	struct perm_rule rule;
	const char *colon, *mode_s, *path_s = "";
	char *mode = NULL, *why = NULL;

	memset(&rule, 0, sizeof(rule));
	if (out->n >= PERM_MAX_RULES) {
		xasprintf(cause, "permission %zu: at most %d rules", out->n + 1,
		    PERM_MAX_RULES);
		return -1;
	}

	/*
	 * Split at the first two colons only: a path may hold a colon,
	 * labels (as the platform spells them) never do.
	 */
	colon = strchr(spec, ':');
	if (perm_cli_labels(spec, colon != NULL ? (size_t)(colon - spec) :
	    strlen(spec), &rule.labels, &why) != 0)
		goto fail;
	if (colon != NULL) {
		mode_s = colon + 1;
		colon = strchr(mode_s, ':');
		if (colon != NULL) {
			mode = xstrndup(mode_s, (size_t)(colon - mode_s));
			path_s = colon + 1;
		} else
			mode = xstrdup(mode_s);
		if (perm_mode_parse(mode, &rule.mode) != 0) {
			xasprintf(&why, "mode \"%.32s\" must be read or "
			    "read-write", mode);
			goto fail;
		}
	}
	if (perm_rule_path(path_s, &rule.path, &why) != 0)
		goto fail;
	free(mode);
	out->rule[out->n++] = rule;
	return 0;

fail:
	xasprintf(cause, "permission %zu: %s", out->n + 1, why);
	free(why);
	free(mode);
	labels_clear(&rule.labels);
	free(rule.path);
	return -1;
}

static int
perm_rule_matches(const struct perm_rule *rule, const struct labels *workload)
{
	const char *v;

	/* An empty rule never matches: an empty AND must not mean "anyone". */
	if (rule->labels.n == 0 || workload == NULL)
		return 0;
	for (size_t i = 0; i < rule->labels.n; i++) {
		v = labels_get(workload, rule->labels.v[i].key);
		if (v == NULL || strcmp(v, rule->labels.v[i].value) != 0)
			return 0;
	}
	return 1;
}

int
perm_evaluate(const struct perm_rules *r, const struct labels *workload,
    int read_only, const char *drive_path, struct perm_decision *d,
    char **cause)
{
	const struct perm_rule *rule = NULL;
	const char *granted;
	char *asked = NULL, *desc;
	size_t i;
	int rc = -EACCES;

	d->rule = -1;
	d->mode = PERM_READ_WRITE;
	d->path[0] = '\0';

	/*
	 * Callers pass a normalised path. Normalising again, the same way
	 * the mount does, costs nothing and guarantees that the path judged
	 * here is the path that d->path hands back to be served.
	 */
	if (paths_drive_path_normalise(drive_path, &asked, cause) != PATHS_OK)
		return -EINVAL;
	if (strlen(asked) >= sizeof(d->path)) {
		xasprintf(cause, "drive_path is too long");
		rc = -EINVAL;
		goto out;
	}

	/* The reference: no permissions on a drive means anyone may mount. */
	if (r == NULL || r->n == 0) {
		snprintf(d->path, sizeof(d->path), "%s", asked);
		rc = 0;
		goto out;
	}

	/* OR across rules in order; the first match decides, no fall-through. */
	for (i = 0; i < r->n; i++) {
		if (perm_rule_matches(&r->rule[i], workload)) {
			rule = &r->rule[i];
			break;
		}
	}
	if (rule == NULL) {
		xasprintf(cause, "no permission rule of drive matches this "
		    "workload's labels");
		goto out;
	}
	d->rule = (int)i;
	d->mode = rule->mode;
	granted = rule->path != NULL ? rule->path : "/";

	if (rule->mode == PERM_READ && !read_only) {
		desc = perm_labels_string(&rule->labels);
		xasprintf(cause, "permission %zu (%s) grants read only; mount "
		    "with read_only", i + 1, desc);
		free(desc);
		goto out;
	}

	/*
	 * "/" (the default, given or not) means the granted subtree; any
	 * other drive_path is a path in the drive, which must then lie
	 * inside the grant. It is not taken relative to the grant: "/x"
	 * under a "/shared" grant is refused, not turned into "/shared/x".
	 */
	if (strcmp(asked, "/") == 0) {
		snprintf(d->path, sizeof(d->path), "%s", granted);
		rc = 0;
	} else if (paths_is_beneath(granted, asked)) {
		snprintf(d->path, sizeof(d->path), "%s", asked);
		rc = 0;
	} else {
		desc = perm_labels_string(&rule->labels);
		xasprintf(cause, "permission %zu (%s) grants only %s; "
		    "drive_path %s lies outside it", i + 1, desc, granted,
		    asked);
		free(desc);
	}
out:
	free(asked);
	return rc;
}

char *
perm_decision_string(const char *drive, const struct perm_rules *r,
    const struct labels *workload, const struct perm_decision *d,
    const char *cause)
{
	char *s, *labels, *name = NULL, *why = NULL;
	size_t len = 0, wlen = 0;

	perm_append_escaped(&name, &len, drive != NULL ? drive : "?", 256);
	if (d->rule >= 0 && r != NULL && (size_t)d->rule < r->n)
		labels = perm_labels_string(&r->rule[d->rule].labels);
	else
		labels = perm_labels_string(workload);

	if (cause == NULL && d->rule < 0) {
		xasprintf(&s, "drive %s: allowed %s at %s (no permission "
		    "rules)", name, perm_mode_name(d->mode), d->path);
	} else if (cause == NULL) {
		xasprintf(&s, "drive %s: allowed %s at %s by permission %d "
		    "(%s)", name, perm_mode_name(d->mode), d->path,
		    d->rule + 1, labels);
	} else if (d->rule >= 0) {
		perm_append_escaped(&why, &wlen, cause, 1024);
		xasprintf(&s, "drive %s: denied: %s", name, why);
	} else {
		perm_append_escaped(&why, &wlen, cause, 1024);
		xasprintf(&s, "drive %s: denied: %s (workload labels: %s)",
		    name, why, labels[0] != '\0' ? labels : "none");
	}
	free(why);
	free(labels);
	free(name);
	return s;
}
