/*
 * An upload from a URL (POST /api/upload/url): before the transcode, the
 * job's source is fetched with the guarded fetch (worker_fetch.c: public
 * addresses or fetch_allow only, every redirect and every connection
 * checked, fetch_max_bytes and the time limits) into the work directory,
 * streamed to the file as it arrives, and put into the raw bucket as the
 * original; the transcode then goes on from that file.  Progress goes to
 * the video's fetched_bytes and fetch_total (the progress route's
 * "fetch"), at most once a second; transcoding_progress stays 0 until
 * ffmpeg moves it, so it never goes back.  The fetch is also bounded by
 * what the account's byte quota has left, and the original's size is
 * checked against it again, and counted, once stored.  A video deleted meanwhile stops the fetch (or has its
 * stored original removed).  A refused URL or address, a source too
 * large and a final HTTP status are the video's FAILED reason, never
 * retried; a timeout, the network and 408, 429 or 5xx answers are
 * retried as storage failures are.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker_fetch.h"
#include "worker_transcode.h"


typedef struct {
    video_transcode_t  *t;
    double              at;        /* the last write, 0: none yet */
    int64_t             written;   /* bytes then */
    int                 gone;      /* the video was deleted meanwhile */
} video_transcode_fetch_t;


/*
 * fetched_bytes and fetch_total, never back: 0, or -1 when the video is
 * no longer there to be fetched for (deleted, or failed by another run)
 */

static int
video_transcode_fetch_write(video_transcode_t *t, int64_t bytes,
    int64_t total)
{
    int          rc;
    char         b[32], n[32];
    const char  *values[3];
    PGresult    *res;

    snprintf(b, sizeof(b), "%lld", (long long) bytes);
    snprintf(n, sizeof(n), "%lld", (long long) total);

    values[0] = t->job.video_id;
    values[1] = b;
    values[2] = total >= 0 ? n : NULL;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET fetched_bytes ="
              " greatest(COALESCE(fetched_bytes, 0), $2::bigint),"
              " fetch_total = $3::bigint"
              " WHERE id = $1 AND status = 'PROCESSING'",
              3, values, PGRES_COMMAND_OK);

    /* PostgreSQL failing is no reason to stop the fetch */

    rc = (res != NULL && strcmp(PQcmdTuples(res), "0") == 0) ? -1 : 0;
    PQclear(res);

    return rc;
}


static int
video_transcode_fetch_progress(void *data, int64_t bytes, int64_t total)
{
    double                    now;
    video_transcode_fetch_t  *f = data;

    if (video_worker_stop) {
        return 1;
    }

    now = video_transcode_now();

    if (bytes == f->written || now - f->at < 1.0) {
        return 0;
    }

    f->at = now;
    f->written = bytes;

    if (video_transcode_fetch_write(f->t, bytes, total) != 0) {
        f->gone = 1;
        return 1;
    }

    return 0;
}


/*
 * The fetch's columns reset (an earlier attempt may have moved them) and
 * what the account's byte quota leaves for the original: -1 when it has
 * no limit
 */

static int
video_transcode_fetch_start(video_transcode_t *t, int64_t *left)
{
    const char  *values[1];
    PGresult    *res;

    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
              "UPDATE videos v SET fetched_bytes = 0, fetch_total = NULL,"
              " fetched_at = NULL"
              " FROM accounts a WHERE v.id = $1 AND a.id = v.account_id"
              " RETURNING a.max_bytes - a.used_bytes"
              " + COALESCE(v.original_size, 0)",
              1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        return VIDEO_JOB_TRANSIENT;
    }

    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(t->err, sizeof(t->err), "the video is gone");
        return VIDEO_JOB_PERMANENT;
    }

    *left = PQgetisnull(res, 0, 0) ? -1 : atoll(PQgetvalue(res, 0, 0));
    PQclear(res);

    return VIDEO_JOB_OK;
}


#define VIDEO_FETCH_RECORDED       0
#define VIDEO_FETCH_RECORD_GONE    1
#define VIDEO_FETCH_RECORD_QUOTA   2
#define VIDEO_FETCH_RECORD_ERROR  -1


