/*
 * WebRTC signaling's shared parts: the request state, the steps of its
 * runs, and what both the routes that run one script
 * (ngx_http_video_api_signal.c) and the long poll that waits for messages
 * (ngx_http_video_api_signal_wait.c) use.
 */

#ifndef _NGX_HTTP_VIDEO_API_SIGNAL_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_SIGNAL_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_run.h"
#include "ngx_http_video_api_video.h"
#include "video_id.h"
#include "video_signal.h"
#include "video_time.h"


/* KEYS of the scripts */
enum {
    SIGNAL_KEY_PEERS = 0,
    SIGNAL_KEY_TOKENS,
    SIGNAL_KEY_BYTES,
    SIGNAL_KEY_LIST,                                /* and its channel */
    SIGNAL_KEYS
};


typedef struct ngx_http_video_api_signal_ctx_s
    ngx_http_video_api_signal_ctx_t;

/* what a route does with the stream it found, and with its script's reply */
typedef ngx_int_t (*ngx_http_video_api_signal_found_pt)(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
typedef ngx_int_t (*ngx_http_video_api_signal_reply_pt)(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply);

struct ngx_http_video_api_signal_ctx_s {
    ngx_http_request_t                  *request;
    ngx_http_video_api_run_t            *run;
    ngx_http_video_api_video_t          *video;
    ngx_http_video_api_signal_found_pt   found;
    ngx_http_video_api_signal_reply_pt   replied;
    ngx_str_t                            stream;
    ngx_str_t                            peer;      /* who asks */
    ngx_str_t                            prefix;    /* "signal:<stream>:" */
    ngx_str_t                            keys[SIGNAL_KEYS];

    u_char                               hash[VIDEO_SIGNAL_TOKEN_HASH_LEN];

    video_signal_t                       msg;       /* of a POST */
    u_char                               id[VIDEO_ID_LEN + 1];
    u_char                               created[VIDEO_TIME_ISO_LEN + 1];

    u_char                               new_peer[VIDEO_SIGNAL_PEER_LEN + 1];
    u_char                               token[VIDEO_SIGNAL_TOKEN_LEN + 1];

    ngx_msec_t                           timeout;   /* of a GET */
    ngx_event_t                          timer;
    ngx_http_video_api_pubsub_waiter_t  *waiter;

    unsigned                             taking:1;
    unsigned                             notified:1;
    unsigned                             expired:1;
    unsigned                             done:1;
};


/* the steps of a signaling request's run */
typedef enum {
    SIGNAL_READ = 0,
    SIGNAL_FOUND,
    SIGNAL_REPLY,
    SIGNAL_TAKEN,
    SIGNAL_WOKEN
} ngx_http_video_api_signal_step_e;


/* the most ARGV a script takes after the prefix */
#define SIGNAL_ARGS_MAX     7

/* room for an error message or a detail */
#define SIGNAL_MESSAGE_MAX  256


/* ngx_http_video_api_signal_wait.c: GET, and the steps of its wait */
ngx_int_t ngx_http_video_api_signal_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
ngx_int_t ngx_http_video_api_signal_taken(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply);
ngx_int_t ngx_http_video_api_signal_woken(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx);

/*
 * ngx_http_video_api_signal.c: the request state for stream, peer asking
 * (may be NULL) and the peer list it works on (NULL: none), or NULL with
 * *rc the answer (404 for what is not a video id); the token
 * check; the run (found gets the stream's JSON); a route's one script,
 * whose reply goes to replied; a script by its keys and arguments, whose
 * reply goes to the step next; the answers every route shares
 */
ngx_http_video_api_signal_ctx_t *ngx_http_video_api_signal_ctx(
    ngx_http_request_t *r, ngx_str_t *stream, ngx_str_t *peer,
    ngx_str_t *list, ngx_int_t *rc);
ngx_int_t ngx_http_video_api_signal_token(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx);
ngx_int_t ngx_http_video_api_signal_run(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx,
    ngx_http_video_api_signal_found_pt found);
ngx_int_t ngx_http_video_api_signal_start(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx,
    ngx_http_video_api_redis_script_t *script,
    ngx_http_video_api_signal_reply_pt replied, int nkeys, int argc,
    ngx_str_t *args);
ngx_int_t ngx_http_video_api_signal_eval(
    ngx_http_video_api_signal_ctx_t *sctx,
    ngx_http_video_api_redis_script_t *script, ngx_uint_t next, int nkeys,
    int argc, ngx_str_t *args);
ngx_int_t ngx_http_video_api_signal_not_found(ngx_http_request_t *r,
    ngx_str_t *id);
ngx_int_t ngx_http_video_api_signal_denied(ngx_http_request_t *r);
ngx_int_t ngx_http_video_api_signal_failed(ngx_http_request_t *r,
    redisReply *reply);
ngx_uint_t ngx_http_video_api_signal_is_live(ngx_str_t *json);
ngx_int_t ngx_http_video_api_signal_peer_arg(ngx_http_request_t *r,
    ngx_str_t *peer, json_t *details);


#endif /* _NGX_HTTP_VIDEO_API_SIGNAL_H_INCLUDED_ */
