/*
 * /api/analytics: view counting, stats and resets.
 *
 * A view is one Lua script in Redis (video_views.h): the existence check
 * against the set of video ids, then today's, this month's and the
 * all-time counter and the day's HyperLogLog of viewers.  Counters are
 * keyed by UTC day and month, so a new day starts at zero, and a reset
 * unlinks the period's hash, one O(1) command.  The analytics worker
 * rolls the counts up into PostgreSQL; when Redis is down, views are
 * refused (503) and stats answer PostgreSQL's rolled-up figures.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_views.h"
#include "video_hmac.h"
#include "video_id.h"


static ngx_int_t ngx_http_video_api_views_view(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_views_stats(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_views_reset(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


ngx_http_video_api_route_t  ngx_http_video_api_analytics_routes[] = {
    { NGX_HTTP_POST, "/api/analytics/view/:id",
      ngx_http_video_api_views_view, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_GET, "/api/analytics/stats/:id",
      ngx_http_video_api_views_stats, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { NGX_HTTP_POST, "/api/analytics/reset/daily",
      ngx_http_video_api_views_reset, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ADMIN },
    { NGX_HTTP_POST, "/api/analytics/reset/monthly",
      ngx_http_video_api_views_reset, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ADMIN },
    { 0, NULL, NULL, 0, 0 }
};


/* the routes' steps */

typedef enum {
    VIEWS_COUNT = 0,
    VIEWS_COUNTED,
    VIEWS_EXISTS,
    VIEWS_SCOPE,
    VIEWS_SCOPED,

    VIEWS_STATS_ASK,
    VIEWS_STATS_REPLY,
    VIEWS_STATS_DB,
    VIEWS_STATS_ROW,

    VIEWS_RESET_ASK,
    VIEWS_RESET_REPLY,
    VIEWS_RESET_COUNTED
} ngx_http_video_api_views_step_e;

static const char *const  views_names[] = {
    "count", "counted", "exists", "scope", "scoped",
    "ask", "reply", "database", "row",
    "reset", "reply", "counted"
};

static ngx_int_t ngx_http_video_api_views_step(ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  views_view_steps = {
    "analytics view", ngx_http_video_api_views_step, views_names
};

static ngx_http_video_api_steps_t  views_stats_steps = {
    "analytics stats", ngx_http_video_api_views_step, views_names
};

static ngx_http_video_api_steps_t  views_reset_steps = {
    "analytics reset", ngx_http_video_api_views_step, views_names
};


static ngx_http_video_api_redis_script_t  views_count_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_COUNT_LUA);

static ngx_http_video_api_redis_script_t  views_stats_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_STATS_LUA);

static ngx_http_video_api_redis_script_t  views_reset_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_RESET_LUA);


enum {
    EXISTS_ID = 0,
    EXISTS_ACCOUNT,
    EXISTS_ROLE,
    EXISTS_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  views_exists_stmt =
    ngx_http_video_api_pg_scoped("views_exists",
        "SELECT 1 FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $2, $3)",
        EXISTS_ACCOUNT + 1, EXISTS_ROLE + 1);

enum {
    STATS_ID = 0,
    STATS_DAY,
    STATS_MONTH,
    STATS_ACCOUNT,
    STATS_ROLE,
    STATS_NPARAMS
};

/*
 * Stats without Redis: the copies the worker keeps on the videos row,
 * today's and this month's only while they are of this day and month
 * ($2, $3), and the day's unique viewers rolled up so far
 */
static ngx_http_video_api_pg_stmt_t  views_stats_stmt =
    ngx_http_video_api_pg_scoped("views_stats",
        "SELECT CASE WHEN split_part(p.day, ':', 1) = $2"
        "  THEN v.views_today ELSE 0 END,"
        " CASE WHEN split_part(p.month, ':', 1) = $3"
        "  THEN v.views_month ELSE 0 END,"
        " v.views_total,"
        " COALESCE((SELECT d.unique_viewers FROM video_views_daily d"
        "  WHERE d.video_id = v.id AND d.day = $2::date), 0)"
        " FROM videos v CROSS JOIN analytics_period p WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $4, $5)",
        STATS_ACCOUNT + 1, STATS_ROLE + 1);

static ngx_http_video_api_pg_stmt_t  views_count_stmt =
    ngx_http_video_api_pg_stmt("views_count",
        "SELECT COALESCE(sum(n), 0) FROM video_counts");


static u_char  views_tracked[] = "{\"message\":\"View tracked successfully\"}";


typedef struct {
    ngx_str_t                    id;         /* NUL-terminated copy */
    ngx_str_t                    day;        /* both in today, a copy: */
    ngx_str_t                    month;      /* the day may change while
                                                the request waits */
    u_char                       today[sizeof("YYYY-MM-DD")];
    u_char                       month_z[sizeof("YYYY-MM")];
    u_char                       viewer[32];
    char                        *values[STATS_NPARAMS];
    char                        *account;    /* the caller, for scripts */
    char                        *role;       /* "token": already decided */
    char                        *period;     /* of a reset: "daily", ... */
    ngx_http_video_api_video_t  *video;      /* read to decide the scope */
    unsigned                     known:1;    /* PostgreSQL has the video */
    unsigned                     recheck:1;  /* ask Redis once it is known */
    unsigned                     stats:1;    /* the stats route's */
} ngx_http_video_api_views_ctx_t;


static ngx_http_video_api_views_ctx_t *
ngx_http_video_api_views_ctx(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_video_api_views_ctx_t  *vctx;

    vctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_views_ctx_t));
    if (vctx == NULL) {
        return NULL;
    }

    if (id != NULL) {
        vctx->id.len = id->len;
        vctx->id.data = ngx_pnalloc(r->pool, id->len + 1);
        if (vctx->id.data == NULL) {
            return NULL;
        }

        ngx_cpystrn(vctx->id.data, id->data, id->len + 1);
    }

    ngx_http_video_api_views_period(r, &vctx->day, &vctx->month);
    ngx_http_video_api_caller_sql(r, 0, &vctx->account, &vctx->role);

    ngx_cpystrn(vctx->today, vctx->day.data, sizeof("YYYY-MM-DD"));
    ngx_cpystrn(vctx->month_z, vctx->month.data, sizeof("YYYY-MM"));
    vctx->day.data = vctx->today;
    vctx->month.data = vctx->today;

    return vctx;
}


