/*
 * /api/webhooks: an account's signed webhook endpoints (README
 * "Webhooks"), for its editors and admins: made, listed, changed,
 * deleted, their secrets rotated, a test event sent (this file, with the
 * area's table and the one-statement run every route here uses); the
 * deliveries log, redelivery and the events feed are in
 * ngx_http_video_api_webhooks_deliveries.c.  Every statement is scoped
 * by the caller's account where its rows are chosen, so another account's
 * endpoint answers exactly like one that does not exist.  A secret is
 * shown in the answer that makes it and nowhere else: the table holds it
 * sealed under the installation's webhook key (video_api_webhooks).
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_webhooks.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_idem.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_validate.h"
#include "video_webhook_body.h"


static ngx_int_t ngx_http_video_api_webhooks_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_webhooks_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_webhooks_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_webhooks_update(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_webhooks_delete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_webhooks_rotate(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_webhooks_test(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_webhooks_routes[] = {
    { NGX_HTTP_POST, "/api/webhooks",
      ngx_http_video_api_webhooks_create, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_GET, "/api/webhooks",
      ngx_http_video_api_webhooks_list, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    /* before /api/webhooks/:id, which "events" would match */
    { NGX_HTTP_GET, "/api/webhooks/events",
      ngx_http_video_api_webhooks_events, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_GET, "/api/webhooks/:id",
      ngx_http_video_api_webhooks_get, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_PATCH, "/api/webhooks/:id",
      ngx_http_video_api_webhooks_update, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_DELETE, "/api/webhooks/:id",
      ngx_http_video_api_webhooks_delete, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_POST, "/api/webhooks/:id/rotate",
      ngx_http_video_api_webhooks_rotate, NGX_HTTP_VIDEO_API_BODY_JSON_OPT,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_POST, "/api/webhooks/:id/test",
      ngx_http_video_api_webhooks_test, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_GET, "/api/webhooks/:id/deliveries",
      ngx_http_video_api_webhooks_deliveries, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { NGX_HTTP_POST, "/api/webhooks/:id/redeliver",
      ngx_http_video_api_webhooks_redeliver, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_ACCESS_EDITOR },
    { 0, NULL, NULL, 0, 0 }
};


enum {
    CREATE_ID = 0,
    CREATE_URL,
    CREATE_DESCRIPTION,         /* NULL: '' */
    CREATE_TYPES,               /* a text[] literal, NULL: all */
    CREATE_ENABLED,             /* NULL: true */
    CREATE_SEALED,
    CREATE_MAX,                 /* the account's endpoints, at most */
    CREATE_BY,                  /* the caller's key id, NULL: none */
    CREATE_ACCOUNT,
    CREATE_NPARAMS
};

/*
 * The endpoint, NULL when the account has max_endpoints already, and how
 * many it had.  Two creations at the
 * same moment may both see one place left: the bound is for an account's
 * own callers, not a lock
 */
static ngx_http_video_api_pg_stmt_t  webhooks_create_stmt =
    ngx_http_video_api_pg_scoped("webhooks_create",
        "WITH n AS (SELECT count(*) AS c FROM webhook_endpoints"
        "  WHERE account_id = $9::text),"
        " e AS (INSERT INTO webhook_endpoints (id, account_id, url,"
        "  description, event_types, enabled, secret_sealed, created_by)"
        " SELECT $1::text, $9::text, $2::text, COALESCE($3::text, ''),"
        "  COALESCE($4::text[], '{}'), COALESCE($5::boolean, true),"
        "  $6::text, $8::text FROM n WHERE n.c < $7::int RETURNING *)"
        " SELECT (SELECT " WEBHOOK_ENDPOINT_JSON("e") "::text FROM e), n.c"
        " FROM n",
        CREATE_ACCOUNT + 1, 0);

static ngx_http_video_api_pg_stmt_t  webhooks_list_stmt =
    ngx_http_video_api_pg_scoped("webhooks_list",
        "SELECT COALESCE(json_agg(" WEBHOOK_ENDPOINT_JSON("e")
        "  ORDER BY e.created_at DESC, e.id DESC), '[]')::text, count(*)"
        " FROM webhook_endpoints e WHERE e.account_id = $1::text",
        1, 0);

