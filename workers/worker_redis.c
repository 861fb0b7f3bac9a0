/*
 * Redis for the workers: a blocking connection to the configured server.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "video_worker.h"


redisContext *
video_worker_redis_connect(int timeout, char *err, size_t len)
{
    int             port;
    char            host[256], *colon;
    redisContext   *rc;
    struct timeval  tv;

    snprintf(host, sizeof(host), "%s", video_worker_conf.redis);
    colon = strrchr(host, ':');
    port = 6379;

    if (colon != NULL) {
        *colon = '\0';
        port = atoi(colon + 1);
    }

    tv.tv_sec = 2;
    tv.tv_usec = 0;

    rc = redisConnectWithTimeout(host, port, tv);

    if (rc == NULL || rc->err) {
        snprintf(err, len, "%s", rc ? rc->errstr : "out of memory");

        if (rc != NULL) {
            redisFree(rc);
        }

        return NULL;
    }

    tv.tv_sec = timeout;

    if (redisSetTimeout(rc, tv) != REDIS_OK) {
        snprintf(err, len, "cannot set a timeout");
        redisFree(rc);
        return NULL;
    }

    return rc;
}
