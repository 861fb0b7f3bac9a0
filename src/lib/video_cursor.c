/*
 * Cursors are base64url without padding, so they travel in a query string
 * unescaped.  Decoding checks every part: a forged cursor is refused, not
 * passed to a query.
 */

#include <stdio.h>
#include <string.h>

#include "video_base64.h"
#include "video_cursor.h"
#include "video_id.h"


/*
 * The latest time a cursor may carry: 9999-12-31T23:59:59.999999Z.  Every
 * video was made long before; past it, the digits would overflow int64_t
 * or PostgreSQL's timestamps.
 */
#define VIDEO_CURSOR_MICROS_MAX  253402300799999999LL


size_t
video_cursor_encode(char *out, int64_t micros, const char *id)
{
    int     n;
    size_t  o;
    char    raw[64];

    n = snprintf(raw, sizeof(raw), "%lld.%.*s", (long long) micros,
                 VIDEO_ID_LEN, id);

    o = video_base64_encode((unsigned char *) raw, (size_t) n, out,
                            VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD);
    out[o] = '\0';

    return o;
}


int
video_cursor_decode(const char *in, size_t len, int64_t *micros, char *id)
{
    size_t   i, n;
    int64_t  t;
    char     raw[64], *dot;

    /*
     * Bits set past the last byte are ignored, not refused: the bytes are
     * checked in full below, and a cursor names a position, not a secret.
     */

    if (len == 0 || len > VIDEO_CURSOR_MAX
        || video_base64_decode(in, len, (unsigned char *) raw,
                               sizeof(raw) - 1, &n,
                               VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD
                               | VIDEO_BASE64_LAX_TAIL)
           != 0)
    {
        return -1;
    }

    raw[n] = '\0';

    dot = memchr(raw, '.', n);
    if (dot == NULL || dot == raw || dot - raw > 19
        || (size_t) (raw + n - dot - 1) != VIDEO_ID_LEN
        || !video_id_valid(dot + 1, VIDEO_ID_LEN))
    {
        return -1;
    }

    t = 0;

    for (i = 0; raw + i < dot; i++) {
        if (raw[i] < '0' || raw[i] > '9') {
            return -1;
        }

        if (t > (VIDEO_CURSOR_MICROS_MAX - (raw[i] - '0')) / 10) {
            return -1;
        }

        t = t * 10 + (raw[i] - '0');
    }

    *micros = t;
    memcpy(id, dot + 1, VIDEO_ID_LEN);

    return 0;
}
