/*
 * The identity token: decoding under bounds, HS256/RS256/ES256 with keys
 * made here, the attacks a verifier must refuse, and rotation of the
 * token file seen through inotify.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/labels.h"
#include "common/xmalloc.h"
#include "sandboxing/libcrypto.h"
#include "sandboxing/token.h"
#include "tests/tap.h"

static char tmpdir[] = "/tmp/test-token.XXXXXX";
static const char hmac_secret[] = "0123456789abcdef0123456789abcdef-hs256";

static char *
b64url(const void *data, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	char *out = xmalloc(len / 3 * 4 + 5), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tbl[p[i] >> 2];
		*o++ = tbl[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tbl[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = tbl[p[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = tbl[p[i] >> 2];
		*o++ = tbl[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		*o++ = tbl[p[i] >> 2];
		*o++ = tbl[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tbl[(p[i + 1] & 15) << 2];
	}
	*o = '\0';
	return out;
}

/* "header64.payload64" from JSON texts. */
static char *
signing_input(const char *header, const char *payload)
{
	char *h = b64url(header, strlen(header));
	char *p = b64url(payload, strlen(payload));
	char *s;

	xasprintf(&s, "%s.%s", h, p);
	free(h);
	free(p);
	return s;
}

static char *
join_sig(char *input, const unsigned char *sig, size_t siglen)
{
	char *b = b64url(sig, siglen), *s;

	xasprintf(&s, "%s.%s", input, b);
	free(b);
	free(input);
	return s;
}

static char *
unsigned_token(const char *payload)
{
	return join_sig(signing_input("{\"alg\":\"none\"}", payload),
	    (const unsigned char *)"", 0);
}

static char *
hs256_token(const char *alg, const void *secret, size_t slen,
    const char *payload)
{
	unsigned char md[32];
	unsigned int mdlen = 32;
	char *hdr, *in;

	xasprintf(&hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	in = signing_input(hdr, payload);
	free(hdr);
	HMAC(EVP_sha256(), secret, (int)slen, (unsigned char *)in, strlen(in),
	    md, &mdlen);
	return join_sig(in, md, mdlen);
}

/* RS256 or ES256 (raw r||s unless der is set). */
static char *
pk_token(const char *alg, EVP_PKEY *pkey, const char *payload, int der)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024], raw[64];
	const unsigned char *sp = sig;
	size_t siglen = sizeof(sig);
	char *hdr, *in;
	ECDSA_SIG *es;

	xasprintf(&hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	in = signing_input(hdr, payload);
	free(hdr);
	EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey);
	EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)in, strlen(in));
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && !der) {
		es = d2i_ECDSA_SIG(NULL, &sp, (long)siglen);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		return join_sig(in, raw, 64);
	}
	return join_sig(in, sig, siglen);
}

