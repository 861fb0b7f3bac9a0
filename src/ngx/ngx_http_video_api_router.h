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

/* The i-th table of routes, NULL past the last: for walks at startup. */
ngx_http_video_api_route_t *ngx_http_video_api_route_table(ngx_uint_t i);

/* Answers 501 for routes whose feature is not built yet. */
ngx_int_t ngx_http_video_api_not_implemented(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


/* each area's table, ended by an entry with a NULL pattern */
extern ngx_http_video_api_route_t  ngx_http_video_api_videos_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_upload_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_multipart_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_upload_url_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_analytics_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_live_routes[];
/* WebRTC signaling (ngx_http_video_api_signal.c), in the live area too */
extern ngx_http_video_api_route_t  ngx_http_video_api_signal_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_live_callback_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_health_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_play_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_access_routes[];
extern ngx_http_video_api_route_t  ngx_http_video_api_webhooks_routes[];


#endif /* _NGX_HTTP_VIDEO_API_ROUTER_H_INCLUDED_ */
