/*
 * /api/webhooks: an account's signed webhook endpoints (this area's
 * shared parts: the request state and the one statement each route
 * runs; the endpoints in ngx_http_video_api_webhooks.c, the deliveries
 * log, redelivery and the events feed in
 * ngx_http_video_api_webhooks_deliveries.c).
 */

#ifndef _NGX_HTTP_VIDEO_API_WEBHOOKS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_WEBHOOKS_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "ngx_http_video_api_run.h"
#include "video_webhook.h"


/* the most parameters a statement here takes: webhooks_create */
#define NGX_HTTP_VIDEO_API_WEBHOOKS_VALUES  9


/* what a route's statement answers, and so how its rows are shown */
typedef enum {
    WEBHOOKS_CREATE = 0,
    WEBHOOKS_LIST,
    WEBHOOKS_ENDPOINT,       /* get, patch */
    WEBHOOKS_DELETE,
    WEBHOOKS_ROTATE,
    WEBHOOKS_TEST,
    WEBHOOKS_DELIVERIES,
    WEBHOOKS_REDELIVER,
    WEBHOOKS_EVENTS
} ngx_http_video_api_webhooks_kind_e;


typedef struct {
    ngx_http_video_api_webhooks_kind_e  kind;
    ngx_str_t                           id;        /* the endpoint's */
    ngx_str_t                           cursor;    /* the feed's, given */
    ngx_uint_t                          limit;
    ngx_http_video_api_pg_stmt_t       *stmt;
    int                                 nvalues;
    char                  *values[NGX_HTTP_VIDEO_API_WEBHOOKS_VALUES];
    char                                secret[VIDEO_WEBHOOK_SECRET_LEN + 1];
} ngx_http_video_api_webhooks_ctx_t;


/* an endpoint as the API shows it: never a secret */
#define WEBHOOK_ENDPOINT_JSON(e)                                              \
    "json_build_object('id', " e ".id, 'url', " e ".url,"                   \
    " 'description', " e ".description,"                                      \
    " 'eventTypes', " e ".event_types, 'enabled', " e ".enabled,"           \
    " 'disabledReason', " e ".disabled_reason,"                               \
    " 'disabledAt', api_time(" e ".disabled_at),"                             \
    " 'failedDeliveries', " e ".failed_deliveries,"                           \
    " 'previousSecretExpiresAt', api_time(" e ".previous_expires_at),"        \
    " 'createdAt', api_time(" e ".created_at),"                               \
    " 'updatedAt', api_time(" e ".updated_at))"


/*
 * ngx_http_video_api_webhooks.c: the request state of a route on the
 * endpoint of its path (NULL: a 404 was sent, *rc says what to return);
 * a 400 for one query argument; the route's one statement, run
 */
ngx_http_video_api_webhooks_ctx_t *ngx_http_video_api_webhooks_ctx(
    ngx_http_request_t *r, ngx_http_video_api_ctx_t *ctx,
    ngx_http_video_api_webhooks_kind_e kind, ngx_int_t *rc);
ngx_int_t ngx_http_video_api_webhooks_invalid(ngx_http_request_t *r,
    const char *path, const char *message);
ngx_int_t ngx_http_video_api_webhooks_query(ngx_http_request_t *r,
    ngx_http_video_api_webhooks_ctx_t *w, ngx_http_video_api_pg_stmt_t *stmt,
    int n);
ngx_int_t ngx_http_video_api_webhooks_not_found(ngx_http_request_t *r,
    ngx_str_t *id);

/* ngx_http_video_api_webhooks_deliveries.c */
ngx_int_t ngx_http_video_api_webhooks_deliveries(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
ngx_int_t ngx_http_video_api_webhooks_redeliver(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
ngx_int_t ngx_http_video_api_webhooks_events(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
/* the rows of those routes as their answers */
ngx_int_t ngx_http_video_api_webhooks_log_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w);


#endif /* _NGX_HTTP_VIDEO_API_WEBHOOKS_H_INCLUDED_ */
