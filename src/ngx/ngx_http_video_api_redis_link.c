/*
 * A Redis link: one hiredis async connection on nginx's event loop, the
 * adapter hiredis does not ship.  Its socket is wrapped in an
 * ngx_connection_t and hiredis's add/del read/write hooks become
 * level-triggered nginx events: hiredis reads one buffer per call and
 * would lose the rest under edge-triggered epoll.  The command client
 * (ngx_http_video_api_redis.c) and the subscriber of pubsub.c each own
 * one.
 */

#include "ngx_http_video_api_redis.h"


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
