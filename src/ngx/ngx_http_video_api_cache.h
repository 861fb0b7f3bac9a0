/*
 * Cache keys that a write could not update while Redis was unreachable,
 * shared by all workers, so the first of them to reach Redis again drops
 * the stale copies before anyone reads them.
 */

#ifndef _NGX_HTTP_VIDEO_API_CACHE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_CACHE_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "video_cache.h"


/* the counter in every list page's key; a write increments it */
#define NGX_HTTP_VIDEO_API_LIST_VERSION  VIDEO_CACHE_LIST_VERSION


ngx_int_t ngx_http_video_api_cache_init_conf(ngx_conf_t *cf);

/* key's cached copy may be stale: drop it when Redis is back */
void ngx_http_video_api_cache_stale(ngx_log_t *log, ngx_str_t *key);

/* a video was created, changed or deleted: retire every cached list page */
void ngx_http_video_api_cache_lists_changed(ngx_http_request_t *r);

/* the list pages may be stale: bump their version when Redis is back */
void ngx_http_video_api_cache_list_stale(ngx_log_t *log);

/*
 * A video was created (add 1) or deleted: its id joins or leaves the set
 * views check existence against; when Redis cannot take that, the set
 * is marked incomplete once Redis is back, and the worker refills it.
 */
void ngx_http_video_api_cache_video_id(ngx_http_request_t *r, ngx_str_t *id,
    ngx_uint_t add);

/*
 * Before a read through Redis: queues DEL of the keys marked stale on this
 * worker's connection, ahead of the read (one connection keeps order).
 */
void ngx_http_video_api_cache_flush_stale(ngx_http_request_t *r);


#endif /* _NGX_HTTP_VIDEO_API_CACHE_H_INCLUDED_ */
