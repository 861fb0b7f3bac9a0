/*
 * The per-worker Redis client on nginx's event loop (hiredis async).
 */

#ifndef _NGX_HTTP_VIDEO_API_REDIS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_REDIS_H_INCLUDED_


#include "ngx_http_video_api.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


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


/*
 * A link: one hiredis async connection on nginx's events (the adapter
 * hiredis lacks), for the command connection here and the subscriber
 * connection of pubsub.c.  The owner decides what the connection is
 * ready for, and when to connect again.
 */
typedef struct ngx_http_video_api_redis_link_s
    ngx_http_video_api_redis_link_t;

typedef void (*ngx_http_video_api_redis_link_pt)(
    ngx_http_video_api_redis_link_t *link);

struct ngx_http_video_api_redis_link_s {
    redisAsyncContext                 *ac;           /* NULL: closed */
    ngx_connection_t                  *connection;
    ngx_http_video_api_redis_conf_t   *conf;
    ngx_log_t                         *log;
    void                              *data;         /* the owner's */

    /*
     * hiredis freed the connection (every pending callback had its NULL
     * reply); ac is NULL again and reason says why
     */
    ngx_http_video_api_redis_link_pt   closed;

    ngx_event_t                        broken;       /* posted */

    /*
     * the "data" of the owner's events: nginx's debug log takes it for a
     * connection and prints its fd
     */
    ngx_connection_t                   ident;

    u_char                             reason[256];
    size_t                             reason_len;

    unsigned                           closing:1;
    unsigned                           shutdown:1;   /* the worker ends */
};


void ngx_http_video_api_redis_link_init(ngx_http_video_api_redis_link_t *link,
    ngx_http_video_api_redis_conf_t *conf, ngx_log_t *log,
    ngx_http_video_api_redis_link_pt closed, void *data);

/*
 * Starts connecting, with AUTH queued when a password is configured.
 * NGX_OK: link->ac is set, commands may be queued, and closed will be
 * called once.  NGX_ERROR: nothing is open, reason says why.
 */
ngx_int_t ngx_http_video_api_redis_link_connect(
    ngx_http_video_api_redis_link_t *link);

/* closes the connection, for the reason given (closed follows) */
void ngx_http_video_api_redis_link_drop(ngx_http_video_api_redis_link_t *link,
    const char *fmt, ...);

/* the connect or handshake took too long: drops the link saying which */
void ngx_http_video_api_redis_link_timeout(
    ngx_http_video_api_redis_link_t *link);

/* closes the connection as the worker exits (closed follows, shutdown 1) */
void ngx_http_video_api_redis_link_close(
    ngx_http_video_api_redis_link_t *link);

void ngx_http_video_api_redis_link_reason(
    ngx_http_video_api_redis_link_t *link, const char *fmt, ...);


#endif /* _NGX_HTTP_VIDEO_API_REDIS_H_INCLUDED_ */
