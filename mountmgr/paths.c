/*
 * Path rules for mounts. mount_path is walked from "/" one component at a
 * time without following symlinks; drive_path is resolved by the kernel
 * (openat2) so that nothing inside a drive can lead out of it.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/paths.h"

/* Where nothing may ever be mounted over, besides the agent's run dir. */
static const char *paths_forbidden[] = { "/proc", "/sys", "/dev" };

/* RESOLVE_BENEATH may ask us to retry when a rename races the lookup. */
#define PATHS_OPENAT2_RETRIES	16

int
paths_result_errno(enum paths_result r)
{
	switch (r) {
	case PATHS_OK:
		return 0;
	case PATHS_EMPTY:
	case PATHS_RELATIVE:
	case PATHS_CONTROL_CHAR:
	case PATHS_ROOT:
	case PATHS_FORBIDDEN:
		return EINVAL;
	case PATHS_TOO_LONG:
		return ENAMETOOLONG;
	case PATHS_SYMLINK:
		return ELOOP;
	case PATHS_NOT_DIR:
		return ENOTDIR;
	case PATHS_ESCAPES:
		return EXDEV;
	case PATHS_MISSING:
		return ENOENT;
	case PATHS_SYSTEM:
		return EIO;
	}
	return EIO;
}

const char *
paths_result_name(enum paths_result r)
{
	switch (r) {
	case PATHS_OK:
		return "ok";
	case PATHS_EMPTY:
		return "empty";
	case PATHS_RELATIVE:
		return "relative";
	case PATHS_TOO_LONG:
		return "too long";
	case PATHS_CONTROL_CHAR:
		return "control character";
	case PATHS_ROOT:
		return "root";
	case PATHS_FORBIDDEN:
		return "forbidden";
	case PATHS_SYMLINK:
		return "symlink";
	case PATHS_NOT_DIR:
		return "not a directory";
	case PATHS_ESCAPES:
		return "escapes";
	case PATHS_MISSING:
		return "missing";
	case PATHS_SYSTEM:
		return "system error";
	}
	return "unknown";
}

/*
 * The lexical part shared by both path kinds. in is known non-NULL and
 * starts with '/'. Components are copied into out one by one: each "."
 * and empty component is dropped, ".." removes the last one kept.
 */
static enum paths_result
paths_collapse(const char *field, const char *in, char **out, char **cause)
{
	size_t	 len, o = 0;
	char	*buf;

	len = strnlen(in, PATH_MAX);
	if (len >= PATH_MAX) {
		cause_set(cause, "%s is longer than %d bytes", field,
		    PATH_MAX - 1);
		return PATHS_TOO_LONG;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x20 || c == 0x7f) {
			cause_set(cause, "%s contains a control character "
			    "(byte 0x%02x at offset %zu)", field, c, i);
			return PATHS_CONTROL_CHAR;
		}
	}

	buf = xmalloc(len + 2);
	for (const char *p = in; *p != '\0';) {
		const char	*end;
		size_t		 n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && buf[o - 1] != '/')
				o--;
			if (o > 0)
				o--;	/* the slash before it */
		} else if (n > NAME_MAX) {
			cause_set(cause, "%s has a component longer than "
			    "%d bytes", field, NAME_MAX);
			free(buf);
			return PATHS_TOO_LONG;
		} else {
			buf[o++] = '/';
			memcpy(buf + o, p, n);
			o += n;
		}
		p = end;
	}
	if (o == 0)
		buf[o++] = '/';
	buf[o] = '\0';
	*out = buf;
	return PATHS_OK;
}

