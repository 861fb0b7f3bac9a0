/*
 * Step 2 of the analytics cycle: when views:loaded is missing (a new or
 * emptied Redis), the counters are seeded with the figures PostgreSQL
 * holds, so that a batch is never taken from counters that lack them.
 */

#include <stdio.h>
#include <string.h>

#include "video_id.h"
#include "video_views.h"
#include "worker_analytics.h"


#define VIDEO_ANALYTICS_SEED_CHUNK  500


/* -- step 2: seeding the counters from postgresql ------------------------- */


static int
video_analytics_seed_chunk(video_analytics_t *a, PGresult *res, int today,
    int month, long long *seeded)
{
    int           i, n, argc;
    long long     k;
    redisReply   *r;
    const char   *argv[5 + 4 * VIDEO_ANALYTICS_SEED_CHUNK];

    n = PQntuples(res);

    argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = VIDEO_VIEWS_SEED_LUA;
    argv[argc++] = "0";
    argv[argc++] = a->today;
    argv[argc++] = a->month;

    for (i = 0; i < n && i < VIDEO_ANALYTICS_SEED_CHUNK; i++) {
        argv[argc++] = PQgetvalue(res, i, 0);
        argv[argc++] = today ? PQgetvalue(res, i, 1) : "0";
        argv[argc++] = month ? PQgetvalue(res, i, 2) : "0";
        argv[argc++] = PQgetvalue(res, i, 3);
    }

    r = video_analytics_argv(a, argc, argv);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &k, "seeding") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);
    *seeded += k;

    return 0;
}


/*
 * The counters lack what PostgreSQL holds (views:loaded is missing: a new
 * or emptied Redis): each video's figures are added to them once.
 * views_today and views_month count only while of this day and month.
 */

int
video_analytics_seed(video_analytics_t *a)
{
    int           n, today, month, rc;
    char          last[VIDEO_ID_LEN + 1];
    char          day_now[VIDEO_ANALYTICS_PERIOD_LEN];
    char          month_now[VIDEO_ANALYTICS_PERIOD_LEN];
    char          day_was[VIDEO_ANALYTICS_PERIOD_LEN];
    char          month_was[VIDEO_ANALYTICS_PERIOD_LEN];
    long long     loaded, seeded;
    PGresult     *res;
    redisReply   *r;
    const char   *values[4];

    r = video_analytics_cmd(a, "EXISTS " VIDEO_VIEWS_LOADED_KEY);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &loaded, "EXISTS") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);

    if (loaded == 1) {
        return 0;
    }

    video_worker_log("\"" VIDEO_VIEWS_LOADED_KEY "\" is missing: seeding "
                     "the counters from postgresql");

    res = video_worker_pg(a->pg, "SELECT day, month FROM analytics_period",
                          0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    day_was[0] = '\0';
    month_was[0] = '\0';

    if (PQntuples(res) == 1) {
        snprintf(day_was, sizeof(day_was), "%s", PQgetvalue(res, 0, 0));
        snprintf(month_was, sizeof(month_was), "%s", PQgetvalue(res, 0, 1));
    }

    PQclear(res);

    today = (strncmp(day_was, a->today, sizeof(a->today) - 1) == 0
             && day_was[sizeof(a->today) - 1] == ':');
    month = (strncmp(month_was, a->month, sizeof(a->month) - 1) == 0
             && month_was[sizeof(a->month) - 1] == ':');

    /* the generations the seeded figures go to */

    if (video_analytics_periods(a, day_now, month_now) != 0) {
        return -1;
    }

    last[0] = '\0';
    seeded = 0;

    for ( ;; ) {
        values[0] = last;

        res = video_worker_pg(a->pg,
                  "SELECT id, views_today, views_month, views_total"
                  " FROM videos WHERE id > $1"
                  " AND (views_today <> 0 OR views_month <> 0"
                  "      OR views_total <> 0)"
                  " ORDER BY id LIMIT 500",
                  1, values, PGRES_TUPLES_OK);
        if (res == NULL) {
            return -1;
        }

        n = PQntuples(res);

        if (n == 0) {
            PQclear(res);
            break;
        }

        snprintf(last, sizeof(last), "%s", PQgetvalue(res, n - 1, 0));

        rc = video_analytics_seed_chunk(a, res, today, month, &seeded);
        PQclear(res);

        if (rc != 0) {
            return -1;
        }

        if (n < VIDEO_ANALYTICS_SEED_CHUNK) {
            break;
        }
    }

    /*
     * The copies seeded are now those of the current generations, which
     * are 0 again in an emptied Redis even when a reset made them 1 in
     * PostgreSQL: saying so keeps the next period check from zeroing
     * copies Redis now holds.
     */

    values[0] = day_was;
    values[1] = today ? day_now : day_was;
    values[2] = month_was;
    values[3] = month ? month_now : month_was;

    res = video_worker_pg(a->pg,
              "UPDATE analytics_period"
              " SET day = CASE WHEN day = $1 THEN $2 ELSE day END,"
              " month = CASE WHEN month = $3 THEN $4 ELSE month END",
              4, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);

    if (redisAppendCommand(a->redis, "MULTI") != REDIS_OK
        || redisAppendCommand(a->redis, "SET " VIDEO_VIEWS_LOADED_KEY " 1")
           != REDIS_OK
        || redisAppendCommand(a->redis, "DEL views:seeded") != REDIS_OK
        || redisAppendCommand(a->redis, "EXEC") != REDIS_OK)
    {
        video_analytics_redis_lost(a);
        return -1;
    }

    for (n = 0, rc = 0; n < 4; n++) {
        if (redisGetReply(a->redis, (void **) &r) != REDIS_OK) {
            video_analytics_redis_lost(a);
            return -1;
        }

        if (r->type == REDIS_REPLY_ERROR
            || (n == 3 && r->type != REDIS_REPLY_ARRAY))
        {
            video_worker_log("redis: marking the counters loaded: %s",
                             r->type == REDIS_REPLY_ERROR ? r->str
                                                          : "aborted");
            rc = -1;
        }

        freeReplyObject(r);
    }

    if (rc == 0) {
        video_worker_log("seeded %lld video(s)", seeded);
    }

    return rc;
}
