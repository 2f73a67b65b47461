/*
 * blagent: the in-sandbox agent. Parses its command line, sets up the run
 * directory and both sockets, and runs one event loop until SIGTERM.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/mount.h"
#include "sandboxing/sandbox.h"
#include "sandboxing/token.h"

static const struct rpc_method *const agent_methods[] = {
	&method_ping,
	&method_mount,
	&method_unmount,
	&method_mount_status,
	&method_wait_mounts,
	&method_subscribe,
	&method_stats,
};

static struct agent agent;
static int agent_ready_fd = -1;	/* to the parent when daemonised */

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: blagent [--control-socket PATH] [--status-socket PATH] [--store DIR]\n"
"               [--ceph-conf FILE] [--ceph-id NAME] [--ceph-keyring FILE]\n"
"               [--token PATH] [--token-key FILE] [--state-dir DIR] [--blfs PATH]\n"
"               [--mount drive=NAME,path=/mnt/x[,drive-path=/sub][,ro]]...\n"
"               [--wait-mounts DURATION] [--foreground] [--log-level LEVEL]\n"
"               [--idle-timeout DURATION] [--max-connections N]\n"
"               [--vsock-port PORT [--vsock-allow-cid CID[,CID...]]...]\n"
"\n"
"The in-sandbox agent: serves msgpack-RPC on a control socket (every method,\n"
"root only) and a status socket (Ping, MountStatus, WaitMounts, Subscribe),\n"
"and mounts drives from a store, each served by its own blfs process.\n"
"\n"
"  --control-socket PATH  control socket, mode 0600 [%s]\n"
"  --status-socket PATH   status socket, mode 0666 [%s]\n"
"  --store DIR|ceph:FS[/ROOT]  the drive store: a directory, or ROOT in\n"
"                         the CephFS named FS [%s]\n"
"  --ceph-conf FILE       a ceph store's cluster [/etc/ceph/ceph.conf]\n"
"  --ceph-id NAME         this sandbox's cephx identity [admin]\n"
"  --ceph-keyring FILE    its keyring [ceph.conf's, else Ceph's default,\n"
"                         /etc/ceph/ceph.client.NAME.keyring]\n"
"  --token PATH           identity token (JWT) [%s]\n"
"  --token-key FILE       verify the token's signature with this key\n"
"  --state-dir DIR        where mounts are recorded across restarts [%s]\n"
"  --blfs PATH            the blfs binary [%s]\n"
"  --mount SPEC           mount at start (repeatable)\n"
"  --wait-mounts DURATION hold readiness until start-up mounts settle (e.g. 10s)\n"
"  --foreground           do not detach\n"
"  --log-level LEVEL      error, warn, info or debug [info]\n"
"  --idle-timeout DURATION  close quiet connections after this [120s]\n"
"  --max-connections N    connections served at once per socket [4096]\n"
"  --vsock-port PORT      also serve every method on AF_VSOCK, this port, to\n"
"                         the CIDs below (the host reaching into the VM)\n"
"  --vsock-allow-cid CID[,CID...]  peers let in on the vsock port\n"
"                         (repeatable) [2, the host]\n"
"  --help, --version\n",
	    AGENT_DEFAULT_CONTROL, AGENT_DEFAULT_STATUS, AGENT_DEFAULT_STORE,
	    AGENT_DEFAULT_TOKEN, AGENT_DEFAULT_STATE_DIR,
	    BL_LIBEXECDIR "/blfs");
	exit(status);
}

