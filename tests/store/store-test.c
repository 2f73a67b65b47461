/* store.c and drive.c: drives on disk, strict drive.json, locks across processes. */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/labels.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"
#include "mountmgr/store.h"
#include "tests/tap.h"

static char *tmp;		/* scratch directory */
static char *spath;		/* the store: tmp/store */

static char *
at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
at(const char *fmt, ...)
{
	va_list	 ap;
	char	*rel, *p;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) == -1)
		exit(99);
	va_end(ap);
	xasprintf(&p, "%s/%s", spath, rel);
	free(rel);
	return p;
}

static int
exists(char *p)
{
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static void
write_file(char *p, const char *text, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd == -1 || write(fd, text, len) != (ssize_t)len)
		perror(p), exit(99);
	close(fd);
	free(p);
}

static char *
read_file(char *p)
{
	char	*buf = xcalloc(1, 70000);
	int	 fd = open(p, O_RDONLY);

	if (fd == -1 || read(fd, buf, 69999) < 0) {
		free(buf);
		buf = NULL;
	}
	if (fd != -1)
		close(fd);
	free(p);
	return buf;
}

/* Entries of a directory whose name starts with prefix. */
static int
count_entries(char *p, const char *prefix)
{
	DIR		*d = opendir(p);
	struct dirent	*e;
	int		 n = 0;

	free(p);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
		    strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Each takes a path from at() and frees it. */
static void
xmkdir(char *p, mode_t mode)
{
	(void)mkdir(p, mode);
	free(p);
}

static void
xsymlink(const char *target, char *p)
{
	(void)symlink(target, p);
	free(p);
}

static void
xunlink(char *p)
{
	(void)unlink(p);
	free(p);
}

static struct drive *
mkdrive(const char *name, const char *display)
{
	struct drive *d = drive_new();

	d->name = xstrdup(name);
	d->display_name = xstrdup(display != NULL ? display : name);
	d->created_at = drive_created_at_now();
	return d;
}

static int
create(struct store *s, const char *name)
{
	struct drive *d = mkdrive(name, NULL);
	int r = store_drive_create(s, d, NULL);

	drive_free(d);
	return r;
}

static void
test_open(struct store **s)
{
	char *cause = NULL, *missing;
	struct store *none;
	int r;

	missing = at("nope");
	r = store_open(missing, 0, &none, &cause);
	tap_is_int(r, -ENOENT, "opening a missing store without create: ENOENT");
	tap_has(cause, "does not exist", "its cause says so");
	tap_ok(!exists(missing), "and nothing was created");
	free(cause);

	r = store_open(spath, STORE_CREATE, s, NULL);
	tap_is_int(r, 0, "store_open with STORE_CREATE makes the store");
	tap_ok(exists(at("drives")), "drives/ exists");
	tap_is_str(store_path(*s), spath, "store_path gives the path back");
}

static void
test_create_load(struct store *s)
{
	struct drive	*d, *got = NULL;
	struct stat	 st;
	char		*cause = NULL;
	mode_t		 old;
	int		 r;

	d = mkdrive("alpha", "Alpha Drive");
	labels_set(&d->labels, "env", "dev");
	labels_set(&d->labels, "project", "é-ü");
	if (perm_rule_parse_cli("team=backend:read:/shared", &d->perms,
	    NULL) != 0)
		exit(99);
	old = umask(077);
	r = store_drive_create(s, d, &cause);
	umask(old);
	tap_is_int(r, 0, "create alpha");
	tap_ok(cause == NULL, "no cause on success");
	tap_ok(exists(at("drives/alpha/data")) &&
	    exists(at("drives/alpha/mounts")),
	    "create makes data/ and mounts/");
	{
		char *p = at("drives/alpha/drive.json");

		tap_ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644,
		    "drive.json is 0644 even under umask 077");
		free(p);
	}
	tap_is_int(count_entries(at("drives/alpha"), ""), 3,
	    "the drive holds drive.json, data, mounts and no temp file");
	tap_is_int(count_entries(at("drives"), "."), 0,
	    "no hidden creation directory is left");

	r = store_drive_create(s, d, &cause);
	tap_is_int(r, -EEXIST, "creating alpha again: EEXIST");
	tap_has(cause, "already exists", "EEXIST cause");
	free(cause);
	cause = NULL;
	drive_free(d);

	r = store_drive_load(s, "alpha", &got, &cause);
	tap_is_int(r, 0, "load alpha");
	if (got == NULL)
		exit(1);
	tap_is_str(got->name, "alpha", "loaded name");
	tap_is_str(got->display_name, "Alpha Drive", "loaded display_name");
	tap_is_str(labels_get(&got->labels, "env"), "dev", "loaded label");
	tap_is_str(labels_get(&got->labels, "project"), "é-ü",
	    "a UTF-8 label survives the round trip");
	tap_is_int(got->perms.n, 1, "loaded one permission rule");
	tap_ok(got->perms.rule[0].mode == PERM_READ &&
	    strcmp(got->perms.rule[0].path, "/shared") == 0 &&
	    strcmp(labels_get(&got->perms.rule[0].labels, "team"),
	    "backend") == 0, "the rule round-trips: team=backend read /shared");
	tap_ok(drive_created_at_check(got->created_at, NULL) == 0,
	    "created_at is RFC 3339 (%s)", got->created_at);
	drive_free(got);

	r = store_drive_load(s, "missing", &got, &cause);
	tap_is_int(r, -ENOENT, "loading a missing drive: ENOENT");
	tap_has(cause, "no such drive \"missing\" in", "ENOENT cause");
	free(cause);
	cause = NULL;

	r = store_drive_load(s, "../alpha", &got, &cause);
	tap_is_int(r, -EINVAL, "a name with ../ is refused: EINVAL");
	tap_has(cause, "DNS label", "it is not a DNS label");
	free(cause);
	cause = NULL;

	/* Invalid drives are refused before anything is written. */
	{
		static const char *bad[] = { "Alpha", "-a", "a-", "a_b", "",
		    "a.b", "0123456789012345678901234567890123456789012345678901"
		    "234567890123" };

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			d = mkdrive(bad[i], "x");
			r = store_drive_create(s, d, &cause);
			tap_ok(r == -EINVAL && cause != NULL &&
			    strstr(cause, "drive name") != NULL,
			    "create refuses name \"%.20s\" (%s)", bad[i],
			    cause != NULL ? cause : "");
			free(cause);
			cause = NULL;
			drive_free(d);
		}
	}
	d = mkdrive("gamma", "x");
	labels_set(&d->labels, "a=b", "c");
	tap_is_int(store_drive_create(s, d, &cause), -EINVAL,
	    "create refuses a label key with '='");
	tap_has(cause, "label key", "label cause names the key");
	free(cause);
	cause = NULL;
	labels_clear(&d->labels);
	for (int i = 0; i < DRIVE_LABELS_MAX + 1; i++) {
		char k[16];

		snprintf(k, sizeof k, "k%d", i);
		labels_set(&d->labels, k, "v");
	}
	tap_is_int(store_drive_create(s, d, &cause), -EINVAL,
	    "create refuses 65 labels");
	free(cause);
	cause = NULL;
	labels_clear(&d->labels);
	free(d->display_name);
	d->display_name = xstrdup("bad\nname");
	tap_is_int(store_drive_create(s, d, &cause), -EINVAL,
	    "create refuses a display name with a newline");
	tap_has(cause, "display_name", "display_name cause");
	free(cause);
	cause = NULL;
	free(d->display_name);
	d->display_name = xstrdup("bad \xff utf8");
	tap_is_int(store_drive_create(s, d, NULL), -EINVAL,
	    "create refuses a display name that is not UTF-8");
	free(d->created_at);
	d->created_at = xstrdup("now");
	free(d->display_name);
	d->display_name = xstrdup("fine");
	tap_is_int(store_drive_create(s, d, NULL), -EINVAL,
	    "create refuses a created_at that is not RFC 3339");
	tap_ok(!exists(at("drives/gamma")) && !exists(at("locks/gamma.lock")),
	    "no refused drive left anything in drives/");
	drive_free(d);
}

