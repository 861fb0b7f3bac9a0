/*
 * Steps 3 and 4 of the analytics cycle: the batches views:batches still
 * lists (a cycle that failed or crashed left them) are applied again,
 * then the pending views are taken as a new batch and applied
 * (worker_analytics_batch.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "video_views.h"
#include "worker_analytics.h"


#define VIDEO_ANALYTICS_BATCH       "views:batch:"
#define VIDEO_ANALYTICS_BATCH_LEN   (sizeof(VIDEO_ANALYTICS_BATCH) - 1 + 32)


/* -- steps 3 and 4: the batches left, then a new one ---------------------- */


static int
video_analytics_batch_valid(const char *s, size_t len)
{
    size_t  i;

    if (len != VIDEO_ANALYTICS_BATCH_LEN
        || memcmp(s, VIDEO_ANALYTICS_BATCH, sizeof(VIDEO_ANALYTICS_BATCH) - 1)
           != 0)
    {
        return 0;
    }

    for (i = sizeof(VIDEO_ANALYTICS_BATCH) - 1; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


int
video_analytics_recover(video_analytics_t *a)
{
    int          rc;
    char         shown[72];
    size_t       i;
    redisReply  *r, *e, *s;

    r = video_analytics_cmd(a, "SMEMBERS views:batches");
    if (r == NULL) {
        return -1;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        video_worker_log("redis: SMEMBERS views:batches: unexpected reply");
        freeReplyObject(r);
        return -1;
    }

    rc = 0;

    for (i = 0; i < r->elements && a->redis != NULL && !video_worker_stop;
         i++)
    {
        e = r->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            continue;
        }

        if (!video_analytics_batch_valid(e->str, e->len)) {

            /* only our keys are ever deleted */

            video_worker_log("\"views:batches\" lists \"%s\", which is no "
                             "batch; removed",
                             video_analytics_printable(shown, sizeof(shown),
                                                       e->str, e->len));

            s = video_analytics_cmd(a, "SREM views:batches %b", e->str,
                                    e->len);
            if (s == NULL) {
                rc = -1;
                continue;
            }

            freeReplyObject(s);
            continue;
        }

        video_worker_log("recovering %s", e->str);

        if (video_analytics_batch(a, e->str) != 0) {
            rc = -1;
        }
    }

    freeReplyObject(r);

    return rc;
}


static int
video_analytics_batch_key(char *key, size_t size)
{
    int            fd;
    size_t         i, got;
    ssize_t        n;
    unsigned char  rnd[16];

    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        video_worker_log("cannot open /dev/urandom: %s", strerror(errno));
        return -1;
    }

    for (got = 0; got < sizeof(rnd); got += n) {
        n = read(fd, rnd + got, sizeof(rnd) - got);

        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }

            video_worker_log("cannot read /dev/urandom: %s",
                             n ? strerror(errno) : "end of file");
            close(fd);
            return -1;
        }
    }

    close(fd);

    i = snprintf(key, size, VIDEO_ANALYTICS_BATCH);

    for (got = 0; got < sizeof(rnd); got++) {
        i += snprintf(key + i, size - i, "%02x", rnd[got]);
    }

    return 0;
}


int
video_analytics_take(video_analytics_t *a)
{
    char         key[VIDEO_ANALYTICS_BATCH_LEN + 1];
    long long    n;
    redisReply  *r;

    if (video_analytics_batch_key(key, sizeof(key)) != 0) {
        return -1;
    }

    r = video_analytics_cmd(a, "EVAL %s 0 %s", VIDEO_VIEWS_TAKE_LUA, key);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &n, "taking a batch") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);

    if (n == 0) {
        return 0;
    }

    if (n == -1) {
        video_worker_log("the counters are not loaded; nothing taken");
        return -1;
    }

    return video_analytics_batch(a, key);
}
