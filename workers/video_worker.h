/*
 * video-worker: the processes for slow work outside nginx (relay,
 * transcode, cleanup, analytics, webhook).  They may block: each does one
 * thing at a time, but for the webhook role's deliveries, sent together.
 */

#ifndef _VIDEO_WORKER_H_INCLUDED_
#define _VIDEO_WORKER_H_INCLUDED_


#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <amqp.h>
#include <libpq-fe.h>

#include "video_urlguard.h"


#define VIDEO_WORKER_VERSION  "0.1.0"

#define VIDEO_QUEUE_TRANSCODE  "video-transcode"
#define VIDEO_QUEUE_CLEANUP    "video-cleanup"
#define VIDEO_QUEUE_CHUNK      "video-chunk"
#define VIDEO_CHUNK_PRIORITY   9      /* x-max-priority of the chunk queue */
#define VIDEO_DLX              "video-dlx"

/* seconds of the AMQP heartbeat the workers ask for */
#define VIDEO_WORKER_HEARTBEAT  30

#define VIDEO_WEBHOOK_BACKOFF_MAX  32


typedef struct {
    char   postgres[1024];
    char   redis[256];            /* host:port */
    char   amqp[512];             /* amqp://user:pass@host:port/vhost */
    char   storage_endpoint[256];
    char   storage_region[64];
    char   storage_access_key[256];
    char   storage_secret_key[256];
    char   bucket_raw[64];
    char   bucket_processed[64];
    char   bucket_thumbnails[64];
    char   public_url[256];       /* play URLs in cached video objects */
    char   work_dir[512];
    char   record_path[512];      /* where nginx-rtmp writes recordings */
    char   preset[32];
    int    segment_seconds;
    int    encoder_threads;       /* per rung encoder; 0: one per core */
    int    chunk_seconds;         /* pieces of a chunked transcode; 0: one
                                     run for the whole video */
    int    chunk_first_seconds;   /* its first piece */
    int    chunk_ramp_seconds;    /* pieces 2 * chunk_first_seconds long
                                     up to this far into a video */
    int    max_attempts;          /* of a job that fails transiently */
    int    relay_poll_seconds;
    int    analytics_interval;    /* seconds between view rollups */
    int    clock_offset;          /* seconds added to the clock (tests) */
    int    upload_sweep_seconds;  /* between sweeps of abandoned uploads */
    int    upload_grace;          /* seconds an expired upload URL is kept */
    int    media_sandbox;         /* ffprobe and ffmpeg sandboxed (1) */
    char   media_user[64];        /* their user when the worker is root */
    int    media_cpu_seconds;     /* limits of each run; 0: none */
    int    media_memory_mb;
    int    media_file_mb;
    int    cache_ttl;             /* ms a cached video lives in Redis */
    int    log_json;              /* log_format = json (1) or text */
    char   metrics_listen[256];   /* "off", host[:port] of GET /metrics */
    int    metrics_interval;      /* seconds between refreshes of what
                                     the metrics read from services */
    char   fetch_allow[1024];     /* CIDRs a source URL may reach though
                                     not public (worker_fetch.c) */
    int    fetch_timeout;         /* s, a whole fetch */
    int    fetch_connect_timeout; /* s, a connection */
    int    fetch_low_speed_limit; /* bytes/s under which, for */
    int    fetch_low_speed_time;  /* this many s, a fetch fails */
    int    fetch_max_redirects;
    int64_t                 fetch_max_bytes;
    video_urlguard_allow_t  fetch_allow_list;   /* fetch_allow, parsed */

    /* webhook deliveries (worker_webhook*.c) */
    char   webhook_key[256];      /* the installation's: seals secrets */
    char   webhook_previous_key[256];  /* the one before; "" none */
    char   webhook_allow[1024];   /* CIDRs reached though not public */
    video_urlguard_allow_t  webhook_allow_list;
    int    webhook_allow_http;    /* http:// endpoints delivered to (1) */
    int    webhook_timeout;       /* s, an attempt, connection included */
    int    webhook_connect_timeout;
    char   webhook_backoff_text[256];
    int    webhook_backoff[VIDEO_WEBHOOK_BACKOFF_MAX];  /* s between */
    int    webhook_backoff_n;     /* attempts: webhook_backoff_n + 1 */
    int    webhook_jitter;        /* % either way of each delay */
    int    webhook_disable_after; /* deliveries failed for good in a row
                                     that disable an endpoint; 0 never */
    int    webhook_concurrency;   /* attempts in flight in a process */
    int    webhook_per_endpoint;  /* ... and to one endpoint */
    int    webhook_poll_seconds;
    int    webhook_retention_days;
} video_worker_conf_t;


