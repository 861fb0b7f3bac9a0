/*
 * GET /api/videos: the library, a page at a time, by offset or by cursor,
 * filtered and searched, scoped by the caller; pages are cached in Redis
 * under a version every change to the library moves on, keyed by the
 * caller's audience, and carry live view figures.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_videos.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_views.h"
#include "video_cache.h"
#include "video_cursor.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_validate.h"
#include "video_views.h"


#define VIDEOS_LIMIT_DEFAULT  20
#define VIDEOS_LIMIT_MAX      100
#define VIDEOS_OFFSET_MAX     1000000000
#define VIDEOS_QUERY_MAX      200

/* a cached list page's key: this and the page's query */
#define VIDEOS_LIST_PAGE      "video:list:page:"


/*
 * The list: one statement answers the page, the total and the cursor.
 * Its parameters are named below; with a cursor, the caller's account
 * and role come after the cursor's two.  Filters use "$n IS NULL OR";
 * the total of every video or of the PUBLIC ones (admins', anonymous
 * callers') without a search comes from the trigger-kept video_counts,
 * not a count over the table.
 */

#define VIDEOS_FILTERS(t)                                                     \
    " ($3::video_status IS NULL OR " t ".status = $3)"                        \
    " AND ($4::video_visibility IS NULL OR " t ".visibility = $4)"            \
    " AND ($5::video_type IS NULL OR " t ".video_type = $5)"

#define VIDEOS_LIST_SQL(keyset, account, role)                                \
    "WITH page AS ("                                                          \
    " SELECT s.v, row_number() OVER"                                          \
    "  (ORDER BY s.created_at DESC, s.id DESC) AS rn"                         \
    " FROM (SELECT x AS v, x.created_at, x.id FROM videos x"                  \
    "  WHERE" VIDEOS_FILTERS("x")                                             \
    "  AND video_listed(x.account_id, x.visibility, " account ", " role ")"  \
    "  AND ($6::text IS NULL OR x.title ILIKE $6)"                            \
    keyset                                                                    \
    "  ORDER BY x.created_at DESC, x.id DESC"                                 \
    "  LIMIT $7::int + 1 OFFSET $8::bigint) s)"                               \
    " SELECT CASE WHEN $6::text IS NULL"                                      \
    "  AND " role " NOT IN ('viewer', 'editor') THEN"                         \
    "  (SELECT COALESCE(sum(c.n), 0) FROM video_counts c"                     \
    "   WHERE" VIDEOS_FILTERS("c")                                            \
    "   AND (" role " = 'admin' OR c.visibility = 'PUBLIC'))"                 \
    "  ELSE (SELECT count(*) FROM videos x WHERE" VIDEOS_FILTERS("x")         \
    "   AND video_listed(x.account_id, x.visibility, " account ", " role ")" \
    "   AND ($6::text IS NULL OR x.title ILIKE $6)) END::text,"               \
    " COALESCE(json_agg(video_json(page.v, $1, $2) ORDER BY page.rn)"         \
    "  FILTER (WHERE page.rn <= $7), '[]')::text,"                            \
    " CASE WHEN count(*) > $7 THEN max(CASE WHEN page.rn = $7 THEN"           \
    "  (extract(epoch FROM (page.v).created_at) * 1000000)::bigint END)"      \
    "  END::text,"                                                            \
    " CASE WHEN count(*) > $7 THEN"                                           \
    "  max(CASE WHEN page.rn = $7 THEN (page.v).id END) END"                  \
    " FROM page"

enum {
    LIST_PLAY_BASE = 0,
    LIST_THUMB_BASE,
    LIST_STATUS,
    LIST_VISIBILITY,
    LIST_TYPE,
    LIST_TITLE,
    LIST_LIMIT,
    LIST_OFFSET,
    LIST_ACCOUNT,
    LIST_ROLE,
    LIST_NPARAMS
};

