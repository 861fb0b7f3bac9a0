/*
 * /api/videos: the video library, one video at a time (the list and its
 * page cache are in ngx_http_video_api_videos_list.c).
 *
 * The video object is built by PostgreSQL (video_json() in conf/sql) and
 * passed through as JSON text, from the database or from the Redis cache,
 * without being parsed here.  Cache entries are "<version>:<json>" where
 * the version is updated_at in microseconds; a Lua script only ever
 * replaces an entry with a newer version, so a slow reader cannot put an
 * old copy back over a fresh write, and a delete leaves a tombstone that
 * outranks every version.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_videos.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_redis.h"
#include "video_cache.h"
#include "video_cursor.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_validate.h"
#include "video_views.h"


/* outranks any updated_at in microseconds */
#define VIDEOS_TOMBSTONE      "9999999999999999999"


static ngx_int_t ngx_http_video_api_videos_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_videos_patch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_videos_delete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_videos_progress(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_videos_routes[] = {
    { NGX_HTTP_GET, "/api/videos",
      ngx_http_video_api_videos_list, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_GET, "/api/videos/:id",
      ngx_http_video_api_videos_get, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_PATCH, "/api/videos/:id",
      ngx_http_video_api_videos_patch, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_DELETE, "/api/videos/:id",
      ngx_http_video_api_videos_delete, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_GET, "/api/videos/:id/progress",
      ngx_http_video_api_videos_progress, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


/* columns every single-video statement returns: the JSON and its version */
#define VIDEOS_JSON_COLUMNS                                                   \
    "video_json(v, $2, $3)::text, video_version(v)"


static ngx_http_video_api_pg_stmt_t  videos_get_stmt =
    ngx_http_video_api_pg_stmt("videos_get",
        "SELECT " VIDEOS_JSON_COLUMNS " FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $4, $5)");


static ngx_http_video_api_pg_stmt_t  videos_patch_stmt =
    ngx_http_video_api_pg_stmt("videos_patch",
        "UPDATE videos v SET"
        " title = COALESCE($4, v.title),"
        " description = CASE WHEN $5::boolean THEN $6 ELSE v.description END,"
        " visibility = COALESCE($7::video_visibility, v.visibility),"
        " updated_at = video_touch(v.updated_at)"
        " WHERE v.id = $1 AND video_writable(v.account_id, $8, $9)"
        " RETURNING " VIDEOS_JSON_COLUMNS);


static ngx_http_video_api_pg_stmt_t  videos_progress_stmt =
    ngx_http_video_api_pg_stmt("videos_progress",
        "SELECT json_build_object("
        " 'videoId', v.id, 'status', v.status,"
        " 'progress', v.transcoding_progress,"
        " 'startedAt', api_time(v.processing_started_at),"
        " 'estimatedEnd', CASE WHEN v.status = 'PROCESSING'"
        "   AND v.transcoding_progress BETWEEN 1 AND 99"
        "   THEN api_time(v.processing_started_at"
        "     + (clock_timestamp() - v.processing_started_at)"
        "       * (100.0 / v.transcoding_progress)::float8) END,"
        " 'error', CASE WHEN video_owned(v.account_id, $2, $3)"
        "   THEN v.processing_error END,"
        " 'duration', v.duration)::text"
        " FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $2, $3)");


static ngx_http_video_api_pg_stmt_t  videos_begin_stmt =
    ngx_http_video_api_pg_stmt("videos_begin", "BEGIN");

static ngx_http_video_api_pg_stmt_t  videos_commit_stmt =
    ngx_http_video_api_pg_stmt("videos_commit", "COMMIT");

/* the cleanup job lists what storage holds for the video */
static ngx_http_video_api_pg_stmt_t  videos_delete_stmt =
    ngx_http_video_api_pg_stmt("videos_delete",
        "DELETE FROM videos v WHERE v.id = $1"
        " AND video_writable(v.account_id, $5, $6)"
        " RETURNING json_build_object('type', 'cleanup', 'videoId', v.id,"
        "  'objects', json_build_array("
        "   json_build_object('bucket', $2::text, 'key', v.original_key),"
        "   json_build_object('bucket', $3::text, 'prefix', v.id || '/'),"
        "   json_build_object('bucket', $4::text, 'key', v.thumbnail_key)"
        "  ))::text");

static ngx_http_video_api_pg_stmt_t  videos_cleanup_job_stmt =
    ngx_http_video_api_pg_stmt("videos_cleanup_job",
        "INSERT INTO outbox (topic, payload)"
        " VALUES ('video-cleanup', $1::jsonb)");


static char  videos_cache_put_lua[] = VIDEO_CACHE_PUT_LUA;

static ngx_http_video_api_redis_script_t  videos_get_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_GET_LUA);


typedef struct {
    ngx_str_t                    id;
    ngx_http_video_api_video_handler_pt  found;  /* for another route */
    void                        *found_data;
    ngx_int_t                    status;
    json_t                      *payload;
    char                        *values[9];
    ngx_str_t                    json;
    ngx_str_t                    version;
    int64_t                      views[3];   /* today, month, total */
    unsigned                     views_live:1;
    unsigned                     token:1;    /* a play token admits */
    unsigned                     public:1;   /* the public view */
} ngx_http_video_api_videos_ctx_t;


static ngx_int_t ngx_http_video_api_videos_get_db(ngx_http_request_t *r,
    ngx_http_video_api_videos_ctx_t *vctx);
static void ngx_http_video_api_videos_cached(ngx_http_request_t *r,
    void *data, redisReply *reply);
static void ngx_http_video_api_videos_get_done(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static ngx_int_t ngx_http_video_api_videos_found(ngx_http_request_t *r,
    ngx_http_video_api_videos_ctx_t *vctx, ngx_str_t *version);
static void ngx_http_video_api_videos_patch_done(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static void ngx_http_video_api_videos_patch_cached(ngx_http_request_t *r,
    void *data, redisReply *reply);
static void ngx_http_video_api_videos_delete_step(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static void ngx_http_video_api_videos_deleted(ngx_http_request_t *r,
    void *data, redisReply *reply);
static void ngx_http_video_api_videos_progress_done(
    ngx_http_video_api_pg_op_t *op, PGresult *res);


/* helpers */

ngx_http_video_api_main_conf_t *
ngx_http_video_api_videos_conf(ngx_http_request_t *r)
{
    return ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
}


/*
 * $2, $3 of the video statements: what play and thumbnail URLs start
 * with, both served by the play location
 */

void
ngx_http_video_api_videos_bases(ngx_http_request_t *r, char **values)
{
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_videos_conf(r);

    values[0] = (char *) mcf->play.base.data;
    values[1] = (char *) mcf->play.base.data;
}


static ngx_http_video_api_videos_ctx_t *
ngx_http_video_api_videos_ctx(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_video_api_videos_ctx_t  *vctx;

    vctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_videos_ctx_t));
    if (vctx == NULL) {
        return NULL;
    }

    /* a NUL-terminated copy: libpq and hiredis want C strings */

    vctx->id.len = id->len;
    vctx->id.data = ngx_pnalloc(r->pool, id->len + 1);
    if (vctx->id.data == NULL) {
        return NULL;
    }

    ngx_cpystrn(vctx->id.data, id->data, id->len + 1);

    return vctx;
}


static ngx_int_t
ngx_http_video_api_videos_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Video with id '%V' not found", id);
}


/*
 * The outcome of a single-video statement: 1 when res holds its row, else
 * 0 with the answer for what went wrong already sent and its code in *rc
 */

static ngx_uint_t
ngx_http_video_api_videos_row(ngx_http_request_t *r, PGresult *res,
    ngx_str_t *id, ngx_int_t *rc)
{
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        *rc = ngx_http_video_api_pg_failed(r, res);
        return 0;
    }

    if (PQntuples(res) == 0) {
        *rc = ngx_http_video_api_videos_not_found(r, id);
        return 0;
    }

    return 1;
}


static ngx_int_t
ngx_http_video_api_videos_cache_key(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *key)
{
    key->len = sizeof(VIDEO_CACHE_KEY_PREFIX) - 1 + id->len;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(key->data, VIDEO_CACHE_KEY_PREFIX "%V", id);

    return NGX_OK;
}


/*
 * Stores version:json unless a newer entry is there; handler NULL means
 * nobody waits for the answer.  NGX_DECLINED when Redis is unavailable.
 */

static ngx_int_t
ngx_http_video_api_videos_cache_put(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *version, ngx_str_t *json,
    ngx_http_video_api_redis_handler_pt handler, void *data)
{
    u_char                          *ttl;
    ngx_str_t                        key;
    const char                      *argv[7];
    size_t                           argvlen[7];
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_videos_conf(r);

    if (ngx_http_video_api_videos_cache_key(r, id, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    ttl = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (ttl == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = videos_cache_put_lua;
    argvlen[1] = sizeof(videos_cache_put_lua) - 1;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (char *) key.data;
    argvlen[3] = key.len;
    argv[4] = (char *) version->data;
    argvlen[4] = version->len;
    argv[5] = (char *) json->data;
    argvlen[5] = json->len;
    argv[6] = (char *) ttl;
    argvlen[6] = ngx_sprintf(ttl, "%M", mcf->redis.cache_ttl) - ttl;

    return ngx_http_video_api_redis_command(r, handler, data, 7, argv,
                                            argvlen);
}


/* the cache could not take a write: its copy must not be served later */

static void
ngx_http_video_api_videos_stale(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_str_t  key;

    if (ngx_http_video_api_videos_cache_key(r, id, &key) == NGX_OK) {
        ngx_http_video_api_cache_stale(r->connection->log, &key);
    }
}


/* the reply to a cache write: when it failed, the entry is stale */

static void
ngx_http_video_api_videos_written(ngx_http_request_t *r, ngx_str_t *id,
    redisReply *reply)
{
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_http_video_api_videos_stale(r, id);
    }
}


static void
ngx_http_video_api_videos_changed_put(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_videos_written(r, data, reply);
}


void
ngx_http_video_api_videos_changed(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *version, ngx_str_t *json)
{
    ngx_str_t  *key;

    ngx_http_video_api_cache_lists_changed(r);

    key = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (key != NULL) {
        key->len = id->len;
        key->data = ngx_pstrdup(r->pool, id);
    }

    if (key == NULL || key->data == NULL
        || ngx_http_video_api_videos_cache_put(r, id, version, json,
               ngx_http_video_api_videos_changed_put, key)
           != NGX_OK)
    {
        ngx_http_video_api_videos_stale(r, id);
    }
}


ngx_int_t
ngx_http_video_api_videos_send_signed(ngx_http_request_t *r,
    const char *prefix, u_char *json, size_t len, const char *suffix)
{
    time_t  expires;

    if (ngx_http_video_api_media_sign(r, &json, &len, &expires) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK, prefix, json, len,
                                           suffix);
}


/* a video written, its live view figures in: {"video": ...} */

static ngx_int_t
ngx_http_video_api_videos_send_one(ngx_http_request_t *r, u_char *json,
    size_t len)
{
    return ngx_http_video_api_videos_send_signed(r, "{\"video\":", json, len,
                                                 "}");
}


/* GET /api/videos/:id */

static ngx_int_t
ngx_http_video_api_videos_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_videos_not_found(r, &ctx->params[0]);
    }

    return ngx_http_video_api_videos_load(r, &ctx->params[0], 0, NULL, NULL);
}


/*
 * The read of GET /api/videos/:id, which answers with the video (found
 * NULL), and of other routes, which get its JSON text (router.h)
 */

ngx_int_t
ngx_http_video_api_videos_load(ngx_http_request_t *r, ngx_str_t *id,
    ngx_uint_t token, ngx_http_video_api_video_handler_pt found, void *data)
{
    ngx_str_t                         key, day, month;
    const char                       *argv[4];
    size_t                            argvlen[4];
    ngx_http_video_api_videos_ctx_t  *vctx;

    vctx = ngx_http_video_api_videos_ctx(r, id);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vctx->found = found;
    vctx->found_data = data;
    vctx->token = token;

    if (ngx_http_video_api_videos_cache_key(r, &vctx->id, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_video_api_cache_flush_stale(r);

    /* the cached copy and the live view figures, in one round trip */

    ngx_http_video_api_views_period(r, &day, &month);

    argv[0] = (char *) key.data;
    argvlen[0] = key.len;
    argv[1] = (char *) vctx->id.data;
    argvlen[1] = vctx->id.len;
    argv[2] = (char *) day.data;
    argvlen[2] = day.len;
    argv[3] = (char *) month.data;
    argvlen[3] = month.len;

    if (ngx_http_video_api_redis_eval(r, &videos_get_script,
                                      ngx_http_video_api_videos_cached, vctx,
                                      1, 4, argv, argvlen)
        == NGX_OK)
    {
        r->main->count++;
        return NGX_DONE;
    }

    return ngx_http_video_api_videos_get_db(r, vctx);
}


static ngx_int_t
ngx_http_video_api_videos_get_db(ngx_http_request_t *r,
    ngx_http_video_api_videos_ctx_t *vctx)
{
    vctx->values[0] = (char *) vctx->id.data;
    ngx_http_video_api_videos_bases(r, &vctx->values[1]);
    /* a play token is checked on the row, once it is read */

    ngx_http_video_api_caller_sql(r, vctx->token
                                     || ngx_http_video_api_caller_token(r),
                                  &vctx->values[3], &vctx->values[4]);

    return ngx_http_video_api_pg_query(r, &videos_get_stmt, 5,
                                           vctx->values,
                                           ngx_http_video_api_videos_get_done,
                                           vctx, 0);
}


/* answers with the video, or 304 when the client has this version */

static ngx_int_t
ngx_http_video_api_videos_send(ngx_http_request_t *r,
    ngx_http_video_api_videos_ctx_t *vctx, ngx_str_t *version, u_char *json,
    size_t len)
{
    u_char              *p;
    time_t               expires;
    ngx_str_t            etag;
    ngx_table_elt_t     *inm;
    video_views_slot_t   slot;

    /* the live view figures, and tokens in the URLs, are in its tag */

    if (vctx->views_live
        && video_views_scan((char *) json, len, &slot, 1) == 1)
    {
        slot.today = vctx->views[0];
        slot.month = vctx->views[1];
        slot.total = vctx->views[2];

        p = ngx_pnalloc(r->pool, len + VIDEO_VIEWS_SLOT_GROWTH);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = video_views_write((char *) json, len, &slot, 1, (char *) p);
        json = p;

    } else {
        if (vctx->views_live) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "video_api: no view figures found in a video's "
                          "JSON text: video_json()'s layout is not the one "
                          "src/lib/video_views.c writes into");
        }

        vctx->views_live = 0;
    }

    if (ngx_http_video_api_media_sign(r, &json, &len, &expires) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    etag.data = ngx_pnalloc(r->pool, version->len + NGX_TIME_T_LEN
                                     + 3 * NGX_INT64_LEN + 8);
    if (etag.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(etag.data, "\"%V%s", version, vctx->public ? "p" : "");

    if (expires) {
        p = ngx_sprintf(p, ".%T", expires);
    }

    if (vctx->views_live) {
        p = ngx_sprintf(p, "/%L.%L.%L", vctx->views[0], vctx->views[1],
                        vctx->views[2]);
    }

    *p++ = '"';

    etag.len = p - etag.data;

    if (ngx_http_video_api_header_out(r, "ETag", &etag) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    inm = r->headers_in.if_none_match;

    if (inm != NULL
        && ((inm->value.len == 1 && inm->value.data[0] == '*')
            || ngx_strlcasestrn(inm->value.data,
                                inm->value.data + inm->value.len,
                                etag.data, etag.len - 1)
               != NULL))
    {
        ngx_http_video_api_get_ctx(r)->own_response = 1;

        r->headers_out.status = NGX_HTTP_NOT_MODIFIED;
        r->headers_out.content_length_n = -1;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK, "{\"video\":",
                                           json, len, "}");
}


static void
ngx_http_video_api_videos_cached(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    u_char                           *colon;
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_str_t                         version;
    redisReply                       *entry, **e;
    ngx_http_video_api_videos_ctx_t  *vctx = data;

    /* {entry or nil, loaded, today, month, total} */

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 5)
    {
        ngx_http_finalize_request(r,
                                  ngx_http_video_api_videos_get_db(r, vctx));
        return;
    }

    e = reply->element;

    for (i = 1; i < 5; i++) {
        if (e[i]->type != REDIS_REPLY_INTEGER) {
            break;
        }
    }

    if (i == 5 && e[1]->integer == 1) {
        vctx->views_live = 1;
        vctx->views[0] = e[2]->integer;
        vctx->views[1] = e[3]->integer;
        vctx->views[2] = e[4]->integer;
    }

    entry = e[0];

    if (entry->type == REDIS_REPLY_STRING) {
        colon = ngx_strlchr((u_char *) entry->str,
                            (u_char *) entry->str + entry->len, ':');

        /* a tombstone (no JSON after the colon) counts as a miss */

        if (colon != NULL && colon + 1 < (u_char *) entry->str + entry->len)
        {
            version.data = (u_char *) entry->str;
            version.len = colon - version.data;

            vctx->json.data = colon + 1;
            vctx->json.len = (u_char *) entry->str + entry->len - colon - 1;

            rc = ngx_http_video_api_videos_found(r, vctx, &version);

            if (rc == NGX_AGAIN) {
                rc = ngx_http_video_api_videos_get_db(r, vctx);

            } else if (rc == NGX_ERROR) {
                rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    ngx_http_finalize_request(r, ngx_http_video_api_videos_get_db(r, vctx));
}


static void
ngx_http_video_api_videos_get_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                         rc;
    ngx_http_request_t               *r;
    ngx_http_video_api_videos_ctx_t  *vctx;

    r = op->request;
    vctx = op->data;

    if (ngx_http_video_api_videos_row(r, res, &vctx->id, &rc)) {
        vctx->json.data = (u_char *) PQgetvalue(res, 0, 0);
        vctx->json.len = PQgetlength(res, 0, 0);
        vctx->version.data = (u_char *) PQgetvalue(res, 0, 1);
        vctx->version.len = PQgetlength(res, 0, 1);

        /* fill the cache; the answer does not wait for it */

        (void) ngx_http_video_api_videos_cache_put(r, &vctx->id,
                   &vctx->version, &vctx->json,
                   ngx_http_video_api_redis_ignore, NULL);

        rc = ngx_http_video_api_videos_found(r, vctx, &vctx->version);

        if (rc == NGX_AGAIN || rc == NGX_ERROR) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * The video read, from the cache or PostgreSQL: what the caller may see
 * of it (the same rules as the statement's), then the answer.  NGX_AGAIN:
 * a cached copy that names no account, to be read again.
 */

static ngx_int_t
ngx_http_video_api_videos_found(ngx_http_request_t *r,
    ngx_http_video_api_videos_ctx_t *vctx, ngx_str_t *version)
{
    ngx_int_t   rc;
    ngx_str_t  *token;
    ngx_uint_t  full;

    if (!vctx->token) {
        rc = ngx_http_video_api_caller_view(r, &vctx->json.data,
                                            &vctx->json.len, &full);

        if (rc == NGX_DECLINED) {

            /* not the caller's to see, unless it holds a play token */

            token = ngx_http_video_api_caller_token(r);

            if (token == NULL
                || ngx_http_video_api_token_check(r, &vctx->id, token,
                                                  vctx->json.data,
                                                  vctx->json.len)
                   != VIDEO_PLAY_OK)
            {
                return ngx_http_video_api_videos_not_found(r, &vctx->id);
            }

            rc = ngx_http_video_api_public_view(r, &vctx->json.data,
                                                &vctx->json.len);
            full = 0;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        vctx->public = !full;
    }

    if (vctx->found) {
        return vctx->found(r, vctx->found_data, &vctx->json);
    }

    return ngx_http_video_api_videos_send(r, vctx, version, vctx->json.data,
                                          vctx->json.len);
}


/* PATCH /api/videos/:id */

static ngx_int_t
ngx_http_video_api_videos_patch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                             **v;
    json_t                            *details;
    video_patch_t                      patch;
    ngx_http_video_api_videos_ctx_t   *vctx;

    /* the body first: a bad body is a 400 whatever the id */

    if (video_patch_parse(ctx->json, &patch, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_videos_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_videos_ctx(r, &ctx->params[0]);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* strings stay valid while ctx->json lives, which is the request */

    v = vctx->values;
    v[0] = (char *) vctx->id.data;
    ngx_http_video_api_videos_bases(r, &v[1]);
    v[3] = patch.title ? (char *) json_string_value(patch.title) : NULL;
    v[4] = patch.description ? "t" : "f";
    v[5] = (patch.description && json_is_string(patch.description))
           ? (char *) json_string_value(patch.description) : NULL;
    v[6] = patch.visibility ? (char *) json_string_value(patch.visibility)
                            : NULL;
    ngx_http_video_api_caller_sql(r, 0, &v[7], &v[8]);

    return ngx_http_video_api_pg_query(r, &videos_patch_stmt, 9, v,
               ngx_http_video_api_videos_patch_done, vctx, 0);
}


static void
ngx_http_video_api_videos_patch_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                         rc;
    ngx_http_request_t               *r;
    ngx_http_video_api_videos_ctx_t  *vctx;

    r = op->request;
    vctx = op->data;

    if (ngx_http_video_api_videos_row(r, res, &vctx->id, &rc)) {

        /* res is freed after this handler: keep copies for later */

        vctx->json.len = PQgetlength(res, 0, 0);
        vctx->json.data = ngx_pnalloc(r->pool, vctx->json.len);
        vctx->version.len = PQgetlength(res, 0, 1);
        vctx->version.data = ngx_pnalloc(r->pool, vctx->version.len);

        if (vctx->json.data == NULL || vctx->version.data == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memcpy(vctx->json.data, PQgetvalue(res, 0, 0), vctx->json.len);
        ngx_memcpy(vctx->version.data, PQgetvalue(res, 0, 1),
                   vctx->version.len);

        /*
         * write through before answering, so the next read from any
         * worker sees the change; the list version goes first on the same
         * connection, so it is bumped once the put is answered
         */

        ngx_http_video_api_cache_lists_changed(r);

        if (ngx_http_video_api_videos_cache_put(r, &vctx->id,
                &vctx->version, &vctx->json,
                ngx_http_video_api_videos_patch_cached, vctx)
            == NGX_OK)
        {
            return;
        }

        ngx_http_video_api_videos_stale(r, &vctx->id);

        rc = ngx_http_video_api_views_live(r, vctx->json.data,
                                           vctx->json.len,
                                           ngx_http_video_api_videos_send_one);
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_video_api_videos_patch_cached(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_videos_ctx_t  *vctx = data;

    ngx_http_video_api_videos_written(r, &vctx->id, reply);

    ngx_http_finalize_request(r,
        ngx_http_video_api_views_live(r, vctx->json.data, vctx->json.len,
                                      ngx_http_video_api_videos_send_one));
}


/*
 * DELETE /api/videos/:id: the rows and the cleanup job for the stored
 * objects go in one transaction, so the job exists if and only if the
 * video is gone
 */

static ngx_int_t
ngx_http_video_api_videos_delete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_videos_ctx_t  *vctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_videos_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_videos_ctx(r, &ctx->params[0]);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_pg_query(r, &videos_begin_stmt, 0, NULL,
               ngx_http_video_api_videos_delete_step, vctx, 1);
}


static void
ngx_http_video_api_videos_delete_step(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                         rc;
    ngx_str_t                         key;
    const char                       *argv[5];
    size_t                            argvlen[5];
    ngx_http_request_t               *r;
    ngx_http_video_api_videos_ctx_t  *vctx;
    ngx_http_video_api_main_conf_t   *mcf;

    r = op->request;
    vctx = op->data;
    mcf = ngx_http_video_api_videos_conf(r);

    if (res == NULL
        || (PQresultStatus(res) != PGRES_COMMAND_OK
            && PQresultStatus(res) != PGRES_TUPLES_OK))
    {
        ngx_http_video_api_pg_release(op);
        ngx_http_finalize_request(r,
            ngx_http_video_api_pg_failed(r, res));
        return;
    }

    switch (vctx->status++) {

    case 0: /* BEGIN done */
        vctx->values[0] = (char *) vctx->id.data;
        vctx->values[1] = mcf->storage_set
                          ? (char *) mcf->storage.bucket_raw.data
                          : "videos-raw";
        vctx->values[2] = mcf->storage_set
                          ? (char *) mcf->storage.bucket_processed.data
                          : "videos-processed";
        vctx->values[3] = mcf->storage_set
                          ? (char *) mcf->storage.bucket_thumbnails.data
                          : "thumbnails";
        ngx_http_video_api_caller_sql(r, 0, &vctx->values[4],
                                      &vctx->values[5]);

        if (ngx_http_video_api_pg_send(op, &videos_delete_stmt, 6,
                                       vctx->values)
            != NGX_OK)
        {
            break;
        }

        return;

    case 1: /* DELETE done */
        if (PQntuples(res) == 0) {
            ngx_http_video_api_pg_release(op);
            ngx_http_finalize_request(r,
                ngx_http_video_api_videos_not_found(r, &vctx->id));
            return;
        }

        vctx->values[0] = ngx_pnalloc(r->pool, PQgetlength(res, 0, 0) + 1);
        if (vctx->values[0] == NULL) {
            ngx_http_video_api_pg_release(op);
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_cpystrn((u_char *) vctx->values[0],
                    (u_char *) PQgetvalue(res, 0, 0),
                    PQgetlength(res, 0, 0) + 1);

        if (ngx_http_video_api_pg_send(op, &videos_cleanup_job_stmt, 1,
                                       vctx->values)
            != NGX_OK)
        {
            break;
        }

        return;

    case 2: /* job written */
        op->hold = 0;

        if (ngx_http_video_api_pg_send(op, &videos_commit_stmt, 0, NULL)
            != NGX_OK)
        {
            break;
        }

        return;

    default: /* COMMIT done: leave a tombstone no stale copy can outrank */
        if (ngx_http_video_api_videos_cache_key(r, &vctx->id, &key)
            != NGX_OK)
        {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_video_api_cache_lists_changed(r);
        ngx_http_video_api_cache_video_id(r, &vctx->id, 0);

        argv[0] = "SET";
        argvlen[0] = 3;
        argv[1] = (char *) key.data;
        argvlen[1] = key.len;
        argv[2] = VIDEOS_TOMBSTONE ":";
        argvlen[2] = sizeof(VIDEOS_TOMBSTONE ":") - 1;
        argv[3] = "PX";
        argvlen[3] = 2;
        argv[4] = "86400000";
        argvlen[4] = sizeof("86400000") - 1;

        if (ngx_http_video_api_redis_command(r,
                ngx_http_video_api_videos_deleted, vctx, 5, argv, argvlen)
            == NGX_OK)
        {
            return;
        }

        ngx_http_video_api_videos_deleted(r, vctx, NULL);
        return;
    }

    /* the connection was lost between statements: nothing committed */

    ngx_http_video_api_pg_release(op);

    rc = ngx_http_video_api_send_unavailable(r, "Database");
    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_video_api_videos_deleted(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_videos_ctx_t  *vctx = data;

    ngx_http_video_api_videos_written(r, &vctx->id, reply);

    ngx_http_finalize_request(r,
        ngx_http_video_api_send_data(r, NGX_HTTP_OK,
            json_pack("{s:s}", "message", "Video deleted successfully")));
}


/* GET /api/videos/:id/progress: not cached, it moves */

static ngx_int_t
ngx_http_video_api_videos_progress(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_videos_ctx_t  *vctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_videos_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_videos_ctx(r, &ctx->params[0]);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vctx->values[0] = (char *) vctx->id.data;
    ngx_http_video_api_caller_sql(r, 0, &vctx->values[1], &vctx->values[2]);

    return ngx_http_video_api_pg_query(r, &videos_progress_stmt, 3,
               vctx->values, ngx_http_video_api_videos_progress_done, vctx,
               0);
}


static void
ngx_http_video_api_videos_progress_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                         rc;
    ngx_http_request_t               *r;
    ngx_http_video_api_videos_ctx_t  *vctx;

    r = op->request;
    vctx = op->data;

    if (ngx_http_video_api_videos_row(r, res, &vctx->id, &rc)) {
        rc = ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK, "",
                                             (u_char *) PQgetvalue(res, 0, 0),
                                             PQgetlength(res, 0, 0), "");
    }

    ngx_http_finalize_request(r, rc);
}
