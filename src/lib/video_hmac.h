/*
 * SHA-256 and HMAC-SHA256 for the signers (SigV4, playback tokens).
 * OpenSSL 3 looks a digest up by name on every EVP_sha256() use and
 * HMAC() builds a MAC context per call; signing a request takes several
 * HMACs, so the digest is fetched once per process and HMAC is composed
 * from it (RFC 2104), about four times faster.
 */

#ifndef _VIDEO_HMAC_H_INCLUDED_
#define _VIDEO_HMAC_H_INCLUDED_


#include <stddef.h>

#include <openssl/evp.h>


#define VIDEO_SHA256_LEN  32


/* SHA-256, fetched once; NULL when libcrypto cannot provide it */
const EVP_MD *video_sha256(void);

/* frees the fetched digest (at exit; the next use fetches it again) */
void video_hmac_release(void);

/* HMAC-SHA256 of msg under key into out (32 bytes); 0, or -1 */
int video_hmac_sha256(const void *key, size_t key_len, const void *msg,
    size_t len, unsigned char *out);


#endif /* _VIDEO_HMAC_H_INCLUDED_ */
