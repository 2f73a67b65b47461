/*
 * bljail: run a workload command under the workload confinement profile,
 * beside a blagent whose token, store, state, control socket and blfs it
 * hides. bljail waits as a small init in the command's pid namespace and
 * exits with the command's status.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "sandboxing/caps.h"
#include "sandboxing/confine.h"
#include "sandboxing/sandbox.h"

/* The same defaults as blagent's: bljail hides what the agent uses. */
#define BLJAIL_DEFAULT_TOKEN	"/var/run/secrets/blaxel.ai/identity/token"
#define BLJAIL_DEFAULT_STORE	"/var/lib/blagent/store"
#define BLJAIL_DEFAULT_STATE	"/run/blagent/state"
#define BLJAIL_DEFAULT_CONTROL	"/run/blagent/control.sock"
#define BLJAIL_DEFAULT_STATUS	"/run/blagent/status.sock"
#define BLJAIL_DEFAULT_BLFS	BL_LIBEXECDIR "/blfs"

/* Signals passed on to the command rather than acted on here. */
static const int bljail_forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM,
    SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCONT };

/* The one process our signals go to: the init below us, or the command. */
static volatile sig_atomic_t bljail_forward_to;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: bljail [--uid N] [--gid N] [--keep-cap CAP]... [--token PATH]\n"
"              [--store DIR] [--state-dir DIR] [--control-socket PATH]\n"
"              [--status-socket PATH]\n"
"              [--blfs PATH] [--hide PATH]... [--read-only PATH]...\n"
"              [--log-level LEVEL]\n"
"              -- COMMAND [ARG...]\n"
"\n"
"Run COMMAND confined: its own mount and pid namespaces (slave to the\n"
"agent's, so drives mounted later appear), the agent's token directory,\n"
"store, state, control socket and blfs binary hidden, dangerous\n"
"capabilities dropped for good, no_new_privs, and a seccomp filter\n"
"against mounts, namespaces, ptrace and kernel interfaces.\n"
"\n"
"  --uid N                run as this uid (no capabilities left)\n"
"  --gid N                run as this gid [the --uid value]\n"
"  --keep-cap CAP         keep one dropped capability (CAP_NET_ADMIN or\n"
"                         net_admin; repeatable)\n"
"  --token PATH           identity token; its directory is hidden [%s]\n"
"  --store DIR|KIND:...   drive store to hide; a store of another kind\n"
"                         (ceph:FS/ROOT) has nothing here to hide [%s]\n"
"  --state-dir DIR        agent state to hide [%s]\n"
"  --control-socket PATH  agent control socket to hide [%s]\n"
"  --status-socket PATH   agent status socket: stays reachable, pinned so it\n"
"                         cannot be replaced [%s]\n"
"  --blfs PATH            blfs binary to hide [%s]\n"
"  --hide PATH            hide one more file or directory (repeatable):\n"
"                         a ceph store's keyring, say\n"
"  --read-only PATH       make a tree read-only, submounts too (repeatable)\n"
"  --log-level LEVEL      error, warn, info or debug [warn]\n"
"  --help, --version\n"
"\n"
"Exit status: COMMAND's, 128+N if a signal N killed it, 125 if bljail\n"
"could not confine it, 126/127 if it could not be run or found.\n",
	    BLJAIL_DEFAULT_TOKEN, BLJAIL_DEFAULT_STORE, BLJAIL_DEFAULT_STATE,
	    BLJAIL_DEFAULT_CONTROL, BLJAIL_DEFAULT_STATUS, BLJAIL_DEFAULT_BLFS);
	exit(status);
}

static uint32_t
id_arg(const char *opt, const char *v)
{
	uint64_t n;

	/* (uid_t)-1 means "unchanged" to setresuid: never a real id. */
	if (parse_u64(v, UINT32_MAX - 1, &n) != 0)
		usage_exit("bljail", "%s: %s is not a number from 0 to %u", opt, v,
		    UINT32_MAX - 1);
	return (uint32_t)n;
}

