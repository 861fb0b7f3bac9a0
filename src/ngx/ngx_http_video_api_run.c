/*
 * The request runner (see the header): the one place a route's request is
 * held, driven from step to step, and finalized.
 */

#include "ngx_http_video_api_run.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_variables.h"
#include "video_envelope.h"


/* a caller's place while a service it called runs */
struct ngx_http_video_api_run_frame_s {
    ngx_http_video_api_steps_t        *steps;
    void                              *data;
    ngx_uint_t                         resume;
    ngx_http_video_api_run_frame_t    *caller;
};


/* a command awaited: its run and the step its reply goes to */
typedef struct {
    ngx_http_video_api_run_t          *run;
    ngx_uint_t                         next;
    ngx_msec_t                         start;     /* for $video_api_* */
} ngx_http_video_api_run_wait_t;


static ngx_int_t ngx_http_video_api_run_drive(ngx_http_video_api_run_t *run);
static void ngx_http_video_api_run_resume(ngx_http_video_api_run_t *run);
static void ngx_http_video_api_run_result(ngx_http_video_api_pg_op_t *op,
    PGresult *res);
static void ngx_http_video_api_run_reply(ngx_http_request_t *r, void *data,
    redisReply *reply);
static ngx_http_video_api_run_wait_t *ngx_http_video_api_run_wait(
    ngx_http_video_api_run_t *run, ngx_uint_t next);
static ngx_int_t ngx_http_video_api_run_declined(
    ngx_http_video_api_run_t *run, ngx_uint_t next, ngx_uint_t pg);


ngx_int_t
ngx_http_video_api_run(ngx_http_request_t *r,
    ngx_http_video_api_steps_t *steps, void *data, ngx_uint_t first)
{
    ngx_http_video_api_run_t  *run;

    run = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_run_t));
    if (run == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    run->request = r;
    run->steps = steps;
    run->data = data;
    run->step = first;

    return ngx_http_video_api_run_drive(run);
}


/*
 * Runs steps until one answers or waits.  Waiting, the request is held
 * (once) and NGX_DONE returned; answering, the answer is returned and the
 * run is over.
 */

static ngx_int_t
ngx_http_video_api_run_drive(ngx_http_video_api_run_t *run)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = run->request;

    run->running = 1;

    do {
        run->go = 0;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "video_api %s: %s", run->steps->name,
                       run->steps->names[run->step]);

        rc = run->steps->handler(run);

        run->res = NULL;
        run->reply = NULL;

        /* a step that answers ends the run, whatever it set going */

    } while (run->go && rc == NGX_DONE);

    run->go = 0;
    run->running = 0;

    if (rc == NGX_DONE && run->pending > 0) {
        if (!run->held) {
            run->held = 1;
            r->main->count++;
        }

        return NGX_DONE;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "video_api %s: answered %i", run->steps->name, rc);

    run->done = 1;

    return rc;
}


/* a result arrived: the run goes on, and the request ends if it answers */

static void
ngx_http_video_api_run_resume(ngx_http_video_api_run_t *run)
{
    ngx_int_t  rc;

    if (run->done) {

        /* answered before this arrived (it was one of several) */

        run->res = NULL;
        run->reply = NULL;
        return;
    }

    rc = ngx_http_video_api_run_drive(run);

    if (!run->done) {
        return;
    }

    /* the one finalize: it releases what the first wait raised */

    ngx_http_finalize_request(run->request, rc);
}