/*
 * The viewer, as unique viewer counts know it: a keyed hash of the
 * client's address and user agent, so neither is stored, even in Redis's
 * append-only file, and the hash cannot be reversed without the key
 */

static ngx_int_t
ngx_http_video_api_views_viewer(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx)
{
    u_char                          *msg, *p;
    size_t                           len;
    ngx_str_t                        ua;
    ngx_http_video_api_main_conf_t  *mcf;
    u_char                           md[VIDEO_SHA256_LEN];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    ngx_str_null(&ua);

    if (r->headers_in.user_agent != NULL) {
        ua = r->headers_in.user_agent->value;
    }

    len = sizeof("viewer\n\n") - 1 + r->connection->addr_text.len + ua.len;

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(msg, "viewer\n", sizeof("viewer\n") - 1);
    p = ngx_cpymem(p, r->connection->addr_text.data,
                   r->connection->addr_text.len);
    *p++ = '\n';

    /* without a User-Agent header ua.data is NULL */
    if (ua.len) {
        p = ngx_cpymem(p, ua.data, ua.len);
    }

    if (video_hmac_sha256(mcf->play.secret.data, mcf->play.secret.len, msg,
                          p - msg, md)
        != 0)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(vctx->viewer, md, sizeof(vctx->viewer) / 2);

    return NGX_OK;
}


/* POST /api/analytics/view/:id */

static ngx_int_t
ngx_http_video_api_views_view(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_views_ctx_t  *vctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_video_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_views_ctx(r, &ctx->params[0]);
    if (vctx == NULL
        || ngx_http_video_api_views_viewer(r, vctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a play token is checked on the video itself (an embedded player) */

    return ngx_http_video_api_run(r, &views_view_steps, vctx,
                                  ngx_http_video_api_caller_token(r) != NULL
                                  ? VIEWS_SCOPE : VIEWS_COUNT);
}


/* GET /api/analytics/stats/:id */

static ngx_int_t
ngx_http_video_api_views_stats(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_views_ctx_t  *vctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_video_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_views_ctx(r, &ctx->params[0]);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vctx->stats = 1;

    return ngx_http_video_api_run(r, &views_stats_steps, vctx,
                                  VIEWS_STATS_ASK);
}


/* POST /api/analytics/reset/daily, /reset/monthly */

static ngx_int_t
ngx_http_video_api_views_reset(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_views_ctx_t  *vctx;

    vctx = ngx_http_video_api_views_ctx(r, NULL);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vctx->period = (ngx_strcmp(ctx->route->pattern,
                               "/api/analytics/reset/daily")
                    == 0)
                   ? "daily" : "monthly";

    return ngx_http_video_api_run(r, &views_reset_steps, vctx,
                                  VIEWS_RESET_ASK);
}


/* ARGV 1..4 of the per-video scripts (VIDEO_VIEWS_LUA_EXISTS) */

static void
ngx_http_video_api_views_argv(ngx_http_video_api_views_ctx_t *vctx,
    const char **argv, size_t *argvlen)
{
    argv[0] = (char *) vctx->id.data;
    argvlen[0] = vctx->id.len;
    argv[1] = (char *) vctx->day.data;
    argvlen[1] = vctx->day.len;
    argv[2] = (char *) vctx->month.data;
    argvlen[2] = vctx->month.len;
    argv[3] = vctx->known ? "1" : "0";
    argvlen[3] = 1;
}


/* the caller, as the scripts' last two ARGV (VIDEO_VIEWS_LUA_SCOPE) */

static void
ngx_http_video_api_views_argv_caller(ngx_http_video_api_views_ctx_t *vctx,
    const char **argv, size_t *argvlen)
{
    argv[0] = vctx->account;
    argvlen[0] = ngx_strlen(vctx->account);
    argv[1] = vctx->role;
    argvlen[1] = ngx_strlen(vctx->role);
}


static ngx_int_t
ngx_http_video_api_views_send_stats(ngx_http_request_t *r, long long today,
    long long month, long long total, long long unique)
{
    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
               json_pack("{s:I,s:I,s:I,s:I}",
                         "viewsToday", (json_int_t) today,
                         "viewsMonth", (json_int_t) month,
                         "viewsTotal", (json_int_t) total,
                         "uniqueViewersToday", (json_int_t) unique));
}


static ngx_int_t
ngx_http_video_api_views_reset_sent(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx, long long n)
{
    char  msg[64];

    ngx_sprintf((u_char *) msg, "Reset %s views for %L videos%Z",
                vctx->period, (int64_t) n);

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK,
                                        json_pack("{s:s}", "message", msg));
}