/* mkdir -p, with the last component at the given mode. */
static int
make_dir(const char *path, mode_t mode, char **cause)
{
	char buf[PATH_MAX];
	struct stat st;

	if (strlen(path) >= sizeof(buf)) {
		xasprintf(cause, "%s: path too long", path);
		return -1;
	}
	strcpy(buf, path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST) {
			xasprintf(cause, "creating %s: %s", buf,
			    strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST) {
		xasprintf(cause, "creating %s: %s", buf, strerror(errno));
		return -1;
	}
	if (lstat(buf, &st) == -1 || !S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s is not a directory", buf);
		return -1;
	}
	/* Others must never write where our sockets and state live. */
	if ((st.st_mode & 022) != 0 && chmod(buf, st.st_mode & ~022) == -1) {
		xasprintf(cause, "chmod %s: %s", buf, strerror(errno));
		return -1;
	}
	return 0;
}

static int
make_parent_dir(const char *path, char **cause)
{
	char buf[PATH_MAX];
	char *slash;

	strcpy(buf, path);
	if ((slash = strrchr(buf, '/')) == NULL || slash == buf)
		return 0;
	*slash = '\0';
	return make_dir(buf, 0755, cause);
}

/* READY=1 to the service manager, written by hand (no libsystemd). */
static void
notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char msg[] = "READY=1";
	socklen_t len;
	int fd;

	if (agent_ready_fd != -1) {
		(void)write_full(agent_ready_fd, "1", 1);
		close(agent_ready_fd);
		agent_ready_fd = -1;
	}
	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	strcpy(sun.sun_path, path);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("notify socket");
		return;
	}
	if (sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sun,
	    len) == -1)
		log_warn("sending READY=1 to %s", path);
	else
		log_debug("sent READY=1 to %s", path);
	close(fd);
}

/*
 * Without --foreground: the parent waits until the child serves, so the
 * caller knows the sockets are up when blagent returns.
 */
static void
daemonize(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		if (read_full(p[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	agent_ready_fd = p[1];
	if (setsid() == -1)
		fatal("setsid");
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull != -1) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		close(devnull);
	}
}

/* --mount drive=NAME,path=/mnt/x[,drive-path=/sub][,ro] */
static void
parse_mount_spec(const char *spec, struct mount_request *req, char **buf)
{
	char *s = xstrdup(spec), *tok, *save = NULL;

	memset(req, 0, sizeof(*req));
	*buf = s;
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (strcmp(tok, "ro") == 0 || strcmp(tok, "read-only") == 0) {
			req->read_only = 1;
			continue;
		}
		if (strcmp(tok, "rw") == 0) {
			req->read_only = 0;
			continue;
		}
		if (eq == NULL || eq[1] == '\0')
			usage_exit("blagent", "--mount %s: \"%s\" needs a value", spec,
			    tok);
		*eq = '\0';
		if (strcmp(tok, "drive") == 0)
			req->drive = eq + 1;
		else if (strcmp(tok, "path") == 0)
			req->mount_path = eq + 1;
		else if (strcmp(tok, "drive-path") == 0)
			req->drive_path = eq + 1;
		else
			usage_exit("blagent", "--mount %s: unknown key \"%s\" (drive, "
			    "path, drive-path, ro)", spec, tok);
	}
	if (req->drive == NULL || req->mount_path == NULL)
		usage_exit("blagent", "--mount %s: needs drive=NAME and path=/PATH", spec);
}

static void
on_mount_changed(struct mount *m, void *arg)
{
	struct agent *a = arg;

	rpc_server_broadcast(a->rpc, "MountStateChanged", agent_pack_mount, m);
}

static const struct labels *
agent_labels(void *arg)
{
	struct agent *a = arg;

	return token_state_labels(a->token);
}

/*
 * The cause is passed by address: with "f(reload(&cause), cause)" C may
 * read cause before reload sets it, and the reason would be lost.
 */
static void
agent_token_reload(struct agent *a, int r, char **causep)
{
	if (r == -1) {
		/* The cause names the file and says the labels are kept. */
		if (*causep != NULL)
			log_warnx("%s", *causep);
		else
			log_warnx("token %s refused, keeping the last good "
			    "labels", a->cfg.token);
		free(*causep);
		*causep = NULL;
	} else if (r == 1)
		log_info("token %s: %zu labels now", a->cfg.token,
		    token_state_labels(a->token)->n);
}

static void
on_token_watch(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	char *cause = NULL;

	agent_token_reload(a, token_state_on_watch(a->token, &cause), &cause);
}

static void agent_token_watch(struct agent *);

static void
on_token_retry(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	char *cause = NULL;
	int had = a->token_ev != NULL;

	agent_token_watch(a);
	/* The directory appeared since: read what it holds now. */
	if (!had && a->token_ev != NULL)
		agent_token_reload(a, token_state_reload(a->token, &cause),
		    &cause);
}

