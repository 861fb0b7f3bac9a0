/*
 * /api/live/:id/signal: WebRTC signaling between the peers of a stream.
 */

#include "ngx_http_video_api_router.h"


ngx_int_t
ngx_http_video_api_signal_post(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_not_implemented(r, ctx);
}


ngx_int_t
ngx_http_video_api_signal_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_not_implemented(r, ctx);
}
