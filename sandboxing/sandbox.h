/*
 * The confinement API: the only doors into prctl, capset and seccomp.
 * Used by agent/ (itself and its blfs children), blfs/ and bljail.
 */
#ifndef BL_SANDBOX_H
#define BL_SANDBOX_H

/*
 * blagent at start-up: not dumpable, keep only the capabilities the agent
 * needs (mount, open /dev/fuse, drop privileges in children, read the
 * token), drop the rest from every set including bounding. 0 or -1, cause.
 */
int	sandbox_agent_harden(char **cause);

/*
 * In the agent's child, between fork and exec of blfs: drop every
 * capability from every set including bounding, lock securebits, set
 * no_new_privs and not dumpable. Any failure is fatal: a half-confined
 * blfs must never run.
 */
void	sandbox_blfs_child(void);

/*
 * In blfs, after its fds are set up and before it serves: not dumpable
 * and the seccomp allowlist (anything else kills it with SIGSYS; no exec,
 * no mount). 0 or -1 with cause.
 */
int	sandbox_blfs_seccomp(char **cause);

#endif
