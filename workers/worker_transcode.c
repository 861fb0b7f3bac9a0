/*
 * The transcoder: consumes video-transcode (prefetch 1, manual acks).
 * For a job: the video becomes PROCESSING; a live recording the job names
 * is uploaded from record_path to the raw bucket as the original (and
 * removed); the original is fetched from storage and probed; ONE ffmpeg
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
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "video_cache.h"
#include "video_container.h"
#include "video_id.h"
#include "video_job.h"
#include "video_ladder.h"
#include "video_probe.h"
#include "video_progress.h"
#include "video_worker.h"


#define VIDEO_JOB_OK         0
#define VIDEO_JOB_PERMANENT  1   /* the input is bad: FAILED, no retry */
#define VIDEO_JOB_TRANSIENT  2   /* a dependency failed: retry */
#define VIDEO_JOB_STOPPED    3   /* asked to stop: requeue */

#define VIDEO_ERR_MAX        512


typedef struct {
    PGconn         *pg;
    video_job_t     job;
    char            dir[1024];
    char            err[VIDEO_ERR_MAX];
    int             limit;        /* err names a limit that was exceeded */

    /* from the sniffer: the demuxer ffprobe and ffmpeg are given */
    video_container_t  container;

    /* from ffprobe */
    int             width;
    int             height;
    int             has_audio;
    double          duration;
    double          fps;

    video_rung_t    rungs[VIDEO_LADDER_MAX];
    int             nrungs;

    /* ffmpeg's progress, written at most once a second and never back */
    video_progress_t  progress;
    int               progress_written;
    double            progress_at;
} video_transcode_t;


/* -- helpers -------------------------------------------------------------- */

static int
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


static int
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


static double
video_transcode_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void video_transcode_tail(const char *path, char *out, size_t size);


/* how long a command asked to stop may take before it is killed */
#define VIDEO_STOP_GRACE  10


/*
 * Runs argv in the media sandbox, working in the job's directory, with
 * stdout to a pipe read line by line into on_line (when given) and
 * stderr to errfile.  VIDEO_JOB_OK when it succeeded; PERMANENT when it
 * failed (the file is bad) or exceeded a limit, TRANSIENT when it could
 * not run, t->err saying why; STOPPED when the worker is stopping.
 */

typedef void (*video_transcode_line_pt)(video_transcode_t *t,
    const char *line, size_t len);

