/*
 * Each worker's Redis subscriber connection.
 */

#include "ngx_http_video_api_pubsub.h"


ngx_int_t
ngx_http_video_api_pubsub_init_worker(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_video_api_pubsub_exit_worker(ngx_cycle_t *cycle)
{
}