/*
 * The figures of the stats script: {loaded, today, month, total,
 * unique}, answered, or NGX_DECLINED when PostgreSQL's are to answer
 */

static ngx_int_t
ngx_http_video_api_views_stats_reply(ngx_http_video_api_run_t *run,
    ngx_http_video_api_views_ctx_t *vctx)
{
    ngx_uint_t    i;
    redisReply   *reply, **e;

    reply = run->reply;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 5)
    {
        return NGX_DECLINED;
    }

    e = reply->element;

    for (i = 0; i < 5; i++) {
        if (e[i]->type != REDIS_REPLY_INTEGER) {
            return NGX_DECLINED;
        }
    }

    /* counters not loaded from PostgreSQL yet: its figures */

    if (e[0]->integer != 1) {
        return NGX_DECLINED;
    }

    return ngx_http_video_api_views_send_stats(run->request, e[1]->integer,
                                               e[2]->integer, e[3]->integer,
                                               e[4]->integer);
}


static ngx_int_t
ngx_http_video_api_views_step(ngx_http_video_api_run_t *run)
{
    int                              i;
    ngx_int_t                        rc;
    ngx_uint_t                       daily;
    long long                        n[4];
    redisReply                      *reply, **e;
    const char                      *argv[7];
    size_t                           argvlen[7];
    ngx_http_request_t              *r;
    ngx_http_video_api_views_ctx_t  *vctx;

    r = run->request;
    vctx = run->data;
    reply = run->reply;

    switch (run->step) {

    case VIEWS_COUNT:
        ngx_http_video_api_views_argv(vctx, argv, argvlen);
        argv[4] = (char *) vctx->viewer;
        argvlen[4] = sizeof(vctx->viewer);
        ngx_http_video_api_views_argv_caller(vctx, &argv[5], &argvlen[5]);

        /* ids added while Redis was away are known before this runs */

        ngx_http_video_api_cache_flush_stale(r);

        return ngx_http_video_api_run_eval(run, VIEWS_COUNTED,
                                           &views_count_script, 0, 7, argv,
                                           argvlen);

    case VIEWS_COUNTED:
        if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
            return ngx_http_video_api_run_failed(run);
        }

        if (reply->integer == 1) {
            ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_VIEWS);
            return ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK, "",
                                                   views_tracked,
                                                   sizeof(views_tracked) - 1,
                                                   "");
        }

        if (reply->integer == -3) {
            return ngx_http_video_api_run_goto(run, VIEWS_SCOPE);
        }

        if (reply->integer == -2 && !vctx->known) {

            /* the id set is being filled: PostgreSQL says whether it exists */

            vctx->values[EXISTS_ID] = (char *) vctx->id.data;

            return ngx_http_video_api_run_query(run, VIEWS_EXISTS,
                                                &views_exists_stmt,
                                                EXISTS_NPARAMS, vctx->values);
        }

        return ngx_http_video_api_video_not_found(r, &vctx->id);

    case VIEWS_EXISTS:
        if (!ngx_http_video_api_run_ok(run)) {
            return ngx_http_video_api_run_failed(run);
        }

        if (PQntuples(run->res) == 0) {
            return ngx_http_video_api_video_not_found(r, &vctx->id);
        }

        vctx->known = 1;

        return ngx_http_video_api_run_goto(run, VIEWS_COUNT);

    /*
     * No cached copy of the video said whether the caller may see it: the
     * video is read as GET reads it (which answers 404 for one it may not
     * see, and fills the cache), then the script runs again, decided
     */

    case VIEWS_SCOPE:
        if (run->token) {

            /* decided already: the cache changed between the two reads */

            return ngx_http_video_api_video_not_found(r, &vctx->id);
        }

        vctx->video = ngx_http_video_api_video_create(r, &vctx->id);
        if (vctx->video == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_video_read(run, vctx->video, VIEWS_SCOPED);

    case VIEWS_SCOPED:
        vctx->role = "token";
        run->token = 1;

        return ngx_http_video_api_run_goto(run, vctx->stats ? VIEWS_STATS_ASK
                                                            : VIEWS_COUNT);

    case VIEWS_STATS_ASK:
        ngx_http_video_api_views_argv(vctx, argv, argvlen);
        ngx_http_video_api_views_argv_caller(vctx, &argv[4], &argvlen[4]);

        ngx_http_video_api_cache_flush_stale(r);

        return ngx_http_video_api_run_eval(run, VIEWS_STATS_REPLY,
                                           &views_stats_script, 0, 6, argv,
                                           argvlen);

    case VIEWS_STATS_REPLY:
        if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {

            if (reply->integer == -1) {
                return ngx_http_video_api_video_not_found(r, &vctx->id);
            }

            if (reply->integer == -3) {
                return ngx_http_video_api_run_goto(run, VIEWS_SCOPE);
            }

            /* -2: PostgreSQL says whether it exists, then Redis answers */

            vctx->recheck = !vctx->known;

            return ngx_http_video_api_run_goto(run, VIEWS_STATS_DB);
        }

        rc = ngx_http_video_api_views_stats_reply(run, vctx);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        return ngx_http_video_api_run_goto(run, VIEWS_STATS_DB);

    case VIEWS_STATS_DB:
        vctx->values[STATS_ID] = (char *) vctx->id.data;
        vctx->values[STATS_DAY] = (char *) vctx->today;
        vctx->values[STATS_MONTH] = (char *) vctx->month_z;

        return ngx_http_video_api_run_query(run, VIEWS_STATS_ROW,
                                            &views_stats_stmt, STATS_NPARAMS,
                                            vctx->values);

    case VIEWS_STATS_ROW:
        if (!ngx_http_video_api_run_ok(run)) {
            return ngx_http_video_api_run_failed(run);
        }

        if (PQntuples(run->res) == 0) {
            return ngx_http_video_api_video_not_found(r, &vctx->id);
        }

        if (vctx->recheck) {
            vctx->recheck = 0;
            vctx->known = 1;

            return ngx_http_video_api_run_goto(run, VIEWS_STATS_ASK);
        }

        for (i = 0; i < 4; i++) {
            n[i] = ngx_atoof((u_char *) PQgetvalue(run->res, 0, i),
                             PQgetlength(run->res, 0, i));
        }

        return ngx_http_video_api_views_send_stats(r, n[0], n[1], n[2], n[3]);

    case VIEWS_RESET_ASK:
        daily = (vctx->period[0] == 'd');

        argv[0] = daily ? "d" : "m";
        argvlen[0] = 1;
        argv[1] = (char *) vctx->day.data;
        argvlen[1] = daily ? vctx->day.len : vctx->month.len;
        argv[2] = daily ? VIDEO_VIEWS_DAY_TTL : VIDEO_VIEWS_MONTH_TTL;
        argvlen[2] = ngx_strlen(argv[2]);

        return ngx_http_video_api_run_eval(run, VIEWS_RESET_REPLY,
                                           &views_reset_script, 0, 3, argv,
                                           argvlen);

    case VIEWS_RESET_REPLY:
        if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
            || reply->elements != 3
            || reply->element[1]->type != REDIS_REPLY_INTEGER
            || reply->element[2]->type != REDIS_REPLY_INTEGER)
        {
            return ngx_http_video_api_run_failed(run);
        }

        e = reply->element;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "video_api: %s views reset", vctx->period);

        /* the number of videos: the id set when complete, else PostgreSQL */

        if (e[2]->integer == 1) {
            return ngx_http_video_api_views_reset_sent(r, vctx,
                                                       e[1]->integer);
        }

        return ngx_http_video_api_run_query(run, VIEWS_RESET_COUNTED,
                                            &views_count_stmt, 0, NULL);

    default: /* VIEWS_RESET_COUNTED */
        if (!ngx_http_video_api_run_ok(run) || PQntuples(run->res) != 1) {
            return ngx_http_video_api_run_failed(run);
        }

        return ngx_http_video_api_views_reset_sent(r, vctx,
                   ngx_atoof((u_char *) PQgetvalue(run->res, 0, 0),
                             PQgetlength(run->res, 0, 0)));
    }
}
