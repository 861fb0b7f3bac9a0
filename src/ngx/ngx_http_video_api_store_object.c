/*
 * The store's operations on one object: PutObject, GetObject, HeadObject
 * and DeleteObject.
 *
 * A PUT's body is hashed as it arrives (MD5 for the ETag, SHA-256 when
 * the signature names the body's hash, MD5 again against Content-MD5),
 * by a request body filter, before nginx writes it to a temporary file
 * next to the data; once all of it is there and every hash is right, the
 * object's metadata (its ETag and Content-Type) is set on that file as
 * extended attributes and the file is renamed, or for a create-only PUT
 * linked, into place.  A body that fails a check leaves nothing: the
 * temporary file goes with the request.  GET and HEAD answer the stored
 * ETag and Content-Type, with ranges and conditional requests as nginx
 * does them for static files.
 */

#include "ngx_http_video_api_store.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_response.h"

#include <sys/xattr.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>


/* what an object gets: what dav_access user:rw group:r all:r gave */
#define NGX_HTTP_VIDEO_API_STORE_ACCESS  0644


/* the longest ETag ("<32 hex>-<parts>") and Content-Type kept */
#define NGX_HTTP_VIDEO_API_STORE_ETAG_MAX   48
#define NGX_HTTP_VIDEO_API_STORE_TYPE_MAX   256


typedef struct {
    ngx_http_video_api_store_req_t  *sr;
    EVP_MD_CTX                      *md5;
    EVP_MD_CTX                      *sha256;
    u_char                           content_md5[16];
    ngx_str_t                        content_type;
    off_t                            received;
    unsigned                         content_md5_given:1;
    unsigned                         create_only:1;
    unsigned                         failed:1;
} ngx_http_video_api_store_put_t;


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;


static ngx_int_t ngx_http_video_api_store_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_video_api_store_put_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_store_put_place(ngx_http_request_t *r,
    ngx_http_video_api_store_put_t *put, u_char *etag);
static ngx_int_t ngx_http_video_api_store_put_preconditions(
    ngx_http_request_t *r, ngx_http_video_api_store_put_t *put);
static void ngx_http_video_api_store_put_cleanup(void *data);
static ngx_uint_t ngx_http_video_api_store_checksum(ngx_http_request_t *r);


static ngx_str_t  ngx_http_video_api_store_not_implemented =
    ngx_string("A header you provided implies functionality that is not "
               "implemented");


ngx_int_t
ngx_http_video_api_store_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_video_api_store_body_filter;

    return NGX_OK;
}


/* -- GetObject, HeadObject -------------------------------------------- */

ngx_int_t
ngx_http_video_api_store_get(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr)
{
    ssize_t                n;
    ngx_int_t              rc;
    ngx_open_file_info_t   of;
    u_char                 value[NGX_HTTP_VIDEO_API_STORE_TYPE_MAX];

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_video_api_media_open(r, &sr->path, &of);

    if (rc == NGX_DECLINED) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_FOUND,
                   "NoSuchKey", "The specified key does not exist.");
    }

    if (rc == NGX_HTTP_FORBIDDEN) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_FORBIDDEN,
                   "AccessDenied", "Access Denied");
    }

    if (rc != NGX_OK) {
        return ngx_http_video_api_store_internal(r);
    }

    /* what the object was stored with; a file put here otherwise has none */

    n = fgetxattr(of.fd, NGX_HTTP_VIDEO_API_STORE_XATTR_ETAG, value,
                  NGX_HTTP_VIDEO_API_STORE_ETAG_MAX);

    if (n > 0 && ngx_http_video_api_store_etag(r, value, n) != NGX_OK) {
        return ngx_http_video_api_store_internal(r);
    }

    n = fgetxattr(of.fd, NGX_HTTP_VIDEO_API_STORE_XATTR_TYPE, value,
                  sizeof(value));

    if (n > 0) {
        r->headers_out.content_type.data = ngx_pnalloc(r->pool, n);
        if (r->headers_out.content_type.data == NULL) {
            return ngx_http_video_api_store_internal(r);
        }

        ngx_memcpy(r->headers_out.content_type.data, value, n);
        r->headers_out.content_type.len = n;
        r->headers_out.content_type_len = n;
    }

    return ngx_http_video_api_media_send(r, &sr->path, &of);
}


/* -- DeleteObject ----------------------------------------------------- */

/*
 * S3 answers 204 whether the key was there or not; directories left
 * empty under the bucket go too, so a listing never meets them
 */

