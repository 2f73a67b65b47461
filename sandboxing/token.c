/*
 * The workload identity token: JWT decoding under hard bounds, signature
 * verification with libcrypto (loaded only once a key needs it), and the
 * rotating token file.
 *
 * Custody: the token is a credential. Nothing here logs it, copies it
 * into a cause, or keeps it after parsing; the read buffer is wiped.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/labels.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "sandboxing/libcrypto.h"
#include "sandboxing/token.h"

/* RSA signatures are the modulus size; 8192 bits is as large as we take. */
#define TOKEN_SIG_MAX	1024

struct token_key {
	enum token_alg	 alg;
	unsigned char	*secret;	/* HS256 */
	size_t		 secret_len;
	EVP_PKEY	*pkey;		/* RS256, ES256 */
};

struct token_state {
	char			*path;
	char			*dir;	/* watched: rotation replaces the file */
	char			*base;
	struct token_key	*key;
	struct labels		 labels; /* of the last good token */
	int64_t			 exp;	/* its "exp" when verified, else 0 */
	int			 present;
	int			 wfd;	/* inotify fd, -1 until asked for */
	int			 wd;	/* watch on dir, -1 when lost */
};

static const struct labels token_no_labels = { 0, NULL };

/* Set by the first key that needs libcrypto; NULL in an agent without. */
static const struct libcrypto *lc;

/* Maps libcrypto on the first call. 0, or -1 with *cause. */
static int
token_crypto(char **cause)
{
	if (lc == NULL && (lc = libcrypto_load(cause)) == NULL)
		return -1;
	return 0;
}

static const char *const token_alg_names[] = {
	[TOKEN_ALG_HS256] = "HS256",
	[TOKEN_ALG_RS256] = "RS256",
	[TOKEN_ALG_ES256] = "ES256",
};

const char *
token_alg_name(enum token_alg alg)
{
	if ((size_t)alg >= nitems(token_alg_names))
		return "?";
	return token_alg_names[alg];
}

/*
 * Read a whole file of at most max bytes into a fresh buffer. The open
 * follows symlinks (kubernetes projects the token through two of them)
 * but never blocks: a FIFO planted at the path is refused, not waited on.
 * Returns 0, -ENOENT when there is no such file (no cause), or another
 * -errno with *cause.
 */
static int
token_read_file(const char *path, size_t max, unsigned char **out,
    size_t *outlen, char **cause)
{
	cleanup_fd int fd = -1;
	struct stat st;
	unsigned char *buf;
	ssize_t n;
	int saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		saved = errno;
		if (saved == ENOENT || saved == ENOTDIR)
			return -ENOENT;
		xasprintf(cause, "%s: %s", path, strerror(saved));
		return -saved;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		xasprintf(cause, "%s: %s", path, strerror(saved));
		return -saved;
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		xasprintf(cause, "%s: larger than %zu bytes", path, max);
		return -EFBIG;
	}
	/* One byte more than allowed, to notice a file that grew meanwhile. */
	buf = xmalloc(max + 1);
	n = read_full(fd, buf, max + 1);
	if (n < 0) {
		saved = errno;
		explicit_bzero(buf, max + 1);
		free(buf);
		xasprintf(cause, "%s: %s", path, strerror(saved));
		return -saved;
	}
	if ((size_t)n > max) {
		explicit_bzero(buf, max + 1);
		free(buf);
		xasprintf(cause, "%s: larger than %zu bytes", path, max);
		return -EFBIG;
	}
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

static void
token_wipe_free(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
}

void
token_key_free(struct token_key *key)
{
	if (key == NULL)
		return;
	token_wipe_free(key->secret, key->secret_len);
	if (key->pkey != NULL)	/* then lc was loaded to make it */
		lc->EVP_PKEY_free(key->pkey);
	free(key);
}

struct token_key *
token_key_hmac_new(const void *secret, size_t len)
{
	struct token_key *key = xcalloc(1, sizeof(*key));

	key->alg = TOKEN_ALG_HS256;
	key->secret = xmalloc(len > 0 ? len : 1);
	memcpy(key->secret, secret, len);
	key->secret_len = len;
	return key;
}

