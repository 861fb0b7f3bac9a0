/*
 * The PostgreSQL pool.  Each worker keeps "pool" connections; libpq runs
 * in non-blocking mode and its socket is an nginx connection registered
 * level-triggered, because libpq does its own reads and nginx's readiness
 * flags cannot follow them.  Write interest is on only while libpq has
 * something to send.  Every connect and every statement has a timer; a
 * connection whose statement timed out is closed, never reused.
 */

#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_response.h"
#include "video_envelope.h"


#define NGX_HTTP_VIDEO_API_PG_DOWN        0
#define NGX_HTTP_VIDEO_API_PG_CONNECTING  1
#define NGX_HTTP_VIDEO_API_PG_IDLE        2
#define NGX_HTTP_VIDEO_API_PG_BUSY        3
#define NGX_HTTP_VIDEO_API_PG_HELD        4

#define NGX_HTTP_VIDEO_API_PG_SLOTS       64
#define NGX_HTTP_VIDEO_API_PG_BACKOFF_MIN 100
#define NGX_HTTP_VIDEO_API_PG_BACKOFF_MAX 2000

/*
 * The server cancels a statement at the timeout (statement_timeout), which
 * rolls it back; the client's own timer is a little later and only
 * catches a server that does not answer at all.
 */
#define NGX_HTTP_VIDEO_API_PG_GRACE       250


typedef struct ngx_http_video_api_pg_pool_s  ngx_http_video_api_pg_pool_t;


struct ngx_http_video_api_pg_conn_s {
    PGconn                          *pg;
    ngx_connection_t                *c;
    ngx_http_video_api_pg_pool_t    *pool;
    ngx_http_video_api_pg_op_t      *op;
    PGresult                        *res;
    ngx_uint_t                       state;
    uint64_t                         prepared;
    uint64_t                         preparing_bit;  /* of the prepare sent */
    ngx_uint_t                       failures;
    PostgresPollingStatusType        poll;
    ngx_event_t                      timer;     /* connect or statement */
    ngx_event_t                      retry;     /* reconnect backoff */
    ngx_queue_t                      idle;
    unsigned                         preparing:1;
    unsigned                         writing:1;
};


struct ngx_http_video_api_pg_pool_s {
    ngx_http_video_api_pg_conf_t    *conf;
    PQconninfoOption                *opts;
    const char                     **keywords;
    const char                     **values;
    ngx_log_t                       *log;
    ngx_http_video_api_pg_conn_t    *conns;
    ngx_uint_t                       nconns;
    ngx_queue_t                      idle;
    ngx_queue_t                      waiting;
    ngx_uint_t                       nwaiting;
    ngx_uint_t                       nup;
    ngx_uint_t                       reported;  /* state last logged */
    unsigned                         exiting:1;
    unsigned                         sending:1;  /* inside pg_send() */
};


static ngx_int_t ngx_http_video_api_pg_params(ngx_cycle_t *cycle,
    ngx_http_video_api_pg_pool_t *pool);
