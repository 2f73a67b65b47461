/*
 * Namespaces and the mount table of a confined process: a private mount
 * namespace slave to the agent's, a fresh /proc, read-only /sys, masks.
 * Only sandboxing/ includes this.
 */
#ifndef BL_NS_H
#define BL_NS_H

/*
 * A new mount namespace whose mounts are slaves of the ones we came from:
 * mounts made outside later still appear inside, nothing made inside
 * leaks out. 0 or -1 with cause.
 */
int	ns_mount_enter(char **cause);

/*
 * A fresh procfs on /proc (only the new pid namespace's processes), with
 * the kernel knobs in it (/proc/sys, sysrq-trigger, ...) read-only and
 * the kernel's memory and keys masked. 0 or -1 with cause.
 */
int	ns_proc_fresh(char **cause);

/* path and every mount below it read-only. 0 or -1 with cause. */
int	ns_readonly(const char *path, char **cause);

/*
 * Pin path as the agent looks it up: every existing component of it (each
 * directory, each symlink and every component of where a symlink leads,
 * the last one included) becomes a mount point in this namespace, unless
 * it is one already. The kernel refuses to rename or remove a mount point
 * of the caller's namespace (EBUSY), so a workload can no longer move a
 * masked tree aside and put its own in its place, where the agent, in
 * its own namespace, would find it. 0 or -1 with cause.
 */
int	ns_pin(const char *path, char **cause);

enum ns_mask_result {
	NS_MASK_DONE,
	NS_MASK_MISSING,	/* nothing there: nothing to hide */
	NS_MASK_FAILED,		/* cause says which step */
};

/*
 * Hide path: an empty read-only tmpfs over a directory, a read-only
 * nodev bind of /dev/null over anything else (so opening it fails and a
 * socket refuses connections). Symlinks are followed: what is hidden is
 * what the path reaches.
 */
enum ns_mask_result ns_mask(const char *path, char **cause);

/*
 * Mask every block device node under /dev: opening the disk a store or a
 * drive lives on would bypass every read-only mount. /dev/loop-control
 * too: it makes and binds the loop devices volumes are mounted from.
 * 0 or -1 with cause.
 */
int	ns_mask_block_devices(char **cause);

#endif
