/* Drive permission rules: parsing (drive.json, command line) and evaluation. */
#ifndef BL_PERM_H
#define BL_PERM_H

#include <jansson.h>

#include "common/labels.h"

#define PERM_MAX_RULES 3
/* Bounds on a rule's labels (the token's labels share them: token.h). */
#define PERM_LABELS_MAX		64
#define PERM_LABEL_KEY_MAX	63
#define PERM_LABEL_VALUE_MAX	256

enum perm_mode { PERM_READ_WRITE = 0, PERM_READ = 1 };

struct perm_rule {
	struct labels	labels;		/* required, non-empty; all must match */
	enum perm_mode	mode;		/* default read-write */
	char		*path;		/* normalised, absolute; default "/" */
};

struct perm_rules {
	size_t			n;	/* 0..PERM_MAX_RULES; 0 = anyone may mount */
	struct perm_rule	rule[PERM_MAX_RULES];
};

struct perm_decision {
	int	rule;		/* index of the matching rule, -1 when none/no rules */
	enum perm_mode mode;	/* granted mode */
	char	path[4096];	/* the drive path the mount is confined to */
};

void	perm_rules_clear(struct perm_rules *);
/* "read" or "read-write", as drive.json spells it. */
const char *perm_mode_name(enum perm_mode);

/*
 * drive.json's "permissions" value (an array, or absent/null meaning no
 * rules). Returns 0, or -1 with *cause naming the rule and field.
 */
int	perm_rules_from_json(const json_t *arr, struct perm_rules *out,
	    char **cause);
json_t	*perm_rules_to_json(const struct perm_rules *);

/*
 * One command-line rule: 'K=V[,K=V...][:read|read-write[:/path]]'.
 * Appends to out (refusing a fourth rule). 0, or -1 with *cause.
 */
int	perm_rule_parse_cli(const char *spec, struct perm_rules *out,
	    char **cause);

/*
 * The mount-time decision. drive_path is the normalised path asked for
 * ("/" when not given). Returns 0 with *d filled (d->path is the drive
 * path to serve), or -EACCES with *cause saying which rule matched or that
 * none did, and why it refuses (d->rule then names the matched rule, or
 * is -1). drive_path is normalised again with paths_drive_path_normalise,
 * so the path judged is the one d->path hands back; one it refuses
 * (control characters, too long) is -EINVAL.
 */
int	perm_evaluate(const struct perm_rules *, const struct labels *workload,
	    int read_only, const char *drive_path, struct perm_decision *d,
	    char **cause);

/*
 * One line for the agent's log: drive, the labels the decision used (the
 * matched rule's, or the workload's when none matched), the rule and the
 * outcome. cause is perm_evaluate's (NULL when it allowed). Control
 * characters are escaped. The caller frees the string.
 */
char	*perm_decision_string(const char *drive, const struct perm_rules *,
	    const struct labels *workload, const struct perm_decision *d,
	    const char *cause);

#endif
