/*
 * The ceph store ("ceph:FS[/ROOT]"): the posix store's layout kept in
 * CephFS under ROOT, reached through libcephfs, with the MDS's fcntl
 * locks (cluster-wide) where the posix store takes OFD locks.
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

/*
 * Options (store.h, struct store_options), and their defaults: Ceph's
 * own, as the ceph command and ceph-fuse read them.
 *   ceph-conf     the cluster's ceph.conf [/etc/ceph/ceph.conf]
 *   ceph-id       the cephx identity, "NAME" or "client.NAME" [admin]
 *   ceph-keyring  its keyring [what ceph.conf says, else Ceph's search:
 *                 /etc/ceph/ceph.client.NAME.keyring first]
 */
#define CEPH_DEFAULT_CONF	"/etc/ceph/ceph.conf"
#define CEPH_DEFAULT_ID		"admin"
#define CEPH_FS_MAX		64
#define CEPH_ID_MAX		64
#define CEPH_ROOT_MAX		1024
#define CEPH_SID_MAX		128
/* A dead cluster must not hold a command for Ceph's default 300 s. */
#define CEPH_MOUNT_TIMEOUT	"10"

static const char *const cstore_options[] = {
	"ceph-conf", "ceph-id", "ceph-keyring", NULL,
};

static const char *
cstore_opt(const struct store_options *o, const char *key)
{
	for (size_t i = 0; o != NULL && i < o->n; i++)
		if (strcmp(o->v[i].key, key) == 0)
			return o->v[i].value;
	return NULL;
}

/* Every byte of s in set, and s not empty. */
int
cstore_all_of(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}


/*
 * "FS[/ROOT]" into its parts. ROOT is kept to letters, digits and
 * "_.-/" with no empty, "." or ".." component: it goes into every
 * identity's caps, whose grammar must never read it as anything else.
 */
static int
cstore_spec_parse(const char *spec, const char *rest, char **fs, char **root,
    char **cause)
{
	const char	*slash = strchr(rest, '/');
	size_t		 n = slash != NULL ? (size_t)(slash - rest) :
			     strlen(rest);
	char		*r, *c, *save = NULL;

	*fs = *root = NULL;
	if (n == 0 || n > CEPH_FS_MAX)
		return cause_fail(cause, -EINVAL, "store %s: expected "
		    "ceph:FS[/ROOT], FS a file system's name of 1 to %d "
		    "bytes", spec, CEPH_FS_MAX);
	*fs = xstrndup(rest, n);
	if (!cstore_all_of(*fs, CEPH_WORD_SET)) {
		free(*fs);
		*fs = NULL;
		return cause_fail(cause, -EINVAL, "store %s: the file system's "
		    "name may hold only letters, digits, '_', '.' and '-'",
		    spec);
	}
	if (slash == NULL || strcmp(slash, "/") == 0) {
		*root = xstrdup("/");
		return 0;
	}
	r = xstrdup(slash);
	if (r[strlen(r) - 1] == '/')
		r[strlen(r) - 1] = '\0';
	if (strlen(r) > CEPH_ROOT_MAX || !cstore_all_of(r, CEPH_WORD_SET "/") ||
	    strstr(r, "//") != NULL)
		goto bad;
	c = xstrdup(r);
	for (char *p = strtok_r(c, "/", &save); p != NULL;
	    p = strtok_r(NULL, "/", &save))
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			free(c);
			goto bad;
		}
	free(c);
	*root = r;
	return 0;
bad:
	free(r);
	free(*fs);
	*fs = NULL;
	return cause_fail(cause, -EINVAL, "store %s: ROOT must be a path of "
	    "at most %d bytes of letters, digits and '_', '.', '-', with no "
	    "empty, '.' or '..' component", spec, CEPH_ROOT_MAX);
}

/* "admin" or "client.admin" -> "client.admin"; NULL when not an id. */
char *
cstore_id_parse(const char *id)
{
	char *full;

	if (strncmp(id, "client.", 7) == 0)
		id += 7;
	if (strlen(id) > CEPH_ID_MAX || !cstore_all_of(id, CEPH_WORD_SET))
		return NULL;
	xasprintf(&full, "client.%s", id);
	return full;
}

