/*
 * PostgreSQL for the workers: blocking libpq, reconnected with backoff.
 */

#include <string.h>

#include "video_worker.h"


PGconn *
video_worker_pg_connect(void)
{
    double   backoff;
    PGconn  *pg;
    int      logged;

    backoff = 0.5;
    logged = 0;

    while (!video_worker_stop) {
        pg = PQconnectdb(video_worker_conf.postgres);

        if (PQstatus(pg) == CONNECTION_OK) {
            if (logged) {
                video_worker_log("postgresql is back");
            }

            return pg;
        }

        if (!logged) {
            video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                "postgresql unavailable, retrying: %s",
                                PQerrorMessage(pg));
            logged = 1;
        }

        PQfinish(pg);
        video_worker_sleep(backoff);
        backoff = backoff < 8 ? backoff * 2 : 10;
    }

    return NULL;
}


PGresult *
video_worker_pg(PGconn *pg, const char *sql, int n,
    const char *const *values, ExecStatusType expect)
{
    PGresult  *res;

    res = PQexecParams(pg, sql, n, NULL, values, NULL, NULL, 0);

    if (PQresultStatus(res) != expect) {
        video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                            "postgresql: %s", PQresultErrorMessage(res)[0]
                            ? PQresultErrorMessage(res) : PQerrorMessage(pg));
        PQclear(res);
        return NULL;
    }

    return res;
}