enum token_alg
token_key_alg(const struct token_key *key)
{
	return key->alg;
}

/* A PEM public key, and the one algorithm its type allows. */
static int
token_key_from_pem(const unsigned char *buf, size_t len,
    struct token_key *key, char **cause)
{
	BIO *bio;
	EVP_PKEY *pkey;
	char group[64];

	bio = lc->BIO_new_mem_buf(buf, (int)len);
	if (bio == NULL) {
		xasprintf(cause, "out of memory reading the key");
		return -1;
	}
	pkey = lc->PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	lc->BIO_free(bio);
	lc->ERR_clear_error();
	if (pkey == NULL) {
		if (memmem(buf, len, "PRIVATE KEY", 11) != NULL)
			xasprintf(cause, "holds a private key; give the public "
			    "key (openssl pkey -pubout)");
		else
			xasprintf(cause, "is PEM but holds no public key "
			    "(expected BEGIN PUBLIC KEY)");
		return -1;
	}

	switch (lc->EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (lc->EVP_PKEY_get_bits(pkey) < TOKEN_RSA_MIN_BITS) {
			xasprintf(cause, "RSA key of %d bits; at least %d "
			    "needed", lc->EVP_PKEY_get_bits(pkey),
			    TOKEN_RSA_MIN_BITS);
			break;
		}
		key->alg = TOKEN_ALG_RS256;
		key->pkey = pkey;
		return 0;
	case EVP_PKEY_EC:
		if (lc->EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    NULL) != 1 || (strcmp(group, "prime256v1") != 0 &&
		    strcmp(group, "P-256") != 0)) {
			lc->ERR_clear_error();
			xasprintf(cause, "EC key not on curve P-256 (ES256)");
			break;
		}
		key->alg = TOKEN_ALG_ES256;
		key->pkey = pkey;
		return 0;
	default:
		xasprintf(cause, "public key is neither RSA nor EC P-256");
		break;
	}
	lc->EVP_PKEY_free(pkey);
	return -1;
}

int
token_key_parse(const void *data, size_t len, struct token_key **keyp,
    char **cause)
{
	const unsigned char *buf = data;
	struct token_key *key;

	if (len > TOKEN_KEY_FILE_MAX) {
		xasprintf(cause, "larger than %d bytes", TOKEN_KEY_FILE_MAX);
		return -1;
	}
	/* Every key verifies through libcrypto: fail now, not per token. */
	if (token_crypto(cause) == -1)
		return -1;
	key = xcalloc(1, sizeof(*key));
	/*
	 * Anything that looks like PEM is a public key or an error, never
	 * an HMAC secret: otherwise a public key file that fails to parse
	 * would become a secret the whole world knows, and alg confusion
	 * would be back by the side door.
	 */
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if (token_key_from_pem(buf, len, key, cause) != 0) {
			token_key_free(key);
			return -1;
		}
	} else {
		if (len < TOKEN_HMAC_MIN) {
			xasprintf(cause, "HMAC secret of %zu bytes; at least "
			    "%d needed", len, TOKEN_HMAC_MIN);
			token_key_free(key);
			return -1;
		}
		key->alg = TOKEN_ALG_HS256;
		key->secret = xmalloc(len);
		memcpy(key->secret, buf, len);
		key->secret_len = len;
	}
	*keyp = key;
	return 0;
}

int
token_key_load(const char *path, struct token_key **keyp, char **cause)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	char *why = NULL;
	int rc;

	rc = token_read_file(path, TOKEN_KEY_FILE_MAX, &buf, &len, &why);
	if (rc == -ENOENT) {
		xasprintf(cause, "token key %s: no such file", path);
		return -1;
	}
	if (rc != 0) {
		xasprintf(cause, "token key %s", why);
		free(why);
		return -1;
	}
	rc = token_key_parse(buf, len, keyp, &why);
	token_wipe_free(buf, TOKEN_KEY_FILE_MAX + 1);
	if (rc != 0) {
		xasprintf(cause, "token key %s: %s", path, why);
		free(why);
		return -1;
	}
	return 0;
}