ngx_int_t
ngx_http_video_api_store_delete(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr)
{
    u_char     *p, *stop;
    ngx_int_t   rc;
    ngx_err_t   err;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_delete_file(sr->path.data) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err == NGX_EISDIR || err == NGX_EPERM) {
            return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_FOUND,
                       "NoSuchKey", "The specified key does not exist.");
        }

        if (err != NGX_ENOENT && err != NGX_ENOTDIR) {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, err,
                          ngx_delete_file_n " \"%s\" failed", sr->path.data);
            return ngx_http_video_api_store_internal(r);
        }
    }

    /* the key's directories, from the deepest, up to the bucket's */

    stop = sr->path.data + sr->path.len - sr->key.len;

    for (p = sr->path.data + sr->path.len; p > stop; p--) {
        if (*p != '/') {
            continue;
        }

        *p = '\0';

        if (ngx_delete_dir(sr->path.data) == NGX_FILE_ERROR) {
            *p = '/';
            break;
        }

        *p = '/';
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = -1;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/* -- PutObject -------------------------------------------------------- */

ngx_int_t
ngx_http_video_api_store_put(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr)
{
    int                              n;
    size_t                           len;
    ngx_int_t                        rc;
    ngx_str_t                        b64, md5;
    const char                      *value;
    ngx_pool_cleanup_t              *cln;
    ngx_http_video_api_ctx_t        *ctx;
    ngx_http_video_api_store_put_t  *put;

    /* S3 needs the length up front; a copy is not done here */

    if (r->headers_in.content_length_n < 0) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_LENGTH_REQUIRED,
                   "MissingContentLength",
                   "You must provide the Content-Length HTTP header.");
    }

    if (ngx_http_video_api_store_header(r, "x-amz-copy-source", 17, &value,
                                        &len)
        != 0)
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   (char *) ngx_http_video_api_store_not_implemented.data);
    }

    /*
     * the additional checksums of newer SDKs are not computed here:
     * refused, so a client never believes one was checked
     */

    if (ngx_http_video_api_store_checksum(r)) {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   "Additional checksums (x-amz-checksum-*, "
                   "x-amz-sdk-checksum-algorithm, x-amz-trailer) are not "
                   "supported: the store checks Content-MD5 and "
                   "x-amz-content-sha256");
    }

    if (ngx_http_video_api_store_header(r, "content-encoding", 16, &value,
                                        &len)
        == 1
        && ngx_strlcasestrn((u_char *) value, (u_char *) value + len,
                            (u_char *) "aws-chunked", 11 - 1)
           != NULL)
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   "aws-chunked bodies are not supported: send the body "
                   "as it is, with its Content-Length");
    }

    put = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_store_put_t));
    if (put == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    put->sr = sr;

    /* Content-MD5: the body's MD5, base64 */

    n = ngx_http_video_api_store_header(r, "content-md5", 11, &value, &len);

    if (n != 0) {
        b64.data = (u_char *) value;
        b64.len = len;
        md5.data = put->content_md5;

        if (n < 0 || len != 24
            || ngx_decode_base64(&md5, &b64) != NGX_OK || md5.len != 16)
        {
            return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                       "InvalidDigest",
                       "The Content-MD5 you specified was invalid.");
        }

        put->content_md5_given = 1;
    }

    /* what a GET answers later; S3's default */

    if (r->headers_in.content_type != NULL
        && r->headers_in.content_type->value.len > 0)
    {
        put->content_type = r->headers_in.content_type->value;

        if (put->content_type.len > NGX_HTTP_VIDEO_API_STORE_TYPE_MAX) {
            return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                       "InvalidArgument", "The Content-Type is too long.");
        }

    } else {
        ngx_str_set(&put->content_type, "binary/octet-stream");
    }

    /* NGX_DECLINED: met; else the refusal, answered */

    rc = ngx_http_video_api_store_put_preconditions(r, put);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* the digests, freed with the request */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    cln->handler = ngx_http_video_api_store_put_cleanup;
    cln->data = put;

    put->md5 = EVP_MD_CTX_new();
    put->sha256 = sr->sha256_given ? EVP_MD_CTX_new() : NULL;

    if (put->md5 == NULL
        || EVP_DigestInit_ex(put->md5, EVP_md5(), NULL) != 1
        || (sr->sha256_given
            && (put->sha256 == NULL
                || EVP_DigestInit_ex(put->sha256, EVP_sha256(), NULL) != 1)))
    {
        return ngx_http_video_api_store_internal(r);
    }

    ctx = ngx_http_video_api_get_ctx(r);
    if (ctx == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    ctx->data = put;

    /* the body in a file of its own, renamed or linked into place */

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


/*
 * "If-None-Match: *" (what the API presigns for uploads) only creates:
 * an object already there is a 412 before the body is read, and the
 * finished file is linked into place, which fails if the name exists,
 * so of two such PUTs racing one gets 412.  Other conditions are S3's
 * 501.  NGX_DECLINED when the PUT may go on, else the refusal's answer.
 */

static ngx_int_t
ngx_http_video_api_store_put_preconditions(ngx_http_request_t *r,
    ngx_http_video_api_store_put_t *put)
{
    int               rc;
    size_t            len;
    const char       *value;
    ngx_file_info_t   fi;

    if (ngx_http_video_api_store_header(r, "if-match", 8, &value, &len)
        != 0)
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   (char *) ngx_http_video_api_store_not_implemented.data);
    }

    rc = ngx_http_video_api_store_header(r, "if-none-match", 13, &value,
                                         &len);
    if (rc == 0) {
        return NGX_DECLINED;
    }

    if (rc < 0 || len != 1 || value[0] != '*') {
        return ngx_http_video_api_store_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                   "NotImplemented",
                   (char *) ngx_http_video_api_store_not_implemented.data);
    }

    put->create_only = 1;

    if (ngx_file_info(put->sr->path.data, &fi) != NGX_FILE_ERROR) {
        return ngx_http_video_api_store_error(r,
                   NGX_HTTP_PRECONDITION_FAILED, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did "
                   "not hold");
    }

    if (ngx_errno != NGX_ENOENT && ngx_errno != NGX_ENOTDIR) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_file_info_n " \"%s\" failed", put->sr->path.data);
        return ngx_http_video_api_store_internal(r);
    }

    return NGX_DECLINED;
}


