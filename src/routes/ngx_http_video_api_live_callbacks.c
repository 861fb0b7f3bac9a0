/*
 * nginx-rtmp's callbacks: on_publish (verify), on_publish_done
 * (unpublish), on_record_done (record) and a relay's push (relay).  They
 * come from nginx-rtmp on loopback, through a location of their own (the
 * live_callbacks area), and name the publisher by its stream key.
 */

#include <openssl/crypto.h>

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_live.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "video_form.h"
#include "video_id.h"
#include "video_play.h"
#include "video_validate.h"


/* a callback field longer than this is not one nginx-rtmp sends */
#define NGX_HTTP_VIDEO_API_LIVE_FIELD  1024


static ngx_int_t ngx_http_video_api_live_verify(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_unpublish(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_relay(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_record(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


/*
 * nginx-rtmp's callbacks, an area of their own ("video_api
 * live_callbacks"), which "all" and "live" do not include: a location
 * that serves the API to everyone never serves these, however a path is
 * written (/api/live/verify/, verify%2F)
 */

ngx_http_video_api_route_t  ngx_http_video_api_live_callback_routes[] = {
    { NGX_HTTP_POST, "/api/live/verify",
      ngx_http_video_api_live_verify, NGX_HTTP_VIDEO_API_BODY_FORM,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/live/unpublish",
      ngx_http_video_api_live_unpublish, NGX_HTTP_VIDEO_API_BODY_FORM,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/live/record",
      ngx_http_video_api_live_record, NGX_HTTP_VIDEO_API_BODY_FORM,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/live/relay",
      ngx_http_video_api_live_relay, NGX_HTTP_VIDEO_API_BODY_FORM,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


/*
 * The statements take the live area's lctx->values, whose second
 * ngx_http_video_api_live_ctx() has set to the play URL base
 * (LIVE_CHANGED's $2): each list keeps it there.  A callback names its
 * stream by its key, so the first is the key's hash, or the recording's
 * stream id.
 */

enum {
    VERIFY_KEY_HASH = 0,
    VERIFY_PLAY_BASE,
    VERIFY_CLIENT,
    VERIFY_NPARAMS
};

/*
 * on_publish: the stream named by the key goes live unless it is being
 * published already or has ended; the row lock serializes two publishers
 */
static ngx_http_video_api_pg_stmt_t  live_verify_stmt =
    ngx_http_video_api_pg_stmt("live_verify",
        "UPDATE videos v SET status = 'LIVE', is_live_now = true,"
        " live_started_at = COALESCE(v.live_started_at, now()),"
        " live_key_hash = v.stream_key_hash, live_client = $3::bigint, "
        LIVE_TOUCH
        " WHERE v.stream_key_hash = decode($1, 'hex')"
        " AND v.video_type = 'LIVE' AND NOT v.is_live_now"
        " AND v.live_ended_at IS NULL"
        " RETURNING " LIVE_CHANGED LIVE_STREAM ","
        " encode(v.live_key_hash, 'hex')");

enum {
    UNPUBLISH_KEY_HASH = 0,
    UNPUBLISH_PLAY_BASE,
    UNPUBLISH_RECORDING,            /* whether recordings are made */
    UNPUBLISH_NPARAMS
};

/*
 * on_publish_done: the stream has ended; it waits for its recording
 * (PENDING) when one is made and wanted, else it is READY
 */
static ngx_http_video_api_pg_stmt_t  live_unpublish_stmt =
    ngx_http_video_api_pg_stmt("live_unpublish",
        "UPDATE videos v SET is_live_now = false, live_ended_at = now(),"
        " status = CASE WHEN v.status = 'LIVE' THEN"
        "  CASE WHEN $3::boolean AND v.live_convert"
        "  THEN 'PENDING'::video_status ELSE 'READY'::video_status END"
        "  ELSE v.status END, " LIVE_TOUCH
        " WHERE v.live_key_hash = decode($1, 'hex') AND v.is_live_now"
        " RETURNING " LIVE_CHANGED LIVE_STREAM);

enum {
    RECORD_ID = 0,
    RECORD_PLAY_BASE,
    RECORD_KEY_HASH,
    RECORD_PATH,
    RECORD_NPARAMS
};

/*
 * on_record_done: the recording becomes the video's original and a
 * transcode job names the file, in one transaction; the transcoder
 * uploads it to the raw bucket first
 */
static ngx_http_video_api_pg_stmt_t  live_record_stmt =
    ngx_http_video_api_pg_stmt("live_record",
        "WITH c AS ("
        " UPDATE videos v SET status = 'PENDING',"
        "  original_key = v.id || '/recording.flv',"
        "  transcoding_progress = 0, processing_error = NULL, " LIVE_TOUCH
        " WHERE v.id = $1 AND v.video_type = 'LIVE'"
        "  AND v.live_key_hash = decode($3, 'hex') AND v.live_convert"
        "  AND v.status IN ('LIVE', 'PENDING')"
        " RETURNING " LIVE_CHANGED "v.id, v.original_key),"
        " job AS ("
        " INSERT INTO outbox (topic, payload)"
        " SELECT 'video-transcode', json_build_object('type', 'transcode',"
        "  'videoId', c.id, 'inputKey', c.original_key,"
        "  'recording', $4::text)"
        " FROM c RETURNING id)"
        " SELECT * FROM c");


/*
 * The publisher's key from a callback body whose "call" is call: NGX_OK
 * with lctx->hash set, or an answer: 400 for a body nginx-rtmp would not
 * send, 403 for a name that cannot be a key (no query is made)
 */

static ngx_int_t
ngx_http_video_api_live_callback(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_http_video_api_live_ctx_t *lctx,
    char *call, ngx_int_t *answer)
{
    int    n;
    char   value[NGX_HTTP_VIDEO_API_LIVE_FIELD];

    if (video_form_check((char *) ctx->body.data, ctx->body.len) != 0) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: live %s refused: a field is given twice "
                      "or escaped in its name", call);
        *answer = ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                      "The callback body names a field twice, escapes a "
                      "field name or has too many fields");
        return NGX_DECLINED;
    }

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "call",
                         value, sizeof(value));

    if (n < 0 || ngx_strcmp(value, call) != 0) {
        *answer = ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                      "Expected an nginx-rtmp %s callback", call);
        return NGX_DECLINED;
    }

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "name",
                         value, sizeof(value));

    if (n < 0) {
        *answer = ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                      "The callback has no valid stream name");
        return NGX_DECLINED;
    }

    if (!video_stream_key_valid(value, n)) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: live %s refused: not a stream key", call);
        *answer = ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                                                "Stream key refused");
        return NGX_DECLINED;
    }

    if (video_stream_key_hash(value, n, (char *) lctx->hash) != 0) {
        *answer = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    ngx_explicit_memzero(value, sizeof(value));

    return NGX_OK;
}


