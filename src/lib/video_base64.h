/*
 * Base64 (RFC 4648): the standard alphabet with padding for webhook
 * secrets and signatures, base64url without padding for tokens and
 * cursors that travel in URLs.  Decoding is strict, so that a byte
 * string has one spelling: only the alphabet's characters, "=" only as
 * the padding of the last group, no lone last character, and no bits set
 * past the last byte.
 */

#ifndef _VIDEO_BASE64_H_INCLUDED_
#define _VIDEO_BASE64_H_INCLUDED_


#include <stddef.h>


/* "-" and "_" for the last two characters instead of "+" and "/" */
#define VIDEO_BASE64_URL        0x01
/* no "=": encoding writes none, decoding refuses it */
#define VIDEO_BASE64_NOPAD      0x02
/* decoding ignores bits set past the last byte instead of refusing them */
#define VIDEO_BASE64_LAX_TAIL   0x04

/* the encoded length of n bytes, with padding and without */
#define VIDEO_BASE64_LEN(n)        (((n) + 2) / 3 * 4)
#define VIDEO_BASE64_NOPAD_LEN(n)  (((n) * 4 + 2) / 3)


/*
 * Encodes len bytes of in into out, with no NUL; the characters written
 * (VIDEO_BASE64_LEN() or VIDEO_BASE64_NOPAD_LEN() of len).
 */
size_t video_base64_encode(const unsigned char *in, size_t len, char *out,
    unsigned flags);

/*
 * Decodes len characters of in into out, size bytes at most, their
 * number into *n; 0, or -1 when in is not canonical base64 of the kind
 * flags name or does not fit.  out may hold part of the bytes after -1.
 */
int video_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t size, size_t *n, unsigned flags);

/* the value 0..63 of c in the alphabet flags name, or -1 */
int video_base64_value(char c, unsigned flags);


#endif /* _VIDEO_BASE64_H_INCLUDED_ */