static int
cstore_check(const char *spec, const char *rest, const struct store_options *o, char **cause)
{
	const char	*id = cstore_opt(o, "ceph-id"), *v;
	char		*fs, *root, *full;
	int		 r;

	if ((r = cstore_spec_parse(spec, rest, &fs, &root, cause)) != 0)
		return r;
	free(fs);
	free(root);
	if (id != NULL) {
		if ((full = cstore_id_parse(id)) == NULL)
			return cause_fail(cause, -EINVAL, "--ceph-id: \"%.64s\" "
			    "is not a cephx client name (NAME or client.NAME, "
			    "NAME of letters, digits, '_', '.', '-')", id);
		free(full);
	}
	if (((v = cstore_opt(o, "ceph-conf")) != NULL && *v == '\0') ||
	    ((v = cstore_opt(o, "ceph-keyring")) != NULL && *v == '\0'))
		return cause_fail(cause, -EINVAL, "--%s: empty path",
		    cstore_opt(o, "ceph-conf") != NULL &&
		    *cstore_opt(o, "ceph-conf") == '\0' ? "ceph-conf" :
		    "ceph-keyring");
	return 0;
}

/* The cluster did not answer: which monitors, and for how long. */
static int
cstore_unreachable(struct cstore *cs, struct ceph_mount_info *cm, int r,
    char **cause)
{
	char mons[512];

	if (ceph_conf_get(cm, "mon_host", mons, sizeof(mons)) != 0 ||
	    mons[0] == '\0')
		snprintf(mons, sizeof(mons), "none named in %s", cs->conf);
	return cause_fail(cause, r, "store %s: the Ceph cluster's monitors "
	    "(mon_host %s, from %s) did not answer %s within %s s: %s",
	    cs->st.path, mons, cs->conf, cs->id, CEPH_MOUNT_TIMEOUT,
	    strerror(-r));
}

/* A session of s's identity mounted at root; -errno with *cause. */
static int
cstore_connect(struct cstore *cs, const char *root,
    struct ceph_mount_info **out, char **cause)
{
	struct ceph_mount_info	*cm;
	int			 r;

	*out = NULL;
	if ((r = cephlib_load_fs(cause)) != 0)
		return r;
	if ((r = ceph_create(&cm, cs->id + 7)) != 0)
		return cause_fail(cause, r, "store %s: cannot make a libcephfs "
		    "client: %s", cs->st.path, strerror(-r));
	if ((r = ceph_conf_read_file(cm, cs->conf)) != 0) {
		cause_fail(cause, r, "store %s: cannot read %s: %s",
		    cs->st.path, cs->conf, strerror(-r));
		goto fail;
	}
	if ((cs->keyring != NULL &&
	    (r = ceph_conf_set(cm, "keyring", cs->keyring)) != 0) ||
	    (r = ceph_conf_set(cm, "client_mount_timeout",
	    CEPH_MOUNT_TIMEOUT)) != 0) {
		cause_fail(cause, r, "store %s: cannot configure libcephfs: %s",
		    cs->st.path, strerror(-r));
		goto fail;
	}
	if ((r = ceph_init(cm)) != 0) {
		if (r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EHOSTUNREACH)
			cstore_unreachable(cs, cm, r, cause);
		else
			cause_fail(cause, r, "store %s: cannot start libcephfs "
			    "as %s (its keyring%s%s?): %s", cs->st.path, cs->id,
			    cs->keyring != NULL ? " " : "", cs->keyring !=
			    NULL ? cs->keyring : "", strerror(-r));
		goto fail;
	}
	if ((r = ceph_select_filesystem(cm, cs->fs)) != 0) {
		cause_fail(cause, r, "store %s: cannot select file system %s: "
		    "%s", cs->st.path, cs->fs, strerror(-r));
		goto fail;
	}
	if ((r = ceph_mount(cm, root)) != 0) {
		if (r == -ENOENT)
			cause_fail(cause, r, "store %s does not exist (no file "
			    "system %s, or no %s in it)", cs->st.path, cs->fs,
			    root);
		else if (r == -EPERM || r == -EACCES)
			cause_fail(cause, r, "store %s: %s may not mount %s "
			    "(its mds caps)", cs->st.path, cs->id, root);
		else
			cause_fail(cause, r, "store %s: cannot mount %s as %s: "
			    "%s", cs->st.path, root, cs->id, strerror(-r));
		goto fail;
	}
	*out = cm;
	return 0;
fail:
	ceph_release(cm);
	return r;
}

