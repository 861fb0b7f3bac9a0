/*
 * The video read and cache service (see the header).
 */

#include "ngx_http_video_api_video.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_views.h"
#include "video_cache.h"


/* the read */

typedef enum {
    VIDEO_CACHE = 0,
    VIDEO_CACHED,
    VIDEO_DB,
    VIDEO_ROW
} ngx_http_video_api_video_step_e;

static const char *const  video_names[] = {
    "cache", "cached", "database", "row"
};

static ngx_int_t ngx_http_video_api_video_step(ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  video_steps = {
    "video", ngx_http_video_api_video_step, video_names
};


enum {
    VIDEO_GET_ID = 0,
    VIDEO_GET_PLAY_BASE,
    VIDEO_GET_THUMB_BASE,
    VIDEO_GET_ACCOUNT,
    VIDEO_GET_ROLE,
    VIDEO_GET_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  video_get_stmt =
    ngx_http_video_api_pg_scoped("videos_get",
        "SELECT " NGX_HTTP_VIDEO_API_VIDEO_COLUMNS
        " FROM videos v WHERE v.id = $1"
        " AND video_readable(v.account_id, v.visibility, $4, $5)",
        VIDEO_GET_ACCOUNT + 1, VIDEO_GET_ROLE + 1);


static char  video_cache_put_lua[] = VIDEO_CACHE_PUT_LUA;

static ngx_http_video_api_redis_script_t  video_get_script =
    ngx_http_video_api_redis_script(VIDEO_VIEWS_GET_LUA);


ngx_http_video_api_video_t *
ngx_http_video_api_video_create(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_video_api_video_t  *video;

    video = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_video_t));
    if (video == NULL) {
        return NULL;
    }

    /* a NUL-terminated copy: libpq and hiredis want C strings */

    video->id.len = id->len;
    video->id.data = ngx_pnalloc(r->pool, id->len + 1);
    if (video->id.data == NULL) {
        return NULL;
    }

    ngx_cpystrn(video->id.data, id->data, id->len + 1);

    return video;
}


ngx_int_t
ngx_http_video_api_video_not_found(ngx_http_request_t *r, ngx_str_t *id)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                         "Video with id '%V' not found", id);
}


ngx_uint_t
ngx_http_video_api_video_row(ngx_http_video_api_run_t *run, ngx_str_t *id,
    ngx_int_t *rc)
{
    if (!ngx_http_video_api_run_ok(run)
        || PQresultStatus(run->res) != PGRES_TUPLES_OK)
    {
        *rc = ngx_http_video_api_run_failed(run);
        return 0;
    }

    if (PQntuples(run->res) == 0) {
        *rc = ngx_http_video_api_video_not_found(run->request, id);
        return 0;
    }

    return 1;
}


void
ngx_http_video_api_video_bases(ngx_http_request_t *r, char **values)
{
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    values[0] = (char *) mcf->play.base.data;
    values[1] = (char *) mcf->play.base.data;
}


