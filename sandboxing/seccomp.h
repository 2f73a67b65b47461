/*
 * The two seccomp filters: blfs's allowlist and the workload's denylist.
 * Only sandboxing/ includes this (the names stay clear of libseccomp's).
 */
#ifndef BL_SECCOMP_H
#define BL_SECCOMP_H

/*
 * blfs: allow exactly what a multithreaded libfuse3 low-level server doing
 * passthrough I/O calls; anything else kills the whole process (SIGSYS).
 * read_only: without the calls that change the store (modes, times,
 * extended attributes, names, sizes). Applied to every thread (TSYNC).
 * 0 or -1 with cause.
 */
int	seccomp_blfs_install(int read_only, int net, char **cause);
/*
 * The same filter compiled once, in the agent, for every variant
 * (read_only, net); 0 or -1 with cause (then every blfs builds its own).
 */
int	seccomp_blfs_prepare(char **cause);
/*
 * In the child about to exec blfs: a memfd holding the compiled filter
 * for this process (its pid in the signal rules), to pass to blfs; -1 if
 * none was compiled.
 */
int	seccomp_blfs_filter_fd(int read_only, int net);
/* In blfs: load the filter read from fd (closed), on every thread. */
int	seccomp_blfs_install_fd(int fd, char **cause);

/*
 * The workload: allow everything except the mount family, namespace
 * changes, ptrace and cross-process memory access, handle-based opens,
 * bpf, the keyring, modules, kexec and a few more, which fail with EPERM
 * (clone3 with ENOSYS, so libc falls back to clone, whose flags the filter
 * can read). Covers the machine's other syscall ABIs too. 0 or -1, cause.
 */
int	seccomp_jail_install(char **cause);

#endif
