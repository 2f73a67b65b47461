/*
 * blctl drive: create, list, get, update and delete drives in a store
 * (posix or ceph), and adopt files copied into a posix one from outside.
 * Everything given is checked before the store is touched, so a refused
 * command writes nothing. caps and authorize: cmd-drive-caps.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "blctl/blctl.h"
#include "blctl/cmd-drive.h"
#include "common/labels.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/drive.h"
#include "mountmgr/owners.h"
#include "mountmgr/perm.h"
#include "mountmgr/store.h"

struct drive_cmd {
	const char	*name;
	const char	*args;		/* usage line after the name */
	const char	*help;		/* what it does, and its options */
	int		(*fn)(struct drive_cli *, int, char **);
};

static int	drive_cmd_create(struct drive_cli *, int, char **);
static int	drive_cmd_list(struct drive_cli *, int, char **);
static int	drive_cmd_get(struct drive_cli *, int, char **);
static int	drive_cmd_update(struct drive_cli *, int, char **);
static int	drive_cmd_delete(struct drive_cli *, int, char **);
static int	drive_cmd_adopt(struct drive_cli *, int, char **);

static const struct drive_cmd drive_cmds[] = {
	{ "create", "NAME [--display-name S] [--label K=V]... "
	    "[--permission RULE]... [--access-mode rwx|rwo|rox] "
	    "[--capacity SIZE] [--kind drive|volume --size SIZE "
	    "[--template DIR|FILE.tar[.gz|.zst]]]",
	  "Create a drive. NAME is a DNS label (a-z, 0-9, '-', at most 63).\n"
	  "  --display-name S   shown to people; defaults to NAME\n"
	  "  --label K=V        a label of the drive (repeatable)\n"
	  "  --permission RULE  'K=V[,K=V...][:read|read-write[:/path]]': who\n"
	  "                     may mount it (at most 3, tried in order; no\n"
	  "                     rule means any workload may mount it)\n"
	  "  --access-mode M    rwx: any number of mounts (the default); rwo:\n"
	  "                     one mount at a time, across every agent\n"
	  "                     sharing the store; rox: read-only mounts\n"
	  "                     only\n"
	  "  --capacity SIZE    the most its files may hold (10GiB, 500MiB;\n"
	  "                     B, KiB, MiB, GiB, TiB, PiB): writes past it\n"
	  "                     fail with ENOSPC, df shows a disk that size;\n"
	  "                     none: unlimited\n"
	  "  --kind K           drive: files shared by any number of mounts,\n"
	  "                     served by blfs (the default); volume: one\n"
	  "                     ext4 image of a fixed size, mounted by one\n"
	  "                     sandbox at a time at native speed (rwo)\n"
	  "  --size SIZE        a volume's size (at least 16MiB); it can\n"
	  "                     grow later, never shrink\n"
	  "  --template T       seed a volume from directory T, or from a tar\n"
	  "                     archive (gzip, zstd, xz or none), keeping\n"
	  "                     owners (as numbers), modes and times\n",
	  drive_cmd_create },
	{ "list", "",
	  "List the drives of the store, broken ones included.\n",
	  drive_cmd_list },
	{ "get", "NAME",
	  "Show one drive: names, labels, kind (and a volume's size), access\n"
	  "mode, capacity and what it uses, permission rules, active mounts.\n",
	  drive_cmd_get },
	{ "update", "NAME [--display-name S] [--label K=V]... "
	    "[--remove-label K]... [--permission RULE]... "
	    "[--clear-permissions] [--access-mode rwx|rwo|rox] "
	    "[--capacity SIZE] [--size SIZE]",
	  "Change a drive. Labels given are added or replaced; the\n"
	  "permission rules given replace all the old ones. A new access\n"
	  "mode, like new rules, applies to later mounts; rwo is refused\n"
	  "while the drive is mounted more than once.\n"
	  "  --display-name S     a new display name\n"
	  "  --label K=V          add or replace a label (repeatable)\n"
	  "  --remove-label K     remove a label (repeatable)\n"
	  "  --permission RULE    the new rules (repeatable, at most 3)\n"
	  "  --clear-permissions  remove every rule: anyone may mount\n"
	  "  --access-mode M      rwx, rwo or rox (see create --help)\n"
	  "  --capacity SIZE      grow it, or shrink it down to what the\n"
	  "                       files use now at least (for later mounts)\n"
	  "  --size SIZE          grow a volume that is not mounted (its file\n"
	  "                       system is checked read-only first, then\n"
	  "                       resized); a smaller size is refused\n",
	  drive_cmd_update },
	{ "delete", "NAME",
	  "Delete a drive and its files. Refused while it is mounted.\n",
	  drive_cmd_delete },
	{ "adopt", "NAME",
	  "Give files copied into the drive's data/ from outside the form\n"
	  "blfs keeps them in: each keeps the owner, group and mode it shows\n"
	  "now, recorded in user.blfs.attr, and the backing file becomes\n"
	  "uid 0's (blfs(8), STORE FORMAT). Symlinks, FIFOs, sockets and\n"
	  "device nodes become regular files standing for them.\n"
	  "Files already in that form are left alone, so it may run again.\n"
	  "Refused while the drive is mounted.\n",
	  drive_cmd_adopt },
	{ "caps", DRIVE_CAPS_ARGS, DRIVE_CAPS_HELP, drive_cmd_caps },
	{ "authorize", DRIVE_AUTHORIZE_ARGS, DRIVE_AUTHORIZE_HELP,
	  drive_cmd_authorize },
};

