/*
 * The ffmpeg runs of a chunked transcode, and what is read back from
 * them: the split into pieces and its list, a piece's ladder, the audio,
 * and the segments a run listed in its playlist.
 *
 * The timeline.  The split adds VIDEO_CHUNK_OFFSET seconds to every
 * timestamp of the original, so that none is negative (a B-frame's
 * decode time before the first picture, audio priming) and no muxer
 * shifts one piece differently from the others; each run then subtracts
 * VIDEO_CHUNK_OFFSET - VIDEO_CHUNK_ZERO and keeps the result (-copyts):
 * every segment of every chunk, and the audio, carry the original's own
 * timestamps plus VIDEO_CHUNK_ZERO, so a rung's segments follow each
 * other with no gap and no overlap, frame for frame, and the audio, made
 * in one run, lines up with them.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_ladder.h"
#include "video_ladder_int.h"


int
video_ladder_split(const video_ladder_split_t *job, char **argv, char *buf,
    size_t size)
{
    int                  k;
    char                 times[VIDEO_CHUNK_TIMES_LEN];
    size_t               len;
    double               t, piece;
    video_ladder_args_t  a;

    if (job->first < 1 || job->every < 1 || job->ramp < 0
        || job->duration <= 0)
    {
        return -1;
    }

    /*
     * The cut times, on the shifted timeline: the first piece is short
     * (it is what makes the video playable); the next ones, up to "ramp"
     * seconds into the video, twice that (each is encoded by one worker
     * while the player waits for it: a short piece is ready sooner after
     * the one before it, so the player is not caught up while the
     * workers get ahead of it); then each twice the one before up to
     * "every", the others "every" long (fewer runs, each started once);
     * each is cut at the first keyframe at or after its time
     */

    len = 0;
    times[0] = '\0';
    t = job->first;
    piece = job->first;

    for (k = 0; t < job->duration && k < VIDEO_CHUNK_MAX - 1; k++) {
        len += snprintf(times + len, sizeof(times) - len, "%s%.3f",
                        k ? "," : "", t + VIDEO_CHUNK_OFFSET);

        if (len >= sizeof(times)) {
            return -1;
        }

        piece = piece * 2 < job->every ? piece * 2 : job->every;

        if (t < job->ramp && piece > 2 * job->first) {
            piece = 2 * job->first;
        }

        t += piece;
    }

    video_ladder_args_init(&a, argv, buf, size);
    video_ladder_quiet(&a, 0);
    video_ladder_input(&a, job->input, job->demuxer);

    video_ladder_arg(&a, "-map");
    video_ladder_arg(&a, "0:v:0");
    video_ladder_arg(&a, "-c");
    video_ladder_arg(&a, "copy");
    video_ladder_arg(&a, "-output_ts_offset");
    video_ladder_arg(&a, "%d", VIDEO_CHUNK_OFFSET);
    video_ladder_arg(&a, "-f");
    video_ladder_arg(&a, "segment");

    if (k > 0) {
        video_ladder_arg(&a, "-segment_times");
        video_ladder_arg(&a, "%s", times);

    } else {

        /* one piece: no cut before the end */

        video_ladder_arg(&a, "-segment_time");
        video_ladder_arg(&a, "%d", VIDEO_CHUNK_MAX_SECONDS);
    }

    video_ladder_arg(&a, "-segment_format");
    video_ladder_arg(&a, "nut");
    video_ladder_arg(&a, "-reset_timestamps");
    video_ladder_arg(&a, "0");
    video_ladder_arg(&a, "-segment_list");
    video_ladder_arg(&a, "%s/pieces.csv", job->outdir);
    video_ladder_arg(&a, "-segment_list_type");
    video_ladder_arg(&a, "csv");
    video_ladder_arg(&a, "%s/p%%05d.nut", job->outdir);

    if (job->has_audio) {
        video_ladder_arg(&a, "-map");
        video_ladder_arg(&a, "0:a:0");
        video_ladder_arg(&a, "-c");
        video_ladder_arg(&a, "copy");
        video_ladder_arg(&a, "-output_ts_offset");
        video_ladder_arg(&a, "%d", VIDEO_CHUNK_OFFSET);
        video_ladder_arg(&a, "-f");
        video_ladder_arg(&a, "nut");
        video_ladder_arg(&a, "%s/audio.nut", job->outdir);
    }

    return video_ladder_done(&a);
}


/* a decimal number of seconds, up to the next ',' or line end */

static int
video_ladder_seconds(const char **pp, const char *end, double *out)
{
    char         num[32];
    size_t       n;
    const char  *p;
    char        *e;

    p = *pp;

    for (n = 0; p < end && *p != ',' && *p != '\n' && *p != '\r'; p++) {
        if (n == sizeof(num) - 1 || !((*p >= '0' && *p <= '9') || *p == '.'))
        {
            return -1;
        }

        num[n++] = *p;
    }

    if (n == 0) {
        return -1;
    }

    num[n] = '\0';
    *out = strtod(num, &e);

    if (*e != '\0' || *out > 1e7) {
        return -1;
    }

    *pp = p;

    return 0;
}


