/*
 * Request bodies: read with a size limit, checked and parsed per route.
 */

#ifndef _NGX_HTTP_VIDEO_API_BODY_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_BODY_H_INCLUDED_


#include "ngx_http_video_api.h"


/*
 * Reads the body ctx->route wants, then runs the route's handler: returns
 * what a content handler returns (NGX_DONE while the body is in flight).
 */
ngx_int_t ngx_http_video_api_body_dispatch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


#endif /* _NGX_HTTP_VIDEO_API_BODY_H_INCLUDED_ */
