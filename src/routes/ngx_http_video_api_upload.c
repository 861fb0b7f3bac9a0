/*
 * /api/upload: direct uploads.  The browser gets a presigned PUT URL for
 * the raw bucket and sends the file straight to storage, never through
 * the API; completing the upload queues the transcode.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_response.h"
#include "video_id.h"
#include "video_sigv4.h"
#include "video_validate.h"


static ngx_int_t ngx_http_video_api_upload_presign(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_upload_routes[] = {
    { NGX_HTTP_POST, "/api/upload/presign",
      ngx_http_video_api_upload_presign, NGX_HTTP_VIDEO_API_BODY_JSON },
    { NGX_HTTP_POST, "/api/upload/:id/complete",
      ngx_http_video_api_not_implemented, NGX_HTTP_VIDEO_API_BODY_JSON },
    { 0, NULL, NULL, 0 }
};


/*
 * POST /api/upload/presign: a new video id and where to PUT the file.
 * Nothing is stored yet; the video exists once the upload is completed.
 */

static ngx_int_t
ngx_http_video_api_upload_presign(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    int                                 rc;
    u_char                             *url;
    json_t                             *details;
    const char                         *err;
    video_presign_t                     in;
    video_sigv4_creds_t                 creds;
    video_sigv4_presign_t               ps;
    ngx_http_video_api_main_conf_t     *mcf;
    ngx_http_video_api_storage_conf_t  *st;
    char                                id[VIDEO_ID_LEN + 1];
    char                                key[VIDEO_ID_LEN + 16];

    if (video_presign_parse(ctx->json, &in, &details) != 0) {
        if (details == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_send_invalid(r, details);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->storage_set) {
        return ngx_http_video_api_send_unavailable(r, "Storage");
    }

    st = &mcf->storage;

    if (video_id_generate(id) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: getrandom() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id[VIDEO_ID_LEN] = '\0';

    ngx_sprintf((u_char *) key, "%s/original.%s%Z", id,
                video_upload_extensions[in.type]);

    url = ngx_pnalloc(r->pool, VIDEO_SIGV4_URL_MAX);
    if (url == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    creds.access_key = (char *) st->access_key.data;
    creds.secret_key = (char *) st->secret_key.data;
    creds.region = (char *) st->region.data;
    creds.service = "s3";

    ps.method = "PUT";
    ps.endpoint = (char *) st->endpoint.data;
    ps.bucket = (char *) st->bucket_raw.data;
    ps.key = key;
    ps.path_style = st->path_style ? 1 : 0;
    ps.now = (int64_t) ngx_time();
    ps.expires = (long) st->presign_expires;

    err = NULL;
    rc = video_sigv4_presign(&creds, &ps, (char *) url, VIDEO_SIGV4_URL_MAX,
                             &err);

    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: cannot presign an upload: %s",
                      err ? err : "unknown error");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_CREATED,
               json_pack("{s:s, s:s, s:s, s:I}",
                         "videoId", id,
                         "uploadUrl", (char *) url,
                         "key", key,
                         "expiresIn", (json_int_t) st->presign_expires));
}
