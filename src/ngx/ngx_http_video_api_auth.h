/*
 * Who is calling: the API key of the Authorization header resolved to its
 * account and role once per request, in the rewrite phase (so limit_req
 * and log_format see $video_api_account), through a per-node cache whose
 * entries live one second; and the check of a route's access against it.
 */

#ifndef _NGX_HTTP_VIDEO_API_AUTH_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_AUTH_H_INCLUDED_


#include "ngx_http_video_api.h"


/* how long a cached answer about a key is trusted (the revocation bound) */
#define NGX_HTTP_VIDEO_API_AUTH_FRESH   1000

/* how long a cached key may still serve reads while PostgreSQL is down */
#define NGX_HTTP_VIDEO_API_AUTH_STALE   300000


/* the shared zone and the phase handler (postconfiguration) */
ngx_int_t ngx_http_video_api_auth_init(ngx_conf_t *cf);

/* $video_api_account, $video_api_key_id, $video_api_role */
ngx_int_t ngx_http_video_api_auth_add_variables(ngx_conf_t *cf);

/*
 * Whether the caller may run ctx->route: NGX_OK, or the refusal sent (401
 * with WWW-Authenticate, 403, or 503 for a write while PostgreSQL cannot
 * confirm the key), as a content handler's return value.
 */
ngx_int_t ngx_http_video_api_auth_check(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_int_t *rc);


/*
 * The caller as SQL values for the scope functions of conf/sql
 * (video_readable, video_listed, video_writable, video_owned): its account
 * ("" anonymous) and role ("", "viewer", "editor", "admin").  A route that
 * a play token admits passes token 1: role "token".
 */
void ngx_http_video_api_caller_sql(ngx_http_request_t *r, ngx_uint_t token,
    char **account, char **role);

/* what the list page cache keys by: "*" for admins, "" for anonymous
 * callers, else the account */
void ngx_http_video_api_caller_audience(ngx_http_request_t *r,
    ngx_str_t *audience);

/*
 * What the caller may see of a video object's JSON text: NGX_DECLINED
 * when nothing (answer as for an unknown id), NGX_OK with *json and *len
 * the whole object or its public view (no storage keys, no account),
 * NGX_AGAIN when the text names no account (an entry older than
 * accounts: read it again from PostgreSQL), NGX_ERROR.
 */
ngx_int_t ngx_http_video_api_caller_view(ngx_http_request_t *r,
    u_char **json, size_t *len, ngx_uint_t *full);

/*
 * A play token checked for the video whose JSON text this is (its token
 * generation now): a VIDEO_PLAY_* code.
 */
ngx_int_t ngx_http_video_api_token_check(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *token, u_char *json, size_t len);

/* a play token checked for the video, whose token generation is gen */
ngx_int_t ngx_http_video_api_token_verify(ngx_http_request_t *r,
    ngx_str_t *id, ngx_str_t *token, int64_t gen);

/*
 * The X-Play-Token header's value, or NULL: the holder of a video's play
 * token may watch it, count its views and signal on it, key or not (an
 * embedded player of a PRIVATE video)
 */
ngx_str_t *ngx_http_video_api_caller_token(ngx_http_request_t *r);

/* the public view of video JSON text (one object or a list of them) */
ngx_int_t ngx_http_video_api_public_view(ngx_http_request_t *r,
    u_char **json, size_t *len);


#endif /* _NGX_HTTP_VIDEO_API_AUTH_H_INCLUDED_ */
