/*
 * Ladder selection and the master playlist.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "video_ladder.h"
#include "video_ladder_int.h"


typedef struct {
    int          height;
    int          video_kbps;
    int          audio_kbps;
    const char  *level;
    const char  *codec;    /* High profile at that level */
} video_ladder_rung_spec_t;


/* bitrates as common for 30 fps H.264 ladders; levels fit each size */
static const video_ladder_rung_spec_t  video_ladder_specs[] = {
    { 1080, 5000, 192, "4.0", "avc1.640028" },
    { 720,  2800, 128, "3.1", "avc1.64001f" },
    { 480,  1400, 128, "3.0", "avc1.64001e" },
    { 360,  800,  96,  "3.0", "avc1.64001e" },
};

#define VIDEO_LADDER_SPECS                                                   \
    (int) (sizeof(video_ladder_specs) / sizeof(video_ladder_specs[0]))


static int video_ladder_master_write(const video_rung_t *rungs, int n,
    int has_audio, int group_kbps, double fps, char *out, size_t size);


/* the nearest even number, at least 2 */

static int
video_ladder_even(double v)
{
    int  n;

    n = 2 * (int) (v / 2 + 0.5);

    return n < 2 ? 2 : n;
}


static void
video_ladder_rung(video_rung_t *r, const video_ladder_rung_spec_t *spec,
    int height, int src_width, int src_height)
{
    snprintf(r->name, sizeof(r->name), "%dp", height);
    r->height = height;
    r->width = video_ladder_even((double) src_width * height / src_height);
    r->video_kbps = spec->video_kbps;
    r->maxrate_kbps = spec->video_kbps * 107 / 100;
    r->audio_kbps = spec->audio_kbps;
    r->level = spec->level;
    r->codec = spec->codec;
}


int
video_ladder_select(int src_width, int src_height, video_rung_t *rungs)
{
    int                              i, n, height;
    const video_ladder_rung_spec_t  *low;

    if (src_width < 2 || src_height < 2 || src_width > 16384
        || src_height > 16384)
    {
        return -1;
    }

    n = 0;

    for (i = 0; i < VIDEO_LADDER_SPECS; i++) {
        if (video_ladder_specs[i].height <= src_height) {
            video_ladder_rung(&rungs[n++], &video_ladder_specs[i],
                              video_ladder_specs[i].height, src_width,
                              src_height);
        }
    }

    if (n > 0) {
        return n;
    }

    /* below the lowest rung: one rendition at the source's own size, at
       the lowest rung's rates scaled down by the pixel count */

    low = &video_ladder_specs[VIDEO_LADDER_SPECS - 1];
    height = src_height - src_height % 2;

    video_ladder_rung(&rungs[0], low, height, src_width, src_height);

    rungs[0].video_kbps = low->video_kbps * height / low->height;
    if (rungs[0].video_kbps < 200) {
        rungs[0].video_kbps = 200;
    }

    rungs[0].maxrate_kbps = rungs[0].video_kbps * 107 / 100;

    return 1;
}


int
video_ladder_master(const video_rung_t *rungs, int n, int has_audio,
    double fps, char *out, size_t size)
{
    return video_ladder_master_write(rungs, n, has_audio, 0, fps, out, size);
}


int
video_ladder_master_group(const video_rung_t *rungs, int n, int has_audio,
    int audio_kbps, double fps, char *out, size_t size)
{
    if (has_audio && audio_kbps <= 0) {
        return -1;
    }

    return video_ladder_master_write(rungs, n, has_audio,
                                     has_audio ? audio_kbps : 0, fps, out,
                                     size);
}


/*
 * group_kbps > 0: the audio is a rendition of its own, at that rate,
 * named by every rung; else each rung carries its own
 */

static int
video_ladder_master_write(const video_rung_t *rungs, int n, int has_audio,
    int group_kbps, double fps, char *out, size_t size)
{
    int     i, w, audio;
    size_t  len;
    char    rate[32];

    len = 0;

    w = snprintf(out, size, "#EXTM3U\n#EXT-X-VERSION:3\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (w < 0 || (size_t) w >= size) {
        return -1;
    }

    len = w;

    if (group_kbps > 0) {
        w = snprintf(out + len, size - len,
                     "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\","
                     "NAME=\"Audio\",DEFAULT=YES,AUTOSELECT=YES,"
                     "CHANNELS=\"2\",URI=\"audio/playlist.m3u8\"\n");
        if (w < 0 || (size_t) w >= size - len) {
            return -1;
        }

        len += w;
    }

    rate[0] = '\0';

    if (fps > 0) {
        snprintf(rate, sizeof(rate), ",FRAME-RATE=%.3f", fps);
    }

    for (i = 0; i < n; i++) {
        audio = has_audio ? (group_kbps ? group_kbps : rungs[i].audio_kbps)
                          : 0;

        w = snprintf(out + len, size - len,
                     "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,"
                     "RESOLUTION=%dx%d,CODECS=\"%s%s\"%s%s\n"
                     "%s/playlist.m3u8\n",
                     (rungs[i].maxrate_kbps + audio) * 1000,
                     (rungs[i].video_kbps + audio) * 1000,
                     rungs[i].width, rungs[i].height, rungs[i].codec,
                     has_audio ? ",mp4a.40.2" : "", rate,
                     group_kbps ? ",AUDIO=\"audio\"" : "", rungs[i].name);

        if (w < 0 || (size_t) w >= size - len) {
            return -1;
        }

        len += w;
    }

    return (int) len;
}