static void ngx_http_video_api_pg_connect(ngx_http_video_api_pg_conn_t *pc);
static ngx_int_t ngx_http_video_api_pg_wrap(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_unwrap(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_want_write(ngx_http_video_api_pg_conn_t *pc,
    ngx_uint_t on);
static void ngx_http_video_api_pg_event(ngx_event_t *ev);
static void ngx_http_video_api_pg_timeout(ngx_event_t *ev);
static void ngx_http_video_api_pg_retry(ngx_event_t *ev);
static void ngx_http_video_api_pg_connect_poll(
    ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_connected(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_exchange(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_complete(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_start(ngx_http_video_api_pg_conn_t *pc,
    ngx_http_video_api_pg_op_t *op);
static void ngx_http_video_api_pg_idle(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_fail(ngx_http_video_api_pg_conn_t *pc,
    const char *why);
static void ngx_http_video_api_pg_close(ngx_http_video_api_pg_conn_t *pc);
static void ngx_http_video_api_pg_deliver(ngx_http_video_api_pg_op_t *op,
    PGresult *res);
static void ngx_http_video_api_pg_wait_handler(ngx_event_t *ev);
static void ngx_http_video_api_pg_op_cleanup(void *data);
static void ngx_http_video_api_pg_report(ngx_http_video_api_pg_pool_t *pool,
    const char *why);
static void ngx_http_video_api_pg_gauges(ngx_http_video_api_pg_pool_t *pool);


static ngx_http_video_api_pg_pool_t  *ngx_http_video_api_pg_pool;
static ngx_uint_t                     ngx_http_video_api_pg_nslots;


ngx_int_t
ngx_http_video_api_pg_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i;
    ngx_http_video_api_pg_conn_t    *pc;
    ngx_http_video_api_pg_pool_t    *pool;
    ngx_http_video_api_main_conf_t  *mcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_video_api_module);
    if (mcf == NULL || !mcf->pg_set) {
        return NGX_OK;
    }

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_http_video_api_pg_pool_t));
    if (pool == NULL) {
        return NGX_ERROR;
    }

    pool->conf = &mcf->pg;
    pool->log = cycle->log;
    pool->nconns = mcf->pg.pool;
    pool->reported = 1;

    pool->conns = ngx_pcalloc(cycle->pool,
                              pool->nconns
                              * sizeof(ngx_http_video_api_pg_conn_t));
    if (pool->conns == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&pool->idle);
    ngx_queue_init(&pool->waiting);

    if (ngx_http_video_api_pg_params(cycle, pool) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_video_api_pg_pool = pool;

    for (i = 0; i < pool->nconns; i++) {
        pc = &pool->conns[i];
        pc->pool = pool;

        pc->timer.handler = ngx_http_video_api_pg_timeout;
        pc->timer.data = pc;
        pc->timer.log = cycle->log;

        pc->retry.handler = ngx_http_video_api_pg_retry;
        pc->retry.data = pc;
        pc->retry.log = cycle->log;
        pc->retry.cancelable = 1;

        ngx_http_video_api_pg_connect(pc);
    }

    return NGX_OK;
}


void
ngx_http_video_api_pg_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_video_api_pg_pool_t  *pool;

    pool = ngx_http_video_api_pg_pool;

    if (pool == NULL) {
        return;
    }

    pool->exiting = 1;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].retry.timer_set) {
            ngx_del_timer(&pool->conns[i].retry);
        }

        ngx_http_video_api_pg_close(&pool->conns[i]);
    }

    PQconninfoFree(pool->opts);

    ngx_http_video_api_pg_pool = NULL;
}


/*
 * The connection parameters: the configured ones, plus the address
 * resolved at configuration time, the server-side statement timeout and
 * a name that shows in pg_stat_activity.
 */