ngx_int_t
ngx_http_video_api_video_cache_key(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *key)
{
    key->len = sizeof(VIDEO_CACHE_KEY_PREFIX) - 1 + id->len;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(key->data, VIDEO_CACHE_KEY_PREFIX "%V", id);

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_video_cache_put(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *version, ngx_str_t *json, const char **argv, size_t *argvlen)
{
    u_char                          *ttl;
    ngx_str_t                        key;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (ngx_http_video_api_video_cache_key(r, id, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    ttl = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (ttl == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = video_cache_put_lua;
    argvlen[1] = sizeof(video_cache_put_lua) - 1;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (char *) key.data;
    argvlen[3] = key.len;
    argv[4] = (char *) version->data;
    argvlen[4] = version->len;
    argv[5] = (char *) json->data;
    argvlen[5] = json->len;
    argv[6] = (char *) ttl;
    argvlen[6] = ngx_sprintf(ttl, "%M", mcf->redis.cache_ttl) - ttl;

    return NGX_OK;
}


/* the cache could not take a write: its copy must not be served later */

static void
ngx_http_video_api_video_stale(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_str_t  key;

    if (ngx_http_video_api_video_cache_key(r, id, &key) == NGX_OK) {
        ngx_http_video_api_cache_stale(r->connection->log, &key);
    }
}


void
ngx_http_video_api_video_written(ngx_http_request_t *r, ngx_str_t *id,
    redisReply *reply)
{
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_http_video_api_video_stale(r, id);
    }
}


static void
ngx_http_video_api_video_changed_put(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_video_written(r, data, reply);
}


void
ngx_http_video_api_video_changed(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *version, ngx_str_t *json)
{
    ngx_str_t   *key;
    const char  *argv[7];
    size_t       argvlen[7];

    ngx_http_video_api_cache_lists_changed(r);

    key = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (key != NULL) {
        key->len = id->len;
        key->data = ngx_pstrdup(r->pool, id);
    }

    if (key == NULL || key->data == NULL
        || ngx_http_video_api_video_cache_put(r, id, version, json, argv,
                                              argvlen)
           != NGX_OK
        || ngx_http_video_api_redis_command(r,
               ngx_http_video_api_video_changed_put, key, 7, argv, argvlen)
           != NGX_OK)
    {
        ngx_http_video_api_video_stale(r, id);
    }
}


ngx_int_t
ngx_http_video_api_video_read(ngx_http_video_api_run_t *run,
    ngx_http_video_api_video_t *video, ngx_uint_t resume)
{
    return ngx_http_video_api_run_call(run, &video_steps, video, VIDEO_CACHE,
                                       resume);
}


/*
 * What the caller may see of the video found (the same rules as the
 * statement's): NGX_OK, NGX_DECLINED for nothing (it is missing),
 * NGX_AGAIN for a cached copy that names no account (to be read again),
 * NGX_ERROR.
 */

static ngx_int_t
ngx_http_video_api_video_found(ngx_http_request_t *r,
    ngx_http_video_api_video_t *video)
{
    ngx_int_t   rc;
    ngx_str_t  *token;
    ngx_uint_t  full;

    if (video->token) {
        return NGX_OK;
    }

    rc = ngx_http_video_api_caller_view(r, &video->json.data,
                                        &video->json.len, &full);

    if (rc == NGX_DECLINED) {

        /* not the caller's to see, unless it holds a play token */

        token = ngx_http_video_api_caller_token(r);

        if (token == NULL
            || ngx_http_video_api_token_check(r, &video->id, token,
                                              video->json.data,
                                              video->json.len)
               != VIDEO_PLAY_OK)
        {
            return NGX_DECLINED;
        }

        rc = ngx_http_video_api_public_view(r, &video->json.data,
                                            &video->json.len);
        full = 0;
    }

    if (rc == NGX_OK) {
        video->public = !full;
    }

    return rc;
}


/* {entry or nil, loaded, today, month, total}: NGX_OK for a usable entry */

static ngx_int_t
ngx_http_video_api_video_cached(ngx_http_video_api_video_t *video,
    redisReply *reply)
{
    u_char       *colon;
    ngx_uint_t    i;
    redisReply   *entry, **e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 5)
    {
        return NGX_DECLINED;
    }

    e = reply->element;

    for (i = 1; i < 5; i++) {
        if (e[i]->type != REDIS_REPLY_INTEGER) {
            break;
        }
    }

    if (i == 5 && e[1]->integer == 1) {
        video->views_live = 1;
        video->views[0] = e[2]->integer;
        video->views[1] = e[3]->integer;
        video->views[2] = e[4]->integer;
    }

    entry = e[0];

    if (entry->type != REDIS_REPLY_STRING) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr((u_char *) entry->str,
                        (u_char *) entry->str + entry->len, ':');

    /* a tombstone (no JSON after the colon) counts as a miss */

    if (colon == NULL || colon + 1 == (u_char *) entry->str + entry->len) {
        return NGX_DECLINED;
    }

    video->version.data = (u_char *) entry->str;
    video->version.len = colon - video->version.data;

    video->json.data = colon + 1;
    video->json.len = (u_char *) entry->str + entry->len - colon - 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_video_step(ngx_http_video_api_run_t *run)
{
    ngx_int_t                    rc;
    ngx_str_t                    key, day, month;
    ngx_uint_t                   token;
    const char                  *argv[7];
    size_t                       argvlen[7];
    ngx_http_request_t          *r;
    ngx_http_video_api_video_t  *video;

    r = run->request;
    video = run->data;

    switch (run->step) {

    case VIDEO_CACHE:

        /* the cached copy and the live view figures, in one round trip */

        if (ngx_http_video_api_video_cache_key(r, &video->id, &key)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_video_api_cache_flush_stale(r);
        ngx_http_video_api_views_period(r, &day, &month);

        argv[0] = (char *) key.data;
        argvlen[0] = key.len;
        argv[1] = (char *) video->id.data;
        argvlen[1] = video->id.len;
        argv[2] = (char *) day.data;
        argvlen[2] = day.len;
        argv[3] = (char *) month.data;
        argvlen[3] = month.len;

        return ngx_http_video_api_run_eval(run, VIDEO_CACHED,
                                           &video_get_script, 1, 4, argv,
                                           argvlen);

    case VIDEO_CACHED:
        if (ngx_http_video_api_video_cached(video, run->reply) != NGX_OK) {
            ngx_http_video_api_metrics_cache(
                NGX_HTTP_VIDEO_API_M_CACHE_VIDEO_HIT, 0);
            return ngx_http_video_api_run_goto(run, VIDEO_DB);
        }

        rc = ngx_http_video_api_video_found(r, video);
        ngx_http_video_api_metrics_cache(NGX_HTTP_VIDEO_API_M_CACHE_VIDEO_HIT,
                                         rc != NGX_AGAIN);

        if (rc == NGX_AGAIN) {
            return ngx_http_video_api_run_goto(run, VIDEO_DB);
        }

        break;

    case VIDEO_DB:
        video->values[VIDEO_GET_ID] = (char *) video->id.data;
        ngx_http_video_api_video_bases(r,
                                       &video->values[VIDEO_GET_PLAY_BASE]);

        /* a play token is checked on the row, once it is read */

        token = run->token;
        run->token = token || video->token
                     || ngx_http_video_api_caller_token(r) != NULL;

        rc = ngx_http_video_api_run_query(run, VIDEO_ROW, &video_get_stmt,
                                          VIDEO_GET_NPARAMS, video->values);
        run->token = token;

        return rc;

    default: /* VIDEO_ROW */
        if (!ngx_http_video_api_video_row(run, &video->id, &rc)) {
            return rc;
        }

        video->json.data = (u_char *) PQgetvalue(run->res, 0, 0);
        video->json.len = PQgetlength(run->res, 0, 0);
        video->version.data = (u_char *) PQgetvalue(run->res, 0, 1);
        video->version.len = PQgetlength(run->res, 0, 1);

        /* fill the cache; the answer does not wait for it */

        if (ngx_http_video_api_video_cache_put(r, &video->id,
                                               &video->version, &video->json,
                                               argv, argvlen)
            == NGX_OK)
        {
            (void) ngx_http_video_api_redis_command(r,
                       ngx_http_video_api_redis_ignore, NULL, 7, argv,
                       argvlen);
        }

        rc = ngx_http_video_api_video_found(r, video);
        break;
    }

    switch (rc) {

    case NGX_OK:
        return ngx_http_video_api_run_return(run);

    case NGX_DECLINED:
        return ngx_http_video_api_video_not_found(r, &video->id);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


