/*
 * The relay: outbox rows to RabbitMQ.  Rows are taken with FOR UPDATE
 * SKIP LOCKED (two relays never take the same row), published persistent
 * with publisher confirms, and marked published in the same transaction
 * only once the broker has confirmed them all.  A crash between the
 * confirm and the commit publishes a row again: delivery is at least
 * once, and the consumers are idempotent.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "video_worker.h"


#define VIDEO_RELAY_BATCH  100


static int
video_relay_confirms(video_worker_amqp_t *a, uint64_t last)
{
    int                     rc;
    uint64_t                acked;
    amqp_frame_t            frame;
    struct timeval          tv;
    amqp_basic_ack_t       *ack;

    acked = 0;

    while (acked < last) {
        tv.tv_sec = 10;
        tv.tv_usec = 0;

        rc = amqp_simple_wait_frame_noblock(a->conn, &frame, &tv);
        if (rc != AMQP_STATUS_OK) {
            video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                                "rabbitmq: waiting for confirms: %s",
                                amqp_error_string2(rc));
            return -1;
        }

        if (frame.frame_type != AMQP_FRAME_METHOD) {
            continue;
        }

        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            ack = frame.payload.method.decoded;
            if (ack->delivery_tag > acked) {
                acked = ack->delivery_tag;
            }

            continue;
        }

        if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                                "rabbitmq refused a message");
            return -1;
        }

        if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD
            || frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)
        {
            video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                                "rabbitmq closed the channel");
            return -1;
        }
    }

    return 0;
}


/*
 * One batch: returns the rows published, -1 when the broker failed (the
 * rows stay), -2 when PostgreSQL did
 */