static char *
write_tmp(const char *name, const void *data, size_t len)
{
	char *path;
	int fd;

	xasprintf(&path, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	close(fd);
	return path;
}

static char *
write_pubkey(const char *name, EVP_PKEY *pkey, char **pem, size_t *pemlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *path;
	long n;

	PEM_write_bio_PUBKEY(bio, pkey);
	n = BIO_get_mem_data(bio, &data);
	path = write_tmp(name, data, (size_t)n);
	if (pem != NULL) {
		*pem = xstrndup(data, (size_t)n);
		*pemlen = (size_t)n;
	}
	BIO_free(bio);
	return path;
}

static struct token_key *
load_key(const char *path)
{
	struct token_key *key = NULL;
	char *cause = NULL;

	if (token_key_load(path, &key, &cause) != 0) {
		printf("Bail out! key %s: %s\n", path, cause);
		exit(1);
	}
	return key;
}

/* Parse and expect labels "k=v,k=v" (in any order), or NULL for none. */
static void
accept(const char *name, const char *tok, const struct token_key *key,
    const char *want)
{
	struct labels l = { 0, NULL }, w = { 0, NULL };
	char *cause = NULL, *copy, *p, *item, *eq;
	int same;

	if (token_parse(tok, strlen(tok), key, &l, &cause) != 0) {
		tap_ok(0, "%s: expected acceptance, got \"%s\"", name, cause);
		free(cause);
		return;
	}
	if (want != NULL) {
		p = copy = xstrdup(want);
		while ((item = strsep(&p, ",")) != NULL) {
			eq = strchr(item, '=');
			*eq++ = '\0';
			labels_set(&w, item, eq);
		}
		free(copy);
	}
	same = l.n == w.n;
	for (size_t i = 0; same && i < w.n; i++) {
		const char *v = labels_get(&l, w.v[i].key);

		same = v != NULL && strcmp(v, w.v[i].value) == 0;
	}
	tap_ok(same && cause == NULL, "%s%s%s", name,
	    same ? "" : ": labels differ from ", same ? "" : want);
	labels_clear(&l);
	labels_clear(&w);
}

/*
 * Expect rejection: -1, a cause containing want, no labels left in out
 * (which starts with one), and no token bytes in the cause.
 */
static void
reject_len(const char *name, const char *tok, size_t len,
    const struct token_key *key, const char *want)
{
	struct labels l = { 0, NULL };
	char *cause = NULL;
	int rc;

	labels_set(&l, "stale", "label");
	rc = token_parse(tok, len, key, &l, &cause);
	if (rc != -1)
		tap_ok(0, "%s: expected rejection, got %d", name, rc);
	else if (cause == NULL || strstr(cause, want) == NULL)
		tap_ok(0, "%s: expected cause containing \"%s\", got \"%s\"",
		    name, want, cause != NULL ? cause : "(null)");
	else if (l.n != 0)
		tap_ok(0, "%s: rejected but %zu labels left", name, l.n);
	else if (strstr(cause, "SECRETMARK") != NULL ||
	    strstr(cause, "eyJ") != NULL)
		tap_ok(0, "%s: cause quotes the token: %s", name, cause);
	else
		tap_ok(1, "%s", name);
	free(cause);
	labels_clear(&l);
}

static void
reject(const char *name, const char *tok, const struct token_key *key,
    const char *want)
{
	reject_len(name, tok, strlen(tok), key, want);
}

#define LABELS "{\"labels\":{\"blaxel-workspace\":\"acme\"," \
	"\"blaxel-type\":\"sandbox\",\"blaxel-name\":\"sb-1\"," \
	"\"team\":\"backend\"}}"
#define WANT "blaxel-workspace=acme,blaxel-type=sandbox,blaxel-name=sb-1," \
	"team=backend"

static void
test_decoding(void)
{
	char *t, *big, *s;
	size_t i;

	t = unsigned_token(LABELS);
	accept("unverified_token_gives_payload_labels", t, NULL, WANT);
	free(t);

	/* Padding and surrounding whitespace, as files and tools leave them. */
	s = b64url(LABELS, strlen(LABELS));
	xasprintf(&t, "\n eyJhbGciOiJub25lIn0=.%s%s.\n\n", s,
	    strlen(s) % 4 == 2 ? "==" : strlen(s) % 4 == 3 ? "=" : "");
	accept("padding_and_whitespace_tolerated", t, NULL, WANT);
	free(t);
	free(s);

	t = unsigned_token("{\"sub\":\"x\"}");
	accept("token_without_labels_gives_none", t, NULL, NULL);
	free(t);
	t = unsigned_token("{\"labels\":{}}");
	accept("empty_labels_object_gives_none", t, NULL, NULL);
	free(t);
	t = unsigned_token("{\"labels\":{\"k\":\"\"},\"exp\":1}");
	accept("unverified_token_ignores_clock", t, NULL, "k=");
	free(t);

	t = unsigned_token("{\"labels\":[\"team\",\"backend\"]}");
	reject("labels_not_an_object_rejected", t, NULL, "labels are not an "
	    "object");
	free(t);
	t = unsigned_token("{\"labels\":\"team=backend\"}");
	reject("labels_string_rejected", t, NULL, "labels are not an object");
	free(t);
	t = unsigned_token("{\"labels\":{\"team\":\"SECRETMARK\",\"n\":5}}");
	reject("non_string_label_value_rejects_whole_token", t, NULL,
	    "token label 2 is not a string");
	free(t);
	t = unsigned_token("{\"labels\":{\"a\":{\"b\":\"c\"}}}");
	reject("object_label_value_rejected", t, NULL, "is not a string");
	free(t);
	t = unsigned_token("{\"labels\":{\"a\":\"1\",\"a\":\"2\"}}");
	reject("duplicate_label_key_rejected", t, NULL, "not valid JSON");
	free(t);
	t = unsigned_token("{\"labels\":{\"\":\"x\"}}");
	reject("empty_label_key_rejected", t, NULL, "key of 0 bytes");
	free(t);
	t = unsigned_token("{\"exp\":\"tomorrow\"}");
	reject("exp_not_a_number_rejected", t, NULL, "\"exp\" is not a "
	    "number");
	free(t);

	reject("bad_base64_rejected", "eyJhbGciOiJub25lIn0.e*J9.", NULL,
	    "payload is not base64url");
	reject("standard_base64_alphabet_rejected",
	    "eyJhbGciOiJub25lIn0.e+J9.", NULL, "not base64url");
	reject("impossible_base64_length_rejected",
	    "eyJhbGciOiJub25lIn0.eyJ9x.", NULL, "not base64url");
	s = b64url("{\"labels\":SECRETMARK}", 21);
	xasprintf(&t, "eyJhbGciOiJub25lIn0.%s.", s);
	reject("bad_json_rejected_without_quoting_it", t, NULL,
	    "payload is not valid JSON");
	free(t);
	free(s);
	reject("bad_header_json_rejected", "e30x.e30.", NULL,
	    "header is not");
	t = unsigned_token("[1,2]");
	reject("payload_array_rejected", t, NULL, "not a JSON object");
	free(t);
	reject("two_parts_rejected", "eyJhbGciOiJub25lIn0.e30", NULL,
	    "not a JWT");
	reject("four_parts_rejected", "eyJhbGciOiJub25lIn0.e30..", NULL,
	    "not a JWT");
	reject("empty_token_rejected", " \n", NULL, "token is empty");
	reject_len("nul_byte_rejected", "e30.e\0.", 7, NULL, "not base64url");

	/* Hard bounds. */
	big = xmalloc(1024 * 1024 + 1);
	memset(big, 'A', 1024 * 1024);
	big[1024 * 1024] = '\0';
	memcpy(big, "eyJhbGciOiJub25lIn0.", 20);
	big[1024 * 1024 - 1] = '.';
	reject("one_mib_token_rejected", big, NULL, "larger than 16384 bytes");
	free(big);

	big = xmalloc(2 * 1000 + 64);
	strcpy(big, "{\"labels\":{},\"x\":");
	for (i = 0; i < 1000; i++)
		strcat(big, "[");
	for (i = 0; i < 1000; i++)
		strcat(big, "]");
	strcat(big, "}");
	t = unsigned_token(big);
	reject("thousand_deep_nesting_rejected", t, NULL, "nests deeper than 8");
	free(t);
	free(big);
	t = unsigned_token("{\"labels\":{\"a\":\"[[[[[[[[[[[[[[[[[[[[[\"},"
	    "\"b\":[[[[[[[\"{{{{{{{{{{{{\"]]]]]]]}");
	accept("brackets_inside_strings_do_not_count_as_nesting", t, NULL,
	    "a=[[[[[[[[[[[[[[[[[[[[[");
	free(t);

	big = xmalloc(9000);
	strcpy(big, "{\"pad\":\"");
	memset(big + 8, 'x', 8300);
	strcpy(big + 8 + 8300, "\"}");
	t = unsigned_token(big);
	reject("payload_over_8k_rejected", t, NULL, "payload is larger than "
	    "8192 bytes");
	free(t);
	free(big);

	big = xmalloc(4096);
	strcpy(big, "{\"labels\":{");
	for (i = 0; i < 65; i++)
		sprintf(big + strlen(big), "%s\"k%zu\":\"v\"", i ? "," : "", i);
	strcat(big, "}}");
	t = unsigned_token(big);
	reject("sixty_five_labels_rejected", t, NULL, "more than 64 labels");
	free(t);
	strcpy(big, "{\"labels\":{\"");
	memset(big + 12, 'k', 64);
	strcpy(big + 12 + 64, "\":\"v\"}}");
	t = unsigned_token(big);
	reject("label_key_over_63_rejected", t, NULL, "key of 64 bytes");
	free(t);
	strcpy(big, "{\"labels\":{\"k\":\"");
	memset(big + 16, 'v', 257);
	strcpy(big + 16 + 257, "\"}}");
	t = unsigned_token(big);
	reject("label_value_over_256_rejected", t, NULL, "longer than 256");
	free(t);
	big[16 + 256] = '\0';
	strcat(big, "\"}}");
	t = unsigned_token(big);
	s = xmalloc(300);
	strcpy(s, "k=");
	memset(s + 2, 'v', 256);
	s[258] = '\0';
	accept("label_value_of_256_accepted", t, NULL, s);
	free(s);
	free(t);
	free(big);
}

static void
test_verification(void)
{
	struct token_key *hkey, *rkey, *ekey, *other;
	EVP_PKEY *rsa, *ec, *ec2;
	char *path, *t, *pem, *cause = NULL, payload[256];
	size_t pemlen;
	time_t now = time(NULL);

	path = write_tmp("hmac.key", hmac_secret, strlen(hmac_secret));
	hkey = load_key(path);
	tap_is_str(token_alg_name(token_key_alg(hkey)), "HS256",
	    "raw_secret_file_is_an_hs256_key");
	free(path);

	t = hs256_token("HS256", hmac_secret, strlen(hmac_secret), LABELS);
	accept("hs256_valid_token_accepted", t, hkey, WANT);
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	reject("hs256_wrong_signature_rejected", t, hkey, "signature does not "
	    "verify");
	free(t);
	t = hs256_token("HS256", "another secret, thirty-two bytes!", 33,
	    LABELS);
	reject("hs256_other_secret_rejected", t, hkey, "does not verify");
	free(t);
	{
		/* Valid signature, payload swapped for a better one. */
		char *good = hs256_token("HS256", hmac_secret,
		    strlen(hmac_secret), LABELS);
		char *forged = signing_input("{\"alg\":\"HS256\"}",
		    "{\"labels\":{\"team\":\"admin\"}}");
		char *t2;

		xasprintf(&t2, "%s%s", forged, strrchr(good, '.'));
		reject("hs256_tampered_payload_rejected", t2, hkey,
		    "does not verify");
		free(t2);
		free(forged);
		free(good);
	}
	t = unsigned_token(LABELS);
	reject("alg_none_rejected_with_hmac_key", t, hkey, "algorithm is not "
	    "HS256");
	free(t);
	t = hs256_token("hs256", hmac_secret, strlen(hmac_secret), LABELS);
	reject("alg_compared_exactly", t, hkey, "algorithm is not HS256");
	free(t);
	t = join_sig(signing_input("{\"typ\":\"JWT\"}", LABELS),
	    (const unsigned char *)"x", 1);
	reject("missing_alg_rejected", t, hkey, "no \"alg\"");
	free(t);
	t = join_sig(signing_input("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}",
	    LABELS), (const unsigned char *)"x", 1);
	reject("crit_header_rejected", t, hkey, "crit");
	free(t);

	/* Clock claims, checked when verifying. */
	snprintf(payload, sizeof(payload), "{\"labels\":{\"a\":\"b\"},"
	    "\"exp\":%lld}", (long long)now - 3600);
	t = hs256_token("HS256", hmac_secret, strlen(hmac_secret), payload);
	reject("expired_token_rejected", t, hkey, "expired");
	accept("expired_token_unverified_keeps_labels", t, NULL, "a=b");
	free(t);
	snprintf(payload, sizeof(payload), "{\"labels\":{\"a\":\"b\"},"
	    "\"exp\":%lld,\"nbf\":%lld}", (long long)now + 3600,
	    (long long)now - 10);
	t = hs256_token("HS256", hmac_secret, strlen(hmac_secret), payload);
	accept("token_within_nbf_exp_accepted", t, hkey, "a=b");
	free(t);
	snprintf(payload, sizeof(payload), "{\"labels\":{\"a\":\"b\"},"
	    "\"nbf\":%lld}", (long long)now + 3600);
	t = hs256_token("HS256", hmac_secret, strlen(hmac_secret), payload);
	reject("token_before_nbf_rejected", t, hkey, "not valid yet");
	free(t);

	/* RS256. */
	rsa = EVP_RSA_gen(2048);
	path = write_pubkey("rsa.pub", rsa, &pem, &pemlen);
	rkey = load_key(path);
	free(path);
	tap_is_str(token_alg_name(token_key_alg(rkey)), "RS256",
	    "rsa_public_pem_is_an_rs256_key");
	t = pk_token("RS256", rsa, LABELS, 0);
	accept("rs256_valid_token_accepted", t, rkey, WANT);
	reject("rs256_token_refused_by_hmac_key", t, hkey, "algorithm is not "
	    "HS256");
	t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
	reject("rs256_wrong_signature_rejected", t, rkey, "does not verify");
	free(t);
	/* The alg confusion attack: the public key as an HMAC secret. */
	t = hs256_token("HS256", pem, pemlen, LABELS);
	reject("alg_confusion_hs256_with_rsa_public_key_rejected", t, rkey,
	    "algorithm is not RS256");
	free(t);
	t = unsigned_token(LABELS);
	reject("alg_none_rejected_with_rsa_key", t, rkey, "algorithm is not "
	    "RS256");
	free(t);
	t = join_sig(signing_input("{\"alg\":\"RS256\"}", LABELS),
	    (const unsigned char *)"", 0);
	reject("rs256_empty_signature_rejected", t, rkey, "does not verify");
	free(t);
	free(pem);

	/* ES256. */
	ec = EVP_EC_gen("P-256");
	ec2 = EVP_EC_gen("P-256");
	path = write_pubkey("ec.pub", ec, NULL, NULL);
	ekey = load_key(path);
	free(path);
	tap_is_str(token_alg_name(token_key_alg(ekey)), "ES256",
	    "ec_p256_public_pem_is_an_es256_key");
	t = pk_token("ES256", ec, LABELS, 0);
	accept("es256_valid_raw_signature_accepted", t, ekey, WANT);
	reject("es256_token_refused_by_rsa_key", t, rkey, "algorithm is not "
	    "RS256");
	free(t);
	t = pk_token("ES256", ec, LABELS, 1);
	reject("es256_der_signature_rejected", t, ekey, "does not verify");
	free(t);
	t = pk_token("ES256", ec2, LABELS, 0);
	reject("es256_other_key_rejected", t, ekey, "does not verify");
	free(t);
	path = write_pubkey("ec.pub", ec, &pem, &pemlen);
	free(path);
	t = hs256_token("HS256", pem, pemlen, LABELS);
	reject("alg_confusion_hs256_with_ec_public_key_rejected", t, ekey,
	    "algorithm is not ES256");
	free(t);
	free(pem);

	/* Key files that must be refused. */
	path = write_tmp("short.key", "short secret\n", 13);
	tap_ok(token_key_load(path, &other, &cause) == -1 && cause != NULL &&
	    strstr(cause, "at least 32") != NULL, "short_hmac_secret_refused");
	free(cause);
	cause = NULL;
	free(path);
	{
		BIO *bio = BIO_new(BIO_s_mem());
		char *data;
		long n;

		PEM_write_bio_PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL);
		n = BIO_get_mem_data(bio, &data);
		path = write_tmp("ec.priv", data, (size_t)n);
		BIO_free(bio);
	}
	tap_ok(token_key_load(path, &other, &cause) == -1 && cause != NULL &&
	    strstr(cause, "private key") != NULL, "private_key_file_refused");
	free(cause);
	cause = NULL;
	free(path);
	path = write_tmp("junk.pem", "-----BEGIN PUBLIC KEY-----\nnot base64 "
	    "at all but long enough to be a secret\n-----END PUBLIC KEY-----\n",
	    97);
	tap_ok(token_key_load(path, &other, &cause) == -1 && cause != NULL &&
	    strstr(cause, "no public key") != NULL,
	    "broken_pem_never_becomes_an_hmac_secret");
	free(cause);
	cause = NULL;
	free(path);
	{
		EVP_PKEY *ec384 = EVP_EC_gen("P-384");

		path = write_pubkey("ec384.pub", ec384, NULL, NULL);
		tap_ok(token_key_load(path, &other, &cause) == -1 &&
		    cause != NULL && strstr(cause, "P-256") != NULL,
		    "ec_key_on_other_curve_refused");
		free(cause);
		cause = NULL;
		free(path);
		EVP_PKEY_free(ec384);
	}
	xasprintf(&path, "%s/absent.key", tmpdir);
	tap_ok(token_key_load(path, &other, &cause) == -1 && cause != NULL,
	    "missing_key_file_refused");
	free(cause);
	free(path);

	token_key_free(hkey);
	token_key_free(rkey);
	token_key_free(ekey);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
}

