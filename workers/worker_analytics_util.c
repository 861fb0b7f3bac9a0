/*
 * The analytics worker's helpers, used by all its steps: a growing text
 * buffer, a printable form of what Redis holds, Redis commands whose
 * errors are logged once (a lost connection is dropped, to be made again
 * by the next cycle) and PostgreSQL statements.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker_analytics.h"


/* a printable prefix of what Redis holds, for a log line */

const char *
video_analytics_printable(char *buf, size_t size, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len && i + 1 < size; i++) {
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    }

    buf[i] = '\0';

    return buf;
}


int
video_analytics_add(video_analytics_buf_t *b, const char *fmt, ...)
{
    int       n;
    char     *p;
    size_t    size;
    va_list   ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return -1;
    }

    if (b->len + n + 1 > b->size) {
        size = b->size ? b->size : 256;

        while (b->len + n + 1 > size) {
            size *= 2;
        }

        p = realloc(b->data, size);
        if (p == NULL) {
            video_worker_log("out of memory");
            return -1;
        }

        b->data = p;
        b->size = size;
    }

    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
    va_end(ap);

    b->len += n;

    return 0;
}


/* -- redis ---------------------------------------------------------------- */


void
video_analytics_redis_lost(video_analytics_t *a)
{
    if (!a->redis_down) {
        video_worker_log("redis unavailable: %s; the views wait there",
                         a->redis ? a->redis->errstr : "no connection");
        a->redis_down = 1;
    }

    if (a->redis != NULL) {
        redisFree(a->redis);
        a->redis = NULL;
    }
}


/* a reply that is not an error, or NULL (and logs) */

static redisReply *
video_analytics_reply(video_analytics_t *a, redisReply *r, const char *what)
{
    if (r == NULL) {
        video_analytics_redis_lost(a);
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        video_worker_log("redis: %.*s: %s", (int) strcspn(what, " "), what,
                         r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


redisReply *
video_analytics_cmd(video_analytics_t *a, const char *fmt, ...)
{
    va_list      ap;
    redisReply  *r;

    va_start(ap, fmt);
    r = redisvCommand(a->redis, fmt, ap);
    va_end(ap);

    return video_analytics_reply(a, r, fmt);
}


redisReply *
video_analytics_argv(video_analytics_t *a, int argc, const char **argv)
{
    redisReply  *r;

    r = redisCommandArgv(a->redis, argc, argv, NULL);

    return video_analytics_reply(a, r, argv[0]);
}


/* an integer reply, or -1 with the reply logged */

int
video_analytics_integer(redisReply *r, long long *n, const char *what)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        video_worker_log("redis: %s: unexpected reply", what);
        return -1;
    }

    *n = r->integer;

    return 0;
}


/* -- postgresql ----------------------------------------------------------- */


int
video_analytics_exec(video_analytics_t *a, const char *sql)
{
    PGresult  *r;

    r = video_worker_pg(a->pg, sql, 0, NULL, PGRES_COMMAND_OK);
    PQclear(r);

    return r ? 0 : -1;
}


void
video_analytics_rollback(video_analytics_t *a)
{
    if (a->pg != NULL && PQtransactionStatus(a->pg) != PQTRANS_IDLE
        && PQtransactionStatus(a->pg) != PQTRANS_UNKNOWN)
    {
        (void) video_analytics_exec(a, "ROLLBACK");
    }
}