static ngx_int_t
ngx_http_video_api_pg_params(ngx_cycle_t *cycle,
    ngx_http_video_api_pg_pool_t *pool)
{
    char                          *err;
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     n, k, has_options, has_hostaddr, has_name;
    PQconninfoOption              *o;
    ngx_http_video_api_pg_conf_t  *conf;

    conf = pool->conf;

    pool->opts = PQconninfoParse((char *) conf->conninfo.data, &err);
    if (pool->opts == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "video_api: invalid postgresql connection string");
        if (err != NULL) {
            PQfreemem(err);
        }

        return NGX_ERROR;
    }

    n = 0;

    for (o = pool->opts; o->keyword != NULL; o++) {
        n++;
    }

    pool->keywords = ngx_pcalloc(cycle->pool, (n + 4) * sizeof(char *));
    pool->values = ngx_pcalloc(cycle->pool, (n + 4) * sizeof(char *));

    if (pool->keywords == NULL || pool->values == NULL) {
        return NGX_ERROR;
    }

    k = 0;
    has_options = 0;
    has_hostaddr = 0;
    has_name = 0;

    for (o = pool->opts; o->keyword != NULL; o++) {

        if (o->val == NULL) {
            continue;
        }

        pool->keywords[k] = o->keyword;
        pool->values[k] = o->val;

        if (ngx_strcmp(o->keyword, "options") == 0) {
            has_options = 1;

            len = ngx_strlen(o->val) + sizeof(" -c statement_timeout=")
                  + NGX_INT_T_LEN + 2;
            p = ngx_pnalloc(cycle->pool, len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            *ngx_snprintf(p, len - 1, "%s -c statement_timeout=%M",
                          o->val, conf->timeout) = '\0';
            pool->values[k] = (char *) p;

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0) {
            has_hostaddr = 1;

        } else if (ngx_strcmp(o->keyword, "application_name") == 0) {
            has_name = 1;
        }

        k++;
    }

    if (!has_options) {
        len = sizeof("-c statement_timeout=") + NGX_INT_T_LEN;
        p = ngx_pnalloc(cycle->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        *ngx_snprintf(p, len - 1, "-c statement_timeout=%M", conf->timeout)
            = '\0';

        pool->keywords[k] = "options";
        pool->values[k++] = (char *) p;
    }

    if (!has_hostaddr && conf->hostaddr.len) {
        pool->keywords[k] = "hostaddr";
        pool->values[k++] = (char *) conf->hostaddr.data;
    }

    if (!has_name) {
        pool->keywords[k] = "application_name";
        pool->values[k++] = "video-api";
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_video_api_pg_up(void)
{
    return ngx_http_video_api_pg_pool != NULL
           && ngx_http_video_api_pg_pool->nup > 0;
}


ngx_uint_t
ngx_http_video_api_pg_timed_out(PGresult *res)
{
    char  *state;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    return state != NULL && ngx_strcmp(state, "57014") == 0;
}


ngx_http_video_api_pg_op_t *
ngx_http_video_api_pg_op(ngx_http_request_t *r,
    ngx_http_video_api_pg_handler_pt handler, void *data)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_video_api_pg_op_t  *op;

    op = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_pg_op_t));
    if (op == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_video_api_pg_op_cleanup;
    cln->data = op;

    op->request = r;
    op->handler = handler;
    op->data = data;

    op->wait.handler = ngx_http_video_api_pg_wait_handler;
    op->wait.data = op;
    op->wait.log = r->connection->log;

    return op;
}


ngx_int_t
ngx_http_video_api_pg_send(ngx_http_video_api_pg_op_t *op,
    ngx_http_video_api_pg_stmt_t *stmt, int nvalues, char **values)
{
    ngx_uint_t                     i, alive;
    ngx_queue_t                   *q;
    ngx_http_video_api_pg_conn_t  *pc;
    ngx_http_video_api_pg_pool_t  *pool;

    pool = ngx_http_video_api_pg_pool;

    if (pool == NULL || op->lost || op->queued || op->wait.posted) {
        return NGX_DECLINED;
    }

    if (stmt->slot == 0 && ngx_http_video_api_pg_nslots
                           < NGX_HTTP_VIDEO_API_PG_SLOTS)
    {
        stmt->slot = ++ngx_http_video_api_pg_nslots;
    }

    op->stmt = stmt;
    op->nvalues = nvalues;
    op->values = values;
    op->failed = 0;

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_STATEMENTS);

    /* the next statement of a transaction goes where the others went */

    pc = op->conn;

    if (pc == NULL && !ngx_queue_empty(&pool->idle)) {
        q = ngx_queue_head(&pool->idle);
        pc = ngx_queue_data(q, ngx_http_video_api_pg_conn_t, idle);
    }

    if (pc != NULL) {

        /*
         * on loopback the answer can be back before libpq is first asked:
         * whatever completes now is delivered from a posted event
         */

        pool->sending = 1;
        ngx_http_video_api_pg_start(pc, op);
        pool->sending = 0;

        return NGX_OK;
    }

    /* wait only for connections that exist or are being made */

    alive = 0;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state != NGX_HTTP_VIDEO_API_PG_DOWN) {
            alive++;
        }
    }

    if (alive == 0 || pool->nwaiting >= pool->conf->queue) {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_UNAVAILABLE);
        return NGX_DECLINED;
    }

    ngx_queue_insert_tail(&pool->waiting, &op->queue);
    pool->nwaiting++;
    op->queued = 1;

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_WAITS);
    ngx_http_video_api_pg_gauges(pool);

    ngx_add_timer(&op->wait, pool->conf->timeout);

    return NGX_OK;
}