static void
drive_usage(FILE *f)
{
	fprintf(f, "usage: blctl [--json] drive [--store DIR] [--json] "
	    "COMMAND ...\n\n");
	for (size_t i = 0; i < nitems(drive_cmds); i++)
		fprintf(f, "  %s %s\n", drive_cmds[i].name, drive_cmds[i].args);
	fprintf(f, "\n"
	    "  --store DIR|ceph:FS[/ROOT]\n"
	    "               the drive store: a directory, or ROOT (default /)\n"
	    "               in the CephFS named FS [%s]\n"
	    "  --ceph-conf FILE     a ceph store's cluster [" DRIVE_CEPH_CONF "]\n"
	    "  --ceph-id NAME       its cephx identity [" DRIVE_CEPH_ID "]\n"
	    "  --ceph-keyring FILE  that identity's keyring [ceph.conf's, else\n"
	    "                       /etc/ceph/ceph.client.NAME.keyring]\n"
	    "  --json       print drive.json objects, access_mode always\n"
	    "               included (list: an array; a broken drive there\n"
	    "               is {\"name\", \"error\": {code, message}})\n"
	    "Run 'blctl drive COMMAND --help' for a command's options.\n"
	    "Exit status: 0 success, 1 store error, 2 usage error.\n",
	    STORE_DEFAULT_PATH);
}

static void
drive_cmd_usage(FILE *f, const struct drive_cmd *c)
{
	fprintf(f, "usage: blctl [--json] drive [--store DIR] %s %s\n\n%s"
	    "  --store DIR        the drive store [%s]\n"
	    "  --ceph-conf FILE, --ceph-id NAME, --ceph-keyring FILE\n"
	    "                     a ceph store's cluster and identity\n"
	    "  --json             print JSON\n",
	    c->name, c->args, c->help, STORE_DEFAULT_PATH);
}

/* A usage error: the message, a pointer to --help, exit status 2. */
int
drive_usage_fail(struct drive_cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->cmd != NULL)
		fprintf(stderr, "blctl: drive %s: ", cli->cmd);
	else
		fprintf(stderr, "blctl: drive: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'blctl drive %s%s--help'.\n",
	    cli->cmd != NULL ? cli->cmd : "", cli->cmd != NULL ? " " : "");
	return BLCTL_EXIT_USAGE;
}

/* A store error: "blctl: drive get foo: no such drive ...", exit 1. */
int
drive_store_fail(struct drive_cli *cli, const char *name, const char *cause)
{
	fprintf(stderr, "blctl: drive %s%s%s: %s\n", cli->cmd,
	    name != NULL ? " " : "", name != NULL ? name : "",
	    cause != NULL ? cause : "failed");
	return BLCTL_EXIT_ERROR;
}

static const char *
drive_errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case EINVAL:	return "EINVAL";
	case ENOENT:	return "ENOENT";
	case EEXIST:	return "EEXIST";
	case EBUSY:	return "EBUSY";
	case EACCES:	return "EACCES";
	case EPERM:	return "EPERM";
	case EROFS:	return "EROFS";
	case ENOSPC:	return "ENOSPC";
	case ENOTDIR:	return "ENOTDIR";
	default:	return "EIO";
	}
}

int
drive_print_json(json_t *j)
{
	char *s;

	if (j == NULL)
		return -1;
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (s == NULL)
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

/* Columns count characters, not bytes: skip UTF-8 continuation bytes. */
static int
drive_width(const char *s)
{
	int w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
drive_cell(const char *s, int width, int last)
{
	fputs(s, stdout);
	if (!last)
		for (int i = drive_width(s); i < width + 2; i++)
			putchar(' ');
}

static char *
drive_labels_text(const struct labels *l, const char *sep)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < l->n; i++) {
		xasprintf(&t, "%s%s%s=%s", s, i > 0 ? sep : "", l->v[i].key,
		    l->v[i].value);
		free(s);
		s = t;
	}
	return s;
}

