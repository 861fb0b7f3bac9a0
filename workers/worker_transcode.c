/*
 * The transcoder: consumes video-transcode (prefetch 1, manual acks).
 * For a job: the video becomes PROCESSING; a live recording the job names
 * is uploaded from record_path to the raw bucket as the original (and
 * removed); the original is fetched from storage and probed (a source
 * URL the job names is fetched instead, and put into the raw bucket as
 * the original: worker_transcode_fetch.c); ONE ffmpeg
 * run decodes it once and encodes every rung of the ladder to HLS plus a
 * thumbnail, its -progress output moving transcodingProgress; the
 * outputs go to the processed and thumbnails buckets; then one
 * transaction writes the variants and makes the video READY, and the
 * cache gets the new version.
 *
 * ffprobe and ffmpeg only ever get a container the sniffer accepted, with
 * its demuxer forced, and run in the media sandbox (worker_sandbox.c); the
 * outputs are taken from it without following links.  A file of another
 * container, one ffmpeg cannot read, or a run over a limit ends FAILED
 * with the reason.  A failure of storage or PostgreSQL is retried with
 * backoff max_attempts times, then the video is FAILED and the message
 * dead-lettered.  The message is
 * acknowledged only when the job is done (or failed for good): a worker
 * killed mid-job leaves it to the broker to deliver again, and a job for
 * a video that is already READY does nothing.
 *
 * A job that names the original's ETag (a completed upload's) reads it
 * with If-Match: an original replaced after completion fails the video.
 *
 * This file is the job: its steps in order, the video's rows and the
 * cache, the retries, and the consumer.  Running ffprobe and ffmpeg in
 * the sandbox is worker_transcode_run.c; sniffing, probing and encoding
 * the ladder (and the "ladder" command) worker_transcode_ladder.c; the
 * outputs to storage worker_transcode_upload.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include "video_cache.h"
#include "video_id.h"
#include "worker_transcode.h"


/* -- helpers -------------------------------------------------------------- */

int
video_transcode_rmtree(const char *dir)
{
    pid_t  pid;
    int    status;

    /* the work directory is ours alone; rm -rf is the simplest walk */

    pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *) NULL);
        _exit(127);
    }

    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        return -1;
    }

    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}