/*
 * POST /api/live/relay: on_publish of the application that writes live
 * HLS, where only the live application's push may publish.  The push
 * connects with the flashVer that video_api_live_relay_secret names,
 * which no publisher knows; the stream already has its video id as name.
 * No query: a relay without the secret is refused, whoever sends it.
 */

static ngx_int_t
ngx_http_video_api_live_relay(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    int                              n;
    ngx_str_t                       *secret;
    ngx_http_video_api_main_conf_t  *mcf;
    char                             value[NGX_HTTP_VIDEO_API_LIVE_FIELD];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
    secret = &mcf->live_relay_secret;

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "call",
                         value, sizeof(value));

    if (video_form_check((char *) ctx->body.data, ctx->body.len) != 0
        || n < 0 || ngx_strcmp(value, "publish") != 0)
    {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "Expected an nginx-rtmp publish callback with each "
                   "field once");
    }

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "flashver",
                         value, sizeof(value));

    if (secret->len == 0 || n != (int) secret->len
        || CRYPTO_memcmp(value, secret->data, secret->len) != 0)
    {
        ngx_explicit_memzero(value, sizeof(value));
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: live relay refused: %s",
                      secret->len ? "not the live application's push"
                                  : "no video_api_live_relay_secret");
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                                             "Relay refused");
    }

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "name",
                         value, sizeof(value));

    if (n < 0 || !video_id_valid(value, n)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                                             "Relay refused");
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s}", "message", "Relay accepted"));
}


