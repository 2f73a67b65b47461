/*
 * Drive permission rules: every row and example of the platform's
 * drive-permissions reference, parsing (drive.json and command line),
 * and the JSON round trip.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/labels.h"
#include "mountmgr/perm.h"
#include "tests/tap.h"

/* Rules from a drive.json "permissions" value; aborts the test on error. */
static void
rules(struct perm_rules *r, const char *json)
{
	json_error_t jerr;
	json_t *j;
	char *cause = NULL;

	memset(r, 0, sizeof(*r));
	j = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		printf("Bail out! bad test JSON %s: %s\n", json, jerr.text);
		exit(1);
	}
	if (perm_rules_from_json(j, r, &cause) != 0) {
		printf("Bail out! rules %s refused: %s\n", json, cause);
		exit(1);
	}
	json_decref(j);
}

/* "k=v,k=v" into labels. */
static void
workload(struct labels *l, const char *spec)
{
	char *copy = strdup(spec), *p = copy, *item, *eq;

	labels_clear(l);
	while ((item = strsep(&p, ",")) != NULL) {
		if ((eq = strchr(item, '=')) == NULL)
			continue;
		*eq++ = '\0';
		labels_set(l, item, eq);
	}
	free(copy);
}

/*
 * Evaluate and check: want_rc 0 with want_path and want_rule, or an error
 * whose cause contains want_cause.
 */
static void
check(const char *name, const struct perm_rules *r, const char *labels,
    int read_only, const char *drive_path, int want_rc, const char *want_path,
    int want_rule, const char *want_cause)
{
	struct perm_decision d;
	struct labels l = { 0, NULL };
	char *cause = NULL;
	int rc;

	if (labels != NULL)
		workload(&l, labels);
	rc = perm_evaluate(r, labels != NULL ? &l : NULL, read_only,
	    drive_path, &d, &cause);
	if (rc != want_rc) {
		tap_ok(0, "%s: expected rc %d, got %d (%s)", name, want_rc, rc,
		    cause != NULL ? cause : "no cause");
	} else if (rc == 0 && strcmp(d.path, want_path) != 0) {
		tap_ok(0, "%s: expected path %s, got %s", name, want_path,
		    d.path);
	} else if (rc == 0 && d.rule != want_rule) {
		tap_ok(0, "%s: expected rule %d, got %d", name, want_rule,
		    d.rule);
	} else if (rc == 0 && cause != NULL) {
		tap_ok(0, "%s: allowed yet a cause was set: %s", name, cause);
	} else if (rc != 0 && (cause == NULL ||
	    strstr(cause, want_cause) == NULL)) {
		tap_ok(0, "%s: expected cause containing \"%s\", got \"%s\"",
		    name, want_cause, cause != NULL ? cause : "(null)");
	} else
		tap_ok(1, "%s", name);
	free(cause);
	labels_clear(&l);
}

static void
check_mode(const char *name, const struct perm_rules *r, const char *labels,
    int read_only, enum perm_mode want)
{
	struct perm_decision d;
	struct labels l = { 0, NULL };
	char *cause = NULL;
	int rc;

	workload(&l, labels);
	rc = perm_evaluate(r, &l, read_only, "/", &d, &cause);
	if (rc != 0)
		tap_ok(0, "%s: refused: %s", name, cause);
	else
		tap_is_str(perm_mode_name(d.mode), perm_mode_name(want), name);
	free(cause);
	labels_clear(&l);
}

