/* Ceph's client libraries, loaded on first use (cephlib.h). */
#include "config.h"

#ifdef HAVE_CEPH

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "common/util.h"
/* The table itself is filled here: no call goes through it. */
#define CEPHLIB_NO_MACROS
#include "mountmgr/cephlib.h"

struct cephlib cephlib;

static pthread_mutex_t cephlib_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Resolves into the table; each pointer is written before any caller
 * reads it (callers load first), and loading twice finds the same.
 */
static int
cephlib_open(const char *lib, const char *pkg, int *done,
    int (*resolve)(void *, char **), char **cause)
{
	void *h;
	int r = 0;

	pthread_mutex_lock(&cephlib_lock);
	if (!*done) {
		if ((h = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL)
			r = cause_fail(cause, -ENOENT, "cannot load %s "
			    "(apt-get install %s): %s", lib, pkg, dlerror());
		else if ((r = resolve(h, cause)) == 0)
			*done = 1;
	}
	pthread_mutex_unlock(&cephlib_lock);
	return r;
}

#undef CEPHLIB_SYM
#define CEPHLIB_SYM(f)							\
	if ((*(void **)&cephlib.f = dlsym(h, #f)) == NULL)		\
		return cause_fail(cause, -ENOENT, "Ceph's library has no "	\
		    "%s", #f);

static int
cephlib_resolve_fs(void *h, char **cause)
{
	CEPHLIB_FS(CEPHLIB_SYM)
	return 0;
}

static int
cephlib_resolve_rados(void *h, char **cause)
{
	CEPHLIB_RADOS(CEPHLIB_SYM)
	return 0;
}

int
cephlib_load_fs(char **cause)
{
	static int done;

	return cephlib_open("libcephfs.so.2", "libcephfs2", &done,
	    cephlib_resolve_fs, cause);
}

int
cephlib_load_rados(char **cause)
{
	static int done;

	return cephlib_open("librados.so.2", "librados2", &done,
	    cephlib_resolve_rados, cause);
}

#endif /* HAVE_CEPH */
