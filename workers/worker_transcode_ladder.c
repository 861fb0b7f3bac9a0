/*
 * The ladder encode: the original's container sniffed, ffprobe's view of
 * it turned into the rungs, ONE ffmpeg run encoding them all with its
 * progress written to the video, and the master playlist next to them;
 * and "video-worker ladder", the same on a local file.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "video_probe.h"
#include "worker_transcode.h"


/*
 * The container, from the original's leading bytes: ffprobe and ffmpeg
 * get its demuxer, so a file that is not one of the accepted containers
 * (a playlist, a concat script naming other files) is never opened by
 * them.  FLV is accepted from live recordings only.
 */

int
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


int
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
    t->rotation = probe.rotation;
    t->hdr = probe.hdr;
    t->has_audio = probe.has_audio;
    t->audio_copy = video_probe_audio_copy(&probe, VIDEO_CHUNK_AUDIO_KBPS);
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


int
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
    lj.hdr = t->hdr;
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


/* the master playlist, written next to the rungs */

int
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
        video_worker_log("%s: %s, %dx%d (turned %d), %s, %.2f s, %.3f fps, "
                         "%s audio, %d rung(s)", input, t.container.name,
                         t.width, t.height, t.rotation,
                         t.hdr ? "HDR" : "SDR", t.duration, t.fps,
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