void
ngx_http_video_api_pg_release(ngx_http_video_api_pg_op_t *op)
{
    ngx_http_video_api_pg_conn_t  *pc;

    pc = op->conn;
    op->hold = 0;

    if (pc == NULL || pc->state != NGX_HTTP_VIDEO_API_PG_HELD) {
        return;
    }

    op->conn = NULL;
    pc->op = NULL;

    ngx_http_video_api_pg_idle(pc);
}


static void
ngx_http_video_api_pg_connect(ngx_http_video_api_pg_conn_t *pc)
{
    ngx_http_video_api_pg_pool_t  *pool;

    pool = pc->pool;

    pc->pg = PQconnectStartParams(pool->keywords, pool->values, 0);

    if (pc->pg == NULL) {
        ngx_http_video_api_pg_fail(pc, "out of memory");
        return;
    }

    if (PQstatus(pc->pg) == CONNECTION_BAD
        || PQsetnonblocking(pc->pg, 1) != 0)
    {
        ngx_http_video_api_pg_fail(pc, PQerrorMessage(pc->pg));
        return;
    }

    pc->state = NGX_HTTP_VIDEO_API_PG_CONNECTING;
    pc->prepared = 0;

    /* libpq: just after PQconnectStart, act as if it asked to write */

    pc->poll = PGRES_POLLING_WRITING;

    if (ngx_http_video_api_pg_wrap(pc) != NGX_OK) {
        ngx_http_video_api_pg_fail(pc, "cannot register the socket");
        return;
    }

    ngx_add_timer(&pc->timer, pool->conf->timeout);

    ngx_http_video_api_pg_want_write(pc, 1);
}


/* wraps libpq's current socket in an nginx connection, level-triggered */

