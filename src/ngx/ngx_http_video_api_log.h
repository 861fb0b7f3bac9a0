/*
 * $video_api_request: the request line for access logs, without the
 * secrets its target may carry.
 */

#ifndef _NGX_HTTP_VIDEO_API_LOG_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_LOG_H_INCLUDED_


#include "ngx_http_video_api.h"


ngx_int_t ngx_http_video_api_log_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_VIDEO_API_LOG_H_INCLUDED_ */
