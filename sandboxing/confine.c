/*
 * Confinement pipelines, each one function read top to bottom in a fixed
 * order: namespaces, mounts, bounding set, securebits, ids, capabilities,
 * no_new_privs, seccomp last. Once dropping starts, every failure is
 * fatal: a half-confined process never runs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <linux/securebits.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
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
#include "sandboxing/ns.h"
#include "sandboxing/sandbox.h"
#include "sandboxing/seccomp.h"

/*
 * What blfs keeps: nothing. It serves files as uid 0 without being root
 * in any other sense: it reaches backing files as their owner, and keeps
 * what the workload sees of owners and modes in an extended attribute
 * (blfs/meta.c), so it needs neither CAP_CHOWN, CAP_FOWNER,
 * CAP_DAC_OVERRIDE nor CAP_FSETID. Least of all CAP_DAC_READ_SEARCH: it
 * is what open_by_handle_at checks, and a handle open reaches any file of
 * the filesystem, outside the drive.
 */
#define CONFINE_BLFS_CAPS	((uint64_t)0)

/*
 * What the agent keeps, dropped from every other set including bounding:
 *   CAP_SYS_ADMIN     mount(2) and umount2(2) of FUSE drives;
 *   CAP_SETPCAP       in each blfs child: empty the bounding set, lock
 *                     securebits;
 *   CAP_SETGID        in each blfs child: drop root's supplementary
 *                     groups;
 *   CAP_DAC_OVERRIDE  mount points wherever the orchestrator names them
 *                     (a directory of the workload's user, say), and the
 *                     token and the store whatever their modes.
 * Opening /dev/fuse needs no capability; killing blfs children neither
 * (same uid); reading /proc/PID/cmdline of one after a restart neither.
 * No CAP_SETUID: nothing changes uid. Should a later child need it, add
 * it here with the reason. Everything else (chown, ptrace, modules, raw
 * I/O, mknod, net admin, ...) is gone from every set including bounding,
 * so not even an exec can bring it back.
 */
#define CONFINE_AGENT_CAPS						\
	(CAPS_BIT(CAP_SYS_ADMIN) | CAPS_BIT(CAP_SETPCAP) |		\
	    CAPS_BIT(CAP_SETGID) | CAPS_BIT(CAP_DAC_OVERRIDE))

/*
 * A blfs child keeps being uid 0 but gains nothing from it: no root
 * capabilities at exec (NOROOT), none regained by an id change
 * (NO_SETUID_FIXUP), no keep-caps games, no raising the ambient set, and
 * all of it locked.
 */
#define CONFINE_BLFS_SECBITS						\
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |				\
	    SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |	\
	    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

static char * __attribute__((format(printf, 1, 2)))
confine_str(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	return s;
}

static void __attribute__((noreturn))
confine_fail(const char *step, char *cause)
{
	log_warnx("confinement failed at %s: %s", step,
	    cause != NULL ? cause : "unknown error");
	free(cause);
	/*
	 * _exit: in a child between fork and exec, exit handlers and stdio
	 * buffers belong to the parent.
	 */
	_exit(SANDBOX_EXIT_FAILED);
}

int
sandbox_agent_harden(char **cause)
{
	uint64_t keep = CONFINE_AGENT_CAPS;

	/*
	 * Not dumpable first: /proc/PID/root, fd, environ and mem, core
	 * dumps and ptrace attach are closed to everyone without
	 * CAP_SYS_PTRACE, and the token sits in this process's memory.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		xasprintf(cause, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	/* Bounding set while CAP_SETPCAP is still effective. */
	if (caps_bound_limit(keep, cause) != 0)
		return -1;
	/* Nothing passes to children through the ambient set by default. */
	if (caps_ambient_set(0, cause) != 0)
		return -1;
	/*
	 * Permitted and effective cut to what we keep (of what we have: an
	 * agent started with fewer keeps fewer, and its mounts will say
	 * why); inheritable empty, each blfs child fills its own.
	 */
	if (caps_set(keep, 0, 1, cause) != 0)
		return -1;
	return 0;
}

