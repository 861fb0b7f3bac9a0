/*
 * The local S3-compatible object store: in a location with
 * "video_api_store on", an access-phase handler lets through only requests
 * carrying a valid SigV4 presigned query for one of the configured buckets
 * (path style), whose signed headers are the request's own, then nginx
 * itself does the rest: dav writes PUT and DELETE, the static module
 * serves GET and HEAD with ranges.  A PUT with "If-None-Match: *" (what
 * the API presigns for uploads) only ever creates: the store writes it
 * itself, with link(), which fails when the object exists, so of two such
 * PUTs racing one gets 412.  Refusals are S3's XML errors, so any S3
 * client understands them.
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
static int ngx_http_video_api_store_header(void *data, const char *name,
    size_t name_len, const char **value, size_t *value_len);
static ngx_int_t ngx_http_video_api_store_conditional(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_store_put(ngx_http_request_t *r);
static void ngx_http_video_api_store_put_body(ngx_http_request_t *r);


/*
 * What a created object gets: the permissions conf/nginx.conf gives dav
 * ("dav_access user:rw group:r all:r"), directories searchable
 */
#define NGX_HTTP_VIDEO_API_STORE_ACCESS  0644


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

    rc = video_sigv4_verify_headers(&creds, method,
                                    (char *) path.data, path.len,
                                    (char *) query.data, query.len,
                                    host ? (char *) host->data : "",
                                    host ? host->len : 0,
                                    ngx_http_video_api_store_header, r,
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

    if (r->method == NGX_HTTP_PUT) {
        rc = ngx_http_video_api_store_conditional(r);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    /* dav or the static module answers; the CORS headers go along */

    if (ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * A request header for the signature check; the signature covers one
 * value, so a header sent twice is reported as such
 */

static int
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
 * PUT with S3's conditional headers: "If-None-Match: *" creates the object
 * or fails with 412, nothing else is implemented (S3 answers 501 too).  A
 * create goes to the store's own writer; an object already there is
 * refused before the body is read.  NGX_OK lets dav write as usual.
 */

static ngx_int_t
ngx_http_video_api_store_conditional(ngx_http_request_t *r)
{
    int               rc;
    size_t            root;
    u_char           *last;
    ngx_str_t         path;
    const char       *value;
    size_t            len;
    ngx_file_info_t   fi;

    if (ngx_http_video_api_store_header(r, "if-match", 8, &value, &len)
        != 0)
    {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   "A header you provided implies functionality that is "
                   "not implemented");
    }

    rc = ngx_http_video_api_store_header(r, "if-none-match", 13, &value,
                                         &len);
    if (rc == 0) {
        return NGX_OK;
    }

    if (rc < 0 || len != 1 || value[0] != '*') {
        return ngx_http_video_api_store_refuse(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   "A header you provided implies functionality that is "
                   "not implemented");
    }

    last = ngx_http_map_uri_to_path(r, &path, &root, 0);
    if (last == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_file_info(path.data, &fi) != NGX_FILE_ERROR) {
        return ngx_http_video_api_store_refuse(r,
                   NGX_HTTP_PRECONDITION_FAILED, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did "
                   "not hold");
    }

    if (ngx_errno != NGX_ENOENT && ngx_errno != NGX_ENOTDIR) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_file_info_n " \"%s\" failed", path.data);
        return ngx_http_video_api_store_refuse(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR, "InternalError",
                   "We encountered an internal error. Please try again.");
    }

    /* the content handler the location would run is set by now */

    r->content_handler = ngx_http_video_api_store_put;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_store_put(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    /* the body in a file of its own, linked into place when complete */

    r->request_body_in_file_only = 1;
    r->request_body_in_persistent_file = 1;
    r->request_body_in_clean_file = 1;
    r->request_body_file_log_level = 0;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_video_api_store_put_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_video_api_store_put_body(ngx_http_request_t *r)
{
    int          rc;
    size_t       root;
    u_char      *last;
    ngx_fd_t     fd;
    ngx_err_t    err;
    ngx_str_t    path, *temp;
    ngx_uint_t   tries;

    if (r->request_body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    last = ngx_http_map_uri_to_path(r, &path, &root, 0);
    if (last == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    path.len = last - path.data;

    /* an empty body has no file: the object is created empty */

    temp = (r->request_body->temp_file != NULL)
           ? &r->request_body->temp_file->file.name : NULL;

    if (temp != NULL
        && ngx_change_file_access(temp->data,
                                  NGX_HTTP_VIDEO_API_STORE_ACCESS)
           == NGX_FILE_ERROR)
    {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_change_file_access_n " \"%V\" failed", temp);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (tries = 0; /* void */; tries++) {

        if (temp != NULL) {
            rc = link((char *) temp->data, (char *) path.data);

        } else {
            fd = open((char *) path.data, O_WRONLY|O_CREAT|O_EXCL,
                      NGX_HTTP_VIDEO_API_STORE_ACCESS);
            rc = (fd == NGX_INVALID_FILE) ? -1 : close(fd);
        }

        if (rc == 0) {
            break;
        }

        err = ngx_errno;

        if (err == NGX_ENOENT && tries == 0) {
            err = ngx_create_full_path(path.data,
                      ngx_dir_access(NGX_HTTP_VIDEO_API_STORE_ACCESS));
            if (err == 0) {
                continue;
            }
        }

        if (err == NGX_EEXIST) {
            (void) ngx_http_video_api_store_refuse(r,
                       NGX_HTTP_PRECONDITION_FAILED, "PreconditionFailed",
                       "At least one of the pre-conditions you specified "
                       "did not hold");
            return;
        }

        ngx_log_error(NGX_LOG_CRIT, r->connection->log, err,
                      "video_api: cannot create \"%s\"", path.data);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->headers_out.status = NGX_HTTP_CREATED;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    ngx_http_finalize_request(r, ngx_http_send_header(r));
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
