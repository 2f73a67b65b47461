/* Path rules: normalisation, mount_path checks, drive_path confinement. */
#ifndef BL_PATHS_H
#define BL_PATHS_H

#include <limits.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define PATHS_DEFAULT_RUN_DIR	"/run/blagent"

/*
 * What went wrong with a path. Each step that can fail has its own value so
 * the caller can say which step and which path; paths_result_errno() gives
 * the code for an RPC error. Every function below that returns one also
 * fills *cause (when cause is not NULL) with a sentence naming the field and
 * the path.
 */
enum paths_result {
	PATHS_OK = 0,
	PATHS_EMPTY,		/* "" or NULL where a path is required */
	PATHS_RELATIVE,		/* does not start with '/' */
	PATHS_TOO_LONG,		/* >= PATH_MAX, or a component > NAME_MAX */
	PATHS_CONTROL_CHAR,	/* a byte < 0x20 or 0x7f */
	PATHS_ROOT,		/* mount_path is "/" */
	PATHS_FORBIDDEN,	/* under /proc, /sys, /dev or the run dir */
	PATHS_SYMLINK,		/* a component is a symlink */
	PATHS_NOT_DIR,		/* a component (or the target) is not a dir */
	PATHS_ESCAPES,		/* resolution would leave the drive */
	PATHS_MISSING,		/* drive_path does not exist in the drive */
	PATHS_SYSTEM,		/* a system call failed (errno in the cause) */
};

/* EINVAL, ENOENT, ENOTDIR, ELOOP, EXDEV, EIO... for the RPC error code. */
int		 paths_result_errno(enum paths_result);
const char	*paths_result_name(enum paths_result);

/*
 * Lexical normalisation of an absolute path: collapses "//" and ".",
 * resolves ".." (never above "/"), drops a trailing slash; "/" stays "/".
 * Refuses empty, relative, too long (>= PATH_MAX bytes, or a component over
 * NAME_MAX) and any control character. field names the path in *cause
 * ("mount_path"). On PATHS_OK *out is a new string.
 */
enum paths_result paths_normalise(const char *field, const char *in,
		    char **out, char **cause);

/*
 * drive_path: relative to the drive root. NULL or "" mean "/"; a path
 * without a leading '/' is taken from the drive root ("a/b" is "/a/b");
 * ".." stops at the drive root. *out is "/" or "/a/b".
 */
enum paths_result paths_drive_path_normalise(const char *in, char **out,
		    char **cause);

/*
 * p equals base or lies beneath it; both normalised. "/a" holds "/a" and
 * "/a/b", not "/ab"; "/" holds everything.
 */
int		 paths_is_beneath(const char *base, const char *p);

/*
 * A mount target that was checked (and perhaps created) on disk.
 * created counts the trailing components of path that
 * paths_mount_target_prepare made (0 = the directory already existed), so a
 * failed mount can take back exactly what it added.
 */
struct paths_mount_target {
	char	*path;		/* normalised; symlink-free when walked */
	int	 fd;		/* O_PATH|O_DIRECTORY of the target, or -1 */
	size_t	 created;	/* trailing components we created */
};

/*
 * DESIGN mount_path rules: absolute, normalised, not "/", not under /proc,
 * /sys, /dev or run_dir (NULL means PATHS_DEFAULT_RUN_DIR), no symlink in
 * any existing component, created 0755 when missing, a directory. The walk
 * goes from "/" one component at a time with O_NOFOLLOW, so a symlink
 * swapped in during the walk is refused, never followed. On PATHS_OK *t is
 * filled (t->fd open, close it with paths_mount_target_clear); on failure
 * anything created on the way has been removed again.
 */
enum paths_result paths_mount_target_prepare(const char *mount_path,
		    const char *run_dir, struct paths_mount_target *t,
		    char **cause);
/* Removes the directories prepare created (only while empty). */
void		 paths_mount_target_undo(struct paths_mount_target *);
/* Closes the fd and frees the path; t can be reused. */
void		 paths_mount_target_clear(struct paths_mount_target *);

/*
 * Opens drive_path (normalised or not) beneath rootfd, the drive's data
 * directory: O_PATH|O_DIRECTORY|O_CLOEXEC through openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS, so no symlink
 * planted inside the drive, absolute or relative, can lead out. Never
 * creates anything. PATHS_MISSING when absent, PATHS_NOT_DIR for a file,
 * PATHS_SYMLINK naming the first symlink component, PATHS_ESCAPES.
 */
enum paths_result paths_open_beneath(int rootfd, const char *drive_path,
		    int *fd, char **cause);

/*
 * openat2(2) with how = { flags, mode, resolve }, asked again while the
 * kernel answers EAGAIN (RESOLVE_BENEATH when a rename races the lookup)
 * or EINTR, a bounded number of times. The fd, or -1 and errno.
 */
int		 paths_openat2(int dirfd, const char *p, uint64_t flags,
		     mode_t mode, uint64_t resolve);

#endif
