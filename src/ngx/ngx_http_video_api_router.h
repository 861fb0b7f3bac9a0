/*
 * From method and path to a route of the areas a location serves.
 */

#ifndef _NGX_HTTP_VIDEO_API_ROUTER_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_ROUTER_H_INCLUDED_


#include "ngx_http_video_api.h"


/*
 * NGX_OK: ctx->route and ctx->params are set.
 * NGX_DECLINED: no route has this path.
 * NGX_HTTP_NOT_ALLOWED: the path exists but not for this method; allow
 * holds the methods it has ("GET, HEAD, OPTIONS").
 */
ngx_int_t ngx_http_video_api_route_find(ngx_http_request_t *r,
    ngx_uint_t areas, ngx_http_video_api_ctx_t *ctx, ngx_str_t *allow);

/* Area name ("videos") to its NGX_HTTP_VIDEO_API_* bit, 0 if unknown. */
ngx_uint_t ngx_http_video_api_area(ngx_str_t *name);

/* Answers 501 for routes whose feature is not built yet. */
ngx_int_t ngx_http_video_api_not_implemented(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


/*
 * For routes that need a video: its JSON text as GET /api/videos/:id
 * reads it (cache, else PostgreSQL, which fills the cache).  id is a valid
 * id.  A video the caller may not see is missing; one it sees only
 * publicly comes as its public view; token 1 skips the caller's scope (a
 * play token admits the caller).  Returns NGX_DONE and later finalizes
 * the request with what found returns, or answers a missing video (404)
 * or a failure itself; or returns what a content handler returns.
 */
typedef ngx_int_t (*ngx_http_video_api_video_handler_pt)(
    ngx_http_request_t *r, void *data, ngx_str_t *json);

ngx_int_t ngx_http_video_api_videos_load(ngx_http_request_t *r,
    ngx_str_t *id, ngx_uint_t token, ngx_http_video_api_video_handler_pt found,
    void *data);


/*
 * A video changed by a route other than PATCH (live): its new JSON text
 * and version (VIDEOS_JSON_COLUMNS) are written through to the cache and
 * the list pages retire; when Redis cannot take the write, the cached
 * copy is dropped once it is back.  Nothing waits for Redis.
 */
void ngx_http_video_api_videos_changed(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *version, ngx_str_t *json);


/* today (YYYY-MM-DD) and this month (YYYY-MM) in UTC, as views count */
void ngx_http_video_api_views_period(ngx_http_request_t *r, ngx_str_t *day,
    ngx_str_t *month);

/*
 * Writes the live view figures into the video objects of JSON text (a
 * list page), then answers with send; returns what a content handler
 * returns.  json need not outlive the call.
 */
typedef ngx_int_t (*ngx_http_video_api_views_send_pt)(ngx_http_request_t *r,
    u_char *json, size_t len);

ngx_int_t ngx_http_video_api_views_live(ngx_http_request_t *r, u_char *json,
    size_t len, ngx_http_video_api_views_send_pt send);

/*
 * The same with the figures read already (VIDEO_VIEWS_LIST_LUA): today,
 * month and total per id of ids (n ids of VIDEO_ID_LEN bytes), in the
 * page's order; loaded 0 sends the text as it is
 */
ngx_int_t ngx_http_video_api_views_send(ngx_http_request_t *r, u_char *json,
    size_t len, u_char *ids, size_t n, int64_t *figures, ngx_uint_t loaded,
    ngx_http_video_api_views_send_pt send);


/* each area's table, ended by an entry with a NULL pattern */
extern ngx_http_video_api_route_t  ngx_http_video_api_videos_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_upload_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_analytics_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_live_routes[];
/* WebRTC signaling (ngx_http_video_api_signal.c), in the live area too */
extern ngx_http_video_api_route_t  ngx_http_video_api_signal_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_live_callback_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_health_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_play_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_access_routes[];


#endif /* _NGX_HTTP_VIDEO_API_ROUTER_H_INCLUDED_ */
