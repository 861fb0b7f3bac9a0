/*
 * Requests of the API's own to storage (S3, MinIO, the built-in store):
 * presigned for the endpoint the module uses internally and sent as a
 * subrequest through the internal storage location (conf/nginx.conf's
 * /_video_api/storage/, which proxies to that endpoint), so a route
 * waits on storage the way it waits on PostgreSQL: parked, never
 * blocking.  The location must pass the subrequest's body (S3's
 * CompleteMultipartUpload has one) and nothing of the client's request:
 * every call sets its body (empty but for a POST that has one) and its
 * length itself, so a route's own JSON body never reaches storage.
 */

#ifndef _NGX_HTTP_VIDEO_API_STORAGE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_STORAGE_H_INCLUDED_


#include "ngx_http_video_api_run.h"
#include "video_sigv4.h"


typedef struct {
    /* what storage answered, once the call is done */
    ngx_uint_t                   status;    /* 502: storage did not answer */
    off_t                        length;    /* Content-Length, -1: none */
    ngx_str_t                    etag;      /* the ETag header as sent */
    ngx_str_t                    body;      /* in memory (not for HEAD) */

    ngx_http_video_api_run_t    *run;
    unsigned                     done:1;
} ngx_http_video_api_storage_t;


/*
 * Sends method ("HEAD", "GET", "POST", "DELETE") for key in bucket, with
 * the operation's nparams query parameters (as for
 * video_sigv4_presign_query(): names ascending) and body (NULL: none), and
 * parks run until storage answers; then next runs with call filled.
 * Returns NGX_DONE for the step to return, or an error status.
 */
ngx_int_t ngx_http_video_api_storage_call(ngx_http_video_api_run_t *run,
    ngx_http_video_api_storage_t *call, const char *method,
    ngx_str_t *bucket, const char *key, const video_sigv4_param_t *params,
    size_t nparams, ngx_str_t *body,
    ngx_uint_t next);


#endif /* _NGX_HTTP_VIDEO_API_STORAGE_H_INCLUDED_ */