static ngx_http_video_api_pg_stmt_t  webhooks_get_stmt =
    ngx_http_video_api_pg_scoped("webhooks_get",
        "SELECT " WEBHOOK_ENDPOINT_JSON("e") "::text"
        " FROM webhook_endpoints e"
        " WHERE e.id = $1::text AND e.account_id = $2::text",
        2, 0);

enum {
    UPDATE_ID = 0,
    UPDATE_URL,                 /* NULL: unchanged, and so on */
    UPDATE_DESCRIPTION,
    UPDATE_TYPES,
    UPDATE_ENABLED,
    UPDATE_ACCOUNT,
    UPDATE_NPARAMS
};

/*
 * Enabled by its caller, an endpoint starts afresh: no failures counted,
 * no reason; disabled by its caller, it has no reason either (the
 * delivery worker gives one when it disables)
 */
static ngx_http_video_api_pg_stmt_t  webhooks_update_stmt =
    ngx_http_video_api_pg_scoped("webhooks_update",
        "UPDATE webhook_endpoints e SET url = COALESCE($2::text, e.url),"
        " description = COALESCE($3::text, e.description),"
        " event_types = COALESCE($4::text[], e.event_types),"
        " enabled = COALESCE($5::boolean, e.enabled),"
        " failed_deliveries = CASE WHEN $5::boolean THEN 0"
        "  ELSE e.failed_deliveries END,"
        " disabled_reason = CASE WHEN $5::boolean IS NULL"
        "  THEN e.disabled_reason END,"
        " disabled_at = CASE WHEN $5::boolean IS NULL THEN e.disabled_at"
        "  WHEN NOT $5::boolean THEN COALESCE(e.disabled_at, now()) END,"
        " updated_at = now()"
        " WHERE e.id = $1::text AND e.account_id = $6::text"
        " RETURNING " WEBHOOK_ENDPOINT_JSON("e") "::text",
        UPDATE_ACCOUNT + 1, 0);

static ngx_http_video_api_pg_stmt_t  webhooks_delete_stmt =
    ngx_http_video_api_pg_scoped("webhooks_delete",
        "DELETE FROM webhook_endpoints e"
        " WHERE e.id = $1::text AND e.account_id = $2::text RETURNING e.id",
        2, 0);

enum {
    ROTATE_ID = 0,
    ROTATE_SEALED,
    ROTATE_OVERLAP,             /* seconds the old secret still signs */
    ROTATE_ACCOUNT,
    ROTATE_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  webhooks_rotate_stmt =
    ngx_http_video_api_pg_scoped("webhooks_rotate",
        "UPDATE webhook_endpoints e SET previous_sealed = e.secret_sealed,"
        " previous_expires_at = now() + make_interval(secs => $3::int),"
        " secret_sealed = $2::text, updated_at = now()"
        " WHERE e.id = $1::text AND e.account_id = $4::text"
        " RETURNING " WEBHOOK_ENDPOINT_JSON("e") "::text",
        ROTATE_ACCOUNT + 1, 0);

/*
 * A webhook.test event written as webhook_emit() writes events (the
 * endpoint's sequence number, NOTIFY 'webhook'), with its one delivery
 * to this endpoint whatever the endpoint subscribes to or whether it is
 * enabled: a test is asked for, so it is sent
 */
static ngx_http_video_api_pg_stmt_t  webhooks_test_stmt =
    ngx_http_video_api_pg_scoped("webhooks_test",
        "WITH e AS (SELECT id, account_id FROM webhook_endpoints"
        "  WHERE id = $1::text AND account_id = $2::text),"
        " s AS (INSERT INTO webhook_sequences AS q (object_id, seq)"
        "  SELECT e.id, 1 FROM e ON CONFLICT (object_id)"
        "  DO UPDATE SET seq = q.seq + 1 RETURNING q.seq),"
        " v AS (INSERT INTO webhook_events (id, account_id, type, object_id,"
        "  sequence, data, endpoint_id)"
        "  SELECT 'evt_' || replace(gen_random_uuid()::text, '-', ''),"
        "   e.account_id, 'webhook.test', e.id, s.seq,"
        "   json_build_object('endpointId', e.id, 'message', 'Test event'),"
        "   e.id FROM e, s RETURNING n, id),"
        " d AS (INSERT INTO webhook_deliveries (event_n, endpoint_id)"
        "  SELECT v.n, $1::text FROM v RETURNING id)"
        " SELECT v.id, pg_notify('webhook', '')::text FROM v, d",
        2, 0);


typedef enum {
    WEBHOOKS_QUERY = 0,
    WEBHOOKS_CLAIMED,       /* an Idempotency-Key claimed (the create) */
    WEBHOOKS_ROWS
} ngx_http_video_api_webhooks_step_e;

static const char *const  webhooks_names[] = { "query", "claimed", "rows" };

static ngx_int_t ngx_http_video_api_webhooks_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  webhooks_steps = {
    "webhooks", ngx_http_video_api_webhooks_step, webhooks_names
};


static char *
ngx_http_video_api_webhooks_cstr(ngx_http_request_t *r, const u_char *s,
    size_t len)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);
    p[len] = '\0';

    return (char *) p;
}