static void
test_update(struct store *s)
{
	struct store_update	 u;
	struct drive		*got = NULL;
	char			*cause = NULL, *before, *after, *rm[] = { "env" };
	int			 r;

	memset(&u, 0, sizeof u);
	u.display_name = "Renamed";
	labels_set(&u.set_labels, "team", "x");
	labels_set(&u.set_labels, "project", "p2");
	u.remove_labels = rm;
	u.nremove = 1;
	u.replace_perms = 1;	/* with no rules: clears */
	r = store_drive_update(s, "alpha", &u, &got, &cause);
	tap_is_int(r, 0, "update alpha");
	tap_ok(got != NULL && strcmp(got->display_name, "Renamed") == 0 &&
	    labels_get(&got->labels, "env") == NULL &&
	    strcmp(labels_get(&got->labels, "team"), "x") == 0 &&
	    strcmp(labels_get(&got->labels, "project"), "p2") == 0 &&
	    got->perms.n == 0, "update renamed, relabelled and cleared rules");
	drive_free(got);
	got = NULL;
	labels_clear(&u.set_labels);
	store_drive_load(s, "alpha", &got, NULL);
	tap_ok(got != NULL && strcmp(got->display_name, "Renamed") == 0 &&
	    got->perms.n == 0, "the update is on disk");
	drive_free(got);
	got = NULL;
	tap_is_int(count_entries(at("drives/alpha"), ".drive.json"), 0,
	    "the atomic write left no temp file");

	/* Rules replaced, not appended. */
	memset(&u, 0, sizeof u);
	u.replace_perms = 1;
	perm_rule_parse_cli("a=b", &u.perms, NULL);
	perm_rule_parse_cli("c=d:read", &u.perms, NULL);
	store_drive_update(s, "alpha", &u, &got, NULL);
	tap_ok(got != NULL && got->perms.n == 2 &&
	    got->perms.rule[1].mode == PERM_READ, "update sets two rules");
	drive_free(got);
	got = NULL;
	perm_rules_clear(&u.perms);
	perm_rule_parse_cli("e=f", &u.perms, NULL);
	store_drive_update(s, "alpha", &u, &got, NULL);
	tap_ok(got != NULL && got->perms.n == 1 &&
	    labels_get(&got->perms.rule[0].labels, "e") != NULL,
	    "a new rule list replaces the old one");
	drive_free(got);
	got = NULL;
	perm_rules_clear(&u.perms);

	/* Refused updates change nothing. */
	before = read_file(at("drives/alpha/drive.json"));
	memset(&u, 0, sizeof u);
	u.display_name = "";
	tap_is_int(store_drive_update(s, "alpha", &u, NULL, &cause), -EINVAL,
	    "update refuses an empty display name");
	free(cause);
	cause = NULL;
	u.display_name = NULL;
	labels_set(&u.set_labels, "k", "");
	tap_is_int(store_drive_update(s, "alpha", &u, NULL, &cause), -EINVAL,
	    "update refuses an empty label value");
	tap_has(cause, "empty value", "empty value cause");
	free(cause);
	cause = NULL;
	labels_clear(&u.set_labels);
	for (int i = 0; i < DRIVE_LABELS_MAX; i++) {
		char k[16];

		snprintf(k, sizeof k, "k%d", i);
		labels_set(&u.set_labels, k, "v");
	}
	tap_is_int(store_drive_update(s, "alpha", &u, NULL, &cause), -EINVAL,
	    "update refuses to go past 64 labels in total");
	tap_has(cause, "more than 64", "label count cause");
	free(cause);
	cause = NULL;
	labels_clear(&u.set_labels);
	after = read_file(at("drives/alpha/drive.json"));
	tap_ok(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "refused updates left drive.json as it was");
	free(before);
	free(after);

	tap_is_int(store_drive_update(s, "nosuch", &u, NULL, &cause), -ENOENT,
	    "updating a missing drive: ENOENT");
	free(cause);
}

