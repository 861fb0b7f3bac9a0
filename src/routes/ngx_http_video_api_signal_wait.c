/*
 * GET /api/live/:id/signal: the long poll that takes a peer's messages,
 * or waits for them (see ngx_http_video_api_signal.c for how a take and a
 * notice meet).
 */

#include "ngx_http_video_api_signal.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "video_envelope.h"
#include "video_validate.h"


static ngx_int_t ngx_http_video_api_signal_wait(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
static ngx_int_t ngx_http_video_api_signal_take(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx);
static void ngx_http_video_api_signal_wake(ngx_http_request_t *r,
    void *data);
static void ngx_http_video_api_signal_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_video_api_signal_finish(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, ngx_int_t rc);
static ngx_int_t ngx_http_video_api_signal_messages(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_video_api_signal_cleanup(void *data);


static ngx_http_video_api_redis_script_t  signal_take_script =
    ngx_http_video_api_redis_script(VIDEO_SIGNAL_TAKE_LUA);


/* GET /api/live/:id/signal?peer=<id>[&timeout=<seconds>] */

ngx_int_t
ngx_http_video_api_signal_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    long                              seconds;
    json_t                           *details;
    ngx_int_t                         rc;
    ngx_str_t                         peer, arg;
    ngx_msec_t                        timeout;
    ngx_http_video_api_signal_ctx_t  *sctx;
    ngx_http_video_api_main_conf_t   *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    details = json_array();
    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    (void) ngx_http_video_api_signal_peer_arg(r, &peer, details);

    timeout = mcf->signal_timeout;

    if (ngx_http_arg(r, (u_char *) "timeout", 7, &arg) == NGX_OK) {
        if (video_signal_timeout((char *) arg.data, arg.len,
                                 (long) (timeout / 1000), &seconds)
            != 0)
        {
            video_detail_add(details, "timeout", "timeout must be a whole "
                             "number of seconds");

        } else if ((ngx_msec_t) seconds * 1000 < timeout) {
            timeout = (ngx_msec_t) seconds * 1000;
        }
    }

    if (json_array_size(details) > 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    json_decref(details);

    sctx = ngx_http_video_api_signal_ctx(r, &ctx->params[0], &peer, &peer, &rc);
    if (sctx == NULL) {
        return rc;
    }

    sctx->timeout = timeout;

    return ngx_http_video_api_signal_run(r, sctx,
                                         ngx_http_video_api_signal_wait);
}


static ngx_int_t
ngx_http_video_api_signal_wait(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_video_api_signal_cleanup;
    cln->data = sctx;

    /* waiting until it is answered (finish) or goes away (cleanup) */

    ngx_http_video_api_metrics_gauge(NGX_HTTP_VIDEO_API_G_LONG_POLLS, 1);

    /* a worker that shuts down hears no more notices: one take answers */

    if (ngx_exiting) {
        sctx->expired = 1;
    }

    /* registered before the first take: see the header */

    sctx->waiter = ngx_http_video_api_pubsub_wait(r,
                       &sctx->keys[SIGNAL_KEY_LIST],
                       ngx_http_video_api_signal_wake, sctx);
    if (sctx->waiter == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->timer.handler = ngx_http_video_api_signal_timeout;
    sctx->timer.data = r->connection;
    sctx->timer.log = r->connection->log;

    ngx_add_timer(&sctx->timer, sctx->timeout);

    /* a client that goes away ends the request (and its wait) at once */

    r->read_event_handler = ngx_http_test_reading;

    return ngx_http_video_api_signal_take(r, sctx);
}


/* the take: its reply goes to SIGNAL_TAKEN (at once, empty, without Redis) */

static ngx_int_t
ngx_http_video_api_signal_take(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx)
{
    u_char                          *p;
    ngx_str_t                        args[3];
    ngx_http_video_api_main_conf_t  *mcf;
    u_char                           live[NGX_INT_T_LEN];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    args[0] = sctx->peer;
    args[1].data = sctx->hash;
    args[1].len = VIDEO_SIGNAL_TOKEN_HASH_LEN;

    /* a peer lives while it waits, and idle_ms after */

    p = ngx_sprintf(live, "%ui", (ngx_uint_t) (sctx->timeout
                                               + mcf->signal_limits.idle_ms));
    args[2].data = live;
    args[2].len = p - live;

    sctx->taking = 1;
    sctx->notified = 0;

    return ngx_http_video_api_signal_eval(sctx, &signal_take_script,
                                          SIGNAL_TAKEN, SIGNAL_KEYS, 3, args);
}


ngx_int_t
ngx_http_video_api_signal_taken(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply)
{
    sctx->taking = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {

        /* the peer's token, or the peer, is gone: 401 */

        return ngx_http_video_api_signal_finish(r, sctx,
                   ngx_http_video_api_signal_failed(r, reply));
    }

    if (reply->elements > 0 || sctx->expired || ngx_exiting) {
        return ngx_http_video_api_signal_finish(r, sctx,
                   ngx_http_video_api_signal_messages(r, reply));
    }

    if (sctx->notified) {

        /* a notice came while this take was in flight */

        return ngx_http_video_api_signal_take(r, sctx);
    }

    /* nothing yet: a notice, the timeout or a shutdown wakes it */

    return ngx_http_video_api_run_park(sctx->run, SIGNAL_WOKEN);
}


static void
ngx_http_video_api_signal_wake(ngx_http_request_t *r, void *data)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    if (sctx->done) {
        return;
    }

    if (sctx->taking) {
        sctx->notified = 1;
        return;
    }

    ngx_http_video_api_run_wake(sctx->run);
}


/* a worker that shuts down, or the timeout, answers now */

ngx_int_t
ngx_http_video_api_signal_woken(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx)
{
    if (ngx_exiting || sctx->expired) {
        return ngx_http_video_api_signal_finish(r, sctx,
                   ngx_http_video_api_signal_messages(r, NULL));
    }

    return ngx_http_video_api_signal_take(r, sctx);
}


static void
ngx_http_video_api_signal_timeout(ngx_event_t *ev)
{
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_video_api_signal_ctx_t  *sctx;

    sctx = (ngx_http_video_api_signal_ctx_t *)
               ((u_char *) ev
                - offsetof(ngx_http_video_api_signal_ctx_t, timer));

    r = sctx->request;
    c = r->connection;

    /* a take in flight answers, whatever it brings */

    sctx->expired = 1;

    if (sctx->taking) {
        return;
    }

    ngx_http_video_api_run_wake(sctx->run);

    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_video_api_signal_finish(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, ngx_int_t rc)
{
    if (!sctx->done) {
        ngx_http_video_api_metrics_gauge(NGX_HTTP_VIDEO_API_G_LONG_POLLS, -1);
    }

    sctx->done = 1;

    ngx_http_video_api_pubsub_leave(sctx->waiter);

    if (sctx->timer.timer_set) {
        ngx_del_timer(&sctx->timer);
    }

    return rc;
}


/* {"messages": [...]} from the take's JSON texts (reply NULL: none) */

static ngx_int_t
ngx_http_video_api_signal_messages(ngx_http_request_t *r, redisReply *reply)
{
    size_t        len, i;
    u_char       *p, *list;
    redisReply  **e;

    len = 0;
    e = reply ? reply->element : NULL;
    i = 0;

    if (reply != NULL) {
        for (i = 0; i < reply->elements; i++) {
            if (e[i]->type != REDIS_REPLY_STRING) {
                return ngx_http_video_api_send_error(r,
                           NGX_HTTP_INTERNAL_SERVER_ERROR, NULL,
                           "Internal error");
            }

            len += e[i]->len + 1;
        }
    }

    list = ngx_pnalloc(r->pool, len + 1);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = list;

    for (i = 0; reply != NULL && i < reply->elements; i++) {
        if (i > 0) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, e[i]->str, e[i]->len);
    }

    return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK,
                                           "{\"messages\":[", list, p - list,
                                           "]}");
}


/* the request is going away: nothing may touch it afterwards */

static void
ngx_http_video_api_signal_cleanup(void *data)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    if (!sctx->done) {
        ngx_http_video_api_metrics_gauge(NGX_HTTP_VIDEO_API_G_LONG_POLLS, -1);
    }

    sctx->done = 1;

    if (sctx->timer.timer_set) {
        ngx_del_timer(&sctx->timer);
    }
}
