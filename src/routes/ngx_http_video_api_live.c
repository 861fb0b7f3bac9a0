/*
 * /api/live: live streams, nginx-rtmp's publish callbacks and signaling.
 * Literal paths come before "/api/live/:id" so they win.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_response.h"
#include "video_id.h"
#include "video_validate.h"


static ngx_int_t ngx_http_video_api_live_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_live_key(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_live_routes[] = {
    { NGX_HTTP_POST, "/api/live/create",
      ngx_http_video_api_live_create, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/live/verify",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_FORM },
    { NGX_HTTP_POST, "/api/live/unpublish",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_FORM },
    { NGX_HTTP_GET, "/api/live/active",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/live/:id",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_GET, "/api/live/:id/watch",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_POST, "/api/live/:id/key",
      ngx_http_video_api_live_key, NGX_HTTP_VIDEO_API_BODY_NONE },
    { NGX_HTTP_POST, "/api/live/:id/start",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/live/:id/stop",
      ngx_http_video_api_not_implemented,
      NGX_HTTP_VIDEO_API_BODY_JSON_OPT },
    { NGX_HTTP_PATCH, "/api/live/:id/visibility",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/live/:id/signal",
      ngx_http_video_api_signal_post, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_GET, "/api/live/:id/signal",
      ngx_http_video_api_signal_get, NGX_HTTP_VIDEO_API_BODY_NONE },
    { 0, NULL, NULL, 0 }
};


/*
 * A live stream is a video of type LIVE, PENDING until a publisher is
 * accepted.  Its stream key is shown once, by create or rotation; the
 * row holds its SHA-256 only.
 */

static ngx_http_video_api_pg_stmt_t  live_create_stmt =
    ngx_http_video_api_pg_stmt("live_create",
        "INSERT INTO videos (id, title, description, visibility, video_type,"
        " stream_key_hash)"
        " VALUES ($1, $2, $3, $4::video_visibility, 'LIVE', decode($5, 'hex'))"
        " RETURNING id");

static ngx_http_video_api_pg_stmt_t  live_key_stmt =
    ngx_http_video_api_pg_stmt("live_key",
        "UPDATE videos SET stream_key_hash = decode($2, 'hex'),"
        " updated_at = now()"
        " WHERE id = $1 AND video_type = 'LIVE' RETURNING id");


typedef struct {
    u_char                       id[VIDEO_ID_LEN + 1];
    u_char                       key[VIDEO_STREAM_KEY_LEN + 1];
    u_char                       hash[VIDEO_STREAM_KEY_HASH_LEN + 1];
    char                        *values[5];
    ngx_uint_t                   created;
} ngx_http_video_api_live_ctx_t;


static void ngx_http_video_api_live_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res);


/* a new key for the stream, and the form it is stored in */

static ngx_http_video_api_live_ctx_t *
ngx_http_video_api_live_ctx(ngx_http_request_t *r)
{
    ngx_http_video_api_live_ctx_t  *lctx;

    lctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_live_ctx_t));
    if (lctx == NULL) {
        return NULL;
    }

    if (video_stream_key_generate((char *) lctx->key) != 0
        || video_stream_key_hash((char *) lctx->key, VIDEO_STREAM_KEY_LEN,
                                 (char *) lctx->hash)
           != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: cannot make a stream key");
        return NULL;
    }

    return lctx;
}


static ngx_int_t
ngx_http_video_api_live_query(ngx_http_request_t *r,
    ngx_http_video_api_pg_stmt_t *stmt, int n,
    ngx_http_video_api_live_ctx_t *lctx)
{
    ngx_http_video_api_pg_op_t  *op;

    op = ngx_http_video_api_pg_op(r, ngx_http_video_api_live_done, lctx);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_pg_send(op, stmt, n, lctx->values) != NGX_OK) {
        return ngx_http_video_api_send_unavailable(r, "Database");
    }

    r->main->count++;

    return NGX_DONE;
}


/* POST /api/live/create */

static ngx_int_t
ngx_http_video_api_live_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    json_t                         *details;
    video_patch_t                   p;
    ngx_http_video_api_live_ctx_t  *lctx;

    if (video_live_create_parse(ctx->json, &p, &details) != 0) {
        if (details == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_send_invalid(r, details);
    }

    lctx = ngx_http_video_api_live_ctx(r);
    if (lctx == NULL || video_id_generate((char *) lctx->id) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    lctx->created = 1;

    /* the strings live in ctx->json, which lives as long as the request */

    lctx->values[0] = (char *) lctx->id;
    lctx->values[1] = (char *) json_string_value(p.title);
    lctx->values[2] = (p.description && json_is_string(p.description))
                      ? (char *) json_string_value(p.description) : NULL;
    lctx->values[3] = p.visibility ? (char *) json_string_value(p.visibility)
                                   : "PUBLIC";
    lctx->values[4] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_create_stmt, 5, lctx);
}


/* POST /api/live/:id/key: a new key; the old one stops working at once */

static ngx_int_t
ngx_http_video_api_live_key(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_live_ctx_t  *lctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "Live stream '%V' not found",
                                             &ctx->params[0]);
    }

    lctx = ngx_http_video_api_live_ctx(r);
    if (lctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(lctx->id, ctx->params[0].data, VIDEO_ID_LEN);

    lctx->values[0] = (char *) lctx->id;
    lctx->values[1] = (char *) lctx->hash;

    return ngx_http_video_api_live_query(r, &live_key_stmt, 2, lctx);
}


static void
ngx_http_video_api_live_done(ngx_http_video_api_pg_op_t *op, PGresult *res)
{
    u_char                          *playback;
    ngx_int_t                        rc;
    ngx_str_t                        id;
    ngx_http_request_t              *r;
    ngx_http_video_api_live_ctx_t   *lctx;
    ngx_http_video_api_main_conf_t  *mcf;

    r = op->request;
    lctx = op->data;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    id.data = lctx->id;
    id.len = VIDEO_ID_LEN;

    if (res == NULL) {
        rc = ngx_http_video_api_send_unavailable(r, "Database");

    } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: live stream \"%V\": %s", &id,
                      PQresultErrorMessage(res));
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           NULL, "Internal error");

    } else if (PQntuples(res) == 0) {
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                           "Live stream '%V' not found", &id);

    } else if (!lctx->created) {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                 json_pack("{s:s,s:s}", "videoId", (char *) lctx->id,
                           "streamKey", (char *) lctx->key));

    } else {
        ngx_http_video_api_cache_lists_changed(r);
        ngx_http_video_api_cache_video_id(r, &id, 1);

        playback = ngx_pnalloc(r->pool, mcf->public_url.len
                                        + sizeof("/live//index.m3u8")
                                        + VIDEO_ID_LEN);
        if (playback == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            ngx_sprintf(playback, "%V/live/%V/index.m3u8%Z",
                        &mcf->public_url, &id);

            rc = ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
                     json_pack("{s:s,s:s,s:s%,s:s}",
                               "videoId", (char *) lctx->id,
                               "streamKey", (char *) lctx->key,
                               "rtmpUrl", (char *) mcf->rtmp_url.data,
                               (size_t) mcf->rtmp_url.len,
                               "playbackUrl", (char *) playback));
        }
    }

    ngx_http_finalize_request(r, rc);
}
