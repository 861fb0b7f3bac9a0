/*
 * /api/live/:id/signal: WebRTC signaling between the peers of a stream.
 *
 * A POST appends the message to its peer's list in Redis and publishes
 * a notice on the peer's channel, in one script (video_signal.h).  A GET
 * takes every pending message of its peer in one script, or waits: the
 * request registers on the worker's subscriber connection (pubsub.c)
 * before its first take, so a message posted between the take and the
 * registration still wakes it, and a notice that arrives while a take is
 * in flight makes it take again when that take comes back empty.  A
 * take in flight always gets its answer to the client: a timeout or a
 * shutdown waits for it, so taken messages are not dropped.
 *
 * Both ask whether the stream exists as GET /api/videos/:id reads a
 * video (the cache, else PostgreSQL): the set of ids cannot tell a live
 * stream from a video on demand.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "video_id.h"
#include "video_signal.h"
#include "video_time.h"
#include "video_validate.h"


typedef struct {
    ngx_http_request_t                  *request;
    ngx_str_t                            stream;
    ngx_str_t                            peer;
    ngx_str_t                            key;       /* list and channel */

    video_signal_t                       msg;       /* of a POST */
    u_char                               id[VIDEO_ID_LEN + 1];
    u_char                               created[VIDEO_TIME_ISO_LEN + 1];

    ngx_msec_t                           timeout;   /* of a GET */
    ngx_event_t                          timer;
    ngx_http_video_api_pubsub_waiter_t  *waiter;

    unsigned                             taking:1;
    unsigned                             notified:1;
    unsigned                             expired:1;
    unsigned                             done:1;
} ngx_http_video_api_signal_ctx_t;


static ngx_http_video_api_signal_ctx_t *ngx_http_video_api_signal_ctx(
    ngx_http_request_t *r, ngx_str_t *stream, ngx_str_t *peer);
