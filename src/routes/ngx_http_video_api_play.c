/*
 * /play/<videoId>/[<token>/]<file>: HLS playlists, segments and
 * thumbnails of a video, for players.
 *
 * A private video's files need a token (video_play.h) for that video; the
 * API puts one in every play URL it hands out, and relative URIs inside
 * the playlists keep it, since it is a path segment.  Public and unlisted
 * videos play without one.  Once allowed, the request is redirected
 * internally to the media location with a presigned storage URL: that
 * location serves the local store's files itself or proxies to S3.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "video_id.h"
#include "video_play.h"


#define NGX_HTTP_VIDEO_API_PLAY_PATH_MAX  512

/* how long the presigned URL of the internal redirect is valid */
#define NGX_HTTP_VIDEO_API_PLAY_PRESIGN   60


static ngx_int_t ngx_http_video_api_play(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_play_routes[] = {
    { NGX_HTTP_GET, "/play/:id/*",
      ngx_http_video_api_play, NGX_HTTP_VIDEO_API_BODY_NONE },
    { 0, NULL, NULL, 0 }
};


static ngx_http_video_api_pg_stmt_t  play_visibility_stmt =
    ngx_http_video_api_pg_stmt("play_visibility",
        "SELECT visibility::text FROM videos WHERE id = $1");


typedef struct {
    ngx_str_t                    id;        /* NUL-terminated */
    ngx_str_t                    path;      /* under the video's prefix */
    char                        *values[1];
} ngx_http_video_api_play_ctx_t;


static ngx_int_t ngx_http_video_api_play_lookup(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx);
static void ngx_http_video_api_play_cached(ngx_http_request_t *r,
    void *data, redisReply *reply);
static ngx_int_t ngx_http_video_api_play_db(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx);
static void ngx_http_video_api_play_db_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res);
static ngx_int_t ngx_http_video_api_play_decide(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_int_t open);
static ngx_int_t ngx_http_video_api_play_serve(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx);


/*
 * Files are named by the transcoder: segments of [A-Za-z0-9._-], none
 * empty or starting with a dot, the last one with an extension.  Nothing
 * else reaches storage, so no path can leave the video's prefix or name
 * a directory.
 */

static ngx_uint_t
ngx_http_video_api_play_path_valid(ngx_str_t *path)
{
    u_char      c, *p, *end;
    ngx_uint_t  seg_start, dot;

    if (path->len == 0 || path->len > NGX_HTTP_VIDEO_API_PLAY_PATH_MAX) {
        return 0;
    }

    seg_start = 1;
    dot = 0;
    end = path->data + path->len;

    for (p = path->data; p < end; p++) {
        c = *p;

        if (c == '/') {
            if (seg_start) {
                return 0;
            }

            seg_start = 1;
            dot = 0;
            continue;
        }

        if (c == '.') {
            if (seg_start) {
                return 0;
            }

            dot = 1;

        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }

        seg_start = 0;
    }

    return !seg_start && dot;
}


static ngx_int_t
ngx_http_video_api_play_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Video with id '%V' not found", id);
}


