/*
 * The mount manager: every mount's state machine, driven from the event
 * loop (child processes, pidfds, timers), never blocking it.
 *
 *   Mount -> pending -> mounting -> mounted -(Unmount)-> unmounting -> gone
 *               |           |          |
 *               +-----------+----------+--> failed (the error says why)
 */
#ifndef BL_MOUNT_H
#define BL_MOUNT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/labels.h"
#include "mountmgr/state.h"
#include "mountmgr/store.h"

struct mountmgr;
struct mount;

struct mount_request {
	const char	*drive;
	const char	*mount_path;
	const char	*drive_path;	/* NULL: "/" */
	int		 read_only;
	uint64_t	 cache_size;	/* 0: blfs's default */
	uint64_t	 buffer_size;
	uint64_t	 prefetch;
	int		 writeback;
	uint64_t	 timeout_ms;	/* 0: 30 s */
};

typedef void mount_changed_fn(struct mount *, void *arg);
typedef const struct labels *mount_labels_fn(void *arg);
typedef void mount_confine_fn(void);
typedef int mount_filter_fn(int read_only, int net);

struct mountmgr_config {
	const char		*store;
	const struct store_options *store_opts;	/* NULL: none */
	const char		*state_dir;
	const char		*run_dir;
	const char		*blfs;
	mount_labels_fn		*labels;	/* the workload's, at mount time */
	void			*labels_arg;
	mount_confine_fn	*confine_child;	/* between fork and exec of blfs */
	/* Between fork and exec: an fd with blfs's seccomp filter made
	 * ready, for --seccomp-fd; -1 or NULL: blfs builds its own. */
	mount_filter_fn		*blfs_filter;
	mount_changed_fn	*changed;	/* every state change */
	void			*changed_arg;
};

/* What a client sees of a mount (MountInfo). */
struct mount_view {
	const char	*id;
	const char	*drive;
	const char	*mount_path;
	const char	*drive_path;
	int		 read_only;
	enum mount_state state;
	const char	*err_code;	/* NULL unless failed */
	const char	*err_msg;
	uint64_t	 created_at_ms;
	uint64_t	 updated_at_ms;
};

struct mountmgr	*mountmgr_new(struct event_base *, const struct mountmgr_config *);
/* Stops watching; running blfs servers keep serving (a restart re-adopts). */
void		 mountmgr_free(struct mountmgr *);
/* Re-adopts what the state file and mountinfo show still served. */
void		 mountmgr_restore(struct mountmgr *);

/*
 * Starts a mount (or returns the same session for the same request).
 * 0 with *m (a reference the caller must mount_unref), or -1 with *code
 * ("EINVAL", "EBUSY", ...) and *cause.
 */
int		 mountmgr_mount(struct mountmgr *, const struct mount_request *,
		     struct mount **m, const char **code, char **cause);
/*
 * Unmounts, or cancels a mount still pending or mounting. 0, or -1 with
 * *code and *cause (EBUSY when files are open and force is not set).
 */
int		 mountmgr_unmount(struct mountmgr *, struct mount *, int force,
		     const char **code, char **cause);

/* Look-ups among the mounts not yet gone; references the caller unrefs. */
struct mount	*mountmgr_find_id(struct mountmgr *, const char *id);
struct mount	*mountmgr_find_path(struct mountmgr *, const char *path);
/* All current mounts in creation order, referenced; free with mount_list_free. */
struct mount	**mountmgr_list(struct mountmgr *, size_t *n);
void		 mount_list_free(struct mount **, size_t n);
/* Whether every mount has settled (mounted, failed or gone). */
int		 mountmgr_all_settled(struct mountmgr *);

void		 mount_ref(struct mount *);
void		 mount_unref(struct mount *);
void		 mount_view(const struct mount *, struct mount_view *);
/* The mount's metrics, summed (mountmgr/stats.h); -1: it has none. */
struct stats_sum;
int		 mount_stats(const struct mount *, struct stats_sum *);
enum mount_state mount_get_state(const struct mount *);

/*
 * Waiters: fn runs once every mount in ms has reached one of the states
 * in mask (bits 1 << MOUNT_*), or when timeout_ms passes (timed_out set).
 * A waiter whose caller went away is cancelled with mount_wait_cancel.
 */
struct mount_waiter;
typedef void mount_wait_fn(int timed_out, void *arg);
#define MOUNT_SETTLED	((1u << MOUNT_MOUNTED) | (1u << MOUNT_FAILED) | \
			 (1u << MOUNT_GONE))
#define MOUNT_ENDED	((1u << MOUNT_FAILED) | (1u << MOUNT_GONE))
struct mount_waiter *mountmgr_wait(struct mountmgr *, struct mount **ms,
		     size_t n, unsigned mask, uint64_t timeout_ms,
		     mount_wait_fn *, void *arg);
void		 mount_wait_cancel(struct mount_waiter *);

#endif
