/*
 * Chunked transcoding (chunk_seconds > 0; README "Transcoding in
 * chunks").
 *
 * The video's job, once the original is probed, splits it by stream copy
 * into pieces cut at keyframes (the first chunk_first_seconds long, the
 * next ones twice the one before up to chunk_seconds), puts the first
 * and the audio in the raw bucket under "<id>/pieces/", writes the chunk
 * state (video_hls, video_chunks) and the first chunk's and the audio's
 * jobs into the outbox in one transaction, then puts every other piece,
 * each followed by its chunk job, with a priority falling as the piece
 * starts later, so a new video's first minutes pass the later chunks of
 * a long one.  Any transcode worker, here or on another machine sharing
 * the broker and storage, takes a chunk job, fetches its
 * piece alone, encodes every rung of it (video_ladder_chunk()), puts the
 * segments in storage and marks the chunk done with its segments'
 * durations.  The audio's job encodes the whole audio in one run and
 * puts its segments in storage as they are closed.
 *
 * After each, the video's progress is the part of its length done; it
 * becomes playable (playable_at, hls_manifest_key) once its first chunk
 * and the audio under it are there; its playlists are rendered from the
 * chunk state (video_hls_file(), conf/sql/0016_chunks.sql), by the module
 * meanwhile; when the last chunk is done, whichever worker did it puts
 * the final playlists in storage, writes the variants and makes the
 * video READY (twice is harmless), and the pieces are removed.
 *
 * A chunk is idempotent (its outputs have fixed names) and retried like
 * a job; a worker killed mid-chunk leaves that chunk to the broker; a
 * chunk that fails for good fails the video with the reason.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker_transcode.h"


#define VIDEO_CHUNK_FILE_MAX    (4 * 1024 * 1024)


/* a file the sandboxed run wrote in out/, whole, NUL-terminated */

static char *
video_chunk_read(video_transcode_t *t, const char *rel, size_t *len)
{
    int          fd;
    char        *data;
    ssize_t      n;
    struct stat  st;

    fd = video_sandbox_open(t->dir, rel, t->err, sizeof(t->err));
    if (fd < 0) {
        return NULL;
    }

    if (fstat(fd, &st) != 0 || st.st_size > VIDEO_CHUNK_FILE_MAX) {
        snprintf(t->err, sizeof(t->err), "\"out/%.200s\" is too large", rel);
        close(fd);
        return NULL;
    }

    data = malloc(st.st_size + 1);
    if (data == NULL) {
        snprintf(t->err, sizeof(t->err), "out of memory");
        close(fd);
        return NULL;
    }

    *len = 0;

    while (*len < (size_t) st.st_size) {
        n = read(fd, data + *len, st.st_size - *len);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        *len += n;
    }

    close(fd);
    data[*len] = '\0';

    return data;
}


/* "{1.5,2.25}": doubles as a PostgreSQL array, into a malloc()ed string */

static char *
video_chunk_array(const double *v, int n)
{
    int     i;
    char   *s, *p;

    s = malloc((size_t) n * 24 + 3);
    if (s == NULL) {
        return NULL;
    }

    p = s;
    *p++ = '{';

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s%.6f", i ? "," : "", v[i]);
    }

    *p++ = '}';
    *p = '\0';

    return s;
}


static int
video_chunk_sql(video_transcode_t *t, const char *sql, int n,
    const char **values)
{
    PGresult  *res;

    res = video_worker_pg(t->pg, sql, n, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        return VIDEO_JOB_TRANSIENT;
    }

    PQclear(res);

    return VIDEO_JOB_OK;
}


/* -- the split, in the video's job -------------------------------------- */

/* the file name of piece k, or of the audio's (k < 0): in the split's
   directory, and under "<id>/pieces/" in the raw bucket */

static void
video_chunk_piece_name(char *buf, size_t size, int k)
{
    if (k < 0) {
        snprintf(buf, size, "audio.nut");

    } else {
        snprintf(buf, size, "p%05d.nut", k);
    }
}


/* its key in the raw bucket */

static void
video_chunk_piece_key(video_transcode_t *t, char *buf, size_t size, int k)
{
    char  name[32];

    video_chunk_piece_name(name, sizeof(name), k);
    snprintf(buf, size, "%s/pieces/%s", t->job.video_id, name);
}


/* piece k into storage, or the audio's (k < 0) */

static int
video_chunk_piece_put(video_transcode_t *t, int k)
{
    char  rel[32], key[64];

    video_chunk_piece_name(rel, sizeof(rel), k);
    snprintf(key, sizeof(key), "pieces/%s", rel);

    return video_transcode_put_as(t, video_worker_conf.bucket_raw, rel, key,
                                  "application/octet-stream");
}


/* the pieces, once the video is READY or gone; what is left is only space */

static void
video_chunk_pieces_delete(video_transcode_t *t, int n)
{
    int   k;
    char  key[128], err[256];

    for (k = -1; k < n; k++) {
        if (k < 0 && !t->has_audio) {
            continue;
        }

        video_chunk_piece_key(t, key, sizeof(key), k);

        if (video_worker_storage_delete(video_worker_conf.bucket_raw, key,
                                        err, sizeof(err))
            != 0)
        {
            video_worker_log("video %s: cannot remove %s: %s",
                             t->job.video_id, key, err);
        }
    }
}