enum {
    AFTER_MICROS = LIST_ACCOUNT,
    AFTER_ID,
    AFTER_ACCOUNT,
    AFTER_ROLE,
    AFTER_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  videos_list_stmt =
    ngx_http_video_api_pg_scoped("videos_list",
                                 VIDEOS_LIST_SQL("", "$9", "$10"),
                                 LIST_ACCOUNT + 1, LIST_ROLE + 1);

static ngx_http_video_api_pg_stmt_t  videos_list_after_stmt =
    ngx_http_video_api_pg_scoped("videos_list_after", VIDEOS_LIST_SQL(
        "  AND (x.created_at, x.id) < ('epoch'::timestamptz"
        "   + $9::bigint * interval '1 microsecond', $10::text)",
        "$11", "$12"),
        AFTER_ACCOUNT + 1, AFTER_ROLE + 1);


typedef enum {
    LIST_ASK = 0,
    LIST_FIGURES,
    LIST_PAGE,
    LIST_CHOOSE,
    LIST_DB,
    LIST_ROWS,
    LIST_ANSWER
} ngx_http_video_api_videos_list_step_e;

static const char *const  videos_list_names[] = {
    "ask", "figures", "page", "choose", "database", "rows", "answer"
};

static ngx_int_t ngx_http_video_api_videos_list_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  videos_list_steps = {
    "videos list", ngx_http_video_api_videos_list_step, videos_list_names
};


/* GET /api/videos */

typedef struct {
    ngx_uint_t                     limit;
    ngx_uint_t                     offset;
    char                          *values[AFTER_NPARAMS];
    ngx_http_video_api_pg_stmt_t  *stmt;
    ngx_http_video_api_views_t     views;
    ngx_str_t                      qkey;      /* the page's cache key part */
    ngx_str_t                      page;      /* the page's cache key */
    ngx_str_t                      version;   /* of the lists, when read */
    int64_t                       *figures;   /* of the cached page */
    size_t                         nfigures;
    ngx_str_t                      cached;    /* the page */
    unsigned                       usable:1;  /* the cached page is */
    unsigned                       loaded:1;
    unsigned                       public:1;  /* an anonymous caller's */
} ngx_http_video_api_videos_list_t;


/* the lists' version, the page cached under it and its videos' figures */
static ngx_http_video_api_redis_script_t  videos_list_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_LIST_LUA);




/* a query argument, %-decoded ("+" is a space), NUL-terminated */

static ngx_int_t
ngx_http_video_api_videos_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    u_char     *src, *dst;
    ngx_str_t   raw;
    ngx_uint_t  i;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(r->pool, raw.len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < raw.len; i++) {
        value->data[i] = (raw.data[i] == '+') ? ' ' : raw.data[i];
    }

    src = value->data;
    dst = value->data;
    ngx_unescape_uri(&dst, &src, raw.len, 0);

    value->len = dst - value->data;
    value->data[value->len] = '\0';

    return NGX_OK;
}


/* an enum filter: absent (NULL), valid (its value) or a detail added */

