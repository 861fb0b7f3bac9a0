/*
 * Redacting request targets for access logs.  Both checks look at the
 * decoded text, so an escaped token ("%31%37...") or an escaped name
 * ("X-Amz-%53ignature", which a signature check may decode) is caught
 * as well as a plain one.
 */

#include <string.h>
#include <strings.h>

#include "video_play.h"
#include "video_redact.h"


/* longer than any play token or secret parameter's name, decoded */
#define VIDEO_REDACT_MAX  96


static const char  *video_redact_params[] = {
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
    "signature",
    "token",
    "secret",
    NULL
};


static int
video_redact_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/* in[0..n) percent-decoded into out (VIDEO_REDACT_MAX); length or -1 */

static int
video_redact_decode(const char *in, size_t n, char *out)
{
    int     hi, lo;
    size_t  i, o;

    for (i = 0, o = 0; i < n; i++) {
        if (o == VIDEO_REDACT_MAX) {
            return -1;
        }

        if (in[i] == '%' && i + 2 < n) {
            hi = video_redact_hex((unsigned char) in[i + 1]);
            lo = video_redact_hex((unsigned char) in[i + 2]);

            if (hi >= 0 && lo >= 0) {
                out[o++] = (char) (hi << 4 | lo);
                i += 2;
                continue;
            }
        }

        out[o++] = (in[i] == '+') ? ' ' : in[i];
    }

    return (int) o;
}


static int
video_redact_is_token(const char *s, size_t n)
{
    int   len;
    char  buf[VIDEO_REDACT_MAX];

    len = video_redact_decode(s, n, buf);

    return len > 0 && video_play_is_token(buf, (size_t) len);
}


static int
video_redact_is_secret_param(const char *s, size_t n)
{
    int           len;
    char          buf[VIDEO_REDACT_MAX];
    const char  **p;

    len = video_redact_decode(s, n, buf);
    if (len <= 0) {
        return 0;
    }

    for (p = video_redact_params; *p; p++) {
        if (strlen(*p) == (size_t) len && strncasecmp(*p, buf, len) == 0) {
            return 1;
        }
    }

    return 0;
}


size_t
video_redact_target(const char *in, size_t len, char *out)
{
    size_t       o, n;
    const char  *p, *end, *query, *seg, *eq;

    end = in + len;

    query = memchr(in, '?', len);
    if (query == NULL) {
        query = end;
    }

    o = 0;

    /* the path: segment by segment */

    for (p = in; p < query; p = seg + n) {
        if (*p == '/') {
            out[o++] = '/';
            p++;
        }

        seg = p;
        n = 0;
        while (seg + n < query && seg[n] != '/') {
            n++;
        }

        if (n && video_redact_is_token(seg, n)) {
            out[o++] = '-';

        } else {
            memcpy(out + o, seg, n);
            o += n;
        }
    }

    /* the query: parameter by parameter */

    for (p = query; p < end; p = seg + n) {
        out[o++] = *p++;        /* '?' or '&' */

        seg = p;
        n = 0;
        while (seg + n < end && seg[n] != '&') {
            n++;
        }

        eq = memchr(seg, '=', n);

        if (eq != NULL && eq + 1 < seg + n
            && video_redact_is_secret_param(seg, eq - seg))
        {
            memcpy(out + o, seg, eq + 1 - seg);
            o += eq + 1 - seg;
            out[o++] = '-';

        } else {
            memcpy(out + o, seg, n);
            o += n;
        }
    }

    return o;
}