static int
video_relay_batch(PGconn *pg, video_worker_amqp_t *a, uint64_t *tag)
{
    int                      i, n;
    char                    *ids, *p;
    char                     batch[32];
    double                   started;
    PGresult                *res, *r;
    const char              *values[1];
    amqp_bytes_t             body;
    amqp_basic_properties_t  props;

    started = video_metrics_now();

    r = video_worker_pg(pg, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
    if (r == NULL) {
        return -2;
    }

    PQclear(r);

    snprintf(batch, sizeof(batch), "%d", VIDEO_RELAY_BATCH);
    values[0] = batch;

    res = video_worker_pg(pg,
              "SELECT id, topic, payload::text, priority FROM outbox"
              " WHERE published_at IS NULL"
              " AND topic IN ('" VIDEO_QUEUE_TRANSCODE "', '"
              VIDEO_QUEUE_CLEANUP "', '" VIDEO_QUEUE_CHUNK "')"
              " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
              1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -2;
    }

    n = PQntuples(res);

    if (n == 0) {
        PQclear(res);
        r = video_worker_pg(pg, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
        PQclear(r);
        return r ? 0 : -2;
    }

    ids = malloc(n * 21 + 3);
    if (ids == NULL) {
        PQclear(res);
        return -2;
    }

    p = ids;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        memset(&props, 0, sizeof(props));
        props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG
                       | AMQP_BASIC_DELIVERY_MODE_FLAG
                       | AMQP_BASIC_MESSAGE_ID_FLAG
                       | AMQP_BASIC_PRIORITY_FLAG;
        props.content_type = amqp_cstring_bytes("application/json");
        props.delivery_mode = 2;
        props.message_id = amqp_cstring_bytes(PQgetvalue(res, i, 0));
        props.priority = (uint8_t) atoi(PQgetvalue(res, i, 3));

        body.bytes = PQgetvalue(res, i, 2);
        body.len = PQgetlength(res, i, 2);

        if (amqp_basic_publish(a->conn, 1, amqp_empty_bytes,
                               amqp_cstring_bytes(PQgetvalue(res, i, 1)),
                               0, 0, &props, body)
            != AMQP_STATUS_OK)
        {
            goto broker;
        }

        (*tag)++;
        p += sprintf(p, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
    }

    *p++ = '}';
    *p = '\0';

    if (video_relay_confirms(a, *tag) != 0) {
        goto broker;
    }

    values[0] = ids;

    r = video_worker_pg(pg,
            "UPDATE outbox SET published_at = now(), attempts = attempts + 1,"
            " last_error = NULL WHERE id = ANY($1::bigint[])",
            1, values, PGRES_COMMAND_OK);
    PQclear(r);

    if (r != NULL) {
        r = video_worker_pg(pg, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
        PQclear(r);
    }

    free(ids);
    PQclear(res);

    if (r == NULL) {
        return -2;
    }

    video_metrics_job(VIDEO_METRICS_OK, n, video_metrics_now() - started);

    return n;

broker:

    free(ids);
    PQclear(res);

    /* the rows stay in the outbox for the next try */

    video_metrics_job(VIDEO_METRICS_RETRIED, n, -1);

    r = video_worker_pg(pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
    PQclear(r);

    return -1;
}


/* what the outbox holds unpublished, for the metrics */

static int
video_relay_backlog(PGconn *pg)
{
    PGresult  *res;

    res = video_worker_pg(pg,
              "SELECT count(*),"
              " coalesce(extract(epoch FROM now() - min(created_at)), 0)"
              " FROM outbox WHERE published_at IS NULL"
              " AND topic IN ('" VIDEO_QUEUE_TRANSCODE "', '"
              VIDEO_QUEUE_CLEANUP "', '" VIDEO_QUEUE_CHUNK "')",
              0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    video_metrics_outbox(strtol(PQgetvalue(res, 0, 0), NULL, 10),
                         strtod(PQgetvalue(res, 0, 1), NULL));
    PQclear(res);

    return 0;
}


/*
 * waits for a NOTIFY on the outbox channel, at most the poll interval,
 * and no longer than the next refresh of the metrics
 */

static int
video_relay_wait(PGconn *pg)
{
    int        fd, rc;
    double     wait;
    fd_set     rfds;
    PGnotify  *nt;
    struct timeval  tv;

    fd = PQsocket(pg);
    if (fd < 0) {
        return -1;
    }

    FD_ZERO(&rfds);
    FD_SET(fd, &rfds);
    wait = video_metrics_until_due();

    if (wait > video_worker_conf.relay_poll_seconds) {
        wait = video_worker_conf.relay_poll_seconds;
    }

    tv.tv_sec = (long) wait;
    tv.tv_usec = (long) ((wait - tv.tv_sec) * 1e6);

    rc = select(fd + 1, &rfds, NULL, NULL, &tv);

    if (rc < 0 && errno != EINTR) {
        return -1;
    }

    if (rc > 0 && PQconsumeInput(pg) == 0) {
        return -1;
    }

    while ((nt = PQnotifies(pg)) != NULL) {
        PQfreemem(nt);
    }

    return 0;
}


int
video_worker_relay(void)
{
    int                   n, broker_down;
    double                backoff;
    uint64_t              tag;
    PGconn               *pg;
    PGresult             *r;
    video_worker_amqp_t   a;

    memset(&a, 0, sizeof(a));
    pg = NULL;
    tag = 0;
    broker_down = 0;
    backoff = 0.5;

    while (!video_worker_stop) {

        if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
            if (pg != NULL) {
                video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                    "postgresql connection lost");
                PQfinish(pg);
            }

            pg = video_worker_pg_connect();
            if (pg == NULL) {
                break;
            }

            r = video_worker_pg(pg, "LISTEN outbox", 0, NULL,
                                PGRES_COMMAND_OK);
            PQclear(r);
        }

        /* the backlog is shown while RabbitMQ is down too */

        if (video_metrics_due()) {
            if (video_relay_backlog(pg) != 0) {
                PQfinish(pg);
                pg = NULL;
                continue;
            }

            if (a.up && video_worker_amqp_depths(&a) != 0) {
                video_worker_amqp_close(&a);
                broker_down = 1;
                continue;
            }
        }

        if (!a.up) {
            if (video_worker_amqp_connect(&a) != 0) {
                if (!broker_down) {
                    video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                        "rabbitmq unavailable (%s); jobs stay "
                                        "in the outbox until it is back",
                                        a.error);
                    broker_down = 1;
                }

                video_worker_sleep(backoff);
                backoff = backoff < 8 ? backoff * 2 : 10;
                continue;
            }

            amqp_confirm_select(a.conn, 1);

            if (amqp_get_rpc_reply(a.conn).reply_type
                != AMQP_RESPONSE_NORMAL)
            {
                video_worker_amqp_close(&a);
                continue;
            }

            tag = 0;
            backoff = 0.5;

            video_worker_log(broker_down ? "rabbitmq is back"
                                         : "connected to rabbitmq");
            broker_down = 0;
        }

        n = video_relay_batch(pg, &a, &tag);

        if (n == -1) {
            video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                "rabbitmq failed while publishing; "
                                "the jobs stay in the outbox");
            video_worker_amqp_close(&a);
            broker_down = 1;
            continue;
        }

        if (n == -2) {
            PQfinish(pg);
            pg = NULL;
            continue;
        }

        if (n > 0) {
            video_worker_log("published %d job(s)", n);
        }

        if (n == VIDEO_RELAY_BATCH) {
            continue;
        }


        if (video_relay_wait(pg) != 0) {
            PQfinish(pg);
            pg = NULL;
        }
    }

    video_worker_amqp_close(&a);

    if (pg != NULL) {
        PQfinish(pg);
    }

    return 0;
}