static ngx_int_t
ngx_http_video_api_play(ngx_http_request_t *r, ngx_http_video_api_ctx_t *ctx)
{
    u_char                          *slash;
    ngx_int_t                        rc;
    ngx_str_t                        rest, token;
    ngx_http_video_api_main_conf_t  *mcf;
    ngx_http_video_api_play_ctx_t   *pctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_play_not_found(r, &ctx->params[0]);
    }

    pctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_play_ctx_t));
    if (pctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pctx->id.len = ctx->params[0].len;
    pctx->id.data = ngx_pnalloc(r->pool, pctx->id.len + 1);
    if (pctx->id.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(pctx->id.data, ctx->params[0].data, pctx->id.len + 1);

    /* "<token>/<file>" or "<file>" */

    rest = ctx->params[1];
    ngx_str_null(&token);

    slash = ngx_strlchr(rest.data, rest.data + rest.len, '/');

    if (slash != NULL
        && video_play_is_token((char *) rest.data, slash - rest.data))
    {
        token.data = rest.data;
        token.len = slash - rest.data;
        rest.data = slash + 1;
        rest.len -= token.len + 1;
    }

    pctx->path = rest;

    if (!ngx_http_video_api_play_path_valid(&pctx->path)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "No file '%V' in video '%V'",
                                             &pctx->path, &pctx->id);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    if (token.len == 0) {
        return ngx_http_video_api_play_lookup(r, pctx);
    }

    rc = video_play_verify(mcf->play.secret.data, mcf->play.secret.len,
                           (char *) pctx->id.data, pctx->id.len,
                           (char *) token.data, token.len,
                           (int64_t) ngx_time());

    switch (rc) {

    case VIDEO_PLAY_OK:
        return ngx_http_video_api_play_serve(r, pctx);

    case VIDEO_PLAY_EXPIRED:
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "Playback token for video '%V' has expired", &pctx->id);

    case VIDEO_PLAY_INVALID:
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "Invalid playback token for video '%V'", &pctx->id);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/*
 * Without a token: the video's visibility decides, from its cache entry
 * when there is one (the same entry GET /api/videos/:id reads), else
 * from PostgreSQL
 */

static ngx_int_t
ngx_http_video_api_play_lookup(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx)
{
    u_char      *key;
    const char  *argv[2];
    size_t       argvlen[2];

    key = ngx_pnalloc(r->pool, sizeof("video:") - 1 + pctx->id.len);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_video_api_cache_flush_stale(r);

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (char *) key;
    argvlen[1] = ngx_sprintf(key, "video:%V", &pctx->id) - key;

    if (ngx_http_video_api_redis_command(r, ngx_http_video_api_play_cached,
                                         pctx, 2, argv, argvlen)
        == NGX_OK)
    {
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_http_video_api_play_db(r, pctx);
}


static void
ngx_http_video_api_play_cached(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    int                             open;
    u_char                         *colon, *end;
    ngx_http_video_api_play_ctx_t  *pctx = data;

    if (reply != NULL && reply->type == REDIS_REPLY_STRING) {
        end = (u_char *) reply->str + reply->len;
        colon = ngx_strlchr((u_char *) reply->str, end, ':');

        if (colon != NULL && colon + 1 == end) {

            /* a tombstone: the video was deleted */

            ngx_http_finalize_request(r,
                ngx_http_video_api_play_not_found(r, &pctx->id));
            return;
        }

        if (colon != NULL) {
            open = video_play_visibility((char *) colon + 1,
                                         end - colon - 1);
            if (open >= 0) {
                ngx_http_finalize_request(r,
                    ngx_http_video_api_play_decide(r, pctx, open));
                return;
            }
        }
    }

    ngx_http_finalize_request(r, ngx_http_video_api_play_db(r, pctx));
}


static ngx_int_t
ngx_http_video_api_play_db(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx)
{
    ngx_http_video_api_pg_op_t  *op;

    op = ngx_http_video_api_pg_op(r, ngx_http_video_api_play_db_done, pctx);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pctx->values[0] = (char *) pctx->id.data;

    if (ngx_http_video_api_pg_send(op, &play_visibility_stmt, 1,
                                   pctx->values)
        != NGX_OK)
    {
        return ngx_http_video_api_send_unavailable(r, "Database");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_video_api_play_db_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    char                           *v;
    ngx_int_t                       rc;
    ngx_http_request_t             *r;
    ngx_http_video_api_play_ctx_t  *pctx;

    r = op->request;
    pctx = op->data;

    if (res == NULL) {
        rc = ngx_http_video_api_send_unavailable(r, "Database");

    } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (ngx_http_video_api_pg_timed_out(res)) {
            rc = ngx_http_video_api_send_unavailable(r, "Database");

        } else {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "video_api: postgresql statement failed: %s",
                          PQresultErrorMessage(res));
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (PQntuples(res) == 0) {
        rc = ngx_http_video_api_play_not_found(r, &pctx->id);

    } else {
        v = PQgetvalue(res, 0, 0);
        rc = ngx_http_video_api_play_decide(r, pctx,
                                            ngx_strcmp(v, "PRIVATE") != 0);
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_video_api_play_decide(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_int_t open)
{
    if (!open) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "Video '%V' is private: its playback URL carries a token",
                   &pctx->id);
    }

    return ngx_http_video_api_play_serve(r, pctx);
}


/* images are thumbnails; everything else is HLS output */

static ngx_uint_t
ngx_http_video_api_play_is_image(ngx_str_t *path)
{
    u_char      *dot;
    ngx_str_t    ext;
    ngx_uint_t   i;

    static ngx_str_t  images[] = {
        ngx_string("jpg"), ngx_string("jpeg"), ngx_string("png"),
        ngx_string("webp")
    };

    for (dot = path->data + path->len; dot > path->data; dot--) {
        if (dot[-1] == '.') {
            break;
        }
    }

    ext.data = dot;
    ext.len = path->data + path->len - dot;

    for (i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
        if (ext.len == images[i].len
            && ngx_strncmp(ext.data, images[i].data, ext.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Allowed: an internal redirect to the media location, with a URL
 * presigned for this method (players send HEAD and GET with Range)
 */

static ngx_int_t
ngx_http_video_api_play_serve(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx)
{
    u_char                          *key;
    ngx_str_t                        uri, args, *bucket;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    bucket = ngx_http_video_api_play_is_image(&pctx->path)
             ? &mcf->storage.bucket_thumbnails
             : &mcf->storage.bucket_processed;

    key = ngx_pnalloc(r->pool, pctx->id.len + 1 + pctx->path.len + 1);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(key, "%V/%V%Z", &pctx->id, &pctx->path);

    if (ngx_http_video_api_media_request(r, NGX_HTTP_VIDEO_API_MEDIA,
            r->method == NGX_HTTP_HEAD ? "HEAD" : "GET", bucket,
            (char *) key, NGX_HTTP_VIDEO_API_PLAY_PRESIGN, &uri, &args)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* players on other origins read playlists and segments with XHR */

    if (ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_internal_redirect(r, &uri, &args);
}
