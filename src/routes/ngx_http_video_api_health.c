/*
 * GET /health: liveness for load balancers and operators.  Frontends read
 * "status" and "timestamp" at the top level, outside the envelope.  Each
 * configured dependency gets a real round trip on the worker's existing
 * connection (SELECT 1, PING), both at once; one down makes it a 503.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_run.h"
#include "video_time.h"


static ngx_int_t ngx_http_video_api_health(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_health_routes[] = {
    { NGX_HTTP_GET, "/health",
      ngx_http_video_api_health, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


typedef enum {
    HEALTH_ASK = 0,
    HEALTH_PG,
    HEALTH_REDIS
} ngx_http_video_api_health_step_e;

static const char *const  health_names[] = { "ask", "postgresql", "redis" };

static ngx_int_t ngx_http_video_api_health_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  health_steps = {
    "health", ngx_http_video_api_health_step, health_names
};


static ngx_http_video_api_pg_stmt_t  health_stmt =
    ngx_http_video_api_pg_stmt("health", "SELECT 1");


typedef struct {
    const char                  *postgres;
    const char                  *redis;
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


static ngx_int_t
ngx_http_video_api_health(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_health_t     *h;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    h = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_health_t));
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* what a check that cannot be sent, or gets no answer, leaves */

    h->postgres = mcf->pg_set ? "down" : "unconfigured";
    h->redis = mcf->redis_set ? "down" : "unconfigured";

    return ngx_http_video_api_run(r, &health_steps, h, HEALTH_ASK);
}


/*
 * Both checks at once: each answer is noted as it comes (one that could
 * not be sent comes at once, empty), and the last one answers
 */

static ngx_int_t
ngx_http_video_api_health_step(ngx_http_video_api_run_t *run)
{
    ngx_int_t                        rc;
    const char                      *argv[1];
    size_t                           argvlen[1];
    ngx_http_request_t              *r;
    ngx_http_video_api_health_t     *h;
    ngx_http_video_api_main_conf_t  *mcf;

    r = run->request;
    h = run->data;

    switch (run->step) {

    case HEALTH_ASK:
        mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
        rc = NGX_DONE;

        if (mcf->pg_set) {
            rc = ngx_http_video_api_run_query(run, HEALTH_PG, &health_stmt, 0,
                                              NULL);
        }

        if (rc == NGX_DONE && mcf->redis_set) {
            argv[0] = "PING";
            argvlen[0] = 4;

            rc = ngx_http_video_api_run_command(run, HEALTH_REDIS, 1, argv,
                                                argvlen);
        }

        if (rc != NGX_DONE) {
            return rc;
        }

        break;

    case HEALTH_PG:
        h->postgres = ngx_http_video_api_run_ok(run) ? "up" : "down";

        if (run->res != NULL && !ngx_http_video_api_run_ok(run)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "video_api: health check statement failed: %s",
                          PQresultErrorMessage(run->res));
        }

        break;

    default: /* HEALTH_REDIS */
        h->redis = (run->reply != NULL
                    && run->reply->type == REDIS_REPLY_STATUS)
                   ? "up" : "down";
        break;
    }

    if (run->pending > 0) {
        return NGX_DONE;
    }

    return ngx_http_video_api_health_send(r, h);
}