/*
 * The original's size recorded, checked against the account's byte quota
 * now that it is known (the fetch was bounded by what was left when it
 * started; another fetch of the account may have used it since): the
 * video's row, then the account's, locked in that order (as a delete
 * does), in one transaction.  *left: what the quota had left.
 */

static int
video_transcode_fetch_record(video_transcode_t *t, int64_t bytes,
    int64_t *left)
{
    int          rc;
    char         size[32], old[32], account[64];
    const char  *values[3];
    PGresult    *res;

    res = video_worker_pg(t->pg, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        return VIDEO_FETCH_RECORD_ERROR;
    }

    PQclear(res);

    rc = VIDEO_FETCH_RECORD_ERROR;
    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
              "SELECT account_id, COALESCE(original_size, 0) FROM videos"
              " WHERE id = $1 AND status = 'PROCESSING' FOR UPDATE",
              1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        goto rollback;
    }

    if (PQntuples(res) != 1) {
        PQclear(res);
        rc = VIDEO_FETCH_RECORD_GONE;
        goto rollback;
    }

    snprintf(account, sizeof(account), "%s", PQgetvalue(res, 0, 0));
    snprintf(old, sizeof(old), "%s", PQgetvalue(res, 0, 1));
    PQclear(res);

    values[0] = account;
    values[1] = old;

    res = video_worker_pg(t->pg,
              "SELECT max_bytes - used_bytes + $2::bigint FROM accounts"
              " WHERE id = $1 FOR UPDATE",
              2, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        goto rollback;
    }

    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *left = atoll(PQgetvalue(res, 0, 0));

        if (*left < bytes) {
            PQclear(res);
            rc = VIDEO_FETCH_RECORD_QUOTA;
            goto rollback;
        }
    }

    PQclear(res);

    snprintf(size, sizeof(size), "%lld", (long long) bytes);
    values[0] = t->job.video_id;
    values[1] = size;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET original_size = $2::bigint,"
              " fetched_bytes = $2::bigint, fetch_total = $2::bigint,"
              " fetched_at = clock_timestamp()"
              " WHERE id = $1",
              2, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto rollback;
    }

    PQclear(res);

    res = video_worker_pg(t->pg, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        return VIDEO_FETCH_RECORD_ERROR;
    }

    PQclear(res);

    return VIDEO_FETCH_RECORDED;

rollback:

    res = video_worker_pg(t->pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
    PQclear(res);

    return rc;
}


/* what became of a failed fetch: the job's outcome, t->err the reason */

static int
video_transcode_fetch_failed(video_transcode_t *t,
    const video_fetch_result_t *res, int64_t limit, int by_quota)
{
    int  rc;

    rc = video_fetch_transient(res) ? VIDEO_JOB_TRANSIENT
                                    : VIDEO_JOB_PERMANENT;

    switch (res->rc) {

    case VIDEO_FETCH_URL:
    case VIDEO_FETCH_ADDRESS:
    case VIDEO_FETCH_REDIRECT:
    case VIDEO_FETCH_REDIRECTS:
        snprintf(t->err, sizeof(t->err), "source URL refused: %.400s",
                 res->reason);
        return VIDEO_JOB_PERMANENT;

    case VIDEO_FETCH_TOO_BIG:
        snprintf(t->err, sizeof(t->err),
                 "source larger than %s (%lld bytes)",
                 by_quota ? "what the account's byte quota has left"
                          : "fetch_max_bytes",
                 (long long) limit);
        return VIDEO_JOB_PERMANENT;

    case VIDEO_FETCH_HTTP:
        snprintf(t->err, sizeof(t->err), "source answered HTTP %ld",
                 res->status);
        return rc;

    case VIDEO_FETCH_CANCELLED:
        if (video_worker_stop) {
            return VIDEO_JOB_STOPPED;
        }

        /* fall through */

    default:
        snprintf(t->err, sizeof(t->err), "source fetch failed: %.400s",
                 res->reason);
        return rc;
    }
}