enum paths_result
paths_normalise(const char *field, const char *in, char **out, char **cause)
{
	*out = NULL;
	if (in == NULL || *in == '\0') {
		cause_set(cause, "%s is empty", field);
		return PATHS_EMPTY;
	}
	if (*in != '/') {
		int printable = 1;

		/* The path may be anything: quote a bounded, clean prefix. */
		for (const char *p = in; *p != '\0' && p - in < 256; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				printable = 0;
		if (printable)
			cause_set(cause, "%s \"%.256s\" is not absolute",
			    field, in);
		else
			cause_set(cause, "%s is not absolute", field);
		return PATHS_RELATIVE;
	}
	return paths_collapse(field, in, out, cause);
}

enum paths_result
paths_drive_path_normalise(const char *in, char **out, char **cause)
{
	enum paths_result	 r;
	char			*tmp;

	*out = NULL;
	if (in == NULL || *in == '\0') {
		*out = xstrdup("/");
		return PATHS_OK;
	}
	if (*in == '/')
		return paths_collapse("drive_path", in, out, cause);
	/* Taken from the drive root; the extra byte must not lift the bound. */
	if (strnlen(in, PATH_MAX) >= PATH_MAX - 1) {
		cause_set(cause, "drive_path is longer than %d bytes",
		    PATH_MAX - 2);
		return PATHS_TOO_LONG;
	}
	xasprintf(&tmp, "/%s", in);
	r = paths_collapse("drive_path", tmp, out, cause);
	free(tmp);
	return r;
}

int
paths_is_beneath(const char *base, const char *p)
{
	size_t n = strlen(base);

	if (strcmp(base, "/") == 0)
		return p[0] == '/';
	if (strncmp(base, p, n) != 0)
		return 0;
	return p[n] == '\0' || p[n] == '/';
}

/* How many components a normalised path has ("/" has none). */
static size_t
paths_count_components(const char *path)
{
	size_t n = 0;

	if (strcmp(path, "/") == 0)
		return 0;
	for (const char *p = path; *p != '\0'; p++)
		if (*p == '/')
			n++;
	return n;
}

/*
 * Opens the directory made of the first ncomp components of a normalised
 * absolute path, walking from "/" with O_NOFOLLOW at each step. -1 with
 * errno when any component is missing, a symlink or not a directory.
 */
static int
paths_walk_open(const char *path, size_t ncomp)
{
	int		 fd, nfd;
	char		*copy, *p, *slash;
	size_t		 i = 0;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	copy = xstrdup(path);
	p = copy + 1;
	while (i < ncomp && *p != '\0') {
		slash = strchr(p, '/');
		if (slash != NULL)
			*slash = '\0';
		nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		if (nfd == -1) {
			int saved = errno;

			free(copy);
			errno = saved;
			return -1;
		}
		fd = nfd;
		i++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	free(copy);
	return fd;
}

/* The prefix of a normalised path made of its first ncomp components. */
static char *
paths_prefix(const char *path, size_t ncomp)
{
	const char	*p = path;
	size_t		 i = 0;

	if (ncomp == 0)
		return xstrdup("/");
	for (p = path + 1; *p != '\0'; p++) {
		if (*p == '/' && ++i == ncomp)
			break;
	}
	return xstrndup(path, (size_t)(p - path));
}

void
paths_mount_target_undo(struct paths_mount_target *t)
{
	size_t ncomp;

	if (t->path == NULL || t->created == 0)
		return;
	ncomp = paths_count_components(t->path);
	/* Deepest first: each rmdir only succeeds once its child is gone. */
	for (size_t k = 0; k < t->created && k < ncomp; k++) {
		size_t	 depth = ncomp - k;	/* components of the victim */
		char	*victim = paths_prefix(t->path, depth);
		char	*base = strrchr(victim, '/') + 1;
		int	 pfd = paths_walk_open(t->path, depth - 1);

		/*
		 * rmdir, never a recursive removal: if anything appeared in
		 * the directory meanwhile it is not ours to take away.
		 */
		if (pfd != -1) {
			(void)unlinkat(pfd, base, AT_REMOVEDIR);
			close(pfd);
		}
		free(victim);
	}
	t->created = 0;
}

void
paths_mount_target_clear(struct paths_mount_target *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	free(t->path);
	t->path = NULL;
	t->created = 0;
}

/* Is path under a place nothing may be mounted? */
static int
paths_forbidden_for(const char *path, const char *run_dir, char **why)
{
	char *rd = NULL, *real;

	for (size_t i = 0; i < nitems(paths_forbidden); i++) {
		if (paths_is_beneath(paths_forbidden[i], path)) {
			*why = xstrdup(paths_forbidden[i]);
			return 1;
		}
	}
	if (run_dir == NULL)
		run_dir = PATHS_DEFAULT_RUN_DIR;
	if (paths_normalise("run_dir", run_dir, &rd, NULL) != PATHS_OK)
		return 0;
	if (paths_is_beneath(rd, path)) {
		*why = rd;
		return 1;
	}
	/*
	 * mount_path is symlink-free, so its text is where it lands; the
	 * run dir may be reached through a symlink (/var/run), so compare
	 * with where that leads too.
	 */
	real = realpath(rd, NULL);
	if (real != NULL && paths_is_beneath(real, path)) {
		free(rd);
		*why = real;
		return 1;
	}
	free(real);
	free(rd);
	return 0;
}

/*
 * Names the state of one component found during the walk: a symlink, or
 * something other than a directory.
 */
static enum paths_result
paths_component_refused(const char *path, const char *prefix,
    const struct stat *st, char **cause)
{
	if (S_ISLNK(st->st_mode)) {
		cause_set(cause, "mount_path \"%s\": \"%s\" is a symlink; "
		    "mount paths must not contain symlinks", path, prefix);
		return PATHS_SYMLINK;
	}
	if (strcmp(path, prefix) == 0)
		cause_set(cause, "mount_path \"%s\" exists and is not a "
		    "directory", path);
	else
		cause_set(cause, "mount_path \"%s\": \"%s\" exists and is "
		    "not a directory", path, prefix);
	return PATHS_NOT_DIR;
}

enum paths_result
paths_mount_target_prepare(const char *mount_path, const char *run_dir,
    struct paths_mount_target *t, char **cause)
{
	enum paths_result	 r;
	char			*path, *why = NULL, *copy = NULL, *p;
	int			 fd = -1;

	t->path = NULL;
	t->fd = -1;
	t->created = 0;

	if ((r = paths_normalise("mount_path", mount_path, &path, cause)) !=
	    PATHS_OK)
		return r;
	if (strcmp(path, "/") == 0) {
		cause_set(cause, "mount_path \"/\" would hide the whole "
		    "file system; choose a directory below it");
		free(path);
		return PATHS_ROOT;
	}
	if (paths_forbidden_for(path, run_dir, &why)) {
		cause_set(cause, "mount_path \"%s\" lies under %s, where "
		    "nothing may be mounted", path, why);
		free(why);
		free(path);
		return PATHS_FORBIDDEN;
	}
	t->path = path;

	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		cause_set(cause, "mount_path \"%s\": cannot open /: %s",
		    path, strerror(errno));
		r = PATHS_SYSTEM;
		goto fail;
	}
	copy = xstrdup(path);
	p = copy + 1;
	for (;;) {
		char		*slash = strchr(p, '/');
		char		*prefix;
		struct stat	 st;
		int		 nfd, made = 0;

		if (slash != NULL)
			*slash = '\0';
		prefix = xstrndup(path, (size_t)(p - copy) + strlen(p));

		if (fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT) {
				cause_set(cause, "mount_path \"%s\": cannot "
				    "examine \"%s\": %s", path, prefix,
				    strerror(errno));
				free(prefix);
				r = PATHS_SYSTEM;
				goto fail;
			}
			if (mkdirat(fd, p, 0755) == 0) {
				made = 1;
				t->created++;
			} else if (errno != EEXIST) {
				cause_set(cause, "mount_path \"%s\": cannot "
				    "create \"%s\": %s", path, prefix,
				    strerror(errno));
				free(prefix);
				r = PATHS_SYSTEM;
				goto fail;
			}
			/* Made by us or by a racer: look again either way. */
			if (fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == -1) {
				cause_set(cause, "mount_path \"%s\": cannot "
				    "examine \"%s\": %s", path, prefix,
				    strerror(errno));
				free(prefix);
				r = PATHS_SYSTEM;
				goto fail;
			}
		}
		if (!S_ISDIR(st.st_mode)) {
			r = paths_component_refused(path, prefix, &st, cause);
			free(prefix);
			goto fail;
		}
		/*
		 * The fstatat above was only for the message: the open is
		 * what counts. O_NOFOLLOW|O_DIRECTORY refuses a symlink
		 * swapped in since, instead of following it.
		 */
		nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1) {
			if ((errno == ENOTDIR || errno == ELOOP) &&
			    fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    !S_ISDIR(st.st_mode))
				r = paths_component_refused(path, prefix, &st,
				    cause);
			else {
				cause_set(cause, "mount_path \"%s\": cannot "
				    "open \"%s\": %s", path, prefix,
				    strerror(errno));
				r = PATHS_SYSTEM;
			}
			free(prefix);
			goto fail;
		}
		close(fd);
		fd = nfd;
		/* mkdir's mode is filtered by the umask; we promised 0755. */
		if (made && fstat(fd, &st) == 0 &&
		    (st.st_mode & 07777) != 0755) {
			int wfd = openat(fd, ".", O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC);

			if (wfd == -1 || fchmod(wfd, 0755) == -1) {
				cause_set(cause, "mount_path \"%s\": cannot "
				    "set mode 0755 on \"%s\": %s", path,
				    prefix, strerror(errno));
				if (wfd != -1)
					close(wfd);
				free(prefix);
				r = PATHS_SYSTEM;
				goto fail;
			}
			close(wfd);
		}
		free(prefix);
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	free(copy);
	t->fd = fd;
	return PATHS_OK;

fail:
	free(copy);
	if (fd != -1)
		close(fd);
	paths_mount_target_undo(t);
	paths_mount_target_clear(t);
	return r;
}

