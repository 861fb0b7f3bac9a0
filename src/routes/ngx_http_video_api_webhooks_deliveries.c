/*
 * /api/webhooks: what was sent and what there is to send.  An endpoint's
 * deliveries log (newest first, each with its attempts), a redelivery
 * asked for (a new delivery of the same event: the same webhook-id), and
 * the account's events feed, read after a cursor in commit order
 * (webhook_feed(), conf/sql/0015_webhooks.sql), so that a reader who
 * follows the cursor sees every event once, including those of a
 * transaction that began before the last page was read and committed
 * after.  Event objects are the delivery bodies' JSON, their video's URL
 * fields filled as deliveries fill them (video_webhook_video_urls()).
 */

#include "ngx_http_video_api_webhooks.h"
#include "ngx_http_video_api_response.h"
#include "video_validate.h"
#include "video_webhook_body.h"


#define WEBHOOKS_DELIVERIES_LIMIT  20     /* a page of the log, by default */
#define WEBHOOKS_EVENTS_LIMIT      50     /* of the feed */
#define WEBHOOKS_LIMIT_MAX         100


enum {
    DELIVERIES_ID = 0,
    DELIVERIES_LIMIT,
    DELIVERIES_BEFORE,          /* the cursor's delivery id, or NULL */
    DELIVERIES_STATUS,          /* NULL: any */
    DELIVERIES_ACCOUNT,
    DELIVERIES_NPARAMS
};

/*
 * Whether the endpoint is the caller's, the page (one row more is read
 * to know whether another page follows), the last id of the page and
 * whether more follow
 */
static ngx_http_video_api_pg_stmt_t  webhooks_deliveries_stmt =
    ngx_http_video_api_pg_scoped("webhooks_deliveries",
        "SELECT (SELECT count(*) FROM webhook_endpoints"
        "  WHERE id = $1::text AND account_id = $5::text),"
        " COALESCE(json_agg(json_build_object('id', d.id,"
        "  'eventId', w.id, 'eventType', w.type, 'status', d.status,"
        "  'attempts', d.attempts,"
        "  'nextAttemptAt', CASE WHEN d.status = 'pending'"
        "   THEN api_time(d.next_attempt_at) END,"
        "  'lastStatus', d.last_status, 'lastError', d.last_error,"
        "  'lastLatencyMs', d.last_latency_ms,"
        "  'deliveredAt', api_time(d.delivered_at),"
        "  'createdAt', api_time(d.created_at),"
        "  'attemptLog', (SELECT COALESCE(json_agg(json_build_object("
        "   'attempt', a.attempt, 'at', api_time(a.at),"
        "   'statusCode', a.status_code, 'latencyMs', a.latency_ms,"
        "   'error', a.error) ORDER BY a.id), '[]')"
        "   FROM webhook_attempts a WHERE a.delivery_id = d.id))"
        "  ORDER BY d.id DESC) FILTER (WHERE d.rn <= $2::int), '[]')::text,"
        " min(d.id) FILTER (WHERE d.rn <= $2::int), count(*) > $2::int"
        " FROM (SELECT x.*, row_number() OVER (ORDER BY x.id DESC) AS rn"
        "  FROM webhook_deliveries x"
        "  JOIN webhook_endpoints e ON e.id = x.endpoint_id"
        "  WHERE x.endpoint_id = $1::text AND e.account_id = $5::text"
        "  AND ($3::bigint IS NULL OR x.id < $3::bigint)"
        "  AND ($4::text IS NULL OR x.status::text = $4::text)"
        "  ORDER BY x.id DESC LIMIT $2::int + 1) d"
        " JOIN webhook_events w ON w.n = d.event_n",
        DELIVERIES_ACCOUNT + 1, 0);

enum {
    REDELIVER_ID = 0,
    REDELIVER_EVENT,
    REDELIVER_ACCOUNT,
    REDELIVER_NPARAMS
};

