/*
 * The webhook routes' input: endpoint bodies and cursors.
 */

#include <stdio.h>
#include <string.h>

#include "video_base64.h"
#include "video_upload_url.h"
#include "video_webhook_body.h"
#include "video_validate.h"


const char *const  video_webhook_event_types[] = {
    "video.created",
    "video.upload.completed",
    "video.processing",
    "video.playable",
    "video.ready",
    "video.failed",
    "video.updated",
    "video.deleted",
    "live.created",
    "live.started",
    "live.ended",
    "live.recording.ready",
    "webhook.endpoint.disabled",
    "webhook.test",
    NULL
};


static void
video_webhook_url(json_t *v, const video_urlguard_allow_t *allow,
    int allow_http, video_webhook_endpoint_t *out, json_t *details)
{
    if (video_url_field(v, allow, allow_http, &out->url, details) == 0) {
        out->url_set = 1;
    }
}


static void
video_webhook_types(json_t *v, video_webhook_endpoint_t *out,
    json_t *details)
{
    int          k;
    char        *p, *last;
    size_t       i;
    json_t      *t;
    unsigned     seen;
    const char  *name;

    if (!json_is_array(v)) {
        video_detail_add(details, "eventTypes",
                         "eventTypes must be an array of event types");
        return;
    }

    seen = 0;
    p = out->types;
    last = out->types + sizeof(out->types);
    *p++ = '{';

    json_array_foreach(v, i, t) {
        k = json_is_string(t)
            ? video_enum_index(video_webhook_event_types,
                               json_string_value(t), json_string_length(t))
            : -1;

        if (k < 0) {
            video_detail_add(details, "eventTypes",
                             "eventTypes must hold known event types only "
                             "(see the Webhooks section of the API)");
            return;
        }

        if (seen & (1u << k)) {
            video_detail_add(details, "eventTypes",
                             "eventTypes must not name a type twice");
            return;
        }

        seen |= 1u << k;
        name = video_webhook_event_types[k];

        if (p != out->types + 1) {
            *p++ = ',';
        }

        /* every type once: they all fit */

        if ((size_t) (last - p) < strlen(name) + 2) {
            video_detail_add(details, "eventTypes", "too many event types");
            return;
        }

        memcpy(p, name, strlen(name));
        p += strlen(name);
    }

    *p++ = '}';
    *p = '\0';
    out->types_set = 1;
}


int
video_webhook_endpoint_parse(json_t *body, int create,
    const video_urlguard_allow_t *allow, int allow_http,
    video_webhook_endpoint_t *out, json_t **details)
{
    long     n;
    json_t  *errs, *v;

    memset(out, 0, sizeof(video_webhook_endpoint_t));
    out->enabled = -1;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    if (!json_is_object(body)) {
        video_detail_add(errs, "", "the body must be a JSON object");
        *details = errs;
        return -1;
    }

    v = json_object_get(body, "url");

    if (v != NULL) {
        video_webhook_url(v, allow, allow_http, out, errs);

    } else if (create) {
        video_detail_add(errs, "url", "url is required");
    }

    v = json_object_get(body, "description");

    if (v != NULL) {
        n = json_is_string(v) ? video_utf8_length(json_string_value(v),
                                                  json_string_length(v))
                              : -1;

        if (n < 0 || n > VIDEO_WEBHOOK_DESCRIPTION_MAX) {
            video_detail_add(errs, "description",
                             "description must be a string of at most 255 "
                             "characters");
        } else {
            out->description = v;
        }
    }

    v = json_object_get(body, "eventTypes");

    if (v != NULL) {
        video_webhook_types(v, out, errs);
    }

    v = json_object_get(body, "enabled");

    if (v != NULL) {
        if (!json_is_boolean(v)) {
            video_detail_add(errs, "enabled", "enabled must be a boolean");
        } else {
            out->enabled = json_is_true(v);
        }
    }

    if (json_array_size(errs) == 0 && !create && !out->url_set
        && out->description == NULL && !out->types_set && out->enabled < 0)
    {
        video_detail_add(errs, "", "give at least one of url, description, "
                         "eventTypes and enabled");
    }

    if (json_array_size(errs) > 0) {
        *details = errs;
        return -1;
    }

    json_decref(errs);
    *details = NULL;

    return 0;
}


