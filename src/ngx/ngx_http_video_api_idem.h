/*
 * Idempotency keys: a POST that creates something, sent with
 * Idempotency-Key, creates it once.  The first 2xx answer is kept (in
 * PostgreSQL, sealed) and a retry with the same key and the same request
 * gets it again, byte for byte, with Idempotent-Replayed: true; the same
 * key with another request is a 409.  Keys are scoped by the caller (its
 * API key; the account where auth is off and no key is sent) and by the
 * route.
 *
 * A route uses it in three places: its content handler calls
 * ngx_http_video_api_idem_init() once the body is checked; the step
 * before its creating statement calls ngx_http_video_api_idem_claim(),
 * which opens a transaction holding the key's row (the creating
 * statement then runs in it); every answer from there on goes through
 * ngx_http_video_api_idem_finish(), which stores a 2xx answer and
 * commits, or rolls back anything else, then sends the answer.  Without
 * the header, claim and finish change nothing.
 */

#ifndef _NGX_HTTP_VIDEO_API_IDEM_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_IDEM_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "ngx_http_video_api_run.h"


/*
 * Reads Idempotency-Key: NGX_DECLINED to go on (no header, or a valid
 * one now in ctx->idem), or the 400 answer to a malformed one
 */
ngx_int_t ngx_http_video_api_idem_init(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);

/*
 * The key's claim, then next (the creating statement, in the claim's
 * transaction); a key already answered is replayed, or a 409, and the
 * route's steps do not run again
 */
ngx_int_t ngx_http_video_api_idem_claim(ngx_http_video_api_run_t *run,
    ngx_uint_t next);

/*
 * The route's answer rc (what its send function returned) after a claim:
 * a 2xx is stored and committed, anything else rolled back, and then
 * sent; without a claim, rc as it is
 */
ngx_int_t ngx_http_video_api_idem_finish(ngx_http_video_api_run_t *run,
    ngx_int_t rc);

/*
 * For the send functions: 1 when the answer is kept for
 * ngx_http_video_api_idem_finish() instead of being sent now
 */
ngx_uint_t ngx_http_video_api_idem_capture(ngx_http_video_api_ctx_t *ctx,
    ngx_uint_t status, ngx_buf_t *b);


#endif /* _NGX_HTTP_VIDEO_API_IDEM_H_INCLUDED_ */