/* Write a file beside the token and rename it over: the usual rotation. */
static void
rotate(const char *dir, const char *name, const char *content)
{
	char *tmp, *dst;
	int fd;

	xasprintf(&tmp, "%s/.%s.new", dir, name);
	xasprintf(&dst, "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, content, strlen(content)) < 0 ||
	    close(fd) != 0 || rename(tmp, dst) != 0) {
		printf("Bail out! rotate %s: %s\n", dst, strerror(errno));
		exit(1);
	}
	free(tmp);
	free(dst);
}

static int
readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* inotify queues events as the syscall returns: two seconds is ample. */
static int
readable(int fd)
{
	return readable_within(fd, 2000);
}

static const char *
label(const struct token_state *ts, const char *key)
{
	const char *v = labels_get(token_state_labels(ts), key);

	return v != NULL ? v : "(none)";
}

static void
test_rotation(void)
{
	struct token_state *ts;
	char *dir, *path, *a, *b, *cause = NULL;
	int fd, rc;

	xasprintf(&dir, "%s/identity", tmpdir);
	mkdir(dir, 0700);
	xasprintf(&path, "%s/token", dir);
	a = unsigned_token("{\"labels\":{\"team\":\"a\"}}");
	b = unsigned_token("{\"labels\":{\"team\":\"b\"}}");

	ts = token_state_new(path, NULL);
	rc = token_state_reload(ts, &cause);
	tap_ok(rc == 0 && cause == NULL && token_state_labels(ts)->n == 0 &&
	    !token_state_present(ts), "missing_token_file_means_no_labels");

	rotate(dir, "token", a);
	rc = token_state_reload(ts, &cause);
	tap_ok(rc == 1 && token_state_present(ts),
	    "first_load_reports_change");
	tap_is_str(label(ts, "team"), "a", "labels_of_token_a");
	tap_is_int(token_state_reload(ts, &cause), 0,
	    "reload_of_same_token_reports_no_change");

	fd = token_state_watch_fd(ts);
	tap_ok(fd >= 0, "watch_fd_on_token_directory");
	tap_is_int(token_state_watch_fd(ts), fd, "watch_fd_is_stable");

	rotate(dir, "token", b);
	tap_ok(readable(fd), "rename_over_token_makes_watch_fd_readable");
	rc = token_state_on_watch(ts, &cause);
	tap_is_int(rc, 1, "on_watch_reports_label_change");
	tap_is_str(label(ts, "team"), "b", "labels_are_token_b_after_rotation");
	tap_ok(!readable_within(fd, 0), "on_watch_drains_events");

	rotate(dir, "token", "this.is-not.SECRETMARK!");
	tap_ok(readable(fd), "malformed_rotation_seen");
	rc = token_state_on_watch(ts, &cause);
	tap_ok(rc == -1 && cause != NULL, "malformed_token_reports_a_cause");
	tap_ok(cause != NULL && strstr(cause, "SECRETMARK") == NULL &&
	    strstr(cause, "keeping the last good labels") != NULL,
	    "cause_names_no_token_bytes");
	free(cause);
	cause = NULL;
	tap_is_str(label(ts, "team"), "b", "malformed_token_keeps_last_labels");

	/* Written in place: the empty file at IN_CREATE is not an error. */
	unlink(path);
	(void)(readable(fd) && token_state_on_watch(ts, &cause));
	free(cause);
	cause = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = token_state_on_watch(ts, &cause);
	tap_ok(rc == 0 && cause == NULL,
	    "empty_file_just_created_is_not_an_error");
	if (write(fd, a, strlen(a)) < 0)
		tap_diag("write failed");
	close(fd);
	tap_ok(readable(fd = token_state_watch_fd(ts)),
	    "close_after_write_seen");
	rc = token_state_on_watch(ts, &cause);
	tap_ok(rc == 1 && cause == NULL, "in_place_write_reloads");
	tap_is_str(label(ts, "team"), "a", "labels_after_in_place_write");

	unlink(path);
	tap_ok(readable(fd), "delete_seen");
	rc = token_state_on_watch(ts, &cause);
	tap_ok(rc == 1 && token_state_labels(ts)->n == 0 &&
	    !token_state_present(ts), "deleted_token_means_no_labels");

	/* A FIFO at the path must not block the agent. */
	mkfifo(path, 0600);
	rc = token_state_reload(ts, &cause);
	tap_ok(rc == -1 && cause != NULL && strstr(cause, "not a regular") !=
	    NULL, "fifo_token_refused_without_blocking");
	free(cause);
	cause = NULL;
	unlink(path);
	(void)(readable(fd) && token_state_on_watch(ts, &cause));

	/* Over the size bound: refused, labels kept. */
	rotate(dir, "token", a);
	(void)(readable(fd) && token_state_on_watch(ts, &cause));
	{
		char *huge = xmalloc(20000);

		memset(huge, 'A', 19999);
		huge[19999] = '\0';
		rotate(dir, "token", huge);
		free(huge);
	}
	tap_ok(readable(fd), "oversized_rotation_seen");
	rc = token_state_on_watch(ts, &cause);
	tap_ok(rc == -1 && cause != NULL && strstr(cause, "larger than") !=
	    NULL && strcmp(label(ts, "team"), "a") == 0,
	    "oversized_token_file_refused_labels_kept");
	free(cause);
	cause = NULL;

	/* Other files in the directory are not the token's business. */
	rotate(dir, "unrelated", "x");
	tap_ok(readable(fd) && token_state_on_watch(ts, &cause) == 0 &&
	    cause == NULL, "unrelated_file_in_directory_ignored");
	token_state_free(ts);

	/* Kubernetes projected volume: token -> ..data/token, ..data swapped. */
	{
		char *kdir, *v1, *v2, *link, *tmp, *tok;

		xasprintf(&kdir, "%s/k8s", tmpdir);
		xasprintf(&v1, "%s/..2026_01", kdir);
		xasprintf(&v2, "%s/..2026_02", kdir);
		xasprintf(&link, "%s/..data", kdir);
		xasprintf(&tmp, "%s/..data_tmp", kdir);
		xasprintf(&tok, "%s/token", kdir);
		mkdir(kdir, 0700);
		mkdir(v1, 0700);
		mkdir(v2, 0700);
		rotate(v1, "token", a);
		rotate(v2, "token", b);
		if (symlink("..2026_01", link) != 0 ||
		    symlink("..data/token", tok) != 0)
			tap_diag("symlink failed");
		ts = token_state_new(tok, NULL);
		token_state_reload(ts, &cause);
		fd = token_state_watch_fd(ts);
		tap_is_str(label(ts, "team"), "a", "k8s_initial_labels");
		if (symlink("..2026_02", tmp) != 0 || rename(tmp, link) != 0)
			tap_diag("swap failed");
		tap_ok(readable(fd), "k8s_data_swap_seen");
		rc = token_state_on_watch(ts, &cause);
		tap_ok(rc == 1, "k8s_data_swap_reports_change");
		tap_is_str(label(ts, "team"), "b", "k8s_labels_after_swap");
		token_state_free(ts);
		free(kdir);
		free(v1);
		free(v2);
		free(link);
		free(tmp);
		free(tok);
	}

	/* With a key, a badly signed rotation keeps the last good labels. */
	{
		struct token_key *key = token_key_hmac_new(hmac_secret,
		    strlen(hmac_secret));
		char *good = hs256_token("HS256", hmac_secret,
		    strlen(hmac_secret), "{\"labels\":{\"team\":\"signed\"}}");

		rotate(dir, "token", good);
		ts = token_state_new(path, key);
		token_state_reload(ts, &cause);
		tap_is_str(label(ts, "team"), "signed", "verified_state_labels");
		rotate(dir, "token", b);
		rc = token_state_reload(ts, &cause);
		tap_ok(rc == -1 && cause != NULL &&
		    strcmp(label(ts, "team"), "signed") == 0,
		    "unsigned_rotation_refused_with_key_labels_kept");
		free(cause);
		cause = NULL;
		token_state_free(ts);
		free(good);
	}

	/* The whole directory replaced by rename: watch the new one. */
	{
		char *newdir, *olddir;

		xasprintf(&newdir, "%s/identity.new", tmpdir);
		xasprintf(&olddir, "%s/identity.old", tmpdir);
		rotate(dir, "token", a);
		ts = token_state_new(path, NULL);
		token_state_reload(ts, &cause);
		fd = token_state_watch_fd(ts);
		mkdir(newdir, 0700);
		rotate(newdir, "token", b);
		if (rename(dir, olddir) != 0 || rename(newdir, dir) != 0)
			tap_diag("directory swap failed");
		tap_ok(readable(fd), "directory_swap_seen");
		rc = token_state_on_watch(ts, &cause);
		tap_ok(rc == 1 && strcmp(label(ts, "team"), "b") == 0,
		    "directory_swap_reloads_from_new_directory");
		rotate(dir, "token", a);
		tap_ok(readable(fd), "rotation_in_new_directory_seen");
		rc = token_state_on_watch(ts, &cause);
		tap_ok(rc == 1 && strcmp(label(ts, "team"), "a") == 0,
		    "new_directory_is_watched_after_swap");
		token_state_free(ts);
		free(newdir);
		free(olddir);
	}

	free(a);
	free(b);
	free(path);
	free(dir);
}

