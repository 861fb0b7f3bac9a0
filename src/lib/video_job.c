/*
 * Job parsing with jansson.
 */
#include <stdlib.h>

#include <string.h>

#include <jansson.h>

#include "video_job.h"


/* a key under the video's prefix with no empty, "." or ".." segment */

static int
video_job_key_valid(const char *key, const char *id)
{
    size_t       n;
    const char  *p, *seg;

    n = strlen(id);

    if (strncmp(key, id, n) != 0 || key[n] != '/' || key[n + 1] == '\0'
        || key[strlen(key) - 1] == '/')
    {
        return 0;
    }

    for (p = key + n + 1; *p != '\0'; p = (*p == '/') ? p + 1 : p) {
        seg = p;

        while (*p != '\0' && *p != '/') {
            p++;
        }

        if (p == seg || (p - seg == 1 && seg[0] == '.')
            || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
video_job_copy(char *dst, size_t size, json_t *v)
{
    const char  *s;

    if (!json_is_string(v)) {
        return -1;
    }

    s = json_string_value(v);

    if (json_string_length(v) == 0 || json_string_length(v) >= size
        || strlen(s) != json_string_length(v))
    {
        return -1;
    }

    memcpy(dst, s, json_string_length(v) + 1);

    return 0;
}


/*
 * The FLV of a live recording: the worker uploads a local file named by
 * the job, so the path must be plain (absolute, no empty, "." or ".."
 * segment) and name a recording of this video; where it may be is for
 * the worker's record_path to say
 */

static int
video_job_recording(json_t *v, video_job_t *job, const char **err)
{
    size_t       len, n;
    const char  *path, *p, *seg, *name;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        *err = "\"recording\" is not a string";
        return -1;
    }

    path = json_string_value(v);
    len = json_string_length(v);

    if (strlen(path) != len) {
        *err = "\"recording\" contains a NUL";
        return -1;
    }

    if (len >= VIDEO_JOB_PATH_MAX) {
        *err = "\"recording\" is too long";
        return -1;
    }

    if (path[0] != '/') {
        *err = "\"recording\" is not an absolute path";
        return -1;
    }

    name = path + 1;

    for (p = path + 1; ; p++) {
        seg = p;

        while (*p != '\0' && *p != '/') {
            p++;
        }

        if (p == seg || (p - seg == 1 && seg[0] == '.')
            || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
        {
            *err = "\"recording\" has an empty, \".\" or \"..\" segment";
            return -1;
        }

        if (*p == '\0') {
            name = seg;
            break;
        }
    }

    n = strlen(name);

    if (n < 4 || strcmp(name + n - 4, ".flv") != 0) {
        *err = "\"recording\" is not an \".flv\" file";
        return -1;
    }

    if (strncmp(name, job->video_id, VIDEO_ID_LEN) != 0
        || (name[VIDEO_ID_LEN] != '-' && name[VIDEO_ID_LEN] != '.'))
    {
        *err = "\"recording\" is not named \"<videoId>-...\" "
               "or \"<videoId>.flv\"";
        return -1;
    }

    memcpy(job->recording, path, len + 1);

    return 0;
}


/*
 * The original's ETag as S3 gives it, without the quotes: "<md5 hex>", or
 * "<md5 hex>-<parts>" for a multipart upload; other stores' forms are
 * taken too, as long as the If-Match header stays one token
 */

static int
video_job_etag(json_t *v, video_job_t *job, const char **err)
{
    size_t       len, i;
    const char  *s;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        *err = "\"etag\" is not a string";
        return -1;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len == 0 || len > VIDEO_JOB_ETAG_MAX) {
        *err = "\"etag\" is empty or too long";
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"') {
            *err = "\"etag\" has a quote, a blank or a control character";
            return -1;
        }
    }

    if (job->recording[0] != '\0') {
        *err = "\"etag\" with a \"recording\"";
        return -1;
    }

    memcpy(job->etag, s, len + 1);

    return 0;
}


/*
 * The source of an upload from a URL: as the module wrote it, in the
 * normal form of video_urlguard_parse(), so what is fetched is what the
 * module judged (the fetch judges it again, and every address)
 */

static int
video_job_source(json_t *v, video_job_t *job, const char **err)
{
    const char            *perr;
    video_urlguard_url_t  *u;

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        *err = "\"sourceUrl\" is not a string";
        return -1;
    }

    if (job->recording[0] != '\0') {
        *err = "a job with both \"recording\" and \"sourceUrl\"";
        return -1;
    }

    u = malloc(sizeof(video_urlguard_url_t));
    if (u == NULL) {
        *err = "out of memory";
        return -1;
    }

    perr = NULL;

    if (video_urlguard_parse(json_string_value(v), json_string_length(v), u,
                             &perr)
        != VIDEO_URLGUARD_OK)
    {
        free(u);
        *err = "\"sourceUrl\" is not a usable http(s) URL";
        return -1;
    }

    if (strlen(u->url) != json_string_length(v)
        || memcmp(u->url, json_string_value(v), json_string_length(v)) != 0)
    {
        free(u);
        *err = "\"sourceUrl\" is not in its normal form";
        return -1;
    }

    memcpy(job->source_url, u->url, strlen(u->url) + 1);
    free(u);

    return 0;
}


