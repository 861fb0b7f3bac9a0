/*
 * GET /health: liveness for load balancers and operators.  Frontends read
 * "status" and "timestamp" at the top level, outside the envelope.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_response.h"
#include "video_time.h"


static ngx_int_t ngx_http_video_api_health(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_health_routes[] = {
    { NGX_HTTP_GET, "/health",
      ngx_http_video_api_health, NGX_HTTP_VIDEO_API_BODY_NONE },
    { 0, NULL, NULL, 0 }
};


static ngx_int_t
ngx_http_video_api_health(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_time_t  *tp;
    char         now[VIDEO_TIME_ISO_LEN + 1];

    tp = ngx_timeofday();

    video_time_iso8601(now, (int64_t) tp->sec * 1000 + tp->msec);

    return ngx_http_video_api_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s, s:s, s:s}",
                         "status", "ok",
                         "timestamp", now,
                         "version", NGX_HTTP_VIDEO_API_VERSION));
}
