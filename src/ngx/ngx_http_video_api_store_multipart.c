/*
 * The store's multipart uploads, as S3 has them: CreateMultipartUpload
 * (POST ?uploads), UploadPart (PUT ?partNumber&uploadId), ListParts (GET
 * ?uploadId), CompleteMultipartUpload (POST ?uploadId) and
 * AbortMultipartUpload (DELETE ?uploadId).
 *
 * An upload is a directory under the store's root, ".uploads/<id>" (the
 * id 32 random hex digits), which names its bucket, key and Content-Type
 * in extended attributes; a part is the file "<n>" in it, written and
 * hashed as a PutObject body is, its MD5 kept as its ETag.  Listing the
 * parts, assembling the object (the parts copied in order into one file
 * with copy_file_range, then renamed into place, with the ETag S3 gives
 * a multipart object, the MD5 of the parts' MD5s and "-<parts>") and
 * removing an aborted upload run in nginx's thread pool.
 */

#include "ngx_http_video_api_store.h"
#include "ngx_http_video_api_response.h"
#include "video_s3xml.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <openssl/evp.h>
#include <openssl/rand.h>


#define NGX_HTTP_VIDEO_API_STORE_UPLOADS   ".uploads"
#define NGX_HTTP_VIDEO_API_STORE_ID_LEN    32


/* S3's smallest part but the last */
#define NGX_HTTP_VIDEO_API_STORE_PART_MIN  (5 * 1024 * 1024)


typedef enum {
    STORE_MP_LIST = 0,
    STORE_MP_COMPLETE,
    STORE_MP_ABORT
} ngx_http_video_api_store_mp_op_e;


typedef struct {
    ngx_http_video_api_store_mp_op_e  op;
    char                             *dir;        /* the upload's */
    char                             *target;     /* the object's file */
    char                             *incoming;   /* temporary files */
    ngx_fd_t                          body;       /* Complete's, or -1 */
    off_t                             body_len;
    uint32_t                          marker;     /* ListParts' */
    uint32_t                          max_parts;
    video_s3xml_str_t                 bucket;
    video_s3xml_str_t                 key;
    video_s3xml_str_t                 upload_id;

    /* out, malloc()ed */
    int                               status;
    const char                       *code;
    const char                       *message;
    int                               failed;     /* errno */
    char                             *xml;
    long                              xml_len;

    ngx_http_request_t               *request;
} ngx_http_video_api_store_mp_t;


static ngx_int_t ngx_http_video_api_store_mp_create(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr);
static ngx_int_t ngx_http_video_api_store_mp_part(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *id, ngx_str_t *number);
static ngx_int_t ngx_http_video_api_store_mp_task(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *id,
    ngx_http_video_api_store_mp_op_e op);
static void ngx_http_video_api_store_mp_body(ngx_http_request_t *r);
static void ngx_http_video_api_store_mp_thread(void *data, ngx_log_t *log);
static void ngx_http_video_api_store_mp_done(ngx_event_t *ev);
static char *ngx_http_video_api_store_mp_dir(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *id);
static ngx_int_t ngx_http_video_api_store_mp_owned(char *dir,
    ngx_http_video_api_store_req_t *sr);


ngx_int_t
ngx_http_video_api_store_multipart(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr)
{
    ngx_str_t  id, number;

    if (ngx_http_video_api_store_has_arg(r, "uploads")) {
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_ALLOWED,
                       "MethodNotAllowed",
                       "The specified method is not allowed against this "
                       "resource");
        }

        return ngx_http_video_api_store_mp_create(r, sr);
    }

    if (ngx_http_arg(r, (u_char *) "uploadId", 8, &id) != NGX_OK) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                   "InvalidArgument", "partNumber needs an uploadId.");
    }

    switch (r->method) {

    case NGX_HTTP_PUT:
        if (ngx_http_arg(r, (u_char *) "partNumber", 10, &number) != NGX_OK)
        {
            return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                       "InvalidArgument", "UploadPart needs a partNumber.");
        }

        return ngx_http_video_api_store_mp_part(r, sr, &id, &number);

    case NGX_HTTP_GET:
        return ngx_http_video_api_store_mp_task(r, sr, &id, STORE_MP_LIST);

    case NGX_HTTP_POST:
        return ngx_http_video_api_store_mp_task(r, sr, &id,
                                                STORE_MP_COMPLETE);

    case NGX_HTTP_DELETE:
        return ngx_http_video_api_store_mp_task(r, sr, &id, STORE_MP_ABORT);

    default:
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_ALLOWED,
                   "MethodNotAllowed",
                   "The specified method is not allowed against this "
                   "resource");
    }
}


