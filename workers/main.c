/*
 * video-worker: the entry point, configuration, logging and signals.
 * Each role is a subcommand: relay, transcode, cleanup, analytics,
 * webhook.
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "video_cache.h"
#include "video_envelope.h"
#include "video_hmac.h"
#include "video_id.h"
#include "video_time.h"


/* a number macro as the string a setting's default is written in */
#define VIDEO_WORKER_STR(x)   #x
#define VIDEO_WORKER_XSTR(x)  VIDEO_WORKER_STR(x)
#include "video_worker.h"


video_worker_conf_t     video_worker_conf;
volatile sig_atomic_t   video_worker_stop;

static const char      *video_worker_role = "worker";

/* what the lines are about: video_worker_log_job(), _video() */
static char             video_worker_log_job_id[64];
static char             video_worker_log_video_id[VIDEO_ID_LEN + 1];

static const char      *video_worker_log_levels[] = {
    "error", "warn", "info"
};


typedef struct {
    const char  *name;
    char        *value;
    size_t       size;
} video_worker_str_t;


static void
video_worker_usage(FILE *out)
{
    fprintf(out,
            "usage: video-worker <role> [--metrics-listen <host[:port]>]\n"
            "roles: relay      publish the outbox to RabbitMQ\n"
            "       transcode  turn uploads into HLS ladders\n"
            "       cleanup    remove a deleted video's objects, and\n"
            "                  those of uploads never completed\n"
            "       analytics [--once]\n"
            "                  roll the view counters up from Redis into\n"
            "                  PostgreSQL; --once: one rollup, exit 1 if it\n"
            "                  failed\n"
            "       webhook    deliver the signed webhook events to the\n"
            "                  accounts' endpoints\n"
            "       webhooks seal|reseal\n"
            "                  seal a secret read on stdin under\n"
            "                  webhook_key; seal every endpoint's secret\n"
            "                  again under webhook_key (key rotation)\n"
            "       ladder <input> <dir>\n"
            "                  transcode a local file as the transcoder\n"
            "                  does (copied to <dir>/original), into\n"
            "                  <dir>/out\n"
            "       sandbox <dir> -- <command> [arg...]\n"
            "                  run a command in the sandbox ffmpeg runs\n"
            "                  in, working in <dir>, writing only in\n"
            "                  <dir>/out\n"
            "       fetch-url [--allow CIDR]... [--max-bytes N] URL OUTFILE\n"
            "                  fetch a source URL as a job would (only\n"
            "                  public addresses, or allowed ones; no\n"
            "                  proxy); `video-worker fetch-url` for more\n"
            "       keys create|list|revoke ...\n"
            "       accounts create|set|list|disable|enable ...\n"
            "                  manage API keys and accounts (needs only\n"
            "                  PostgreSQL; `video-worker keys` for more)\n"
            "       version    print the version and exit\n"
            "settings: conf/worker.conf (VIDEO_WORKER_CONF names another\n"
            "file), each overridden by VIDEO_WORKER_<NAME>;\n"
            "--metrics-listen overrides metrics_listen (off, host, or\n"
            "host:port of the role's GET /metrics)\n");
}


static void
video_worker_vlog(int level, const char *fmt, va_list ap)
{
    char     now[VIDEO_TIME_ISO_LEN + 1], *line;
    char     msg[2048];
    json_t  *o;

    vsnprintf(msg, sizeof(msg), fmt, ap);

    video_time_iso8601(now, video_time_now_ms());

    if (!video_worker_conf.log_json) {
        fprintf(stderr, "%s %s[%d]: %s\n", now, video_worker_role,
                (int) getpid(), msg);
        return;
    }

    line = NULL;

    o = json_pack("{s:s, s:s, s:s, s:i, s:o*}", "time", now,
                  "level", video_worker_log_levels[level],
                  "role", video_worker_role, "pid", (int) getpid(),
                  "message", video_json_string_lossy(msg, strlen(msg)));

    if (o != NULL
        && (video_worker_log_job_id[0] == '\0'
            || json_object_set_new(o, "job_id",
                                   json_string(video_worker_log_job_id))
               == 0)
        && (video_worker_log_video_id[0] == '\0'
            || json_object_set_new(o, "video_id",
                                   json_string(video_worker_log_video_id))
               == 0))
    {
        line = json_dumps(o, JSON_COMPACT);
    }

    json_decref(o);

    if (line == NULL) {
        fprintf(stderr, "{\"time\":\"%s\",\"level\":\"error\","
                "\"message\":\"a log line was lost: out of memory\"}\n",
                now);
        return;
    }

    fprintf(stderr, "%s\n", line);
    free(line);
}


