/*
 * libcrypto, loaded on demand: only an agent given --token-key verifies
 * signatures, so only that agent pays for the library (about 1.5 MiB of
 * resident mappings, 400 KiB of them private relocations).
 */
#ifndef BL_LIBCRYPTO_H
#define BL_LIBCRYPTO_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>

/*
 * The soname the headers we were built with promise: the library found
 * at run time then has the ABI our prototypes describe.
 */
#define LIBCRYPTO_STR_(x)	#x
#define LIBCRYPTO_STR(x)	LIBCRYPTO_STR_(x)
#define LIBCRYPTO_SONAME \
	"libcrypto.so." LIBCRYPTO_STR(OPENSSL_SHLIB_VERSION)

/*
 * The functions token.c calls, each typed from the installed headers by
 * __typeof__, so a prototype that changes breaks the build instead of the
 * call. A name the headers define as a macro fails to compile here.
 */
#define LIBCRYPTO_FNS(X)						\
	X(BIO_new_mem_buf)						\
	X(BIO_free)							\
	X(PEM_read_bio_PUBKEY)						\
	X(ERR_clear_error)						\
	X(EVP_PKEY_get_base_id)						\
	X(EVP_PKEY_get_bits)						\
	X(EVP_PKEY_get_size)						\
	X(EVP_PKEY_get_group_name)					\
	X(EVP_PKEY_free)						\
	X(ECDSA_SIG_new)						\
	X(ECDSA_SIG_set0)						\
	X(ECDSA_SIG_free)						\
	X(i2d_ECDSA_SIG)						\
	X(BN_bin2bn)							\
	X(BN_free)							\
	X(HMAC)								\
	X(EVP_sha256)							\
	X(CRYPTO_memcmp)						\
	X(CRYPTO_free)							\
	X(EVP_MD_CTX_new)						\
	X(EVP_MD_CTX_free)						\
	X(EVP_DigestVerifyInit)						\
	X(EVP_DigestVerify)

struct libcrypto {
#define LIBCRYPTO_FIELD(name)	__typeof__(name) *name;
	LIBCRYPTO_FNS(LIBCRYPTO_FIELD)
#undef LIBCRYPTO_FIELD
};

/*
 * Loads LIBCRYPTO_SONAME once and resolves every function above. Later
 * calls return the same table. NULL with *cause naming the library and
 * what failed (not found, or a function missing from it).
 */
const struct libcrypto *libcrypto_load(char **cause);

/* The same from a given file or soname; for tests of the failure paths. */
const struct libcrypto *libcrypto_open(const char *name, char **cause);

/* Whether libcrypto_load has succeeded in this process. */
int	libcrypto_loaded(void);

#endif
