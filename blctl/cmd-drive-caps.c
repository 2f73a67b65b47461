/*
 * blctl drive caps and authorize: the storage-side identity of a sandbox
 * (a ceph store's cephx identity), derived from the drives' permission
 * rules; and the store kinds' own options (--ceph-*), which every drive
 * command takes.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "mountmgr/perm.h"
#include "mountmgr/store.h"

const char *
drive_store_option_known(const char *key, size_t len)
{
	static const char *const known[] = {
		"ceph-conf", "ceph-id", "ceph-keyring",
	};

	for (size_t i = 0; i < nitems(known); i++)
		if (strlen(known[i]) == len && strncmp(known[i], key, len) == 0)
			return known[i];
	return NULL;
}

/*
 * A store kind's option, kept for store_open_opts: the kind the --store
 * names decides whether it takes it. Given twice is a usage error.
 */
int
drive_store_option(struct drive_cli *cli, const char *key, const char *value)
{
	for (size_t i = 0; i < cli->opts.n; i++)
		if (strcmp(cli->opts.v[i].key, key) == 0) {
			drive_usage_fail(cli, "--%s given twice", key);
			return -1;
		}
	if (*value == '\0') {
		drive_usage_fail(cli, "--%s: empty value", key);
		return -1;
	}
	/* key is static (drive_long_opts, known[]): it outlives cli. */
	if (store_options_set(&cli->opts, key, value) != 0) {
		drive_usage_fail(cli, "too many store options");
		return -1;
	}
	return 0;
}

enum {
	COPT_STORE = 0x100, COPT_JSON, COPT_HELP, COPT_LABELS, COPT_ID,
	COPT_KEYRING_OUT, COPT_CEPH_CONF, COPT_CEPH_ID, COPT_CEPH_KEYRING,
};

static const struct option caps_long_opts[] = {
	{ "store", required_argument, NULL, COPT_STORE },
	{ "json", no_argument, NULL, COPT_JSON },
	{ "help", no_argument, NULL, COPT_HELP },
	{ "labels", required_argument, NULL, COPT_LABELS },
	{ "id", required_argument, NULL, COPT_ID },
	{ "keyring-out", required_argument, NULL, COPT_KEYRING_OUT },
	{ "ceph-conf", required_argument, NULL, COPT_CEPH_CONF },
	{ "ceph-id", required_argument, NULL, COPT_CEPH_ID },
	{ "ceph-keyring", required_argument, NULL, COPT_CEPH_KEYRING },
	{ NULL, 0, NULL, 0 },
};

struct caps_opts {
	struct labels	 labels;
	const char	*id;
	const char	*keyring_out;
};

/*
 * --labels K=V,K=V: a workload's labels as its token would carry them,
 * held to the same bounds (perm.h). Returns 0 or the exit status.
 */
static int
caps_parse_labels(struct drive_cli *cli, const char *arg, struct labels *l)
{
	char	*copy = xstrdup(arg), *save = NULL, *why = NULL, *eq;
	int	 r = 0;

	for (char *kv = strtok_r(copy, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(kv, '=')) == NULL) {
			r = drive_usage_fail(cli, "--labels \"%.64s\": expected "
			    "K=V[,K=V...]", kv);
			break;
		}
		*eq = '\0';
		if (drive_label_check(kv, eq + 1, &why) != 0) {
			r = drive_usage_fail(cli, "--labels: %s", why);
			free(why);
			break;
		}
		if (labels_get(l, kv) != NULL) {
			r = drive_usage_fail(cli, "--labels: label \"%s\" given "
			    "twice", kv);
			break;
		}
		if (l->n >= PERM_LABELS_MAX) {
			r = drive_usage_fail(cli, "--labels: more than %d "
			    "labels", PERM_LABELS_MAX);
			break;
		}
		labels_set(l, kv, eq + 1);
	}
	free(copy);
	return r;
}

/* Returns -1 to go on, or the exit status (help, usage error). */
static int
caps_parse(struct drive_cli *cli, int authorize, int argc, char **argv,
    struct caps_opts *o)
{
	int ch, idx, r;

	memset(o, 0, sizeof *o);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", caps_long_opts,
	    &idx)) != -1) {
		if (ch == 'h')
			ch = COPT_HELP;
		if (ch == ':')
			return drive_usage_fail(cli, "%s needs a value",
			    argv[optind - 1]);
		if (ch == '?')
			return drive_usage_fail(cli, "unknown option %s",
			    argv[optind - 1]);
		if (!authorize && (ch == COPT_ID || ch == COPT_KEYRING_OUT))
			return drive_usage_fail(cli, "caps does not take --%s",
			    caps_long_opts[idx].name);
		switch (ch) {
		case COPT_STORE:
			if (*optarg == '\0')
				return drive_usage_fail(cli, "--store: empty "
				    "path");
			cli->store = optarg;
			break;
		case COPT_JSON:
			cli->json = 1;
			break;
		case COPT_HELP:
			printf("usage: blctl [--json] drive [--store ceph:FS[/ROOT]] "
			    "%s %s\n\n%s", cli->cmd, authorize ?
			    DRIVE_AUTHORIZE_ARGS : DRIVE_CAPS_ARGS, authorize ?
			    DRIVE_AUTHORIZE_HELP : DRIVE_CAPS_HELP);
			return BLCTL_EXIT_OK;
		case COPT_LABELS:
			if ((r = caps_parse_labels(cli, optarg,
			    &o->labels)) != 0)
				return r;
			break;
		case COPT_ID:
			o->id = optarg;
			break;
		case COPT_KEYRING_OUT:
			if (*optarg == '\0')
				return drive_usage_fail(cli, "--keyring-out: "
				    "empty path");
			o->keyring_out = optarg;
			break;
		default:
			if (drive_store_option(cli, caps_long_opts[idx].name,
			    optarg) != 0)
				return BLCTL_EXIT_USAGE;
			break;
		}
	}
	if (optind < argc)
		return drive_usage_fail(cli, "unexpected argument \"%.64s\"",
		    argv[optind]);
	if (authorize && (o->id == NULL || o->keyring_out == NULL))
		return drive_usage_fail(cli, "authorize needs --id client.NAME "
		    "and --keyring-out FILE");
	return -1;
}

