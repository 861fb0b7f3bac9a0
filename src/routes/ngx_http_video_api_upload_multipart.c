/*
 * /api/upload, multipart: a file too large for one PUT, or that should
 * survive a dropped connection, goes to storage in parts, S3's way, so it
 * works the same against S3, MinIO and the built-in store.  Start creates
 * the multipart upload in storage and hands out presigned PUT URLs for the
 * parts, each binding its exact size; more are asked for in batches; the
 * parts storage already has are listed for a client that resumes; abort
 * ends it.  Completing is the single-PUT complete route, with the parts'
 * ETags (ngx_http_video_api_upload.c).  The upload is recorded from the
 * start, with the declared size held against the account's quota, and
 * the cleanup worker aborts what is never completed.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_idem.h"
#include "ngx_http_video_api_run.h"
#include "ngx_http_video_api_storage.h"
#include "ngx_http_video_api_upload.h"
#include "video_id.h"
#include "video_s3xml.h"
#include "video_sigv4.h"
#include "video_validate.h"


#define NGX_HTTP_VIDEO_API_PART_MIN    (8 * 1024 * 1024)
#define NGX_HTTP_VIDEO_API_PARTS_MAX   10000
#define NGX_HTTP_VIDEO_API_PARTS_FIRST 100     /* URLs with the start */
#define NGX_HTTP_VIDEO_API_LIST_PAGE   1000    /* ListParts' max-parts */


