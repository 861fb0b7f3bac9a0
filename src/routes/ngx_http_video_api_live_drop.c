/*
 * Dropping a stream's publisher, for the stop and key rotation routes.
 *
 * nginx-rtmp's control interface drops the stream's publisher when it is
 * connected to this nginx worker, through a subrequest to an internal
 * location (conf/nginx.conf).  It sees no other worker's sessions, so the
 * publisher's connection number (nginx numbers connections across
 * workers; verify stored it) also goes out on Redis: every worker's
 * subscriber connection hears it and the worker that holds the
 * connection shuts it down (pubsub.c), which nginx-rtmp takes for the
 * publisher leaving.  The route answers once the subrequest is done.
 */

#include "ngx_http_video_api_live.h"
#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_response.h"


/* what nginx-rtmp's control interface is reached by (conf/nginx.conf) */
#define NGX_HTTP_VIDEO_API_LIVE_DROP  "/_video_api/rtmp/drop/publisher"


static ngx_int_t ngx_http_video_api_live_dropped(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_video_api_live_drop_resume(ngx_http_request_t *r);


ngx_int_t
ngx_http_video_api_live_drop(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res)
{
    size_t                        argvlen[3];
    const char                   *argv[3];
    ngx_str_t                     uri, args;
    ngx_http_request_t           *sr;
    ngx_http_video_api_ctx_t     *ctx;
    ngx_http_post_subrequest_t   *psr;

    /* every worker drops the publisher's connection if it has it */

    if (!PQgetisnull(res, 0, LIVE_COL_CLIENT)) {
        argv[0] = "PUBLISH";
        argvlen[0] = sizeof("PUBLISH") - 1;
        argv[1] = NGX_HTTP_VIDEO_API_PUBSUB_DROP;
        argvlen[1] = sizeof(NGX_HTTP_VIDEO_API_PUBSUB_DROP) - 1;
        argv[2] = PQgetvalue(res, 0, LIVE_COL_CLIENT);
        argvlen[2] = PQgetlength(res, 0, LIVE_COL_CLIENT);

        (void) ngx_http_video_api_redis_command(r,
                   ngx_http_video_api_redis_ignore, NULL, 3, argv, argvlen);
    }

    ngx_str_set(&uri, NGX_HTTP_VIDEO_API_LIVE_DROP);

    args.len = sizeof("name=") - 1 + lctx->id.len;
    args.data = ngx_pnalloc(r->pool, args.len);
    psr = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));

    if (args.data == NULL || psr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(args.data, "name=%V", &lctx->id);

    psr->handler = ngx_http_video_api_live_dropped;
    psr->data = lctx;

    if (ngx_http_subrequest(r, &uri, &args, &sr, psr,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    ctx->data = lctx;

    r->write_event_handler = ngx_http_video_api_live_drop_resume;

    return ngx_http_video_api_run_park(lctx->run, LIVE_DROPPED);
}


static ngx_int_t
ngx_http_video_api_live_dropped(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_video_api_live_ctx_t  *lctx = data;

    lctx->drop_done = 1;
    lctx->drop_status = sr->headers_out.status ? sr->headers_out.status
                                               : (ngx_uint_t) rc;

    return rc;
}


static void
ngx_http_video_api_live_drop_resume(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_video_api_live_ctx_t  *lctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    lctx = ctx->data;

    if (!lctx->drop_done) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_video_api_run_wake(lctx->run);
}


ngx_int_t
ngx_http_video_api_live_drop_answer(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx)
{
    ngx_int_t  rc;

    if (lctx->drop_status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "video_api: nginx-rtmp's control location \""
                      NGX_HTTP_VIDEO_API_LIVE_DROP "\" answered %ui for "
                      "\"%V\"; its publisher is dropped through Redis",
                      lctx->drop_status, &lctx->id);
    }

    if (lctx->rotated) {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                 json_pack("{s:s,s:s}", "videoId", (char *) lctx->id.data,
                           "streamKey", (char *) lctx->key));

    } else {
        rc = ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                 json_pack("{s:s,s:s%}",
                           "message", "Stream stopped successfully",
                           "status", (char *) lctx->status.data,
                           lctx->status.len));
    }

    return rc;
}