static int
video_job_objects(json_t *objects, video_job_t *job, const char **err)
{
    size_t               i;
    json_t              *o, *key, *prefix;
    video_job_object_t  *obj;

    if (!json_is_array(objects)) {
        *err = "cleanup job without an \"objects\" array";
        return -1;
    }

    json_array_foreach(objects, i, o) {

        key = json_object_get(o, "key");
        prefix = json_object_get(o, "prefix");

        if (!json_is_object(o) || (key != NULL && prefix != NULL)) {
            *err = "a cleanup object is not {bucket, key} or {bucket, prefix}";
            return -1;
        }

        /* a video without a thumbnail lists a null key */

        if ((key == NULL || json_is_null(key))
            && (prefix == NULL || json_is_null(prefix)))
        {
            continue;
        }

        if (job->nobjects == VIDEO_JOB_OBJECTS) {
            *err = "too many cleanup objects";
            return -1;
        }

        obj = &job->objects[job->nobjects];
        obj->prefix = (prefix != NULL);

        if (video_job_copy(obj->bucket, sizeof(obj->bucket),
                           json_object_get(o, "bucket"))
            != 0)
        {
            *err = "a cleanup object without a valid \"bucket\"";
            return -1;
        }

        if (video_job_copy(obj->key, sizeof(obj->key),
                           obj->prefix ? prefix : key)
            != 0)
        {
            *err = "a cleanup object with an invalid key or prefix";
            return -1;
        }

        if (obj->prefix) {
            if (strncmp(obj->key, job->video_id, VIDEO_ID_LEN) != 0
                || strcmp(obj->key + VIDEO_ID_LEN, "/") != 0)
            {
                *err = "a cleanup prefix other than \"<videoId>/\"";
                return -1;
            }

        } else if (!video_job_key_valid(obj->key, job->video_id)) {
            *err = "a cleanup key outside the video's prefix";
            return -1;
        }

        job->nobjects++;
    }

    return 0;
}


int
video_job_parse(const char *json, size_t len, video_job_t *job,
    const char **err)
{
    int           rc;
    json_t       *root, *type, *id, *n;
    const char   *t;
    json_error_t  jerr;

    memset(job, 0, sizeof(video_job_t));

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        *err = "not JSON";
        return -1;
    }

    rc = -1;

    if (!json_is_object(root)) {
        *err = "not a JSON object";
        goto done;
    }

    type = json_object_get(root, "type");
    t = json_is_string(type) ? json_string_value(type) : "";

    if (strcmp(t, "transcode") == 0) {
        job->type = VIDEO_JOB_TRANSCODE;

    } else if (strcmp(t, "cleanup") == 0) {
        job->type = VIDEO_JOB_CLEANUP;

    } else if (strcmp(t, "chunk") == 0) {
        job->type = VIDEO_JOB_CHUNK;

    } else {
        *err = "unknown job type";
        goto done;
    }

    id = json_object_get(root, "videoId");

    if (!json_is_string(id)
        || !video_id_valid(json_string_value(id), json_string_length(id)))
    {
        *err = "missing or malformed \"videoId\"";
        goto done;
    }

    memcpy(job->video_id, json_string_value(id), VIDEO_ID_LEN + 1);

    if (job->type == VIDEO_JOB_TRANSCODE) {
        if (video_job_copy(job->input_key, sizeof(job->input_key),
                           json_object_get(root, "inputKey"))
            != 0
            || !video_job_key_valid(job->input_key, job->video_id))
        {
            *err = "missing \"inputKey\", or not under \"<videoId>/\"";
            goto done;
        }

        rc = video_job_recording(json_object_get(root, "recording"), job,
                                 err);

        if (rc == 0) {
            rc = video_job_etag(json_object_get(root, "etag"), job, err);
        }

        if (rc == 0) {
            rc = video_job_source(json_object_get(root, "sourceUrl"), job,
                                  err);
        }

        goto done;
    }

    if (job->type == VIDEO_JOB_CHUNK) {
        n = json_object_get(root, "chunk");

        if (!json_is_integer(n) || json_integer_value(n) < -1
            || json_integer_value(n) >= VIDEO_JOB_CHUNK_MAX)
        {
            *err = "missing \"chunk\", or not an integer from -1";
            goto done;
        }

        job->chunk = (int) json_integer_value(n);
        rc = 0;
        goto done;
    }

    rc = video_job_objects(json_object_get(root, "objects"), job, err);

done:

    json_decref(root);

    return rc;
}