/* a header of S3's additional checksums */

static ngx_uint_t
ngx_http_video_api_store_checksum(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    static ngx_str_t  names[] = {
        ngx_string("x-amz-checksum-"),
        ngx_string("x-amz-sdk-checksum-algorithm"),
        ngx_string("x-amz-trailer")
    };

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if ((h[i].key.len >= names[0].len
             && ngx_strncasecmp(h[i].key.data, names[0].data, names[0].len)
                == 0)
            || (h[i].key.len == names[1].len
                && ngx_strncasecmp(h[i].key.data, names[1].data,
                                   names[1].len)
                   == 0)
            || (h[i].key.len == names[2].len
                && ngx_strncasecmp(h[i].key.data, names[2].data,
                                   names[2].len)
                   == 0))
        {
            return 1;
        }
    }
}


static void
ngx_http_video_api_store_put_cleanup(void *data)
{
    ngx_http_video_api_store_put_t  *put = data;

    if (put->md5) {
        EVP_MD_CTX_free(put->md5);
    }

    if (put->sha256) {
        EVP_MD_CTX_free(put->sha256);
    }
}


/* every byte of a store PUT's body, once, as it arrives */

static ngx_int_t
ngx_http_video_api_store_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                           n;
    ngx_chain_t                     *cl;
    ngx_http_video_api_ctx_t        *ctx;
    ngx_http_video_api_loc_conf_t   *lcf;
    ngx_http_video_api_store_put_t  *put;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    /* a PUT's state (a POST's, CompleteMultipartUpload's, is a task) */

    if (!lcf->store || r->method != NGX_HTTP_PUT) {
        return ngx_http_next_request_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    put = (ctx != NULL) ? ctx->data : NULL;

    if (put == NULL || put->failed) {
        return ngx_http_next_request_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {

        if (!ngx_buf_in_memory(cl->buf)) {
            continue;
        }

        n = cl->buf->last - cl->buf->pos;

        if (n == 0) {
            continue;
        }

        if (EVP_DigestUpdate(put->md5, cl->buf->pos, n) != 1
            || (put->sha256
                && EVP_DigestUpdate(put->sha256, cl->buf->pos, n) != 1))
        {
            put->failed = 1;
            break;
        }

        put->received += n;
    }

    return ngx_http_next_request_body_filter(r, in);
}


/* the whole body is in its temporary file */

static void
ngx_http_video_api_store_put_body(ngx_http_request_t *r)
{
    u_char                           md5[16], sha[32];
    u_char                           etag[33];
    unsigned int                     n;
    ngx_http_video_api_ctx_t        *ctx;
    ngx_http_video_api_store_put_t  *put;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    put = ctx->data;

    if (put->failed || r->request_body == NULL
        || EVP_DigestFinal_ex(put->md5, md5, &n) != 1
        || (put->sha256 && EVP_DigestFinal_ex(put->sha256, sha, &n) != 1))
    {
        ngx_http_finalize_request(r, ngx_http_video_api_store_internal(r));
        return;
    }

    if (put->sha256
        && CRYPTO_memcmp(sha, put->sr->sha256, sizeof(sha)) != 0)
    {
        ngx_http_finalize_request(r,
            ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match "
                "what was computed."));
        return;
    }

    if (put->content_md5_given
        && CRYPTO_memcmp(md5, put->content_md5, sizeof(md5)) != 0)
    {
        ngx_http_finalize_request(r,
            ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                "BadDigest",
                "The Content-MD5 you specified did not match what we "
                "received."));
        return;
    }

    ngx_hex_dump(etag, md5, sizeof(md5));
    etag[32] = '\0';

    ngx_http_finalize_request(r,
        ngx_http_video_api_store_put_place(r, put, etag));
}


