/*
 * The per-worker Redis client: one pipelined hiredis connection driven by
 * nginx's event loop.  hiredis ships no nginx adapter, so its socket is
 * wrapped in an ngx_connection_t here and its add/del read/write hooks
 * become level-triggered nginx events: hiredis reads one buffer per call
 * and would lose the rest under edge-triggered epoll.  That adapter (a
 * "link") also carries the subscriber connection of pubsub.c.
 *
 * Requests never wait on Redis being down: while the connection is not
 * ready every command is declined at once and the caller falls back, and
 * the connection comes back by itself on a timer with backoff.  AUTH,
 * SELECT and a PING are pipelined after each connect; only their answers
 * make the connection ready.  A command that outlives its timeout means
 * the connection cannot be trusted any more: it is dropped, which hands
 * every pending command a NULL reply.
 *
 * hiredis keeps a pointer to each command's state until the reply, long
 * after a request may be gone, so that state lives outside request pools,
 * on a per-worker free list; a request pool cleanup only marks it orphaned.
 */

#include "ngx_http_video_api_redis.h"

#include <openssl/evp.h>


#define NGX_HTTP_VIDEO_API_REDIS_MAX_PENDING  10000
#define NGX_HTTP_VIDEO_API_REDIS_MAX_FREE     1024
#define NGX_HTTP_VIDEO_API_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_VIDEO_API_REDIS_BACKOFF_MAX  5000


typedef struct ngx_http_video_api_redis_cmd_s  ngx_http_video_api_redis_cmd_t;

struct ngx_http_video_api_redis_cmd_s {
    ngx_http_request_t                   *request;   /* NULL: orphaned */
    ngx_http_video_api_redis_handler_pt   handler;
    void                                 *data;
    ngx_pool_cleanup_t                   *cleanup;
    ngx_event_t                           timer;
    ngx_http_video_api_redis_cmd_t       *next;      /* in the free list */
};


typedef struct {
    ngx_http_video_api_redis_conf_t      *conf;
    ngx_log_t                            *log;

    ngx_http_video_api_redis_link_t       link;

    ngx_event_t                           reconnect;
    ngx_event_t                           handshake;  /* connect timer */
    ngx_msec_t                            backoff;

    ngx_uint_t                            pending;
    ngx_http_video_api_redis_cmd_t       *free;
    ngx_uint_t                            nfree;

    unsigned                              ready:1;
    unsigned                              starting:1;
    unsigned                              down_logged:1;
    unsigned                              stopped:1;
    unsigned                              exiting:1;
} ngx_http_video_api_redis_t;


static void ngx_http_video_api_redis_connect(void);
static void ngx_http_video_api_redis_closed(
    ngx_http_video_api_redis_link_t *link);
static void ngx_http_video_api_redis_down(void);
static void ngx_http_video_api_redis_handshake_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_video_api_redis_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_video_api_redis_cancel(void *data);
static void ngx_http_video_api_redis_cmd_free(
    ngx_http_video_api_redis_cmd_t *cmd);
static ngx_uint_t ngx_http_video_api_redis_refused(const char *name,
    size_t len);

static void ngx_http_video_api_redis_timeout_handler(ngx_event_t *ev);
static void ngx_http_video_api_redis_handshake_handler(ngx_event_t *ev);
static void ngx_http_video_api_redis_reconnect_handler(ngx_event_t *ev);

static void ngx_http_video_api_redis_auth_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_video_api_redis_link_read(ngx_event_t *rev);
static void ngx_http_video_api_redis_link_write(ngx_event_t *wev);
static void ngx_http_video_api_redis_link_broken(ngx_event_t *ev);
static void ngx_http_video_api_redis_add_read(void *data);
static void ngx_http_video_api_redis_del_read(void *data);
static void ngx_http_video_api_redis_add_write(void *data);
static void ngx_http_video_api_redis_del_write(void *data);
static void ngx_http_video_api_redis_cleanup(void *data);


static ngx_http_video_api_redis_t  ngx_http_video_api_redis;

static ngx_str_t  ngx_http_video_api_redis_select = ngx_string("SELECT");
static ngx_str_t  ngx_http_video_api_redis_ping = ngx_string("PING");


/*
 * Commands that would change the shared connection for every request on
 * it: pub/sub and MONITOR also break hiredis's reply-to-callback pairing.
 */