int
video_ladder_priority(double start, int max)
{
    int     p;
    double  s;

    p = max;

    for (s = 1; p > 1 && start + 1 >= 2 * s; s *= 2) {
        p--;
    }

    return p;
}


int
video_ladder_chunk_threads(int k, int threads, int cores)
{
    if (k == 0 && threads > 0 && threads < cores) {
        return cores;
    }

    return threads;
}


int
video_ladder_pieces(const char *csv, size_t len, double *start,
    double *end, int max)
{
    int          k;
    char         name[32];
    double       s, e;
    const char  *p, *last;

    p = csv;
    last = csv + len;

    for (k = 0; p < last; k++) {
        if (k == max) {
            return -1;
        }

        snprintf(name, sizeof(name), "p%05d.nut,", k);

        if ((size_t) (last - p) < strlen(name)
            || memcmp(p, name, strlen(name)) != 0)
        {
            return -1;
        }

        p += strlen(name);

        if (video_ladder_seconds(&p, last, &s) != 0 || p == last
            || *p++ != ',' || video_ladder_seconds(&p, last, &e) != 0)
        {
            return -1;
        }

        while (p < last && (*p == '\r' || *p == '\n')) {
            p++;
        }

        /* back on the original's timeline; the first piece starts it */

        s = (k == 0 || s < VIDEO_CHUNK_OFFSET) ? 0 : s - VIDEO_CHUNK_OFFSET;
        e = e < VIDEO_CHUNK_OFFSET ? 0 : e - VIDEO_CHUNK_OFFSET;

        if (e < s || (k > 0 && s < end[k - 1] - 0.001)) {
            return -1;
        }

        start[k] = s;
        end[k] = e;
    }

    return k;
}


/* the picture turned upright, as ffmpeg's autorotation would */

static const char *
video_ladder_turn(int rotation)
{
    switch (rotation) {
    case 90:
        return "transpose=clock,";
    case 180:
        return "hflip,vflip,";
    case 270:
        return "transpose=cclock,";
    default:
        return "";
    }
}


int
video_ladder_chunk(const video_ladder_chunk_t *job, const video_rung_t *rungs,
    int n, char **argv, char *buf, size_t size)
{
    int                  i;
    char                 graph[1536], map[256], segments[32];
    size_t               len;
    video_ladder_args_t  a;

    if (n < 1 || n > VIDEO_LADDER_MAX || job->chunk < 0
        || job->chunk >= VIDEO_CHUNK_MAX)
    {
        return -1;
    }

    /*
     * The piece's timestamps back to the output timeline first; then as
     * the single run: upright, tone-mapped when HDR, a chain of scalers
     * from the highest rung down.  ffmpeg's autorotation is off (the
     * pieces may or may not carry the display matrix): the turn is the
     * probe's, of the original.
     */

    len = snprintf(graph, sizeof(graph),
                   "[0:v:0]setpts=PTS-%d/TB,%s%ssplit=2[c0][t]",
                   VIDEO_CHUNK_OFFSET - VIDEO_CHUNK_ZERO,
                   video_ladder_turn(job->rotation),
                   video_ladder_tonemap(job->hdr));
    len = video_ladder_scalers(graph, len, sizeof(graph), rungs, n);

    if (len < sizeof(graph)) {
        if (job->thumb >= 0) {
            len += snprintf(graph + len, sizeof(graph) - len,
                            ";[t]select='gte(t\\,%.3f)',scale=640:-2[thumb]",
                            job->thumb + VIDEO_CHUNK_ZERO);

        } else {
            len += snprintf(graph + len, sizeof(graph) - len,
                            ";[t]nullsink");
        }
    }

    if (len >= sizeof(graph)) {
        return -1;
    }

    video_ladder_args_init(&a, argv, buf, size);
    video_ladder_quiet(&a, 1);
    video_ladder_arg(&a, "-copyts");
    video_ladder_arg(&a, "-noautorotate");
    video_ladder_threads(&a, job->threads);
    video_ladder_input(&a, job->input, "nut");
    video_ladder_arg(&a, "-filter_complex");
    video_ladder_arg(&a, "%s", graph);

    for (i = 0; i < n; i++) {
        video_ladder_arg(&a, "-map");
        video_ladder_arg(&a, "[v%d]", i);
    }

    /*
     * the source's own timestamps, variable frame rate included, kept to
     * 90 kHz (the encoder would otherwise round them to its frame rate)
     */

    video_ladder_arg(&a, "-fps_mode");
    video_ladder_arg(&a, "passthrough");
    video_ladder_arg(&a, "-enc_time_base:v");
    video_ladder_arg(&a, "1:90000");

    /*
     * a keyframe at the chunk's start and every segment after it, none
     * between; closed GOPs (x264's default), so no picture refers across
     * a segment
     */

    video_ladder_x264(&a, job->preset, job->threads, job->fps, job->segment,
                      job->duration);

    /*
     * Capped quality: a run per chunk restarts the rate control, so a
     * bitrate target would be met chunk by chunk, starving one chunk's
     * hard scenes to pay for another's; a constant quality capped by the
     * rung's ceiling (its advertised BANDWIDTH less the audio) is the
     * same at every boundary
     */

    video_ladder_rates(&a, rungs, n, job->crf > 0 ? job->crf : 23);

    if (video_ladder_var_map(map, sizeof(map), rungs, n, 0) != 0) {
        return -1;
    }

    snprintf(segments, sizeof(segments), "c%05d_%%03d.ts", job->chunk);
    video_ladder_hls(&a, job->segment, 0, job->outdir, segments,
                     "chunk.m3u8", map);

    if (job->thumb >= 0) {
        video_ladder_thumb(&a, job->outdir);
    }

    return video_ladder_done(&a);
}