static void
agent_token_watch(struct agent *a)
{
	struct timeval tv = { 5, 0 };
	int fd;

	/*
	 * Called again every few seconds: the token's directory may appear
	 * late, or be replaced whole, and token_state_watch_fd re-adds a
	 * watch the kernel dropped (it returns the same fd every time).
	 */
	if (a->token_retry == NULL)
		a->token_retry = evtimer_new(a->base, on_token_retry, a);
	evtimer_add(a->token_retry, &tv);
	if (a->token_ev != NULL) {
		(void)token_state_watch_fd(a->token);
		return;
	}
	if ((fd = token_state_watch_fd(a->token)) == -1)
		return;
	a->token_ev = event_new(a->base, fd, EV_READ | EV_PERSIST,
	    on_token_watch, a);
	event_add(a->token_ev, NULL);
}

static void
on_bootstrap_settled(int timed_out, void *arg)
{
	if (timed_out)
		log_warnx("start-up mounts did not all settle within "
		    "--wait-mounts; ready anyway");
	notify_ready();
}

static void
agent_bootstrap(struct agent *a)
{
	struct mount **ms = xcalloc(a->cfg.nmounts + 1, sizeof(*ms));
	size_t n = 0;

	for (size_t i = 0; i < a->cfg.nmounts; i++) {
		struct mount_request req;
		const char *code;
		char *buf, *cause = NULL;

		parse_mount_spec(a->cfg.mounts[i], &req, &buf);
		if (mountmgr_mount(a->mm, &req, &ms[n], &code, &cause) == -1) {
			log_warnx("--mount %s: %s (%s)", a->cfg.mounts[i],
			    cause, code);
			free(cause);
		} else
			n++;
		free(buf);
	}
	if (a->cfg.wait_mounts_ms > 0 && n > 0)
		mountmgr_wait(a->mm, ms, n, MOUNT_SETTLED,
		    a->cfg.wait_mounts_ms, on_bootstrap_settled, a);
	else
		notify_ready();
	mount_list_free(ms, n);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(agent.base);
}

enum {
	OPT_CONTROL = 256, OPT_STATUS, OPT_STORE, OPT_TOKEN, OPT_TOKEN_KEY,
	OPT_STATE_DIR, OPT_BLFS, OPT_MOUNT, OPT_WAIT_MOUNTS, OPT_FOREGROUND,
	OPT_LOG_LEVEL, OPT_IDLE, OPT_MAX_CONNS, OPT_VSOCK_PORT, OPT_VSOCK_CID,
	OPT_HELP, OPT_VERSION, OPT_CEPH_CONF, OPT_CEPH_ID, OPT_CEPH_KEYRING,
};

static const struct option agent_options[] = {
	{ "control-socket", required_argument, NULL, OPT_CONTROL },
	{ "status-socket", required_argument, NULL, OPT_STATUS },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "token-key", required_argument, NULL, OPT_TOKEN_KEY },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "blfs", required_argument, NULL, OPT_BLFS },
	{ "mount", required_argument, NULL, OPT_MOUNT },
	{ "wait-mounts", required_argument, NULL, OPT_WAIT_MOUNTS },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "vsock-port", required_argument, NULL, OPT_VSOCK_PORT },
	{ "vsock-allow-cid", required_argument, NULL, OPT_VSOCK_CID },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "ceph-conf", required_argument, NULL, OPT_CEPH_CONF },
	{ "ceph-id", required_argument, NULL, OPT_CEPH_ID },
	{ "ceph-keyring", required_argument, NULL, OPT_CEPH_KEYRING },
	{ NULL, 0, NULL, 0 },
};

/*
 * --vsock-allow-cid 2,3: appended to cfg's list. Every CID but
 * VMADDR_CID_ANY (which would let anyone in) may be named.
 */
