/*
 * The local S3-compatible store's signature gate ("video_api_store").
 */

#ifndef _NGX_HTTP_VIDEO_API_STORE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_STORE_H_INCLUDED_


#include "ngx_http_video_api.h"


/* registers the access-phase handler */
ngx_int_t ngx_http_video_api_store_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_VIDEO_API_STORE_H_INCLUDED_ */