static ngx_int_t
ngx_http_video_api_pg_wrap(ngx_http_video_api_pg_conn_t *pc)
{
    ngx_socket_t       fd;
    ngx_connection_t  *c;

    ngx_http_video_api_pg_unwrap(pc);

    fd = PQsocket(pc->pg);
    if (fd == (ngx_socket_t) -1) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, pc->pool->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = pc;
    c->read->handler = ngx_http_video_api_pg_event;
    c->write->handler = ngx_http_video_api_pg_event;
    c->read->log = pc->pool->log;
    c->write->log = pc->pool->log;

    pc->c = c;
    pc->writing = 0;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_http_video_api_pg_unwrap(pc);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Forgets the nginx side of the socket without closing it: libpq owns the
 * descriptor and closes it itself (a closed descriptor leaves epoll).
 */

static void
ngx_http_video_api_pg_unwrap(ngx_http_video_api_pg_conn_t *pc)
{
    ngx_connection_t  *c;

    c = pc->c;

    if (c == NULL) {
        return;
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->active = 0;
    c->write->active = 0;
    c->read->closed = 1;
    c->write->closed = 1;
    c->fd = (ngx_socket_t) -1;

    ngx_free_connection(c);

    pc->c = NULL;
    pc->writing = 0;
}


static void
ngx_http_video_api_pg_want_write(ngx_http_video_api_pg_conn_t *pc,
    ngx_uint_t on)
{
    if (pc->c == NULL || pc->writing == on) {
        return;
    }

    if (on) {
        if (ngx_add_event(pc->c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_http_video_api_pg_fail(pc, "cannot register the socket");
            return;
        }

    } else {
        if (ngx_del_event(pc->c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            ngx_http_video_api_pg_fail(pc, "cannot register the socket");
            return;
        }
    }

    pc->writing = on;
}


static void
ngx_http_video_api_pg_event(ngx_event_t *ev)
{
    ngx_connection_t              *c;
    ngx_http_video_api_pg_conn_t  *pc;

    c = ev->data;
    pc = c->data;

    switch (pc->state) {

    case NGX_HTTP_VIDEO_API_PG_CONNECTING:

        /* libpq must be polled on the readiness it asked for */

        if ((ev->write && pc->poll == PGRES_POLLING_WRITING)
            || (!ev->write && pc->poll == PGRES_POLLING_READING))
        {
            ngx_http_video_api_pg_connect_poll(pc);
        }

        return;

    case NGX_HTTP_VIDEO_API_PG_BUSY:
        ngx_http_video_api_pg_exchange(pc);
        return;

    case NGX_HTTP_VIDEO_API_PG_IDLE:
    case NGX_HTTP_VIDEO_API_PG_HELD:

        /* an idle connection only hears notices, or the server leaving */

        if (!PQconsumeInput(pc->pg) || PQstatus(pc->pg) == CONNECTION_BAD) {
            ngx_http_video_api_pg_fail(pc, PQerrorMessage(pc->pg));
            return;
        }

        ngx_http_video_api_pg_want_write(pc, 0);
        return;
    }
}


static void
ngx_http_video_api_pg_connect_poll(ngx_http_video_api_pg_conn_t *pc)
{
    pc->poll = PQconnectPoll(pc->pg);

    switch (pc->poll) {

    case PGRES_POLLING_OK:
        ngx_http_video_api_pg_connected(pc);
        return;

    case PGRES_POLLING_FAILED:
        ngx_http_video_api_pg_fail(pc, PQerrorMessage(pc->pg));
        return;

    case PGRES_POLLING_WRITING:

        /*
         * libpq starts a new socket when it moves on to the next address
         * of a host; the old one is closed and gone from epoll already
         */

        if (PQstatus(pc->pg) == CONNECTION_STARTED
            && ngx_http_video_api_pg_wrap(pc) != NGX_OK)
        {
            ngx_http_video_api_pg_fail(pc, "cannot register the socket");
            return;
        }

        ngx_http_video_api_pg_want_write(pc, 1);
        return;

    default: /* PGRES_POLLING_READING */
        ngx_http_video_api_pg_want_write(pc, 0);
        return;
    }
}


static void
ngx_http_video_api_pg_connected(ngx_http_video_api_pg_conn_t *pc)
{
    ngx_http_video_api_pg_pool_t  *pool;

    pool = pc->pool;

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    ngx_http_video_api_pg_want_write(pc, 0);

    pc->failures = 0;
    pool->nup++;

    ngx_http_video_api_pg_report(pool, NULL);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "video_api: postgresql connection %p up", pc);

    ngx_http_video_api_pg_idle(pc);
}


/* hands the connection to op and sends its statement */

static void
ngx_http_video_api_pg_start(ngx_http_video_api_pg_conn_t *pc,
    ngx_http_video_api_pg_op_t *op)
{
    int                            rc;
    uint64_t                       bit;
    ngx_http_video_api_pg_stmt_t  *stmt;

    if (pc->state == NGX_HTTP_VIDEO_API_PG_IDLE) {
        ngx_queue_remove(&pc->idle);
    }

    pc->state = NGX_HTTP_VIDEO_API_PG_BUSY;
    pc->op = op;
    op->conn = pc;

    ngx_http_video_api_pg_gauges(pc->pool);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->pool->log, 0,
                   "video_api: postgresql %p sends \"%s\" for op:%p",
                   pc, op->stmt->name, op);

    stmt = op->stmt;
    bit = (stmt->slot > 0) ? (uint64_t) 1 << (stmt->slot - 1) : 0;

    if (bit == 0) {
        pc->preparing = 0;
        rc = PQsendQueryParams(pc->pg, stmt->sql, op->nvalues, NULL,
                               (const char * const *) op->values,
                               NULL, NULL, 0);

    } else if (!(pc->prepared & bit)) {
        pc->preparing = 1;
        pc->preparing_bit = bit;
        rc = PQsendPrepare(pc->pg, stmt->name, stmt->sql, 0, NULL);

    } else {
        pc->preparing = 0;
        rc = PQsendQueryPrepared(pc->pg, stmt->name, op->nvalues,
                                 (const char * const *) op->values,
                                 NULL, NULL, 0);
    }

    if (!rc) {
        ngx_http_video_api_pg_fail(pc, PQerrorMessage(pc->pg));
        return;
    }

    ngx_add_timer(&pc->timer,
                  pc->pool->conf->timeout + NGX_HTTP_VIDEO_API_PG_GRACE);

    ngx_http_video_api_pg_exchange(pc);
}


/* flushes what libpq has to send and collects what the server answered */

static void
ngx_http_video_api_pg_exchange(ngx_http_video_api_pg_conn_t *pc)
{
    int        rc;
    PGresult  *res;

    rc = PQflush(pc->pg);

    if (rc == -1) {
        ngx_http_video_api_pg_fail(pc, PQerrorMessage(pc->pg));
        return;
    }

    ngx_http_video_api_pg_want_write(pc, rc == 1);

    if (pc->c == NULL) {
        return;
    }

    if (!PQconsumeInput(pc->pg)) {
        ngx_http_video_api_pg_fail(pc, PQerrorMessage(pc->pg));
        return;
    }

    while (!PQisBusy(pc->pg)) {

        res = PQgetResult(pc->pg);

        if (res == NULL) {
            ngx_http_video_api_pg_complete(pc);
            return;
        }

        /* one statement gives one result; keep the last, to be safe */

        if (pc->res != NULL) {
            PQclear(pc->res);
        }

        pc->res = res;
    }
}


static void
ngx_http_video_api_pg_complete(ngx_http_video_api_pg_conn_t *pc)
{
    PGresult                    *res;
    ngx_http_video_api_pg_op_t  *op;

    res = pc->res;
    pc->res = NULL;

    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    op = pc->op;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, pc->pool->log, 0,
                   "video_api: postgresql %p statement done: %s%s op:%p",
                   pc, res ? PQresStatus(PQresultStatus(res)) : "no result",
                   pc->preparing ? " (prepare)" : "", op);

    if (pc->preparing) {
        pc->preparing = 0;

        /*
         * the server has the statement now, even when the request that
         * asked went away meanwhile: preparing it again would fail
         */

        if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            res = NULL;
            pc->prepared |= pc->preparing_bit;

            if (op != NULL) {
                ngx_http_video_api_pg_start(pc, op);
                return;
            }
        }
    }

    if (op == NULL) {

        /* its request went away: drop the result, keep the connection */

        if (res != NULL) {
            PQclear(res);
        }

        ngx_http_video_api_pg_idle(pc);
        return;
    }

    if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR) {
        ngx_http_video_api_metrics_inc(ngx_http_video_api_pg_timed_out(res)
                                       ? NGX_HTTP_VIDEO_API_M_PG_TIMEOUTS
                                       : NGX_HTTP_VIDEO_API_M_PG_STMT_ERRORS);
    }

    if (op->hold) {
        pc->state = NGX_HTTP_VIDEO_API_PG_HELD;

    } else {
        pc->op = NULL;
        op->conn = NULL;
        ngx_http_video_api_pg_idle(pc);
    }

    ngx_http_video_api_pg_deliver(op, res);
}