/* "<root>/.uploads/<id>", NUL-terminated; NULL for an id of bad form */

static char *
ngx_http_video_api_store_mp_dir(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *id)
{
    u_char      *dir, *p;
    ngx_uint_t   i;

    if (id->len != NGX_HTTP_VIDEO_API_STORE_ID_LEN) {
        return NULL;
    }

    for (i = 0; i < id->len; i++) {
        if (!((id->data[i] >= '0' && id->data[i] <= '9')
              || (id->data[i] >= 'a' && id->data[i] <= 'f')))
        {
            return NULL;
        }
    }

    dir = ngx_pnalloc(r->pool, sr->root.len + sizeof("/" ".uploads" "/")
                               + id->len);
    if (dir == NULL) {
        return NULL;
    }

    p = ngx_cpymem(dir, sr->root.data, sr->root.len);
    p = ngx_cpymem(p, "/" NGX_HTTP_VIDEO_API_STORE_UPLOADS "/",
                   sizeof("/" NGX_HTTP_VIDEO_API_STORE_UPLOADS "/") - 1);
    p = ngx_cpymem(p, id->data, id->len);
    *p = '\0';

    return (char *) dir;
}


/*
 * The upload is there and is this bucket's and key's: NGX_OK, else
 * NGX_DECLINED (S3's NoSuchUpload either way: an id is no capability
 * across keys)
 */

static ngx_int_t
ngx_http_video_api_store_mp_owned(char *dir,
    ngx_http_video_api_store_req_t *sr)
{
    ssize_t  n;
    u_char   value[VIDEO_S3XML_KEY_MAX + 1];

    n = getxattr(dir, NGX_HTTP_VIDEO_API_STORE_XATTR_BUCKET, value,
                 sizeof(value));

    if (n < 0 || (size_t) n != sr->bucket.len
        || ngx_memcmp(value, sr->bucket.data, n) != 0)
    {
        return NGX_DECLINED;
    }

    n = getxattr(dir, NGX_HTTP_VIDEO_API_STORE_XATTR_KEY, value, sizeof(value));

    if (n < 0 || (size_t) n != sr->key.len
        || ngx_memcmp(value, sr->key.data, n) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_store_no_upload(ngx_http_request_t *r)
{
    return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_FOUND,
               "NoSuchUpload", "The specified upload does not exist. The "
               "upload ID may be invalid, or the upload may have been "
               "aborted or completed.");
}


/* -- CreateMultipartUpload -------------------------------------------- */

static ngx_int_t
ngx_http_video_api_store_mp_create(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr)
{
    u_char             raw[16], hex[NGX_HTTP_VIDEO_API_STORE_ID_LEN + 1];
    char              *dir, *xml;
    long               len;
    ngx_int_t          rc;
    ngx_str_t          id, type;
    ngx_err_t          err;
    ngx_buf_t         *b;
    video_s3xml_str_t  bucket, key, upload;

    static ngx_str_t  xml_type = ngx_string("application/xml");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return ngx_http_video_api_store_internal(r);
    }

    ngx_hex_dump(hex, raw, sizeof(raw));
    hex[NGX_HTTP_VIDEO_API_STORE_ID_LEN] = '\0';

    id.data = hex;
    id.len = NGX_HTTP_VIDEO_API_STORE_ID_LEN;

    dir = ngx_http_video_api_store_mp_dir(r, sr, &id);
    if (dir == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    if (r->headers_in.content_type != NULL
        && r->headers_in.content_type->value.len > 0)
    {
        type = r->headers_in.content_type->value;

    } else {
        ngx_str_set(&type, "binary/octet-stream");
    }

    if (ngx_create_dir(dir, 0755) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err != NGX_ENOENT
            || ngx_create_full_path((u_char *) dir, 0755) != 0
            || ngx_create_dir(dir, 0755) == NGX_FILE_ERROR)
        {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                          ngx_create_dir_n " \"%s\" failed", dir);
            return ngx_http_video_api_store_internal(r);
        }
    }

    if (setxattr(dir, NGX_HTTP_VIDEO_API_STORE_XATTR_BUCKET, sr->bucket.data,
                 sr->bucket.len, 0) != 0
        || setxattr(dir, NGX_HTTP_VIDEO_API_STORE_XATTR_KEY, sr->key.data,
                    sr->key.len, 0) != 0
        || setxattr(dir, NGX_HTTP_VIDEO_API_STORE_XATTR_TYPE, type.data,
                    type.len, 0) != 0)
    {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "video_api: the store cannot keep an upload's "
                      "metadata on \"%s\"", dir);
        (void) ngx_delete_dir(dir);
        return ngx_http_video_api_store_internal(r);
    }

    bucket.data = (char *) sr->bucket.data;
    bucket.len = sr->bucket.len;
    key.data = (char *) sr->key.data;
    key.len = sr->key.len;
    upload.data = (char *) hex;
    upload.len = NGX_HTTP_VIDEO_API_STORE_ID_LEN;

    len = video_s3xml_initiate(&bucket, &key, &upload, NULL);
    if (len < 0) {
        return ngx_http_video_api_store_internal(r);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    xml = (char *) b->pos;
    b->last += video_s3xml_initiate(&bucket, &key, &upload, xml);

    return ngx_http_video_api_send_body(r, NGX_HTTP_OK, &xml_type, b);
}


