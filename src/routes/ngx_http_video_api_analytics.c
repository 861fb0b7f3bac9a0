/*
 * /api/analytics: view counting, stats and resets.
 */

#include "ngx_http_video_api_router.h"


ngx_http_video_api_route_t  ngx_http_video_api_analytics_routes[] = {
    { NGX_HTTP_POST, "/api/analytics/view/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/analytics/stats/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_POST, "/api/analytics/reset/daily",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_POST, "/api/analytics/reset/monthly",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { 0, NULL, NULL, 0 }
};