void
video_worker_log(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    video_worker_vlog(VIDEO_WORKER_LOG_INFO, fmt, ap);
    va_end(ap);
}


void
video_worker_log_at(int level, const char *fmt, ...)
{
    va_list  ap;

    if (level < VIDEO_WORKER_LOG_ERROR || level > VIDEO_WORKER_LOG_INFO) {
        level = VIDEO_WORKER_LOG_INFO;
    }

    va_start(ap, fmt);
    video_worker_vlog(level, fmt, ap);
    va_end(ap);
}


void
video_worker_log_job(const char *job_id, size_t len)
{
    size_t  i;

    /* an outbox row's id: digits; anything else is not written */

    video_worker_log_job_id[0] = '\0';

    if (job_id == NULL || len == 0
        || len >= sizeof(video_worker_log_job_id))
    {
        return;
    }

    for (i = 0; i < len; i++) {
        if (job_id[i] < '0' || job_id[i] > '9') {
            return;
        }
    }

    memcpy(video_worker_log_job_id, job_id, len);
    video_worker_log_job_id[len] = '\0';
}


void
video_worker_log_video(const char *video_id)
{
    if (video_id == NULL || !video_id_valid(video_id, strlen(video_id))) {
        video_worker_log_video_id[0] = '\0';
        return;
    }

    memcpy(video_worker_log_video_id, video_id, VIDEO_ID_LEN + 1);
}


void
video_worker_sleep(double seconds)
{
    struct timespec  ts;

    while (seconds > 0 && !video_worker_stop) {
        ts.tv_sec = 0;
        ts.tv_nsec = (seconds > 0.2 ? 0.2 : seconds) * 1e9;
        nanosleep(&ts, NULL);
        seconds -= 0.2;
    }
}


static void
video_worker_on_signal(int signo)
{
    (void) signo;
    video_worker_stop = 1;
}


/*
 * "5s 5m 30m 2h": the delays between a delivery's attempts; a number
 * alone is seconds
 */

static int
video_worker_set_backoff(const char *value)
{
    int                   n, d[VIDEO_WEBHOOK_BACKOFF_MAX];
    long                  v, unit;
    char                 *end;
    const char           *p;
    video_worker_conf_t  *c = &video_worker_conf;

    n = 0;
    p = value;

    if (strlen(value) >= sizeof(c->webhook_backoff_text)) {
        goto invalid;
    }

    for ( ;; ) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }

        if (*p == '\0') {
            break;
        }

        if (*p < '0' || *p > '9' || n == VIDEO_WEBHOOK_BACKOFF_MAX) {
            goto invalid;
        }

        errno = 0;
        v = strtol(p, &end, 10);

        switch (*end) {
        case 's':
            unit = 1;
            end++;
            break;
        case 'm':
            unit = 60;
            end++;
            break;
        case 'h':
            unit = 3600;
            end++;
            break;
        case 'd':
            unit = 86400;
            end++;
            break;
        default:
            unit = 1;
        }

        if (errno || v < 1 || v > 30L * 86400 / unit
            || (*end != '\0' && *end != ' ' && *end != '\t' && *end != ','))
        {
            goto invalid;
        }

        d[n++] = (int) (v * unit);
        p = end;
    }

    memcpy(c->webhook_backoff, d, n * sizeof(int));
    c->webhook_backoff_n = n;
    strcpy(c->webhook_backoff_text, value);

    return 0;

invalid:

    video_worker_log("invalid \"webhook_backoff\" value \"%s\", expected "
                     "up to %d delays such as \"5s 5m 2h 1d\" (each 1 s "
                     "to 30 days)", value, VIDEO_WEBHOOK_BACKOFF_MAX);

    return -1;
}


