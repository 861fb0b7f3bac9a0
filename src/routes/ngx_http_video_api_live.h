/*
 * The live area's shared parts: the stream columns its statements
 * return, the request state and the statement runner, used by the stream
 * routes (ngx_http_video_api_live.c) and nginx-rtmp's callbacks
 * (ngx_http_video_api_live_callbacks.c).
 */

#ifndef _NGX_HTTP_VIDEO_API_LIVE_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_LIVE_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "ngx_http_video_api_run.h"
#include "video_id.h"


/*
 * Statements that change a stream return the video's JSON text and
 * version first (for the cache), then the stream's columns; those that
 * only read it return NULLs in the first two places.  $2 is the play URL
 * base wherever video_json() is called.
 */

#define LIVE_CHANGED  "video_json(v, $2, $2)::text, video_version(v), "

#define LIVE_UNCHANGED  "NULL, NULL, "

#define LIVE_STREAM                                                           \
    "v.id, v.title, v.description, v.status, v.visibility, v.is_live_now,"    \
    " api_time(v.live_started_at), api_time(v.live_ended_at),"                \
    " api_time(v.created_at), api_time(v.updated_at), v.hls_manifest_key,"    \
    " v.video_type, v.live_client, v.token_gen"

#define LIVE_TOUCH  "updated_at = video_touch(v.updated_at)"

enum {
    LIVE_COL_JSON = 0,
    LIVE_COL_VERSION,
    LIVE_COL_ID,
    LIVE_COL_TITLE,
    LIVE_COL_DESCRIPTION,
    LIVE_COL_STATUS,
    LIVE_COL_VISIBILITY,
    LIVE_COL_LIVE,
    LIVE_COL_STARTED,
    LIVE_COL_ENDED,
    LIVE_COL_CREATED,
    LIVE_COL_UPDATED,
    LIVE_COL_MANIFEST,
    LIVE_COL_TYPE,
    LIVE_COL_CLIENT,
    LIVE_COL_GEN,
    LIVE_COL_EXTRA
};


/*
 * The first two parameters of the stream statements, which
 * ngx_http_video_api_live_ctx() fills: the stream's id and the play URL
 * base; each statement names the rest after them
 */
enum {
    LIVE_PARAM_ID = 0,
    LIVE_PARAM_PLAY_BASE,
    LIVE_PARAMS_MAX = 7
};


typedef struct ngx_http_video_api_live_ctx_s  ngx_http_video_api_live_ctx_t;

typedef ngx_int_t (*ngx_http_video_api_live_answer_pt)(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);

struct ngx_http_video_api_live_ctx_s {
    ngx_str_t                          id;
    u_char                             key[VIDEO_STREAM_KEY_LEN + 1];
    u_char                             hash[VIDEO_STREAM_KEY_HASH_LEN + 1];
    char                              *values[LIVE_PARAMS_MAX];
    ngx_http_video_api_live_answer_pt  answer;

    /* what is answered once the publisher is dropped */
    ngx_str_t                          status;
    ngx_uint_t                         drop_status;
    /* the run its statements go through, and the next statement */
    ngx_http_video_api_run_t          *run;
    ngx_http_video_api_pg_stmt_t      *stmt;
    int                                nvalues;
    unsigned                           drop_done:1;
    unsigned                           rotated:1;
};


ngx_http_video_api_main_conf_t *ngx_http_video_api_live_conf(
    ngx_http_request_t *r);

/*
 * the request's state for stream id (NULL: none); NULL with *rc the
 * answer when id is not a video id or memory runs out
 */
ngx_http_video_api_live_ctx_t *ngx_http_video_api_live_ctx(
    ngx_http_request_t *r, ngx_str_t *id, ngx_int_t *rc);

/*
 * runs stmt with n of lctx->values (the first of a request starts its
 * run); its rows go to answer, a failure gets the module's one answer;
 * NGX_DONE, or what a handler returns
 */
ngx_int_t ngx_http_video_api_live_query(ngx_http_request_t *r,
    ngx_http_video_api_pg_stmt_t *stmt, int n,
    ngx_http_video_api_live_ctx_t *lctx,
    ngx_http_video_api_live_answer_pt answer);

/* the steps of a live request's run */
typedef enum {
    LIVE_SEND = 0,
    LIVE_ROWS,
    LIVE_DROPPED,
    LIVE_CLAIMED        /* an Idempotency-Key claimed (create) */
} ngx_http_video_api_live_step_e;

/* a changed stream (LIVE_CHANGED row 0) goes to the video cache */
void ngx_http_video_api_live_changed(ngx_http_request_t *r, PGresult *res);

/* column col of row 0 copied NUL-terminated from r->pool */
ngx_int_t ngx_http_video_api_live_copy(ngx_http_request_t *r, PGresult *res,
    int col, ngx_str_t *out);


/* ngx_http_video_api_live_json.c: a stream as the routes answer it */
json_t *ngx_http_video_api_live_stream(ngx_http_request_t *r, PGresult *res,
    int row);
json_t *ngx_http_video_api_live_col(PGresult *res, int row, int col);
ngx_uint_t ngx_http_video_api_live_is(PGresult *res, int row, int col,
    char *value);
/* its live and VOD play URLs (NULL: none) */
ngx_int_t ngx_http_video_api_live_urls(ngx_http_request_t *r, PGresult *res,
    int row, char **live, char **vod);

/*
 * ngx_http_video_api_live_drop.c: drops the publisher of the stream in
 * res (row 0) on every worker; the run goes on with LIVE_DROPPED, whose
 * answer is ngx_http_video_api_live_drop_answer()
 */
ngx_int_t ngx_http_video_api_live_drop(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx, PGresult *res);
ngx_int_t ngx_http_video_api_live_drop_answer(ngx_http_request_t *r,
    ngx_http_video_api_live_ctx_t *lctx);


#endif /* _NGX_HTTP_VIDEO_API_LIVE_H_INCLUDED_ */
