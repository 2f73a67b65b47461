/* System calls the security tests try, each with harmless arguments. */
#ifndef BL_PROBE_CALLS_H
#define BL_PROBE_CALLS_H

/*
 * Make the call called name. 0 with *err = 0 (it worked) or its errno;
 * -1 if there is no such probe. Values for "securebits" go to stdout.
 */
int	probe_call(const char *name, int *err);

/* Print every probe's name, one a line. */
void	probe_list(void);

#endif