static ngx_int_t
ngx_http_video_api_videos_enum_arg(ngx_http_request_t *r, char *name,
    const char *const *names, char **out, json_t *details)
{
    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t   v;
    ngx_uint_t  i;
    u_char      msg[128];

    *out = NULL;

    rc = ngx_http_video_api_videos_arg(r, name, &v);
    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    if (video_enum_index(names, (char *) v.data, v.len) >= 0) {
        *out = (char *) v.data;
        return NGX_OK;
    }

    p = ngx_snprintf(msg, sizeof(msg) - 1, "%s must be one of", name);

    for (i = 0; names[i] != NULL; i++) {
        p = ngx_snprintf(p, msg + sizeof(msg) - 1 - p, "%s %s",
                         i ? "," : "", names[i]);
    }

    *p = '\0';

    return video_detail_add(details, name, (char *) msg) == 0
           ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_video_api_videos_number_arg(ngx_http_request_t *r, char *name,
    ngx_uint_t min, ngx_uint_t max, ngx_uint_t *out, json_t *details,
    const char *message)
{
    ngx_int_t  n;
    ngx_str_t  v;

    if (ngx_http_video_api_videos_arg(r, name, &v) != NGX_OK) {
        return NGX_OK;
    }

    n = ngx_atoi(v.data, v.len);

    if (n == NGX_ERROR || (ngx_uint_t) n < min || (ngx_uint_t) n > max) {
        return video_detail_add(details, name, message) == 0
               ? NGX_OK : NGX_ERROR;
    }

    *out = n;

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_videos_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    u_char                            *p;
    char                             **v;
    json_t                            *details;
    int64_t                            micros;
    ngx_str_t                          q, cursor, audience;
    ngx_uint_t                         i;
    ngx_http_video_api_pg_stmt_t      *stmt;
    ngx_http_video_api_main_conf_t    *mcf;
    ngx_http_video_api_videos_list_t  *list;

    list = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_videos_list_t));
    details = json_array();

    if (list == NULL || details == NULL) {
        json_decref(details);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = list->values;
    list->limit = VIDEOS_LIMIT_DEFAULT;
    stmt = &videos_list_stmt;
    ngx_str_null(&q);
    ngx_str_null(&cursor);

    ngx_http_video_api_video_bases(r, &v[LIST_PLAY_BASE]);

    if (ngx_http_video_api_videos_number_arg(r, "limit", 1, VIDEOS_LIMIT_MAX,
            &list->limit, details,
            "limit must be an integer from 1 to 100") != NGX_OK
        || ngx_http_video_api_videos_number_arg(r, "offset", 0,
               VIDEOS_OFFSET_MAX, &list->offset, details,
               "offset must be a non-negative integer") != NGX_OK
        || ngx_http_video_api_videos_enum_arg(r, "status", video_statuses,
               &v[LIST_STATUS], details) != NGX_OK
        || ngx_http_video_api_videos_enum_arg(r, "visibility",
               video_visibilities, &v[LIST_VISIBILITY], details) != NGX_OK
        || ngx_http_video_api_videos_enum_arg(r, "videoType", video_types,
               &v[LIST_TYPE], details) != NGX_OK)
    {
        json_decref(details);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* ?q=: a title search, its LIKE wildcards escaped */

    if (ngx_http_video_api_videos_arg(r, "q", &q) == NGX_OK && q.len > 0) {
        if (video_utf8_length((char *) q.data, q.len) < 0
            || video_utf8_length((char *) q.data, q.len) > VIDEOS_QUERY_MAX
            || ngx_strlchr(q.data, q.data + q.len, '\0') != NULL)
        {
            video_detail_add(details, "q",
                             "q must be valid text of at most 200 "
                             "characters");
        } else {
            p = ngx_pnalloc(r->pool, 2 * q.len + 3);
            if (p == NULL) {
                json_decref(details);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            v[LIST_TITLE] = (char *) p;
            *p++ = '%';

            for (i = 0; i < q.len; i++) {
                if (q.data[i] == '%' || q.data[i] == '_'
                    || q.data[i] == '\\')
                {
                    *p++ = '\\';
                }

                *p++ = q.data[i];
            }

            *p++ = '%';
            *p = '\0';
        }
    }

    /* ?cursor=: continue after a page; offset does not apply then */

    if (ngx_http_video_api_videos_arg(r, "cursor", &cursor) == NGX_OK) {
        v[AFTER_MICROS] = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
        v[AFTER_ID] = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);

        if (v[AFTER_MICROS] == NULL || v[AFTER_ID] == NULL) {
            json_decref(details);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (video_cursor_decode((char *) cursor.data, cursor.len, &micros,
                                v[AFTER_ID])
            != 0)
        {
            video_detail_add(details, "cursor",
                             "cursor is not one this API returned");
        } else {
            *ngx_sprintf((u_char *) v[AFTER_MICROS], "%L", micros) = '\0';
            v[AFTER_ID][VIDEO_ID_LEN] = '\0';
            list->offset = 0;
            stmt = &videos_list_after_stmt;
        }
    }

    if (json_array_size(details) > 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    json_decref(details);

    v[LIST_LIMIT] = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);
    v[LIST_OFFSET] = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);

    if (v[LIST_LIMIT] == NULL || v[LIST_OFFSET] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf((u_char *) v[LIST_LIMIT], "%ui", list->limit) = '\0';
    *ngx_sprintf((u_char *) v[LIST_OFFSET], "%ui", list->offset) = '\0';

    list->stmt = stmt;

    ngx_http_video_api_caller_audience(r, &audience);
    list->public = (audience.len == 0);

    mcf = ngx_http_video_api_videos_conf(r);

    if (!mcf->redis_set || mcf->redis.list_ttl == 0) {
        return ngx_http_video_api_run(r, &videos_list_steps, list, LIST_DB);
    }

    /* pages are cached under the lists' version, which writes increment */

    /* and by whom they were read: each audience sees other videos */

    list->qkey.data = ngx_pnalloc(r->pool, 6 * NGX_INT_T_LEN + 2 * q.len
                                           + cursor.len + audience.len + 64);
    if (list->qkey.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list->qkey.len = ngx_sprintf(list->qkey.data,
                                 "u=%V&l=%ui&o=%ui&s=%s&v=%s&t=%s&c=%s&q=%s",
                                 &audience, list->limit, list->offset,
                                 v[LIST_STATUS] ? v[LIST_STATUS] : "",
                                 v[LIST_VISIBILITY] ? v[LIST_VISIBILITY] : "",
                                 v[LIST_TYPE] ? v[LIST_TYPE] : "",
                                 stmt == &videos_list_stmt
                                 ? "" : v[AFTER_MICROS],
                                 v[LIST_TITLE] ? v[LIST_TITLE] : "")
                     - list->qkey.data;

    list->page.len = sizeof(VIDEOS_LIST_PAGE) - 1 + list->qkey.len;
    list->page.data = ngx_pnalloc(r->pool, list->page.len);
    if (list->page.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(list->page.data, VIDEOS_LIST_PAGE "%V", &list->qkey);

    return ngx_http_video_api_run(r, &videos_list_steps, list, LIST_ASK);
}


/*
 * The lists' version and the cached page's figures from a script, then
 * the page by a plain GET on the same connection: one round trip, and the
 * page never passes through Lua
 */

static ngx_int_t
ngx_http_video_api_videos_list_ask(ngx_http_video_api_run_t *run,
    ngx_http_video_api_videos_list_t *list)
{
    ngx_int_t            rc;
    ngx_str_t            day, month;
    ngx_uint_t           pending;
    const char          *argv[4];
    size_t               argvlen[4];
    ngx_http_request_t  *r;

    r = run->request;

    ngx_http_video_api_cache_flush_stale(r);
    ngx_http_video_api_views_period(r, &day, &month);

    argv[0] = NGX_HTTP_VIDEO_API_LIST_VERSION;
    argvlen[0] = sizeof(NGX_HTTP_VIDEO_API_LIST_VERSION) - 1;
    argv[1] = (char *) list->page.data;
    argvlen[1] = list->page.len;
    argv[2] = (char *) day.data;
    argvlen[2] = day.len;
    argv[3] = (char *) month.data;
    argvlen[3] = month.len;

    pending = run->pending;

    rc = ngx_http_video_api_run_eval(run, LIST_FIGURES, &videos_list_script,
                                     2, 4, argv, argvlen);

    if (run->pending == pending) {

        /* Redis cannot take it: straight to PostgreSQL */

        return ngx_http_video_api_run_goto(run, LIST_DB);
    }

    if (rc != NGX_DONE) {
        return rc;
    }

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (char *) list->page.data;
    argvlen[1] = list->page.len;

    return ngx_http_video_api_run_command(run, LIST_PAGE, 2, argv, argvlen);
}


/* the first reply: the lists' version and the cached page's figures */

static void
ngx_http_video_api_videos_list_figures(ngx_http_request_t *r,
    ngx_http_video_api_videos_list_t *list, redisReply *reply)
{
    size_t        i, j, n;
    redisReply  **e, *f;
    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY
        && reply->elements >= 2
        && reply->element[0]->type == REDIS_REPLY_STRING
        && reply->element[1]->type == REDIS_REPLY_INTEGER)
    {
        e = reply->element;

        list->version.data = ngx_pnalloc(r->pool, e[0]->len);
        if (list->version.data != NULL) {
            ngx_memcpy(list->version.data, e[0]->str, e[0]->len);
            list->version.len = e[0]->len;
        }

        list->usable = (e[1]->integer == 1);

        /* {v, 1, loaded, todays, months, totals}, or {v, 1, 0}: none */

        if (list->usable && reply->elements == 6
            && e[2]->type == REDIS_REPLY_INTEGER && e[2]->integer == 1
            && e[3]->type == REDIS_REPLY_ARRAY)
        {
            n = e[3]->elements;
            list->figures = ngx_palloc(r->pool, 3 * n * sizeof(int64_t));
            list->loaded = (list->figures != NULL);

            for (j = 0; j < 3 && list->loaded; j++) {
                if (e[3 + j]->type != REDIS_REPLY_ARRAY
                    || e[3 + j]->elements != n)
                {
                    list->loaded = 0;
                    break;
                }

                for (i = 0; i < n; i++) {
                    f = e[3 + j]->element[i];
                    list->figures[3 * i + j] =
                        (f->type == REDIS_REPLY_STRING)
                        ? ngx_atoof((u_char *) f->str, f->len) : 0;

                    if (list->figures[3 * i + j] < 0) {
                        list->loaded = 0;
                    }
                }
            }

            list->nfigures = list->loaded ? 3 * n : 0;
        }
    }
}


/* both replies are in: the cached page p (NULL: none), or PostgreSQL's */

static ngx_int_t
ngx_http_video_api_videos_list_page(ngx_http_video_api_run_t *run,
    ngx_http_video_api_videos_list_t *list, u_char *p, size_t len)
{
    u_char     *last, *colon;
    ngx_int_t   n;

    if (p != NULL && list->usable) {
        last = p + len;

        /* the page of the version the script saw, with as many figures */

        if (len > list->version.len
            && ngx_memcmp(p, list->version.data, list->version.len) == 0
            && p[list->version.len] == ':')
        {
            p += list->version.len + 1;
            colon = ngx_strlchr(p, last, ':');
            n = (colon != NULL) ? ngx_atoi(p, colon - p) : NGX_ERROR;

            if (n != NGX_ERROR && last - colon > n * VIDEO_ID_LEN
                && (!list->loaded || list->nfigures == (size_t) n * 3))
            {
                p = colon + 1 + n * VIDEO_ID_LEN;
                ngx_http_video_api_metrics_cache(
                    NGX_HTTP_VIDEO_API_M_CACHE_LIST_HIT, 1);

                switch (ngx_http_video_api_views_known(run->request,
                            &list->views, p, last - p, colon + 1, n,
                            list->figures, list->loaded))
                {
                case NGX_OK:
                    return ngx_http_video_api_run_goto(run, LIST_ANSWER);

                case NGX_DECLINED:
                    return ngx_http_video_api_views_read(run, &list->views,
                                                         p, last - p,
                                                         LIST_ANSWER);

                default:
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }
            }
        }
    }

    /* a miss: the page from PostgreSQL fills the cache for this version */

    ngx_http_video_api_metrics_cache(NGX_HTTP_VIDEO_API_M_CACHE_LIST_HIT, 0);

    return ngx_http_video_api_run_goto(run, LIST_DB);
}


/* stores a page under the version it was read for; nobody waits */

static void
ngx_http_video_api_videos_list_put(ngx_http_request_t *r,
    ngx_http_video_api_videos_list_t *list, ngx_str_t *data)
{
    u_char                          *ttl, *value, *p;
    size_t                           i, n;
    const char                      *argv[5];
    size_t                           argvlen[5];
    video_views_slot_t              *slots;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_videos_conf(r);

    ttl = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (ttl == NULL) {
        return;
    }

    /* "<version>:<n>:<the n ids>" first, for the figures read with it */

    slots = ngx_palloc(r->pool, VIDEOS_LIMIT_MAX * sizeof(video_views_slot_t));
    if (slots == NULL) {
        return;
    }

    n = video_views_scan((char *) data->data, data->len, slots,
                         VIDEOS_LIMIT_MAX);

    value = ngx_pnalloc(r->pool, list->version.len + NGX_SIZE_T_LEN + 2
                                 + n * VIDEO_ID_LEN + data->len);
    if (value == NULL) {
        return;
    }

    p = ngx_sprintf(value, "%V:%uz:", &list->version, n);

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, slots[i].id, VIDEO_ID_LEN);
    }

    p = ngx_cpymem(p, data->data, data->len);

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (char *) list->page.data;
    argvlen[1] = list->page.len;
    argv[2] = (char *) value;
    argvlen[2] = p - value;
    argv[3] = "PX";
    argvlen[3] = 2;
    argv[4] = (char *) ttl;
    argvlen[4] = ngx_sprintf(ttl, "%M", mcf->redis.list_ttl) - ttl;

    (void) ngx_http_video_api_redis_command(r,
                                            ngx_http_video_api_redis_ignore,
                                            NULL, 5, argv, argvlen);
}


static ngx_int_t
ngx_http_video_api_videos_list_rows(ngx_http_video_api_run_t *run,
    ngx_http_video_api_videos_list_t *list)
{
    u_char                            *p, *videos;
    size_t                             len, vlen;
    ngx_int_t                          micros;
    ngx_str_t                          data;
    PGresult                          *res;
    ngx_http_request_t                *r;
    char                               cursor[VIDEO_CURSOR_MAX + 1];

    r = run->request;
    res = run->res;

    if (!ngx_http_video_api_run_ok(run) || PQntuples(res) != 1) {
        return ngx_http_video_api_run_failed(run);
    }

    videos = (u_char *) PQgetvalue(res, 0, 1);
    vlen = PQgetlength(res, 0, 1);

    if (list->public
        && ngx_http_video_api_public_view(r, &videos, &vlen) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    if (!PQgetisnull(res, 0, 2)) {
        micros = ngx_atoi((u_char *) PQgetvalue(res, 0, 2),
                          PQgetlength(res, 0, 2));
        len = video_cursor_encode(cursor, micros, PQgetvalue(res, 0, 3));
    }

    data.data = ngx_pnalloc(r->pool,
                            sizeof("{\"videos\":,\"total\":,\"limit\":,"
                                   "\"offset\":,\"nextCursor\":null}")
                            + vlen + PQgetlength(res, 0, 0)
                            + 2 * NGX_INT_T_LEN + len + 2);
    if (data.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the page as the cache holds it: without tokens, which expire */

    p = ngx_sprintf(data.data, "{\"videos\":%*s,\"total\":%*s,\"limit\":%ui,"
                    "\"offset\":%ui,\"nextCursor\":",
                    vlen, videos,
                    (size_t) PQgetlength(res, 0, 0), PQgetvalue(res, 0, 0),
                    list->limit, list->offset);

    if (len > 0) {
        p = ngx_sprintf(p, "\"%*s\"}", len, cursor);

    } else {
        p = ngx_cpymem(p, "null}", sizeof("null}") - 1);
    }

    data.len = p - data.data;

    if (list->version.len) {
        ngx_http_video_api_videos_list_put(r, list, &data);
    }

    return ngx_http_video_api_views_read(run, &list->views, data.data,
                                         data.len, LIST_ANSWER);
}


static ngx_int_t
ngx_http_video_api_videos_list_step(ngx_http_video_api_run_t *run)
{
    redisReply                        *reply;
    ngx_http_video_api_videos_list_t  *list;

    list = run->data;
    reply = run->reply;

    switch (run->step) {

    case LIST_ASK:
        return ngx_http_video_api_videos_list_ask(run, list);

    /*
     * the last of the two replies goes on: the GET's came first when the
     * script had to be sent again as EVAL (Redis did not know it)
     */

    case LIST_FIGURES:
        ngx_http_video_api_videos_list_figures(run->request, list, reply);

        return run->pending ? NGX_DONE
                            : ngx_http_video_api_run_goto(run, LIST_CHOOSE);

    case LIST_PAGE:
        if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
            ngx_str_null(&list->cached);

        } else if (run->pending) {

            /* the figures are still to come: keep the page until then */

            list->cached.data = ngx_pnalloc(run->request->pool, reply->len);
            if (list->cached.data != NULL) {
                ngx_memcpy(list->cached.data, reply->str, reply->len);
                list->cached.len = reply->len;
            }

        } else {

            /* the reply lives until this step's run waits again */

            list->cached.data = (u_char *) reply->str;
            list->cached.len = reply->len;
        }

        return run->pending ? NGX_DONE
                            : ngx_http_video_api_run_goto(run, LIST_CHOOSE);

    case LIST_CHOOSE:
        return ngx_http_video_api_videos_list_page(run, list,
                                                   list->cached.data,
                                                   list->cached.len);

    case LIST_DB:
        return ngx_http_video_api_run_query(run, LIST_ROWS, list->stmt,
                   list->stmt == &videos_list_stmt ? LIST_NPARAMS
                                                   : AFTER_NPARAMS,
                   list->values);

    case LIST_ROWS:
        return ngx_http_video_api_videos_list_rows(run, list);

    default: /* LIST_ANSWER: private play URLs get tokens */
        return ngx_http_video_api_videos_send_signed(run->request, "",
                                                     list->views.json,
                                                     list->views.len, "");
    }
}