/* -- UploadPart ------------------------------------------------------- */

static ngx_int_t
ngx_http_video_api_store_mp_part(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *id, ngx_str_t *number)
{
    char       *dir;
    u_char     *p;
    ngx_int_t   n;

    n = ngx_atoi(number->data, number->len);

    if (n < 1 || n > VIDEO_S3XML_PARTS_MAX) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                   "InvalidArgument",
                   "Part number must be an integer between 1 and 10000, "
                   "inclusive");
    }

    dir = ngx_http_video_api_store_mp_dir(r, sr, id);

    if (dir == NULL || ngx_http_video_api_store_mp_owned(dir, sr) != NGX_OK)
    {
        return ngx_http_video_api_store_no_upload(r);
    }

    /* the part's file replaces the object's as the PUT's target */

    sr->path.data = ngx_pnalloc(r->pool, ngx_strlen(dir) + 1 + NGX_INT_T_LEN
                                         + 1);
    if (sr->path.data == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    p = ngx_sprintf(sr->path.data, "%s/%i", dir, n);
    sr->path.len = p - sr->path.data;
    *p = '\0';

    sr->part = n;

    return ngx_http_video_api_store_put(r, sr);
}


/* -- ListParts, CompleteMultipartUpload, AbortMultipartUpload ---------- */