static int
video_worker_set(const char *name, const char *value)
{
    long                     n;
    char                    *end, err[256];
    size_t                   i;
    long long                ll;
    video_worker_conf_t     *c = &video_worker_conf;
    video_urlguard_allow_t   allow;

    video_worker_str_t  strs[] = {
        { "postgres", c->postgres, sizeof(c->postgres) },
        { "redis", c->redis, sizeof(c->redis) },
        { "amqp", c->amqp, sizeof(c->amqp) },
        { "storage_endpoint", c->storage_endpoint,
          sizeof(c->storage_endpoint) },
        { "storage_region", c->storage_region, sizeof(c->storage_region) },
        { "storage_access_key", c->storage_access_key,
          sizeof(c->storage_access_key) },
        { "storage_secret_key", c->storage_secret_key,
          sizeof(c->storage_secret_key) },
        { "bucket_raw", c->bucket_raw, sizeof(c->bucket_raw) },
        { "bucket_processed", c->bucket_processed,
          sizeof(c->bucket_processed) },
        { "bucket_thumbnails", c->bucket_thumbnails,
          sizeof(c->bucket_thumbnails) },
        { "public_url", c->public_url, sizeof(c->public_url) },
        { "work_dir", c->work_dir, sizeof(c->work_dir) },
        { "record_path", c->record_path, sizeof(c->record_path) },
        { "preset", c->preset, sizeof(c->preset) },
        { "media_user", c->media_user, sizeof(c->media_user) },
        { "metrics_listen", c->metrics_listen, sizeof(c->metrics_listen) },
        { "webhook_key", c->webhook_key, sizeof(c->webhook_key) },
        { "webhook_previous_key", c->webhook_previous_key,
          sizeof(c->webhook_previous_key) },
    };

    struct {
        const char  *name;
        int         *value;
        long         min, max;
    } ints[] = {
        { "segment_seconds", &c->segment_seconds, 4, 6 },
        { "encoder_threads", &c->encoder_threads, 0, 64 },
        { "chunk_seconds", &c->chunk_seconds, 0, 600 },
        { "chunk_first_seconds", &c->chunk_first_seconds, 1, 600 },
        { "chunk_ramp_seconds", &c->chunk_ramp_seconds, 0, 86400 },
        { "max_attempts", &c->max_attempts, 1, 100 },
        { "relay_poll_seconds", &c->relay_poll_seconds, 1, 3600 },
        { "analytics_interval", &c->analytics_interval, 1, 3600 },
        { "clock_offset", &c->clock_offset, -INT_MAX, INT_MAX },
        { "upload_sweep_seconds", &c->upload_sweep_seconds, 1, 86400 },
        { "upload_grace", &c->upload_grace, 0, 30 * 86400 },
        { "media_cpu_seconds", &c->media_cpu_seconds, 0, 604800 },
        { "media_memory_mb", &c->media_memory_mb, 0, 1048576 },
        { "media_file_mb", &c->media_file_mb, 0, 1048576 },
        { "cache_ttl", &c->cache_ttl, 1000, 86400000 },
        { "metrics_interval", &c->metrics_interval, 1, 3600 },
        { "fetch_timeout", &c->fetch_timeout, 1, 604800 },
        { "fetch_connect_timeout", &c->fetch_connect_timeout, 1, 600 },
        { "fetch_low_speed_limit", &c->fetch_low_speed_limit, 0,
          1000000000 },
        { "fetch_low_speed_time", &c->fetch_low_speed_time, 0, 86400 },
        { "fetch_max_redirects", &c->fetch_max_redirects, 0, 20 },
        { "webhook_timeout", &c->webhook_timeout, 1, 600 },
        { "webhook_connect_timeout", &c->webhook_connect_timeout, 1, 600 },
        { "webhook_jitter", &c->webhook_jitter, 0, 100 },
        { "webhook_disable_after", &c->webhook_disable_after, 0, 100000 },
        { "webhook_concurrency", &c->webhook_concurrency, 1, 4096 },
        { "webhook_per_endpoint", &c->webhook_per_endpoint, 1, 4096 },
        { "webhook_poll_seconds", &c->webhook_poll_seconds, 1, 3600 },
        { "webhook_retention_days", &c->webhook_retention_days, 1, 36500 },
    };

    if (strcmp(name, "log_format") == 0) {
        if (strcmp(value, "json") != 0 && strcmp(value, "text") != 0) {
            video_worker_log("invalid \"log_format\" value \"%s\", "
                             "expected json or text", value);
            return -1;
        }

        c->log_json = (strcmp(value, "json") == 0);
        return 0;
    }

    if (strcmp(name, "fetch_allow") == 0) {
        memset(&allow, 0, sizeof(allow));

        if (strlen(value) >= sizeof(c->fetch_allow)
            || video_urlguard_allow_parse(&allow, value, strlen(value), err,
                                          sizeof(err))
               != 0)
        {
            video_worker_log("invalid \"fetch_allow\" value: %s",
                             strlen(value) >= sizeof(c->fetch_allow)
                             ? "too long" : err);
            return -1;
        }

        strcpy(c->fetch_allow, value);
        c->fetch_allow_list = allow;
        return 0;
    }

    if (strcmp(name, "webhook_allow") == 0) {
        memset(&allow, 0, sizeof(allow));

        if (strlen(value) >= sizeof(c->webhook_allow)
            || video_urlguard_allow_parse(&allow, value, strlen(value), err,
                                          sizeof(err))
               != 0)
        {
            video_worker_log("invalid \"webhook_allow\" value: %s",
                             strlen(value) >= sizeof(c->webhook_allow)
                             ? "too long" : err);
            return -1;
        }

        strcpy(c->webhook_allow, value);
        c->webhook_allow_list = allow;
        return 0;
    }

    if (strcmp(name, "webhook_allow_http") == 0) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
            video_worker_log("invalid \"webhook_allow_http\" value \"%s\", "
                             "expected on or off", value);
            return -1;
        }

        c->webhook_allow_http = (strcmp(value, "on") == 0);
        return 0;
    }

    if (strcmp(name, "webhook_backoff") == 0) {
        return video_worker_set_backoff(value);
    }

    if (strcmp(name, "fetch_max_bytes") == 0) {
        errno = 0;
        ll = strtoll(value, &end, 10);

        if (errno || *value == '\0' || *end != '\0' || ll < 1
            || ll > INT64_MAX / 2)
        {
            video_worker_log("invalid \"fetch_max_bytes\" value \"%s\", "
                             "expected 1..%lld", value,
                             (long long) (INT64_MAX / 2));
            return -1;
        }

        c->fetch_max_bytes = ll;
        return 0;
    }

    if (strcmp(name, "media_sandbox") == 0) {
        if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
            video_worker_log("invalid \"media_sandbox\" value \"%s\", "
                             "expected on or off", value);
            return -1;
        }

        c->media_sandbox = (strcmp(value, "on") == 0);
        return 0;
    }

    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strcmp(name, strs[i].name) == 0) {
            if (strlen(value) >= strs[i].size) {
                video_worker_log("setting \"%s\" is too long", name);
                return -1;
            }

            strcpy(strs[i].value, value);
            return 0;
        }
    }

    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (strcmp(name, ints[i].name) == 0) {
            errno = 0;
            n = strtol(value, &end, 10);

            if (errno || *value == '\0' || *end != '\0' || n < ints[i].min
                || n > ints[i].max)
            {
                video_worker_log("invalid \"%s\" value \"%s\", expected "
                                 "%ld..%ld", name, value, ints[i].min,
                                 ints[i].max);
                return -1;
            }

            *ints[i].value = (int) n;
            return 0;
        }
    }

    video_worker_log("unknown setting \"%s\"", name);

    return -1;
}


