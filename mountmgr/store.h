/*
 * Drive stores, whatever their kind: the posix store (a directory, shared
 * between machines over a shared file system) and the ceph store (CephFS
 * through libcephfs). The layout below is the posix store's; the ceph
 * store keeps the same one under its root in CephFS.
 */
#ifndef BL_STORE_H
#define BL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/labels.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"

#define STORE_DEFAULT_PATH	"/var/lib/blagent/store"

/*
 * Layout:
 *   <store>/drives/<name>/drive.json   the description (drive.h)
 *   <store>/drives/<name>/data/        the drive's files
 *   <store>/drives/<name>/mounts/      <session>.lock, one per active mount
 *   <store>/locks/<name>.lock          per-drive lock for create, update,
 *                                      delete and taking a mount lock;
 *                                      never removed, so two processes
 *                                      can never hold two different files
 *   <store>/trash/                     drives being deleted (renamed here
 *                                      under the lock, removed after it)
 *   <store>/drives/.new-*              drives being created (hidden)
 *
 * Every call blocks (fcntl locks wait, the store may sit on a network
 * file system): the agent calls them away from its event loop.
 *
 * Return values: 0, or -errno with *cause (when cause is not NULL) a
 * sentence naming the drive, the field or the file, and what was wrong:
 *   -EINVAL  bad input from the caller (name, label, session id...)
 *   -ENOENT  no such drive (or no such store when not creating it)
 *   -EEXIST  the drive exists already (create)
 *   -EBUSY   the drive is mounted (delete; a mount or an update to RWO
 *            of an RWO drive mounted already)
 *   -EACCES  a read-write mount of a ROX drive
 *   -EIO     the drive's files are broken (drive.json unreadable or
 *            invalid, a symlink where a directory belongs...)
 * and the errno of a failed system call otherwise (EACCES, EROFS,
 * ENOSPC...).
 */

struct store;

#define STORE_CREATE	0x1	/* make the store and drives/ when missing */

/*
 * A store kind's own options, as the command lines spell them without
 * the dashes ("ceph-conf", "ceph-id", "ceph-keyring": store-ceph.c says
 * what they mean and their defaults). Callers pass them through without
 * knowing them; the kind the spec names refuses one it does not take,
 * so --ceph-id beside a posix store is an error, never ignored.
 */
#define STORE_OPTIONS_MAX	8
struct store_option {
	const char	*key;
	const char	*value;
};
struct store_options {
	size_t			n;
	struct store_option	v[STORE_OPTIONS_MAX];
};
/* Sets key (replacing it); -EINVAL past STORE_OPTIONS_MAX. */
int		 store_options_set(struct store_options *, const char *key,
		     const char *value);

/*
 * spec: a directory (the posix store), or "KIND:..." naming a kind
 * ("ceph:FS[/ROOT]"). store_open is store_open_opts without options.
 */
int		 store_open(const char *spec, int flags, struct store **out,
		     char **cause);
int		 store_open_opts(const char *spec, int flags,
		     const struct store_options *, struct store **out,
		     char **cause);
/*
 * The spec and options checked as store_open would, without touching
 * the store (start-up of the agent): 0 or -EINVAL with *cause.
 */
int		 store_spec_check(const char *spec,
		     const struct store_options *, char **cause);
/* Whether spec names a directory (the posix store) rather than a kind. */
int		 store_spec_is_dir(const char *spec);
void		 store_free(struct store *);
const char	*store_path(const struct store *);

/* d is checked whole (drive_check) before anything is written. */
int		 store_drive_create(struct store *, const struct drive *d,
		     char **cause);
/*
 * The same, for a volume seeded from template (a directory or a tar
 * archive; NULL: empty): drives/<name>/volume.img is made and formatted
 * (mountmgr/volume.h) before the drive appears. A template for a drive
 * that is not a volume is -EINVAL.
 */