static ngx_int_t ngx_http_video_api_multipart_start(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_multipart_urls(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_multipart_upload(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_multipart_routes[] = {
    { NGX_HTTP_POST, "/api/upload/multipart",
      ngx_http_video_api_multipart_start, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_POST, "/api/upload/:id/parts",
      ngx_http_video_api_multipart_urls, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_GET, "/api/upload/:id/parts",
      ngx_http_video_api_multipart_upload, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_DELETE, "/api/upload/:id",
      ngx_http_video_api_multipart_upload, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { 0, NULL, NULL, 0, 0 }
};


typedef enum {
    MULTIPART_CLAIM = 0,
    MULTIPART_RECORD,
    MULTIPART_RECORDED,
    MULTIPART_CREATED,
    MULTIPART_FORGOTTEN,
    MULTIPART_SET,

    MULTIPART_LOOKUP,
    MULTIPART_FOUND,
    MULTIPART_LISTED,
    MULTIPART_ABORTED,
    MULTIPART_REMOVED,
    MULTIPART_DELETED
} ngx_http_video_api_multipart_step_e;

static const char *const  multipart_names[] = {
    "claim", "record", "recorded", "created", "forgotten", "set",
    "lookup", "found", "listed", "aborted", "removed", "deleted"
};

static ngx_int_t ngx_http_video_api_multipart_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  multipart_steps = {
    "upload multipart", ngx_http_video_api_multipart_step, multipart_names
};


/*
 * The upload recorded first, as a single PUT would be: the declared size
 * is held against the account's limits before storage is asked for
 * anything; storage's upload id and the parts are set once storage made
 * the upload.  A row left without them (storage refused, or this worker
 * died between the two) is swept as an abandoned single PUT.
 */

enum {
    START_ID = 0,
    START_KEY,
    START_SIZE,
    START_TYPE,
    START_EXPIRES,
    START_ACCOUNT,
    START_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  multipart_record_stmt =
    ngx_http_video_api_pg_scoped("multipart_record",
        "INSERT INTO uploads (video_id, key, size, content_type, expires_at,"
        " account_id)"
        " VALUES ($1, $2, $3::bigint, $4, to_timestamp($5::bigint), $6)"
        " RETURNING " NGX_HTTP_VIDEO_API_ISO("expires_at"),
        START_ACCOUNT + 1, 0);

static ngx_http_video_api_pg_stmt_t  multipart_set_stmt =
    ngx_http_video_api_pg_stmt("multipart_set",
        "UPDATE uploads SET upload_id = $2, part_size = $3::bigint,"
        " part_count = $4::integer"
        " WHERE video_id = $1 AND completed_at IS NULL AND upload_id IS NULL");

static ngx_http_video_api_pg_stmt_t  multipart_forget_stmt =
    ngx_http_video_api_pg_stmt("multipart_forget",
        "DELETE FROM uploads WHERE video_id = $1 AND completed_at IS NULL");

/* an upload not completed, removed by the one who may complete it */
static ngx_http_video_api_pg_stmt_t  multipart_delete_stmt =
    ngx_http_video_api_pg_scoped("multipart_delete",
        "DELETE FROM uploads WHERE video_id = $1 AND completed_at IS NULL"
        " AND video_writable(account_id, $2, $3)",
        2, 3);


typedef struct {
    ngx_str_t                    id;
    const char                  *type;

    ngx_http_video_api_upload_t  up;       /* the recorded upload */
    ngx_http_video_api_storage_t call;

    /* the parts asked for, or listed */
    uint32_t                     numbers[VIDEO_PARTS_BATCH_MAX];
    size_t                       nnumbers;
    json_t                      *parts;
    uint32_t                     marker;   /* ListParts' next page */
    char                         marker_text[NGX_INT32_LEN + 1];
    char                         page_size[NGX_INT32_LEN + 1];
    video_sigv4_param_t          params[3];

    char                        *values[START_NPARAMS];
    char                        *set[4];
} ngx_http_video_api_multipart_t;


static ngx_int_t ngx_http_video_api_multipart_page(
    ngx_http_video_api_run_t *run, ngx_http_video_api_multipart_t *m);


/* S3's rule, with room: at most 10,000 parts, each at least 8 MiB */

static void
ngx_http_video_api_multipart_split(off_t size, off_t *part_size,
    ngx_uint_t *count)
{
    off_t  ps;

    ps = (size + NGX_HTTP_VIDEO_API_PARTS_MAX - 1)
         / NGX_HTTP_VIDEO_API_PARTS_MAX;
    ps = (ps + 1024 * 1024 - 1) / (1024 * 1024) * (1024 * 1024);

    if (ps < NGX_HTTP_VIDEO_API_PART_MIN) {
        ps = NGX_HTTP_VIDEO_API_PART_MIN;
    }

    if (ps > size) {
        ps = size;
    }

    *part_size = ps;
    *count = (ngx_uint_t) ((size + ps - 1) / ps);
}


static off_t
ngx_http_video_api_part_size(off_t size, off_t part_size, ngx_uint_t count,
    ngx_uint_t number)
{
    return (number < count) ? part_size
                            : size - (off_t) (count - 1) * part_size;
}


/* a presigned PUT of part number of the upload, for the client */

json_t *
ngx_http_video_api_multipart_part(ngx_http_request_t *r,
    ngx_http_video_api_upload_t *up, ngx_uint_t number)
{
    int                                 rc;
    char                               *url, number_text[NGX_INT_T_LEN + 1];
    off_t                               size;
    const char                         *err;
    video_sigv4_bind_t                  bind;
    video_sigv4_param_t                 params[2];
    video_sigv4_creds_t                 creds;
    video_sigv4_presign_t               ps;
    ngx_http_video_api_main_conf_t     *mcf;
    ngx_http_video_api_storage_conf_t  *st;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
    st = &mcf->storage;

    url = ngx_pnalloc(r->pool, VIDEO_SIGV4_URL_MAX);
    if (url == NULL) {
        return NULL;
    }

    size = ngx_http_video_api_part_size(up->size, up->part_size,
                                        up->part_count, number);

    ngx_http_video_api_media_creds(st, &creds);

    ps.method = "PUT";
    ps.endpoint = (char *) st->public_endpoint.data;
    ps.bucket = (char *) st->bucket_raw.data;
    ps.key = (char *) up->key.data;
    ps.path_style = st->path_style ? 1 : 0;
    ps.now = (int64_t) ngx_time();
    ps.expires = (long) st->presign_expires;

    bind.content_length = (int64_t) size;
    bind.content_type = NULL;
    bind.if_none_match = NULL;

    ngx_sprintf((u_char *) number_text, "%ui%Z", number);

    params[0].name = "partNumber";
    params[0].value = number_text;
    params[1].name = "uploadId";
    params[1].value = (char *) up->upload_id.data;

    err = NULL;
    rc = video_sigv4_presign_query(&creds, &ps, &bind, params, 2, url,
                                   VIDEO_SIGV4_URL_MAX, &err);
    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: cannot presign a part: %s",
                      err ? err : "unknown error");
        return NULL;
    }

    return json_pack("{s:I, s:I, s:s}", "partNumber", (json_int_t) number,
                     "size", (json_int_t) size, "url", url);
}


/*
 * POST /api/upload/multipart: a new video id, the multipart upload in
 * storage, and the first URLs
 */

static ngx_int_t
ngx_http_video_api_multipart_start(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    u_char                             *p;
    json_t                             *details;
    ngx_int_t                           idem;
    video_presign_t                     in;
    ngx_http_video_api_multipart_t     *m;
    ngx_http_video_api_main_conf_t     *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (video_upload_parse(ctx->json,
                           mcf->storage_set ? (long long) mcf->storage.max_upload
                                            : VIDEO_UPLOAD_MAX_SIZE,
                           &in, &details)
        != 0)
    {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (!mcf->storage_set) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    idem = ngx_http_video_api_idem_init(r, ctx);
    if (idem != NGX_DECLINED) {
        return idem;
    }

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_multipart_t));
    if (m == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->id.data = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    m->up.key.data = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 16);
    p = ngx_pnalloc(r->pool, 2 * (NGX_INT64_LEN + 1));

    if (m->id.data == NULL || m->up.key.data == NULL || p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_id_generate((char *) m->id.data) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: getrandom() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->id.data[VIDEO_ID_LEN] = '\0';
    m->id.len = VIDEO_ID_LEN;

    m->up.key.len = ngx_sprintf(m->up.key.data, "%V/original.%s",
                                &m->id, video_upload_extensions[in.type])
                    - m->up.key.data;
    m->up.key.data[m->up.key.len] = '\0';

    m->type = video_upload_types[in.type];
    m->up.size = (off_t) in.file_size;

    ngx_http_video_api_multipart_split(m->up.size, &m->up.part_size,
                                       &m->up.part_count);

    m->values[START_ID] = (char *) m->id.data;
    m->values[START_KEY] = (char *) m->up.key.data;
    m->values[START_SIZE] = (char *) p;
    p = ngx_sprintf(p, "%O%Z", m->up.size);
    m->values[START_TYPE] = (char *) m->type;
    m->values[START_EXPIRES] = (char *) p;
    ngx_sprintf(p, "%T%Z", ngx_time() + mcf->storage.multipart_expires);

    ctx->data = m;

    return ngx_http_video_api_run(r, &multipart_steps, m, MULTIPART_CLAIM);
}


/* the answer to start and to a batch: the URLs of the parts asked for */

static json_t *
ngx_http_video_api_multipart_urls_json(ngx_http_request_t *r,
    ngx_http_video_api_upload_t *up, uint32_t *numbers, size_t n)
{
    size_t   i;
    json_t  *parts, *part;

    parts = json_array();
    if (parts == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        part = ngx_http_video_api_multipart_part(r, up, numbers[i]);

        if (part == NULL || json_array_append_new(parts, part) != 0) {
            json_decref(parts);
            return NULL;
        }
    }

    return parts;
}


static ngx_int_t
ngx_http_video_api_multipart_started(ngx_http_video_api_run_t *run,
    ngx_http_video_api_multipart_t *m)
{
    size_t                           i, n;
    json_t                          *parts;
    ngx_http_request_t              *r;
    ngx_http_video_api_main_conf_t  *mcf;

    r = run->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!ngx_http_video_api_run_ok(run)) {
        return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
    }

    n = ngx_min(m->up.part_count, NGX_HTTP_VIDEO_API_PARTS_FIRST);

    for (i = 0; i < n; i++) {
        m->numbers[i] = (uint32_t) i + 1;
    }

    parts = ngx_http_video_api_multipart_urls_json(r, &m->up, m->numbers, n);
    if (parts == NULL) {
        return ngx_http_video_api_idem_finish(run,
                                          NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_UPLOADS_PRESIGNED);

    return ngx_http_video_api_idem_finish(run,
               ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
               json_pack("{s:s, s:s, s:s%, s:I, s:I, s:I, s:I, s:s, s:o}",
                         "videoId", m->id.data,
                         "key", m->up.key.data,
                         "uploadId", m->up.upload_id.data,
                         m->up.upload_id.len,
                         "fileSize", (json_int_t) m->up.size,
                         "partSize", (json_int_t) m->up.part_size,
                         "partCount", (json_int_t) m->up.part_count,
                         "expiresIn",
                         (json_int_t) mcf->storage.presign_expires,
                         "expiresAt", m->up.expires_at,
                         "parts", parts)));
}


/* storage made the upload: its id, or what went wrong */

static ngx_int_t
ngx_http_video_api_multipart_created(ngx_http_video_api_run_t *run,
    ngx_http_video_api_multipart_t *m)
{
    int                       rc;
    char                     *buf;
    u_char                   *p;
    ngx_http_request_t       *r;
    video_s3xml_str_t         upload_id;
    video_s3xml_s3_error_t    err;

    r = run->request;

    rc = VIDEO_S3XML_MALFORMED;
    buf = NULL;

    if (m->call.status == NGX_HTTP_OK && m->call.body.len > 0) {
        buf = ngx_pnalloc(r->pool, m->call.body.len);
        if (buf == NULL) {
            return ngx_http_video_api_idem_finish(run,
                                          NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        rc = video_s3xml_parse_initiate((char *) m->call.body.data,
                                        m->call.body.len, buf, &upload_id,
                                        &err);
    }

    if (rc != VIDEO_S3XML_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: storage answered %ui to "
                      "CreateMultipartUpload of \"%s\"%s",
                      m->call.status, m->up.key.data,
                      rc == VIDEO_S3XML_S3_ERROR ? " with an error" : "");

        /* the upload's reservation goes: nothing was made */

        return ngx_http_video_api_run_query(run, MULTIPART_FORGOTTEN,
                                            &multipart_forget_stmt, 1,
                                            m->values);
    }

    m->up.upload_id.len = upload_id.len;
    m->up.upload_id.data = ngx_pnalloc(r->pool, upload_id.len + 1);
    p = ngx_pnalloc(r->pool, 2 * (NGX_OFF_T_LEN + 1));

    if (m->up.upload_id.data == NULL || p == NULL) {
        return ngx_http_video_api_idem_finish(run,
                                          NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    ngx_memcpy(m->up.upload_id.data, upload_id.data, upload_id.len);
    m->up.upload_id.data[upload_id.len] = '\0';

    m->set[0] = (char *) m->id.data;
    m->set[1] = (char *) m->up.upload_id.data;
    m->set[2] = (char *) p;
    p = ngx_sprintf(p, "%O%Z", m->up.part_size);
    m->set[3] = (char *) p;
    ngx_sprintf(p, "%ui%Z", m->up.part_count);

    return ngx_http_video_api_run_query(run, MULTIPART_SET,
                                        &multipart_set_stmt, 4, m->set);
}


/*
 * POST /api/upload/:id/parts: URLs for the parts asked for (a batch, or
 * again once the first ones expired)
 */

static ngx_int_t
ngx_http_video_api_multipart_by_id(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_http_video_api_multipart_t **mp)
{
    ngx_http_video_api_main_conf_t  *mcf;
    ngx_http_video_api_multipart_t  *m;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                   "Upload for video '%V' not found", &ctx->params[0]);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_multipart_t));
    if (m == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    m->id.len = ctx->params[0].len;
    m->id.data = ngx_pnalloc(r->pool, m->id.len + 1);
    if (m->id.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(m->id.data, ctx->params[0].data, m->id.len + 1);

    m->values[START_ID] = (char *) m->id.data;

    ctx->data = m;
    *mp = m;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_video_api_multipart_urls(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    /* the body's form first; its numbers are checked against the upload */

    if (!json_is_array(json_object_get(ctx->json, "partNumbers"))) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "VALIDATION_ERROR",
                   "partNumbers must be an array of 1 to 100 part numbers");
    }

    return ngx_http_video_api_multipart_upload(r, ctx);
}


/* GET parts, DELETE, and POST parts once its body is read: the upload */

static ngx_int_t
ngx_http_video_api_multipart_upload(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                        rc;
    ngx_http_video_api_multipart_t  *m;

    m = NULL;
    rc = ngx_http_video_api_multipart_by_id(r, ctx, &m);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_video_api_run(r, &multipart_steps, m, MULTIPART_LOOKUP);
}


static void
ngx_http_video_api_multipart_parts_free(void *data)
{
    json_decref(data);
}


/* the upload found: what each route does with it */

static ngx_int_t
ngx_http_video_api_multipart_found(ngx_http_video_api_run_t *run,
    ngx_http_video_api_multipart_t *m)
{
    json_t                            *details, *parts;
    ngx_int_t                          rc;
    ngx_pool_cleanup_t                *cln;
    ngx_http_request_t                *r;
    ngx_http_video_api_ctx_t          *ctx;
    ngx_http_video_api_main_conf_t    *mcf;

    r = run->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    rc = ngx_http_video_api_upload_found(run, &m->id, &m->up);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (m->up.completed) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                   "Upload for video '%V' is already completed", &m->id);
    }

    if (r->method == NGX_HTTP_DELETE) {
        if (m->up.upload_id.len == 0) {
            return ngx_http_video_api_storage_call(run, &m->call, "DELETE",
                       &mcf->storage.bucket_raw, (char *) m->up.key.data,
                       NULL, 0, NULL, MULTIPART_REMOVED);
        }

        m->params[0].name = "uploadId";
        m->params[0].value = (char *) m->up.upload_id.data;

        return ngx_http_video_api_storage_call(run, &m->call, "DELETE",
                   &mcf->storage.bucket_raw, (char *) m->up.key.data,
                   m->params, 1, NULL, MULTIPART_ABORTED);
    }

    if (m->up.upload_id.len == 0) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                   "Upload for video '%V' is a single PUT, not a multipart "
                   "upload", &m->id);
    }

    if (r->method == NGX_HTTP_GET) {

        /* the request's: released with its pool, whatever is answered */

        cln = ngx_pool_cleanup_add(r->pool, 0);
        m->parts = json_array();

        if (cln == NULL || m->parts == NULL) {
            json_decref(m->parts);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_video_api_multipart_parts_free;
        cln->data = m->parts;

        m->marker = 0;

        return ngx_http_video_api_multipart_page(run, m);
    }

    /* POST parts */

    if (video_part_numbers_parse(ctx->json, (uint32_t) m->up.part_count,
                                 m->numbers, &m->nnumbers, &details)
        != 0)
    {
        return ngx_http_video_api_send_invalid(r, details);
    }

    parts = ngx_http_video_api_multipart_urls_json(r, &m->up, m->numbers,
                                                   m->nnumbers);
    if (parts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}",
                         "videoId", m->id.data,
                         "uploadId", m->up.upload_id.data,
                         "partSize", (json_int_t) m->up.part_size,
                         "partCount", (json_int_t) m->up.part_count,
                         "expiresIn",
                         (json_int_t) mcf->storage.presign_expires,
                         "parts", parts));
}