/*
 * The job of chunk k (the audio's: -1), into the outbox once its piece is
 * in storage, with the priority of the piece's start (the audio's: 0;
 * video_ladder_priority())
 */

static int
video_chunk_queue(video_transcode_t *t, int k, double start)
{
    char         n[16], p[16];
    const char  *values[3];

    snprintf(n, sizeof(n), "%d", k);
    snprintf(p, sizeof(p), "%d",
             video_ladder_priority(start, VIDEO_CHUNK_PRIORITY));
    values[0] = t->job.video_id;
    values[1] = n;
    values[2] = p;

    return video_chunk_sql(t,
               "INSERT INTO outbox (topic, payload, priority)"
               " VALUES ('" VIDEO_QUEUE_CHUNK "', json_build_object("
               "  'type', 'chunk', 'videoId', $1::text, 'chunk', $2::integer),"
               "  $3::integer)",
               3, values);
}


/* the video is still PROCESSING, not READY, FAILED or deleted (or
   PostgreSQL did not say) */

static int
video_chunk_processing(video_transcode_t *t)
{
    int          processing;
    const char  *values[1];
    PGresult    *res;

    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
              "SELECT 1 FROM videos WHERE id = $1 AND status = 'PROCESSING'",
              1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        return 1;
    }

    processing = (PQntuples(res) == 1);
    PQclear(res);

    return processing;
}


/* the chunk state and the first chunk's and the audio's jobs, in one
   transaction */

static int
video_chunk_state(video_transcode_t *t, int n, const double *start,
    const double *end)
{
    int          rc, len;
    char        *starts, *ends, rungs[128], target[16], chunks[16];
    char         w[16], h[16], rot[16], fps[32], dur[32], thumb[32];
    char         master[4096];
    size_t       rl;
    const char  *values[14];
    PGresult    *res;

    len = video_ladder_master_group(t->rungs, t->nrungs, t->has_audio,
                                    VIDEO_CHUNK_AUDIO_KBPS, t->fps, master,
                                    sizeof(master));
    if (len < 0) {
        snprintf(t->err, sizeof(t->err), "cannot write the master playlist");
        return VIDEO_JOB_PERMANENT;
    }

    rl = 0;
    rungs[rl++] = '{';

    for (len = 0; len < t->nrungs; len++) {
        rl += snprintf(rungs + rl, sizeof(rungs) - rl, "%s%s",
                       len ? "," : "", t->rungs[len].name);
    }

    snprintf(rungs + rl, sizeof(rungs) - rl, "}");

    starts = video_chunk_array(start, n);
    ends = video_chunk_array(end, n);

    if (starts == NULL || ends == NULL) {
        free(starts);
        free(ends);
        snprintf(t->err, sizeof(t->err), "out of memory");
        return VIDEO_JOB_TRANSIENT;
    }

    snprintf(target, sizeof(target), "%d", video_worker_conf.segment_seconds);
    snprintf(chunks, sizeof(chunks), "%d", n);
    snprintf(w, sizeof(w), "%d", t->width);
    snprintf(h, sizeof(h), "%d", t->height);
    snprintf(rot, sizeof(rot), "%d", t->rotation);
    snprintf(fps, sizeof(fps), "%.6f", t->fps);
    snprintf(dur, sizeof(dur), "%.6f", t->duration);
    snprintf(thumb, sizeof(thumb), "%.3f",
             t->duration / 3 > 5 ? 5 : t->duration / 3);

    values[0] = t->job.video_id;

    rc = video_chunk_sql(t, "BEGIN", 0, NULL);
    if (rc != VIDEO_JOB_OK) {
        goto done;
    }

    /*
     * A split done again (the job redelivered, or retried after a piece
     * failed to upload) keeps the chunks of the first one when its pieces
     * are the same (a stream copy of the same original with the same
     * settings: the chunks done are still right), and starts them over
     * when they are not
     */

    values[1] = starts;
    values[2] = ends;
    values[3] = t->has_audio ? "t" : "f";

    rc = video_chunk_sql(t,
             "DELETE FROM video_hls h WHERE h.video_id = $1"
             " AND (h.has_audio <> $4::boolean OR (SELECT"
             "  array_agg(c.start_s ORDER BY c.n) IS DISTINCT FROM $2::float8[]"
             "  OR array_agg(c.end_s ORDER BY c.n)"
             "   IS DISTINCT FROM $3::float8[]"
             "  FROM video_chunks c WHERE c.video_id = $1 AND c.n >= 0))",
             4, values);
    if (rc == VIDEO_JOB_OK) {
        rc = video_chunk_sql(t,
                 "DELETE FROM video_chunks WHERE video_id = $1"
                 " AND NOT EXISTS (SELECT 1 FROM video_hls"
                 "  WHERE video_id = $1)",
                 1, values);
    }

    values[1] = master;
    values[2] = rungs;
    values[3] = t->has_audio ? "t" : "f";
    values[4] = target;
    values[5] = chunks;
    values[6] = w;
    values[7] = h;
    values[8] = rot;
    values[9] = t->hdr ? "t" : "f";
    values[10] = fps;
    values[11] = dur;
    values[12] = thumb;
    values[13] = t->audio_copy ? "t" : "f";

    if (rc == VIDEO_JOB_OK) {
        rc = video_chunk_sql(t,
                 "INSERT INTO video_hls (video_id, master, rungs, has_audio,"
                 " target, chunks, width, height, rotation, hdr, fps,"
                 " duration, thumb_at, audio_copy)"
                 " VALUES ($1, $2, $3::text[], $4::boolean, $5::smallint,"
                 " $6::integer, $7::integer, $8::integer, $9::smallint,"
                 " $10::boolean, $11::float8, $12::float8, $13::float8,"
                 " $14::boolean)"
                 " ON CONFLICT (video_id) DO NOTHING",
                 14, values);
    }

    values[1] = starts;
    values[2] = ends;
    values[3] = t->has_audio ? "t" : "f";
    values[4] = dur;

    if (rc == VIDEO_JOB_OK) {
        rc = video_chunk_sql(t,
                 "INSERT INTO video_chunks (video_id, n, start_s, end_s)"
                 " SELECT $1, p.k - 1, p.s, p.e FROM unnest($2::float8[],"
                 " $3::float8[]) WITH ORDINALITY AS p (s, e, k)"
                 " UNION ALL SELECT $1, -1, 0, $5::float8 WHERE $4::boolean"
                 " ON CONFLICT (video_id, n) DO NOTHING",
                 5, values);
    }

    /*
     * the first chunk, then the audio (a worker alone encodes the first
     * chunk before the audio, whose first segment then makes the video
     * playable); the next chunks are queued as their pieces are put in
     * storage
     */

    if (rc == VIDEO_JOB_OK) {
        rc = video_chunk_queue(t, 0, start[0]);
    }

    if (rc == VIDEO_JOB_OK && t->has_audio) {
        rc = video_chunk_queue(t, -1, 0);
    }

    if (rc == VIDEO_JOB_OK) {
        rc = video_chunk_sql(t, "COMMIT", 0, NULL);

    } else {
        res = video_worker_pg(t->pg, "ROLLBACK", 0, NULL, PGRES_COMMAND_OK);
        PQclear(res);
    }

done:

    free(starts);
    free(ends);

    return rc;
}


