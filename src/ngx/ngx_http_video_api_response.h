/*
 * Sending JSON answers and reading/writing headers.
 */

#ifndef _NGX_HTTP_VIDEO_API_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_RESPONSE_H_INCLUDED_


#include "ngx_http_video_api.h"


/*
 * Each send function takes the reference to its json_t (NULL is treated as
 * an allocation failure) and returns what a content handler returns.
 */
ngx_int_t ngx_http_video_api_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
ngx_int_t ngx_http_video_api_send_data(ngx_http_request_t *r,
    ngx_uint_t status, json_t *data);
ngx_int_t ngx_http_video_api_send_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *fmt, ...);

/*
 * {"success":true,"data":<prefix><json><suffix>} with json passed through
 * as it is (JSON text PostgreSQL or the cache produced)
 */
ngx_int_t ngx_http_video_api_send_wrapped(ngx_http_request_t *r,
    ngx_uint_t status, const char *prefix, u_char *json, size_t len,
    const char *suffix);

/* sends b, a complete JSON body */
ngx_int_t ngx_http_video_api_send_buf(ngx_http_request_t *r,
    ngx_uint_t status, ngx_buf_t *b);

/* sends b, a complete body of that type, with the CORS headers */
ngx_int_t ngx_http_video_api_send_body(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_buf_t *b);

/* 503 UNAVAILABLE naming the dependency */
ngx_int_t ngx_http_video_api_send_unavailable(ngx_http_request_t *r,
    const char *what);

/* 400 VALIDATION_ERROR with details (taken); no details (a validator out
 * of memory) is a 500 */
ngx_int_t ngx_http_video_api_send_invalid(ngx_http_request_t *r,
    json_t *details);

/* json serialized compactly into a buffer from pool */
ngx_buf_t *ngx_http_video_api_json_buf(ngx_pool_t *pool, json_t *json);

ngx_http_video_api_ctx_t *ngx_http_video_api_get_ctx(ngx_http_request_t *r);

ngx_int_t ngx_http_video_api_header_out(ngx_http_request_t *r, char *name,
    ngx_str_t *value);
ngx_str_t *ngx_http_video_api_header_in(ngx_http_request_t *r, char *name);


#endif /* _NGX_HTTP_VIDEO_API_RESPONSE_H_INCLUDED_ */
