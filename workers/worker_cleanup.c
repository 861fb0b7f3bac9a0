/*
 * Cleanup: video-cleanup jobs (from DELETE) remove a video's objects from
 * every bucket.  A prefix ("<id>/") is listed (ListObjectsV2, page by
 * page) and every key under it deleted: the segments and pieces of a
 * video deleted while it was still transcoding in chunks, which no
 * playlist names yet, go too.  Where storage refuses to list (HTTP 400,
 * 403, 405 or 501), the prefix is walked the way a player would instead:
 * the master playlist names the rung playlists (and, in EXT-X-MEDIA and
 * EXT-X-I-FRAME-STREAM-INF URI attributes, the audio and I-frame ones),
 * which name the segments (and an EXT-X-MAP init segment).  Objects
 * already gone count as removed, so a job done twice is harmless.
 *
 * Beside the consumer, a thread sweeps abandoned uploads every
 * upload_sweep_seconds: an upload presigned but never completed, whose
 * URL expired more than upload_grace seconds ago, loses its raw object,
 * then its row; a multipart upload (one with an upload id) is aborted in
 * storage first, which drops its parts; and expired idempotency keys are
 * deleted.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "video_hmac.h"
#include "video_job.h"
#include "video_worker.h"


#define VIDEO_PLAYLIST_MAX  (4 * 1024 * 1024)


/*
 * The URI attribute of a tag's attribute list (NAME=VALUE,...; a quoted
 * string may hold commas), NUL-terminated in place; NULL when it has
 * none, or the list is malformed
 */

static char *
video_cleanup_uri_attr(char *attrs)
{
    int    uri;
    char  *p, *name, *value;

    p = attrs;

    while (*p != '\0') {
        name = p;

        while (*p != '\0' && *p != '=' && *p != ',') {
            p++;
        }

        if (*p != '=') {
            return NULL;
        }

        uri = (p - name == 3 && memcmp(name, "URI", 3) == 0);
        p++;

        if (*p == '"') {
            value = ++p;

            while (*p != '\0' && *p != '"') {
                p++;
            }

            if (*p != '"') {
                return NULL;
            }

            if (uri) {
                *p = '\0';
                return value;
            }

            p++;

        } else {
            if (uri) {
                return NULL;        /* a URI is a quoted string */
            }

            while (*p != '\0' && *p != ',') {
                p++;
            }
        }

        if (*p == ',') {
            p++;

        } else if (*p != '\0') {
            return NULL;
        }
    }

    return NULL;
}


/* a tag of line: what follows "#TAG:", or NULL */

static char *
video_cleanup_tag(char *line, const char *tag)
{
    size_t  n;

    n = strlen(tag);

    return (strncmp(line, tag, n) == 0) ? line + n : NULL;
}


/*
 * What a playlist names, each under dir: a master (nested) its media
 * playlists, walked in turn; a media playlist its segments, deleted.
 */

static int
video_cleanup_playlist(const char *bucket, const char *dir, const char *name,
    int nested, char *err, size_t err_size)
{
    long   status;
    char  *text, *line, *save, *uri, *attrs, *slash;
    char   key[2048], sub[1024];

    snprintf(key, sizeof(key), "%s%s", dir, name);

    text = video_worker_storage_read(bucket, key, VIDEO_PLAYLIST_MAX, &status,
                                     err, err_size);
    if (text == NULL) {
        return (status == 404) ? 0 : -1;
    }

    for (line = strtok_r(text, "\r\n", &save); line != NULL;
         line = strtok_r(NULL, "\r\n", &save))
    {
        uri = line;

        if (line[0] == '#') {
            if (nested) {
                attrs = video_cleanup_tag(line, "#EXT-X-MEDIA:");

                if (attrs == NULL) {
                    attrs = video_cleanup_tag(line,
                                              "#EXT-X-I-FRAME-STREAM-INF:");
                }

            } else {
                attrs = video_cleanup_tag(line, "#EXT-X-MAP:");
            }

            uri = (attrs != NULL) ? video_cleanup_uri_attr(attrs) : NULL;

            if (uri == NULL) {
                continue;
            }
        }

        if (uri[0] == '\0' || strstr(uri, "..") != NULL
            || strstr(uri, "://") != NULL || uri[0] == '/')
        {
            continue;
        }

        if (nested) {

            /* a rung: "<rung>/playlist.m3u8"; the audio's, alike */

            slash = strrchr(uri, '/');
            snprintf(sub, sizeof(sub), "%s%.*s", dir,
                     slash ? (int) (slash - uri + 1) : 0, uri);

            if (video_cleanup_playlist(bucket, sub, slash ? slash + 1 : uri,
                                       0, err, err_size)
                != 0)
            {
                free(text);
                return -1;
            }

            continue;
        }

        snprintf(key, sizeof(key), "%s%s", dir, uri);

        if (video_worker_storage_delete(bucket, key, err, err_size) != 0) {
            free(text);
            return -1;
        }
    }

    free(text);

    snprintf(key, sizeof(key), "%s%s", dir, name);

    return video_worker_storage_delete(bucket, key, err, err_size);
}