extern video_worker_conf_t     video_worker_conf;
extern volatile sig_atomic_t   video_worker_stop;


/*
 * log lines on stderr: time, role, message; with log_format = json, one
 * JSON object a line with the level, and the job and video the process
 * works on when it works on one.  video_worker_log is at level info.
 */
#define VIDEO_WORKER_LOG_ERROR  0
#define VIDEO_WORKER_LOG_WARN   1
#define VIDEO_WORKER_LOG_INFO   2

void video_worker_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void video_worker_log_at(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* the job (AMQP message id, len bytes) and video the next lines are of */
void video_worker_log_job(const char *job_id, size_t len);
void video_worker_log_video(const char *video_id);

/* conf/worker.conf (or $VIDEO_WORKER_CONF), then VIDEO_WORKER_* */
int video_worker_conf_load(const char *path);

/* sleeps up to seconds, returning early when asked to stop */
void video_worker_sleep(double seconds);


/* PostgreSQL: a connection, retried with backoff until up or stopped */
PGconn *video_worker_pg_connect(void);
/* runs sql with params; NULL (and logs) on failure */
PGresult *video_worker_pg(PGconn *pg, const char *sql, int n,
    const char *const *values, ExecStatusType expect);


/*
 * Redis: connects (2 s at most) to the configured server with a command
 * timeout in seconds; NULL with the reason in err on failure
 */
struct redisContext *video_worker_redis_connect(int timeout, char *err,
    size_t len);


/* RabbitMQ */
typedef struct {
    amqp_connection_state_t  conn;
    int                      up;
    char                     error[256];   /* why connecting failed */
} video_worker_amqp_t;

/* connects, opens channel 1 and declares the queues; 0, or -1 with
   a->error set */
int video_worker_amqp_connect(video_worker_amqp_t *a);
void video_worker_amqp_close(video_worker_amqp_t *a);

/* what a consumer does with a message */
#define VIDEO_ACK      0
#define VIDEO_REQUEUE  1
#define VIDEO_DEAD     2     /* rejected: dead-lettered */

typedef int (*video_worker_consumer_pt)(amqp_envelope_t *env);

/*
 * Consumes queue one message at a time (prefetch 1, manual acks) until
 * asked to stop, reconnecting with backoff; handler says what to do with
 * each message
 */
int video_worker_consume(const char *queue, video_worker_consumer_pt handler);

/*
 * The same over several queues of one channel, one message at a time
 * across all of them (a channel-wide prefetch of 1)
 */
int video_worker_consume_queues(const char *const *queues, int n,
    video_worker_consumer_pt handler);
/* a readable message for a failed rpc reply */
const char *video_worker_amqp_error(amqp_rpc_reply_t r);


/*
 * storage through presigned URLs (SigV4, src/lib).  get: 0, 404, 412 when
 * etag (unquoted; NULL or "": any) is not the object's ETag (If-Match),
 * or -1
 */
int video_worker_storage_get(const char *bucket, const char *key,
    const char *etag, const char *path, char *err, size_t err_size);
int video_worker_storage_put(const char *bucket, const char *key,
    const char *path, const char *content_type, char *err, size_t err_size);
/* the same from an open file (read from its current offset) */
int video_worker_storage_put_fd(const char *bucket, const char *key, int fd,
    const char *content_type, char *err, size_t err_size);
/* 0 also when the object is not there */
int video_worker_storage_delete(const char *bucket, const char *key,
    char *err, size_t err_size);
/* AbortMultipartUpload; 0 also when storage has no such upload */
int video_worker_storage_abort(const char *bucket, const char *key,
    const char *upload_id, char *err, size_t err_size);
/* an object's bytes into a malloc()ed, NUL-terminated buffer; 404: NULL
   with *status 404 */
char *video_worker_storage_read(const char *bucket, const char *key,
    size_t max, long *status, char *err, size_t err_size);

/* a key listed: 0, or -1 with err set to stop the listing */
typedef int (*video_worker_key_pt)(const char *bucket, const char *key,
    void *data, char *err, size_t err_size);

#define VIDEO_WORKER_LIST_REFUSED  1

/*
 * ListObjectsV2: every key under prefix, page by page (1000 a page,
 * continuation tokens), each handed to handler as a NUL-terminated
 * string; a page is read whole before its keys are handed on, so the
 * handler may delete them.  0 when all were; VIDEO_WORKER_LIST_REFUSED
 * (err set) when storage refuses to list at all (HTTP 400, 403, 405 or
 * 501 for the first page: a store without listing, or keys not allowed
 * to list); -1 on any other failure, an answer that is not a listing,
 * or one naming a key outside prefix (none of that page is handed on).
 */
int video_worker_storage_list(const char *bucket, const char *prefix,
    video_worker_key_pt handler, void *data, char *err, size_t err_size);


/*
 * The media sandbox (worker_sandbox*.c) that ffprobe and ffmpeg run in:
 * namespaces, their own user, Landlock, seccomp, limits.
 */
typedef struct {
    pid_t   pid;              /* the sandbox's init process */
    int     report;           /* its report pipe */
    long    cpu_ms;           /* the command's, once it ended */
    long    vm_kb;            /* its peak address space (0: unknown) */
} video_sandbox_t;

#define VIDEO_SANDBOX_OK      0
#define VIDEO_SANDBOX_FAILED  1   /* the command failed (stderr says why;
                                     why: a signal that killed it) */
