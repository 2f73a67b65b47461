/*
 * libcrypto through dlopen: mapped only once a token key asks for it, so
 * an agent that verifies nothing carries none of it.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>

#include "common/xmalloc.h"
#include "sandboxing/libcrypto.h"

static struct libcrypto	libcrypto_fns;
static int		libcrypto_ok;

const struct libcrypto *
libcrypto_open(const char *name, char **cause)
{
	struct libcrypto fns;
	const char *missing = NULL, *err;
	void *h;

	/* RTLD_NOW: a missing function fails here, not at the first token. */
	if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		xasprintf(cause, "%s could not be loaded (%s)", name,
		    err != NULL ? err : "no reason given");
		return NULL;
	}
	/* The assignment through void ** is the one POSIX's dlsym shows. */
#define LIBCRYPTO_SYM(fn)						\
	if (missing == NULL &&						\
	    (*(void **)&fns.fn = dlsym(h, #fn)) == NULL)		\
		missing = #fn;
	LIBCRYPTO_FNS(LIBCRYPTO_SYM)
#undef LIBCRYPTO_SYM
	if (missing != NULL) {
		xasprintf(cause, "%s has no function %s", name, missing);
		dlclose(h);
		return NULL;
	}
	/* Never closed: keys and their EVP_PKEYs live as long as we do. */
	libcrypto_fns = fns;
	libcrypto_ok = 1;
	return &libcrypto_fns;
}

const struct libcrypto *
libcrypto_load(char **cause)
{
	if (libcrypto_ok)
		return &libcrypto_fns;
	return libcrypto_open(LIBCRYPTO_SONAME, cause);
}

int
libcrypto_loaded(void)
{
	return libcrypto_ok;
}