static char *
video_worker_trim(char *s)
{
    char  *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }

    e = s + strlen(s);

    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'
                     || e[-1] == '\r'))
    {
        *--e = '\0';
    }

    return s;
}


int
video_worker_conf_load(const char *path)
{
    int          line, rc;
    char         buf[2048], env[128], *p, *eq, *name;
    FILE        *f;
    size_t       i;

    static const char  *names[] = {
        "postgres", "redis", "amqp", "storage_endpoint", "storage_region",
        "storage_access_key", "storage_secret_key", "bucket_raw",
        "bucket_processed", "bucket_thumbnails", "public_url", "work_dir",
        "record_path", "preset", "segment_seconds", "encoder_threads",
        "chunk_seconds", "chunk_first_seconds", "chunk_ramp_seconds",
        "max_attempts", "relay_poll_seconds", "analytics_interval",
        "clock_offset", "upload_sweep_seconds", "upload_grace",
        "media_sandbox", "media_user", "media_cpu_seconds",
        "media_memory_mb", "media_file_mb", "cache_ttl", "log_format",
        "metrics_listen", "metrics_interval", "fetch_allow",
        "fetch_max_bytes", "fetch_timeout", "fetch_connect_timeout",
        "fetch_low_speed_limit", "fetch_low_speed_time",
        "fetch_max_redirects", "webhook_key", "webhook_previous_key",
        "webhook_allow", "webhook_allow_http", "webhook_timeout",
        "webhook_connect_timeout", "webhook_backoff", "webhook_jitter",
        "webhook_disable_after", "webhook_concurrency",
        "webhook_per_endpoint", "webhook_poll_seconds",
        "webhook_retention_days", NULL
    };

    /* defaults: the stack `make run` starts */

    rc = video_worker_set("postgres", "host=127.0.0.1 port=5433 dbname=video "
                          "user=video password=video")
         | video_worker_set("redis", "127.0.0.1:6380")
         | video_worker_set("amqp", "amqp://video:video@127.0.0.1:5673/")
         | video_worker_set("storage_endpoint", "http://127.0.0.1:9000")
         | video_worker_set("storage_region", "us-east-1")
         | video_worker_set("storage_access_key", "")
         | video_worker_set("storage_secret_key", "")
         | video_worker_set("bucket_raw", "videos-raw")
         | video_worker_set("bucket_processed", "videos-processed")
         | video_worker_set("bucket_thumbnails", "thumbnails")
         | video_worker_set("public_url", "")
         | video_worker_set("work_dir", ".run/work")
         | video_worker_set("record_path", ".run/live-rec")
         | video_worker_set("preset", "veryfast")
         | video_worker_set("segment_seconds", "4")
         | video_worker_set("encoder_threads", "0")
         | video_worker_set("chunk_seconds", "4")
         | video_worker_set("chunk_first_seconds", "1")
         | video_worker_set("chunk_ramp_seconds", "60")
         | video_worker_set("max_attempts", "5")
         | video_worker_set("relay_poll_seconds", "5")
         | video_worker_set("analytics_interval", "10")
         | video_worker_set("clock_offset", "0")
         | video_worker_set("upload_sweep_seconds", "60")
         | video_worker_set("upload_grace", "3600")
         | video_worker_set("media_sandbox", "on")
         | video_worker_set("media_user", "video-media")
         | video_worker_set("media_cpu_seconds", "21600")
         | video_worker_set("media_memory_mb", "4096")
         | video_worker_set("media_file_mb", "256")
         | video_worker_set("cache_ttl", VIDEO_WORKER_XSTR(VIDEO_CACHE_TTL_MS))
         | video_worker_set("log_format", "text")
         | video_worker_set("metrics_listen", "127.0.0.1")
         | video_worker_set("metrics_interval", "5")
         | video_worker_set("fetch_allow", "")
         | video_worker_set("fetch_max_bytes", "53687091200")
         | video_worker_set("fetch_timeout", "3600")
         | video_worker_set("fetch_connect_timeout", "10")
         | video_worker_set("fetch_low_speed_limit", "1024")
         | video_worker_set("fetch_low_speed_time", "60")
         | video_worker_set("fetch_max_redirects", "5")
         | video_worker_set("webhook_key", "")
         | video_worker_set("webhook_previous_key", "")
         | video_worker_set("webhook_allow", "")
         | video_worker_set("webhook_allow_http", "off")
         | video_worker_set("webhook_timeout", "10")
         | video_worker_set("webhook_connect_timeout", "5")
         | video_worker_set("webhook_backoff", "5s 5m 30m 2h 5h 10h 10h")
         | video_worker_set("webhook_jitter", "20")
         | video_worker_set("webhook_disable_after", "5")
         | video_worker_set("webhook_concurrency", "64")
         | video_worker_set("webhook_per_endpoint", "4")
         | video_worker_set("webhook_poll_seconds", "5")
         | video_worker_set("webhook_retention_days", "30");

    if (rc != 0) {
        return -1;
    }

    f = fopen(path, "r");

    if (f == NULL && errno != ENOENT) {
        video_worker_log("cannot open \"%s\": %s", path, strerror(errno));
        return -1;
    }

    for (line = 1; f != NULL && fgets(buf, sizeof(buf), f) != NULL; line++) {
        p = video_worker_trim(buf);

        if (*p == '\0' || *p == '#') {
            continue;
        }

        eq = strchr(p, '=');
        if (eq == NULL) {
            video_worker_log("%s:%d: expected name = value", path, line);
            fclose(f);
            return -1;
        }

        *eq = '\0';
        name = video_worker_trim(p);

        if (video_worker_set(name, video_worker_trim(eq + 1)) != 0) {
            video_worker_log("%s:%d: the setting above is wrong", path, line);
            fclose(f);
            return -1;
        }
    }

    if (f != NULL) {
        fclose(f);
    }

    for (i = 0; names[i] != NULL; i++) {
        snprintf(env, sizeof(env), "VIDEO_WORKER_%s", names[i]);

        for (p = env; *p; p++) {
            *p = (*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p;
        }

        p = getenv(env);

        if (p != NULL && video_worker_set(names[i], p) != 0) {
            video_worker_log("in the environment variable %s", env);
            return -1;
        }
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int                rc, ladder, once, sandbox, cmd, admin, fetch;
    const char        *conf, *listen;
    struct sigaction   sa;

    ladder = (argc == 4 && strcmp(argv[1], "ladder") == 0);
    once = (argc == 3 && strcmp(argv[1], "analytics") == 0
            && strcmp(argv[2], "--once") == 0);

    /* sandbox <dir> [--] <command> [arg...] */

    sandbox = (argc >= 4 && strcmp(argv[1], "sandbox") == 0);
    cmd = (sandbox && strcmp(argv[3], "--") == 0) ? 4 : 3;

    if (sandbox && cmd >= argc) {
        sandbox = 0;
    }

    admin = (argc >= 3 && (strcmp(argv[1], "keys") == 0
                           || strcmp(argv[1], "accounts") == 0
                           || strcmp(argv[1], "webhooks") == 0));

    fetch = (argc >= 2 && strcmp(argv[1], "fetch-url") == 0);

    /* <role> --metrics-listen <address> */

    listen = NULL;

    if (argc == 4 && strcmp(argv[2], "--metrics-listen") == 0
        && (strcmp(argv[1], "relay") == 0
            || strcmp(argv[1], "transcode") == 0
            || strcmp(argv[1], "cleanup") == 0
            || strcmp(argv[1], "analytics") == 0
            || strcmp(argv[1], "webhook") == 0))
    {
        listen = argv[3];
        argc = 2;
    }

    if (argc != 2 && !ladder && !once && !sandbox && !admin && !fetch) {
        video_worker_usage(stderr);
        return 2;
    }

    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        video_worker_usage(stdout);
        return 0;
    }

    if (strcmp(argv[1], "version") == 0) {
        printf("video-worker " VIDEO_WORKER_VERSION "\n");
        return 0;
    }

    if (!ladder && !sandbox && !admin && !fetch
        && strcmp(argv[1], "relay") != 0
        && strcmp(argv[1], "transcode") != 0
        && strcmp(argv[1], "cleanup") != 0
        && strcmp(argv[1], "analytics") != 0
        && strcmp(argv[1], "webhook") != 0)
    {
        fprintf(stderr, "video-worker: unknown role \"%s\"\n", argv[1]);
        video_worker_usage(stderr);
        return 2;
    }

    video_worker_role = argv[1];

    conf = getenv("VIDEO_WORKER_CONF");

    if (video_worker_conf_load(conf ? conf : "conf/worker.conf") != 0) {
        return 1;
    }

    if (listen != NULL && video_worker_set("metrics_listen", listen) != 0) {
        return 1;
    }

    if (ladder) {
        return video_worker_ladder(argv[2], argv[3]);
    }

    if (sandbox) {
        return video_worker_sandbox(argv[2], argv + cmd);
    }

    if (admin) {
        rc = video_worker_admin(argc, argv);
        video_hmac_release();
        return rc;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = video_worker_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (fetch) {
        return video_worker_fetch_url(argc, argv);
    }

    /*
     * the roles that sign storage requests need the installation's keys:
     * conf/worker.conf holds placeholders that `make run` fills in its
     * copy, and a placeholder would only ever get 403s
     */

    if ((strcmp(argv[1], "transcode") == 0 || strcmp(argv[1], "cleanup") == 0)
        && (video_worker_conf.storage_secret_key[0] == '\0'
            || video_worker_conf.storage_secret_key[0] == '@'
            || video_worker_conf.storage_access_key[0] == '@'))
    {
        video_worker_log("storage_access_key and storage_secret_key are not "
                         "set (conf/worker.conf holds placeholders: use the "
                         "copy make run renders, .run/workers/worker.conf, "
                         "or set VIDEO_WORKER_STORAGE_SECRET_KEY)");
        return 1;
    }

    video_worker_log("starting (video-worker " VIDEO_WORKER_VERSION ")");

    /* "analytics --once" runs one rollup: nothing to scrape */

    if (!once && video_metrics_start(argv[1]) != 0) {
        return 1;
    }

    if (strcmp(argv[1], "relay") == 0) {
        rc = video_worker_relay();

    } else if (strcmp(argv[1], "transcode") == 0) {
        rc = video_worker_transcode();

    } else if (strcmp(argv[1], "analytics") == 0) {
        rc = video_worker_analytics(once);

    } else if (strcmp(argv[1], "webhook") == 0) {
        rc = video_worker_webhook();

    } else {
        rc = video_worker_cleanup();
    }

    video_metrics_stop();
    video_worker_log("stopped");
    video_hmac_release();

    return rc;
}