int
video_transcode_fetch(video_transcode_t *t, const char *path)
{
    int                       fd, rc, by_quota;
    char                      size[32];
    int64_t                   left;
    video_fetch_conf_t        conf;
    video_fetch_result_t     *res;
    video_transcode_fetch_t   f;

    rc = video_transcode_fetch_start(t, &left);
    if (rc != VIDEO_JOB_OK) {
        return rc;
    }

    video_fetch_conf_init(&conf);

    by_quota = 0;

    if (left >= 0 && left < conf.max_bytes) {
        if (left == 0) {
            snprintf(t->err, sizeof(t->err), "the account's byte quota is "
                     "used up: nothing can be fetched");
            return VIDEO_JOB_PERMANENT;
        }

        conf.max_bytes = left;
        by_quota = 1;
    }

    f.t = t;
    f.at = 0;
    f.written = -1;
    f.gone = 0;

    conf.progress = video_transcode_fetch_progress;
    conf.data = &f;

    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0644);
    if (fd == -1) {
        snprintf(t->err, sizeof(t->err), "cannot create \"%.400s\": %s", path,
                 strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    res = malloc(sizeof(video_fetch_result_t));
    if (res == NULL) {
        close(fd);
        snprintf(t->err, sizeof(t->err), "out of memory");
        return VIDEO_JOB_TRANSIENT;
    }

    video_worker_log("video %s: fetching %s", t->job.video_id,
                     t->job.source_url);

    video_fetch(t->job.source_url, fd, &conf, res);

    if (res->rc == VIDEO_FETCH_CANCELLED && f.gone) {
        snprintf(t->err, sizeof(t->err), "the video was deleted while its "
                 "source was fetched");
        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    if (res->rc != VIDEO_FETCH_OK) {
        rc = video_transcode_fetch_failed(t, res, conf.max_bytes, by_quota);
        goto done;
    }

    if (video_transcode_fetch_write(t, res->bytes, res->bytes) != 0) {
        snprintf(t->err, sizeof(t->err), "the video was deleted while its "
                 "source was fetched");
        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    video_worker_log("video %s: %lld bytes from %s after %d redirect(s)",
                     t->job.video_id, (long long) res->bytes, res->url,
                     res->redirects);

    /* the file as fetched is the original: into storage from the start */

    if (fsync(fd) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        snprintf(t->err, sizeof(t->err), "cannot write \"%.400s\": %s", path,
                 strerror(errno));
        rc = VIDEO_JOB_TRANSIENT;
        goto done;
    }

    if (video_worker_storage_put_fd(video_worker_conf.bucket_raw,
                                    t->job.input_key, fd,
                                    "application/octet-stream", t->err,
                                    sizeof(t->err))
        != 0)
    {
        rc = VIDEO_JOB_TRANSIENT;
        goto done;
    }

    /* its size counts in the account's bytes from now, if it fits */

    rc = video_transcode_fetch_record(t, res->bytes, &left);

    if (rc == VIDEO_FETCH_RECORD_ERROR) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        rc = VIDEO_JOB_TRANSIENT;
        goto done;
    }

    if (rc != VIDEO_FETCH_RECORDED) {

        /* deleted meanwhile (its cleanup may have run before the PUT),
           or over the quota: the original goes */

        if (video_worker_storage_delete(video_worker_conf.bucket_raw,
                                        t->job.input_key, t->err,
                                        sizeof(t->err))
            != 0)
        {
            video_worker_log("video %s: cannot remove %s/%s: %s",
                             t->job.video_id, video_worker_conf.bucket_raw,
                             t->job.input_key, t->err);
        }

        if (rc == VIDEO_FETCH_RECORD_GONE) {
            snprintf(t->err, sizeof(t->err), "the video was deleted while "
                     "its source was fetched");

        } else {
            snprintf(t->err, sizeof(t->err),
                     "source larger than what the account's byte quota has "
                     "left (%lld bytes)", (long long) left);
        }

        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    snprintf(size, sizeof(size), "%lld", (long long) res->bytes);

    video_worker_log("video %s: the source (%s bytes) is in storage as "
                     "%s/%s", t->job.video_id, size,
                     video_worker_conf.bucket_raw, t->job.input_key);

    rc = VIDEO_JOB_OK;

done:

    free(res);
    close(fd);

    if (rc != VIDEO_JOB_OK) {
        unlink(path);
    }

    return rc;
}
