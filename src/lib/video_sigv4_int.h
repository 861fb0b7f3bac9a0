/*
 * What the SigV4 signer (video_sigv4.c) and verifier (video_sigv4_verify.c)
 * share from video_sigv4_canon.c: SigV4's encoding, the streamed hash of a
 * canonical request, the signature over it, and the checks and date format
 * both sides apply.  Not for use outside these files.
 */

#ifndef _VIDEO_SIGV4_INT_H_INCLUDED_
#define _VIDEO_SIGV4_INT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "video_sigv4.h"


#define SIGV4_ALGORITHM    "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR   "aws4_request"
#define SIGV4_HEX_LEN      64

/* 9999-12-31T23:59:59Z: X-Amz-Date has four digits for the year */
#define SIGV4_MAX_TIME     253402300799LL


typedef struct {
    EVP_MD_CTX     *ctx;
    size_t          n;
    int             failed;
    unsigned char   buf[512];
} video_sigv4_hash_t;


/* the bytes of SigV4's encoding of a (possibly encoded) string, one by one */
typedef struct {
    const unsigned char  *pos;
    const unsigned char  *last;
    int                   decode;
    int                   keep_slash;
    int                   pending;
    unsigned char         escape[2];
} video_sigv4_canon_t;


extern const char  video_sigv4_lhex[];


void video_sigv4_canon_init(video_sigv4_canon_t *it, const void *s,
    size_t len, int decode, int keep_slash);
int video_sigv4_canon_next(video_sigv4_canon_t *it);

/* a failure is remembered and reported by final, which frees the context */
void video_sigv4_hash_init(video_sigv4_hash_t *h);
void video_sigv4_hash_add(video_sigv4_hash_t *h, const void *data,
    size_t len);
void video_sigv4_hash_str(video_sigv4_hash_t *h, const char *s);
void video_sigv4_hash_canon(video_sigv4_hash_t *h, const unsigned char *s,
    size_t len, int keep_slash);
int video_sigv4_hash_final(video_sigv4_hash_t *h, char *hex);

int video_sigv4_sign(const video_sigv4_creds_t *c, const char *amz_date,
    const char *creq_hex, char *sig_hex);

int video_sigv4_creds_valid(const video_sigv4_creds_t *c);
int video_sigv4_method_valid(const char *m, size_t len);
int video_sigv4_amz_date(int64_t now, char *out);
int video_sigv4_digits(const char *s, size_t len, int64_t *v);


#endif /* _VIDEO_SIGV4_INT_H_INCLUDED_ */
