/*
 * /play/<videoId>/[<token>/]<file>: HLS playlists, segments and
 * thumbnails of a video, for players; /live/<videoId>/[<token>/]<file>:
 * the playlist and fragments nginx-rtmp writes while a stream is live.
 *
 * A private video's files need a token (video_play.h) for that video; the
 * API puts one in every play URL it hands out, and relative URIs inside
 * the playlists keep it, since it is a path segment.  Public and unlisted
 * videos play without one; their visibility comes from the video cache.
 * Once allowed, a file on this node's disk ("video_api_playback root=",
 * "live_root=") is served here; otherwise the request is redirected
 * internally to the media location with a presigned storage URL, and
 * that location proxies to S3 or MinIO.
 *
 * What allowed a video (its visibility and token generation) is kept for
 * this node's next requests for "video_api_playback cache=" (1 s), so a
 * player's stream of segments costs no Redis round trip each; a refusal
 * is always decided on the video as Redis or PostgreSQL has it.  Each
 * answer says how long it may be cached, and by whom
 * (ngx_http_video_api_delivery.h): shared caches may keep PUBLIC videos'
 * files, only the viewer's own those of videos a token or an unlisted URL
 * opens.
 *
 * A video transcoded in chunks plays while it is still PROCESSING, from
 * its first chunk on: until it is READY its playlists are rendered by
 * PostgreSQL from the chunks done so far (video_hls_file() in
 * conf/sql/0016_chunks.sql), EVENT playlists that grow, cached for a
 * second; its segments are in storage like any others.  The playlists of
 * a video in any other state (READY: final, in storage) come from storage
 * alone, with no statement, as do those of a video transcoded in one run
 * (PostgreSQL has none for it).
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_run.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_delivery.h"
#include "ngx_http_video_api_play_cache.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_variables.h"
#include "video_id.h"
#include "video_json.h"
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
    ngx_str_t                        id;
    ngx_str_t                        path;    /* under the video's prefix */
    ngx_str_t                        token;   /* empty: none */
    ngx_uint_t                       live;    /* nginx-rtmp's HLS output */
    ngx_http_video_api_play_known_t  known;   /* what allowed it */
    ngx_http_video_api_video_t      *video;   /* read when not known */
    char                            *values[2];
} ngx_http_video_api_play_ctx_t;


/* the steps of a request that reads the video, or a growing playlist */

typedef enum {
    PLAY_READ = 0,
    PLAY_FOUND,
    PLAY_HLS,
    PLAY_HLS_ANSWER
} ngx_http_video_api_play_step_e;

static const char *const  play_names[] = {
    "read", "found", "hls", "hls answer"
};

