/*
 * A single-pass walk over JSON text: values are checked for their shape
 * (strings with their escapes, numbers, literals, nesting) well enough
 * that a member is never cut in the middle, and copied out unless their
 * member's name is dropped.
 */

#include <string.h>

#include "video_json.h"


typedef struct {
    const char          *p;
    const char          *end;
    char                *out;        /* NULL: only walk */
    const char *const   *drop;
    int                  depth;
} video_json_walk_t;


static int video_json_value(video_json_walk_t *w, int emit);


static void
video_json_emit(video_json_walk_t *w, const char *from, size_t n, int emit)
{
    if (emit && w->out != NULL && n) {
        memcpy(w->out, from, n);
        w->out += n;
    }
}


static void
video_json_ws(video_json_walk_t *w, int emit)
{
    const char  *s;

    for (s = w->p;
         w->p < w->end
         && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r');
         w->p++)
    {
        /* void */
    }

    video_json_emit(w, s, w->p - s, emit);
}


/* a string at w->p: its characters between the quotes into *s, *n */

static int
video_json_string(video_json_walk_t *w, int emit, const char **s, size_t *n)
{
    const char  *start;

    if (w->p >= w->end || *w->p != '"') {
        return -1;
    }

    start = w->p++;

    while (w->p < w->end && *w->p != '"') {

        if ((unsigned char) *w->p < 0x20) {
            return -1;
        }

        if (*w->p == '\\') {
            w->p++;

            if (w->p >= w->end || strchr("\"\\/bfnrtu", *w->p) == NULL) {
                return -1;
            }
        }

        w->p++;
    }

    if (w->p >= w->end) {
        return -1;
    }

    w->p++;

    if (s != NULL) {
        *s = start + 1;
        *n = w->p - start - 2;
    }

    video_json_emit(w, start, w->p - start, emit);

    return 0;
}


static int
video_json_dropped(video_json_walk_t *w, const char *name, size_t n)
{
    const char *const  *d;

    for (d = w->drop; d != NULL && *d != NULL; d++) {
        if (strlen(*d) == n && memcmp(*d, name, n) == 0) {
            return 1;
        }
    }

    return 0;
}


static int
video_json_object(video_json_walk_t *w, int emit)
{
    int          kept, keep;
    size_t       n;
    const char  *name, *ws;

    video_json_emit(w, w->p++, 1, emit);

    ws = w->p;
    video_json_ws(w, 0);

    if (w->p < w->end && *w->p == '}') {
        video_json_emit(w, ws, w->p - ws + 1, emit);
        w->p++;
        return 0;
    }

    for (kept = 0; /* void */; /* void */) {

        /* the blanks before a member go with it */

        if (video_json_string(w, 0, &name, &n) != 0) {
            return -1;
        }

        keep = emit && !video_json_dropped(w, name, n);

        if (keep && kept++) {
            video_json_emit(w, ",", 1, 1);
        }

        video_json_emit(w, ws, w->p - ws, keep);

        video_json_ws(w, keep);

        if (w->p >= w->end || *w->p != ':') {
            return -1;
        }

        video_json_emit(w, w->p++, 1, keep);
        video_json_ws(w, keep);

        if (video_json_value(w, keep) != 0) {
            return -1;
        }

        video_json_ws(w, keep);

        if (w->p >= w->end) {
            return -1;
        }

        if (*w->p == '}') {
            video_json_emit(w, w->p++, 1, emit);
            return 0;
        }

        if (*w->p++ != ',') {
            return -1;
        }

        ws = w->p;
        video_json_ws(w, 0);
    }
}


static int
video_json_array(video_json_walk_t *w, int emit)
{
    video_json_emit(w, w->p++, 1, emit);
    video_json_ws(w, emit);

    if (w->p < w->end && *w->p == ']') {
        video_json_emit(w, w->p++, 1, emit);
        return 0;
    }

    for ( ;; ) {
        if (video_json_value(w, emit) != 0) {
            return -1;
        }

        video_json_ws(w, emit);

        if (w->p >= w->end) {
            return -1;
        }

        if (*w->p == ']') {
            video_json_emit(w, w->p++, 1, emit);
            return 0;
        }

        if (*w->p != ',') {
            return -1;
        }

        video_json_emit(w, w->p++, 1, emit);
        video_json_ws(w, emit);
    }
}