int
video_webhook_rotate_parse(json_t *body, long long *overlap,
    json_t **details)
{
    json_t     *errs, *v;
    json_int_t  n;

    *overlap = -1;
    *details = NULL;

    if (body == NULL) {
        return 0;
    }

    errs = json_array();
    if (errs == NULL) {
        return -1;
    }

    if (!json_is_object(body)) {
        video_detail_add(errs, "", "the body must be a JSON object");
        *details = errs;
        return -1;
    }

    v = json_object_get(body, "overlap");

    if (v != NULL) {
        n = json_is_integer(v) ? json_integer_value(v) : -1;

        if (n < 0 || n > VIDEO_WEBHOOK_OVERLAP_MAX) {
            video_detail_add(errs, "overlap",
                             "overlap must be an integer number of seconds "
                             "from 0 to 604800");
            *details = errs;
            return -1;
        }

        *overlap = n;
    }

    json_decref(errs);

    return 0;
}


int
video_webhook_redeliver_parse(json_t *body, const char **event_id,
    json_t **details)
{
    size_t       i, len;
    json_t      *errs, *v;
    const char  *s;

    *event_id = NULL;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_is_object(body) ? json_object_get(body, "eventId") : NULL;
    s = json_is_string(v) ? json_string_value(v) : NULL;
    len = json_is_string(v) ? json_string_length(v) : 0;

    if (s != NULL && len == 4 + 32 && strncmp(s, "evt_", 4) == 0) {
        for (i = 4; i < len; i++) {
            if (!((s[i] >= '0' && s[i] <= '9')
                  || (s[i] >= 'a' && s[i] <= 'f')))
            {
                break;
            }
        }

        if (i == len) {
            json_decref(errs);
            *details = NULL;
            *event_id = s;
            return 0;
        }
    }

    if (!json_is_object(body)) {
        video_detail_add(errs, "", "the body must be a JSON object");

    } else {
        video_detail_add(errs, "eventId", v == NULL
                         ? "eventId is required"
                         : "eventId must be an event id (evt_ and 32 hex "
                           "digits)");
    }

    *details = errs;

    return -1;
}


size_t
video_webhook_cursor_encode(char *out, uint64_t a, uint64_t b)
{
    int     n;
    size_t  o;
    char    raw[48];

    n = snprintf(raw, sizeof(raw), "%llu.%llu", (unsigned long long) a,
                 (unsigned long long) b);

    o = video_base64_encode((unsigned char *) raw, (size_t) n, out,
                            VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD);
    out[o] = '\0';

    return o;
}


/* digits of a number 0..INT64_MAX, no leading zero: 0 and *v, or -1 */

static int
video_webhook_number(const char *s, size_t len, uint64_t *v)
{
    size_t    i;
    uint64_t  n;

    if (len == 0 || len > 19 || (len > 1 && s[0] == '0')) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        n = n * 10 + (uint64_t) (s[i] - '0');
    }

    if (n > (uint64_t) INT64_MAX) {
        return -1;
    }

    *v = n;

    return 0;
}


int
video_webhook_cursor_decode(const char *in, size_t len, uint64_t *a,
    uint64_t *b)
{
    size_t  n;
    char    raw[64], *dot;

    /* canonical only, no stray bits: one spelling per cursor */

    if (len == 0 || len > VIDEO_WEBHOOK_CURSOR_MAX
        || video_base64_decode(in, len, (unsigned char *) raw, sizeof(raw),
                               &n, VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD)
           != 0)
    {
        return -1;
    }

    dot = memchr(raw, '.', n);

    if (dot == NULL
        || video_webhook_number(raw, dot - raw, a) != 0
        || video_webhook_number(dot + 1, raw + n - dot - 1, b) != 0)
    {
        return -1;
    }

    return 0;
}