static ngx_str_t  ngx_http_video_api_redis_refused_commands[] = {
    ngx_string("subscribe"),
    ngx_string("psubscribe"),
    ngx_string("ssubscribe"),
    ngx_string("unsubscribe"),
    ngx_string("punsubscribe"),
    ngx_string("sunsubscribe"),
    ngx_string("monitor"),
    ngx_string("multi"),
    ngx_string("select"),
    ngx_string("auth"),
    ngx_string("hello"),
    ngx_string("reset"),
    ngx_string("quit"),
    ngx_null_string
};


ngx_int_t
ngx_http_video_api_redis_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_video_api_redis_t      *rc;
    ngx_http_video_api_main_conf_t  *mcf;

    /* cache managers and loaders run init_process too; they need no Redis */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_video_api_module);

    if (mcf == NULL || !mcf->redis_set) {
        return NGX_OK;
    }

    rc = &ngx_http_video_api_redis;

    ngx_memzero(rc, sizeof(ngx_http_video_api_redis_t));

    rc->conf = &mcf->redis;
    rc->log = cycle->log;
    rc->backoff = NGX_HTTP_VIDEO_API_REDIS_BACKOFF_MIN;

    ngx_http_video_api_redis_link_init(&rc->link, rc->conf, cycle->log,
                                       ngx_http_video_api_redis_closed, rc);

    /* neither timer may keep a worker that is shutting down alive */

    rc->reconnect.handler = ngx_http_video_api_redis_reconnect_handler;
    rc->reconnect.data = &rc->link.ident;
    rc->reconnect.log = cycle->log;
    rc->reconnect.cancelable = 1;

    rc->handshake.handler = ngx_http_video_api_redis_handshake_handler;
    rc->handshake.data = &rc->link.ident;
    rc->handshake.log = cycle->log;
    rc->handshake.cancelable = 1;

    rc->starting = 1;

    ngx_http_video_api_redis_connect();

    return NGX_OK;
}


void
ngx_http_video_api_redis_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_video_api_redis_t      *rc;
    ngx_http_video_api_redis_cmd_t  *cmd;

    rc = &ngx_http_video_api_redis;

    if (rc->conf == NULL) {
        return;
    }

    /*
     * the process ends here: pending commands are released without
     * running request code, and nothing reconnects
     */

    rc->exiting = 1;
    rc->stopped = 1;

    if (rc->reconnect.timer_set) {
        ngx_del_timer(&rc->reconnect);
    }

    rc->ready = 0;

    ngx_http_video_api_redis_link_close(&rc->link);

    while (rc->free) {
        cmd = rc->free;
        rc->free = cmd->next;
        ngx_free(cmd);
    }

    rc->nfree = 0;
}


ngx_int_t
ngx_http_video_api_redis_command(ngx_http_request_t *r,
    ngx_http_video_api_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    size_t                           len;
    ngx_pool_cleanup_t              *cln;
    ngx_http_video_api_redis_t      *rc;
    ngx_http_video_api_redis_cmd_t  *cmd;

    rc = &ngx_http_video_api_redis;

    /*
     * a new worker (start, reload) gets requests before its first
     * handshake is answered: those commands queue behind it instead of
     * failing; once Redis has been seen down, reconnecting declines
     */

    if (!rc->ready
        && !(rc->starting && rc->link.ac != NULL && !rc->link.closing))
    {
        return NGX_DECLINED;
    }

    if (rc->pending >= NGX_HTTP_VIDEO_API_REDIS_MAX_PENDING) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "video_api redis: too many commands in flight");
        return NGX_DECLINED;
    }

    if (argc < 1) {
        return NGX_DECLINED;
    }

    len = argvlen ? argvlen[0] : ngx_strlen(argv[0]);

    if (ngx_http_video_api_redis_refused(argv[0], len)) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "video_api: redis command \"%*s\" is not allowed on "
                      "the shared connection", len, argv[0]);
        return NGX_DECLINED;
    }

    /* an unused cleanup entry (handler NULL) is harmless if we fail below */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_DECLINED;
    }

    cmd = rc->free;

    if (cmd != NULL) {
        rc->free = cmd->next;
        rc->nfree--;

    } else {
        cmd = ngx_alloc(sizeof(ngx_http_video_api_redis_cmd_t), rc->log);
        if (cmd == NULL) {
            return NGX_DECLINED;
        }
    }

    ngx_memzero(cmd, sizeof(ngx_http_video_api_redis_cmd_t));

    cmd->request = r;
    cmd->handler = handler;
    cmd->data = data;
    cmd->cleanup = cln;

    cmd->timer.handler = ngx_http_video_api_redis_timeout_handler;
    cmd->timer.data = &rc->link.ident;
    cmd->timer.log = rc->log;

    /*
     * hiredis only buffers the command and asks for a write event here;
     * a failure to get that event is reported later through a posted
     * event, so no reply handler can run inside this call
     */

    if (redisAsyncCommandArgv(rc->link.ac, ngx_http_video_api_redis_reply,
                              cmd, argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_video_api_redis_cmd_free(cmd);
        return NGX_DECLINED;
    }

    cln->handler = ngx_http_video_api_redis_cancel;
    cln->data = cmd;

    ngx_add_timer(&cmd->timer, rc->conf->timeout);

    rc->pending++;

    return NGX_OK;
}