/* whether the endpoint is the caller's, and the new delivery's id */
static ngx_http_video_api_pg_stmt_t  webhooks_redeliver_stmt =
    ngx_http_video_api_pg_scoped("webhooks_redeliver",
        "WITH e AS (SELECT id FROM webhook_endpoints"
        "  WHERE id = $1::text AND account_id = $3::text),"
        " w AS (SELECT n FROM webhook_events"
        "  WHERE id = $2::text AND account_id = $3::text),"
        " d AS (INSERT INTO webhook_deliveries (event_n, endpoint_id)"
        "  SELECT w.n, e.id FROM e, w RETURNING id)"
        " SELECT (SELECT count(*) FROM e), (SELECT id FROM d),"
        "  (SELECT pg_notify('webhook', '')::text FROM d)",
        REDELIVER_ACCOUNT + 1, 0);

enum {
    EVENTS_AFTER_TXID = 0,
    EVENTS_AFTER_N,
    EVENTS_LIMIT,
    EVENTS_ACCOUNT,
    EVENTS_NPARAMS
};

/* the page, and the position of its last event */
static ngx_http_video_api_pg_stmt_t  webhooks_events_stmt =
    ngx_http_video_api_pg_scoped("webhooks_events",
        "SELECT COALESCE(json_agg(json_build_object('id', f.id,"
        "  'type', f.type, 'timestamp', api_time(f.created_at),"
        "  'accountId', f.account_id, 'objectId', f.object_id,"
        "  'sequence', f.sequence, 'data', f.data)"
        "  ORDER BY f.txid, f.n), '[]')::text,"
        " (array_agg(f.txid::text ORDER BY f.txid DESC, f.n DESC))[1],"
        " (array_agg(f.n ORDER BY f.txid DESC, f.n DESC))[1]"
        " FROM webhook_feed($4::varchar, $1::text::xid8, $2::bigint,"
        "  $3::int) f",
        EVENTS_ACCOUNT + 1, 0);


/* ?limit=: def when absent; -1 (a 400 sent into *rc) when out of range */

static ngx_int_t
ngx_http_video_api_webhooks_limit(ngx_http_request_t *r, ngx_uint_t def,
    ngx_int_t *rc)
{
    ngx_int_t  n;
    ngx_str_t  arg;

    if (ngx_http_arg(r, (u_char *) "limit", sizeof("limit") - 1, &arg)
        != NGX_OK)
    {
        return def;
    }

    n = ngx_atoi(arg.data, arg.len);

    if (n < 1 || n > WEBHOOKS_LIMIT_MAX) {
        *rc = ngx_http_video_api_webhooks_invalid(r, "limit",
                  "limit must be an integer from 1 to 100");
        return -1;
    }

    return n;
}


static char *
ngx_http_video_api_webhooks_number(ngx_http_request_t *r, uint64_t n)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
    if (p != NULL) {
        *ngx_sprintf(p, "%uL", n) = '\0';
    }

    return (char *) p;
}


/* GET /api/webhooks/:id/deliveries[?limit=&cursor=&status=] */

ngx_int_t
ngx_http_video_api_webhooks_deliveries(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                              **v;
    uint64_t                            before, zero;
    ngx_int_t                           rc, n;
    ngx_str_t                           arg;
    ngx_http_video_api_webhooks_ctx_t  *w;
    static const char *const            statuses[] = {
        "pending", "delivered", "failed", NULL
    };

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_DELIVERIES, &rc);
    if (w == NULL) {
        return rc;
    }

    n = ngx_http_video_api_webhooks_limit(r, WEBHOOKS_DELIVERIES_LIMIT, &rc);
    if (n < 0) {
        return rc;
    }

    v = w->values;
    w->limit = n;
    v[DELIVERIES_LIMIT] = ngx_http_video_api_webhooks_number(r, n);

    if (v[DELIVERIES_LIMIT] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_arg(r, (u_char *) "cursor", sizeof("cursor") - 1, &arg)
        == NGX_OK)
    {
        if (video_webhook_cursor_decode((char *) arg.data, arg.len, &before,
                                        &zero)
            != 0
            || zero != 0)
        {
            return ngx_http_video_api_webhooks_invalid(r, "cursor",
                       "cursor is not one this API gave");
        }

        v[DELIVERIES_BEFORE] = ngx_http_video_api_webhooks_number(r, before);
        if (v[DELIVERIES_BEFORE] == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_arg(r, (u_char *) "status", sizeof("status") - 1, &arg)
        == NGX_OK)
    {
        n = video_enum_index(statuses, (char *) arg.data, arg.len);

        if (n < 0) {
            return ngx_http_video_api_webhooks_invalid(r, "status",
                       "status must be pending, delivered or failed");
        }

        v[DELIVERIES_STATUS] = (char *) statuses[n];
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_deliveries_stmt,
                                             DELIVERIES_NPARAMS);
}


