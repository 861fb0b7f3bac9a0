/*
 * Keyset pagination cursors: the position after the last video of a page,
 * (created_at in microseconds, id), as an opaque URL-safe string.
 */

#ifndef _VIDEO_CURSOR_H_INCLUDED_
#define _VIDEO_CURSOR_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* base64url of "<micros>.<id>": at most 20 + 1 + 21 bytes before encoding */
#define VIDEO_CURSOR_MAX  56


/* Writes the cursor into out (VIDEO_CURSOR_MAX + 1 bytes); its length. */
size_t video_cursor_encode(char *out, int64_t micros, const char *id);

/*
 * Reads a cursor: 0 with micros and id (VIDEO_ID_LEN bytes, no NUL) set,
 * or -1 when it is not one this service made.
 */
int video_cursor_decode(const char *in, size_t len, int64_t *micros,
    char *id);


#endif /* _VIDEO_CURSOR_H_INCLUDED_ */
