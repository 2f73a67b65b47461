/*
 * The confinement API: the only doors into prctl, capset and seccomp.
 * Used by agent/ (itself and its blfs children), blfs/ and bljail.
 */
#ifndef BL_SANDBOX_H
#define BL_SANDBOX_H

/*
 * Exit status of a process whose confinement failed before it could run
 * anything: a blfs child, or bljail itself (as env(1) and chroot(1) use
 * 125 for their own failures).
 */
#define SANDBOX_EXIT_FAILED	125

/*
 * blagent at start-up: not dumpable, keep only the capabilities the agent
 * needs, drop the rest from every set including bounding; the ambient and
 * inheritable sets empty. Kept: CAP_SYS_ADMIN (mount), CAP_SETPCAP (shrink
 * a child's bounding set, lock its securebits), CAP_SETGID (clear its
 * groups) and CAP_DAC_OVERRIDE (mount points, token and store whatever
 * their modes). 0 or -1, cause.
 */
int	sandbox_agent_harden(char **cause);

/*
 * In the agent's child, between fork and exec of blfs, still uid 0: drop
 * every capability from every set, bounding and ambient included (blfs
 * keeps owners in extended attributes and needs none); lock securebits
 * (NOROOT: uid 0 brings nothing at exec); no_new_privs; not dumpable. Any
 * failure exits the child with SANDBOX_EXIT_FAILED: a half-confined blfs
 * never runs.
 */
void	sandbox_blfs_child(void);

/*
 * The Landlock ABI version the kernel offers, or -errno (EOPNOTSUPP: built
 * in but not enabled; ENOSYS: not built in).
 */
int	sandbox_landlock_abi(void);

/*
 * In blfs, once its fds are open: of the whole filesystem, keep only
 * what blfs does beneath the drive's directory root_fd (read, write,
 * truncate, list, make regular files and directories, remove, rename;
 * read_only: read and list, nothing else), and reading the files of
 * mounts_fd (the drive's mount locks; -1: none).
 * 0 when in force; 1 with cause when the kernel cannot (no Landlock, or
 * ABI 1, which forbids renames across directories); -1 with cause on
 * error.
 */
int	sandbox_blfs_landlock(int root_fd, int mounts_fd, int read_only,
	    char **cause);

/*
 * In blfs, after its fds are set up and before it serves: not dumpable
 * and the seccomp allowlist (anything else kills it with SIGSYS; no exec,
 * no mount; read_only: no call that changes the store either). 0 or -1
 * with cause.
 */
int	sandbox_blfs_seccomp(int read_only, char **cause);

/*
 * The same for a blfs serving a ceph store (blfs/ceph.c), once it is
 * connected to the cluster: Landlock allows no file access at all and TCP
 * connections to the monitors' ports (given) and the range OSDs and MDSs
 * bind in only (where the kernel has network rules:
 * else 1 with cause, files still closed); seccomp adds what libcephfs
 * needs (IPv4 and IPv6 stream sockets, connect, socket options, timers).
 */
int	sandbox_blfs_landlock_net(const unsigned *ports, int nports,
	    char **cause);
int	sandbox_blfs_seccomp_net(int read_only, char **cause);
/*
 * blfs's seccomp filter, every variant of it, compiled once in the agent
 * (libseccomp costs each blfs a millisecond or more of CPU at start-up
 * otherwise). 0, or -1 with cause: then each blfs builds its own.
 */
int	sandbox_blfs_filters_prepare(char **cause);
/*
 * In the agent's child, between fork and exec of blfs: an fd (close on
 * exec) holding the compiled filter for this process (read_only; net for
 * a ceph store), for blfs --seccomp-fd; -1 if none was compiled.
 */
int	sandbox_blfs_filter_fd(int read_only, int net);
/*
 * In blfs, where it would call sandbox_blfs_seccomp(_net): not dumpable,
 * and the filter read from fd (closed) in force on every thread. 0 or -1
 * with cause.
 */
int	sandbox_blfs_seccomp_fd(int fd, char **cause);

#endif
