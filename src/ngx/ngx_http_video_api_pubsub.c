/*
 * Each worker's Redis subscriber connection, and the requests waiting on
 * its channels.
 *
 * The connection is a link of the Redis client (the same nginx event
 * adapter) that PSUBSCRIBEs once to every signaling channel; it never
 * carries a request's command.  Waiting requests are kept in a tree by
 * channel: the first waiter of a channel is the tree's node and the
 * others queue behind it, so a channel costs no allocation of its own.
 * A notice posts the wake event of each waiter of its channel; waiters
 * run their own code from there, never from inside hiredis.
 *
 * While the connection is down, notices are lost: every waiter is woken
 * each second instead (it looks for itself), and once more when the
 * subscription is back.  The connection reconnects with backoff.  It is
 * marked idle, so a graceful shutdown closes it at once, and its waiters
 * are woken to answer without waiting for their timeouts.
 */

#include <dlfcn.h>

#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_redis.h"
#include "video_signal.h"


#define NGX_HTTP_VIDEO_API_PUBSUB_POLL         1000
#define NGX_HTTP_VIDEO_API_PUBSUB_BACKOFF_MIN  100
#define NGX_HTTP_VIDEO_API_PUBSUB_BACKOFF_MAX  5000


struct ngx_http_video_api_pubsub_waiter_s {
    ngx_str_node_t                         sn;      /* the channel */
    ngx_queue_t                            queue;   /* of the channel */
    ngx_queue_t                            all;
    ngx_event_t                            wake;    /* posted */
    ngx_http_request_t                    *request;
    ngx_http_video_api_pubsub_handler_pt   handler;
    void                                  *data;
    unsigned                               active:1;
    unsigned                               in_tree:1;
};


typedef struct {
    ngx_http_video_api_redis_link_t        link;

    ngx_rbtree_t                           tree;
    ngx_rbtree_node_t                      sentinel;
    ngx_queue_t                            waiters;

    ngx_event_t                            reconnect;
    ngx_event_t                            handshake;
    ngx_event_t                            poll;
    ngx_msec_t                             backoff;

    /* nginx-rtmp's handler of accepted connections: what publishers are */
    ngx_connection_handler_pt              rtmp_accept;

    unsigned                               ready:1;
    unsigned                               stopped:1;
    unsigned                               down_logged:1;
} ngx_http_video_api_pubsub_t;


static void ngx_http_video_api_pubsub_connect(void);
static void ngx_http_video_api_pubsub_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_video_api_pubsub_notify(u_char *channel, size_t len);
static void ngx_http_video_api_pubsub_drop(u_char *number, size_t len);
static void ngx_http_video_api_pubsub_wake_all(ngx_queue_t *posted);
static void ngx_http_video_api_pubsub_closed(
    ngx_http_video_api_redis_link_t *link);
static void ngx_http_video_api_pubsub_cleanup(void *data);
static void ngx_http_video_api_pubsub_wake_handler(ngx_event_t *ev);
static void ngx_http_video_api_pubsub_reconnect_handler(ngx_event_t *ev);
static void ngx_http_video_api_pubsub_handshake_handler(ngx_event_t *ev);
static void ngx_http_video_api_pubsub_poll_handler(ngx_event_t *ev);


static ngx_http_video_api_pubsub_t  ngx_http_video_api_pubsub;


ngx_int_t
ngx_http_video_api_pubsub_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_video_api_pubsub_t     *ps;
    ngx_http_video_api_main_conf_t  *mcf;

    ps = &ngx_http_video_api_pubsub;

    ngx_memzero(ps, sizeof(ngx_http_video_api_pubsub_t));

    ngx_rbtree_init(&ps->tree, &ps->sentinel, ngx_str_rbtree_insert_value);
    ngx_queue_init(&ps->waiters);

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

    ps->backoff = NGX_HTTP_VIDEO_API_PUBSUB_BACKOFF_MIN;

    /*
     * nginx loads modules with RTLD_GLOBAL: when nginx-rtmp is loaded its
     * connection handler is found by name, and only connections accepted
     * by it can ever be dropped; without it nothing is
     */

    *(void **) &ps->rtmp_accept = dlsym(RTLD_DEFAULT,
                                        "ngx_rtmp_init_connection");

    ngx_http_video_api_redis_link_init(&ps->link, &mcf->redis, cycle->log,
                                       ngx_http_video_api_pubsub_closed, ps);

    /* none of these may keep a worker that is shutting down alive */

    ps->reconnect.handler = ngx_http_video_api_pubsub_reconnect_handler;
    ps->reconnect.data = &ps->link.ident;
    ps->reconnect.log = cycle->log;
    ps->reconnect.cancelable = 1;

    ps->handshake.handler = ngx_http_video_api_pubsub_handshake_handler;
    ps->handshake.data = &ps->link.ident;
    ps->handshake.log = cycle->log;
    ps->handshake.cancelable = 1;

    ps->poll.handler = ngx_http_video_api_pubsub_poll_handler;
    ps->poll.data = &ps->link.ident;
    ps->poll.log = cycle->log;
    ps->poll.cancelable = 1;

    ngx_http_video_api_pubsub_connect();

    return NGX_OK;
}