ngx_int_t
ngx_http_video_api_webhooks_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Webhook endpoint '%V' not found",
                                         id);
}


ngx_http_video_api_webhooks_ctx_t *
ngx_http_video_api_webhooks_ctx(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_http_video_api_webhooks_kind_e kind,
    ngx_int_t *rc)
{
    ngx_http_video_api_webhooks_ctx_t  *w;

    *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_webhooks_ctx_t));
    if (w == NULL) {
        return NULL;
    }

    w->kind = kind;

    if (ctx->nparams == 0) {
        return w;
    }

    /* an id that cannot be one is not looked for */

    w->id = ctx->params[0];

    if (!video_id_valid((char *) w->id.data, w->id.len)) {
        *rc = ngx_http_video_api_webhooks_not_found(r, &w->id);
        return NULL;
    }

    w->values[0] = ngx_http_video_api_webhooks_cstr(r, w->id.data,
                                                    w->id.len);
    if (w->values[0] == NULL) {
        return NULL;
    }

    return w;
}


ngx_int_t
ngx_http_video_api_webhooks_invalid(ngx_http_request_t *r, const char *path,
    const char *message)
{
    json_t  *details;

    details = json_array();

    if (details != NULL && video_detail_add(details, path, message) != 0) {
        json_decref(details);
        details = NULL;
    }

    return ngx_http_video_api_send_invalid(r, details);
}


ngx_int_t
ngx_http_video_api_webhooks_query(ngx_http_request_t *r,
    ngx_http_video_api_webhooks_ctx_t *w, ngx_http_video_api_pg_stmt_t *stmt,
    int n)
{
    w->stmt = stmt;
    w->nvalues = n;

    return ngx_http_video_api_run(r, &webhooks_steps, w, WEBHOOKS_QUERY);
}


/* the endpoint's fields of a POST or PATCH body as statement values */

static ngx_int_t
ngx_http_video_api_webhooks_fields(ngx_http_request_t *r,
    video_webhook_endpoint_t *in, char **url, char **description,
    char **types, char **enabled)
{
    *url = NULL;
    *description = NULL;
    *types = NULL;
    *enabled = NULL;

    if (in->url_set) {
        *url = ngx_http_video_api_webhooks_cstr(r, (u_char *) in->url.url,
                                                ngx_strlen(in->url.url));
        if (*url == NULL) {
            return NGX_ERROR;
        }
    }

    if (in->description != NULL) {
        *description = (char *) json_string_value(in->description);
    }

    if (in->types_set) {
        *types = ngx_http_video_api_webhooks_cstr(r, (u_char *) in->types,
                                                  ngx_strlen(in->types));
        if (*types == NULL) {
            return NGX_ERROR;
        }
    }

    if (in->enabled >= 0) {
        *enabled = in->enabled ? "t" : "f";
    }

    return NGX_OK;
}