/* GET parts: a page of ListParts from marker on */

static ngx_int_t
ngx_http_video_api_multipart_page(ngx_http_video_api_run_t *run,
    ngx_http_video_api_multipart_t *m)
{
    ngx_http_request_t              *r;
    ngx_http_video_api_main_conf_t  *mcf;

    r = run->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    ngx_sprintf((u_char *) m->page_size, "%d%Z", NGX_HTTP_VIDEO_API_LIST_PAGE);
    ngx_sprintf((u_char *) m->marker_text, "%uD%Z", m->marker);

    m->params[0].name = "max-parts";
    m->params[0].value = m->page_size;
    m->params[1].name = "part-number-marker";
    m->params[1].value = m->marker_text;
    m->params[2].name = "uploadId";
    m->params[2].value = (char *) m->up.upload_id.data;

    return ngx_http_video_api_storage_call(run, &m->call, "GET",
               &mcf->storage.bucket_raw, (char *) m->up.key.data, m->params,
               3, NULL, MULTIPART_LISTED);
}


static ngx_int_t
ngx_http_video_api_multipart_listed(ngx_http_video_api_run_t *run,
    ngx_http_video_api_multipart_t *m)
{
    int                        rc;
    char                      *buf, etag[VIDEO_S3XML_ETAG_MAX + 3];
    size_t                     i;
    json_t                    *part;
    ngx_http_request_t        *r;
    video_s3xml_s3_error_t     err;
    video_s3xml_parts_page_t   page;

    r = run->request;

    if (m->call.status == NGX_HTTP_NOT_FOUND) {

        /* aborted or completed in storage behind this upload's back */

        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                   "Upload for video '%V' is no longer open in storage",
                   &m->id);
    }

    rc = VIDEO_S3XML_MALFORMED;

    page.nalloc = NGX_HTTP_VIDEO_API_LIST_PAGE;
    page.parts = ngx_palloc(r->pool,
                            page.nalloc * sizeof(video_s3xml_part_t));
    buf = ngx_pnalloc(r->pool, m->call.body.len + 1);

    if (page.parts == NULL || buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (m->call.status == NGX_HTTP_OK && m->call.body.len > 0) {
        rc = video_s3xml_parse_list_parts((char *) m->call.body.data,
                                          m->call.body.len, buf, &page, &err);
    }

    if (rc != VIDEO_S3XML_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: storage answered %ui to ListParts of "
                      "\"%V\" (%uz bytes, %s)", m->call.status, &m->up.key,
                      m->call.body.len, video_s3xml_code(rc));
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    for (i = 0; i < page.nparts; i++) {
        ngx_sprintf((u_char *) etag, "\"%*s\"%Z", page.parts[i].etag_len,
                    page.parts[i].etag);

        part = json_pack("{s:I, s:I, s:s}",
                         "partNumber", (json_int_t) page.parts[i].number,
                         "size", (json_int_t) page.parts[i].size,
                         "etag", etag);

        if (part == NULL || json_array_append_new(m->parts, part) != 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (page.truncated && page.next_part_number_marker > m->marker
        && json_array_size(m->parts) < NGX_HTTP_VIDEO_API_PARTS_MAX)
    {
        m->marker = page.next_part_number_marker;
        return ngx_http_video_api_multipart_page(run, m);
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:O}",
                         "videoId", m->id.data,
                         "key", m->up.key.data,
                         "uploadId", m->up.upload_id.data,
                         "fileSize", (json_int_t) m->up.size,
                         "partSize", (json_int_t) m->up.part_size,
                         "partCount", (json_int_t) m->up.part_count,
                         "parts", m->parts));
}


