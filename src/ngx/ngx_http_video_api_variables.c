/*
 * Variables for access logs, read from the request's context in the log
 * phase: a request that no log format asks about pays for nothing but the
 * context's fields (the runner adds up its waits there, and the error
 * envelope leaves its code).
 *
 *     $video_api_route       the route's pattern: "/api/videos/:id"
 *     $video_api_video_id    the video id in the route's path, when valid
 *     $video_api_error_code  the error envelope's code: "NOT_FOUND"
 *     $video_api_pg_time     seconds waited on PostgreSQL: "0.004"
 *     $video_api_redis_time  seconds waited on Redis
 *     $video_api_path        the path as sent, no query, play tokens "-"
 *     $video_api_user_agent  the User-Agent header
 *
 * The last two are the client's bytes: what is not UTF-8 in them is
 * written as "?", so that a line of escape=json is always JSON.
 *
 * $video_api_account, $video_api_key_id and $video_api_role are the
 * caller's (ngx_http_video_api_auth.c), $video_api_request the request
 * line (ngx_http_video_api_log.c).
 */

#include "ngx_http_video_api_variables.h"
#include "video_id.h"
#include "video_redact.h"
#include "video_validate.h"


#define NGX_HTTP_VIDEO_API_VAR_ROUTE       0
#define NGX_HTTP_VIDEO_API_VAR_VIDEO_ID    1
#define NGX_HTTP_VIDEO_API_VAR_ERROR_CODE  2


