/*
 * Idempotency keys (the Idempotency-Key header of POSTs that create):
 * what a key may be, and the sealing of a stored answer.  An answer can
 * hold a secret shown once (an API key, a stream key), so the copy kept
 * for replays is sealed (AES-256-GCM) under a key derived from the
 * Idempotency-Key and the caller's credential, neither of which the
 * table holds: only a retry that sends both can open it.
 */

#ifndef _VIDEO_IDEM_H_INCLUDED_
#define _VIDEO_IDEM_H_INCLUDED_


#include <stddef.h>


#define VIDEO_IDEM_KEY_MAX     255
#define VIDEO_IDEM_SECRET_LEN  32
#define VIDEO_IDEM_NONCE_LEN   12
#define VIDEO_IDEM_TAG_LEN     16

/* what sealing adds to a body: the nonce before it, the tag after */
#define VIDEO_IDEM_SEAL_EXTRA  (VIDEO_IDEM_NONCE_LEN + VIDEO_IDEM_TAG_LEN)


/* 1 when key is 1..255 printable ASCII characters (0x20..0x7e), else 0 */
int video_idem_key_valid(const char *key, size_t len);

/*
 * The sealing key: HMAC-SHA256 keyed by the Idempotency-Key of the
 * caller's credential (cred may be empty); 0, or -1
 */
int video_idem_secret(const char *key, size_t len, const char *cred,
    size_t cred_len, unsigned char *secret);

/*
 * Seals in (len bytes) into out (len + VIDEO_IDEM_SEAL_EXTRA bytes:
 * nonce, ciphertext, tag), aad bound into the tag; 0, or -1
 */
int video_idem_seal(const unsigned char *secret, const void *aad,
    size_t aad_len, const void *in, size_t len, unsigned char *out);

/*
 * Opens what video_idem_seal() made (len bytes) into out (len -
 * VIDEO_IDEM_SEAL_EXTRA bytes); the body's length, or -1 when it was not
 * sealed under this secret and aad, or was altered
 */
long video_idem_open(const unsigned char *secret, const void *aad,
    size_t aad_len, const unsigned char *in, size_t len, unsigned char *out);


#endif /* _VIDEO_IDEM_H_INCLUDED_ */
