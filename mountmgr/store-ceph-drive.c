/*
 * Drive records of the ceph store: drive.json, create, update, delete,
 * each under the drive's lock (store-ceph-lock.c).
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountmgr/cephlib.h"

#include "common/labels.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"
#include "mountmgr/store.h"
#include "mountmgr/store-ceph.h"
#include "mountmgr/store-kind.h"

/* --- drive.json ------------------------------------------------------------ */

/* drives/<name> is a directory (not a symlink): 0, or -errno with words. */
int
cstore_drive_dir(struct cstore *cs, const char *name, char **cause)
{
	struct ceph_statx	 stx;
	char			*p;
	int			 r;

	/*
	 * A narrow store cannot look at drives/<name> itself: its drive.json
	 * (a session mounted there) answers whether the drive exists and
	 * whether the identity's caps grant it at all.
	 */
	if (cs->cm == NULL) {
		xasprintf(&p, "/drives/%s/drive.json", name);
		r = cstore_lstat(cs, p, &stx);
		free(p);
		if (r == -ENOENT)
			return cause_fail(cause, -ENOENT, "no such drive "
			    "\"%s\" in %s", name, cs->st.path);
		if (r == -EPERM || r == -EACCES)
			return cause_fail(cause, -EACCES, "drive \"%s\": no "
			    "such drive, or the caps of %s grant nothing in "
			    "it (blctl drive authorize gives an identity the "
			    "drives its rules grant)", name, cs->id);
		if (r != 0)
			return cause_fail(cause, r, "cannot reach drive \"%s\" "
			    "in %s: %s", name, cs->st.path, strerror(-r));
		return 0;
	}
	xasprintf(&p, "/drives/%s", name);
	r = cstore_lstat(cs, p, &stx);
	free(p);
	if (r == -ENOENT)
		return cause_fail(cause, -ENOENT, "no such drive \"%s\" in %s",
		    name, cs->st.path);
	if (r != 0)
		return cause_fail(cause, r, "cannot examine %s/drives/%s: %s",
		    cs->st.path, name, strerror(-r));
	if (!S_ISDIR(stx.stx_mode))
		return cause_fail(cause, -EIO, "%s/drives/%s is not a "
		    "directory", cs->st.path, name);
	return 0;
}

/* drive.json of drives/<dir> (named name), checked whole. */
int
cstore_load_at(struct cstore *cs, const char *dir, const char *name,
    struct drive **out, char **cause)
{
	struct ceph_mount_info	*cm = NULL;
	struct ceph_statx	 stx;
	const char		*rel;
	char			*p, *buf = NULL, *why = NULL;
	int64_t			 got = 0;
	int			 fd = -1, r;

