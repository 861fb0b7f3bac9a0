/*
 * The local S3-compatible object store: in a location with
 * "video_api_store on", every request must carry a valid SigV4 signature
 * (a presigned query, or an Authorization header as the SDKs and the
 * aws-cli sign) made with the storage keys, for one of the configured
 * buckets, path style; then the store does the S3 operation itself on
 * the files under the location's root (a bucket is a directory, a key
 * its path under it).  Refusals are S3's XML errors, so any S3 client
 * understands them, and change nothing.
 */

#include "ngx_http_video_api_store.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_response.h"
#include "video_sigv4.h"


static ngx_int_t ngx_http_video_api_store_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_store_verify(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *path);
static ngx_int_t ngx_http_video_api_store_verdict(ngx_http_request_t *r,
    int rc, const char *err);
static ngx_int_t ngx_http_video_api_store_bucket(ngx_http_request_t *r,
    ngx_http_video_api_storage_conf_t *st, ngx_http_video_api_store_req_t *sr);
static ngx_int_t ngx_http_video_api_store_path_ok(ngx_str_t *path);


static ngx_str_t  ngx_http_video_api_store_allow =
    ngx_string("GET, HEAD, PUT, DELETE, OPTIONS");

/* a page uploading parts reads each one's ETag to complete the upload */
static ngx_str_t  ngx_http_video_api_store_expose = ngx_string("ETag");


char *
ngx_http_video_api_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_loc_conf_t *lcf = conf;

    char                      *rv;
    ngx_http_core_loc_conf_t  *clcf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (lcf->store) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_http_video_api_store_handler;

        /* nginx's "default" thread pool: listings, multipart assembly */

        lcf->store_pool = ngx_thread_pool_add(cf, NULL);
        if (lcf->store_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_video_api_store_handler(ngx_http_request_t *r)
{
    u_char                          *q, *last;
    size_t                           root;
    ngx_int_t                        rc;
    ngx_str_t                        path, value;
    ngx_http_video_api_main_conf_t  *mcf;
    ngx_http_video_api_store_req_t  *sr;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", "No storage credentials are configured");
    }

    /* browsers upload from other origins: answer their preflight */

    if (r->method == NGX_HTTP_OPTIONS) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_video_api_cors_options(r,
                                               &ngx_http_video_api_store_allow);
    }

    /*
     * the CORS headers go on refusals too: a page whose part URL expired
     * reads the 403 and asks for a new one, where without them it sees
     * only a network error
     */

    if (ngx_http_video_api_cors_exposing(r, &ngx_http_video_api_store_expose)
        != NGX_OK)
    {
        return ngx_http_video_api_store_internal(r);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PUT
                       |NGX_HTTP_DELETE|NGX_HTTP_POST)))
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_ALLOWED,
                   "MethodNotAllowed",
                   "The specified method is not allowed against this "
                   "resource");
    }

    /* the raw request line: what the client signed */

    path.data = r->unparsed_uri.data;
    q = ngx_strlchr(r->unparsed_uri.data,
                    r->unparsed_uri.data + r->unparsed_uri.len, '?');
    path.len = (q ? q : r->unparsed_uri.data + r->unparsed_uri.len)
               - path.data;

    if (ngx_http_video_api_store_path_ok(&path) != NGX_OK) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied",
                   "Keys may not contain empty, \".\" or \"..\" segments, "
                   "encoded slashes or NUL");
    }

    sr = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_store_req_t));
    if (sr == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    if (ngx_http_video_api_store_bucket(r, &mcf->storage, sr) != NGX_OK) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", "The bucket is not served here");
    }

    /* NGX_DECLINED: verified; else the refusal, answered */

    rc = ngx_http_video_api_store_verify(r, sr, &path);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    last = ngx_http_map_uri_to_path(r, &sr->path, &root, 0);
    if (last == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    sr->path.len = last - sr->path.data;

    sr->root.data = sr->path.data;
    sr->root.len = root;

    while (sr->root.len > 1 && sr->root.data[sr->root.len - 1] == '/') {
        sr->root.len--;
    }

    /* the bucket itself: HeadBucket, ListObjectsV2 */

    if (sr->key.len == 0) {
        if (r->method == NGX_HTTP_GET
            && ngx_http_arg(r, (u_char *) "list-type", 9, &value) == NGX_OK
            && value.len == 1 && value.data[0] == '2')
        {
            return ngx_http_video_api_store_list(r, sr);
        }

        if (r->method == NGX_HTTP_HEAD) {
            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }

            r->headers_out.status = NGX_HTTP_OK;
            r->headers_out.content_length_n = 0;
            r->header_only = 1;

            return ngx_http_send_header(r);
        }

        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   "A header you provided implies functionality that is "
                   "not implemented");
    }

    if (ngx_http_video_api_store_has_arg(r, "uploads")
        || ngx_http_video_api_store_has_arg(r, "uploadId")
        || ngx_http_video_api_store_has_arg(r, "partNumber"))
    {
        return ngx_http_video_api_store_multipart(r, sr);
    }

    if (ngx_http_video_api_store_has_arg(r, "acl")
        || ngx_http_video_api_store_has_arg(r, "tagging")
        || r->method == NGX_HTTP_POST)
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   "A header you provided implies functionality that is "
                   "not implemented");
    }

    switch (r->method) {

    case NGX_HTTP_PUT:
        return ngx_http_video_api_store_put(r, sr);

    case NGX_HTTP_DELETE:
        return ngx_http_video_api_store_delete(r, sr);

    default: /* GET, HEAD */
        return ngx_http_video_api_store_get(r, sr);
    }
}


