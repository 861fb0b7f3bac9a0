/*
 * Storage for the workers: libcurl requests to presigned URLs (SigV4 from
 * src/lib), so the same code talks to S3, MinIO and the local store; a
 * listing (ListObjectsV2) is read with src/lib's S3 XML parser.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "video_s3xml.h"
#include "video_sigv4.h"
#include "video_worker.h"


#define VIDEO_WORKER_PRESIGN  900


/*
 * params: n query parameters (a subresource: uploadId; a listing's) to
 * sign into the URL, in ascending order of name; key NULL: the bucket
 */

static int
video_worker_storage_url(const char *method, const char *bucket,
    const char *key, const video_sigv4_param_t *params, size_t n, char *url,
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

    if (video_sigv4_presign_query(&c, &p, NULL, params, n, url, size, &e)
        < 0)
    {
        snprintf(err, err_size, "cannot presign %s %s/%s: %s", method,
                 bucket, key ? key : "", e ? e : "error");
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
 * (path, or in, which it closes), or DELETE; params (n of them) a
 * subresource of the object or a listing's (none: the object itself),
 * key NULL the bucket, if_match an ETag (unquoted) the object must have
 * (NULL: any).  Returns the HTTP status, or -1 with err set.
 */

static long
video_worker_storage_request(const char *method, const char *bucket,
    const char *key, const video_sigv4_param_t *params, size_t n,
    const char *if_match, const char *path, FILE *in,
    video_worker_buf_t *buf, const char *content_type, char *err,
    size_t err_size)
{
    long                 status;
    FILE                *f;
    CURL                *curl;
    CURLcode             rc;
    const char          *shown;
    struct stat          st;
    struct curl_slist   *headers;
    char                 url[VIDEO_SIGV4_URL_MAX], hdr[300];
    char                 cerr[CURL_ERROR_SIZE];

    f = in;
    headers = NULL;
    curl = NULL;
    shown = key ? key : "";

    if (video_worker_storage_url(method, bucket, key, params, n, url,
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
                     path ? path : shown);
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
        snprintf(err, err_size, "%s %s/%s: %s", method, bucket, shown,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
        goto failed;
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    if (f != NULL && fclose(f) != 0) {
        f = NULL;
        snprintf(err, err_size, "writing \"%s\" failed",
                 path ? path : shown);
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

    status = video_worker_storage_request("GET", bucket, key, NULL, 0,
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

    status = video_worker_storage_request("PUT", bucket, key, NULL, 0, NULL,
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

    status = video_worker_storage_request("PUT", bucket, key, NULL, 0, NULL,
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

    status = video_worker_storage_request("DELETE", bucket, key, NULL, 0,
                                          NULL, NULL, NULL, NULL, NULL, err,
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

    status = video_worker_storage_request("DELETE", bucket, key, &param, 1,
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

    *status = video_worker_storage_request("GET", bucket, key, NULL, 0,
                                           NULL, NULL, NULL, &b, NULL, err,
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


/* "HTTP 403 (AccessDenied)": the status, and the code an error names */

static void
video_worker_storage_list_error(const char *bucket, const char *prefix,
    long status, video_worker_buf_t *b, char *err, size_t err_size)
{
    char                    *dec;
    video_s3xml_s3_error_t   e;

    dec = (b->len > 0) ? malloc(b->len) : NULL;

    if (dec != NULL
        && video_s3xml_parse_error(b->data, b->len, dec, &e)
           == VIDEO_S3XML_OK)
    {
        snprintf(err, err_size, "listing %s/%s: HTTP %ld (%.*s)", bucket,
                 prefix, status, (int) (e.code.len < 64 ? e.code.len : 64),
                 e.code.data);

    } else {
        snprintf(err, err_size, "listing %s/%s: HTTP %ld", bucket, prefix,
                 status);
    }

    free(dec);
}


/*
 * One page of a listing, after token ("": the first): its keys handed to
 * handler, and token set to the next page's ("": none left).  0,
 * VIDEO_WORKER_LIST_REFUSED, or -1; err set.
 */

static int
video_worker_storage_list_page(const char *bucket, const char *prefix,
    char *token, video_s3xml_objects_page_t *page,
    video_worker_key_pt handler, void *data, char *err, size_t err_size)
{
    int                          rc;
    long                         status;
    char                        *dec;
    size_t                       i, n, plen;
    video_sigv4_param_t          params[5];
    video_worker_buf_t           b;
    video_s3xml_s3_error_t       e;
    const video_s3xml_object_t  *o;
    char                         key[VIDEO_S3XML_KEY_MAX + 1];

    /* in ascending order of name, as SigV4 signs them */

    n = 0;

    if (token[0] != '\0') {
        params[n].name = "continuation-token";
        params[n++].value = token;
    }

    params[n].name = "encoding-type";
    params[n++].value = "url";
    params[n].name = "list-type";
    params[n++].value = "2";
    params[n].name = "max-keys";
    params[n++].value = "1000";
    params[n].name = "prefix";
    params[n++].value = prefix;

    memset(&b, 0, sizeof(b));
    b.max = VIDEO_S3XML_BODY_MAX;
    dec = NULL;
    rc = -1;

    status = video_worker_storage_request("GET", bucket, NULL, params, n,
                                          NULL, NULL, NULL, &b, NULL, err,
                                          err_size);

    if (status != 200) {
        if (status > 0) {
            video_worker_storage_list_error(bucket, prefix, status, &b, err,
                                            err_size);

            /* a store that does not list, or not for these keys */

            if (token[0] == '\0'
                && (status == 400 || status == 403 || status == 405
                    || status == 501))
            {
                rc = VIDEO_WORKER_LIST_REFUSED;
            }
        }

        goto done;
    }

    dec = malloc(b.len > 0 ? b.len : 1);
    if (dec == NULL) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }

    switch (video_s3xml_parse_list_objects(b.data ? b.data : "", b.len, dec,
                                           page, &e))
    {
    case VIDEO_S3XML_OK:
        break;

    case VIDEO_S3XML_S3_ERROR:
        snprintf(err, err_size, "listing %s/%s: %.*s", bucket, prefix,
                 (int) (e.code.len < 64 ? e.code.len : 64), e.code.data);
        goto done;

    default:
        snprintf(err, err_size, "listing %s/%s: not a ListObjectsV2 answer",
                 bucket, prefix);
        goto done;
    }

    /* nothing outside the prefix, whatever storage answers */

    plen = strlen(prefix);

    for (i = 0; i < page->ncontents; i++) {
        o = &page->contents[i];

        if (o->key.len < plen || memcmp(o->key.data, prefix, plen) != 0) {
            snprintf(err, err_size, "listing %s/%s: a key outside the prefix",
                     bucket, prefix);
            goto done;
        }
    }

    /* a token that comes back, or will not fit a URL, goes nowhere */

    if (page->truncated
        && (page->next_token.len > VIDEO_SIGV4_MAX_KEY
            || memchr(page->next_token.data, '\0', page->next_token.len)
               != NULL
            || (page->next_token.len == strlen(token)
                && memcmp(page->next_token.data, token, page->next_token.len)
                   == 0)))
    {
        snprintf(err, err_size,
                 "listing %s/%s: a continuation token that goes nowhere",
                 bucket, prefix);
        goto done;
    }

    for (i = 0; i < page->ncontents; i++) {
        o = &page->contents[i];

        memcpy(key, o->key.data, o->key.len);
        key[o->key.len] = '\0';

        if (handler(bucket, key, data, err, err_size) != 0) {
            goto done;
        }
    }

    token[0] = '\0';

    if (page->truncated) {
        memcpy(token, page->next_token.data, page->next_token.len);
        token[page->next_token.len] = '\0';
    }

    rc = 0;

done:

    free(dec);
    free(b.data);

    return rc;
}


int
video_worker_storage_list(const char *bucket, const char *prefix,
    video_worker_key_pt handler, void *data, char *err, size_t err_size)
{
    int                         rc;
    char                        token[VIDEO_SIGV4_MAX_KEY + 1];
    video_s3xml_objects_page_t  page;

    memset(&page, 0, sizeof(page));
    page.nalloc = VIDEO_S3XML_KEYS_MAX;
    page.contents = malloc(page.nalloc * sizeof(video_s3xml_object_t));

    if (page.contents == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    token[0] = '\0';

    do {
        rc = video_worker_storage_list_page(bucket, prefix, token, &page,
                                            handler, data, err, err_size);

        if (rc == 0 && token[0] != '\0' && video_worker_stop) {
            snprintf(err, err_size, "listing %s/%s: stopping", bucket,
                     prefix);
            rc = -1;
        }

    } while (rc == 0 && token[0] != '\0');

    free(page.contents);

    return rc;
}
