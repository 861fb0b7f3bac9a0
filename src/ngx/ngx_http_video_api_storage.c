/*
 * The API's own requests to storage, as subrequests of the route's
 * request (ngx_http_video_api_storage.h).
 */

#include "ngx_http_video_api_storage.h"
#include "ngx_http_video_api_media.h"


/* a presigned URL works this long: the call is made at once */
#define NGX_HTTP_VIDEO_API_STORAGE_EXPIRES  60


static ngx_int_t ngx_http_video_api_storage_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_video_api_storage_resume(ngx_http_request_t *r);


ngx_int_t
ngx_http_video_api_storage_call(ngx_http_video_api_run_t *run,
    ngx_http_video_api_storage_t *call, const char *method,
    ngx_str_t *bucket, const char *key, const video_sigv4_param_t *params,
    size_t nparams, ngx_str_t *body,
    ngx_uint_t next)
{
    ngx_buf_t                       *b;
    ngx_str_t                        uri, args;
    ngx_chain_t                     *cl;
    ngx_http_request_t              *r, *sr;
    ngx_http_video_api_ctx_t        *ctx;
    ngx_http_request_body_t         *rb;
    ngx_http_post_subrequest_t      *psr;

    r = run->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    ngx_memzero(call, sizeof(ngx_http_video_api_storage_t));
    call->length = -1;

    if (ngx_http_video_api_media_request_query(r, NGX_HTTP_VIDEO_API_PROBE,
                                               method, bucket, key, params,
                                               nparams,
                                               NGX_HTTP_VIDEO_API_STORAGE_EXPIRES,
                                               &uri, &args)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    psr = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));

    if (psr == NULL || rb == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    psr->handler = ngx_http_video_api_storage_done;
    psr->data = call;

    if (ngx_http_subrequest(r, &uri, &args, &sr, psr,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sr->method_name.data = (u_char *) method;
    sr->method_name.len = ngx_strlen(method);

    switch (method[0]) {
    case 'H':
        sr->method = NGX_HTTP_HEAD;
        sr->header_only = 1;
        break;
    case 'P':
        sr->method = NGX_HTTP_POST;
        break;
    case 'D':
        sr->method = NGX_HTTP_DELETE;
        break;
    default:
        sr->method = NGX_HTTP_GET;
    }

    /* this body, or none: never the client's */

    sr->request_body = rb;
    sr->headers_in.chunked = 0;
    sr->headers_in.content_length = NULL;
    sr->headers_in.content_length_n = -1;

    if (body != NULL) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->pos = body->data;
        b->last = body->data + body->len;
        b->memory = (body->len > 0);
        b->last_buf = 1;

        cl->buf = b;
        cl->next = NULL;

        rb->bufs = cl;
        rb->rest = 0;
        sr->headers_in.content_length_n = body->len;
    }

    call->run = run;
    ctx->storage = call;
    r->write_event_handler = ngx_http_video_api_storage_resume;

    return ngx_http_video_api_run_park(run, next);
}


static ngx_int_t
ngx_http_video_api_storage_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_video_api_storage_t *call = data;

    ngx_buf_t        *b;
    ngx_table_elt_t  *h;

    if (call->done) {
        return rc;
    }

    call->done = 1;
    call->status = (sr->headers_out.status != 0)
                   ? sr->headers_out.status
                   : (rc >= NGX_HTTP_SPECIAL_RESPONSE ? (ngx_uint_t) rc
                                                      : 502);

    call->length = sr->headers_out.content_length_n;

    h = sr->headers_out.etag;
    if (h != NULL && h->hash != 0) {
        call->etag = h->value;
    }

    if (sr->out != NULL && sr->out->buf != NULL) {
        b = sr->out->buf;
        call->body.data = b->pos;
        call->body.len = b->last - b->pos;
    }

    return rc;
}


/* the parent, woken when the subrequest is done */

static void
ngx_http_video_api_storage_resume(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t      *ctx;
    ngx_http_video_api_storage_t  *call;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    call = ctx->storage;

    if (call == NULL || !call->done) {
        return;
    }

    ctx->storage = NULL;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_video_api_run_wake(call->run);
}