/* an argument formatted into the buffer (video_ladder_int.h) */

void
video_ladder_arg(video_ladder_args_t *a, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    if (a->failed || a->argc >= VIDEO_LADDER_ARGS_MAX - 1) {
        a->failed = 1;
        return;
    }

    va_start(ap, fmt);
    n = vsnprintf(a->buf + a->used, a->size - a->used, fmt, ap);
    va_end(ap);

    if (n < 0 || (size_t) n >= a->size - a->used) {
        a->failed = 1;
        return;
    }

    a->argv[a->argc++] = a->buf + a->used;
    a->used += n + 1;
}


void
video_ladder_input(video_ladder_args_t *a, const char *input,
    const char *demuxer)
{
    if (input == NULL || demuxer == NULL || demuxer[0] == '\0') {
        a->failed = 1;
        return;
    }

    video_ladder_arg(a, "-protocol_whitelist");
    video_ladder_arg(a, "file");
    video_ladder_arg(a, "-f");
    video_ladder_arg(a, "%s", demuxer);

    /* off by default; said here so that no default can turn it on */

    if (strcmp(demuxer, "mov") == 0) {
        video_ladder_arg(a, "-enable_drefs");
        video_ladder_arg(a, "0");
    }

    video_ladder_arg(a, "-i");
    video_ladder_arg(a, "file:%s", input);
}


void
video_ladder_args_init(video_ladder_args_t *a, char **argv, char *buf,
    size_t size)
{
    a->argv = argv;
    a->argc = 0;
    a->buf = buf;
    a->size = size;
    a->used = 0;
    a->failed = 0;
}


void
video_ladder_quiet(video_ladder_args_t *a, int progress)
{
    video_ladder_arg(a, "ffmpeg");
    video_ladder_arg(a, "-hide_banner");
    video_ladder_arg(a, "-nostdin");
    video_ladder_arg(a, "-nostats");
    video_ladder_arg(a, "-loglevel");
    video_ladder_arg(a, "error");

    if (progress) {
        video_ladder_arg(a, "-progress");
        video_ladder_arg(a, "pipe:1");
    }

    video_ladder_arg(a, "-y");
}


/*
 * An HDR picture is tone-mapped once, ahead of the split: in linear
 * light, to BT.709 primaries, Hable's curve, back to BT.709's transfer;
 * without it PQ or HLG shows washed out as SDR
 */

const char *
video_ladder_tonemap(int hdr)
{
    return hdr ? "zscale=t=linear:npl=100,format=gbrpf32le,"
                 "zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
                 "zscale=t=bt709:m=bt709:r=tv,format=yuv420p,"
               : "";
}


size_t
video_ladder_scalers(char *graph, size_t len, size_t size,
    const video_rung_t *rungs, int n)
{
    int  i;

    for (i = 0; i < n && len < size; i++) {
        if (i < n - 1) {
            len += snprintf(graph + len, size - len,
                            ";[c%d]scale=%d:%d,setsar=1,split=2[v%d][c%d]",
                            i, rungs[i].width, rungs[i].height, i, i + 1);

        } else {
            len += snprintf(graph + len, size - len,
                            ";[c%d]scale=%d:%d,setsar=1[v%d]",
                            i, rungs[i].width, rungs[i].height, i);
        }
    }

    return len;
}


void
video_ladder_aac(video_ladder_args_t *a)
{
    video_ladder_arg(a, "-c:a");
    video_ladder_arg(a, "aac");
    video_ladder_arg(a, "-ac");
    video_ladder_arg(a, "2");
    video_ladder_arg(a, "-ar");
    video_ladder_arg(a, "48000");
}