static int
token_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * base64url (RFC 4648 section 5) without padding, tolerating padding.
 * The decoded size is checked against max before any allocation.
 * Returns 0, -1 for bad base64, -2 for a result larger than max.
 */
static int
token_b64url_decode(const char *s, size_t len, size_t max,
    unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t pad = 0, n, i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	while (len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 2 || (pad > 0 && (len + pad) % 4 != 0) || len % 4 == 1)
		return -1;
	n = len / 4 * 3 + (len % 4 != 0 ? len % 4 - 1 : 0);
	if (n > max)
		return -2;
	buf = xmalloc(n + 1);
	for (i = 0; i < len; i++) {
		if ((v = token_b64_value((unsigned char)s[i])) < 0) {
			free(buf);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
}

/*
 * Nesting depth, counted before jansson sees the text, so a deeply nested
 * payload costs one linear scan and no recursion.
 */
static int
token_json_depth_ok(const unsigned char *p, size_t n)
{
	int depth = 0, in_str = 0, esc = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"')
				in_str = 0;
			continue;
		}
		if (p[i] == '"')
			in_str = 1;
		else if (p[i] == '[' || p[i] == '{') {
			if (++depth > TOKEN_JSON_DEPTH_MAX)
				return 0;
		} else if (p[i] == ']' || p[i] == '}')
			depth--;
	}
	return 1;
}

/* Decode one part into a JSON object; what is the part's name for causes. */
static json_t *
token_part_json(const char *s, size_t len, size_t max, const char *what,
    char **cause)
{
	unsigned char *buf;
	size_t n;
	json_error_t jerr;
	json_t *j;
	int rc;

	rc = token_b64url_decode(s, len, max, &buf, &n);
	if (rc == -2) {
		xasprintf(cause, "token %s is larger than %zu bytes", what,
		    max);
		return NULL;
	}
	if (rc != 0) {
		xasprintf(cause, "token %s is not base64url", what);
		return NULL;
	}
	if (!token_json_depth_ok(buf, n)) {
		token_wipe_free(buf, n);
		xasprintf(cause, "token %s nests deeper than %d", what,
		    TOKEN_JSON_DEPTH_MAX);
		return NULL;
	}
	j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
	token_wipe_free(buf, n);
	if (j == NULL) {
		/* jerr.text quotes the input: only the position may be told. */
		xasprintf(cause, "token %s is not valid JSON (at byte %d)",
		    what, jerr.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		xasprintf(cause, "token %s is not a JSON object", what);
		return NULL;
	}
	return j;
}

/* ES256 signatures are r||s; libcrypto verifies DER. */
static int
token_es256_der(const unsigned char *sig, unsigned char **der, int *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;

	es = lc->ECDSA_SIG_new();
	r = lc->BN_bin2bn(sig, 32, NULL);
	s = lc->BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL ||
	    lc->ECDSA_SIG_set0(es, r, s) != 1) {
		lc->BN_free(r);
		lc->BN_free(s);
		lc->ECDSA_SIG_free(es);
		return -1;
	}
	*der = NULL;
	*derlen = lc->i2d_ECDSA_SIG(es, der);
	lc->ECDSA_SIG_free(es);
	return *derlen > 0 ? 0 : -1;
}