/*
 * The checked body's file, with its metadata, into place: S3's 200 with
 * the ETag
 */

static ngx_int_t
ngx_http_video_api_store_put_place(ngx_http_request_t *r,
    ngx_http_video_api_store_put_t *put, u_char *etag)
{
    int                              rc;
    ngx_fd_t                         fd;
    ngx_err_t                        err;
    ngx_str_t                        temp;
    ngx_uint_t                       tries;
    ngx_temp_file_t                 *tf;
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_video_api_store_req_t  *sr;

    sr = put->sr;
    tf = r->request_body->temp_file;

    /* an empty body has no file: one is made, empty */

    if (tf == NULL) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        tf = ngx_pcalloc(r->pool, sizeof(ngx_temp_file_t));
        if (tf == NULL) {
            return ngx_http_video_api_store_internal(r);
        }

        tf->file.fd = NGX_INVALID_FILE;
        tf->file.log = r->connection->log;
        tf->path = clcf->client_body_temp_path;
        tf->pool = r->pool;
        tf->persistent = 1;
        tf->clean = 1;

        if (ngx_create_temp_file(&tf->file, tf->path, tf->pool,
                                 tf->persistent, tf->clean, tf->access)
            != NGX_OK)
        {
            return ngx_http_video_api_store_internal(r);
        }
    }

    fd = tf->file.fd;
    temp = tf->file.name;

    if (fsetxattr(fd, NGX_HTTP_VIDEO_API_STORE_XATTR_ETAG, etag, 32, 0) != 0
        || (sr->part == 0
            && fsetxattr(fd, NGX_HTTP_VIDEO_API_STORE_XATTR_TYPE,
                         put->content_type.data, put->content_type.len, 0)
               != 0))
    {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "video_api: the store cannot keep an object's "
                      "metadata on \"%V\" (its file system must take "
                      "user extended attributes)", &temp);
        return ngx_http_video_api_store_internal(r);
    }

    if (fchmod(fd, NGX_HTTP_VIDEO_API_STORE_ACCESS) != 0) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "fchmod() \"%V\" failed", &temp);
        return ngx_http_video_api_store_internal(r);
    }

    for (tries = 0; /* void */; tries++) {

        rc = put->create_only
             ? link((char *) temp.data, (char *) sr->path.data)
             : rename((char *) temp.data, (char *) sr->path.data);

        if (rc == 0) {
            break;
        }

        err = ngx_errno;

        if (err == NGX_ENOENT && tries == 0 && sr->part == 0) {
            err = ngx_create_full_path(sr->path.data,
                      ngx_dir_access(NGX_HTTP_VIDEO_API_STORE_ACCESS));
            if (err == 0) {
                continue;
            }
        }

        if (err == NGX_EEXIST && put->create_only) {
            return ngx_http_video_api_store_error(r,
                       NGX_HTTP_PRECONDITION_FAILED, "PreconditionFailed",
                       "At least one of the pre-conditions you specified "
                       "did not hold");
        }

        if (err == NGX_EISDIR || err == NGX_ENOTDIR || err == NGX_EEXIST) {
            return ngx_http_video_api_store_error(r, NGX_HTTP_CONFLICT,
                       "InvalidRequest",
                       "The key names a prefix of other keys, or another "
                       "key is a prefix of it: the store keeps keys as "
                       "paths and cannot hold both");
        }

        ngx_log_error(NGX_LOG_CRIT, r->connection->log, err,
                      "video_api: cannot store \"%s\"", sr->path.data);
        return ngx_http_video_api_store_internal(r);
    }

    if (ngx_http_video_api_store_etag(r, etag, 32) != NGX_OK) {
        return ngx_http_video_api_store_internal(r);
    }

    /* the request's conditions were the PUT's, met: no 304 from them */

    r->disable_not_modified = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}