ngx_int_t
ngx_http_video_api_run_query(ngx_http_video_api_run_t *run, ngx_uint_t next,
    ngx_http_video_api_pg_stmt_t *stmt, int n, char **values)
{
    char                *role;
    ngx_http_request_t  *r;

    r = run->request;

    if (stmt->account) {
        ngx_http_video_api_caller_sql(r, run->token,
                                      &values[stmt->account - 1],
                                      stmt->role ? &values[stmt->role - 1]
                                                 : &role);
    }

    if (run->op == NULL) {
        run->op = ngx_http_video_api_pg_op(r, ngx_http_video_api_run_result,
                                           run);
        if (run->op == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "video_api %s: statement \"%s\"%s", run->steps->name,
                   stmt->name, run->hold ? ", held" : "");

    run->op->hold = run->hold;

    if (ngx_http_video_api_pg_send(run->op, stmt, n, values) != NGX_OK) {
        return ngx_http_video_api_run_declined(run, next, 1);
    }

    run->next = next;
    run->pending++;
    run->pg_start = ngx_current_msec;

    return NGX_DONE;
}


static void
ngx_http_video_api_run_result(ngx_http_video_api_pg_op_t *op, PGresult *res)
{
    ngx_http_video_api_run_t  *run;

    run = op->data;

    if (!run->done) {
        ngx_http_video_api_variables_waited(run->request, 1, run->pg_start);
    }

    run->pending--;
    run->step = run->next;
    run->res = res;
    run->from_pg = 1;

    ngx_http_video_api_run_resume(run);
}


void
ngx_http_video_api_run_release(ngx_http_video_api_run_t *run)
{
    run->hold = 0;

    if (run->op != NULL) {
        ngx_http_video_api_pg_release(run->op);
    }
}


ngx_int_t
ngx_http_video_api_run_command(ngx_http_video_api_run_t *run,
    ngx_uint_t next, int argc, const char **argv, const size_t *argvlen)
{
    ngx_http_video_api_run_wait_t  *wait;

    wait = ngx_http_video_api_run_wait(run, next);
    if (wait == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_redis_command(run->request,
                                         ngx_http_video_api_run_reply, wait,
                                         argc, argv, argvlen)
        != NGX_OK)
    {
        return ngx_http_video_api_run_declined(run, next, 0);
    }

    run->pending++;

    return NGX_DONE;
}


ngx_int_t
ngx_http_video_api_run_eval(ngx_http_video_api_run_t *run, ngx_uint_t next,
    ngx_http_video_api_redis_script_t *script, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_video_api_run_wait_t  *wait;

    wait = ngx_http_video_api_run_wait(run, next);
    if (wait == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_redis_eval(run->request, script,
                                      ngx_http_video_api_run_reply, wait,
                                      nkeys, argc, argv, argvlen)
        != NGX_OK)
    {
        return ngx_http_video_api_run_declined(run, next, 0);
    }

    run->pending++;

    return NGX_DONE;
}


static ngx_http_video_api_run_wait_t *
ngx_http_video_api_run_wait(ngx_http_video_api_run_t *run, ngx_uint_t next)
{
    ngx_http_video_api_run_wait_t  *wait;

    wait = ngx_palloc(run->request->pool,
                      sizeof(ngx_http_video_api_run_wait_t));
    if (wait == NULL) {
        return NULL;
    }

    wait->run = run;
    wait->next = next;
    wait->start = ngx_current_msec;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, run->request->connection->log, 0,
                   "video_api %s: redis, then %s", run->steps->name,
                   run->steps->names[next]);

    return wait;
}


static void
ngx_http_video_api_run_reply(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_run_t       *run;
    ngx_http_video_api_run_wait_t  *wait = data;

    run = wait->run;

    if (!run->done) {
        ngx_http_video_api_variables_waited(run->request, 0,
                                            wait->start);
    }

    run->pending--;
    run->step = wait->next;
    run->reply = reply;
    run->from_pg = 0;

    ngx_http_video_api_run_resume(run);
}


/* the dependency cannot take it now: next runs at once with nothing */

static ngx_int_t
ngx_http_video_api_run_declined(ngx_http_video_api_run_t *run,
    ngx_uint_t next, ngx_uint_t pg)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, run->request->connection->log, 0,
                   "video_api %s: %s unavailable", run->steps->name,
                   pg ? "postgresql" : "redis");

    run->from_pg = pg;

    return ngx_http_video_api_run_goto(run, next);
}


ngx_int_t
ngx_http_video_api_run_goto(ngx_http_video_api_run_t *run, ngx_uint_t next)
{
    run->step = next;
    run->go = 1;

    return NGX_DONE;
}