static ngx_int_t
ngx_http_video_api_store_mp_task(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *id,
    ngx_http_video_api_store_mp_op_e op)
{
    u_char                         *p;
    ngx_int_t                       rc, n;
    ngx_str_t                       value;
    ngx_thread_task_t              *task;
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_video_api_store_mp_t  *mp;

    task = ngx_thread_task_alloc(r->pool,
                                 sizeof(ngx_http_video_api_store_mp_t));
    if (task == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    mp = task->ctx;
    mp->op = op;
    mp->request = r;
    mp->body = NGX_INVALID_FILE;
    mp->max_parts = 1000;

    mp->dir = ngx_http_video_api_store_mp_dir(r, sr, id);

    if (mp->dir == NULL
        || ngx_http_video_api_store_mp_owned(mp->dir, sr) != NGX_OK)
    {
        return ngx_http_video_api_store_no_upload(r);
    }

    mp->bucket.data = (char *) sr->bucket.data;
    mp->bucket.len = sr->bucket.len;
    mp->key.data = (char *) sr->key.data;
    mp->key.len = sr->key.len;
    mp->upload_id.data = (char *) id->data;
    mp->upload_id.len = id->len;

    task->handler = ngx_http_video_api_store_mp_thread;
    task->event.handler = ngx_http_video_api_store_mp_done;
    task->event.data = mp;

    if (op == STORE_MP_LIST) {
        if (ngx_http_arg(r, (u_char *) "max-parts", 9, &value) == NGX_OK) {
            n = ngx_atoi(value.data, value.len);
            if (n < 0) {
                return ngx_http_video_api_store_error(r,
                           NGX_HTTP_BAD_REQUEST, "InvalidArgument",
                           "max-parts is not a number.");
            }

            mp->max_parts = (n > 1000) ? 1000 : n;
        }

        if (ngx_http_arg(r, (u_char *) "part-number-marker", 18, &value)
            == NGX_OK)
        {
            n = ngx_atoi(value.data, value.len);
            if (n < 0) {
                return ngx_http_video_api_store_error(r,
                           NGX_HTTP_BAD_REQUEST, "InvalidArgument",
                           "part-number-marker is not a number.");
            }

            mp->marker = (n > VIDEO_S3XML_PARTS_MAX)
                         ? VIDEO_S3XML_PARTS_MAX : n;
        }
    }

    if (op != STORE_MP_COMPLETE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_video_api_store_post(r, task);
    }

    /* Complete: the object's file and where it is assembled */

    mp->target = (char *) sr->path.data;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    mp->incoming = ngx_pnalloc(r->pool,
                               clcf->client_body_temp_path->name.len + 1);
    if (mp->incoming == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    p = ngx_cpymem(mp->incoming, clcf->client_body_temp_path->name.data,
                   clcf->client_body_temp_path->name.len);
    *p = '\0';

    if (r->headers_in.content_length_n < 0) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_LENGTH_REQUIRED,
                   "MissingContentLength",
                   "You must provide the Content-Length HTTP header.");
    }

    if (r->headers_in.content_length_n > VIDEO_S3XML_BODY_MAX) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                   "MalformedXML", "The XML you provided was not "
                   "well-formed or did not validate against our published "
                   "schema");
    }

    ctx = ngx_http_video_api_get_ctx(r);
    if (ctx == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    ctx->data = task;

    /* the body in a file: the task reads it */

    r->request_body_in_file_only = 1;
    r->request_body_in_clean_file = 1;
    r->request_body_file_log_level = 0;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_video_api_store_mp_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_video_api_store_mp_body(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_thread_task_t              *task;
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_video_api_store_mp_t  *mp;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    task = ctx->data;
    mp = task->ctx;

    if (r->request_body != NULL && r->request_body->temp_file != NULL) {
        mp->body = r->request_body->temp_file->file.fd;
        mp->body_len = r->request_body->temp_file->file.offset;
    }

    rc = ngx_http_video_api_store_post(r, task);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* the reference taken for the body goes with the task's */

    ngx_http_finalize_request(r, NGX_DONE);
}


/* -- the tasks, in a thread of the pool -------------------------------- */

static void
ngx_http_video_api_store_mp_fail(ngx_http_video_api_store_mp_t *mp,
    int status, const char *code, const char *message)
{
    mp->status = status;
    mp->code = code;
    mp->message = message;
}


/* the parts there are, in order, with their sizes and ETags */

static int
ngx_http_video_api_store_mp_parts(ngx_http_video_api_store_mp_t *mp,
    video_s3xml_part_t **parts, size_t *nparts)
{
    DIR                 *d;
    char                 path[PATH_MAX];
    char                *end;
    size_t               n;
    ssize_t              len;
    unsigned long        number;
    struct stat          st;
    struct dirent       *e;
    video_s3xml_part_t  *all, *p;

    all = calloc(VIDEO_S3XML_PARTS_MAX + 1, sizeof(video_s3xml_part_t));
    if (all == NULL) {
        mp->failed = ENOMEM;
        return -1;
    }

    d = opendir(mp->dir);
    if (d == NULL) {
        free(all);

        if (errno == ENOENT) {
            ngx_http_video_api_store_mp_fail(mp, 404, "NoSuchUpload",
                "The specified upload does not exist.");
            return -1;
        }

        mp->failed = errno;
        return -1;
    }

    while ((e = readdir(d)) != NULL) {

        errno = 0;
        number = strtoul(e->d_name, &end, 10);

        if (errno || *end != '\0' || number < 1
            || number > VIDEO_S3XML_PARTS_MAX || e->d_name[0] == '0')
        {
            continue;
        }

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", mp->dir,
                              e->d_name)
            >= sizeof(path))
        {
            continue;
        }

        p = &all[number];

        len = getxattr(path, NGX_HTTP_VIDEO_API_STORE_XATTR_ETAG, p->etag,
                       VIDEO_S3XML_ETAG_MAX);

        if (len != 32 || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }

        p->etag[32] = '\0';
        p->etag_len = 32;
        p->number = (uint32_t) number;
        p->size = st.st_size;
        p->mtime_ms = (int64_t) st.st_mtim.tv_sec * 1000
                      + st.st_mtim.tv_nsec / 1000000;
    }

    closedir(d);

    /* packed in order */

    n = 0;

    for (number = 1; number <= VIDEO_S3XML_PARTS_MAX; number++) {
        if (all[number].number) {
            all[n++] = all[number];
        }
    }

    *parts = all;
    *nparts = n;

    return 0;
}