/* a number or true, false, null: its characters, checked loosely */

static int
video_json_scalar(video_json_walk_t *w, int emit)
{
    const char  *s;
    size_t       n;

    s = w->p;

    while (w->p < w->end && strchr("0123456789+-.eEtruefalsn", *w->p) != NULL
           && *w->p != '\0')
    {
        w->p++;
    }

    n = w->p - s;

    if (n == 0) {
        return -1;
    }

    if ((*s >= 'a' && *s <= 'z')
        && !((n == 4 && memcmp(s, "true", 4) == 0)
             || (n == 5 && memcmp(s, "false", 5) == 0)
             || (n == 4 && memcmp(s, "null", 4) == 0)))
    {
        return -1;
    }

    if (!(*s >= 'a' && *s <= 'z') && !(*s == '-' || (*s >= '0' && *s <= '9')))
    {
        return -1;
    }

    video_json_emit(w, s, n, emit);

    return 0;
}


static int
video_json_value(video_json_walk_t *w, int emit)
{
    int  rc;

    if (w->p >= w->end) {
        return -1;
    }

    switch (*w->p) {

    case '{':
    case '[':
        if (++w->depth > VIDEO_JSON_DEPTH_MAX) {
            return -1;
        }

        rc = (*w->p == '{') ? video_json_object(w, emit)
                            : video_json_array(w, emit);
        w->depth--;

        return rc;

    case '"':
        return video_json_string(w, emit, NULL, NULL);

    default:
        return video_json_scalar(w, emit);
    }
}


ssize_t
video_json_drop(const char *json, size_t len, const char *const *names,
    char *out)
{
    video_json_walk_t  w;

    w.p = json;
    w.end = json + len;
    w.out = out;
    w.drop = names;
    w.depth = 0;

    video_json_ws(&w, 1);

    if (video_json_value(&w, 1) != 0) {
        return -1;
    }

    video_json_ws(&w, 1);

    if (w.p != w.end) {
        return -1;
    }

    return w.out - out;
}


int
video_json_strings(const char *json, size_t len, const char *const *names,
    video_json_str_t *values)
{
    size_t              i, n, vn;
    const char         *name, *v;
    video_json_walk_t   w;

    vn = 0;

    for (i = 0; names[i] != NULL; i++) {
        values[i].data = NULL;
        values[i].len = 0;
    }

    w.p = json;
    w.end = json + len;
    w.out = NULL;
    w.drop = NULL;
    w.depth = 1;

    video_json_ws(&w, 0);

    if (w.p >= w.end || *w.p != '{') {
        return -1;
    }

    w.p++;
    video_json_ws(&w, 0);

    if (w.p < w.end && *w.p == '}') {
        w.p++;
        goto done;
    }

    for ( ;; ) {
        if (video_json_string(&w, 0, &name, &n) != 0) {
            return -1;
        }

        video_json_ws(&w, 0);

        if (w.p >= w.end || *w.p++ != ':') {
            return -1;
        }

        video_json_ws(&w, 0);

        v = w.p;

        if (w.p < w.end && *w.p == '"') {
            if (video_json_string(&w, 0, &v, &vn) != 0) {
                return -1;
            }

        } else if (w.p < w.end && *w.p != '{' && *w.p != '[') {
            if (video_json_scalar(&w, 0) != 0) {
                return -1;
            }

            vn = w.p - v;

        } else if (video_json_value(&w, 0) != 0) {
            return -1;

        } else {
            v = NULL;
        }

        if (v != NULL) {

            for (i = 0; names[i] != NULL; i++) {
                if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0) {
                    values[i].data = v;
                    values[i].len = vn;
                }
            }
        }

        video_json_ws(&w, 0);

        if (w.p >= w.end) {
            return -1;
        }

        if (*w.p == '}') {
            w.p++;
            break;
        }

        if (*w.p++ != ',') {
            return -1;
        }

        video_json_ws(&w, 0);
    }

done:

    video_json_ws(&w, 0);

    return (w.p == w.end) ? 0 : -1;
}
