/*
 * The webhook role: delivers the events the triggers wrote
 * (conf/sql/0015_webhooks.sql) to the accounts' endpoints.  It wakes on
 * NOTIFY webhook (and every webhook_poll_seconds, and when a retry falls
 * due), claims due deliveries with FOR UPDATE SKIP LOCKED under a lease
 * (locked_until: a worker killed mid-delivery lets them go when it
 * passes, and another attempt carries the same webhook-id), and sends
 * them all at once through libcurl's multi interface, so a receiver that
 * hangs delays no other; new events are claimed while requests hang.
 * Each attempt is recorded; a 2xx delivers, anything else is tried again
 * after webhook_backoff's delays, then fails for good, and an endpoint
 * whose deliveries failed for good webhook_disable_after times in a row
 * is disabled, with a webhook.endpoint.disabled event to the account's
 * other endpoints in the same transaction.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "video_webhook.h"
#include "video_worker.h"
#include "worker_webhook.h"


/* seconds a lease outlives an attempt's timeout */
#define VIDEO_WH_LEASE_MARGIN   5
/* seconds between two retention sweeps */
#define VIDEO_WH_RETENTION      3600
/* events removed by one statement of a sweep, and statements a sweep */
#define VIDEO_WH_RETENTION_ROWS 1000
#define VIDEO_WH_RETENTION_MAX  100


typedef struct {
    PGconn                *pg;
    CURLM                 *multi;
    video_webhook_send_t  *sends;        /* in flight */
    int                    in_flight;
    int                    claim;        /* claim as soon as there is room */
    double                 wake;         /* monotonic: claim then anyway */
    double                 retention;    /* monotonic: the next sweep */
    video_webhook_key_t    key;
    video_webhook_key_t    previous;
    const video_webhook_key_t  *keys[2];
    size_t                 nkeys;
} video_webhook_t;


static const char  video_webhook_claim_sql[] =
    "WITH ready AS ("
    "  SELECT DISTINCT d.endpoint_id FROM webhook_deliveries d"
    "  WHERE d.status = 'pending' AND d.next_attempt_at <= now()"
    "  AND (d.locked_until IS NULL OR d.locked_until <= now())"
    "), pick AS ("
    "  SELECT x.id FROM ready r"
    "  JOIN webhook_endpoints e ON e.id = r.endpoint_id AND e.enabled"
    "  CROSS JOIN LATERAL ("
    "    SELECT count(*) AS n FROM webhook_deliveries b"
    "    WHERE b.endpoint_id = e.id AND b.status = 'pending'"
    "    AND b.locked_until > now()) busy"
    "  CROSS JOIN LATERAL ("
    "    SELECT d.id, d.next_attempt_at FROM webhook_deliveries d"
    "    WHERE d.endpoint_id = e.id AND d.status = 'pending'"
    "    AND d.next_attempt_at <= now()"
    "    AND (d.locked_until IS NULL OR d.locked_until <= now())"
    "    ORDER BY d.next_attempt_at, d.id"
    "    LIMIT greatest($1::int - busy.n, 0)"
    "    FOR UPDATE OF d SKIP LOCKED) x"
    "  ORDER BY x.next_attempt_at, x.id"
    "  LIMIT $2::int"
    ")"
    " UPDATE webhook_deliveries d"
    " SET locked_until = now() + $3::int * interval '1 second',"
    " attempts = d.attempts + 1"
    " FROM pick, webhook_events ev, webhook_endpoints e"
    " WHERE d.id = pick.id AND ev.n = d.event_n AND e.id = d.endpoint_id"
    " RETURNING d.id, d.attempts, d.endpoint_id, e.url, e.secret_sealed,"
    " CASE WHEN e.previous_expires_at > now() THEN e.previous_sealed END,"
    " ev.id, ev.type,"
    " floor(extract(epoch FROM ev.created_at) * 1000)::bigint,"
    " ev.account_id, ev.object_id, ev.sequence, ev.data::text";


/* the earliest moment a delivery not claimable now becomes so */

static const char  video_webhook_next_sql[] =
    "SELECT extract(epoch FROM min(greatest(d.next_attempt_at,"
    " coalesce(d.locked_until, d.next_attempt_at))) - clock_timestamp())"
    " FROM webhook_deliveries d"
    " JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled"
    " WHERE d.status = 'pending'"
    " AND greatest(d.next_attempt_at,"
    " coalesce(d.locked_until, d.next_attempt_at)) > now()";