static void
ngx_http_video_api_store_mp_list(ngx_http_video_api_store_mp_t *mp)
{
    long                      len;
    size_t                    n, i, first;
    video_s3xml_part_t       *parts;
    video_s3xml_list_parts_t  lp;

    if (ngx_http_video_api_store_mp_parts(mp, &parts, &n) != 0) {
        return;
    }

    for (first = 0; first < n && parts[first].number <= mp->marker; first++)
    {
        /* void */
    }

    ngx_memzero(&lp, sizeof(video_s3xml_list_parts_t));

    lp.bucket = mp->bucket;
    lp.key = mp->key;
    lp.upload_id = mp->upload_id;
    lp.part_number_marker = mp->marker;
    lp.max_parts = mp->max_parts;
    lp.parts = parts + first;
    lp.nparts = n - first;

    if (lp.nparts > mp->max_parts) {
        lp.nparts = mp->max_parts;
        lp.truncated = 1;
    }

    i = first + lp.nparts;
    lp.next_part_number_marker = (lp.nparts > 0)
                                 ? parts[i - 1].number : mp->marker;

    len = video_s3xml_list_parts(&lp, NULL);

    if (len < 0 || (mp->xml = malloc(len)) == NULL) {
        mp->failed = (len < 0) ? EINVAL : ENOMEM;
        free(parts);
        return;
    }

    mp->xml_len = video_s3xml_list_parts(&lp, mp->xml);

    free(parts);
}


/* every part's file, then the directory */

static void
ngx_http_video_api_store_mp_remove(ngx_http_video_api_store_mp_t *mp)
{
    DIR            *d;
    char            path[PATH_MAX];
    struct dirent  *e;

    d = opendir(mp->dir);
    if (d == NULL) {
        return;
    }

    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", mp->dir,
                              e->d_name)
            < sizeof(path))
        {
            (void) unlink(path);
        }
    }

    closedir(d);

    (void) rmdir(mp->dir);
}


