/*
 * The local S3-compatible object store: in a location with
 * "video_api_store on", an access-phase handler lets through only requests
 * carrying a valid SigV4 presigned query for one of the configured buckets
 * (path style), then nginx itself does the rest: dav writes PUT and
 * DELETE, the static module serves GET and HEAD with ranges.  Refusals are
 * S3's XML errors, so any S3 client understands them.
 */

#include "ngx_http_video_api_store.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_response.h"
#include "video_sigv4.h"


static ngx_int_t ngx_http_video_api_store_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_store_refuse(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);
static ngx_int_t ngx_http_video_api_store_bucket(ngx_http_request_t *r,
    ngx_http_video_api_storage_conf_t *st);
static ngx_int_t ngx_http_video_api_store_path_ok(ngx_str_t *path);


static ngx_str_t  ngx_http_video_api_store_allow =
    ngx_string("GET, HEAD, PUT, DELETE, OPTIONS");


ngx_int_t
ngx_http_video_api_store_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_video_api_store_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_store_handler(ngx_http_request_t *r)
{
    int                              rc;
    u_char                          *q;
    ngx_str_t                        path, query, *host;
    const char                      *err;
    char                             method[8];
    video_sigv4_creds_t              creds;
    ngx_http_video_api_loc_conf_t   *lcf;
    ngx_http_video_api_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    if (!lcf->store || r != r->main) {
        return NGX_DECLINED;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", "No storage credentials are configured");
    }

    /* browsers upload from other origins: answer their preflight */

    if (r->method == NGX_HTTP_OPTIONS) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_finalize_request(r,
            ngx_http_video_api_cors_options(r,
                                            &ngx_http_video_api_store_allow));
        return NGX_DONE;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PUT
                       |NGX_HTTP_DELETE)))
    {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_NOT_ALLOWED,
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

    query = r->args;

    if (ngx_http_video_api_store_path_ok(&path) != NGX_OK) {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied",
                   "Keys may not contain empty, \".\" or \"..\" segments, "
                   "encoded slashes or NUL");
    }

    if (ngx_http_video_api_store_bucket(r, &mcf->storage) != NGX_OK) {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", "The bucket is not served here");
    }

    host = r->headers_in.host ? &r->headers_in.host->value : NULL;

    creds.access_key = (char *) mcf->storage.access_key.data;
    creds.secret_key = (char *) mcf->storage.secret_key.data;
    creds.region = (char *) mcf->storage.region.data;
    creds.service = "s3";

    err = NULL;

    /* the method name is not NUL-terminated in the request line */

    if (r->method_name.len >= sizeof(method)) {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_NOT_ALLOWED,
                   "MethodNotAllowed", "The specified method is not allowed");
    }

    ngx_cpystrn((u_char *) method, r->method_name.data,
                r->method_name.len + 1);

    rc = video_sigv4_verify(&creds, method,
                            (char *) path.data, path.len,
                            (char *) query.data, query.len,
                            host ? (char *) host->data : "",
                            host ? host->len : 0,
                            (int64_t) ngx_time(), &err);

    switch (rc) {

    case VIDEO_SIGV4_OK:
        break;

    case VIDEO_SIGV4_ERROR:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: store cannot check signatures: %s",
                      err ? err : "unknown error");
        return ngx_http_video_api_store_refuse(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR, "InternalError",
                   "We encountered an internal error. Please try again.");

    case VIDEO_SIGV4_EXPIRED:
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_FORBIDDEN,
                   "RequestExpired", err ? err : "Request has expired");

    case VIDEO_SIGV4_SIGNATURE_MISMATCH:
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_FORBIDDEN,
                   "SignatureDoesNotMatch",
                   "The request signature we calculated does not match the "
                   "signature you provided");

    default:
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", err ? err : "Access Denied");
    }

    /* dav or the static module answers; the CORS headers go along */

    if (ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
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


/* the first segment must be a configured bucket, and a key must follow */

static ngx_int_t
ngx_http_video_api_store_bucket(ngx_http_request_t *r,
    ngx_http_video_api_storage_conf_t *st)
{
    u_char      *slash;
    ngx_str_t    bucket, *b[3];
    ngx_uint_t   i;

    if (r->uri.len < 2) {
        return NGX_ERROR;
    }

    slash = ngx_strlchr(r->uri.data + 1, r->uri.data + r->uri.len, '/');

    if (slash == NULL || slash + 1 == r->uri.data + r->uri.len) {
        return NGX_ERROR;
    }

    bucket.data = r->uri.data + 1;
    bucket.len = slash - bucket.data;

    b[0] = &st->bucket_raw;
    b[1] = &st->bucket_processed;
    b[2] = &st->bucket_thumbnails;

    for (i = 0; i < 3; i++) {
        if (b[i]->len == bucket.len
            && ngx_strncmp(b[i]->data, bucket.data, bucket.len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


/* an S3 error document; nothing of the request is acted on */

static ngx_int_t
ngx_http_video_api_store_refuse(ngx_http_request_t *r, ngx_uint_t status,
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

    ngx_http_finalize_request(r,
                              ngx_http_video_api_send_body(r, status, &xml, b));

    return NGX_DONE;
}
