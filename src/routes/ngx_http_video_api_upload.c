/*
 * /api/upload: direct uploads.  The browser gets a presigned PUT URL for
 * the raw bucket and sends the file straight to storage, never through
 * the API; completing the upload queues the transcode.  The URL binds what
 * presign checked (the exact size, the content type) and only creates
 * (If-None-Match: *), and the upload is recorded, so completing needs one
 * and the cleanup worker removes what was never completed.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_idem.h"
#include "ngx_http_video_api_run.h"
#include "video_id.h"
#include "video_sigv4.h"
#include "video_validate.h"


static ngx_int_t ngx_http_video_api_upload_presign(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_upload_complete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


/* the routes' steps */

typedef enum {
    UPLOAD_PRESIGN = 0,
    UPLOAD_RECORD,
    UPLOAD_PRESIGNED,

    UPLOAD_PROBE,
    UPLOAD_PROBED,
    UPLOAD_CREATED
} ngx_http_video_api_upload_step_e;

static const char *const  upload_names[] = {
    "claim", "record", "recorded",
    "probe", "probed", "created"
};

static ngx_int_t ngx_http_video_api_upload_presign_step(
    ngx_http_video_api_run_t *run);
static ngx_int_t ngx_http_video_api_upload_complete_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  upload_presign_steps = {
    "upload presign", ngx_http_video_api_upload_presign_step, upload_names
};

static ngx_http_video_api_steps_t  upload_complete_steps = {
    "upload complete", ngx_http_video_api_upload_complete_step, upload_names
};


/*
 * What the URL allows, recorded before it is handed out; the caller's
 * account is the one the video will belong to.
 */