static void
parse_vsock_cids(const char *arg, struct agent_config *cfg)
{
	char *s = xstrdup(arg), *p = s, *comma;
	uint64_t v;

	for (;;) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		if (parse_u64(p, UINT32_MAX - 1, &v) == -1)
			usage_exit("blagent", "--vsock-allow-cid: \"%.32s\" "
			    "is not a CID (a number from 0 to %u)", p,
			    UINT32_MAX - 1);
		if (cfg->nvsock_cids >= AGENT_VSOCK_CIDS_MAX)
			usage_exit("blagent", "--vsock-allow-cid: more than %d "
			    "CIDs", AGENT_VSOCK_CIDS_MAX);
		cfg->vsock_cids = xreallocarray(cfg->vsock_cids,
		    cfg->nvsock_cids + 1, sizeof(*cfg->vsock_cids));
		cfg->vsock_cids[cfg->nvsock_cids++] = (uint32_t)v;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(s);
}

static void
parse_args(int argc, char **argv, struct agent_config *cfg,
    enum log_level *level)
{
	uint64_t v;
	char *cause = NULL;
	int ch;

	cfg->control_socket = AGENT_DEFAULT_CONTROL;
	cfg->status_socket = AGENT_DEFAULT_STATUS;
	cfg->store = AGENT_DEFAULT_STORE;
	cfg->token = AGENT_DEFAULT_TOKEN;
	cfg->state_dir = AGENT_DEFAULT_STATE_DIR;
	cfg->blfs = BL_LIBEXECDIR "/blfs";
	cfg->idle_timeout_ms = rpc_default_limits.idle_ms;
	cfg->max_connections = rpc_default_limits.max_conns;
	*level = LOG_LVL_INFO;