static ngx_int_t ngx_http_video_api_live_verified(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_unpublished(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
static ngx_int_t ngx_http_video_api_live_recorded(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);


/* POST /api/live/verify: nginx-rtmp's on_publish */

static ngx_int_t
ngx_http_video_api_live_verify(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    int                             n;
    char                          **v;
    ngx_int_t                       rc;
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = ngx_http_video_api_live_ctx(r, NULL, &rc);
    if (lctx == NULL) {
        return rc;
    }

    if (ngx_http_video_api_live_callback(r, ctx, lctx, "publish", &rc)
        != NGX_OK)
    {
        return rc;
    }

    v = lctx->values;
    v[VERIFY_KEY_HASH] = (char *) lctx->hash;

    /* the publisher's connection, as nginx numbers them: what stop drops */

    v[VERIFY_CLIENT] = ngx_pnalloc(r->pool, NGX_ATOMIC_T_LEN + 1);
    if (v[VERIFY_CLIENT] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "clientid",
                         v[VERIFY_CLIENT], NGX_ATOMIC_T_LEN + 1);

    if (n <= 0 || ngx_atoi((u_char *) v[VERIFY_CLIENT], n) == NGX_ERROR) {
        v[VERIFY_CLIENT] = NULL;
    }

    return ngx_http_video_api_live_query(r, &live_verify_stmt,
                                         VERIFY_NPARAMS, lctx,
                                         ngx_http_video_api_live_verified);
}


static ngx_int_t
ngx_http_video_api_live_verified(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    ngx_str_t  location;

    /* the row was found by its hash; compared again, in constant time */

    if (PQntuples(res) == 0
        || PQgetlength(res, 0, LIVE_COL_EXTRA) != VIDEO_STREAM_KEY_HASH_LEN
        || CRYPTO_memcmp(PQgetvalue(res, 0, LIVE_COL_EXTRA), lctx->hash,
                         VIDEO_STREAM_KEY_HASH_LEN)
           != 0)
    {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: live publish refused: no stream takes "
                      "this key now (unknown, rotated, ended or being "
                      "published)");
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                                             "Stream key refused");
    }

    ngx_http_video_api_live_changed(r, res);

    if (ngx_http_video_api_live_copy(r, res, LIVE_COL_ID, &location)
        != NGX_OK
        || ngx_http_video_api_header_out(r, "Location", &location) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "video_api: live stream \"%V\" is being published",
                  &location);

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_LIVE_PUBLISHES);

    /* 3xx: nginx-rtmp renames the stream to the Location */

    return ngx_http_video_api_send_data(r, NGX_HTTP_MOVED_TEMPORARILY,
               json_pack("{s:s%}", "videoId", (char *) location.data,
                         location.len));
}


/* POST /api/live/unpublish: nginx-rtmp's on_publish_done */

static ngx_int_t
ngx_http_video_api_live_unpublish(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = ngx_http_video_api_live_ctx(r, NULL, &rc);
    if (lctx == NULL) {
        return rc;
    }

    if (ngx_http_video_api_live_callback(r, ctx, lctx, "publish_done", &rc)
        != NGX_OK)
    {
        return rc;
    }

    lctx->values[UNPUBLISH_KEY_HASH] = (char *) lctx->hash;
    lctx->values[UNPUBLISH_RECORDING] =
                    ngx_http_video_api_live_conf(r)->live_record_path.len
                    ? "t" : "f";

    return ngx_http_video_api_live_query(r, &live_unpublish_stmt,
                                         UNPUBLISH_NPARAMS, lctx,
                                         ngx_http_video_api_live_unpublished);
}