static int
video_transcode_run(video_transcode_t *t, char **argv, const char *errfile,
    video_transcode_line_pt on_line, char *out, size_t out_size)
{
    int              fds[2], errfd, rc, status;
    char             buf[4096], why[VIDEO_ERR_MAX], *nl;
    size_t           have, olen;
    double           stopped;
    ssize_t          n;
    struct pollfd    pfd;
    video_sandbox_t  sb;

    errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW
                          | O_CLOEXEC, 0644);
    if (errfd < 0) {
        snprintf(t->err, sizeof(t->err), "cannot write \"%.400s\": %s",
                 errfile, strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    if (pipe(fds) != 0) {
        snprintf(t->err, sizeof(t->err), "pipe() failed: %s",
                 strerror(errno));
        close(errfd);
        return VIDEO_JOB_TRANSIENT;
    }

    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);

    rc = video_sandbox_start(&sb, t->dir, argv, fds[1], errfd, why,
                             sizeof(why));
    close(fds[1]);
    close(errfd);

    if (rc != 0) {
        close(fds[0]);
        snprintf(t->err, sizeof(t->err), "cannot run %.40s: %.400s", argv[0],
                 why);
        return VIDEO_JOB_TRANSIENT;
    }

    have = 0;
    olen = 0;
    stopped = 0;

    pfd.fd = fds[0];
    pfd.events = POLLIN;

    for ( ;; ) {

        /* asked to stop: the command is, then killed if it lingers */

        if (video_worker_stop && stopped == 0) {
            video_sandbox_kill(&sb, SIGTERM);
            stopped = video_transcode_now();

        } else if (stopped > 0
                   && video_transcode_now() - stopped > VIDEO_STOP_GRACE)
        {
            video_sandbox_kill(&sb, SIGKILL);
        }

        rc = poll(&pfd, 1, 1000);

        if (rc == 0 || (rc < 0 && errno == EINTR)) {
            continue;
        }

        n = (rc < 0) ? -1 : read(fds[0], buf + have, sizeof(buf) - 1 - have);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        if (out != NULL && olen + n < out_size) {
            memcpy(out + olen, buf + have, n);
            olen += n;
            out[olen] = '\0';
        }

        have += n;
        buf[have] = '\0';

        while ((nl = memchr(buf, '\n', have)) != NULL) {
            if (on_line != NULL) {
                on_line(t, buf, nl - buf);
            }

            have -= nl + 1 - buf;
            memmove(buf, nl + 1, have);
        }

        if (have == sizeof(buf) - 1) {
            have = 0;
        }
    }

    close(fds[0]);

    rc = video_sandbox_wait(&sb, errfile, &status, why, sizeof(why));

    if (stopped > 0 || video_worker_stop) {
        return VIDEO_JOB_STOPPED;
    }

    if (rc != VIDEO_SANDBOX_ERROR) {
        video_worker_log("%s%s%s: %.1f CPU-s, %ld MB of address space at "
                         "most", t->job.video_id,
                         t->job.video_id[0] ? ": " : "", argv[0],
                         sb.cpu_ms / 1000.0, sb.vm_kb / 1024);
    }

    switch (rc) {

    case VIDEO_SANDBOX_OK:
        return VIDEO_JOB_OK;

    case VIDEO_SANDBOX_ERROR:
        snprintf(t->err, sizeof(t->err), "cannot run %.40s: %.400s", argv[0],
                 why);
        return VIDEO_JOB_TRANSIENT;

    case VIDEO_SANDBOX_LIMIT:
        snprintf(t->err, sizeof(t->err), "%s", why);
        t->limit = 1;
        return VIDEO_JOB_PERMANENT;

    default:

        /* what the command said, or how it died */

        video_transcode_tail(errfile, t->err, sizeof(t->err));

        if (t->err[0] == '\0' || why[0] != '\0') {
            snprintf(t->err, sizeof(t->err), "%.40s %.400s", argv[0],
                     why[0] ? why : "failed");
        }

        return VIDEO_JOB_PERMANENT;
    }
}


/* the last non-empty line of a file, for error messages */

static void
video_transcode_tail(const char *path, char *out, size_t size)
{
    FILE  *f;
    char   line[VIDEO_ERR_MAX];

    out[0] = '\0';

    f = fopen(path, "r");
    if (f == NULL) {
        return;
    }

    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0') {
            snprintf(out, size, "%s", line);
        }
    }

    fclose(f);
}


/* -- the cache -------------------------------------------------------------- */

/*
 * Puts the video's current JSON into the cache (the newer version wins,
 * as in the module) and bumps the list version; best effort: the cache
 * entry expires anyway
 */

static void
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
 * upload job.
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
              " transcoding_progress = 0, processing_error = NULL,"
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


/*
 * The container, from the original's leading bytes: ffprobe and ffmpeg
 * get its demuxer, so a file that is not one of the accepted containers
 * (a playlist, a concat script naming other files) is never opened by
 * them.  FLV is accepted from live recordings only.
 */

static int
video_transcode_sniff(video_transcode_t *t, unsigned flags)
{
    int            fd;
    char           path[1100];
    ssize_t        n;
    size_t         len;
    struct stat    st;
    const char    *what;
    unsigned char  head[VIDEO_CONTAINER_SNIFF_LEN];

    snprintf(path, sizeof(path), "%s/original", t->dir);

    fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(t->err, sizeof(t->err), "cannot read \"%.400s\": %s", path,
                 fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) {
            close(fd);
        }

        return VIDEO_JOB_TRANSIENT;
    }

    len = 0;

    while (len < sizeof(head)) {
        n = read(fd, head + len, sizeof(head) - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        len += n;
    }

    close(fd);

    if (video_container_sniff(head, len, (uint64_t) st.st_size, flags,
                              &t->container, &what)
        != 0)
    {
        snprintf(t->err, sizeof(t->err), "unsupported container: %s "
                 "(accepted: %s)", what, video_container_accepted(flags));
        return VIDEO_JOB_PERMANENT;
    }

    return VIDEO_JOB_OK;
}