/* mkdir -p of the store's root, through a session at the file system's. */
static int
cstore_make_root(struct cstore *cs, char **cause)
{
	struct ceph_mount_info	*cm;
	char			*p;
	int			 r = 0;

	if ((r = cstore_connect(cs, "/", &cm, cause)) != 0)
		return r;
	p = xstrdup(cs->root);
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char saved = *q;

		*q = '\0';
		if ((r = ceph_mkdir(cm, p, 0755)) != 0 && r != -EEXIST) {
			cause_fail(cause, r, "cannot create store %s: %s: %s",
			    cs->st.path, p, strerror(-r));
			break;
		}
		r = 0;
		if (saved == '\0')
			break;
		*q = saved;
	}
	free(p);
	ceph_unmount(cm);
	ceph_release(cm);
	return r;
}

static void cstore_free(struct store *);

static int
cstore_open(const char *spec, const char *rest, int flags,
    const struct store_options *o, struct store **out, char **cause)
{
	struct cstore	*cs;
	const char		*v;
	int			 r;

	*out = NULL;
	if ((r = cstore_check(spec, rest, o, cause)) != 0)
		return r;
	cs = xcalloc(1, sizeof *cs);
	cs->st.ops = &cstore_ops;
	cs->st.path = xstrdup(spec);
	(void)cstore_spec_parse(spec, rest, &cs->fs, &cs->root, NULL);
	v = cstore_opt(o, "ceph-conf");
	cs->conf = xstrdup(v != NULL ? v : CEPH_DEFAULT_CONF);
	v = cstore_opt(o, "ceph-id");
	cs->id = cstore_id_parse(v != NULL ? v : CEPH_DEFAULT_ID);
	v = cstore_opt(o, "ceph-keyring");
	cs->keyring = v != NULL ? xstrdup(v) : NULL;

	r = cstore_connect(cs, cs->root, &cs->cm, cause);
	if ((r == -EPERM || r == -EACCES) && !(flags & STORE_CREATE)) {
		/* A sandbox's identity: a session per path it is granted. */
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		cs->st.ops = &cstore_narrow_ops;
		*out = &cs->st;
		return 0;
	}
	if (r == -ENOENT && (flags & STORE_CREATE) &&
	    strcmp(cs->root, "/") != 0) {
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		if ((r = cstore_make_root(cs, cause)) == 0)
			r = cstore_connect(cs, cs->root, &cs->cm, cause);
	}
	if (r != 0)
		goto fail;
	if (flags & STORE_CREATE) {
		const char *dirs[] = { "/drives", "/locks", "/trash" };

		for (size_t i = 0; i < nitems(dirs); i++) {
			r = ceph_mkdir(cs->cm, dirs[i], 0755);
			if (r != 0 && r != -EEXIST) {
				cause_fail(cause, r, "cannot create %s%s: %s",
				    spec, dirs[i], strerror(-r));
				goto fail;
			}
		}
	}
	*out = &cs->st;
	return 0;
fail:
	cstore_free(&cs->st);
	return r;
}

static void
cstore_free(struct store *s)
{
	struct cstore *cs = cstore_of(s);

	for (size_t i = 0; i < cs->nheld; i++) {
		ceph_ll_close(cs->held[i].cm, cs->held[i].fh);
		ceph_ll_put(cs->held[i].cm, cs->held[i].in);
		free(cs->held[i].drive);
		free(cs->held[i].sid);
	}
	free(cs->held);
	for (size_t i = 0; i < cs->nsess; i++) {
		ceph_unmount(cs->sess[i].cm);
		ceph_release(cs->sess[i].cm);
		free(cs->sess[i].path);
	}
	free(cs->sess);
	if (cs->cm != NULL) {
		/* Unmounting ends the session: the MDS drops its locks. */
		ceph_unmount(cs->cm);
		ceph_release(cs->cm);
	}
	free(cs->fs);
	free(cs->root);
	free(cs->conf);
	free(cs->id);
	free(cs->keyring);
	free(s->path);
	free(cs);
}