int
video_transcode_mkdirs(const char *path)
{
    char  buf[1024], *p;

    snprintf(buf, sizeof(buf), "%s", path);

    for (p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -1;
            }

            *p = '/';
        }
    }

    return (mkdir(buf, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}


/* -- the cache -------------------------------------------------------------- */

/*
 * Puts the video's current JSON into the cache (the newer version wins,
 * as in the module) and bumps the list version; best effort: the cache
 * entry expires anyway
 */

void
video_transcode_cache(PGconn *pg, const char *id)
{
    char           base[300], err[256];
    const char    *values[2];
    PGresult      *res;
    redisReply    *reply;
    redisContext  *rc;

    snprintf(base, sizeof(base), "%s/play/", video_worker_conf.public_url);
    values[0] = id;
    values[1] = base;

    res = video_worker_pg(pg,
              "SELECT video_json(v, $2, $2)::text, video_version(v)"
              " FROM videos v WHERE v.id = $1",
              2, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        return;
    }

    rc = video_worker_redis_connect(2, err, sizeof(err));

    if (rc == NULL) {
        video_worker_log("redis unavailable (%s), the cache keeps its copy "
                         "until it expires", err);
        goto done;
    }

    if (PQntuples(res) == 1) {
        reply = redisCommand(rc, "EVAL %s 1 " VIDEO_CACHE_KEY_PREFIX "%s %s %s %d",
                             VIDEO_CACHE_PUT_LUA, id, PQgetvalue(res, 0, 1),
                             PQgetvalue(res, 0, 0), video_worker_conf.cache_ttl);
        freeReplyObject(reply);
    }

    reply = redisCommand(rc, "INCR %s", VIDEO_CACHE_LIST_VERSION);
    freeReplyObject(reply);

done:

    if (rc != NULL) {
        redisFree(rc);
    }

    PQclear(res);
}


/* -- steps ------------------------------------------------------------------ */

/*
 * PROCESSING, unless the video is READY (or gone): then there is no work.
 * A LIVE video is transcoded from its recording only, never from an
 * upload job.  A job delivered again keeps the progress shown: what its
 * chunks did is kept, and a single run's reports only raise it.
 */

static int
video_transcode_start(video_transcode_t *t, int *skip)
{
    const char  *values[2];
    PGresult    *res;

    values[0] = t->job.video_id;
    values[1] = t->job.recording[0] ? "t" : "f";

    res = video_worker_pg(t->pg,
              "UPDATE videos SET status = 'PROCESSING',"
              " processing_started_at = clock_timestamp(),"
              " transcoding_progress = CASE WHEN status = 'PROCESSING'"
              "  THEN transcoding_progress ELSE 0 END,"
              " processing_error = NULL,"
              " updated_at = video_touch(updated_at)"
              " WHERE id = $1 AND status <> 'READY'"
              " AND (video_type = 'VOD' OR $2::boolean)"
              " RETURNING id",
              2, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        return VIDEO_JOB_TRANSIENT;
    }

    *skip = (PQntuples(res) == 0);
    PQclear(res);

    if (!*skip) {
        video_transcode_cache(t->pg, t->job.video_id);
    }

    return VIDEO_JOB_OK;
}


/*
 * A live recording: the FLV nginx-rtmp left in record_path goes to the raw
 * bucket at inputKey, its size to original_size, and the local file away;
 * then the job goes on as for an upload.  A file that is not there was
 * uploaded by an earlier attempt of the job: the raw bucket has it, or the
 * fetch that follows fails the video.
 */

static int
video_transcode_recording(video_transcode_t *t)
{
    char          dir[VIDEO_JOB_PATH_MAX], real[PATH_MAX], allowed[PATH_MAX];
    int           fd, rc;
    char          size[32], *slash;
    const char   *values[2];
    PGresult     *res;
    struct stat   st;

    if (realpath(video_worker_conf.record_path, allowed) == NULL) {
        snprintf(t->err, sizeof(t->err), "record_path \"%.300s\": %s",
                 video_worker_conf.record_path, strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    /* the job's path is absolute and plain: the directory is before the
       last '/' */

    snprintf(dir, sizeof(dir), "%s", t->job.recording);
    slash = strrchr(dir, '/');
    slash[slash == dir ? 1 : 0] = '\0';

    if (realpath(dir, real) == NULL || strcmp(real, allowed) != 0) {
        snprintf(t->err, sizeof(t->err),
                 "the recording \"%.300s\" is not in record_path",
                 t->job.recording);
        return VIDEO_JOB_PERMANENT;
    }

    /*
     * opened, never followed, and checked through the descriptor: what is
     * uploaded is what was checked, whatever replaces the name meanwhile
     * (nginx's user writes this directory)
     */

    fd = open(t->job.recording, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1) {
        if (errno == ENOENT) {
            video_worker_log("video %s: the recording \"%s\" is gone "
                             "(uploaded by an earlier attempt)",
                             t->job.video_id, t->job.recording);
            return VIDEO_JOB_OK;
        }

        if (errno == ELOOP) {
            snprintf(t->err, sizeof(t->err),
                     "the recording \"%.300s\" is a symbolic link",
                     t->job.recording);
            return VIDEO_JOB_PERMANENT;
        }

        snprintf(t->err, sizeof(t->err), "cannot open \"%.300s\": %s",
                 t->job.recording, strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(t->err, sizeof(t->err),
                 "the recording \"%.300s\" is not a regular file",
                 t->job.recording);
        return VIDEO_JOB_PERMANENT;
    }

    rc = video_worker_storage_put_fd(video_worker_conf.bucket_raw,
                                     t->job.input_key, fd, "video/x-flv",
                                     t->err, sizeof(t->err));
    close(fd);

    if (rc != 0) {
        return VIDEO_JOB_TRANSIENT;
    }

    snprintf(size, sizeof(size), "%lld", (long long) st.st_size);
    values[0] = t->job.video_id;
    values[1] = size;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET original_size = $2::bigint WHERE id = $1",
              2, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        return VIDEO_JOB_TRANSIENT;
    }

    PQclear(res);

    /* the copy in storage is the original now; a file left over is only
       disk space, not a reason to fail the video */

    if (unlink(t->job.recording) != 0 && errno != ENOENT) {
        video_worker_log("video %s: cannot remove the recording \"%s\": %s",
                         t->job.video_id, t->job.recording, strerror(errno));
    }

    video_worker_log("video %s: the recording \"%s\" (%s bytes) is in "
                     "storage as %s/%s", t->job.video_id, t->job.recording,
                     size, video_worker_conf.bucket_raw, t->job.input_key);

    return VIDEO_JOB_OK;
}


/* variants and READY in one transaction */

int
video_transcode_finish(video_transcode_t *t)
{
    int          i;
    char         vid[VIDEO_ID_LEN + 1], w[16], h[16], kbps[16], key[256];
    char         manifest[64], thumb[64], dur[32];
    PGresult    *res;
    const char  *values[7];

    res = video_worker_pg(t->pg, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto failed;
    }

    PQclear(res);

    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
              "DELETE FROM video_variants WHERE video_id = $1",
              1, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto rollback;
    }

    PQclear(res);

    for (i = 0; i < t->nrungs; i++) {
        if (video_id_generate(vid) != 0) {
            goto rollback;
        }

        vid[VIDEO_ID_LEN] = '\0';
        snprintf(w, sizeof(w), "%d", t->rungs[i].width);
        snprintf(h, sizeof(h), "%d", t->rungs[i].height);
        snprintf(kbps, sizeof(kbps), "%d", t->rungs[i].video_kbps);
        snprintf(key, sizeof(key), "%s/%s/playlist.m3u8", t->job.video_id,
                 t->rungs[i].name);

        values[0] = vid;
        values[1] = t->job.video_id;
        values[2] = t->rungs[i].name;
        values[3] = w;
        values[4] = h;
        values[5] = kbps;
        values[6] = key;

        res = video_worker_pg(t->pg,
                  "INSERT INTO video_variants (id, video_id, resolution,"
                  " width, height, bitrate, playlist_key)"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  7, values, PGRES_COMMAND_OK);
        if (res == NULL) {
            goto rollback;
        }

        PQclear(res);
    }

    snprintf(manifest, sizeof(manifest), "%s/master.m3u8", t->job.video_id);
    snprintf(thumb, sizeof(thumb), "%s/thumbnail.jpg", t->job.video_id);

    /* whole seconds; a clip shorter than half a second is not 0 s long */

    snprintf(dur, sizeof(dur), "%d",
             t->duration < 1 ? 1 : (int) (t->duration + 0.5));

    values[0] = t->job.video_id;
    values[1] = manifest;
    values[2] = thumb;
    values[3] = dur;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET status = 'READY', transcoding_progress = 100,"
              " playable_at = COALESCE(playable_at, clock_timestamp()),"
              " duration = $4::integer, hls_manifest_key = $2,"
              " thumbnail_key = $3, processing_error = NULL,"
              " updated_at = video_touch(updated_at)"
              " WHERE id = $1 AND status = 'PROCESSING'",
              4, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto rollback;
    }

    if (strcmp(PQcmdTuples(res), "1") != 0) {

        /* deleted (or finished by another run) meanwhile: nothing to do */

        PQclear(res);
        res = video_worker_pg(t->pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
        PQclear(res);
        return VIDEO_JOB_OK;
    }

    PQclear(res);

    res = video_worker_pg(t->pg, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto failed;
    }

    PQclear(res);

    video_transcode_cache(t->pg, t->job.video_id);

    return VIDEO_JOB_OK;

rollback:

    res = video_worker_pg(t->pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
    PQclear(res);

failed:

    snprintf(t->err, sizeof(t->err), "postgresql failed");

    return VIDEO_JOB_TRANSIENT;
}


static void
video_transcode_fail(video_transcode_t *t, const char *why)
{
    const char  *values[2];
    PGresult    *res;

    values[0] = t->job.video_id;
    values[1] = why;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET status = 'FAILED', processing_error = $2,"
              " updated_at = video_touch(updated_at)"
              " WHERE id = $1 AND status <> 'READY'",
              2, values, PGRES_COMMAND_OK);
    PQclear(res);

    if (res != NULL) {
        video_transcode_cache(t->pg, t->job.video_id);
        video_transcode_chunk_discard(t);
    }
}


/* one attempt at the job */

static int
video_transcode_job(video_transcode_t *t)
{
    int     rc, skip;
    char    input[1100], err[VIDEO_ERR_MAX];
    double  encode;

    if (t->pg == NULL || PQstatus(t->pg) != CONNECTION_OK) {
        if (t->pg != NULL) {
            PQfinish(t->pg);
        }

        t->pg = PQconnectdb(video_worker_conf.postgres);

        if (PQstatus(t->pg) != CONNECTION_OK) {
            snprintf(t->err, sizeof(t->err), "postgresql unavailable: %s",
                     PQerrorMessage(t->pg));
            PQfinish(t->pg);
            t->pg = NULL;
            return VIDEO_JOB_TRANSIENT;
        }
    }

    if (t->job.type == VIDEO_JOB_CHUNK) {
        return video_transcode_chunk(t);
    }

    rc = video_transcode_start(t, &skip);
    if (rc != VIDEO_JOB_OK) {
        return rc;
    }

    if (skip) {
        video_worker_log("video %s is READY or gone (or LIVE, and the job "
                         "names no recording): nothing to do",
                         t->job.video_id);
        return VIDEO_JOB_OK;
    }

    if (t->job.recording[0] != '\0') {
        rc = video_transcode_recording(t);
        if (rc != VIDEO_JOB_OK) {
            return rc;
        }
    }

    snprintf(t->dir, sizeof(t->dir), "%s/%s", video_worker_conf.work_dir,
             t->job.video_id);

    video_transcode_rmtree(t->dir);

    if (video_transcode_mkdirs(t->dir) != 0) {
        snprintf(t->err, sizeof(t->err), "cannot create \"%.400s\": %s", t->dir,
                 strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    snprintf(input, sizeof(input), "%s/original", t->dir);

    /* an upload from a URL: the source is fetched to input instead */

    if (t->job.source_url[0] != '\0') {
        rc = video_transcode_fetch(t, input);

        if (rc == VIDEO_JOB_OK) {
            goto fetched;
        }

        if (rc != VIDEO_JOB_STOPPED) {
            video_transcode_rmtree(t->dir);
        }

        return rc;
    }

    /*
     * with If-Match on the ETag the upload was completed with, when the
     * job has one: an object replaced since is not what was accepted
     * (its size and type were checked on the one before), and is never
     * transcoded
     */

    rc = video_worker_storage_get(video_worker_conf.bucket_raw,
                                  t->job.input_key, t->job.etag, input, err,
                                  sizeof(err));
    if (rc == 404) {
        snprintf(t->err, sizeof(t->err), "the original is not in storage");
        return VIDEO_JOB_PERMANENT;
    }

    if (rc == 412) {
        snprintf(t->err, sizeof(t->err), "the original was replaced after "
                 "the upload was completed");
        return VIDEO_JOB_PERMANENT;
    }

    if (rc != 0) {
        snprintf(t->err, sizeof(t->err), "%s", err);
        return VIDEO_JOB_TRANSIENT;
    }

fetched:

    if (video_sandbox_prepare(t->dir, t->err, sizeof(t->err)) != 0) {
        return VIDEO_JOB_TRANSIENT;
    }

    rc = video_transcode_sniff(t, t->job.recording[0]
                                  ? VIDEO_CONTAINER_ALLOW_FLV : 0);

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_probe(t);
    }

    if (rc == VIDEO_JOB_PERMANENT && !t->limit) {
        snprintf(err, sizeof(err), "not a playable video: %.400s",
                 t->err[0] ? t->err : "ffprobe failed");
        snprintf(t->err, sizeof(t->err), "%s", err);
    }

    if (rc == VIDEO_JOB_OK) {
        video_worker_log("video %s: %dx%d (turned %d), %s, %.2f s, "
                         "%s audio, %d rung(s)", t->job.video_id, t->width,
                         t->height, t->rotation, t->hdr ? "HDR" : "SDR",
                         t->duration,
                         t->has_audio ? (t->audio_copy ? "with copyable"
                                                       : "with")
                                      : "no",
                         t->nrungs);
    }

    /* in chunks: the split, and the chunk jobs take it from there */

    if (rc == VIDEO_JOB_OK && video_worker_conf.chunk_seconds > 0) {
        rc = video_transcode_split(t);

        if (rc != VIDEO_JOB_STOPPED) {
            video_transcode_rmtree(t->dir);
        }

        return rc;
    }

    if (rc == VIDEO_JOB_OK) {
        encode = video_metrics_now();
        rc = video_transcode_encode(t);

        if (rc == VIDEO_JOB_OK) {
            video_metrics_realtime(t->duration, video_metrics_now() - encode);
        }
    }

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_upload(t);
    }

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_finish(t);
    }

    if (rc != VIDEO_JOB_STOPPED) {
        video_transcode_rmtree(t->dir);
    }

    return rc;
}


/* -- the consumer ----------------------------------------------------------- */

static int
video_transcode_message(video_transcode_t *t, amqp_envelope_t *env)
{
    int          attempt, rc;
    double       backoff, started;
    const char  *err;

    err = NULL;
    started = video_metrics_now();

    if (video_job_parse(env->message.body.bytes, env->message.body.len,
                        &t->job, &err)
        != 0
        || (t->job.type != VIDEO_JOB_TRANSCODE
            && t->job.type != VIDEO_JOB_CHUNK))
    {
        video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                            "dead-lettering a malformed transcode job: %s",
                            err ? err : "not a transcode job");
        video_metrics_job(VIDEO_METRICS_DEAD, 1,
                          video_metrics_now() - started);
        return VIDEO_DEAD;
    }

    video_worker_log_video(t->job.video_id);

    if (t->job.type == VIDEO_JOB_CHUNK && t->job.chunk < 0) {
        video_worker_log("transcoding video %s, the audio%s", t->job.video_id,
                         env->redelivered ? " (redelivered)" : "");

    } else if (t->job.type == VIDEO_JOB_CHUNK) {
        video_worker_log("transcoding video %s, chunk %d%s", t->job.video_id,
                         t->job.chunk,
                         env->redelivered ? " (redelivered)" : "");

    } else {
        video_worker_log("transcoding video %s%s", t->job.video_id,
                         env->redelivered ? " (redelivered)" : "");
    }

    backoff = 1;

    for (attempt = 1; ; attempt++) {
        t->err[0] = '\0';
        t->limit = 0;
        rc = video_transcode_job(t);

        switch (rc) {

        case VIDEO_JOB_OK:
            video_worker_log("video %s done", t->job.video_id);
            video_metrics_job(VIDEO_METRICS_OK, 1,
                              video_metrics_now() - started);
            return VIDEO_ACK;

        case VIDEO_JOB_STOPPED:
            video_worker_log("stopping: video %s goes back to the queue",
                             t->job.video_id);
            video_metrics_job(VIDEO_METRICS_REQUEUED, 1,
                              video_metrics_now() - started);
            return VIDEO_REQUEUE;

        case VIDEO_JOB_PERMANENT:
            video_worker_log_at(VIDEO_WORKER_LOG_ERROR, "video %s FAILED: %s",
                                t->job.video_id, t->err);
            video_transcode_fail(t, t->err);
            video_metrics_job(VIDEO_METRICS_FAILED, 1,
                              video_metrics_now() - started);
            return VIDEO_ACK;
        }

        video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                            "video %s, attempt %d of %d: %s",
                            t->job.video_id, attempt,
                            video_worker_conf.max_attempts, t->err);

        if (attempt >= video_worker_conf.max_attempts) {
            char  why[VIDEO_ERR_MAX + 64];

            snprintf(why, sizeof(why), "gave up after %d attempts: %s",
                     attempt, t->err);
            video_transcode_fail(t, why);
            video_metrics_job(VIDEO_METRICS_DEAD, 1,
                              video_metrics_now() - started);

            return VIDEO_DEAD;
        }

        video_metrics_job(VIDEO_METRICS_RETRIED, 1, -1);

        video_worker_sleep(backoff);
        backoff = backoff < 16 ? backoff * 2 : 30;

        if (video_worker_stop) {
            video_metrics_job(VIDEO_METRICS_REQUEUED, 1,
                              video_metrics_now() - started);
            return VIDEO_REQUEUE;
        }
    }
}


static video_transcode_t  video_transcode;


static int
video_transcode_consume(amqp_envelope_t *env)
{
    return video_transcode_message(&video_transcode, env);
}


int
video_worker_transcode(void)
{
    int   rc;
    char  sandbox[512];

    static const char *const  queues[] = {
        VIDEO_QUEUE_TRANSCODE, VIDEO_QUEUE_CHUNK
    };

    memset(&video_transcode, 0, sizeof(video_transcode));

    /* storage and the fetches of uploads from a URL share libcurl */

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        video_worker_log("cannot initialize libcurl");
        return 1;
    }

    /* said once at the start; a job that cannot have its sandbox fails
       with the reason */

    if (video_sandbox_check(sandbox, sizeof(sandbox)) == 0) {
        video_worker_log("media sandbox: %s", sandbox);

    } else {
        video_worker_log("no media sandbox can be made, every job will "
                         "fail: %s", sandbox);
    }

    rc = video_worker_consume_queues(queues, 2, video_transcode_consume);

    if (video_transcode.pg != NULL) {
        PQfinish(video_transcode.pg);
    }

    return rc;
}
