/*
 * The state file: what a restarted agent re-adopts. Mounts that are
 * mounted are written to <state_dir>/mounts.json at every settled change;
 * at start, each entry whose mount mountinfo still shows and whose blfs
 * (or a volume's holder) still runs is watched again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "mountmgr/handoff.h"
#include "mountmgr/mount-int.h"
#include "mountmgr/volume.h"

void
mm_save_state(struct mountmgr *mm)
{
	json_t *arr = json_array();
	struct mount *m;
	char *path, *tmp, *text;
	int fd;

	TAILQ_FOREACH(m, &mm->mounts, entry) {
		if (m->state != MOUNT_MOUNTED || m->blfs.pid <= 0)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:b, s:I, s:I, s:I, s:b}", "id", m->id, "drive", m->drive,
		    "mount_path", m->mount_path, "drive_path", m->drive_path,
		    "read_only", m->read_only, "created_at_ms",
		    (json_int_t)m->created_at_ms, "updated_at_ms",
		    (json_int_t)m->updated_at_ms, "pid",
		    (json_int_t)m->blfs.pid, "volume", m->volume));
	}
	text = json_dumps(arr, JSON_INDENT(1));
	json_decref(arr);
	if (text == NULL)
		return;
	xasprintf(&path, "%s/%s", mm->cfg.state_dir, MOUNT_STATE_FILE);
	xasprintf(&tmp, "%s/.%s.tmp", mm->cfg.state_dir, MOUNT_STATE_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	/*
	 * Written then renamed, so an agent dying mid-write leaves the old
	 * file whole. No fsync: the file only matters while the kernel
	 * keeps running (a crash of the machine takes every mount with it),
	 * and it lives on /run, a tmpfs, anyway.
	 */
	if (fd == -1 || write_full(fd, text, strlen(text)) == -1 ||
	    rename(tmp, path) == -1)
		log_warn("saving %s", path);
	if (fd != -1)
		close(fd);
	free(text);
	free(tmp);
	free(path);
}

/* Does pid still run the blfs of this session? */
static int
mm_pid_serves(pid_t pid, const char *id)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, id) != NULL;
}

/*
 * The loop device under a volume's mount (mountinfo's source), when its
 * backing file is the drive's image; -1 otherwise.
 */
static int
mm_volume_loop(const struct handoff_mountinfo *mi, const char *drive)
{
	char *backing, *want;
	uint64_t n;
	size_t bl, wl;
	int ok;

	if (strncmp(mi->source, "/dev/loop", 9) != 0 ||
	    parse_u64(mi->source + 9, INT32_MAX, &n) == -1)
		return -1;
	if ((backing = volume_loop_backing((unsigned)n)) == NULL)
		return -1;
	xasprintf(&want, "/drives/%s/%s", drive, VOLUME_IMAGE);
	bl = strlen(backing);
	wl = strlen(want);
	ok = bl > wl && strcmp(backing + bl - wl, want) == 0;
	free(backing);
	free(want);
	return ok ? (int)n : -1;
}

void
mountmgr_restore(struct mountmgr *mm)
{
	char *path;
	json_t *arr, *e;
	json_error_t jerr;
	size_t i;

	xasprintf(&path, "%s/%s", mm->cfg.state_dir, MOUNT_STATE_FILE);
	arr = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (arr == NULL) {
		if (access(path, F_OK) == 0)
			log_warnx("%s: %s (line %d); adopting nothing", path,
			    jerr.text, jerr.line);
		free(path);
		return;
	}
	json_array_foreach(arr, i, e) {
		const char *id = NULL, *drive = NULL, *mp = NULL, *dp = NULL;
		int ro = 0, vol = 0, loop = -1;
		json_int_t created = 0, updated = 0, pid = 0;
		struct handoff_mountinfo mi;
		struct mount *m;

		if (json_unpack(e, "{s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, "
		    "s?b}", "id", &id, "drive", &drive, "mount_path", &mp,
		    "drive_path", &dp, "read_only", &ro, "created_at_ms",
		    &created, "updated_at_ms", &updated, "pid", &pid,
		    "volume", &vol) == -1 ||
		    strlen(id) >= sizeof(m->id) || pid <= 1) {
			log_warnx("%s: entry %zu is malformed; skipped", path, i);
			continue;
		}
		if (handoff_mountinfo_find_fs(mp, vol ? "ext4" : HANDOFF_FSTYPE,
		    &mi) != 1) {
			log_info("mount %s at %s is gone since the last run",
			    id, mp);
			/* Its holder waits for word to let the lock go. */
			if (vol && mm_pid_serves((pid_t)pid, id))
				(void)kill((pid_t)pid, SIGTERM);
			continue;
		}
		if (vol && (loop = mm_volume_loop(&mi, drive)) == -1) {
			log_warnx("mount %s at %s: the ext4 there is not volume "
			    "%s's image; not adopted", id, mp, drive);
			continue;
		}
		if (!mm_pid_serves((pid_t)pid, id)) {
			log_warnx("mount %s at %s lost its blfs; detaching", id,
			    mp);
			handoff_detach(mp);
			continue;
		}
		m = mount_alloc(mm);
		snprintf(m->id, sizeof(m->id), "%s", id);
		m->drive = xstrdup(drive);
		m->mount_path = xstrdup(mp);
		m->drive_path = xstrdup(dp);
		m->read_only = ro;
		m->created_at_ms = (uint64_t)created;
		m->updated_at_ms = (uint64_t)updated;
		m->state = MOUNT_MOUNTED;
		m->kmounted = 1;
		m->adopted = 1;
		m->volume = vol;
		m->loop = loop;
		if (mm_child_watch(m, &m->blfs, (pid_t)pid, 0,
		    on_blfs_exit) == -1) {
			log_warn("watching blfs %d of mount %s", (int)pid, id);
			mount_unref(m);
			continue;
		}
		if (!vol)
			mount_stats_reopen(m);
		mount_list_add(mm, m);
		mount_unref(m);
		log_info("mount %s: re-adopted %s at %s (blfs pid %d)", id,
		    drive, mp, (int)pid);
	}
	json_decref(arr);
	free(path);
	mm_save_state(mm);
}
