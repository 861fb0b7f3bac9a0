/*
 * Parsing ffmpeg's -progress blocks.
 */

#include <stdlib.h>
#include <string.h>

#include "video_progress.h"


void
video_progress_init(video_progress_t *p)
{
    p->out_time_us = -1;
    p->frame = 0;
    p->speed = 0;
}


static int
video_progress_is(const char *key, size_t klen, const char *name)
{
    return klen == strlen(name) && memcmp(key, name, klen) == 0;
}


/* a non-negative decimal integer filling [v, v + len), else -1 */

static int64_t
video_progress_int(const char *v, size_t len)
{
    size_t   i;
    int64_t  n;

    if (len == 0 || len > 18) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }

        n = n * 10 + (v[i] - '0');
    }

    return n;
}


int
video_progress_line(video_progress_t *p, const char *line, size_t len)
{
    char        buf[32];
    size_t      klen, vlen;
    int64_t     n;
    const char  *eq, *v;

    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) {
        len--;
    }

    eq = memchr(line, '=', len);
    if (eq == NULL) {
        return VIDEO_PROGRESS_NONE;
    }

    klen = eq - line;
    v = eq + 1;
    vlen = len - klen - 1;

    if (video_progress_is(line, klen, "out_time_us")
        || video_progress_is(line, klen, "out_time_ms"))
    {
        n = video_progress_int(v, vlen);
        if (n > p->out_time_us) {
            p->out_time_us = n;
        }

    } else if (video_progress_is(line, klen, "frame")) {
        n = video_progress_int(v, vlen);
        if (n >= 0) {
            p->frame = n;
        }

    } else if (video_progress_is(line, klen, "speed")) {
        if (vlen > 1 && vlen < sizeof(buf) && v[vlen - 1] == 'x') {
            memcpy(buf, v, vlen - 1);
            buf[vlen - 1] = '\0';
            p->speed = strtod(buf, NULL);
        }

    } else if (video_progress_is(line, klen, "progress")) {
        return video_progress_is(v, vlen, "end") ? VIDEO_PROGRESS_END
                                                 : VIDEO_PROGRESS_CONTINUE;
    }

    return VIDEO_PROGRESS_NONE;
}


int
video_progress_percent(const video_progress_t *p, double duration_s)
{
    double  pct;

    /* written so that a NaN duration is unknown too */

    if (!(duration_s > 0) || p->out_time_us <= 0) {
        return 0;
    }

    pct = (double) p->out_time_us / (duration_s * 1e6) * 100.0;

    if (pct >= 99) {
        return 99;
    }

    return (int) pct;
}
