/*
 * Capabilities as masks: the bounding set, the three per-thread sets, the
 * ambient set and securebits. Every step here is checked and read back.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <linux/securebits.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "sandboxing/caps.h"

int
caps_last(void)
{
	static int last = -1;
	int c;

	if (last >= 0)
		return last;
	/*
	 * Ask the kernel, not libcap's headers: a newer kernel may know more
	 * capabilities than we were built with, and a bounding set must drop
	 * those too.
	 */
	for (c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) < 0)
			break;
	}
	last = c - 1;
	return last;
}

uint64_t
caps_all(void)
{
	int last = caps_last();

	if (last >= 63)
		return ~UINT64_C(0);
	return (CAPS_BIT(last + 1)) - 1;
}

int
caps_parse(const char *name, int *cap)
{
	const char *want = name;
	char *n;
	int c, last = caps_last();

	if (strncasecmp(want, "cap_", 4) == 0)
		want += 4;
	if (*want == '\0')
		return -1;
	for (c = 0; c <= last; c++) {
		if ((n = cap_to_name((cap_value_t)c)) == NULL)
			continue;
		if (strcasecmp(n + (strncasecmp(n, "cap_", 4) == 0 ? 4 : 0),
		    want) == 0) {
			cap_free(n);
			*cap = c;
			return 0;
		}
		cap_free(n);
	}
	return -1;
}

const char *
caps_name(int cap, char *buf, size_t len)
{
	char *n;
	size_t i;

	if ((n = cap_to_name((cap_value_t)cap)) == NULL ||
	    strncasecmp(n, "cap_", 4) != 0)
		snprintf(buf, len, "CAP_%d", cap);
	else {
		snprintf(buf, len, "%s", n);
		for (i = 0; buf[i] != '\0'; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
	}
	if (n != NULL)
		cap_free(n);
	return buf;
}

/* The three per-thread sets straight from capget(2). */
static int
caps_get(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof hdr);
	memset(data, 0, sizeof data);
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (capget(&hdr, data) != 0)
		return -1;
	if (eff != NULL)
		*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	if (perm != NULL)
		*perm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	if (inh != NULL)
		*inh = data[0].inheritable |
		    (uint64_t)data[1].inheritable << 32;
	return 0;
}

/*
 * The bounding set as this process last read or left it. Only the thread
 * itself can change its bounding set, and only shrink it, so once read
 * (or cut by caps_bound_limit) it stays exact in this thread and in every
 * child forked from it: a blfs child drops the few capabilities the
 * agent kept instead of asking the kernel about each one first.
 */
static uint64_t	caps_bnd_known;
static int	caps_bnd_valid;

/*
 * The bounding and ambient sets as the kernel shows them, in one read of
 * /proc/thread-self/status instead of two system calls per capability.
 * -1 when that is not procfs or says nothing of them: ask cap by cap.
 */
static int
caps_status_sets(uint64_t *bnd, uint64_t *amb)
{
	char buf[8192], *p, *q, *end;
	struct statfs sf;
	ssize_t n;
	int fd, got = 0;

	if ((fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstatfs(fd, &sf) == -1 || sf.f_type != PROC_SUPER_MAGIC ||
	    (n = read_full(fd, buf, sizeof(buf) - 1)) <= 0 ||
	    (size_t)n == sizeof(buf) - 1) {
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	if ((p = strstr(buf, "\nCapBnd:\t")) != NULL &&
	    (q = strstr(buf, "\nCapAmb:\t")) != NULL) {
		errno = 0;
		*bnd = strtoull(p + 9, &end, 16);
		got = errno == 0 && end == p + 9 + 16 && *end == '\n';
		*amb = strtoull(q + 9, &end, 16);
		got = got && errno == 0 && end == q + 9 + 16 && *end == '\n';
	}
	return got ? 0 : -1;
}

uint64_t
caps_bounding(void)
{
	uint64_t bnd = 0;
	int c, last = caps_last();

	for (c = 0; c <= last; c++) {
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) == 1)
			bnd |= CAPS_BIT(c);
	}
	caps_bnd_known = bnd;
	caps_bnd_valid = 1;
	return bnd;
}

