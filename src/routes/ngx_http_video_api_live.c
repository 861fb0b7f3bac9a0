/*
 * /api/live: live streams (nginx-rtmp's callbacks are in
 * ngx_http_video_api_live_callbacks.c, signaling in _signal.c).
 * Literal paths come before "/api/live/:id" so they win.
 *
 * A stream is a video of type LIVE.  Its key is shown once, by create or
 * rotation; rows hold its SHA-256 only.  nginx-rtmp asks on_publish
 * (verify) with the key as the stream name; the answer renames the stream
 * to the video id (3xx, Location), so HLS files, recordings and URLs
 * carry the id.  nginx-rtmp keeps naming the publisher by the key in its
 * later callbacks (publish_done, update, record_done), so the row keeps
 * the hash of the key the publisher used (live_key_hash).
 */

#include <openssl/crypto.h>

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_live.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "video_form.h"
#include "video_id.h"
#include "video_play.h"
#include "video_validate.h"


/* what nginx-rtmp's control interface is reached by (conf/nginx.conf) */
#define NGX_HTTP_VIDEO_API_LIVE_DROP  "/_video_api/rtmp/drop/publisher"


static ngx_int_t ngx_http_video_api_live_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_active(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_watch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_key(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_start(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_stop(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_visibility(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_live_routes[] = {
    { NGX_HTTP_POST, "/api/live/create",
      ngx_http_video_api_live_create, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_GET, "/api/live/active",
      ngx_http_video_api_live_active, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_GET, "/api/live/:id",
      ngx_http_video_api_live_get, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_GET, "/api/live/:id/watch",
      ngx_http_video_api_live_watch, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/live/:id/key",
      ngx_http_video_api_live_key, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_POST, "/api/live/:id/start",
      ngx_http_video_api_live_start, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/live/:id/stop",
      ngx_http_video_api_live_stop, NGX_HTTP_VIDEO_API_BODY_JSON_OPT,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_PATCH, "/api/live/:id/visibility",
      ngx_http_video_api_live_visibility, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { 0, NULL, NULL, 0, 0 }
};




typedef enum {
    LIVE_SEND = 0,
    LIVE_ROWS,
    LIVE_DROPPED
} ngx_http_video_api_live_step_e;

static const char *const  live_names[] = { "send", "rows", "dropped" };

static ngx_int_t ngx_http_video_api_live_step(ngx_http_video_api_run_t *run);
static ngx_int_t ngx_http_video_api_live_drop_answer(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx);

static ngx_http_video_api_steps_t  live_steps = {
    "live", ngx_http_video_api_live_step, live_names
};


static ngx_http_video_api_pg_stmt_t  live_create_stmt =
    ngx_http_video_api_pg_scoped("live_create",
        "INSERT INTO videos AS v (id, account_id, title, description,"
        " visibility, video_type, stream_key_hash)"
        " VALUES ($1, $7, $3, $4, $5::video_visibility, 'LIVE',"
        " decode($6, 'hex'))"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        7, 0);

static ngx_http_video_api_pg_stmt_t  live_key_stmt =
    ngx_http_video_api_pg_scoped("live_key",
        "UPDATE videos v SET stream_key_hash = decode($3, 'hex'), "
        LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND video_writable(v.account_id, $4, $5)"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        4, 5);

/*
 * start's key check: a stream the caller may not see is found only by
 * its key, so a wrong key for it answers as an unknown id
 */
static ngx_http_video_api_pg_stmt_t  live_key_check_stmt =
    ngx_http_video_api_pg_scoped("live_key_check",
        "SELECT encode(v.stream_key_hash, 'hex'),"
        " v.live_ended_at IS NOT NULL"
        " FROM videos v WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND (video_readable(v.account_id, v.visibility, $2, $3)"
        "  OR v.stream_key_hash = decode($4, 'hex'))",
        2, 3);

static ngx_http_video_api_pg_stmt_t  live_start_stmt =
    ngx_http_video_api_pg_stmt("live_start",
        "UPDATE videos v SET status = 'LIVE',"
        " live_started_at = COALESCE(v.live_started_at, now()), " LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND v.live_ended_at IS NULL"
        " AND v.stream_key_hash = decode($3, 'hex')"
        " RETURNING " LIVE_CHANGED LIVE_STREAM);

/*
 * stop: a stream that has not ended ends now; it waits for its recording
 * (PENDING) when converting and a publisher was ever accepted
 */
static ngx_http_video_api_pg_stmt_t  live_stop_stmt =
    ngx_http_video_api_pg_scoped("live_stop",
        "UPDATE videos v SET is_live_now = false,"
        " live_ended_at = COALESCE(v.live_ended_at, now()),"
        " live_convert = $3::boolean,"
        " status = CASE WHEN v.status IN ('LIVE', 'PENDING')"
        "  AND v.live_ended_at IS NULL THEN"
        "  CASE WHEN $3::boolean AND v.live_key_hash IS NOT NULL"
        "  THEN 'PENDING'::video_status ELSE 'READY'::video_status END"
        "  ELSE v.status END, " LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND video_writable(v.account_id, $4, $5)"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        4, 5);

static ngx_http_video_api_pg_stmt_t  live_visibility_stmt =
    ngx_http_video_api_pg_scoped("live_visibility",
        "UPDATE videos v SET visibility = $3::video_visibility, " LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND video_writable(v.account_id, $4, $5)"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        4, 5);

static ngx_http_video_api_pg_stmt_t  live_get_stmt =
    ngx_http_video_api_pg_scoped("live_get",
        "SELECT " LIVE_UNCHANGED LIVE_STREAM
        " FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $2, $3)",
        2, 3);

/* the public directory of streams: what an anonymous caller would list */
static ngx_http_video_api_pg_stmt_t  live_active_stmt =
    ngx_http_video_api_pg_stmt("live_active",
        "SELECT " LIVE_UNCHANGED LIVE_STREAM
        " FROM videos v WHERE v.is_live_now AND v.video_type = 'LIVE'"
        " AND video_listed(v.account_id, v.visibility, '', '')"
        " ORDER BY v.live_started_at DESC, v.id DESC LIMIT 100");


static ngx_int_t ngx_http_video_api_live_drop(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);


ngx_http_video_api_main_conf_t *
ngx_http_video_api_live_conf(ngx_http_request_t *r)
{
    return ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
}


static ngx_int_t
ngx_http_video_api_live_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Live stream '%V' not found", id);
}


/* the state of a route that names a stream: NULL when it is answered */

ngx_http_video_api_live_ctx_t *
ngx_http_video_api_live_ctx(ngx_http_request_t *r, ngx_str_t *id,
    ngx_int_t *rc)
{
    ngx_http_video_api_live_ctx_t  *lctx;

    if (id != NULL && !video_id_valid((char *) id->data, id->len)) {
        *rc = ngx_http_video_api_live_not_found(r, id);
        return NULL;
    }

    lctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_live_ctx_t));
    if (lctx == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    if (id != NULL) {
        lctx->id.len = id->len;
        lctx->id.data = ngx_pnalloc(r->pool, id->len + 1);
        if (lctx->id.data == NULL) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NULL;
        }

        ngx_cpystrn(lctx->id.data, id->data, id->len + 1);
        lctx->values[0] = (char *) lctx->id.data;
    }

    lctx->values[1] = (char *) ngx_http_video_api_live_conf(r)->play.base.data;

    return lctx;
}


/* a new key for the stream, and the form it is stored in */

static ngx_int_t
ngx_http_video_api_live_new_key(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx)
{
    if (video_stream_key_generate((char *) lctx->key) != 0
        || video_stream_key_hash((char *) lctx->key, VIDEO_STREAM_KEY_LEN,
                                 (char *) lctx->hash)
           != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: cannot make a stream key");
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_live_query(ngx_http_request_t *r,
    ngx_http_video_api_pg_stmt_t *stmt, int n,
    ngx_http_video_api_live_ctx_t *lctx,
    ngx_http_video_api_live_answer_pt answer)
{
    lctx->answer = answer;

    if (lctx->run != NULL) {

        /* a statement after another, from the first one's answer */

        return ngx_http_video_api_run_query(lctx->run, LIVE_ROWS, stmt, n,
                                            lctx->values);
    }

    lctx->stmt = stmt;
    lctx->nvalues = n;

    return ngx_http_video_api_run(r, &live_steps, lctx, LIVE_SEND);
}


/*
 * Every statement's result goes to its answer; a failure gets the
 * module's one answer to it, an account limit among them (a stream
 * created or a publisher accepted beyond it: nginx-rtmp refuses the
 * publisher on the 403)
 */

static ngx_int_t
ngx_http_video_api_live_step(ngx_http_video_api_run_t *run)
{
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = run->data;

    switch (run->step) {

    case LIVE_SEND:
        lctx->run = run;

        return ngx_http_video_api_run_query(run, LIVE_ROWS, lctx->stmt,
                                            lctx->nvalues, lctx->values);

    case LIVE_ROWS:
        if (!ngx_http_video_api_run_ok(run)
            || PQresultStatus(run->res) != PGRES_TUPLES_OK)
        {
            return ngx_http_video_api_run_failed(run);
        }

        return lctx->answer(run->request, lctx, run->res);

    default: /* LIVE_DROPPED */
        return ngx_http_video_api_live_drop_answer(run->request, lctx);
    }
}


/* a changed stream: its video goes to the cache and the lists retire */

void
ngx_http_video_api_live_changed(ngx_http_request_t *r, PGresult *res)
{
    ngx_str_t  id, version, json;

    id.data = (u_char *) PQgetvalue(res, 0, LIVE_COL_ID);
    id.len = PQgetlength(res, 0, LIVE_COL_ID);
    version.data = (u_char *) PQgetvalue(res, 0, LIVE_COL_VERSION);
    version.len = PQgetlength(res, 0, LIVE_COL_VERSION);
    json.data = (u_char *) PQgetvalue(res, 0, LIVE_COL_JSON);
    json.len = PQgetlength(res, 0, LIVE_COL_JSON);

    ngx_http_video_api_video_changed(r, &id, &version, &json);
}


/*
 * "<base><id>/[<token>/]<rest>": a play URL, with a token for the token
 * generation gen when the stream is private (gen -1 when it is not; the
 * token rule of /play/ holds for /live/ too)
 */

static char *
ngx_http_video_api_live_url(ngx_http_request_t *r, ngx_str_t *base,
    ngx_str_t *id, int64_t gen, char *rest, size_t rest_len)
{
    u_char                          *url, *p;
    int                              n;
    char                             token[VIDEO_PLAY_TOKEN_MAX];
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);
    n = 0;

    if (gen >= 0) {
        n = video_play_token(&mcf->play.keys[0], (char *) id->data, id->len,
                             video_play_expiry((int64_t) ngx_time(),
                                               (int64_t) mcf->play.expires),
                             gen, token);
        if (n < 0) {
            return NULL;
        }
    }

    url = ngx_pnalloc(r->pool, base->len + id->len + 1 + n + 1 + rest_len
                               + 1);
    if (url == NULL) {
        return NULL;
    }

    p = ngx_sprintf(url, "%V%V/", base, id);

    if (n > 0) {
        p = ngx_sprintf(p, "%*s/", (size_t) n, token);
    }

    *ngx_cpymem(p, rest, rest_len) = '\0';

    return (char *) url;
}


static ngx_str_t *
ngx_http_video_api_live_base(ngx_http_request_t *r)
{
    ngx_str_t                       *base;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    base = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (base == NULL) {
        return NULL;
    }

    base->len = mcf->public_url.len + sizeof("/live/") - 1;
    base->data = ngx_pnalloc(r->pool, base->len);
    if (base->data == NULL) {
        return NULL;
    }

    ngx_sprintf(base->data, "%V/live/", &mcf->public_url);

    return base;
}


static json_t *
ngx_http_video_api_live_col(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return json_null();
    }

    return json_stringn(PQgetvalue(res, row, col),
                        PQgetlength(res, row, col));
}


/* the first row's column, NUL-terminated, in the request's pool */

ngx_int_t
ngx_http_video_api_live_copy(ngx_http_request_t *r, PGresult *res, int col,
    ngx_str_t *out)
{
    out->len = PQgetlength(res, 0, col);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, PQgetvalue(res, 0, col), out->len + 1);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_video_api_live_is(PGresult *res, int row, int col, char *value)
{
    return !PQgetisnull(res, row, col)
           && ngx_strcmp(PQgetvalue(res, row, col), value) == 0;
}


/* the live playlist's URL and, once it is a VOD, the VOD's */

static ngx_int_t
ngx_http_video_api_live_urls(ngx_http_request_t *r, PGresult *res, int row,
    char **live, char **vod)
{
    char                            *key;
    int64_t                          gen;
    ngx_str_t                        id, *base;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    id.data = (u_char *) PQgetvalue(res, row, LIVE_COL_ID);
    id.len = PQgetlength(res, row, LIVE_COL_ID);
    gen = -1;

    if (ngx_http_video_api_live_is(res, row, LIVE_COL_VISIBILITY, "PRIVATE")) {
        gen = ngx_atoof((u_char *) PQgetvalue(res, row, LIVE_COL_GEN),
                        PQgetlength(res, row, LIVE_COL_GEN));
        if (gen < 0) {
            return NGX_ERROR;
        }
    }

    base = ngx_http_video_api_live_base(r);
    if (base == NULL) {
        return NGX_ERROR;
    }

    *live = ngx_http_video_api_live_url(r, base, &id, gen, "index.m3u8",
                                        sizeof("index.m3u8") - 1);
    if (*live == NULL) {
        return NGX_ERROR;
    }

    *vod = NULL;

    /* the manifest key is "<id>/<file>" */

    key = PQgetvalue(res, row, LIVE_COL_MANIFEST);

    if (!PQgetisnull(res, row, LIVE_COL_MANIFEST)
        && (size_t) PQgetlength(res, row, LIVE_COL_MANIFEST) > id.len + 1
        && ngx_strncmp(key, id.data, id.len) == 0 && key[id.len] == '/')
    {
        base = &mcf->play.base;
        *vod = ngx_http_video_api_live_url(r, base, &id, gen,
                                           key + id.len + 1,
                                           PQgetlength(res, row,
                                                       LIVE_COL_MANIFEST)
                                           - id.len - 1);
        if (*vod == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a stream as the API shows it: never its key or the key's hash */

static json_t *
ngx_http_video_api_live_stream(ngx_http_request_t *r, PGresult *res,
    int row)
{
    char                            *live, *vod;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    if (ngx_http_video_api_live_urls(r, res, row, &live, &vod) != NGX_OK) {
        return NULL;
    }

    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:s,s:s%,s:s?,"
                     "s:o,s:o}",
               "id", ngx_http_video_api_live_col(res, row, LIVE_COL_ID),
               "title", ngx_http_video_api_live_col(res, row, LIVE_COL_TITLE),
               "description",
               ngx_http_video_api_live_col(res, row, LIVE_COL_DESCRIPTION),
               "status", ngx_http_video_api_live_col(res, row, LIVE_COL_STATUS),
               "visibility",
               ngx_http_video_api_live_col(res, row, LIVE_COL_VISIBILITY),
               "videoType", ngx_http_video_api_live_col(res, row, LIVE_COL_TYPE),
               "isLiveNow",
               (int) ngx_http_video_api_live_is(res, row, LIVE_COL_LIVE, "t"),
               "startedAt",
               ngx_http_video_api_live_col(res, row, LIVE_COL_STARTED),
               "endedAt", ngx_http_video_api_live_col(res, row, LIVE_COL_ENDED),
               "playbackUrl", live,
               "rtmpUrl", (char *) mcf->rtmp_url.data,
               (size_t) mcf->rtmp_url.len,
               "vodPlaybackUrl", vod,
               "createdAt",
               ngx_http_video_api_live_col(res, row, LIVE_COL_CREATED),
               "updatedAt",
               ngx_http_video_api_live_col(res, row, LIVE_COL_UPDATED));
}


/* -- create and key rotation ------------------------------------------- */

static ngx_int_t ngx_http_video_api_live_created(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_rotated(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);


/* POST /api/live/create */

static ngx_int_t
ngx_http_video_api_live_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    u_char                         *id;
    ngx_int_t                       rc;
    json_t                         *details;
    video_patch_t                   p;
    ngx_http_video_api_live_ctx_t  *lctx;

    if (video_live_create_parse(ctx->json, &p, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    lctx = ngx_http_video_api_live_ctx(r, NULL, &rc);
    if (lctx == NULL) {
        return rc;
    }

    id = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    if (id == NULL
        || video_id_generate((char *) id) != 0
        || ngx_http_video_api_live_new_key(r, lctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id[VIDEO_ID_LEN] = '\0';
    lctx->id.data = id;
    lctx->id.len = VIDEO_ID_LEN;

    /* the strings live in ctx->json, which lives as long as the request */

    lctx->values[0] = (char *) id;
    lctx->values[2] = (char *) json_string_value(p.title);
    lctx->values[3] = (p.description && json_is_string(p.description))
                      ? (char *) json_string_value(p.description) : NULL;
    lctx->values[4] = p.visibility ? (char *) json_string_value(p.visibility)
                                   : "PUBLIC";
    lctx->values[5] = (char *) lctx->hash;

    /* in the caller's account (the default one where auth is off) */

    return ngx_http_video_api_live_query(r, &live_create_stmt, 7, lctx,
                                         ngx_http_video_api_live_created);
}


static ngx_int_t
ngx_http_video_api_live_created(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    char                            *live, *vod;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    ngx_http_video_api_live_changed(r, res);
    ngx_http_video_api_cache_video_id(r, &lctx->id, 1);

    if (ngx_http_video_api_live_urls(r, res, 0, &live, &vod) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
               json_pack("{s:s,s:s,s:s%,s:s}",
                         "videoId", (char *) lctx->id.data,
                         "streamKey", (char *) lctx->key,
                         "rtmpUrl", (char *) mcf->rtmp_url.data,
                         (size_t) mcf->rtmp_url.len,
                         "playbackUrl", live));
}


/*
 * POST /api/live/:id/key: a new key; the old one stops working at once,
 * and a publisher using it is dropped
 */

static ngx_int_t
ngx_http_video_api_live_key(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = ngx_http_video_api_live_ctx(r, &ctx->params[0], &rc);
    if (lctx == NULL) {
        return rc;
    }

    if (ngx_http_video_api_live_new_key(r, lctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lctx->values[2] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_key_stmt, 5, lctx,
                                         ngx_http_video_api_live_rotated);
}


static ngx_int_t
ngx_http_video_api_live_rotated(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        return ngx_http_video_api_live_not_found(r, &lctx->id);
    }

    ngx_http_video_api_live_changed(r, res);

    lctx->rotated = 1;

    return ngx_http_video_api_live_drop(r, lctx, res);
}


/* -- the routes ----------------------------------------------------------- */

static ngx_int_t ngx_http_video_api_live_listed(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_got(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_watched(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_key_checked(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_started(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_stopped(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_visibility_set(
    ngx_http_request_t *r, ngx_http_video_api_live_ctx_t *lctx,
    PGresult *res);


/* GET /api/live/active: public streams being published, newest first */

static ngx_int_t
ngx_http_video_api_live_active(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = ngx_http_video_api_live_ctx(r, NULL, &rc);
    if (lctx == NULL) {
        return rc;
    }

    return ngx_http_video_api_live_query(r, &live_active_stmt, 0, lctx,
                                         ngx_http_video_api_live_listed);
}


static ngx_int_t
ngx_http_video_api_live_listed(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    int      i, n;
    json_t  *streams, *s;

    streams = json_array();
    if (streams == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = PQntuples(res);

    for (i = 0; i < n; i++) {
        s = ngx_http_video_api_live_stream(r, res, i);

        if (s == NULL || json_array_append_new(streams, s) != 0) {
            json_decref(streams);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:o,s:i}", "streams", streams, "count", n));
}


/* GET /api/live/:id */

static ngx_int_t
ngx_http_video_api_live_read(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_http_video_api_live_answer_pt answer)
{
    ngx_int_t                       rc;
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = ngx_http_video_api_live_ctx(r, &ctx->params[0], &rc);
    if (lctx == NULL) {
        return rc;
    }

    /* no play base in this statement: the caller takes its place */

    return ngx_http_video_api_live_query(r, &live_get_stmt, 3, lctx, answer);
}


static ngx_int_t
ngx_http_video_api_live_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_live_read(r, ctx, ngx_http_video_api_live_got);
}


static ngx_int_t
ngx_http_video_api_live_got(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    json_t  *s;

    if (PQntuples(res) == 0
        || !ngx_http_video_api_live_is(res, 0, LIVE_COL_TYPE, "LIVE"))
    {
        return ngx_http_video_api_live_not_found(r, &lctx->id);
    }

    s = ngx_http_video_api_live_stream(r, res, 0);
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                                        json_pack("{s:o}", "stream", s));
}


/* GET /api/live/:id/watch: what a player needs */

static ngx_int_t
ngx_http_video_api_live_watch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_live_read(r, ctx,
                                        ngx_http_video_api_live_watched);
}


static ngx_int_t
ngx_http_video_api_live_watched(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    char  *live, *vod;

    if (PQntuples(res) == 0) {
        return ngx_http_video_api_live_not_found(r, &lctx->id);
    }

    if (!ngx_http_video_api_live_is(res, 0, LIVE_COL_TYPE, "LIVE")) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "Video '%V' is not a live stream", &lctx->id);
    }

    if (ngx_http_video_api_live_urls(r, res, 0, &live, &vod) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* once ended and converted, the recording plays */

    if (PQgetisnull(res, 0, LIVE_COL_ENDED) || vod == NULL) {
        vod = live;
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:o,s:o,s:b,s:s,s:o}",
                         "videoId",
                         ngx_http_video_api_live_col(res, 0, LIVE_COL_ID),
                         "title",
                         ngx_http_video_api_live_col(res, 0, LIVE_COL_TITLE),
                         "isLive",
                         (int) ngx_http_video_api_live_is(res, 0,
                                                          LIVE_COL_LIVE, "t"),
                         "hlsUrl", vod,
                         "status",
                         ngx_http_video_api_live_col(res, 0,
                                                     LIVE_COL_STATUS)));
}


/*
 * POST /api/live/:id/start {streamKey}: the stream is LIVE ahead of its
 * publisher (isLiveNow follows the publisher); the key is compared by its
 * hash in constant time
 */

static ngx_int_t
ngx_http_video_api_live_start(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    json_t                         *key, *details;
    ngx_http_video_api_live_ctx_t  *lctx;

    if (video_live_start_parse(ctx->json, &key, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    lctx = ngx_http_video_api_live_ctx(r, &ctx->params[0], &rc);
    if (lctx == NULL) {
        return rc;
    }

    if (video_stream_key_hash(json_string_value(key), json_string_length(key),
                              (char *) lctx->hash)
        != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the check takes the caller where the play base goes, then the key */

    lctx->values[3] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_key_check_stmt, 4, lctx,
                                         ngx_http_video_api_live_key_checked);
}


static ngx_int_t
ngx_http_video_api_live_key_checked(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        return ngx_http_video_api_live_not_found(r, &lctx->id);
    }

    if (PQgetisnull(res, 0, 0)
        || PQgetlength(res, 0, 0) != VIDEO_STREAM_KEY_HASH_LEN
        || CRYPTO_memcmp(PQgetvalue(res, 0, 0), lctx->hash,
                         VIDEO_STREAM_KEY_HASH_LEN)
           != 0)
    {
        return ngx_http_video_api_send_error(r, NGX_HTTP_UNAUTHORIZED, NULL,
                                             "Invalid stream key");
    }

    if (ngx_strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                   "Live stream '%V' has ended", &lctx->id);
    }

    lctx->values[1] = (char *) ngx_http_video_api_live_conf(r)->play.base.data;
    lctx->values[2] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_start_stmt, 3, lctx,
                                         ngx_http_video_api_live_started);
}


static ngx_int_t
ngx_http_video_api_live_started(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    /* the key was rotated or the stream ended in between */

    if (PQntuples(res) == 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_UNAUTHORIZED, NULL,
                                             "Invalid stream key");
    }

    ngx_http_video_api_live_changed(r, res);

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s,s:s,s:s}",
                         "message", "Stream started successfully",
                         "videoId", (char *) lctx->id.data,
                         "status", "LIVE"));
}


/*
 * POST /api/live/:id/stop {convertToVOD?}: the stream ends and its
 * publisher is dropped.  Converting (the default when recordings are
 * taken) leaves it PENDING until its recording is transcoded.
 */

static ngx_int_t
ngx_http_video_api_live_stop(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    int                              convert;
    ngx_int_t                        rc;
    json_t                          *details;
    ngx_http_video_api_live_ctx_t   *lctx;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    if (video_live_stop_parse(ctx->json, &convert, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (convert == -1) {
        convert = (mcf->live_record_path.len > 0);
    }

    if (convert && mcf->live_record_path.len == 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                   "convertToVOD needs recordings: "
                   "video_api_live_record_path is not set");
    }

    lctx = ngx_http_video_api_live_ctx(r, &ctx->params[0], &rc);
    if (lctx == NULL) {
        return rc;
    }

    lctx->values[2] = convert ? "t" : "f";

    return ngx_http_video_api_live_query(r, &live_stop_stmt, 5, lctx,
                                         ngx_http_video_api_live_stopped);
}


static ngx_int_t
ngx_http_video_api_live_stopped(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        return ngx_http_video_api_live_not_found(r, &lctx->id);
    }

    ngx_http_video_api_live_changed(r, res);

    if (ngx_http_video_api_live_copy(r, res, LIVE_COL_STATUS, &lctx->status)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_live_drop(r, lctx, res);
}


/* PATCH /api/live/:id/visibility {visibility} */

static ngx_int_t
ngx_http_video_api_live_visibility(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    json_t                         *v, *details;
    ngx_http_video_api_live_ctx_t  *lctx;

    if (video_live_visibility_parse(ctx->json, &v, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    lctx = ngx_http_video_api_live_ctx(r, &ctx->params[0], &rc);
    if (lctx == NULL) {
        return rc;
    }

    lctx->values[2] = (char *) json_string_value(v);

    return ngx_http_video_api_live_query(r, &live_visibility_stmt, 5, lctx,
               ngx_http_video_api_live_visibility_set);
}


static ngx_int_t
ngx_http_video_api_live_visibility_set(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        return ngx_http_video_api_live_not_found(r, &lctx->id);
    }

    ngx_http_video_api_live_changed(r, res);

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s,s:o}",
                         "message", "Visibility updated successfully",
                         "visibility",
                         ngx_http_video_api_live_col(res, 0,
                                                     LIVE_COL_VISIBILITY)));
}


/* -- dropping a publisher ---------------------------------------------- */

/*
 * nginx-rtmp's control interface drops the stream's publisher when it is
 * connected to this nginx worker, through a subrequest to an internal
 * location (conf/nginx.conf).  It sees no other worker's sessions, so the
 * publisher's connection number (nginx numbers connections across
 * workers; verify stored it) also goes out on Redis: every worker's
 * subscriber connection hears it and the worker that holds the
 * connection shuts it down (pubsub.c), which nginx-rtmp takes for the
 * publisher leaving.  The route answers once the subrequest is done.
 */

static ngx_int_t ngx_http_video_api_live_dropped(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_video_api_live_drop_resume(ngx_http_request_t *r);


static ngx_int_t
ngx_http_video_api_live_drop(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    size_t                        argvlen[3];
    const char                   *argv[3];
    ngx_str_t                     uri, args;
    ngx_http_request_t           *sr;
    ngx_http_video_api_ctx_t     *ctx;
    ngx_http_post_subrequest_t   *psr;

    /* every worker drops the publisher's connection if it has it */

    if (!PQgetisnull(res, 0, LIVE_COL_CLIENT)) {
        argv[0] = "PUBLISH";
        argvlen[0] = sizeof("PUBLISH") - 1;
        argv[1] = NGX_HTTP_VIDEO_API_PUBSUB_DROP;
        argvlen[1] = sizeof(NGX_HTTP_VIDEO_API_PUBSUB_DROP) - 1;
        argv[2] = PQgetvalue(res, 0, LIVE_COL_CLIENT);
        argvlen[2] = PQgetlength(res, 0, LIVE_COL_CLIENT);

        (void) ngx_http_video_api_redis_command(r,
                   ngx_http_video_api_redis_ignore, NULL, 3, argv, argvlen);
    }

    ngx_str_set(&uri, NGX_HTTP_VIDEO_API_LIVE_DROP);

    args.len = sizeof("name=") - 1 + lctx->id.len;
    args.data = ngx_pnalloc(r->pool, args.len);
    psr = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));

    if (args.data == NULL || psr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(args.data, "name=%V", &lctx->id);

    psr->handler = ngx_http_video_api_live_dropped;
    psr->data = lctx;

    if (ngx_http_subrequest(r, &uri, &args, &sr, psr,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    ctx->data = lctx;

    r->write_event_handler = ngx_http_video_api_live_drop_resume;

    return ngx_http_video_api_run_park(lctx->run, LIVE_DROPPED);
}


static ngx_int_t
ngx_http_video_api_live_dropped(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_video_api_live_ctx_t  *lctx = data;

    lctx->drop_done = 1;
    lctx->drop_status = sr->headers_out.status ? sr->headers_out.status
                                               : (ngx_uint_t) rc;

    return rc;
}


static void
ngx_http_video_api_live_drop_resume(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_video_api_live_ctx_t  *lctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    lctx = ctx->data;

    if (!lctx->drop_done) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_video_api_run_wake(lctx->run);
}


static ngx_int_t
ngx_http_video_api_live_drop_answer(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx)
{
    ngx_int_t  rc;

    if (lctx->drop_status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "video_api: nginx-rtmp's control location \""
                      NGX_HTTP_VIDEO_API_LIVE_DROP "\" answered %ui for "
                      "\"%V\"; its publisher is dropped through Redis",
                      lctx->drop_status, &lctx->id);
    }

    if (lctx->rotated) {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                 json_pack("{s:s,s:s}", "videoId", (char *) lctx->id.data,
                           "streamKey", (char *) lctx->key));

    } else {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                 json_pack("{s:s,s:s%}",
                           "message", "Stream stopped successfully",
                           "status", (char *) lctx->status.data,
                           lctx->status.len));
    }

    return rc;
}
