/*
 * /api/live/:id/signal: WebRTC signaling between the peers of a stream.
 *
 * A peer joins (POST .../signal/join) and gets an id and a token from the
 * server; every other request names its peer and carries that peer's
 * token in X-Peer-Token (a header: query strings end up in access logs).
 * Redis holds the token's hash only, and each script checks it, and the
 * stream's limits, before it changes anything (video_signal.h).
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
 * Every route asks whether the stream exists as GET /api/videos/:id
 * reads a video (the cache, else PostgreSQL): the set of ids cannot tell
 * a live stream from a video on demand, and no signaling state is made
 * for anything but a live stream.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_signal.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_run.h"
#include "ngx_http_video_api_response.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_signal.h"
#include "video_time.h"
#include "video_validate.h"


/* the routes' steps */

static const char *const  signal_names[] = {
    "read", "found", "reply", "taken", "woken"
};

static ngx_int_t ngx_http_video_api_signal_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  signal_steps = {
    "signal", ngx_http_video_api_signal_step, signal_names
};


static ngx_int_t ngx_http_video_api_signal_join(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_signal_post(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_signal_leave(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_signal_quota(ngx_http_request_t *r,
    const char *limit, u_char *msg, u_char *last, const char *detail,
    ngx_uint_t value);
static ngx_int_t ngx_http_video_api_signal_join_send(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
static ngx_int_t ngx_http_video_api_signal_joined(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply);
static ngx_int_t ngx_http_video_api_signal_leave_send(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
static ngx_int_t ngx_http_video_api_signal_left(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply);
static ngx_int_t ngx_http_video_api_signal_send(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
static ngx_int_t ngx_http_video_api_signal_sent(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply);


static ngx_http_video_api_redis_script_t  signal_join_script =
    ngx_http_video_api_redis_script(VIDEO_SIGNAL_JOIN_LUA);

static ngx_http_video_api_redis_script_t  signal_post_script =
    ngx_http_video_api_redis_script(VIDEO_SIGNAL_POST_LUA);

static ngx_http_video_api_redis_script_t  signal_leave_script =
    ngx_http_video_api_redis_script(VIDEO_SIGNAL_LEAVE_LUA);


/*
 * the live area's signaling routes: the peers of a stream exchange WebRTC
 * offers, answers and candidates; a peer's token is its credential
 */

ngx_http_video_api_route_t  ngx_http_video_api_signal_routes[] = {
    { NGX_HTTP_POST, "/api/live/:id/signal",
      ngx_http_video_api_signal_post, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_GET, "/api/live/:id/signal",
      ngx_http_video_api_signal_get, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_DELETE, "/api/live/:id/signal",
      ngx_http_video_api_signal_leave, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/live/:id/signal/join",
      ngx_http_video_api_signal_join, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


/* POST /api/live/:id/signal/join */

static ngx_int_t
ngx_http_video_api_signal_join(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                         rc;
    ngx_http_video_api_signal_ctx_t  *sctx;

    sctx = ngx_http_video_api_signal_ctx(r, &ctx->params[0], NULL, NULL, &rc);
    if (sctx == NULL) {
        return rc;
    }

    return ngx_http_video_api_signal_run(r, sctx,
                                         ngx_http_video_api_signal_join_send);
}


static ngx_int_t
ngx_http_video_api_signal_join_send(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    u_char                          *p;
    u_char                           idle[NGX_INT_T_LEN], peers[NGX_INT_T_LEN];
    ngx_str_t                        args[4];
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (video_signal_peer_generate((char *) sctx->new_peer,
                                   (char *) sctx->token)
        != 0
        || video_signal_token_hash((char *) sctx->token,
                                   VIDEO_SIGNAL_TOKEN_LEN,
                                   (char *) sctx->hash)
           != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: cannot make a signaling peer");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    args[0].data = sctx->new_peer;
    args[0].len = VIDEO_SIGNAL_PEER_LEN;
    args[1].data = sctx->hash;
    args[1].len = VIDEO_SIGNAL_TOKEN_HASH_LEN;

    p = ngx_sprintf(idle, "%ui", (ngx_uint_t) mcf->signal_limits.idle_ms);
    args[2].data = idle;
    args[2].len = p - idle;

    p = ngx_sprintf(peers, "%ui", (ngx_uint_t) mcf->signal_limits.peers);
    args[3].data = peers;
    args[3].len = p - peers;

    return ngx_http_video_api_signal_start(r, sctx, &signal_join_script,
                                           ngx_http_video_api_signal_joined,
                                           SIGNAL_KEY_BYTES + 1, 4, args);
}


static ngx_int_t
ngx_http_video_api_signal_joined(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply)
{
    u_char                          *p;
    ngx_int_t                        rc;
    ngx_str_t                        nocache = ngx_string("no-store");
    ngx_http_video_api_main_conf_t  *mcf;
    u_char                           msg[SIGNAL_MESSAGE_MAX];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER
        && reply->integer > 0)
    {
        /* the answer holds a secret: no cache keeps it */

        if (ngx_http_video_api_header_out(r, "Cache-Control", &nocache)
            != NGX_OK)
        {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            rc = ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
                     json_pack("{s:s%, s:s%, s:I}",
                               "peerId", (char *) sctx->new_peer,
                               (size_t) VIDEO_SIGNAL_PEER_LEN,
                               "peerToken", (char *) sctx->token,
                               (size_t) VIDEO_SIGNAL_TOKEN_LEN,
                               "expiresIn", (json_int_t)
                               (mcf->signal_limits.idle_ms / 1000)));
        }

    } else if (reply != NULL && reply->type == REDIS_REPLY_INTEGER
               && reply->integer == VIDEO_SIGNAL_FULL_PEERS)
    {
        p = ngx_snprintf(msg, sizeof(msg), "Live stream '%V' has as many "
                         "signaling peers as it may have",
                         &sctx->stream);

        rc = ngx_http_video_api_signal_quota(r, "peers", msg, p,
                 "a stream has at most %ui signaling peers",
                 (ngx_uint_t) mcf->signal_limits.peers);

    } else {
        rc = ngx_http_video_api_signal_failed(r, reply);
    }

    ngx_explicit_memzero(sctx->token, sizeof(sctx->token));

    return rc;
}


/* DELETE /api/live/:id/signal?peer=<id> */

static ngx_int_t
ngx_http_video_api_signal_leave(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    json_t                           *details;
    ngx_int_t                         rc;
    ngx_str_t                         peer;
    ngx_http_video_api_signal_ctx_t  *sctx;

    details = json_array();
    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_signal_peer_arg(r, &peer, details) != NGX_OK) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    json_decref(details);

    sctx = ngx_http_video_api_signal_ctx(r, &ctx->params[0], &peer, &peer, &rc);
    if (sctx == NULL) {
        return rc;
    }

    return ngx_http_video_api_signal_run(r, sctx,
                                         ngx_http_video_api_signal_leave_send);
}


static ngx_int_t
ngx_http_video_api_signal_leave_send(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    ngx_str_t  args[2];

    args[0] = sctx->peer;
    args[1].data = sctx->hash;
    args[1].len = VIDEO_SIGNAL_TOKEN_HASH_LEN;

    return ngx_http_video_api_signal_start(r, sctx, &signal_leave_script,
                                           ngx_http_video_api_signal_left,
                                           SIGNAL_KEYS, 2, args);
}


static ngx_int_t
ngx_http_video_api_signal_left(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply)
{
    ngx_int_t  rc;

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER
        && reply->integer == 1)
    {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                 json_pack("{s:s, s:s%}",
                           "message", "Peer left the stream's signaling",
                           "peerId", (char *) sctx->peer.data,
                           sctx->peer.len));

    } else {
        rc = ngx_http_video_api_signal_failed(r, reply);
    }

    return rc;
}


/* POST /api/live/:id/signal */

static ngx_int_t
ngx_http_video_api_signal_post(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    json_t                           *details;
    ngx_int_t                         rc;
    ngx_str_t                         from, to;
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

    from.data = (u_char *) msg.from;
    from.len = ngx_strlen(msg.from);
    to.data = (u_char *) msg.to;
    to.len = ngx_strlen(msg.to);

    sctx = ngx_http_video_api_signal_ctx(r, &ctx->params[0], &from, &to, &rc);
    if (sctx == NULL) {
        return rc;
    }

    sctx->msg = msg;

    return ngx_http_video_api_signal_run(r, sctx,
                                         ngx_http_video_api_signal_send);
}


static ngx_int_t
ngx_http_video_api_signal_send(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_signal_ctx_t *sctx = data;

    u_char                          *p;
    json_t                          *msg;
    ngx_buf_t                       *b;
    ngx_str_t                        args[7];
    ngx_time_t                      *tp;
    ngx_http_video_api_main_conf_t  *mcf;
    u_char                           queue[NGX_INT_T_LEN];
    u_char                           queue_bytes[NGX_INT_T_LEN];
    u_char                           bytes[NGX_INT_T_LEN];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

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

    args[0] = sctx->peer;
    args[1].data = sctx->hash;
    args[1].len = VIDEO_SIGNAL_TOKEN_HASH_LEN;
    args[2].data = (u_char *) sctx->msg.to;
    args[2].len = ngx_strlen(sctx->msg.to);
    args[3].data = b->pos;
    args[3].len = b->last - b->pos;

    p = ngx_sprintf(queue, "%ui", (ngx_uint_t) mcf->signal_limits.queue);
    args[4].data = queue;
    args[4].len = p - queue;

    p = ngx_sprintf(queue_bytes, "%ui",
                    (ngx_uint_t) mcf->signal_limits.queue_bytes);
    args[5].data = queue_bytes;
    args[5].len = p - queue_bytes;

    p = ngx_sprintf(bytes, "%ui", (ngx_uint_t) mcf->signal_limits.bytes);
    args[6].data = bytes;
    args[6].len = p - bytes;

    return ngx_http_video_api_signal_start(r, sctx, &signal_post_script,
                                           ngx_http_video_api_signal_sent,
                                           SIGNAL_KEYS, 7, args);
}


static ngx_int_t
ngx_http_video_api_signal_sent(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx, redisReply *reply)
{
    u_char                          *p;
    ngx_int_t                        rc;
    ngx_str_t                        to;
    ngx_http_video_api_main_conf_t  *mcf;
    u_char                           msg[SIGNAL_MESSAGE_MAX];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    to.data = (u_char *) sctx->msg.to;
    to.len = ngx_strlen(sctx->msg.to);

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        rc = ngx_http_video_api_signal_failed(r, reply);

    } else if (reply->integer > 0) {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
                 json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}",
                           "id", (char *) sctx->id,
                           "type", video_signal_types[sctx->msg.type],
                           "from", sctx->msg.from,
                           "to", sctx->msg.to,
                           "createdAt", (char *) sctx->created,
                           "expiresIn", VIDEO_SIGNAL_TTL_MS / 1000));

    } else if (reply->integer == VIDEO_SIGNAL_NO_PEER) {
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                           "Peer '%V' not found in live "
                                           "stream '%V'",
                                           &to, &sctx->stream);

    } else if (reply->integer == VIDEO_SIGNAL_FULL_QUEUE) {
        p = ngx_snprintf(msg, sizeof(msg), "Peer '%V' has as many messages "
                         "waiting as it may have: post again after it "
                         "polls", &to);

        rc = ngx_http_video_api_signal_quota(r, "queue", msg, p,
                 "at most %ui messages wait for a peer",
                 (ngx_uint_t) mcf->signal_limits.queue);

    } else if (reply->integer == VIDEO_SIGNAL_FULL_QUEUE_BYTES) {
        p = ngx_snprintf(msg, sizeof(msg), "Peer '%V' has too many bytes of "
                         "messages waiting to take this one: post again "
                         "after it polls", &to);

        rc = ngx_http_video_api_signal_quota(r, "queue_bytes", msg, p,
                 "at most %ui bytes of messages wait for a peer",
                 (ngx_uint_t) mcf->signal_limits.queue_bytes);

    } else if (reply->integer == VIDEO_SIGNAL_FULL_BYTES) {
        p = ngx_snprintf(msg, sizeof(msg), "Live stream '%V' has too many "
                         "bytes of messages waiting to take this one: post "
                         "again after its peers poll", &sctx->stream);

        rc = ngx_http_video_api_signal_quota(r, "bytes", msg, p,
                 "at most %ui bytes of messages wait in a stream",
                 (ngx_uint_t) mcf->signal_limits.bytes);

    } else {
        rc = ngx_http_video_api_signal_failed(r, reply);
    }

    return rc;
}