void
video_ladder_threads(video_ladder_args_t *a, int threads)
{
    /*
     * The run's other threads to the same count: the decoder's (an input
     * option, so said before the input) and the filters'.  A worker given
     * one thread then uses one core, not the 1.1-1.3 its decoder's and
     * scalers' threads took on top, and as many workers as cores share
     * them without contention (7% less CPU for the same output measured)
     */

    if (threads > 0) {
        video_ladder_arg(a, "-filter_complex_threads");
        video_ladder_arg(a, "%d", threads);
        video_ladder_arg(a, "-threads");
        video_ladder_arg(a, "%d", threads);
    }
}


void
video_ladder_x264(video_ladder_args_t *a, const char *preset, int threads,
    double fps, int segment, double duration)
{
    int  gop;

    fps = (fps > 0 && fps <= 120) ? fps : 30;
    gop = (int) (fps * segment + 0.5);

    /*
     * Four encoders each taking threads for every core by default (plus
     * lookahead threads) oversubscribe the machine; a thread per core each
     * measured about 10% less CPU for the same output
     */

    if (threads > 0) {
        video_ladder_arg(a, "-threads");
        video_ladder_arg(a, "%d", threads);
    }

    video_ladder_arg(a, "-c:v");
    video_ladder_arg(a, "libx264");
    video_ladder_arg(a, "-preset");
    video_ladder_arg(a, "%s", preset ? preset : "veryfast");
    video_ladder_arg(a, "-profile:v");
    video_ladder_arg(a, "high");
    video_ladder_arg(a, "-pix_fmt");
    video_ladder_arg(a, "yuv420p");

    /*
     * A B-frame delays the first picture after the first decode time,
     * where hls.js starts the timeline: a hole of two frames that its
     * gap controller jumps once the video plays, but a clip of a few
     * frames is buffered whole with the player in that hole, hls.js
     * never ends the stream, and Chromium never plays it
     */

    if (duration > 0 && duration < VIDEO_LADDER_SHORT_CLIP) {
        video_ladder_arg(a, "-bf");
        video_ladder_arg(a, "0");
    }

    /*
     * a keyframe at every segment boundary in every rung, none between
     * ("t" is the time since the output's start)
     */

    video_ladder_arg(a, "-g");
    video_ladder_arg(a, "%d", gop);
    video_ladder_arg(a, "-keyint_min");
    video_ladder_arg(a, "%d", gop);
    video_ladder_arg(a, "-sc_threshold");
    video_ladder_arg(a, "0");
    video_ladder_arg(a, "-force_key_frames");
    video_ladder_arg(a, "expr:gte(t,n_forced*%d)", segment);
}


int
video_ladder_var_map(char *map, size_t size, const video_rung_t *rungs,
    int n, int has_audio)
{
    int     i;
    size_t  len;

    len = 0;
    map[0] = '\0';

    for (i = 0; i < n && len < size; i++) {
        if (has_audio) {
            len += snprintf(map + len, size - len, "%sv:%d,a:%d,name:%s",
                            i ? " " : "", i, i, rungs[i].name);
        } else {
            len += snprintf(map + len, size - len, "%sv:%d,name:%s",
                            i ? " " : "", i, rungs[i].name);
        }
    }

    return len < size ? 0 : -1;
}


/*
 * Each rung's rate: a bitrate target with a 2 s VBV (crf 0), or a
 * constant quality capped at the rung's ceiling with a 1 s VBV
 */

void
video_ladder_rates(video_ladder_args_t *a, const video_rung_t *rungs, int n,
    int crf)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (crf > 0) {
            video_ladder_arg(a, "-crf:v:%d", i);
            video_ladder_arg(a, "%d", crf);

        } else {
            video_ladder_arg(a, "-b:v:%d", i);
            video_ladder_arg(a, "%dk", rungs[i].video_kbps);
        }

        video_ladder_arg(a, "-maxrate:v:%d", i);
        video_ladder_arg(a, "%dk", rungs[i].maxrate_kbps);
        video_ladder_arg(a, "-bufsize:v:%d", i);
        video_ladder_arg(a, "%dk", crf > 0 ? rungs[i].maxrate_kbps
                                           : rungs[i].video_kbps * 2);
        video_ladder_arg(a, "-level:v:%d", i);
        video_ladder_arg(a, "%s", rungs[i].level);
    }
}


void
video_ladder_hls(video_ladder_args_t *a, int segment, int independent,
    const char *outdir, const char *segments, const char *playlist,
    const char *map)
{
    video_ladder_arg(a, "-f");
    video_ladder_arg(a, "hls");
    video_ladder_arg(a, "-hls_time");
    video_ladder_arg(a, "%d", segment);
    video_ladder_arg(a, "-hls_playlist_type");
    video_ladder_arg(a, "vod");

    if (independent) {
        video_ladder_arg(a, "-hls_flags");
        video_ladder_arg(a, "independent_segments");
    }

    video_ladder_arg(a, "-hls_segment_filename");
    video_ladder_arg(a, "%s/%%v/%s", outdir, segments);
    video_ladder_arg(a, "-var_stream_map");
    video_ladder_arg(a, "%s", map);
    video_ladder_arg(a, "%s/%%v/%s", outdir, playlist);
}


