/*
 * The management API's shared parts: the request state and the one
 * statement each of its routes runs, used by the keys and /api/me
 * (ngx_http_video_api_access.c) and the accounts and the audit log
 * (ngx_http_video_api_accounts.c).
 */

#ifndef _NGX_HTTP_VIDEO_API_ACCESS_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_ACCESS_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "ngx_http_video_api_run.h"
#include "video_apikey.h"


/* the most parameters a statement here takes: keys_create, accounts_update */
#define NGX_HTTP_VIDEO_API_ACCESS_VALUES  11


#define ACCESS_ACCOUNT_JSON(a)                                                \
    "json_build_object('id', " a ".id, 'name', " a ".name,"                 \
    " 'maxBytes', " a ".max_bytes, 'maxVideos', " a ".max_videos,"          \
    " 'maxLive', " a ".max_live,"                                             \
    " 'usedBytes', " a ".used_bytes, 'usedVideos', " a ".used_videos,"      \
    " 'openLive', " a ".open_live, 'liveNow', " a ".live_now,"              \
    " 'disabledAt', api_time(" a ".disabled_at),"                             \
    " 'createdAt', api_time(" a ".created_at))"


typedef struct {
    ngx_str_t                    id;        /* of a key or an account */
    const char                  *prefix;    /* of the answer's data */
    const char                  *suffix;
    ngx_uint_t                   status;    /* of a success */
    ngx_uint_t                   drop;      /* the second column: ids */
    const char                  *missing;   /* what no row means */
    ngx_uint_t                   conflict;  /* no row: the id exists */
    char                        *values[NGX_HTTP_VIDEO_API_ACCESS_VALUES];
    u_char                       key[VIDEO_APIKEY_LEN + 1];
    ngx_http_video_api_pg_stmt_t *stmt;      /* the route's statement */
    int                          nvalues;
} ngx_http_video_api_access_ctx_t;


/*
 * ngx_http_video_api_access.c: the request state, whose answer is
 * prefix, the row's JSON text and suffix; a 400 for one query argument;
 * a NUL-terminated copy; the caller's key id and address, as audit rows
 * have them; the cached copies of the videos in ids ("a b c") dropped;
 * the route's one statement, run
 */
ngx_http_video_api_access_ctx_t *ngx_http_video_api_access_ctx(
    ngx_http_request_t *r, const char *prefix, const char *suffix);
ngx_int_t ngx_http_video_api_access_invalid(ngx_http_request_t *r,
    const char *path, const char *message);
char *ngx_http_video_api_access_cstr(ngx_http_request_t *r, ngx_str_t *s);
ngx_int_t ngx_http_video_api_access_actor(ngx_http_request_t *r, char **key,
    char **source);
void ngx_http_video_api_access_uncache(ngx_http_request_t *r, char *ids);
ngx_int_t ngx_http_video_api_access_query(ngx_http_request_t *r,
    ngx_http_video_api_access_ctx_t *actx, ngx_http_video_api_pg_stmt_t *stmt,
    int n);

/* ngx_http_video_api_accounts.c: the routes of the access table there */
ngx_int_t ngx_http_video_api_accounts_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
ngx_int_t ngx_http_video_api_accounts_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
ngx_int_t ngx_http_video_api_accounts_update(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
ngx_int_t ngx_http_video_api_audit_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


#endif /* _NGX_HTTP_VIDEO_API_ACCESS_H_INCLUDED_ */