int
cstore_check_name(const char *name, char **cause)
{
	char *why = NULL;

	if (drive_name_check(name, &why) != 0) {
		if (cause != NULL)
			*cause = why;
		else
			free(why);
		return -EINVAL;
	}
	return 0;
}

int
cstore_check_session(const char *sid, char **cause)
{
	if (sid == NULL || *sid == '\0' || sid[0] == '.' ||
	    strnlen(sid, CEPH_SID_MAX + 1) > CEPH_SID_MAX ||
	    !cstore_all_of(sid, CEPH_WORD_SET))
		return cause_fail(cause, -EINVAL, "mount session id must be 1 "
		    "to %d bytes of A-Z, a-z, 0-9, '.', '_' and '-', not "
		    "starting with '.'", CEPH_SID_MAX);
	return 0;
}

/* "ab12...": hex from the kernel's random bytes, n digits. */
void
cstore_random_hex(char *buf, size_t n)
{
	unsigned char	rnd[32];
	static unsigned	counter;

	if (n / 2 > sizeof rnd)
		n = sizeof rnd * 2;
	if (getrandom(rnd, n / 2, 0) != (ssize_t)(n / 2)) {
		uint64_t v = now_ms_mono() ^ ((uint64_t)getpid() << 32) ^
		    ++counter;

		for (size_t i = 0; i < n / 2; i++)
			rnd[i] = (unsigned char)(v >> (8 * (i % 8)));
	}
	for (size_t i = 0; i < n / 2; i++)
		snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
	buf[n / 2 * 2] = '\0';
}

/* --- sessions ------------------------------------------------------------ */

/* path is prefix, or below it. */
static int
cstore_under(const char *path, const char *prefix, const char **rel)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0 || (path[n] != '\0' &&
	    path[n] != '/'))
		return 0;
	if (rel != NULL)
		*rel = path[n] == '\0' ? "/" : path + n;
	return 1;
}

int
cstore_covers(struct cstore *cs, const char *path)
{
	if (cs->cm != NULL)
		return 1;
	for (size_t i = 0; i < cs->nsess; i++)
		if (cstore_under(path, cs->sess[i].path, NULL))
			return 1;
	return 0;
}

int
cstore_reach(struct cstore *cs, const char *path, struct ceph_mount_info **cm,
    const char **rel, char **cause)
{
	struct cstore_sess	*ss;
	char			*root;
	int			 r;

	if (cs->cm != NULL) {
		*cm = cs->cm;
		*rel = path;
		return 0;
	}
	for (size_t i = 0; i < cs->nsess; i++)
		if (cstore_under(path, cs->sess[i].path, rel)) {
			*cm = cs->sess[i].cm;
			return 0;
		}
	if (strcmp(cs->root, "/") == 0)
		root = xstrdup(path);
	else
		xasprintf(&root, "%s%s", cs->root, path);
	r = cstore_connect(cs, root, cm, cause);
	free(root);
	if (r != 0)
		return r;
	cs->sess = xreallocarray(cs->sess, cs->nsess + 1, sizeof *cs->sess);
	ss = &cs->sess[cs->nsess++];
	ss->path = xstrdup(path);
	ss->cm = *cm;
	*rel = "/";
	return 0;
}

void
cstore_trim(struct cstore *cs)
{
	size_t i = 0, j;

	while (i < cs->nsess) {
		for (j = 0; j < cs->nheld; j++)
			if (cs->held[j].cm == cs->sess[i].cm)
				break;
		if (j < cs->nheld) {
			i++;
			continue;
		}
		ceph_unmount(cs->sess[i].cm);
		ceph_release(cs->sess[i].cm);
		free(cs->sess[i].path);
		cs->sess[i] = cs->sess[--cs->nsess];
	}
}