static int
token_verify_sig(const struct token_key *key, const char *input,
    size_t inlen, const unsigned char *sig, size_t siglen, char **cause)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int derlen = 0, ok = 0;

	/* A key made by token_key_hmac_new has not loaded it yet. */
	if (token_crypto(cause) == -1)
		return -1;
	switch (key->alg) {
	case TOKEN_ALG_HS256:
		if (siglen != 32)
			break;
		if (lc->HMAC(lc->EVP_sha256(), key->secret,
		    (int)key->secret_len, (const unsigned char *)input, inlen,
		    md, &mdlen) == NULL ||
		    mdlen != 32)
			break;
		ok = lc->CRYPTO_memcmp(md, sig, 32) == 0;
		explicit_bzero(md, sizeof(md));
		break;
	case TOKEN_ALG_RS256:
	case TOKEN_ALG_ES256:
		if (key->alg == TOKEN_ALG_RS256 &&
		    siglen != (size_t)lc->EVP_PKEY_get_size(key->pkey))
			break;
		if (key->alg == TOKEN_ALG_ES256) {
			if (siglen != 64 || token_es256_der(sig, &der,
			    &derlen) != 0)
				break;
			sig = der;
			siglen = (size_t)derlen;
		}
		if ((ctx = lc->EVP_MD_CTX_new()) == NULL)
			break;
		ok = lc->EVP_DigestVerifyInit(ctx, NULL, lc->EVP_sha256(),
		    NULL, key->pkey) == 1 && lc->EVP_DigestVerify(ctx, sig,
		    siglen, (const unsigned char *)input, inlen) == 1;
		lc->EVP_MD_CTX_free(ctx);
		lc->CRYPTO_free(der, OPENSSL_FILE, OPENSSL_LINE);
		break;
	}
	lc->ERR_clear_error();
	if (!ok) {
		xasprintf(cause, "token signature does not verify with the "
		    "%s key", token_alg_name(key->alg));
		return -1;
	}
	return 0;
}

/* A NumericDate claim: absent (0), or a number. */
static int
token_claim_time(const json_t *payload, const char *name, int *present,
    double *t, char **cause)
{
	json_t *v = json_object_get(payload, name);

	*present = 0;
	if (v == NULL)
		return 0;
	if (!json_is_number(v)) {
		xasprintf(cause, "token claim \"%s\" is not a number", name);
		return -1;
	}
	*present = 1;
	*t = json_number_value(v);
	return 0;
}

static int
token_check_header(const json_t *hdr, const struct token_key *key,
    char **cause)
{
	json_t *alg = json_object_get(hdr, "alg");

	if (key == NULL)
		return 0;
	/*
	 * The key decides the algorithm, the header only has to agree:
	 * "none", or HS256 against a public key, fails right here.
	 */
	if (!json_is_string(alg)) {
		xasprintf(cause, "token header has no \"alg\"");
		return -1;
	}
	if (strcmp(json_string_value(alg), token_alg_name(key->alg)) != 0) {
		xasprintf(cause, "token algorithm is not %s, the only one its "
		    "key allows", token_alg_name(key->alg));
		return -1;
	}
	if (json_object_get(hdr, "crit") != NULL) {
		xasprintf(cause, "token header has \"crit\" extensions");
		return -1;
	}
	return 0;
}

static int
token_labels(const json_t *payload, struct labels *out, char **cause)
{
	const char *k;
	json_t *lv, *v;
	size_t i = 0, klen;

	lv = json_object_get(payload, "labels");
	if (lv == NULL)
		return 0;
	if (!json_is_object(lv)) {
		xasprintf(cause, "token labels are not an object");
		return -1;
	}
	if (json_object_size(lv) > TOKEN_LABELS_MAX) {
		xasprintf(cause, "token has more than %d labels",
		    TOKEN_LABELS_MAX);
		return -1;
	}
	/* Causes count labels rather than name them: names are token bytes. */
	json_object_foreach(lv, k, v) {
		i++;
		klen = strlen(k);
		if (klen == 0 || klen > TOKEN_LABEL_KEY_MAX) {
			xasprintf(cause, "token label %zu has a key of %zu "
			    "bytes (1 to %d allowed)", i, klen,
			    TOKEN_LABEL_KEY_MAX);
			return -1;
		}
		if (!json_is_string(v)) {
			xasprintf(cause, "token label %zu is not a string", i);
			return -1;
		}
		if (json_string_length(v) > TOKEN_LABEL_VALUE_MAX) {
			xasprintf(cause, "token label %zu has a value longer "
			    "than %d bytes", i, TOKEN_LABEL_VALUE_MAX);
			return -1;
		}
		labels_set(out, k, json_string_value(v));
	}
	return 0;
}