/*
 * The signature: an Authorization header (what SDKs send), else the
 * presigned query; NGX_DECLINED when it is right, else what answering
 * the refusal returned
 */

static ngx_int_t
ngx_http_video_api_store_verify(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr, ngx_str_t *path)
{
    int                              rc;
    ngx_str_t                       *host, *auth;
    const char                      *err;
    char                             method[8];
    video_sigv4_creds_t              creds;
    video_sigv4_payload_t            payload;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    host = r->headers_in.host ? &r->headers_in.host->value : NULL;

    creds.access_key = (char *) mcf->storage.access_key.data;
    creds.secret_key = (char *) mcf->storage.secret_key.data;
    creds.region = (char *) mcf->storage.region.data;
    creds.service = "s3";

    err = NULL;

    /* the method name is not NUL-terminated in the request line */

    if (r->method_name.len >= sizeof(method)) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_ALLOWED,
                   "MethodNotAllowed", "The specified method is not allowed");
    }

    ngx_cpystrn((u_char *) method, r->method_name.data,
                r->method_name.len + 1);

    if (r->headers_in.authorization != NULL) {
        auth = &r->headers_in.authorization->value;

        rc = video_sigv4_verify_auth(&creds, method,
                                     (char *) path->data, path->len,
                                     (char *) r->args.data, r->args.len,
                                     host ? (char *) host->data : "",
                                     host ? host->len : 0,
                                     (char *) auth->data, auth->len,
                                     ngx_http_video_api_store_header, r,
                                     (int64_t) ngx_time(), &payload, &err);

        if (rc != VIDEO_SIGV4_OK) {
            return ngx_http_video_api_store_verdict(r, rc, err);
        }

        sr->header_signed = 1;

        switch (payload.kind) {

        case VIDEO_SIGV4_PAYLOAD_SHA256:
            ngx_memcpy(sr->sha256, payload.sha256, sizeof(sr->sha256));
            sr->sha256_given = 1;
            break;

        case VIDEO_SIGV4_PAYLOAD_STREAMING:
            return ngx_http_video_api_store_error(r,
                       NGX_HTTP_NOT_IMPLEMENTED, "NotImplemented",
                       "aws-chunked bodies (STREAMING-* payloads) are not "
                       "supported: sign the body's SHA-256 or "
                       "UNSIGNED-PAYLOAD");

        default:
            break;
        }

        return NGX_DECLINED;
    }

    rc = video_sigv4_verify_headers(&creds, method,
                                    (char *) path->data, path->len,
                                    (char *) r->args.data, r->args.len,
                                    host ? (char *) host->data : "",
                                    host ? host->len : 0,
                                    ngx_http_video_api_store_header, r,
                                    (int64_t) ngx_time(), &err);

    return ngx_http_video_api_store_verdict(r, rc, err);
}


/* a signature check's result: NGX_DECLINED for a pass, else the refusal */

static ngx_int_t
ngx_http_video_api_store_verdict(ngx_http_request_t *r, int rc,
    const char *err)
{
    switch (rc) {

    case VIDEO_SIGV4_OK:
        return NGX_DECLINED;

    case VIDEO_SIGV4_ERROR:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: store cannot check signatures: %s",
                      err ? err : "unknown error");
        return ngx_http_video_api_store_internal(r);

    case VIDEO_SIGV4_EXPIRED:
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "RequestExpired", err ? err : "Request has expired");

    case VIDEO_SIGV4_TIME_SKEWED:
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "RequestTimeTooSkewed",
                   "The difference between the request time and the "
                   "current time is too large.");

    case VIDEO_SIGV4_SIGNATURE_MISMATCH:
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "SignatureDoesNotMatch",
                   "The request signature we calculated does not match the "
                   "signature you provided");

    default:
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", err ? err : "Access Denied");
    }
}


ngx_uint_t
ngx_http_video_api_store_has_arg(ngx_http_request_t *r, const char *name)
{
    size_t   len;
    u_char  *p, *end;

    if (r->args.len == 0) {
        return 0;
    }

    len = ngx_strlen(name);
    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        if ((size_t) (end - p) >= len
            && ngx_strncmp(p, name, len) == 0
            && (p + len == end || p[len] == '=' || p[len] == '&'))
        {
            return 1;
        }

        p = ngx_strlchr(p, end, '&');
        if (p == NULL) {
            break;
        }

        p++;
    }

    return 0;
}


