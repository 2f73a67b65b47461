/*
 * The cephx identity of a sandbox, derived from the drives' permission
 * rules: the storage servers then refuse what the rules refuse, whatever
 * client holds the keyring (DESIGN "Making read-only genuine").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include "mountmgr/cephlib.h"

#include "common/labels.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/perm.h"
#include "mountmgr/store.h"
#include "mountmgr/store-ceph.h"
#include "mountmgr/store-kind.h"

/* What the cluster may answer, at most: a keyring, a line of error. */
#define CAPS_REPLY_MAX		(64 * 1024)
#define CAPS_XATTR_MAX		256
#define CAPS_TIMEOUT		"30"

/*
 * A path in a cap: as it is when the grammar reads it unquoted, in
 * double quotes when it holds other printable bytes (the grammar takes
 * anything but '"' there), NULL when it cannot be said safely: a cap
 * string is parsed, and a path must never end up read as another grant.
 */
static char *
caps_path_word(const char *p)
{
	char *w;

	if (cstore_all_of(p, CEPH_WORD_SET "/"))
		return xstrdup(p);
	for (const unsigned char *c = (const unsigned char *)p; *c != '\0';
	    c++)
		if (*c < 0x20 || *c == 0x7f || *c == '"' || *c == '\'')
			return NULL;
	xasprintf(&w, "\"%s\"", p);
	return w;
}

/* ", "-joined cap clauses. */
static void
caps_append(char **caps, const char *clause)
{
	char *prev = *caps;

	if (prev == NULL) {
		*caps = xstrdup(clause);
		return;
	}
	xasprintf(caps, "%s, %s", prev, clause);
	free(prev);
}

static void
caps_skip(struct store_caps *out, const char *drive, const char *why)
{
	out->skipped = xreallocarray(out->skipped, out->nskipped + 1,
	    sizeof *out->skipped);
	xasprintf(&out->skipped[out->nskipped++], "%s: %s", drive, why);
}

/*
 * The namespace and pool of a directory's layout, as drive creation set
 * them (store-ceph.h): anything else grants nothing, so a layout edited
 * by hand can never point an identity at another drive's objects.
 */
static int
caps_layout(struct cstore *cs, const char *dir, char *ns, char *pool)
{
	if (cstore_xattr(cs, dir, "ceph.dir.layout.pool_namespace", ns,
	    CAPS_XATTR_MAX) < 0 || cstore_xattr(cs, dir,
	    "ceph.dir.layout.pool", pool, CAPS_XATTR_MAX) < 0)
		return -1;
	if (!cstore_all_of(pool, CEPH_WORD_SET))
		return -1;
	return 0;
}

static int
caps_ns_ours(const char *name, const char *ns)
{
	size_t plen = strlen(CEPH_NS_PREFIX), nlen = strlen(name);

	return strlen(ns) == plen + nlen + 1 + CEPH_NS_HEX &&
	    strncmp(ns, CEPH_NS_PREFIX, plen) == 0 &&
	    strncmp(ns + plen, name, nlen) == 0 && ns[plen + nlen] == '.' &&
	    strspn(ns + plen + nlen + 1, "0123456789abcdef") == CEPH_NS_HEX;
}

/*
 * One drive's part of the caps, when its rules grant the workload
 * anything (perm_evaluate with a read-only mount of "/": the first rule
 * that matches, its mode and its path). What the identity gets:
 *   drive.json            r   the agent reads the rules and mode at mount
 *   locks/<name>.lock     rw  the drive's lock, taken to take a mount lock
 *   drives/<name>/mounts  rw  its mount locks: a read-only mount takes one
 *                             too, or a delete would not see it
 *   data<path>            r or rw, as granted (a ROX drive: r)
 * and on the OSDs, read of the drive's meta namespace (drive.json's
 * objects) and read or read-write of its data namespace only: an MDS
 * path cap alone would not stop writes of file objects straight to
 * RADOS. No 'p': layouts (namespaces, quotas) stay the admin's.
 */