enum {
    PRESIGN_ID = 0,
    PRESIGN_KEY,
    PRESIGN_SIZE,
    PRESIGN_TYPE,
    PRESIGN_EXPIRES,       /* Unix time */
    PRESIGN_ACCOUNT,
    PRESIGN_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  upload_presign_stmt =
    ngx_http_video_api_pg_scoped("upload_presign",
        "INSERT INTO uploads (video_id, key, size, content_type, expires_at,"
        " account_id)"
        " VALUES ($1, $2, $3::bigint, $4, to_timestamp($5::bigint), $6)",
        PRESIGN_ACCOUNT + 1, 0);

enum {
    COMPLETE_ID = 0,
    COMPLETE_TITLE,
    COMPLETE_DESCRIPTION,
    COMPLETE_KEY,
    COMPLETE_SIZE,
    COMPLETE_PLAY_BASE,
    COMPLETE_THUMB_BASE,
    COMPLETE_ACCOUNT,
    COMPLETE_ROLE,
    COMPLETE_NPARAMS
};


typedef struct {
    ngx_str_t                    id;
    video_complete_t             in;
    ngx_http_video_api_run_t    *run;       /* parked for the probe */
    ngx_uint_t                   probe_done;
    ngx_uint_t                   probe_status;
    ngx_uint_t                   retried;
    off_t                        size;
    char                        *values[COMPLETE_NPARAMS];
} ngx_http_video_api_upload_ctx_t;


typedef struct {
    char                        *id;
    char                        *key;
    char                        *url;
    const char                  *type;
    time_t                       expires;
    char                        *values[PRESIGN_NPARAMS];
} ngx_http_video_api_presign_ctx_t;


/*
 * The upload marked completed, the video and its transcode job in one
 * statement, so in one transaction.  Rows: 't' and the video it created;
 * 'f' and the video an earlier completion of this upload made (nothing
 * inserted, no second job); 'r' when the upload was completed or swept
 * by another transaction while this one waited for its row, so this
 * snapshot cannot tell which: the statement is run again; none when no
 * such upload was presigned (or it was swept).  Only an editor of the
 * account that presigned it (or an admin) completes it, or sees it.
 */
static ngx_http_video_api_pg_stmt_t  upload_complete_stmt =
    ngx_http_video_api_pg_scoped("upload_complete",
        "WITH u AS ("
        " UPDATE uploads SET completed_at = now()"
        " WHERE video_id = $1 AND key = $4 AND completed_at IS NULL"
        " AND video_writable(account_id, $8, $9)"
        " RETURNING video_id, account_id),"
        " v AS ("
        " INSERT INTO videos AS nv (id, account_id, title, description,"
        "  original_key, original_size)"
        " SELECT $1, u.account_id, $2, $3, $4, $5::bigint FROM u"
        " ON CONFLICT (id) DO NOTHING"
        " RETURNING nv.id, nv.original_key, video_json(nv, $6, $7)::text"
        "  AS json),"
        " job AS ("
        " INSERT INTO outbox (topic, payload)"
        " SELECT 'video-transcode', json_build_object('type', 'transcode',"
        "  'videoId', v.id, 'inputKey', v.original_key)"
        " FROM v RETURNING id)"
        " SELECT v.json, 't' FROM v"
        " UNION ALL"
        " SELECT video_json(x, $6, $7)::text, 'f' FROM videos x"
        " WHERE x.id = $1 AND NOT EXISTS (SELECT 1 FROM v)"
        " AND video_writable(x.account_id, $8, $9)"
        " AND EXISTS (SELECT 1 FROM uploads w"
        "  WHERE w.video_id = $1 AND w.key = $4)"
        " UNION ALL"
        " SELECT NULL::text, 'r' FROM uploads w"
        " WHERE w.video_id = $1 AND w.key = $4 AND w.completed_at IS NULL"
        " AND video_writable(w.account_id, $8, $9)"
        " AND NOT EXISTS (SELECT 1 FROM u)",
        COMPLETE_ACCOUNT + 1, COMPLETE_ROLE + 1);


static void ngx_http_video_api_upload_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_upload_probed(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);


ngx_http_video_api_route_t  ngx_http_video_api_upload_routes[] = {
    { NGX_HTTP_POST, "/api/upload/presign",
      ngx_http_video_api_upload_presign, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_POST, "/api/upload/:id/complete",
      ngx_http_video_api_upload_complete, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { 0, NULL, NULL, 0, 0 }
};


/*
 * POST /api/upload/presign: a new video id and where to PUT the file.  The
 * video exists once the upload is completed; the upload is recorded now.
 */

static ngx_int_t
ngx_http_video_api_upload_presign(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    int                                 rc;
    u_char                             *p;
    json_t                             *details;
    ngx_int_t                           idem;
    const char                         *err;
    video_presign_t                     in;
    video_sigv4_bind_t                  bind;
    video_sigv4_creds_t                 creds;
    video_sigv4_presign_t               ps;
    ngx_http_video_api_main_conf_t     *mcf;
    ngx_http_video_api_presign_ctx_t   *u;
    ngx_http_video_api_storage_conf_t  *st;

    if (video_presign_parse(ctx->json, &in, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    st = &mcf->storage;

    idem = ngx_http_video_api_idem_init(r, ctx);
    if (idem != NGX_DECLINED) {
        return idem;
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_presign_ctx_t));
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->id = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    u->key = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 16);
    u->url = ngx_pnalloc(r->pool, VIDEO_SIGV4_URL_MAX);
    p = ngx_pnalloc(r->pool, 2 * (NGX_INT64_LEN + 1));

    if (u->id == NULL || u->key == NULL || u->url == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_id_generate(u->id) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: getrandom() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->id[VIDEO_ID_LEN] = '\0';

    ngx_sprintf((u_char *) u->key, "%s/original.%s%Z", u->id,
                video_upload_extensions[in.type]);

    u->type = video_upload_types[in.type];
    u->expires = st->presign_expires;

    ngx_http_video_api_media_creds(st, &creds);

    ps.method = "PUT";
    ps.endpoint = (char *) st->endpoint.data;
    ps.bucket = (char *) st->bucket_raw.data;
    ps.key = u->key;
    ps.path_style = st->path_style ? 1 : 0;
    ps.now = (int64_t) ngx_time();
    ps.expires = (long) st->presign_expires;

    /* exactly this many bytes of this type, and only as a new object */

    bind.content_length = (int64_t) in.file_size;
    bind.content_type = u->type;
    bind.if_none_match = "*";

    err = NULL;
    rc = video_sigv4_presign_bound(&creds, &ps, &bind, u->url,
                                   VIDEO_SIGV4_URL_MAX, &err);

    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: cannot presign an upload: %s",
                      err ? err : "unknown error");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->values[PRESIGN_ID] = u->id;
    u->values[PRESIGN_KEY] = u->key;
    u->values[PRESIGN_SIZE] = (char *) p;
    p = ngx_sprintf(p, "%L%Z", (int64_t) in.file_size);
    u->values[PRESIGN_TYPE] = (char *) u->type;
    u->values[PRESIGN_EXPIRES] = (char *) p;
    ngx_sprintf(p, "%L%Z", ps.now + (int64_t) ps.expires);

    return ngx_http_video_api_run(r, &upload_presign_steps, u,
                                  UPLOAD_PRESIGN);
}


static ngx_int_t
ngx_http_video_api_upload_presign_step(ngx_http_video_api_run_t *run)
{
    ngx_http_video_api_presign_ctx_t  *u;

    u = run->data;

    if (run->step == UPLOAD_PRESIGN) {

        /* an Idempotency-Key: claimed in the transaction that records */

        return ngx_http_video_api_idem_claim(run, UPLOAD_RECORD);
    }

    if (run->step == UPLOAD_RECORD) {
        return ngx_http_video_api_run_query(run, UPLOAD_PRESIGNED,
                                            &upload_presign_stmt,
                                            PRESIGN_NPARAMS, u->values);
    }

    if (!ngx_http_video_api_run_ok(run)) {

        /* an account limit among them: nothing was recorded */

        return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
    }

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_UPLOADS_PRESIGNED);

    /* the URL binds these headers: the client sends them as they are */

    return ngx_http_video_api_idem_finish(run,
               ngx_http_video_api_send_data(run->request, NGX_HTTP_CREATED,
               json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:s}}",
                         "videoId", u->id,
                         "uploadUrl", u->url,
                         "key", u->key,
                         "expiresIn", (json_int_t) u->expires,
                         "uploadHeaders",
                         "Content-Type", u->type,
                         "If-None-Match", "*")));
}