static void
on_signal(int sig)
{
	int saved = errno;

	if (bljail_forward_to > 0)
		kill((pid_t)bljail_forward_to, sig);
	errno = saved;
}

static void
bljail_signals(void (*handler)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < nitems(bljail_forwarded); i++)
		sigaction(bljail_forwarded[i], &sa, NULL);
}

/* A wait status as an exit status: the code, or 128 + the signal. */
static int
bljail_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return SANDBOX_EXIT_FAILED;
}

/*
 * The confined init (pid 1 of the new namespace): start the command, pass
 * signals on, reap every orphan the command leaves us, and exit with the
 * command's status. When we exit the kernel kills whatever is left in
 * the namespace, so no stray workload process outlives bljail.
 */
static void __attribute__((noreturn))
bljail_init(char **argv)
{
	pid_t cmd, pid;
	int st, e;

	cmd = fork();
	if (cmd == -1) {
		log_warn("fork");
		_exit(SANDBOX_EXIT_FAILED);
	}
	if (cmd == 0) {
		bljail_signals(SIG_DFL);
		execvp(argv[0], argv);
		e = errno;
		log_warn("%s", argv[0]);
		_exit(e == ENOENT ? 127 : 126);
	}
	bljail_forward_to = cmd;
	for (;;) {
		pid = waitpid(-1, &st, 0);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			log_warn("waitpid");
			_exit(SANDBOX_EXIT_FAILED);
		}
		if (pid == cmd && (WIFEXITED(st) || WIFSIGNALED(st)))
			_exit(bljail_status(st));
	}
}