/* a key listed under a video's prefix */

static int
video_cleanup_key(const char *bucket, const char *key, void *data, char *err,
    size_t err_size)
{
    (void) data;

    return video_worker_storage_delete(bucket, key, err, err_size);
}


static int
video_cleanup_job(video_job_t *job, char *err, size_t err_size)
{
    int                  i, rc;
    video_job_object_t  *o;

    for (i = 0; i < job->nobjects; i++) {
        o = &job->objects[i];

        if (o->prefix) {
            rc = video_worker_storage_list(o->bucket, o->key,
                                           video_cleanup_key, NULL, err,
                                           err_size);

            if (rc == VIDEO_WORKER_LIST_REFUSED) {
                video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                                    "%s: walking the playlists instead",
                                    err);

                rc = video_cleanup_playlist(o->bucket, o->key, "master.m3u8",
                                            1, err, err_size);
            }

            if (rc != 0) {
                return -1;
            }

            continue;
        }

        if (video_worker_storage_delete(o->bucket, o->key, err, err_size)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
video_cleanup_message(amqp_envelope_t *env)
{
    int           attempt;
    char          err[512];
    double        wait, started;
    const char   *perr;
    video_job_t   job;

    perr = NULL;
    started = video_metrics_now();

    if (video_job_parse(env->message.body.bytes, env->message.body.len, &job,
                        &perr)
        != 0
        || job.type != VIDEO_JOB_CLEANUP)
    {
        video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                            "dead-lettering a malformed cleanup job: %s",
                            perr ? perr : "not a cleanup job");
        video_metrics_job(VIDEO_METRICS_DEAD, 1,
                          video_metrics_now() - started);
        return VIDEO_DEAD;
    }

    video_worker_log_video(job.video_id);

    wait = 1;

    for (attempt = 1; attempt <= video_worker_conf.max_attempts; attempt++) {
        if (video_cleanup_job(&job, err, sizeof(err)) == 0) {
            video_worker_log("removed the objects of video %s",
                             job.video_id);
            video_metrics_job(VIDEO_METRICS_OK, 1,
                              video_metrics_now() - started);
            return VIDEO_ACK;
        }

        video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                            "cleanup of video %s, attempt %d: %s",
                            job.video_id, attempt, err);

        if (attempt < video_worker_conf.max_attempts) {
            video_metrics_job(VIDEO_METRICS_RETRIED, 1, -1);
        }

        video_worker_sleep(wait);
        wait = wait < 16 ? wait * 2 : 30;

        if (video_worker_stop) {
            video_metrics_job(VIDEO_METRICS_REQUEUED, 1,
                              video_metrics_now() - started);
            return VIDEO_REQUEUE;
        }
    }

    video_metrics_job(VIDEO_METRICS_DEAD, 1, video_metrics_now() - started);

    return VIDEO_DEAD;
}


/*
 * One abandoned upload per transaction, its row locked with SKIP LOCKED:
 * two cleanup workers never take the same one, and a completion arriving
 * meanwhile waits for the row, then finds it gone (a 404), instead of
 * making a video of an object being deleted.  A row whose video exists is
 * never taken, whatever its completed_at says.
 */

static const char  video_sweep_take[] =
    "SELECT u.video_id, u.key, u.upload_id FROM uploads u"
    " WHERE u.completed_at IS NULL"
    " AND u.expires_at < now() - make_interval(secs => $1::int)"
    " AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = u.video_id)"
    " ORDER BY u.expires_at LIMIT 1"
    " FOR UPDATE OF u SKIP LOCKED";

static const char  video_sweep_delete[] =
    "DELETE FROM uploads WHERE video_id = $1";

/* completed uploads whose video was deleted since: nothing to keep */
static const char  video_sweep_purge[] =
    "DELETE FROM uploads u WHERE u.completed_at IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = u.video_id)";


/*
 * Idempotency keys whose time is over (video_api_idempotency_ttl set
 * expires_at when each was claimed): the module already treats them as
 * new, and their sealed answers are of no use to anyone
 */
static const char  video_sweep_idempotency[] =
    "DELETE FROM idempotency_keys WHERE expires_at <= now()";


/* 1 when one upload was swept, 0 when none is left, -1 on failure */

