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
#include "ngx_http_video_api_storage.h"
#include "ngx_http_video_api_upload.h"
#include "video_id.h"
#include "video_s3xml.h"
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
    UPLOAD_CREATED,
    UPLOAD_LOOKUP,
    UPLOAD_FOUND,
    UPLOAD_ASSEMBLED
} ngx_http_video_api_upload_step_e;

static const char *const  upload_names[] = {
    "claim", "record", "recorded",
    "probe", "probed", "created", "lookup", "found", "assembled"
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
    COMPLETE_ETAG,
    COMPLETE_NPARAMS
};


typedef struct {
    ngx_str_t                    id;
    video_complete_t             in;
    ngx_http_video_api_upload_t  up;
    ngx_http_video_api_storage_t call;
    video_sigv4_param_t          param;     /* uploadId */
    ngx_uint_t                   probe_status;
    ngx_uint_t                   retried;
    off_t                        size;
    char                        *etag;      /* the object's, unquoted */
    char                        *values[COMPLETE_NPARAMS];
} ngx_http_video_api_upload_ctx_t;


static ngx_int_t ngx_http_video_api_upload_probe(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u);
static ngx_int_t ngx_http_video_api_upload_create(
    ngx_http_video_api_run_t *run, ngx_http_video_api_upload_ctx_t *u);


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
        "  original_key, original_size, original_etag)"
        " SELECT $1, u.account_id, $2, $3, $4, $5::bigint, $10 FROM u"
        " ON CONFLICT (id) DO NOTHING"
        " RETURNING nv.id, nv.original_key, nv.original_etag,"
        "  video_json(nv, $6, $7)::text AS json),"
        " job AS ("
        " INSERT INTO outbox (topic, payload)"
        " SELECT 'video-transcode', json_strip_nulls(json_build_object("
        "  'type', 'transcode', 'videoId', v.id, 'inputKey', v.original_key,"
        "  'etag', v.original_etag))"
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


/* an upload as the routes see it: only its account's editors find it */
static ngx_http_video_api_pg_stmt_t  upload_lookup_stmt =
    ngx_http_video_api_pg_scoped("upload_lookup",
        "SELECT key, size, upload_id, part_size, part_count,"
        " completed_at IS NOT NULL, " NGX_HTTP_VIDEO_API_ISO("expires_at")
        " FROM uploads WHERE video_id = $1"
        " AND video_writable(account_id, $2, $3)",
        2, 3);




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
    ps.endpoint = (char *) st->public_endpoint.data;
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

    return ngx_http_video_api_run(r, &upload_complete_steps, u, UPLOAD_LOOKUP);
}