int
cstore_xattr(struct cstore *cs, const char *path, const char *name,
    char *buf, size_t len)
{
	int n = ceph_lgetxattr(cs->cm, path, name, buf, len - 1);

	if (n < 0)
		return n;
	if ((size_t)n >= len)
		return -ERANGE;
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n)
		return -EINVAL;	/* a NUL inside: not a name of ours */
	return n;
}

int
cstore_lstat(struct cstore *cs, const char *path, struct ceph_statx *stx)
{
	struct ceph_mount_info	*cm;
	const char		*rel;
	int			 r;

	if ((r = cstore_reach(cs, path, &cm, &rel, NULL)) != 0)
		return r;
	return ceph_statx(cm, rel, stx, CEPH_STATX_MODE | CEPH_STATX_SIZE,
	    AT_SYMLINK_NOFOLLOW);
}

/* --- listing ------------------------------------------------------------------- */

static char *
cstore_printable(const char *s)
{
	char	*q = xmalloc(strlen(s) * 4 + 1);
	size_t	 o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)sprintf(q + o, "\\x%02x", c);
		else
			q[o++] = (char)c;
	}
	q[o] = '\0';
	return q;
}

static int
cstore_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->name,
	    ((const struct store_entry *)b)->name);
}

int
cstore_drive_list(struct store *s, struct store_list *out, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	struct ceph_dir_result	*dir;
	struct dirent		 de;
	int			 r;

	out->n = 0;
	out->v = NULL;
	if ((r = ceph_opendir(cs->cm, "/drives", &dir)) != 0) {
		if (r == -ENOENT)
			return 0;	/* a new store: no drives yet */
		return cause_fail(cause, r, "cannot read %s/drives: %s",
		    s->path, strerror(-r));
	}
	while ((r = ceph_readdir_r(cs->cm, dir, &de)) == 1) {
		struct store_entry	*ent;
		char			*why = NULL;

		/* ".", "..", and drives being created (".new-*"). */
		if (de.d_name[0] == '.')
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
		ent = &out->v[out->n++];
		memset(ent, 0, sizeof *ent);
		ent->name = cstore_printable(de.d_name);
		ent->mounts = -1;
		if (drive_name_check(de.d_name, &why) != 0) {
			ent->error = -EIO;
			xasprintf(&ent->cause, "%s/drives/%s is not a drive: "
			    "%s", s->path, ent->name, why);
			free(why);
			continue;
		}
		ent->error = cstore_drive_load(s, de.d_name, &ent->drive,
		    &ent->cause);
		if (ent->error == 0)
			ent->mounts = cstore_drive_mounts(s, de.d_name);
	}
	ceph_closedir(cs->cm, dir);
	if (r < 0) {
		store_list_clear(out);
		return cause_fail(cause, r, "cannot read %s/drives: %s",
		    s->path, strerror(-r));
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cstore_entry_cmp);
	return 0;
}

/* --- what needs blfs on libcephfs ----------------------------------------------- */

/*
 * The posix store hands blfs file descriptors (the data directory, the
 * mounts/ directory, the usage file, a volume's image); CephFS has none
 * to hand: blfs must reach the drive through libcephfs itself.
 */
static int
cstore_no_fds(struct store *s, const char *name, char **cause)
{
	return cause_fail(cause, -EOPNOTSUPP, "drive \"%s\" in %s: mounting "
	    "ceph drives needs blfs on libcephfs: not built yet", name,
	    s->path);
}

static int
cstore_mount_dir(struct store *s, const char *name, int *fd, char **cause)
{
	*fd = -1;
	return cstore_no_fds(s, name, cause);
}

static int
cstore_mount_usage(struct store *s, const char *name, int *ufd,
    uint64_t *capacity, char **cause)
{
	*ufd = -1;
	*capacity = 0;
	return cstore_no_fds(s, name, cause);
}

static int
cstore_open_drive_data(struct store *s, const char *name, int *datafd,
    char **cause)
{
	*datafd = -1;
	return cstore_no_fds(s, name, cause);
}

