/*
 * The worker's metrics in Prometheus's text format (0.0.4), served on
 * GET /metrics by a thread of their own (metrics_listen), so a long job
 * never keeps a scrape waiting.
 *
 * The role's loop records what it does (video_metrics_job() and the
 * others) and refreshes what it reads from PostgreSQL or RabbitMQ every
 * metrics_interval seconds with its own connections; the thread only
 * copies the figures under a mutex held for that copy, and touches no
 * connection.  A scrape is answered one connection at a time, within
 * VIDEO_METRICS_TIMEOUT seconds, then closed.
 */

#define _GNU_SOURCE             /* accept4() */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "video_worker.h"


#define VIDEO_METRICS_TIMEOUT   2       /* seconds a client has */
#define VIDEO_METRICS_REQUEST   4096    /* the largest request head */
#define VIDEO_METRICS_DURATIONS 14
#define VIDEO_METRICS_FACTORS   10


typedef struct {
    uint64_t  buckets[VIDEO_METRICS_DURATIONS];   /* not cumulative */
    uint64_t  count;
    double    sum;
} video_metrics_histogram_t;


/* what a scrape shows: copied as a whole under the mutex */

typedef struct {
    uint64_t                   jobs[VIDEO_METRICS_OUTCOMES];
    video_metrics_histogram_t  durations;
    video_metrics_histogram_t  factors;

    int                        outbox_known;
    long                       outbox_rows;
    double                     outbox_age;

    int                        rollup_known;
    double                     rollup_at;     /* wall clock */

    int                        queues_known;
    long                       queue_messages[VIDEO_METRICS_QUEUES];
    long                       queue_consumers[VIDEO_METRICS_QUEUES];

    uint64_t                   webhook[VIDEO_METRICS_WH_OUTCOMES];
    video_metrics_histogram_t  attempts;
    int                        webhook_known;
    long                       webhook_due;
    double                     webhook_lag;
    int                        webhook_in_flight;
} video_metrics_values_t;


typedef struct {
    char                     *data;
    size_t                    len;
    size_t                    size;
    int                       failed;
} video_metrics_buf_t;


static const double  video_metrics_duration_le[VIDEO_METRICS_DURATIONS] = {
    0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600
};

static const double  video_metrics_factor_le[VIDEO_METRICS_FACTORS] = {
    0.1, 0.25, 0.5, 1, 1.5, 2, 4, 8, 16, 32
};

/* a webhook attempt's seconds: from a local receiver's to a timeout */
#define VIDEO_METRICS_ATTEMPTS  12

static const double  video_metrics_attempt_le[VIDEO_METRICS_ATTEMPTS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};

static const char  *video_metrics_webhook_outcomes[VIDEO_METRICS_WH_OUTCOMES]
    = { "delivered", "failed_attempt", "failed" };

static const char  *video_metrics_outcomes[VIDEO_METRICS_OUTCOMES] = {
    "ok", "failed", "retried", "dead", "requeued"
};

const char  *video_metrics_queue_names[VIDEO_METRICS_QUEUES] = {
    VIDEO_QUEUE_TRANSCODE, VIDEO_QUEUE_TRANSCODE ".dlq",
    VIDEO_QUEUE_CLEANUP, VIDEO_QUEUE_CLEANUP ".dlq",
    VIDEO_QUEUE_CHUNK, VIDEO_QUEUE_CHUNK ".dlq"
};


static pthread_mutex_t         video_metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static video_metrics_values_t  video_metrics_values;

static const char             *video_metrics_role = "worker";
static unsigned                video_metrics_outcome_mask;
static double                  video_metrics_started;   /* wall clock */
static double                  video_metrics_next;      /* monotonic */

static int                     video_metrics_fd = -1;
static int                     video_metrics_running;
static atomic_int               video_metrics_quit;
static pthread_t               video_metrics_thread;


