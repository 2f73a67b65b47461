/*
 * blfs's Landlock domain (sandboxing/landlock.c), tried from a process
 * that takes it on over a scratch tree: everything blfs does beneath the
 * drive's directory still works, nothing outside it opens, not even
 * through a /proc/self/fd magic link of an fd taken before, nor a file
 * uid 0 owns and may read by its mode (as the token is); and the
 * read-only domain of a read-only mount's blfs changes nothing at all.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandboxing/sandbox.h"
#include "tests/tap.h"

static char top[] = "/tmp/landlock-probe.XXXXXX";
/* The drive's mount locks' directory (blfs --mounts-fd). */
static int mounts = -1;

static void
touch(const char *rel, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	if ((fd = open(path, O_CREAT | O_WRONLY, mode)) == -1 ||
	    write(fd, "x", 1) != 1) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static const char *
err_name(int r)
{
	return r == 0 ? "OK" : strerror(r);
}

/* 0 or errno of an open of path relative to dfd (AT_FDCWD for none). */
static int
try_open(int dfd, const char *path, int flags)
{
	int fd = openat(dfd, path, flags | O_CLOEXEC, 0600);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

/*
 * Both domains: the mount locks can be opened for reading (to test who
 * holds them), and nothing else is allowed there.
 */
static void
check_mounts(const char *domain)
{
	int r;

	r = try_open(mounts, "x.lock", O_RDONLY);
	tap_ok(r == 0, "%s: a mount lock opens for reading: %s", domain,
	    err_name(r));
	r = try_open(mounts, "x.lock", O_RDWR);
	tap_ok(r == EACCES, "%s: not for writing: %s", domain, err_name(r));
	r = try_open(mounts, "y.lock", O_CREAT | O_EXCL | O_WRONLY);
	tap_ok(r == EACCES, "%s: no lock made there: %s", domain,
	    err_name(r));
	r = unlinkat(mounts, "x.lock", 0) == 0 ? 0 : errno;
	tap_ok(r == EACCES, "%s: none removed: %s", domain, err_name(r));
	r = try_open(mounts, "../drive/a/f", O_RDONLY);
	tap_ok(r == 0, "%s: the drive still reached from there: %s", domain,
	    err_name(r));
}

/* The read-write domain: everything blfs does, beneath the drive only. */
static void
check_rw(int root, int out)
{
	char path[256], *cause = NULL;
	int r;

	r = sandbox_blfs_landlock(root, mounts, 0, &cause);
	tap_ok(r == 0, "read-write domain: %s", r == 0 ? "in force" : cause);
	check_mounts("read-write");
	r = try_open(root, "a/f", O_RDWR);
	tap_ok(r == 0, "read-write open beneath the drive: %s", err_name(r));
	r = try_open(root, "a/new", O_CREAT | O_EXCL | O_WRONLY);
	tap_ok(r == 0, "create beneath the drive: %s", err_name(r));
	r = mkdirat(root, "a/dir", 0700) == 0 ? 0 : errno;
	tap_ok(r == 0, "mkdir beneath the drive: %s", err_name(r));
	r = renameat(root, "a/new", root, "b/moved") == 0 ? 0 : errno;
	tap_ok(r == 0, "rename across directories: %s", err_name(r));
	r = linkat(root, "b/moved", root, "a/link", 0) == 0 ? 0 : errno;
	tap_ok(r == 0, "link across directories: %s", err_name(r));
	r = unlinkat(root, "a/link", 0) == 0 ? 0 : errno;
	tap_ok(r == 0, "unlink beneath the drive: %s", err_name(r));
	r = try_open(root, "a/f", O_WRONLY | O_TRUNC);
	tap_ok(r == 0, "truncate beneath the drive: %s", err_name(r));
	r = try_open(root, ".", O_RDONLY | O_DIRECTORY);
	tap_ok(r == 0, "list the drive: %s", err_name(r));

	snprintf(path, sizeof(path), "%s/secret", top);
	r = try_open(AT_FDCWD, path, O_RDONLY);
	tap_ok(r == EACCES, "a uid 0 file outside, by path: %s", err_name(r));
	r = try_open(root, "../secret", O_RDONLY);
	tap_ok(r == EACCES, "the same through ../ of the drive: %s",
	    err_name(r));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", out);
	r = try_open(AT_FDCWD, path, O_RDONLY);
	tap_ok(r == EACCES, "through the magic link of an fd taken before: %s",
	    err_name(r));
	r = try_open(AT_FDCWD, "/etc/passwd", O_RDONLY);
	tap_ok(r == EACCES, "/etc/passwd: %s", err_name(r));
	r = try_open(AT_FDCWD, top, O_RDONLY | O_DIRECTORY);
	tap_ok(r == EACCES, "listing the drive's parent: %s", err_name(r));
	r = try_open(AT_FDCWD, "/tmp/landlock-probe-new",
	    O_CREAT | O_EXCL | O_WRONLY);
	tap_ok(r == EACCES, "creating outside: %s", err_name(r));
	snprintf(path, sizeof(path), "%s/escaped", top);
	r = renameat(root, "b/moved", AT_FDCWD, path) == 0 ? 0 : errno;
	tap_ok(r == EACCES || r == EXDEV, "renaming a file out: %s",
	    err_name(r));
}

/*
 * The read-only domain: reads beneath the drive, and not one change,
 * though the store's files are uid 0's and blfs is uid 0.
 */
static void
check_ro(int root)
{
	char *cause = NULL;
	int r;

	r = sandbox_blfs_landlock(root, mounts, 1, &cause);
	tap_ok(r == 0, "read-only domain: %s", r == 0 ? "in force" : cause);
	check_mounts("read-only");
	r = try_open(root, "a/f", O_RDONLY);
	tap_ok(r == 0, "read beneath the drive: %s", err_name(r));
	r = try_open(root, "a", O_RDONLY | O_DIRECTORY);
	tap_ok(r == 0, "list beneath the drive: %s", err_name(r));
	r = try_open(root, "a/f", O_WRONLY);
	tap_ok(r == EACCES, "no write open: %s", err_name(r));
	r = try_open(root, "a/f", O_RDONLY | O_TRUNC);
	tap_ok(r == EACCES, "no O_TRUNC: %s", err_name(r));
	r = try_open(root, "a/ro-new", O_CREAT | O_EXCL | O_WRONLY);
	tap_ok(r == EACCES, "no create: %s", err_name(r));
	r = mkdirat(root, "a/ro-dir", 0700) == 0 ? 0 : errno;
	tap_ok(r == EACCES, "no mkdir: %s", err_name(r));
	r = unlinkat(root, "a/f", 0) == 0 ? 0 : errno;
	tap_ok(r == EACCES, "no unlink: %s", err_name(r));
	r = renameat(root, "a/f", root, "a/g") == 0 ? 0 : errno;
	tap_ok(r == EACCES, "no rename: %s", err_name(r));
	r = linkat(root, "a/f", root, "a/h", 0) == 0 ? 0 : errno;
	tap_ok(r == EACCES, "no link: %s", err_name(r));
	r = try_open(AT_FDCWD, "/etc/passwd", O_RDONLY);
	tap_ok(r == EACCES, "nothing outside either: %s", err_name(r));
}

/*
 * Run one domain in a child (Landlock stays with a process for good) and
 * count its tests here.
 */
static void
confined(int root, int out, int ro)
{
	int p[2], counts[2], status;
	pid_t pid;

	fflush(stdout);
	if (pipe(p) == -1) {
		tap_ok(0, "pipe: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (ro)
			check_ro(root);
		else
			check_rw(root, out);
		fflush(stdout);
		counts[0] = tap_n;
		counts[1] = tap_failed;
		_exit(write(p[1], counts, sizeof(counts)) == sizeof(counts) ?
		    0 : 1);
	}
	close(p[1]);
	if (read(p[0], counts, sizeof(counts)) != sizeof(counts))
		counts[0] = tap_n, counts[1] = 1;
	close(p[0]);
	tap_n = counts[0];
	tap_failed += counts[1];
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		tap_ok(0, "the confined child exits cleanly");
}

int
main(void)
{
	char path[256], cmd[300];
	struct stat st;
	int root, out, abi;

	abi = sandbox_landlock_abi();
	if (abi < 2) {
		/*
		 * A kernel without it (or with ABI 1): blfs must say so and
		 * serve on, not fail. Nothing else here can be tried.
		 */
		char *cause = NULL;
		int r = sandbox_blfs_landlock(-1, -1, 0, &cause);

		tap_ok(r == 1 && cause != NULL && strstr(cause, "Landlock"),
		    "Landlock ABI %d here: blfs goes without, saying so (%s)",
		    abi, cause != NULL ? cause : "no cause");
		printf("1..%d\n", tap_n);
		return tap_failed != 0;
	}
	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/drive", top);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/drive/a", top);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/drive/b", top);
	mkdir(path, 0700);
	touch("drive/a/f", 0600);
	snprintf(path, sizeof(path), "%s/mounts", top);
	mkdir(path, 0700);
	touch("mounts/x.lock", 0644);
	mounts = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	touch("secret", 0600);	/* uid 0's, readable by its owner */

	snprintf(path, sizeof(path), "%s/drive", top);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/secret", top);
	out = open(path, O_PATH | O_CLOEXEC);	/* taken before */
	tap_ok(root != -1 && out != -1 && mounts != -1, "fds of the drive, "
	    "of its mount locks and of a file outside it");

	confined(root, out, 0);
	snprintf(path, sizeof(path), "%s/escaped", top);
	tap_ok(stat(path, &st) == -1, "nothing left the drive");

	confined(root, out, 1);
	tap_ok(fstatat(root, "a/f", &st, 0) == 0 &&
	    fstatat(root, "a/g", &st, 0) == -1 &&
	    fstatat(root, "a/h", &st, 0) == -1 &&
	    fstatat(root, "a/ro-new", &st, 0) == -1 &&
	    fstatat(root, "a/ro-dir", &st, 0) == -1,
	    "the read-only domain changed nothing");

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		tap_ok(0, "cleaning %s", top);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