#define VIDEO_SANDBOX_LIMIT   2   /* it exceeded a limit, why names it */
#define VIDEO_SANDBOX_ERROR   3   /* no sandbox, or the command did not
                                     run: why */

/* what the sandbox is made of, or (-1) why none can be made */
int video_sandbox_check(char *summary, size_t size);
/*
 * dir/out made the command's (the only place it may write), dir and
 * dir/original readable by it; 0, or -1 with err
 */
int video_sandbox_prepare(const char *dir, char *err, size_t size);
/*
 * Starts argv in the sandbox, working in dir (relative paths in argv are
 * from there); stdin /dev/null, stdout to out_fd, stderr to err_fd.  0,
 * or -1 with err.
 */
int video_sandbox_start(video_sandbox_t *sb, const char *dir,
    char *const *argv, int out_fd, int err_fd, char *err, size_t size);
/* SIGTERM: the command is asked to stop; SIGKILL: the sandbox ends */
void video_sandbox_kill(video_sandbox_t *sb, int signo);
/*
 * Waits for the end: VIDEO_SANDBOX_*, the command's wait status in
 * *status; errlog (its stderr, may be NULL) tells an allocation failure
 */
int video_sandbox_wait(video_sandbox_t *sb, const char *errlog, int *status,
    char *why, size_t size);
/*
 * An output the command left, "dir/out/<rel>", opened for reading without
 * following links, a regular file with no other name; -1 with err
 */
int video_sandbox_open(const char *dir, const char *rel, char *err,
    size_t size);
