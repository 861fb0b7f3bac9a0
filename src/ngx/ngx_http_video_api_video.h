/*
 * The video read and cache service: one video's JSON text as the caller
 * may see it, from the Redis cache or PostgreSQL (which fills the cache),
 * with its live view figures; and the cache's writes.
 *
 * The video object is built by PostgreSQL (video_json() in conf/sql) and
 * passed through as JSON text without being parsed here.  Cache entries
 * are "<version>:<json>" where the version is video_version(), updated_at
 * in microseconds; a Lua script only ever replaces an entry with a newer
 * version, so a slow reader cannot put an old copy back over a fresh
 * write, and a delete leaves a tombstone that outranks every version.
 */

#ifndef _NGX_HTTP_VIDEO_API_VIDEO_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_VIDEO_H_INCLUDED_


#include "ngx_http_video_api_run.h"


/* columns every single-video statement returns: the JSON and its version */
#define NGX_HTTP_VIDEO_API_VIDEO_COLUMNS                                      \
    "video_json(v, $2, $3)::text, video_version(v)"

/* outranks any version */
#define NGX_HTTP_VIDEO_API_VIDEO_TOMBSTONE  "9999999999999999999"


typedef struct {
    ngx_str_t                          id;        /* NUL-terminated */

    /*
     * what the read found: the whole object or its public view (public),
     * living until the run waits again
     */
    ngx_str_t                          json;
    ngx_str_t                          version;
    unsigned                           public:1;

    /* the live view figures, when Redis has them: today, month, total */
    int64_t                            views[3];
    unsigned                           views_live:1;

    /* a play token admits the caller: its scope is not applied */
    unsigned                           token:1;

    char                              *values[5];
} ngx_http_video_api_video_t;


/* a video to read or write: a NUL-terminated copy of id */
ngx_http_video_api_video_t *ngx_http_video_api_video_create(
    ngx_http_request_t *r, ngx_str_t *id);

/*
 * Runs the read, then the caller's step resume with what was found.  A
 * video the caller may not see is missing (404, answered here, as is a
 * failure); one it sees only publicly comes as its public view.
 */
ngx_int_t ngx_http_video_api_video_read(ngx_http_video_api_run_t *run,
    ngx_http_video_api_video_t *video, ngx_uint_t resume);

/* 404 NOT_FOUND for the video id */
ngx_int_t ngx_http_video_api_video_not_found(ngx_http_request_t *r,
    ngx_str_t *id);

/*
 * The outcome of a single-video statement: 1 when run->res holds its
 * row, else 0 with the answer to what went wrong sent and its code in *rc
 */
ngx_uint_t ngx_http_video_api_video_row(ngx_http_video_api_run_t *run,
    ngx_str_t *id, ngx_int_t *rc);

/*
 * the statements' URL bases (what play and thumbnail URLs start with,
 * both served by the play location) into values[0] and values[1]
 */
void ngx_http_video_api_video_bases(ngx_http_request_t *r, char **values);

/* "video:<id>" */
ngx_int_t ngx_http_video_api_video_cache_key(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *key);

/*
 * The command that stores version:json unless a newer entry is there, in
 * argv (7 arguments)
 */
ngx_int_t ngx_http_video_api_video_cache_put(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *version, ngx_str_t *json, const char **argv,
    size_t *argvlen);

/* the reply to a cache write: when it failed, the entry is stale */
void ngx_http_video_api_video_written(ngx_http_request_t *r, ngx_str_t *id,
    redisReply *reply);

/*
 * A video changed by a route other than PATCH (live): its new JSON text
 * and version (NGX_HTTP_VIDEO_API_VIDEO_COLUMNS) are written through to
 * the cache and the list pages retire; when Redis cannot take the write,
 * the cached copy is dropped once it is back.  Nothing waits for Redis.
 */
void ngx_http_video_api_video_changed(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *version, ngx_str_t *json);


#endif /* _NGX_HTTP_VIDEO_API_VIDEO_H_INCLUDED_ */