ngx_int_t
ngx_http_video_api_upload_lookup(ngx_http_video_api_run_t *run, ngx_str_t *id,
    ngx_uint_t next)
{
    char  **values;

    values = ngx_pcalloc(run->request->pool, 3 * sizeof(char *));
    if (values == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    values[0] = (char *) id->data;

    /* $2 and $3: the caller's account and role */

    return ngx_http_video_api_run_query(run, next, &upload_lookup_stmt, 3,
                                        values);
}


ngx_int_t
ngx_http_video_api_upload_found(ngx_http_video_api_run_t *run, ngx_str_t *id,
    ngx_http_video_api_upload_t *up)
{
    size_t               len;
    PGresult            *res;
    ngx_http_request_t  *r;

    r = run->request;
    res = run->res;

    if (!ngx_http_video_api_run_ok(run) || PQntuples(res) > 1
        || (PQntuples(res) == 1 && PQnfields(res) != 7))
    {
        return ngx_http_video_api_run_failed(run);
    }

    if (PQntuples(res) == 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                   "Upload for video '%V' not found", id);
    }

    len = PQgetlength(res, 0, 0);
    up->key.len = len;
    up->key.data = ngx_pnalloc(r->pool, len + 1);

    len = PQgetlength(res, 0, 2);
    up->upload_id.len = len;
    up->upload_id.data = ngx_pnalloc(r->pool, len + 1);

    up->expires_at = ngx_pnalloc(r->pool, PQgetlength(res, 0, 6) + 1);

    if (up->key.data == NULL || up->upload_id.data == NULL
        || up->expires_at == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(up->key.data, (u_char *) PQgetvalue(res, 0, 0),
                up->key.len + 1);
    ngx_cpystrn(up->upload_id.data, (u_char *) PQgetvalue(res, 0, 2),
                up->upload_id.len + 1);
    ngx_cpystrn((u_char *) up->expires_at, (u_char *) PQgetvalue(res, 0, 6),
                PQgetlength(res, 0, 6) + 1);

    up->size = ngx_atoof((u_char *) PQgetvalue(res, 0, 1),
                         PQgetlength(res, 0, 1));
    up->completed = (PQgetvalue(res, 0, 5)[0] == 't');

    if (up->upload_id.len > 0) {
        up->part_size = ngx_atoof((u_char *) PQgetvalue(res, 0, 3),
                                  PQgetlength(res, 0, 3));
        up->part_count = ngx_atoi((u_char *) PQgetvalue(res, 0, 4),
                                  PQgetlength(res, 0, 4));

        if (up->size <= 0
            || up->part_size <= 0 || up->part_count == (ngx_uint_t) NGX_ERROR
            || up->part_count == 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DECLINED;
}


/* the upload found: a multipart one is assembled first, then the HEAD */

static ngx_int_t
ngx_http_video_api_upload_found_step(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u)
{
    long                               len;
    size_t                             i;
    json_t                            *details;
    ngx_int_t                          rc;
    ngx_str_t                          body;
    video_part_t                      *parts;
    ngx_http_request_t                *r;
    video_s3xml_part_t                *xp;
    ngx_http_video_api_ctx_t          *ctx;
    ngx_http_video_api_main_conf_t    *mcf;

    r = run->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    rc = ngx_http_video_api_upload_found(run, &u->id, &u->up);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (u->up.upload_id.len == 0) {
        if (json_object_get(ctx->json, "parts") != NULL) {
            details = json_array();
            video_detail_add(details, "parts",
                             "parts is only for a multipart upload; this "
                             "one was a single PUT");
            return ngx_http_video_api_send_invalid(r, details);
        }

        if (u->up.completed) {
            u->probe_status = NGX_HTTP_OK;
            u->size = u->up.size;
            return ngx_http_video_api_upload_create(run, u);
        }

        return ngx_http_video_api_upload_probe(run, u);
    }

    parts = ngx_palloc(r->pool, u->up.part_count * sizeof(video_part_t));
    xp = ngx_palloc(r->pool, u->up.part_count * sizeof(video_s3xml_part_t));

    if (parts == NULL || xp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_complete_parts_parse(ctx->json, (uint32_t) u->up.part_count,
                                   parts, &details)
        != 0)
    {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (u->up.completed) {

        /* completed before: the same video, nothing asked of storage */

        u->probe_status = NGX_HTTP_OK;
        u->size = u->up.size;
        return ngx_http_video_api_upload_create(run, u);
    }

    for (i = 0; i < u->up.part_count; i++) {
        xp[i].number = parts[i].number;
        xp[i].size = -1;
        xp[i].mtime_ms = 0;
        xp[i].etag_len = parts[i].etag_len;
        ngx_memcpy(xp[i].etag, parts[i].etag, parts[i].etag_len + 1);
    }

    len = video_s3xml_complete_request(xp, u->up.part_count, NULL);
    if (len < 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = video_s3xml_complete_request(xp, u->up.part_count,
                                            (char *) body.data);

    u->param.name = "uploadId";
    u->param.value = (char *) u->up.upload_id.data;

    return ngx_http_video_api_storage_call(run, &u->call, "POST",
               &mcf->storage.bucket_raw, (char *) u->up.key.data, &u->param,
               1, &body, UPLOAD_ASSEMBLED);
}


/* storage assembled the parts, or said why not */

static ngx_int_t
ngx_http_video_api_upload_assembled(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u)
{
    int                      rc;
    char                    *buf, msg[256];
    json_t                  *details;
    ngx_http_request_t      *r;
    video_s3xml_str_t        etag;
    video_s3xml_s3_error_t   err;

    r = run->request;

    buf = ngx_pnalloc(r->pool, u->call.body.len + 1);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&err, sizeof(video_s3xml_s3_error_t));

    rc = (u->call.body.len > 0)
         ? video_s3xml_parse_complete_result((char *) u->call.body.data,
                                             u->call.body.len, buf, &etag,
                                             &err)
         : VIDEO_S3XML_MALFORMED;

    if (u->call.status == NGX_HTTP_OK && rc == VIDEO_S3XML_OK) {
        return ngx_http_video_api_upload_probe(run, u);
    }

    if (rc == VIDEO_S3XML_S3_ERROR && err.code.len == 12
        && ngx_strncmp(err.code.data, "NoSuchUpload", 12) == 0)
    {
        /* completed by an earlier try whose answer was lost: the HEAD says */

        return ngx_http_video_api_upload_probe(run, u);
    }

    if (rc == VIDEO_S3XML_S3_ERROR && u->call.status == NGX_HTTP_BAD_REQUEST) {

        /* InvalidPart, InvalidPartOrder, EntityTooSmall: the caller's */

        ngx_snprintf((u_char *) msg, sizeof(msg) - 1,
                     "storage refused the parts: %*s%Z",
                     err.code.len, err.code.data);

        details = json_array();
        video_detail_add(details, "parts", msg);

        return ngx_http_video_api_send_invalid(r, details);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "video_api: storage answered %ui to "
                  "CompleteMultipartUpload of \"%V\" (%s%*s)",
                  u->call.status, &u->up.key, video_s3xml_code(rc),
                  err.code.len, err.code.data);

    return ngx_http_video_api_send_unavailable(r, "Storage");
}


/* a HEAD of the object: storage has it? */

static ngx_int_t
ngx_http_video_api_upload_probe(ngx_http_video_api_run_t *run,
    ngx_http_video_api_upload_ctx_t *u)
{
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(run->request,
                                        ngx_http_video_api_module);

    return ngx_http_video_api_storage_call(run, &u->call, "HEAD",
               &mcf->storage.bucket_raw, json_string_value(u->in.key), NULL,
               0, NULL, UPLOAD_PROBED);
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

    if (u->up.upload_id.len > 0 && !u->up.completed
        && u->size != u->up.size)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: \"%s\" is %O bytes, its upload declared %O",
                      json_string_value(u->in.key), u->size, u->up.size);
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                   "Uploaded object '%s' is not the size the upload "
                   "declared", json_string_value(u->in.key));
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
    v[COMPLETE_ETAG] = u->etag;

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
        u->probe_status = u->call.status;
        u->size = u->call.length;

        /* the ETag storage gives the object, unquoted */

        if (u->call.etag.len >= 2 && u->call.etag.data[0] == '"'
            && u->call.etag.data[u->call.etag.len - 1] == '"')
        {
            u->call.etag.data++;
            u->call.etag.len -= 2;
        }

        if (u->call.etag.len > 0 && u->call.etag.len <= 128) {
            u->etag = ngx_pnalloc(run->request->pool, u->call.etag.len + 1);
            if (u->etag == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_cpystrn((u_char *) u->etag, u->call.etag.data,
                        u->call.etag.len + 1);
        }

        return ngx_http_video_api_upload_create(run, u);

    case UPLOAD_LOOKUP:
        return ngx_http_video_api_upload_lookup(run, &u->id, UPLOAD_FOUND);

    case UPLOAD_FOUND:
        return ngx_http_video_api_upload_found_step(run, u);

    case UPLOAD_ASSEMBLED:
        return ngx_http_video_api_upload_assembled(run, u);

    default: /* UPLOAD_CREATED */
        return ngx_http_video_api_upload_created(run, u);
    }
}