/* the "peer" argument, or NGX_DECLINED with a detail added */

ngx_int_t
ngx_http_video_api_signal_peer_arg(ngx_http_request_t *r, ngx_str_t *peer,
    json_t *details)
{
    if (ngx_http_arg(r, (u_char *) "peer", 4, peer) != NGX_OK) {
        video_detail_add(details, "peer", "peer is required: the id of the "
                         "peer that asks");
        return NGX_DECLINED;
    }

    if (!video_signal_peer_valid((char *) peer->data, peer->len)) {
        video_detail_add(details, "peer", "peer must be a peer id: "
                         ngx_value(VIDEO_SIGNAL_PEER_LEN) " characters "
                         "of A-Z, a-z, 0-9, _ and -");
        return NGX_DECLINED;
    }

    return NGX_OK;
}
/*
 * peer (may be NULL) asks; list names the peer list the request works on
 * (NULL: none)
 */

ngx_http_video_api_signal_ctx_t *
ngx_http_video_api_signal_ctx(ngx_http_request_t *r, ngx_str_t *stream,
    ngx_str_t *peer, ngx_str_t *list, ngx_int_t *rc)
{
    u_char                           *p;
    ngx_uint_t                        i;
    ngx_http_video_api_signal_ctx_t  *sctx;

    static char  *names[] = { "peers", "tokens", "bytes" };

    if (!video_id_valid((char *) stream->data, stream->len)) {
        *rc = ngx_http_video_api_signal_not_found(r, stream);
        return NULL;
    }

    *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_signal_ctx_t));
    if (sctx == NULL) {
        return NULL;
    }

    sctx->request = r;
    sctx->stream = *stream;

    if (peer != NULL) {
        sctx->peer = *peer;
    }

    p = ngx_pnalloc(r->pool, (SIGNAL_KEYS + 1) * VIDEO_SIGNAL_KEY_MAX);
    if (p == NULL) {
        return NULL;
    }

    sctx->prefix.data = p;
    sctx->prefix.len = video_signal_key((char *) p, (char *) stream->data,
                                        stream->len, "", 0);
    p += VIDEO_SIGNAL_KEY_MAX;

    for (i = 0; i < SIGNAL_KEY_LIST; i++) {
        sctx->keys[i].data = p;
        sctx->keys[i].len = video_signal_key((char *) p,
                                             (char *) stream->data,
                                             stream->len, names[i],
                                             ngx_strlen(names[i]));
        p += VIDEO_SIGNAL_KEY_MAX;
    }

    if (list != NULL) {
        sctx->keys[SIGNAL_KEY_LIST].data = p;
        sctx->keys[SIGNAL_KEY_LIST].len =
            video_signal_key((char *) p, (char *) stream->data, stream->len,
                             (char *) list->data, list->len);
    }

    return sctx;
}


