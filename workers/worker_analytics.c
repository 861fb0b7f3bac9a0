/*
 * Analytics: the view counters the module keeps in Redis, rolled up into
 * PostgreSQL (src/lib/video_views.h has the keys and the scripts).
 *
 * A rollup renames the pending views to a batch key and lists it in
 * views:batches; the batch is applied in one transaction that also
 * records its key in analytics_batches, and only then deleted.  A batch
 * found again after a crash is applied once: the second insert of its key
 * conflicts.  The videos' views_today and views_month are copies of the
 * live counters, zeroed when the day, the month or their generation (a
 * reset) changes.  A session advisory lock keeps two workers (the
 * supervised one and a --once) from running a cycle at the same time.
 *
 * This file is the cycle: the connections, the lock, and the steps in
 * the order they run, each in a file of its own:
 *
 *   1. the set of ids is filled when it is not known complete
 *      (worker_analytics_ids.c);
 *   2. the counters are seeded when Redis lacks PostgreSQL's figures
 *      (worker_analytics_seed.c);
 *   3. the batches an earlier cycle left are applied, then
 *   4. the pending views are taken as a new batch and applied
 *      (worker_analytics_rollup.c; applying a batch is
 *      worker_analytics_batch.c);
 *   5. the period is checked and the record of applied batches pruned
 *      (worker_analytics_period.c).
 */

#include <string.h>
#include <time.h>

#include "worker_analytics.h"


/* the advisory lock of the rollup: "view" */
#define VIDEO_ANALYTICS_LOCK        "1986618743"


static void
video_analytics_clock(video_analytics_t *a)
{
    time_t     now;
    struct tm  tm;

    now = time(NULL) + video_worker_conf.clock_offset;
    gmtime_r(&now, &tm);

    strftime(a->today, sizeof(a->today), "%Y-%m-%d", &tm);
    strftime(a->month, sizeof(a->month), "%Y-%m", &tm);
}


static int
video_analytics_redis_connect(video_analytics_t *a)
{
    char  err[256];

    /* a cycle's commands are small; a stuck server must not stop it */

    a->redis = video_worker_redis_connect(10, err, sizeof(err));

    if (a->redis == NULL) {
        if (!a->redis_down) {
            video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                "redis unavailable: %s; the views wait there",
                                err);
            a->redis_down = 1;
        }

        return -1;
    }

    if (a->redis_down) {
        video_worker_log("redis is back");
        a->redis_down = 0;
    }

    return 0;
}


static int
video_analytics_connect(video_analytics_t *a)
{
    if (a->pg != NULL && PQstatus(a->pg) != CONNECTION_OK) {
        video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                            "postgresql connection lost");
        PQfinish(a->pg);
        a->pg = NULL;
        a->locked = 0;
    }

    if (a->pg == NULL) {
        if (a->once) {

            /* a test waits for the answer, not for PostgreSQL */

            a->pg = PQconnectdb(video_worker_conf.postgres);

            if (PQstatus(a->pg) != CONNECTION_OK) {
                video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                    "postgresql unavailable: %s",
                                    PQerrorMessage(a->pg));
                PQfinish(a->pg);
                a->pg = NULL;
                return -1;
            }

        } else {
            a->pg = video_worker_pg_connect();
            if (a->pg == NULL) {
                return -1;
            }
        }
    }

    if (a->redis == NULL && video_analytics_redis_connect(a) != 0) {
        return -1;
    }

    return 0;
}


/* the advisory lock, waited for while another worker runs a cycle */

static int
video_analytics_lock(video_analytics_t *a)
{
    int          got, waiting;
    PGresult    *res;
    const char  *values[1];

    values[0] = VIDEO_ANALYTICS_LOCK;
    waiting = 0;

    while (!video_worker_stop) {
        res = video_worker_pg(a->pg, "SELECT pg_try_advisory_lock($1::bigint)",
                              1, values, PGRES_TUPLES_OK);
        if (res == NULL) {
            return -1;
        }

        got = (strcmp(PQgetvalue(res, 0, 0), "t") == 0);
        PQclear(res);

        if (got) {
            a->locked = 1;
            return 0;
        }

        if (!waiting) {
            video_worker_log("another analytics worker is running a cycle; "
                             "waiting");
            waiting = 1;
        }

        video_worker_sleep(0.5);
    }

    return -1;
}


static int
video_analytics_up(video_analytics_t *a)
{
    return a->redis != NULL && a->pg != NULL
           && PQstatus(a->pg) == CONNECTION_OK && !video_worker_stop;
}


static void
video_analytics_unlock(video_analytics_t *a)
{
    PGresult    *res;
    const char  *values[1];

    if (!a->locked || a->pg == NULL || PQstatus(a->pg) != CONNECTION_OK) {
        a->locked = 0;
        return;
    }

    values[0] = VIDEO_ANALYTICS_LOCK;

    res = video_worker_pg(a->pg, "SELECT pg_advisory_unlock($1::bigint)",
                          1, values, PGRES_TUPLES_OK);
    PQclear(res);

    a->locked = 0;
}


static int
video_analytics_cycle(video_analytics_t *a)
{
    int  rc;

    video_analytics_clock(a);

    if (video_analytics_connect(a) != 0 || video_analytics_lock(a) != 0) {
        return -1;
    }

    /*
     * A step that fails leaves what it did not finish for the next cycle.
     * The set and the seeding come first; a batch that cannot be applied
     * does not keep the next ones from being taken.
     */

    rc = -1;

    if (video_analytics_ids(a) != 0 || video_analytics_seed(a) != 0) {
        goto done;
    }

    rc = 0;

    if (video_analytics_up(a) && video_analytics_recover(a) != 0) {
        rc = -1;
    }

    if (video_analytics_up(a) && video_analytics_take(a) != 0) {
        rc = -1;
    }

    if (video_analytics_up(a) && video_analytics_housekeep(a) != 0) {
        rc = -1;
    }

    if (!video_analytics_up(a)) {
        rc = -1;
    }

done:

    video_analytics_rollback(a);
    video_analytics_unlock(a);

    return rc;
}


int
video_worker_analytics(int once)
{
    int                 rc;
    double              started;
    video_analytics_t   a;

    memset(&a, 0, sizeof(a));
    a.once = once;

    if (once) {
        rc = video_analytics_cycle(&a);

    } else {
        rc = 0;

        while (!video_worker_stop) {
            started = video_metrics_now();

            if (video_analytics_cycle(&a) == 0) {
                video_metrics_rollup();
                video_metrics_job(VIDEO_METRICS_OK, 1,
                                  video_metrics_now() - started);

            } else if (!video_worker_stop) {
                video_metrics_job(VIDEO_METRICS_FAILED, 1,
                                  video_metrics_now() - started);
            }

            video_worker_sleep(video_worker_conf.analytics_interval);
        }
    }

    if (a.redis != NULL) {
        redisFree(a.redis);
    }

    if (a.pg != NULL) {
        PQfinish(a.pg);
    }

    return (rc == 0) ? 0 : 1;
}