/* A broken drive.json: what it says, and what the cause must contain. */
static const struct {
	const char	*json;
	const char	*cause;
} broken[] = {
	{ "", "not valid JSON" },
	{ "{", "not valid JSON" },
	{ "[]", "not a JSON object" },
	{ "null", "not valid JSON" },
	{ "\"x\"", "not valid JSON" },
	{ "{\"name\":\"broken\",\"created_at\":\"2025-01-01T00:00:00Z\","
	    "\"extra\":1}", "unknown field \"extra\"" },
	{ "{\"name\":\"broken\",\"created_at\":\"2025-01-01T00:00:00Z\"} x",
	    "not valid JSON" },
	{ "{\"name\":\"broken\",\"name\":\"broken\",\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "duplicate" },
	{ "{\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "field \"name\": missing" },
	{ "{\"name\":5,\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "field \"name\": not a string" },
	{ "{\"name\":\"other\",\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "the drive's directory is \"broken\"" },
	{ "{\"name\":\"Broken!\",\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "DNS label" },
	{ "{\"name\":\"bro\\u0000ken\",\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "not valid JSON" },
	{ "{\"name\":\"broken\"}", "field \"created_at\": missing" },
	{ "{\"name\":\"broken\",\"created_at\":\"yesterday\"}", "RFC 3339" },
	{ "{\"name\":\"broken\",\"created_at\":\"2025-13-01T00:00:00Z\"}",
	    "RFC 3339" },
	{ "{\"name\":\"broken\",\"created_at\":\"2025-02-30T00:00:00\"}",
	    "RFC 3339" },
	{ "{\"name\":\"broken\",\"created_at\":1735689600000}",
	    "field \"created_at\": not a string" },
	{ "{\"name\":\"broken\",\"display_name\":7,\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "field \"display_name\": not a string" },
	{ "{\"name\":\"broken\",\"display_name\":\"\",\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "display_name is empty" },
	{ "{\"name\":\"broken\",\"display_name\":\"a\\u001bb\",\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "control character" },
	{ "{\"name\":\"broken\",\"labels\":[],\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "field \"labels\": not an object" },
	{ "{\"name\":\"broken\",\"labels\":{\"a\":1},\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "\"a\" is not a string" },
	{ "{\"name\":\"broken\",\"labels\":{\"\":\"x\"},\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "label key is empty" },
	{ "{\"name\":\"broken\",\"labels\":{\"a\":\"\"},\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "empty value" },
	{ "{\"name\":\"broken\",\"labels\":{\"a,b\":\"c\"},\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "label key" },
	{ "{\"name\":\"broken\",\"labels\":null,\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "field \"labels\"" },
	{ "{\"name\":\"broken\",\"permissions\":{},\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "field \"permissions\": not an array" },
	{ "{\"name\":\"broken\",\"permissions\":[{}],\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "permission 1: labels: missing" },
	{ "{\"name\":\"broken\",\"permissions\":[{\"labels\":{\"a\":\"b\"},"
	    "\"mode\":\"write\"}],\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "mode" },
	{ "{\"name\":\"broken\",\"permissions\":[{\"labels\":{\"a\":\"b\"}},"
	    "{\"labels\":{\"a\":\"b\"}},{\"labels\":{\"a\":\"b\"}},"
	    "{\"labels\":{\"a\":\"b\"}}],\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", "at most 3" },
	{ "{\"name\":\"broken\",\"permissions\":[{\"labels\":{\"a\":\"b\"},"
	    "\"path\":\"../etc\"}],\"created_at\":\"2025-01-01T00:00:00Z\"}",
	    "path" },
};

static void
test_broken(struct store *s)
{
	struct store_list	 l;
	struct drive		*got;
	char			*cause, *big, name[160];
	int			 r;

	xmkdir(at("drives/broken"), 0755);
	xmkdir(at("drives/broken/data"), 0755);
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		write_file(at("drives/broken/drive.json"), broken[i].json,
		    strlen(broken[i].json));
		got = NULL;
		cause = NULL;
		r = store_drive_load(s, "broken", &got, &cause);
		snprintf(name, sizeof name, "broken drive.json %zu is refused "
		    "with EIO", i);
		tap_ok(r == -EIO && got == NULL, "%s (%s)", name,
		    cause != NULL ? cause : "");
		snprintf(name, sizeof name, "broken drive.json %zu: cause "
		    "names the file", i);
		tap_has(cause, "drives/broken/drive.json: ", name);
		snprintf(name, sizeof name, "broken drive.json %zu: cause says "
		    "what is wrong", i);
		tap_has(cause, broken[i].cause, name);
		free(cause);
	}

	/* Deep nesting must be an error, not a stack overflow. */
	big = xmalloc(200000 + 64);
	strcpy(big, "{\"name\":\"broken\",\"labels\":");
	{
		size_t o = strlen(big);

		memset(big + o, '[', 30000);
		o += 30000;
		big[o] = '\0';
	}
	write_file(at("drives/broken/drive.json"), big, strlen(big));
	cause = NULL;
	tap_is_int(store_drive_load(s, "broken", &got, &cause), -EIO,
	    "30000 nested arrays are refused");
	free(cause);

	/* Oversized: valid JSON padded past 64 KiB. */
	memset(big, ' ', 70000);
	memcpy(big + 70000, "{\"name\":\"broken\",\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", 51);
	write_file(at("drives/broken/drive.json"), big, 70051);
	cause = NULL;
	tap_is_int(store_drive_load(s, "broken", &got, &cause), -EIO,
	    "a drive.json over 64 KiB is refused");
	tap_has(cause, "larger than 65536 bytes", "oversize cause");
	free(cause);
	free(big);

	/* The minimal valid file. */
	{
		const char *min = "{\"name\":\"broken\",\"permissions\":null,"
		    "\"created_at\":\"2025-01-01t00:00:00.5+02:00\"}";

		write_file(at("drives/broken/drive.json"), min, strlen(min));
	}
	got = NULL;
	r = store_drive_load(s, "broken", &got, &cause);
	tap_is_int(r, 0, "a minimal hand-written drive.json loads");
	tap_ok(got != NULL && strcmp(got->display_name, "broken") == 0 &&
	    got->labels.n == 0 && got->perms.n == 0,
	    "display_name defaults to the name, no labels, no rules");
	drive_free(got);

	/* Not a regular file. */
	xunlink(at("drives/broken/drive.json"));
	cause = NULL;
	tap_is_int(store_drive_load(s, "broken", &got, &cause), -EIO,
	    "a missing drive.json is EIO");
	tap_has(cause, "is missing", "missing cause");
	free(cause);
	{
		char *p = at("drives/broken/drive.json");

		mkfifo(p, 0644);
		free(p);
	}
	cause = NULL;
	alarm(5);	/* opening a FIFO would hang: fail loudly instead */
	tap_is_int(store_drive_load(s, "broken", &got, &cause), -EIO,
	    "a FIFO as drive.json is refused without blocking");
	alarm(0);
	tap_has(cause, "not a regular file", "FIFO cause");
	free(cause);
	xunlink(at("drives/broken/drive.json"));
	write_file(at("outside.json"), "{\"name\":\"broken\",\"created_at\":"
	    "\"2025-01-01T00:00:00Z\"}", 51);
	xsymlink("../../outside.json", at("drives/broken/drive.json"));
	cause = NULL;
	tap_is_int(store_drive_load(s, "broken", &got, &cause), -EIO,
	    "a symlink as drive.json is refused, never followed");
	free(cause);

	/* Oddities in drives/ itself. */
	xmkdir(at("drives/Not_A_Drive"), 0755);
	xsymlink("alpha", at("drives/link"));
	write_file(at("drives/file"), "x", 1);

	r = store_drive_list(s, &l, &cause);
	tap_is_int(r, 0, "list succeeds despite broken entries");
	{
		int seen_alpha = 0, seen_broken = 0, seen_bad = 0, seen_link = 0,
		    seen_file = 0;

		for (size_t i = 0; i < l.n; i++) {
			struct store_entry *e = &l.v[i];

			if (strcmp(e->name, "alpha") == 0)
				seen_alpha = e->drive != NULL && e->error == 0;
			if (strcmp(e->name, "broken") == 0)
				seen_broken = e->drive == NULL &&
				    e->error == -EIO && e->cause != NULL;
			if (strcmp(e->name, "Not_A_Drive") == 0)
				seen_bad = e->drive == NULL &&
				    strstr(e->cause, "is not a drive") != NULL;
			if (strcmp(e->name, "link") == 0)
				seen_link = e->drive == NULL &&
				    strstr(e->cause, "symlink") != NULL;
			if (strcmp(e->name, "file") == 0)
				seen_file = e->drive == NULL &&
				    strstr(e->cause, "not a directory") != NULL;
			if (i > 0)
				tap_ok(strcmp(l.v[i - 1].name, e->name) < 0,
				    "list is sorted (%s < %s)",
				    l.v[i - 1].name, e->name);
		}
		tap_ok(seen_alpha, "list shows alpha as a good drive");
		tap_ok(seen_broken, "list shows broken as broken, with a cause");
		tap_ok(seen_bad, "list shows a bad directory name as broken");
		tap_ok(seen_link, "list shows a symlink in drives/ as broken");
		tap_ok(seen_file, "list shows a file in drives/ as broken");
	}
	store_list_clear(&l);
	xunlink(at("drives/link"));
	xunlink(at("drives/file"));
	{
		char *p = at("drives/Not_A_Drive");

		rmdir(p);
		free(p);
	}

	/* A broken drive can still be deleted. */
	cause = NULL;
	tap_is_int(store_drive_delete(s, "broken", &cause), 0,
	    "a broken drive can be deleted");
	tap_ok(!exists(at("drives/broken")), "it is gone");
	tap_ok(exists(at("outside.json")), "its symlink's target is not");
	free(cause);
}

/* A child that takes a mount lock and holds it until told to go. */
static pid_t
locker(struct store *s, const char *name, const char *sid, int *gofd)
{
	int	ready[2], go[2];
	pid_t	pid;
	char	c;

	if (pipe(ready) == -1 || pipe(go) == -1)
		exit(99);
	if ((pid = fork()) == 0) {
		int fd;

		close(ready[0]);
		close(go[1]);
		c = store_mount_lock(s, name, sid, 0, &fd, NULL) == 0 ? 'y' :
		    'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1 || c != 'y')
		c = 'n';
	close(ready[0]);
	*gofd = go[1];
	return c == 'y' ? pid : -1;
}

static void
test_mount_locks(struct store *s)
{
	struct store_list	 l;
	char			*cause = NULL;
	pid_t			 pid;
	int			 go, status, fd, r;

	create(s, "beta");

	/* A stale lock: its holder is gone. */
	pid = locker(s, "beta", "stale-1", &go);
	tap_ok(pid > 0, "a child takes a mount lock on beta");
	close(go);
	waitpid(pid, &status, 0);
	tap_ok(exists(at("drives/beta/mounts/stale-1.lock")),
	    "the lock file outlives its holder");
	tap_is_int(store_drive_mounts(s, "beta"), 0,
	    "a stale lock is not an active mount");

	/* A held lock, in another process. */
	pid = locker(s, "alpha", "sess-1", &go);
	tap_ok(pid > 0, "a child takes a mount lock on alpha");
	tap_is_int(store_drive_mounts(s, "alpha"), 1, "alpha has one mount");
	r = store_drive_delete(s, "alpha", &cause);
	tap_is_int(r, -EBUSY, "deleting a mounted drive: EBUSY");
	tap_has(cause, "drive \"alpha\" is mounted (session sess-1)",
	    "EBUSY cause names the session");
	free(cause);
	cause = NULL;
	tap_ok(exists(at("drives/alpha/drive.json")), "alpha is still there");
	store_drive_list(s, &l, NULL);
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].name, "alpha") == 0)
			tap_is_int(l.v[i].mounts, 1, "list counts alpha's mount");
	store_list_clear(&l);
	tap_is_int(store_mount_unlock_cleanup(s, "alpha", "sess-1", &cause),
	    -EBUSY, "cleanup refuses a held lock");
	free(cause);
	cause = NULL;
	close(go);
	waitpid(pid, &status, 0);
	tap_is_int(store_drive_mounts(s, "alpha"), 0,
	    "the mount ends with its holder");
	tap_is_int(store_mount_unlock_cleanup(s, "alpha", "sess-1", &cause), 0,
	    "cleanup removes a stale lock");
	tap_ok(!exists(at("drives/alpha/mounts/sess-1.lock")),
	    "the lock file is gone");
	tap_is_int(store_mount_unlock_cleanup(s, "alpha", "sess-1", NULL), 0,
	    "cleanup of an absent lock is fine");

	/* The blfs case: the fd crosses exec, the agent's copy closes. */
	r = store_mount_lock(s, "alpha", "sess-2", 0, &fd, &cause);
	tap_is_int(r, 0, "the agent takes a mount lock");
	tap_ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the lock fd is close-on-exec");
	fcntl(fd, F_SETFD, 0);
	if ((pid = fork()) == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	close(fd);
	tap_is_int(store_drive_delete(s, "alpha", NULL), -EBUSY,
	    "the lock lives on in an exec'd child after the agent closes it");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	/* The same process: OFD locks conflict across open files. */
	r = store_mount_lock(s, "alpha", "sess-3", 0, &fd, NULL);
	tap_is_int(store_drive_delete(s, "alpha", NULL), -EBUSY,
	    "a lock held by this very process still blocks delete");
	close(fd);

	tap_is_int(store_mount_lock(s, "nosuch", "s", 0, &fd, &cause), -ENOENT,
	    "mount lock on a missing drive: ENOENT");
	free(cause);
	cause = NULL;
	tap_is_int(store_mount_lock(s, "alpha", "../x", 0, &fd, &cause),
	    -EINVAL, "a session id with a slash is refused");
	free(cause);
	cause = NULL;
	tap_is_int(store_mount_lock(s, "alpha", ".hidden", 0, &fd, NULL),
	    -EINVAL, "a session id starting with '.' is refused");

	/* beta: its stale lock is swept by delete. */
	tap_is_int(store_drive_delete(s, "beta", &cause), 0,
	    "deleting a drive with only stale locks succeeds");
	free(cause);
	tap_ok(!exists(at("drives/beta")), "beta is gone");
	tap_is_int(count_entries(at("trash"), ""), 0, "the trash is empty");
	tap_is_int(store_drive_mounts(s, "beta"), -ENOENT,
	    "mounts of a deleted drive: ENOENT");
}

static void
test_delete_safely(struct store *s)
{
	char	*cause = NULL, *p, *q;
	int	 fd, r;

	create(s, "gamma");
	xmkdir(at("victim"), 0755);
	write_file(at("victim/keep"), "x", 1);
	xsymlink(p = at("victim"), at("drives/gamma/data/abs"));
	free(p);
	xsymlink("../../../victim", at("drives/gamma/data/rel"));
	xsymlink(p = at("victim/keep"), at("drives/gamma/data/file"));
	free(p);
	/* Deep enough to need care, with files at every level. */
	p = at("drives/gamma/data");
	for (int i = 0; i < 60; i++) {
		char *n, *f;

		xasprintf(&n, "%s/d", p);
		mkdir(n, 0755);
		xasprintf(&f, "%s/f", n);
		write_file(f, "y", 1);
		free(p);
		p = n;
	}
	free(p);
	xmkdir(at("drives/gamma/data/ro"), 0555);

	r = store_open_drive_data(s, "gamma", &fd, &cause);
	tap_is_int(r, 0, "store_open_drive_data opens gamma's data");
	tap_ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_PATH),
	    "the data fd is O_PATH");
	close(fd);

	r = store_drive_delete(s, "gamma", &cause);
	tap_is_int(r, 0, "delete gamma, symlinks and deep tree included");
	free(cause);
	cause = NULL;
	tap_ok(!exists(at("drives/gamma")), "gamma is gone");
	tap_ok(exists(at("victim/keep")),
	    "what gamma's symlinks pointed to is untouched");
	tap_is_int(count_entries(at("trash"), ""), 0, "nothing left in trash");
	tap_is_int(store_drive_delete(s, "gamma", &cause), -ENOENT,
	    "deleting it again: ENOENT");
	free(cause);
	cause = NULL;

	/* Something mounted inside a drive is never emptied by delete. */
	create(s, "epsilon");
	xmkdir(at("drives/epsilon/data/m"), 0755);
	p = at("victim");
	q = at("drives/epsilon/data/m");
	if (geteuid() != 0 || mount(p, q, NULL, MS_BIND, NULL) == -1) {
		tap_ok(1, "# SKIP bind mounts need root");
		tap_ok(1, "# SKIP bind mounts need root");
		tap_ok(1, "# SKIP bind mounts need root");
	} else {
		r = store_drive_delete(s, "epsilon", &cause);
		tap_is_int(r, -EBUSY, "delete refuses a drive with a mount "
		    "inside");
		tap_has(cause, "has something mounted at", "its cause");
		free(cause);
		cause = NULL;
		umount2(q, MNT_DETACH);
		tap_ok(exists(at("victim/keep")) &&
		    exists(at("drives/epsilon/drive.json")),
		    "the mounted tree and the drive are untouched");
	}
	free(p);
	free(q);
	tap_is_int(store_drive_delete(s, "epsilon", NULL), 0,
	    "once unmounted, the drive deletes");

	/* data/ replaced by a symlink: refused, not followed. */
	create(s, "delta");
	rmdir(p = at("drives/delta/data"));
	xsymlink(q = at("victim"), p);
	free(q);
	r = store_open_drive_data(s, "delta", &fd, &cause);
	tap_is_int(r, -EIO, "a symlinked data/ is refused");
	tap_has(cause, "data is a symlink", "its cause");
	free(cause);
	cause = NULL;
	tap_is_int(store_open_drive_data(s, "nosuch", &fd, &cause), -ENOENT,
	    "data of a missing drive: ENOENT");
	free(cause);
	store_drive_delete(s, "delta", NULL);
	tap_ok(exists(at("victim/keep")), "deleting delta spared the target");
}

/* Several processes updating one drive at once lose nothing. */
static void
test_concurrency(struct store *s)
{
	enum { NPROC = 4, NUPD = 12 };
	struct drive	*got = NULL;
	pid_t		 pids[NPROC];
	int		 status, ok = 1, nexist = 0, ncreated = 0;

	create(s, "shared");
	for (int i = 0; i < NPROC; i++) {
		if ((pids[i] = fork()) == 0) {
			for (int j = 0; j < NUPD; j++) {
				struct store_update u;
				char k[16];

				memset(&u, 0, sizeof u);
				snprintf(k, sizeof k, "p%d-%d", i, j);
				labels_set(&u.set_labels, k, "v");
				if (store_drive_update(s, "shared", &u, NULL,
				    NULL) != 0)
					_exit(1);
				labels_clear(&u.set_labels);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < NPROC; i++)
		if (waitpid(pids[i], &status, 0) == -1 || status != 0)
			ok = 0;
	tap_ok(ok, "%d processes each made %d updates", NPROC, NUPD);
	store_drive_load(s, "shared", &got, NULL);
	tap_is_int(got != NULL ? (long long)got->labels.n : -1, NPROC * NUPD,
	    "no update was lost");
	drive_free(got);
	tap_is_int(count_entries(at("drives/shared"), ".drive.json"), 0,
	    "no temp file left behind");

	/* Racing creators: exactly one wins. */
	for (int i = 0; i < NPROC; i++) {
		if ((pids[i] = fork()) == 0) {
			int r = create(s, "race");

			_exit(r == 0 ? 0 : r == -EEXIST ? 1 : 2);
		}
	}
	for (int i = 0; i < NPROC; i++) {
		waitpid(pids[i], &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ncreated++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			nexist++;
	}
	tap_ok(ncreated == 1 && nexist == NPROC - 1,
	    "racing creates: one created, the rest EEXIST (%d, %d)", ncreated,
	    nexist);
}

int
main(void)
{
	char		 tmpl[] = "/tmp/store-test.XXXXXX";
	struct store	*s = NULL;
	char		*cmd;

	if (mkdtemp(tmpl) == NULL || (tmp = realpath(tmpl, NULL)) == NULL)
		perror("mkdtemp"), exit(99);
	xasprintf(&spath, "%s/store", tmp);

	test_open(&s);
	if (s == NULL)
		return tap_done();
	test_create_load(s);
	test_update(s);
	test_broken(s);
	test_mount_locks(s);
	test_delete_safely(s);
	test_concurrency(s);
	store_free(s);

	/* The 0555 directory must not stop the cleanup. */
	xasprintf(&cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", tmp, tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmp);
	free(cmd);
	free(spath);
	free(tmp);
	return tap_done();
}