/*
 * The hash of the X-Peer-Token header; NGX_DECLINED when there is none,
 * or it does not have the shape of a token
 */

ngx_int_t
ngx_http_video_api_signal_token(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx)
{
    ngx_str_t  *token;

    token = ngx_http_video_api_header_in(r, VIDEO_SIGNAL_TOKEN_HEADER);

    if (token == NULL
        || !video_signal_token_valid((char *) token->data, token->len)
        || video_signal_token_hash((char *) token->data, token->len,
                                   (char *) sctx->hash)
           != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * a route on a live stream: found runs once the stream is read, is live,
 * and (when a peer asks) the peer's token is good
 */

ngx_int_t
ngx_http_video_api_signal_run(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx,
    ngx_http_video_api_signal_found_pt found)
{
    sctx->video = ngx_http_video_api_video_create(r, &sctx->stream);
    if (sctx->video == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->found = found;

    return ngx_http_video_api_run(r, &signal_steps, sctx, SIGNAL_READ);
}


static ngx_int_t
ngx_http_video_api_signal_step(ngx_http_video_api_run_t *run)
{
    ngx_http_request_t               *r;
    ngx_http_video_api_signal_ctx_t  *sctx;

    r = run->request;
    sctx = run->data;

    switch (run->step) {

    case SIGNAL_READ:
        sctx->run = run;

        return ngx_http_video_api_video_read(run, sctx->video, SIGNAL_FOUND);

    case SIGNAL_FOUND:
        if (!ngx_http_video_api_signal_is_live(&sctx->video->json)) {
            return ngx_http_video_api_signal_not_found(r, &sctx->stream);
        }

        /* after the stream: an unknown one is a 404 whatever the token */

        if (sctx->peer.len
            && ngx_http_video_api_signal_token(r, sctx) != NGX_OK)
        {
            return ngx_http_video_api_signal_denied(r);
        }

        return sctx->found(r, sctx, &sctx->video->json);

    case SIGNAL_REPLY:
        return sctx->replied(r, sctx, run->reply);

    case SIGNAL_TAKEN:
        return ngx_http_video_api_signal_taken(r, sctx, run->reply);

    default: /* SIGNAL_WOKEN */
        return ngx_http_video_api_signal_woken(r, sctx);
    }
}


/* a route's one script; Redis unavailable: its reply comes empty, at once */

ngx_int_t
ngx_http_video_api_signal_start(ngx_http_request_t *r,
    ngx_http_video_api_signal_ctx_t *sctx,
    ngx_http_video_api_redis_script_t *script,
    ngx_http_video_api_signal_reply_pt replied, int nkeys, int argc,
    ngx_str_t *args)
{
    sctx->replied = replied;

    return ngx_http_video_api_signal_eval(sctx, script, SIGNAL_REPLY, nkeys,
                                          argc, args);
}


/* runs script with nkeys of the keys, then the prefix and args */

ngx_int_t
ngx_http_video_api_signal_eval(ngx_http_video_api_signal_ctx_t *sctx,
    ngx_http_video_api_redis_script_t *script, ngx_uint_t next, int nkeys,
    int argc, ngx_str_t *args)
{
    int          i, n;
    size_t       argvlen[SIGNAL_KEYS + 1 + SIGNAL_ARGS_MAX];
    const char  *argv[SIGNAL_KEYS + 1 + SIGNAL_ARGS_MAX];

    n = 0;

    for (i = 0; i < nkeys; i++) {
        argv[n] = (char *) sctx->keys[i].data;
        argvlen[n++] = sctx->keys[i].len;
    }

    argv[n] = (char *) sctx->prefix.data;
    argvlen[n++] = sctx->prefix.len;

    for (i = 0; i < argc; i++) {
        argv[n] = (char *) args[i].data;
        argvlen[n++] = args[i].len;
    }

    return ngx_http_video_api_run_eval(sctx->run, next, script, nkeys, n,
                                       argv, argvlen);
}


ngx_int_t
ngx_http_video_api_signal_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Live stream '%V' not found", id);
}


/*
 * One answer whatever was wrong (no token, another peer's, a peer that
 * left, expired or never was): it tells nobody which peers exist
 */

ngx_int_t
ngx_http_video_api_signal_denied(ngx_http_request_t *r)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_UNAUTHORIZED, NULL,
                                         "Missing or invalid "
                                         VIDEO_SIGNAL_TOKEN_HEADER
                                         " for this peer");
}


