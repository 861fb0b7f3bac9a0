/*
 * The periods: the day's and the month's, each with its generation (how
 * many times a reset zeroed it) as Redis holds them, and the check that
 * zeroes the videos' copies in PostgreSQL when they change.  A batch
 * checks them in its transaction; step 5 of the analytics cycle checks
 * them in a cycle with no batch too, and prunes the record of applied
 * batches.
 */

#include <stdio.h>
#include <string.h>

#include "worker_analytics.h"


/* "<period>:<generation>" from a GET of views:gd:... or views:gm:... */

int
video_analytics_generation(redisReply *r, const char *period, char *out)
{
    size_t  i;

    if (r->type == REDIS_REPLY_NIL) {
        snprintf(out, VIDEO_ANALYTICS_PERIOD_LEN, "%s:0", period);
        return 0;
    }

    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20) {
        video_worker_log("redis: a generation of \"%s\" is not a number",
                         period);
        return -1;
    }

    for (i = 0; i < r->len; i++) {
        if (r->str[i] < '0' || r->str[i] > '9') {
            video_worker_log("redis: a generation of \"%s\" is not a number",
                             period);
            return -1;
        }
    }

    snprintf(out, VIDEO_ANALYTICS_PERIOD_LEN, "%s:%.*s", period, (int) r->len,
             r->str);

    return 0;
}


/* the current periods, "<today>:<gen>" and "<month>:<gen>" */

int
video_analytics_periods(video_analytics_t *a, char *day, char *month)
{
    int          rc;
    redisReply  *r;

    r = video_analytics_cmd(a, "MGET views:gd:%s views:gm:%s", a->today,
                            a->month);
    if (r == NULL) {
        return -1;
    }

    rc = -1;

    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && video_analytics_generation(r->element[0], a->today, day) == 0
        && video_analytics_generation(r->element[1], a->month, month) == 0)
    {
        rc = 0;
    }

    freeReplyObject(r);

    return rc;
}


/*
 * The period check: when the day or the month differs from the one the
 * videos' copies are of (a new day, or a reset), the copies are zeroed.
 * Runs in the caller's transaction.
 */

int
video_analytics_period(video_analytics_t *a, const char *day,
    const char *month)
{
    int          new_day, new_month;
    PGresult    *res;
    const char  *values[2];

    res = video_worker_pg(a->pg,
              "SELECT day, month FROM analytics_period FOR UPDATE",
              0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    new_day = (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), day));
    new_month = (PQntuples(res) == 0
                 || strcmp(PQgetvalue(res, 0, 1), month));

    PQclear(res);

    if (new_day
        && video_analytics_exec(a, "UPDATE videos SET views_today = 0"
                                   " WHERE views_today <> 0")
           != 0)
    {
        return -1;
    }

    if (new_month
        && video_analytics_exec(a, "UPDATE videos SET views_month = 0"
                                   " WHERE views_month <> 0")
           != 0)
    {
        return -1;
    }

    if (!new_day && !new_month) {
        return 0;
    }

    values[0] = day;
    values[1] = month;

    res = video_worker_pg(a->pg,
              "INSERT INTO analytics_period (day, month) VALUES ($1, $2)"
              " ON CONFLICT (one) DO UPDATE"
              " SET day = EXCLUDED.day, month = EXCLUDED.month",
              2, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);

    video_worker_log("period is now \"%s\" \"%s\"%s%s", day, month,
                     new_day ? "; views_today zeroed" : "",
                     new_month ? "; views_month zeroed" : "");

    return 0;
}


/* -- step 5: the period, and the record of applied batches ---------------- */


int
video_analytics_housekeep(video_analytics_t *a)
{
    char  day[VIDEO_ANALYTICS_PERIOD_LEN];
    char  month[VIDEO_ANALYTICS_PERIOD_LEN];

    if (video_analytics_periods(a, day, month) != 0) {
        return -1;
    }

    if (video_analytics_exec(a, "BEGIN") != 0
        || video_analytics_period(a, day, month) != 0
        || video_analytics_exec(a, "DELETE FROM analytics_batches"
                                   " WHERE applied_at"
                                   " < now() - interval '7 days'")
           != 0
        || video_analytics_exec(a, "COMMIT") != 0)
    {
        video_analytics_rollback(a);
        return -1;
    }

    return 0;
}
