/*
 * Storage for the workers: libcurl requests to presigned URLs (SigV4 from
 * src/lib), so the same code talks to S3, MinIO and the local store.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "video_sigv4.h"
#include "video_worker.h"


#define VIDEO_WORKER_PRESIGN  900


/* param: a subresource (uploadId) to sign into the URL, or NULL */

static int
video_worker_storage_url(const char *method, const char *bucket,
    const char *key, const video_sigv4_param_t *param, char *url,
    size_t size, char *err, size_t err_size)
{
    const char            *e;
    video_sigv4_creds_t    c;
    video_sigv4_presign_t  p;

    c.access_key = video_worker_conf.storage_access_key;
    c.secret_key = video_worker_conf.storage_secret_key;
    c.region = video_worker_conf.storage_region;
    c.service = "s3";

    p.method = method;
    p.endpoint = video_worker_conf.storage_endpoint;
    p.bucket = bucket;
    p.key = key;
    p.path_style = 1;
    p.now = (int64_t) time(NULL);
    p.expires = VIDEO_WORKER_PRESIGN;

    e = NULL;

    if (video_sigv4_presign_query(&c, &p, NULL, param, param ? 1 : 0, url,
                                  size, &e)
        < 0)
    {
        snprintf(err, err_size, "cannot presign %s %s/%s: %s", method,
                 bucket, key, e ? e : "error");
        return -1;
    }

    return 0;
}


typedef struct {
    char    *data;
    size_t   len;
    size_t   max;
    int      too_big;
} video_worker_buf_t;


static size_t
video_worker_storage_collect(char *p, size_t size, size_t n, void *data)
{
    video_worker_buf_t  *b = data;
    char                *nd;

    if (b->len + size * n > b->max) {
        b->too_big = 1;
        return 0;
    }

    nd = realloc(b->data, b->len + size * n + 1);
    if (nd == NULL) {
        return 0;
    }

    b->data = nd;
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';

    return size * n;
}


/* the body of an answer to a PUT or DELETE (an S3 error document) */

static size_t
video_worker_storage_discard(char *p, size_t size, size_t n, void *data)
{
    (void) p;
    (void) data;

    return size * n;
}


/*
 * One request: GET into a file (path) or memory (buf), PUT from a file
 * (path, or in, which it closes), or DELETE; param a subresource of the
 * object (NULL: the object itself), if_match an ETag (unquoted) the
 * object must have (NULL: any).  Returns the HTTP status, or -1 with err
 * set.
 */

