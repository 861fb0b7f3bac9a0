/*
 * CORS as browsers check it: the allowed origin on every answer, and
 * preflight answers for OPTIONS.  A list of origins echoes the matching
 * one and varies on Origin so shared caches keep them apart.
 */

#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_cors.h"


static ngx_str_t  ngx_http_video_api_cors_any = ngx_string("*");
static ngx_str_t  ngx_http_video_api_cors_vary = ngx_string("Origin");
static ngx_str_t  ngx_http_video_api_cors_true = ngx_string("true");

/* what a page's script may read of an answer beyond the safelisted ones */
static ngx_str_t  ngx_http_video_api_cors_expose =
    ngx_string("Idempotent-Replayed, Retry-After");


/* The value for Access-Control-Allow-Origin, or NULL when none applies. */

static ngx_str_t *
ngx_http_video_api_cors_origin(ngx_http_request_t *r,
    ngx_http_video_api_loc_conf_t *lcf, ngx_uint_t *vary)
{
    ngx_str_t   *origin, *allowed;
    ngx_uint_t   i;

    *vary = 0;

    if (lcf->cors_origins == NULL) {
        return NULL;
    }

    origin = ngx_http_video_api_header_in(r, "Origin");

    if (lcf->cors_origins->nelts == 0) {

        /* credentials forbid "*", so the origin is echoed instead */

        if (!lcf->cors_credentials) {
            return &ngx_http_video_api_cors_any;
        }

        *vary = 1;
        return origin;
    }

    *vary = 1;

    if (origin == NULL) {
        return NULL;
    }

    allowed = lcf->cors_origins->elts;

    for (i = 0; i < lcf->cors_origins->nelts; i++) {
        if (allowed[i].len == origin->len
            && ngx_strncasecmp(allowed[i].data, origin->data, origin->len)
               == 0)
        {
            return origin;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_video_api_cors_add(ngx_http_request_t *r, ngx_str_t **origin)
{
    ngx_uint_t                      vary;
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    *origin = ngx_http_video_api_cors_origin(r, lcf, &vary);

    if (vary
        && ngx_http_video_api_header_out(r, "Vary",
                                         &ngx_http_video_api_cors_vary)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (*origin == NULL) {
        return NGX_OK;
    }

    if (ngx_http_video_api_header_out(r, "Access-Control-Allow-Origin",
                                      *origin)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (lcf->cors_credentials
        && ngx_http_video_api_header_out(r,
                                         "Access-Control-Allow-Credentials",
                                         &ngx_http_video_api_cors_true)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_cors_headers(ngx_http_request_t *r)
{
    return ngx_http_video_api_cors_exposing(r,
                                            &ngx_http_video_api_cors_expose);
}


/* whether an earlier step of this answer added the CORS headers already */

static ngx_uint_t
ngx_http_video_api_cors_added(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len == sizeof("Access-Control-Expose-Headers") - 1
            && ngx_strncasecmp(h[i].key.data,
                               (u_char *) "Access-Control-Expose-Headers",
                               h[i].key.len)
               == 0)
        {
            return 1;
        }
    }
}


ngx_int_t
ngx_http_video_api_cors_exposing(ngx_http_request_t *r, ngx_str_t *expose)
{
    ngx_str_t  *origin;

    /* once: the store adds its own before the answer is known */

    if (ngx_http_video_api_cors_added(r)) {
        return NGX_OK;
    }

    if (ngx_http_video_api_cors_add(r, &origin) != NGX_OK) {
        return NGX_ERROR;
    }

    if (origin == NULL) {
        return NGX_OK;
    }

    return ngx_http_video_api_header_out(r, "Access-Control-Expose-Headers",
                                         expose);
}


ngx_int_t
ngx_http_video_api_cors_options(ngx_http_request_t *r, ngx_str_t *allow)
{
    ngx_str_t                      *origin, *method, *headers, max_age;
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    ctx = ngx_http_video_api_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->own_response = 1;

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    if (ngx_http_video_api_header_out(r, "Allow", allow) != NGX_OK
        || ngx_http_video_api_cors_add(r, &origin) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    method = ngx_http_video_api_header_in(r, "Access-Control-Request-Method");

    if (origin == NULL || method == NULL) {
        return ngx_http_send_header(r);
    }

    if (ngx_http_video_api_header_out(r, "Access-Control-Allow-Methods",
                                      allow)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    headers = ngx_http_video_api_header_in(r,
                                           "Access-Control-Request-Headers");

    if (headers != NULL
        && ngx_http_video_api_header_out(r, "Access-Control-Allow-Headers",
                                         headers)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lcf->cors_max_age > 0) {
        max_age.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (max_age.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        max_age.len = ngx_sprintf(max_age.data, "%T", lcf->cors_max_age)
                      - max_age.data;

        if (ngx_http_video_api_header_out(r, "Access-Control-Max-Age",
                                          &max_age)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_send_header(r);
}