/* a new secret into w->secret, sealed into a value: NULL on failure */

static char *
ngx_http_video_api_webhooks_secret(ngx_http_request_t *r,
    ngx_http_video_api_webhooks_ctx_t *w,
    ngx_http_video_api_webhooks_conf_t *wh)
{
    char  *sealed;

    sealed = ngx_pnalloc(r->pool, VIDEO_WEBHOOK_SEALED_MAX);
    if (sealed == NULL) {
        return NULL;
    }

    if (video_webhook_secret_new(w->secret) != 0
        || video_webhook_seal(&wh->seal, w->secret, ngx_strlen(w->secret),
                              sealed)
           != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "video_api: cannot make a webhook secret");
        return NULL;
    }

    return sealed;
}


static ngx_http_video_api_webhooks_conf_t *
ngx_http_video_api_webhooks_conf(ngx_http_request_t *r)
{
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    return mcf->webhooks;
}


/* no key to seal secrets with: nothing that makes one can run */

static ngx_int_t
ngx_http_video_api_webhooks_unconfigured(ngx_http_request_t *r)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "UNAVAILABLE",
                                         "webhooks are not configured");
}


/* POST /api/webhooks: the secret is in this answer and nowhere else */

static ngx_int_t
ngx_http_video_api_webhooks_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                                **v;
    json_t                               *details;
    ngx_int_t                             rc;
    video_webhook_endpoint_t             *in;
    ngx_http_video_api_webhooks_ctx_t    *w;
    ngx_http_video_api_webhooks_conf_t   *wh;

    wh = ngx_http_video_api_webhooks_conf(r);

    in = ngx_palloc(r->pool, sizeof(video_webhook_endpoint_t));
    if (in == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_webhook_endpoint_parse(ctx->json, 1,
                                     wh->allow.n ? &wh->allow : NULL,
                                     wh->allow_http, in, &details)
        != 0)
    {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (!wh->sealing) {
        return ngx_http_video_api_webhooks_unconfigured(r);
    }

    rc = ngx_http_video_api_idem_init(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_CREATE, &rc);
    if (w == NULL) {
        return rc;
    }

    v = w->values;

    v[CREATE_ID] = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    v[CREATE_MAX] = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);

    if (v[CREATE_ID] == NULL || v[CREATE_MAX] == NULL
        || video_id_generate(v[CREATE_ID]) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v[CREATE_ID][VIDEO_ID_LEN] = '\0';
    *ngx_sprintf((u_char *) v[CREATE_MAX], "%ui", wh->max_endpoints) = '\0';

    v[CREATE_SEALED] = ngx_http_video_api_webhooks_secret(r, w, wh);

    if (v[CREATE_SEALED] == NULL
        || ngx_http_video_api_webhooks_fields(r, in, &v[CREATE_URL],
                                              &v[CREATE_DESCRIPTION],
                                              &v[CREATE_TYPES],
                                              &v[CREATE_ENABLED])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v[CREATE_BY] = NULL;

    if (ctx->caller.key_id.len) {
        v[CREATE_BY] = ngx_http_video_api_webhooks_cstr(r,
                           ctx->caller.key_id.data, ctx->caller.key_id.len);
        if (v[CREATE_BY] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    w->limit = wh->max_endpoints;

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_create_stmt,
                                             CREATE_NPARAMS);
}


/* GET /api/webhooks: the account's, newest first */

static ngx_int_t
ngx_http_video_api_webhooks_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                           rc;
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_LIST, &rc);
    if (w == NULL) {
        return rc;
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_list_stmt, 1);
}


/* GET /api/webhooks/:id */

static ngx_int_t
ngx_http_video_api_webhooks_get(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                           rc;
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_ENDPOINT, &rc);
    if (w == NULL) {
        return rc;
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_get_stmt, 2);
}


/* PATCH /api/webhooks/:id */