static void
ngx_http_video_api_store_mp_complete(ngx_http_video_api_store_mp_t *mp)
{
    int                  fd, part;
    char                *body, *buf, *p, temp[PATH_MAX], path[PATH_MAX];
    long                 len;
    size_t               n, i, nhave, given;
    ssize_t              got;
    off_t                left;
    ssize_t              type_len;
    unsigned int         md_len;
    EVP_MD_CTX          *md;
    video_s3xml_part_t  *have, *want;
    video_s3xml_str_t    etag, location;
    u_char               digest[16], bin[16];
    char                 type[256], text[VIDEO_S3XML_ETAG_MAX + 1];
    int                  rc, in, small;

    body = NULL;
    buf = NULL;
    small = 0;
    have = NULL;
    want = NULL;
    md = NULL;
    fd = -1;
    temp[0] = '\0';

    if (mp->body == NGX_INVALID_FILE || mp->body_len <= 0
        || mp->body_len > VIDEO_S3XML_BODY_MAX)
    {
        ngx_http_video_api_store_mp_fail(mp, 400, "MalformedXML",
            "The XML you provided was not well-formed or did not validate "
            "against our published schema");
        return;
    }

    body = malloc(mp->body_len);
    buf = malloc(mp->body_len);
    want = calloc(VIDEO_S3XML_PARTS_MAX, sizeof(video_s3xml_part_t));

    if (body == NULL || buf == NULL || want == NULL) {
        mp->failed = ENOMEM;
        goto done;
    }

    for (n = 0; n < (size_t) mp->body_len; n += got) {
        got = pread(mp->body, body + n, mp->body_len - n, n);
        if (got <= 0) {
            mp->failed = got ? errno : EIO;
            goto done;
        }
    }

    rc = video_s3xml_parse_complete(body, mp->body_len, buf, want,
                                    VIDEO_S3XML_PARTS_MAX, &given);
    if (rc != VIDEO_S3XML_OK) {
        ngx_http_video_api_store_mp_fail(mp, 400, video_s3xml_code(rc),
            rc == VIDEO_S3XML_INVALID_PART_ORDER
            ? "The list of parts was not in ascending order. Parts must be "
              "ordered by part number."
            : "The XML you provided was not well-formed or did not "
              "validate against our published schema");
        goto done;
    }

    if (ngx_http_video_api_store_mp_parts(mp, &have, &nhave) != 0) {
        goto done;
    }

    /* each part named is there, with that ETag; all but the last >= 5 MB */

    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
        mp->failed = ENOMEM;
        goto done;
    }

    for (i = 0, n = 0; i < given; i++) {

        while (n < nhave && have[n].number < want[i].number) {
            n++;
        }

        if (n == nhave || have[n].number != want[i].number
            || ngx_strncasecmp((u_char *) have[n].etag,
                               (u_char *) want[i].etag, 32) != 0)
        {
            ngx_http_video_api_store_mp_fail(mp, 400, "InvalidPart",
                "One or more of the specified parts could not be found. "
                "The part may not have been uploaded, or the specified "
                "entity tag may not match the part's entity tag.");
            goto done;
        }

        /* judged once every part is known to be there, as S3 does */

        if (i + 1 < given && have[n].size < NGX_HTTP_VIDEO_API_STORE_PART_MIN)
        {
            small = 1;
        }

        for (part = 0; part < 16; part++) {
            bin[part] = (u_char) ((ngx_hextoi((u_char *) have[n].etag
                                              + part * 2, 2)) & 0xff);
        }

        if (EVP_DigestUpdate(md, bin, 16) != 1) {
            mp->failed = EIO;
            goto done;
        }

        want[i].size = have[n].size;
    }

    if (small) {
        ngx_http_video_api_store_mp_fail(mp, 400, "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed "
            "object size.");
        goto done;
    }

    if (EVP_DigestFinal_ex(md, digest, &md_len) != 1) {
        mp->failed = EIO;
        goto done;
    }

    /* the parts, in order, into one file next to the data */

    if ((size_t) snprintf(temp, sizeof(temp), "%s/mpXXXXXX", mp->incoming)
        >= sizeof(temp))
    {
        temp[0] = '\0';
        mp->failed = ENAMETOOLONG;
        goto done;
    }

    fd = mkstemp(temp);
    if (fd == -1) {
        temp[0] = '\0';
        mp->failed = errno;
        goto done;
    }

    for (i = 0; i < given; i++) {
        snprintf(path, sizeof(path), "%s/%u", mp->dir,
                 (unsigned) want[i].number);

        in = open(path, O_RDONLY);
        if (in == -1) {
            mp->failed = errno;
            goto done;
        }

        for (left = want[i].size; left > 0; left -= got) {
            got = copy_file_range(in, NULL, fd, NULL, left, 0);
            if (got <= 0) {
                mp->failed = got ? errno : EIO;
                close(in);
                goto done;
            }
        }

        close(in);
    }

    p = text;
    for (i = 0; i < 16; i++) {
        p += sprintf(p, "%02x", digest[i]);
    }
    p += sprintf(p, "-%zu", given);

    type_len = getxattr(mp->dir, NGX_HTTP_VIDEO_API_STORE_XATTR_TYPE, type,
                        sizeof(type));
    if (type_len <= 0) {
        memcpy(type, "binary/octet-stream", sizeof("binary/octet-stream") - 1);
        type_len = sizeof("binary/octet-stream") - 1;
    }

    if (fsetxattr(fd, NGX_HTTP_VIDEO_API_STORE_XATTR_ETAG, text, p - text, 0)
        != 0
        || fsetxattr(fd, NGX_HTTP_VIDEO_API_STORE_XATTR_TYPE, type, type_len, 0)
           != 0
        || fchmod(fd, 0644) != 0)
    {
        mp->failed = errno;
        goto done;
    }

    if (rename(temp, mp->target) != 0) {
        if (errno != ENOENT
            || ngx_create_full_path((u_char *) mp->target, 0755) != 0
            || rename(temp, mp->target) != 0)
        {
            mp->failed = errno;
            goto done;
        }
    }

    temp[0] = '\0';

    ngx_http_video_api_store_mp_remove(mp);

    etag.data = text;
    etag.len = p - text;
    location.data = "";
    location.len = 0;

    len = video_s3xml_complete(&location, &mp->bucket, &mp->key, &etag,
                               NULL);

    if (len < 0 || (mp->xml = malloc(len)) == NULL) {
        mp->failed = (len < 0) ? EINVAL : ENOMEM;
        goto done;
    }

    mp->xml_len = video_s3xml_complete(&location, &mp->bucket, &mp->key,
                                       &etag, mp->xml);

