/*
 * Each worker's Redis subscriber connection: what a long poll waits on
 * (WebRTC signaling), apart from the pipelined command connection, which
 * must never hold a blocking command.
 */

#ifndef _NGX_HTTP_VIDEO_API_PUBSUB_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_PUBSUB_H_INCLUDED_


#include "ngx_http_video_api.h"


ngx_int_t ngx_http_video_api_pubsub_init_worker(ngx_cycle_t *cycle);
void ngx_http_video_api_pubsub_exit_worker(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_VIDEO_API_PUBSUB_H_INCLUDED_ */
