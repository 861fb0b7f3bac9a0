/*
 * Input validation with the messages the API answers.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "video_validate.h"


const char *const  video_statuses[] = {
    "PENDING", "PROCESSING", "READY", "FAILED", "LIVE", NULL
};

const char *const  video_visibilities[] = {
    "PUBLIC", "UNLISTED", "PRIVATE", NULL
};

const char *const  video_types[] = {
    "VOD", "LIVE", NULL
};

const char *const  video_upload_types[] = {
    "video/mp4", "video/webm", "video/ogg", NULL
};

const char *const  video_upload_extensions[] = {
    "mp4", "webm", "ogg", NULL
};


int
video_enum_index(const char *const *names, const char *s, size_t len)
{
    int  i;

    for (i = 0; names[i] != NULL; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            return i;
        }
    }

    return -1;
}


size_t
video_utf8_seq(const unsigned char *s, size_t len)
{
    size_t    n, i;
    uint32_t  cp;

    if (s[0] < 0x80) {
        return 1;
    }

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;

    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;

    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;

    } else {
        return 0;
    }

    if (n > len) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = (cp << 6) | (s[i] & 0x3f);
    }

    /* overlong forms, surrogates and code points past U+10FFFF */

    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    {
        return 0;
    }

    return n;
}


long
video_utf8_length(const char *s, size_t len)
{
    long    n;
    size_t  i, k;

    n = 0;

    for (i = 0; i < len; i += k, n++) {
        k = video_utf8_seq((const unsigned char *) s + i, len - i);

        if (k == 0) {
            return -1;
        }
    }

    return n;
}


int
video_detail_add(json_t *details, const char *path, const char *message)
{
    return json_array_append_new(details,
                                 json_pack("{s:s, s:s}", "path", path,
                                           "message", message));
}


static void
video_patch_string(json_t *body, const char *key, long max, int nullable,
    json_t **field, json_t *details)
{
    long     n;
    json_t  *v;
    char     msg[128];

    v = json_object_get(body, key);

    if (v == NULL) {
        return;
    }

    if (json_is_null(v) && nullable) {
        *field = v;
        return;
    }

    if (!json_is_string(v)) {
        snprintf(msg, sizeof(msg), "%s must be a string%s", key,
                 nullable ? " or null" : "");
        video_detail_add(details, key, msg);
        return;
    }

    n = video_utf8_length(json_string_value(v), json_string_length(v));

    if (n < 0) {
        snprintf(msg, sizeof(msg), "%s must be valid UTF-8", key);
        video_detail_add(details, key, msg);
        return;
    }

    if (n > max || (!nullable && n == 0)) {
        snprintf(msg, sizeof(msg), "%s must be %s%ld characters", key,
                 nullable ? "at most " : "1 to ", max);
        video_detail_add(details, key, msg);
        return;
    }

    *field = v;
}