ngx_uint_t
ngx_http_video_api_redis_up(void)
{
    return ngx_http_video_api_redis.ready;
}


static void
ngx_http_video_api_redis_connect(void)
{
    size_t                            argvlen[2];
    u_char                            db[NGX_INT_T_LEN];
    const char                       *argv[2];
    redisAsyncContext                *ac;
    ngx_http_video_api_redis_t       *rc;
    ngx_http_video_api_redis_conf_t  *conf;

    rc = &ngx_http_video_api_redis;
    conf = rc->conf;

    rc->ready = 0;

    if (ngx_http_video_api_redis_link_connect(&rc->link) != NGX_OK) {
        ngx_http_video_api_redis_down();
        return;
    }

    ac = rc->link.ac;

    /* connect and handshake share one deadline, or a lost SYN hangs here */

    ngx_add_timer(&rc->handshake, conf->timeout);

    /*
     * SELECT is pipelined behind the connect and AUTH; the closing PING
     * proves the server answers (not loading, not asking for a password)
     * before any request is let through
     */

    if (conf->db != 0) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%ui", conf->db) - db;

        if (redisAsyncCommandArgv(ac,
                                  ngx_http_video_api_redis_handshake_reply,
                                  &ngx_http_video_api_redis_select, 2,
                                  argv, argvlen)
            != REDIS_OK)
        {
            ngx_http_video_api_redis_link_drop(&rc->link,
                                               "cannot queue SELECT");
            return;
        }
    }

    argv[0] = "PING";
    argvlen[0] = 4;

    if (redisAsyncCommandArgv(ac, ngx_http_video_api_redis_handshake_reply,
                              &ngx_http_video_api_redis_ping, 1,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_video_api_redis_link_drop(&rc->link, "cannot queue PING");
    }
}




static void
ngx_http_video_api_redis_handshake_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_str_t                   *name;
    ngx_uint_t                   level;
    redisReply                  *rr;
    ngx_http_video_api_redis_t  *rc;

    rc = &ngx_http_video_api_redis;
    rr = reply;
    name = privdata;

    /* NULL: the connection is already going away and says why itself */

    if (rr == NULL || rc->link.closing) {
        return;
    }

    if (rr->type == REDIS_REPLY_ERROR) {
        ngx_http_video_api_redis_link_drop(&rc->link, "%V failed: %*s", name,
                                           (size_t) rr->len, rr->str);
        return;
    }

    if (name != &ngx_http_video_api_redis_ping) {
        return;
    }

    if (rc->handshake.timer_set) {
        ngx_del_timer(&rc->handshake);
    }

    rc->ready = 1;
    rc->starting = 0;
    rc->backoff = NGX_HTTP_VIDEO_API_REDIS_BACKOFF_MIN;

    level = rc->down_logged ? NGX_LOG_NOTICE : NGX_LOG_INFO;

    ngx_log_error(level, rc->log, 0, "video_api: redis %V is up",
                  &rc->conf->addr);

    rc->down_logged = 0;
}