/* writes "dir/out/<rel>" (rel: a plain name) anew, never through a link */
int video_sandbox_write(const char *dir, const char *rel, const char *data,
    size_t len, char *err, size_t size);


/*
 * Metrics (worker_metrics.c): Prometheus's text format on GET /metrics,
 * served by a thread; the role's loop records its jobs and refreshes what
 * it reads from PostgreSQL and RabbitMQ when video_metrics_due() says so
 */
#define VIDEO_METRICS_PORT_RELAY      9471
#define VIDEO_METRICS_PORT_TRANSCODE  9472
#define VIDEO_METRICS_PORT_CLEANUP    9473
#define VIDEO_METRICS_PORT_ANALYTICS  9474
#define VIDEO_METRICS_PORT_WEBHOOK    9475

/* the outcomes of a job */
#define VIDEO_METRICS_OK        0   /* done */
#define VIDEO_METRICS_FAILED    1   /* the video is FAILED, no retry */
#define VIDEO_METRICS_RETRIED   2   /* an attempt failed, retried */
#define VIDEO_METRICS_DEAD      3   /* dead-lettered */
#define VIDEO_METRICS_REQUEUED  4   /* back to the queue (a stop) */
#define VIDEO_METRICS_OUTCOMES  5

/* the queues whose depths are shown, in this order */
#define VIDEO_METRICS_QUEUES    6
extern const char  *video_metrics_queue_names[VIDEO_METRICS_QUEUES];

/* -1 when metrics_listen is invalid; a listener that cannot be had is
   logged, and the worker goes on without it */
int video_metrics_start(const char *role);
void video_metrics_stop(void);
/* monotonic seconds */
double video_metrics_now(void);
/* n jobs (rows for the relay) of an outcome; seconds < 0: no duration */
void video_metrics_job(int outcome, uint64_t n, double seconds);
/* a ladder encode: seconds of video, seconds it took */
void video_metrics_realtime(double media, double wall);
void video_metrics_outbox(long rows, double oldest_age);
/* a rollup succeeded now */
void video_metrics_rollup(void);
void video_metrics_queues(const long *messages, const long *consumers);
/* 1 once every metrics_interval seconds (the first call too) */
int video_metrics_due(void);
/* seconds until video_metrics_due() says 1 */
double video_metrics_until_due(void);
/* webhook deliveries: an attempt's outcome and its seconds */
#define VIDEO_METRICS_WH_DELIVERED  0
#define VIDEO_METRICS_WH_ATTEMPT    1   /* failed, tried again later */
#define VIDEO_METRICS_WH_FAILED     2   /* failed for good */
#define VIDEO_METRICS_WH_OUTCOMES   3
void video_metrics_webhook(int outcome, double seconds);
/* pending deliveries due, the age of the oldest due one (s) */
void video_metrics_webhook_lag(long due, double lag);
void video_metrics_webhook_in_flight(int n);
/* the queues' depths through a's channel (passive declares); -1 when
   the channel failed */
int video_worker_amqp_depths(video_worker_amqp_t *a);


/* the roles */
int video_worker_relay(void);
int video_worker_transcode(void);
int video_worker_cleanup(void);
/* once: one rollup, then 0 when it succeeded, 1 when it did not */
int video_worker_analytics(int once);
int video_worker_webhook(void);
int video_worker_ladder(const char *input, const char *dir);
/* "sandbox <dir> -- <command>...": the command in the media sandbox */
int video_worker_sandbox(const char *dir, char **argv);
int video_worker_admin(int argc, char **argv);
/* "webhooks seal|reseal" (worker_admin_webhooks.c) */
int video_admin_webhooks(int argc, char **argv);
/* "fetch-url [options] URL OUTFILE": the guarded fetch (worker_fetch.h) */
int video_worker_fetch_url(int argc, char **argv);


#endif /* _VIDEO_WORKER_H_INCLUDED_ */
