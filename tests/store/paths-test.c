/* paths.c: normalisation, containment, mount_path rules, drive_path confinement. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "mountmgr/paths.h"
#include "tests/tap.h"

static char *tmp;	/* realpath of our scratch directory */

static char *
at(const char *rel)
{
	char *p;

	xasprintf(&p, "%s/%s", tmp, rel);
	return p;
}

static void
mk(const char *rel)
{
	char *p = at(rel);

	if (mkdir(p, 0755) == -1)
		perror(p), exit(99);
	free(p);
}

static void
ln(const char *target, const char *rel)
{
	char *p = at(rel);

	if (symlink(target, p) == -1)
		perror(p), exit(99);
	free(p);
}

static void
touch(const char *rel)
{
	char *p = at(rel);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);

	if (fd == -1)
		perror(p), exit(99);
	close(fd);
	free(p);
}

static int
exists(const char *rel)
{
	struct stat st;
	char *p = at(rel);
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static const struct {
	const char	*in;
	const char	*want;	/* NULL: refused with r */
	enum paths_result r;
} norm_cases[] = {
	{ "/", "/", PATHS_OK },
	{ "//", "/", PATHS_OK },
	{ "/a/b/", "/a/b", PATHS_OK },
	{ "/a//b///c", "/a/b/c", PATHS_OK },
	{ "/a/./b/.", "/a/b", PATHS_OK },
	{ "/a/../b", "/b", PATHS_OK },
	{ "/a/b/../../c/..", "/", PATHS_OK },
	{ "/..", "/", PATHS_OK },
	{ "/../../x", "/x", PATHS_OK },
	{ "/a/.b/..c/...", "/a/.b/..c/...", PATHS_OK },
	{ "/mnt/data", "/mnt/data", PATHS_OK },
	{ "/é/ü", "/é/ü", PATHS_OK },
	{ "", NULL, PATHS_EMPTY },
	{ "a/b", NULL, PATHS_RELATIVE },
	{ ".", NULL, PATHS_RELATIVE },
	{ "./a", NULL, PATHS_RELATIVE },
	{ "/a\nb", NULL, PATHS_CONTROL_CHAR },
	{ "/a\tb", NULL, PATHS_CONTROL_CHAR },
	{ "/a\x7f", NULL, PATHS_CONTROL_CHAR },
	{ "/a\x1b[31m", NULL, PATHS_CONTROL_CHAR },
};

static void
test_normalise(void)
{
	char	*out, *cause, *big, name[128];
	size_t	 i;

	for (i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
		enum paths_result r;

		out = cause = NULL;
		r = paths_normalise("mount_path", norm_cases[i].in, &out,
		    &cause);
		snprintf(name, sizeof name, "normalise case %zu result", i);
		tap_is_int(r, norm_cases[i].r, name);
		snprintf(name, sizeof name, "normalise case %zu output", i);
		tap_is_str(out, norm_cases[i].want, name);
		if (r != PATHS_OK) {
			snprintf(name, sizeof name,
			    "normalise case %zu cause names the field", i);
			tap_has(cause, "mount_path", name);
		}
		free(out);
		free(cause);
	}

	out = cause = NULL;
	tap_is_int(paths_normalise("mount_path", NULL, &out, &cause),
	    PATHS_EMPTY, "normalise refuses NULL as empty");
	free(cause);

	/* A relative path with control characters is not echoed raw. */
	cause = NULL;
	paths_normalise("mount_path", "a\nb", &out, &cause);
	tap_ok(cause != NULL && strchr(cause, '\n') == NULL,
	    "a refused path's control characters never reach the cause");
	free(cause);

	/* PATH_MAX - 1 bytes is the longest accepted path. */
	big = xmalloc(PATH_MAX + 1);
	for (i = 0; i < PATH_MAX - 1; i++)
		big[i] = (i % 200 == 0) ? '/' : 'x';
	big[PATH_MAX - 1] = '\0';
	out = NULL;
	tap_is_int(paths_normalise("mount_path", big, &out, NULL), PATHS_OK,
	    "normalise accepts a path of PATH_MAX-1 bytes");
	tap_is_int(out != NULL ? (long long)strlen(out) : -1, PATH_MAX - 1,
	    "the longest path comes back whole");
	free(out);
	big[PATH_MAX - 1] = 'x';
	big[PATH_MAX] = '\0';
	cause = NULL;
	tap_is_int(paths_normalise("mount_path", big, &out, &cause),
	    PATHS_TOO_LONG, "normalise refuses a path of PATH_MAX bytes");
	tap_has(cause, "longer than", "too-long cause says so");
	free(cause);
	/* A component over NAME_MAX. */
	big[0] = '/';
	memset(big + 1, 'y', NAME_MAX + 1);
	big[NAME_MAX + 2] = '\0';
	tap_is_int(paths_normalise("mount_path", big, &out, NULL),
	    PATHS_TOO_LONG, "normalise refuses a component over NAME_MAX");
	big[NAME_MAX + 1] = '\0';
	tap_is_int(paths_normalise("mount_path", big, &out, NULL), PATHS_OK,
	    "normalise accepts a component of NAME_MAX bytes");
	free(out);
	free(big);

	/* drive_path: relative to the drive root, "/" by default. */
	{
		static const struct { const char *in, *want; } d[] = {
			{ NULL, "/" }, { "", "/" }, { "/", "/" },
			{ "a/b", "/a/b" }, { "./a/", "/a" }, { "..", "/" },
			{ "/../../etc", "/etc" }, { "sub/../../..", "/" },
			{ "/projects/alpha", "/projects/alpha" },
		};
		for (i = 0; i < sizeof d / sizeof d[0]; i++) {
			out = NULL;
			snprintf(name, sizeof name, "drive_path \"%s\" -> %s",
			    d[i].in != NULL ? d[i].in : "(null)", d[i].want);
			paths_drive_path_normalise(d[i].in, &out, NULL);
			tap_is_str(out, d[i].want, name);
			free(out);
		}
		cause = NULL;
		tap_is_int(paths_drive_path_normalise("a\rb", &out, &cause),
		    PATHS_CONTROL_CHAR, "drive_path refuses control characters");
		tap_has(cause, "drive_path", "drive_path cause names the field");
		free(cause);
	}
}

static void
test_beneath(void)
{
	static const struct { const char *base, *p; int want; } c[] = {
		{ "/a", "/a", 1 }, { "/a", "/a/b", 1 }, { "/a", "/ab", 0 },
		{ "/a", "/", 0 }, { "/a/b", "/a", 0 }, { "/", "/", 1 },
		{ "/", "/x/y", 1 }, { "/proc", "/proc/1/root", 1 },
		{ "/proc", "/procfs", 0 }, { "/a/b", "/a/bc/d", 0 },
	};
	char name[128];

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(name, sizeof name, "is_beneath(%s, %s) is %d",
		    c[i].base, c[i].p, c[i].want);
		tap_is_int(paths_is_beneath(c[i].base, c[i].p), c[i].want,
		    name);
	}
}

