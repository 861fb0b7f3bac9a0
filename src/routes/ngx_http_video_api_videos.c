/*
 * /api/videos/:id: one video's routes (the list and its page cache are in
 * ngx_http_video_api_videos_list.c; the video read and cache service in
 * src/ngx/ngx_http_video_api_video.c).
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_videos.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_views.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_response.h"
#include "video_id.h"
#include "video_validate.h"


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


/* the routes' steps */

typedef enum {
    VIDEOS_GET_READ = 0,
    VIDEOS_GET_ANSWER,

    VIDEOS_PATCH_UPDATE,
    VIDEOS_PATCH_UPDATED,
    VIDEOS_PATCH_CACHED,
    VIDEOS_PATCH_ANSWER,

    VIDEOS_DELETE_BEGIN,
    VIDEOS_DELETE_ROW,
    VIDEOS_DELETE_JOB,
    VIDEOS_DELETE_COMMIT,
    VIDEOS_DELETE_COMMITTED,
    VIDEOS_DELETE_ANSWER,

    VIDEOS_PROGRESS_READ,
    VIDEOS_PROGRESS_ANSWER
} ngx_http_video_api_videos_step_e;

static const char *const  videos_names[] = {
    "read", "answer",
    "update", "updated", "cached", "answer",
    "begin", "delete", "job", "commit", "committed", "answer",
    "read", "answer"
};

static ngx_int_t ngx_http_video_api_videos_get_step(
    ngx_http_video_api_run_t *run);
static ngx_int_t ngx_http_video_api_videos_send(ngx_http_request_t *r,
    ngx_http_video_api_video_t *video);
static ngx_int_t ngx_http_video_api_videos_patch_step(
    ngx_http_video_api_run_t *run);
static ngx_int_t ngx_http_video_api_videos_delete_step(
    ngx_http_video_api_run_t *run);
static ngx_int_t ngx_http_video_api_videos_progress_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  videos_get_steps = {
    "videos get", ngx_http_video_api_videos_get_step, videos_names
};

static ngx_http_video_api_steps_t  videos_patch_steps = {
    "videos patch", ngx_http_video_api_videos_patch_step, videos_names
};

static ngx_http_video_api_steps_t  videos_delete_steps = {
    "videos delete", ngx_http_video_api_videos_delete_step, videos_names
};

static ngx_http_video_api_steps_t  videos_progress_steps = {
    "videos progress", ngx_http_video_api_videos_progress_step, videos_names
};


/* the statements, their parameters named */