static ngx_int_t ngx_http_video_api_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_video_api_variable_time(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_video_api_variable_path(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_video_api_variable_user_agent(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static size_t ngx_http_video_api_variable_utf8(u_char *p, size_t len,
    ngx_uint_t fix);


static ngx_http_variable_t  ngx_http_video_api_variables[] = {
    { ngx_string("video_api_route"), NULL,
      ngx_http_video_api_variable_str, NGX_HTTP_VIDEO_API_VAR_ROUTE,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_video_id"), NULL,
      ngx_http_video_api_variable_str, NGX_HTTP_VIDEO_API_VAR_VIDEO_ID,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_error_code"), NULL,
      ngx_http_video_api_variable_str, NGX_HTTP_VIDEO_API_VAR_ERROR_CODE,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_pg_time"), NULL,
      ngx_http_video_api_variable_time, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_redis_time"), NULL,
      ngx_http_video_api_variable_time, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_path"), NULL,
      ngx_http_video_api_variable_path, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_user_agent"), NULL,
      ngx_http_video_api_variable_user_agent, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    ngx_http_null_variable
};


/* the routes whose first parameter is a video's (or a stream's) id */
static ngx_str_t  ngx_http_video_api_video_routes[] = {
    ngx_string("/api/videos/"),
    ngx_string("/api/analytics/"),
    ngx_string("/api/live/"),
    ngx_string("/api/upload/"),
    ngx_string("/play/"),
    ngx_string("/live/"),
    ngx_null_string
};


ngx_int_t
ngx_http_video_api_variables_add(ngx_conf_t *cf)
{
    return ngx_http_video_api_variables_table(cf,
                                              ngx_http_video_api_variables);
}


ngx_int_t
ngx_http_video_api_variables_table(ngx_conf_t *cf, ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


void
ngx_http_video_api_variables_error(ngx_http_request_t *r, const char *code)
{
    size_t                     len;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_video_api_module);

    if (ctx == NULL || code == NULL) {
        return;
    }

    len = ngx_strlen(code);

    ctx->error_code.data = ngx_pnalloc(r->pool, len);
    if (ctx->error_code.data == NULL) {
        ctx->error_code.len = 0;
        return;
    }

    ngx_memcpy(ctx->error_code.data, code, len);
    ctx->error_code.len = len;
}


void
ngx_http_video_api_variables_waited(ngx_http_request_t *r, ngx_uint_t pg,
    ngx_msec_t start)
{
    ngx_msec_t                 waited;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_video_api_module);

    if (ctx == NULL) {
        return;
    }

    waited = ngx_current_msec - start;

    if (pg) {
        ctx->pg_time += waited;

    } else {
        ctx->redis_time += waited;
    }
}


ngx_int_t
ngx_http_video_api_variables_redirect(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *args)
{
    ngx_int_t                  rc;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    /* the redirect holds the request (r->main->count): r outlives it */

    rc = ngx_http_internal_redirect(r, uri, args);

    if (ctx != NULL
        && ngx_http_get_module_ctx(r, ngx_http_video_api_module) == NULL)
    {
        ngx_http_set_ctx(r, ctx, ngx_http_video_api_module);
    }

    return rc;
}


static ngx_int_t
ngx_http_video_api_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                  s, *prefix;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_video_api_module);

    ngx_str_null(&s);

    if (ctx == NULL) {
        goto done;
    }

    switch (data) {

    case NGX_HTTP_VIDEO_API_VAR_ROUTE:
        if (ctx->route != NULL) {
            s.data = (u_char *) ctx->route->pattern;
            s.len = ngx_strlen(s.data);
        }

        break;

    case NGX_HTTP_VIDEO_API_VAR_VIDEO_ID:
        if (ctx->route == NULL || ctx->nparams == 0
            || !video_id_valid((char *) ctx->params[0].data,
                               ctx->params[0].len))
        {
            break;
        }

        for (prefix = ngx_http_video_api_video_routes; prefix->len; prefix++)
        {
            if (ngx_strncmp(ctx->route->pattern, prefix->data, prefix->len)
                == 0)
            {
                s = ctx->params[0];
                break;
            }
        }

        break;

    default: /* NGX_HTTP_VIDEO_API_VAR_ERROR_CODE */
        s = ctx->error_code;
        break;
    }

done:

    if (s.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_variable_time(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                    *p;
    ngx_msec_t                 ms;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_video_api_module);

    ms = 0;

    if (ctx != NULL) {
        ms = data ? ctx->pg_time : ctx->redis_time;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    if (ms == 0) {
        v->data = (u_char *) "0.000";
        v->len = sizeof("0.000") - 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = ngx_sprintf(p, "%T.%03M", (time_t) ms / 1000, ms % 1000) - p;

    return NGX_OK;
}


/*
 * The path the client sent, without its query (presigned signatures, play
 * tokens for the page) and with play tokens in it written as "-": what a
 * log may keep of the target.  The original request's, whatever internal
 * redirect came after.
 */

static ngx_int_t
ngx_http_video_api_variable_path(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char  *p, *start, *end, *q;

    start = r->main->unparsed_uri.data;
    end = start + r->main->unparsed_uri.len;

    if (start == NULL || end == start) {
        v->not_found = 1;
        return NGX_OK;
    }

    q = ngx_strlchr(start, end, '?');
    if (q != NULL) {
        end = q;
    }

    p = ngx_pnalloc(r->pool, end - start);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = video_redact_target((char *) start, end - start, (char *) p);
    (void) ngx_http_video_api_variable_utf8(p, v->len, 1);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_variable_user_agent(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    h = r->main->headers_in.user_agent;

    if (h == NULL || h->value.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = h->value.data;

    /* a copy only when something in it is not UTF-8 */

    if (ngx_http_video_api_variable_utf8(p, h->value.len, 0)) {
        p = ngx_pnalloc(r->pool, h->value.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, h->value.data, h->value.len);
        (void) ngx_http_video_api_variable_utf8(p, h->value.len, 1);
    }

    v->data = p;
    v->len = h->value.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * The number of bytes of p that are not part of valid UTF-8 (or are NUL),
 * each written as '?' when fix is set.
 */

static size_t
ngx_http_video_api_variable_utf8(u_char *p, size_t len, ngx_uint_t fix)
{
    size_t  i, n, bad;

    bad = 0;

    for (i = 0; i < len; i += n) {

        if (p[i] < 0x80 && p[i] != '\0') {
            n = 1;
            continue;
        }

        n = video_utf8_seq(p + i, len - i);

        if (n == 0 || p[i] == '\0') {
            bad++;
            n = 1;

            if (fix) {
                p[i] = '?';
            }
        }
    }

    return bad;
}
