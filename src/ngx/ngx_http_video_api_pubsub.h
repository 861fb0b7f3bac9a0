/*
 * Each worker's Redis subscriber connection: what a long poll waits on
 * (WebRTC signaling), apart from the pipelined command connection, which
 * must never hold a blocking command.
 */

#ifndef _NGX_HTTP_VIDEO_API_PUBSUB_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_PUBSUB_H_INCLUDED_


#include "ngx_http_video_api.h"


typedef struct ngx_http_video_api_pubsub_waiter_s
    ngx_http_video_api_pubsub_waiter_t;

typedef void (*ngx_http_video_api_pubsub_handler_pt)(ngx_http_request_t *r,
    void *data);


/*
 * The channel on which a message "<connection number>" asks every worker
 * to shut down that connection (a live publisher, to be dropped): the
 * worker that holds it does, and nginx-rtmp ends the session.
 */
#define NGX_HTTP_VIDEO_API_PUBSUB_DROP  "live:drop"


ngx_int_t ngx_http_video_api_pubsub_init_worker(ngx_cycle_t *cycle);
void ngx_http_video_api_pubsub_exit_worker(ngx_cycle_t *cycle);

/*
 * Registers r as waiting on channel (copied) until r's pool goes or
 * ngx_http_video_api_pubsub_leave().  handler runs from a posted event,
 * never inside this call: after a notice on the channel, after each
 * (re)subscription (notices may have been missed), every second while
 * the subscriber connection is down, and once when the worker shuts down
 * (ngx_exiting).  NULL when out of memory.
 */
ngx_http_video_api_pubsub_waiter_t *ngx_http_video_api_pubsub_wait(
    ngx_http_request_t *r, ngx_str_t *channel,
    ngx_http_video_api_pubsub_handler_pt handler, void *data);

void ngx_http_video_api_pubsub_leave(ngx_http_video_api_pubsub_waiter_t *w);


#endif /* _NGX_HTTP_VIDEO_API_PUBSUB_H_INCLUDED_ */