static ngx_int_t
ngx_http_video_api_webhooks_update(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                                **v;
    json_t                               *details;
    ngx_int_t                             rc;
    video_webhook_endpoint_t             *in;
    ngx_http_video_api_webhooks_ctx_t    *w;
    ngx_http_video_api_webhooks_conf_t   *wh;

    wh = ngx_http_video_api_webhooks_conf(r);

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_ENDPOINT, &rc);
    if (w == NULL) {
        return rc;
    }

    in = ngx_palloc(r->pool, sizeof(video_webhook_endpoint_t));
    if (in == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_webhook_endpoint_parse(ctx->json, 0,
                                     wh->allow.n ? &wh->allow : NULL,
                                     wh->allow_http, in, &details)
        != 0)
    {
        return ngx_http_video_api_send_invalid(r, details);
    }

    v = w->values;

    if (ngx_http_video_api_webhooks_fields(r, in, &v[UPDATE_URL],
                                           &v[UPDATE_DESCRIPTION],
                                           &v[UPDATE_TYPES],
                                           &v[UPDATE_ENABLED])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_update_stmt,
                                             UPDATE_NPARAMS);
}


/* DELETE /api/webhooks/:id: its deliveries go with it */

static ngx_int_t
ngx_http_video_api_webhooks_delete(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                           rc;
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_DELETE, &rc);
    if (w == NULL) {
        return rc;
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_delete_stmt, 2);
}


/*
 * POST /api/webhooks/:id/rotate[ {overlap}]: a new secret, shown once;
 * deliveries are signed with the old one too for overlap seconds
 * (video_api_webhooks overlap= unless the body says)
 */

static ngx_int_t
ngx_http_video_api_webhooks_rotate(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                                **v;
    json_t                               *details;
    ngx_int_t                             rc;
    long long                             overlap;
    ngx_http_video_api_webhooks_ctx_t    *w;
    ngx_http_video_api_webhooks_conf_t   *wh;

    wh = ngx_http_video_api_webhooks_conf(r);

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_ROTATE, &rc);
    if (w == NULL) {
        return rc;
    }

    if (video_webhook_rotate_parse(ctx->json, &overlap, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    if (!wh->sealing) {
        return ngx_http_video_api_webhooks_unconfigured(r);
    }

    if (overlap < 0) {
        overlap = wh->overlap;
    }

    v = w->values;
    v[ROTATE_SEALED] = ngx_http_video_api_webhooks_secret(r, w, wh);
    v[ROTATE_OVERLAP] = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);

    if (v[ROTATE_SEALED] == NULL || v[ROTATE_OVERLAP] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf((u_char *) v[ROTATE_OVERLAP], "%L", (int64_t) overlap) = '\0';

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_rotate_stmt,
                                             ROTATE_NPARAMS);
}


/* POST /api/webhooks/:id/test: 202, the event on its way */

static ngx_int_t
ngx_http_video_api_webhooks_test(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                           rc;
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_TEST, &rc);
    if (w == NULL) {
        return rc;
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_test_stmt, 2);
}


/* 403 QUOTA_EXCEEDED with the limit, as account limits are answered */

static ngx_int_t
ngx_http_video_api_webhooks_quota(ngx_http_request_t *r,
    ngx_http_video_api_webhooks_ctx_t *w, ngx_int_t used)
{
    u_char   *p;
    json_t   *details;
    u_char    msg[128];

    p = ngx_snprintf(msg, sizeof(msg), "Webhook endpoint limit reached: "
                     "the account has %i of at most %ui", used, w->limit);

    details = json_pack("[{s:s, s:I, s:I, s:i, s:s%}]",
                        "limit", "maxEndpoints",
                        "max", (json_int_t) w->limit,
                        "used", (json_int_t) used,
                        "requested", 1,
                        "message", msg, (size_t) (p - msg));

    return ngx_http_video_api_send_json(r, NGX_HTTP_FORBIDDEN,
               video_envelope_error(NGX_HTTP_FORBIDDEN, "QUOTA_EXCEEDED",
                                    (char *) msg, p - msg, details));
}


