/*
 * Urlencoded form fields.
 */

#include <string.h>

#include "video_form.h"


int
video_form_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* decodes in[0..n) into out (size bytes with the NUL); length or -1 */

static int
video_form_decode(const char *in, size_t n, char *out, size_t size)
{
    int     hi, lo;
    size_t  i, o;

    o = 0;

    for (i = 0; i < n; i++) {
        if (o + 1 >= size) {
            return -1;
        }

        if (in[i] == '+') {
            out[o++] = ' ';
            continue;
        }

        if (in[i] != '%') {
            if (in[i] == '\0') {
                return -1;
            }

            out[o++] = in[i];
            continue;
        }

        if (i + 2 >= n) {
            return -1;
        }

        hi = video_form_hex((unsigned char) in[i + 1]);
        lo = video_form_hex((unsigned char) in[i + 2]);

        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return -1;
        }

        out[o++] = (char) (hi << 4 | lo);
        i += 2;
    }

    out[o] = '\0';

    return (int) o;
}


int
video_form_value(const char *body, size_t len, const char *name,
    char *out, size_t size)
{
    int          rc;
    size_t       nlen;
    const char  *p, *end, *field, *eq, *amp;

    if (size == 0) {
        return VIDEO_FORM_INVALID;
    }

    nlen = strlen(name);
    end = body + len;
    rc = VIDEO_FORM_MISSING;

    for (p = body; p < end; p = amp + 1) {
        field = p;

        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(field, '=', amp - field);
        if (eq == NULL) {
            eq = amp;
        }

        if ((size_t) (eq - field) != nlen
            || memcmp(field, name, nlen) != 0)
        {
            continue;
        }

        if (rc != VIDEO_FORM_MISSING) {
            return VIDEO_FORM_INVALID;
        }

        if (eq == amp) {
            out[0] = '\0';
            rc = 0;
            continue;
        }

        rc = video_form_decode(eq + 1, amp - eq - 1, out, size);
        if (rc < 0) {
            return VIDEO_FORM_INVALID;
        }
    }

    return rc;
}


int
video_form_check(const char *body, size_t len)
{
    size_t       i, j, n, nlen[VIDEO_FORM_MAX_FIELDS];
    const char  *p, *end, *amp, *eq, *names[VIDEO_FORM_MAX_FIELDS];

    end = body + len;
    n = 0;

    for (p = body; p < end; p = amp + 1) {

        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            continue;
        }

        eq = memchr(p, '=', amp - p);
        if (eq == NULL) {
            eq = amp;
        }

        if (eq == p || memchr(p, '%', eq - p) != NULL
            || memchr(p, '+', eq - p) != NULL
            || n == VIDEO_FORM_MAX_FIELDS)
        {
            return VIDEO_FORM_INVALID;
        }

        names[n] = p;
        nlen[n] = (size_t) (eq - p);
        n++;
    }

    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (nlen[i] == nlen[j]
                && memcmp(names[i], names[j], nlen[i]) == 0)
            {
                return VIDEO_FORM_INVALID;
            }
        }
    }

    return 0;
}