/* claims what there is room for and starts sending it; -1: PostgreSQL */

static int
video_webhook_claim(video_webhook_t *w)
{
    int                    i, n;
    char                   per[16], room[16], lease[16];
    double                 next;
    PGresult              *res;
    const char            *values[3];
    video_webhook_send_t  *s;

    snprintf(per, sizeof(per), "%d", video_worker_conf.webhook_per_endpoint);
    snprintf(room, sizeof(room), "%d",
             video_worker_conf.webhook_concurrency - w->in_flight);
    snprintf(lease, sizeof(lease), "%d",
             video_worker_conf.webhook_timeout + VIDEO_WH_LEASE_MARGIN);

    values[0] = per;
    values[1] = room;
    values[2] = lease;

    res = video_worker_pg(w->pg, video_webhook_claim_sql, 3, values,
                          PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    n = PQntuples(res);

    for (i = 0; i < n; i++) {
        s = video_webhook_send_new(res, i, w->keys, w->nkeys);

        if (s == NULL) {
            video_worker_log_at(VIDEO_WORKER_LOG_ERROR, "webhook: out of "
                                "memory; delivery %s waits for its lease",
                                PQgetvalue(res, i, VIDEO_WH_COL_DELIVERY));
            continue;
        }

        s->next = w->sends;
        w->sends = s;
        w->in_flight++;

        if (s->curl != NULL
            && curl_multi_add_handle(w->multi, s->curl) != CURLM_OK)
        {
            curl_easy_cleanup(s->curl);
            s->curl = NULL;
            snprintf(s->error, sizeof(s->error),
                     "curl_multi_add_handle() failed");
        }
    }

    PQclear(res);

    video_metrics_webhook_in_flight(w->in_flight);

    /* when a retry or a lease falls due, unless a NOTIFY comes first */

    w->wake = video_metrics_now() + video_worker_conf.webhook_poll_seconds;

    res = video_worker_pg(w->pg, video_webhook_next_sql, 0, NULL,
                          PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    if (!PQgetisnull(res, 0, 0)) {
        next = strtod(PQgetvalue(res, 0, 0), NULL);

        if (next < video_worker_conf.webhook_poll_seconds) {
            w->wake = video_metrics_now() + (next > 0.01 ? next : 0.01);
        }
    }

    PQclear(res);

    return 0;
}


/* takes s out of the list of those in flight */

static void
video_webhook_unlink(video_webhook_t *w, video_webhook_send_t *s)
{
    video_webhook_send_t  **p;

    for (p = &w->sends; *p != NULL; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            w->in_flight--;
            return;
        }
    }
}


/* an attempt that ended: recorded, freed; -1 when PostgreSQL failed */

static int
video_webhook_finish(video_webhook_t *w, video_webhook_send_t *s,
    CURLcode rc)
{
    int     delivered, outcome;
    double  seconds;

    seconds = video_metrics_now() - s->started;
    delivered = video_webhook_send_done(s, rc);

    if (s->curl != NULL) {
        curl_multi_remove_handle(w->multi, s->curl);
    }

    video_webhook_unlink(w, s);

    outcome = video_webhook_record(w->pg, s, delivered, seconds);

    if (outcome >= 0) {
        video_metrics_webhook(outcome, seconds);
        video_metrics_job(outcome == VIDEO_METRICS_WH_DELIVERED
                          ? VIDEO_METRICS_OK
                          : outcome == VIDEO_METRICS_WH_FAILED
                          ? VIDEO_METRICS_FAILED : VIDEO_METRICS_RETRIED,
                          1, seconds);
    }

    /*
     * not recorded (the endpoint deleted meanwhile, PostgreSQL gone): its
     * lease passes, and it is tried again if it is still there
     */

    video_webhook_send_free(s);
    video_metrics_webhook_in_flight(w->in_flight);

    /* a slot is free: what waited for it may go */

    w->claim = 1;

    return (outcome >= 0 || PQstatus(w->pg) == CONNECTION_OK) ? 0 : -1;
}


/* the attempts that ended, and those that never started */

static int
video_webhook_reap(video_webhook_t *w)
{
    int                    left, rc;
    CURLMsg               *m;
    video_webhook_send_t  *s, *next;

    rc = 0;

    for (s = w->sends; s != NULL; s = next) {
        next = s->next;

        if (s->curl == NULL && rc == 0) {
            rc = video_webhook_finish(w, s, CURLE_OK);
        }
    }

    while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }

        s = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &s);

        if (s != NULL && rc == 0) {
            rc = video_webhook_finish(w, s, m->data.result);
        }
    }

    return rc;
}


