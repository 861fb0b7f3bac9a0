/*
 * RabbitMQ for the workers: one connection, channel 1, and the queues
 * every role declares alike (durable; failed jobs dead-letter to
 * "<queue>.dlq" through the "video-dlx" exchange).
 *
 * While a consumer's handler runs (a transcode can take minutes), nothing
 * reads or writes the connection, so rabbitmq-c sends no heartbeat and
 * the broker would close it after two missed ones (60 s), taking the job
 * back and giving it to another worker while this one still works on it.
 * A thread of its own sends the heartbeats meanwhile, and only then: the
 * connection is the handler's caller's again before the handler returns.
 */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/time.h>

#include <amqp_tcp_socket.h>

#include "video_worker.h"


const char *
video_worker_amqp_error(amqp_rpc_reply_t r)
{
    static char  buf[256];

    switch (r.reply_type) {

    case AMQP_RESPONSE_NORMAL:
        return "ok";

    case AMQP_RESPONSE_NONE:
        return "missing reply";

    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return amqp_error_string2(r.library_error);

    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *c = r.reply.decoded;
            snprintf(buf, sizeof(buf), "connection closed: %d %.*s",
                     c->reply_code, (int) c->reply_text.len,
                     (char *) c->reply_text.bytes);
            return buf;
        }

        if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *c = r.reply.decoded;
            snprintf(buf, sizeof(buf), "channel closed: %d %.*s",
                     c->reply_code, (int) c->reply_text.len,
                     (char *) c->reply_text.bytes);
            return buf;
        }

        return "server error";
    }

    return "unknown error";
}


static int
video_worker_amqp_queue(video_worker_amqp_t *a, const char *name,
    int priorities)
{
    char                dlq[128];
    amqp_table_t        args;
    amqp_table_entry_t  entries[2];
    amqp_rpc_reply_t    r;

    snprintf(dlq, sizeof(dlq), "%s.dlq", name);

    amqp_queue_declare(a->conn, 1, amqp_cstring_bytes(dlq), 0, 1, 0, 0,
                       amqp_empty_table);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(a->error, sizeof(a->error), "declaring %s: %s", dlq,
                 video_worker_amqp_error(r));
        return -1;
    }

    amqp_queue_bind(a->conn, 1, amqp_cstring_bytes(dlq),
                    amqp_cstring_bytes(VIDEO_DLX), amqp_cstring_bytes(name),
                    amqp_empty_table);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(a->error, sizeof(a->error), "binding %s: %s", dlq,
                 video_worker_amqp_error(r));
        return -1;
    }

    entries[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes(VIDEO_DLX);
    args.num_entries = 1;
    args.entries = entries;

    /* a queue that takes message priorities delivers the highest first */

    if (priorities) {
        entries[1].key = amqp_cstring_bytes("x-max-priority");
        entries[1].value.kind = AMQP_FIELD_KIND_I8;
        entries[1].value.value.i8 = (int8_t) priorities;
        args.num_entries = 2;
    }

    amqp_queue_declare(a->conn, 1, amqp_cstring_bytes(name), 0, 1, 0, 0,
                       args);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(a->error, sizeof(a->error), "declaring %s: %s", name,
                 video_worker_amqp_error(r));
        return -1;
    }

    return 0;
}