double
video_metrics_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static double
video_metrics_wall(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
video_metrics_observe(video_metrics_histogram_t *h, const double *le,
    int n, double v)
{
    int  i;

    for (i = 0; i < n && v > le[i]; i++) {
        /* the first bucket v fits in */
    }

    if (i < n) {
        h->buckets[i]++;
    }

    h->count++;
    h->sum += v;
}


void
video_metrics_job(int outcome, uint64_t n, double seconds)
{
    if (outcome < 0 || outcome >= VIDEO_METRICS_OUTCOMES) {
        return;
    }

    pthread_mutex_lock(&video_metrics_lock);

    video_metrics_values.jobs[outcome] += n;

    if (seconds >= 0) {
        video_metrics_observe(&video_metrics_values.durations,
                              video_metrics_duration_le,
                              VIDEO_METRICS_DURATIONS, seconds);
    }

    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_realtime(double media, double wall)
{
    if (!(media > 0) || !(wall > 0)) {
        return;
    }

    pthread_mutex_lock(&video_metrics_lock);
    video_metrics_observe(&video_metrics_values.factors,
                          video_metrics_factor_le, VIDEO_METRICS_FACTORS,
                          media / wall);
    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_outbox(long rows, double oldest_age)
{
    pthread_mutex_lock(&video_metrics_lock);
    video_metrics_values.outbox_known = 1;
    video_metrics_values.outbox_rows = rows;
    video_metrics_values.outbox_age = oldest_age > 0 ? oldest_age : 0;
    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_rollup(void)
{
    double  now;

    now = video_metrics_wall();

    pthread_mutex_lock(&video_metrics_lock);
    video_metrics_values.rollup_known = 1;
    video_metrics_values.rollup_at = now;
    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_queues(const long *messages, const long *consumers)
{
    pthread_mutex_lock(&video_metrics_lock);
    video_metrics_values.queues_known = 1;
    memcpy(video_metrics_values.queue_messages, messages,
           sizeof(video_metrics_values.queue_messages));
    memcpy(video_metrics_values.queue_consumers, consumers,
           sizeof(video_metrics_values.queue_consumers));
    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_webhook(int outcome, double seconds)
{
    if (outcome < 0 || outcome >= VIDEO_METRICS_WH_OUTCOMES) {
        return;
    }

    pthread_mutex_lock(&video_metrics_lock);

    video_metrics_values.webhook[outcome]++;

    if (seconds >= 0) {
        video_metrics_observe(&video_metrics_values.attempts,
                              video_metrics_attempt_le,
                              VIDEO_METRICS_ATTEMPTS, seconds);
    }

    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_webhook_lag(long due, double lag)
{
    pthread_mutex_lock(&video_metrics_lock);
    video_metrics_values.webhook_known = 1;
    video_metrics_values.webhook_due = due;
    video_metrics_values.webhook_lag = lag > 0 ? lag : 0;
    pthread_mutex_unlock(&video_metrics_lock);
}


void
video_metrics_webhook_in_flight(int n)
{
    pthread_mutex_lock(&video_metrics_lock);
    video_metrics_values.webhook_in_flight = n;
    pthread_mutex_unlock(&video_metrics_lock);
}


int
video_metrics_due(void)
{
    double  now;

    now = video_metrics_now();

    if (now < video_metrics_next) {
        return 0;
    }

    video_metrics_next = now + video_worker_conf.metrics_interval;

    return 1;
}


double
video_metrics_until_due(void)
{
    double  left;

    left = video_metrics_next - video_metrics_now();

    return left > 0 ? left : 0;
}


/* -- the text format ------------------------------------------------------- */

static void
video_metrics_add(video_metrics_buf_t *b, const char *fmt, ...)
{
    int       n;
    char     *p;
    size_t    size;
    va_list   ap;

    if (b->failed) {
        return;
    }

    for ( ;; ) {
        va_start(ap, fmt);
        n = vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
        va_end(ap);

        if (n < 0) {
            b->failed = 1;
            return;
        }

        if ((size_t) n < b->size - b->len) {
            b->len += n;
            return;
        }

        size = b->size * 2 + n;
        p = realloc(b->data, size);

        if (p == NULL) {
            b->failed = 1;
            return;
        }

        b->data = p;
        b->size = size;
    }
}


static void
video_metrics_head(video_metrics_buf_t *b, const char *name,
    const char *type, const char *help)
{
    video_metrics_add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                      type);
}


static void
video_metrics_histogram(video_metrics_buf_t *b, const char *name,
    const char *labels, const video_metrics_histogram_t *h, const double *le,
    int n)
{
    int       i;
    uint64_t  cumulative;

    cumulative = 0;

    for (i = 0; i < n; i++) {
        cumulative += h->buckets[i];
        video_metrics_add(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
                          labels[0] ? "," : "", le[i],
                          (unsigned long long) cumulative);
    }

    video_metrics_add(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
                      labels[0] ? "," : "", (unsigned long long) h->count);
    video_metrics_add(b, "%s_sum%s%s%s %.9g\n", name, labels[0] ? "{" : "",
                      labels, labels[0] ? "}" : "", h->sum);
    video_metrics_add(b, "%s_count%s%s%s %llu\n", name,
                      labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
                      (unsigned long long) h->count);
}


static void
video_metrics_render(video_metrics_buf_t *b)
{
    int                     i, relay, transcode, analytics, webhook;
    char                    role[64];
    double                  now;
    video_metrics_values_t  v;

    pthread_mutex_lock(&video_metrics_lock);
    v = video_metrics_values;
    pthread_mutex_unlock(&video_metrics_lock);

    now = video_metrics_wall();

    relay = (strcmp(video_metrics_role, "relay") == 0);
    transcode = (strcmp(video_metrics_role, "transcode") == 0);
    analytics = (strcmp(video_metrics_role, "analytics") == 0);
    webhook = (strcmp(video_metrics_role, "webhook") == 0);

    snprintf(role, sizeof(role), "role=\"%s\"", video_metrics_role);

    video_metrics_head(b, "video_worker_up", "gauge",
                       "1 while the worker process runs, with its role "
                       "and version.");
    video_metrics_add(b, "video_worker_up{%s,version=\""
                      VIDEO_WORKER_VERSION "\"} 1\n", role);

    video_metrics_head(b, "video_worker_start_time_seconds", "gauge",
                       "Start time of the worker process since the Unix "
                       "epoch in seconds.");
    video_metrics_add(b, "video_worker_start_time_seconds{%s} %.3f\n", role,
                      video_metrics_started);

    video_metrics_head(b, "video_worker_jobs_total", "counter",
                       "Jobs the worker handled, by outcome (relay: "
                       "outbox rows published, or left for a retry).");

    for (i = 0; i < VIDEO_METRICS_OUTCOMES; i++) {
        if (video_metrics_outcome_mask & (1u << i)) {
            video_metrics_add(b, "video_worker_jobs_total{%s,outcome=\"%s\"}"
                              " %llu\n", role, video_metrics_outcomes[i],
                              (unsigned long long) v.jobs[i]);
        }
    }

    video_metrics_head(b, "video_worker_job_duration_seconds", "histogram",
                       "Wall time of a job from its start to its outcome "
                       "(relay: of a published batch).");
    video_metrics_histogram(b, "video_worker_job_duration_seconds", role,
                            &v.durations, video_metrics_duration_le,
                            VIDEO_METRICS_DURATIONS);

    if (transcode) {
        video_metrics_head(b, "video_worker_transcode_realtime_factor",
                           "histogram",
                           "Seconds of video encoded per second of wall "
                           "time, one observation per ladder encode.");
        video_metrics_histogram(b, "video_worker_transcode_realtime_factor",
                                "", &v.factors, video_metrics_factor_le,
                                VIDEO_METRICS_FACTORS);
    }

    if (relay && v.outbox_known) {
        video_metrics_head(b, "video_worker_outbox_unpublished", "gauge",
                           "Outbox rows not yet published to RabbitMQ.");
        video_metrics_add(b, "video_worker_outbox_unpublished %ld\n",
                          v.outbox_rows);

        video_metrics_head(b, "video_worker_outbox_oldest_unpublished_age_"
                           "seconds", "gauge",
                           "Age of the oldest unpublished outbox row in "
                           "seconds (0 when none).");
        video_metrics_add(b, "video_worker_outbox_oldest_unpublished_age_"
                          "seconds %.3f\n", v.outbox_age);
    }

    if (analytics) {
        video_metrics_head(b, "video_worker_analytics_rollup_lag_seconds",
                           "gauge",
                           "Seconds since the last successful rollup of "
                           "the view counters (since the start before "
                           "the first).");
        video_metrics_add(b, "video_worker_analytics_rollup_lag_seconds "
                          "%.3f\n", now - (v.rollup_known
                                           ? v.rollup_at
                                           : video_metrics_started));
    }

    if (webhook) {
        video_metrics_head(b, "video_worker_webhook_deliveries_total",
                           "counter",
                           "Webhook delivery attempts by outcome: "
                           "delivered (a 2xx), failed_attempt (tried "
                           "again later), failed (for good).");

        for (i = 0; i < VIDEO_METRICS_WH_OUTCOMES; i++) {
            video_metrics_add(b, "video_worker_webhook_deliveries_total"
                              "{outcome=\"%s\"} %llu\n",
                              video_metrics_webhook_outcomes[i],
                              (unsigned long long) v.webhook[i]);
        }

        video_metrics_head(b, "video_worker_webhook_attempt_duration_"
                           "seconds", "histogram",
                           "Seconds from a webhook attempt's start to the "
                           "receiver's answer or the failure.");
        video_metrics_histogram(b, "video_worker_webhook_attempt_duration_"
                                "seconds", "", &v.attempts,
                                video_metrics_attempt_le,
                                VIDEO_METRICS_ATTEMPTS);

        video_metrics_head(b, "video_worker_webhook_in_flight", "gauge",
                           "Webhook attempts this process is sending.");
        video_metrics_add(b, "video_worker_webhook_in_flight %d\n",
                          v.webhook_in_flight);

        if (v.webhook_known) {
            video_metrics_head(b, "video_worker_webhook_due", "gauge",
                               "Pending webhook deliveries that are due "
                               "(to enabled endpoints).");
            video_metrics_add(b, "video_worker_webhook_due %ld\n",
                              v.webhook_due);

            video_metrics_head(b, "video_worker_webhook_lag_seconds",
                               "gauge",
                               "Seconds the oldest due pending webhook "
                               "delivery has been due (0 when none).");
            video_metrics_add(b, "video_worker_webhook_lag_seconds %.3f\n",
                              v.webhook_lag);
        }
    }

    if (v.queues_known) {
        video_metrics_head(b, "video_worker_amqp_queue_messages", "gauge",
                           "Messages ready in a RabbitMQ queue, as the "
                           "worker last saw them.");

        for (i = 0; i < VIDEO_METRICS_QUEUES; i++) {
            video_metrics_add(b, "video_worker_amqp_queue_messages"
                              "{queue=\"%s\"} %ld\n",
                              video_metrics_queue_names[i],
                              v.queue_messages[i]);
        }

        video_metrics_head(b, "video_worker_amqp_queue_consumers", "gauge",
                           "Consumers of a RabbitMQ queue, as the worker "
                           "last saw them.");

        for (i = 0; i < VIDEO_METRICS_QUEUES; i++) {
            video_metrics_add(b, "video_worker_amqp_queue_consumers"
                              "{queue=\"%s\"} %ld\n",
                              video_metrics_queue_names[i],
                              v.queue_consumers[i]);
        }
    }
}


/* -- the listener ---------------------------------------------------------- */

static int
video_metrics_send(int fd, const char *data, size_t len, double deadline)
{
    ssize_t        n;
    struct pollfd  p;

    while (len > 0) {
        n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            data += n;
            len -= n;
            continue;
        }

        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK
            && errno != EINTR)
        {
            return -1;
        }

        if (video_metrics_now() > deadline || video_metrics_quit) {
            return -1;
        }

        p.fd = fd;
        p.events = POLLOUT;
        (void) poll(&p, 1, 200);
    }

    return 0;
}


static void
video_metrics_answer(int fd, int status, const char *reason,
    const char *type, const char *extra, const char *body, size_t len,
    double deadline)
{
    char  head[512];
    int   n;

    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "Connection: close\r\n"
                 "\r\n", status, reason, type, len, extra);

    if (video_metrics_send(fd, head, n, deadline) == 0 && len > 0) {
        (void) video_metrics_send(fd, body, len, deadline);
    }
}


static void
video_metrics_error(int fd, int status, const char *reason,
    const char *extra, double deadline)
{
    char  body[128];
    int   n;

    n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

    video_metrics_answer(fd, status, reason, "text/plain; charset=utf-8",
                         extra, body, n, deadline);
}


/* reads the request's head, answers it */

static void
video_metrics_serve(int fd)
{
    char                 req[VIDEO_METRICS_REQUEST + 1];
    char                *sp, *target, *version;
    size_t               len, tlen;
    double               deadline;
    ssize_t              n;
    struct pollfd        p;
    video_metrics_buf_t  b;

    deadline = video_metrics_now() + VIDEO_METRICS_TIMEOUT;
    len = 0;

    for ( ;; ) {
        n = recv(fd, req + len, VIDEO_METRICS_REQUEST - len, MSG_DONTWAIT);

        if (n == 0) {
            return;
        }

        if (n > 0) {
            len += n;
            req[len] = '\0';

            if (strstr(req, "\r\n\r\n") != NULL
                || strstr(req, "\n\n") != NULL)
            {
                break;
            }

            if (len == VIDEO_METRICS_REQUEST) {
                video_metrics_error(fd, 431, "Request Header Fields Too "
                                    "Large", "", deadline);
                return;
            }

            continue;
        }

        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return;
        }

        if (video_metrics_now() > deadline || video_metrics_quit) {
            return;
        }

        p.fd = fd;
        p.events = POLLIN;
        (void) poll(&p, 1, 200);
    }

    /* the request line: "GET /metrics HTTP/1.1" */

    req[strcspn(req, "\r\n")] = '\0';

    sp = strchr(req, ' ');
    target = sp ? sp + 1 : NULL;
    sp = target ? strchr(target, ' ') : NULL;
    version = sp ? sp + 1 : NULL;

    if (target == NULL || version == NULL || target[0] != '/'
        || strncmp(version, "HTTP/1.", 7) != 0)
    {
        video_metrics_error(fd, 400, "Bad Request", "", deadline);
        return;
    }

    tlen = sp - target;

    if (!((tlen == 8 && strncmp(target, "/metrics", 8) == 0)
          || (tlen > 8 && strncmp(target, "/metrics?", 9) == 0)))
    {
        video_metrics_error(fd, 404, "Not Found", "", deadline);
        return;
    }

    if (strncmp(req, "GET ", 4) != 0) {
        video_metrics_error(fd, 405, "Method Not Allowed", "Allow: GET\r\n",
                            deadline);
        return;
    }

    memset(&b, 0, sizeof(b));
    b.size = 8192;
    b.data = malloc(b.size);

    if (b.data == NULL) {
        video_metrics_error(fd, 500, "Internal Server Error", "", deadline);
        return;
    }

    video_metrics_render(&b);

    if (b.failed) {
        video_metrics_error(fd, 500, "Internal Server Error", "", deadline);

    } else {
        video_metrics_answer(fd, 200, "OK",
                             "text/plain; version=0.0.4; charset=utf-8", "",
                             b.data, b.len, deadline);
    }

    free(b.data);
}


/*
 * the answer sent, what the client still sends is read and dropped for a
 * moment: closing with unread bytes would reset the connection, and the
 * client could lose the answer
 */

static void
video_metrics_close(int fd)
{
    char           buf[4096];
    size_t         total;
    double         deadline;
    ssize_t        n;
    struct pollfd  p;

    shutdown(fd, SHUT_WR);

    deadline = video_metrics_now() + 0.5;
    total = 0;

    while (total < 65536 && video_metrics_now() < deadline) {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            total += n;
            continue;
        }

        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK
                       && errno != EINTR))
        {
            break;
        }

        p.fd = fd;
        p.events = POLLIN;
        (void) poll(&p, 1, 100);
    }

    close(fd);
}