/*
 * A stop, or PostgreSQL lost: the attempts in flight are dropped, and
 * given back when PostgreSQL is there (their attempt not counted)
 */

static void
video_webhook_release(video_webhook_t *w)
{
    char                   attempt[16];
    const char            *values[2];
    video_webhook_send_t  *s;

    while ((s = w->sends) != NULL) {
        w->sends = s->next;

        if (w->pg != NULL && PQstatus(w->pg) == CONNECTION_OK) {
            snprintf(attempt, sizeof(attempt), "%d", s->attempt);
            values[0] = s->delivery;
            values[1] = attempt;

            (void) video_webhook_exec(w->pg,
                       "UPDATE webhook_deliveries SET locked_until = NULL,"
                       " attempts = attempts - 1 WHERE id = $1"
                       " AND attempts = $2 AND status = 'pending'",
                       2, values);
        }

        if (s->curl != NULL) {
            curl_multi_remove_handle(w->multi, s->curl);
        }

        video_webhook_send_free(s);
    }

    w->in_flight = 0;
    video_metrics_webhook_in_flight(0);
}


/* what waits, for the metrics */

static int
video_webhook_lag(PGconn *pg)
{
    PGresult  *res;

    res = video_worker_pg(pg,
              "SELECT count(*), coalesce(extract(epoch FROM"
              " now() - min(d.next_attempt_at)), 0)"
              " FROM webhook_deliveries d"
              " JOIN webhook_endpoints e ON e.id = d.endpoint_id"
              " AND e.enabled"
              " WHERE d.status = 'pending' AND d.next_attempt_at <= now()",
              0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    video_metrics_webhook_lag(strtol(PQgetvalue(res, 0, 0), NULL, 10),
                              strtod(PQgetvalue(res, 0, 1), NULL));
    PQclear(res);

    return 0;
}


/*
 * Events older than webhook_retention_days, none of whose deliveries is
 * still pending, go (their deliveries and attempts with them), a batch
 * at a time
 */

static int
video_webhook_retention(PGconn *pg)
{
    int          i;
    long         total, n;
    char         days[16], rows[16];
    PGresult    *res;
    const char  *values[2];

    snprintf(days, sizeof(days), "%d",
             video_worker_conf.webhook_retention_days);
    snprintf(rows, sizeof(rows), "%d", VIDEO_WH_RETENTION_ROWS);
    values[0] = days;
    values[1] = rows;
    total = 0;

    for (i = 0; i < VIDEO_WH_RETENTION_MAX && !video_worker_stop; i++) {
        res = video_worker_pg(pg,
                  "DELETE FROM webhook_events WHERE n IN ("
                  " SELECT e.n FROM webhook_events e"
                  " WHERE e.created_at < now() - $1::int * interval '1 day'"
                  " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d"
                  " WHERE d.event_n = e.n AND d.status = 'pending')"
                  " ORDER BY e.created_at LIMIT $2::int)",
                  2, values, PGRES_COMMAND_OK);
        if (res == NULL) {
            return -1;
        }

        n = strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        total += n;

        if (n < VIDEO_WH_RETENTION_ROWS) {
            break;
        }
    }

    if (total > 0) {
        video_worker_log("webhook: %ld event(s) older than %d days removed",
                         total, video_worker_conf.webhook_retention_days);
    }

    return 0;
}


/*
 * Waits for the transfers, a NOTIFY, or the next claim, at most 200 ms
 * (a stop is seen that soon)
 */

static int
video_webhook_wait(video_webhook_t *w)
{
    int              numfds;
    long             ms;
    double           left;
    PGnotify        *nt;
    struct curl_waitfd  fd;

    left = w->claim ? 0 : w->wake - video_metrics_now();

    if (w->in_flight >= video_worker_conf.webhook_concurrency) {
        left = 0.2;
    }

    ms = (long) (left * 1000);
    ms = ms < 0 ? 0 : (ms > 200 ? 200 : ms);

    fd.fd = PQsocket(w->pg);
    fd.events = CURL_WAIT_POLLIN;
    fd.revents = 0;

    if (fd.fd < 0) {
        return -1;
    }

    if (curl_multi_poll(w->multi, &fd, 1, (int) ms, &numfds) != CURLM_OK) {
        return -1;
    }

    if ((fd.revents & CURL_WAIT_POLLIN) && PQconsumeInput(w->pg) == 0) {
        return -1;
    }

    while ((nt = PQnotifies(w->pg)) != NULL) {
        PQfreemem(nt);
        w->claim = 1;
    }

    return 0;
}


static int
video_webhook_keys(video_webhook_t *w)
{
    const char  *k;

    k = video_worker_conf.webhook_key;

    if (k[0] == '@' || video_webhook_key_derive(k, strlen(k), &w->key) != 0)
    {
        video_worker_log("webhook_key is not set, or shorter than 16 bytes "
                         "(conf/worker.conf holds a placeholder: use the "
                         "copy make run renders, .run/workers/worker.conf, "
                         "or set VIDEO_WORKER_WEBHOOK_KEY)");
        return -1;
    }

    w->keys[0] = &w->key;
    w->nkeys = 1;

    k = video_worker_conf.webhook_previous_key;

    if (k[0] == '\0') {
        return 0;
    }

    if (video_webhook_key_derive(k, strlen(k), &w->previous) != 0) {
        video_worker_log("webhook_previous_key is shorter than 16 bytes");
        return -1;
    }

    w->keys[1] = &w->previous;
    w->nkeys = 2;

    return 0;
}


int
video_worker_webhook(void)
{
    int               running, lost;
    PGresult         *r;
    video_webhook_t   w;
    struct timespec   ts;

    memset(&w, 0, sizeof(w));

    if (video_webhook_keys(&w) != 0) {
        return 1;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        video_worker_log("curl_global_init() failed");
        return 1;
    }

    w.multi = curl_multi_init();
    if (w.multi == NULL) {
        video_worker_log("curl_multi_init() failed");
        curl_global_cleanup();
        return 1;
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    srandom((unsigned) (ts.tv_nsec ^ getpid()));

    while (!video_worker_stop) {

        if (w.pg == NULL || PQstatus(w.pg) != CONNECTION_OK) {
            if (w.pg != NULL) {
                video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                    "postgresql connection lost");
                video_webhook_release(&w);
                PQfinish(w.pg);
            }

            w.pg = video_worker_pg_connect();
            if (w.pg == NULL) {
                break;
            }

            r = video_worker_pg(w.pg, "LISTEN webhook", 0, NULL,
                                PGRES_COMMAND_OK);
            PQclear(r);

            w.claim = 1;
        }

        lost = 0;

        if (video_metrics_due() && video_webhook_lag(w.pg) != 0) {
            lost = 1;
        }

        if (!lost && video_metrics_now() >= w.retention) {
            w.retention = video_metrics_now() + VIDEO_WH_RETENTION;
            lost = (video_webhook_retention(w.pg) != 0);
        }

        if (!lost && (w.claim || video_metrics_now() >= w.wake)
            && w.in_flight < video_worker_conf.webhook_concurrency)
        {
            w.claim = 0;
            lost = (video_webhook_claim(&w) != 0);
        }

        if (!lost) {
            curl_multi_perform(w.multi, &running);
            lost = (video_webhook_reap(&w) != 0);
        }

        if (!lost) {
            lost = (video_webhook_wait(&w) != 0);
        }

        if (lost) {
            video_webhook_release(&w);
            PQfinish(w.pg);
            w.pg = NULL;
            video_worker_sleep(0.5);
        }
    }

    video_webhook_release(&w);

    if (w.pg != NULL) {
        PQfinish(w.pg);
    }

    curl_multi_cleanup(w.multi);
    curl_global_cleanup();

    explicit_bzero(&w.key, sizeof(w.key));
    explicit_bzero(&w.previous, sizeof(w.previous));

    return 0;
}
