/*
 * View figures in video JSON text (see the header).  The text comes from
 * PostgreSQL's video_json() or a cache; video_views.c finds each object's
 * figures in it and writes Redis's live ones over them.
 */

#include "ngx_http_video_api_views.h"
#include "video_id.h"


#define VIEWS_MAX  128          /* videos a page's figures are read for */


typedef enum {
    VIEWS_ASK = 0,
    VIEWS_FIGURES
} ngx_http_video_api_views_step_e;

static const char *const  views_names[] = { "ask", "figures" };

static ngx_int_t ngx_http_video_api_views_step(ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  views_steps = {
    "views", ngx_http_video_api_views_step, views_names
};


static ngx_http_video_api_redis_script_t  views_many_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_MANY_LUA);


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


/* the video objects in JSON text: their slots, found */

static ngx_int_t
ngx_http_video_api_views_scan(ngx_http_request_t *r,
    ngx_http_video_api_views_t *views, u_char *json, size_t len)
{
    views->slots = ngx_palloc(r->pool, VIEWS_MAX * sizeof(video_views_slot_t));
    if (views->slots == NULL) {
        return NGX_ERROR;
    }

    views->json = json;
    views->len = len;
    views->n = video_views_scan((char *) json, len, views->slots, VIEWS_MAX);

    return NGX_OK;
}


/* writes today, month, total per slot from figures into a new text */

static ngx_int_t
ngx_http_video_api_views_write(ngx_http_request_t *r,
    ngx_http_video_api_views_t *views, int64_t *figures)
{
    size_t   i;
    u_char  *out;

    for (i = 0; i < views->n; i++) {
        views->slots[i].today = figures[3 * i];
        views->slots[i].month = figures[3 * i + 1];
        views->slots[i].total = figures[3 * i + 2];
    }

    out = ngx_pnalloc(r->pool,
                      views->len + views->n * VIDEO_VIEWS_SLOT_GROWTH);
    if (out == NULL) {
        return NGX_ERROR;
    }

    views->len = video_views_write((char *) views->json, views->len,
                                   views->slots, views->n, (char *) out);
    views->json = out;

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_views_read(ngx_http_video_api_run_t *run,
    ngx_http_video_api_views_t *views, u_char *json, size_t len,
    ngx_uint_t resume)
{
    views->json = json;
    views->len = len;

    return ngx_http_video_api_run_call(run, &views_steps, views, VIEWS_ASK,
                                       resume);
}


static ngx_int_t
ngx_http_video_api_views_step(ngx_http_video_api_run_t *run)
{
    size_t                       i;
    size_t                      *argvlen;
    u_char                      *copy;
    int64_t                     *figures;
    ngx_str_t                    day, month;
    redisReply                  *reply;
    const char                 **argv;
    ngx_http_request_t          *r;
    ngx_http_video_api_views_t  *views;

    r = run->request;
    views = run->data;

    switch (run->step) {

    case VIEWS_ASK:
        if (ngx_http_video_api_views_scan(r, views, views->json, views->len)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (views->n == 0) {
            return ngx_http_video_api_run_return(run);
        }

        /* the text may live in a reply or result freed before ours comes */

        copy = ngx_pnalloc(r->pool, views->len);
        if (copy == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(copy, views->json, views->len);

        for (i = 0; i < views->n; i++) {
            views->slots[i].id = (char *) copy
                                 + (views->slots[i].id - (char *) views->json);
        }

        views->json = copy;

        argv = ngx_palloc(r->pool, (views->n + 2) * sizeof(char *));
        argvlen = ngx_palloc(r->pool, (views->n + 2) * sizeof(size_t));

        if (argv == NULL || argvlen == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_video_api_views_period(r, &day, &month);

        argv[0] = (char *) day.data;
        argvlen[0] = day.len;
        argv[1] = (char *) month.data;
        argvlen[1] = month.len;

        for (i = 0; i < views->n; i++) {
            argv[i + 2] = views->slots[i].id;
            argvlen[i + 2] = VIDEO_ID_LEN;
        }

        return ngx_http_video_api_run_eval(run, VIEWS_FIGURES,
                                           &views_many_script, 0,
                                           views->n + 2, argv, argvlen);

    default: /* VIEWS_FIGURES */
        reply = run->reply;

        /* {loaded, today, month, total per video}: else the text as is */

        if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
            || reply->elements != 1 + 3 * views->n
            || reply->element[0]->type != REDIS_REPLY_INTEGER
            || reply->element[0]->integer != 1)
        {
            return ngx_http_video_api_run_return(run);
        }

        figures = ngx_palloc(r->pool, 3 * views->n * sizeof(int64_t));
        if (figures == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < 3 * views->n; i++) {
            if (reply->element[i + 1]->type != REDIS_REPLY_INTEGER) {
                return ngx_http_video_api_run_return(run);
            }

            figures[i] = reply->element[i + 1]->integer;
        }

        if (ngx_http_video_api_views_write(r, views, figures) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_run_return(run);
    }
}


ngx_int_t
ngx_http_video_api_views_known(ngx_http_request_t *r,
    ngx_http_video_api_views_t *views, u_char *json, size_t len, u_char *ids,
    size_t n, int64_t *figures, ngx_uint_t loaded)
{
    size_t  i;

    views->json = json;
    views->len = len;

    if (!loaded) {
        return NGX_OK;
    }

    if (ngx_http_video_api_views_scan(r, views, json, len) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the figures are for the ids the page was stored with: check */

    if (views->n != n) {
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        if (ngx_memcmp(views->slots[i].id, ids + i * VIDEO_ID_LEN,
                       VIDEO_ID_LEN)
            != 0)
        {
            return NGX_DECLINED;
        }
    }

    return ngx_http_video_api_views_write(r, views, figures);
}