/* DELETE: storage's upload aborted, the object removed, the row deleted */

static ngx_int_t
ngx_http_video_api_multipart_storage_gone(ngx_http_video_api_run_t *run,
    ngx_http_video_api_multipart_t *m, const char *what)
{
    if (m->call.status == NGX_HTTP_OK || m->call.status == NGX_HTTP_NO_CONTENT
        || m->call.status == NGX_HTTP_NOT_FOUND)
    {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_ERR, run->request->connection->log, 0,
                  "video_api: storage answered %ui to %s of \"%V\"",
                  m->call.status, what, &m->up.key);

    return ngx_http_video_api_send_unavailable(run->request, "Storage");
}


static ngx_int_t
ngx_http_video_api_multipart_step(ngx_http_video_api_run_t *run)
{
    ngx_int_t                        rc;
    ngx_str_t                        empty;
    PGresult                        *res;
    ngx_http_request_t              *r;
    ngx_http_video_api_main_conf_t  *mcf;
    ngx_http_video_api_multipart_t  *m;

    m = run->data;
    r = run->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    switch (run->step) {

    case MULTIPART_CLAIM:
        return ngx_http_video_api_idem_claim(run, MULTIPART_RECORD);

    case MULTIPART_RECORD:
        return ngx_http_video_api_run_query(run, MULTIPART_RECORDED,
                                            &multipart_record_stmt,
                                            START_NPARAMS, m->values);

    case MULTIPART_RECORDED:
        res = run->res;

        if (!ngx_http_video_api_run_ok(run) || PQntuples(res) != 1) {
            return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
        }

        m->up.expires_at = ngx_pnalloc(r->pool,
                                       PQgetlength(res, 0, 0) + 1);
        if (m->up.expires_at == NULL) {
            return ngx_http_video_api_idem_finish(run,
                                          NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        ngx_cpystrn((u_char *) m->up.expires_at,
                    (u_char *) PQgetvalue(res, 0, 0),
                    PQgetlength(res, 0, 0) + 1);

        ngx_str_set(&empty, "");

        m->params[0].name = "uploads";
        m->params[0].value = "";

        return ngx_http_video_api_storage_call(run, &m->call, "POST",
                   &mcf->storage.bucket_raw, (char *) m->up.key.data,
                   m->params, 1, &empty,
                   MULTIPART_CREATED);

    case MULTIPART_CREATED:
        return ngx_http_video_api_multipart_created(run, m);

    case MULTIPART_FORGOTTEN:
        return ngx_http_video_api_idem_finish(run,
                   ngx_http_video_api_send_unavailable(r, "Storage"));

    case MULTIPART_SET:
        if (!ngx_http_video_api_run_ok(run)
            || ngx_atoi((u_char *) PQcmdTuples(run->res),
                        ngx_strlen(PQcmdTuples(run->res)))
               != 1)
        {
            return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
        }

        return ngx_http_video_api_multipart_started(run, m);

    case MULTIPART_LOOKUP:
        return ngx_http_video_api_upload_lookup(run, &m->id, MULTIPART_FOUND);

    case MULTIPART_FOUND:
        rc = ngx_http_video_api_multipart_found(run, m);
        return rc;

    case MULTIPART_LISTED:
        return ngx_http_video_api_multipart_listed(run, m);

    case MULTIPART_ABORTED:
        rc = ngx_http_video_api_multipart_storage_gone(run, m,
                                                "AbortMultipartUpload");
        if (rc != NGX_DECLINED) {
            return rc;
        }

        /* completed in storage by a complete still under way: its object */

        return ngx_http_video_api_storage_call(run, &m->call, "DELETE",
                   &mcf->storage.bucket_raw, (char *) m->up.key.data, NULL,
                   0, NULL, MULTIPART_REMOVED);

    case MULTIPART_REMOVED:
        rc = ngx_http_video_api_multipart_storage_gone(run, m,
                                                       "DeleteObject");
        if (rc != NGX_DECLINED) {
            return rc;
        }

        return ngx_http_video_api_run_query(run, MULTIPART_DELETED,
                                            &multipart_delete_stmt, 3,
                                            m->values);

    default: /* MULTIPART_DELETED */
        if (!ngx_http_video_api_run_ok(run)) {
            return ngx_http_video_api_run_failed(run);
        }

        if (ngx_atoi((u_char *) PQcmdTuples(run->res),
                     ngx_strlen(PQcmdTuples(run->res)))
            != 1)
        {
            return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT, NULL,
                       "Upload for video '%V' was completed meanwhile",
                       &m->id);
        }

        return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                   json_pack("{s:s, s:s}", "videoId", m->id.data,
                             "message", "Upload aborted"));
    }
}