/*
 * Back to the pool: a connection left inside a transaction is closed
 * (which rolls it back) rather than handed to another request.
 */

static void
ngx_http_video_api_pg_idle(ngx_http_video_api_pg_conn_t *pc)
{
    ngx_queue_t                   *q;
    ngx_http_video_api_pg_op_t    *op;
    ngx_http_video_api_pg_pool_t  *pool;

    pool = pc->pool;

    if (PQtransactionStatus(pc->pg) != PQTRANS_IDLE) {
        ngx_http_video_api_pg_fail(pc, "left inside a transaction");
        return;
    }

    pc->state = NGX_HTTP_VIDEO_API_PG_IDLE;
    pc->op = NULL;
    ngx_queue_insert_tail(&pool->idle, &pc->idle);
    ngx_http_video_api_pg_gauges(pool);

    if (pool->exiting || ngx_queue_empty(&pool->waiting)) {
        return;
    }

    q = ngx_queue_head(&pool->waiting);
    ngx_queue_remove(q);
    pool->nwaiting--;

    op = ngx_queue_data(q, ngx_http_video_api_pg_op_t, queue);
    op->queued = 0;

    if (op->wait.timer_set) {
        ngx_del_timer(&op->wait);
    }

    ngx_http_video_api_pg_start(pc, op);
}


/*
 * The connection is broken (or timed out): close it, tell its request,
 * and reconnect after a backoff that grows while failures repeat.
 */