static void *
video_metrics_loop(void *data)
{
    int            fd;
    struct pollfd  p;

    (void) data;

    while (!video_metrics_quit) {
        p.fd = video_metrics_fd;
        p.events = POLLIN;

        if (poll(&p, 1, 200) <= 0) {
            continue;
        }

        fd = accept4(video_metrics_fd, NULL, NULL,
                     SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM)
            {
                usleep(100000);
            }

            continue;
        }

        video_metrics_serve(fd);
        video_metrics_close(fd);
    }

    return NULL;
}


/* "host", "host:port", "[v6]" or "[v6]:port" */

static int
video_metrics_address(const char *value, int port, char *host, size_t size,
    char *service, size_t ssize)
{
    long         n;
    char        *end;
    const char  *colon, *h;
    size_t       hlen;

    colon = NULL;

    if (value[0] == '[') {
        h = value + 1;
        end = strchr(h, ']');

        if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
            return -1;
        }

        hlen = end - h;
        colon = (end[1] == ':') ? end + 1 : NULL;

    } else {
        h = value;
        colon = strchr(value, ':');

        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            return -1;       /* a bare IPv6 address: brackets are needed */
        }

        hlen = colon ? (size_t) (colon - value) : strlen(value);
    }

    if (hlen == 0 || hlen >= size) {
        return -1;
    }

    memcpy(host, h, hlen);
    host[hlen] = '\0';

    if (colon != NULL) {
        errno = 0;
        n = strtol(colon + 1, &end, 10);

        if (errno || colon[1] < '0' || colon[1] > '9' || *end != '\0'
            || n < 1 || n > 65535)
        {
            return -1;
        }

        port = (int) n;
    }

    snprintf(service, ssize, "%d", port);

    return 0;
}


