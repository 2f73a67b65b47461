/*
 * store.h for callers, whatever the kind: the --store string is read once
 * here, and every call goes to the kind that opened the store.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "mountmgr/drive.h"
#include "mountmgr/store.h"
#include "mountmgr/store-kind.h"

/* The kinds a spec may name; a posix store is named by its directory. */
static const struct store_kind *const store_kinds[] = {
#ifdef HAVE_CEPH
	&ceph_store_kind,
#endif
	NULL,
};

/*
 * What a store cannot do (its kind's table has no entry for it): the
 * kind says why when it can (a ceph store opened with a sandbox's
 * identity), else the words here. -EOPNOTSUPP.
 */
static int
store_lacks(struct store *s, const char *what, char **cause)
{
	if (s->ops->lacks != NULL)
		return s->ops->lacks(s, what, cause);
	return cause_fail(cause, -EOPNOTSUPP, "store %s (a %s store) cannot "
	    "%s", s->path, s->ops->kind, what);
}

#define STORE_CALL(s, op, what, cause, ...)				\
	((s)->ops->op == NULL ? store_lacks((s), (what), (cause)) :	\
	    (s)->ops->op((s), __VA_ARGS__))

int
store_options_set(struct store_options *o, const char *key,
    const char *value)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i].key, key) == 0) {
			o->v[i].value = value;
			return 0;
		}
	if (o->n >= STORE_OPTIONS_MAX)
		return -EINVAL;
	o->v[o->n].key = key;
	o->v[o->n].value = value;
	o->n++;
	return 0;
}

/* n: length of "KIND" in "KIND:...", 0 when spec names a directory. */
static size_t
store_spec_kind_len(const char *spec)
{
	size_t n = strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789");

	return n > 0 && spec[n] == ':' ? n : 0;
}

int
store_spec_is_dir(const char *spec)
{
	return spec != NULL && store_spec_kind_len(spec) == 0;
}

/*
 * The kind spec names (NULL: the posix store), its options checked
 * against what it takes. 0 or -EINVAL with *cause.
 */
static int
store_spec_kind(const char *spec, const struct store_options *opts,
    const struct store_kind **kind, char **cause)
{
	const char *const *names = NULL;
	const char *kname = "posix";
	size_t n, i, k;

	*kind = NULL;
	if (spec == NULL || *spec == '\0')
		return cause_fail(cause, -EINVAL, "store path is empty");
	if ((n = store_spec_kind_len(spec)) > 0) {
		for (i = 0; store_kinds[i] != NULL; i++)
			if (strlen(store_kinds[i]->name) == n &&
			    strncmp(store_kinds[i]->name, spec, n) == 0)
				break;
		if (store_kinds[i] == NULL)
			return cause_fail(cause, -EINVAL, "store %s: no store "
			    "kind \"%.*s\" in this build (a store is a "
			    "directory; ./%s names one by that name)", spec,
			    (int)n, spec, spec);
		*kind = store_kinds[i];
		names = (*kind)->options;
		kname = (*kind)->name;
	}
	for (i = 0; opts != NULL && i < opts->n; i++) {
		for (k = 0; names != NULL && names[k] != NULL; k++)
			if (strcmp(names[k], opts->v[i].key) == 0)
				break;
		if (names == NULL || names[k] == NULL)
			return cause_fail(cause, -EINVAL, "--%s: store %s is a "
			    "%s store, which takes no such option", opts->v[i].key,
			    spec, kname);
	}
	return 0;
}

int
store_spec_check(const char *spec, const struct store_options *opts,
    char **cause)
{
	const struct store_kind *kind;
	int r;

	if ((r = store_spec_kind(spec, opts, &kind, cause)) != 0)
		return r;
	if (kind == NULL)
		return 0;
	return kind->check(spec, spec + strlen(kind->name) + 1, opts, cause);
}

int
store_open_opts(const char *spec, int flags, const struct store_options *opts,
    struct store **out, char **cause)
{
	const struct store_kind *kind;
	int r;

	*out = NULL;
	if ((r = store_spec_kind(spec, opts, &kind, cause)) != 0)
		return r;
	if (kind == NULL)
		return posix_store_open(spec, flags, out, cause);
	return kind->open(spec, spec + strlen(kind->name) + 1, flags, opts,
	    out, cause);
}

int
store_open(const char *spec, int flags, struct store **out, char **cause)
{
	return store_open_opts(spec, flags, NULL, out, cause);
}

