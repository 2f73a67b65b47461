/*
 * The seam between store.h, which every caller uses, and the store kinds
 * that implement it (store-posix.c, mountlock.c and volume.c for the
 * posix store; store-ceph.c and store-ceph-caps.c for the ceph store).
 * store.c parses the --store string once, opens the kind it names, and
 * hands each call to that kind's table; nothing else asks which kind a
 * store is. Each entry means what its store.h function says; a NULL one
 * is -EOPNOTSUPP, said in words by store.c.
 */
#ifndef BL_STORE_KIND_H
#define BL_STORE_KIND_H

#include <stdint.h>

#include "mountmgr/store.h"

struct store_ops {
	const char	*kind;		/* "posix", "ceph" */
	void	(*free)(struct store *);
	int	(*drive_create)(struct store *, const struct drive *,
		    const char *template, char **cause);
	int	(*drive_load)(struct store *, const char *name,
		    struct drive **, char **cause);
	int	(*drive_list)(struct store *, struct store_list *,
		    char **cause);
	int	(*drive_update)(struct store *, const char *name,
		    const struct store_update *, struct drive **,
		    char **cause);
	int	(*drive_delete)(struct store *, const char *name,
		    char **cause);
	int	(*drive_mounts)(struct store *, const char *name);
	int	(*mount_lock)(struct store *, const char *name,
		    const char *session_id, int read_only, int *lockfd,
		    char **cause);
	int	(*mount_dir)(struct store *, const char *name, int *fd,
		    char **cause);
	int	(*mount_usage)(struct store *, const char *name, int *ufd,
		    uint64_t *capacity, char **cause);
	int	(*drive_usage)(struct store *, const char *name,
		    uint64_t *used, uint64_t *held, char **cause);
	int	(*mount_unlock_cleanup)(struct store *, const char *name,
		    const char *session_id, char **cause);
	int	(*open_drive_data)(struct store *, const char *name,
		    int *datafd, char **cause);
	int	(*open_volume)(struct store *, const char *name,
		    int read_only, int *imgfd, char **cause);
	int	(*identity_caps)(struct store *, const struct labels *,
		    struct store_caps *, char **cause);
	int	(*identity_authorize)(struct store *, const struct labels *,
		    const char *id, struct store_caps *, char **keyring,
		    char **cause);
	int	(*target)(struct store *, const char *name, const char *path,
		    struct store_target *, char **cause);
	/* Why this store cannot do what (an entry is NULL); may be NULL. */
	int	(*lacks)(struct store *, const char *what, char **cause);
};

/*
 * A kind named by "KIND:..." in a spec: check reads the rest of the spec
 * and the options without touching anything; open opens the store.
 * options: the names it takes (NULL-terminated).
 */
struct store_kind {
	const char		 *name;
	const char *const	 *options;
	int	(*check)(const char *spec, const char *rest,
		    const struct store_options *, char **cause);
	int	(*open)(const char *spec, const char *rest, int flags,
		    const struct store_options *, struct store **,
		    char **cause);
};

/* What every kind's store starts with: a kind's own state follows it. */
struct store {
	const struct store_ops	*ops;
	char			*path;	/* as given, for messages */
};

/* The posix store: a directory (store-posix.c). */
int	posix_store_open(const char *path, int flags, struct store **out,
	    char **cause);

#ifdef HAVE_CEPH
/* The ceph store: CephFS through libcephfs (store-ceph.c). */
extern const struct store_kind ceph_store_kind;
#endif

#endif