static void
caps_print(struct drive_cli *cli, const struct store_caps *c)
{
	json_t *j, *g, *k, *sk;

	for (size_t i = 0; i < c->nskipped; i++)
		fprintf(stderr, "blctl: drive %s: left out %s\n", cli->cmd,
		    c->skipped[i]);
	if (!cli->json) {
		for (size_t i = 0; i < c->ngrants; i++)
			printf("# drive %s: %s at %s\n", c->grants[i].drive,
			    perm_mode_name(c->grants[i].mode),
			    c->grants[i].path);
		if (c->ngrants == 0)
			printf("# no drive: no rule grants these labels "
			    "anything\n");
		for (size_t i = 0; i < c->caps.n; i++)
			printf("caps %s = \"%s\"\n", c->caps.v[i].key,
			    c->caps.v[i].value);
		return;
	}
	g = json_array();
	for (size_t i = 0; i < c->ngrants; i++)
		json_array_append_new(g, json_pack("{s:s, s:s, s:s}", "drive",
		    c->grants[i].drive, "mode", perm_mode_name(c->grants[i].mode),
		    "path", c->grants[i].path));
	k = json_object();
	for (size_t i = 0; i < c->caps.n; i++)
		json_object_set_new(k, c->caps.v[i].key,
		    json_string(c->caps.v[i].value));
	sk = json_array();
	for (size_t i = 0; i < c->nskipped; i++)
		json_array_append_new(sk, json_string(c->skipped[i]));
	j = json_pack("{s:o, s:o, s:o}", "grants", g, "caps", k, "skipped",
	    sk);
	if (drive_print_json(j) != 0)
		fprintf(stderr, "blctl: drive %s: cannot encode JSON\n",
		    cli->cmd);
}

int
drive_cmd_caps(struct drive_cli *cli, int argc, char **argv)
{
	struct caps_opts	 o;
	struct store_caps	 c;
	struct store		*s = NULL;
	char			*cause = NULL;
	int			 r;

	memset(&c, 0, sizeof c);
	if ((r = caps_parse(cli, 0, argc, argv, &o)) >= 0)
		goto out;
	if ((r = drive_open_store(cli, NULL, 0, &s)) != 0)
		goto out;
	if (store_identity_caps(s, &o.labels, &c, &cause) != 0) {
		r = drive_store_fail(cli, NULL, cause);
		goto out;
	}
	caps_print(cli, &c);
	r = BLCTL_EXIT_OK;
out:
	free(cause);
	store_caps_clear(&c);
	store_free(s);
	labels_clear(&o.labels);
	return r;
}

/*
 * The keyring, written whole or not at all: a new file beside it (0600
 * from its creation, O_EXCL), fsynced, renamed over. Never through a
 * symlink at the final name either: rename replaces the link itself.
 */
static int
caps_write_keyring(const char *path, const char *text, char **cause)
{
	char	*tmp;
	size_t	 len = strlen(text);
	int	 fd, r = 0;

	xasprintf(&tmp, "%s.tmp-%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		r = cause_fail(cause, -errno, "cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0600) == -1 || write_full(fd, text, len) !=
	    (ssize_t)len || fsync(fd) == -1)
		r = -errno;
	if (close(fd) == -1 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) == -1)
		r = -errno;
	if (r != 0) {
		(void)unlink(tmp);
		cause_fail(cause, r, "cannot write %s: %s", path, strerror(-r));
	}
	free(tmp);
	return r;
}

int
drive_cmd_authorize(struct drive_cli *cli, int argc, char **argv)
{
	struct caps_opts	 o;
	struct store_caps	 c;
	struct store		*s = NULL;
	char			*cause = NULL, *keyring = NULL;
	int			 r;

	memset(&c, 0, sizeof c);
	if ((r = caps_parse(cli, 1, argc, argv, &o)) >= 0)
		goto out;
	if ((r = drive_open_store(cli, o.id, 0, &s)) != 0)
		goto out;
	if (store_identity_authorize(s, &o.labels, o.id, &c, &keyring,
	    &cause) != 0 || caps_write_keyring(o.keyring_out, keyring,
	    &cause) != 0) {
		r = drive_store_fail(cli, o.id, cause);
		goto out;
	}
	caps_print(cli, &c);
	if (!cli->json)
		printf("# keyring of %s written to %s\n", o.id, o.keyring_out);
	r = BLCTL_EXIT_OK;
out:
	if (keyring != NULL) {
		explicit_bzero(keyring, strlen(keyring));
		free(keyring);
	}
	free(cause);
	store_caps_clear(&c);
	store_free(s);
	labels_clear(&o.labels);
	return r;
}
