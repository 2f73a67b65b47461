/* TAP: the handoff's mountinfo parser, argv builder and request sizes. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountmgr/handoff.h"

static int test_n, test_failed;

static void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++test_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		test_failed = 1;
}

static const char text[] =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "60 25 0:50 / /mnt/ro rw,nosuid,nodev,relatime shared:30 - fuse.blfs "
    "media rw,user_id=0,group_id=0,default_permissions,allow_other\n"
    "61 60 0:51 / /mnt/ro ro,nosuid,nodev,relatime shared:31 - fuse.blfs "
    "media2 ro,user_id=0,group_id=0,default_permissions,allow_other\n"
    /* no optional fields at all */
    "62 25 0:52 / /mnt/with\\040space\\011tab\\134 rw,nosuid,nodev - "
    "fuse.blfs my\\040drive rw,user_id=0\n"
    "63 25 0:53 / /mnt/covered rw,nosuid,nodev shared:40 master:2 - "
    "fuse.blfs d rw\n"
    "64 63 0:54 / /mnt/covered rw shared:41 - tmpfs tmpfs rw\n"
    "65 25 0:55 / /mnt/plain rw,relatime shared:42 - tmpfs tmpfs rw\n"
    "garbage line without fields\n"
    "66 25 0:56 / /mnt/trunc rw - fuse.blfs\n"
    "67 25 0:57 / /mnt/esc\\04 rw shared:43 - fuse.blfs e rw\n"
    "68 25 0:58 / /mnt/last rw,nosuid,nodev - fuse.blfs last rw";

