/*
 * Body handling.  A declared Content-Length over video_api_max_body_size is
 * refused before a byte is read; a chunked body is measured once read
 * (nginx's client_max_body_size bounds it while it arrives).  JSON routes
 * get a parsed object or a 400 that says what is wrong with the input.
 */

#include "ngx_http_video_api_body.h"
#include "ngx_http_video_api_response.h"


static void ngx_http_video_api_body_done(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_body_process(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_body_collect(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_body_too_large(ngx_http_request_t *r);
static ngx_uint_t ngx_http_video_api_is_json_type(ngx_http_request_t *r);
static void ngx_http_video_api_json_cleanup(void *data);


ngx_int_t
ngx_http_video_api_body_dispatch(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_video_api_loc_conf_t  *lcf;

    if (ctx->route->body == NGX_HTTP_VIDEO_API_BODY_NONE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ctx->route->handler(r, ctx);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    if (r->headers_in.content_length_n > (off_t) lcf->max_body_size) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_video_api_body_too_large(r);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_video_api_body_done);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_video_api_body_done(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    ngx_http_finalize_request(r, ngx_http_video_api_body_process(r, ctx));
}


static ngx_int_t
ngx_http_video_api_body_process(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_int_t            rc;
    json_error_t         err;
    ngx_pool_cleanup_t  *cln;

    rc = ngx_http_video_api_body_collect(r, ctx);

    if (rc == NGX_DECLINED) {
        return ngx_http_video_api_body_too_large(r);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->route->body == NGX_HTTP_VIDEO_API_BODY_FORM) {
        return ctx->route->handler(r, ctx);
    }

    if (ctx->body.len == 0) {
        if (ctx->route->body == NGX_HTTP_VIDEO_API_BODY_JSON_OPT) {
            return ctx->route->handler(r, ctx);
        }

        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "Request body is required: a JSON object");
    }

    if (!ngx_http_video_api_is_json_type(r)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "Content-Type must be application/json");
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->json = json_loadb((char *) ctx->body.data, ctx->body.len,
                           JSON_REJECT_DUPLICATES, &err);

    if (ctx->json == NULL) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "Malformed JSON in request body: %s "
                   "(line %d, column %d)",
                   json_error_code(&err) == json_error_null_character
                   ? "\\u0000 is not allowed in strings" : err.text,
                   err.line, err.column);
    }

    cln->handler = ngx_http_video_api_json_cleanup;
    cln->data = ctx->json;

    if (!json_is_object(ctx->json)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_BAD_REQUEST, NULL,
                   "Request body must be a JSON object");
    }

    return ctx->route->handler(r, ctx);
}


/*
 * The body as one NUL-terminated string, wherever nginx kept it;
 * NGX_DECLINED when it is over the limit.
 */

static ngx_int_t
ngx_http_video_api_body_collect(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    off_t                           len;
    u_char                         *p;
    ssize_t                         n;
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl;
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    len = 0;

    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    if (len > (off_t) lcf->max_body_size) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body.data = p;
    ctx->body.len = (size_t) len;

    for (cl = (len > 0) ? r->request_body->bufs : NULL; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* a chunked body ends with an empty buffer that has no memory */
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "video_api: short read of request body file");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += n;
    }

    *p = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_body_too_large(ngx_http_request_t *r)
{
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    return ngx_http_video_api_send_error(r,
               NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, NULL,
               "Request body is larger than %uz bytes", lcf->max_body_size);
}


/* "application/json" or "application/<subtype>+json", any parameters */

static ngx_uint_t
ngx_http_video_api_is_json_type(ngx_http_request_t *r)
{
    u_char  *p, *end, *q;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    p = r->headers_in.content_type->value.data;
    end = p + r->headers_in.content_type->value.len;

    for (q = p; q < end; q++) {
        if (*q == ';' || *q == ' ' || *q == '\t') {
            break;
        }
    }

    end = q;

    if (end - p < (ssize_t) (sizeof("application/json") - 1)
        || ngx_strncasecmp(p, (u_char *) "application/",
                           sizeof("application/") - 1) != 0)
    {
        return 0;
    }

    p += sizeof("application/") - 1;

    if (end - p == 4) {
        return ngx_strncasecmp(p, (u_char *) "json", 4) == 0;
    }

    return end - p > 5 && ngx_strncasecmp(end - 5, (u_char *) "+json", 5) == 0;
}


static void
ngx_http_video_api_json_cleanup(void *data)
{
    json_decref(data);
}