int		 store_drive_create_template(struct store *,
		     const struct drive *d, const char *template,
		     char **cause);
int		 store_drive_load(struct store *, const char *name,
		     struct drive **out, char **cause);

/*
 * One entry per directory under drives/, sorted by name. A broken one
 * (bad name, unreadable or invalid drive.json) has drive NULL, error and
 * cause set: a listing never fails because of one bad drive.
 */
struct store_entry {
	char		*name;		/* printable: control bytes escaped */
	struct drive	*drive;		/* NULL when broken */
	int		 error;		/* -errno when broken */
	char		*cause;		/* why it is broken */
	int		 mounts;	/* active mount locks; -1 unknown */
};
struct store_list {
	size_t			 n;
	struct store_entry	*v;
};
int		 store_drive_list(struct store *, struct store_list *out,
		     char **cause);
void		 store_list_clear(struct store_list *);

/*
 * An update, applied under the drive's lock to the drive.json read under
 * it, so two updaters never lose each other's changes. Labels are removed
 * (absent keys are fine), then set; the result is checked whole before it
 * is written. Making a drive RWO is -EBUSY while more than one mount
 * holds it; a new mode, like new rules, applies to later mounts. A new
 * size grows a volume that is not mounted (-EBUSY when it is, -EINVAL
 * for a smaller size or a drive that is not a volume).
 */
struct store_update {
	const char		 *display_name;	/* NULL: unchanged */
	struct labels		  set_labels;	/* added or replaced */
	size_t			  nremove;
	char			**remove_labels;
	int			  replace_perms; /* perms replaces the rules */
	struct perm_rules	  perms;	 /* n == 0: clear them */
	int			  set_access;	 /* access replaces the mode */
	enum drive_access	  access;
	uint64_t		  capacity;	 /* 0: unchanged */
	uint64_t		  size;		 /* a volume's; 0: unchanged */
};
int		 store_drive_update(struct store *, const char *name,
		     const struct store_update *, struct drive **out,
		     char **cause);

/*
 * -EBUSY while a mount lock is held ("drive X is mounted (session S)")
 * or while something is mounted inside the drive's directory (in our
 * mount namespace); stale mount locks are removed. The drive is renamed
 * out of drives/ under the lock, then its files are removed without
 * following symlinks.
 * A broken drive can be deleted too.
 */
int		 store_drive_delete(struct store *, const char *name,
		     char **cause);

/* Active mounts of a drive (mount locks held by someone), or -errno. */
int		 store_drive_mounts(struct store *, const char *name);

/*
 * Mount locks. In a ceph store the lock belongs to the store's libcephfs
 * session, not to a file descriptor: store_mount_lock returns *lockfd -1
 * and the lock lasts until store_free (or the session dies and the MDS
 * drops it). In a posix store, store_mount_lock makes drives/<name>/mounts/<session>.lock
 * and takes an OFD read lock on it (so the lock belongs to the open file,
 * not to a process): *lockfd is O_RDWR and close-on-exec; clear that and
 * hand it to blfs, which keeps it open while it serves, so the lock lasts
 * exactly as long as the mount does, even if the agent dies. Close the
 * agent's own copy once blfs has it. Taken under the drive's lock after
 * checking drive.json still exists, so a delete cannot slip in between,
 * and after drive_access_check on the drive.json read under that lock
 * and the mount locks held then: an RWO drive is -EBUSY while any is
 * held, a ROX drive -EACCES unless read_only.
 * session_id: 1-128 bytes of [A-Za-z0-9._-], not starting with '.'.
 */
int		 store_mount_lock(struct store *, const char *name,
		     const char *session_id, int read_only, int *lockfd,
		     char **cause);
/*
 * O_RDONLY|O_DIRECTORY fd of drives/<name>/mounts, for blfs to see the
 * drive's other mounts come and go (blfs/share.c): it watches the
 * directory, and tests the locks of the files in it.
 */