static void
drive_print_view(struct store *st, const struct drive *d, int mounts)
{
	const int	 w = 14;
	uint64_t	 used, held;
	char		*s, *a, *b;

	printf("%-*s%s\n", w, "name:", d->name);
	printf("%-*s%s\n", w, "display name:", d->display_name);
	printf("%-*s%s\n", w, "created at:", d->created_at);
	printf("%-*s%s\n", w, "kind:", d->kind == DRIVE_KIND_VOLUME ?
	    "volume (one ext4 image, one mount at a time)" :
	    "drive (shared files, served by blfs)");
	if (d->kind == DRIVE_KIND_VOLUME) {
		a = drive_size_words(d->size);
		printf("%-*s%s (%" PRIu64 " bytes)\n", w, "size:", a, d->size);
		free(a);
	}
	printf("%-*s%s (%s)\n", w, "access mode:", drive_access_name(d->access),
	    drive_access_words(d->access));
	if (d->capacity == 0)
		printf("%-*s%s\n", w, "capacity:", "unlimited");
	else {
		a = drive_size_words(d->capacity);
		printf("%-*s%s (%" PRIu64 " bytes)\n", w, "capacity:", a,
		    d->capacity);
		free(a);
		if (st != NULL && store_drive_usage(st, d->name, &used, &held,
		    NULL) == 0) {
			a = drive_size_words(used);
			b = drive_size_words(held);
			printf("%-*s%s (%" PRIu64 " bytes)%s%s%s\n", w, "used:",
			    a, used, held != 0 ? ", " : "", held != 0 ? b : "",
			    held != 0 ? " held by mounts" : "");
			free(a);
			free(b);
		}
	}
	if (d->labels.n == 0)
		printf("%-*s%s\n", w, "labels:", "none");
	for (size_t i = 0; i < d->labels.n; i++)
		printf("%-*s%s=%s\n", w, i == 0 ? "labels:" : "",
		    d->labels.v[i].key, d->labels.v[i].value);
	if (mounts >= 0)
		printf("%-*s%d\n", w, "mounts:", mounts);
	if (d->perms.n == 0)
		printf("%-*s%s\n", w, "permissions:",
		    "none (any workload may mount)");
	for (size_t i = 0; i < d->perms.n; i++) {
		const struct perm_rule *r = &d->perms.rule[i];

		s = drive_labels_text(&r->labels, ",");
		printf("%-*s%zu. %s: %s at %s\n", w,
		    i == 0 ? "permissions:" : "", i + 1, s,
		    perm_mode_name(r->mode), r->path != NULL ? r->path : "/");
		free(s);
	}
}

/* The drive as the command's result: its drive.json, or the view. */
static int
drive_show(struct drive_cli *cli, struct store *s, const struct drive *d)
{
	uint64_t used, held;
	json_t *j;

	if (cli->json) {
		j = drive_to_json(d);
		/* What a drive with a capacity uses, beside drive.json. */
		if (j != NULL && d->capacity != 0 && s != NULL &&
		    store_drive_usage(s, d->name, &used, &held, NULL) == 0) {
			json_object_set_new(j, "used_bytes",
			    json_integer((json_int_t)used));
			json_object_set_new(j, "held_bytes",
			    json_integer((json_int_t)held));
		}
		if (drive_print_json(j) != 0)
			return drive_store_fail(cli, d->name, "cannot encode "
			    "JSON");
		return BLCTL_EXIT_OK;
	}
	drive_print_view(s, d, s != NULL ? store_drive_mounts(s, d->name) :
	    -1);
	return BLCTL_EXIT_OK;
}

/*
 * Options shared by create and update. Collected first, all checked, and
 * only then does anything touch the store.
 */
struct drive_opts {
	const char		 *display_name;
	struct labels		  labels;
	char			**remove;
	size_t			  nremove;
	struct perm_rules	  perms;
	int			  perms_given;
	int			  clear_perms;
	int			  access_given;
	enum drive_access	  access;
	uint64_t		  capacity;	/* 0: not given */
	int			  kind_given;
	enum drive_kind		  kind;
	uint64_t		  size;		/* 0: not given */
	const char		 *template;
	const char		 *name;
};

static void
drive_opts_clear(struct drive_opts *o)
{
	labels_clear(&o->labels);
	free(o->remove);
	perm_rules_clear(&o->perms);
}

