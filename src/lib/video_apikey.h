/*
 * API keys: "vapi_", 43 base62 characters of random (256 bits), then 6
 * base62 characters of the CRC-32 of all before them.  The prefix lets
 * secret scanners find a leaked key; the checksum refuses a mistyped or
 * made-up one without a database lookup.  A key is stored only as its
 * SHA-256, which is what it is looked up by.
 */

#ifndef _VIDEO_APIKEY_H_INCLUDED_
#define _VIDEO_APIKEY_H_INCLUDED_


#include <stddef.h>


#define VIDEO_APIKEY_PREFIX      "vapi_"
#define VIDEO_APIKEY_PREFIX_LEN  (sizeof(VIDEO_APIKEY_PREFIX) - 1)
#define VIDEO_APIKEY_SECRET_LEN  43     /* 62^43 > 2^256 */
#define VIDEO_APIKEY_CHECK_LEN   6      /* 62^6 > 2^32 */
#define VIDEO_APIKEY_LEN         (VIDEO_APIKEY_PREFIX_LEN                   \
                                  + VIDEO_APIKEY_SECRET_LEN                 \
                                  + VIDEO_APIKEY_CHECK_LEN)
#define VIDEO_APIKEY_HASH_LEN    32     /* SHA-256 */


/* roles, in increasing rights */
typedef enum {
    VIDEO_ROLE_NONE = 0,      /* anonymous */
    VIDEO_ROLE_VIEWER,
    VIDEO_ROLE_EDITOR,
    VIDEO_ROLE_ADMIN
} video_role_e;


/*
 * Fills out with a new key (VIDEO_APIKEY_LEN characters, no NUL) made of
 * 32 bytes of the kernel's CSPRNG.  Returns 0, or -1.
 */
int video_apikey_generate(char *out);

/*
 * 1 when s has a key's shape and its checksum holds, else 0.  Constant
 * work for a given length: a refusal says nothing about which part failed.
 */
int video_apikey_valid(const char *s, size_t len);

/* what an Authorization header value holds */
#define VIDEO_APIKEY_VALID       0    /* a valid key, in *key and *len */
#define VIDEO_APIKEY_INVALID    -1    /* a Bearer credential that starts
                                         like a key and is none */
#define VIDEO_APIKEY_FOREIGN     1    /* a Bearer credential of another
                                         kind (a frontend's own token) */
#define VIDEO_APIKEY_OTHER       2    /* another scheme (Basic, ...) */

/*
 * Reads an Authorization header value: "Bearer" (any case), blanks, the
 * credential, optional trailing blanks.  Returns one of the above.
 */
int video_apikey_from_header(const char *h, size_t hlen, const char **key,
    size_t *len);

/* The SHA-256 of a key into out (VIDEO_APIKEY_HASH_LEN bytes); 0, or -1. */
int video_apikey_hash(const char *key, size_t len, unsigned char *out);

/* a hash as PostgreSQL reads a bytea: "\\x" and 64 hex digits */
#define VIDEO_APIKEY_HASH_TEXT_LEN  (2 + 2 * VIDEO_APIKEY_HASH_LEN)

/* hash (VIDEO_APIKEY_HASH_LEN bytes) into out, NUL-terminated */
void video_apikey_hash_text(const unsigned char *hash, char *out);

/* "admin", "editor", "viewer" → the role; anything else VIDEO_ROLE_NONE */
video_role_e video_role_parse(const char *s, size_t len);

/* the role's name, "" for VIDEO_ROLE_NONE */
const char *video_role_name(video_role_e role);


#endif /* _VIDEO_APIKEY_H_INCLUDED_ */
