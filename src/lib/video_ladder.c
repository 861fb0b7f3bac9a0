/*
 * Ladder selection and the master playlist.
 */

#include <stdio.h>
#include <string.h>

#include "video_ladder.h"


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

    rate[0] = '\0';

    if (fps > 0) {
        snprintf(rate, sizeof(rate), ",FRAME-RATE=%.3f", fps);
    }

    for (i = 0; i < n; i++) {
        audio = has_audio ? rungs[i].audio_kbps : 0;

        w = snprintf(out + len, size - len,
                     "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,"
                     "RESOLUTION=%dx%d,CODECS=\"%s%s\"%s\n%s/playlist.m3u8\n",
                     (rungs[i].maxrate_kbps + audio) * 1000,
                     (rungs[i].video_kbps + audio) * 1000,
                     rungs[i].width, rungs[i].height, rungs[i].codec,
                     has_audio ? ",mp4a.40.2" : "", rate, rungs[i].name);

        if (w < 0 || (size_t) w >= size - len) {
            return -1;
        }

        len += w;
    }

    return (int) len;
}