void
ngx_http_video_api_pubsub_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_video_api_pubsub_t  *ps;

    ps = &ngx_http_video_api_pubsub;

    if (ps->link.conf == NULL) {
        return;
    }

    ps->stopped = 1;
    ps->ready = 0;

    if (ps->reconnect.timer_set) {
        ngx_del_timer(&ps->reconnect);
    }

    if (ps->poll.timer_set) {
        ngx_del_timer(&ps->poll);
    }

    ngx_http_video_api_redis_link_close(&ps->link);
}


ngx_http_video_api_pubsub_waiter_t *
ngx_http_video_api_pubsub_wait(ngx_http_request_t *r, ngx_str_t *channel,
    ngx_http_video_api_pubsub_handler_pt handler, void *data)
{
    ngx_pool_cleanup_t                  *cln;
    ngx_str_node_t                      *sn;
    ngx_http_video_api_pubsub_t         *ps;
    ngx_http_video_api_pubsub_waiter_t  *w, *first;

    ps = &ngx_http_video_api_pubsub;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_pubsub_waiter_t));
    if (w == NULL) {
        return NULL;
    }

    w->sn.str.data = ngx_pstrdup(r->pool, channel);
    if (w->sn.str.data == NULL) {
        return NULL;
    }

    w->sn.str.len = channel->len;
    w->sn.node.key = ngx_crc32_short(channel->data, channel->len);

    w->request = r;
    w->handler = handler;
    w->data = data;

    w->wake.handler = ngx_http_video_api_pubsub_wake_handler;
    w->wake.data = r->connection;
    w->wake.log = r->connection->log;

    ngx_queue_init(&w->queue);

    sn = ngx_str_rbtree_lookup(&ps->tree, channel, w->sn.node.key);

    if (sn == NULL) {
        ngx_rbtree_insert(&ps->tree, &w->sn.node);
        w->in_tree = 1;

    } else {
        first = (ngx_http_video_api_pubsub_waiter_t *) sn;
        ngx_queue_insert_tail(&first->queue, &w->queue);
    }

    ngx_queue_insert_tail(&ps->waiters, &w->all);
    w->active = 1;

    cln->handler = ngx_http_video_api_pubsub_cleanup;
    cln->data = w;

    return w;
}


void
ngx_http_video_api_pubsub_leave(ngx_http_video_api_pubsub_waiter_t *w)
{
    ngx_queue_t                         *q;
    ngx_http_video_api_pubsub_t         *ps;
    ngx_http_video_api_pubsub_waiter_t  *next;

    if (w == NULL || !w->active) {
        return;
    }

    ps = &ngx_http_video_api_pubsub;

    w->active = 0;

    ngx_queue_remove(&w->all);

    if (w->wake.posted) {
        ngx_delete_posted_event(&w->wake);
    }

    if (!w->in_tree) {
        ngx_queue_remove(&w->queue);
        return;
    }

    ngx_rbtree_delete(&ps->tree, &w->sn.node);
    w->in_tree = 0;

    if (ngx_queue_empty(&w->queue)) {
        return;
    }

    /* the next waiter of the channel takes the node's place */

    q = ngx_queue_next(&w->queue);
    ngx_queue_remove(&w->queue);

    next = ngx_queue_data(q, ngx_http_video_api_pubsub_waiter_t, queue);

    ngx_rbtree_insert(&ps->tree, &next->sn.node);
    next->in_tree = 1;
}


static void
ngx_http_video_api_pubsub_cleanup(void *data)
{
    ngx_http_video_api_pubsub_leave(data);
}


