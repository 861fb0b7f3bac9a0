/*
 * GET /health: liveness for load balancers and operators.  Frontends read
 * "status" and "timestamp" at the top level, outside the envelope.  Each
 * configured dependency gets a real round trip on the worker's existing
 * connection (SELECT 1, PING), both at once; one down makes it a 503.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_redis.h"
#include "video_time.h"


static ngx_int_t ngx_http_video_api_health(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_health_routes[] = {
    { NGX_HTTP_GET, "/health",
      ngx_http_video_api_health, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


static ngx_http_video_api_pg_stmt_t  health_stmt =
    ngx_http_video_api_pg_stmt("health", "SELECT 1");


typedef struct {
    const char                  *postgres;
    const char                  *redis;
    ngx_uint_t                   pending;
} ngx_http_video_api_health_t;


static ngx_int_t
ngx_http_video_api_health_send(ngx_http_request_t *r,
    ngx_http_video_api_health_t *h)
{
    ngx_uint_t   up;
    ngx_time_t  *tp;
    char         now[VIDEO_TIME_ISO_LEN + 1];

    tp = ngx_timeofday();
    video_time_iso8601(now, (int64_t) tp->sec * 1000 + tp->msec);

    up = ngx_strcmp(h->postgres, "down") != 0
         && ngx_strcmp(h->redis, "down") != 0;

    return ngx_http_video_api_send_json(r,
               up ? NGX_HTTP_OK : NGX_HTTP_SERVICE_UNAVAILABLE,
               json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}",
                         "status", up ? "ok" : "unavailable",
                         "timestamp", now,
                         "version", NGX_HTTP_VIDEO_API_VERSION,
                         "dependencies",
                         "postgres", h->postgres,
                         "redis", h->redis));
}


static void
ngx_http_video_api_health_done(ngx_http_request_t *r,
    ngx_http_video_api_health_t *h)
{
    if (--h->pending == 0) {
        ngx_http_finalize_request(r, ngx_http_video_api_health_send(r, h));
    }
}


static void
ngx_http_video_api_health_pg(ngx_http_video_api_pg_op_t *op, PGresult *res)
{
    ngx_http_video_api_health_t  *h = op->data;

    h->postgres = (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
                  ? "up" : "down";

    if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK) {
        ngx_log_error(NGX_LOG_ERR, op->request->connection->log, 0,
                      "video_api: health check statement failed: %s",
                      PQresultErrorMessage(res));
    }

    ngx_http_video_api_health_done(op->request, h);
}


static void
ngx_http_video_api_health_redis(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_health_t  *h = data;

    h->redis = (reply != NULL && reply->type == REDIS_REPLY_STATUS)
               ? "up" : "down";

    ngx_http_video_api_health_done(r, h);
}


static ngx_int_t
ngx_http_video_api_health(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    const char                      *argv[1];
    size_t                           argvlen[1];
    ngx_http_video_api_pg_op_t      *op;
    ngx_http_video_api_health_t     *h;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    h = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_health_t));
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->postgres = mcf->pg_set ? "down" : "unconfigured";
    h->redis = mcf->redis_set ? "down" : "unconfigured";

    /* the pending count holds the request until both checks are back */

    h->pending = 1;

    if (mcf->pg_set) {
        op = ngx_http_video_api_pg_op(r, ngx_http_video_api_health_pg, h);
        if (op == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->pending++;

        if (ngx_http_video_api_pg_send(op, &health_stmt, 0, NULL) != NGX_OK) {
            h->pending--;
        }
    }

    if (mcf->redis_set) {
        argv[0] = "PING";
        argvlen[0] = 4;

        h->pending++;

        if (ngx_http_video_api_redis_command(r,
                ngx_http_video_api_health_redis, h, 1, argv, argvlen)
            != NGX_OK)
        {
            h->pending--;
        }
    }

    if (--h->pending == 0) {
        return ngx_http_video_api_health_send(r, h);
    }

    r->main->count++;

    return NGX_DONE;
}
