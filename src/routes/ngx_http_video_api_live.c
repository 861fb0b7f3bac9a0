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
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_idem.h"
#include "video_form.h"
#include "video_id.h"
#include "video_play.h"
#include "video_validate.h"


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




static const char *const  live_names[] = {
    "send", "rows", "dropped", "claimed"
};

static ngx_int_t ngx_http_video_api_live_step(ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  live_steps = {
    "live", ngx_http_video_api_live_step, live_names
};


enum {
    CREATE_ID = 0,
    CREATE_PLAY_BASE,
    CREATE_TITLE,
    CREATE_DESCRIPTION,
    CREATE_VISIBILITY,
    CREATE_KEY_HASH,
    CREATE_ACCOUNT,
    CREATE_NPARAMS,
};

static ngx_http_video_api_pg_stmt_t  live_create_stmt =
    ngx_http_video_api_pg_scoped("live_create",
        "INSERT INTO videos AS v (id, account_id, title, description,"
        " visibility, video_type, stream_key_hash)"
        " VALUES ($1, $7, $3, $4, $5::video_visibility, 'LIVE',"
        " decode($6, 'hex'))"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        CREATE_ACCOUNT + 1, 0);

enum {
    KEY_ID = 0,
    KEY_PLAY_BASE,
    KEY_HASH,
    KEY_ACCOUNT,
    KEY_ROLE,
    KEY_NPARAMS,
};

static ngx_http_video_api_pg_stmt_t  live_key_stmt =
    ngx_http_video_api_pg_scoped("live_key",
        "UPDATE videos v SET stream_key_hash = decode($3, 'hex'), "
        LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND video_writable(v.account_id, $4, $5)"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        KEY_ACCOUNT + 1, KEY_ROLE + 1);

enum {
    CHECK_ID = 0,
    CHECK_ACCOUNT,
    CHECK_ROLE,
    CHECK_KEY_HASH,
    CHECK_NPARAMS,
};

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
        CHECK_ACCOUNT + 1, CHECK_ROLE + 1);

enum {
    START_ID = 0,
    START_PLAY_BASE,
    START_KEY_HASH,
    START_NPARAMS,
};

static ngx_http_video_api_pg_stmt_t  live_start_stmt =
    ngx_http_video_api_pg_stmt("live_start",
        "UPDATE videos v SET status = 'LIVE',"
        " live_started_at = COALESCE(v.live_started_at, now()), " LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND v.live_ended_at IS NULL"
        " AND v.stream_key_hash = decode($3, 'hex')"
        " RETURNING " LIVE_CHANGED LIVE_STREAM);

enum {
    STOP_ID = 0,
    STOP_PLAY_BASE,
    STOP_CONVERT,
    STOP_ACCOUNT,
    STOP_ROLE,
    STOP_NPARAMS,
};

/*
 * stop: a stream that has not ended ends now; it waits for its recording
 * (PENDING) when converting and a publisher was ever accepted.  The last
 * column says whether it was being published (the publisher's
 * on_publish_done then finds it ended already).
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
        " FROM (SELECT o.is_live_now FROM videos o WHERE o.id = $1"
        " FOR UPDATE) o"
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND video_writable(v.account_id, $4, $5)"
        " RETURNING " LIVE_CHANGED LIVE_STREAM ", o.is_live_now",
        STOP_ACCOUNT + 1, STOP_ROLE + 1);

enum {
    VISIBILITY_ID = 0,
    VISIBILITY_PLAY_BASE,
    VISIBILITY_VALUE,
    VISIBILITY_ACCOUNT,
    VISIBILITY_ROLE,
    VISIBILITY_NPARAMS,
};

static ngx_http_video_api_pg_stmt_t  live_visibility_stmt =
    ngx_http_video_api_pg_scoped("live_visibility",
        "UPDATE videos v SET visibility = $3::video_visibility, " LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        " AND video_writable(v.account_id, $4, $5)"
        " RETURNING " LIVE_CHANGED LIVE_STREAM,
        VISIBILITY_ACCOUNT + 1, VISIBILITY_ROLE + 1);

enum {
    GET_ID = 0,
    GET_ACCOUNT,
    GET_ROLE,
    GET_NPARAMS,
};

static ngx_http_video_api_pg_stmt_t  live_get_stmt =
    ngx_http_video_api_pg_scoped("live_get",
        "SELECT " LIVE_UNCHANGED LIVE_STREAM
        " FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $2, $3)",
        GET_ACCOUNT + 1, GET_ROLE + 1);

/* the public directory of streams: what an anonymous caller would list */
static ngx_http_video_api_pg_stmt_t  live_active_stmt =
    ngx_http_video_api_pg_stmt("live_active",
        "SELECT " LIVE_UNCHANGED LIVE_STREAM
        " FROM videos v WHERE v.is_live_now AND v.video_type = 'LIVE'"
        " AND video_listed(v.account_id, v.visibility, '', '')"
        " ORDER BY v.live_started_at DESC, v.id DESC LIMIT 100");


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
        lctx->values[LIVE_PARAM_ID] = (char *) lctx->id.data;
    }

    lctx->values[LIVE_PARAM_PLAY_BASE] =
        (char *) ngx_http_video_api_live_conf(r)->play.base.data;

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

        /* create's Idempotency-Key: claimed in the creating transaction */

        return ngx_http_video_api_idem_claim(run, LIVE_CLAIMED);

    case LIVE_CLAIMED:
        return ngx_http_video_api_run_query(run, LIVE_ROWS, lctx->stmt,
                                            lctx->nvalues, lctx->values);

    case LIVE_ROWS:
        if (!ngx_http_video_api_run_ok(run)
            || PQresultStatus(run->res) != PGRES_TUPLES_OK)
        {
            return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
        }

        return ngx_http_video_api_idem_finish(run,
                   lctx->answer(run->request, lctx, run->res));

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

    rc = ngx_http_video_api_idem_init(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
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

    lctx->values[CREATE_ID] = (char *) id;
    lctx->values[CREATE_TITLE] = (char *) json_string_value(p.title);
    lctx->values[CREATE_DESCRIPTION] =
        (p.description && json_is_string(p.description))
        ? (char *) json_string_value(p.description) : NULL;
    lctx->values[CREATE_VISIBILITY] =
        p.visibility ? (char *) json_string_value(p.visibility) : "PUBLIC";
    lctx->values[CREATE_KEY_HASH] = (char *) lctx->hash;

    /* in the caller's account (the default one where auth is off) */

    return ngx_http_video_api_live_query(r, &live_create_stmt,
                                         CREATE_NPARAMS, lctx,
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

    lctx->values[KEY_HASH] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_key_stmt, KEY_NPARAMS, lctx,
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

    return ngx_http_video_api_live_query(r, &live_get_stmt, GET_NPARAMS, lctx,
                                         answer);
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

    lctx->values[CHECK_KEY_HASH] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_key_check_stmt,
                                         CHECK_NPARAMS, lctx,
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

    lctx->values[START_PLAY_BASE] =
        (char *) ngx_http_video_api_live_conf(r)->play.base.data;
    lctx->values[START_KEY_HASH] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_start_stmt,
                                         START_NPARAMS, lctx,
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

    lctx->values[STOP_CONVERT] = convert ? "t" : "f";

    return ngx_http_video_api_live_query(r, &live_stop_stmt, STOP_NPARAMS, lctx,
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

    if (PQgetvalue(res, 0, LIVE_COL_EXTRA)[0] == 't') {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_LIVE_UNPUBLISHES);
    }

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

    lctx->values[VISIBILITY_VALUE] = (char *) json_string_value(v);

    return ngx_http_video_api_live_query(r, &live_visibility_stmt,
               VISIBILITY_NPARAMS, lctx,
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