enum {
	OPT_STORE = 0x100, OPT_JSON, OPT_HELP, OPT_DISPLAY_NAME, OPT_LABEL,
	OPT_REMOVE_LABEL, OPT_PERMISSION, OPT_CLEAR_PERMISSIONS,
	OPT_ACCESS_MODE, OPT_CAPACITY, OPT_KIND, OPT_SIZE, OPT_TEMPLATE,
	OPT_CEPH_CONF, OPT_CEPH_ID, OPT_CEPH_KEYRING,
};

static const struct option drive_long_opts[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "display-name", required_argument, NULL, OPT_DISPLAY_NAME },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "remove-label", required_argument, NULL, OPT_REMOVE_LABEL },
	{ "permission", required_argument, NULL, OPT_PERMISSION },
	{ "clear-permissions", no_argument, NULL, OPT_CLEAR_PERMISSIONS },
	{ "access-mode", required_argument, NULL, OPT_ACCESS_MODE },
	{ "capacity", required_argument, NULL, OPT_CAPACITY },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "ceph-conf", required_argument, NULL, OPT_CEPH_CONF },
	{ "ceph-id", required_argument, NULL, OPT_CEPH_ID },
	{ "ceph-keyring", required_argument, NULL, OPT_CEPH_KEYRING },
	{ NULL, 0, NULL, 0 },
};

/* Which long options each command takes (bit = OPT_x - OPT_STORE). */
#define OPTBIT(o)	(1u << ((o) - OPT_STORE))
#define OPTS_COMMON	(OPTBIT(OPT_STORE) | OPTBIT(OPT_JSON) | OPTBIT(OPT_HELP) | \
			 OPTBIT(OPT_CEPH_CONF) | OPTBIT(OPT_CEPH_ID) | \
			 OPTBIT(OPT_CEPH_KEYRING))
#define OPTS_SHARED	(OPTS_COMMON | OPTBIT(OPT_DISPLAY_NAME) | \
			 OPTBIT(OPT_LABEL) | OPTBIT(OPT_PERMISSION) | \
			 OPTBIT(OPT_ACCESS_MODE) | OPTBIT(OPT_CAPACITY) | \
			 OPTBIT(OPT_SIZE))
#define OPTS_CREATE	(OPTS_SHARED | OPTBIT(OPT_KIND) | OPTBIT(OPT_TEMPLATE))
#define OPTS_UPDATE	(OPTS_SHARED | OPTBIT(OPT_REMOVE_LABEL) | \
			 OPTBIT(OPT_CLEAR_PERMISSIONS))

/*
 * Parses a command's arguments into o. nargs: how many positional
 * arguments (0 or 1, the drive name). Returns -1 to go on, or the exit
 * status (help printed, or a usage error).
 */