static int
video_transcode_probe(video_transcode_t *t)
{
    int             rc;
    char            errfile[1100], out[65536], buf[2048];
    char           *argv[VIDEO_LADDER_ARGS_MAX];
    const char     *err;
    video_probe_t   probe;

    snprintf(errfile, sizeof(errfile), "%s/ffprobe.log", t->dir);

    if (video_ladder_ffprobe("original", t->container.demuxer, argv, buf,
                             sizeof(buf))
        < 0)
    {
        snprintf(t->err, sizeof(t->err), "cannot build the ffprobe command");
        return VIDEO_JOB_PERMANENT;
    }

    out[0] = '\0';
    rc = video_transcode_run(t, argv, errfile, NULL, out, sizeof(out));

    if (rc == VIDEO_JOB_PERMANENT && t->limit) {
        snprintf(buf, sizeof(buf), "%s", t->err);
        snprintf(t->err, sizeof(t->err), "probing failed: %.400s", buf);
    }

    if (rc != VIDEO_JOB_OK) {
        return rc;
    }

    if (video_probe_parse(out, strlen(out), &probe, &err) != 0) {
        snprintf(t->err, sizeof(t->err), "%s", err);
        return VIDEO_JOB_PERMANENT;
    }

    t->width = probe.width;
    t->height = probe.height;
    t->has_audio = probe.has_audio;
    t->fps = probe.fps;
    t->duration = probe.duration;

    t->nrungs = video_ladder_select(t->width, t->height, t->rungs);

    if (t->nrungs < 1) {
        snprintf(t->err, sizeof(t->err), "unsupported picture size %dx%d",
                 t->width, t->height);
        return VIDEO_JOB_PERMANENT;
    }

    return VIDEO_JOB_OK;
}


static void
video_transcode_on_progress(video_transcode_t *t, const char *line,
    size_t len)
{
    int          pct;
    char         v[16];
    const char  *values[2];
    PGresult    *res;

    if (video_progress_line(&t->progress, line, len) == VIDEO_PROGRESS_NONE) {
        return;
    }

    pct = video_progress_percent(&t->progress, t->duration);

    if (pct <= t->progress_written
        || video_transcode_now() - t->progress_at < 1.0)
    {
        return;
    }

    t->progress_written = pct;
    t->progress_at = video_transcode_now();

    if (t->pg == NULL) {
        return;
    }

    snprintf(v, sizeof(v), "%d", pct);
    values[0] = t->job.video_id;
    values[1] = v;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET transcoding_progress ="
              " greatest(transcoding_progress, $2::smallint)"
              " WHERE id = $1 AND status = 'PROCESSING'",
              2, values, PGRES_COMMAND_OK);
    PQclear(res);
}


