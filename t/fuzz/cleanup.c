/*
 * The playlists the cleanup worker walks to find a deleted video's HLS
 * objects (workers/worker_cleanup.c, linked in as it is, with storage
 * and the queue replaced): one cleanup job for the processed prefix,
 * storage that refuses to list it (a store without ListObjectsV2, so
 * the playlists are walked) and answers the worker's reads, in order,
 * with the input's NUL-separated parts (the master playlist first, then
 * the rungs' and the audio's), 404 once they run out.  Whatever the
 * playlists say, every object read or deleted is under the video's
 * prefix with no ".." segment, and the job ends acknowledged or
 * dead-lettered.
 */

#include <amqp.h>
#include <curl/curl.h>
#include <jansson.h>

#include "fuzz.h"
#include "video_id.h"
#include "video_worker.h"


#define CLEANUP_ID      "V1StGXR8_Z5jdHi6B-myT"
#define CLEANUP_BUCKET  "videos-processed"

#define CLEANUP_JOB                                                           \
    "{\"type\" : \"cleanup\", \"videoId\" : \"" CLEANUP_ID "\", "             \
    "\"objects\" : [{\"bucket\" : \"" CLEANUP_BUCKET "\", \"prefix\" : \""    \
    CLEANUP_ID "/\"}]}"


video_worker_conf_t     video_worker_conf;
volatile sig_atomic_t   video_worker_stop;


static const uint8_t  *cleanup_data;
static size_t          cleanup_size;
static size_t          cleanup_at;      /* where the next read starts */
static size_t          cleanup_ops;


/*
 * Under "<id>/" and without a ".." segment, or the walk could reach
 * another video's objects: that is what this harness holds the worker
 * to.  Returns whether the local store would serve the key: it refuses
 * empty and "." segments (src/ngx's store gate), so the worker hears an
 * error for those, as it would there.
 */

static int
cleanup_key_check(const char *bucket, const char *key)
{
    int          served;
    const char  *p, *seg;

    fuzz_assert(strcmp(bucket, CLEANUP_BUCKET) == 0);
    fuzz_assert(strncmp(key, CLEANUP_ID "/", VIDEO_ID_LEN + 1) == 0);

    served = 1;

    for (p = key + VIDEO_ID_LEN + 1; ; p++) {
        seg = p;

        while (*p != '\0' && *p != '/') {
            p++;
        }

        fuzz_assert(!(p - seg == 2 && seg[0] == '.' && seg[1] == '.'));

        if (p == seg || (p - seg == 1 && seg[0] == '.')) {
            served = 0;
        }

        if (*p == '\0') {
            break;
        }
    }

    cleanup_ops++;

    return served;
}


char *
video_worker_storage_read(const char *bucket, const char *key, size_t max,
    long *status, char *err, size_t err_size)
{
    char           *text;
    size_t          n;
    const uint8_t  *end;

    if (!cleanup_key_check(bucket, key)) {
        *status = 403;
        snprintf(err, err_size, "AccessDenied");
        return NULL;
    }

    if (cleanup_at > cleanup_size) {
        *status = 404;
        snprintf(err, err_size, "not found");
        return NULL;
    }

    end = memchr(cleanup_data + cleanup_at, '\0', cleanup_size - cleanup_at);
    n = (end != NULL ? (size_t) (end - cleanup_data) : cleanup_size)
        - cleanup_at;

    if (n > max) {
        n = max;
    }

    text = fuzz_strndup((const char *) cleanup_data + cleanup_at, n);
    cleanup_at += n + 1;

    if (text == NULL) {
        *status = 0;
        snprintf(err, err_size, "out of memory");
    }

    return text;
}


int
video_worker_storage_delete(const char *bucket, const char *key, char *err,
    size_t err_size)
{
    if (!cleanup_key_check(bucket, key)) {
        snprintf(err, err_size, "AccessDenied");
        return -1;
    }

    return 0;
}


/* a store without ListObjectsV2 (501): the walk is what is fuzzed */

int
video_worker_storage_list(const char *bucket, const char *prefix,
    video_worker_key_pt handler, void *data, char *err, size_t err_size)
{
    (void) handler;
    (void) data;

    fuzz_assert(strcmp(bucket, CLEANUP_BUCKET) == 0);
    fuzz_assert(strcmp(prefix, CLEANUP_ID "/") == 0);

    snprintf(err, err_size, "listing: HTTP 501 (NotImplemented)");

    return VIDEO_WORKER_LIST_REFUSED;
}


/* the upload sweep's: never reached, the sweep has no database here */

int
video_worker_storage_abort(const char *bucket, const char *key,
    const char *upload_id, char *err, size_t err_size)
{
    (void) upload_id;

    if (!cleanup_key_check(bucket, key)) {
        snprintf(err, err_size, "AccessDenied");
        return -1;
    }

    return 0;
}


/* no database: the upload sweep's thread ends at once */

PGconn *
video_worker_pg_connect(void)
{
    return NULL;
}


PGresult *
video_worker_pg(PGconn *pg, const char *sql, int n, const char *const *values,
    ExecStatusType expect)
{
    (void) pg;
    (void) sql;
    (void) n;
    (void) values;
    (void) expect;

    return NULL;
}


CURLcode
curl_global_init(long flags)
{
    (void) flags;

    return CURLE_OK;
}


void
video_worker_log(const char *fmt, ...)
{
    (void) fmt;
}


void
video_worker_log_at(int level, const char *fmt, ...)
{
    (void) level;
    (void) fmt;
}


void
video_worker_log_video(const char *video_id)
{
    (void) video_id;
}


void
video_worker_sleep(double seconds)
{
    (void) seconds;
}


/* the metrics the handler records: none here */

double
video_metrics_now(void)
{
    return 0;
}


void
video_metrics_job(int outcome, uint64_t n, double seconds)
{
    (void) outcome;
    (void) n;
    (void) seconds;
}


int
video_worker_consume(const char *queue, video_worker_consumer_pt handler)
{
    int              rc;
    amqp_envelope_t  env;

    fuzz_assert(strcmp(queue, VIDEO_QUEUE_CLEANUP) == 0);

    memset(&env, 0, sizeof(env));
    env.message.body.bytes = (void *) CLEANUP_JOB;
    env.message.body.len = sizeof(CLEANUP_JOB) - 1;

    rc = handler(&env);
    fuzz_assert(rc == VIDEO_ACK || rc == VIDEO_DEAD);

    return 0;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    json_object_seed(1);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    video_worker_conf.max_attempts = 1;
    video_worker_stop = 0;

    cleanup_data = data;
    cleanup_size = size;
    cleanup_at = 0;
    cleanup_ops = 0;

    fuzz_assert(video_worker_cleanup() == 0);

    /* the master playlist at least was asked for and removed */

    fuzz_assert(cleanup_ops >= 2);

    return 0;
}