	opterr = 0;
	/* The leading ':' makes a missing value ':' rather than '?'. */
	while ((ch = getopt_long(argc, argv, ":", agent_options, NULL)) != -1) {
		switch (ch) {
		case OPT_CONTROL:
			cfg->control_socket = arg_abs_path("blagent", "--control-socket",
			    optarg);
			break;
		case OPT_STATUS:
			cfg->status_socket = arg_abs_path("blagent", "--status-socket",
			    optarg);
			break;
		case OPT_STORE:
			/* "KIND:..." names a store kind; else a directory. */
			cfg->store = store_spec_is_dir(optarg) ?
			    arg_abs_path("blagent", "--store", optarg) : optarg;
			break;
		case OPT_CEPH_CONF:
			(void)store_options_set(&cfg->store_opts, "ceph-conf",
			    arg_abs_path("blagent", "--ceph-conf", optarg));
			break;
		case OPT_CEPH_ID:
			(void)store_options_set(&cfg->store_opts, "ceph-id",
			    optarg);
			break;
		case OPT_CEPH_KEYRING:
			(void)store_options_set(&cfg->store_opts,
			    "ceph-keyring", arg_abs_path("blagent",
			    "--ceph-keyring", optarg));
			break;
		case OPT_TOKEN:
			cfg->token = arg_abs_path("blagent", "--token", optarg);
			break;
		case OPT_TOKEN_KEY:
			cfg->token_key = arg_abs_path("blagent", "--token-key", optarg);
			break;
		case OPT_STATE_DIR:
			cfg->state_dir = arg_abs_path("blagent", "--state-dir", optarg);
			break;
		case OPT_BLFS:
			cfg->blfs = arg_abs_path("blagent", "--blfs", optarg);
			break;
		case OPT_MOUNT:
			cfg->mounts = xreallocarray(cfg->mounts,
			    cfg->nmounts + 1, sizeof(char *));
			cfg->mounts[cfg->nmounts++] = optarg;
			break;
		case OPT_WAIT_MOUNTS:
			if (parse_duration_ms(optarg, &cfg->wait_mounts_ms) ==
			    -1)
				usage_exit("blagent", "--wait-mounts: %s is not a "
				    "duration (like 500ms, 10s, 2m)", optarg);
			break;
		case OPT_FOREGROUND:
			cfg->foreground = 1;
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, level) == -1)
				usage_exit("blagent", "--log-level: %s is not one of "
				    "error, warn, info, debug", optarg);
			break;
		case OPT_IDLE:
			if (parse_duration_ms(optarg, &cfg->idle_timeout_ms) ==
			    -1 || cfg->idle_timeout_ms == 0)
				usage_exit("blagent", "--idle-timeout: %s is not a "
				    "positive duration", optarg);
			break;
		case OPT_MAX_CONNS:
			if (parse_u64(optarg, 1000000, &v) == -1 || v == 0)
				usage_exit("blagent", "--max-connections: %s is not a "
				    "number from 1 to 1000000", optarg);
			cfg->max_connections = (size_t)v;
			break;
		case OPT_VSOCK_PORT:
			/*
			 * Not VMADDR_PORT_ANY: we listen where the host
			 * knows. Not below 1024 either: binding those needs
			 * CAP_NET_BIND_SERVICE, which the agent drops.
			 */
			if (parse_u64(optarg, UINT32_MAX - 1, &v) == -1 ||
			    v < 1024)
				usage_exit("blagent", "--vsock-port: %s is "
				    "not a port from 1024 to %u (lower ones "
				    "need a capability blagent drops)", optarg,
				    UINT32_MAX - 1);
			cfg->vsock = 1;
			cfg->vsock_port = (uint32_t)v;
			break;
		case OPT_VSOCK_CID:
			parse_vsock_cids(optarg, cfg);
			break;
		case OPT_HELP:
			usage(0);
		case OPT_VERSION:
			printf("blagent %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			usage_exit("blagent", "%s needs a value", argv[optind - 1]);
		default:
			usage_exit("blagent", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_exit("blagent", "unexpected argument %s", argv[optind]);
	if (strcmp(cfg->control_socket, cfg->status_socket) == 0)
		usage_exit("blagent", "the control and status sockets must differ");
	/* The store is reached at mount time; its spec is checked now. */
	if (store_spec_check(cfg->store, &cfg->store_opts, &cause) != 0)
		usage_exit("blagent", "%s", cause);
	if (cfg->nvsock_cids > 0 && !cfg->vsock)
		usage_exit("blagent", "--vsock-allow-cid needs --vsock-port");
	if (cfg->vsock && cfg->nvsock_cids == 0) {
		cfg->vsock_cids = xmalloc(sizeof(*cfg->vsock_cids));
		cfg->vsock_cids[cfg->nvsock_cids++] = AGENT_DEFAULT_VSOCK_CID;
	}
}

static void
agent_log_vsock(const struct agent_config *cfg)
{
	char buf[AGENT_VSOCK_CIDS_MAX * 12] = "";
	size_t o = 0;

	for (size_t i = 0; i < cfg->nvsock_cids; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u",
		    i > 0 ? "," : "", cfg->vsock_cids[i]);
	log_info("serving every method on vsock port %u to CID %s",
	    cfg->vsock_port, buf);
}

/*
 * Workloads run under bljail in a mount namespace that is a slave of
 * ours, so the drives we mount after it started still appear there. That
 * only works if our mounts propagate: make the tree shared (as systemd
 * does at boot; a custom init usually leaves it private).
 */
static void
share_root(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == -1)
		log_warn("making / shared: drives mounted from now on will not "
		    "appear in workload namespaces made before");
}

/* Serve far more connections (and blfs children) than the default 1024. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("raising the open file limit");
	}
}

int
main(int argc, char **argv)
{
	struct agent_config *cfg = &agent.cfg;
	struct rpc_limits lim = rpc_default_limits;
	enum log_level level;
	struct event *sigterm, *sigint;
	struct token_key *key = NULL;
	struct mountmgr_config mcfg;
	char *cause = NULL, *slash;

	parse_args(argc, argv, cfg, &level);
	log_init("blagent", level);
	/* Bad start-up mounts are usage errors, found before anything runs. */
	for (size_t i = 0; i < cfg->nmounts; i++) {
		struct mount_request req;
		char *buf;

		parse_mount_spec(cfg->mounts[i], &req, &buf);
		free(buf);
	}
	if (cfg->token_key != NULL) {
		if (token_key_load(cfg->token_key, &key, &cause) == -1)
			usage_exit("blagent", "--token-key: %s", cause);
	}