int
video_transcode_split(video_transcode_t *t)
{
    int                   argc, n, k, rc;
    char                 *buf, *csv, errfile[1100];
    char                 *argv[VIDEO_LADDER_ARGS_MAX];
    double               *start, *end;
    size_t                size, len;
    video_ladder_split_t  sj;

    size = 16384 + VIDEO_CHUNK_TIMES_LEN;
    buf = malloc(size);
    start = malloc(sizeof(double) * VIDEO_CHUNK_MAX * 2);

    if (buf == NULL || start == NULL) {
        free(buf);
        free(start);
        snprintf(t->err, sizeof(t->err), "out of memory");
        return VIDEO_JOB_TRANSIENT;
    }

    end = start + VIDEO_CHUNK_MAX;
    csv = NULL;

    sj.input = "original";
    sj.demuxer = t->container.demuxer;
    sj.outdir = "out";
    sj.duration = t->duration;
    sj.first = video_worker_conf.chunk_first_seconds;
    sj.every = video_worker_conf.chunk_seconds;
    sj.ramp = video_worker_conf.chunk_ramp_seconds;
    sj.has_audio = t->has_audio;

    argc = video_ladder_split(&sj, argv, buf, size);
    if (argc < 0) {
        snprintf(t->err, sizeof(t->err), "cannot build the split command");
        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    snprintf(errfile, sizeof(errfile), "%s/split.log", t->dir);

    rc = video_transcode_run(t, argv, errfile, NULL, NULL, 0);

    if (rc == VIDEO_JOB_PERMANENT) {
        snprintf(buf, size, "%s", t->err);
        snprintf(t->err, sizeof(t->err), "splitting failed: %.400s", buf);
    }

    if (rc != VIDEO_JOB_OK) {
        goto done;
    }

    csv = video_chunk_read(t, "pieces.csv", &len);
    if (csv == NULL) {
        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    n = video_ladder_pieces(csv, len, start, end, VIDEO_CHUNK_MAX);

    if (n < 1) {
        snprintf(t->err, sizeof(t->err), "splitting failed: no pieces");
        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    /* the last piece ends where the original does */

    if (end[n - 1] < t->duration) {
        end[n - 1] = t->duration;
    }

    video_worker_log("video %s: %d piece(s), the first %.3f s", t->job.video_id,
                     n, end[0] - start[0]);

    /*
     * The first piece and the audio, the chunk state with their jobs, then
     * every other piece followed by its job: a chunk is encoded while the
     * pieces after it are still being put in storage
     */

    rc = video_chunk_piece_put(t, 0);

    if (rc == VIDEO_JOB_OK && t->has_audio) {
        rc = video_chunk_piece_put(t, -1);
    }

    if (rc == VIDEO_JOB_OK) {
        rc = video_chunk_state(t, n, start, end);
    }

    for (k = 1; rc == VIDEO_JOB_OK && k < n; k++) {
        rc = video_chunk_piece_put(t, k);

        if (rc == VIDEO_JOB_OK) {
            rc = video_chunk_queue(t, k, start[k]);
        }
    }

    /*
     * the video deleted or failed while its pieces were put in storage,
     * or, split again with its chunks all done already, made READY by
     * the first of them, whose worker removed the pieces there were
     * then: the others go too
     */

    if (rc == VIDEO_JOB_OK && !video_chunk_processing(t)) {
        video_chunk_pieces_delete(t, n);
    }

done:

    free(csv);
    free(buf);
    free(start);

    return rc;
}


/* -- a chunk's job ------------------------------------------------------ */

/*
 * What a chunk's job knows of its video, its piece and the ladder; *state
 * VIDEO_CHUNK_TODO, VIDEO_CHUNK_DONE (done already, the video still
 * PROCESSING), or VIDEO_CHUNK_GONE (no such chunk, or the video is not
 * PROCESSING)
 */

#define VIDEO_CHUNK_TODO  0
#define VIDEO_CHUNK_DONE  1
#define VIDEO_CHUNK_GONE  2

static int
video_chunk_load(video_transcode_t *t, int *state)
{
    char         n[16];
    const char  *values[2];
    PGresult    *res;

    snprintf(n, sizeof(n), "%d", t->job.chunk);
    values[0] = t->job.video_id;
    values[1] = n;

    res = video_worker_pg(t->pg,
              "SELECT CASE WHEN v.status <> 'PROCESSING' THEN 'g'"
              "  WHEN c.done_at IS NULL THEN 't' ELSE 'd' END,"
              " h.width, h.height, h.rotation, h.hdr, h.fps, h.duration,"
              " h.has_audio, c.start_s, c.end_s,"
              " h.thumb_at >= c.start_s"
              "  AND (h.thumb_at < c.end_s OR c.n = h.chunks - 1),"
              " h.audio_copy"
              " FROM videos v JOIN video_hls h ON h.video_id = v.id"
              " JOIN video_chunks c ON c.video_id = v.id AND c.n = $2"
              " WHERE v.id = $1",
              2, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        return VIDEO_JOB_TRANSIENT;
    }

    if (PQntuples(res) != 1 || PQgetvalue(res, 0, 0)[0] == 'g') {
        *state = VIDEO_CHUNK_GONE;

    } else {
        *state = PQgetvalue(res, 0, 0)[0] == 't' ? VIDEO_CHUNK_TODO
                                                 : VIDEO_CHUNK_DONE;

        t->width = atoi(PQgetvalue(res, 0, 1));
        t->height = atoi(PQgetvalue(res, 0, 2));
        t->rotation = atoi(PQgetvalue(res, 0, 3));
        t->hdr = PQgetvalue(res, 0, 4)[0] == 't';
        t->fps = atof(PQgetvalue(res, 0, 5));
        t->duration = atof(PQgetvalue(res, 0, 6));
        t->has_audio = PQgetvalue(res, 0, 7)[0] == 't';
        t->chunk_start = atof(PQgetvalue(res, 0, 8));
        t->chunk_end = atof(PQgetvalue(res, 0, 9));
        t->chunk_thumb = PQgetvalue(res, 0, 10)[0] == 't';
        t->audio_copy = PQgetvalue(res, 0, 11)[0] == 't';
        t->nrungs = video_ladder_select(t->width, t->height, t->rungs);
    }

    PQclear(res);

    if (*state != VIDEO_CHUNK_GONE && t->nrungs < 1) {
        snprintf(t->err, sizeof(t->err), "unsupported picture size %dx%d",
                 t->width, t->height);
        return VIDEO_JOB_PERMANENT;
    }

    return VIDEO_JOB_OK;
}


/* the chunk done, with its segments' durations */

static int
video_chunk_done(video_transcode_t *t, const double *d, int n, int done)
{
    int          rc;
    char        *durations, chunk[16];
    const char  *values[4];

    durations = video_chunk_array(d, n);
    if (durations == NULL) {
        snprintf(t->err, sizeof(t->err), "out of memory");
        return VIDEO_JOB_TRANSIENT;
    }

    snprintf(chunk, sizeof(chunk), "%d", t->job.chunk);
    values[0] = t->job.video_id;
    values[1] = chunk;
    values[2] = durations;
    values[3] = done ? "t" : "f";

    rc = video_chunk_sql(t,
             "UPDATE video_chunks SET durations = $3::float8[],"
             " done_at = CASE WHEN $4::boolean THEN clock_timestamp() END"
             " WHERE video_id = $1 AND n = $2::integer AND done_at IS NULL",
             4, values);

    free(durations);

    return rc;
}


/*
 * A video deleted, or failed by another chunk, while this chunk was
 * encoded: the cleanup may have run before this chunk's outputs were in
 * storage, so they go now
 */

static void
video_chunk_orphans(video_transcode_t *t, int n)
{
    int          i, k;
    char         key[160], err[256];
    const char  *values[1];
    PGresult    *res;

    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
                          "SELECT 1 FROM videos WHERE id = $1"
                          " AND status = 'PROCESSING'", 1,
                          values, PGRES_TUPLES_OK);
    if (res == NULL || PQntuples(res) != 0) {
        PQclear(res);
        return;
    }

    PQclear(res);

    video_worker_log("video %s was deleted or failed meanwhile: chunk %d's "
                     "outputs go", t->job.video_id, t->job.chunk);

    for (i = 0; i < t->nrungs; i++) {
        for (k = 0; k < n; k++) {
            snprintf(key, sizeof(key), "%s/%s/c%05d_%03d.ts", t->job.video_id,
                     t->rungs[i].name, t->job.chunk, k);
            video_worker_storage_delete(video_worker_conf.bucket_processed,
                                        key, err, sizeof(err));
        }
    }

    if (t->chunk_thumb) {
        snprintf(key, sizeof(key), "%s/thumbnail.jpg", t->job.video_id);
        video_worker_storage_delete(video_worker_conf.bucket_thumbnails, key,
                                    err, sizeof(err));
    }

    video_chunk_piece_key(t, key, sizeof(key), t->job.chunk);
    video_worker_storage_delete(video_worker_conf.bucket_raw, key, err,
                                sizeof(err));
}


/* a chunk of the picture: every rung of the piece */

static int
video_chunk_video(video_transcode_t *t)
{
    int                   argc, i, k, n, m, rc;
    char                  errfile[1100], buf[16384], rel[128], key[128];
    char                 *argv[VIDEO_LADDER_ARGS_MAX], *list;
    double                d[VIDEO_CHUNK_SEGMENTS], e[VIDEO_CHUNK_SEGMENTS];
    double                rest, mid;
    size_t                len;
    video_ladder_chunk_t  cj;

    cj.input = "original";
    cj.outdir = "out";
    cj.chunk = t->job.chunk;
    cj.rotation = t->rotation;
    cj.hdr = t->hdr;
    cj.fps = t->fps;
    cj.segment = video_worker_conf.segment_seconds;
    cj.preset = video_worker_conf.preset;
    cj.threads = video_ladder_chunk_threads(t->job.chunk,
                     video_worker_conf.encoder_threads,
                     (int) sysconf(_SC_NPROCESSORS_ONLN));
    cj.crf = 0;
    cj.duration = t->duration;
    cj.thumb = t->chunk_thumb
               ? (t->duration / 3 > 5 ? 5 : t->duration / 3) : -1;

    /*
     * within the piece, and not in its last half: a time past its last
     * frame (the piece ends where the next one starts) would select none
     */

    if (cj.thumb >= 0) {
        mid = t->chunk_start + (t->chunk_end - t->chunk_start) / 2;

        if (cj.thumb > mid) {
            cj.thumb = mid;
        }

        if (cj.thumb < t->chunk_start) {
            cj.thumb = t->chunk_start;
        }
    }

    argc = video_ladder_chunk(&cj, t->rungs, t->nrungs, argv, buf,
                              sizeof(buf));
    if (argc < 0) {
        snprintf(t->err, sizeof(t->err), "cannot build the ffmpeg command");
        return VIDEO_JOB_PERMANENT;
    }

    snprintf(errfile, sizeof(errfile), "%s/ffmpeg.log", t->dir);

    rc = video_transcode_run(t, argv, errfile, NULL, NULL, 0);

    if (rc == VIDEO_JOB_PERMANENT) {
        snprintf(buf, sizeof(buf), "%s", t->err);
        snprintf(t->err, sizeof(t->err), "chunk %d: transcoding failed: "
                 "%.400s", t->job.chunk, buf);
    }

    if (rc != VIDEO_JOB_OK) {
        return rc;
    }

    /*
     * every rung has the same segments, cut at the same keyframes; the
     * first rung's durations are the playlists'
     */

    n = -1;

    for (i = 0; i < t->nrungs; i++) {
        snprintf(rel, sizeof(rel), "%s/chunk.m3u8", t->rungs[i].name);

        list = video_chunk_read(t, rel, &len);
        if (list == NULL) {
            return VIDEO_JOB_PERMANENT;
        }

        m = video_ladder_segments(list, len, t->job.chunk, i ? e : d,
                                  VIDEO_CHUNK_SEGMENTS);
        free(list);

        if (m < 1 || (i > 0 && m != n)) {
            snprintf(t->err, sizeof(t->err), "chunk %d: the %s playlist "
                     "lists %d segment(s), not as the other rungs",
                     t->job.chunk, t->rungs[i].name, m);
            return VIDEO_JOB_PERMANENT;
        }

        n = m;

        /*
         * the last segment lasts to the next piece's first frame: ffmpeg
         * counts it in frames at the nominal rate, which a variable
         * frame rate makes wrong
         */

        rest = t->chunk_end - t->chunk_start;

        for (k = 0; k < n - 1; k++) {
            rest -= d[k];
        }

        if (i == 0 && rest > 0.001) {
            d[n - 1] = rest;
        }

        for (k = 0; k < n; k++) {
            snprintf(rel, sizeof(rel), "%s/c%05d_%03d.ts", t->rungs[i].name,
                     t->job.chunk, k);

            rc = video_transcode_put_as(t,
                                        video_worker_conf.bucket_processed,
                                        rel, rel, "video/mp2t");
            if (rc != VIDEO_JOB_OK) {
                return rc;
            }
        }
    }

    if (t->chunk_thumb) {
        snprintf(key, sizeof(key), "thumbnail.jpg");

        rc = video_transcode_put_as(t, video_worker_conf.bucket_thumbnails,
                                    "thumbnail.jpg", key, "image/jpeg");
        if (rc != VIDEO_JOB_OK) {
            return rc;
        }
    }

    rc = video_chunk_done(t, d, n, 1);

    if (rc == VIDEO_JOB_OK) {
        video_chunk_orphans(t, n);
    }

    return rc;
}


/*
 * The audio's segments that the run has closed since the last call, to
 * storage, and the chunk row told how far the audio goes (the playlists
 * grow with it); done: the run has ended, the list is whole
 */

static int
video_chunk_audio_flush(video_transcode_t *t, int done)
{
    int      k, n, rc;
    char    *list, rel[64], key[64];
    double   d[VIDEO_CHUNK_SEGMENTS * 4];
    size_t   len;

    list = video_chunk_read(t, "audio.m3u8", &len);
    if (list == NULL) {
        return done ? VIDEO_JOB_PERMANENT : VIDEO_JOB_OK;
    }

    n = video_ladder_segments(list, len, -1, d, VIDEO_CHUNK_SEGMENTS * 4);
    free(list);

    if (n < 0 || (done && n == 0)) {
        snprintf(t->err, sizeof(t->err), "the audio playlist lists no "
                 "segments, or more than %d", VIDEO_CHUNK_SEGMENTS * 4);
        return VIDEO_JOB_PERMANENT;
    }

    if (n == t->audio_sent && !done) {
        return VIDEO_JOB_OK;
    }

    for (k = t->audio_sent; k < n; k++) {
        snprintf(rel, sizeof(rel), "a_%05d.ts", k);
        snprintf(key, sizeof(key), "audio/a_%05d.ts", k);

        rc = video_transcode_put_as(t, video_worker_conf.bucket_processed,
                                    rel, key, "video/mp2t");
        if (rc != VIDEO_JOB_OK) {
            return rc;
        }
    }

    t->audio_sent = n;

    rc = video_chunk_done(t, d, n, done);

    if (rc == VIDEO_JOB_OK && !done) {
        video_transcode_chunk_after(t);
    }

    return rc;
}


static void
video_chunk_audio_progress(video_transcode_t *t, const char *line,
    size_t len)
{
    (void) line;
    (void) len;

    /* until the first segment is out, at every report; then every 0.5 s */

    if (t->audio_failed
        || (t->audio_sent > 0 && video_transcode_now() - t->progress_at < 0.5))
    {
        return;
    }

    t->progress_at = video_transcode_now();

    if (video_chunk_audio_flush(t, 0) != VIDEO_JOB_OK) {
        t->audio_failed = 1;
    }
}


static int
video_chunk_audio(video_transcode_t *t)
{
    int                   argc, rc;
    char                  errfile[1100], buf[4096];
    char                 *argv[VIDEO_LADDER_ARGS_MAX];
    video_ladder_audio_t  aj;

    aj.input = "original";
    aj.outdir = "out";
    aj.segment = video_worker_conf.segment_seconds;
    aj.kbps = VIDEO_CHUNK_AUDIO_KBPS;
    aj.copy = t->audio_copy;

    if (aj.copy) {
        video_worker_log("video %s: the audio copied", t->job.video_id);
    }

    argc = video_ladder_audio(&aj, argv, buf, sizeof(buf));
    if (argc < 0) {
        snprintf(t->err, sizeof(t->err), "cannot build the ffmpeg command");
        return VIDEO_JOB_PERMANENT;
    }

    snprintf(errfile, sizeof(errfile), "%s/ffmpeg.log", t->dir);

    t->audio_sent = 0;
    t->audio_failed = 0;
    t->progress_at = 0;

    rc = video_transcode_run(t, argv, errfile, video_chunk_audio_progress,
                             NULL, 0);

    if (rc == VIDEO_JOB_PERMANENT) {
        snprintf(buf, sizeof(buf), "%s", t->err);
        snprintf(t->err, sizeof(t->err), "the audio: transcoding failed: "
                 "%.400s", buf);
    }

    if (rc != VIDEO_JOB_OK) {
        return rc;
    }

    return video_chunk_audio_flush(t, 1);
}


/* the final playlists into storage, rendered from the chunk state */

static int
video_chunk_playlists(video_transcode_t *t)
{
    int          i, fd, rc;
    char         path[1200], rel[64], key[128];
    ssize_t      w;
    const char  *values[2], *text;
    PGresult    *res;

    for (i = -2; i < t->nrungs; i++) {
        if (i == -2) {
            snprintf(rel, sizeof(rel), "master.m3u8");

        } else if (i == -1) {
            if (!t->has_audio) {
                continue;
            }

            snprintf(rel, sizeof(rel), "audio/playlist.m3u8");

        } else {
            snprintf(rel, sizeof(rel), "%s/playlist.m3u8", t->rungs[i].name);
        }

        values[0] = t->job.video_id;
        values[1] = rel;

        res = video_worker_pg(t->pg, "SELECT video_hls_file($1, $2)", 2,
                              values, PGRES_TUPLES_OK);
        if (res == NULL) {
            snprintf(t->err, sizeof(t->err), "postgresql failed");
            return VIDEO_JOB_TRANSIENT;
        }

        if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
            PQclear(res);
            snprintf(t->err, sizeof(t->err), "no %s to write", rel);
            return VIDEO_JOB_PERMANENT;
        }

        text = PQgetvalue(res, 0, 0);

        snprintf(path, sizeof(path), "%s/playlist.m3u8", t->dir);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0644);
        w = (fd >= 0) ? write(fd, text, strlen(text)) : -1;

        PQclear(res);

        if (fd < 0 || w < 0 || close(fd) != 0) {
            snprintf(t->err, sizeof(t->err), "cannot write \"%.400s\": %s",
                     path, strerror(errno));
            return VIDEO_JOB_TRANSIENT;
        }

        snprintf(key, sizeof(key), "%s/%s", t->job.video_id, rel);

        rc = video_worker_storage_put(video_worker_conf.bucket_processed, key,
                                      path, "application/vnd.apple.mpegurl",
                                      t->err, sizeof(t->err));
        if (rc != 0) {
            return VIDEO_JOB_TRANSIENT;
        }
    }

    return VIDEO_JOB_OK;
}


