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
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "video_hmac.h"
#include "video_id.h"
#include "video_views.h"


#define VIEWS_LIST_MAX  128     /* videos a page's figures are read for */


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


static ngx_http_video_api_redis_script_t  views_count_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_COUNT_LUA);

static ngx_http_video_api_redis_script_t  views_stats_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_STATS_LUA);

static ngx_http_video_api_redis_script_t  views_many_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_MANY_LUA);

static ngx_http_video_api_redis_script_t  views_reset_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_RESET_LUA);


static ngx_http_video_api_pg_stmt_t  views_exists_stmt =
    ngx_http_video_api_pg_stmt("views_exists",
        "SELECT 1 FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $2, $3)");

/*
 * Stats without Redis: the copies the worker keeps on the videos row,
 * today's and this month's only while they are of this day and month
 * ($2, $3), and the day's unique viewers rolled up so far
 */
static ngx_http_video_api_pg_stmt_t  views_stats_stmt =
    ngx_http_video_api_pg_stmt("views_stats",
        "SELECT CASE WHEN split_part(p.day, ':', 1) = $2"
        "  THEN v.views_today ELSE 0 END,"
        " CASE WHEN split_part(p.month, ':', 1) = $3"
        "  THEN v.views_month ELSE 0 END,"
        " v.views_total,"
        " COALESCE((SELECT d.unique_viewers FROM video_views_daily d"
        "  WHERE d.video_id = v.id AND d.day = $2::date), 0)"
        " FROM videos v CROSS JOIN analytics_period p WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $4, $5)");

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
    u_char                       viewer[32];
    char                        *values[5];
    char                        *account;    /* the caller, for SQL */
    char                        *role;       /* "token": already decided */
    char                        *period;     /* of a reset: "daily", ... */
    unsigned                     known:1;    /* PostgreSQL has the video */
    unsigned                     recheck:1;  /* ask Redis once it is known */
    unsigned                     stats:1;    /* the stats route's */
} ngx_http_video_api_views_ctx_t;


typedef struct {
    u_char                            *json;
    size_t                             len;
    video_views_slot_t                *slots;
    size_t                             n;
    ngx_http_video_api_views_send_pt   send;
} ngx_http_video_api_views_list_t;


static ngx_int_t ngx_http_video_api_views_count(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx);
static ngx_int_t ngx_http_video_api_views_scope(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx);
static void ngx_http_video_api_views_counted(ngx_http_request_t *r,
    void *data, redisReply *reply);