/*
 * libcrypto is dlopened by the first key: a library that is missing, or
 * lacks a function we call, fails with words naming which.
 */
static void
test_libcrypto_loading(void)
{
	char *cause = NULL;

	tap_ok(libcrypto_open("libcrypto.so.0-absent", &cause) == NULL,
	    "libcrypto_missing_library_fails");
	tap_has(cause, "libcrypto.so.0-absent could not be loaded",
	    "libcrypto_missing_library_is_named");
	free(cause);
	cause = NULL;
	tap_ok(libcrypto_open("libc.so.6", &cause) == NULL,
	    "libcrypto_library_without_the_functions_fails");
	tap_has(cause, "libc.so.6 has no function BIO_new_mem_buf",
	    "libcrypto_missing_function_is_named");
	free(cause);
	cause = NULL;
	tap_ok(!libcrypto_loaded(), "libcrypto_failures_leave_nothing_loaded");
	tap_ok(libcrypto_load(&cause) != NULL && libcrypto_loaded(),
	    "libcrypto_soname_from_the_headers_loads: %s",
	    cause != NULL ? cause : LIBCRYPTO_SONAME);
	free(cause);
}

static void
cleanup(void)
{
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	free(cmd);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	atexit(cleanup);
	test_libcrypto_loading();
	test_decoding();
	test_verification();
	test_rotation();
	return tap_done();
}