/* POST /api/webhooks/:id/redeliver {eventId}: 202, the new delivery */

ngx_int_t
ngx_http_video_api_webhooks_redeliver(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    json_t                             *details;
    ngx_int_t                           rc;
    const char                         *event;
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_REDELIVER, &rc);
    if (w == NULL) {
        return rc;
    }

    if (video_webhook_redeliver_parse(ctx->json, &event, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    w->values[REDELIVER_EVENT] = (char *) event;
    w->cursor.data = (u_char *) event;
    w->cursor.len = ngx_strlen(event);

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_redeliver_stmt,
                                             REDELIVER_NPARAMS);
}


/* GET /api/webhooks/events[?after=&limit=] */

ngx_int_t
ngx_http_video_api_webhooks_events(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                              **v;
    uint64_t                            txid, n;
    ngx_int_t                           rc, limit;
    ngx_str_t                           arg;
    ngx_http_video_api_webhooks_ctx_t  *w;

    w = ngx_http_video_api_webhooks_ctx(r, ctx, WEBHOOKS_EVENTS, &rc);
    if (w == NULL) {
        return rc;
    }

    limit = ngx_http_video_api_webhooks_limit(r, WEBHOOKS_EVENTS_LIMIT, &rc);
    if (limit < 0) {
        return rc;
    }

    txid = 0;
    n = 0;

    if (ngx_http_arg(r, (u_char *) "after", sizeof("after") - 1, &arg)
        == NGX_OK)
    {
        if (video_webhook_cursor_decode((char *) arg.data, arg.len, &txid,
                                        &n)
            != 0)
        {
            return ngx_http_video_api_webhooks_invalid(r, "after",
                       "after is not a cursor this API gave");
        }

        w->cursor = arg;
    }

    v = w->values;
    v[EVENTS_AFTER_TXID] = ngx_http_video_api_webhooks_number(r, txid);
    v[EVENTS_AFTER_N] = ngx_http_video_api_webhooks_number(r, n);
    v[EVENTS_LIMIT] = ngx_http_video_api_webhooks_number(r, limit);

    if (v[EVENTS_AFTER_TXID] == NULL || v[EVENTS_AFTER_N] == NULL
        || v[EVENTS_LIMIT] == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_webhooks_query(r, w, &webhooks_events_stmt,
                                             EVENTS_NPARAMS);
}


/* a cursor's text as a JSON value: null when there is none */

static u_char *
ngx_http_video_api_webhooks_cursor(ngx_http_request_t *r, uint64_t a,
    uint64_t b)
{
    u_char  *p;
    size_t   len;

    p = ngx_pnalloc(r->pool, VIDEO_WEBHOOK_CURSOR_MAX + sizeof("\"\""));
    if (p == NULL) {
        return NULL;
    }

    p[0] = '"';
    len = video_webhook_cursor_encode((char *) p + 1, a, b);
    p[len + 1] = '"';
    p[len + 2] = '\0';

    return p;
}


static ngx_int_t
ngx_http_video_api_webhooks_deliveries_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w)
{
    u_char              *p, *c;
    PGresult            *res;
    ngx_http_request_t  *r;

    r = run->request;
    res = run->res;

    if (PQntuples(res) != 1 || PQnfields(res) != 4) {
        return ngx_http_video_api_run_failed(run);
    }

    if (ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                 PQgetlength(res, 0, 0)) != 1)
    {
        return ngx_http_video_api_webhooks_not_found(r, &w->id);
    }

    c = (u_char *) "null";

    if (PQgetvalue(res, 0, 3)[0] == 't' && !PQgetisnull(res, 0, 2)) {
        c = ngx_http_video_api_webhooks_cursor(r,
                (uint64_t) ngx_atoof((u_char *) PQgetvalue(res, 0, 2),
                                     PQgetlength(res, 0, 2)), 0);
        if (c == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    p = ngx_pnalloc(r->pool, sizeof(",\"nextCursor\":}")
                             + VIDEO_WEBHOOK_CURSOR_MAX + 2);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(p, ",\"nextCursor\":%s}%Z", c);

    return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK,
                                           "{\"deliveries\":",
                                           (u_char *) PQgetvalue(res, 0, 1),
                                           PQgetlength(res, 0, 1),
                                           (char *) p);
}