/*
 * After a chunk (or some of the audio): the progress, playable once the
 * first chunk and the audio under it are there, READY once all are.  The
 * run that makes the video playable is the one whose time (q.now, read
 * once) playable_at got: clock_timestamp() read again in RETURNING would
 * be later, and the cached video would never learn it plays.
 */

int
video_transcode_chunk_after(video_transcode_t *t)
{
    int          rc, chunks, playable;
    const char  *values[1];
    PGresult    *res;

    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
              "WITH s AS ("
              " SELECT h.chunks, h.has_audio,"
              "  count(*) FILTER (WHERE c.n >= 0 AND c.done_at IS NOT NULL)"
              "   AS done,"
              "  COALESCE(sum(c.end_s - c.start_s)"
              "   FILTER (WHERE c.n >= 0 AND c.done_at IS NOT NULL), 0)"
              "   AS done_s,"
              "  greatest(sum(c.end_s - c.start_s) FILTER (WHERE c.n >= 0),"
              "   0.001) AS total_s,"
              "  bool_or(c.n = 0 AND c.done_at IS NOT NULL) AS first,"
              "  min(c.end_s) FILTER (WHERE c.n = 0) AS first_end,"
              "  bool_or(c.n = -1 AND c.done_at IS NOT NULL) AS audio_done,"
              "  COALESCE(sum((SELECT sum(d) FROM unnest(c.durations) d))"
              "   FILTER (WHERE c.n = -1), 0) AS audio_s,"
              "  clock_timestamp() AS now"
              " FROM video_hls h JOIN video_chunks c USING (video_id)"
              " WHERE h.video_id = $1 GROUP BY h.chunks, h.has_audio"
              "), q AS ("
              " SELECT s.*, COALESCE(s.first AND (NOT s.has_audio"
              "  OR s.audio_done OR s.audio_s >= s.first_end), false)"
              "  AS playable FROM s"
              "), p AS ("
              " UPDATE videos v SET transcoding_progress ="
              "  greatest(v.transcoding_progress,"
              "   least(99, floor(100 * q.done_s / q.total_s))::smallint),"
              "  playable_at = CASE WHEN v.playable_at IS NULL AND q.playable"
              "   THEN q.now ELSE v.playable_at END,"
              "  hls_manifest_key = CASE WHEN q.playable"
              "   THEN v.id || '/master.m3u8' ELSE v.hls_manifest_key END,"
              "  updated_at = CASE WHEN v.playable_at IS NULL AND q.playable"
              "   THEN video_touch(v.updated_at) ELSE v.updated_at END"
              " FROM q WHERE v.id = $1 AND v.status = 'PROCESSING'"
              " RETURNING v.playable_at IS NOT NULL"
              "  AND v.playable_at = q.now AS now_playable"
              ")"
              " SELECT q.chunks, q.done = q.chunks"
              "  AND (NOT q.has_audio OR q.audio_done),"
              "  COALESCE((SELECT bool_or(now_playable) FROM p), false)"
              " FROM q",
              1, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        snprintf(t->err, sizeof(t->err), "postgresql failed");
        return VIDEO_JOB_TRANSIENT;
    }

    if (PQntuples(res) != 1) {
        PQclear(res);
        return VIDEO_JOB_OK;
    }

    chunks = atoi(PQgetvalue(res, 0, 0));
    rc = PQgetvalue(res, 0, 1)[0] == 't';
    playable = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);

    if (playable) {
        video_worker_log("video %s is playable", t->job.video_id);
        video_transcode_cache(t->pg, t->job.video_id);
    }

    if (!rc) {
        return VIDEO_JOB_OK;
    }

    /* every chunk is done: the playlists for good, the variants, READY */

    rc = video_chunk_playlists(t);

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_finish(t);
    }

    if (rc == VIDEO_JOB_OK) {
        video_worker_log("video %s: all %d chunk(s) done, READY",
                         t->job.video_id, chunks);
        video_chunk_pieces_delete(t, chunks);
    }

    return rc;
}