static ngx_int_t ngx_http_video_api_signal_not_found(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_uint_t ngx_http_video_api_signal_is_live(ngx_str_t *json);
static ngx_int_t ngx_http_video_api_signal_send(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
static void ngx_http_video_api_signal_sent(ngx_http_request_t *r,
    void *data, redisReply *reply);
static ngx_int_t ngx_http_video_api_signal_wait(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
static ngx_int_t ngx_http_video_api_signal_take(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx);
static void ngx_http_video_api_signal_taken(ngx_http_request_t *r,
    void *data, redisReply *reply);
static void ngx_http_video_api_signal_wake(ngx_http_request_t *r,
    void *data);
static void ngx_http_video_api_signal_timeout(ngx_event_t *ev);
static void ngx_http_video_api_signal_finish(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, ngx_int_t rc);
static ngx_int_t ngx_http_video_api_signal_messages(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_video_api_signal_cleanup(void *data);


static ngx_http_video_api_redis_script_t  signal_post_script =
    ngx_http_video_api_redis_script(VIDEO_SIGNAL_POST_LUA);

static ngx_http_video_api_redis_script_t  signal_take_script =
    ngx_http_video_api_redis_script(VIDEO_SIGNAL_TAKE_LUA);


/* POST /api/live/:id/signal */

ngx_int_t
ngx_http_video_api_signal_post(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    json_t                           *details;
    ngx_str_t                         to;
    video_signal_t                    msg;
    ngx_http_video_api_signal_ctx_t  *sctx;

    /* whatever video_api_max_body_size allows elsewhere */

    if (ctx->body.len > VIDEO_SIGNAL_BODY_MAX) {
        return ngx_http_video_api_send_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
                   "Request body is larger than %d bytes",
                   VIDEO_SIGNAL_BODY_MAX);
    }

    if (video_signal_parse(ctx->json, &msg, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_signal_not_found(r, &ctx->params[0]);
    }

    to.data = (u_char *) msg.to;
    to.len = ngx_strlen(msg.to);

    sctx = ngx_http_video_api_signal_ctx(r, &ctx->params[0], &to);
    if (sctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->msg = msg;

    return ngx_http_video_api_videos_load(r, &sctx->stream,
                                          ngx_http_video_api_signal_send,
                                          sctx);
}


static ngx_int_t
ngx_http_video_api_signal_send(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    size_t       argvlen[3];
    json_t      *msg;
    ngx_buf_t   *b;
    ngx_time_t  *tp;
    const char  *argv[3];

    if (!ngx_http_video_api_signal_is_live(json)) {
        return ngx_http_video_api_signal_not_found(r, &sctx->stream);
    }

    tp = ngx_timeofday();

    if (video_id_generate((char *) sctx->id) != 0
        || video_time_iso8601((char *) sctx->created,
                              (int64_t) tp->sec * 1000 + tp->msec)
           == 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = video_signal_message(&sctx->msg, (char *) sctx->id,
                               (char *) sctx->created);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_http_video_api_json_buf(r->pool, msg);
    json_decref(msg);

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = (char *) sctx->key.data;
    argvlen[0] = sctx->key.len;
    argv[1] = (char *) b->pos;
    argvlen[1] = b->last - b->pos;
    argv[2] = (char *) sctx->key.data;
    argvlen[2] = sctx->key.len;

    if (ngx_http_video_api_redis_eval(r, &signal_post_script,
                                      ngx_http_video_api_signal_sent, sctx,
                                      1, 3, argv, argvlen)
        != NGX_OK)
    {
        return ngx_http_video_api_send_unavailable(r, "Redis");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_video_api_signal_sent(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    ngx_int_t  rc;

    if (reply == NULL) {
        rc = ngx_http_video_api_send_unavailable(r, "Redis");

    } else if (reply->type != REDIS_REPLY_INTEGER) {
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           NULL, "Internal error");

    } else {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
                 json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}",
                           "id", (char *) sctx->id,
                           "type", video_signal_types[sctx->msg.type],
                           "from", sctx->msg.from,
                           "to", sctx->msg.to,
                           "createdAt", (char *) sctx->created,
                           "expiresIn", VIDEO_SIGNAL_TTL_MS / 1000));
    }

    ngx_http_finalize_request(r, rc);
}


/* GET /api/live/:id/signal?peer=<id>[&timeout=<seconds>] */

ngx_int_t
ngx_http_video_api_signal_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    long                              seconds;
    json_t                           *details;
    ngx_str_t                         peer, arg;
    ngx_msec_t                        timeout;
    ngx_http_video_api_signal_ctx_t  *sctx;
    ngx_http_video_api_main_conf_t   *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    details = json_array();
    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_arg(r, (u_char *) "peer", 4, &peer) != NGX_OK) {
        video_detail_add(details, "peer", "peer is required: the id of the "
                         "peer whose messages to take");

    } else if (!video_signal_peer_valid((char *) peer.data, peer.len)) {
        video_detail_add(details, "peer", "peer must be a peer id: 1 to 64 "
                         "characters of A-Z, a-z, 0-9, _ and -");
    }

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

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_signal_not_found(r, &ctx->params[0]);
    }

    sctx = ngx_http_video_api_signal_ctx(r, &ctx->params[0], &peer);
    if (sctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->timeout = timeout;

    return ngx_http_video_api_videos_load(r, &sctx->stream,
                                          ngx_http_video_api_signal_wait,
                                          sctx);
}


static ngx_int_t
ngx_http_video_api_signal_wait(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    ngx_pool_cleanup_t  *cln;

    if (!ngx_http_video_api_signal_is_live(json)) {
        return ngx_http_video_api_signal_not_found(r, &sctx->stream);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_video_api_signal_cleanup;
    cln->data = sctx;

    /* a worker that shuts down hears no more notices: one take answers */

    if (ngx_exiting) {
        sctx->expired = 1;
    }

    /* registered before the first take: see the header */

    sctx->waiter = ngx_http_video_api_pubsub_wait(r, &sctx->key,
                       ngx_http_video_api_signal_wake, sctx);
    if (sctx->waiter == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_signal_take(r, sctx) != NGX_OK) {
        sctx->done = 1;
        ngx_http_video_api_pubsub_leave(sctx->waiter);
        return ngx_http_video_api_send_unavailable(r, "Redis");
    }

    sctx->timer.handler = ngx_http_video_api_signal_timeout;
    sctx->timer.data = r->connection;
    sctx->timer.log = r->connection->log;

    ngx_add_timer(&sctx->timer, sctx->timeout);

    /* a client that goes away ends the request (and its wait) at once */

    r->read_event_handler = ngx_http_test_reading;

    r->main->count++;

    return NGX_DONE;
}


/* NGX_OK, or NGX_DECLINED when Redis cannot take the command */

static ngx_int_t
ngx_http_video_api_signal_take(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx)
{
    size_t       argvlen[1];
    const char  *argv[1];

    argv[0] = (char *) sctx->key.data;
    argvlen[0] = sctx->key.len;

    if (ngx_http_video_api_redis_eval(r, &signal_take_script,
                                      ngx_http_video_api_signal_taken, sctx,
                                      1, 1, argv, argvlen)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    sctx->taking = 1;
    sctx->notified = 0;

    return NGX_OK;
}


static void
ngx_http_video_api_signal_taken(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    ngx_int_t  rc;

    sctx->taking = 0;

    if (sctx->done) {
        return;
    }

    if (reply == NULL) {
        rc = ngx_http_video_api_send_unavailable(r, "Redis");

    } else if (reply->type != REDIS_REPLY_ARRAY) {
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           NULL, "Internal error");

    } else if (reply->elements > 0 || sctx->expired || ngx_exiting) {
        rc = ngx_http_video_api_signal_messages(r, reply);

    } else if (sctx->notified) {

        /* a notice came while this take was in flight */

        if (ngx_http_video_api_signal_take(r, sctx) == NGX_OK) {
            return;
        }

        rc = ngx_http_video_api_send_unavailable(r, "Redis");

    } else {
        return;
    }

    ngx_http_video_api_signal_finish(r, sctx, rc);
}


static void
ngx_http_video_api_signal_wake(ngx_http_request_t *r, void *data)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    ngx_int_t  rc;

    if (sctx->done) {
        return;
    }

    if (sctx->taking) {
        sctx->notified = 1;
        return;
    }

    /* a worker that shuts down answers now; the client asks another */

    if (ngx_exiting) {
        rc = ngx_http_video_api_signal_messages(r, NULL);

    } else if (ngx_http_video_api_signal_take(r, sctx) == NGX_OK) {
        return;

    } else {
        rc = ngx_http_video_api_send_unavailable(r, "Redis");
    }

    ngx_http_video_api_signal_finish(r, sctx, rc);
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

    if (sctx->taking) {
        sctx->expired = 1;
        return;
    }

    ngx_http_video_api_signal_finish(r, sctx,
        ngx_http_video_api_signal_messages(r, NULL));

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_video_api_signal_finish(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, ngx_int_t rc)
{
    sctx->done = 1;

    ngx_http_video_api_pubsub_leave(sctx->waiter);

    if (sctx->timer.timer_set) {
        ngx_del_timer(&sctx->timer);
    }

    ngx_http_finalize_request(r, rc);
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


static ngx_http_video_api_signal_ctx_t *
ngx_http_video_api_signal_ctx(ngx_http_request_t *r, ngx_str_t *stream,
    ngx_str_t *peer)
{
    ngx_http_video_api_signal_ctx_t  *sctx;

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_signal_ctx_t));
    if (sctx == NULL) {
        return NULL;
    }

    sctx->request = r;
    sctx->stream = *stream;
    sctx->peer = *peer;

    sctx->key.data = ngx_pnalloc(r->pool, VIDEO_SIGNAL_KEY_MAX);
    if (sctx->key.data == NULL) {
        return NULL;
    }

    sctx->key.len = video_signal_key((char *) sctx->key.data,
                                     (char *) stream->data, stream->len,
                                     (char *) peer->data, peer->len);

    return sctx;
}


static ngx_int_t
ngx_http_video_api_signal_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Live stream '%V' not found", id);
}


/* the video's JSON text says "videoType": "LIVE" */

static ngx_uint_t
ngx_http_video_api_signal_is_live(ngx_str_t *json)
{
    json_t      *video, *type;
    ngx_uint_t   live;

    video = json_loadb((char *) json->data, json->len, 0, NULL);
    if (video == NULL) {
        return 0;
    }

    type = json_object_get(video, "videoType");

    live = json_is_string(type)
           && ngx_strcmp(json_string_value(type), "LIVE") == 0;

    json_decref(video);

    return live;
}


/* the request is going away: nothing may touch it afterwards */

static void
ngx_http_video_api_signal_cleanup(void *data)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    sctx->done = 1;

    if (sctx->timer.timer_set) {
        ngx_del_timer(&sctx->timer);
    }
}