static int
drive_parse(struct drive_cli *cli, const struct drive_cmd *c, unsigned allowed,
    int nargs, int argc, char **argv, struct drive_opts *o)
{
	char	*why = NULL, *eq, *key;
	int	 ch, idx;

	memset(o, 0, sizeof *o);
	optind = 0;	/* glibc: a full reset, this is a new argv */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", drive_long_opts,
	    &idx)) != -1) {
		if (ch == 'h')
			ch = OPT_HELP;
		if (ch == '?' || ch == ':') {
			const char *bad = argv[optind - 1];

			if (ch == ':')
				return drive_usage_fail(cli, "%s needs a value",
				    bad);
			if (optopt != 0 && strncmp(bad, "--", 2) != 0)
				return drive_usage_fail(cli, "unknown option "
				    "-%c", optopt);
			return drive_usage_fail(cli, "unknown option %s", bad);
		}
		if (!(allowed & OPTBIT(ch)))
			return drive_usage_fail(cli, "%s does not take --%s",
			    c->name, drive_long_opts[idx].name);
		switch (ch) {
		case OPT_STORE:
			if (*optarg == '\0')
				return drive_usage_fail(cli, "--store: empty "
				    "path");
			cli->store = optarg;
			break;
		case OPT_JSON:
			cli->json = 1;
			break;
		case OPT_CEPH_CONF:
		case OPT_CEPH_ID:
		case OPT_CEPH_KEYRING:
			if (drive_store_option(cli, drive_long_opts[idx].name,
			    optarg) != 0)
				return BLCTL_EXIT_USAGE;
			break;
		case OPT_HELP:
			drive_cmd_usage(stdout, c);
			return BLCTL_EXIT_OK;
		case OPT_DISPLAY_NAME:
			if (o->display_name != NULL)
				return drive_usage_fail(cli, "--display-name "
				    "given twice");
			if (drive_display_name_check(optarg, &why) != 0)
				goto bad;
			o->display_name = optarg;
			break;
		case OPT_LABEL:
			if ((eq = strchr(optarg, '=')) == NULL)
				return drive_usage_fail(cli, "--label \"%.64s\": "
				    "expected K=V", optarg);
			key = xstrndup(optarg, (size_t)(eq - optarg));
			if (drive_label_check(key, eq + 1, &why) != 0) {
				free(key);
				goto bad;
			}
			if (labels_get(&o->labels, key) != NULL) {
				drive_usage_fail(cli, "--label: label \"%s\" "
				    "given twice", key);
				free(key);
				return BLCTL_EXIT_USAGE;
			}
			if (o->labels.n >= DRIVE_LABELS_MAX) {
				free(key);
				return drive_usage_fail(cli, "--label: more "
				    "than %d labels", DRIVE_LABELS_MAX);
			}
			labels_set(&o->labels, key, eq + 1);
			free(key);
			break;
		case OPT_REMOVE_LABEL:
			/* Any well-formed key; "x" stands in for a value. */
			if (drive_label_check(optarg, "x", &why) != 0)
				goto bad;
			o->remove = xreallocarray(o->remove, o->nremove + 1,
			    sizeof *o->remove);
			o->remove[o->nremove++] = optarg;
			break;
		case OPT_PERMISSION:
			if (perm_rule_parse_cli(optarg, &o->perms, &why) != 0)
				goto bad;
			o->perms_given = 1;
			break;
		case OPT_CLEAR_PERMISSIONS:
			o->clear_perms = 1;
			break;
		case OPT_ACCESS_MODE:
			if (o->access_given)
				return drive_usage_fail(cli, "--access-mode "
				    "given twice");
			if (drive_access_parse(optarg, 1, &o->access,
			    &why) != 0)
				goto bad;
			o->access_given = 1;
			break;
		case OPT_CAPACITY:
			if (o->capacity != 0)
				return drive_usage_fail(cli, "--capacity given "
				    "twice");
			if (drive_size_parse(optarg, &o->capacity,
			    &why) != 0) {
				char *w = why;

				xasprintf(&why, "--capacity %.32s: %s", optarg,
				    w);
				free(w);
				goto bad;
			}
			break;
		case OPT_KIND:
			if (o->kind_given)
				return drive_usage_fail(cli, "--kind given "
				    "twice");
			if (drive_kind_parse(optarg, &o->kind, &why) != 0)
				goto bad;
			o->kind_given = 1;
			break;
		case OPT_SIZE:
			if (o->size != 0)
				return drive_usage_fail(cli, "--size given "
				    "twice");
			if (drive_size_parse(optarg, &o->size, &why) != 0) {
				char *w = why;

				xasprintf(&why, "--size %.32s: %s", optarg, w);
				free(w);
				goto bad;
			}
			break;
		case OPT_TEMPLATE:
			if (o->template != NULL)
				return drive_usage_fail(cli, "--template given "
				    "twice");
			if (*optarg == '\0')
				return drive_usage_fail(cli, "--template: "
				    "empty path");
			o->template = optarg;
			break;
		}
	}
	if (argc - optind > nargs)
		return drive_usage_fail(cli, "unexpected argument \"%.64s\"",
		    argv[optind + nargs]);
	if (argc - optind < nargs)
		return drive_usage_fail(cli, "no drive name given");
	if (nargs == 1) {
		o->name = argv[optind];
		if (drive_name_check(o->name, &why) != 0)
			goto bad;
	}
	if (o->perms_given && o->clear_perms)
		return drive_usage_fail(cli, "--permission and "
		    "--clear-permissions contradict each other");
	for (size_t i = 0; i < o->nremove; i++) {
		if (labels_get(&o->labels, o->remove[i]) != NULL)
			return drive_usage_fail(cli, "label \"%s\" is both set "
			    "and removed", o->remove[i]);
	}
	return -1;
bad:
	drive_usage_fail(cli, "%s", why);
	free(why);
	return BLCTL_EXIT_USAGE;
}

int
drive_open_store(struct drive_cli *cli, const char *name, int flags,
    struct store **s)
{
	char *cause = NULL;

	if (store_open_opts(cli->store, flags, &cli->opts, s, &cause) != 0) {
		drive_store_fail(cli, name, cause);
		free(cause);
		return BLCTL_EXIT_ERROR;
	}
	return BLCTL_EXIT_OK;
}

