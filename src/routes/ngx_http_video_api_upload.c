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
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_redis.h"
#include "video_id.h"
#include "video_sigv4.h"
#include "video_validate.h"


static ngx_int_t ngx_http_video_api_upload_presign(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_upload_complete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


typedef struct {
    ngx_str_t                    id;
    video_complete_t             in;
    ngx_uint_t                   probe_done;
    ngx_uint_t                   probe_status;
    ngx_uint_t                   retried;
    off_t                        size;
    char                        *values[9];
} ngx_http_video_api_upload_ctx_t;


typedef struct {
    char                        *id;
    char                        *key;
    char                        *url;
    const char                  *type;
    time_t                       expires;
    char                        *values[6];
} ngx_http_video_api_presign_ctx_t;


/*
 * What the URL allows, recorded before it is handed out.
 * $1 id, $2 key, $3 size, $4 content type, $5 expiry (Unix time), $6 the
 * caller's account, which the video will belong to.
 */
static ngx_http_video_api_pg_stmt_t  upload_presign_stmt =
    ngx_http_video_api_pg_stmt("upload_presign",
        "INSERT INTO uploads (video_id, key, size, content_type, expires_at,"
        " account_id)"
        " VALUES ($1, $2, $3::bigint, $4, to_timestamp($5::bigint), $6)");


/*
 * The upload marked completed, the video and its transcode job in one
 * statement, so in one transaction.  Rows: 't' and the video it created;
 * 'f' and the video an earlier completion of this upload made (nothing
 * inserted, no second job); 'r' when the upload was completed or swept
 * by another transaction while this one waited for its row, so this
 * snapshot cannot tell which: the statement is run again; none when no
 * such upload was presigned (or it was swept).  Only an editor of the
 * account that presigned it (or an admin) completes it, or sees it.
 * $1 id, $2 title, $3 description, $4 key, $5 size, $6, $7 URL bases,
 * $8, $9 the caller.
 */
static ngx_http_video_api_pg_stmt_t  upload_complete_stmt =
    ngx_http_video_api_pg_stmt("upload_complete",
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
        " AND NOT EXISTS (SELECT 1 FROM u)");


static void ngx_http_video_api_upload_presigned(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static void ngx_http_video_api_upload_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_upload_probed(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_video_api_upload_created(ngx_http_video_api_pg_op_t *op,
    PGresult *res);


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
    char                               *role;
    json_t                             *details;
    const char                         *err;
    video_presign_t                     in;
    video_sigv4_bind_t                  bind;
    video_sigv4_creds_t                 creds;
    video_sigv4_presign_t               ps;
    ngx_http_video_api_pg_op_t         *op;
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

    u->values[0] = u->id;
    u->values[1] = u->key;
    u->values[2] = (char *) p;
    p = ngx_sprintf(p, "%L%Z", (int64_t) in.file_size);
    u->values[3] = (char *) u->type;
    u->values[4] = (char *) p;
    ngx_sprintf(p, "%L%Z", ps.now + (int64_t) ps.expires);
    ngx_http_video_api_caller_sql(r, 0, &u->values[5], &role);

    op = ngx_http_video_api_pg_op(r, ngx_http_video_api_upload_presigned, u);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_pg_send(op, &upload_presign_stmt, 6, u->values)
        != NGX_OK)
    {
        return ngx_http_video_api_send_unavailable(r, "Database");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_video_api_upload_presigned(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                          rc;
    ngx_http_request_t                *r;
    ngx_http_video_api_presign_ctx_t  *u;

    r = op->request;
    u = op->data;

    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {

        /* an account limit among them: nothing was recorded */

        rc = ngx_http_video_api_pg_failed(r, res);

    } else {

        /* the URL binds these headers: the client sends them as they are */

        rc = ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
                 json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:s}}",
                           "videoId", u->id,
                           "uploadUrl", u->url,
                           "key", u->key,
                           "expiresIn", (json_int_t) u->expires,
                           "uploadHeaders",
                           "Content-Type", u->type,
                           "If-None-Match", "*"));
    }

    ngx_http_finalize_request(r, rc);
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
    ngx_str_t                           uri, args;
    ngx_http_request_t                 *sr;
    ngx_http_post_subrequest_t         *psr;
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

    ctx->data = u;

    r->write_event_handler = ngx_http_video_api_upload_resume;
    r->main->count++;

    return NGX_DONE;
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
    u_char                           *p;
    ngx_int_t                         rc;
    ngx_http_video_api_ctx_t         *ctx;
    ngx_http_video_api_pg_op_t       *op;
    ngx_http_video_api_upload_ctx_t  *u;
    ngx_http_video_api_main_conf_t   *mcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    u = ctx->data;

    if (!u->probe_done) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    if (u->probe_status == NGX_HTTP_NOT_FOUND) {
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                 "Uploaded object '%s' not found in storage",
                 json_string_value(u->in.key));
        ngx_http_finalize_request(r, rc);
        return;
    }

    if (u->probe_status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: storage answered %ui to a HEAD of \"%s\"",
                      u->probe_status, json_string_value(u->in.key));
        ngx_http_finalize_request(r,
            ngx_http_video_api_send_unavailable(r, "Storage"));
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN + 1);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    *ngx_sprintf(p, "%O", u->size >= 0 ? u->size : 0) = '\0';

    u->values[0] = (char *) u->id.data;
    u->values[1] = u->in.title ? (char *) json_string_value(u->in.title)
                               : "Untitled Video";
    u->values[2] = (u->in.description && json_is_string(u->in.description))
                   ? (char *) json_string_value(u->in.description) : NULL;
    u->values[3] = (char *) json_string_value(u->in.key);
    u->values[4] = (char *) p;
    u->values[5] = (char *) mcf->play.base.data;
    u->values[6] = (char *) mcf->play.base.data;
    ngx_http_video_api_caller_sql(r, 0, &u->values[7], &u->values[8]);

    op = ngx_http_video_api_pg_op(r, ngx_http_video_api_upload_created, u);
    if (op == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_video_api_pg_send(op, &upload_complete_stmt, 9, u->values)
        != NGX_OK)
    {
        ngx_http_finalize_request(r,
            ngx_http_video_api_send_unavailable(r, "Database"));
        return;
    }

    /* the count taken for the probe now waits for the database */
}


