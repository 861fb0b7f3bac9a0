/*
 * Public ids: 21 URL-safe random characters, as the API promises.
 */

#ifndef _VIDEO_ID_H_INCLUDED_
#define _VIDEO_ID_H_INCLUDED_


#include <stddef.h>


#define VIDEO_ID_LEN  21


/* len bytes from the kernel's CSPRNG; 0, or -1 with errno set */
int video_id_random(unsigned char *buf, size_t len);

/* 1 when every character of s is one of [A-Za-z0-9_-] */
int video_id_url_safe(const char *s, size_t len);

/* 1 when s is exactly VIDEO_ID_LEN characters of [A-Za-z0-9_-], else 0. */
int video_id_valid(const char *s, size_t len);

/*
 * Fills out with VIDEO_ID_LEN characters (no NUL) from the kernel's CSPRNG;
 * 126 bits of entropy.  Returns 0, or -1 with errno set.
 */
int video_id_generate(char *out);


/* a live stream key: 32 URL-safe characters, 192 bits */
#define VIDEO_STREAM_KEY_LEN       32
#define VIDEO_STREAM_KEY_HASH_LEN  64    /* hex SHA-256 */

/* 1 when s has the shape of a stream key, else 0 */
int video_stream_key_valid(const char *s, size_t len);

/*
 * Fills out with VIDEO_STREAM_KEY_LEN characters (no NUL): base64url of
 * 24 bytes from the kernel's CSPRNG.  Returns 0, or -1.
 */
int video_stream_key_generate(char *out);

/*
 * The form a key is stored in: hex SHA-256 of it into out
 * (VIDEO_STREAM_KEY_HASH_LEN characters, no NUL).  Returns 0, or -1.
 */
int video_stream_key_hash(const char *key, size_t len, char *out);


#endif /* _VIDEO_ID_H_INCLUDED_ */
