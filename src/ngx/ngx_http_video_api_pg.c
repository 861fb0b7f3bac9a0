/*
 * The per-worker PostgreSQL pool (not yet connected).
 */

#include "ngx_http_video_api_pg.h"


ngx_int_t
ngx_http_video_api_pg_init_worker(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_video_api_pg_exit_worker(ngx_cycle_t *cycle)
{
}
