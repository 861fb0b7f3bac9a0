/*
 * The webhook routes' input (src/lib/video_webhook_body.c), read as the
 * module reads it.  The first byte picks what the rest is: an endpoint's
 * POST or PATCH body (with or without the allow-list and http), a rotate
 * or redeliver body, or a cursor.  What passes holds what the routes rely
 * on: a URL in its normal form (parsing it again gives it back), https
 * unless http is allowed, a literal host public or in the allow-list;
 * event types a text[] literal of known, distinct names; a description of
 * at most 255 characters; an overlap of 0..7 days; an event id of "evt_"
 * and 32 hex digits; a cursor that encodes back to itself.  What fails
 * has details, each {path, message}.
 */

#include <stdio.h>

#include <jansson.h>

#include "fuzz.h"
#include "video_validate.h"
#include "video_webhook_body.h"


static video_urlguard_allow_t  allow;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  err[256];

    (void) argc;
    (void) argv;

    json_object_seed(1);

    if (video_urlguard_allow_parse(&allow, "127.0.0.0/8, ::1", 16, err,
                                   sizeof(err))
        != 0)
    {
        abort();
    }

    return 0;
}


static void
webhook_details(json_t *details)
{
    size_t   i;
    json_t  *d;

    fuzz_assert(details != NULL);
    fuzz_assert(json_is_array(details) && json_array_size(details) > 0);

    json_array_foreach(details, i, d) {
        fuzz_assert(json_is_string(json_object_get(d, "path")));
        fuzz_assert(json_is_string(json_object_get(d, "message")));
    }

    json_decref(details);
}


static void
webhook_types(const char *types)
{
    char         *copy, *name, *save;
    size_t        len;
    unsigned      seen;
    int           k;

    len = strlen(types);
    fuzz_assert(len >= 2 && types[0] == '{' && types[len - 1] == '}');

    copy = strndup(types + 1, len - 2);
    fuzz_assert(copy != NULL);

    seen = 0;

    for (name = strtok_r(copy, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save))
    {
        k = video_enum_index(video_webhook_event_types, name, strlen(name));
        fuzz_assert(k >= 0 && !(seen & (1u << k)));
        seen |= 1u << k;
    }

    free(copy);
}


static void
webhook_endpoint(json_t *body, int create, int open)
{
    size_t                     n;
    long                       chars;
    char                       reason[VIDEO_URLGUARD_REASON];
    json_t                    *details;
    const char                *err;
    video_urlguard_url_t       again;
    video_webhook_endpoint_t   in;

    if (video_webhook_endpoint_parse(body, create, open ? &allow : NULL,
                                     open, &in, &details)
        != 0)
    {
        webhook_details(details);
        return;
    }

    fuzz_assert(details == NULL);
    fuzz_assert(!create || in.url_set);
    fuzz_assert(create || in.url_set || in.description != NULL
                || in.types_set || in.enabled >= 0);
    fuzz_assert(in.enabled >= -1 && in.enabled <= 1);

    if (in.url_set) {
        n = strlen(in.url.url);
        fuzz_assert(n > 0 && n <= VIDEO_URLGUARD_URL_MAX);
        fuzz_assert(in.url.https || open);

        err = NULL;
        fuzz_assert(video_urlguard_parse(in.url.url, n, &again, &err)
                    == VIDEO_URLGUARD_OK);
        fuzz_assert(strcmp(again.url, in.url.url) == 0);

        if (in.url.literal) {
            fuzz_assert(video_urlguard_check(open ? &allow : NULL,
                                             (struct sockaddr *) &in.url.addr,
                                             in.url.addr_len, reason,
                                             sizeof(reason))
                        == 0);
        }
    }

    if (in.description != NULL) {
        fuzz_assert(json_is_string(in.description));
        chars = video_utf8_length(json_string_value(in.description),
                                  json_string_length(in.description));
        fuzz_assert(chars >= 0 && chars <= VIDEO_WEBHOOK_DESCRIPTION_MAX);
    }

    if (in.types_set) {
        webhook_types(in.types);
    }
}


static void
webhook_cursor(const uint8_t *data, size_t size)
{
    char      out[VIDEO_WEBHOOK_CURSOR_MAX + 1];
    size_t    len;
    uint64_t  a, b;

    if (video_webhook_cursor_decode((const char *) data, size, &a, &b) != 0) {
        return;
    }

    fuzz_assert(a <= (uint64_t) INT64_MAX && b <= (uint64_t) INT64_MAX);

    len = video_webhook_cursor_encode(out, a, b);
    fuzz_assert(len == size && memcmp(out, data, size) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t        i;
    json_t       *body, *details;
    uint8_t       mode;
    long long     overlap;
    const char   *id;
    json_error_t  jerr;

    if (size == 0) {
        return 0;
    }

    mode = data[0] % 6;
    data++;
    size--;

    if (mode == 5) {
        webhook_cursor(data, size);
        return 0;
    }

    body = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      &jerr);

    if (body == NULL || !json_is_object(body)) {
        json_decref(body);
        return 0;
    }

    switch (mode) {

    case 0:
    case 1:
        webhook_endpoint(body, 1, mode == 1);
        break;

    case 2:
        webhook_endpoint(body, 0, 0);
        break;

    case 3:
        if (video_webhook_rotate_parse(body, &overlap, &details) != 0) {
            webhook_details(details);
            break;
        }

        fuzz_assert(overlap >= -1 && overlap <= VIDEO_WEBHOOK_OVERLAP_MAX);
        break;

    default:
        if (video_webhook_redeliver_parse(body, &id, &details) != 0) {
            webhook_details(details);
            break;
        }

        fuzz_assert(strlen(id) == 36 && strncmp(id, "evt_", 4) == 0);

        for (i = 4; i < 36; i++) {
            fuzz_assert((id[i] >= '0' && id[i] <= '9')
                        || (id[i] >= 'a' && id[i] <= 'f'));
        }
    }

    json_decref(body);

    return 0;
}
