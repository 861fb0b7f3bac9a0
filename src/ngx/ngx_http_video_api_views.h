/*
 * View figures in video JSON text: the day and month views count in, and
 * the live figures from Redis written into video objects as they are
 * answered (the copies PostgreSQL holds lag behind by a rollup).
 */

#ifndef _NGX_HTTP_VIDEO_API_VIEWS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_VIEWS_H_INCLUDED_


#include "ngx_http_video_api_run.h"
#include "video_views.h"


/* video objects' JSON text, and where their figures go */
typedef struct {
    u_char                            *json;
    size_t                             len;
    video_views_slot_t                *slots;
    size_t                             n;
} ngx_http_video_api_views_t;


/* today (YYYY-MM-DD) and this month (YYYY-MM) in UTC, as views count */
void ngx_http_video_api_views_period(ngx_http_request_t *r, ngx_str_t *day,
    ngx_str_t *month);

/*
 * Runs the read of the live figures for the video objects of JSON text (a
 * list page, one video), then the caller's step resume with views->json
 * and views->len the text with them written in, or the text as it was
 * when Redis is down or its counters are not loaded yet.  json need not
 * outlive the call.
 */
ngx_int_t ngx_http_video_api_views_read(ngx_http_video_api_run_t *run,
    ngx_http_video_api_views_t *views, u_char *json, size_t len,
    ngx_uint_t resume);

/*
 * The same with the figures read already (VIDEO_VIEWS_LIST_LUA): today,
 * month and total per id of ids (n ids of VIDEO_ID_LEN bytes), in the
 * page's order; loaded 0 leaves the text as it is.  NGX_OK, NGX_DECLINED
 * when the figures are not for these videos (read them), or NGX_ERROR.
 */
ngx_int_t ngx_http_video_api_views_known(ngx_http_request_t *r,
    ngx_http_video_api_views_t *views, u_char *json, size_t len, u_char *ids,
    size_t n, int64_t *figures, ngx_uint_t loaded);


#endif /* _NGX_HTTP_VIDEO_API_VIEWS_H_INCLUDED_ */
