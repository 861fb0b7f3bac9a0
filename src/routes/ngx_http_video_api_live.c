/*
 * /api/live: live streams, nginx-rtmp's publish callbacks and signaling.
 * Literal paths come before "/api/live/:id" so they win.
 */

#include "ngx_http_video_api_router.h"


ngx_http_video_api_route_t  ngx_http_video_api_live_routes[] = {
    { NGX_HTTP_POST, "/api/live/create",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/live/verify",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_FORM },
    { NGX_HTTP_POST, "/api/live/unpublish",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_FORM },
    { NGX_HTTP_GET, "/api/live/active",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/live/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/live/:id/watch",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_POST, "/api/live/:id/key",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_POST, "/api/live/:id/start",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/live/:id/stop",
      ngx_http_video_api_not_implemented,
      NGX_HTTP_VIDEO_API_BODY_JSON_OPT },
    { NGX_HTTP_PATCH, "/api/live/:id/visibility",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/live/:id/signal",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { 0, NULL, NULL, 0 }
};