enum {
    PATCH_ID = 0,
    PATCH_PLAY_BASE,
    PATCH_THUMB_BASE,
    PATCH_TITLE,
    PATCH_DESCRIPTION_SET,
    PATCH_DESCRIPTION,
    PATCH_VISIBILITY,
    PATCH_ACCOUNT,
    PATCH_ROLE,
    PATCH_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  videos_patch_stmt =
    ngx_http_video_api_pg_scoped("videos_patch",
        "UPDATE videos v SET"
        " title = COALESCE($4, v.title),"
        " description = CASE WHEN $5::boolean THEN $6 ELSE v.description END,"
        " visibility = COALESCE($7::video_visibility, v.visibility),"
        " updated_at = video_touch(v.updated_at)"
        " WHERE v.id = $1 AND video_writable(v.account_id, $8, $9)"
        " RETURNING " NGX_HTTP_VIDEO_API_VIDEO_COLUMNS,
        PATCH_ACCOUNT + 1, PATCH_ROLE + 1);


enum {
    PROGRESS_ID = 0,
    PROGRESS_ACCOUNT,
    PROGRESS_ROLE,
    PROGRESS_NPARAMS
};

/*
 * "playableAt": since when the video plays (0017_playable.sql), which a
 * video transcoded in chunks does while still PROCESSING.  A video
 * uploaded from a URL (ngx_http_video_api_upload_url.c) also has
 * "fetch": how much of its source is in, what the source announced
 * (null: nothing), and whether the original is in storage
 */
static ngx_http_video_api_pg_stmt_t  videos_progress_stmt =
    ngx_http_video_api_pg_scoped("videos_progress",
        "SELECT CASE WHEN v.source_url IS NULL THEN p.j"
        " ELSE left(p.j, -1) || ', \"fetch\" : ' || json_build_object("
        "  'bytes', COALESCE(v.fetched_bytes, 0), 'total', v.fetch_total,"
        "  'done', v.fetched_at IS NOT NULL)::text || '}' END"
        " FROM videos v, LATERAL (SELECT json_build_object("
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
        " 'duration', v.duration,"
        " 'playableAt', api_time(v.playable_at))::text AS j) p"
        " WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $2, $3)",
        PROGRESS_ACCOUNT + 1, PROGRESS_ROLE + 1);


static ngx_http_video_api_pg_stmt_t  videos_begin_stmt =
    ngx_http_video_api_pg_stmt("videos_begin", "BEGIN");

static ngx_http_video_api_pg_stmt_t  videos_commit_stmt =
    ngx_http_video_api_pg_stmt("videos_commit", "COMMIT");

enum {
    DELETE_ID = 0,
    DELETE_RAW_BUCKET,
    DELETE_PROCESSED_BUCKET,
    DELETE_THUMB_BUCKET,
    DELETE_ACCOUNT,
    DELETE_ROLE,
    DELETE_NPARAMS
};

/*
 * the cleanup job lists what storage holds for the video: its original
 * and thumbnail by key, and every bucket's "<id>/" prefix, which holds
 * what no row names (a chunked transcode's pieces in the raw bucket,
 * its segments, a thumbnail put before the video was READY)
 */
static ngx_http_video_api_pg_stmt_t  videos_delete_stmt =
    ngx_http_video_api_pg_scoped("videos_delete",
        "DELETE FROM videos v WHERE v.id = $1"
        " AND video_writable(v.account_id, $5, $6)"
        " RETURNING json_build_object('type', 'cleanup', 'videoId', v.id,"
        "  'objects', json_build_array("
        "   json_build_object('bucket', $2::text, 'key', v.original_key),"
        "   json_build_object('bucket', $3::text, 'prefix', v.id || '/'),"
        "   json_build_object('bucket', $4::text, 'key', v.thumbnail_key),"
        "   json_build_object('bucket', $2::text, 'prefix', v.id || '/'),"
        "   json_build_object('bucket', $4::text, 'prefix', v.id || '/')"
        "  ))::text",
        DELETE_ACCOUNT + 1, DELETE_ROLE + 1);

enum {
    JOB_PAYLOAD = 0,
    JOB_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  videos_cleanup_job_stmt =
    ngx_http_video_api_pg_stmt("videos_cleanup_job",
        "INSERT INTO outbox (topic, payload)"
        " VALUES ('video-cleanup', $1::jsonb)");


typedef struct {
    ngx_http_video_api_video_t  *video;
    ngx_http_video_api_views_t   views;
    video_patch_t                patch;
    char                        *values[PATCH_NPARAMS];
} ngx_http_video_api_videos_ctx_t;


ngx_http_video_api_main_conf_t *
ngx_http_video_api_videos_conf(ngx_http_request_t *r)
{
    return ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
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


/* a route on the video of the path's id, from step first */

static ngx_int_t
ngx_http_video_api_videos_run(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_http_video_api_steps_t *steps,
    ngx_uint_t first, video_patch_t *patch)
{
    ngx_http_video_api_videos_ctx_t  *vctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_video_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_videos_ctx_t));
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vctx->video = ngx_http_video_api_video_create(r, &ctx->params[0]);
    if (vctx->video == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (patch != NULL) {
        vctx->patch = *patch;
    }

    return ngx_http_video_api_run(r, steps, vctx, first);
}


/* GET /api/videos/:id */

static ngx_int_t
ngx_http_video_api_videos_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_videos_run(r, ctx, &videos_get_steps,
                                         VIDEOS_GET_READ, NULL);
}


static ngx_int_t
ngx_http_video_api_videos_get_step(ngx_http_video_api_run_t *run)
{
    ngx_http_video_api_videos_ctx_t  *vctx;

    vctx = run->data;

    if (run->step == VIDEOS_GET_READ) {
        return ngx_http_video_api_video_read(run, vctx->video,
                                             VIDEOS_GET_ANSWER);
    }

    return ngx_http_video_api_videos_send(run->request, vctx->video);
}


/* answers with the video, or 304 when the client has this version */

static ngx_int_t
ngx_http_video_api_videos_send(ngx_http_request_t *r,
    ngx_http_video_api_video_t *video)
{
    u_char              *p, *json;
    size_t               len;
    time_t               expires;
    ngx_str_t            etag, *version;
    ngx_table_elt_t     *inm;
    video_views_slot_t   slot;

    json = video->json.data;
    len = video->json.len;
    version = &video->version;

    /* the live view figures, and tokens in the URLs, are in its tag */

    if (video->views_live
        && video_views_scan((char *) json, len, &slot, 1) == 1)
    {
        slot.today = video->views[0];
        slot.month = video->views[1];
        slot.total = video->views[2];

        p = ngx_pnalloc(r->pool, len + VIDEO_VIEWS_SLOT_GROWTH);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = video_views_write((char *) json, len, &slot, 1, (char *) p);
        json = p;

    } else {
        if (video->views_live) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "video_api: no view figures found in a video's "
                          "JSON text: video_json()'s layout is not the one "
                          "src/lib/video_views.c writes into");
        }