static void
test_mount_target(void)
{
	struct paths_mount_target	 t;
	struct stat			 st, st2;
	enum paths_result		 r;
	char				*p, *cause, *rundir;
	mode_t				 old;
	static const char *refused[] = {
		"/", "/proc", "/proc/self", "/sys/fs/x", "/dev", "/dev/shm/m",
		"/run/blagent", "/run/blagent/state", "//run/./blagent/../blagent/x",
	};

	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		cause = NULL;
		r = paths_mount_target_prepare(refused[i], NULL, &t, &cause);
		tap_ok(r == PATHS_ROOT || r == PATHS_FORBIDDEN,
		    "mount_path %s is refused (%s: %s)", refused[i],
		    paths_result_name(r), cause != NULL ? cause : "");
		tap_ok(t.fd == -1 && t.path == NULL,
		    "a refused target holds nothing");
		free(cause);
	}

	/* The run dir given, and the run dir reached through a symlink. */
	mk("run");
	ln("run", "runlink");
	rundir = at("runlink");
	p = at("run/x");
	cause = NULL;
	r = paths_mount_target_prepare(p, rundir, &t, &cause);
	tap_is_int(r, PATHS_FORBIDDEN,
	    "mount_path under the run dir reached via a symlink is refused");
	tap_has(cause, "where nothing may be mounted", "forbidden cause");
	tap_ok(!exists("run/x"), "a refused mount_path is not created");
	free(cause);
	free(p);
	free(rundir);

	/* An existing directory. */
	mk("exists");
	p = at("exists/");
	r = paths_mount_target_prepare(p, NULL, &t, NULL);
	tap_is_int(r, PATHS_OK, "an existing directory is accepted");
	tap_is_int(t.created, 0, "an existing directory was not created");
	free(p);
	p = at("exists");
	tap_is_str(t.path, p, "the target path is normalised");
	stat(p, &st);
	tap_ok(t.fd >= 0 && fstat(t.fd, &st2) == 0 &&
	    st.st_ino == st2.st_ino && st.st_dev == st2.st_dev,
	    "the target fd is the directory itself");
	paths_mount_target_undo(&t);
	tap_ok(exists("exists"), "undo never removes what existed before");
	paths_mount_target_clear(&t);
	free(p);

	/* Missing components are made 0755 whatever the umask. */
	old = umask(077);
	p = at("new/a/b");
	r = paths_mount_target_prepare(p, NULL, &t, NULL);
	umask(old);
	tap_is_int(r, PATHS_OK, "a missing mount_path is created");
	tap_is_int(t.created, 3, "three components were created");
	free(p);
	p = at("new/a");
	tap_ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0755,
	    "created directories are mode 0755 under umask 077 (got %o)",
	    (unsigned)(st.st_mode & 07777));
	free(p);
	paths_mount_target_undo(&t);
	paths_mount_target_clear(&t);
	tap_ok(!exists("new"), "undo removes every directory it created");

	/* Undo leaves a directory that something else filled. */
	p = at("u/a/b");
	paths_mount_target_prepare(p, NULL, &t, NULL);
	touch("u/a/other");
	paths_mount_target_undo(&t);
	paths_mount_target_clear(&t);
	tap_ok(!exists("u/a/b") && exists("u/a/other"),
	    "undo removes the empty leaf and keeps a directory in use");
	free(p);

	/* Symlinks anywhere in the path. */
	mk("real");
	ln("real", "link");
	ln("/", "rootlink");
	p = at("link/x");
	cause = NULL;
	r = paths_mount_target_prepare(p, NULL, &t, &cause);
	tap_is_int(r, PATHS_SYMLINK, "a symlink in the middle is refused");
	tap_has(cause, "/link\" is a symlink", "symlink cause names it");
	tap_ok(!exists("real/x"), "nothing is created through the symlink");
	free(cause);
	free(p);
	p = at("link");
	tap_is_int(paths_mount_target_prepare(p, NULL, &t, NULL),
	    PATHS_SYMLINK, "a symlink as the last component is refused");
	free(p);
	p = at("rootlink/tmp");
	tap_is_int(paths_mount_target_prepare(p, NULL, &t, NULL),
	    PATHS_SYMLINK, "a symlink to / is refused");
	free(p);
	/* A relative symlink deeper down, pointing back inside the tree. */
	mk("deep");
	ln("../real", "deep/l");
	p = at("deep/l/x");
	tap_is_int(paths_mount_target_prepare(p, NULL, &t, NULL),
	    PATHS_SYMLINK, "a relative symlink further down is refused");
	free(p);

	/* Files. */
	touch("file");
	p = at("file");
	cause = NULL;
	tap_is_int(paths_mount_target_prepare(p, NULL, &t, &cause),
	    PATHS_NOT_DIR, "a file as mount_path is refused");
	tap_has(cause, "not a directory", "not-a-directory cause");
	free(cause);
	free(p);
	p = at("file/x");
	tap_is_int(paths_mount_target_prepare(p, NULL, &t, NULL),
	    PATHS_NOT_DIR, "a file in the middle is refused");
	free(p);
	tap_is_int(paths_result_errno(PATHS_NOT_DIR), ENOTDIR,
	    "not-a-directory maps to ENOTDIR");
	tap_is_int(paths_result_errno(PATHS_FORBIDDEN), EINVAL,
	    "forbidden maps to EINVAL");
}

