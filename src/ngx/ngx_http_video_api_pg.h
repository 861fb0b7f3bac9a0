/*
 * The per-worker PostgreSQL pool on nginx's event loop.
 */

#ifndef _NGX_HTTP_VIDEO_API_PG_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_PG_H_INCLUDED_


#include "ngx_http_video_api.h"

#include <libpq-fe.h>


ngx_int_t ngx_http_video_api_pg_init_worker(ngx_cycle_t *cycle);
void ngx_http_video_api_pg_exit_worker(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_VIDEO_API_PG_H_INCLUDED_ */
