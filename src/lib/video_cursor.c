/*
 * Cursors are base64url without padding, so they travel in a query string
 * unescaped.  Decoding checks every part: a forged cursor is refused, not
 * passed to a query.
 */

#include <stdio.h>
#include <string.h>

#include "video_cursor.h"
#include "video_id.h"


/*
 * The latest time a cursor may carry: 9999-12-31T23:59:59.999999Z.  Every
 * video was made long before; past it, the digits would overflow int64_t
 * or PostgreSQL's timestamps.
 */
#define VIDEO_CURSOR_MICROS_MAX  253402300799999999LL


static const char  video_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t
video_cursor_encode(char *out, int64_t micros, const char *id)
{
    int       n;
    size_t    i, o;
    uint32_t  v;
    char      raw[64];

    n = snprintf(raw, sizeof(raw), "%lld.%.*s", (long long) micros,
                 VIDEO_ID_LEN, id);

    for (i = 0, o = 0; i < (size_t) n; i += 3) {
        v = (uint32_t) (unsigned char) raw[i] << 16;

        if (i + 1 < (size_t) n) {
            v |= (uint32_t) (unsigned char) raw[i + 1] << 8;
        }

        if (i + 2 < (size_t) n) {
            v |= (unsigned char) raw[i + 2];
        }

        out[o++] = video_b64url[(v >> 18) & 63];
        out[o++] = video_b64url[(v >> 12) & 63];

        if (i + 1 < (size_t) n) {
            out[o++] = video_b64url[(v >> 6) & 63];
        }

        if (i + 2 < (size_t) n) {
            out[o++] = video_b64url[v & 63];
        }
    }

    out[o] = '\0';

    return o;
}


static int
video_b64url_value(char c)
{
    const char  *p;

    p = (c != '\0') ? strchr(video_b64url, c) : NULL;

    return (p != NULL) ? (int) (p - video_b64url) : -1;
}


int
video_cursor_decode(const char *in, size_t len, int64_t *micros, char *id)
{
    int       d;
    size_t    i, n, bits;
    uint32_t  acc;
    int64_t   t;
    char      raw[64], *dot;

    if (len == 0 || len > VIDEO_CURSOR_MAX || len % 4 == 1) {
        return -1;
    }

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < len; i++) {
        d = video_b64url_value(in[i]);
        if (d < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) d;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (char) ((acc >> bits) & 0xff);
        }
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