/* token_parse, also telling the verified expiry (0 when none or unverified). */
static int
token_parse_exp(const char *buf, size_t len, const struct token_key *key,
    struct labels *out, int64_t *expp, char **cause)
{
	const char *d1, *d2, *end;
	json_t *hdr = NULL, *payload = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct labels l = { 0, NULL };
	double exp = 0, nbf = 0, now;
	int has_exp, has_nbf, rc = -1;

	labels_clear(out);
	*expp = 0;
	if (len > TOKEN_MAX_BYTES) {
		xasprintf(cause, "token is larger than %d bytes",
		    TOKEN_MAX_BYTES);
		return -1;
	}
	while (len > 0 && (buf[0] == ' ' || buf[0] == '\t' ||
	    buf[0] == '\n' || buf[0] == '\r')) {
		buf++;
		len--;
	}
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
	    buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		xasprintf(cause, "token is empty");
		return -1;
	}
	end = buf + len;
	d1 = memchr(buf, '.', len);
	d2 = d1 != NULL ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL) {
		xasprintf(cause, "token is not a JWT (header.payload."
		    "signature)");
		return -1;
	}

	if ((hdr = token_part_json(buf, (size_t)(d1 - buf), TOKEN_HEADER_MAX,
	    "header", cause)) == NULL)
		goto out;
	if ((payload = token_part_json(d1 + 1, (size_t)(d2 - d1 - 1),
	    TOKEN_PAYLOAD_MAX, "payload", cause)) == NULL)
		goto out;
	if (token_check_header(hdr, key, cause) != 0)
		goto out;
	if (key != NULL) {
		rc = token_b64url_decode(d2 + 1, (size_t)(end - d2 - 1),
		    TOKEN_SIG_MAX, &sig, &siglen);
		if (rc != 0) {
			xasprintf(cause, "token signature is %s", rc == -2 ?
			    "too large" : "not base64url");
			rc = -1;
			goto out;
		}
		rc = -1;
		if (token_verify_sig(key, buf, (size_t)(d2 - buf), sig, siglen,
		    cause) != 0)
			goto out;
	}

	if (token_claim_time(payload, "exp", &has_exp, &exp, cause) != 0 ||
	    token_claim_time(payload, "nbf", &has_nbf, &nbf, cause) != 0)
		goto out;
	/* Unverified, the claims prove nothing: custody is the only trust. */
	if (key != NULL) {
		now = (double)time(NULL);
		if (has_exp && now > exp + TOKEN_CLOCK_LEEWAY_S) {
			xasprintf(cause, "token has expired");
			goto out;
		}
		if (has_nbf && now + TOKEN_CLOCK_LEEWAY_S < nbf) {
			xasprintf(cause, "token is not valid yet (nbf)");
			goto out;
		}
		if (has_exp)
			*expp = exp > (double)INT64_MAX ? INT64_MAX :
			    (int64_t)exp;
	}

	if (token_labels(payload, &l, cause) != 0) {
		labels_clear(&l);
		goto out;
	}
	*out = l;
	rc = 0;
out:
	free(sig);
	json_decref(hdr);
	json_decref(payload);
	if (rc != 0)
		*expp = 0;
	return rc;
}

int
token_parse(const char *buf, size_t len, const struct token_key *key,
    struct labels *out, char **cause)
{
	int64_t exp;

	return token_parse_exp(buf, len, key, out, &exp, cause);
}

struct token_state *
token_state_new(const char *path, struct token_key *key)
{
	struct token_state *ts = xcalloc(1, sizeof(*ts));
	char *copy;

	ts->path = xstrdup(path);
	copy = xstrdup(path);
	ts->dir = xstrdup(dirname(copy));
	free(copy);
	copy = xstrdup(path);
	ts->base = xstrdup(basename(copy));
	free(copy);
	ts->key = key;
	ts->wfd = -1;
	ts->wd = -1;
	return ts;
}

void
token_state_free(struct token_state *ts)
{
	if (ts == NULL)
		return;
	if (ts->wfd >= 0)
		close(ts->wfd);
	labels_clear(&ts->labels);
	token_key_free(ts->key);
	free(ts->path);
	free(ts->dir);
	free(ts->base);
	free(ts);
}

