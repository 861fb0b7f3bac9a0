/*
 * Checks of the access management bodies: each field's problem is
 * listed, all of them in one answer.
 */

#include <string.h>

#include "video_access.h"
#include "video_id.h"
#include "video_validate.h"


static const char *const  video_roles[] = {
    "viewer", "editor", "admin", NULL
};


int
video_account_id_valid(const char *s, size_t len)
{
    return len > 0 && len <= 21 && video_id_url_safe(s, len);
}


/* *details gets errs when it has any (the caller owns it) */

static int
video_access_end(json_t *errs, json_t **details)
{
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    if (json_array_size(errs) > 0) {
        *details = errs;
        return -1;
    }

    json_decref(errs);
    *details = NULL;

    return 0;
}


/* a string of min..max characters: its value, or NULL with a detail */

static const char *
video_access_string(json_t *v, const char *path, long min, long max,
    json_t *errs, const char *message)
{
    long  n;

    if (!json_is_string(v)) {
        video_detail_add(errs, path, message);
        return NULL;
    }

    n = video_utf8_length(json_string_value(v), json_string_length(v));

    if (n < min || n > max
        || strlen(json_string_value(v)) != json_string_length(v))
    {
        video_detail_add(errs, path, message);
        return NULL;
    }

    return json_string_value(v);
}


static void
video_access_limit(json_t *body, const char *path, long long max,
    video_limit_t *out, json_t *errs)
{
    json_t  *v;

    v = json_object_get(body, path);
    out->set = (v != NULL);
    out->value = -1;

    if (v == NULL || json_is_null(v)) {
        return;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > max)
    {
        video_detail_add(errs, path,
                         "must be a non-negative integer, or null for no "
                         "limit");
        return;
    }

    out->value = json_integer_value(v);
}


int
video_key_create_parse(json_t *body, video_key_create_t *out,
    json_t **details)
{
    json_t      *errs, *v;
    const char  *s;

    memset(out, 0, sizeof(video_key_create_t));
    out->name = "";

    errs = json_array();
    if (errs == NULL || !json_is_object(body)) {
        if (errs != NULL) {
            video_detail_add(errs, "", "the body must be a JSON object");
        }

        return video_access_end(errs, details);
    }

    v = json_object_get(body, "role");

    if (v == NULL) {
        video_detail_add(errs, "role", "role is required");

    } else if (!json_is_string(v)
               || video_enum_index(video_roles, json_string_value(v),
                                   json_string_length(v)) < 0)
    {
        video_detail_add(errs, "role",
                         "role must be one of viewer, editor, admin");

    } else {
        out->role = json_string_value(v);
    }

    v = json_object_get(body, "name");

    if (v != NULL && !json_is_null(v)) {
        s = video_access_string(v, "name", 0, 255, errs,
                                "name must be text of at most 255 "
                                "characters");
        out->name = s ? s : "";
    }

    v = json_object_get(body, "accountId");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)
            || !video_account_id_valid(json_string_value(v),
                                       json_string_length(v)))
        {
            video_detail_add(errs, "accountId",
                             "accountId must be 1 to 21 of A-Z, a-z, 0-9, "
                             "_ and -");
        } else {
            out->account = json_string_value(v);
        }
    }

    v = json_object_get(body, "expiresIn");

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v)
            || json_integer_value(v) < VIDEO_KEY_EXPIRES_MIN
            || json_integer_value(v) > VIDEO_KEY_EXPIRES_MAX)
        {
            video_detail_add(errs, "expiresIn",
                             "expiresIn must be a number of seconds from 60 "
                             "to ten years");
        } else {
            out->expires_in = json_integer_value(v);
        }
    }

    return video_access_end(errs, details);
}


int
video_account_parse(json_t *body, int create, video_account_t *out,
    json_t **details)
{
    json_t  *errs, *v;

    memset(out, 0, sizeof(video_account_t));
    out->disabled = -1;

    errs = json_array();
    if (errs == NULL || !json_is_object(body)) {
        if (errs != NULL) {
            video_detail_add(errs, "", "the body must be a JSON object");
        }

        return video_access_end(errs, details);
    }

    v = json_object_get(body, "name");

    if (v != NULL) {
        out->name = video_access_string(v, "name", 1, 255, errs,
                                        "name must be text of 1 to 255 "
                                        "characters");

    } else if (create) {
        video_detail_add(errs, "name", "name is required");
    }

    v = json_object_get(body, "id");

    if (v != NULL && create) {
        if (!json_is_string(v)
            || !video_account_id_valid(json_string_value(v),
                                       json_string_length(v)))
        {
            video_detail_add(errs, "id",
                             "id must be 1 to 21 of A-Z, a-z, 0-9, _ and -");
        } else {
            out->id = json_string_value(v);
        }
    }

    video_access_limit(body, "maxBytes", 1LL << 60, &out->max_bytes, errs);
    video_access_limit(body, "maxVideos", 2147483647, &out->max_videos, errs);
    video_access_limit(body, "maxLive", 2147483647, &out->max_live, errs);

    v = json_object_get(body, "disabled");

    if (v != NULL && !create) {
        if (!json_is_boolean(v)) {
            video_detail_add(errs, "disabled", "disabled must be a boolean");
        } else {
            out->disabled = json_is_true(v);
        }
    }

    if (!create && out->name == NULL && !out->max_bytes.set
        && !out->max_videos.set && !out->max_live.set && out->disabled == -1
        && json_array_size(errs) == 0)
    {
        video_detail_add(errs, "", "nothing to change: name, maxBytes, "
                         "maxVideos, maxLive or disabled");
    }

    return video_access_end(errs, details);
}