int
video_transcode_chunk(video_transcode_t *t)
{
    int          rc, state;
    char         input[1100], key[128], err[VIDEO_ERR_MAX], n[16];
    const char  *values[2];
    PGresult    *res;

    rc = video_chunk_load(t, &state);
    if (rc != VIDEO_JOB_OK) {
        return rc;
    }

    if (state == VIDEO_CHUNK_GONE) {
        video_worker_log("video %s, chunk %d: done already, or the video is "
                         "not PROCESSING: nothing to do", t->job.video_id,
                         t->job.chunk);
        return VIDEO_JOB_OK;
    }

    snprintf(t->dir, sizeof(t->dir), "%s/%s.c%d", video_worker_conf.work_dir,
             t->job.video_id, t->job.chunk);

    video_transcode_rmtree(t->dir);

    if (video_transcode_mkdirs(t->dir) != 0) {
        snprintf(t->err, sizeof(t->err), "cannot create \"%.400s\": %s",
                 t->dir, strerror(errno));
        return VIDEO_JOB_TRANSIENT;
    }

    /*
     * done, but what follows a chunk may not have been (the worker that
     * did it stopped, or storage failed while it wrote the playlists):
     * that again, which is harmless when it was
     */

    if (state == VIDEO_CHUNK_DONE) {
        video_worker_log("video %s, chunk %d: done already", t->job.video_id,
                         t->job.chunk);
        rc = video_transcode_chunk_after(t);
        goto done;
    }

    snprintf(n, sizeof(n), "%d", t->job.chunk);
    values[0] = t->job.video_id;
    values[1] = n;

    res = video_worker_pg(t->pg,
              "UPDATE video_chunks SET attempts = attempts + 1"
              " WHERE video_id = $1 AND n = $2::integer",
              2, values, PGRES_COMMAND_OK);
    PQclear(res);

    video_chunk_piece_key(t, key, sizeof(key), t->job.chunk);

    snprintf(input, sizeof(input), "%s/original", t->dir);

    rc = video_worker_storage_get(video_worker_conf.bucket_raw, key, NULL,
                                  input, err, sizeof(err));
    if (rc == 404) {
        if (t->job.chunk < 0) {
            snprintf(t->err, sizeof(t->err), "the audio: its piece is not "
                     "in storage");

        } else {
            snprintf(t->err, sizeof(t->err), "chunk %d: the piece is not in "
                     "storage", t->job.chunk);
        }

        rc = VIDEO_JOB_PERMANENT;
        goto done;
    }

    if (rc != 0) {
        snprintf(t->err, sizeof(t->err), "%s", err);
        rc = VIDEO_JOB_TRANSIENT;
        goto done;
    }

    if (video_sandbox_prepare(t->dir, t->err, sizeof(t->err)) != 0) {
        rc = VIDEO_JOB_TRANSIENT;
        goto done;
    }

    rc = (t->job.chunk < 0) ? video_chunk_audio(t) : video_chunk_video(t);

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_chunk_after(t);
    }