ngx_int_t
ngx_http_video_api_run_park(ngx_http_video_api_run_t *run, ngx_uint_t next)
{
    run->wake = next;
    run->parked = 1;
    run->pending++;

    return NGX_DONE;
}


void
ngx_http_video_api_run_wake(ngx_http_video_api_run_t *run)
{
    if (!run->parked) {
        return;
    }

    run->parked = 0;
    run->pending--;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, run->request->connection->log, 0,
                   "video_api %s: woken", run->steps->name);

    if (run->running) {

        /* woken before its step returned: the next step runs at once */

        (void) ngx_http_video_api_run_goto(run, run->wake);
        return;
    }

    run->step = run->wake;

    ngx_http_video_api_run_resume(run);
}


ngx_int_t
ngx_http_video_api_run_call(ngx_http_video_api_run_t *run,
    ngx_http_video_api_steps_t *steps, void *data, ngx_uint_t first,
    ngx_uint_t resume)
{
    ngx_http_video_api_run_frame_t  *frame;

    frame = ngx_palloc(run->request->pool,
                       sizeof(ngx_http_video_api_run_frame_t));
    if (frame == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    frame->steps = run->steps;
    frame->data = run->data;
    frame->resume = resume;
    frame->caller = run->caller;

    run->caller = frame;
    run->steps = steps;
    run->data = data;

    return ngx_http_video_api_run_goto(run, first);
}


ngx_int_t
ngx_http_video_api_run_return(ngx_http_video_api_run_t *run)
{
    ngx_http_video_api_run_frame_t  *frame;

    frame = run->caller;

    run->caller = frame->caller;
    run->steps = frame->steps;
    run->data = frame->data;

    return ngx_http_video_api_run_goto(run, frame->resume);
}


ngx_uint_t
ngx_http_video_api_run_ok(ngx_http_video_api_run_t *run)
{
    ExecStatusType  status;

    if (run->res == NULL) {
        return 0;
    }

    status = PQresultStatus(run->res);

    return status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
}


/* an account limit (SQLSTATE VQ001 from account_use()): 403, the limit named */

static ngx_int_t
ngx_http_video_api_run_quota(ngx_http_request_t *r, PGresult *res)
{
    char          *state, *msg, *detail;
    json_t        *details;
    json_error_t   error;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    if (state == NULL || ngx_strcmp(state, "VQ001") != 0) {
        return NGX_DECLINED;
    }

    msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

    if (msg == NULL) {
        msg = "Account limit reached";
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "video_api: refused by an account limit: %s", msg);

    details = NULL;

    if (detail != NULL) {
        details = json_loads(detail, JSON_REJECT_DUPLICATES, &error);

        if (!json_is_array(details)) {
            json_decref(details);
            details = NULL;
        }
    }

    return ngx_http_video_api_send_json(r, NGX_HTTP_FORBIDDEN,
               video_envelope_error(NGX_HTTP_FORBIDDEN, "QUOTA_EXCEEDED",
                                    msg, ngx_strlen(msg), details));
}


static ngx_int_t
ngx_http_video_api_run_pg_failed(ngx_http_request_t *r, PGresult *res)
{
    ngx_int_t       rc;
    ExecStatusType  status;

    if (res == NULL || ngx_http_video_api_pg_timed_out(res)) {
        return ngx_http_video_api_send_unavailable(r, "Database");
    }

    status = PQresultStatus(res);

    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: postgresql statement gave %d rows, "
                      "not what its route reads", PQntuples(res));

    } else {
        rc = ngx_http_video_api_run_quota(r, res);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: postgresql statement failed: %s",
                      PQresultErrorMessage(res));
    }

    return ngx_http_video_api_send_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NULL, "Internal error");
}


ngx_int_t
ngx_http_video_api_run_failed(ngx_http_video_api_run_t *run)
{
    redisReply          *reply;
    ngx_http_request_t  *r;

    r = run->request;

    if (run->from_pg) {
        return ngx_http_video_api_run_pg_failed(r, run->res);
    }

    reply = run->reply;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: redis answered \"%*s\"",
                      (size_t) reply->len, reply->str);
    }

    return ngx_http_video_api_send_unavailable(r, "Redis");
}
