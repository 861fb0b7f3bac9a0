/*
 * What players and caches in front (a CDN) are told about media from
 * /play/ and /live/: the route marks the request with the Cache-Control
 * its object may be cached with, and a header filter puts it on the
 * answer the media location then makes (200, 206, 304) after the
 * internal redirect, when nginx's static module or the proxy to storage
 * has already given ETag, Last-Modified and ranges.  Every other answer
 * to a marked request is "no-store", with the API's JSON envelope.
 */

#ifndef _NGX_HTTP_VIDEO_API_DELIVERY_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_DELIVERY_H_INCLUDED_


#include "ngx_http_video_api.h"


/*
 * Marks r as a media request whose successful answer carries
 * cache_control (NULL: none decided yet, so errors only); may be called
 * again to decide.  The mark outlives internal redirects.
 */
ngx_int_t ngx_http_video_api_delivery_mark(ngx_http_request_t *r,
    ngx_str_t *cache_control);

/* the header filter, at configuration */
ngx_int_t ngx_http_video_api_delivery_filter_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_VIDEO_API_DELIVERY_H_INCLUDED_ */