static void
caps_drive(struct cstore *cs, const struct drive *d,
    const struct labels *workload, struct store_caps *out, char **mds,
    char **osd)
{
	struct perm_decision	 dec;
	enum perm_mode		 mode;
	const char		*base = strcmp(cs->root, "/") == 0 ? "" :
				     cs->root, *m;
	char			 ns[CAPS_XATTR_MAX], pool[CAPS_XATTR_MAX];
	char			 mns[CAPS_XATTR_MAX], mpool[CAPS_XATTR_MAX];
	char			*why = NULL, *dir, *data, *word, *clause;
	struct store_grant	*g;
	int			 r;

	r = perm_evaluate(&d->perms, workload, 1, "/", &dec, &why);
	if (r == -EACCES) {
		free(why);
		return;		/* no rule for these labels */
	}
	if (r != 0) {
		caps_skip(out, d->name, why);
		free(why);
		return;
	}
	if (d->kind != DRIVE_KIND_DRIVE) {
		caps_skip(out, d->name, "not a drive (a ceph store holds "
		    "no volumes)");
		return;
	}
	mode = d->access == DRIVE_ACCESS_ROX ? PERM_READ : dec.mode;
	m = mode == PERM_READ ? "r" : "rw";

	xasprintf(&dir, "/drives/%s", d->name);
	xasprintf(&data, "/drives/%s/data", d->name);
	r = caps_layout(cs, data, ns, pool) != 0 || caps_layout(cs, dir,
	    mns, mpool) != 0 || !caps_ns_ours(d->name, ns) ||
	    strncmp(mns, ns, strlen(ns)) != 0 ||
	    strcmp(mns + strlen(ns), CEPH_NS_META_SUFFIX) != 0;
	free(dir);
	free(data);
	if (r) {
		caps_skip(out, d->name, "its directories have no RADOS "
		    "namespace of blagent's (ceph.dir.layout.pool_namespace "
		    "as drive create sets it)");
		return;
	}
	xasprintf(&data, "%s/drives/%s/data%s", base, d->name,
	    strcmp(dec.path, "/") == 0 ? "" : dec.path);
	if ((word = caps_path_word(data)) == NULL) {
		caps_skip(out, d->name, "its granted path holds a quote or a "
		    "control character, which no cap can name");
		free(data);
		return;
	}
	xasprintf(&clause, "allow r path=%s/drives/%s/drive.json, "
	    "allow rw path=%s/locks/%s.lock, "
	    "allow rw path=%s/drives/%s/mounts, allow %s path=%s", base,
	    d->name, base, d->name, base, d->name, m, word);
	caps_append(mds, clause);
	free(clause);
	xasprintf(&clause, "allow r pool=%s namespace=%s, "
	    "allow %s pool=%s namespace=%s", mpool, mns, m, pool, ns);
	caps_append(osd, clause);
	free(clause);
	free(word);
	free(data);

	out->grants = xreallocarray(out->grants, out->ngrants + 1,
	    sizeof *out->grants);
	g = &out->grants[out->ngrants++];
	g->drive = xstrdup(d->name);
	g->mode = mode;
	g->path = xstrdup(dec.path);
}

int
cstore_identity_caps(struct store *s, const struct labels *workload,
    struct store_caps *out, char **cause)
{
	struct cstore		*cs = cstore_of(s);
	struct store_list	 l;
	char			*mds = NULL, *osd = NULL;
	int			 r;

	if ((r = cstore_drive_list(s, &l, cause)) != 0)
		return r;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].drive == NULL)
			caps_skip(out, l.v[i].name, l.v[i].cause != NULL ?
			    l.v[i].cause : "unreadable");
		else
			caps_drive(cs, l.v[i].drive, workload, out, &mds, &osd);
	}
	store_list_clear(&l);
	/* Maps, to find the MDS and OSDs; a mon 'r' reads no keys. */
	labels_set(&out->caps, "mon", "allow r");
	labels_set(&out->caps, "mds", mds != NULL ? mds : "");
	labels_set(&out->caps, "osd", osd != NULL ? osd : "");
	free(mds);
	free(osd);
	return 0;
}

/* --- authorize: mon commands through librados ------------------------------- */

static int
caps_connect(struct cstore *cs, rados_t *out, char **cause)
{
	rados_t	r;
	int	e;

	if ((e = cephlib_load_rados(cause)) != 0)
		return e;
	if ((e = rados_create(&r, cs->id + 7)) != 0)
		return cause_fail(cause, e, "store %s: cannot make a librados "
		    "client: %s", cs->st.path, strerror(-e));
	if ((e = rados_conf_read_file(r, cs->conf)) != 0 ||
	    (cs->keyring != NULL &&
	    (e = rados_conf_set(r, "keyring", cs->keyring)) != 0) ||
	    (e = rados_conf_set(r, "client_mount_timeout", CAPS_TIMEOUT)) !=
	    0 || (e = rados_conf_set(r, "rados_mon_op_timeout",
	    CAPS_TIMEOUT)) != 0) {
		rados_shutdown(r);
		return cause_fail(cause, e, "store %s: cannot configure "
		    "librados from %s: %s", cs->st.path, cs->conf,
		    strerror(-e));
	}
	if ((e = rados_connect(r)) != 0) {
		rados_shutdown(r);
		return cause_fail(cause, e, "store %s: cannot reach the "
		    "cluster's monitors as %s: %s", cs->st.path, cs->id,
		    strerror(-e));
	}
	*out = r;
	return 0;
}

