/*
 * POST /api/upload/url: upload from a URL.  The body names a source URL
 * (http or https); the video is created PENDING and PRIVATE in the
 * caller's account, with its transcode job, in one statement, and a
 * transcoder fetches the source into storage as the original (through
 * workers/worker_fetch.c: public addresses only, or the operator's
 * allow-list, with size and time limits), then transcodes it.  A URL
 * that is malformed, not http(s), or names a literal address that is not
 * public is refused here; a name is judged by the worker on the address
 * it connects to, and a refused fetch makes the video FAILED with the
 * reason.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_idem.h"
#include "ngx_http_video_api_run.h"
#include "video_id.h"
#include "video_upload_url.h"


static ngx_int_t ngx_http_video_api_upload_url(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


typedef enum {
    UPLOAD_URL_CLAIM = 0,
    UPLOAD_URL_CREATE,
    UPLOAD_URL_CREATED
} ngx_http_video_api_upload_url_step_e;

static const char *const  upload_url_names[] = {
    "claim", "create", "created"
};

static ngx_int_t ngx_http_video_api_upload_url_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  upload_url_steps = {
    "upload url", ngx_http_video_api_upload_url_step, upload_url_names
};


enum {
    URL_ID = 0,
    URL_TITLE,
    URL_DESCRIPTION,
    URL_KEY,
    URL_SOURCE,
    URL_PLAY_BASE,
    URL_ACCOUNT,
    URL_NPARAMS
};

/*
 * The video and its job in one statement, so in one transaction: the
 * caller's account, checked against its video quota (conf/sql/
 * 0014_source_url.sql: a video with a source URL is checked when
 * inserted, as nothing was reserved for it)
 */
static ngx_http_video_api_pg_stmt_t  upload_url_stmt =
    ngx_http_video_api_pg_scoped("upload_url",
        "WITH v AS ("
        " INSERT INTO videos AS nv (id, account_id, title, description,"
        "  original_key, source_url)"
        " VALUES ($1, $7, $2, $3, $4, $5)"
        " RETURNING nv.id, nv.original_key, nv.source_url,"
        "  video_json(nv, $6, $6)::text AS json),"
        " job AS ("
        " INSERT INTO outbox (topic, payload)"
        " SELECT 'video-transcode', json_build_object('type', 'transcode',"
        "  'videoId', v.id, 'inputKey', v.original_key,"
        "  'sourceUrl', v.source_url)"
        " FROM v RETURNING id)"
        " SELECT v.json FROM v",
        URL_ACCOUNT + 1, 0);


typedef struct {
    ngx_str_t                    id;
    char                        *values[URL_NPARAMS];
} ngx_http_video_api_upload_url_ctx_t;


ngx_http_video_api_route_t  ngx_http_video_api_upload_url_routes[] = {
    { NGX_HTTP_POST, "/api/upload/url",
      ngx_http_video_api_upload_url, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { 0, NULL, NULL, 0, 0 }
};


static ngx_int_t
ngx_http_video_api_upload_url(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    size_t                                len;
    u_char                               *p;
    json_t                               *details;
    ngx_int_t                             idem;
    video_upload_url_t                   *in;
    ngx_http_video_api_main_conf_t       *mcf;
    ngx_http_video_api_upload_url_ctx_t  *u;

    in = ngx_palloc(r->pool, sizeof(video_upload_url_t));
    u = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_upload_url_ctx_t));

    if (in == NULL || u == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_upload_url_parse(ctx->json, in, &details) != 0) {
        if (details == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_send_invalid(r, details);
    }

    idem = ngx_http_video_api_idem_init(r, ctx);
    if (idem != NGX_DECLINED) {
        return idem;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    u->id.data = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    p = ngx_pnalloc(r->pool, VIDEO_ID_LEN + sizeof("/original"));
    len = ngx_strlen(in->url.url);
    u->values[URL_SOURCE] = ngx_pnalloc(r->pool, len + 1);

    if (u->id.data == NULL || p == NULL || u->values[URL_SOURCE] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_id_generate((char *) u->id.data) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "video_api: getrandom() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->id.data[VIDEO_ID_LEN] = '\0';
    u->id.len = VIDEO_ID_LEN;

    /* the container is not known before the fetch: no extension */

    ngx_sprintf(p, "%V/original%Z", &u->id);

    /* the normal form: what the worker fetches is what was judged */

    ngx_memcpy(u->values[URL_SOURCE], in->url.url, len + 1);

    u->values[URL_ID] = (char *) u->id.data;
    u->values[URL_TITLE] = in->title ? (char *) json_string_value(in->title)
                                     : "Untitled Video";
    u->values[URL_DESCRIPTION] = (in->description
                                  && json_is_string(in->description))
                                 ? (char *) json_string_value(in->description)
                                 : NULL;
    u->values[URL_KEY] = (char *) p;
    u->values[URL_PLAY_BASE] = (char *) mcf->play.base.data;

    ctx->data = u;

    return ngx_http_video_api_run(r, &upload_url_steps, u, UPLOAD_URL_CLAIM);
}


static ngx_int_t
ngx_http_video_api_upload_url_step(ngx_http_video_api_run_t *run)
{
    size_t                                len;
    u_char                               *json;
    time_t                                expires;
    ngx_http_request_t                   *r;
    ngx_http_video_api_upload_url_ctx_t  *u;

    u = run->data;
    r = run->request;

    if (run->step == UPLOAD_URL_CLAIM) {

        /* an Idempotency-Key: claimed in the transaction that creates */

        return ngx_http_video_api_idem_claim(run, UPLOAD_URL_CREATE);
    }

    if (run->step == UPLOAD_URL_CREATE) {
        return ngx_http_video_api_run_query(run, UPLOAD_URL_CREATED,
                                            &upload_url_stmt, URL_NPARAMS,
                                            u->values);
    }

    if (!ngx_http_video_api_run_ok(run) || PQntuples(run->res) != 1) {

        /* an account limit among them: nothing was created */

        return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
    }

    ngx_http_video_api_cache_lists_changed(r);
    ngx_http_video_api_cache_video_id(r, &u->id, 1);

    json = (u_char *) PQgetvalue(run->res, 0, 0);
    len = PQgetlength(run->res, 0, 0);

    if (ngx_http_video_api_media_sign(r, &json, &len, &expires) != NGX_OK) {
        return ngx_http_video_api_idem_finish(run,
                                              NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    return ngx_http_video_api_idem_finish(run,
               ngx_http_video_api_send_wrapped(r, NGX_HTTP_CREATED,
                                               "{\"video\":", json, len,
                                               "}"));
}