static int
drive_cmd_create(struct drive_cli *cli, int argc, char **argv)
{
	struct drive_opts	 o;
	struct drive		*d;
	struct store		*s = NULL;
	char			*cause = NULL;
	int			 r;

	if ((r = drive_parse(cli, &drive_cmds[0], OPTS_CREATE, 1, argc, argv,
	    &o)) >= 0)
		goto out;
	d = drive_new();
	d->name = xstrdup(o.name);
	d->display_name = xstrdup(o.display_name != NULL ? o.display_name :
	    o.name);
	labels_copy(&d->labels, &o.labels);
	d->perms = o.perms;	/* moved */
	memset(&o.perms, 0, sizeof o.perms);
	d->kind = o.kind_given ? o.kind : DRIVE_KIND_DRIVE;
	if (d->kind != DRIVE_KIND_VOLUME && (o.size != 0 ||
	    o.template != NULL)) {
		r = drive_usage_fail(cli, "%s is for volumes: add --kind "
		    "volume", o.size != 0 ? "--size" : "--template");
		goto done;
	}
	if (d->kind == DRIVE_KIND_VOLUME && o.size < VOLUME_SIZE_MIN) {
		r = drive_usage_fail(cli, "%s", o.size == 0 ? "a volume needs "
		    "--size SIZE (16MiB at least)" : "--size: a volume needs "
		    "16MiB at least");
		goto done;
	}
	d->size = o.size;
	d->access = o.access_given ? o.access : d->kind == DRIVE_KIND_VOLUME ?
	    DRIVE_ACCESS_RWO : DRIVE_ACCESS_RWX;
	d->capacity = o.capacity;
	d->created_at = drive_created_at_now();
	if (drive_check(d, &cause) != 0) {
		r = drive_usage_fail(cli, "%s", cause);
		goto done;
	}
	if ((r = drive_open_store(cli, o.name, STORE_CREATE, &s)) != 0)
		goto done;
	if (store_drive_create_template(s, d, o.template, &cause) != 0) {
		r = drive_store_fail(cli, o.name, cause);
		goto done;
	}
	r = drive_show(cli, s, d);
done:
	free(cause);
	drive_free(d);
	store_free(s);
out:
	drive_opts_clear(&o);
	return r;
}

