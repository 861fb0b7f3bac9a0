/*
 * JSON envelopes for the errors nginx itself answers in video_api
 * locations (413 from client_max_body_size, 500 from a failed handler...).
 */

#ifndef _NGX_HTTP_VIDEO_API_ERROR_FILTER_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_ERROR_FILTER_H_INCLUDED_


#include "ngx_http_video_api.h"


ngx_int_t ngx_http_video_api_error_filter_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_VIDEO_API_ERROR_FILTER_H_INCLUDED_ */
