/*
 * Cache-Control on media answers (see the header).  An internal redirect
 * empties the request's module contexts, so the mark is kept where it
 * survives one: a cleanup entry of the request's pool, found by its
 * handler.
 */

#include "ngx_http_video_api_delivery.h"
#include "ngx_http_video_api_response.h"


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;

static ngx_str_t  ngx_http_video_api_delivery_no_store =
    ngx_string("no-store");


/* the mark's handler: it owns nothing, its address is what finds it */

static void
ngx_http_video_api_delivery_cleanup(void *data)
{
    (void) data;
}


static ngx_str_t *
ngx_http_video_api_delivery_find(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_video_api_delivery_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_video_api_delivery_mark(ngx_http_request_t *r,
    ngx_str_t *cache_control)
{
    ngx_str_t           *cc;
    ngx_pool_cleanup_t  *cln;

    cc = ngx_http_video_api_delivery_find(r);

    if (cc == NULL) {
        cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_str_t));
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_video_api_delivery_cleanup;
        cc = cln->data;
        ngx_str_null(cc);
    }

    if (cache_control != NULL) {
        *cc = *cache_control;
    }

    return NGX_OK;
}


/* what storage or the location said about caching gives way to ours */

static void
ngx_http_video_api_delivery_clear(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if ((h[i].key.len == sizeof("Cache-Control") - 1
             && ngx_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                                h[i].key.len)
                == 0)
            || (h[i].key.len == sizeof("Expires") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "Expires",
                                   h[i].key.len)
                   == 0))
        {
            h[i].hash = 0;
        }
    }

    r->headers_out.cache_control.nelts = 0;
    r->headers_out.expires = NULL;
}


static ngx_int_t
ngx_http_video_api_delivery_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                 *cc, *value;
    ngx_uint_t                 status;
    ngx_table_elt_t           *h;
    ngx_http_video_api_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    cc = ngx_http_video_api_delivery_find(r);

    if (cc == NULL) {
        return ngx_http_next_header_filter(r);
    }

    status = r->headers_out.status;

    /*
     * a redirect of storage (the local store's for a key that is a
     * directory) names the media location and its presigned query:
     * nothing for a player to see or follow, and no file either
     */

    if (status >= NGX_HTTP_SPECIAL_RESPONSE && status < NGX_HTTP_BAD_REQUEST
        && status != NGX_HTTP_NOT_MODIFIED)
    {
        if (r->headers_out.location != NULL) {
            r->headers_out.location->hash = 0;
            r->headers_out.location = NULL;
        }

        status = NGX_HTTP_NOT_FOUND;
        r->headers_out.status = status;
        r->headers_out.status_line.len = 0;
    }

    ngx_http_video_api_delivery_clear(r);

    if (cc->len
        && (status == NGX_HTTP_OK || status == NGX_HTTP_PARTIAL_CONTENT
            || status == NGX_HTTP_NOT_MODIFIED))
    {
        value = cc;

    } else {
        value = &ngx_http_video_api_delivery_no_store;

        /*
         * an error of the media location (a range that cannot be
         * satisfied, storage's own) is answered as the API's errors are,
         * unless it already is JSON (the location's not-found answer)
         */

        if (status >= NGX_HTTP_BAD_REQUEST
            && !(r->headers_out.content_type.len
                 >= sizeof("application/json") - 1
                 && ngx_strncasecmp(r->headers_out.content_type.data,
                                    (u_char *) "application/json",
                                    sizeof("application/json") - 1)
                    == 0))
        {
            ctx = ngx_http_video_api_get_ctx(r);
            if (ctx == NULL) {
                return NGX_ERROR;
            }

            ctx->error_envelope = 1;
        }
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    h->value = *value;

    return ngx_http_next_header_filter(r);
}


ngx_int_t
ngx_http_video_api_delivery_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_video_api_delivery_header_filter;

    return NGX_OK;
}