static void
ngx_http_video_api_upload_created(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    size_t                            len;
    u_char                           *json;
    time_t                            expires;
    ngx_int_t                         rc;
    ngx_uint_t                        created;
    ngx_http_request_t               *r;
    ngx_http_video_api_upload_ctx_t  *u;

    r = op->request;
    u = op->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) > 1)
    {
        rc = ngx_http_video_api_pg_failed(r, res);

    } else if (PQntuples(res) == 0) {
        rc = ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                 "Upload for video '%V' not found", &u->id);

    } else if (PQgetvalue(res, 0, 1)[0] == 'r') {

        /* decided by another transaction meanwhile: look again, once */

        if (!u->retried) {
            u->retried = 1;

            if (ngx_http_video_api_pg_send(op, &upload_complete_stmt, 9,
                                           u->values)
                == NGX_OK)
            {
                return;
            }

            rc = ngx_http_video_api_send_unavailable(r, "Database");

        } else {
            rc = ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                     "Upload for video '%V' is being completed", &u->id);
        }

    } else {
        created = (PQgetvalue(res, 0, 1)[0] == 't');

        if (created) {
            ngx_http_video_api_cache_lists_changed(r);
            ngx_http_video_api_cache_video_id(r, &u->id, 1);
        }

        json = (u_char *) PQgetvalue(res, 0, 0);
        len = PQgetlength(res, 0, 0);

        if (ngx_http_video_api_media_sign(r, &json, &len, &expires)
            != NGX_OK)
        {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            rc = ngx_http_video_api_send_wrapped(r,
                     created ? NGX_HTTP_CREATED : NGX_HTTP_OK,
                     "{\"video\":", json, len, "}");
        }
    }

    ngx_http_finalize_request(r, rc);
}
