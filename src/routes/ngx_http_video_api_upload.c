/*
 * /api/upload: presigned direct uploads and their completion.
 */

#include "ngx_http_video_api_router.h"


ngx_http_video_api_route_t  ngx_http_video_api_upload_routes[] = {
    { NGX_HTTP_POST, "/api/upload/presign",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/upload/:id/complete",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { 0, NULL, NULL, 0 }
};