	*out = NULL;
	xasprintf(&p, "%s/drive.json", dir);
	if ((r = cstore_lstat(cs, p, &stx)) != 0) {
		r = cause_fail(cause, r == -ENOENT ? -EIO : r, "%s%s/drive.json "
		    "%s", cs->st.path, dir, r == -ENOENT ? "is missing" :
		    strerror(-r));
		goto out;
	}
	if (!S_ISREG(stx.stx_mode) || stx.stx_size > DRIVE_JSON_MAX) {
		r = cause_fail(cause, -EIO, "%s%s/drive.json is %s",
		    cs->st.path, dir, !S_ISREG(stx.stx_mode) ?
		    "not a regular file" : "larger than 64 KiB");
		goto out;
	}
	if ((r = cstore_reach(cs, p, &cm, &rel, cause)) != 0)
		goto out;
	if ((fd = ceph_open(cm, rel, O_RDONLY | O_NOFOLLOW, 0)) < 0) {
		r = cause_fail(cause, fd, "cannot open %s%s/drive.json: %s",
		    cs->st.path, dir, strerror(-fd));
		goto out;
	}
	/* One more byte than allowed: a file that grew is still caught. */
	buf = xmalloc(DRIVE_JSON_MAX + 1);
	while (got <= DRIVE_JSON_MAX) {
		int n = ceph_read(cm, fd, buf + got, DRIVE_JSON_MAX + 1 -
		    got, got);

		if (n < 0) {
			r = cause_fail(cause, n, "cannot read %s%s/drive.json: "
			    "%s", cs->st.path, dir, strerror(-n));
			goto out;
		}
		if (n == 0)
			break;
		got += n;
	}
	if (got > DRIVE_JSON_MAX) {
		r = cause_fail(cause, -EIO, "%s%s/drive.json is larger than "
		    "64 KiB", cs->st.path, dir);
		goto out;
	}
	if (drive_from_json(buf, (size_t)got, out, &why) != 0) {
		r = cause_fail(cause, -EIO, "%s%s/drive.json: %s", cs->st.path,
		    dir, why);
		goto out;
	}
	if (strcmp((*out)->name, name) != 0) {
		r = cause_fail(cause, -EIO, "%s%s/drive.json: field \"name\" "
		    "is \"%s\" but the drive's directory is \"%s\"",
		    cs->st.path, dir, (*out)->name, name);
		drive_free(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		ceph_close(cm, fd);
	free(why);
	free(buf);
	free(p);
	return r;
}

int
cstore_drive_load(struct store *s, const char *name, struct drive **out,
    char **cause)
{
	struct cstore	*cs = cstore_of(s);
	char			*dir;
	int			 r;

	*out = NULL;
	if ((r = cstore_check_name(name, cause)) != 0 ||
	    (r = cstore_drive_dir(cs, name, cause)) != 0)
		return r;
	xasprintf(&dir, "/drives/%s", name);
	r = cstore_load_at(cs, dir, name, out, cause);
	free(dir);
	return r;
}

/*
 * drive.json replaced whole: a new file beside it (O_EXCL), written and
 * fsynced, renamed over. Readers see the old one or the new one.
 */
static int
cstore_write_json(struct cstore *cs, const char *dir, const struct drive *d,
    char **cause)
{
	char	 sfx[20], *tmp, *dst, *text;
	size_t	 len, off = 0;
	int	 fd, r = 0;

	if ((text = drive_to_text(d)) == NULL)
		return cause_fail(cause, -EIO, "cannot encode drive.json of "
		    "\"%s\"", d->name);
	if ((len = strlen(text)) > DRIVE_JSON_MAX) {
		free(text);
		return cause_fail(cause, -EINVAL, "drive.json of \"%s\" would "
		    "be larger than 64 KiB", d->name);
	}
	cstore_random_hex(sfx, 16);
	xasprintf(&tmp, "%s/.drive.json.%s", dir, sfx);
	xasprintf(&dst, "%s/drive.json", dir);
	fd = ceph_open(cs->cm, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
	    0644);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	while (off < len && r == 0) {
		int n = ceph_write(cs->cm, fd, text + off, (int64_t)(len - off),
		    (int64_t)off);

		if (n <= 0)
			r = n < 0 ? n : -EIO;
		else
			off += (size_t)n;
	}
	if (r == 0)
		r = ceph_fsync(cs->cm, fd, 0);
	ceph_close(cs->cm, fd);
	if (r == 0)
		r = ceph_rename(cs->cm, tmp, dst);
	if (r != 0)
		(void)ceph_unlink(cs->cm, tmp);
out:
	if (r != 0)
		cause_fail(cause, r, "cannot write %s%s/drive.json: %s",
		    cs->st.path, dir, strerror(-r));
	free(text);
	free(tmp);
	free(dst);
	return r;
}

/* --- removal ------------------------------------------------------------- */

#define CEPH_RMTREE_DEPTH	4096

/* rm -rf of path, never following a symlink; ENOENT is fine. */
static int
cstore_rmtree_depth(struct cstore *cs, const char *path, int depth)
{
	struct ceph_dir_result	*dir;
	struct ceph_statx	 stx;
	struct dirent		 de;
	char			*sub;
	int			 r;

	if ((r = cstore_lstat(cs, path, &stx)) != 0)
		return r == -ENOENT ? 0 : r;
	if (!S_ISDIR(stx.stx_mode))
		return (r = ceph_unlink(cs->cm, path)) == -ENOENT ? 0 : r;
	if (depth > CEPH_RMTREE_DEPTH)
		return -ELOOP;
	if ((r = ceph_opendir(cs->cm, path, &dir)) != 0)
		return r == -ENOENT ? 0 : r;
	while ((r = ceph_readdir_r(cs->cm, dir, &de)) == 1) {
		if (strcmp(de.d_name, ".") == 0 || strcmp(de.d_name, "..") == 0)
			continue;
		xasprintf(&sub, "%s/%s", path, de.d_name);
		r = cstore_rmtree_depth(cs, sub, depth + 1);
		free(sub);
		if (r != 0)
			break;
	}
	ceph_closedir(cs->cm, dir);
	if (r < 0)
		return r;
	return (r = ceph_rmdir(cs->cm, path)) == -ENOENT ? 0 : r;
}

static int
cstore_rmtree(struct cstore *cs, const char *path)
{
	return cstore_rmtree_depth(cs, path, 0);
}

/* --- create, update, delete ------------------------------------------------ */

/* The layouts that make a drive's objects its own (store-ceph.h). */
static int
cstore_set_layouts(struct cstore *cs, const char *dir, const char *name,
    char **cause)
{
	char	 hex[CEPH_NS_HEX + 1], *ns, *meta, *data;
	int	 r;

	cstore_random_hex(hex, CEPH_NS_HEX);
	xasprintf(&ns, CEPH_NS_PREFIX "%s.%s", name, hex);
	xasprintf(&meta, "%s" CEPH_NS_META_SUFFIX, ns);
	xasprintf(&data, "%s/data", dir);
	/* Before any file: files keep the layout they were born with. */
	r = ceph_setxattr(cs->cm, dir, "ceph.dir.layout.pool_namespace", meta,
	    strlen(meta), 0);
	if (r == 0)
		r = ceph_setxattr(cs->cm, data, "ceph.dir.layout.pool_namespace",
		    ns, strlen(ns), 0);
	if (r != 0)
		cause_fail(cause, r, "cannot give drive \"%s\" a RADOS "
		    "namespace of its own (ceph.dir.layout.pool_namespace; "
		    "%s needs the 'p' flag in its mds caps): %s", name,
		    cs->id, strerror(-r));
	free(ns);
	free(meta);
	free(data);
	return r;
}

/* CephFS's quota on data/: libcephfs refuses writes past it. */
static int
cstore_set_quota(struct cstore *cs, const char *dir, const char *name,
    uint64_t capacity, char **cause)
{
	char	 v[32], *data;
	int	 r;

	snprintf(v, sizeof v, "%" PRIu64, capacity);
	xasprintf(&data, "%s/data", dir);
	r = ceph_setxattr(cs->cm, data, "ceph.quota.max_bytes", v, strlen(v),
	    0);
	free(data);
	if (r != 0)
		return cause_fail(cause, r, "cannot set the capacity of drive "
		    "\"%s\" (ceph.quota.max_bytes): %s", name, strerror(-r));
	return 0;
}

int
cstore_drive_create(struct store *s, const struct drive *d,
    const char *template, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	struct cstore_lockh	 lk;
	struct ceph_statx	 stx;
	char			 sfx[20], *tmp = NULL, *dst, *sub;
	int			 r;

	if (drive_check(d, cause) != 0)
		return -EINVAL;
	if (d->kind == DRIVE_KIND_VOLUME || template != NULL)
		return cause_fail(cause, -EINVAL, "drive \"%s\": a ceph store "
		    "holds no volumes (an ext4 image on a loop device wants "
		    "a posix store); make it a drive", d->name);
	if ((r = ceph_mkdir(cs->cm, "/drives", 0755)) != 0 && r != -EEXIST)
		return cause_fail(cause, r, "cannot create %s/drives: %s",
		    s->path, strerror(-r));
	if ((r = cstore_lock(cs, d->name, &lk, cause)) != 0)
		return r;
	xasprintf(&dst, "/drives/%s", d->name);
	if (cstore_lstat(cs, dst, &stx) == 0) {
		r = cause_fail(cause, -EEXIST, "drive \"%s\" already exists "
		    "in %s", d->name, s->path);
		goto out;
	}
	/* Built aside under a hidden name, then renamed into place. */
	cstore_random_hex(sfx, 16);
	xasprintf(&tmp, "/drives/.new-%s-%s", d->name, sfx);
	if ((r = ceph_mkdir(cs->cm, tmp, 0755)) != 0) {
		r = cause_fail(cause, r, "cannot create %s%s: %s", s->path, tmp,
		    strerror(-r));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	xasprintf(&sub, "%s/data", tmp);
	r = ceph_mkdir(cs->cm, sub, 0755);
	free(sub);
	if (r == 0) {
		xasprintf(&sub, "%s/mounts", tmp);
		r = ceph_mkdir(cs->cm, sub, 0755);
		free(sub);
	}
	if (r != 0) {
		r = cause_fail(cause, r, "cannot create the directories of "
		    "drive \"%s\": %s", d->name, strerror(-r));
		goto undo;
	}
	if ((r = cstore_set_layouts(cs, tmp, d->name, cause)) != 0 ||
	    (d->capacity != 0 && (r = cstore_set_quota(cs, tmp, d->name,
	    d->capacity, cause)) != 0) ||
	    (r = cstore_write_json(cs, tmp, d, cause)) != 0)
		goto undo;
	if ((r = ceph_rename(cs->cm, tmp, dst)) != 0) {
		r = cause_fail(cause, r == -ENOTEMPTY ? -EEXIST : r, "cannot "
		    "create drive \"%s\" in %s: %s", d->name, s->path,
		    strerror(-r));
		goto undo;
	}
	(void)ceph_sync_fs(cs->cm);
	goto out;
undo:
	if (cstore_rmtree(cs, tmp) != 0)
		log_warnx("leaving %s%s behind", s->path, tmp);
out:
	free(tmp);
	free(dst);
	cstore_lockh_close(cs, &lk);
	return r;
}

/* What data/ holds: CephFS's recursive byte count, kept by the MDS. */
static int
cstore_rbytes(struct cstore *cs, const char *name, uint64_t *used)
{
	char	 buf[32], *p, *end;
	int	 r;

	xasprintf(&p, "/drives/%s/data", name);
	r = cstore_xattr(cs, p, "ceph.dir.rbytes", buf, sizeof buf);
	free(p);
	if (r < 0)
		return r;
	errno = 0;
	*used = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0')
		return -EIO;
	return 0;
}

int
cstore_drive_usage(struct store *s, const char *name, uint64_t *used,
    uint64_t *held, char **cause)
{
	int r;

	*used = *held = 0;
	if ((r = cstore_check_name(name, cause)) != 0)
		return r;
	if ((r = cstore_rbytes(cstore_of(s), name, used)) != 0)
		return cause_fail(cause, r, "cannot read the usage of drive "
		    "\"%s\" (ceph.dir.rbytes): %s", name, strerror(-r));
	return 0;
}

/* Labels without the removed keys. */
static void
cstore_labels_remove(struct labels *l, char **keys, size_t nkeys)
{
	struct labels kept = { 0, NULL };

	for (size_t i = 0; i < l->n; i++) {
		size_t k;

		for (k = 0; k < nkeys; k++)
			if (strcmp(l->v[i].key, keys[k]) == 0)
				break;
		if (k == nkeys)
			labels_set(&kept, l->v[i].key, l->v[i].value);
	}
	labels_clear(l);
	*l = kept;
}

static void
cstore_perms_copy(struct perm_rules *dst, const struct perm_rules *src)
{
	perm_rules_clear(dst);
	for (size_t i = 0; i < src->n && i < PERM_MAX_RULES; i++) {
		memset(&dst->rule[i], 0, sizeof dst->rule[i]);
		labels_copy(&dst->rule[i].labels, &src->rule[i].labels);
		dst->rule[i].mode = src->rule[i].mode;
		dst->rule[i].path = src->rule[i].path != NULL ?
		    xstrdup(src->rule[i].path) : NULL;
		dst->n = i + 1;
	}
}

/* The parts of an update that change more than drive.json's fields. */
static int
cstore_update_apply(struct cstore *cs, const char *name, const char *dir,
    struct drive *d, const struct store_update *u, char **cause)
{
	char		*busy = NULL, *a, *b;
	uint64_t	 used;
	int		 held, r;

	if (u->size != 0)
		return cause_fail(cause, -EINVAL, "size: drive \"%s\" is not "
		    "a volume (a ceph store holds none)", name);
	if (u->set_access && u->access == DRIVE_ACCESS_RWO &&
	    d->access != DRIVE_ACCESS_RWO) {
		if ((held = cstore_scan_mounts(cs, name, 1, &busy)) < 0)
			return cause_fail(cause, held, "cannot check the mounts "
			    "of drive \"%s\": %s", name, strerror(-held));
		if (held > 1) {
			cause_fail(cause, -EBUSY, "drive \"%s\" is mounted %d "
			    "times (sessions %s); RWO allows one: unmount the "
			    "others first", name, held, busy);
			free(busy);
			return -EBUSY;
		}
		free(busy);
	}
	if (u->set_access)
		d->access = u->access;
	if (u->capacity != 0) {
		if ((r = cstore_rbytes(cs, name, &used)) != 0)
			return cause_fail(cause, r, "cannot read the usage of "
			    "drive \"%s\": %s", name, strerror(-r));
		if (u->capacity < used) {
			a = drive_size_words(u->capacity);
			b = drive_size_words(used);
			r = cause_fail(cause, -EINVAL, "capacity: %s is below "
			    "what drive \"%s\" uses now, %s", a, name, b);
			free(a);
			free(b);
			return r;
		}
		if ((r = cstore_set_quota(cs, dir, name, u->capacity,
		    cause)) != 0)
			return r;
		d->capacity = u->capacity;
	}
	return 0;
}

int
cstore_drive_update(struct store *s, const char *name,
    const struct store_update *u, struct drive **out, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	struct cstore_lockh	 lk;
	struct drive		*d = NULL;
	char			*dir, *why = NULL;
	int			 r;

	if (out != NULL)
		*out = NULL;
	if ((r = cstore_check_name(name, cause)) != 0)
		return r;
	if (u->display_name != NULL &&
	    drive_display_name_check(u->display_name, cause) != 0)
		return -EINVAL;
	if (u->replace_perms && u->perms.n > PERM_MAX_RULES)
		return cause_fail(cause, -EINVAL, "permissions: at most %d "
		    "rules", PERM_MAX_RULES);
	if ((r = cstore_lock(cs, name, &lk, cause)) != 0)
		return r;
	xasprintf(&dir, "/drives/%s", name);
	/* Read under the lock: the update applies to the latest state. */
	if ((r = cstore_drive_dir(cs, name, cause)) != 0 ||
	    (r = cstore_load_at(cs, dir, name, &d, cause)) != 0)
		goto out;
	if (u->display_name != NULL) {
		free(d->display_name);
		d->display_name = xstrdup(u->display_name);
	}
	cstore_labels_remove(&d->labels, u->remove_labels, u->nremove);
	for (size_t i = 0; i < u->set_labels.n; i++)
		labels_set(&d->labels, u->set_labels.v[i].key,
		    u->set_labels.v[i].value);
	if (u->replace_perms)
		cstore_perms_copy(&d->perms, &u->perms);
	if (drive_check(d, &why) != 0) {
		r = cause_fail(cause, -EINVAL, "drive \"%s\": %s", name, why);
		free(why);
		goto out;
	}
	if ((r = cstore_update_apply(cs, name, dir, d, u, cause)) != 0)
		goto out;
	if ((r = cstore_write_json(cs, dir, d, cause)) == 0)
		(void)ceph_sync_fs(cs->cm);
out:
	free(dir);
	cstore_lockh_close(cs, &lk);
	if (r == 0 && out != NULL)
		*out = d;
	else
		drive_free(d);
	return r;
}

int
cstore_drive_delete(struct store *s, const char *name, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	struct cstore_lockh	 lk;
	char			 sfx[20], *busy = NULL, *dir, *trash;
	int			 r;

	if ((r = cstore_check_name(name, cause)) != 0)
		return r;
	if ((r = cstore_lock(cs, name, &lk, cause)) != 0)
		return r;
	xasprintf(&dir, "/drives/%s", name);
	cstore_random_hex(sfx, 16);
	xasprintf(&trash, "/trash/%s-%s", name, sfx);
	if ((r = cstore_drive_dir(cs, name, cause)) != 0)
		goto out;
	/*
	 * Under the drive's lock no mount lock can be taken: what is seen
	 * here holds until the drive is gone from drives/.
	 */
	if ((r = cstore_scan_mounts(cs, name, 1, &busy)) < 0) {
		r = cause_fail(cause, r, "cannot check the mounts of drive "
		    "\"%s\": %s", name, strerror(-r));
		goto out;
	}
	if (r > 0) {
		r = cause_fail(cause, -EBUSY, "drive \"%s\" is mounted "
		    "(session%s %s)", name, r > 1 ? "s" : "", busy);
		goto out;
	}
	(void)ceph_mkdir(cs->cm, "/trash", 0755);
	if ((r = ceph_rename(cs->cm, dir, trash)) != 0) {
		r = cause_fail(cause, r, "cannot delete drive \"%s\": %s", name,
		    strerror(-r));
		goto out;
	}
	(void)ceph_sync_fs(cs->cm);
	cstore_lockh_close(cs, &lk);
	/* The drive is gone; the slow removal runs without the lock. */
	if ((r = cstore_rmtree(cs, trash)) != 0)
		log_warnx("drive \"%s\" deleted, but %s%s is left: %s", name,
		    s->path, trash, strerror(-r));
	r = 0;
out:
	free(busy);
	free(dir);
	free(trash);
	cstore_lockh_close(cs, &lk);
	return r;
}
