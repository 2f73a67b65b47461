/* A tiny TAP harness for the C unit tests. */
#ifndef BL_TESTS_TAP_H
#define BL_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n;
static int tap_failed;

static void __attribute__((format(printf, 2, 3), unused))
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

/* Strings: say what was expected and what came. */
static void __attribute__((unused))
tap_is_str(const char *got, const char *want, const char *name)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	if (same)
		tap_ok(1, "%s", name);
	else
		tap_ok(0, "%s: expected \"%s\", got \"%s\"", name,
		    want != NULL ? want : "(null)", got != NULL ? got : "(null)");
}

static void __attribute__((unused))
tap_is_int(long long got, long long want, const char *name)
{
	if (got == want)
		tap_ok(1, "%s", name);
	else
		tap_ok(0, "%s: expected %lld, got %lld", name, want, got);
}

/* s contains sub (a cause that names the field, the path...). */
static void __attribute__((unused))
tap_has(const char *s, const char *sub, const char *name)
{
	if (s != NULL && strstr(s, sub) != NULL)
		tap_ok(1, "%s", name);
	else
		tap_ok(0, "%s: expected text containing \"%s\", got \"%s\"",
		    name, sub, s != NULL ? s : "(null)");
}

static void __attribute__((unused, format(printf, 1, 2)))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