static int
video_transcode_encode(video_transcode_t *t)
{
    int                  rc, argc;
    char                 errfile[1100], buf[16384];
    char                *argv[VIDEO_LADDER_ARGS_MAX];
    video_ladder_job_t   lj;

    snprintf(errfile, sizeof(errfile), "%s/ffmpeg.log", t->dir);

    lj.input = "original";
    lj.demuxer = t->container.demuxer;
    lj.outdir = "out";
    lj.has_audio = t->has_audio;
    lj.fps = t->fps;
    lj.duration = t->duration;
    lj.segment = video_worker_conf.segment_seconds;
    lj.preset = video_worker_conf.preset;
    lj.threads = video_worker_conf.encoder_threads > 0
                 ? video_worker_conf.encoder_threads
                 : (int) sysconf(_SC_NPROCESSORS_ONLN);

    argc = video_ladder_ffmpeg(&lj, t->rungs, t->nrungs, argv, buf,
                               sizeof(buf));
    if (argc < 0) {
        snprintf(t->err, sizeof(t->err), "cannot build the ffmpeg command");
        return VIDEO_JOB_PERMANENT;
    }

    video_progress_init(&t->progress);
    t->progress_written = 0;
    t->progress_at = 0;

    rc = video_transcode_run(t, argv, errfile, video_transcode_on_progress,
                             NULL, 0);

    if (rc == VIDEO_JOB_PERMANENT) {
        snprintf(buf, sizeof(buf), "%s", t->err);
        snprintf(t->err, sizeof(t->err), "transcoding failed: %.400s", buf);
    }

    return rc;
}


/*
 * An output to storage.  The sandboxed ffmpeg wrote it, so it is opened
 * without following links (video_sandbox_open): the worker uploads what
 * ffmpeg made, never a file ffmpeg pointed it at.  PERMANENT when it is
 * not such a file, TRANSIENT when storage failed.
 */

static int
video_transcode_put(video_transcode_t *t, const char *bucket,
    const char *rel, const char *type)
{
    int   fd, rc;
    char  key[1200];

    fd = video_sandbox_open(t->dir, rel, t->err, sizeof(t->err));
    if (fd < 0) {
        return VIDEO_JOB_PERMANENT;
    }

    snprintf(key, sizeof(key), "%s/%s", t->job.video_id, rel);

    rc = video_worker_storage_put_fd(bucket, key, fd, type, t->err,
                                     sizeof(t->err));
    close(fd);

    return rc == 0 ? VIDEO_JOB_OK : VIDEO_JOB_TRANSIENT;
}


/* the master playlist, written next to the rungs */

static int
video_transcode_master(video_transcode_t *t)
{
    int   len;
    char  master[4096];

    len = video_ladder_master(t->rungs, t->nrungs, t->has_audio, t->fps,
                              master, sizeof(master));

    if (len < 0) {
        snprintf(t->err, sizeof(t->err), "cannot write the master playlist");
        return -1;
    }

    return video_sandbox_write(t->dir, "master.m3u8", master, len, t->err,
                               sizeof(t->err));
}


/* a segment's name in a rung's playlist, as ffmpeg makes it */

static int
video_transcode_segment_name(const char *name)
{
    size_t  i, n;

    n = strlen(name);

    if (n < 4 || n > 64 || strcmp(name + n - 3, ".ts") != 0
        || name[0] == '.')
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= 'A' && name[i] <= 'Z')
              || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '_' || name[i] == '-' || name[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


/* the master playlist, each rung's playlist and segments, the thumbnail */

static int
video_transcode_upload(video_transcode_t *t)
{
    int    i, fd, rc;
    FILE  *f;
    char   rel[256], line[512], err[VIDEO_ERR_MAX];

    for (i = 0; i < t->nrungs; i++) {
        snprintf(rel, sizeof(rel), "%s/playlist.m3u8", t->rungs[i].name);

        fd = video_sandbox_open(t->dir, rel, err, sizeof(err));
        f = (fd >= 0) ? fdopen(fd, "r") : NULL;

        if (f == NULL) {
            if (fd >= 0) {
                close(fd);
            }

            snprintf(t->err, sizeof(t->err), "ffmpeg wrote no %s playlist "
                     "(%.300s)", t->rungs[i].name, err);
            return VIDEO_JOB_PERMANENT;
        }

        while (fgets(line, sizeof(line), f) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';

            if (line[0] == '\0' || line[0] == '#') {
                continue;
            }

            if (!video_transcode_segment_name(line)) {
                fclose(f);
                snprintf(t->err, sizeof(t->err), "the %s playlist names "
                         "\"%.200s\", not a segment", t->rungs[i].name,
                         line);
                return VIDEO_JOB_PERMANENT;
            }

            snprintf(rel, sizeof(rel), "%s/%.200s", t->rungs[i].name, line);

            rc = video_transcode_put(t, video_worker_conf.bucket_processed,
                                     rel, "video/mp2t");
            if (rc != VIDEO_JOB_OK) {
                fclose(f);
                return rc;
            }
        }

        fclose(f);

        snprintf(rel, sizeof(rel), "%s/playlist.m3u8", t->rungs[i].name);

        rc = video_transcode_put(t, video_worker_conf.bucket_processed, rel,
                                 "application/vnd.apple.mpegurl");
        if (rc != VIDEO_JOB_OK) {
            return rc;
        }
    }

    if (video_transcode_master(t) != 0) {
        return VIDEO_JOB_TRANSIENT;
    }

    rc = video_transcode_put(t, video_worker_conf.bucket_processed,
                             "master.m3u8", "application/vnd.apple.mpegurl");

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_put(t, video_worker_conf.bucket_thumbnails,
                                 "thumbnail.jpg", "image/jpeg");
    }

    return rc;
}