static void
ngx_http_video_api_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_video_api_redis_cmd_t *cmd = privdata;

    void                                 *data;
    ngx_connection_t                     *c;
    ngx_http_request_t                   *r;
    ngx_http_video_api_redis_t           *rc;
    ngx_http_video_api_redis_handler_pt   handler;

    rc = &ngx_http_video_api_redis;

    rc->pending--;

    if (reply == NULL) {

        /* hiredis is failing every pending command: queue no more */

        rc->ready = 0;
        rc->link.closing = 1;
    }

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    r = cmd->request;
    handler = cmd->handler;
    data = cmd->data;

    /* the handler may end the request: its pool must not cancel us then */

    if (r != NULL) {
        cmd->cleanup->handler = NULL;
    }

    ngx_http_video_api_redis_cmd_free(cmd);

    if (r == NULL || rc->exiting) {
        return;
    }

    c = r->connection;

    handler(r, data, reply);

    ngx_http_run_posted_requests(c);
}


/* the request's pool is going away: its command's reply goes nowhere */

static void
ngx_http_video_api_redis_cancel(void *data)
{
    ngx_http_video_api_redis_cmd_t *cmd = data;

    cmd->request = NULL;
    cmd->cleanup = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }
}


static void
ngx_http_video_api_redis_cmd_free(ngx_http_video_api_redis_cmd_t *cmd)
{
    ngx_http_video_api_redis_t  *rc;

    rc = &ngx_http_video_api_redis;

    if (rc->nfree < NGX_HTTP_VIDEO_API_REDIS_MAX_FREE) {
        cmd->next = rc->free;
        rc->free = cmd;
        rc->nfree++;
        return;
    }

    ngx_free(cmd);
}


