/*
 * JSON bodies of the routes, read as the module reads them: the first
 * line names the route (presign, complete, complete-any, patch,
 * live-create, live-start, live-stop, live-visibility, key-create,
 * account-create, account-update, multipart, part-numbers,
 * complete-parts), the rest is the
 * body, parsed with JSON_REJECT_DUPLICATES and refused when it is not an
 * object (live-stop also takes no body at all), then checked by the
 * route's validator.  What passes holds what the route relies on; what
 * fails has details, each {path, message}, and both answers serialize
 * as their JSON envelopes.
 */

#include <stdio.h>

#include <jansson.h>

#include "fuzz.h"
#include "video_access.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_validate.h"


#define VALIDATE_ID  "V1StGXR8_Z5jdHi6B-myT"


static const char *const  validate_routes[] = {
    "presign", "complete", "complete-any", "patch", "live-create",
    "live-start", "live-stop", "live-visibility", "key-create",
    "account-create", "account-update", "multipart", "part-numbers",
    "complete-parts"
};

/* the upload the part routes check against: 37 parts */
#define VALIDATE_PARTS      37
#define VALIDATE_MAX        (50LL * 1024 * 1024 * 1024)


static void
validate_dump(json_t *env)
{
    char  *text;

    fuzz_assert(env != NULL);

    text = json_dumps(env, JSON_COMPACT);
    fuzz_assert(text != NULL);

    free(text);
    json_decref(env);
}


/* a string of 1..max code points (0..max when empty is allowed) */

static void
validate_text(json_t *v, long max, int empty)
{
    long  n;

    fuzz_assert(json_is_string(v));

    n = video_utf8_length(json_string_value(v), json_string_length(v));
    fuzz_assert(n >= (empty ? 0 : 1) && n <= max);
}


static void
validate_patch(const video_patch_t *p, int create)
{
    fuzz_assert(!create || p->title != NULL);
    fuzz_assert(create || p->title != NULL || p->description != NULL
                || p->visibility != NULL);

    if (p->title != NULL) {
        validate_text(p->title, VIDEO_TITLE_MAX, 0);
    }

    if (p->description != NULL && !json_is_null(p->description)) {
        validate_text(p->description, VIDEO_DESCRIPTION_MAX, 1);
    }

    if (p->visibility != NULL) {
        fuzz_assert(video_enum_index(video_visibilities,
                                     json_string_value(p->visibility),
                                     json_string_length(p->visibility))
                    >= 0);
    }
}


/* the route's validator; 0 or -1 with *details */