static int
video_sweep_one(PGconn *pg, int *storage_down)
{
    int          rc;
    char         err[512], grace[16], *id, *key, *upload_id;
    PGresult    *res, *r;
    const char  *values[1];

    r = video_worker_pg(pg, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
    if (r == NULL) {
        return -1;
    }

    PQclear(r);

    snprintf(grace, sizeof(grace), "%d", video_worker_conf.upload_grace);
    values[0] = grace;

    res = video_worker_pg(pg, video_sweep_take, 1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        goto rollback;
    }

    if (PQntuples(res) == 0) {
        PQclear(res);
        rc = 0;
        goto end;
    }

    id = PQgetvalue(res, 0, 0);
    key = PQgetvalue(res, 0, 1);
    upload_id = PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);

    /*
     * storage first: a row left behind only means another try.  A
     * multipart upload is aborted (its parts are not objects); the object
     * goes too, which storage has only if it completed the upload and the
     * completion stopped before the video was made
     */

    if ((upload_id != NULL
         && video_worker_storage_abort(video_worker_conf.bucket_raw, key,
                                       upload_id, err, sizeof(err))
            != 0)
        || video_worker_storage_delete(video_worker_conf.bucket_raw, key,
                                       err, sizeof(err))
           != 0)
    {
        if (!*storage_down) {
            video_worker_log("cannot remove abandoned uploads, retrying: %s",
                             err);
            *storage_down = 1;
        }

        PQclear(res);
        goto rollback;
    }

    if (*storage_down) {
        video_worker_log("storage is back: removing abandoned uploads");
        *storage_down = 0;
    }

    values[0] = id;
    r = video_worker_pg(pg, video_sweep_delete, 1, values, PGRES_COMMAND_OK);
    PQclear(res);

    if (r == NULL) {
        goto rollback;
    }

    PQclear(r);
    rc = 1;

end:

    r = video_worker_pg(pg, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
    if (r == NULL) {
        return -1;
    }

    PQclear(r);

    return rc;

rollback:

    r = video_worker_pg(pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
    if (r != NULL) {
        PQclear(r);
    }

    return -1;
}


/* one pass: every abandoned upload due now; 0, or -1 when it stopped */

static int
video_sweep(PGconn *pg, int *storage_down)
{
    int        rc;
    long       n, purged;
    PGresult  *r;

    n = 0;
    rc = 0;

    while (!video_worker_stop) {
        rc = video_sweep_one(pg, storage_down);

        if (rc <= 0) {
            break;
        }

        n++;
    }

    if (n > 0) {
        video_worker_log("removed %ld abandoned upload%s", n,
                         n == 1 ? "" : "s");
    }

    if (rc < 0) {
        return -1;
    }

    r = video_worker_pg(pg, video_sweep_purge, 0, NULL, PGRES_COMMAND_OK);
    if (r == NULL) {
        return -1;
    }

    purged = atol(PQcmdTuples(r));
    PQclear(r);

    if (purged > 0) {
        video_worker_log("forgot %ld completed upload%s of deleted videos",
                         purged, purged == 1 ? "" : "s");
    }

    r = video_worker_pg(pg, video_sweep_idempotency, 0, NULL,
                        PGRES_COMMAND_OK);
    if (r == NULL) {
        return -1;
    }

    purged = atol(PQcmdTuples(r));
    PQclear(r);

    if (purged > 0) {
        video_worker_log("forgot %ld expired idempotency key%s", purged,
                         purged == 1 ? "" : "s");
    }

    return 0;
}


static void *
video_sweep_thread(void *data)
{
    int      storage_down;
    PGconn  *pg;

    (void) data;

    pg = NULL;
    storage_down = 0;

    while (!video_worker_stop) {

        if (pg != NULL && PQstatus(pg) != CONNECTION_OK) {
            PQfinish(pg);
            pg = NULL;
        }

        if (pg == NULL) {
            pg = video_worker_pg_connect();

            if (pg == NULL) {
                break;
            }
        }

        (void) video_sweep(pg, &storage_down);

        video_worker_sleep(video_worker_conf.upload_sweep_seconds);
    }

    if (pg != NULL) {
        PQfinish(pg);
    }

    return NULL;
}


int
video_worker_cleanup(void)
{
    int        rc, err;
    pthread_t  sweeper;

    /* what both threads use and would each set up lazily */

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK
        || video_sha256() == NULL)
    {
        video_worker_log("cannot initialize libcurl or libcrypto");
        return 1;
    }

    err = pthread_create(&sweeper, NULL, video_sweep_thread, NULL);
    if (err != 0) {
        video_worker_log("cannot start the upload sweep: %s", strerror(err));
        return 1;
    }

    rc = video_worker_consume(VIDEO_QUEUE_CLEANUP, video_cleanup_message);

    /* the consumer returns once asked to stop; so does the sweep */

    video_worker_stop = 1;
    pthread_join(sweeper, NULL);

    return rc;
}