done:

    if (fd != -1) {
        close(fd);
    }

    if (temp[0] != '\0') {
        (void) unlink(temp);
    }

    if (md) {
        EVP_MD_CTX_free(md);
    }

    free(body);
    free(buf);
    free(want);
    free(have);
}


static void
ngx_http_video_api_store_mp_thread(void *data, ngx_log_t *log)
{
    ngx_http_video_api_store_mp_t *mp = data;

    switch (mp->op) {

    case STORE_MP_LIST:
        ngx_http_video_api_store_mp_list(mp);
        break;

    case STORE_MP_COMPLETE:
        ngx_http_video_api_store_mp_complete(mp);
        break;

    default: /* STORE_MP_ABORT */
        ngx_http_video_api_store_mp_remove(mp);
        break;
    }
}


/* -- back in the event loop ------------------------------------------- */

static void
ngx_http_video_api_store_mp_done(ngx_event_t *ev)
{
    ngx_http_video_api_store_mp_t *mp = ev->data;

    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = mp->request;

    r->main->blocked--;

    if (mp->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, mp->failed,
                      "video_api: the store's multipart upload \"%s\" "
                      "failed", mp->dir);
        rc = ngx_http_video_api_store_internal(r);

    } else if (mp->code) {
        rc = ngx_http_video_api_store_error(r, mp->status, mp->code,
                                            mp->message);

    } else if (mp->op == STORE_MP_ABORT) {
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->headers_out.content_length_n = -1;
        r->header_only = 1;
        rc = ngx_http_send_header(r);

    } else {
        rc = ngx_http_video_api_store_xml(r, mp->xml, mp->xml_len);
    }

    free(mp->xml);
    mp->xml = NULL;

    ngx_http_video_api_store_task_done(r, rc);
}