/* drive.json "permissions" that must be refused, with cause words. */
static void
bad_json(const char *name, const char *json, const char *want_cause)
{
	struct perm_rules r;
	json_t *j;
	char *cause = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	j = json_loads(json, JSON_DECODE_ANY, NULL);
	if (j == NULL) {
		tap_ok(0, "%s: bad test JSON", name);
		return;
	}
	rc = perm_rules_from_json(j, &r, &cause);
	if (rc != -1)
		tap_ok(0, "%s: expected refusal, got rc %d", name, rc);
	else if (cause == NULL || strstr(cause, want_cause) == NULL)
		tap_ok(0, "%s: expected cause containing \"%s\", got \"%s\"",
		    name, want_cause, cause != NULL ? cause : "(null)");
	else if (r.n != 0)
		tap_ok(0, "%s: refused but left %zu rules", name, r.n);
	else
		tap_ok(1, "%s", name);
	free(cause);
	json_decref(j);
	perm_rules_clear(&r);
}

/* drive.json rule normalised: one rule, its mode and path. */
static void
good_json(const char *name, const char *json, const char *want_mode,
    const char *want_path)
{
	struct perm_rules r;

	rules(&r, json);
	if (r.n != 1)
		tap_ok(0, "%s: expected 1 rule, got %zu", name, r.n);
	else if (strcmp(perm_mode_name(r.rule[0].mode), want_mode) != 0)
		tap_ok(0, "%s: expected mode %s, got %s", name, want_mode,
		    perm_mode_name(r.rule[0].mode));
	else
		tap_is_str(r.rule[0].path, want_path, name);
	perm_rules_clear(&r);
}

static void
good_cli(const char *name, const char *spec, const char *want_labels,
    const char *want_mode, const char *want_path)
{
	struct perm_rules r;
	struct labels want = { 0, NULL };
	char *cause = NULL;
	int same;

	memset(&r, 0, sizeof(r));
	if (perm_rule_parse_cli(spec, &r, &cause) != 0) {
		tap_ok(0, "%s: refused: %s", name, cause);
		free(cause);
		return;
	}
	workload(&want, want_labels);
	same = r.rule[0].labels.n == want.n;
	for (size_t i = 0; same && i < want.n; i++) {
		const char *v = labels_get(&r.rule[0].labels, want.v[i].key);

		same = v != NULL && strcmp(v, want.v[i].value) == 0;
	}
	if (r.n != 1 || !same)
		tap_ok(0, "%s: expected one rule with labels %s", name,
		    want_labels);
	else if (strcmp(perm_mode_name(r.rule[0].mode), want_mode) != 0)
		tap_ok(0, "%s: expected mode %s, got %s", name, want_mode,
		    perm_mode_name(r.rule[0].mode));
	else
		tap_is_str(r.rule[0].path, want_path, name);
	labels_clear(&want);
	perm_rules_clear(&r);
}

static void
bad_cli(const char *name, const char *spec, const char *want_cause)
{
	struct perm_rules r;
	char *cause = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = perm_rule_parse_cli(spec, &r, &cause);
	if (rc != -1)
		tap_ok(0, "%s: expected refusal, got rc %d", name, rc);
	else if (cause == NULL || strstr(cause, want_cause) == NULL)
		tap_ok(0, "%s: expected cause containing \"%s\", got \"%s\"",
		    name, want_cause, cause != NULL ? cause : "(null)");
	else if (r.n != 0)
		tap_ok(0, "%s: refused but appended a rule", name);
	else
		tap_ok(1, "%s", name);
	free(cause);
	perm_rules_clear(&r);
}

