/*
 * /play/<videoId>/[<token>/]<file>: HLS playlists, segments and
 * thumbnails of a video, for players; /live/<videoId>/[<token>/]<file>:
 * the playlist and fragments nginx-rtmp writes while a stream is live.
 *
 * A private video's files need a token (video_play.h) for that video; the
 * API puts one in every play URL it hands out, and relative URIs inside
 * the playlists keep it, since it is a path segment.  Public and unlisted
 * videos play without one; their visibility comes from the video cache.
 * Once allowed, the request is redirected internally to the media
 * location with a presigned storage URL: that location serves the local
 * store's files itself or proxies to S3.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_variables.h"
#include "video_id.h"
#include "video_play.h"


#define NGX_HTTP_VIDEO_API_PLAY_PATH_MAX  512

/* how long the presigned URL of the internal redirect is valid */
#define NGX_HTTP_VIDEO_API_PLAY_PRESIGN   60


/* where live HLS is served from: an internal location (conf/nginx.conf) */
#define NGX_HTTP_VIDEO_API_PLAY_LIVE  "/_video_api/live/"


static ngx_int_t ngx_http_video_api_play(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_play_live(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_play_routes[] = {
    { NGX_HTTP_GET, "/play/:id/*",
      ngx_http_video_api_play, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_GET, "/live/:id/*",
      ngx_http_video_api_play_live, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


typedef struct {
    ngx_str_t                    id;
    ngx_str_t                    path;      /* under the video's prefix */
    ngx_str_t                    token;     /* empty: none */
    ngx_uint_t                   live;      /* nginx-rtmp's HLS output */
} ngx_http_video_api_play_ctx_t;


static ngx_int_t ngx_http_video_api_play_found(ngx_http_request_t *r,
    void *data, ngx_str_t *json);
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


static ngx_int_t ngx_http_video_api_play_open(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_uint_t live);


static ngx_int_t
ngx_http_video_api_play(ngx_http_request_t *r, ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_play_open(r, ctx, 0);
}


static ngx_int_t
ngx_http_video_api_play_live(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_play_open(r, ctx, 1);
}


static ngx_int_t
ngx_http_video_api_play_open(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_uint_t live)
{
    u_char                          *slash;
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

    pctx->id = ctx->params[0];
    pctx->live = live;

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

    if (!mcf->storage_set && !live) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    /*
     * the video decides: its visibility without a token, its token
     * generation with one (a token dies when the video became PRIVATE
     * again, or was deleted, after it was minted)
     */

    pctx->token = token;

    return ngx_http_video_api_video_load(r, &pctx->id, 1,
                                         ngx_http_video_api_play_found,
                                         pctx);
}


static ngx_int_t
ngx_http_video_api_play_token(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_str_t *json)
{
    switch (ngx_http_video_api_token_check(r, &pctx->id, &pctx->token,
                                           json->data, json->len))
    {

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
 * Without a token the video's visibility decides, read as GET
 * /api/videos/:id reads the video: from the cache, else from PostgreSQL,
 * which fills the cache for the next segment
 */

static ngx_int_t
ngx_http_video_api_play_found(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_play_ctx_t  *pctx = data;

    if (pctx->token.len) {
        return ngx_http_video_api_play_token(r, pctx, json);
    }

    return ngx_http_video_api_play_decide(r, pctx,
               video_play_visibility((char *) json->data, json->len) == 1);
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

    /* players on other origins read playlists and segments with XHR */

    if (ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (pctx->live) {
        uri.len = sizeof(NGX_HTTP_VIDEO_API_PLAY_LIVE) - 1 + pctx->id.len + 1
                  + pctx->path.len;
        uri.data = ngx_pnalloc(r->pool, uri.len);
        if (uri.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(uri.data, NGX_HTTP_VIDEO_API_PLAY_LIVE "%V/%V",
                    &pctx->id, &pctx->path);
        ngx_str_null(&args);

        return ngx_http_video_api_variables_redirect(r, &uri, &args);
    }

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

    return ngx_http_video_api_variables_redirect(r, &uri, &args);
}