void
video_ladder_thumb(video_ladder_args_t *a, const char *outdir)
{
    video_ladder_arg(a, "-map");
    video_ladder_arg(a, "[thumb]");
    video_ladder_arg(a, "-frames:v");
    video_ladder_arg(a, "1");
    video_ladder_arg(a, "-q:v");
    video_ladder_arg(a, "3");
    video_ladder_arg(a, "%s/thumbnail.jpg", outdir);
}


int
video_ladder_done(video_ladder_args_t *a)
{
    if (a->failed) {
        return -1;
    }

    a->argv[a->argc] = NULL;

    return a->argc;
}


int
video_ladder_ffprobe(const char *input, const char *demuxer, char **argv,
    char *buf, size_t size)
{
    video_ladder_args_t  a;

    video_ladder_args_init(&a, argv, buf, size);
    video_ladder_arg(&a, "ffprobe");
    video_ladder_arg(&a, "-v");
    video_ladder_arg(&a, "error");
    video_ladder_arg(&a, "-print_format");
    video_ladder_arg(&a, "json");
    video_ladder_arg(&a, "-show_streams");
    video_ladder_arg(&a, "-show_format");
    video_ladder_input(&a, input, demuxer);

    return video_ladder_done(&a);
}


int
video_ladder_ffmpeg(const video_ladder_job_t *job,
    const video_rung_t *rungs, int n, char **argv, char *buf, size_t size)
{
    int                  i;
    char                 graph[1024], map[256];
    size_t               len;
    double               thumb;
    video_ladder_args_t  a;

    if (n < 1 || n > VIDEO_LADDER_MAX) {
        return -1;
    }

    video_ladder_args_init(&a, argv, buf, size);

    thumb = job->duration / 3;
    if (thumb > 5) {
        thumb = 5;
    }

    /*
     * One decode feeds a chain of scalers, highest rung first, each rung
     * scaled from the one above it: scaling is much of the work after
     * encoding, and a 480p picture is as good from 720p as from 1080p.
     * The thumbnail comes from the source.
     */

    /*
     * ffmpeg turns a rotated source upright before the graph (its
     * autorotation), so the rungs' sizes are the displayed picture's.
     * An HDR picture is tone-mapped once, ahead of the split: in linear
     * light, to BT.709 primaries, Hable's curve, back to BT.709's
     * transfer; without it PQ or HLG shows washed out as SDR.
     */

    len = snprintf(graph, sizeof(graph), "[0:v:0]%ssplit=2[c0][t]",
                   video_ladder_tonemap(job->hdr));
    len = video_ladder_scalers(graph, len, sizeof(graph), rungs, n);

    if (len < sizeof(graph)) {
        len += snprintf(graph + len, sizeof(graph) - len,
                        ";[t]select='gte(t\\,%.3f)',scale=640:-2[thumb]",
                        thumb);
    }

    if (len >= sizeof(graph)) {
        return -1;
    }

    video_ladder_quiet(&a, 1);
    video_ladder_threads(&a, job->threads);
    video_ladder_input(&a, job->input, job->demuxer);
    video_ladder_arg(&a, "-filter_complex");
    video_ladder_arg(&a, "%s", graph);

    for (i = 0; i < n; i++) {
        video_ladder_arg(&a, "-map");
        video_ladder_arg(&a, "[v%d]", i);
    }

    for (i = 0; job->has_audio && i < n; i++) {
        video_ladder_arg(&a, "-map");
        video_ladder_arg(&a, "0:a:0");
    }

    video_ladder_x264(&a, job->preset, job->threads, job->fps, job->segment,
                      job->duration);

    video_ladder_rates(&a, rungs, n, 0);

    if (job->has_audio) {
        video_ladder_aac(&a);

        for (i = 0; i < n; i++) {
            video_ladder_arg(&a, "-b:a:%d", i);
            video_ladder_arg(&a, "%dk", rungs[i].audio_kbps);
        }
    }

    if (video_ladder_var_map(map, sizeof(map), rungs, n, job->has_audio)
        != 0)
    {
        return -1;
    }

    video_ladder_hls(&a, job->segment, 1, job->outdir, "segment_%03d.ts",
                     "playlist.m3u8", map);

    /* the thumbnail: one frame, a second output of the same run */

    video_ladder_thumb(&a, job->outdir);

    return video_ladder_done(&a);
}
