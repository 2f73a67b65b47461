/*
 * The workload identity token: a JWT whose payload carries the workload's
 * labels, optionally verified against a key, and kept current as the
 * platform rotates the file.
 */
#ifndef BL_TOKEN_H
#define BL_TOKEN_H

#include <stddef.h>

#include "common/labels.h"

/*
 * Hard bounds, checked before anything is allocated or decoded. A token
 * over any of them is rejected whole: labels are never truncated, since a
 * partial label set could match a rule the full one would not.
 */
#define TOKEN_MAX_BYTES		(16 * 1024) /* the token as read */
#define TOKEN_HEADER_MAX	1024	/* decoded header */
#define TOKEN_PAYLOAD_MAX	(8 * 1024) /* decoded payload */
#define TOKEN_JSON_DEPTH_MAX	8	/* nesting of arrays and objects */
#define TOKEN_LABELS_MAX	64	/* entries in "labels" */
#define TOKEN_LABEL_KEY_MAX	63	/* bytes; keys are never empty */
#define TOKEN_LABEL_VALUE_MAX	256	/* bytes; values may be empty */
#define TOKEN_KEY_FILE_MAX	(64 * 1024)
#define TOKEN_HMAC_MIN		32	/* RFC 7518: key >= hash size */
#define TOKEN_RSA_MIN_BITS	2048
#define TOKEN_CLOCK_LEEWAY_S	60	/* for exp and nbf */

/*
 * A verification key. Its type alone chooses the one algorithm a token
 * may use with it; the token's "alg" header must name exactly that one.
 * So "none" is never accepted, and an RS256 or ES256 public key can never
 * be used as an HMAC secret (the classic alg confusion attack).
 */
enum token_alg {
	TOKEN_ALG_HS256,	/* HMAC secret: the key file's raw bytes */
	TOKEN_ALG_RS256,	/* PEM public key, RSA >= 2048 bits */
	TOKEN_ALG_ES256,	/* PEM public key, EC P-256 */
};

struct token_key;

/*
 * Load a key file (bounded to TOKEN_KEY_FILE_MAX). A file holding
 * "-----BEGIN" anywhere is PEM and must be a public key (SubjectPublicKeyInfo,
 * "BEGIN PUBLIC KEY") of RSA or EC P-256; it is never taken as an HMAC
 * secret, even if it fails to parse. Anything else is an HMAC secret,
 * taken byte for byte (a trailing newline is part of it), of at least
 * TOKEN_HMAC_MIN bytes. 0, or -1 with *cause.
 */
int		 token_key_load(const char *path, struct token_key **key,
		     char **cause);
/* The same from the bytes of a key file. */
int		 token_key_parse(const void *buf, size_t len,
		     struct token_key **key, char **cause);
/* An HMAC (HS256) key from memory, of any length; for tests and fuzzers. */
struct token_key *token_key_hmac_new(const void *secret, size_t len);
enum token_alg	 token_key_alg(const struct token_key *);
/* "HS256", "RS256" or "ES256". */
const char	*token_alg_name(enum token_alg);
void		 token_key_free(struct token_key *);

/*
 * Parse a token (surrounding whitespace ignored) and fill *out with the
 * labels of its payload: the "labels" member, an object of strings
 * (absent means no labels). With a key, the signature is verified, the
 * header's "alg" must be the key's algorithm, a "crit" header is refused,
 * and "exp" and "nbf", when present, must hold at the current time (with
 * TOKEN_CLOCK_LEEWAY_S). Without a key (key NULL) nothing is verified:
 * the file's custody is the only trust, so the clock is not consulted
 * either; "exp" and "nbf" must still be numbers when present.
 *
 * Returns 0 with *out replaced, or -1 with *cause and *out left empty:
 * a rejected token gives no labels at all. *cause never quotes the token,
 * its labels or its claims, so it may be logged.
 */
int		 token_parse(const char *buf, size_t len,
		     const struct token_key *key, struct labels *out,
		     char **cause);

/*
 * The agent's view of the token file across rotations. Labels come from
 * the last good token; a missing file means no labels.
 */
struct token_state;

/* path is copied; key (may be NULL) is owned by the state from now on. */
struct token_state *token_state_new(const char *path, struct token_key *key);
void		 token_state_free(struct token_state *);

/*
 * Re-read the file (regular file, at most TOKEN_MAX_BYTES, never blocking
 * on a FIFO). Returns 1 when the labels changed, 0 when not, -1 when the
 * file could not be read or its token was rejected: the last good labels
 * are kept and *cause says why (in words fit for a log: no token bytes).
 * A file that does not exist is not an error: the labels become empty.
 */
int		 token_state_reload(struct token_state *, char **cause);

/*
 * The labels in force; never NULL. With a key, the labels of a token
 * whose "exp" has passed are no longer returned (an empty set is), even
 * before the file changes.
 */
const struct labels *token_state_labels(const struct token_state *);
/* Whether the last reload found a file (good or not). */
int		 token_state_present(const struct token_state *);

/*
 * An inotify fd (non-blocking, close-on-exec, owned by the state) on the
 * token's directory: rotation replaces the file (rename, create, write,
 * delete) or, as kubernetes projects secrets, swaps a "..data" symlink;
 * the file itself is never watched, since its inode goes away on each
 * rotation. -1 with errno when the directory cannot be watched (it may
 * appear later: call again). Created once; later calls return the same fd.
 */
int		 token_state_watch_fd(struct token_state *);

/*
 * Call when the watch fd is readable: drains its events and reloads when
 * one concerns the token. Returns 1 when the labels changed, 0 when not,
 * -1 with *cause when a new token was refused (labels kept, as reload).
 */
int		 token_state_on_watch(struct token_state *, char **cause);

#endif