static char *
dump(const struct perm_rules *r)
{
	json_t *j = perm_rules_to_json(r);
	char *s;

	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

static void
test_reference_behaviour(void)
{
	struct perm_rules r;

	/* "No permissions defined on drive: any workload can mount". */
	memset(&r, 0, sizeof(r));
	check("no_rules_allows_any_workload", &r, "team=anything", 0, "/", 0,
	    "/", -1, NULL);
	check("no_rules_allows_workload_without_labels", &r, NULL, 0, "/", 0,
	    "/", -1, NULL);
	check("no_rules_serves_drive_path_asked", &r, NULL, 0, "/sub/dir", 0,
	    "/sub/dir", -1, NULL);
	check("no_rules_default_drive_path_is_root", &r, NULL, 1, NULL, 0,
	    "/", -1, NULL);
	check("no_rules_grants_read_write", &r, NULL, 0, "/", 0, "/", -1,
	    NULL);
	rules(&r, "[]");
	check("empty_permissions_array_is_open_access", &r, NULL, 0, "/", 0,
	    "/", -1, NULL);
	rules(&r, "null");
	check("null_permissions_is_open_access", &r, NULL, 0, "/", 0, "/", -1,
	    NULL);

	/* "Restrict to a single team". */
	rules(&r, "[{\"labels\":{\"team\":\"data-science\"},"
	    "\"mode\":\"read-write\"}]");
	check("single_rule_matching_label_allows", &r,
	    "blaxel-workspace=acme,team=data-science", 0, "/", 0, "/", 0,
	    NULL);
	check("single_rule_other_value_denied", &r, "team=backend", 0, "/",
	    -EACCES, NULL, 0,
	    "no permission rule of drive matches this workload's labels");
	check("single_rule_no_labels_denied", &r, NULL, 1, "/", -EACCES, NULL,
	    0, "no permission rule of drive matches");
	check("single_rule_empty_labels_denied", &r, "", 1, "/", -EACCES,
	    NULL, 0, "no permission rule of drive matches");
	check("label_values_match_exactly_not_by_prefix", &r,
	    "team=data-science-2", 1, "/", -EACCES, NULL, 0, "no permission");
	check("label_keys_match_exactly", &r, "Team=data-science", 1, "/",
	    -EACCES, NULL, 0, "no permission");
	perm_rules_clear(&r);

	/* "AND logic (multiple labels in one rule)". */
	rules(&r, "[{\"labels\":{\"team\":\"backend\",\"env\":\"production\"},"
	    "\"mode\":\"read-write\"}]");
	check("and_rule_all_labels_present_allows", &r,
	    "env=production,team=backend,blaxel-type=sandbox", 0, "/", 0, "/",
	    0, NULL);
	check("and_rule_one_label_missing_denied", &r, "team=backend", 0, "/",
	    -EACCES, NULL, 0, "no permission rule");
	check("and_rule_one_label_differs_denied", &r,
	    "team=backend,env=staging", 0, "/", -EACCES, NULL, 0,
	    "no permission rule");
	perm_rules_clear(&r);

	/* "OR logic (multiple rules)". */
	rules(&r, "[{\"labels\":{\"team\":\"backend\"},\"mode\":\"read-write\"},"
	    "{\"labels\":{\"team\":\"ml\"},\"mode\":\"read-write\"}]");
	check("or_rules_first_matches", &r, "team=backend", 0, "/", 0, "/", 0,
	    NULL);
	check("or_rules_second_matches", &r, "team=ml", 0, "/", 0, "/", 1,
	    NULL);
	check("or_rules_neither_denied", &r, "team=frontend", 0, "/",
	    -EACCES, NULL, 0, "no permission rule");
	perm_rules_clear(&r);

	/* "Read-only access for some teams". */
	rules(&r, "[{\"labels\":{\"team\":\"backend\"},\"mode\":\"read-write\"},"
	    "{\"labels\":{\"team\":\"frontend\"},\"mode\":\"read\"}]");
	check("read_write_rule_allows_read_write_mount", &r, "team=backend", 0,
	    "/", 0, "/", 0, NULL);
	check_mode("read_write_rule_grants_read_write", &r, "team=backend", 0,
	    PERM_READ_WRITE);
	check("read_write_rule_allows_read_only_mount", &r, "team=backend", 1,
	    "/", 0, "/", 0, NULL);
	check("read_rule_refuses_read_write_mount", &r, "team=frontend", 0,
	    "/", -EACCES, NULL, 0,
	    "permission 2 (team=frontend) grants read only; mount with "
	    "read_only");
	check("read_rule_allows_read_only_mount", &r, "team=frontend", 1, "/",
	    0, "/", 1, NULL);
	check_mode("read_rule_grants_read", &r, "team=frontend", 1, PERM_READ);
	perm_rules_clear(&r);

	/* "Multiple rules match: first matching rule applies". */
	rules(&r, "[{\"labels\":{\"team\":\"frontend\"},\"mode\":\"read\"},"
	    "{\"labels\":{\"env\":\"prod\"},\"mode\":\"read-write\"}]");
	check("first_match_wins_even_if_later_rule_grants_more", &r,
	    "team=frontend,env=prod", 0, "/", -EACCES, NULL, 0,
	    "permission 1 (team=frontend) grants read only");
	check("later_rule_applies_when_first_does_not_match", &r, "env=prod",
	    0, "/", 0, "/", 1, NULL);
	perm_rules_clear(&r);
	rules(&r, "[{\"labels\":{\"team\":\"a\"},\"path\":\"/one\"},"
	    "{\"labels\":{\"team\":\"a\"},\"path\":\"/two\"}]");
	check("first_match_decides_granted_path", &r, "team=a", 0, "/", 0,
	    "/one", 0, NULL);
	check("first_match_path_confines_even_if_later_rule_allows", &r,
	    "team=a", 0, "/two", -EACCES, NULL, 0,
	    "permission 1 (team=a) grants only /one");
	perm_rules_clear(&r);

	/* "Rule with empty mode / empty path": defaults. */
	rules(&r, "[{\"labels\":{\"team\":\"a\"},\"mode\":\"\",\"path\":\"\"}]");
	check("empty_mode_defaults_to_read_write", &r, "team=a", 0, "/", 0,
	    "/", 0, NULL);
	check("empty_path_defaults_to_full_drive", &r, "team=a", 1,
	    "/any/where", 0, "/any/where", 0, NULL);
	perm_rules_clear(&r);
	rules(&r, "[{\"labels\":{\"team\":\"a\"}}]");
	check("absent_mode_defaults_to_read_write", &r, "team=a", 0, "/", 0,
	    "/", 0, NULL);
	check("absent_path_defaults_to_full_drive", &r, "team=a", 0, "/x", 0,
	    "/x", 0, NULL);
	perm_rules_clear(&r);

	/* "Path scoping": analytics, read, /reports. */
	rules(&r, "[{\"labels\":{\"team\":\"analytics\"},\"mode\":\"read\","
	    "\"path\":\"/reports\"}]");
	check("path_grant_drive_path_root_means_granted_path", &r,
	    "team=analytics", 1, "/", 0, "/reports", 0, NULL);
	check("path_grant_drive_path_absent_means_granted_path", &r,
	    "team=analytics", 1, NULL, 0, "/reports", 0, NULL);
	check("path_grant_drive_path_equal_allowed", &r, "team=analytics", 1,
	    "/reports", 0, "/reports", 0, NULL);
	check("path_grant_drive_path_beneath_allowed", &r, "team=analytics", 1,
	    "/reports/2024/q1", 0, "/reports/2024/q1", 0, NULL);
	check("path_grant_sibling_prefix_denied", &r, "team=analytics", 1,
	    "/reports2", -EACCES, NULL, 0,
	    "permission 1 (team=analytics) grants only /reports; drive_path "
	    "/reports2 lies outside it");
	check("path_grant_outside_denied", &r, "team=analytics", 1, "/other",
	    -EACCES, NULL, 0, "lies outside");
	check("path_grant_not_relative_to_grant", &r, "team=analytics", 1,
	    "/2024", -EACCES, NULL, 0, "lies outside");
	check("path_grant_read_rule_still_refuses_read_write", &r,
	    "team=analytics", 0, "/reports", -EACCES, NULL, 0,
	    "grants read only");
	check("path_grant_unnormalised_drive_path_normalised", &r,
	    "team=analytics", 1, "/reports//2024/./", 0, "/reports/2024", 0,
	    NULL);
	check("drive_path_dotdot_judged_after_resolution", &r,
	    "team=analytics", 1, "/reports/../etc", -EACCES, NULL, 0,
	    "drive_path /etc lies outside it");
	check("drive_path_dotdot_cannot_climb_out_of_grant", &r,
	    "team=analytics", 1, "/reports/../reports2", -EACCES, NULL, 0,
	    "lies outside");
	check("drive_path_dotdot_inside_grant_allowed", &r, "team=analytics",
	    1, "/reports/x/../y", 0, "/reports/y", 0, NULL);
	check("drive_path_relative_taken_from_drive_root", &r,
	    "team=analytics", 1, "reports/q1", 0, "/reports/q1", 0, NULL);
	check("drive_path_control_character_refused", &r, "team=analytics", 1,
	    "/reports/\n", -EINVAL, NULL, 0, "control character");
	perm_rules_clear(&r);

	/* "Create a drive with permissions": team-drive. */
	rules(&r, "[{\"labels\":{\"team\":\"backend\"},\"mode\":\"read-write\"},"
	    "{\"labels\":{\"team\":\"frontend\"},\"mode\":\"read\","
	    "\"path\":\"/shared\"}]");
	check("team_drive_backend_gets_whole_drive", &r, "team=backend", 0,
	    "/", 0, "/", 0, NULL);
	check("team_drive_backend_any_drive_path", &r, "team=backend", 0,
	    "/private", 0, "/private", 0, NULL);
	check("team_drive_frontend_confined_to_shared", &r, "team=frontend",
	    1, "/", 0, "/shared", 1, NULL);
	check("team_drive_frontend_inside_shared", &r, "team=frontend", 1,
	    "/shared/docs", 0, "/shared/docs", 1, NULL);
	check("team_drive_frontend_shared2_is_not_inside_shared", &r,
	    "team=frontend", 1, "/shared2", -EACCES, NULL, 0,
	    "permission 2 (team=frontend) grants only /shared");
	check("team_drive_frontend_read_write_refused", &r, "team=frontend",
	    0, "/shared", -EACCES, NULL, 0,
	    "permission 2 (team=frontend) grants read only; mount with "
	    "read_only");
	check("team_drive_other_team_denied", &r, "team=ml", 1, "/", -EACCES,
	    NULL, 0, "no permission rule of drive matches this workload's "
	    "labels");
	perm_rules_clear(&r);

	/* "Update permissions": backend AND production. */
	rules(&r, "[{\"labels\":{\"team\":\"backend\",\"env\":\"production\"},"
	    "\"mode\":\"read-write\"}]");
	check("updated_rules_refuse_former_match", &r, "team=frontend", 1, "/",
	    -EACCES, NULL, 0, "no permission rule");
	check("updated_rules_allow_new_match", &r,
	    "team=backend,env=production", 0, "/", 0, "/", 0, NULL);
	perm_rules_clear(&r);

	/* A rule granting "/" confines nothing. */
	rules(&r, "[{\"labels\":{\"team\":\"a\"},\"path\":\"/\"}]");
	check("root_grant_allows_any_drive_path", &r, "team=a", 0, "/deep/er",
	    0, "/deep/er", 0, NULL);
	perm_rules_clear(&r);
}

static void
test_json_parsing(void)
{
	struct perm_rules r;
	char *s;

	good_json("json_path_normalised", "[{\"labels\":{\"a\":\"b\"},"
	    "\"path\":\"//shared/./docs/\"}]", "read-write", "/shared/docs");
	good_json("json_mode_read", "[{\"labels\":{\"a\":\"b\"},"
	    "\"mode\":\"read\"}]", "read", "/");
	good_json("json_null_mode_and_path_are_defaults",
	    "[{\"labels\":{\"a\":\"b\"},\"mode\":null,\"path\":null}]",
	    "read-write", "/");

	bad_json("json_permissions_not_array", "{\"labels\":{}}",
	    "permissions: not an array");
	bad_json("json_fourth_rule_refused",
	    "[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"2\"}},"
	    "{\"labels\":{\"a\":\"3\"}},{\"labels\":{\"a\":\"4\"}}]",
	    "at most 3 rules, got 4");
	bad_json("json_rule_not_object", "[{\"labels\":{\"a\":\"1\"}},\"x\"]",
	    "permission 2: is not an object");
	bad_json("json_unknown_key_refused",
	    "[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"1\"},"
	    "\"read_only\":true}]", "permission 2: unknown field \"read_only\"");
	bad_json("json_misspelt_mode_key_refused",
	    "[{\"labels\":{\"a\":\"1\"},\"mdoe\":\"read\"}]",
	    "permission 1: unknown field \"mdoe\"");
	bad_json("json_labels_missing", "[{\"mode\":\"read\"}]",
	    "permission 1: labels: missing");
	bad_json("json_labels_null", "[{\"labels\":null}]",
	    "permission 1: labels: missing");
	bad_json("json_labels_empty_object", "[{\"labels\":{}}]",
	    "permission 1: labels: empty");
	bad_json("json_labels_not_object", "[{\"labels\":[\"a\"]}]",
	    "permission 1: labels: not an object");
	bad_json("json_label_value_not_string", "[{\"labels\":{\"a\":1}}]",
	    "permission 1: labels: \"a\" is not a string");
	bad_json("json_label_value_empty", "[{\"labels\":{\"a\":\"\"}}]",
	    "labels: label \"a\" has an empty value");
	bad_json("json_label_key_empty", "[{\"labels\":{\"\":\"x\"}}]",
	    "labels: a label key is empty");
	bad_json("json_label_key_too_long", "[{\"labels\":{\"kkkkkkkkkkkkkkkk"
	    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":"
	    "\"x\"}}]", "longer than 63");
	bad_json("json_label_key_with_colon", "[{\"labels\":{\"a:b\":\"x\"}}]",
	    "labels: a label key holds a control character, '=', ',', ':'");
	bad_json("json_label_value_control_character",
	    "[{\"labels\":{\"a\":\"x\\ty\"}}]",
	    "label \"a\" has a control character");
	good_json("json_label_value_utf8_and_colon_allowed",
	    "[{\"labels\":{\"team\":\"caf\u00e9:1\"}}]", "read-write", "/");
	bad_json("json_mode_unknown",
	    "[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"1\"},"
	    "\"mode\":\"write\"}]",
	    "permission 2: mode: must be \"read\" or \"read-write\"");
	bad_json("json_mode_not_string",
	    "[{\"labels\":{\"a\":\"1\"},\"mode\":true}]",
	    "permission 1: mode: not a string");
	bad_json("json_path_relative",
	    "[{\"labels\":{\"a\":\"1\"},\"path\":\"shared\"}]",
	    "permission 1: path \"shared\" is not absolute");
	bad_json("json_path_dotdot",
	    "[{\"labels\":{\"a\":\"1\"},\"path\":\"/shared/../..\"}]",
	    "permission 1: path must not contain \"..\"");
	bad_json("json_path_dotdot_escape",
	    "[{\"labels\":{\"a\":\"1\"},\"path\":\"/..\"}]",
	    "path must not contain \"..\"");
	bad_json("json_path_control_character",
	    "[{\"labels\":{\"a\":\"1\"},\"path\":\"/a\\nb\"}]",
	    "permission 1: path contains a control character");
	bad_json("json_path_dotdot_in_middle",
	    "[{\"labels\":{\"a\":\"1\"},\"path\":\"/a/../b\"}]",
	    "must not contain \"..\"");
	good_json("json_path_dots_in_names_allowed", "[{\"labels\":{\"a\":"
	    "\"b\"},\"path\":\"/..a/b../...\"}]", "read-write",
	    "/..a/b../...");
	bad_json("json_path_not_string",
	    "[{\"labels\":{\"a\":\"1\"},\"path\":7}]",
	    "permission 1: path: not a string");

	/* A refused document leaves the previous rules in place. */
	rules(&r, "[{\"labels\":{\"keep\":\"me\"}}]");
	{
		json_t *j = json_loads("[{\"labels\":{}}]", 0, NULL);
		char *cause = NULL;

		perm_rules_from_json(j, &r, &cause);
		tap_ok(r.n == 1 && labels_get(&r.rule[0].labels, "keep") != NULL,
		    "json_refusal_keeps_previous_rules");
		free(cause);
		json_decref(j);
	}
	/* NUL bytes built by a caller (jansson's decoder refuses them). */
	{
		json_t *j = json_pack("[{s:{s:s#}}]", "labels", "a", "x\0y",
		    (size_t)3);
		char *cause = NULL;

		tap_ok(perm_rules_from_json(j, &r, &cause) == -1 &&
		    cause != NULL && strstr(cause, "NUL") != NULL,
		    "json_label_value_with_nul_refused");
		free(cause);
		json_decref(j);
	}

	/* Round trip: to_json writes defaults explicitly, from_json reads them. */
	perm_rules_clear(&r);
	rules(&r, "[{\"labels\":{\"team\":\"backend\"}},"
	    "{\"labels\":{\"team\":\"frontend\",\"env\":\"prod\"},"
	    "\"mode\":\"read\",\"path\":\"/shared/\"}]");
	s = dump(&r);
	tap_is_str(s, "[{\"labels\":{\"team\":\"backend\"},\"mode\":"
	    "\"read-write\",\"path\":\"/\"},{\"labels\":{\"env\":\"prod\","
	    "\"team\":\"frontend\"},\"mode\":\"read\",\"path\":\"/shared\"}]",
	    "to_json_writes_normalised_rules_with_defaults");
	{
		struct perm_rules r2;
		char *s2;

		rules(&r2, s);
		s2 = dump(&r2);
		tap_is_str(s2, s, "from_json_of_to_json_round_trips");
		free(s2);
		perm_rules_clear(&r2);
	}
	free(s);
	perm_rules_clear(&r);
	memset(&r, 0, sizeof(r));
	s = dump(&r);
	tap_is_str(s, "[]", "to_json_of_no_rules_is_empty_array");
	free(s);
}

static void
test_cli_parsing(void)
{
	struct perm_rules r;
	char *cause = NULL, *s;
	int rc;

	good_cli("cli_labels_only_defaults", "team=backend", "team=backend",
	    "read-write", "/");
	good_cli("cli_mode_and_path", "team=frontend:read:/shared",
	    "team=frontend", "read", "/shared");
	good_cli("cli_two_labels_and_mode", "team=a,env=prod:read-write",
	    "team=a,env=prod", "read-write", "/");
	good_cli("cli_empty_mode_is_read_write", "team=a::/x", "team=a",
	    "read-write", "/x");
	good_cli("cli_path_normalised", "team=a:read:/x//y/", "team=a", "read",
	    "/x/y");
	good_cli("cli_path_may_hold_colon", "team=a:read:/x:y", "team=a",
	    "read", "/x:y");
	good_cli("cli_value_may_hold_equals", "k=a=b", "k=a=b", "read-write",
	    "/");

	bad_cli("cli_empty_spec", "", "permission 1: no labels");
	bad_cli("cli_empty_key", "=v", "a label key is empty");
	bad_cli("cli_empty_value", "k=", "label \"k\" has an empty value");
	bad_cli("cli_no_equals", "team", "label \"team\" is not K=V");
	bad_cli("cli_trailing_comma", "k=v,", "is not K=V");
	bad_cli("cli_duplicate_key", "a=1,b=2,a=3", "label \"a\" given twice");
	bad_cli("cli_bad_mode", "k=v:write", "mode \"write\" must be read or "
	    "read-write");
	bad_cli("cli_relative_path", "k=v:read:shared",
	    "path \"shared\" is not absolute");
	bad_cli("cli_escaping_path", "k=v:read:/a/../../b",
	    "path must not contain \"..\"");
	bad_cli("cli_no_labels_before_mode", ":read", "no labels");
	bad_cli("cli_invalid_utf8_value", "k=\xff\xfe", "invalid UTF-8");
	bad_cli("cli_invalid_utf8_path", "k=v:read:/\xc3", "not valid UTF-8");
	bad_cli("cli_control_character_in_path", "k=v:read:/a\tb",
	    "control character");

	memset(&r, 0, sizeof(r));
	rc = 0;
	rc |= perm_rule_parse_cli("a=1", &r, &cause);
	rc |= perm_rule_parse_cli("a=2:read", &r, &cause);
	rc |= perm_rule_parse_cli("a=3:read:/p", &r, &cause);
	tap_ok(rc == 0 && r.n == 3, "cli_three_rules_append_in_order");
	s = dump(&r);
	tap_is_str(s, "[{\"labels\":{\"a\":\"1\"},\"mode\":\"read-write\","
	    "\"path\":\"/\"},{\"labels\":{\"a\":\"2\"},\"mode\":\"read\","
	    "\"path\":\"/\"},{\"labels\":{\"a\":\"3\"},\"mode\":\"read\","
	    "\"path\":\"/p\"}]", "cli_rules_to_json");
	free(s);
	rc = perm_rule_parse_cli("a=4", &r, &cause);
	tap_ok(rc == -1 && r.n == 3 && cause != NULL &&
	    strstr(cause, "permission 4: at most 3 rules") != NULL,
	    "cli_fourth_rule_refused");
	free(cause);
	perm_rules_clear(&r);
}

static void
test_decision_string(void)
{
	struct perm_rules r;
	struct perm_decision d;
	struct labels l = { 0, NULL };
	char *cause = NULL, *s;

	rules(&r, "[{\"labels\":{\"team\":\"backend\"}},"
	    "{\"labels\":{\"team\":\"frontend\"},\"mode\":\"read\","
	    "\"path\":\"/shared\"}]");
	workload(&l, "team=frontend,blaxel-name=sb-1");
	perm_evaluate(&r, &l, 1, "/", &d, &cause);
	s = perm_decision_string("team-drive", &r, &l, &d, cause);
	tap_is_str(s, "drive team-drive: allowed read at /shared by "
	    "permission 2 (team=frontend)", "decision_string_allowed");
	free(s);

	perm_evaluate(&r, &l, 0, "/", &d, &cause);
	s = perm_decision_string("team-drive", &r, &l, &d, cause);
	tap_is_str(s, "drive team-drive: denied: permission 2 (team=frontend) "
	    "grants read only; mount with read_only",
	    "decision_string_denied_by_rule");
	free(s);
	free(cause);
	cause = NULL;

	labels_clear(&l);
	labels_set(&l, "team", "ml\nforged: line");
	perm_evaluate(&r, &l, 1, "/", &d, &cause);
	s = perm_decision_string("team-drive", &r, &l, &d, cause);
	tap_is_str(s, "drive team-drive: denied: no permission rule of drive "
	    "matches this workload's labels (workload labels: "
	    "team=ml\\x0aforged: line)",
	    "decision_string_no_match_escapes_control_characters");
	free(s);
	free(cause);
	cause = NULL;
	perm_rules_clear(&r);

	perm_evaluate(&r, NULL, 0, "/sub", &d, &cause);
	s = perm_decision_string("open", &r, NULL, &d, cause);
	tap_is_str(s, "drive open: allowed read-write at /sub (no permission "
	    "rules)", "decision_string_no_rules");
	free(s);
	labels_clear(&l);
}

int
main(void)
{
	test_reference_behaviour();
	test_json_parsing();
	test_cli_parsing();
	test_decision_string();
	return tap_done();
}