int		 store_mount_dir(struct store *, const char *name, int *fd,
		     char **cause);
/*
 * A drive with a capacity: its usage file (mountmgr/usage.h), settled
 * (counted again from the files when a mount died before telling, or
 * the file is unreadable), open read-write for blfs in *ufd, and the
 * capacity; *ufd -1 and *capacity 0 for a drive without one.
 */
int		 store_mount_usage(struct store *, const char *name, int *ufd,
		     uint64_t *capacity, char **cause);
/* What the usage file says: used bytes, and bytes mounts hold. */
int		 store_drive_usage(struct store *, const char *name,
		     uint64_t *used, uint64_t *held, char **cause);
/*
 * Removes a mount lock file once nobody holds it (after blfs exited).
 * -EBUSY when it is still held; 0 when it is gone or already was.
 */
int		 store_mount_unlock_cleanup(struct store *, const char *name,
		     const char *session_id, char **cause);

/*
 * O_PATH|O_DIRECTORY|O_CLOEXEC fd of drives/<name>/data, opened with
 * openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS from the store; then
 * paths_open_beneath() on it for the drive_path.
 */
int		 store_open_drive_data(struct store *, const char *name,
		     int *datafd, char **cause);
/*
 * A volume's image (drives/<name>/volume.img), a regular file opened
 * O_RDONLY or O_RDWR, close-on-exec, never through a symlink. -EIO when
 * it is missing, a symlink or not a regular file.
 */
int		 store_open_volume(struct store *, const char *name,
		     int read_only, int *imgfd, char **cause);

/*
 * A store blfs reaches by itself instead of through file descriptors the
 * agent hands it (a ceph store: blfs speaks libcephfs): what blfs needs
 * to serve drive name at path (in the drive, as perm_evaluate decided)
 * and to take the drive's mount lock in its own session, which lasts as
 * long as it does. No lock is taken here. -EOPNOTSUPP for a store whose
 * drives blfs is handed as file descriptors (posix).
 */
struct store_target {
	char	*fs;		/* the CephFS */
	char	*store_root;	/* the store in it: "/" or "/a/b" */
	char	*serve;		/* what blfs serves: <root>/drives/N/data<path> */
	char	*conf;		/* ceph.conf */
	char	*id;		/* "client.NAME" */
	char	*keyring;	/* its keyring file */
};
int		 store_target(struct store *, const char *name,
		     const char *path, struct store_target *out,
		     char **cause);
void		 store_target_clear(struct store_target *);

/*
 * Identities the storage servers check (a ceph store: cephx). For a
 * workload with these labels: which drives its rules grant, in which
 * mode and at which path (perm_evaluate decides, as at mount time), and
 * the caps that say so to the servers, per service ("mon", "mds",
 * "osd"; a service's caps may be empty: no access). A drive the caps
 * cannot name safely (broken drive.json, a layout not of ours, a path
 * the caps grammar cannot carry) grants nothing and is listed in
 * skipped with the reason. A posix store has no such identities:
 * -EOPNOTSUPP.
 */
struct store_grant {
	char		*drive;
	enum perm_mode	 mode;		/* a ROX drive grants read */
	char		*path;		/* in the drive */
};
struct store_caps {
	size_t			 ngrants;
	struct store_grant	*grants;
	struct labels		 caps;		/* service -> caps */
	size_t			 nskipped;
	char			**skipped;	/* "drive: why" */
};
void		 store_caps_clear(struct store_caps *);
int		 store_identity_caps(struct store *,
		     const struct labels *workload, struct store_caps *out,
		     char **cause);
/*
 * The same caps given to identity id ("client.NAME"): created with them
 * when missing, its caps replaced when it exists (a rule changed). Its
 * keyring's text in *keyring (a secret: the caller writes it 0600).
 */
int		 store_identity_authorize(struct store *,
		     const struct labels *workload, const char *id,
		     struct store_caps *out, char **keyring, char **cause);

#endif
