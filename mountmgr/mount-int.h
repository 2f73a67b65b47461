/*
 * Inside the mount manager (mount.c, mount-child.c, mount-state.c): the
 * structures they share and the calls between them. Callers use mount.h.
 */
#ifndef BL_MOUNT_INT_H
#define BL_MOUNT_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "mountmgr/mount.h"
#include "mountmgr/paths.h"

#define MOUNT_STATE_FILE		"mounts.json"
#define MOUNT_LINE_MAX			1024

/* A process of ours the loop watches through its pidfd. */
struct mm_child {
	pid_t		 pid;
	int		 pidfd;
	int		 ours;		/* our child: reap it with waitid */
	struct event	*ev;
};

struct mount {
	TAILQ_ENTRY(mount)	 entry;
	struct mountmgr		*mm;
	int			 refs;
	int			 listed;	/* on mm->mounts */

	char			 id[40];
	char			*drive;
	char			*mount_path;
	char			*drive_path;
	int			 read_only;
	struct mount_request	 req;		/* options; strings above */
	enum mount_state	 state;
	const char		*err_code;
	char			*err_msg;
	uint64_t		 created_at_ms;
	uint64_t		 updated_at_ms;

	struct paths_mount_target target;	/* what we created, to undo */
	int			 kmounted;	/* the kernel mount exists */
	struct event		*start_ev;
	struct event		*timer;		/* deadline, then stop grace */
	int			 sock;		/* to the child, then blfs */
	struct event		*sock_ev;
	char			 line[MOUNT_LINE_MAX];
	size_t			 linelen;
	int			 child_ok;	/* store side done */
	int			 ready;		/* blfs said ready */
	int			 probed;	/* the probe was started */
	int			 probe_failed;	/* before blfs said ready */
	struct mm_child		 blfs;
	int			 probe_fd;	/* the probe thread's answer */
	struct event		*probe_ev;
	int			 adopted;	/* from a previous agent */
	int			 volume;	/* blfs is a volume's holder */
	int			 loop;		/* the volume's /dev/loopN */
	int			 passed_fd;	/* came with a line, or -1 */
	int			 fusefd;	/* backing files' registrar */
	unsigned		 backings;	/* registered on it */
	const struct stats_file	*stats;		/* blfs's metrics, or NULL */
	int			 stats_fd;	/* for the child, then -1 */
};


struct mount_waiter {
	TAILQ_ENTRY(mount_waiter) entry;
	struct mountmgr		*mm;
	struct mount		**ms;
	size_t			 n;
	unsigned		 mask;
	struct event		*timer;
	mount_wait_fn		*fn;
	void			*arg;
};

/* A child of ours whose mount is gone, reaped when it exits. */
struct mm_orphan {
	TAILQ_ENTRY(mm_orphan)	 entry;
	struct mountmgr		*mm;
	int			 pidfd;
	struct event		*ev;
};

struct mountmgr {
	struct event_base		*base;
	TAILQ_HEAD(, mm_orphan)		 orphans;
	struct mountmgr_config		 cfg;
	TAILQ_HEAD(, mount)		 mounts;
	TAILQ_HEAD(, mount_waiter)	 waiters;
	int				 in_notify;
};

/* mount.c */
struct mount	*mount_alloc(struct mountmgr *);
void		 mount_list_add(struct mountmgr *, struct mount *);
int		 mm_child_watch(struct mount *, struct mm_child *, pid_t pid,
		     int ours, event_callback_fn);
void		 on_blfs_exit(evutil_socket_t, short, void *);
void		 mount_stats_reopen(struct mount *);

/* mount-child.c: the forked child. */
void		 mount_child(struct mount *, int sock)
		     __attribute__((noreturn));

/* mount-state.c: the state file a restarted agent re-adopts from. */
void		 mm_save_state(struct mountmgr *);

#endif
