/* A tiny TAP harness for the permission and token unit tests. */
#ifndef BL_TESTS_TAP_H
#define BL_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static void __attribute__((format(printf, 2, 3)))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
}

/* Compare strings, saying what was expected and what came. */
static void __attribute__((unused))
tap_is_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	tap_ok(same, "%s%s%s%s%s%s", name, same ? "" : ": expected \"",
	    same ? "" : (want != NULL ? want : "(null)"),
	    same ? "" : "\", got \"",
	    same ? "" : (got != NULL ? got : "(null)"), same ? "" : "\"");
}

static void __attribute__((unused))
tap_is_int(long long got, long long want, const char *name)
{
	if (got == want)
		tap_ok(1, "%s", name);
	else
		tap_ok(0, "%s: expected %lld, got %lld", name, want, got);
}

static void __attribute__((unused))
tap_diag(const char *s)
{
	printf("# %s\n", s);
}

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