/*
 * POST /api/upload/:id/complete: the object must be in storage (a HEAD,
 * presigned, through the internal probe location as a subrequest, so the
 * worker waits on nothing); then the video and its job are created.
 */

static ngx_int_t
ngx_http_video_api_upload_complete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_uint_t                          valid;
    json_t                             *details;
    ngx_http_video_api_main_conf_t     *mcf;
    ngx_http_video_api_upload_ctx_t    *u;

    u = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_upload_ctx_t));
    if (u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the body first: a bad body is a 400 whatever the id */

    valid = video_id_valid((char *) ctx->params[0].data, ctx->params[0].len);

    if (video_complete_parse(ctx->json,
                             valid ? (char *) ctx->params[0].data : NULL,
                             ctx->params[0].len, &u->in, &details)
        != 0)
    {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (!valid) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                   "Upload for video '%V' not found", &ctx->params[0]);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    u->id.len = ctx->params[0].len;
    u->id.data = ngx_pnalloc(r->pool, u->id.len + 1);
    if (u->id.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(u->id.data, ctx->params[0].data, u->id.len + 1);

    ctx->data = u;

    return ngx_http_video_api_run(r, &upload_complete_steps, u, UPLOAD_PROBE);
}


/* a HEAD of the object, presigned, as a subrequest: storage has it? */

static ngx_int_t
ngx_http_video_api_upload_probe(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u)
{
    ngx_str_t                        uri, args;
    ngx_http_request_t              *r, *sr;
    ngx_http_post_subrequest_t      *psr;
    ngx_http_video_api_main_conf_t  *mcf;

    r = run->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (ngx_http_video_api_media_request(r, NGX_HTTP_VIDEO_API_PROBE, "HEAD",
                                         &mcf->storage.bucket_raw,
                                         json_string_value(u->in.key), 60,
                                         &uri, &args)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    psr = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (psr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    psr->handler = ngx_http_video_api_upload_probed;
    psr->data = u;

    if (ngx_http_subrequest(r, &uri, &args, &sr, psr,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a HEAD: storage answers with the size and no body */

    sr->method = NGX_HTTP_HEAD;
    ngx_str_set(&sr->method_name, "HEAD");
    sr->header_only = 1;

    u->run = run;
    r->write_event_handler = ngx_http_video_api_upload_resume;

    return ngx_http_video_api_run_park(run, UPLOAD_PROBED);
}


static ngx_int_t
ngx_http_video_api_upload_probed(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_video_api_upload_ctx_t  *u = data;

    u->probe_done = 1;
    u->probe_status = (sr->headers_out.status != 0)
                      ? sr->headers_out.status
                      : (rc >= NGX_HTTP_SPECIAL_RESPONSE ? (ngx_uint_t) rc
                                                         : 502);
    u->size = sr->headers_out.content_length_n;

    return rc;
}


/* the parent, woken when the probe is done */

static void
ngx_http_video_api_upload_resume(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t         *ctx;
    ngx_http_video_api_upload_ctx_t  *u;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    u = ctx->data;

    if (!u->probe_done) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_video_api_run_wake(u->run);
}


/* the object is there: the video and its job */

static ngx_int_t
ngx_http_video_api_upload_create(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u)
{
    u_char                          *p;
    char                           **v;
    ngx_http_request_t              *r;
    ngx_http_video_api_main_conf_t  *mcf;

    r = run->request;

    if (u->probe_status == NGX_HTTP_NOT_FOUND) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                   "Uploaded object '%s' not found in storage",
                   json_string_value(u->in.key));
    }

    if (u->probe_status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: storage answered %ui to a HEAD of \"%s\"",
                      u->probe_status, json_string_value(u->in.key));
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf(p, "%O", u->size >= 0 ? u->size : 0) = '\0';

    v = u->values;
    v[COMPLETE_ID] = (char *) u->id.data;
    v[COMPLETE_TITLE] = u->in.title ? (char *) json_string_value(u->in.title)
                                    : "Untitled Video";
    v[COMPLETE_DESCRIPTION] = (u->in.description
                               && json_is_string(u->in.description))
                              ? (char *) json_string_value(u->in.description)
                              : NULL;
    v[COMPLETE_KEY] = (char *) json_string_value(u->in.key);
    v[COMPLETE_SIZE] = (char *) p;
    v[COMPLETE_PLAY_BASE] = (char *) mcf->play.base.data;
    v[COMPLETE_THUMB_BASE] = (char *) mcf->play.base.data;

    return ngx_http_video_api_run_query(run, UPLOAD_CREATED,
                                        &upload_complete_stmt,
                                        COMPLETE_NPARAMS, v);
}


static ngx_int_t
ngx_http_video_api_upload_created(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u)
{
    size_t               len;
    u_char              *json;
    time_t               expires;
    PGresult            *res;
    ngx_uint_t           created;
    ngx_http_request_t  *r;

    r = run->request;
    res = run->res;

    if (!ngx_http_video_api_run_ok(run) || PQntuples(res) > 1) {
        return ngx_http_video_api_run_failed(run);
    }

    if (PQntuples(res) == 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                   "Upload for video '%V' not found", &u->id);
    }

    if (PQgetvalue(res, 0, 1)[0] == 'r') {

        /* decided by another transaction meanwhile: look again, once */

        if (u->retried) {
            return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                       "Upload for video '%V' is being completed", &u->id);
        }

        u->retried = 1;

        return ngx_http_video_api_run_query(run, UPLOAD_CREATED,
                                            &upload_complete_stmt,
                                            COMPLETE_NPARAMS, u->values);
    }

    created = (PQgetvalue(res, 0, 1)[0] == 't');

    if (created) {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_UPLOADS_COMPLETED);
        ngx_http_video_api_cache_lists_changed(r);
        ngx_http_video_api_cache_video_id(r, &u->id, 1);
    }

    json = (u_char *) PQgetvalue(res, 0, 0);
    len = PQgetlength(res, 0, 0);

    if (ngx_http_video_api_media_sign(r, &json, &len, &expires) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_wrapped(r,
               created ? NGX_HTTP_CREATED : NGX_HTTP_OK,
               "{\"video\":", json, len, "}");
}


static ngx_int_t
ngx_http_video_api_upload_complete_step(ngx_http_video_api_run_t *run)
{
    ngx_http_video_api_upload_ctx_t  *u;

    u = run->data;

    switch (run->step) {

    case UPLOAD_PROBE:
        return ngx_http_video_api_upload_probe(run, u);

    case UPLOAD_PROBED:
        return ngx_http_video_api_upload_create(run, u);

    default: /* UPLOAD_CREATED */
        return ngx_http_video_api_upload_created(run, u);
    }
}
