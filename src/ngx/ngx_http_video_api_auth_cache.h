/*
 * What this node knows about API keys: a shared-memory cache of
 * PostgreSQL's answers about key hashes, for every worker, bounded in
 * size (the least recently used go first).  An answer is fresh for
 * NGX_HTTP_VIDEO_API_AUTH_FRESH, then old: ngx_http_video_api_auth.c
 * asks PostgreSQL again, and trusts an old one for reads only while
 * PostgreSQL cannot answer.
 */

#ifndef _NGX_HTTP_VIDEO_API_AUTH_CACHE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_AUTH_CACHE_H_INCLUDED_


#include "ngx_http_video_api.h"


typedef enum {
    NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS = 0,
    NGX_HTTP_VIDEO_API_AUTH_CACHE_KNOWN,       /* fresh, a caller */
    NGX_HTTP_VIDEO_API_AUTH_CACHE_REFUSED,     /* fresh, no caller */
    NGX_HTTP_VIDEO_API_AUTH_CACHE_OLD          /* a caller, no longer fresh */
} ngx_http_video_api_auth_cache_hit_e;



/* the zone, at configuration */
ngx_int_t ngx_http_video_api_auth_cache_init(ngx_conf_t *cf);

/* what is known of hash: the caller into *caller (from pool) */
ngx_http_video_api_auth_cache_hit_e ngx_http_video_api_auth_cache_get(
    u_char *hash, ngx_http_video_api_caller_t *caller, ngx_pool_t *pool);

/* PostgreSQL's answer about hash: caller (role 0: refused), its expiry */
void ngx_http_video_api_auth_cache_put(u_char *hash,
    ngx_http_video_api_caller_t *caller, time_t expires);


#endif /* _NGX_HTTP_VIDEO_API_AUTH_CACHE_H_INCLUDED_ */