int
paths_openat2(int dirfd, const char *p, uint64_t flags, mode_t mode,
    uint64_t resolve)
{
	struct open_how how;
	long		r;

	memset(&how, 0, sizeof how);
	how.flags = flags;
	how.mode = mode;
	how.resolve = resolve;
	for (int i = 0; i < PATHS_OPENAT2_RETRIES; i++) {
		r = syscall(SYS_openat2, dirfd, p, &how, sizeof how);
		if (r != -1 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	return (int)r;
}

/*
 * After the kernel refused a lookup, find the first component of rel (no
 * "..", no leading '/') that is a symlink or not a directory, to name it.
 * Only for the message: the refusal itself came from openat2. Each prefix
 * is examined after all shorter ones were seen to be plain directories,
 * so fstatat follows nothing on the way.
 */
static char *
paths_first_odd_component(int rootfd, const char *rel, int want_symlink)
{
	char		*copy = xstrdup(rel);
	struct stat	 st;

	for (char *p = copy;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (fstatat(rootfd, copy, &st, AT_SYMLINK_NOFOLLOW) == -1)
			break;
		if (want_symlink ? S_ISLNK(st.st_mode) : !S_ISDIR(st.st_mode))
			return copy;
		if (!S_ISDIR(st.st_mode) || saved == '\0')
			break;
		*p = saved;
	}
	free(copy);
	return NULL;
}

enum paths_result
paths_open_beneath(int rootfd, const char *drive_path, int *fd, char **cause)
{
	enum paths_result	 r;
	char			*norm, *odd;
	const char		*rel;
	int			 nfd;

	*fd = -1;
	if ((r = paths_drive_path_normalise(drive_path, &norm, cause)) !=
	    PATHS_OK)
		return r;
	/* RESOLVE_BENEATH refuses absolute paths: go from the root's fd. */
	rel = strcmp(norm, "/") == 0 ? "." : norm + 1;
	nfd = paths_openat2(rootfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
	    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (nfd != -1) {
		free(norm);
		*fd = nfd;
		return PATHS_OK;
	}
	switch (errno) {
	case ENOENT:
		cause_set(cause, "drive_path \"%s\" does not exist in the "
		    "drive", norm);
		r = PATHS_MISSING;
		break;
	case ENOTDIR:
		odd = paths_first_odd_component(rootfd, rel, 0);
		if (odd != NULL && strcmp(odd, rel) != 0)
			cause_set(cause, "drive_path \"%s\": \"/%s\" is not "
			    "a directory", norm, odd);
		else
			cause_set(cause, "drive_path \"%s\" is not a "
			    "directory", norm);
		free(odd);
		r = PATHS_NOT_DIR;
		break;
	case ELOOP:
		odd = paths_first_odd_component(rootfd, rel, 1);
		if (odd != NULL)
			cause_set(cause, "drive_path \"%s\": \"/%s\" is a "
			    "symlink; symlinks inside a drive are never "
			    "followed to reach a drive_path", norm, odd);
		else
			cause_set(cause, "drive_path \"%s\" contains a "
			    "symlink; symlinks inside a drive are never "
			    "followed to reach a drive_path", norm);
		free(odd);
		r = PATHS_SYMLINK;
		break;
	case EXDEV:
		cause_set(cause, "drive_path \"%s\" escapes the drive", norm);
		r = PATHS_ESCAPES;
		break;
	case ENOSYS:
		/* No openat2: we will not confine by hand and hope. */
		cause_set(cause, "drive_path \"%s\": the kernel lacks "
		    "openat2, needed to confine drive paths", norm);
		r = PATHS_SYSTEM;
		break;
	default:
		cause_set(cause, "drive_path \"%s\": cannot open: %s", norm,
		    strerror(errno));
		r = PATHS_SYSTEM;
		break;
	}
	free(norm);
	return r;
}