done:

    if (rc != VIDEO_JOB_STOPPED) {
        video_transcode_rmtree(t->dir);
    }

    return rc;
}


/*
 * A chunked video that failed for good: what its chunks put in storage
 * (the segments of the chunks done, the audio's so far, the thumbnail)
 * and its pieces, as the chunk state lists them; the state stays, for
 * the record.  Best effort: what is left is only space, and DELETE's
 * cleanup removes the video's prefixes anyway.
 */

void
video_transcode_chunk_discard(video_transcode_t *t)
{
    int          i, k, r, n, segs, chunk;
    char         key[160], err[256];
    const char  *values[1];
    PGresult    *res;

    values[0] = t->job.video_id;

    res = video_worker_pg(t->pg,
              "SELECT c.n, COALESCE(array_length(c.durations, 1), 0),"
              " h.width, h.height, h.has_audio"
              " FROM video_hls h JOIN video_chunks c USING (video_id)"
              " WHERE h.video_id = $1 ORDER BY c.n",
              1, values, PGRES_TUPLES_OK);
    if (res == NULL || PQntuples(res) == 0) {
        PQclear(res);
        return;
    }

    n = PQntuples(res);
    t->nrungs = video_ladder_select(atoi(PQgetvalue(res, 0, 2)),
                                    atoi(PQgetvalue(res, 0, 3)), t->rungs);
    t->has_audio = PQgetvalue(res, 0, 4)[0] == 't';

    for (i = 0; i < n; i++) {
        chunk = atoi(PQgetvalue(res, i, 0));
        segs = atoi(PQgetvalue(res, i, 1));

        for (k = 0; k < segs; k++) {
            if (chunk < 0) {
                snprintf(key, sizeof(key), "%s/audio/a_%05d.ts",
                         t->job.video_id, k);
                video_worker_storage_delete(
                    video_worker_conf.bucket_processed, key, err,
                    sizeof(err));
                continue;
            }

            for (r = 0; r < t->nrungs; r++) {
                snprintf(key, sizeof(key), "%s/%s/c%05d_%03d.ts",
                         t->job.video_id, t->rungs[r].name, chunk, k);
                video_worker_storage_delete(
                    video_worker_conf.bucket_processed, key, err,
                    sizeof(err));
            }
        }
    }

    PQclear(res);

    snprintf(key, sizeof(key), "%s/thumbnail.jpg", t->job.video_id);
    video_worker_storage_delete(video_worker_conf.bucket_thumbnails, key, err,
                                sizeof(err));

    video_chunk_pieces_delete(t, t->has_audio ? n - 1 : n);

    video_worker_log("video %s: the outputs of its chunks and its pieces "
                     "are removed", t->job.video_id);
}