static ngx_uint_t
ngx_http_video_api_redis_refused(const char *name, size_t len)
{
    ngx_str_t  *s;

    for (s = ngx_http_video_api_redis_refused_commands; s->len; s++) {
        if (s->len == len
            && ngx_strncasecmp(s->data, (u_char *) name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}

/* hiredis freed the connection: every pending command had its NULL reply */

static void
ngx_http_video_api_redis_closed(ngx_http_video_api_redis_link_t *link)
{
    ngx_http_video_api_redis_t  *rc;

    rc = link->data;

    if (link->shutdown) {
        rc->stopped = 1;
    }

    if (rc->handshake.timer_set) {
        ngx_del_timer(&rc->handshake);
    }

    ngx_http_video_api_redis_down();
}


/* The connection is gone: say so once, and try again after a while. */

static void
ngx_http_video_api_redis_down(void)
{
    ngx_http_video_api_redis_t  *rc;

    rc = &ngx_http_video_api_redis;

    rc->ready = 0;
    rc->starting = 0;

    if (rc->stopped) {
        return;
    }

    if (!rc->down_logged) {
        ngx_log_error(NGX_LOG_ERR, rc->log, 0,
                      "video_api: redis %V is down: %*s",
                      &rc->conf->addr, rc->link.reason_len, rc->link.reason);
        rc->down_logged = 1;

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rc->log, 0,
                       "video_api redis: still down: %*s",
                       rc->link.reason_len, rc->link.reason);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rc->log, 0,
                   "video_api redis: reconnect in %Mms", rc->backoff);

    ngx_add_timer(&rc->reconnect, rc->backoff);

    rc->backoff = ngx_min(rc->backoff * 2,
                          NGX_HTTP_VIDEO_API_REDIS_BACKOFF_MAX);
}


static void
ngx_http_video_api_redis_timeout_handler(ngx_event_t *ev)
{
    ngx_http_video_api_redis_t  *rc;

    rc = &ngx_http_video_api_redis;

    ngx_http_video_api_redis_link_drop(&rc->link,
                                       "command timed out after %Mms",
                                       rc->conf->timeout);
}


static void
ngx_http_video_api_redis_handshake_handler(ngx_event_t *ev)
{
    ngx_http_video_api_redis_t  *rc;

    rc = &ngx_http_video_api_redis;

    ngx_http_video_api_redis_link_timeout(&rc->link);
}


static void
ngx_http_video_api_redis_reconnect_handler(ngx_event_t *ev)
{
    if (ngx_http_video_api_redis.stopped) {
        return;
    }

    ngx_http_video_api_redis_connect();
}


/*
 * A link: one hiredis connection on nginx's events, whatever it is used
 * for.  Its owner decides what the connection is ready for and when to
 * reconnect; the link only connects, authenticates, and says when it
 * is gone and why.
 */

void
ngx_http_video_api_redis_link_init(ngx_http_video_api_redis_link_t *link,
    ngx_http_video_api_redis_conf_t *conf, ngx_log_t *log,
    ngx_http_video_api_redis_link_pt closed, void *data)
{
    ngx_memzero(link, sizeof(ngx_http_video_api_redis_link_t));

    link->conf = conf;
    link->log = log;
    link->closed = closed;
    link->data = data;

    link->ident.fd = (ngx_socket_t) -1;

    link->broken.handler = ngx_http_video_api_redis_link_broken;
    link->broken.data = &link->ident;
    link->broken.log = log;
}


ngx_int_t
ngx_http_video_api_redis_link_connect(ngx_http_video_api_redis_link_t *link)
{
    size_t                            argvlen[2];
    const char                       *argv[2];
    redisAsyncContext                *ac;
    ngx_connection_t                 *c;
    ngx_http_video_api_redis_conf_t  *conf;

    conf = link->conf;

    link->reason_len = 0;
    link->closing = 0;

    /* the address is numeric: hiredis's getaddrinfo() cannot block on DNS */

    if (conf->unix_path.len) {
        ac = redisAsyncConnectUnix((const char *) conf->unix_path.data);

    } else {
        ac = redisAsyncConnect((const char *) conf->host.data, conf->port);
    }

    if (ac == NULL) {
        ngx_http_video_api_redis_link_reason(link, "out of memory");
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_http_video_api_redis_link_reason(link, "%s", ac->errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    /* notices a server that vanished while the connection was idle */

    if (conf->unix_path.len == 0
        && redisEnableKeepAlive(&ac->c) != REDIS_OK)
    {
        ngx_http_video_api_redis_link_reason(link, "%s", ac->c.errstr);
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, link->log);
    if (c == NULL) {
        ngx_http_video_api_redis_link_reason(link, "no free connections");
        redisAsyncFree(ac);
        return NGX_ERROR;
    }

    c->data = link;
    c->read->handler = ngx_http_video_api_redis_link_read;
    c->write->handler = ngx_http_video_api_redis_link_write;
    c->read->log = link->log;
    c->write->log = link->log;

    link->ac = ac;
    link->connection = c;

    ac->ev.data = link;
    ac->ev.addRead = ngx_http_video_api_redis_add_read;
    ac->ev.delRead = ngx_http_video_api_redis_del_read;
    ac->ev.addWrite = ngx_http_video_api_redis_add_write;
    ac->ev.delWrite = ngx_http_video_api_redis_del_write;
    ac->ev.cleanup = ngx_http_video_api_redis_cleanup;

    if (conf->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) conf->password.data;
        argvlen[1] = conf->password.len;

        if (redisAsyncCommandArgv(ac, ngx_http_video_api_redis_auth_reply,
                                  link, 2, argv, argvlen)
            != REDIS_OK)
        {
            ngx_http_video_api_redis_link_drop(link, "cannot queue AUTH");
        }
    }

    return NGX_OK;
}


static void
ngx_http_video_api_redis_auth_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_http_video_api_redis_link_t *link = privdata;

    redisReply  *rr;

    rr = reply;

    /* NULL: the connection is already going away and says why itself */

    if (rr != NULL && rr->type == REDIS_REPLY_ERROR) {
        ngx_http_video_api_redis_link_drop(link, "AUTH failed: %*s",
                                           (size_t) rr->len, rr->str);
    }
}


/*
 * Closes the connection on our side.  Every pending command gets its NULL
 * reply, and the adapter's cleanup hook tells the owner.  Inside a hiredis
 * callback redisAsyncFree() only marks the context, which hiredis frees
 * once the callback returns.
 */

void
ngx_http_video_api_redis_link_drop(ngx_http_video_api_redis_link_t *link,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    if (link->ac == NULL || link->closing) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(link->reason, link->reason + sizeof(link->reason), fmt,
                      args);
    va_end(args);

    link->reason_len = p - link->reason;
    link->closing = 1;

    redisAsyncFree(link->ac);
}


/* the process ends: the owner is told as with a drop, and frees nothing */

void
ngx_http_video_api_redis_link_close(ngx_http_video_api_redis_link_t *link)
{
    if (link->ac == NULL) {
        return;
    }

    link->shutdown = 1;
    link->closing = 1;

    redisAsyncFree(link->ac);
}


void
ngx_http_video_api_redis_link_timeout(ngx_http_video_api_redis_link_t *link)
{
    if (link->ac == NULL) {
        return;
    }

    ngx_http_video_api_redis_link_drop(link, "%s timed out after %Mms",
                                       (link->ac->c.flags & REDIS_CONNECTED)
                                       ? "handshake" : "connect",
                                       link->conf->timeout);
}


void
ngx_http_video_api_redis_link_reason(ngx_http_video_api_redis_link_t *link,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(link->reason, link->reason + sizeof(link->reason), fmt,
                      args);
    va_end(args);

    link->reason_len = p - link->reason;
}


static void
ngx_http_video_api_redis_link_read(ngx_event_t *rev)
{
    ngx_connection_t                 *c;
    ngx_http_video_api_redis_link_t  *link;

    c = rev->data;
    link = c->data;

    if (link->ac == NULL) {
        return;
    }

    /*
     * worker_shutdown_timeout closes every connection this way, and a
     * graceful shutdown the idle ones (the subscriber's)
     */

    if (c->close) {
        link->shutdown = 1;
        ngx_http_video_api_redis_link_drop(link, "worker is shutting down");
        return;
    }

    /* this may free the context and c: touch neither afterwards */

    redisAsyncHandleRead(link->ac);
}


static void
ngx_http_video_api_redis_link_write(ngx_event_t *wev)
{
    ngx_connection_t                 *c;
    ngx_http_video_api_redis_link_t  *link;

    c = wev->data;
    link = c->data;

    if (link->ac == NULL) {
        return;
    }

    redisAsyncHandleWrite(link->ac);
}


static void
ngx_http_video_api_redis_link_broken(ngx_event_t *ev)
{
    ngx_connection_t                 *ident;
    ngx_http_video_api_redis_link_t  *link;

    ident = ev->data;
    link = (ngx_http_video_api_redis_link_t *)
               ((u_char *) ident
                - offsetof(ngx_http_video_api_redis_link_t, ident));

    ngx_http_video_api_redis_link_drop(link, "cannot wait for socket events");
}


/*
 * The adapter.  hiredis calls these from inside its own calls, so a
 * failure is only noted here and dealt with from a posted event.
 */

static void
ngx_http_video_api_redis_add_read(void *data)
{
    ngx_http_video_api_redis_link_t *link = data;

    ngx_event_t  *rev;

    if (link->connection == NULL) {
        return;
    }

    rev = link->connection->read;

    if (!rev->active
        && ngx_add_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK
        && !link->broken.posted)
    {
        ngx_post_event(&link->broken, &ngx_posted_events);
    }
}


static void
ngx_http_video_api_redis_del_read(void *data)
{
    ngx_http_video_api_redis_link_t *link = data;

    ngx_event_t  *rev;

    if (link->connection == NULL) {
        return;
    }

    rev = link->connection->read;

    /* NGX_LEVEL_EVENT keeps the write event, if any, level-triggered */

    if (rev->active
        && ngx_del_event(rev, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK
        && !link->broken.posted)
    {
        ngx_post_event(&link->broken, &ngx_posted_events);
    }
}


static void
ngx_http_video_api_redis_add_write(void *data)
{
    ngx_http_video_api_redis_link_t *link = data;

    ngx_event_t  *wev;

    if (link->connection == NULL) {
        return;
    }

    wev = link->connection->write;

    if (!wev->active
        && ngx_add_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK
        && !link->broken.posted)
    {
        ngx_post_event(&link->broken, &ngx_posted_events);
    }
}


static void
ngx_http_video_api_redis_del_write(void *data)
{
    ngx_http_video_api_redis_link_t *link = data;

    ngx_event_t  *wev;

    if (link->connection == NULL) {
        return;
    }

    wev = link->connection->write;

    if (wev->active
        && ngx_del_event(wev, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK
        && !link->broken.posted)
    {
        ngx_post_event(&link->broken, &ngx_posted_events);
    }
}


/*
 * hiredis is freeing the context: every pending command has had its NULL
 * reply, and hiredis closes the socket right after this returns, so the
 * connection is released without closing it.
 */

static void
ngx_http_video_api_redis_cleanup(void *data)
{
    ngx_http_video_api_redis_link_t *link = data;

    ngx_connection_t  *c;

    c = link->connection;

    if (c == NULL) {
        return;
    }

    link->connection = NULL;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* epoll recognizes events still queued for it as stale by this */

    c->fd = (ngx_socket_t) -1;

    ngx_free_connection(c);

    if (link->broken.posted) {
        ngx_delete_posted_event(&link->broken);
    }

    if (link->reason_len == 0) {
        if (link->ac->c.err) {
            ngx_http_video_api_redis_link_reason(link, "%s",
                                                 link->ac->c.errstr);

        } else {
            ngx_http_video_api_redis_link_reason(link, "connection closed");
        }
    }

    link->ac = NULL;
    link->closing = 0;

    link->closed(link);
}




void
ngx_http_video_api_redis_ignore(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
}


/* EVALSHA, then EVAL when Redis does not know the script */

typedef struct {
    ngx_http_video_api_redis_script_t   *script;
    ngx_http_video_api_redis_handler_pt  handler;
    void                                *data;
    int                                  argc;
    const char                         **argv;
    size_t                              *argvlen;
} ngx_http_video_api_redis_eval_t;


static void ngx_http_video_api_redis_eval_reply(ngx_http_request_t *r,
    void *data, redisReply *reply);


static ngx_int_t
ngx_http_video_api_redis_script_sha1(ngx_http_video_api_redis_script_t *s)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  len;

    if (s->sha1[0] != '\0') {
        return NGX_OK;
    }

    if (EVP_Digest(s->text, s->len, md, &len, EVP_sha1(), NULL) != 1
        || len != 20)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(s->sha1, md, 20);

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_redis_eval(ngx_http_request_t *r,
    ngx_http_video_api_redis_script_t *script,
    ngx_http_video_api_redis_handler_pt handler, void *data, int nkeys,
    int argc, const char **argv, const size_t *argvlen)
{
    u_char                           *p;
    int                               i;
    ngx_http_video_api_redis_eval_t  *ev;

    if (ngx_http_video_api_redis_script_sha1(script) != NGX_OK) {
        return NGX_DECLINED;
    }

    ev = ngx_palloc(r->pool, sizeof(ngx_http_video_api_redis_eval_t));
    if (ev == NULL) {
        return NGX_DECLINED;
    }

    ev->script = script;
    ev->handler = handler;
    ev->data = data;
    ev->argc = argc + 3;
    ev->argv = ngx_palloc(r->pool, ev->argc * sizeof(char *));
    ev->argvlen = ngx_palloc(r->pool, ev->argc * sizeof(size_t));
    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

    if (ev->argv == NULL || ev->argvlen == NULL || p == NULL) {
        return NGX_DECLINED;
    }

    ev->argv[0] = "EVALSHA";
    ev->argvlen[0] = sizeof("EVALSHA") - 1;
    ev->argv[1] = (char *) script->sha1;
    ev->argvlen[1] = 40;
    ev->argv[2] = (char *) p;
    ev->argvlen[2] = ngx_sprintf(p, "%d", nkeys) - p;

    for (i = 0; i < argc; i++) {
        p = ngx_pnalloc(r->pool, argvlen[i]);
        if (p == NULL) {
            return NGX_DECLINED;
        }

        ngx_memcpy(p, argv[i], argvlen[i]);

        ev->argv[i + 3] = (char *) p;
        ev->argvlen[i + 3] = argvlen[i];
    }

    return ngx_http_video_api_redis_command(r,
               ngx_http_video_api_redis_eval_reply, ev, ev->argc, ev->argv,
               ev->argvlen);
}


static void
ngx_http_video_api_redis_eval_reply(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_http_video_api_redis_eval_t *ev = data;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR
        && ev->argv[0][4] == 'S'
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        ev->argv[0] = "EVAL";
        ev->argvlen[0] = sizeof("EVAL") - 1;
        ev->argv[1] = ev->script->text;
        ev->argvlen[1] = ev->script->len;

        if (ngx_http_video_api_redis_command(r,
                ngx_http_video_api_redis_eval_reply, ev, ev->argc, ev->argv,
                ev->argvlen)
            == NGX_OK)
        {
            return;
        }

        reply = NULL;
    }

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: redis script failed: %*s",
                      reply->len, reply->str);
    }

    ev->handler(r, ev->data, reply);
}