        video->views_live = 0;
    }

    if (ngx_http_video_api_media_sign(r, &json, &len, &expires) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    etag.data = ngx_pnalloc(r->pool, version->len + NGX_TIME_T_LEN
                                     + 3 * NGX_INT64_LEN + 8);
    if (etag.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(etag.data, "\"%V%s", version, video->public ? "p" : "");

    if (expires) {
        p = ngx_sprintf(p, ".%T", expires);
    }

    if (video->views_live) {
        p = ngx_sprintf(p, "/%L.%L.%L", video->views[0], video->views[1],
                        video->views[2]);
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


/* PATCH /api/videos/:id */

static ngx_int_t
ngx_http_video_api_videos_patch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    json_t         *details;
    video_patch_t   patch;

    /* the body first: a bad body is a 400 whatever the id */

    if (video_patch_parse(ctx->json, &patch, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    return ngx_http_video_api_videos_run(r, ctx, &videos_patch_steps,
                                         VIDEOS_PATCH_UPDATE, &patch);
}


/* copies of the row's JSON and version: the run waits after it */

static ngx_int_t
ngx_http_video_api_videos_keep(ngx_http_video_api_run_t *run,
    ngx_http_video_api_video_t *video)
{
    ngx_pool_t  *pool;

    pool = run->request->pool;

    video->json.len = PQgetlength(run->res, 0, 0);
    video->json.data = ngx_pnalloc(pool, video->json.len);
    video->version.len = PQgetlength(run->res, 0, 1);
    video->version.data = ngx_pnalloc(pool, video->version.len);

    if (video->json.data == NULL || video->version.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(video->json.data, PQgetvalue(run->res, 0, 0),
               video->json.len);
    ngx_memcpy(video->version.data, PQgetvalue(run->res, 0, 1),
               video->version.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_videos_patch_step(ngx_http_video_api_run_t *run)
{
    char                             **v;
    ngx_int_t                          rc;
    const char                        *argv[7];
    size_t                             argvlen[7];
    video_patch_t                      patch;
    ngx_http_request_t                *r;
    ngx_http_video_api_video_t        *video;
    ngx_http_video_api_videos_ctx_t   *vctx;

    r = run->request;
    vctx = run->data;
    video = vctx->video;

    switch (run->step) {

    case VIDEOS_PATCH_UPDATE:

        /* its strings stay valid while the body's JSON lives: the request */

        patch = vctx->patch;
        v = vctx->values;
        v[PATCH_ID] = (char *) video->id.data;
        ngx_http_video_api_video_bases(r, &v[PATCH_PLAY_BASE]);
        v[PATCH_TITLE] = patch.title
                         ? (char *) json_string_value(patch.title) : NULL;
        v[PATCH_DESCRIPTION_SET] = patch.description ? "t" : "f";
        v[PATCH_DESCRIPTION] = (patch.description
                                && json_is_string(patch.description))
                               ? (char *) json_string_value(patch.description)
                               : NULL;
        v[PATCH_VISIBILITY] = patch.visibility
                              ? (char *) json_string_value(patch.visibility)
                              : NULL;

        return ngx_http_video_api_run_query(run, VIDEOS_PATCH_UPDATED,
                                            &videos_patch_stmt,
                                            PATCH_NPARAMS, v);

    case VIDEOS_PATCH_UPDATED:
        if (!ngx_http_video_api_video_row(run, &video->id, &rc)) {
            return rc;
        }

        if (ngx_http_video_api_videos_keep(run, video) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /*
         * write through before answering, so the next read from any
         * worker sees the change; the list version goes first on the same
         * connection, so it is bumped once the put is answered
         */

        ngx_http_video_api_cache_lists_changed(r);

        if (ngx_http_video_api_video_cache_put(r, &video->id,
                                               &video->version, &video->json,
                                               argv, argvlen)
            != NGX_OK)
        {
            return ngx_http_video_api_run_goto(run, VIDEOS_PATCH_CACHED);
        }

        return ngx_http_video_api_run_command(run, VIDEOS_PATCH_CACHED, 7,
                                              argv, argvlen);

    case VIDEOS_PATCH_CACHED:
        ngx_http_video_api_video_written(r, &video->id, run->reply);

        return ngx_http_video_api_views_read(run, &vctx->views,
                                             video->json.data,
                                             video->json.len,
                                             VIDEOS_PATCH_ANSWER);

    default: /* VIDEOS_PATCH_ANSWER */
        return ngx_http_video_api_videos_send_signed(r, "{\"video\":",
                                                     vctx->views.json,
                                                     vctx->views.len, "}");
    }
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
    return ngx_http_video_api_videos_run(r, ctx, &videos_delete_steps,
                                         VIDEOS_DELETE_BEGIN, NULL);
}


static ngx_int_t
ngx_http_video_api_videos_delete_step(ngx_http_video_api_run_t *run)
{
    char                             **v;
    ngx_str_t                          key;
    const char                        *argv[5];
    size_t                             argvlen[5];
    ngx_http_request_t                *r;
    ngx_http_video_api_video_t        *video;
    ngx_http_video_api_videos_ctx_t   *vctx;
    ngx_http_video_api_main_conf_t    *mcf;

    r = run->request;
    vctx = run->data;
    video = vctx->video;
    v = vctx->values;

    if (run->step != VIDEOS_DELETE_BEGIN
        && run->step != VIDEOS_DELETE_ANSWER
        && !ngx_http_video_api_run_ok(run))
    {
        /* nothing committed: the connection goes back, rolled back */

        ngx_http_video_api_run_release(run);
        return ngx_http_video_api_run_failed(run);
    }

    switch (run->step) {

    case VIDEOS_DELETE_BEGIN:
        run->hold = 1;

        return ngx_http_video_api_run_query(run, VIDEOS_DELETE_ROW,
                                            &videos_begin_stmt, 0, NULL);

    case VIDEOS_DELETE_ROW:
        mcf = ngx_http_video_api_videos_conf(r);

        v[DELETE_ID] = (char *) video->id.data;
        v[DELETE_RAW_BUCKET] = mcf->storage_set
                               ? (char *) mcf->storage.bucket_raw.data
                               : "videos-raw";
        v[DELETE_PROCESSED_BUCKET] =
                               mcf->storage_set
                               ? (char *) mcf->storage.bucket_processed.data
                               : "videos-processed";
        v[DELETE_THUMB_BUCKET] = mcf->storage_set
                               ? (char *) mcf->storage.bucket_thumbnails.data
                               : "thumbnails";

        return ngx_http_video_api_run_query(run, VIDEOS_DELETE_JOB,
                                            &videos_delete_stmt,
                                            DELETE_NPARAMS, v);

    case VIDEOS_DELETE_JOB:
        if (PQntuples(run->res) == 0) {
            ngx_http_video_api_run_release(run);
            return ngx_http_video_api_video_not_found(r, &video->id);
        }

        v[JOB_PAYLOAD] = ngx_pnalloc(r->pool,
                                     PQgetlength(run->res, 0, 0) + 1);
        if (v[JOB_PAYLOAD] == NULL) {
            ngx_http_video_api_run_release(run);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_cpystrn((u_char *) v[JOB_PAYLOAD],
                    (u_char *) PQgetvalue(run->res, 0, 0),
                    PQgetlength(run->res, 0, 0) + 1);

        return ngx_http_video_api_run_query(run, VIDEOS_DELETE_COMMIT,
                                            &videos_cleanup_job_stmt,
                                            JOB_NPARAMS, v);

    case VIDEOS_DELETE_COMMIT:
        run->hold = 0;

        return ngx_http_video_api_run_query(run, VIDEOS_DELETE_COMMITTED,
                                            &videos_commit_stmt, 0, NULL);

    case VIDEOS_DELETE_COMMITTED:

        /* leave a tombstone no stale copy can outrank */

        if (ngx_http_video_api_video_cache_key(r, &video->id, &key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_video_api_cache_lists_changed(r);
        ngx_http_video_api_cache_video_id(r, &video->id, 0);

        argv[0] = "SET";
        argvlen[0] = 3;
        argv[1] = (char *) key.data;
        argvlen[1] = key.len;
        argv[2] = NGX_HTTP_VIDEO_API_VIDEO_TOMBSTONE ":";
        argvlen[2] = sizeof(NGX_HTTP_VIDEO_API_VIDEO_TOMBSTONE ":") - 1;
        argv[3] = "PX";
        argvlen[3] = 2;
        argv[4] = "86400000";
        argvlen[4] = sizeof("86400000") - 1;

        return ngx_http_video_api_run_command(run, VIDEOS_DELETE_ANSWER, 5,
                                              argv, argvlen);

    default: /* VIDEOS_DELETE_ANSWER */
        ngx_http_video_api_video_written(r, &video->id, run->reply);

        return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                   json_pack("{s:s}", "message", "Video deleted successfully"));
    }
}


/* GET /api/videos/:id/progress: not cached, it moves */

static ngx_int_t
ngx_http_video_api_videos_progress(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_videos_run(r, ctx, &videos_progress_steps,
                                         VIDEOS_PROGRESS_READ, NULL);
}


static ngx_int_t
ngx_http_video_api_videos_progress_step(ngx_http_video_api_run_t *run)
{
    ngx_int_t                          rc;
    ngx_http_video_api_video_t        *video;
    ngx_http_video_api_videos_ctx_t   *vctx;

    vctx = run->data;
    video = vctx->video;

    if (run->step == VIDEOS_PROGRESS_READ) {
        vctx->values[PROGRESS_ID] = (char *) video->id.data;

        return ngx_http_video_api_run_query(run, VIDEOS_PROGRESS_ANSWER,
                                            &videos_progress_stmt,
                                            PROGRESS_NPARAMS, vctx->values);
    }

    if (!ngx_http_video_api_video_row(run, &video->id, &rc)) {
        return rc;
    }

    return ngx_http_video_api_send_wrapped(run->request, NGX_HTTP_OK, "",
               (u_char *) PQgetvalue(run->res, 0, 0),
               PQgetlength(run->res, 0, 0), "");
}