/* the answer to the create: {"endpoint":{...},"secret":"whsec_..."} */

static ngx_int_t
ngx_http_video_api_webhooks_created(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w)
{
    u_char              *p;
    ngx_http_request_t  *r;

    r = run->request;

    if (PQntuples(run->res) != 1 || PQnfields(run->res) != 2) {
        return ngx_http_video_api_run_failed(run);
    }

    if (PQgetisnull(run->res, 0, 0)) {
        return ngx_http_video_api_webhooks_quota(r, w,
                   ngx_atoi((u_char *) PQgetvalue(run->res, 0, 1),
                            PQgetlength(run->res, 0, 1)));
    }

    p = ngx_pnalloc(r->pool, sizeof(",\"secret\":\"\"}")
                             + VIDEO_WEBHOOK_SECRET_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(p, ",\"secret\":\"%s\"}%Z", w->secret);

    return ngx_http_video_api_send_wrapped(r, NGX_HTTP_CREATED,
                                           "{\"endpoint\":",
                                           (u_char *) PQgetvalue(run->res, 0,
                                                                 0),
                                           PQgetlength(run->res, 0, 0),
                                           (char *) p);
}


/* the answer of each kind of route from its statement's rows */

static ngx_int_t
ngx_http_video_api_webhooks_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w)
{
    u_char              *p, *json;
    size_t               len;
    PGresult            *res;
    ngx_http_request_t  *r;

    r = run->request;
    res = run->res;

    switch (w->kind) {

    case WEBHOOKS_CREATE:
        return ngx_http_video_api_webhooks_created(run, w);

    case WEBHOOKS_DELIVERIES:
    case WEBHOOKS_REDELIVER:
    case WEBHOOKS_EVENTS:
        return ngx_http_video_api_webhooks_log_rows(run, w);

    default:
        break;
    }

    if (PQntuples(res) != 1) {
        return ngx_http_video_api_webhooks_not_found(r, &w->id);
    }

    json = (u_char *) PQgetvalue(res, 0, 0);
    len = PQgetlength(res, 0, 0);

    switch (w->kind) {

    case WEBHOOKS_LIST:
        p = ngx_pnalloc(r->pool, sizeof(",\"total\":}") + NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(p, ",\"total\":%s}%Z", PQgetvalue(res, 0, 1));

        return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK,
                                               "{\"endpoints\":", json, len,
                                               (char *) p);

    case WEBHOOKS_DELETE:
        return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                   json_pack("{s:s}", "message",
                             "Webhook endpoint deleted"));

    case WEBHOOKS_ROTATE:
        p = ngx_pnalloc(r->pool, sizeof("{\"secret\":\"\",\"endpoint\":")
                                 + VIDEO_WEBHOOK_SECRET_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_sprintf(p, "{\"secret\":\"%s\",\"endpoint\":%Z", w->secret);

        return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK, (char *) p,
                                               json, len, "}");

    case WEBHOOKS_TEST:
        return ngx_http_video_api_send_data(r, NGX_HTTP_ACCEPTED,
                   json_pack("{s:s}", "eventId", (char *) json));

    default: /* WEBHOOKS_ENDPOINT */
        return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK,
                                               "{\"endpoint\":", json, len,
                                               "}");
    }
}


static ngx_int_t
ngx_http_video_api_webhooks_step(ngx_http_video_api_run_t *run)
{
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = run->data;

    if (run->step == WEBHOOKS_QUERY) {

        /* a create's Idempotency-Key: claimed in its transaction */

        return ngx_http_video_api_idem_claim(run, WEBHOOKS_CLAIMED);
    }

    if (run->step == WEBHOOKS_CLAIMED) {
        return ngx_http_video_api_run_query(run, WEBHOOKS_ROWS, w->stmt,
                                            w->nvalues, w->values);
    }

    if (!ngx_http_video_api_run_ok(run)
        || PQresultStatus(run->res) != PGRES_TUPLES_OK)
    {
        return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
    }

    return ngx_http_video_api_idem_finish(run,
                                ngx_http_video_api_webhooks_rows(run, w));
}