/*
 * One mon command (a JSON object, stolen). *reply: its output, bounded
 * and NUL-terminated, when reply is not NULL. The monitor's status line
 * goes into *cause on failure: it is a reply from outside, so bounded too.
 */
static int
caps_mon(rados_t r, json_t *cmd, char **reply, char **cause)
{
	const char	*argv[1];
	char		*text, *ob = NULL, *os = NULL;
	size_t		 obl = 0, osl = 0;
	int		 e;

	if (reply != NULL)
		*reply = NULL;
	text = json_dumps(cmd, JSON_COMPACT);
	json_decref(cmd);
	if (text == NULL)
		return cause_fail(cause, -ENOMEM, "cannot encode a mon "
		    "command");
	argv[0] = text;
	e = rados_mon_command(r, argv, 1, "", 0, &ob, &obl, &os, &osl);
	free(text);
	if (e != 0)
		cause_fail(cause, e, "%.*s (%s)", (int)(osl < 512 ? osl : 512),
		    os != NULL ? os : "", strerror(-e));
	else if (obl > CAPS_REPLY_MAX)
		e = cause_fail(cause, -EIO, "the monitor's reply is larger "
		    "than %d bytes", CAPS_REPLY_MAX);
	else if (reply != NULL)
		*reply = xstrndup(ob != NULL ? ob : "", obl);
	if (ob != NULL)
		rados_buffer_free(ob);
	if (os != NULL)
		rados_buffer_free(os);
	return e;
}

/* ["mon", "...", "mds", "...", "osd", "..."], leaving out empty ones. */
static json_t *
caps_json(const struct store_caps *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->caps.n; i++) {
		if (c->caps.v[i].value[0] == '\0')
			continue;
		json_array_append_new(a, json_string(c->caps.v[i].key));
		json_array_append_new(a, json_string(c->caps.v[i].value));
	}
	return a;
}

int
cstore_identity_authorize(struct store *s, const struct labels *workload,
    const char *id, struct store_caps *out, char **keyring, char **cause)
{
	struct cstore	*cs = cstore_of(s);
	rados_t		 r = NULL;
	char		*full, *text = NULL, *head = NULL, *why = NULL;
	int		 e;

	*keyring = NULL;
	if (strncmp(id, "client.", 7) != 0 ||
	    (full = cstore_id_parse(id)) == NULL)
		return cause_fail(cause, -EINVAL, "--id: \"%.64s\" is not a "
		    "cephx client name (client.NAME, NAME of letters, digits, "
		    "'_', '.', '-')", id);
	/* Giving a sandbox's caps to the admin would lock the admin out. */
	if (strcmp(full, cs->id) == 0 || strcmp(full, "client.admin") == 0) {
		e = cause_fail(cause, -EINVAL, "--id: %s is the identity this "
		    "command runs as (or client.admin); a sandbox needs one "
		    "of its own", full);
		free(full);
		return e;
	}
	if ((e = cstore_identity_caps(s, workload, out, cause)) != 0 ||
	    (e = caps_connect(cs, &r, cause)) != 0) {
		free(full);
		return e;
	}
	/* get-or-create refuses other caps: update an identity that exists. */
	e = caps_mon(r, json_pack("{s:s, s:s}", "prefix", "auth get", "entity",
	    full), NULL, &why);
	free(why);
	why = NULL;
	if (e == 0)
		e = caps_mon(r, json_pack("{s:s, s:s, s:o}", "prefix",
		    "auth caps", "entity", full, "caps", caps_json(out)), NULL,
		    &why);
	else if (e == -ENOENT)
		e = caps_mon(r, json_pack("{s:s, s:s, s:o}", "prefix",
		    "auth get-or-create", "entity", full, "caps",
		    caps_json(out)), NULL, &why);
	if (e == 0)
		e = caps_mon(r, json_pack("{s:s, s:s}", "prefix", "auth get",
		    "entity", full), &text, &why);
	rados_shutdown(r);
	if (e != 0) {
		cause_fail(cause, e, "cannot authorize %s: %s", full, why);
		goto out;
	}
	/* A keyring of that identity, nothing else, before it is written. */
	xasprintf(&head, "[%s]\n", full);
	if (strncmp(text, head, strlen(head)) != 0 ||
	    strstr(text, "key = ") == NULL || strlen(text) == 0) {
		e = cause_fail(cause, -EIO, "cannot authorize %s: the monitor's "
		    "answer to auth get is no keyring of it", full);
		goto out;
	}
	*keyring = text;
	text = NULL;
out:
	free(why);
	free(head);
	free(text);
	free(full);
	return e;
}
