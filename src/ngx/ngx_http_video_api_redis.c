/*
 * The per-worker Redis client (not yet connected).
 */

#include "ngx_http_video_api_redis.h"


ngx_int_t
ngx_http_video_api_redis_init_worker(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_video_api_redis_exit_worker(ngx_cycle_t *cycle)
{
}


ngx_int_t
ngx_http_video_api_redis_command(ngx_http_request_t *r,
    ngx_http_video_api_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    return NGX_DECLINED;
}


ngx_uint_t
ngx_http_video_api_redis_up(void)
{
    return 0;
}
