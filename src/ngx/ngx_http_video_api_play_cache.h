/*
 * What this node knows about the videos it plays: a shared-memory cache,
 * for every worker, of a video's visibility, token generation and whether
 * it is PROCESSING (its playlists may be growing), as a /play/ or /live/
 * request read them (from Redis or PostgreSQL) and was allowed.  An entry
 * serves for "video_api_playback cache=" (1 s by default), the bound play
 * tokens and visibility changes are revoked within on every node; any
 * change to videos this node makes empties it at once.  A refusal is
 * never cached: what would be refused is decided again from the video
 * itself.
 */

#ifndef _NGX_HTTP_VIDEO_API_PLAY_CACHE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_PLAY_CACHE_H_INCLUDED_


#include "ngx_http_video_api.h"


#define NGX_HTTP_VIDEO_API_PLAY_PRIVATE   0
#define NGX_HTTP_VIDEO_API_PLAY_UNLISTED  1
#define NGX_HTTP_VIDEO_API_PLAY_PUBLIC    2


typedef struct {
    int64_t                      gen;          /* token generation */
    ngx_uint_t                   visibility;   /* NGX_HTTP_VIDEO_API_PLAY_* */
    ngx_uint_t                   processing;   /* status PROCESSING */
    ngx_uint_t                   epoch;        /* when it was looked up */
} ngx_http_video_api_play_known_t;


/* the zone, at configuration */
ngx_int_t ngx_http_video_api_play_cache_init(ngx_conf_t *cf);

/*
 * What is known of the video id, no older than valid ms: NGX_OK and
 * *known, else NGX_DECLINED; known->epoch is set either way, for the
 * _put of what the request then reads.
 */
ngx_int_t ngx_http_video_api_play_cache_get(ngx_str_t *id,
    ngx_msec_t valid, ngx_http_video_api_play_known_t *known);

/*
 * Notes what a request read of the video, unless the cache was emptied
 * since its _get (known->epoch): that read may predate the change.
 */
void ngx_http_video_api_play_cache_put(ngx_str_t *id,
    ngx_http_video_api_play_known_t *known);

/* forgets every entry: a video changed on this node */
void ngx_http_video_api_play_cache_flush(void);


#endif /* _NGX_HTTP_VIDEO_API_PLAY_CACHE_H_INCLUDED_ */
