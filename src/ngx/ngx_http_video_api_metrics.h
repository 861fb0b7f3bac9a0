/*
 * Prometheus metrics of the module: counters and gauges in one shared
 * memory zone that every worker process adds to with atomic operations,
 * and the "video_api_metrics" location that answers them as text.
 */

#ifndef _NGX_HTTP_VIDEO_API_METRICS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_METRICS_H_INCLUDED_


#include "ngx_http_video_api.h"


/* counters: only ever rise, kept across reloads */
typedef enum {
    NGX_HTTP_VIDEO_API_M_PG_STATEMENTS = 0,
    NGX_HTTP_VIDEO_API_M_PG_WAITS,
    NGX_HTTP_VIDEO_API_M_PG_TIMEOUTS,
    NGX_HTTP_VIDEO_API_M_PG_RECONNECTS,
    NGX_HTTP_VIDEO_API_M_PG_CONN_ERRORS,
    NGX_HTTP_VIDEO_API_M_PG_STMT_ERRORS,
    NGX_HTTP_VIDEO_API_M_PG_UNAVAILABLE,
    NGX_HTTP_VIDEO_API_M_REDIS_COMMANDS,
    NGX_HTTP_VIDEO_API_M_REDIS_ERRORS,
    NGX_HTTP_VIDEO_API_M_REDIS_RECONNECTS,
    NGX_HTTP_VIDEO_API_M_CACHE_VIDEO_HIT,
    NGX_HTTP_VIDEO_API_M_CACHE_VIDEO_MISS,
    NGX_HTTP_VIDEO_API_M_CACHE_LIST_HIT,
    NGX_HTTP_VIDEO_API_M_CACHE_LIST_MISS,
    NGX_HTTP_VIDEO_API_M_CACHE_KEY_HIT,
    NGX_HTTP_VIDEO_API_M_CACHE_KEY_MISS,
    NGX_HTTP_VIDEO_API_M_VIEWS,
    NGX_HTTP_VIDEO_API_M_UPLOADS_PRESIGNED,
    NGX_HTTP_VIDEO_API_M_UPLOADS_COMPLETED,
    NGX_HTTP_VIDEO_API_M_LIVE_PUBLISHES,
    NGX_HTTP_VIDEO_API_M_LIVE_UNPUBLISHES,
    NGX_HTTP_VIDEO_API_M_NCOUNTERS
} ngx_http_video_api_metric_e;


/*
 * gauges of one worker process (its connections, its requests): each
 * worker keeps its own, a scrape sums those of the workers alive, so a
 * worker that exits or dies takes its share with it
 */
typedef enum {
    NGX_HTTP_VIDEO_API_G_IN_FLIGHT = 0,
    NGX_HTTP_VIDEO_API_G_PG_OPEN,
    NGX_HTTP_VIDEO_API_G_PG_BUSY,
    NGX_HTTP_VIDEO_API_G_PG_QUEUE,
    NGX_HTTP_VIDEO_API_G_REDIS_UP,
    NGX_HTTP_VIDEO_API_G_LONG_POLLS,
    NGX_HTTP_VIDEO_API_G_NGAUGES
} ngx_http_video_api_gauge_e;


/* +1 on a counter; nothing when the zone is not there */
void ngx_http_video_api_metrics_inc(ngx_uint_t counter);

/* a cache lookup: hit 1 counts on hit_counter, 0 on the one after it */
void ngx_http_video_api_metrics_cache(ngx_uint_t hit_counter,
    ngx_uint_t hit);

/* this worker's gauge: add delta, or set a value */
void ngx_http_video_api_metrics_gauge(ngx_uint_t gauge, ngx_int_t delta);
void ngx_http_video_api_metrics_gauge_set(ngx_uint_t gauge, ngx_uint_t value);

/* a request enters the API's content handler: in flight until freed */
void ngx_http_video_api_metrics_start(ngx_http_request_t *r);

/* the shared zone, the route labels and the log phase handler */
ngx_int_t ngx_http_video_api_metrics_init(ngx_conf_t *cf);
ngx_int_t ngx_http_video_api_metrics_init_worker(ngx_cycle_t *cycle);
void ngx_http_video_api_metrics_exit_worker(ngx_cycle_t *cycle);

/* "video_api_metrics": the location answers the metrics */
char *ngx_http_video_api_metrics_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_VIDEO_API_METRICS_H_INCLUDED_ */
