/*
 * The local S3-compatible object store ("video_api_store on"): a content
 * handler that checks each request's SigV4 signature (a presigned query
 * or an Authorization header), then does the S3 operation itself on the
 * files under the location's root, a bucket being a directory.
 */

#ifndef _NGX_HTTP_VIDEO_API_STORE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_STORE_H_INCLUDED_


#include "ngx_http_video_api.h"


/* what the store keeps with an object, or an upload, as extended attributes */
#define NGX_HTTP_VIDEO_API_STORE_XATTR_ETAG    "user.video_api.etag"
#define NGX_HTTP_VIDEO_API_STORE_XATTR_TYPE    "user.video_api.content_type"
#define NGX_HTTP_VIDEO_API_STORE_XATTR_BUCKET  "user.video_api.bucket"
#define NGX_HTTP_VIDEO_API_STORE_XATTR_KEY     "user.video_api.key"


/* what an operation's handler is given */
typedef struct {
    ngx_str_t                    bucket;
    ngx_str_t                    key;        /* decoded; empty: the bucket */
    ngx_str_t                    path;       /* the file, NUL-terminated */

    /* x-amz-content-sha256 when it names the body's hash */
    u_char                       sha256[32];
    unsigned                     sha256_given:1;

    ngx_str_t                    root;       /* the data directory */
    ngx_uint_t                   part;       /* UploadPart's number */

    /* the request is signed in its Authorization header */
    unsigned                     header_signed:1;
} ngx_http_video_api_store_req_t;


/* "video_api_store on|off": the location's content handler */
char *ngx_http_video_api_store(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* installs the request body filter that hashes what PUTs send */
ngx_int_t ngx_http_video_api_store_init(ngx_conf_t *cf);

/*
 * An S3 error document with status; returns what a content handler
 * returns (nothing is finalized)
 */
ngx_int_t ngx_http_video_api_store_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *message);

/* S3's 500 */
ngx_int_t ngx_http_video_api_store_internal(ngx_http_request_t *r);

/*
 * A request header's value (name in lower case): 1 found, 0 absent, -1
 * sent more than once
 */
int ngx_http_video_api_store_header(void *data, const char *name,
    size_t name_len, const char **value, size_t *value_len);

/* the operations on one object (ngx_http_video_api_store_object.c) */
ngx_int_t ngx_http_video_api_store_get(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr);
ngx_int_t ngx_http_video_api_store_put(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr);
ngx_int_t ngx_http_video_api_store_delete(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr);

/* an "ETag: \"<etag>\"" header for the answer; NGX_OK or NGX_ERROR */
ngx_int_t ngx_http_video_api_store_etag(ngx_http_request_t *r, u_char *etag,
    size_t len);

/*
 * Runs task in the store's thread pool, the request held until the
 * task's event handler finalizes it: NGX_DONE, or the refusal answered
 */
ngx_int_t ngx_http_video_api_store_post(ngx_http_request_t *r,
    ngx_thread_task_t *task);

/*
 * In a task's event handler: the request released from the pool's
 * wait, answered with rc, and the connection's posted requests run
 */
void ngx_http_video_api_store_task_done(ngx_http_request_t *r, ngx_int_t rc);

/* an XML document the task made (copied): 200, application/xml */
ngx_int_t ngx_http_video_api_store_xml(ngx_http_request_t *r, char *xml,
    size_t len);

/* a query parameter is there, with a value or without ("?uploads") */
ngx_uint_t ngx_http_video_api_store_has_arg(ngx_http_request_t *r,
    const char *name);

/* multipart uploads (ngx_http_video_api_store_multipart.c) */
ngx_int_t ngx_http_video_api_store_multipart(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr);

/* ListObjectsV2 (ngx_http_video_api_store_list.c), in the thread pool */
ngx_int_t ngx_http_video_api_store_list(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr);


#endif /* _NGX_HTTP_VIDEO_API_STORE_H_INCLUDED_ */
