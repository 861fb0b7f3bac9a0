/*
 * JSON answers: envelopes serialized into pool buffers, with the CORS
 * headers the location asks for.
 */

#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_variables.h"
#include "ngx_http_video_api_idem.h"
#include "video_envelope.h"


#define NGX_HTTP_VIDEO_API_MESSAGE_MAX  512


ngx_http_video_api_ctx_t *
ngx_http_video_api_get_ctx(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_video_api_module);
    }

    return ctx;
}


ngx_buf_t *
ngx_http_video_api_json_buf(ngx_pool_t *pool, json_t *json)
{
    size_t      size;
    ngx_buf_t  *b;

    size = json_dumpb(json, NULL, 0, JSON_COMPACT);
    if (size == 0) {
        return NULL;
    }

    b = ngx_create_temp_buf(pool, size);
    if (b == NULL) {
        return NULL;
    }

    if (json_dumpb(json, (char *) b->pos, size, JSON_COMPACT) != size) {
        return NULL;
    }

    b->last = b->pos + size;

    return b;
}


ngx_int_t
ngx_http_video_api_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    ngx_buf_t  *b;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (status >= NGX_HTTP_BAD_REQUEST) {
        ngx_http_video_api_variables_error(r,
            json_string_value(json_object_get(json_object_get(json, "error"),
                                              "code")));
    }

    b = ngx_http_video_api_json_buf(r->pool, json);
    json_decref(json);

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_buf(r, status, b);
}


ngx_int_t
ngx_http_video_api_send_wrapped(ngx_http_request_t *r, ngx_uint_t status,
    const char *prefix, u_char *json, size_t len, const char *suffix)
{
    size_t      plen, slen;
    ngx_buf_t  *b;

    plen = ngx_strlen(prefix);
    slen = ngx_strlen(suffix);

    b = ngx_create_temp_buf(r->pool, sizeof("{\"success\":true,\"data\":}")
                                     - 1 + plen + len + slen);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, "{\"success\":true,\"data\":",
                         sizeof("{\"success\":true,\"data\":") - 1);
    b->last = ngx_cpymem(b->last, prefix, plen);
    b->last = ngx_cpymem(b->last, json, len);
    b->last = ngx_cpymem(b->last, suffix, slen);
    *b->last++ = '}';

    return ngx_http_video_api_send_buf(r, status, b);
}


ngx_int_t
ngx_http_video_api_send_unavailable(ngx_http_request_t *r, const char *what)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         NULL, "%s is unavailable", what);
}


ngx_int_t
ngx_http_video_api_send_invalid(ngx_http_request_t *r, json_t *details)
{
    const char  *msg;

    /* a validator that ran out of memory has no details to give */

    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    msg = "Validation failed";

    if (json_array_size(details) == 1) {
        msg = json_string_value(json_object_get(json_array_get(details, 0),
                                                "message"));
        if (msg == NULL) {
            msg = "Validation failed";
        }
    }

    return ngx_http_video_api_send_json(r, NGX_HTTP_BAD_REQUEST,
               video_envelope_error(NGX_HTTP_BAD_REQUEST, "VALIDATION_ERROR",
                                    msg, ngx_strlen(msg), details));
}


ngx_int_t
ngx_http_video_api_send_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_buf_t *b)
{
    static ngx_str_t  json = ngx_string("application/json");

    return ngx_http_video_api_send_body(r, status, &json, b);
}


ngx_int_t
ngx_http_video_api_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b)
{
    ngx_int_t                  rc;
    ngx_chain_t                out;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_video_api_get_ctx(r);

    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* an answer under an Idempotency-Key is sent once it is stored */

    if (ngx_http_video_api_idem_capture(ctx, status, b)) {
        return NGX_OK;
    }

    ctx->own_response = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_video_api_send_data(ngx_http_request_t *r, ngx_uint_t status,
    json_t *data)
{
    return ngx_http_video_api_send_json(r, status, video_envelope_ok(data));
}


ngx_int_t
ngx_http_video_api_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    msg[NGX_HTTP_VIDEO_API_MESSAGE_MAX];

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    return ngx_http_video_api_send_json(r, status,
               video_envelope_error((int) status, code, (char *) msg,
                                    p - msg, NULL));
}


ngx_int_t
ngx_http_video_api_header_out(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.len = ngx_strlen(name);
    h->key.data = (u_char *) name;
    h->value = *value;

    return NGX_OK;
}


ngx_str_t *
ngx_http_video_api_header_in(ngx_http_request_t *r, char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i].value;
        }
    }
}