static long
video_worker_storage_request(const char *method, const char *bucket,
    const char *key, const video_sigv4_param_t *param, const char *if_match,
    const char *path, FILE *in, video_worker_buf_t *buf,
    const char *content_type, char *err, size_t err_size)
{
    long                 status;
    FILE                *f;
    CURL                *curl;
    CURLcode             rc;
    struct stat          st;
    struct curl_slist   *headers;
    char                 url[VIDEO_SIGV4_URL_MAX], hdr[300];
    char                 cerr[CURL_ERROR_SIZE];

    f = in;
    headers = NULL;
    curl = NULL;

    if (video_worker_storage_url(method, bucket, key, param, url,
                                 sizeof(url), err, err_size)
        != 0)
    {
        goto failed;
    }

    curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, err_size, "curl_easy_init() failed");
        goto failed;
    }

    cerr[0] = '\0';

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);

    if (strcmp(method, "PUT") == 0) {
        if (f == NULL) {
            f = fopen(path, "rb");
        }

        if (f == NULL || fstat(fileno(f), &st) != 0) {
            snprintf(err, err_size, "cannot read \"%s\"",
                     path ? path : key);
            goto failed;
        }

        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                         video_worker_storage_discard);
        curl_easy_setopt(curl, CURLOPT_READDATA, f);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t) st.st_size);

        snprintf(hdr, sizeof(hdr), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, hdr);
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    } else if (strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                         video_worker_storage_discard);

    } else if (path != NULL) {
        if (if_match != NULL) {

            /* the job's ETag is one token without quotes (video_job.c) */

            snprintf(hdr, sizeof(hdr), "If-Match: \"%s\"", if_match);
            headers = curl_slist_append(headers, hdr);
            curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        }

        f = fopen(path, "wb");
        if (f == NULL) {
            snprintf(err, err_size, "cannot write \"%s\"", path);
            goto failed;
        }

        curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);

    } else {
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                         video_worker_storage_collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, buf);
    }

    rc = curl_easy_perform(curl);

    if (rc != CURLE_OK) {
        snprintf(err, err_size, "%s %s/%s: %s", method, bucket, key,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
        goto failed;
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    if (f != NULL && fclose(f) != 0) {
        f = NULL;
        snprintf(err, err_size, "writing \"%s\" failed", path ? path : key);
        goto failed;
    }

    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    return status;

failed:

    if (f != NULL) {
        fclose(f);
    }

    curl_slist_free_all(headers);

    if (curl != NULL) {
        curl_easy_cleanup(curl);
    }

    return -1;
}


int
video_worker_storage_get(const char *bucket, const char *key,
    const char *etag, const char *path, char *err, size_t err_size)
{
    long  status;

    status = video_worker_storage_request("GET", bucket, key, NULL,
                                          (etag && etag[0]) ? etag : NULL,
                                          path, NULL, NULL, NULL, err,
                                          err_size);
    if (status == 200) {
        return 0;
    }

    if (status > 0) {
        snprintf(err, err_size, "GET %s/%s: HTTP %ld", bucket, key, status);
    }

    return (status == 404 || status == 412) ? (int) status : -1;
}


int
video_worker_storage_put(const char *bucket, const char *key,
    const char *path, const char *content_type, char *err, size_t err_size)
{
    long  status;

    status = video_worker_storage_request("PUT", bucket, key, NULL, NULL,
                                          path, NULL, NULL, content_type, err,
                                          err_size);
    if (status == 200 || status == 201 || status == 204) {
        return 0;
    }

    if (status > 0) {
        snprintf(err, err_size, "PUT %s/%s: HTTP %ld", bucket, key, status);
    }

    return -1;
}


int
video_worker_storage_put_fd(const char *bucket, const char *key, int fd,
    const char *content_type, char *err, size_t err_size)
{
    int    copy;
    long   status;
    FILE  *f;

    copy = dup(fd);
    f = (copy >= 0) ? fdopen(copy, "rb") : NULL;

    if (f == NULL) {
        if (copy >= 0) {
            close(copy);
        }

        snprintf(err, err_size, "cannot read the file for %s/%s", bucket,
                 key);
        return -1;
    }

    status = video_worker_storage_request("PUT", bucket, key, NULL, NULL,
                                          NULL, f, NULL, content_type, err,
                                          err_size);
    if (status == 200 || status == 201 || status == 204) {
        return 0;
    }

    if (status > 0) {
        snprintf(err, err_size, "PUT %s/%s: HTTP %ld", bucket, key, status);
    }

    return -1;
}


int
video_worker_storage_delete(const char *bucket, const char *key, char *err,
    size_t err_size)
{
    long  status;

    status = video_worker_storage_request("DELETE", bucket, key, NULL, NULL,
                                          NULL, NULL, NULL, NULL, err,
                                          err_size);
    if (status == 200 || status == 204 || status == 404) {
        return 0;
    }

    if (status > 0) {
        snprintf(err, err_size, "DELETE %s/%s: HTTP %ld", bucket, key,
                 status);
    }

    return -1;
}


int
video_worker_storage_abort(const char *bucket, const char *key,
    const char *upload_id, char *err, size_t err_size)
{
    long                 status;
    video_sigv4_param_t  param;

    param.name = "uploadId";
    param.value = upload_id;

    /* AbortMultipartUpload: 204; NoSuchUpload (404) is an upload gone */

    status = video_worker_storage_request("DELETE", bucket, key, &param,
                                          NULL, NULL, NULL, NULL, NULL, err,
                                          err_size);
    if (status == 200 || status == 204 || status == 404) {
        return 0;
    }

    if (status > 0) {
        snprintf(err, err_size, "DELETE %s/%s?uploadId: HTTP %ld", bucket,
                 key, status);
    }

    return -1;
}


char *
video_worker_storage_read(const char *bucket, const char *key, size_t max,
    long *status, char *err, size_t err_size)
{
    video_worker_buf_t  b;

    memset(&b, 0, sizeof(b));
    b.max = max;

    *status = video_worker_storage_request("GET", bucket, key, NULL, NULL,
                                           NULL, NULL, &b, NULL, err,
                                           err_size);

    if (*status == 200 && b.data == NULL) {
        b.data = calloc(1, 1);
    }

    if (*status != 200) {
        if (*status > 0) {
            snprintf(err, err_size, "GET %s/%s: HTTP %ld", bucket, key,
                     *status);
        }

        free(b.data);
        return NULL;
    }

    return b.data;
}