/* variants and READY in one transaction */

static int
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
    snprintf(dur, sizeof(dur), "%d", (int) (t->duration + 0.5));

    values[0] = t->job.video_id;
    values[1] = manifest;
    values[2] = thumb;
    values[3] = dur;

    res = video_worker_pg(t->pg,
              "UPDATE videos SET status = 'READY', transcoding_progress = 100,"
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
    }
}


/* one attempt at the job */

static int
video_transcode_job(video_transcode_t *t)
{
    int   rc, skip;
    char  input[1100], err[VIDEO_ERR_MAX];

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

    rc = video_worker_storage_get(video_worker_conf.bucket_raw,
                                  t->job.input_key, input, err, sizeof(err));
    if (rc == 404) {
        snprintf(t->err, sizeof(t->err), "the original is not in storage");
        return VIDEO_JOB_PERMANENT;
    }

    if (rc != 0) {
        snprintf(t->err, sizeof(t->err), "%s", err);
        return VIDEO_JOB_TRANSIENT;
    }

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
        video_worker_log("video %s: %dx%d, %.2f s, %s audio, %d rung(s)",
                         t->job.video_id, t->width, t->height, t->duration,
                         t->has_audio ? "with" : "no", t->nrungs);
        rc = video_transcode_encode(t);
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
    double       backoff;
    const char  *err;

    err = NULL;

    if (video_job_parse(env->message.body.bytes, env->message.body.len,
                        &t->job, &err)
        != 0
        || t->job.type != VIDEO_JOB_TRANSCODE)
    {
        video_worker_log("dead-lettering a malformed transcode job: %s",
                         err ? err : "not a transcode job");
        return VIDEO_DEAD;
    }

    video_worker_log("transcoding video %s%s", t->job.video_id,
                     env->redelivered ? " (redelivered)" : "");

    backoff = 1;

    for (attempt = 1; ; attempt++) {
        t->err[0] = '\0';
        t->limit = 0;
        rc = video_transcode_job(t);

        switch (rc) {

        case VIDEO_JOB_OK:
            video_worker_log("video %s done", t->job.video_id);
            return VIDEO_ACK;

        case VIDEO_JOB_STOPPED:
            video_worker_log("stopping: video %s goes back to the queue",
                             t->job.video_id);
            return VIDEO_REQUEUE;

        case VIDEO_JOB_PERMANENT:
            video_worker_log("video %s FAILED: %s", t->job.video_id, t->err);
            video_transcode_fail(t, t->err);
            return VIDEO_ACK;
        }

        video_worker_log("video %s, attempt %d of %d: %s", t->job.video_id,
                         attempt, video_worker_conf.max_attempts, t->err);

        if (attempt >= video_worker_conf.max_attempts) {
            char  why[VIDEO_ERR_MAX + 64];

            snprintf(why, sizeof(why), "gave up after %d attempts: %s",
                     attempt, t->err);
            video_transcode_fail(t, why);

            return VIDEO_DEAD;
        }

        video_worker_sleep(backoff);
        backoff = backoff < 16 ? backoff * 2 : 30;

        if (video_worker_stop) {
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

    memset(&video_transcode, 0, sizeof(video_transcode));

    /* said once at the start; a job that cannot have its sandbox fails
       with the reason */

    if (video_sandbox_check(sandbox, sizeof(sandbox)) == 0) {
        video_worker_log("media sandbox: %s", sandbox);

    } else {
        video_worker_log("no media sandbox can be made, every job will "
                         "fail: %s", sandbox);
    }

    rc = video_worker_consume(VIDEO_QUEUE_TRANSCODE, video_transcode_consume);

    if (video_transcode.pg != NULL) {
        PQfinish(video_transcode.pg);
    }

    return rc;
}


/* copies a local source to <dir>/original, where a job has it */

static int
video_transcode_copy(const char *from, const char *dir, char *err,
    size_t size)
{
    int          in, out;
    char         path[1100], buf[65536];
    ssize_t      n;
    struct stat  st, dst;

    snprintf(path, sizeof(path), "%s/original", dir);

    in = open(from, O_RDONLY);
    if (in < 0 || fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, size, "cannot read \"%.400s\": %s", from,
                 in < 0 ? strerror(errno) : "not a regular file");
        goto failed;
    }

    /* already there: "ladder <dir>/original <dir>" */

    if (stat(path, &dst) == 0 && dst.st_dev == st.st_dev
        && dst.st_ino == st.st_ino)
    {
        close(in);
        return 0;
    }

    out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (out < 0) {
        snprintf(err, size, "cannot write \"%.400s\": %s", path,
                 strerror(errno));
        goto failed;
    }

    for ( ;; ) {
        n = read(in, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0 || write(out, buf, n) != n) {
            break;
        }
    }

    if (n != 0 || close(out) != 0) {
        snprintf(err, size, "cannot copy \"%.200s\" to \"%.200s\"", from,
                 path);
        goto failed;
    }

    close(in);

    return 0;

failed:

    if (in >= 0) {
        close(in);
    }

    return -1;
}


/*
 * "video-worker ladder <input> <dir>": the same sniffing, probe and
 * ffmpeg run on a local file (copied to <dir>/original), outputs in
 * <dir>/out, with no service involved (for operators, and for
 * bench/transcode.sh)
 */

int
video_worker_ladder(const char *input, const char *dir)
{
    int                 rc;
    video_transcode_t   t;

    memset(&t, 0, sizeof(t));
    snprintf(t.dir, sizeof(t.dir), "%s", dir);

    if (video_transcode_mkdirs(t.dir) != 0) {
        video_worker_log("cannot create \"%s\": %s", dir, strerror(errno));
        return 1;
    }

    if (video_transcode_copy(input, t.dir, t.err, sizeof(t.err)) != 0
        || video_sandbox_prepare(t.dir, t.err, sizeof(t.err)) != 0)
    {
        video_worker_log("failed: %s", t.err);
        return 1;
    }

    /* an operator's file: a recording may be transcoded by hand */

    rc = video_transcode_sniff(&t, VIDEO_CONTAINER_ALLOW_FLV);

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_probe(&t);
    }

    if (rc == VIDEO_JOB_OK) {
        video_worker_log("%s: %s, %dx%d, %.2f s, %.3f fps, %s audio, "
                         "%d rung(s)", input, t.container.name, t.width,
                         t.height, t.duration, t.fps,
                         t.has_audio ? "with" : "no", t.nrungs);
        rc = video_transcode_encode(&t);
    }

    if (rc == VIDEO_JOB_OK && video_transcode_master(&t) != 0) {
        rc = VIDEO_JOB_PERMANENT;
    }

    if (rc != VIDEO_JOB_OK) {
        video_worker_log("failed: %s", t.err[0] ? t.err : "stopped");
        return 1;
    }

    video_worker_log("wrote %s/out", dir);

    return 0;
}