/* 403 QUOTA_EXCEEDED: msg, and a detail that names the limit */

static ngx_int_t
ngx_http_video_api_signal_quota(ngx_http_request_t *r, const char *limit,
    u_char *msg, u_char *last, const char *detail, ngx_uint_t value)
{
    u_char   *p;
    json_t   *details;
    u_char    d[SIGNAL_MESSAGE_MAX];

    p = ngx_snprintf(d, sizeof(d), detail, value);

    details = json_pack("[{s:s, s:s%}]", "path", limit,
                        "message", (char *) d, (size_t) (p - d));
    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_json(r, NGX_HTTP_FORBIDDEN,
               video_envelope_error(NGX_HTTP_FORBIDDEN, "QUOTA_EXCEEDED",
                                    (char *) msg, last - msg, details));
}


/* a script's answer no other branch took */

ngx_int_t
ngx_http_video_api_signal_failed(ngx_http_request_t *r, redisReply *reply)
{
    if (reply == NULL) {
        return ngx_http_video_api_send_unavailable(r, "Redis");
    }

    if (reply->type == REDIS_REPLY_INTEGER
        && reply->integer == VIDEO_SIGNAL_DENIED)
    {
        return ngx_http_video_api_signal_denied(r);
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: redis signaling script failed: \"%*s\"",
                      reply->len, reply->str);

    } else if (reply->type == REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: redis signaling script answered %L",
                      (int64_t) reply->integer);

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: redis signaling script answered a reply "
                      "of type %d", reply->type);
    }

    return ngx_http_video_api_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL, "Internal error");
}


/* the video's JSON text says "videoType": "LIVE" */

ngx_uint_t
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
