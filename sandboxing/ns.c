/*
 * The confined process's mount table: its own namespace, slave to the
 * agent's, with what the workload must not reach masked or read-only.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "sandboxing/ns.h"

/* A mask is read-only and carries nothing runnable or openable. */
#define NS_MASK_FLAGS	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

int
ns_mount_enter(char **cause)
{
	if (unshare(CLONE_NEWNS) != 0) {
		xasprintf(cause, "unshare(CLONE_NEWNS): %s", strerror(errno));
		return -1;
	}
	/*
	 * Slave, not private: the agent mounts drives after the workload
	 * started and they must appear here; nothing we mount here (masks,
	 * /proc) may propagate back out. Recursive, so every mount copied
	 * into the namespace follows the same rule.
	 */
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) {
		xasprintf(cause, "making / a recursive slave: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
ns_is_mount_root(const char *path)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,
	    &stx) != 0)
		return 0;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

/* path and every mount below it read-only, in this namespace only. */
int
ns_readonly(const char *path, char **cause)
{
	struct mount_attr attr;

	/*
	 * A mount of its own first when path is not one (/proc/sys): the
	 * attributes below belong to mounts, not directories. /sys already
	 * is a mount, and the one in this namespace is ours to change.
	 */
	if (!ns_is_mount_root(path) &&
	    mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) {
		xasprintf(cause, "binding %s onto itself: %s", path,
		    strerror(errno));
		return -1;
	}
	/*
	 * mount_setattr with AT_RECURSIVE: a remount with MS_RDONLY would
	 * reach only the top mount and leave /sys/fs/cgroup, /sys/kernel/...
	 * writable beneath it.
	 */
	memset(&attr, 0, sizeof attr);
	attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV;
	if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr,
	    sizeof attr) != 0) {
		xasprintf(cause, "making %s read-only: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Symlinks followed while pinning one path, as the kernel's 40 is for lookups. */
#define NS_PIN_MAX_LINKS	40

/* One component: a mount of itself onto itself, unless it is one already. */
static int
ns_pin_one(const char *path, int is_link, char **cause)
{
	int fd;

	if (ns_is_mount_root(path))
		return 0;
	if (!is_link) {
		/* Recursive: every mount below stays where it was. */
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) {
			xasprintf(cause, "pinning %s: %s", path,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	/*
	 * mount(2) follows a symlink to its target; open_tree and
	 * move_mount without MOVE_MOUNT_T_SYMLINKS do not, so the link
	 * itself is covered by a clone of itself and lookups still follow
	 * it.
	 */
	fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
	    AT_SYMLINK_NOFOLLOW);
	if (fd == -1) {
		xasprintf(cause, "pinning symlink %s: open_tree: %s", path,
		    strerror(errno));
		return -1;
	}
	if (move_mount(fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
		xasprintf(cause, "pinning symlink %s: move_mount: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
ns_pin_walk(const char *path, int *links, char **cause)
{
	char buf[PATH_MAX], target[PATH_MAX], next[PATH_MAX], *p, *slash;
	struct stat sb;
	ssize_t n;
	char save;

	if (strlen(path) >= sizeof buf || path[0] != '/') {
		xasprintf(cause, "pinning %s: not an absolute path", path);
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		/* "//" and a trailing "/" add no component. */
		if (p[-1] == '/') {
			if (*p == '\0')
				break;
			continue;
		}
		save = *p;
		*p = '\0';
		if (lstat(buf, &sb) != 0) {
			/* Nothing more of the path exists: nothing to pin. */
			if (errno == ENOENT || errno == ENOTDIR)
				return 0;
			xasprintf(cause, "pinning %s: %s", buf,
			    strerror(errno));
			return -1;
		}
		if (ns_pin_one(buf, S_ISLNK(sb.st_mode), cause) != 0)
			return -1;
		if (S_ISLNK(sb.st_mode)) {
			/* The link is pinned; so must be where it leads. */
			if (++*links > NS_PIN_MAX_LINKS) {
				xasprintf(cause, "pinning %s: too many "
				    "symlinks", path);
				return -1;
			}
			n = readlink(buf, target, sizeof target - 1);
			if (n == -1) {
				xasprintf(cause, "pinning %s: readlink: %s",
				    buf, strerror(errno));
				return -1;
			}
			target[n] = '\0';
			if (target[0] == '/')
				n = snprintf(next, sizeof next, "%s", target);
			else {
				slash = strrchr(buf, '/');
				*slash = '\0';
				n = snprintf(next, sizeof next, "%s/%s", buf,
				    target);
				*slash = '/';
			}
			if (n < 0 || (size_t)n >= sizeof next) {
				xasprintf(cause, "pinning %s: target too long",
				    buf);
				return -1;
			}
			if (ns_pin_walk(next, links, cause) != 0)
				return -1;
		}
		if (save == '\0')
			break;
		*p = save;
	}
	return 0;
}

int
ns_pin(const char *path, char **cause)
{
	int links = 0;

	return ns_pin_walk(path, &links, cause);
}

enum ns_mask_result
ns_mask(const char *path, char **cause)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			log_debug("nothing to hide at %s", path);
			return NS_MASK_MISSING;
		}
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NS_MASK_FAILED;
	}
	if (S_ISDIR(sb.st_mode)) {
		/*
		 * An empty tmpfs, read-only from birth: nothing can be
		 * planted in it and nothing below it is reachable by name.
		 */
		if (mount("tmpfs", path, "tmpfs", NS_MASK_FLAGS,
		    "mode=0555,size=4k,nr_inodes=2") != 0) {
			xasprintf(cause, "mounting an empty tmpfs over %s: "
			    "%s", path, strerror(errno));
			return NS_MASK_FAILED;
		}
		log_debug("hid directory %s", path);
		return NS_MASK_DONE;
	}
	/*
	 * /dev/null bound over a file, socket or device node, then made
	 * nodev: opening it fails (EACCES), connecting to it is refused,
	 * reading its old contents is impossible. Two steps because a bind
	 * ignores the flags given with it.
	 */
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) != 0) {
		xasprintf(cause, "binding /dev/null over %s: %s", path,
		    strerror(errno));
		return NS_MASK_FAILED;
	}
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | NS_MASK_FLAGS,
	    NULL) != 0) {
		xasprintf(cause, "making the mask over %s read-only: %s",
		    path, strerror(errno));
		return NS_MASK_FAILED;
	}
	log_debug("hid %s", path);
	return NS_MASK_DONE;
}