int
video_worker_amqp_connect(video_worker_amqp_t *a)
{
    int                     rc;
    char                    url[512];
    struct timeval          tv;
    amqp_socket_t          *sock;
    amqp_rpc_reply_t        r;
    struct amqp_connection_info  info;

    a->up = 0;
    a->error[0] = '\0';

    snprintf(url, sizeof(url), "%s", video_worker_conf.amqp);

    if (amqp_parse_url(url, &info) != AMQP_STATUS_OK) {
        snprintf(a->error, sizeof(a->error), "invalid amqp URL \"%.200s\"",
                 video_worker_conf.amqp);
        return -1;
    }

    /* "amqp://host:port/" names the default virtual host */

    if (info.vhost[0] == '\0') {
        info.vhost = "/";
    }

    a->conn = amqp_new_connection();
    sock = amqp_tcp_socket_new(a->conn);

    if (sock == NULL) {
        snprintf(a->error, sizeof(a->error), "cannot make a socket");
        goto failed;
    }

    tv.tv_sec = 5;
    tv.tv_usec = 0;

    rc = amqp_socket_open_noblock(sock, info.host, info.port, &tv);

    if (rc != AMQP_STATUS_OK) {
        snprintf(a->error, sizeof(a->error), "%s:%d: %s", info.host,
                 info.port, amqp_error_string2(rc));
        goto failed;
    }

    r = amqp_login(a->conn, info.vhost, 0, 131072, VIDEO_WORKER_HEARTBEAT,
                   AMQP_SASL_METHOD_PLAIN, info.user, info.password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(a->error, sizeof(a->error), "login: %s",
                 video_worker_amqp_error(r));
        goto failed;
    }

    amqp_channel_open(a->conn, 1);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(a->error, sizeof(a->error), "channel: %s",
                 video_worker_amqp_error(r));
        goto close;
    }

    amqp_exchange_declare(a->conn, 1, amqp_cstring_bytes(VIDEO_DLX),
                          amqp_cstring_bytes("direct"), 0, 1, 0, 0,
                          amqp_empty_table);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(a->error, sizeof(a->error), "declaring %s: %s", VIDEO_DLX,
                 video_worker_amqp_error(r));
        goto close;
    }

    if (video_worker_amqp_queue(a, VIDEO_QUEUE_TRANSCODE, 0) != 0
        || video_worker_amqp_queue(a, VIDEO_QUEUE_CLEANUP, 0) != 0
        || video_worker_amqp_queue(a, VIDEO_QUEUE_CHUNK,
                                   VIDEO_CHUNK_PRIORITY)
           != 0)
    {
        goto close;
    }

    a->up = 1;

    return 0;

close:

    amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);

failed:

    amqp_destroy_connection(a->conn);
    a->conn = NULL;

    return -1;
}


void
video_worker_amqp_close(video_worker_amqp_t *a)
{
    if (a->conn == NULL) {
        return;
    }

    if (a->up) {
        amqp_channel_close(a->conn, 1, AMQP_REPLY_SUCCESS);
        amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
    }

    amqp_destroy_connection(a->conn);
    a->conn = NULL;
    a->up = 0;
}


/* the connection a handler works for, NULL between handlers */
static amqp_connection_state_t  video_worker_amqp_busy;
static pthread_mutex_t          video_worker_amqp_lock =
                                    PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t           video_worker_amqp_once = PTHREAD_ONCE_INIT;


static void *
video_worker_amqp_beat(void *data)
{
    amqp_frame_t  frame;

    (void) data;

    memset(&frame, 0, sizeof(frame));
    frame.frame_type = AMQP_FRAME_HEARTBEAT;
    frame.channel = 0;

    for ( ;; ) {

        /* a third of the 30 s the connection asks for */

        sleep(VIDEO_WORKER_HEARTBEAT / 3);

        pthread_mutex_lock(&video_worker_amqp_lock);

        if (video_worker_amqp_busy != NULL) {
            (void) amqp_send_frame(video_worker_amqp_busy, &frame);
        }

        pthread_mutex_unlock(&video_worker_amqp_lock);
    }

    return NULL;
}


static void
video_worker_amqp_beat_start(void)
{
    pthread_t       tid;
    pthread_attr_t  attr;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

    if (pthread_create(&tid, &attr, video_worker_amqp_beat, NULL) != 0) {
        video_worker_log("cannot start the heartbeat thread: jobs over a "
                         "minute may be taken back by the broker");
    }

    pthread_attr_destroy(&attr);
}


static void
video_worker_amqp_handling(amqp_connection_state_t conn)
{
    pthread_mutex_lock(&video_worker_amqp_lock);
    video_worker_amqp_busy = conn;
    pthread_mutex_unlock(&video_worker_amqp_lock);
}


int
video_worker_consume(const char *queue, video_worker_consumer_pt handler)
{
    return video_worker_consume_queues(&queue, 1, handler);
}