int
main(int argc, char **argv)
{
	enum { OPT_UID = 256, OPT_GID, OPT_KEEP_CAP, OPT_TOKEN, OPT_STORE,
	    OPT_STATE_DIR, OPT_CONTROL, OPT_STATUS, OPT_BLFS, OPT_HIDE, OPT_RO,
	    OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION };
	static const struct option longopts[] = {
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "keep-cap", required_argument, NULL, OPT_KEEP_CAP },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "control-socket", required_argument, NULL, OPT_CONTROL },
		{ "status-socket", required_argument, NULL, OPT_STATUS },
		{ "blfs", required_argument, NULL, OPT_BLFS },
		{ "hide", required_argument, NULL, OPT_HIDE },
		{ "read-only", required_argument, NULL, OPT_RO },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct confine_jail cj;
	enum log_level level = LOG_LVL_WARN;
	const char **hide = NULL, **ro = NULL;
	int ch, cap, fds[2], st;
	pid_t init;
	ssize_t n;
	size_t klen;
	char ok;

	memset(&cj, 0, sizeof cj);
	cj.token = BLJAIL_DEFAULT_TOKEN;
	cj.store = BLJAIL_DEFAULT_STORE;
	cj.state_dir = BLJAIL_DEFAULT_STATE;
	cj.control_socket = BLJAIL_DEFAULT_CONTROL;
	cj.status_socket = BLJAIL_DEFAULT_STATUS;
	cj.blfs = BLJAIL_DEFAULT_BLFS;

	/* "+": the first non-option is the command; its options are its. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_UID:
			cj.set_uid = 1;
			cj.uid = id_arg("--uid", optarg);
			break;
		case OPT_GID:
			cj.set_gid = 1;
			cj.gid = id_arg("--gid", optarg);
			break;
		case OPT_KEEP_CAP:
			if (caps_parse(optarg, &cap) != 0)
				usage_exit("bljail", "--keep-cap: %s is not a capability "
				    "this kernel knows (like CAP_NET_ADMIN)",
				    optarg);
			cj.keep |= CAPS_BIT(cap);
			break;
		case OPT_TOKEN:
			cj.token = arg_abs_path("bljail", "--token", optarg);
			break;
		case OPT_STORE:
			/*
			 * "ceph:FS/ROOT" and the like: the drives are reached
			 * over the network, nothing of them lies here to hide
			 * (the keyring does: --hide it).
			 */
			klen = strspn(optarg,
			    "abcdefghijklmnopqrstuvwxyz0123456789");
			if (klen > 0 && optarg[klen] == ':')
				cj.store = NULL;
			else
				cj.store = arg_abs_path("bljail", "--store",
				    optarg);
			break;
		case OPT_STATE_DIR:
			cj.state_dir = arg_abs_path("bljail", "--state-dir", optarg);
			break;
		case OPT_STATUS:
			cj.status_socket = arg_abs_path("bljail",
			    "--status-socket", optarg);
			break;
		case OPT_CONTROL:
			cj.control_socket = arg_abs_path("bljail", "--control-socket",
			    optarg);
			break;
		case OPT_BLFS:
			cj.blfs = arg_abs_path("bljail", "--blfs", optarg);
			break;
		case OPT_HIDE:
			hide = xreallocarray(hide, cj.nhide + 1, sizeof *hide);
			hide[cj.nhide++] = arg_abs_path("bljail", "--hide", optarg);
			break;
		case OPT_RO:
			ro = xreallocarray(ro, cj.nro + 1, sizeof *ro);
			ro[cj.nro++] = arg_abs_path("bljail", "--read-only", optarg);
			break;
		case OPT_LOG_LEVEL:
			if (log_level_parse(optarg, &level) != 0)
				usage_exit("bljail", "--log-level: %s is not one of "
				    "error, warn, info, debug", optarg);
			break;
		case OPT_HELP:
			usage(0);
		case OPT_VERSION:
			printf("bljail %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			usage_exit("bljail", "%s needs a value", argv[optind - 1]);
		default:
			usage_exit("bljail", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_exit("bljail", "no command to run");
	/* An ordinary user's group is its own unless told otherwise. */
	if (cj.set_uid && !cj.set_gid) {
		cj.set_gid = 1;
		cj.gid = cj.uid;
	}
	cj.hide = hide;
	cj.ro = ro;
	log_init("bljail", level);

	/*
	 * Forward signals from the start: one arriving between the fork and
	 * here would otherwise kill us and orphan the workload.
	 */
	bljail_signals(on_signal);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_warn("pipe2");
		exit(SANDBOX_EXIT_FAILED);
	}
	/*
	 * The next child is pid 1 of a new pid namespace: its procfs shows
	 * only the workload, and nothing in it can name the agent or blfs.
	 */
	if (unshare(CLONE_NEWPID) != 0) {
		log_warn("unshare(CLONE_NEWPID) (bljail must run as root)");
		exit(SANDBOX_EXIT_FAILED);
	}
	init = fork();
	if (init == -1) {
		log_warn("fork");
		exit(SANDBOX_EXIT_FAILED);
	}
	if (init == 0) {
		close(fds[0]);
		confine_jail(&cj, fds[1]);
		bljail_init(argv + optind);
	}
	bljail_forward_to = init;
	close(fds[1]);

	/*
	 * No status byte means the child died confining itself: the
	 * command never ran, and our status says so, whatever the child's.
	 */
	do
		n = read(fds[0], &ok, 1);
	while (n == -1 && errno == EINTR);
	close(fds[0]);
	while (waitpid(init, &st, 0) == -1) {
		if (errno != EINTR) {
			log_warn("waitpid");
			exit(SANDBOX_EXIT_FAILED);
		}
	}
	/*
	 * _exit, not exit: after unshare(CLONE_NEWPID) our children would be
	 * born in a namespace whose init is gone, so nothing at exit may fork
	 * (LeakSanitizer's tracer does). Nothing is buffered but stdio's.
	 */
	fflush(NULL);
	_exit(n != 1 ? SANDBOX_EXIT_FAILED : bljail_status(st));
}