static ngx_int_t
ngx_http_video_api_live_unpublished(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    ngx_str_t  id;

    if (PQntuples(res) > 0) {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_LIVE_UNPUBLISHES);
        ngx_http_video_api_live_changed(r, res);

        id.data = (u_char *) PQgetvalue(res, 0, LIVE_COL_ID);
        id.len = PQgetlength(res, 0, LIVE_COL_ID);

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: live stream \"%V\" ended, %s", &id,
                      PQgetvalue(res, 0, LIVE_COL_STATUS));
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s}", "message", "Stream ended"));
}


/*
 * The video id of a recording at path: "<record path>/<id>[-<digits>].flv"
 * as nginx-rtmp names it (record_unique adds the digits); NGX_ERROR for
 * any other path
 */

static ngx_int_t
ngx_http_video_api_live_recording(ngx_str_t *dir, u_char *path, size_t len,
    ngx_str_t *id)
{
    u_char  *p, *end;

    if (dir->len == 0 || len <= dir->len + 1 + VIDEO_ID_LEN + 4
        || ngx_strncmp(path, dir->data, dir->len) != 0
        || path[dir->len] != '/')
    {
        return NGX_ERROR;
    }

    p = path + dir->len + 1;
    end = path + len;

    if (!video_id_valid((char *) p, VIDEO_ID_LEN)) {
        return NGX_ERROR;
    }

    id->data = p;
    id->len = VIDEO_ID_LEN;
    p += VIDEO_ID_LEN;

    if (*p == '-') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) { /* void */ }
    }

    if (end - p != 4 || ngx_strncmp(p, ".flv", 4) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* POST /api/live/record: nginx-rtmp's on_record_done */

static ngx_int_t
ngx_http_video_api_live_record(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    int                              n;
    u_char                          *path;
    ngx_int_t                        rc;
    ngx_str_t                        id;
    ngx_http_video_api_live_ctx_t   *lctx;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    lctx = ngx_http_video_api_live_ctx(r, NULL, &rc);
    if (lctx == NULL) {
        return rc;
    }

    if (ngx_http_video_api_live_callback(r, ctx, lctx, "record_done", &rc)
        != NGX_OK)
    {
        return rc;
    }

    path = ngx_pnalloc(r->pool, NGX_HTTP_VIDEO_API_LIVE_FIELD);
    if (path == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = video_form_value((char *) ctx->body.data, ctx->body.len, "path",
                         (char *) path, NGX_HTTP_VIDEO_API_LIVE_FIELD);

    if (n < 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "The callback has no valid recording path");
    }

    if (mcf->live_record_path.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: a recording was made, but "
                      "video_api_live_record_path is not set: \"%s\" "
                      "stays where it is", path);
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "Recordings are not taken: video_api_live_record_path "
                   "is not set");
    }

    if (ngx_http_video_api_live_recording(&mcf->live_record_path, path, n,
                                          &id)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "video_api: refused a recording outside \"%V\"",
                      &mcf->live_record_path);
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "Recording path refused");
    }

    lctx->id = id;
    lctx->values[RECORD_KEY_HASH] = (char *) lctx->hash;
    lctx->values[RECORD_PATH] = (char *) path;

    lctx->values[RECORD_ID] = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    if (lctx->values[RECORD_ID] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn((u_char *) lctx->values[RECORD_ID], id.data,
                VIDEO_ID_LEN + 1);

    return ngx_http_video_api_live_query(r, &live_record_stmt,
                                         RECORD_NPARAMS, lctx,
                                         ngx_http_video_api_live_recorded);
}


static ngx_int_t
ngx_http_video_api_live_recorded(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    if (PQntuples(res) == 0) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: the recording of live stream \"%V\" is "
                      "not converted (stopped without convertToVOD, or "
                      "not this stream's publisher): \"%s\" stays",
                      &lctx->id, lctx->values[RECORD_PATH]);
        return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                   json_pack("{s:s}", "message", "Recording not converted"));
    }

    ngx_http_video_api_live_changed(r, res);

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "video_api: the recording of live stream \"%V\" is queued "
                  "for transcoding", &lctx->id);

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s}", "message",
                         "Recording queued for transcoding"));
}
