/*
 * /api/videos: the video library.
 */

#include "ngx_http_video_api_router.h"


ngx_http_video_api_route_t  ngx_http_video_api_videos_routes[] = {
    { NGX_HTTP_GET, "/api/videos",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/videos/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_PATCH, "/api/videos/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_DELETE, "/api/videos/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/videos/:id/progress",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { 0, NULL, NULL, 0 }
};