static ngx_int_t ngx_http_video_api_play_step(ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  play_steps = {
    "play", ngx_http_video_api_play_step, play_names
};


/*
 * A playlist of a video transcoded in chunks, by its path under the
 * video's prefix: NULL when the video has none there (not transcoded in
 * chunks, or no such rung), and storage answers as for any video.  It
 * chooses no video rows: the route decided who may play the video.
 */

enum {
    HLS_ID = 0,
    HLS_PATH,
    HLS_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  play_hls_stmt =
    ngx_http_video_api_pg_stmt("play_hls", "SELECT video_hls_file($1, $2)");


/*
 * How long each kind of file may be cached.  VOD segments and thumbnails
 * never change under their name: a year, immutable.  A VOD playlist is
 * written once, when the video is transcoded, but it is the way in: five
 * minutes bound how long a cache keeps handing out a video that was
 * deleted or made private.  A live playlist slides every 2 s fragment: a
 * second.  A live fragment is listed for the playlist's 10 s; a minute,
 * since a stream published again may start its numbering over.  The
 * playlist of a video still being transcoded in chunks grows as chunks
 * are done: a second, as a live one (its segments are immutable like
 * any VOD segment).  Shared caches may keep PUBLIC videos' files only
 * ("public"); what a token or an unlisted URL opens is the viewer's alone
 * ("private").
 */

enum {
    PLAY_CC_SEGMENT = 0,
    PLAY_CC_PLAYLIST,
    PLAY_CC_LIVE_FRAGMENT,
    PLAY_CC_LIVE_PLAYLIST,
    PLAY_CC_GROWING_PLAYLIST,
    PLAY_CC_KINDS
};

static ngx_str_t  ngx_http_video_api_play_cc[2][PLAY_CC_KINDS] = {
    { ngx_string("private, max-age=31536000, immutable"),
      ngx_string("private, max-age=300"),
      ngx_string("private, max-age=60"),
      ngx_string("private, max-age=1"),
      ngx_string("private, max-age=1") },
    { ngx_string("public, max-age=31536000, immutable"),
      ngx_string("public, max-age=300"),
      ngx_string("public, max-age=60"),
      ngx_string("public, max-age=1"),
      ngx_string("public, max-age=1") }
};


/*
 * Tokens this worker verified lately, for the video generation they were
 * verified against: a player sends the same one with every segment.  An
 * entry stands until the token's own expiry (a token valid now stays so
 * until then, for the same generation and keys); direct-mapped.
 */

#define NGX_HTTP_VIDEO_API_PLAY_VERIFIED  64

typedef struct {
    void                            *conf;
    int64_t                          gen;
    time_t                           expires;   /* 0: empty */
    size_t                           token_len;
    u_char                           id[VIDEO_ID_LEN];
    u_char                           token[VIDEO_PLAY_TOKEN_MAX];
} ngx_http_video_api_play_verified_t;

static ngx_http_video_api_play_verified_t
    ngx_http_video_api_play_verified[NGX_HTTP_VIDEO_API_PLAY_VERIFIED];


static ngx_int_t ngx_http_video_api_play_found(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_str_t *json,
    ngx_uint_t *allowed);
static ngx_uint_t ngx_http_video_api_play_growing(
    ngx_http_video_api_play_ctx_t *pctx);
static ngx_int_t ngx_http_video_api_play_serve(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx);
static ngx_int_t ngx_http_video_api_play_playlist(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, u_char *text, size_t len);


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


/* the token checked against pctx->known.gen: a VIDEO_PLAY_* code */

static ngx_int_t
ngx_http_video_api_play_verify(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx)
{
    u_char                              *dash;
    time_t                               expires;
    ngx_int_t                            rc;
    ngx_http_video_api_main_conf_t      *mcf;
    ngx_http_video_api_play_verified_t  *v;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (pctx->id.len != VIDEO_ID_LEN
        || pctx->token.len > VIDEO_PLAY_TOKEN_MAX)
    {
        return VIDEO_PLAY_INVALID;
    }

    v = &ngx_http_video_api_play_verified[
            ngx_hash_key(pctx->token.data, pctx->token.len)
            % NGX_HTTP_VIDEO_API_PLAY_VERIFIED];

    if (v->expires != 0 && v->conf == mcf && v->gen == pctx->known.gen
        && ngx_time() < v->expires && v->token_len == pctx->token.len
        && ngx_memcmp(v->token, pctx->token.data, pctx->token.len) == 0
        && ngx_memcmp(v->id, pctx->id.data, VIDEO_ID_LEN) == 0)
    {
        return VIDEO_PLAY_OK;
    }

    rc = ngx_http_video_api_token_verify(r, &pctx->id, &pctx->token,
                                         pctx->known.gen);
    if (rc != VIDEO_PLAY_OK) {
        return rc;
    }

    /* "<expires>-...": the shape video_play_is_token() checked */

    dash = ngx_strlchr(pctx->token.data, pctx->token.data + pctx->token.len,
                       '-');
    expires = (dash != NULL)
              ? ngx_atotm(pctx->token.data, dash - pctx->token.data)
              : NGX_ERROR;

    if (expires > 0) {
        v->conf = mcf;
        v->gen = pctx->known.gen;
        v->expires = expires;
        v->token_len = pctx->token.len;
        ngx_memcpy(v->token, pctx->token.data, pctx->token.len);
        ngx_memcpy(v->id, pctx->id.data, VIDEO_ID_LEN);
    }

    return VIDEO_PLAY_OK;
}


static ngx_int_t
ngx_http_video_api_play_open(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_uint_t live)
{
    u_char                          *slash;
    ngx_str_t                        rest, token;
    ngx_http_video_api_main_conf_t  *mcf;
    ngx_http_video_api_play_ctx_t   *pctx;

    /* whatever is answered below, nobody keeps it unless allowed */

    if (ngx_http_video_api_delivery_mark(r, NULL) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

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

    /* what allowed the video a moment ago allows it again */

    if (ngx_http_video_api_play_cache_get(&pctx->id, mcf->play.cache,
                                          &pctx->known)
        == NGX_OK)
    {
        if ((token.len == 0
             && pctx->known.visibility != NGX_HTTP_VIDEO_API_PLAY_PRIVATE)
            || (token.len
                && ngx_http_video_api_play_verify(r, pctx) == VIDEO_PLAY_OK))
        {
            if (ngx_http_video_api_play_growing(pctx)) {
                return ngx_http_video_api_run(r, &play_steps, pctx,
                                              PLAY_HLS);
            }

            return ngx_http_video_api_play_serve(r, pctx);
        }
    }

    pctx->video = ngx_http_video_api_video_create(r, &pctx->id);
    if (pctx->video == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pctx->video->token = 1;

    return ngx_http_video_api_run(r, &play_steps, pctx, PLAY_READ);
}


/*
 * The video read (from the Redis cache, else from PostgreSQL, which fills
 * that cache), as GET /api/videos/:id reads it, decides; then a playlist
 * of a video PROCESSING is asked of PostgreSQL first
 */

static ngx_int_t
ngx_http_video_api_play_step(ngx_http_video_api_run_t *run)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_uint_t                      allowed;
    ngx_http_request_t             *r;
    ngx_http_video_api_play_ctx_t  *pctx;

    r = run->request;
    pctx = run->data;

    switch (run->step) {

    case PLAY_READ:
        return ngx_http_video_api_video_read(run, pctx->video, PLAY_FOUND);

    case PLAY_FOUND:
        allowed = 0;
        rc = ngx_http_video_api_play_found(r, pctx, &pctx->video->json,
                                           &allowed);
        if (!allowed) {
            return rc;
        }

        if (ngx_http_video_api_play_growing(pctx)) {
            return ngx_http_video_api_run_goto(run, PLAY_HLS);
        }

        return ngx_http_video_api_play_serve(r, pctx);

    case PLAY_HLS:

        /* the id and the path the route validated, NUL-terminated */

        p = ngx_pnalloc(r->pool, pctx->id.len + 1 + pctx->path.len + 1);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        pctx->values[HLS_ID] = (char *) p;
        p = ngx_cpymem(p, pctx->id.data, pctx->id.len);
        *p++ = '\0';
        pctx->values[HLS_PATH] = (char *) p;
        p = ngx_cpymem(p, pctx->path.data, pctx->path.len);
        *p = '\0';

        return ngx_http_video_api_run_query(run, PLAY_HLS_ANSWER,
                                            &play_hls_stmt, HLS_NPARAMS,
                                            pctx->values);

    default: /* PLAY_HLS_ANSWER */
        if (!ngx_http_video_api_run_ok(run) || PQntuples(run->res) != 1
            || PQnfields(run->res) != 1)
        {
            return ngx_http_video_api_run_failed(run);
        }

        if (PQgetisnull(run->res, 0, 0)) {
            return ngx_http_video_api_play_serve(r, pctx);
        }

        return ngx_http_video_api_play_playlist(r, pctx,
                   (u_char *) PQgetvalue(run->res, 0, 0),
                   PQgetlength(run->res, 0, 0));
    }
}


/* the refusal of the token, or NGX_OK and *allowed */

static ngx_int_t
ngx_http_video_api_play_token(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_uint_t *allowed)
{
    switch (ngx_http_video_api_play_verify(r, pctx)) {

    case VIDEO_PLAY_OK:
        ngx_http_video_api_play_cache_put(&pctx->id, &pctx->known);
        *allowed = 1;
        return NGX_OK;

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
 * The video's visibility, token generation and status from its JSON
 * text, into pctx->known: NGX_OK, or NGX_ERROR for text without a usable
 * generation (a missing or unknown visibility is PRIVATE)
 */

static ngx_int_t
ngx_http_video_api_play_known(ngx_http_video_api_play_ctx_t *pctx,
    ngx_str_t *json)
{
    video_json_str_t          v[3];
    static const char *const  names[] = { "visibility", "tokenGeneration",
                                          "status", NULL };

    pctx->known.visibility = NGX_HTTP_VIDEO_API_PLAY_PRIVATE;
    pctx->known.gen = 0;
    pctx->known.processing = 0;

    if (video_json_strings((char *) json->data, json->len, names, v) != 0) {
        return NGX_ERROR;
    }

    pctx->known.processing =
        v[2].len == sizeof("PROCESSING") - 1
        && ngx_strncmp(v[2].data, "PROCESSING", v[2].len) == 0;

    if (v[0].len == sizeof("PUBLIC") - 1
        && ngx_strncmp(v[0].data, "PUBLIC", v[0].len) == 0)
    {
        pctx->known.visibility = NGX_HTTP_VIDEO_API_PLAY_PUBLIC;

    } else if (v[0].len == sizeof("UNLISTED") - 1
               && ngx_strncmp(v[0].data, "UNLISTED", v[0].len) == 0)
    {
        pctx->known.visibility = NGX_HTTP_VIDEO_API_PLAY_UNLISTED;
    }

    if (v[1].data != NULL) {
        pctx->known.gen = ngx_atoof((u_char *) v[1].data, v[1].len);
        if (pctx->known.gen < 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The video found: with a token, its generation decides; without, its
 * visibility.  The refusal, or NGX_OK and *allowed.
 */

static ngx_int_t
ngx_http_video_api_play_found(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_str_t *json,
    ngx_uint_t *allowed)
{
    ngx_int_t  rc;

    rc = ngx_http_video_api_play_known(pctx, json);

    if (pctx->token.len) {
        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_play_token(r, pctx, allowed);
    }

    if (rc != NGX_OK
        || pctx->known.visibility == NGX_HTTP_VIDEO_API_PLAY_PRIVATE)
    {
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "Video '%V' is private: its playback URL carries a token",
                   &pctx->id);
    }

    ngx_http_video_api_play_cache_put(&pctx->id, &pctx->known);
    *allowed = 1;

    return NGX_OK;
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


static ngx_uint_t
ngx_http_video_api_play_is_playlist(ngx_str_t *path)
{
    return path->len > sizeof(".m3u8") - 1
           && ngx_strncmp(path->data + path->len - (sizeof(".m3u8") - 1),
                          ".m3u8", sizeof(".m3u8") - 1)
              == 0;
}


/*
 * A VOD playlist of a video PROCESSING: it may be transcoding in chunks,
 * and playing from those done; PostgreSQL knows.  A READY video's are in
 * storage, final; a PENDING or FAILED one plays nothing that grows.
 */

static ngx_uint_t
ngx_http_video_api_play_growing(ngx_http_video_api_play_ctx_t *pctx)
{
    return !pctx->live && pctx->known.processing
           && ngx_http_video_api_play_is_playlist(&pctx->path);
}


/*
 * Allowed, a playlist PostgreSQL rendered from the chunks done so far:
 * copied, since the result is freed once the step returns
 */

static ngx_int_t
ngx_http_video_api_play_playlist(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, u_char *text, size_t len)
{
    ngx_buf_t   *b;
    ngx_uint_t   shared;

    static ngx_str_t  type = ngx_string("application/vnd.apple.mpegurl");

    shared = pctx->token.len == 0
             && pctx->known.visibility == NGX_HTTP_VIDEO_API_PLAY_PUBLIC;

    if (ngx_http_video_api_delivery_mark(r,
            &ngx_http_video_api_play_cc[shared][PLAY_CC_GROWING_PLAYLIST])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->pos, text, len);

    return ngx_http_video_api_send_body(r, NGX_HTTP_OK, &type, b);
}


/*
 * Allowed, with the files on this node's disk ("video_api_playback root="
 * or "live_root="): "[<bucket>/]<videoId>/<file>" under that directory,
 * served here, with no redirect
 */

static ngx_int_t
ngx_http_video_api_play_file(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx, ngx_str_t *root, ngx_str_t *bucket)
{
    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t   name;

    name.len = (bucket ? bucket->len + 1 : 0) + pctx->id.len + 1
               + pctx->path.len;
    name.data = ngx_pnalloc(r->pool, name.len);
    if (name.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = name.data;

    if (bucket) {
        p = ngx_cpymem(p, bucket->data, bucket->len);
        *p++ = '/';
    }

    p = ngx_cpymem(p, pctx->id.data, pctx->id.len);
    *p++ = '/';
    ngx_memcpy(p, pctx->path.data, pctx->path.len);

    rc = ngx_http_video_api_media_file(r, root, &name);

    if (rc == NGX_DECLINED) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "No file '%V' in video '%V'",
                                             &pctx->path, &pctx->id);
    }

    return rc;
}


/*
 * Allowed: the file from disk, or an internal redirect to the media
 * location, with a URL presigned for this method (players send HEAD and
 * GET with Range)
 */

static ngx_int_t
ngx_http_video_api_play_serve(ngx_http_request_t *r,
    ngx_http_video_api_play_ctx_t *pctx)
{
    u_char                          *key;
    ngx_str_t                        uri, args, *bucket;
    ngx_uint_t                       kind, shared;
    ngx_http_video_api_main_conf_t  *mcf;

    /* players on other origins read playlists and segments with XHR */

    if (ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kind = (pctx->live ? PLAY_CC_LIVE_FRAGMENT : PLAY_CC_SEGMENT)
           + ngx_http_video_api_play_is_playlist(&pctx->path);
    shared = pctx->token.len == 0
             && pctx->known.visibility == NGX_HTTP_VIDEO_API_PLAY_PUBLIC;

    if (ngx_http_video_api_delivery_mark(r,
            &ngx_http_video_api_play_cc[shared][kind])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (pctx->live) {
        if (mcf->play.live_root.len) {
            return ngx_http_video_api_play_file(r, pctx,
                                                &mcf->play.live_root, NULL);
        }

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

    bucket = ngx_http_video_api_play_is_image(&pctx->path)
             ? &mcf->storage.bucket_thumbnails
             : &mcf->storage.bucket_processed;

    if (mcf->play.root.len) {
        return ngx_http_video_api_play_file(r, pctx, &mcf->play.root, bucket);
    }

    key = ngx_pnalloc(r->pool, pctx->id.len + 1 + pctx->path.len + 1);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(key, "%V/%V%Z", &pctx->id, &pctx->path);

    if (ngx_http_video_api_media_request_kept(r, NGX_HTTP_VIDEO_API_MEDIA,
            r->method == NGX_HTTP_HEAD ? "HEAD" : "GET", bucket,
            (char *) key, NGX_HTTP_VIDEO_API_PLAY_PRESIGN, &uri, &args)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_variables_redirect(r, &uri, &args);
}
