/*
 * libFuzzer harness for drive descriptions from outside: the
 * "permissions" rules of a JSON document (perm_rules_from_json, then a
 * round trip and an evaluation), the same bytes as a command-line rule,
 * the same bytes as an access mode (--access-mode and drive.json's
 * spelling) and as a size (--capacity), and the whole drive.json
 * (drive_from_json, then a round trip and the access decision of each
 * mode).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/labels.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_rules(const json_t *j)
{
	struct perm_rules r, r2;
	struct perm_decision d;
	struct labels w = { 0, NULL };
	json_t *out;
	char *cause = NULL, *line;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	if (perm_rules_from_json(j, &r, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	if (r.n > PERM_MAX_RULES)
		abort();

	/* What to_json writes, from_json must read back to the same. */
	out = perm_rules_to_json(&r);
	if (out == NULL || perm_rules_from_json(out, &r2, &cause) != 0)
		abort();
	{
		json_t *again = perm_rules_to_json(&r2);

		if (again == NULL || !json_equal(out, again))
			abort();
		json_decref(again);
	}
	json_decref(out);

	/* Evaluate with the first rule's own labels: it must match. */
	if (r.n > 0)
		labels_copy(&w, &r.rule[0].labels);
	rc = perm_evaluate(&r, &w, 1, "/", &d, &cause);
	if (r.n > 0 && (rc != 0 || d.rule != 0 ||
	    strcmp(d.path, r.rule[0].path) != 0))
		abort();
	line = perm_decision_string("fuzz", &r, &w, &d, rc != 0 ? cause : NULL);
	if (strchr(line, '\n') != NULL)
		abort();
	free(line);
	free(cause);
	cause = NULL;
	rc = perm_evaluate(&r, &w, 0, "/sub/dir", &d, &cause);
	if (rc != 0 && rc != -EACCES)
		abort();
	free(cause);
	labels_clear(&w);
	perm_rules_clear(&r);
	perm_rules_clear(&r2);
}

static void
fuzz_cli(const uint8_t *data, size_t size)
{
	struct perm_rules r;
	char *spec, *cause = NULL;

	memset(&r, 0, sizeof(r));
	spec = xstrndup((const char *)data, size);
	if (perm_rule_parse_cli(spec, &r, &cause) == 0) {
		json_t *j = perm_rules_to_json(&r);

		if (r.n != 1 || j == NULL)
			abort();
		json_decref(j);
	} else if (cause == NULL || r.n != 0)
		abort();
	free(cause);
	free(spec);
	perm_rules_clear(&r);
}

static void
fuzz_access_mode(const uint8_t *data, size_t size)
{
	enum drive_access a;
	char *s, *cause = NULL;

	s = xstrndup((const char *)data, size);
	for (int nocase = 0; nocase <= 1; nocase++) {
		if (drive_access_parse(s, nocase, &a, &cause) == 0) {
			/* Only the three names, in their own spelling. */
			if (strcmp(drive_access_name(a), "?") == 0 ||
			    (nocase ? strcasecmp(s, drive_access_name(a)) :
			    strcmp(s, drive_access_name(a))) != 0)
				abort();
		} else {
			if (cause == NULL || strchr(cause, '\n') != NULL)
				abort();
			free(cause);
			cause = NULL;
		}
	}
	free(s);
}

static void
fuzz_size(const uint8_t *data, size_t size)
{
	uint64_t v;
	char *s, *cause = NULL, *words;

	s = xstrndup((const char *)data, size);
	if (drive_size_parse(s, &v, &cause) == 0) {
		/* Something between a byte and what JSON and off_t hold. */
		if (v == 0 || v > DRIVE_CAPACITY_MAX || cause != NULL)
			abort();
		words = drive_size_words(v);
		if (words == NULL || strchr(words, '\n') != NULL)
			abort();
		free(words);
	} else if (cause == NULL || strchr(cause, '\n') != NULL)
		abort();
	free(cause);
	free(s);
}

/* What the mount child decides, for the mode just read. */
static void
fuzz_access_check(const struct drive *d)
{
	char *cause = NULL;
	int r;

	for (int ro = 0; ro <= 1; ro++) {
		for (int held = 0; held <= 2; held++) {
			r = drive_access_check(d, ro, held, held ? "s-1" : NULL,
			    &cause);
			switch (d->access) {
			case DRIVE_ACCESS_RWX:
				if (r != 0)
					abort();
				break;
			case DRIVE_ACCESS_ROX:
				if (r != (ro ? 0 : -EACCES))
					abort();
				break;
			case DRIVE_ACCESS_RWO:
				if (r != (held ? -EBUSY : 0))
					abort();
				break;
			default:
				abort();
			}
			if ((r != 0) != (cause != NULL))
				abort();
			free(cause);
			cause = NULL;
		}
	}
}

static void
fuzz_drive(const uint8_t *data, size_t size)
{
	struct drive *d = NULL, *d2 = NULL;
	char *cause = NULL, *text, *text2;
	json_t *written;

	if (drive_from_json((const char *)data, size, &d, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	text = drive_to_text(d);
	if (text == NULL || drive_from_json(text, strlen(text), &d2,
	    &cause) != 0)
		abort();
	text2 = drive_to_text(d2);
	if (text2 == NULL || strcmp(text, text2) != 0 ||
	    d->access != d2->access || d->capacity != d2->capacity ||
	    d->capacity > DRIVE_CAPACITY_MAX || d->kind != d2->kind ||
	    d->size != d2->size)
		abort();
	/* A volume: sized, RWO, no capacity; a drive: no size. */
	if (d->kind == DRIVE_KIND_VOLUME ? d->size < VOLUME_SIZE_MIN ||
	    d->access != DRIVE_ACCESS_RWO || d->capacity != 0 : d->size != 0)
		abort();
	/* RWX, the default, is never written: older agents read the file. */
	written = json_loads(text, 0, NULL);
	if (written == NULL || (d->access == DRIVE_ACCESS_RWX) !=
	    (json_object_get(written, "access_mode") == NULL) ||
	    (d->kind == DRIVE_KIND_DRIVE) !=
	    (json_object_get(written, "kind") == NULL))
		abort();
	json_decref(written);
	fuzz_access_check(d);
	free(text);
	free(text2);
	drive_free(d);
	drive_free(d2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j, *perms;

	if (size > 64 * 1024)
		return 0;
	j = json_loadb((const char *)data, size, JSON_DECODE_ANY |
	    JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL) {
		/* A drive.json, or the rules array itself. */
		perms = json_is_object(j) ? json_object_get(j, "permissions") :
		    j;
		fuzz_rules(perms);
		json_decref(j);
	}
	fuzz_cli(data, size);
	fuzz_access_mode(data, size);
	fuzz_size(data, size);
	fuzz_drive(data, size);
	return 0;
}