static int
drive_cmd_list(struct drive_cli *cli, int argc, char **argv)
{
	struct drive_opts	 o;
	struct store_list	 l = { 0, NULL };
	struct store		*s = NULL;
	char			*cause = NULL, **labels, mounts[16], rules[16];
	int			 r, wn = 4, wd = 12, wl = 6, wk = 6, wa = 6,
				 wr = 5;

	if ((r = drive_parse(cli, &drive_cmds[1], OPTS_COMMON, 0, argc, argv,
	    &o)) >= 0)
		goto out;
	if ((r = drive_open_store(cli, NULL, 0, &s)) != 0)
		goto out;
	if (store_drive_list(s, &l, &cause) != 0) {
		r = drive_store_fail(cli, NULL, cause);
		goto out;
	}

	if (cli->json) {
		json_t *arr = json_array();

		for (size_t i = 0; arr != NULL && i < l.n; i++) {
			json_t *j;

			if (l.v[i].drive != NULL)
				j = drive_to_json(l.v[i].drive);
			else
				j = json_pack("{s:s, s:{s:s, s:s}}", "name",
				    l.v[i].name, "error", "code",
				    drive_errno_name(l.v[i].error), "message",
				    l.v[i].cause != NULL ? l.v[i].cause : "");
			if (j == NULL || json_array_append_new(arr, j) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		if (drive_print_json(arr) != 0)
			r = drive_store_fail(cli, NULL, "cannot encode JSON");
		goto out;
	}

	if (l.n == 0) {
		printf("no drives in %s\n", store_path(s));
		goto out;
	}
	labels = xcalloc(l.n, sizeof *labels);
	for (size_t i = 0; i < l.n; i++) {
		const struct drive *d = l.v[i].drive;

		labels[i] = d != NULL ? drive_labels_text(&d->labels, ",") :
		    xstrdup("-");
		if (labels[i][0] == '\0') {
			free(labels[i]);
			labels[i] = xstrdup("-");
		}
		if (drive_width(l.v[i].name) > wn)
			wn = drive_width(l.v[i].name);
		if (d != NULL && drive_width(d->display_name) > wd)
			wd = drive_width(d->display_name);
		if (drive_width(labels[i]) > wl)
			wl = drive_width(labels[i]);
	}
	drive_cell("NAME", wn, 0);
	drive_cell("DISPLAY NAME", wd, 0);
	drive_cell("LABELS", wl, 0);
	drive_cell("KIND", wk, 0);
	drive_cell("ACCESS", wa, 0);
	drive_cell("RULES", wr, 0);
	drive_cell("MOUNTS", 0, 1);
	putchar('\n');
	for (size_t i = 0; i < l.n; i++) {
		const struct drive *d = l.v[i].drive;

		drive_cell(l.v[i].name, wn, 0);
		if (d == NULL) {
			printf("broken: %s\n", l.v[i].cause != NULL ?
			    l.v[i].cause : "unreadable");
			free(labels[i]);
			continue;
		}
		snprintf(rules, sizeof rules, "%zu", d->perms.n);
		if (l.v[i].mounts >= 0)
			snprintf(mounts, sizeof mounts, "%d", l.v[i].mounts);
		else
			snprintf(mounts, sizeof mounts, "?");
		drive_cell(d->display_name, wd, 0);
		drive_cell(labels[i], wl, 0);
		drive_cell(drive_kind_name(d->kind), wk, 0);
		drive_cell(drive_access_name(d->access), wa, 0);
		drive_cell(rules, wr, 0);
		drive_cell(mounts, 0, 1);
		putchar('\n');
		free(labels[i]);
	}
	free(labels);
out:
	free(cause);
	store_list_clear(&l);
	store_free(s);
	drive_opts_clear(&o);
	return r;
}

static int
drive_cmd_get(struct drive_cli *cli, int argc, char **argv)
{
	struct drive_opts	 o;
	struct drive		*d = NULL;
	struct store		*s = NULL;
	char			*cause = NULL;
	int			 r;

	if ((r = drive_parse(cli, &drive_cmds[2], OPTS_COMMON, 1, argc, argv,
	    &o)) >= 0)
		goto out;
	if ((r = drive_open_store(cli, o.name, 0, &s)) != 0)
		goto out;
	if (store_drive_load(s, o.name, &d, &cause) != 0) {
		r = drive_store_fail(cli, o.name, cause);
		goto out;
	}
	r = drive_show(cli, s, d);
out:
	free(cause);
	drive_free(d);
	store_free(s);
	drive_opts_clear(&o);
	return r;
}

static int
drive_cmd_update(struct drive_cli *cli, int argc, char **argv)
{
	struct drive_opts	 o;
	struct store_update	 u;
	struct drive		*d = NULL;
	struct store		*s = NULL;
	char			*cause = NULL;
	int			 r;

	if ((r = drive_parse(cli, &drive_cmds[3], OPTS_UPDATE, 1, argc, argv,
	    &o)) >= 0)
		goto out;
	if (o.display_name == NULL && o.labels.n == 0 && o.nremove == 0 &&
	    !o.perms_given && !o.clear_perms && !o.access_given &&
	    o.capacity == 0 && o.size == 0) {
		r = drive_usage_fail(cli, "nothing to update: give "
		    "--display-name, --label, --remove-label, --permission, "
		    "--clear-permissions, --access-mode, --capacity or "
		    "--size");
		goto out;
	}
	memset(&u, 0, sizeof u);
	u.display_name = o.display_name;
	u.set_labels = o.labels;		/* borrowed */
	u.remove_labels = o.remove;
	u.nremove = o.nremove;
	u.replace_perms = o.perms_given || o.clear_perms;
	u.perms = o.perms;			/* borrowed */
	u.set_access = o.access_given;
	u.access = o.access;
	u.capacity = o.capacity;
	u.size = o.size;
	if ((r = drive_open_store(cli, o.name, 0, &s)) != 0)
		goto out;
	if (store_drive_update(s, o.name, &u, &d, &cause) != 0) {
		r = drive_store_fail(cli, o.name, cause);
		goto out;
	}
	r = drive_show(cli, s, d);
out:
	free(cause);
	drive_free(d);
	store_free(s);
	drive_opts_clear(&o);
	return r;
}

static int
drive_cmd_delete(struct drive_cli *cli, int argc, char **argv)
{
	struct drive_opts	 o;
	struct store		*s = NULL;
	char			*cause = NULL;
	int			 r;

	if ((r = drive_parse(cli, &drive_cmds[4], OPTS_COMMON, 1, argc, argv,
	    &o)) >= 0)
		goto out;
	if ((r = drive_open_store(cli, o.name, 0, &s)) != 0)
		goto out;
	if (store_drive_delete(s, o.name, &cause) != 0) {
		r = drive_store_fail(cli, o.name, cause);
		goto out;
	}
	if (cli->json) {
		if (drive_print_json(json_pack("{s:s, s:b}", "name", o.name,
		    "deleted", 1)) != 0)
			r = drive_store_fail(cli, o.name, "cannot encode JSON");
	} else
		printf("deleted drive %s\n", o.name);
out:
	free(cause);
	store_free(s);
	drive_opts_clear(&o);
	return r;
}

static int
drive_cmd_adopt(struct drive_cli *cli, int argc, char **argv)
{
	struct drive_opts	 o;
	struct owners_adopted	 a;
	struct store		*s = NULL;
	struct drive		*d = NULL;
	char			*cause = NULL;
	int			 r, n, datafd = -1;

	if ((r = drive_parse(cli, &drive_cmds[5], OPTS_COMMON, 1, argc, argv,
	    &o)) >= 0)
		goto out;
	if ((r = drive_open_store(cli, o.name, 0, &s)) != 0)
		goto out;
	if (store_drive_load(s, o.name, &d, &cause) != 0) {
		r = drive_store_fail(cli, o.name, cause);
		goto out;
	}
	if (d->kind == DRIVE_KIND_VOLUME) {
		r = drive_store_fail(cli, o.name, "a volume's files live in "
		    "its ext4 image, with their owners: there is nothing to "
		    "adopt");
		goto out;
	}
	if ((n = store_drive_mounts(s, o.name)) != 0) {
		if (n > 0)
			xasprintf(&cause, "mounted %d time%s: unmount it first",
			    n, n == 1 ? "" : "s");
		else
			xasprintf(&cause, "%s", strerror(-n));
		r = drive_store_fail(cli, o.name, cause);
		goto out;
	}
	if (store_open_drive_data(s, o.name, &datafd, &cause) != 0 ||
	    owners_adopt(datafd, &a, &cause) != 0) {
		r = drive_store_fail(cli, o.name, cause);
		goto out;
	}
	if (cli->json) {
		if (drive_print_json(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
		    "name", o.name, "files", (json_int_t)a.files,
		    "directories", (json_int_t)a.dirs,
		    "converted", (json_int_t)a.converted,
		    "kept", (json_int_t)a.kept,
		    /* Devices are converted now; kept for scripts. */
		    "skipped_devices", (json_int_t)a.skipped)) != 0)
			r = drive_store_fail(cli, o.name, "cannot encode JSON");
	} else
		printf("adopted drive %s: %lu files, %lu directories, %lu "
		    "symlinks, FIFOs, sockets and devices converted, %lu "
		    "already adopted\n", o.name, a.files, a.dirs,
		    a.converted, a.kept);
out:
	if (datafd != -1)
		close(datafd);
	free(cause);
	drive_free(d);
	store_free(s);
	drive_opts_clear(&o);
	return r;
}

int
blctl_drive_main(int argc, char **argv, int json)
{
	struct drive_cli	 cli;
	const char		*eq;
	int			 i;

	memset(&cli, 0, sizeof cli);
	cli.store = STORE_DEFAULT_PATH;
	cli.json = json;
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--ceph-", 7) == 0) {
			const char *key;
			size_t klen;

			eq = strchr(argv[i], '=');
			klen = eq != NULL ? (size_t)(eq - argv[i] - 2) :
			    strlen(argv[i] + 2);
			if ((key = drive_store_option_known(argv[i] + 2,
			    klen)) == NULL)
				return drive_usage_fail(&cli, "unknown option "
				    "%.64s", argv[i]);
			if (eq == NULL && ++i == argc)
				return drive_usage_fail(&cli, "--%s needs a "
				    "value", key);
			if (drive_store_option(&cli, key, eq != NULL ? eq + 1 :
			    argv[i]) != 0)
				return BLCTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--store") == 0) {
			if (++i == argc || *argv[i] == '\0')
				return drive_usage_fail(&cli, "--store needs a "
				    "path");
			cli.store = argv[i];
		} else if (strncmp(argv[i], "--store=", 8) == 0) {
			if (argv[i][8] == '\0')
				return drive_usage_fail(&cli, "--store needs a "
				    "path");
			cli.store = argv[i] + 8;
		} else if (strcmp(argv[i], "--json") == 0)
			cli.json = 1;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			drive_usage(stdout);
			return BLCTL_EXIT_OK;
		} else if (argv[i][0] == '-')
			return drive_usage_fail(&cli, "unknown option %s",
			    argv[i]);
		else
			break;
	}
	if (i == argc)
		return drive_usage_fail(&cli, "no command given (create, list, "
		    "get, update, delete, adopt, caps, authorize)");
	for (size_t c = 0; c < nitems(drive_cmds); c++) {
		if (strcmp(argv[i], drive_cmds[c].name) != 0)
			continue;
		cli.cmd = drive_cmds[c].name;
		return drive_cmds[c].fn(&cli, argc - i, argv + i);
	}
	return drive_usage_fail(&cli, "unknown command \"%.64s\" (create, "
	    "list, get, update, delete, adopt, caps, authorize)", argv[i]);
}