	signal(SIGPIPE, SIG_IGN);
	/*
	 * One malloc arena: the loop is one thread, and each mount's probe
	 * thread only frees its job. With more, that first free made the
	 * thread build an arena of its own (128 MiB reserved, trimmed,
	 * protected, then thrown away at exit) on every mount, beside the
	 * loop answering it.
	 */
	mallopt(M_ARENA_MAX, 1);
	raise_nofile();
	if (sandbox_agent_harden(&cause) == -1)
		fatalx("hardening: %s", cause);
	/* Once here rather than in every blfs, between mount and serving. */
	if (sandbox_blfs_filters_prepare(&cause) == -1) {
		log_warnx("%s: each blfs builds its own seccomp filter", cause);
		free(cause);
		cause = NULL;
	}
	/* The run directory holds the control socket: never a mount path. */
	agent.run_dir = xstrdup(cfg->control_socket);
	if ((slash = strrchr(agent.run_dir, '/')) != NULL)
		*(slash == agent.run_dir ? slash + 1 : slash) = '\0';
	if (make_parent_dir(cfg->control_socket, &cause) == -1 ||
	    make_parent_dir(cfg->status_socket, &cause) == -1 ||
	    make_dir(cfg->state_dir, 0700, &cause) == -1)
		fatalx("%s", cause);
	if (!cfg->foreground)
		daemonize();

	agent.started_ms = now_ms_mono();
	if ((agent.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	/* Before the sockets exist: a SIGTERM from then on is a clean stop. */
	sigterm = evsignal_new(agent.base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(agent.base, SIGINT, on_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	share_root();
	lim.idle_ms = cfg->idle_timeout_ms;
	lim.max_conns = cfg->max_connections;
	agent.methods = agent_methods;
	agent.nmethods = nitems(agent_methods);
	agent.rpc = rpc_server_new(agent.base, agent_methods,
	    nitems(agent_methods), &lim, &agent);
	if (rpc_server_listen(agent.rpc, cfg->control_socket, 0600,
	    RPC_L_CHECK_PEER, &cause) == -1 ||
	    rpc_server_listen(agent.rpc, cfg->status_socket, 0666,
	    RPC_L_STATUS, &cause) == -1 ||
	    (cfg->vsock && rpc_server_listen_vsock(agent.rpc, cfg->vsock_port,
	    cfg->vsock_cids, cfg->nvsock_cids, 0, &cause) == -1)) {
		/* Remove the socket already made, or it lingers unserved. */
		rpc_server_free(agent.rpc);
		fatalx("%s", cause);
	}

	agent.token = token_state_new(cfg->token, key);
	agent_token_reload(&agent, token_state_reload(agent.token, &cause),
	    &cause);
	cause = NULL;
	agent_token_watch(&agent);

	memset(&mcfg, 0, sizeof(mcfg));
	mcfg.store = cfg->store;
	mcfg.store_opts = &cfg->store_opts;
	mcfg.state_dir = cfg->state_dir;
	mcfg.run_dir = agent.run_dir;
	mcfg.blfs = cfg->blfs;
	mcfg.labels = agent_labels;
	mcfg.labels_arg = &agent;
	mcfg.confine_child = sandbox_blfs_child;
	mcfg.blfs_filter = sandbox_blfs_filter_fd;
	mcfg.changed = on_mount_changed;
	mcfg.changed_arg = &agent;
	agent.mm = mountmgr_new(agent.base, &mcfg);
	mountmgr_restore(agent.mm);

	log_info("serving on %s (control) and %s (status), version %s",
	    cfg->control_socket, cfg->status_socket, PACKAGE_VERSION);
	if (cfg->vsock)
		agent_log_vsock(cfg);
	agent_bootstrap(&agent);
	event_base_dispatch(agent.base);

	/* Served mounts keep serving: a restarted agent re-adopts them. */
	mountmgr_free(agent.mm);
	rpc_server_free(agent.rpc);
	if (agent.token_ev != NULL)
		event_free(agent.token_ev);
	if (agent.token_retry != NULL)
		event_free(agent.token_retry);
	token_state_free(agent.token);
	free(agent.run_dir);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(agent.base);
	free(cfg->mounts);
	free(cfg->vsock_cids);
	log_info("stopped");
	return 0;
}
