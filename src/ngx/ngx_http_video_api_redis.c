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
#include "ngx_http_video_api_metrics.h"

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

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_REDIS_COMMANDS);

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
    ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_REDIS_UP, 0);

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
    ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_REDIS_UP, 1);

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
        ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_REDIS_UP, 0);
    }

    /* a script not loaded yet is sent again, not an error */

    if (!rc->exiting
        && (reply == NULL
            || (((redisReply *) reply)->type == REDIS_REPLY_ERROR
                && ngx_strncmp(((redisReply *) reply)->str, "NOSCRIPT", 8)
                   != 0)))
    {
        ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_REDIS_ERRORS);
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
    ngx_http_video_api_metrics_gauge_set(NGX_HTTP_VIDEO_API_G_REDIS_UP, 0);

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

    ngx_http_video_api_metrics_inc(NGX_HTTP_VIDEO_API_M_REDIS_RECONNECTS);
    ngx_http_video_api_redis_connect();
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
