/*
 * Inside the ceph store (store-ceph.c, store-ceph-caps.c): the pieces
 * they share. Nothing else includes this; callers use store.h.
 */
#ifndef BL_STORE_CEPH_H
#define BL_STORE_CEPH_H

#include <stdint.h>

#include "mountmgr/cephlib.h"

#include "mountmgr/drive.h"
#include "mountmgr/store-kind.h"

/*
 * Each drive's files live in a RADOS namespace of their own, so an
 * identity's osd caps can name one drive: "blagent.NAME.HEX" for data/,
 * where HEX is 16 random hex digits chosen at creation (two stores in one
 * file system, or a drive deleted and made again, never share one), and
 * that followed by ".meta" for the drive's directory (drive.json), which
 * identities may only read.
 */
#define CEPH_NS_PREFIX		"blagent."
#define CEPH_NS_META_SUFFIX	".meta"
#define CEPH_NS_HEX		16

/* A mount lock this store's session holds (store.h, store_mount_lock). */
struct cstore_held {
	struct ceph_mount_info *cm;	/* the session it lives in */
	struct Inode	*in;
	struct Fh	*fh;
	char		*drive;
	char		*sid;
};

/*
 * A session of a store whose identity may not mount the store's root (a
 * sandbox's: store-ceph-caps.c grants it drive.json, the drive's lock,
 * its mounts/ and its data, each by path): mounted at one of those, a
 * file or a directory, when first needed (cstore_reach).
 */
struct cstore_sess {
	char			*path;	/* in the store: "/drives/x/mounts" */
	struct ceph_mount_info	*cm;
};

/* A ceph store: the common part (store-kind.h), then the session. */
struct cstore {
	struct store		 st;
	struct ceph_mount_info	*cm;	/* mounted at root; NULL: narrow */
	size_t			 nsess;	/* narrow: sessions by path */
	struct cstore_sess	*sess;
	char			*fs;	/* the CephFS's name */
	char			*root;	/* "/" or "/a/b": the store in it */
	char			*conf;	/* ceph.conf */
	char			*id;	/* "client.NAME" */
	char			*keyring; /* NULL: ceph.conf's or Ceph's default */
	size_t			 nheld;
	struct cstore_held	*held;
};

static inline struct cstore *
cstore_of(struct store *s)
{
	return (struct cstore *)(void *)s;
}

/* Letters, digits, '_', '.', '-': what the caps grammar reads unquoted. */
#define CEPH_WORD_SET	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_.-"

extern const struct store_ops cstore_ops;
/* What a narrow store can do: read a drive, take and drop mount locks. */
extern const struct store_ops cstore_narrow_ops;

/* store-ceph.c: the session and small helpers. */
int	cstore_all_of(const char *s, const char *set);
int	cstore_check_name(const char *name, char **cause);
/* "NAME" or "client.NAME" -> "client.NAME"; NULL when not a client id. */
char	*cstore_id_parse(const char *id);
int	cstore_check_session(const char *sid, char **cause);
/* n hex digits of randomness into buf (n + 1 bytes). */
void	cstore_random_hex(char *buf, size_t n);
/*
 * The session that reaches path (in the store, "/drives/x/drive.json")
 * in *cm, and path as that session sees it in *rel (pointing into path,
 * or "/"). A store mounted at its root has one session for everything; a
 * narrow one mounts a session at path itself unless one it has covers
 * it. -errno with *cause.
 */
int	cstore_reach(struct cstore *, const char *path,
	    struct ceph_mount_info **cm, const char **rel, char **cause);
/* Whether a session the store has covers path (always, at its root). */
int	cstore_covers(struct cstore *, const char *path);
/* Narrow: unmounts the sessions no held mount lock lives in. */
void	cstore_trim(struct cstore *);
/* statx without following a symlink: mode and size. */
int	cstore_lstat(struct cstore *, const char *path, struct ceph_statx *);
/*
 * An extended attribute of path (in the store), NUL-terminated into buf;
 * its length, or -errno (-ERANGE when it does not fit).
 */
int	cstore_xattr(struct cstore *, const char *path, const char *name,
	    char *buf, size_t len);
int	cstore_drive_list(struct store *, struct store_list *, char **cause);

/* store-ceph-lock.c */
struct cstore_lockh {
	struct ceph_mount_info *cm;
	struct Inode	*in;
	struct Fh	*fh;
};
/* The drive's lock (locks/<name>.lock), write-locked, waiting. */
int	cstore_lock(struct cstore *, const char *name, struct cstore_lockh *,
	    char **cause);
void	cstore_lockh_close(struct cstore *, struct cstore_lockh *);
/* Held mount locks; with reap, stale ones go and holders join *busy. */
int	cstore_scan_mounts(struct cstore *, const char *name, int reap,
	    char **busy);
int	cstore_drive_mounts(struct store *, const char *name);
int	cstore_mount_lock(struct store *, const char *name,
	    const char *session_id, int read_only, int *lockfd, char **cause);
int	cstore_mount_unlock_cleanup(struct store *, const char *name,
	    const char *session_id, char **cause);

/* store-ceph-drive.c */
/* drives/<name> is a directory: 0, or -ENOENT / -EIO with *cause. */
int	cstore_drive_dir(struct cstore *, const char *name, char **cause);
/* drive.json in dir ("/drives/<name>"), checked whole. */
int	cstore_load_at(struct cstore *, const char *dir, const char *name,
	    struct drive **out, char **cause);
int	cstore_drive_load(struct store *, const char *name, struct drive **,
	    char **cause);
int	cstore_drive_create(struct store *, const struct drive *,
	    const char *template, char **cause);
int	cstore_drive_update(struct store *, const char *name,
	    const struct store_update *, struct drive **, char **cause);
int	cstore_drive_delete(struct store *, const char *name, char **cause);
int	cstore_drive_usage(struct store *, const char *name, uint64_t *used,
	    uint64_t *held, char **cause);

/* store-ceph-caps.c: the table's identity entries. */
int	cstore_identity_caps(struct store *, const struct labels *,
	    struct store_caps *, char **cause);
int	cstore_identity_authorize(struct store *, const struct labels *,
	    const char *id, struct store_caps *, char **keyring,
	    char **cause);

#endif
