/* Small helpers shared by every program: time, fds, numbers, cleanup. */
#ifndef BL_UTIL_H
#define BL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Scope cleanup for locals in functions with many exits (setup and
 * confinement code). Never for struct fields.
 */
static inline void
cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void
cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_fd __attribute__((cleanup(cleanup_closep)))

static inline void *
steal_pointer_impl(void **pp)
{
	void *p = *pp;

	*pp = NULL;
	return p;
}
#define steal_pointer(pp) steal_pointer_impl((void **)(pp))

static inline int
steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

uint64_t now_ms_real(void);
uint64_t now_ms_mono(void);

int	fd_set_nonblock(int fd);
int	fd_set_cloexec(int fd, int on);

/* Blocking helpers for clients and children, retrying on EINTR. */
ssize_t	read_full(int fd, void *buf, size_t len);
ssize_t	write_full(int fd, const void *buf, size_t len);
/* len bytes of data, with fd beside them (SCM_RIGHTS); 0 or -1. */
int	send_fd(int sock, const void *data, size_t len, int fd);

/*
 * getxattrat(2), Linux 6.13, which the C library headers of Debian 12 do
 * not know yet: the number every architecture shares since 424 (the
 * x86_64 and aarch64 ones this tree builds for), and its argument.
 */
#if !defined(SYS_getxattrat) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_getxattrat		464
#endif
struct bl_xattr_args {
	uint64_t	value;	/* a pointer, as the kernel's __aligned_u64 */
	uint32_t	size;
	uint32_t	flags;
};

/*
 * "/proc/self/fd/N", or "/proc/self/fd/N/NAME" (name not NULL, at most
 * NAME_MAX bytes): the magic link to exactly the file of fd, for the calls
 * that take no fd, or refuse an O_PATH one (chmod, getxattr, linkat...).
 */
struct proc_fd_path {
	char	s[sizeof("/proc/self/fd/") + 10 + 1 + 255];
};
const char *proc_fd_path(struct proc_fd_path *, int fd, const char *name);

/*
 * Fills *cause like xasprintf; a NULL cause means the caller wants no
 * words. Never fails: out of memory gives a fixed sentence.
 */
void	cause_set(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* cause_set, then err: "return cause_fail(cause, -ENOENT, ...);" */
int	cause_fail(char **cause, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* "prog: message" and "Try 'prog --help'." on stderr, then exit 2. */
void	usage_exit(const char *prog, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* An option's value that must be an absolute path; usage_exit otherwise. */
const char *arg_abs_path(const char *prog, const char *opt, const char *v);

/* "250ms", "30s", "2m", "1h"; a bare number is seconds. */
int	parse_duration_ms(const char *s, uint64_t *ms);
/* Decimal number within [0, max]; 0 on success, -1 otherwise. */
int	parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
