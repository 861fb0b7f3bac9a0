/*
 * Cross-origin headers ("video_api_cors").
 */

#ifndef _NGX_HTTP_VIDEO_API_CORS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_CORS_H_INCLUDED_


#include "ngx_http_video_api.h"


/* Adds Access-Control-Allow-Origin and friends to the answer, if allowed. */
ngx_int_t ngx_http_video_api_cors_headers(ngx_http_request_t *r);

/* The same, exposing these headers to the page's script instead. */
ngx_int_t ngx_http_video_api_cors_exposing(ngx_http_request_t *r,
    ngx_str_t *expose);

/*
 * Answers OPTIONS on a known path: 204 with Allow, plus the preflight
 * headers when it is a CORS preflight from an allowed origin.
 */
ngx_int_t ngx_http_video_api_cors_options(ngx_http_request_t *r,
    ngx_str_t *allow);


#endif /* _NGX_HTTP_VIDEO_API_CORS_H_INCLUDED_ */