void
sandbox_blfs_child(void)
{
	uint64_t keep = CONFINE_BLFS_CAPS;
	char *cause = NULL;

	/*
	 * Namespaces and mounts: none. blfs serves the agent's own mount of
	 * /dev/fuse from the store, both in the agent's namespace; what
	 * shuts it in is the fd it is given, its capabilities and seccomp.
	 */

	/*
	 * Bounding set: empty, while CAP_SETPCAP is still effective. With
	 * NOROOT below this is belt and braces: not even a file-capability
	 * binary could exec its way past it.
	 */
	if (caps_bound_limit(keep, &cause) != 0)
		confine_fail("bounding set", cause);

	/* Securebits, before ids and capabilities, while SETPCAP lasts. */
	if (caps_secbits_set(CONFINE_BLFS_SECBITS, &cause) != 0)
		confine_fail("securebits", cause);

	/*
	 * Ids: blfs stays uid 0 (the owner of every backing file it makes),
	 * but loses root's supplementary groups.
	 */
	if (setgroups(0, NULL) != 0)
		confine_fail("ids", confine_str("setgroups: %s",
		    strerror(errno)));

	/*
	 * Capabilities: none in any set, CAP_SETPCAP last of all. With
	 * NOROOT, uid 0 gets nothing back at execve either.
	 */
	if (caps_set(keep, keep, 0, &cause) != 0)
		confine_fail("capabilities", cause);
	if (caps_ambient_set(keep, &cause) != 0)
		confine_fail("ambient capabilities", cause);

	/*
	 * no_new_privs: no setuid or file-capability binary gains anything,
	 * and blfs may install its seccomp filter later without privilege.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		confine_fail("no_new_privs",
		    confine_str("%s", strerror(errno)));

	/*
	 * Not dumpable until exec resets it (blfs sets it again first
	 * thing); closes this child's /proc entries while it still holds
	 * the agent's fds.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		confine_fail("dumpable", confine_str("%s", strerror(errno)));

	/*
	 * Seccomp: not here. The filter forbids execve, so blfs installs it
	 * itself (sandbox_blfs_seccomp) once its fds are set up.
	 */

	/* Read everything back: trust the kernel's word, not ours. */
	if (caps_verify(keep, keep, keep, &cause) != 0)
		confine_fail("verification", cause);
}

int
sandbox_blfs_seccomp(int read_only, char **cause)
{
	/*
	 * execve reset dumpable; set it again before anything is read from
	 * /dev/fuse, so the workload cannot open our fds through /proc.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		xasprintf(cause, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	return seccomp_blfs_install(read_only, 0, cause);
}

int
sandbox_blfs_seccomp_net(int read_only, char **cause)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		xasprintf(cause, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	return seccomp_blfs_install(read_only, 1, cause);
}

int
sandbox_blfs_filters_prepare(char **cause)
{
	return seccomp_blfs_prepare(cause);
}

int
sandbox_blfs_filter_fd(int read_only, int net)
{
	return seccomp_blfs_filter_fd(read_only, net);
}

int
sandbox_blfs_seccomp_fd(int fd, char **cause)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		xasprintf(cause, "PR_SET_DUMPABLE: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return seccomp_blfs_install_fd(fd, cause);
}

uint64_t
confine_jail_dropped(void)
{
	return CAPS_BIT(CAP_SYS_ADMIN) |	/* mount, namespaces, much else */
	    CAPS_BIT(CAP_SYS_PTRACE) |		/* other processes */
	    CAPS_BIT(CAP_SYS_MODULE) |		/* the kernel itself */
	    CAPS_BIT(CAP_SYS_RAWIO) |		/* /dev/mem, ioperm, FIBMAP */
	    CAPS_BIT(CAP_SYS_BOOT) |		/* reboot, kexec */
	    CAPS_BIT(CAP_MKNOD) |		/* a block device of the disk */
	    CAPS_BIT(CAP_DAC_READ_SEARCH) |	/* open_by_handle_at */
	    CAPS_BIT(CAP_LINUX_IMMUTABLE) |	/* freeze files others use */
	    CAPS_BIT(CAP_MAC_ADMIN) | CAPS_BIT(CAP_MAC_OVERRIDE) |
	    CAPS_BIT(CAP_BPF) | CAPS_BIT(CAP_PERFMON) |
	    CAPS_BIT(CAP_SYS_TIME) |		/* the clock everyone trusts */
	    CAPS_BIT(CAP_NET_ADMIN);		/* routes, firewall, devices */
}