uint64_t
caps_permitted(void)
{
	uint64_t perm;

	if (caps_get(NULL, &perm, NULL) != 0)
		return 0;
	return perm;
}

int
caps_bound_limit(uint64_t keep, char **cause)
{
	int c, last = caps_last();
	uint64_t now = caps_bnd_valid ? caps_bnd_known : caps_bounding();
	char name[32];

	for (c = 0; c <= last; c++) {
		if ((keep & CAPS_BIT(c)) || !(now & CAPS_BIT(c)))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) != 0) {
			xasprintf(cause, "dropping %s from the bounding "
			    "set: %s", caps_name(c, name, sizeof name),
			    strerror(errno));
			return -1;
		}
		caps_bnd_known &= ~CAPS_BIT(c);
	}
	return 0;
}

int
caps_secbits_set(unsigned long bits, char **cause)
{
	int got;

	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) {
		xasprintf(cause, "setting securebits %#lx: %s", bits,
		    strerror(errno));
		return -1;
	}
	if ((got = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)) < 0 ||
	    (unsigned long)got != bits) {
		xasprintf(cause, "securebits read back as %#x, not %#lx",
		    got, bits);
		return -1;
	}
	return 0;
}

int
caps_set(uint64_t perm, uint64_t inh, int trim, char **cause)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	uint64_t now, eff_got, perm_got, inh_got;

	if (caps_get(NULL, &now, NULL) != 0) {
		xasprintf(cause, "capget: %s", strerror(errno));
		return -1;
	}
	if (trim)
		perm &= now;
	inh &= perm;
	memset(&hdr, 0, sizeof hdr);
	memset(data, 0, sizeof data);
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = data[0].permitted = (uint32_t)perm;
	data[1].effective = data[1].permitted = (uint32_t)(perm >> 32);
	data[0].inheritable = (uint32_t)inh;
	data[1].inheritable = (uint32_t)(inh >> 32);
	if (capset(&hdr, data) != 0) {
		xasprintf(cause, "capset permitted %#llx inheritable %#llx: "
		    "%s", (unsigned long long)perm, (unsigned long long)inh,
		    strerror(errno));
		return -1;
	}
	if (caps_get(&eff_got, &perm_got, &inh_got) != 0 ||
	    eff_got != perm || perm_got != perm || inh_got != inh) {
		xasprintf(cause, "capabilities read back differ from "
		    "%#llx", (unsigned long long)perm);
		return -1;
	}
	return 0;
}

int
caps_ambient_set(uint64_t mask, char **cause)
{
	int c, last = caps_last();
	char name[32];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
		xasprintf(cause, "clearing the ambient set: %s",
		    strerror(errno));
		return -1;
	}
	for (c = 0; c <= last; c++) {
		if ((mask & CAPS_BIT(c)) == 0)
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
		    (unsigned long)c, 0, 0) != 0) {
			xasprintf(cause, "raising %s in the ambient set: %s",
			    caps_name(c, name, sizeof name), strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
caps_verify(uint64_t eff, uint64_t bnd, uint64_t amb, char **cause)
{
	uint64_t e, got_bnd, got_amb = 0;
	int c, last = caps_last();

	if (caps_get(&e, NULL, NULL) != 0) {
		xasprintf(cause, "capget: %s", strerror(errno));
		return -1;
	}
	if (caps_status_sets(&got_bnd, &got_amb) != 0) {
		got_bnd = caps_bounding();
		got_amb = 0;
		for (c = 0; c <= last; c++) {
			if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET,
			    (unsigned long)c, 0, 0) == 1)
				got_amb |= CAPS_BIT(c);
		}
	}
	if (e != eff || got_bnd != bnd || got_amb != amb) {
		xasprintf(cause, "capabilities are effective %#llx bounding "
		    "%#llx ambient %#llx, expected %#llx %#llx %#llx",
		    (unsigned long long)e, (unsigned long long)got_bnd,
		    (unsigned long long)got_amb, (unsigned long long)eff,
		    (unsigned long long)bnd, (unsigned long long)amb);
		return -1;
	}
	return 0;
}
