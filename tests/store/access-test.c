/*
 * Drive access modes in the store: access_mode in drive.json (strict, and
 * left out when RWX), the decision store_mount_lock makes under the
 * drive's lock, racing processes for an RWO drive, and updates.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/store.h"
#include "tests/tap.h"

static char *spath;

static char *
file_text(const char *rel)
{
	char	*p, *buf = xcalloc(1, 70000);
	int	 fd;

	xasprintf(&p, "%s/%s", spath, rel);
	fd = open(p, O_RDONLY);
	free(p);
	if (fd == -1 || read(fd, buf, 69999) < 0) {
		free(buf);
		buf = NULL;
	}
	if (fd != -1)
		close(fd);
	return buf;
}

static void
put_text(const char *rel, const char *text)
{
	char	*p;
	int	 fd;

	xasprintf(&p, "%s/%s", spath, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || write(fd, text, strlen(text)) !=
	    (ssize_t)strlen(text))
		perror(p), exit(99);
	close(fd);
	free(p);
}

static int
lock_exists(const char *drive, const char *sid)
{
	struct stat	 st;
	char		*p;
	int		 r;

	xasprintf(&p, "%s/drives/%s/mounts/%s.lock", spath, drive, sid);
	r = lstat(p, &st) == 0;
	free(p);
	return r;
}

static int
create(struct store *s, const char *name, enum drive_access a)
{
	struct drive	*d = drive_new();
	int		 r;

	d->name = xstrdup(name);
	d->display_name = xstrdup(name);
	d->created_at = drive_created_at_now();
	d->access = a;
	r = store_drive_create(s, d, NULL);
	drive_free(d);
	return r;
}

static enum drive_access
access_of(struct store *s, const char *name)
{
	struct drive		*d = NULL;
	enum drive_access	 a;

	if (store_drive_load(s, name, &d, NULL) != 0)
		return (enum drive_access)-1;
	a = d->access;
	drive_free(d);
	return a;
}

/*
 * A child that waits for a byte on go, tries a mount lock, says 'y' or
 * 'n' on its pipe, and holds what it got until it is killed.
 */
struct holder {
	pid_t	pid;
	int	go;
	int	said;
};