int
main(void)
{
	struct handoff_blfs_args a;
	struct handoff_mountinfo mi;
	char **argv, joined[1024];
	size_t i;
	int r;

	printf("1..30\n");

	r = handoff_mountinfo_parse(text, "/mnt/ro", &mi);
	ok(r == 1 && mi.found, "stacked blfs mounts: found, got %d", r);
	ok(mi.read_only && mi.nosuid && mi.nodev,
	    "the topmost of two mounts at one path is reported (ro)");
	ok(strcmp(mi.source, "media2") == 0,
	    "source of the topmost mount: expected media2, got %s", mi.source);
	ok(mi.mount_id == 61 && mi.dev_major == 0 && mi.dev_minor == 51,
	    "mount id and connection: expected 61 0:51, got %u %u:%u",
	    mi.mount_id, mi.dev_major, mi.dev_minor);

	r = handoff_mountinfo_parse(text, "/mnt/with space\ttab\\", &mi);
	ok(r == 1, "\\040, \\011 and \\134 in a mount point decode: got %d", r);
	ok(strcmp(mi.source, "my drive") == 0,
	    "escaped source decodes: got '%s'", mi.source);
	ok(!mi.read_only && mi.nosuid && mi.nodev,
	    "rw,nosuid,nodev read from per-mount options");
	r = handoff_mountinfo_parse(text, "/mnt/with\\040space\\011tab\\134",
	    &mi);
	ok(r == 0, "the escaped spelling itself is not a match: got %d", r);

	r = handoff_mountinfo_parse(text, "/mnt/covered", &mi);
	ok(r == 2 && !mi.found,
	    "a blfs mount covered by tmpfs reads as other (2): got %d", r);
	r = handoff_mountinfo_parse(text, "/mnt/plain", &mi);
	ok(r == 2, "a plain tmpfs mount is other (2): got %d", r);
	r = handoff_mountinfo_parse(text, "/mnt/none", &mi);
	ok(r == 0 && !mi.found, "nothing mounted: 0, got %d", r);
	r = handoff_mountinfo_parse(text, "/mnt/trunc", &mi);
	ok(r == 0, "a line cut after the fstype is skipped: got %d", r);
	r = handoff_mountinfo_parse(text, "/mnt/esc\\04", &mi);
	ok(r == 1, "a short escape at a field's end stays literal: got %d", r);
	r = handoff_mountinfo_parse(text, "/mnt/last", &mi);
	ok(r == 1 && strcmp(mi.source, "last") == 0,
	    "a last line without newline parses: got %d", r);
	r = handoff_mountinfo_parse(text, "/mnt", &mi);
	ok(r == 0, "a prefix of a mount point is no match: got %d", r);
	r = handoff_mountinfo_parse("", "/mnt/ro", &mi);
	ok(r == 0, "empty text: 0, got %d", r);
	r = handoff_mountinfo_parse(
	    "70 25 0:60 / /mnt/nul\\000x rw - fuse.blfs d rw\n", "/mnt/nul",
	    &mi);
	ok(r == 0, "an escaped NUL never matches a shorter path: got %d", r);

	r = handoff_mountinfo_parse_fs(
	    "80 25 7:3 / /mnt/vol rw,nosuid,nodev,relatime - ext4 /dev/loop3 rw\n",
	    "/mnt/vol", "ext4", &mi);
	ok(r == 1 && strcmp(mi.source, "/dev/loop3") == 0 && mi.nosuid &&
	    !mi.read_only, "a volume's ext4 is found by its fstype, source "
	    "the loop device: got %d %s", r, mi.source);
	r = handoff_mountinfo_parse(
	    "80 25 7:3 / /mnt/vol rw,nosuid,nodev,relatime - ext4 /dev/loop3 rw\n",
	    "/mnt/vol", &mi);
	ok(r == 2, "and is other (2) to the blfs look-up: got %d", r);

	memset(&a, 0, sizeof(a));
	a.blfs_path = "/usr/libexec/blfs";
	a.fuse_fd = 5;
	a.root_fd = 6;
	a.status_fd = 7;
	a.lock_fd = -1;
	a.mounts_fd = a.stats_fd = a.usage_fd = -1;
	a.drive = "--read-only";
	a.session_id = "s1";
	a.mount_path = "/mnt/x y";
	a.read_only = 1;
	a.buffer_size = 65536;
	a.cache_size = HANDOFF_UNSET;
	a.writeback = 1;
	argv = handoff_blfs_argv(&a);
	joined[0] = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		strcat(joined, i ? "|" : "");
		strcat(joined, argv[i]);
	}
	ok(strcmp(joined, "/usr/libexec/blfs|--fuse-fd=5|--root-fd=6|"
	    "--status-fd=7|--drive=--read-only|--session=s1|"
	    "--mount-path=/mnt/x y|--read-only|--buffer-size=65536") == 0,
	    "argv: one word per option, no writeback when read-only, "
	    "unset sizes left out: got %s", joined);
	ok(argv[i] == NULL && i == 9, "argv is NULL-terminated after 9 words");
	handoff_argv_free(argv);
	a.read_only = 0;
	a.status_fd = -1;
	a.lock_fd = 9;
	a.mounts_fd = 10;
	a.cache_size = 0;
	a.prefetch = 4096;
	a.log_level = "debug";
	argv = handoff_blfs_argv(&a);
	joined[0] = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		strcat(joined, i ? "|" : "");
		strcat(joined, argv[i]);
	}
	ok(strstr(joined, "--lock-fd=9") != NULL &&
	    strstr(joined, "--mounts-fd=10") != NULL &&
	    strstr(joined, "--status-fd") == NULL,
	    "lock and mounts fds passed, absent status fd left out: %s",
	    joined);
	ok(strstr(joined, "--writeback") != NULL &&
	    strstr(joined, "--prefetch=4096") != NULL &&
	    strstr(joined, "--log-level=debug") != NULL,
	    "writeback, prefetch and log level passed: %s", joined);
	ok(strstr(joined, "--cache-size") == NULL,
	    "a cache size of 0 means not given: %s", joined);
	handoff_argv_free(argv);
	handoff_argv_free(NULL);
	a.volume_fd = 11;
	argv = handoff_blfs_argv(&a);
	joined[0] = '\0';
	for (i = 0; argv[i] != NULL; i++) {
		strcat(joined, i ? "|" : "");
		strcat(joined, argv[i]);
	}
	ok(strstr(joined, "--volume-fd=11") != NULL &&
	    strstr(joined, "--fuse-fd") == NULL &&
	    strstr(joined, "--root-fd") == NULL,
	    "a volume's holder gets --volume-fd, no FUSE fds: %s", joined);
	handoff_argv_free(argv);

	ok(handoff_request_size(1) == 4096, "tiny buffer size rounds up to 4 KiB");
	ok(handoff_request_size(100000) == 98304,
	    "buffer size rounds down to pages: got %u",
	    handoff_request_size(100000));
	ok(handoff_request_size(1ULL << 40) == 1024 * 1024,
	    "huge buffer size caps at 1 MiB");

	{
		char *s = handoff_describe(HANDOFF_MOUNT, 1, "/mnt/x");

		ok(strstr(s, "mount(2)") != NULL && strstr(s, "/mnt/x") &&
		    strstr(s, "Operation not permitted"),
		    "describe names step, path and error: %s", s);
		free(s);
		s = handoff_describe(HANDOFF_OPEN_DEV, 2, "/mnt/y");
		ok(strstr(s, "/dev/fuse") != NULL && strstr(s, "/mnt/y"),
		    "describe names /dev/fuse: %s", s);
		free(s);
	}
	return test_failed;
}