/* Mask one path; missing is fine, failing is fatal. */
static void
confine_hide(const char *path)
{
	char *cause = NULL;

	if (path == NULL || *path == '\0')
		return;
	if (ns_mask(path, &cause) == NS_MASK_FAILED)
		confine_fail("masks", cause);
}

/*
 * What is hidden of the token: its directory, which may hold the key and
 * refreshed tokens too; the file alone for "token" or "/token", never /
 * or the cwd. NULL for none.
 */
static char *
confine_token_dir(const char *token)
{
	char *dir, *slash;

	if (token == NULL || *token == '\0')
		return NULL;
	dir = xstrdup(token);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir)
		*slash = '\0';
	return dir;
}

/* Pin one absolute path's components; failing is fatal. */
static void
confine_pin(const char *path)
{
	char *cause = NULL;

	if (path == NULL || *path != '/')
		return;
	if (ns_pin(path, &cause) != 0)
		confine_fail("pins", cause);
}

void
confine_jail(const struct confine_jail *cj, int status_fd)
{
	uint64_t keep, dropped, bnd;
	unsigned long secbits;
	char cwd[PATH_MAX], *token_dir, *cause = NULL;
	int have_cwd, root;
	size_t i;
	char ok = 0;

	dropped = confine_jail_dropped() & ~cj->keep;
	root = !cj->set_uid || cj->uid == 0;
	have_cwd = getcwd(cwd, sizeof cwd) != NULL;

	/*
	 * Namespaces: the pid namespace was entered by the fork that made
	 * us (a process cannot move itself into one); the mount namespace
	 * now, before any mount, so nothing below is seen outside.
	 */
	if (ns_mount_enter(&cause) != 0)
		confine_fail("mount namespace", cause);

	/*
	 * Mounts. /proc first: a fresh procfs for the new pid namespace,
	 * so nothing outside it (the agent, blfs) has an entry here.
	 */
	if (ns_proc_fresh(&cause) != 0)
		confine_fail("/proc", cause);
	/* /sys read-only: FUSE connections, cgroups, devices, the kernel. */
	if (access("/sys", F_OK) == 0 && ns_readonly("/sys", &cause) != 0)
		confine_fail("/sys", cause);
	/* The disks below every store and drive, raw. */
	if (ns_mask_block_devices(&cause) != 0)
		confine_fail("block devices", cause);
	/*
	 * Pins: every component of every path the agent uses and we hide or
	 * make read-only becomes a mount point here, so a root workload
	 * cannot rename a parent aside and build its own tree in its place
	 * (a blfs of its own, which the agent would exec; a forged token; a
	 * store of its own). The agent looks those paths up in its own
	 * namespace, where our masks do not exist but the renames would.
	 * Before the read-only trees and the masks, which sit on top.
	 */
	token_dir = confine_token_dir(cj->token);
	confine_pin(token_dir);
	confine_pin(cj->store);
	confine_pin(cj->state_dir);
	confine_pin(cj->control_socket);
	/* The workload's own socket to the agent: usable, never replaced
	 * by one of its own that tells other readers lies. */
	if (cj->status_socket != NULL)
		confine_pin(cj->status_socket);
	confine_pin(cj->blfs);
	for (i = 0; i < cj->nhide; i++)
		confine_pin(cj->hide[i]);
	for (i = 0; i < cj->nro; i++)
		confine_pin(cj->ro[i]);
	/*
	 * --read-only trees (the agent's binaries and libraries, say): before
	 * the masks, which may sit inside them.
	 */
	for (i = 0; i < cj->nro; i++) {
		if (access(cj->ro[i], F_OK) != 0) {
			log_debug("nothing to make read-only at %s", cj->ro[i]);
			continue;
		}
		if (ns_readonly(cj->ro[i], &cause) != 0)
			confine_fail("read-only paths", cause);
	}
	/*
	 * What the agent beside us uses: the token's directory, the store
	 * (a workload reaching the store's files needs no mount at all),
	 * the agent's state, its control socket (the status socket stays
	 * reachable), the blfs binary; then whatever --hide names.
	 */
	confine_hide(token_dir);
	free(token_dir);
	confine_hide(cj->store);
	confine_hide(cj->state_dir);
	confine_hide(cj->control_socket);
	confine_hide(cj->blfs);
	for (i = 0; i < cj->nhide; i++)
		confine_hide(cj->hide[i]);
	/*
	 * A working directory inside a masked tree still reaches the real
	 * one below the mask: take the path again through the new mounts.
	 */
	if (!have_cwd || chdir(cwd) != 0) {
		if (chdir("/") != 0)
			confine_fail("working directory",
			    confine_str("chdir /: %s", strerror(errno)));
	}

	/*
	 * Bounding set: the dropped capabilities can never come back, not
	 * through exec of root, a setuid or a file-capability binary.
	 */
	bnd = caps_bounding() & ~dropped;
	if (caps_bound_limit(bnd, &cause) != 0)
		confine_fail("bounding set", cause);

	/*
	 * Securebits, locked so the workload cannot change them. Root keeps
	 * ordinary root semantics (its capabilities, bounded above, come
	 * back at exec); an ordinary user additionally gets NOROOT, so
	 * even a setuid-root binary brings it nothing. Neither may raise
	 * ambient capabilities.
	 */
	secbits = SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
	    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
	    SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (!root)
		secbits |= SECBIT_NOROOT;
	if (caps_secbits_set(secbits, &cause) != 0)
		confine_fail("securebits", cause);

	/*
	 * Ids: groups, then gid, then uid (after the uid, changing the
	 * others is no longer allowed). Leaving uid 0 clears every
	 * capability: KEEP_CAPS is off and locked.
	 */
	if (cj->set_uid || cj->set_gid) {
		if (setgroups(0, NULL) != 0)
			confine_fail("ids", confine_str("setgroups: %s",
			    strerror(errno)));
	}
	if (cj->set_gid && setresgid(cj->gid, cj->gid, cj->gid) != 0)
		confine_fail("ids", confine_str("setresgid %lu: %s",
		    (unsigned long)cj->gid, strerror(errno)));
	if (cj->set_uid && setresuid(cj->uid, cj->uid, cj->uid) != 0)
		confine_fail("ids", confine_str("setresuid %lu: %s",
		    (unsigned long)cj->uid, strerror(errno)));

	/*
	 * Capabilities: root keeps the bounding set as permitted and
	 * effective; an ordinary user keeps nothing. Inheritable and
	 * ambient empty: nothing crosses exec but what root gets anew.
	 */
	keep = root ? bnd : 0;
	if (caps_set(keep, 0, 1, &cause) != 0)
		confine_fail("capabilities", cause);
	if (caps_ambient_set(0, &cause) != 0)
		confine_fail("ambient capabilities", cause);

	/* no_new_privs: setuid fusermount3 and friends gain nothing. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		confine_fail("no_new_privs",
		    confine_str("%s", strerror(errno)));

	/*
	 * Seccomp last: it denies mount and unshare, which the steps above
	 * needed, and everything above narrowed what it must stand for.
	 */
	if (seccomp_jail_install(&cause) != 0)
		confine_fail("seccomp", cause);

	/* Read back what the kernel holds now. */
	if (caps_verify(caps_permitted(), bnd, 0, &cause) != 0 ||
	    (caps_permitted() & dropped) != 0)
		confine_fail("verification", cause != NULL ? cause :
		    xstrdup("a dropped capability is still permitted"));

	/* The status byte: the parent knows confinement held. */
	if (write_full(status_fd, &ok, 1) != 1)
		confine_fail("status", confine_str("%s", strerror(errno)));
	close(status_fd);
}