int
video_ladder_audio(const video_ladder_audio_t *job, char **argv, char *buf,
    size_t size)
{
    video_ladder_args_t  a;

    video_ladder_args_init(&a, argv, buf, size);
    video_ladder_quiet(&a, 1);

    /* progress every 0.1 s: the first segment is put in storage as soon
       as it is closed, and with it the video may become playable */

    video_ladder_arg(&a, "-stats_period");
    video_ladder_arg(&a, "0.1");
    video_ladder_arg(&a, "-copyts");

    /*
     * A copy: the packets as they are (a 10-minute video's audio in a
     * fraction of a second, where the encoder takes 10 CPU-s), the
     * original's priming included, moved back as the pictures are
     */

    if (job->copy) {
        video_ladder_arg(&a, "-itsoffset");
        video_ladder_arg(&a, "-%d", VIDEO_CHUNK_OFFSET - VIDEO_CHUNK_ZERO);
    }

    video_ladder_input(&a, job->input, "nut");
    video_ladder_arg(&a, "-map");
    video_ladder_arg(&a, "0:a:0");

    if (job->copy) {
        video_ladder_arg(&a, "-c:a");
        video_ladder_arg(&a, "copy");

    } else {
        video_ladder_arg(&a, "-af");
        video_ladder_arg(&a, "asetpts=PTS-%d/TB",
                         VIDEO_CHUNK_OFFSET - VIDEO_CHUNK_ZERO);
        video_ladder_aac(&a);
        video_ladder_arg(&a, "-b:a");
        video_ladder_arg(&a, "%dk", job->kbps);
    }

    /* an EVENT playlist, rewritten as each segment is closed: the worker
       uploads segments while the run goes on */

    video_ladder_arg(&a, "-f");
    video_ladder_arg(&a, "hls");
    video_ladder_arg(&a, "-hls_time");
    video_ladder_arg(&a, "%d", job->segment);
    video_ladder_arg(&a, "-hls_playlist_type");
    video_ladder_arg(&a, "event");
    video_ladder_arg(&a, "-hls_segment_filename");
    video_ladder_arg(&a, "%s/a_%%05d.ts", job->outdir);
    video_ladder_arg(&a, "%s/audio.m3u8", job->outdir);

    return video_ladder_done(&a);
}


int
video_ladder_segments(const char *m3u8, size_t len, int chunk,
    double *durations, int max)
{
    int          k, have;
    char         name[32];
    double       d;
    size_t       n;
    const char  *p, *end, *eol;

    p = m3u8;
    end = m3u8 + len;
    k = 0;
    have = 0;
    d = 0;

    while (p < end) {
        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        n = eol - p;

        if (n > 0 && p[n - 1] == '\r') {
            n--;
        }

        if (n > 8 && memcmp(p, "#EXTINF:", 8) == 0) {
            p += 8;

            if (have || video_ladder_seconds(&p, p + (n - 8), &d) != 0
                || d <= 0)
            {
                return -1;
            }

            have = 1;

        } else if (n > 0 && p[0] != '#') {
            if (!have || k == max) {
                return -1;
            }

            if (chunk >= 0) {
                snprintf(name, sizeof(name), "c%05d_%03d.ts", chunk, k);

            } else {
                snprintf(name, sizeof(name), "a_%05d.ts", k);
            }

            if (n != strlen(name) || memcmp(p, name, n) != 0) {
                return -1;
            }

            durations[k++] = d;
            have = 0;
        }

        p = eol + (eol < end);
    }

    return have ? -1 : k;
}