int
video_metrics_start(const char *role)
{
    int               fd, on, err, port;
    char              host[256], service[16];
    sigset_t          all, old;
    struct addrinfo   hints, *ai;

    video_metrics_role = role;
    video_metrics_started = video_metrics_wall();
    video_metrics_next = 0;

    if (strcmp(role, "relay") == 0) {
        port = VIDEO_METRICS_PORT_RELAY;
        video_metrics_outcome_mask = (1u << VIDEO_METRICS_OK)
                                     | (1u << VIDEO_METRICS_RETRIED);

    } else if (strcmp(role, "transcode") == 0) {
        port = VIDEO_METRICS_PORT_TRANSCODE;
        video_metrics_outcome_mask = (1u << VIDEO_METRICS_OUTCOMES) - 1;

    } else if (strcmp(role, "cleanup") == 0) {
        port = VIDEO_METRICS_PORT_CLEANUP;
        video_metrics_outcome_mask = (1u << VIDEO_METRICS_OK)
                                     | (1u << VIDEO_METRICS_RETRIED)
                                     | (1u << VIDEO_METRICS_DEAD)
                                     | (1u << VIDEO_METRICS_REQUEUED);

    } else if (strcmp(role, "webhook") == 0) {
        port = VIDEO_METRICS_PORT_WEBHOOK;
        video_metrics_outcome_mask = (1u << VIDEO_METRICS_OK)
                                     | (1u << VIDEO_METRICS_FAILED)
                                     | (1u << VIDEO_METRICS_RETRIED);

    } else {
        port = VIDEO_METRICS_PORT_ANALYTICS;
        video_metrics_outcome_mask = (1u << VIDEO_METRICS_OK)
                                     | (1u << VIDEO_METRICS_FAILED);
    }

    if (strcmp(video_worker_conf.metrics_listen, "off") == 0) {
        return 0;
    }

    if (video_metrics_address(video_worker_conf.metrics_listen, port, host,
                              sizeof(host), service, sizeof(service))
        != 0)
    {
        video_worker_log("invalid \"metrics_listen\" value \"%s\", expected "
                         "off, host, host:port or [ipv6]:port",
                         video_worker_conf.metrics_listen);
        return -1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    err = getaddrinfo(host, service, &hints, &ai);

    if (err != 0) {
        video_worker_log("metrics: cannot resolve \"%s\": %s; no metrics",
                         host, gai_strerror(err));
        return 0;
    }

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                ai->ai_protocol);

    if (fd < 0) {
        video_worker_log("metrics: socket(): %s; no metrics",
                         strerror(errno));
        freeaddrinfo(ai);
        return 0;
    }

    on = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));

    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {

        /* the jobs matter more than their figures: the worker goes on */

        video_worker_log("metrics: cannot listen on %s:%s: %s; no metrics",
                         host, service, strerror(errno));
        close(fd);
        freeaddrinfo(ai);
        return 0;
    }

    freeaddrinfo(ai);

    video_metrics_fd = fd;
    video_metrics_quit = 0;

    /* the thread takes no signal: they stop the role's loop */

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&video_metrics_thread, NULL, video_metrics_loop,
                         NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (err != 0) {
        video_worker_log("metrics: cannot start the listener: %s; "
                         "no metrics", strerror(err));
        close(fd);
        video_metrics_fd = -1;
        return 0;
    }

    video_metrics_running = 1;

    video_worker_log("metrics on http://%s%s%s:%s/metrics",
                     strchr(host, ':') ? "[" : "", host,
                     strchr(host, ':') ? "]" : "", service);

    return 0;
}


void
video_metrics_stop(void)
{
    if (video_metrics_running) {
        video_metrics_quit = 1;
        pthread_join(video_metrics_thread, NULL);
        video_metrics_running = 0;
    }

    if (video_metrics_fd != -1) {
        close(video_metrics_fd);
        video_metrics_fd = -1;
    }
}
