/*
 * The videos area's routes, shared by its two files: one video
 * (ngx_http_video_api_videos.c) and the list with its page cache
 * (ngx_http_video_api_videos_list.c).
 */

#ifndef _NGX_HTTP_VIDEO_API_VIDEOS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_VIDEOS_H_INCLUDED_


#include "ngx_http_video_api.h"


/* GET /api/videos */
ngx_int_t ngx_http_video_api_videos_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);

ngx_http_video_api_main_conf_t *ngx_http_video_api_videos_conf(
    ngx_http_request_t *r);

/*
 * answers 200 with prefix, video JSON text (one or a list of objects)
 * whose private play URLs get tokens, and suffix
 */
ngx_int_t ngx_http_video_api_videos_send_signed(ngx_http_request_t *r,
    const char *prefix, u_char *json, size_t len, const char *suffix);


#endif /* _NGX_HTTP_VIDEO_API_VIDEOS_H_INCLUDED_ */
