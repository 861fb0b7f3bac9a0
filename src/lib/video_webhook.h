/*
 * Signed webhooks: the signing secrets of endpoints, their signatures in
 * the Standard Webhooks format (standardwebhooks.com: headers webhook-id,
 * webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">"), the secrets sealed at rest, and the URL
 * fields of an event's video object.  Shared by the module (endpoints are
 * made and their secrets sealed there) and the delivery worker (which
 * opens them and signs).
 *
 * A secret is "whsec_" and the base64 of 24 random bytes; the HMAC key is
 * those bytes.  Secrets are kept sealed with AES-256-GCM under a key
 * derived from the installation's webhook key (a setting of nginx and of
 * the workers): "wk1.<key id>.<base64 of nonce, ciphertext and tag>",
 * where the key id (8 hex digits of SHA-256 of the derived key) says
 * which installation key sealed it, so a key can be rotated: the new one
 * seals, the previous one still opens until every secret is sealed again.
 */

#ifndef _VIDEO_WEBHOOK_H_INCLUDED_
#define _VIDEO_WEBHOOK_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <jansson.h>


#define VIDEO_WEBHOOK_SECRET_BYTES  24
#define VIDEO_WEBHOOK_SECRET_PREFIX "whsec_"
/* "whsec_" + base64 of 24 bytes, NUL */
#define VIDEO_WEBHOOK_SECRET_LEN    (6 + 32)
/* the base64 of one HMAC-SHA256 */
#define VIDEO_WEBHOOK_SIG_LEN       44
/* "v1," + a signature */
#define VIDEO_WEBHOOK_SIG_ENTRY     (3 + VIDEO_WEBHOOK_SIG_LEN)
/* a sealed secret's text, NUL included */
#define VIDEO_WEBHOOK_SEALED_MAX    128
/*
 * the longest secret that seals into VIDEO_WEBHOOK_SEALED_MAX: "wk1.",
 * the key id and "." (13), then the base64 of a 12-byte nonce, the secret
 * and a 16-byte tag (at most 112 characters: 84 bytes), then NUL
 */
#define VIDEO_WEBHOOK_SEALABLE_MAX  56
#define VIDEO_WEBHOOK_KEY_ID_LEN    8


/* an installation key, derived from the webhook key setting */
typedef struct {
    unsigned char  key[32];
    char           id[VIDEO_WEBHOOK_KEY_ID_LEN + 1];
} video_webhook_key_t;


/*
 * Derives the sealing key from an installation secret (at least 16
 * bytes): HMAC-SHA256(secret, "video-api webhook secrets v1"), and its id.
 * 0, or -1 (too short, no digest).
 */
int video_webhook_key_derive(const char *secret, size_t len,
    video_webhook_key_t *key);

/* A new secret, NUL-terminated, into out (VIDEO_WEBHOOK_SECRET_LEN + 1
 * bytes); 0, or -1 when no random bytes could be had. */
int video_webhook_secret_new(char *out);

/*
 * The HMAC key of a secret: "whsec_" (optional, as the libraries take
 * it) then base64 of 16..64 bytes.  Returns the key's length into key
 * (64 bytes), or -1 for anything else.
 */
int video_webhook_secret_key(const char *secret, size_t len,
    unsigned char *key);

/*
 * Seals a secret (1..VIDEO_WEBHOOK_SEALABLE_MAX bytes, no NUL) under key
 * into out (VIDEO_WEBHOOK_SEALED_MAX bytes), NUL-terminated; 0, or -1.
 */
int video_webhook_seal(const video_webhook_key_t *key, const char *secret,
    size_t len, char *out);

/*
 * Opens a sealed secret with whichever of keys (n of them, NULL entries
 * skipped) has its key id; the secret, NUL-terminated, into out
 * (VIDEO_WEBHOOK_SECRET_LEN + 1 bytes at least, 128 is plenty).  0; -1
 * when malformed, no key has its id, or it does not authenticate.
 * *which (may be NULL) gets the index of the key that opened it.
 */
int video_webhook_open(const video_webhook_key_t *const *keys, size_t n,
    const char *sealed, char *out, size_t size, size_t *which);

/*
 * The signature of a message: "v1,<base64>" NUL-terminated into out
 * (VIDEO_WEBHOOK_SIG_ENTRY + 1 bytes), over "<id>.<timestamp>.<body>".
 * 0, or -1 (a malformed secret).
 */
int video_webhook_sign(const char *secret, size_t secret_len,
    const char *id, int64_t timestamp, const char *body, size_t body_len,
    char *out);

/*
 * Verifies a webhook-signature header value (space-separated
 * "<version>,<signature>" entries; entries of other versions ignored)
 * against secret, and the timestamp against now within tolerance
 * seconds either way.  0 when one v1 entry matches (compared in constant
 * time), -1 otherwise.  For tests and for receivers written in C.
 */
int video_webhook_verify(const char *secret, size_t secret_len,
    const char *id, const char *timestamp, const char *body,
    size_t body_len, const char *header, int64_t now, int64_t tolerance);

/*
 * Fills the URL fields of a video object as the API shows it from its
 * keys: "thumbnailUrl" from "thumbnailKey", "playbackUrl" from
 * "hlsManifestKey", and each variant's "playbackUrl" from its
 * "playlistKey", each base followed by the key (base: the installation's
 * public URL and "/play/"); a missing or null key leaves null.  No token
 * is added: a private video's URLs need one the receiver asks for.
 * 0, or -1 (not an object, no memory).
 */
int video_webhook_video_urls(json_t *video, const char *base);


#endif /* _VIDEO_WEBHOOK_H_INCLUDED_ */
