/*
 * Base64 encoding and strict decoding, both alphabets.
 */

#include <stdint.h>

#include "video_base64.h"


static const char  video_base64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char  video_base64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


size_t
video_base64_encode(const unsigned char *in, size_t len, char *out,
    unsigned flags)
{
    size_t       i, o;
    uint32_t     v;
    const char  *a;

    a = (flags & VIDEO_BASE64_URL) ? video_base64_url : video_base64_std;

    for (i = 0, o = 0; i + 3 <= len; i += 3) {
        v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];
        out[o++] = a[(v >> 18) & 0x3f];
        out[o++] = a[(v >> 12) & 0x3f];
        out[o++] = a[(v >> 6) & 0x3f];
        out[o++] = a[v & 0x3f];
    }

    if (i == len) {
        return o;
    }

    /* one or two bytes left: two or three characters, then the padding */

    v = (uint32_t) in[i] << 16;

    if (len - i == 2) {
        v |= (uint32_t) in[i + 1] << 8;
    }

    out[o++] = a[(v >> 18) & 0x3f];
    out[o++] = a[(v >> 12) & 0x3f];

    if (len - i == 2) {
        out[o++] = a[(v >> 6) & 0x3f];
    }

    if (!(flags & VIDEO_BASE64_NOPAD)) {
        while (o % 4 != 0) {
            out[o++] = '=';
        }
    }

    return o;
}


int
video_base64_value(char c, unsigned flags)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == ((flags & VIDEO_BASE64_URL) ? '-' : '+')) {
        return 62;
    }

    if (c == ((flags & VIDEO_BASE64_URL) ? '_' : '/')) {
        return 63;
    }

    return -1;
}


int
video_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t size, size_t *n, unsigned flags)
{
    int       d;
    size_t    i, o, rest;
    uint32_t  v;

    if (flags & VIDEO_BASE64_NOPAD) {
        if (len % 4 == 1) {
            return -1;
        }

    } else {
        if (len % 4 != 0) {
            return -1;
        }

        /* "=" past these is not in the alphabet and is refused below */

        if (len > 0 && in[len - 1] == '=') {
            len -= (in[len - 2] == '=') ? 2 : 1;
        }
    }

    rest = len % 4;

    if (len / 4 * 3 + (rest ? rest - 1 : 0) > size) {
        return -1;
    }

    v = 0;
    o = 0;

    for (i = 0; i < len; i++) {
        d = video_base64_value(in[i], flags);
        if (d < 0) {
            return -1;
        }

        v = (v << 6) | (uint32_t) d;

        if (i % 4 == 3) {
            out[o++] = (unsigned char) (v >> 16);
            out[o++] = (unsigned char) (v >> 8);
            out[o++] = (unsigned char) v;
            v = 0;
        }
    }

    /* two characters carry one byte and four bits, three two and two */

    if (rest == 2) {
        if ((v & 0xf) != 0 && !(flags & VIDEO_BASE64_LAX_TAIL)) {
            return -1;
        }

        out[o++] = (unsigned char) (v >> 4);

    } else if (rest == 3) {
        if ((v & 0x3) != 0 && !(flags & VIDEO_BASE64_LAX_TAIL)) {
            return -1;
        }

        out[o++] = (unsigned char) (v >> 10);
        out[o++] = (unsigned char) (v >> 2);
    }

    *n = o;

    return 0;
}