static void
ngx_http_video_api_pg_fail(ngx_http_video_api_pg_conn_t *pc, const char *why)
{
    u_char                         msg[256];
    ngx_msec_t                     delay;
    ngx_uint_t                     was_up, alive, i;
    ngx_queue_t                   *q;
    ngx_http_video_api_pg_op_t    *op;
    ngx_http_video_api_pg_pool_t  *pool;

    pool = pc->pool;
    op = pc->op;
    was_up = (pc->state >= NGX_HTTP_VIDEO_API_PG_IDLE);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pool->log, 0,
                   "video_api: postgresql connection %p failed: %s",
                   pc, why);

    /* why may be libpq's message, which dies with the connection */

    ngx_cpystrn(msg, (u_char *) why, sizeof(msg));
    why = (char *) msg;

    ngx_http_video_api_pg_close(pc);

    if (was_up) {
        pool->nup--;
    }

    ngx_http_video_api_pg_gauges(pool);

    if (op != NULL) {
        op->conn = NULL;

        /* a transaction cannot move to another connection */

        op->lost = op->hold;
        op->failed = 1;
        ngx_post_event(&op->wait, &ngx_posted_events);
    }

    if (pool->exiting) {
        return;
    }

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_CONN_ERRORS);

    if (pool->nup == 0) {
        ngx_http_video_api_pg_report(pool, why);
    }

    /* nothing left to wait for: fail the queue now, not at its deadline */

    alive = 0;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state != NGX_HTTP_VIDEO_API_PG_DOWN) {
            alive++;
        }
    }

    if (alive == 0) {
        while (!ngx_queue_empty(&pool->waiting)) {
            q = ngx_queue_head(&pool->waiting);
            ngx_queue_remove(q);
            pool->nwaiting--;

            op = ngx_queue_data(q, ngx_http_video_api_pg_op_t, queue);
            op->queued = 0;
            op->failed = 1;

            if (op->wait.timer_set) {
                ngx_del_timer(&op->wait);
            }

            ngx_post_event(&op->wait, &ngx_posted_events);
        }

        ngx_http_video_api_pg_gauges(pool);
    }

    delay = was_up ? 0 : NGX_HTTP_VIDEO_API_PG_BACKOFF_MIN << pc->failures;

    if (delay > NGX_HTTP_VIDEO_API_PG_BACKOFF_MAX) {
        delay = NGX_HTTP_VIDEO_API_PG_BACKOFF_MAX;

    } else if (!was_up) {
        pc->failures++;
    }

    ngx_add_timer(&pc->retry, delay ? delay : 1);
}


static void
ngx_http_video_api_pg_close(ngx_http_video_api_pg_conn_t *pc)
{
    if (pc->timer.timer_set) {
        ngx_del_timer(&pc->timer);
    }

    if (pc->state == NGX_HTTP_VIDEO_API_PG_IDLE) {
        ngx_queue_remove(&pc->idle);
    }

    ngx_http_video_api_pg_unwrap(pc);

    if (pc->res != NULL) {
        PQclear(pc->res);
        pc->res = NULL;
    }

    if (pc->pg != NULL) {
        PQfinish(pc->pg);
        pc->pg = NULL;
    }

    pc->state = NGX_HTTP_VIDEO_API_PG_DOWN;
    pc->op = NULL;
    pc->prepared = 0;
    pc->preparing = 0;
}


static void
ngx_http_video_api_pg_timeout(ngx_event_t *ev)
{
    ngx_http_video_api_pg_conn_t  *pc;

    pc = ev->data;

    ngx_log_error(NGX_LOG_WARN, pc->pool->log, 0,
                  "video_api: postgresql %s timed out after %Mms",
                  pc->state == NGX_HTTP_VIDEO_API_PG_CONNECTING
                  ? "connect" : "statement",
                  pc->pool->conf->timeout);

    if (pc->state != NGX_HTTP_VIDEO_API_PG_CONNECTING) {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_TIMEOUTS);
    }

    ngx_http_video_api_pg_fail(pc, "timed out");
}


static void
ngx_http_video_api_pg_retry(ngx_event_t *ev)
{
    ngx_http_video_api_pg_conn_t  *pc;

    pc = ev->data;

    if (!pc->pool->exiting && pc->state == NGX_HTTP_VIDEO_API_PG_DOWN) {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_RECONNECTS);
        ngx_http_video_api_pg_connect(pc);
    }
}


