/*
 * POST /api/upload/url bodies.
 */

#include <stdio.h>
#include <string.h>

#include "video_upload_url.h"
#include "video_validate.h"


int
video_url_field(json_t *v, const video_urlguard_allow_t *allow,
    int allow_http, video_urlguard_url_t *url, json_t *details)
{
    char                 msg[VIDEO_URLGUARD_REASON + 64];
    char                 reason[VIDEO_URLGUARD_REASON];
    const char          *err;
    video_urlguard_rc_t  rc;

    if (!json_is_string(v)) {
        video_detail_add(details, "url", "url must be a string");
        return -1;
    }

    if (json_string_length(v) > VIDEO_URLGUARD_URL_MAX) {
        snprintf(msg, sizeof(msg), "url must be at most %d characters",
                 VIDEO_URLGUARD_URL_MAX);
        video_detail_add(details, "url", msg);
        return -1;
    }

    err = NULL;
    rc = video_urlguard_parse(json_string_value(v), json_string_length(v),
                              url, &err);

    if (rc != VIDEO_URLGUARD_OK) {
        snprintf(msg, sizeof(msg), "url is not a usable http(s) URL: %s",
                 err ? err : "malformed");
        video_detail_add(details, "url", msg);
        return -1;
    }

    if (!url->https && !allow_http) {
        video_detail_add(details, "url", "url must be an https:// URL");
        return -1;
    }

    /* a literal address is judged now; a name when it is connected to */

    if (url->literal
        && video_urlguard_check(allow, (struct sockaddr *) &url->addr,
                                url->addr_len, reason, sizeof(reason))
           != 0)
    {
        snprintf(msg, sizeof(msg), "url refused: %s", reason);
        video_detail_add(details, "url", msg);
        return -1;
    }

    return 0;
}


int
video_upload_url_parse(json_t *body, video_upload_url_t *out,
    json_t **details)
{
    json_t  *errs;

    memset(out, 0, sizeof(video_upload_url_t));

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

    if (json_object_get(body, "url") == NULL) {
        video_detail_add(errs, "url", "url is required");

    } else {
        (void) video_url_field(json_object_get(body, "url"), NULL, 1,
                               &out->url, errs);
    }
    video_patch_string(body, "title", VIDEO_TITLE_MAX, 0, &out->title, errs);
    video_patch_string(body, "description", VIDEO_DESCRIPTION_MAX, 1,
                       &out->description, errs);

    if (json_array_size(errs) > 0) {
        *details = errs;
        return -1;
    }

    json_decref(errs);
    *details = NULL;

    return 0;
}