static void
test_open_beneath(void)
{
	struct stat	 st, st2;
	char		*root, *cause;
	int		 rootfd, fd;
	enum paths_result r;
	static const struct {
		const char	*path;
		enum paths_result want;
		const char	*cause;	/* expected in the cause */
	} refused[] = {
		{ "/missing", PATHS_MISSING, "does not exist" },
		{ "/sub/missing/deeper", PATHS_MISSING, "does not exist" },
		{ "/file.txt", PATHS_NOT_DIR, "is not a directory" },
		{ "/file.txt/x", PATHS_NOT_DIR, "\"/file.txt\" is not a dir" },
		{ "/abs", PATHS_SYMLINK, "\"/abs\" is a symlink" },
		{ "/abs/etc", PATHS_SYMLINK, "\"/abs\" is a symlink" },
		{ "/absdir", PATHS_SYMLINK, "\"/absdir\" is a symlink" },
		{ "/rel", PATHS_SYMLINK, "\"/rel\" is a symlink" },
		{ "/rel/etc", PATHS_SYMLINK, "\"/rel\" is a symlink" },
		{ "/inner", PATHS_SYMLINK, "\"/inner\" is a symlink" },
		{ "/inner/dir", PATHS_SYMLINK, "\"/inner\" is a symlink" },
		{ "/sub/up/etc", PATHS_SYMLINK, "\"/sub/up\" is a symlink" },
		{ "/sub/magic", PATHS_SYMLINK, "\"/sub/magic\" is a symlink" },
		{ "sub/dir/../../abs/etc", PATHS_SYMLINK, "\"/abs\"" },
	};

	mk("drive");
	mk("drive/sub");
	mk("drive/sub/dir");
	touch("drive/file.txt");
	ln("/", "drive/abs");
	ln(tmp, "drive/absdir");
	ln("../..", "drive/rel");
	ln("sub", "drive/inner");
	ln("../../..", "drive/sub/up");
	ln("/proc/self/root", "drive/sub/magic");
	root = at("drive");
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1)
		perror(root), exit(99);

	r = paths_open_beneath(rootfd, "/", &fd, NULL);
	fstat(rootfd, &st);
	tap_ok(r == PATHS_OK && fstat(fd, &st2) == 0 &&
	    st.st_ino == st2.st_ino, "drive_path / opens the drive root");
	close(fd);
	r = paths_open_beneath(rootfd, NULL, &fd, NULL);
	tap_ok(r == PATHS_OK && fstat(fd, &st2) == 0 &&
	    st.st_ino == st2.st_ino, "no drive_path opens the drive root");
	close(fd);
	r = paths_open_beneath(rootfd, "/../..", &fd, NULL);
	tap_ok(r == PATHS_OK && fstat(fd, &st2) == 0 &&
	    st.st_ino == st2.st_ino, "drive_path /../.. stays at the root");
	close(fd);

	{
		char *p = at("drive/sub/dir");

		stat(p, &st);
		free(p);
	}
	r = paths_open_beneath(rootfd, "/sub/dir", &fd, NULL);
	tap_ok(r == PATHS_OK && fstat(fd, &st2) == 0 &&
	    st.st_ino == st2.st_ino, "drive_path /sub/dir opens it");
	tap_ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the fd is close-on-exec");
	tap_ok((fcntl(fd, F_GETFL) & O_PATH) == O_PATH, "the fd is O_PATH");
	close(fd);
	r = paths_open_beneath(rootfd, "sub//dir/", &fd, NULL);
	tap_ok(r == PATHS_OK && fstat(fd, &st2) == 0 &&
	    st.st_ino == st2.st_ino, "drive_path sub//dir/ opens it too");
	close(fd);

	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		cause = NULL;
		fd = -2;
		r = paths_open_beneath(rootfd, refused[i].path, &fd, &cause);
		tap_ok(r == refused[i].want && fd == -1,
		    "drive_path %s is refused as %s (got %s: %s)",
		    refused[i].path, paths_result_name(refused[i].want),
		    paths_result_name(r), cause != NULL ? cause : "");
		tap_has(cause, refused[i].cause, "its cause says why");
		free(cause);
	}
	tap_ok(!exists("drive/missing"), "a missing drive_path is not created");

	/* Even given an fd inside the drive, ".." in the path stays clamped. */
	{
		char *sub = at("drive/sub");
		int subfd = open(sub, O_PATH | O_DIRECTORY);

		free(sub);

		r = paths_open_beneath(subfd, "/../..", &fd, NULL);
		fstat(subfd, &st);
		tap_ok(r == PATHS_OK && fstat(fd, &st2) == 0 &&
		    st.st_ino == st2.st_ino,
		    "\"..\" never climbs above the given root fd");
		close(fd);
		close(subfd);
	}
	close(rootfd);
	free(root);
}

int
main(void)
{
	char tmpl[] = "/tmp/paths-test.XXXXXX";
	char *cmd;

	if (mkdtemp(tmpl) == NULL)
		perror("mkdtemp"), exit(99);
	if ((tmp = realpath(tmpl, NULL)) == NULL)
		perror("realpath"), exit(99);

	test_normalise();
	test_beneath();
	test_mount_target();
	test_open_beneath();

	xasprintf(&cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmp);
	free(cmd);
	free(tmp);
	return tap_done();
}