static void
ngx_http_video_api_pubsub_connect(void)
{
    size_t                        argvlen[3];
    const char                   *argv[3];
    ngx_http_video_api_pubsub_t  *ps;

    ps = &ngx_http_video_api_pubsub;

    ps->ready = 0;

    if (ngx_http_video_api_redis_link_connect(&ps->link) != NGX_OK) {
        ngx_http_video_api_pubsub_closed(&ps->link);
        return;
    }

    /* a graceful shutdown closes idle connections first: see the header */

    ps->link.connection->idle = 1;

    ngx_add_timer(&ps->handshake, ps->link.conf->timeout);

    argv[0] = "PSUBSCRIBE";
    argvlen[0] = sizeof("PSUBSCRIBE") - 1;
    argv[1] = VIDEO_SIGNAL_PATTERN;
    argvlen[1] = sizeof(VIDEO_SIGNAL_PATTERN) - 1;
    argv[2] = NGX_HTTP_VIDEO_API_PUBSUB_DROP;
    argvlen[2] = sizeof(NGX_HTTP_VIDEO_API_PUBSUB_DROP) - 1;

    if (redisAsyncCommandArgv(ps->link.ac, ngx_http_video_api_pubsub_reply,
                              ps, 3, argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_video_api_redis_link_drop(&ps->link,
                                           "cannot queue PSUBSCRIBE");
    }
}


/* the subscription's confirmation, then each notice: "pmessage" */

static void
ngx_http_video_api_pubsub_reply(redisAsyncContext *ac, void *reply,
    void *privdata)
{
    ngx_uint_t                    level;
    redisReply                   *rr, **e;
    ngx_http_video_api_pubsub_t  *ps;

    ps = privdata;
    rr = reply;

    /* NULL: the connection is going away and says why itself */

    if (rr == NULL || ps->link.closing || rr->type != REDIS_REPLY_ARRAY
        || rr->elements < 3 || rr->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    e = rr->element;

    if (e[0]->len == sizeof("pmessage") - 1
        && ngx_strncmp(e[0]->str, "pmessage", e[0]->len) == 0)
    {
        if (rr->elements != 4 || e[2]->type != REDIS_REPLY_STRING
            || e[3]->type != REDIS_REPLY_STRING)
        {
            return;
        }

        if (e[2]->len == sizeof(NGX_HTTP_VIDEO_API_PUBSUB_DROP) - 1
            && ngx_strncmp(e[2]->str, NGX_HTTP_VIDEO_API_PUBSUB_DROP,
                           e[2]->len)
               == 0)
        {
            ngx_http_video_api_pubsub_drop((u_char *) e[3]->str, e[3]->len);
            return;
        }

        ngx_http_video_api_pubsub_notify((u_char *) e[2]->str, e[2]->len);

        return;
    }

    /* one confirmation per pattern: the signaling one makes it ready */

    if (e[0]->len != sizeof("psubscribe") - 1
        || ngx_strncmp(e[0]->str, "psubscribe", e[0]->len) != 0
        || e[1]->type != REDIS_REPLY_STRING
        || e[1]->len != sizeof(VIDEO_SIGNAL_PATTERN) - 1
        || ngx_strncmp(e[1]->str, VIDEO_SIGNAL_PATTERN, e[1]->len) != 0)
    {
        return;
    }

    if (ps->handshake.timer_set) {
        ngx_del_timer(&ps->handshake);
    }

    if (ps->poll.timer_set) {
        ngx_del_timer(&ps->poll);
    }

    ps->ready = 1;
    ps->backoff = NGX_HTTP_VIDEO_API_PUBSUB_BACKOFF_MIN;

    level = ps->down_logged ? NGX_LOG_NOTICE : NGX_LOG_INFO;

    ngx_log_error(level, ps->link.log, 0,
                  "video_api: redis subscriber %V is up",
                  &ps->link.conf->addr);

    ps->down_logged = 0;

    /* what was posted while nobody listened */

    ngx_http_video_api_pubsub_wake_all(&ngx_posted_events);
}


/*
 * A live publisher to drop: the connection with that number, if this
 * worker has it and nginx-rtmp accepted it, is shut down; nginx-rtmp
 * reads its end and closes the session as if the publisher had left
 * (on_publish_done, on_record_done).  Any other connection with the
 * number (an HTTP request: numbers are what a forged callback could
 * name) is left alone.
 */

static void
ngx_http_video_api_pubsub_drop(u_char *number, size_t len)
{
    ngx_int_t                     n;
    ngx_uint_t                    i;
    ngx_connection_t             *c;
    ngx_http_video_api_pubsub_t  *ps;

    ps = &ngx_http_video_api_pubsub;

    n = ngx_atoi(number, len);
    if (n == NGX_ERROR) {
        return;
    }

    c = ngx_cycle->connections;

    for (i = 0; i < ngx_cycle->connection_n; i++) {
        if (c[i].fd == (ngx_socket_t) -1 || c[i].listening == NULL
            || c[i].number != (ngx_atomic_uint_t) n)
        {
            continue;
        }

        if (ps->rtmp_accept == NULL
            || c[i].listening->handler != ps->rtmp_accept)
        {
            ngx_log_error(NGX_LOG_WARN, c[i].log, 0,
                          "video_api: live drop of *%i refused: not an "
                          "rtmp connection", n);
            return;
        }

        ngx_log_error(NGX_LOG_NOTICE, c[i].log, 0,
                      "video_api: dropping live publisher *%i", n);

        if (shutdown(c[i].fd, SHUT_RDWR) == -1) {
            ngx_log_error(NGX_LOG_WARN, c[i].log, ngx_socket_errno,
                          "video_api: shutdown() of publisher *%i failed", n);
        }

        return;
    }
}


static void
ngx_http_video_api_pubsub_notify(u_char *channel, size_t len)
{
    ngx_str_t                            name;
    ngx_queue_t                         *q;
    ngx_str_node_t                      *sn;
    ngx_http_video_api_pubsub_t         *ps;
    ngx_http_video_api_pubsub_waiter_t  *first, *w;

    ps = &ngx_http_video_api_pubsub;

    name.data = channel;
    name.len = len;

    sn = ngx_str_rbtree_lookup(&ps->tree, &name, ngx_crc32_short(channel,
                                                                 len));
    if (sn == NULL) {
        return;
    }

    first = (ngx_http_video_api_pubsub_waiter_t *) sn;

    if (!first->wake.posted) {
        ngx_post_event(&first->wake, &ngx_posted_events);
    }

    for (q = ngx_queue_head(&first->queue);
         q != &first->queue;
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_video_api_pubsub_waiter_t, queue);

        if (!w->wake.posted) {
            ngx_post_event(&w->wake, &ngx_posted_events);
        }
    }
}


/*
 * Inside event handlers the posted queue runs before the next wait; a
 * graceful shutdown closes idle connections outside of them, and nginx
 * 1.22 then waits without running what they posted: the queue of the
 * next cycle makes that wait return at once.
 */

static void
ngx_http_video_api_pubsub_wake_all(ngx_queue_t *posted)
{
    ngx_queue_t                         *q;
    ngx_http_video_api_pubsub_t         *ps;
    ngx_http_video_api_pubsub_waiter_t  *w;

    ps = &ngx_http_video_api_pubsub;

    for (q = ngx_queue_head(&ps->waiters);
         q != ngx_queue_sentinel(&ps->waiters);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_video_api_pubsub_waiter_t, all);

        if (!w->wake.posted) {
            ngx_post_event(&w->wake, posted);
        }
    }
}