int
video_patch_parse(json_t *body, video_patch_t *out, json_t **details)
{
    json_t  *v, *errs;

    memset(out, 0, sizeof(video_patch_t));

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    video_patch_string(body, "title", VIDEO_TITLE_MAX, 0, &out->title, errs);
    video_patch_string(body, "description", VIDEO_DESCRIPTION_MAX, 1,
                       &out->description, errs);

    v = json_object_get(body, "visibility");

    if (v != NULL) {
        if (!json_is_string(v)
            || video_enum_index(video_visibilities, json_string_value(v),
                                json_string_length(v)) < 0)
        {
            video_detail_add(errs, "visibility",
                             "visibility must be one of PUBLIC, UNLISTED, "
                             "PRIVATE");
        } else {
            out->visibility = v;
        }
    }

    if (json_array_size(errs) == 0
        && out->title == NULL && out->description == NULL
        && out->visibility == NULL)
    {
        video_detail_add(errs, "",
                         "at least one of title, description, visibility "
                         "is required");
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
video_live_create_parse(json_t *body, video_patch_t *out, json_t **details)
{
    size_t   i;
    json_t  *extra, *d;

    if (json_object_get(body, "title") == NULL) {
        *details = json_array();
        memset(out, 0, sizeof(video_patch_t));

        if (*details != NULL) {
            video_detail_add(*details, "title", "title is required");
        }

        /* the other fields' problems too, in one answer */

        if (video_patch_parse(body, out, &extra) != 0 && extra != NULL) {
            json_array_foreach(extra, i, d) {

                /* patch's "at least one field" does not apply here */

                if (*details != NULL
                    && strcmp(json_string_value(json_object_get(d, "path")),
                              "") != 0)
                {
                    json_array_append(*details, d);
                }
            }

            json_decref(extra);
        }

        return -1;
    }

    return video_patch_parse(body, out, details);
}


/* *details gets errs when it has any (the caller owns it) */

static int
video_details_end(json_t *errs, json_t **details)
{
    if (json_array_size(errs) > 0) {
        *details = errs;
        return -1;
    }

    json_decref(errs);
    *details = NULL;

    return 0;
}


int
video_live_start_parse(json_t *body, json_t **key, json_t **details)
{
    json_t  *errs;

    *key = NULL;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    if (json_object_get(body, "streamKey") == NULL) {
        video_detail_add(errs, "streamKey", "streamKey is required");

    } else {
        video_patch_string(body, "streamKey", 256, 0, key, errs);
    }

    return video_details_end(errs, details);
}


int
video_live_stop_parse(json_t *body, int *convert, json_t **details)
{
    json_t  *v, *errs;

    *convert = -1;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = (body != NULL) ? json_object_get(body, "convertToVOD") : NULL;

    if (v != NULL) {
        if (json_is_boolean(v)) {
            *convert = json_is_true(v);

        } else {
            video_detail_add(errs, "convertToVOD",
                             "convertToVOD must be a boolean");
        }
    }

    return video_details_end(errs, details);
}


int
video_live_visibility_parse(json_t *body, json_t **visibility,
    json_t **details)
{
    json_t  *v, *errs;

    *visibility = NULL;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_object_get(body, "visibility");

    if (v == NULL) {
        video_detail_add(errs, "visibility", "visibility is required");

    } else if (!json_is_string(v)
               || video_enum_index(video_visibilities, json_string_value(v),
                                   json_string_length(v)) < 0)
    {
        video_detail_add(errs, "visibility",
                         "visibility must be one of PUBLIC, UNLISTED, "
                         "PRIVATE");

    } else {
        *visibility = v;
    }

    return video_details_end(errs, details);
}


int
video_presign_parse(json_t *body, video_presign_t *out, json_t **details)
{
    return video_upload_parse(body, VIDEO_UPLOAD_MAX_SIZE, out, details);
}


int
video_upload_parse(json_t *body, long long max_size, video_presign_t *out,
    json_t **details)
{
    char        msg[96];
    json_t     *v, *errs;
    json_int_t  size;

    memset(out, 0, sizeof(video_presign_t));
    out->type = -1;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_object_get(body, "fileName");

    if (v == NULL) {
        video_detail_add(errs, "fileName", "fileName is required");

    } else {
        video_patch_string(body, "fileName", 255, 0, &out->file_name, errs);
    }

    v = json_object_get(body, "fileSize");

    if (v == NULL) {
        video_detail_add(errs, "fileSize", "fileSize is required");

    } else if (!json_is_integer(v)
               || (size = json_integer_value(v)) < 1
               || size > max_size)
    {
        if (max_size == VIDEO_UPLOAD_MAX_SIZE) {
            snprintf(msg, sizeof(msg), "fileSize must be an integer from 1 "
                     "to 2147483648 (2 GiB)");

        } else {
            snprintf(msg, sizeof(msg), "fileSize must be an integer from 1 "
                     "to %lld", max_size);
        }

        video_detail_add(errs, "fileSize", msg);

    } else {
        out->file_size = size;
    }

    v = json_object_get(body, "contentType");

    if (v == NULL) {
        video_detail_add(errs, "contentType", "contentType is required");

    } else if (!json_is_string(v)
               || (out->type = video_enum_index(video_upload_types,
                                                json_string_value(v),
                                                json_string_length(v)))
                  < 0)
    {
        video_detail_add(errs, "contentType",
                         "contentType must be one of video/mp4, video/webm, "
                         "video/ogg");
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
video_complete_parse(json_t *body, const char *id, size_t id_len,
    video_complete_t *out, json_t **details)
{
    int          i;
    size_t       len, n;
    json_t      *v, *errs;
    const char  *key;

    memset(out, 0, sizeof(video_complete_t));

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_object_get(body, "key");

    if (v == NULL) {
        video_detail_add(errs, "key", "key is required");

    } else if (!json_is_string(v)) {
        video_detail_add(errs, "key", "key must be a string");

    } else if (id == NULL) {
        out->key = v;

    } else {
        key = json_string_value(v);
        len = json_string_length(v);

        /* the key presign gave for this id, nothing else */

        for (i = 0; video_upload_extensions[i] != NULL; i++) {
            n = strlen(video_upload_extensions[i]);

            if (len == id_len + sizeof("/original.") - 1 + n
                && memcmp(key, id, id_len) == 0
                && memcmp(key + id_len, "/original.",
                          sizeof("/original.") - 1) == 0
                && memcmp(key + id_len + sizeof("/original.") - 1,
                          video_upload_extensions[i], n) == 0)
            {
                out->key = v;
                break;
            }
        }

        if (out->key == NULL) {
            video_detail_add(errs, "key",
                             "key must be the one presign returned for this "
                             "video");
        }
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


int
video_part_numbers_parse(json_t *body, uint32_t part_count,
    uint32_t *numbers, size_t *n, json_t **details)
{
    char        msg[96];
    size_t      i, j;
    json_t     *v, *e, *errs;
    json_int_t  num;

    *n = 0;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_object_get(body, "partNumbers");

    if (v == NULL) {
        video_detail_add(errs, "partNumbers", "partNumbers is required");
        goto done;
    }

    if (!json_is_array(v) || json_array_size(v) < 1
        || json_array_size(v) > VIDEO_PARTS_BATCH_MAX)
    {
        video_detail_add(errs, "partNumbers",
                         "partNumbers must be an array of 1 to 100 part "
                         "numbers");
        goto done;
    }

    for (i = 0; i < json_array_size(v); i++) {
        e = json_array_get(v, i);

        if (!json_is_integer(e) || (num = json_integer_value(e)) < 1
            || num > (json_int_t) part_count)
        {
            snprintf(msg, sizeof(msg), "partNumbers[%zu] must be an integer "
                     "from 1 to %u", i, part_count);
            video_detail_add(errs, "partNumbers", msg);
            goto done;
        }

        for (j = 0; j < *n; j++) {
            if (numbers[j] == (uint32_t) num) {
                snprintf(msg, sizeof(msg), "partNumbers[%zu] repeats part %u",
                         i, (uint32_t) num);
                video_detail_add(errs, "partNumbers", msg);
                goto done;
            }
        }

        numbers[(*n)++] = (uint32_t) num;
    }

done:

    if (json_array_size(errs) > 0) {
        *n = 0;
        *details = errs;
        return -1;
    }

    json_decref(errs);
    *details = NULL;

    return 0;
}


/* an ETag as S3 gives a part's: quotes optional, then 1..64 of [A-Za-z0-9-] */
static int
video_part_etag(const char *s, size_t len, char *out, size_t *out_len)
{
    size_t  i;

    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }

    if (len == 0 || len > VIDEO_PART_ETAG_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
        {
            return -1;
        }

        out[i] = s[i];
    }

    out[len] = '\0';
    *out_len = len;

    return 0;
}


int
video_complete_parts_parse(json_t *body, uint32_t part_count,
    video_part_t *parts, json_t **details)
{
    char        msg[96];
    size_t      i;
    json_t     *v, *e, *num, *etag, *errs;

    errs = json_array();
    if (errs == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_object_get(body, "parts");

    if (v == NULL) {
        video_detail_add(errs, "parts",
                         "parts is required to complete a multipart upload");
        goto done;
    }

    if (!json_is_array(v) || json_array_size(v) != part_count) {
        snprintf(msg, sizeof(msg), "parts must be an array of the upload's "
                 "%u parts, in order", part_count);
        video_detail_add(errs, "parts", msg);
        goto done;
    }

    for (i = 0; i < part_count; i++) {
        e = json_array_get(v, i);
        num = json_object_get(e, "partNumber");
        etag = json_object_get(e, "etag");

        if (!json_is_object(e) || !json_is_integer(num)
            || json_integer_value(num) != (json_int_t) i + 1)
        {
            snprintf(msg, sizeof(msg), "parts[%zu].partNumber must be %zu",
                     i, i + 1);
            video_detail_add(errs, "parts", msg);
            goto done;
        }

        if (!json_is_string(etag)
            || video_part_etag(json_string_value(etag),
                               json_string_length(etag), parts[i].etag,
                               &parts[i].etag_len)
               != 0)
        {
            snprintf(msg, sizeof(msg), "parts[%zu].etag must be the ETag "
                     "storage gave the part", i);
            video_detail_add(errs, "parts", msg);
            goto done;
        }

        parts[i].number = (uint32_t) i + 1;
    }

done:

    if (json_array_size(errs) > 0) {
        *details = errs;
        return -1;
    }

    json_decref(errs);
    *details = NULL;

    return 0;
}
