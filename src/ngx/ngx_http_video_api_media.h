/*
 * Media in storage as the module reaches it: presigned requests through
 * internal locations, and playback tokens in the URLs it hands out.
 */

#ifndef _NGX_HTTP_VIDEO_API_MEDIA_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_MEDIA_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "video_sigv4.h"


/*
 * Internal locations that proxy to the storage endpoint (conf/nginx.conf):
 * one for the module's own probes, with no client headers, and one that
 * serves media to players (Range and conditional headers pass).
 */
#define NGX_HTTP_VIDEO_API_PROBE  "/_video_api/storage/"
#define NGX_HTTP_VIDEO_API_MEDIA  "/_video_api/media/"


/* the SigV4 credentials of the configured storage */
void ngx_http_video_api_media_creds(ngx_http_video_api_storage_conf_t *st,
    video_sigv4_creds_t *creds);

/*
 * The URI ("<prefix><bucket>/<key>") and arguments (the presigned query)
 * of a request for the object, for a subrequest or an internal redirect
 * to the internal location at prefix.  key is a NUL-terminated object key.
 */
ngx_int_t ngx_http_video_api_media_request(ngx_http_request_t *r,
    const char *prefix, const char *method, ngx_str_t *bucket,
    const char *key, long expires, ngx_str_t *uri, ngx_str_t *args);

/* the same with the operation's parameters (video_sigv4_presign_query) */
ngx_int_t ngx_http_video_api_media_request_query(ngx_http_request_t *r,
    const char *prefix, const char *method, ngx_str_t *bucket,
    const char *key, const video_sigv4_param_t *params, size_t nparams,
    long expires, ngx_str_t *uri, ngx_str_t *args);

/*
 * The same, reusing the request this worker presigned for the same object,
 * method and location until half of expires has passed: for files
 * players fetch over and over.
 */
ngx_int_t ngx_http_video_api_media_request_kept(ngx_http_request_t *r,
    const char *prefix, const char *method, ngx_str_t *bucket,
    const char *key, long expires, ngx_str_t *uri, ngx_str_t *args);

/* the kept requests freed, as the worker process exits */
void ngx_http_video_api_media_exit_worker(ngx_cycle_t *cycle);

/*
 * Serves "<root>/<name>" as nginx's static module serves a file, in the
 * request's own location (its open_file_cache, sendfile, aio, types):
 * ETag, Last-Modified, 304s and ranges.  name is relative, already
 * checked to stay under root.  NGX_DECLINED, with nothing sent, when no
 * such file is there; else what a content handler returns.
 */
ngx_int_t ngx_http_video_api_media_file(ngx_http_request_t *r,
    ngx_str_t *root, ngx_str_t *name);

/*
 * Its two halves, for a caller that sets headers of its own between
 * them: the file at path (NUL-terminated) opened as the location opens
 * files, NGX_DECLINED when it is not there or not a file,
 * NGX_HTTP_FORBIDDEN when the worker may not read it; then sent,
 * with the ETag and Content-Type the caller set, else nginx's.
 */
ngx_int_t ngx_http_video_api_media_open(ngx_http_request_t *r,
    ngx_str_t *path, ngx_open_file_info_t *of);
ngx_int_t ngx_http_video_api_media_send(ngx_http_request_t *r,
    ngx_str_t *path, ngx_open_file_info_t *of);

/*
 * Signs the play URLs of private videos in video JSON text (a video or an
 * array of them) with tokens from "video_api_playback": *json and *len
 * change when something was signed, and *expires is then the tokens'
 * expiry, else 0.
 */
ngx_int_t ngx_http_video_api_media_sign(ngx_http_request_t *r,
    u_char **json, size_t *len, time_t *expires);


#endif /* _NGX_HTTP_VIDEO_API_MEDIA_H_INCLUDED_ */