int
ns_proc_fresh(char **cause)
{
	/* Kernel knobs a root workload could turn to escape or disrupt. */
	static const char *const ro[] = { "/proc/sys", "/proc/sysrq-trigger",
	    "/proc/irq", "/proc/bus", "/proc/fs" };
	/* Kernel memory, symbols, keys and logs: read by nobody here. */
	static const char *const masked[] = { "/proc/kcore", "/proc/kmsg",
	    "/proc/keys", "/proc/key-users", "/proc/timer_list",
	    "/proc/sched_debug", "/proc/kallsyms" };
	size_t i;

	/*
	 * A procfs of the new pid namespace: the agent, blfs and every other
	 * process outside have no /proc/PID here at all, so their root, fds,
	 * environment and memory are not even nameable.
	 */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) != 0) {
		xasprintf(cause, "mounting a fresh /proc: %s",
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < nitems(ro); i++) {
		if (access(ro[i], F_OK) != 0)
			continue;
		if (ns_readonly(ro[i], cause) != 0)
			return -1;
	}
	for (i = 0; i < nitems(masked); i++) {
		if (ns_mask(masked[i], cause) == NS_MASK_FAILED)
			return -1;
	}
	return 0;
}

/* Collect block device nodes below dir (on /dev's own filesystem). */
static void
ns_find_block_devices(const char *dir, dev_t fs, int depth, char ***list,
    size_t *n)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	char path[PATH_MAX];

	if (depth > 4 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
		    (int)sizeof path)
			continue;
		if (lstat(path, &sb) != 0)
			continue;
		if (S_ISBLK(sb.st_mode)) {
			*list = xreallocarray(*list, *n + 1, sizeof **list);
			(*list)[(*n)++] = xstrdup(path);
		} else if (S_ISDIR(sb.st_mode) && sb.st_dev == fs)
			ns_find_block_devices(path, fs, depth + 1, list, n);
	}
	closedir(d);
}

int
ns_mask_block_devices(char **cause)
{
	struct stat sb;
	char **list = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (stat("/dev", &sb) != 0)
		return 0;
	ns_find_block_devices("/dev", sb.st_dev, 0, &list, &n);
	/* What makes and binds loop devices (a volume's lives on one). */
	if (access("/dev/loop-control", F_OK) == 0) {
		list = xreallocarray(list, n + 1, sizeof *list);
		list[n++] = xstrdup("/dev/loop-control");
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && ns_mask(list[i], cause) == NS_MASK_FAILED)
			rc = -1;
		free(list[i]);
	}
	free(list);
	return rc;
}
