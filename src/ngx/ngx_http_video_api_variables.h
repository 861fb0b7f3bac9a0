/*
 * What the module knows of a request, as variables for log formats:
 * $video_api_route, $video_api_video_id, $video_api_error_code,
 * $video_api_pg_time, $video_api_redis_time and $video_api_path.
 */

#ifndef _NGX_HTTP_VIDEO_API_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_VARIABLES_H_INCLUDED_


#include "ngx_http_video_api.h"


ngx_int_t ngx_http_video_api_variables_add(ngx_conf_t *cf);

/* adds the variables of a table ended by ngx_http_null_variable */
ngx_int_t ngx_http_video_api_variables_table(ngx_conf_t *cf,
    ngx_http_variable_t *vars);

/* the code of the error envelope r answers with; NULL: none */
void ngx_http_video_api_variables_error(ngx_http_request_t *r,
    const char *code);

/*
 * ngx_http_internal_redirect(), the request's context kept for the log
 * (a redirect clears every module's) unless the new location made its own
 */
ngx_int_t ngx_http_video_api_variables_redirect(ngx_http_request_t *r,
    ngx_str_t *uri, ngx_str_t *args);

/* ms since start waited on PostgreSQL (pg 1) or Redis (pg 0) */
void ngx_http_video_api_variables_waited(ngx_http_request_t *r,
    ngx_uint_t pg, ngx_msec_t start);


#endif /* _NGX_HTTP_VIDEO_API_VARIABLES_H_INCLUDED_ */