static ngx_int_t
ngx_http_video_api_webhooks_redeliver_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w)
{
    PGresult            *res;
    ngx_http_request_t  *r;

    r = run->request;
    res = run->res;

    if (PQntuples(res) != 1 || PQnfields(res) != 3) {
        return ngx_http_video_api_run_failed(run);
    }

    if (ngx_atoi((u_char *) PQgetvalue(res, 0, 0),
                 PQgetlength(res, 0, 0)) != 1)
    {
        return ngx_http_video_api_webhooks_not_found(r, &w->id);
    }

    if (PQgetisnull(res, 0, 1)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "Event '%V' not found",
                                             &w->cursor);
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_ACCEPTED,
               json_pack("{s:I}", "deliveryId",
                         (json_int_t) ngx_atoof(
                             (u_char *) PQgetvalue(res, 0, 1),
                             PQgetlength(res, 0, 1))));
}


/*
 * The feed's page with its video objects' URLs filled; the next cursor is
 * after its last event, or the one given when the page is empty (nothing
 * new yet: ask again with it)
 */

static ngx_int_t
ngx_http_video_api_webhooks_events_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w)
{
    size_t                           i;
    json_t                          *events, *e, *next;
    PGresult                        *res;
    const char                      *type;
    json_error_t                     err;
    ngx_http_request_t              *r;
    ngx_http_video_api_main_conf_t  *mcf;
    char                             c[VIDEO_WEBHOOK_CURSOR_MAX + 1];

    r = run->request;
    res = run->res;

    if (PQntuples(res) != 1 || PQnfields(res) != 3) {
        return ngx_http_video_api_run_failed(run);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    events = json_loadb(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), 0,
                        &err);
    if (!json_is_array(events)) {
        json_decref(events);
        return ngx_http_video_api_run_failed(run);
    }

    json_array_foreach(events, i, e) {
        type = json_string_value(json_object_get(e, "type"));

        if (type != NULL
            && (ngx_strncmp(type, "video.", 6) == 0
                || ngx_strncmp(type, "live.", 5) == 0)
            && json_is_object(json_object_get(e, "data"))
            && video_webhook_video_urls(json_object_get(e, "data"),
                                        (char *) mcf->play.base.data)
               != 0)
        {
            json_decref(events);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (!PQgetisnull(res, 0, 1)) {
        video_webhook_cursor_encode(c,
            (uint64_t) ngx_atoof((u_char *) PQgetvalue(res, 0, 1),
                                 PQgetlength(res, 0, 1)),
            (uint64_t) ngx_atoof((u_char *) PQgetvalue(res, 0, 2),
                                 PQgetlength(res, 0, 2)));
        next = json_string(c);

    } else if (w->cursor.len) {
        next = json_stringn((char *) w->cursor.data, w->cursor.len);

    } else {
        next = json_null();
    }

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:o, s:o}", "events", events, "nextCursor", next));
}


ngx_int_t
ngx_http_video_api_webhooks_log_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_webhooks_ctx_t *w)
{
    switch (w->kind) {

    case WEBHOOKS_DELIVERIES:
        return ngx_http_video_api_webhooks_deliveries_rows(run, w);

    case WEBHOOKS_REDELIVER:
        return ngx_http_video_api_webhooks_redeliver_rows(run, w);

    default: /* WEBHOOKS_EVENTS */
        return ngx_http_video_api_webhooks_events_rows(run, w);
    }
}
