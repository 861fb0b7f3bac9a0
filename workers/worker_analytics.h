/*
 * What the analytics worker's files share: its state, the text buffer,
 * the helpers (worker_analytics_util.c), the steps, listed in the order
 * the cycle (worker_analytics.c) runs them, and applying a batch, which
 * steps 3 and 4 both do (worker_analytics_batch.c).
 */

#ifndef _WORKER_ANALYTICS_H_INCLUDED_
#define _WORKER_ANALYTICS_H_INCLUDED_


#include <stddef.h>

#include <hiredis/hiredis.h>

#include "video_worker.h"


/* "YYYY-MM-DD:" and a generation of up to 20 digits */
#define VIDEO_ANALYTICS_PERIOD_LEN  32


typedef struct {
    redisContext  *redis;
    PGconn        *pg;
    int            once;
    int            redis_down;     /* "unavailable" logged */
    int            locked;
    char           today[sizeof("YYYY-MM-DD")];
    char           month[sizeof("YYYY-MM")];
} video_analytics_t;


typedef struct {
    char          *data;
    size_t         len;
    size_t         size;
} video_analytics_buf_t;


/* worker_analytics_util.c: the helpers */
const char *video_analytics_printable(char *buf, size_t size, const char *s,
    size_t len);
int video_analytics_add(video_analytics_buf_t *b, const char *fmt, ...);
void video_analytics_redis_lost(video_analytics_t *a);
redisReply *video_analytics_cmd(video_analytics_t *a, const char *fmt, ...);
redisReply *video_analytics_argv(video_analytics_t *a, int argc,
    const char **argv);
int video_analytics_integer(redisReply *r, long long *n, const char *what);
int video_analytics_exec(video_analytics_t *a, const char *sql);
void video_analytics_rollback(video_analytics_t *a);


/* worker_analytics_ids.c: step 1, and the ids of deleted videos */
int video_analytics_ids(video_analytics_t *a);
PGresult *video_analytics_missing(video_analytics_t *a, const char *ids);
int video_analytics_srem(video_analytics_t *a, PGresult *res,
    const char **extra, int nextra);

/* worker_analytics_seed.c: step 2 */
int video_analytics_seed(video_analytics_t *a);

/* worker_analytics_rollup.c: steps 3 and 4 */
int video_analytics_recover(video_analytics_t *a);
int video_analytics_take(video_analytics_t *a);

/* worker_analytics_batch.c: applying a batch, for steps 3 and 4 */
int video_analytics_batch(video_analytics_t *a, const char *key);

/* worker_analytics_period.c: the periods, and step 5 */
int video_analytics_generation(redisReply *r, const char *period, char *out);
int video_analytics_periods(video_analytics_t *a, char *day, char *month);
int video_analytics_period(video_analytics_t *a, const char *day,
    const char *month);
int video_analytics_housekeep(video_analytics_t *a);


#endif /* _WORKER_ANALYTICS_H_INCLUDED_ */