static int
token_labels_equal(const struct labels *a, const struct labels *b)
{
	const char *v;

	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		v = labels_get(b, a->v[i].key);
		if (v == NULL || strcmp(v, a->v[i].value) != 0)
			return 0;
	}
	return 1;
}

int
token_state_reload(struct token_state *ts, char **cause)
{
	struct labels l = { 0, NULL };
	unsigned char *buf = NULL;
	size_t len = 0;
	char *why = NULL;
	int64_t exp;
	int rc, changed;

	rc = token_read_file(ts->path, TOKEN_MAX_BYTES, &buf, &len, &why);
	if (rc == -ENOENT) {
		/* No token, no labels: never the last token's. */
		changed = ts->labels.n != 0;
		labels_clear(&ts->labels);
		ts->exp = 0;
		ts->present = 0;
		return changed;
	}
	if (rc != 0) {
		xasprintf(cause, "token %s; keeping the last good labels", why);
		free(why);
		return -1;
	}
	ts->present = 1;
	rc = token_parse_exp((const char *)buf, len, ts->key, &l, &exp, &why);
	token_wipe_free(buf, TOKEN_MAX_BYTES + 1);
	if (rc != 0) {
		xasprintf(cause, "token %s: %s; keeping the last good labels",
		    ts->path, why);
		free(why);
		return -1;
	}
	changed = !token_labels_equal(&l, &ts->labels);
	labels_clear(&ts->labels);
	ts->labels = l;
	ts->exp = exp;
	return changed;
}

const struct labels *
token_state_labels(const struct token_state *ts)
{
	/* Subtracting from now: exp may be as large as INT64_MAX. */
	if (ts->exp != 0 && (int64_t)time(NULL) - TOKEN_CLOCK_LEEWAY_S >
	    ts->exp)
		return &token_no_labels;
	return &ts->labels;
}

int
token_state_present(const struct token_state *ts)
{
	return ts->present;
}

#define TOKEN_WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | \
	IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

int
token_state_watch_fd(struct token_state *ts)
{
	if (ts->wfd < 0) {
		ts->wfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ts->wfd < 0)
			return -1;
	}
	if (ts->wd < 0) {
		ts->wd = inotify_add_watch(ts->wfd, ts->dir, TOKEN_WATCH_MASK);
		if (ts->wd < 0)
			return -1;
	}
	return ts->wfd;
}

int
token_state_on_watch(struct token_state *ts, char **cause)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	uint32_t relevant = 0;
	struct stat st;
	ssize_t n;
	char *p;

	if (ts->wfd < 0)
		return 0;
	for (;;) {
		n = read(ts->wfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				relevant |= IN_Q_OVERFLOW;
			/* The directory itself went: reload, watch again. */
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
				relevant |= ev->mask & (IN_DELETE_SELF |
				    IN_MOVE_SELF);
				/* The watch follows the inode, not the path. */
				if (ts->wd >= 0 && (ev->mask & IN_MOVE_SELF)) {
					inotify_rm_watch(ts->wfd, ts->wd);
					ts->wd = -1;
				}
			}
			if ((ev->mask & IN_IGNORED) && ev->wd == ts->wd)
				ts->wd = -1;
			/*
			 * The token by name, or kubernetes' "..data" link,
			 * renamed over atomically when a projected secret
			 * rotates (the token name links through it).
			 */
			if (ev->len > 0 && (strcmp(ev->name, ts->base) == 0 ||
			    strcmp(ev->name, "..data") == 0))
				relevant |= ev->mask & TOKEN_WATCH_MASK;
		}
	}
	if (relevant == 0)
		return 0;
	if (ts->wd < 0)
		(void)token_state_watch_fd(ts);
	/*
	 * A writer that creates the file in place is seen empty first; its
	 * IN_CLOSE_WRITE follows, so do not call that an invalid token.
	 */
	if (relevant == IN_CREATE && stat(ts->path, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0)
		return 0;
	return token_state_reload(ts, cause);
}