static void ngx_http_video_api_views_exists_done(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static ngx_int_t ngx_http_video_api_views_stats_redis(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx);
static void ngx_http_video_api_views_stats_reply(ngx_http_request_t *r,
    void *data, redisReply *reply);
static ngx_int_t ngx_http_video_api_views_stats_db(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx);
static void ngx_http_video_api_views_stats_done(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static void ngx_http_video_api_views_reset_reply(ngx_http_request_t *r,
    void *data, redisReply *reply);
static void ngx_http_video_api_views_reset_done(
    ngx_http_video_api_pg_op_t *op, PGresult *res);
static void ngx_http_video_api_views_list_reply(ngx_http_request_t *r,
    void *data, redisReply *reply);


/* helpers */

void
ngx_http_video_api_views_period(ngx_http_request_t *r, ngx_str_t *day,
    ngx_str_t *month)
{
    time_t                           now;
    ngx_tm_t                         tm;
    ngx_http_video_api_main_conf_t  *mcf;

    static time_t  last = -1;
    static u_char  today[sizeof("YYYY-MM-DD")];

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    now = ngx_time() + mcf->clock_offset;

    if (now < 0) {
        now = 0;
    }

    if (now != last) {
        ngx_gmtime(now, &tm);
        ngx_sprintf(today, "%04d-%02d-%02d", tm.ngx_tm_year, tm.ngx_tm_mon,
                    tm.ngx_tm_mday);
        last = now;
    }

    day->data = today;
    day->len = sizeof("YYYY-MM-DD") - 1;
    month->data = today;
    month->len = sizeof("YYYY-MM") - 1;
}


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
    vctx->day.data = vctx->today;
    vctx->month.data = vctx->today;

    return vctx;
}


static ngx_int_t
ngx_http_video_api_views_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Video with id '%V' not found", id);
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
        return ngx_http_video_api_views_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_views_ctx(r, &ctx->params[0]);
    if (vctx == NULL
        || ngx_http_video_api_views_viewer(r, vctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a play token is checked on the video itself (an embedded player) */

    if (ngx_http_video_api_caller_token(r) != NULL) {
        return ngx_http_video_api_views_scope(r, vctx);
    }

    return ngx_http_video_api_views_count(r, vctx);
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


/*
 * No cached copy of the video said whether the caller may see it: the
 * video is read as GET reads it (which answers 404 for one it may not
 * see, and fills the cache), then the script runs again, decided
 */

static ngx_int_t
ngx_http_video_api_views_scoped(ngx_http_request_t *r, void *data,
    ngx_str_t *json)
{
    ngx_http_video_api_views_ctx_t  *vctx = data;

    vctx->role = "token";

    return vctx->stats ? ngx_http_video_api_views_stats_redis(r, vctx)
                       : ngx_http_video_api_views_count(r, vctx);
}


static ngx_int_t
ngx_http_video_api_views_scope(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx)
{
    ngx_str_t  id;

    if (ngx_strcmp(vctx->role, "token") == 0) {

        /* decided already: the cache changed between the two reads */

        return ngx_http_video_api_views_not_found(r, &vctx->id);
    }

    id = vctx->id;

    return ngx_http_video_api_videos_load(r, &id, 0,
                                          ngx_http_video_api_views_scoped,
                                          vctx);
}


static ngx_int_t
ngx_http_video_api_views_count(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx)
{
    const char  *argv[7];
    size_t       argvlen[7];

    ngx_http_video_api_views_argv(vctx, argv, argvlen);
    argv[4] = (char *) vctx->viewer;
    argvlen[4] = sizeof(vctx->viewer);
    ngx_http_video_api_views_argv_caller(vctx, &argv[5], &argvlen[5]);

    /* ids added while Redis was away are known before this runs */

    ngx_http_video_api_cache_flush_stale(r);

    if (ngx_http_video_api_redis_eval(r, &views_count_script,
                                      ngx_http_video_api_views_counted, vctx,
                                      0, 7, argv, argvlen)
        != NGX_OK)
    {
        return ngx_http_video_api_send_unavailable(r, "Redis");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_video_api_views_counted(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_int_t                        rc;
    ngx_http_video_api_views_ctx_t  *vctx = data;

    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        rc = ngx_http_video_api_send_unavailable(r, "Redis");

    } else if (reply->integer == 1) {
        rc = ngx_http_video_api_send_wrapped(r, NGX_HTTP_OK, "",
                                             views_tracked,
                                             sizeof(views_tracked) - 1, "");

    } else if (reply->integer == -3) {
        rc = ngx_http_video_api_views_scope(r, vctx);

    } else if (reply->integer == -2 && !vctx->known) {

        /* the id set is being filled: PostgreSQL says whether it exists */

        vctx->values[0] = (char *) vctx->id.data;
        vctx->values[1] = vctx->account;
        vctx->values[2] = vctx->role;
        rc = ngx_http_video_api_pg_query(r, &views_exists_stmt, 3,
                 vctx->values, ngx_http_video_api_views_exists_done, vctx, 0);

    } else {
        rc = ngx_http_video_api_views_not_found(r, &vctx->id);
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_video_api_views_exists_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                        rc;
    ngx_http_request_t              *r;
    ngx_http_video_api_views_ctx_t  *vctx;

    r = op->request;
    vctx = op->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = ngx_http_video_api_pg_failed(r, res);

    } else if (PQntuples(res) == 0) {
        rc = ngx_http_video_api_views_not_found(r, &vctx->id);

    } else {
        vctx->known = 1;
        rc = ngx_http_video_api_views_count(r, vctx);
    }

    ngx_http_finalize_request(r, rc);
}


/* GET /api/analytics/stats/:id */

static ngx_int_t
ngx_http_video_api_views_stats(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_views_ctx_t  *vctx;

    if (!video_id_valid((char *) ctx->params[0].data, ctx->params[0].len)) {
        return ngx_http_video_api_views_not_found(r, &ctx->params[0]);
    }

    vctx = ngx_http_video_api_views_ctx(r, &ctx->params[0]);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    vctx->stats = 1;

    return ngx_http_video_api_views_stats_redis(r, vctx);
}


static ngx_int_t
ngx_http_video_api_views_stats_redis(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx)
{
    const char  *argv[6];
    size_t       argvlen[6];

    ngx_http_video_api_views_argv(vctx, argv, argvlen);
    ngx_http_video_api_views_argv_caller(vctx, &argv[4], &argvlen[4]);

    ngx_http_video_api_cache_flush_stale(r);

    if (ngx_http_video_api_redis_eval(r, &views_stats_script,
                                      ngx_http_video_api_views_stats_reply,
                                      vctx, 0, 6, argv, argvlen)
        != NGX_OK)
    {
        return ngx_http_video_api_views_stats_db(r, vctx);
    }

    r->main->count++;

    return NGX_DONE;
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


static void
ngx_http_video_api_views_stats_reply(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_int_t                        rc;
    ngx_uint_t                       i;
    redisReply                     **e;
    ngx_http_video_api_views_ctx_t  *vctx = data;

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER) {

        if (reply->integer == -1) {
            ngx_http_finalize_request(r,
                ngx_http_video_api_views_not_found(r, &vctx->id));
            return;
        }

        if (reply->integer == -3) {
            ngx_http_finalize_request(r,
                ngx_http_video_api_views_scope(r, vctx));
            return;
        }

        /* -2: PostgreSQL says whether it exists, then Redis answers */

        vctx->recheck = !vctx->known;

    } else if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
               && reply->elements == 5)
    {
        e = reply->element;

        for (i = 0; i < 5; i++) {
            if (e[i]->type != REDIS_REPLY_INTEGER) {
                break;
            }
        }

        /* counters not loaded from PostgreSQL yet: its figures */

        if (i == 5 && e[0]->integer == 1) {
            rc = ngx_http_video_api_views_send_stats(r, e[1]->integer,
                                                     e[2]->integer,
                                                     e[3]->integer,
                                                     e[4]->integer);
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    ngx_http_finalize_request(r, ngx_http_video_api_views_stats_db(r, vctx));
}


static ngx_int_t
ngx_http_video_api_views_stats_db(ngx_http_request_t *r,
    ngx_http_video_api_views_ctx_t *vctx)
{
    vctx->values[0] = (char *) vctx->id.data;

    vctx->values[1] = (char *) vctx->today;

    vctx->values[2] = ngx_pnalloc(r->pool, sizeof("YYYY-MM"));
    if (vctx->values[2] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn((u_char *) vctx->values[2], vctx->month.data,
                sizeof("YYYY-MM"));

    vctx->values[3] = vctx->account;
    vctx->values[4] = vctx->role;

    return ngx_http_video_api_pg_query(r, &views_stats_stmt, 5,
                 vctx->values, ngx_http_video_api_views_stats_done, vctx, 0);
}


static void
ngx_http_video_api_views_stats_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    int                              i;
    ngx_int_t                        rc;
    long long                        v[4];
    ngx_http_request_t              *r;
    ngx_http_video_api_views_ctx_t  *vctx;

    r = op->request;
    vctx = op->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = ngx_http_video_api_pg_failed(r, res);

    } else if (PQntuples(res) == 0) {
        rc = ngx_http_video_api_views_not_found(r, &vctx->id);

    } else if (vctx->recheck) {
        vctx->recheck = 0;
        vctx->known = 1;
        rc = ngx_http_video_api_views_stats_redis(r, vctx);

    } else {
        for (i = 0; i < 4; i++) {
            v[i] = ngx_atoof((u_char *) PQgetvalue(res, 0, i),
                             PQgetlength(res, 0, i));
        }

        rc = ngx_http_video_api_views_send_stats(r, v[0], v[1], v[2], v[3]);
    }

    ngx_http_finalize_request(r, rc);
}


/* POST /api/analytics/reset/daily, /reset/monthly */

static ngx_int_t
ngx_http_video_api_views_reset(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_uint_t                       daily;
    const char                      *argv[3];
    size_t                           argvlen[3];
    ngx_http_video_api_views_ctx_t  *vctx;

    vctx = ngx_http_video_api_views_ctx(r, NULL);
    if (vctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    daily = (ngx_strcmp(ctx->route->pattern, "/api/analytics/reset/daily")
             == 0);

    vctx->period = daily ? "daily" : "monthly";

    argv[0] = daily ? "d" : "m";
    argvlen[0] = 1;
    argv[1] = (char *) vctx->day.data;
    argvlen[1] = daily ? vctx->day.len : vctx->month.len;
    argv[2] = daily ? VIDEO_VIEWS_DAY_TTL : VIDEO_VIEWS_MONTH_TTL;
    argvlen[2] = ngx_strlen(argv[2]);

    if (ngx_http_video_api_redis_eval(r, &views_reset_script,
                                      ngx_http_video_api_views_reset_reply,
                                      vctx, 0, 3, argv, argvlen)
        != NGX_OK)
    {
        return ngx_http_video_api_send_unavailable(r, "Redis");
    }

    r->main->count++;

    return NGX_DONE;
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


static void
ngx_http_video_api_views_reset_reply(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_int_t                        rc;
    redisReply                     **e;
    ngx_http_video_api_views_ctx_t  *vctx = data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3
        || reply->element[1]->type != REDIS_REPLY_INTEGER
        || reply->element[2]->type != REDIS_REPLY_INTEGER)
    {
        ngx_http_finalize_request(r,
            ngx_http_video_api_send_unavailable(r, "Redis"));
        return;
    }

    e = reply->element;

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "video_api: %s views reset", vctx->period);

    /* the number of videos: the id set when complete, else PostgreSQL */

    if (e[2]->integer == 1) {
        rc = ngx_http_video_api_views_reset_sent(r, vctx, e[1]->integer);

    } else {
        rc = ngx_http_video_api_pg_query(r, &views_count_stmt, 0,
                 vctx->values, ngx_http_video_api_views_reset_done, vctx, 0);
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_video_api_views_reset_done(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    ngx_int_t                        rc;
    ngx_http_request_t              *r;
    ngx_http_video_api_views_ctx_t  *vctx;

    r = op->request;
    vctx = op->data;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK
        || PQntuples(res) != 1)
    {
        rc = ngx_http_video_api_pg_failed(r, res);

    } else {
        rc = ngx_http_video_api_views_reset_sent(r, vctx,
                 ngx_atoof((u_char *) PQgetvalue(res, 0, 0),
                           PQgetlength(res, 0, 0)));
    }

    ngx_http_finalize_request(r, rc);
}


/* the video objects in JSON text: their slots, found */

static ngx_http_video_api_views_list_t *
ngx_http_video_api_views_list(ngx_http_request_t *r, u_char *json,
    size_t len, ngx_http_video_api_views_send_pt send)
{
    ngx_http_video_api_views_list_t  *list;

    list = ngx_palloc(r->pool, sizeof(ngx_http_video_api_views_list_t));
    if (list == NULL) {
        return NULL;
    }

    list->slots = ngx_palloc(r->pool,
                             VIEWS_LIST_MAX * sizeof(video_views_slot_t));
    if (list->slots == NULL) {
        return NULL;
    }

    list->json = json;
    list->len = len;
    list->send = send;
    list->n = video_views_scan((char *) json, len, list->slots,
                               VIEWS_LIST_MAX);

    return list;
}


/* writes today, month, total per slot from figures in, and answers */

static ngx_int_t
ngx_http_video_api_views_write(ngx_http_request_t *r,
    ngx_http_video_api_views_list_t *list, int64_t *figures)
{
    size_t   i;
    u_char  *out;

    for (i = 0; i < list->n; i++) {
        list->slots[i].today = figures[3 * i];
        list->slots[i].month = figures[3 * i + 1];
        list->slots[i].total = figures[3 * i + 2];
    }

    out = ngx_pnalloc(r->pool,
                      list->len + list->n * VIDEO_VIEWS_SLOT_GROWTH);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return list->send(r, out,
                      video_views_write((char *) list->json, list->len,
                                        list->slots, list->n, (char *) out));
}


/*
 * Live figures for the video objects in JSON text (a list page): read in
 * one script, written in, then passed to send.  Without Redis, or before
 * its counters are loaded, the text goes as it is.
 */

ngx_int_t
ngx_http_video_api_views_live(ngx_http_request_t *r, u_char *json,
    size_t len, ngx_http_video_api_views_send_pt send)
{
    size_t                            i;
    size_t                           *argvlen;
    u_char                           *copy;
    ngx_str_t                         day, month;
    const char                      **argv;
    ngx_http_video_api_views_list_t  *list;

    list = ngx_http_video_api_views_list(r, json, len, send);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (list->n == 0) {
        return send(r, json, len);
    }

    argv = ngx_palloc(r->pool, (list->n + 2) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (list->n + 2) * sizeof(size_t));

    /* the text may live in a reply or result freed before ours comes */

    copy = ngx_pnalloc(r->pool, len);

    if (argv == NULL || argvlen == NULL || copy == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(copy, json, len);
    list->json = copy;

    ngx_http_video_api_views_period(r, &day, &month);

    argv[0] = (char *) day.data;
    argvlen[0] = day.len;
    argv[1] = (char *) month.data;
    argvlen[1] = month.len;

    for (i = 0; i < list->n; i++) {
        list->slots[i].id = (char *) copy + (list->slots[i].id - (char *) json);
        argv[i + 2] = list->slots[i].id;
        argvlen[i + 2] = VIDEO_ID_LEN;
    }

    if (ngx_http_video_api_redis_eval(r, &views_many_script,
                                      ngx_http_video_api_views_list_reply,
                                      list, 0, list->n + 2, argv, argvlen)
        != NGX_OK)
    {
        return send(r, list->json, list->len);
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_video_api_views_list_reply(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    size_t                            i;
    int64_t                          *figures;
    ngx_http_video_api_views_list_t  *list = data;

    figures = ngx_palloc(r->pool, 3 * list->n * sizeof(int64_t));

    if (figures == NULL || reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 1 + 3 * list->n
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[0]->integer != 1)
    {
        ngx_http_finalize_request(r, list->send(r, list->json, list->len));
        return;
    }

    for (i = 0; i < 3 * list->n; i++) {
        if (reply->element[i + 1]->type != REDIS_REPLY_INTEGER) {
            ngx_http_finalize_request(r,
                                      list->send(r, list->json, list->len));
            return;
        }

        figures[i] = reply->element[i + 1]->integer;
    }

    ngx_http_finalize_request(r,
        ngx_http_video_api_views_write(r, list, figures));
}


/*
 * As ngx_http_video_api_views_live() with the figures read already,
 * along with the page: three per id in ids (n * 21 bytes), in the order
 * of the page
 */

ngx_int_t
ngx_http_video_api_views_send(ngx_http_request_t *r, u_char *json,
    size_t len, u_char *ids, size_t n, int64_t *figures, ngx_uint_t loaded,
    ngx_http_video_api_views_send_pt send)
{
    size_t                            i;
    ngx_http_video_api_views_list_t  *list;

    if (!loaded) {
        return send(r, json, len);
    }

    list = ngx_http_video_api_views_list(r, json, len, send);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the figures are for the ids the page was stored with: check */

    if (list->n != n) {
        return ngx_http_video_api_views_live(r, json, len, send);
    }

    for (i = 0; i < n; i++) {
        if (ngx_memcmp(list->slots[i].id, ids + i * VIDEO_ID_LEN,
                       VIDEO_ID_LEN)
            != 0)
        {
            return ngx_http_video_api_views_live(r, json, len, send);
        }
    }

    return ngx_http_video_api_views_write(r, list, figures);
}
