/*
 * The per-worker Redis client on nginx's event loop (hiredis async).
 */

#ifndef _NGX_HTTP_VIDEO_API_REDIS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_REDIS_H_INCLUDED_


#include "ngx_http_video_api.h"

#include <hiredis/hiredis.h>


/*
 * Called once per command with its reply, or with NULL when Redis is
 * unavailable, the command timed out, or the connection broke.  The reply
 * is freed by hiredis after the handler returns.
 */
typedef void (*ngx_http_video_api_redis_handler_pt)(ngx_http_request_t *r,
    void *data, redisReply *reply);


ngx_int_t ngx_http_video_api_redis_init_worker(ngx_cycle_t *cycle);
void ngx_http_video_api_redis_exit_worker(ngx_cycle_t *cycle);

/*
 * Queues one command (binary-safe arguments) on the worker's pipelined
 * connection.  NGX_OK: the handler will be called exactly once, never from
 * inside this call, unless the request's pool is destroyed first.
 * NGX_DECLINED: Redis is not configured or down; the handler is never
 * called.  Commands of one request are answered in the order sent.
 */
ngx_int_t ngx_http_video_api_redis_command(ngx_http_request_t *r,
    ngx_http_video_api_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

/*
 * A Lua script run by its SHA1 (EVALSHA), so Redis does not hash its
 * text on every call; a Redis that does not know it yet (it restarted,
 * SCRIPT FLUSH) gets the text once (EVAL) and keeps it.
 */
typedef struct {
    const char                  *text;
    size_t                       len;
    u_char                       sha1[40];   /* hex, at first use */
} ngx_http_video_api_redis_script_t;

#define ngx_http_video_api_redis_script(text)                                 \
    { text, sizeof(text) - 1, "" }

/*
 * Runs script with nkeys keys then arguments in argv (copied: they need
 * not outlive the call), as ngx_http_video_api_redis_command().
 */
ngx_int_t ngx_http_video_api_redis_eval(ngx_http_request_t *r,
    ngx_http_video_api_redis_script_t *script,
    ngx_http_video_api_redis_handler_pt handler, void *data, int nkeys,
    int argc, const char **argv, const size_t *argvlen);

/* a handler for commands whose answer nobody waits for */
void ngx_http_video_api_redis_ignore(ngx_http_request_t *r, void *data,
    redisReply *reply);

/* 1 when the connection is up, for /health */
ngx_uint_t ngx_http_video_api_redis_up(void);


#endif /* _NGX_HTTP_VIDEO_API_REDIS_H_INCLUDED_ */