static void
holder_start(struct holder *h, struct store *s, const char *drive,
    const char *sid, int read_only)
{
	int	said[2], go[2];
	char	c;

	if (pipe(said) == -1 || pipe(go) == -1)
		exit(99);
	if ((h->pid = fork()) == 0) {
		int fd;

		close(said[0]);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		c = store_mount_lock(s, drive, sid, read_only, &fd, NULL) == 0 ?
		    'y' : 'n';
		if (write(said[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(said[1]);
	close(go[0]);
	h->go = go[1];
	h->said = said[0];
}

static void
holder_go(struct holder *h)
{
	if (write(h->go, "g", 1) != 1)
		exit(99);
}

static int
holder_got(struct holder *h)
{
	char c = 'n';

	if (read(h->said, &c, 1) != 1)
		c = 'n';
	return c == 'y';
}

/* Killed, as a blfs that dies: its lock goes with it. */
static void
holder_end(struct holder *h)
{
	int status;

	kill(h->pid, SIGKILL);
	close(h->go);
	close(h->said);
	waitpid(h->pid, &status, 0);
}

/* Holds a mount lock in a child until holder_end. */
static int
hold(struct holder *h, struct store *s, const char *drive, const char *sid,
    int read_only)
{
	holder_start(h, s, drive, sid, read_only);
	holder_go(h);
	return holder_got(h);
}

static void
test_json(void)
{
	static const struct {
		const char	*json;
		const char	*why;
	} bad[] = {
		{ "5", "field \"access_mode\": not a string" },
		{ "null", "field \"access_mode\": not a string" },
		{ "[\"RWO\"]", "field \"access_mode\": not a string" },
		{ "true", "field \"access_mode\": not a string" },
		{ "\"rwo\"", "field \"access_mode\": \"rwo\" is not one of "
		    "\"RWX\", \"RWO\", \"ROX\"" },
		{ "\"\"", "field \"access_mode\": \"\" is not one of" },
		{ "\"RWOX\"", "field \"access_mode\": \"RWOX\" is not one" },
		{ "\"RW\\u0000O\"", "not valid JSON" },
		{ "\"RWX \"", "is not one of" },
	};
	struct drive		*d = NULL;
	enum drive_access	 a;
	char			*cause = NULL, *text, buf[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "{\"name\": \"x\", \"access_mode\": "
		    "%s, \"created_at\": \"2025-01-01T00:00:00Z\"}",
		    bad[i].json);
		tap_ok(drive_from_json(buf, strlen(buf), &d, &cause) == -1 &&
		    d == NULL, "access_mode %s is refused", bad[i].json);
		tap_has(cause, bad[i].why, "  and the cause names the field");
		free(cause);
		cause = NULL;
	}

	snprintf(buf, sizeof buf, "{\"name\": \"x\", \"created_at\": "
	    "\"2025-01-01T00:00:00Z\"}");
	tap_ok(drive_from_json(buf, strlen(buf), &d, NULL) == 0 &&
	    d->access == DRIVE_ACCESS_RWX,
	    "a drive.json without access_mode is RWX");
	drive_free(d);
	d = NULL;

	snprintf(buf, sizeof buf, "{\"name\": \"x\", \"access_mode\": "
	    "\"ROX\", \"created_at\": \"2025-01-01T00:00:00Z\"}");
	tap_ok(drive_from_json(buf, strlen(buf), &d, NULL) == 0 &&
	    d->access == DRIVE_ACCESS_ROX, "\"ROX\" is read");
	text = drive_to_text(d);
	tap_has(text, "\"access_mode\": \"ROX\"", "and written back");
	free(text);
	d->access = DRIVE_ACCESS_RWX;
	text = drive_to_text(d);
	tap_ok(text != NULL && strstr(text, "access_mode") == NULL,
	    "RWX is left out of drive.json (older agents still read it)");
	free(text);
	{
		json_t *j = drive_to_json(d);

		tap_is_str(json_string_value(json_object_get(j,
		    "access_mode")), "RWX", "but shown by drive_to_json");
		json_decref(j);
	}
	drive_free(d);

	tap_ok(drive_access_parse("rwo", 1, &a, NULL) == 0 &&
	    a == DRIVE_ACCESS_RWO, "the command line takes rwo");
	tap_ok(drive_access_parse("Rox", 1, &a, NULL) == 0 &&
	    a == DRIVE_ACCESS_ROX, "in any case");
	tap_ok(drive_access_parse("rw", 1, &a, &cause) == -1,
	    "but not \"rw\"");
	tap_has(cause, "access mode \"rw\" is not one of rwx, rwo, rox",
	    "  naming the modes");
	free(cause);
}

static void
test_create(struct store *s)
{
	char *text;

	tap_is_int(create(s, "plain", DRIVE_ACCESS_RWX), 0, "create an RWX "
	    "drive");
	text = file_text("drives/plain/drive.json");
	tap_ok(text != NULL && strstr(text, "access_mode") == NULL,
	    "its drive.json has no access_mode");
	free(text);
	tap_is_int(create(s, "single", DRIVE_ACCESS_RWO), 0, "create an RWO "
	    "drive");
	text = file_text("drives/single/drive.json");
	tap_has(text, "\"access_mode\": \"RWO\"", "its drive.json says RWO");
	free(text);
	tap_is_int(access_of(s, "single"), DRIVE_ACCESS_RWO,
	    "and loads as RWO");
	tap_is_int(create(s, "readers", DRIVE_ACCESS_ROX), 0, "create a ROX "
	    "drive");
}

static void
test_rwo(struct store *s)
{
	struct holder	 h;
	char		*cause = NULL;
	int		 fd = -1;

	tap_ok(hold(&h, s, "single", "first-1", 0), "a first mount of the "
	    "RWO drive takes its lock");
	tap_is_int(store_mount_lock(s, "single", "second-1", 0, &fd, &cause),
	    -EBUSY, "a second one: EBUSY");
	tap_has(cause, "drive single is RWO (one mount at a time) and is "
	    "mounted already (session first-1)", "  naming the session");
	free(cause);
	cause = NULL;
	tap_ok(!lock_exists("single", "second-1"),
	    "  and leaving no lock file of its own");
	tap_is_int(store_mount_lock(s, "single", "second-2", 1, &fd, NULL),
	    -EBUSY, "a read-only second mount: EBUSY too");
	holder_end(&h);
	tap_is_int(store_mount_lock(s, "single", "second-3", 0, &fd, &cause),
	    0, "free again once the holder is gone (the lock dies with it)");
	free(cause);
	cause = NULL;
	tap_ok(!lock_exists("single", "first-1"), "  its stale lock swept");
	tap_is_int(store_mount_lock(s, "single", "third-1", 0, &(int){ -1 },
	    NULL), -EBUSY, "a lock held by this very process counts too");
	close(fd);
}

/*
 * Processes racing for one RWO drive, all let go at once: in every
 * round exactly one wins. The lock is the drive's (locks/NAME.lock), so
 * this holds across agents and machines sharing the store as well.
 */
static void
test_rwo_race(struct store *s)
{
	enum { NPROC = 6, ROUNDS = 25 };
	struct holder	h[NPROC];
	char		sid[32];
	int		bad = 0;

	for (int r = 0; r < ROUNDS; r++) {
		int won = 0;

		for (int i = 0; i < NPROC; i++) {
			snprintf(sid, sizeof sid, "race-%d-%d", r, i);
			holder_start(&h[i], s, "single", sid, 0);
		}
		for (int i = 0; i < NPROC; i++)
			holder_go(&h[i]);
		for (int i = 0; i < NPROC; i++)
			won += holder_got(&h[i]);
		for (int i = 0; i < NPROC; i++)
			holder_end(&h[i]);
		if (won != 1) {
			tap_diag("round %d: %d winners", r, won);
			bad++;
		}
	}
	tap_is_int(bad, 0, "racing for an RWO drive: one winner every round");
}

static void
test_rox(struct store *s)
{
	struct holder	 a, b;
	char		*cause = NULL;
	int		 fd;

	tap_is_int(store_mount_lock(s, "readers", "rw-1", 0, &fd, &cause),
	    -EACCES, "a read-write mount of a ROX drive: EACCES");
	tap_has(cause, "drive readers is ROX (read-only mounts only): mount "
	    "it with read_only", "  saying the drive is ROX");
	free(cause);
	tap_ok(!lock_exists("readers", "rw-1"), "  and taking no lock");
	tap_ok(hold(&a, s, "readers", "ro-1", 1) &&
	    hold(&b, s, "readers", "ro-2", 1),
	    "read-only mounts of it, two at once");
	tap_is_int(store_drive_mounts(s, "readers"), 2, "both counted");
	holder_end(&a);
	holder_end(&b);
}

static void
test_update(struct store *s)
{
	struct store_update	 u;
	struct holder		 a, b;
	struct drive		*d = NULL;
	char			*cause = NULL, *before, *after;

	memset(&u, 0, sizeof u);
	u.set_access = 1;
	u.access = DRIVE_ACCESS_RWO;
	tap_ok(hold(&a, s, "plain", "m-1", 0) && hold(&b, s, "plain", "m-2", 0),
	    "an RWX drive mounted twice");
	before = file_text("drives/plain/drive.json");
	tap_is_int(store_drive_update(s, "plain", &u, NULL, &cause), -EBUSY,
	    "making it RWO now: EBUSY");
	tap_has(cause, "is mounted 2 times", "  saying how many");
	free(cause);
	cause = NULL;
	after = file_text("drives/plain/drive.json");
	tap_ok(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "  and drive.json is untouched");
	free(after);
	holder_end(&b);
	tap_is_int(store_drive_update(s, "plain", &u, &d, &cause), 0,
	    "with one mount left, it may become RWO");
	tap_ok(d != NULL && d->access == DRIVE_ACCESS_RWO, "  and is RWO");
	drive_free(d);
	d = NULL;
	tap_is_int(store_mount_lock(s, "plain", "m-3", 0, &(int){ -1 }, NULL),
	    -EBUSY, "  so a second mount is refused");
	holder_end(&a);

	u.access = DRIVE_ACCESS_ROX;
	tap_is_int(store_drive_update(s, "plain", &u, NULL, NULL), 0,
	    "to ROX");
	tap_is_int(access_of(s, "plain"), DRIVE_ACCESS_ROX, "  on disk");
	u.access = DRIVE_ACCESS_RWX;
	tap_is_int(store_drive_update(s, "plain", &u, NULL, NULL), 0,
	    "back to RWX");
	after = file_text("drives/plain/drive.json");
	tap_ok(after != NULL && strcmp(before, after) == 0,
	    "  drive.json as it was before access modes");
	free(after);
	free(before);

	memset(&u, 0, sizeof u);
	u.set_access = 1;
	u.access = (enum drive_access)7;
	tap_is_int(store_drive_update(s, "plain", &u, NULL, &cause), -EINVAL,
	    "an update with an unknown mode: EINVAL");
	free(cause);
}

/* drive.json edited by hand: every store path refuses it, naming it. */
static void
test_hand_edited(struct store *s)
{
	struct drive	*d = NULL;
	char		*cause = NULL;
	int		 fd;

	create(s, "edited", DRIVE_ACCESS_RWX);
	put_text("drives/edited/drive.json", "{\"name\": \"edited\", "
	    "\"access_mode\": 1, \"created_at\": \"2025-01-01T00:00:00Z\"}");
	tap_is_int(store_drive_load(s, "edited", &d, &cause), -EIO,
	    "access_mode 1 edited in: the drive is broken (EIO)");
	tap_has(cause, "drives/edited/drive.json: field \"access_mode\": not "
	    "a string", "  naming the file and the field");
	free(cause);
	cause = NULL;
	tap_is_int(store_mount_lock(s, "edited", "e-1", 1, &fd, &cause), -EIO,
	    "a mount of it is refused");
	tap_has(cause, "field \"access_mode\"", "  naming the field");
	free(cause);
	cause = NULL;
	tap_ok(!lock_exists("edited", "e-1"), "  and takes no lock");

	put_text("drives/edited/drive.json", "{\"name\": \"edited\", "
	    "\"access_mode\": \"single\", \"created_at\": "
	    "\"2025-01-01T00:00:00Z\"}");
	tap_is_int(store_mount_lock(s, "edited", "e-2", 1, &fd, &cause), -EIO,
	    "access_mode \"single\": refused");
	tap_has(cause, "\"single\" is not one of", "  naming the value");
	free(cause);
}

int
main(void)
{
	char		 tmpl[] = "/tmp/access-test.XXXXXX", *cmd;
	struct store	*s = NULL;

	if (mkdtemp(tmpl) == NULL)
		perror("mkdtemp"), exit(99);
	xasprintf(&spath, "%s/store", tmpl);
	if (store_open(spath, STORE_CREATE, &s, NULL) != 0) {
		tap_ok(0, "open a new store in %s", spath);
		return tap_done();
	}
	test_json();
	test_create(s);
	test_rwo(s);
	test_rwo_race(s);
	test_rox(s);
	test_update(s);
	test_hand_edited(s);
	store_free(s);
	xasprintf(&cmd, "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpl);
	free(cmd);
	free(spath);
	return tap_done();
}