/*
 * A request header for the signature check; the signature covers one
 * value, so a header sent twice is reported as such
 */

int
ngx_http_video_api_store_header(void *data, const char *name,
    size_t name_len, const char **value, size_t *value_len)
{
    int                  n;
    ngx_uint_t           i;
    ngx_list_part_t     *part;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r;

    r = data;
    n = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name_len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, name_len) == 0)
        {
            if (n++ == 0) {
                *value = (char *) h[i].value.data;
                *value_len = h[i].value.len;
            }
        }
    }

    return (n > 1) ? -1 : n;
}


/*
 * The key is used as a file path: refuse what could mean something else on
 * disk than in S3 (dot segments nginx would resolve, empty segments it
 * would merge, encoded slashes or backslashes, NUL)
 */

static ngx_int_t
ngx_http_video_api_store_path_ok(ngx_str_t *path)
{
    u_char  *p, *end, *seg;

    p = path->data;
    end = p + path->len;

    if (p == end || *p != '/') {
        return NGX_ERROR;
    }

    while (p < end) {
        p++;
        seg = p;

        while (p < end && *p != '/') {

            if (*p == '%' && end - p >= 3
                && (ngx_strncasecmp(p, (u_char *) "%2f", 3) == 0
                    || ngx_strncasecmp(p, (u_char *) "%5c", 3) == 0
                    || ngx_strncmp(p, "%00", 3) == 0
                    || ngx_strncasecmp(p, (u_char *) "%2e", 3) == 0))
            {
                return NGX_ERROR;
            }

            if (*p == '\\' || *p == '\0') {
                return NGX_ERROR;
            }

            p++;
        }

        if (p - seg == 0
            || (p - seg == 1 && seg[0] == '.')
            || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the first segment must be a configured bucket; the key may be empty */

static ngx_int_t
ngx_http_video_api_store_bucket(ngx_http_request_t *r,
    ngx_http_video_api_storage_conf_t *st, ngx_http_video_api_store_req_t *sr)
{
    u_char      *slash, *end;
    ngx_str_t   *b[3];
    ngx_uint_t   i;

    if (r->uri.len < 2) {
        return NGX_ERROR;
    }

    end = r->uri.data + r->uri.len;
    slash = ngx_strlchr(r->uri.data + 1, end, '/');

    sr->bucket.data = r->uri.data + 1;
    sr->bucket.len = (slash ? slash : end) - sr->bucket.data;

    if (slash != NULL) {
        sr->key.data = slash + 1;
        sr->key.len = end - sr->key.data;
    }

    b[0] = &st->bucket_raw;
    b[1] = &st->bucket_processed;
    b[2] = &st->bucket_thumbnails;

    for (i = 0; i < 3; i++) {
        if (b[i]->len == sr->bucket.len
            && ngx_strncmp(b[i]->data, sr->bucket.data, sr->bucket.len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


/* an S3 error document; nothing of the request is acted on */

ngx_int_t
ngx_http_video_api_store_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    u_char     *p;
    size_t      len;
    ngx_int_t   rc;
    ngx_buf_t  *b;

    static ngx_str_t  xml = ngx_string("application/xml");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    len = sizeof("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                 "</Code><Message></Message><Resource></Resource></Error>\n")
          + ngx_strlen(code) + ngx_strlen(message)
          + ngx_escape_html(NULL, r->uri.data, r->uri.len) + r->uri.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->last, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<Error><Code>%s</Code><Message>%s</Message><Resource>",
                    code, message);
    p = (u_char *) ngx_escape_html(p, r->uri.data, r->uri.len);
    b->last = ngx_cpymem(p, "</Resource></Error>\n",
                         sizeof("</Resource></Error>\n") - 1);

    return ngx_http_video_api_send_body(r, status, &xml, b);
}


ngx_int_t
ngx_http_video_api_store_internal(ngx_http_request_t *r)
{
    return ngx_http_video_api_store_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
               "InternalError",
               "We encountered an internal error. Please try again.");
}


ngx_int_t
ngx_http_video_api_store_etag(ngx_http_request_t *r, u_char *etag, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "ETag");

    h->value.data = ngx_pnalloc(r->pool, len + 2);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "\"%*s\"", len, etag)
                   - h->value.data;

    r->headers_out.etag = h;

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_store_post(ngx_http_request_t *r, ngx_thread_task_t *task)
{
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    if (lcf->store_pool == NULL
        || ngx_thread_task_post(lcf->store_pool, task) != NGX_OK)
    {
        return ngx_http_video_api_store_internal(r);
    }

    /* the request waits for the task; a closed connection too */

    r->main->blocked++;
    r->main->count++;

    return NGX_DONE;
}


void
ngx_http_video_api_store_task_done(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_video_api_store_xml(ngx_http_request_t *r, char *xml, size_t len)
{
    ngx_buf_t  *b;

    static ngx_str_t  type = ngx_string("application/xml");

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    b->last = ngx_cpymem(b->pos, xml, len);

    return ngx_http_video_api_send_body(r, NGX_HTTP_OK, &type, b);
}
