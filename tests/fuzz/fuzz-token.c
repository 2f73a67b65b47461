/*
 * libFuzzer harness for the identity token decoder: token_parse without
 * a key (decoding, bounds, labels), and with a fixed HMAC, RSA or EC key
 * (header, algorithm and signature checks); and key files themselves.
 * The first byte picks the mode.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/labels.h"
#include "sandboxing/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_secret[] = "fuzz-secret-fuzz-secret-fuzz-secret!";

/* A public key as token_key_load would read it from a PEM file. */
static struct token_key *
fuzz_pubkey(EVP_PKEY *pkey)
{
	struct token_key *key = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem, *cause = NULL;
	long n;

	if (bio == NULL || pkey == NULL || PEM_write_bio_PUBKEY(bio, pkey) != 1)
		abort();
	n = BIO_get_mem_data(bio, &pem);
	if (token_key_parse(pem, (size_t)n, &key, &cause) != 0)
		abort();
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_key *keys[4];
	struct token_key *key;
	struct labels l = { 0, NULL };
	char *cause = NULL;
	unsigned mode;
	int rc;

	if (keys[1] == NULL) {
		keys[1] = token_key_hmac_new(fuzz_secret, strlen(fuzz_secret));
		keys[2] = fuzz_pubkey(EVP_RSA_gen(2048));
		keys[3] = fuzz_pubkey(EVP_EC_gen("P-256"));
	}
	if (size == 0)
		return 0;
	/* '0' no key, '1' HMAC, '2' RSA, '3' EC, '4' a key file. */
	mode = (uint8_t)(data[0] - '0') % 5;
	if (mode == 4) {
		rc = token_key_parse(data + 1, size - 1, &key, &cause);
		if ((rc == 0) != (cause == NULL))
			abort();
		token_key_free(rc == 0 ? key : NULL);
		free(cause);
		return 0;
	}
	rc = token_parse((const char *)data + 1, size - 1, keys[mode],
	    &l, &cause);
	/* The contract: a cause exactly when refused, and then no labels. */
	if ((rc == 0) != (cause == NULL) || (rc != 0 && l.n != 0))
		abort();
	for (size_t i = 0; i < l.n; i++) {
		size_t klen = strlen(l.v[i].key);

		if (klen == 0 || klen > TOKEN_LABEL_KEY_MAX ||
		    strlen(l.v[i].value) > TOKEN_LABEL_VALUE_MAX)
			abort();
	}
	if (l.n > TOKEN_LABELS_MAX)
		abort();
	free(cause);
	labels_clear(&l);
	return 0;
}
