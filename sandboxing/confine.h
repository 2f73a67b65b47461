/*
 * The ordered confinement pipelines: the workload's (bljail) here; blfs's
 * and the agent's behind sandbox.h.
 */
#ifndef BL_CONFINE_H
#define BL_CONFINE_H

#include <sys/types.h>
#include <stdint.h>

/* What bljail hides and drops; paths NULL when not to be hidden. */
struct confine_jail {
	int		 set_uid;	/* drop to uid (and gid, groups) */
	uid_t		 uid;
	int		 set_gid;
	gid_t		 gid;
	uint64_t	 keep;		/* capabilities kept back from the drop */
	const char	*token;		/* its directory is hidden */
	const char	*store;
	const char	*state_dir;
	const char	*control_socket;
	const char	*status_socket;	/* reachable, but pinned */
	const char	*blfs;
	const char *const *hide;	/* more paths, nhide of them */
	size_t		 nhide;
	const char *const *ro;		/* made read-only, nro of them */
	size_t		 nro;
};

/*
 * The capabilities a workload loses, from every set including bounding:
 * each one undoes a mount, reaches the kernel or another process, or reads
 * what a mask hides.
 */
uint64_t confine_jail_dropped(void);

/*
 * Confine the calling process, which must be the first process of a new
 * pid namespace, then write one status byte to status_fd and close it.
 * Returns only when every step succeeded; any failure after the first
 * step exits with SANDBOX_EXIT_FAILED (a half-confined workload never
 * runs). The caller then execs (or forks and execs) the command.
 */
void	confine_jail(const struct confine_jail *, int status_fd);

#endif
