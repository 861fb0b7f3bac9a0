/*
 * The per-worker PostgreSQL pool on nginx's event loop: libpq in
 * non-blocking mode, sockets as nginx connections, prepared statements
 * per connection, a bounded wait queue, timers on connect and queries.
 */

#ifndef _NGX_HTTP_VIDEO_API_PG_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_PG_H_INCLUDED_


#include "ngx_http_video_api.h"

#include <libpq-fe.h>


/* a statement the module runs; prepared once on each connection */
typedef struct {
    char                             *name;
    char                             *sql;
    /* the $n that take the caller's account and role (0: none) */
    ngx_uint_t                        account;
    ngx_uint_t                        role;
    ngx_uint_t                        slot;     /* set by the pool */
} ngx_http_video_api_pg_stmt_t;

#define ngx_http_video_api_pg_stmt(name, sql)  { name, sql, 0, 0, 0 }

/*
 * A statement scoped by the caller (video_readable() and the like): the
 * runner fills $account and $role (role 0: a statement that takes only
 * the account), so no route can leave them out.
 */
#define ngx_http_video_api_pg_scoped(name, sql, account, role)                \
    { name, sql, account, role, 0 }


typedef struct ngx_http_video_api_pg_conn_s  ngx_http_video_api_pg_conn_t;
typedef struct ngx_http_video_api_pg_op_s    ngx_http_video_api_pg_op_t;

/*
 * Called once per statement sent: res is its result (an error result
 * when the statement failed), or NULL when PostgreSQL is unavailable (down,
 * timed out, queue full, connection lost).  The pool frees res after the
 * handler returns.
 */
typedef void (*ngx_http_video_api_pg_handler_pt)(
    ngx_http_video_api_pg_op_t *op, PGresult *res);


/* one request's conversation with PostgreSQL, allocated in its pool */
struct ngx_http_video_api_pg_op_s {
    ngx_http_request_t                *request;
    ngx_http_video_api_pg_handler_pt   handler;
    void                              *data;

    /* keep the connection after the next result: a transaction */
    unsigned                           hold:1;

    /* the rest belongs to the pool */
    ngx_http_video_api_pg_conn_t      *conn;
    ngx_http_video_api_pg_stmt_t      *stmt;
    char                             **values;
    int                                nvalues;
    PGresult                          *res;       /* awaiting delivery */
    ngx_queue_t                        queue;
    ngx_event_t                        wait;
    unsigned                           queued:1;
    unsigned                           failed:1;
    unsigned                           lost:1;
};


ngx_int_t ngx_http_video_api_pg_init_worker(ngx_cycle_t *cycle);
void ngx_http_video_api_pg_exit_worker(ngx_cycle_t *cycle);

ngx_http_video_api_pg_op_t *ngx_http_video_api_pg_op(ngx_http_request_t *r,
    ngx_http_video_api_pg_handler_pt handler, void *data);

/*
 * Sends stmt with values (NUL-terminated text; NULL is SQL NULL) on the
 * connection the op holds, else on an idle one, else waits in the queue.
 * NGX_OK: the handler will be called, never from inside this call.
 * NGX_DECLINED: PostgreSQL is unavailable now; the handler is not called.
 */
ngx_int_t ngx_http_video_api_pg_send(ngx_http_video_api_pg_op_t *op,
    ngx_http_video_api_pg_stmt_t *stmt, int nvalues, char **values);

/* Gives back a held connection; an open transaction is rolled back. */
void ngx_http_video_api_pg_release(ngx_http_video_api_pg_op_t *op);

/* 1 when res is the server cancelling a statement at its timeout */
ngx_uint_t ngx_http_video_api_pg_timed_out(PGresult *res);

/* 1 when at least one connection is established */
ngx_uint_t ngx_http_video_api_pg_up(void);


#endif /* _NGX_HTTP_VIDEO_API_PG_H_INCLUDED_ */