void
store_free(struct store *s)
{
	if (s != NULL)
		s->ops->free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

int
store_drive_create(struct store *s, const struct drive *d, char **cause)
{
	return STORE_CALL(s, drive_create, "create drives", cause, d, NULL,
	    cause);
}

int
store_drive_create_template(struct store *s, const struct drive *d,
    const char *template, char **cause)
{
	return STORE_CALL(s, drive_create, "create drives", cause, d,
	    template, cause);
}

int
store_drive_load(struct store *s, const char *name, struct drive **out,
    char **cause)
{
	return s->ops->drive_load(s, name, out, cause);
}

int
store_drive_list(struct store *s, struct store_list *out, char **cause)
{
	out->n = 0;
	out->v = NULL;
	return STORE_CALL(s, drive_list, "list drives", cause, out, cause);
}

void
store_list_clear(struct store_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		drive_free(l->v[i].drive);
		free(l->v[i].cause);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
store_drive_update(struct store *s, const char *name,
    const struct store_update *u, struct drive **out, char **cause)
{
	if (out != NULL)
		*out = NULL;
	return STORE_CALL(s, drive_update, "update drives", cause, name, u,
	    out, cause);
}

int
store_drive_delete(struct store *s, const char *name, char **cause)
{
	return STORE_CALL(s, drive_delete, "delete drives", cause, name,
	    cause);
}

int
store_drive_mounts(struct store *s, const char *name)
{
	return s->ops->drive_mounts == NULL ? -EOPNOTSUPP :
	    s->ops->drive_mounts(s, name);
}

int
store_mount_lock(struct store *s, const char *name, const char *session_id,
    int read_only, int *lockfd, char **cause)
{
	return s->ops->mount_lock(s, name, session_id, read_only, lockfd,
	    cause);
}

int
store_mount_dir(struct store *s, const char *name, int *fd, char **cause)
{
	*fd = -1;
	return STORE_CALL(s, mount_dir, "hand blfs its mounts/ directory",
	    cause, name, fd, cause);
}

int
store_mount_usage(struct store *s, const char *name, int *ufd,
    uint64_t *capacity, char **cause)
{
	*ufd = -1;
	*capacity = 0;
	return STORE_CALL(s, mount_usage, "hand blfs a usage file", cause,
	    name, ufd, capacity, cause);
}

int
store_drive_usage(struct store *s, const char *name, uint64_t *used,
    uint64_t *held, char **cause)
{
	return STORE_CALL(s, drive_usage, "tell a drive's usage", cause,
	    name, used, held, cause);
}

int
store_mount_unlock_cleanup(struct store *s, const char *name,
    const char *session_id, char **cause)
{
	return s->ops->mount_unlock_cleanup(s, name, session_id, cause);
}

int
store_open_drive_data(struct store *s, const char *name, int *datafd,
    char **cause)
{
	*datafd = -1;
	return STORE_CALL(s, open_drive_data, "hand blfs a drive's files",
	    cause, name, datafd, cause);
}

int
store_open_volume(struct store *s, const char *name, int read_only,
    int *imgfd, char **cause)
{
	*imgfd = -1;
	return STORE_CALL(s, open_volume, "open volumes", cause, name,
	    read_only, imgfd, cause);
}

void
store_caps_clear(struct store_caps *c)
{
	for (size_t i = 0; i < c->ngrants; i++) {
		free(c->grants[i].drive);
		free(c->grants[i].path);
	}
	free(c->grants);
	for (size_t i = 0; i < c->nskipped; i++)
		free(c->skipped[i]);
	free(c->skipped);
	labels_clear(&c->caps);
	memset(c, 0, sizeof *c);
}

/* The kinds that leave enforcement to blagent and bljail say so. */
static int
store_no_identities(struct store *s, char **cause)
{
	if (s->ops->lacks != NULL)
		return s->ops->lacks(s, "derive identities", cause);
	return cause_fail(cause, -EOPNOTSUPP, "store %s is a %s store: its "
	    "files are guarded by blagent and bljail, no storage server "
	    "checks an identity (a ceph store's does)", s->path,
	    s->ops->kind);
}

int
store_identity_caps(struct store *s, const struct labels *workload,
    struct store_caps *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (s->ops->identity_caps == NULL)
		return store_no_identities(s, cause);
	return s->ops->identity_caps(s, workload, out, cause);
}

int
store_identity_authorize(struct store *s, const struct labels *workload,
    const char *id, struct store_caps *out, char **keyring, char **cause)
{
	memset(out, 0, sizeof *out);
	*keyring = NULL;
	if (s->ops->identity_authorize == NULL)
		return store_no_identities(s, cause);
	return s->ops->identity_authorize(s, workload, id, out, keyring,
	    cause);
}

int
store_target(struct store *s, const char *name, const char *path,
    struct store_target *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (s->ops->target == NULL)
		return -EOPNOTSUPP;	/* blfs is handed file descriptors */
	return s->ops->target(s, name, path, out, cause);
}

void
store_target_clear(struct store_target *t)
{
	free(t->fs);
	free(t->store_root);
	free(t->serve);
	free(t->conf);
	free(t->id);
	free(t->keyring);
	memset(t, 0, sizeof *t);
}
