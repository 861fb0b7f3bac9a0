/*
 * The request runner: every route does its PostgreSQL, Redis and waiting
 * through here.
 *
 * A route is a step function over named steps (an enum, with a table of
 * names).  Each step either answers, as a content handler returns, or
 * waits on something (a statement, a command, a wake-up) naming the step
 * that takes its result; a service that several routes use (the video
 * read) is called like a step and returns to the step its caller names.
 * The runner holds the request while anything is awaited (r->main->count
 * raised once, when the run first waits, and released by the one
 * finalize when it answers), puts the caller's identity into every
 * statement scoped by it, answers every dependency failure the same way,
 * and logs each step at debug level, so that a debug log reads as the
 * request's story.
 */

#ifndef _NGX_HTTP_VIDEO_API_RUN_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_RUN_H_INCLUDED_


#include "ngx_http_video_api.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_redis.h"


typedef struct ngx_http_video_api_run_s  ngx_http_video_api_run_t;

/* runs run->step: an answer, or NGX_DONE from one of the calls below */
typedef ngx_int_t (*ngx_http_video_api_run_pt)(ngx_http_video_api_run_t *run);

/* a route's or a service's steps */
typedef struct {
    const char                        *name;      /* "videos get" */
    ngx_http_video_api_run_pt          handler;
    const char *const                 *names;     /* by step */
} ngx_http_video_api_steps_t;

typedef struct ngx_http_video_api_run_frame_s  ngx_http_video_api_run_frame_t;

struct ngx_http_video_api_run_s {
    ngx_http_request_t                *request;

    /* what runs now: the route, or a service it called */
    ngx_http_video_api_steps_t        *steps;
    void                              *data;
    ngx_uint_t                         step;
    ngx_http_video_api_run_frame_t    *caller;

    /*
     * what the step was woken with, for that step only: a statement's
     * result, or a command's reply; NULL when the dependency is
     * unavailable (down, timed out, its queue full)
     */
    PGresult                          *res;
    redisReply                        *reply;

    /* the route's statements, one at a time; held in a transaction */
    ngx_http_video_api_pg_op_t        *op;

    ngx_uint_t                         pending;   /* results awaited */
    ngx_uint_t                         next;      /* a statement's step */
    ngx_uint_t                         wake;      /* a park's step */
    ngx_msec_t                         pg_start;  /* the statement's send */

    /* a play token admits the caller: scoped statements see "token" */
    unsigned                           token:1;
    /* the next statement keeps its connection: a transaction */
    unsigned                           hold:1;

    /* the rest belongs to the runner */
    unsigned                           go:1;
    unsigned                           running:1;
    unsigned                           parked:1;
    unsigned                           held:1;
    unsigned                           done:1;
    unsigned                           from_pg:1;
};


/*
 * Runs data through steps from the step first: what a content handler
 * (or a body handler, to its finalize) returns.
 */
ngx_int_t ngx_http_video_api_run(ngx_http_request_t *r,
    ngx_http_video_api_steps_t *steps, void *data, ngx_uint_t first);

/*
 * Waits on stmt, then runs next with run->res.  A statement scoped by the
 * caller (ngx_http_video_api_pg_scoped) gets the caller's account and role
 * in its values here.  Returns NGX_DONE for the step to return.
 */
ngx_int_t ngx_http_video_api_run_query(ngx_http_video_api_run_t *run,
    ngx_uint_t next, ngx_http_video_api_pg_stmt_t *stmt, int n,
    char **values);

/* Gives back a held connection; an open transaction is rolled back. */
void ngx_http_video_api_run_release(ngx_http_video_api_run_t *run);

/* Waits on a Redis command, or a script, then runs next with run->reply. */
ngx_int_t ngx_http_video_api_run_command(ngx_http_video_api_run_t *run,
    ngx_uint_t next, int argc, const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_video_api_run_eval(ngx_http_video_api_run_t *run,
    ngx_uint_t next, ngx_http_video_api_redis_script_t *script, int nkeys,
    int argc, const char **argv, const size_t *argvlen);

/* Runs next at once. */
ngx_int_t ngx_http_video_api_run_goto(ngx_http_video_api_run_t *run,
    ngx_uint_t next);

/*
 * Waits until ngx_http_video_api_run_wake() (a notice, a timer), then runs
 * next; a run parks once at a time.
 */
ngx_int_t ngx_http_video_api_run_park(ngx_http_video_api_run_t *run,
    ngx_uint_t next);
void ngx_http_video_api_run_wake(ngx_http_video_api_run_t *run);

/*
 * Runs the service steps on data from first; its return goes on with the
 * caller's step resume (what the service found is in data).
 */
ngx_int_t ngx_http_video_api_run_call(ngx_http_video_api_run_t *run,
    ngx_http_video_api_steps_t *steps, void *data, ngx_uint_t first,
    ngx_uint_t resume);
ngx_int_t ngx_http_video_api_run_return(ngx_http_video_api_run_t *run);

/* 1 when run->res is a statement's success */
ngx_uint_t ngx_http_video_api_run_ok(ngx_http_video_api_run_t *run);

/*
 * The one answer to a dependency that did not give what the step wanted
 * (nothing, an error, or rows of the wrong shape), as a content handler
 * returns it.  PostgreSQL unreachable, its pool's queue full, a
 * statement's timeout (ours or the server's), Redis unavailable or timed
 * out: 503 UNAVAILABLE.  An account limit (SQLSTATE VQ001 from
 * account_use()): 403 QUOTA_EXCEEDED naming the limit.  Any other
 * statement error or wrong shape: 500 INTERNAL, the server's message in
 * the error log only.  A Redis error reply: 503, the error logged.
 */
ngx_int_t ngx_http_video_api_run_failed(ngx_http_video_api_run_t *run);


#endif /* _NGX_HTTP_VIDEO_API_RUN_H_INCLUDED_ */