static int
cstore_open_volume(struct store *s, const char *name, int read_only,
    int *imgfd, char **cause)
{
	*imgfd = -1;
	return cause_fail(cause, -EOPNOTSUPP, "drive \"%s\" in %s: a ceph "
	    "store holds no volumes", name, s->path);
}

/*
 * The keyring as a file, for blfs to get by fd: --ceph-keyring, else the
 * first of Ceph's list (ceph.conf's "keyring", else Ceph's default
 * search, metavariables expanded) that is there, else Ceph's first place.
 */
static char *
cstore_keyring_file(struct cstore *cs)
{
	struct ceph_mount_info	*cm = cs->cm;
	char			 list[2048], *p, *save = NULL;

	if (cs->keyring != NULL)
		return xstrdup(cs->keyring);
	if (cm == NULL && cs->nsess > 0)
		cm = cs->sess[0].cm;
	if (cm != NULL && ceph_conf_get(cm, "keyring", list,
	    sizeof(list)) == 0)
		for (p = strtok_r(list, ",; \t", &save); p != NULL;
		    p = strtok_r(NULL, ",; \t", &save))
			if (access(p, R_OK) == 0)
				return xstrdup(p);
	xasprintf(&p, "/etc/ceph/ceph.%s.keyring", cs->id);
	return p;
}

static int
cstore_target(struct store *s, const char *name, const char *path,
    struct store_target *t, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	const char	*base = strcmp(cs->root, "/") == 0 ? "" : cs->root;
	int		 r;

	if ((r = cstore_check_name(name, cause)) != 0)
		return r;
	if (path[0] != '/')
		return cause_fail(cause, -EINVAL, "drive \"%s\": path %s is "
		    "not absolute", name, path);
	t->fs = xstrdup(cs->fs);
	t->store_root = xstrdup(cs->root);
	xasprintf(&t->serve, "%s/drives/%s/data%s", base, name,
	    strcmp(path, "/") == 0 ? "" : path);
	t->conf = xstrdup(cs->conf);
	t->id = xstrdup(cs->id);
	t->keyring = cstore_keyring_file(cs);
	return 0;
}

/* A narrow store (a sandbox's identity) reads drives and mounts them. */
static int
cstore_lacks(struct store *s, const char *what, char **cause)
{
	struct cstore *cs = cstore_of(s);

	return cause_fail(cause, -EPERM, "store %s: %s may not mount %s (its "
	    "caps name single drives, as a sandbox's do), so it cannot %s: "
	    "use an identity that may, such as client.admin", s->path,
	    cs->id, cs->root, what);
}

const struct store_ops cstore_narrow_ops = {
	.kind = "ceph",
	.free = cstore_free,
	.drive_load = cstore_drive_load,
	.drive_mounts = cstore_drive_mounts,
	.mount_lock = cstore_mount_lock,
	.mount_unlock_cleanup = cstore_mount_unlock_cleanup,
	.target = cstore_target,
	.lacks = cstore_lacks,
};

const struct store_ops cstore_ops = {
	.kind = "ceph",
	.free = cstore_free,
	.drive_create = cstore_drive_create,
	.drive_load = cstore_drive_load,
	.drive_list = cstore_drive_list,
	.drive_update = cstore_drive_update,
	.drive_delete = cstore_drive_delete,
	.drive_mounts = cstore_drive_mounts,
	.mount_lock = cstore_mount_lock,
	.mount_dir = cstore_mount_dir,
	.mount_usage = cstore_mount_usage,
	.drive_usage = cstore_drive_usage,
	.mount_unlock_cleanup = cstore_mount_unlock_cleanup,
	.open_drive_data = cstore_open_drive_data,
	.open_volume = cstore_open_volume,
	.identity_caps = cstore_identity_caps,
	.identity_authorize = cstore_identity_authorize,
	.target = cstore_target,
};

const struct store_kind ceph_store_kind = {
	.name = "ceph",
	.options = cstore_options,
	.check = cstore_check,
	.open = cstore_open,
};