/* calls the op's handler with res, which it then frees */

static void
ngx_http_video_api_pg_deliver(ngx_http_video_api_pg_op_t *op, PGresult *res)
{
    ngx_connection_t  *c;

    if (ngx_http_video_api_pg_pool != NULL
        && ngx_http_video_api_pg_pool->sending)
    {
        op->res = res;
        op->failed = 1;
        ngx_post_event(&op->wait, &ngx_posted_events);
        return;
    }

    c = op->request->connection;

    op->handler(op, res);

    if (res != NULL) {
        PQclear(res);
    }

    ngx_http_run_posted_requests(c);
}


/* a queued op's deadline passed, or its connection failed */

static void
ngx_http_video_api_pg_wait_handler(ngx_event_t *ev)
{
    PGresult                      *res;
    ngx_http_video_api_pg_op_t    *op;
    ngx_http_video_api_pg_pool_t  *pool;

    op = ev->data;
    pool = ngx_http_video_api_pg_pool;

    if (op->queued) {
        ngx_queue_remove(&op->queue);
        op->queued = 0;

        if (pool != NULL) {
            pool->nwaiting--;
            ngx_http_video_api_pg_gauges(pool);
        }

        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_PG_UNAVAILABLE);

        ngx_log_error(NGX_LOG_WARN, op->request->connection->log, 0,
                      "video_api: no postgresql connection became free "
                      "in time");
    }

    op->failed = 0;

    res = op->res;
    op->res = NULL;

    ngx_http_video_api_pg_deliver(op, res);
}


/* the request is gone: nothing may call back into its memory */

static void
ngx_http_video_api_pg_op_cleanup(void *data)
{
    ngx_http_video_api_pg_op_t  *op = data;

    ngx_http_video_api_pg_conn_t  *pc;
    ngx_http_video_api_pg_pool_t  *pool;

    pool = ngx_http_video_api_pg_pool;

    if (op->wait.timer_set) {
        ngx_del_timer(&op->wait);
    }

    if (op->wait.posted) {
        ngx_delete_posted_event(&op->wait);
    }

    if (op->res != NULL) {
        PQclear(op->res);
        op->res = NULL;
    }

    if (op->queued) {
        ngx_queue_remove(&op->queue);
        op->queued = 0;

        if (pool != NULL) {
            pool->nwaiting--;
            ngx_http_video_api_pg_gauges(pool);
        }
    }

    pc = op->conn;

    if (pc == NULL) {
        return;
    }

    op->conn = NULL;
    pc->op = NULL;

    /* a statement in flight completes into the void; a held one returns */

    if (pc->state == NGX_HTTP_VIDEO_API_PG_HELD) {
        ngx_http_video_api_pg_idle(pc);
    }
}


static void
ngx_http_video_api_pg_report(ngx_http_video_api_pg_pool_t *pool,
    const char *why)
{
    size_t      len;
    ngx_uint_t  up;

    up = (pool->nup > 0);

    if (up == pool->reported) {
        return;
    }

    pool->reported = up;

    if (up) {
        ngx_log_error(NGX_LOG_NOTICE, pool->log, 0,
                      "video_api: postgresql is up");
        return;
    }

    len = (why != NULL) ? ngx_strlen(why) : 0;

    while (len > 0 && (why[len - 1] == '\n' || why[len - 1] == ' ')) {
        len--;
    }

    ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                  "video_api: postgresql is down: %*s", len, why);
}


/* this worker's pool in the metrics: open, busy, queued */

static void
ngx_http_video_api_pg_gauges(ngx_http_video_api_pg_pool_t *pool)
{
    ngx_uint_t  i, busy;

    busy = 0;

    for (i = 0; i < pool->nconns; i++) {
        if (pool->conns[i].state >= NGX_HTTP_VIDEO_API_PG_BUSY) {
            busy++;
        }
    }

    ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_PG_OPEN,
                                         pool->nup);
    ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_PG_BUSY, busy);
    ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_PG_QUEUE,
                                         pool->nwaiting);
}
