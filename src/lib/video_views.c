/*
 * Writing live view figures into video JSON text.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "video_id.h"
#include "video_views.h"


#define VIEWS_ID_KEY     "{\"id\" : \""
#define VIEWS_TODAY_KEY  "\"viewsToday\" : "
#define VIEWS_MONTH_KEY  ", \"viewsMonth\" : "
#define VIEWS_TOTAL_KEY  ", \"viewsTotal\" : "


/* after the digits at p (at least one), or NULL */

static const char *
video_views_digits(const char *p, const char *end)
{
    const char  *start = p;

    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }

    return (p > start) ? p : NULL;
}


/* after key and its number at p, or NULL */

static const char *
video_views_field(const char *p, const char *end, const char *key,
    size_t key_len)
{
    if ((size_t) (end - p) < key_len || memcmp(p, key, key_len) != 0) {
        return NULL;
    }

    return video_views_digits(p + key_len, end);
}


size_t
video_views_scan(const char *json, size_t len, video_views_slot_t *slots,
    size_t max)
{
    size_t       n;
    const char  *p, *end, *v, *id, *q, *e;

    n = 0;
    p = json;
    end = json + len;

    while (n < max) {
        v = memmem(p, end - p, VIEWS_TODAY_KEY, sizeof(VIEWS_TODAY_KEY) - 1);
        if (v == NULL) {
            break;
        }

        /*
         * the object's id: the last one opening an object before v, found
         * backwards ("{" in a string is not followed by an unescaped quote)
         */

        id = NULL;

        for (q = v;
             (q = memrchr(p, '{', q - p)) != NULL;
             /* void */)
        {
            if ((size_t) (v - q) >= sizeof(VIEWS_ID_KEY) - 1
                && memcmp(q, VIEWS_ID_KEY, sizeof(VIEWS_ID_KEY) - 1) == 0)
            {
                id = q + sizeof(VIEWS_ID_KEY) - 1;
                break;
            }
        }

        p = v + sizeof(VIEWS_TODAY_KEY) - 1;

        if (id == NULL || end - id < VIDEO_ID_LEN + 1
            || id[VIDEO_ID_LEN] != '"' || !video_id_valid(id, VIDEO_ID_LEN))
        {
            continue;
        }

        e = video_views_digits(p, end);
        if (e != NULL) {
            e = video_views_field(e, end, VIEWS_MONTH_KEY,
                                  sizeof(VIEWS_MONTH_KEY) - 1);
        }

        if (e != NULL) {
            e = video_views_field(e, end, VIEWS_TOTAL_KEY,
                                  sizeof(VIEWS_TOTAL_KEY) - 1);
        }

        if (e == NULL) {
            continue;
        }

        slots[n].id = id;
        slots[n].start = p - json;
        slots[n].end = e - json;
        slots[n].today = 0;
        slots[n].month = 0;
        slots[n].total = 0;
        n++;

        p = e;
    }

    return n;
}


size_t
video_views_write(const char *json, size_t len,
    const video_views_slot_t *slots, size_t n, char *out)
{
    int     k;
    char   *o;
    size_t  i, at;

    o = out;
    at = 0;

    for (i = 0; i < n; i++) {
        memcpy(o, json + at, slots[i].start - at);
        o += slots[i].start - at;

        k = snprintf(o, 3 * 21 + sizeof(VIEWS_MONTH_KEY VIEWS_TOTAL_KEY),
                     "%lld" VIEWS_MONTH_KEY "%lld" VIEWS_TOTAL_KEY "%lld",
                     (long long) slots[i].today, (long long) slots[i].month,
                     (long long) slots[i].total);
        o += k;

        at = slots[i].end;
    }

    memcpy(o, json + at, len - at);
    o += len - at;

    return o - out;
}