int
video_worker_consume_queues(const char *const *queues, int n,
    video_worker_consumer_pt handler)
{
    int                  i, outcome, down;
    double               backoff;
    struct timeval       tv;
    amqp_rpc_reply_t     r;
    amqp_envelope_t      env;
    video_worker_amqp_t  a;

    memset(&a, 0, sizeof(a));
    down = 0;
    backoff = 0.5;

    pthread_once(&video_worker_amqp_once, video_worker_amqp_beat_start);

    while (!video_worker_stop) {

        if (!a.up) {
            if (video_worker_amqp_connect(&a) != 0) {
                if (!down) {
                    video_worker_log("rabbitmq unavailable (%s), retrying",
                                     a.error);
                    down = 1;
                }

                video_worker_sleep(backoff);
                backoff = backoff < 8 ? backoff * 2 : 10;
                continue;
            }

            /* one unacknowledged message on the channel, whichever
               queue it came from */

            amqp_basic_qos(a.conn, 1, 0, 1, n > 1);
            r.reply_type = AMQP_RESPONSE_NORMAL;

            for (i = 0; i < n; i++) {
                amqp_basic_consume(a.conn, 1, amqp_cstring_bytes(queues[i]),
                                   amqp_empty_bytes, 0, 0, 0,
                                   amqp_empty_table);
                r = amqp_get_rpc_reply(a.conn);

                if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                    video_worker_log("rabbitmq: consuming %s: %s", queues[i],
                                     video_worker_amqp_error(r));
                    break;
                }

                video_worker_log("consuming %s", queues[i]);
            }

            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                video_worker_amqp_close(&a);
                continue;
            }

            down = 0;
            backoff = 0.5;
        }

        /* between two jobs: no message is unacknowledged */

        if (video_metrics_due() && video_worker_amqp_depths(&a) != 0) {
            video_worker_amqp_close(&a);
            continue;
        }

        amqp_maybe_release_buffers(a.conn);

        /* a second at most, so a stop request is seen */

        tv.tv_sec = 1;
        tv.tv_usec = 0;

        r = amqp_consume_message(a.conn, &env, &tv, 0);

        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
            && r.library_error == AMQP_STATUS_TIMEOUT)
        {
            continue;
        }

        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            if (!video_worker_stop) {
                video_worker_log("rabbitmq: %s", video_worker_amqp_error(r));
            }

            video_worker_amqp_close(&a);
            continue;
        }

        /* the job's lines name it: the outbox row's id, as relayed */

        if (env.message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
            video_worker_log_job(env.message.properties.message_id.bytes,
                                 env.message.properties.message_id.len);
        }

        video_worker_amqp_handling(a.conn);
        outcome = handler(&env);
        video_worker_amqp_handling(NULL);

        video_worker_log_job(NULL, 0);
        video_worker_log_video(NULL);

        if (outcome == VIDEO_ACK) {
            amqp_basic_ack(a.conn, 1, env.delivery_tag, 0);

        } else {
            amqp_basic_nack(a.conn, 1, env.delivery_tag, 0,
                            outcome == VIDEO_REQUEUE);
        }

        amqp_destroy_envelope(&env);
    }

    video_worker_amqp_close(&a);

    return 0;
}


int
video_worker_amqp_depths(video_worker_amqp_t *a)
{
    int                       i;
    long                      messages[VIDEO_METRICS_QUEUES];
    long                      consumers[VIDEO_METRICS_QUEUES];
    amqp_rpc_reply_t          r;
    amqp_queue_declare_ok_t  *ok;

    /*
     * a passive declare only asks: a queue gone closes the channel, and
     * the caller reconnects, which declares it again
     */

    for (i = 0; i < VIDEO_METRICS_QUEUES; i++) {
        ok = amqp_queue_declare(a->conn, 1,
                                amqp_cstring_bytes(
                                    video_metrics_queue_names[i]),
                                1, 0, 0, 0, amqp_empty_table);
        r = amqp_get_rpc_reply(a->conn);

        if (ok == NULL || r.reply_type != AMQP_RESPONSE_NORMAL) {
            video_worker_log("rabbitmq: the depth of %s: %s",
                             video_metrics_queue_names[i],
                             video_worker_amqp_error(r));
            return -1;
        }

        messages[i] = ok->message_count;
        consumers[i] = ok->consumer_count;
    }

    video_metrics_queues(messages, consumers);

    return 0;
}