static int
validate_route(size_t route, json_t *body, json_t **details)
{
    int                 rc, convert;
    json_t             *v;
    video_patch_t       patch;
    video_account_t     account;
    video_key_create_t  key;
    size_t              i, j, n;
    uint32_t            numbers[VIDEO_PARTS_BATCH_MAX];
    video_part_t        parts[VALIDATE_PARTS];
    video_presign_t    presign;
    video_complete_t   complete;

    switch (route) {

    case 0:
        rc = video_presign_parse(body, &presign, details);

        if (rc == 0) {
            validate_text(presign.file_name, 255, 0);
            fuzz_assert(presign.file_size >= 1
                        && presign.file_size <= VIDEO_UPLOAD_MAX_SIZE);
            fuzz_assert(presign.type >= 0 && presign.type < 3);
        }

        return rc;

    case 1:
    case 2:
        rc = video_complete_parse(body, route == 1 ? VALIDATE_ID : NULL,
                                  route == 1 ? VIDEO_ID_LEN : 0, &complete,
                                  details);

        if (rc == 0) {
            fuzz_assert(json_is_string(complete.key));

            if (route == 1) {
                fuzz_assert(strncmp(json_string_value(complete.key),
                                    VALIDATE_ID "/original.",
                                    VIDEO_ID_LEN + 10) == 0);
            }

            if (complete.title != NULL) {
                validate_text(complete.title, VIDEO_TITLE_MAX, 0);
            }

            if (complete.description != NULL
                && !json_is_null(complete.description))
            {
                validate_text(complete.description, VIDEO_DESCRIPTION_MAX, 1);
            }
        }

        return rc;

    case 3:
    case 4:
        rc = (route == 3) ? video_patch_parse(body, &patch, details)
                          : video_live_create_parse(body, &patch, details);

        if (rc == 0) {
            validate_patch(&patch, route == 4);
        }

        return rc;

    case 5:
        rc = video_live_start_parse(body, &v, details);

        if (rc == 0) {
            validate_text(v, 256, 0);
        }

        return rc;

    case 6:
        rc = video_live_stop_parse(body, &convert, details);
        fuzz_assert(convert >= -1 && convert <= 1);

        return rc;

    case 8:
        rc = video_key_create_parse(body, &key, details);

        if (rc == 0) {
            fuzz_assert(key.role != NULL && key.name != NULL);
            fuzz_assert(key.account == NULL
                        || video_account_id_valid(key.account,
                                                  strlen(key.account)));
            fuzz_assert(key.expires_in == 0
                        || (key.expires_in >= VIDEO_KEY_EXPIRES_MIN
                            && key.expires_in <= VIDEO_KEY_EXPIRES_MAX));
        }

        return rc;

    case 9:
    case 10:
        rc = video_account_parse(body, route == 9, &account, details);

        if (rc == 0) {
            fuzz_assert(route == 10 || account.name != NULL);
            fuzz_assert(account.id == NULL
                        || video_account_id_valid(account.id,
                                                  strlen(account.id)));
            fuzz_assert(account.max_bytes.value >= -1
                        && account.max_videos.value >= -1
                        && account.max_live.value >= -1);
        }

        return rc;

    case 7:
        rc = video_live_visibility_parse(body, &v, details);

        if (rc == 0) {
            fuzz_assert(video_enum_index(video_visibilities,
                                         json_string_value(v),
                                         json_string_length(v))
                        >= 0);
        }

        return rc;

    case 11:
        rc = video_upload_parse(body, VALIDATE_MAX, &presign, details);

        if (rc == 0) {
            validate_text(presign.file_name, 255, 0);
            fuzz_assert(presign.file_size >= 1
                        && presign.file_size <= VALIDATE_MAX);
            fuzz_assert(presign.type >= 0 && presign.type < 3);
        }

        return rc;

    case 12:
        rc = video_part_numbers_parse(body, VALIDATE_PARTS, numbers, &n,
                                      details);

        if (rc == 0) {
            fuzz_assert(n >= 1 && n <= VIDEO_PARTS_BATCH_MAX);

            for (i = 0; i < n; i++) {
                fuzz_assert(numbers[i] >= 1 && numbers[i] <= VALIDATE_PARTS);

                for (j = 0; j < i; j++) {
                    fuzz_assert(numbers[j] != numbers[i]);
                }
            }

        } else {
            fuzz_assert(n == 0);
        }

        return rc;

    case 13:
        rc = video_complete_parts_parse(body, VALIDATE_PARTS, parts,
                                        details);

        if (rc == 0) {
            for (i = 0; i < VALIDATE_PARTS; i++) {
                fuzz_assert(parts[i].number == i + 1);
                fuzz_assert(parts[i].etag_len >= 1
                            && parts[i].etag_len <= VIDEO_PART_ETAG_MAX
                            && strlen(parts[i].etag) == parts[i].etag_len
                            && strspn(parts[i].etag,
                                      "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-")
                               == parts[i].etag_len);
            }
        }

        return rc;

    default:
        return -1;
    }
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
    int            n;
    char           msg[512];
    size_t         route, i;
    json_t        *body, *details, *d;
    const char    *m;
    fuzz_part_t    parts[2];
    json_error_t   err;

    fuzz_split(data, size, '\n', parts, 2);
    route = fuzz_pick(&parts[0], validate_routes,
                      FUZZ_NELTS(validate_routes));

    body = NULL;

    if (parts[1].len > 0 || route != 6) {
        body = json_loadb(parts[1].data, parts[1].len,
                          JSON_REJECT_DUPLICATES, &err);

        if (body == NULL) {

            /* the 400 names the parser's complaint, which quotes input */

            n = snprintf(msg, sizeof(msg), "Malformed JSON in request body: "
                         "%s (line %d, column %d)", err.text, err.line,
                         err.column);
            fuzz_assert(n > 0);

            validate_dump(video_envelope_error(400, NULL, msg,
                                               strlen(msg), NULL));
            return 0;
        }

        if (!json_is_object(body)) {
            json_decref(body);
            return 0;
        }
    }

    details = NULL;

    if (validate_route(route, body, &details) == 0) {
        fuzz_assert(details == NULL);
        validate_dump(json_pack("{s:b, s:O}", "success", 1, "data",
                                body ? body : json_null()));
        json_decref(body);
        return 0;
    }

    fuzz_assert(details != NULL && json_array_size(details) > 0);

    json_array_foreach(details, i, d) {
        fuzz_assert(json_is_string(json_object_get(d, "path")));
        fuzz_assert(json_is_string(json_object_get(d, "message")));
    }

    m = "Validation failed";

    if (json_array_size(details) == 1) {
        m = json_string_value(json_object_get(json_array_get(details, 0),
                                              "message"));
    }

    validate_dump(video_envelope_error(400, "VALIDATION_ERROR", m, strlen(m),
                                       details));
    json_decref(body);

    return 0;
}