static void
ngx_http_video_api_pubsub_wake_handler(ngx_event_t *ev)
{
    ngx_connection_t                    *c;
    ngx_http_request_t                  *r;
    ngx_http_video_api_pubsub_waiter_t  *w;

    w = (ngx_http_video_api_pubsub_waiter_t *)
            ((u_char *) ev - offsetof(ngx_http_video_api_pubsub_waiter_t,
                                      wake));

    r = w->request;
    c = r->connection;

    /* the handler may end the request, and w with it */

    w->handler(r, w->data);

    ngx_http_run_posted_requests(c);
}


/* the connection is gone: waiters look for themselves until it is back */

static void
ngx_http_video_api_pubsub_closed(ngx_http_video_api_redis_link_t *link)
{
    ngx_http_video_api_pubsub_t  *ps;

    ps = link->data;

    ps->ready = 0;

    if (ps->handshake.timer_set) {
        ngx_del_timer(&ps->handshake);
    }

    if (link->shutdown) {
        ps->stopped = 1;
    }

    if (ps->stopped) {

        /* a graceful shutdown: waiters answer now */

        if (!ngx_terminate) {
            ngx_http_video_api_pubsub_wake_all(&ngx_posted_next_events);
        }

        return;
    }

    if (!ps->down_logged) {
        ngx_log_error(NGX_LOG_ERR, link->log, 0,
                      "video_api: redis subscriber %V is down: %*s",
                      &link->conf->addr, link->reason_len, link->reason);
        ps->down_logged = 1;
    }

    ngx_add_timer(&ps->reconnect, ps->backoff);

    ps->backoff = ngx_min(ps->backoff * 2,
                          NGX_HTTP_VIDEO_API_PUBSUB_BACKOFF_MAX);

    if (!ps->poll.timer_set) {
        ngx_add_timer(&ps->poll, NGX_HTTP_VIDEO_API_PUBSUB_POLL);
    }
}


static void
ngx_http_video_api_pubsub_reconnect_handler(ngx_event_t *ev)
{
    if (ngx_http_video_api_pubsub.stopped) {
        return;
    }

    ngx_http_video_api_pubsub_connect();
}


static void
ngx_http_video_api_pubsub_handshake_handler(ngx_event_t *ev)
{
    ngx_http_video_api_redis_link_timeout(&ngx_http_video_api_pubsub.link);
}


static void
ngx_http_video_api_pubsub_poll_handler(ngx_event_t *ev)
{
    ngx_http_video_api_pubsub_t  *ps;

    ps = &ngx_http_video_api_pubsub;

    if (ps->ready || ps->stopped) {
        return;
    }

    ngx_http_video_api_pubsub_wake_all(&ngx_posted_events);

    ngx_add_timer(&ps->poll, NGX_HTTP_VIDEO_API_PUBSUB_POLL);
}
