/*
 * nginx answers some errors before or instead of our handlers, with HTML
 * bodies.  In a video_api location the header filter swaps the body for the
 * API's envelope with the same status, so clients parse every error alike;
 * the body filter then drops nginx's HTML and sends the envelope once.
 */

#include "ngx_http_video_api_error_filter.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_variables.h"
#include "video_envelope.h"


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static const char *
ngx_http_video_api_error_message(ngx_uint_t status)
{
    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        return "Bad request";
    case NGX_HTTP_UNAUTHORIZED:
        return "Authentication required";
    case NGX_HTTP_FORBIDDEN:
        return "Access forbidden";
    case NGX_HTTP_NOT_FOUND:
        return "Resource not found";
    case NGX_HTTP_NOT_ALLOWED:
        return "Method not allowed";
    case NGX_HTTP_REQUEST_TIME_OUT:
        return "Request timed out";
    case NGX_HTTP_LENGTH_REQUIRED:
        return "Length required";
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "Request body is too large";
    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return "Request URI is too long";
    case NGX_HTTP_RANGE_NOT_SATISFIABLE:
        return "Requested range not satisfiable";
    case NGX_HTTP_TOO_MANY_REQUESTS:
        return "Too many requests";
    case NGX_HTTP_NOT_IMPLEMENTED:
        return "Not implemented";
    case NGX_HTTP_BAD_GATEWAY:
    case NGX_HTTP_SERVICE_UNAVAILABLE:
    case NGX_HTTP_GATEWAY_TIME_OUT:
        return "Service unavailable";
    }

    return (status < 500) ? "Request failed" : "Internal server error";
}


/*
 * Outside the API's locations, a client that asks for JSON and not for
 * a page (Accept names application/json, not text/html) where
 * video_api_json_errors is on
 */

static ngx_uint_t
ngx_http_video_api_error_wants_json(ngx_http_request_t *r,
    ngx_http_video_api_loc_conf_t *lcf)
{
    u_char     *last;
    ngx_str_t  *accept;

    if (!lcf->json_errors) {
        return 0;
    }

    accept = ngx_http_video_api_header_in(r, "Accept");
    if (accept == NULL) {
        return 0;
    }

    last = accept->data + accept->len;

    return ngx_strlcasestrn(accept->data, last,
                            (u_char *) "application/json", 16 - 1)
           != NULL
           && ngx_strlcasestrn(accept->data, last, (u_char *) "text/html",
                               9 - 1)
              == NULL;
}


static ngx_int_t
ngx_http_video_api_error_header_filter(ngx_http_request_t *r)
{
    json_t                         *json;
    const char                     *msg;
    ngx_uint_t                      status;
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_video_api_loc_conf_t  *lcf;

    status = r->headers_out.status;
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    if (r != r->main || status < NGX_HTTP_BAD_REQUEST || status > 599
        || (lcf->areas == 0 && !(ctx != NULL && ctx->error_envelope)
            && !ngx_http_video_api_error_wants_json(r, lcf)))
    {
        return ngx_http_next_header_filter(r);
    }

    if (ctx != NULL && ctx->own_response) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_video_api_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    msg = ngx_http_video_api_error_message(status);

    json = video_envelope_error((int) status, NULL, msg, ngx_strlen(msg),
                                NULL);
    if (json == NULL) {
        return NGX_ERROR;
    }

    ctx->error_buf = ngx_http_video_api_json_buf(r->pool, json);
    json_decref(json);

    if (ctx->error_buf == NULL) {
        return NGX_ERROR;
    }

    ctx->error_replaced = 1;

    ngx_http_video_api_variables_error(r, video_envelope_code((int) status));

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    r->headers_out.content_length_n = ctx->error_buf->last
                                      - ctx->error_buf->pos;

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    if (lcf->areas && ngx_http_video_api_cors_headers(r) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_video_api_error_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                out;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    if (ctx == NULL || !ctx->error_replaced) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's own error body is static text: mark it consumed */

    for ( /* void */ ; in; in = in->next) {
        in->buf->pos = in->buf->last;
        in->buf->file_pos = in->buf->file_last;
    }

    if (ctx->error_sent) {
        return ngx_http_next_body_filter(r, NULL);
    }

    ctx->error_sent = 1;

    ctx->error_buf->last_buf = 1;
    ctx->error_buf->last_in_chain = 1;

    out.buf = ctx->error_buf;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


ngx_int_t
ngx_http_video_api_error_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_video_api_error_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_video_api_error_body_filter;

    return NGX_OK;
}
