/*
 * POST /api/upload/url bodies, read as the module reads them: parsed with
 * JSON_REJECT_DUPLICATES, refused when not an object, then checked by
 * video_upload_url_parse().  What passes holds what the route relies on:
 * a URL in its normal form (parsing it again gives it back), http or
 * https, no longer than VIDEO_URLGUARD_URL_MAX, a literal host public;
 * a title of 1..255 and a description of at most 2000 characters.  What
 * fails has details, each {path, message}.
 */

#include <stdio.h>

#include <jansson.h>

#include "fuzz.h"
#include "video_upload_url.h"
#include "video_validate.h"


static void
upload_url_text(json_t *v, long max, int empty)
{
    long  n;

    fuzz_assert(json_is_string(v));

    n = video_utf8_length(json_string_value(v), json_string_length(v));
    fuzz_assert(n >= (empty ? 0 : 1) && n <= max);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    json_object_seed(1);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                 i, n;
    char                   reason[VIDEO_URLGUARD_REASON];
    json_t                *body, *details, *d;
    const char            *err;
    json_error_t           jerr;
    video_upload_url_t     in;
    video_urlguard_url_t   again;

    body = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      &jerr);

    if (body == NULL) {
        return 0;
    }

    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }

    if (video_upload_url_parse(body, &in, &details) != 0) {
        fuzz_assert(details != NULL);
        fuzz_assert(json_is_array(details) && json_array_size(details) > 0);

        json_array_foreach(details, i, d) {
            fuzz_assert(json_is_string(json_object_get(d, "path")));
            fuzz_assert(json_is_string(json_object_get(d, "message")));
        }

        json_decref(details);
        json_decref(body);
        return 0;
    }

    n = strlen(in.url.url);
    fuzz_assert(n > 0 && n <= VIDEO_URLGUARD_URL_MAX);
    fuzz_assert(strncmp(in.url.url, in.url.https ? "https://" : "http://",
                        in.url.https ? 8 : 7) == 0);

    err = NULL;
    fuzz_assert(video_urlguard_parse(in.url.url, n, &again, &err)
                == VIDEO_URLGUARD_OK);
    fuzz_assert(strcmp(again.url, in.url.url) == 0);

    if (in.url.literal) {
        fuzz_assert(video_urlguard_check(NULL,
                                         (struct sockaddr *) &in.url.addr,
                                         in.url.addr_len, reason,
                                         sizeof(reason))
                    == 0);
    }

    if (in.title != NULL) {
        upload_url_text(in.title, VIDEO_TITLE_MAX, 0);
    }

    if (in.description != NULL && !json_is_null(in.description)) {
        upload_url_text(in.description, VIDEO_DESCRIPTION_MAX, 1);
    }

    json_decref(body);

    return 0;
}
