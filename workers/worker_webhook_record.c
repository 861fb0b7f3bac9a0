/*
 * A webhook attempt's outcome written down (worker_webhook.c claims and
 * sends): the attempt's row, the delivery delivered, due again after
 * webhook_backoff's delay (jittered), or failed for good, and an endpoint
 * that failed webhook_disable_after deliveries in a row disabled, with
 * its webhook.endpoint.disabled event, all in one transaction.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_urlguard.h"
#include "video_worker.h"
#include "worker_webhook.h"


int
video_webhook_exec(PGconn *pg, const char *sql, int n,
    const char *const *values)
{
    PGresult  *r;

    r = video_worker_pg(pg, sql, n, values, PGRES_COMMAND_OK);
    PQclear(r);

    return r != NULL ? 0 : -1;
}


/* a failed attempt's delay before the next, in ms, jittered */

static long
video_webhook_delay(int attempt)
{
    long    base, j;

    base = video_worker_conf.webhook_backoff[attempt - 1] * 1000L;
    j = base * video_worker_conf.webhook_jitter / 100;

    if (j > 0) {
        base += random() % (2 * j + 1) - j;
    }

    return base > 0 ? base : 0;
}


/*
 * After a delivery failed for good: the endpoint's count of failures in
 * a row, and the endpoint disabled when it reaches webhook_disable_after
 */

static int
video_webhook_failed(PGconn *pg, video_webhook_send_t *s)
{
    int          failed, enabled;
    char         reason[512], account[32], url[VIDEO_URLGUARD_URL_MAX + 1];
    PGresult    *res;
    const char  *values[4];

    values[0] = s->endpoint;

    res = video_worker_pg(pg,
              "UPDATE webhook_endpoints"
              " SET failed_deliveries = failed_deliveries + 1"
              " WHERE id = $1 RETURNING failed_deliveries, enabled,"
              " account_id, url", 1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }

    failed = atoi(PQgetvalue(res, 0, 0));
    enabled = (strcmp(PQgetvalue(res, 0, 1), "t") == 0);
    snprintf(account, sizeof(account), "%s", PQgetvalue(res, 0, 2));
    snprintf(url, sizeof(url), "%s", PQgetvalue(res, 0, 3));
    PQclear(res);

    if (video_worker_conf.webhook_disable_after == 0
        || failed < video_worker_conf.webhook_disable_after || !enabled)
    {
        return 0;
    }

    snprintf(reason, sizeof(reason), "%d deliveries in a row failed "
             "(the last: %s)", failed, s->error);

    values[1] = reason;

    if (video_webhook_exec(pg,
            "UPDATE webhook_endpoints SET enabled = false,"
            " disabled_reason = $2, disabled_at = now(), updated_at = now()"
            " WHERE id = $1", 2, values)
        != 0)
    {
        return -1;
    }

    /* the account's other endpoints hear of it */

    values[1] = account;
    values[2] = url;
    values[3] = reason;

    res = video_worker_pg(pg,
              "SELECT webhook_emit($2, 'webhook.endpoint.disabled', $1,"
              " json_build_object('endpointId', $1::text, 'url', $3::text,"
              " 'reason', $4::text))", 4, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);

    video_worker_log_at(VIDEO_WORKER_LOG_WARN, "webhook: endpoint %s "
                        "disabled: %s", s->endpoint, reason);

    return 0;
}


/*
 * An attempt's outcome, in one transaction: its row in webhook_attempts,
 * the delivery delivered, due again or failed, the endpoint's count.  A
 * delivery whose lease passed meanwhile (another worker took it again)
 * keeps what that one makes of it: the attempt alone is recorded.
 * Returns the metrics' outcome, or -1 when PostgreSQL failed.
 */

int
video_webhook_record(PGconn *pg, video_webhook_send_t *s, int delivered,
    double seconds)
{
    int          outcome, last;
    long         delay;
    char         attempt[16], status[16], latency[16], at[32], wait[32];
    PGresult    *res;
    const char  *values[7];

    snprintf(attempt, sizeof(attempt), "%d", s->attempt);
    snprintf(status, sizeof(status), "%ld", s->status);
    snprintf(latency, sizeof(latency), "%ld", (long) (seconds * 1000));
    snprintf(at, sizeof(at), "%lld", (long long) s->at_ms);

    if (video_webhook_exec(pg, "BEGIN", 0, NULL) != 0) {
        return -1;
    }

    values[0] = s->delivery;
    values[1] = attempt;
    values[2] = at;
    values[3] = s->status ? status : NULL;
    values[4] = latency;
    values[5] = delivered ? NULL : s->error;

    if (video_webhook_exec(pg,
            "INSERT INTO webhook_attempts (delivery_id, attempt, at,"
            " status_code, latency_ms, error) SELECT id, $2,"
            " to_timestamp($3::bigint / 1000.0), $4, $5, $6"
            " FROM webhook_deliveries WHERE id = $1", 6, values)
        != 0)
    {
        goto failed;
    }

    last = (s->attempt > video_worker_conf.webhook_backoff_n);
    delay = 0;

    if (delivered) {
        outcome = VIDEO_METRICS_WH_DELIVERED;
        values[6] = "delivered";

    } else if (!last) {
        outcome = VIDEO_METRICS_WH_ATTEMPT;
        values[6] = "pending";
        delay = video_webhook_delay(s->attempt);

    } else {
        outcome = VIDEO_METRICS_WH_FAILED;
        values[6] = "failed";
    }

    snprintf(wait, sizeof(wait), "%ld", delay);
    values[2] = wait;

    res = video_worker_pg(pg,
              "UPDATE webhook_deliveries SET"
              " status = $7::webhook_delivery_status,"
              " locked_until = NULL,"
              " next_attempt_at = CASE WHEN $7 = 'pending'"
              " THEN clock_timestamp() + $3::bigint * interval '1 ms'"
              " ELSE next_attempt_at END,"
              " delivered_at = CASE WHEN $7 = 'delivered'"
              " THEN clock_timestamp() END,"
              " last_status = $4, last_error = $6, last_latency_ms = $5"
              " WHERE id = $1 AND attempts = $2 AND status = 'pending'"
              " RETURNING id", 7, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        goto failed;
    }

    if (PQntuples(res) == 1) {
        values[0] = s->endpoint;

        if (delivered) {
            if (video_webhook_exec(pg,
                    "UPDATE webhook_endpoints SET failed_deliveries = 0"
                    " WHERE id = $1 AND failed_deliveries <> 0", 1, values)
                != 0)
            {
                PQclear(res);
                goto failed;
            }

        } else if (last && video_webhook_failed(pg, s) != 0) {
            PQclear(res);
            goto failed;
        }
    }

    PQclear(res);

    if (video_webhook_exec(pg, "COMMIT", 0, NULL) != 0) {
        return -1;
    }

    if (!delivered) {
        if (last) {
            video_worker_log_at(VIDEO_WORKER_LOG_WARN, "webhook: delivery "
                                "%s of %s to endpoint %s failed for good "
                                "after %d attempts: %s", s->delivery,
                                s->event, s->endpoint, s->attempt, s->error);

        } else {
            video_worker_log("webhook: delivery %s of %s to endpoint %s, "
                             "attempt %d: %s; again in %.1f s", s->delivery,
                             s->event, s->endpoint, s->attempt, s->error,
                             delay / 1000.0);
        }
    }

    return outcome;

failed:

    res = PQexec(pg, "ROLLBACK");
    PQclear(res);

    return -1;
}
