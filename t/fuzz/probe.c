/*
 * ffprobe's output about an uploaded file, as the transcoder takes it:
 * video_probe_parse() on any bytes, and what it accepts goes where the
 * transcoder sends it: the ladder for that size, its master playlist,
 * the ffmpeg arguments for its one run, and progress percentages against
 * its duration.  Each stays within the bounds its header gives.
 */

#include <math.h>

#include <jansson.h>

#include "fuzz.h"
#include "video_ladder.h"
#include "video_probe.h"
#include "video_progress.h"


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
    int                  i, n, len, argc, pct;
    char                *master, *buf;
    char                *argv[VIDEO_LADDER_ARGS_MAX];
    const char          *err;
    video_probe_t        p;
    video_rung_t         rungs[VIDEO_LADDER_MAX];
    video_progress_t     prog;
    video_ladder_job_t   job;

    err = NULL;

    if (video_probe_parse((const char *) data, size, &p, &err) != 0) {
        fuzz_assert(err != NULL);
        return 0;
    }

    fuzz_assert(p.width > 0 && p.height > 0);
    fuzz_assert(isfinite(p.duration) && p.duration > 0);
    fuzz_assert(isfinite(p.fps) && p.fps >= 0);
    fuzz_assert(p.rotation == 0 || p.rotation == 90 || p.rotation == 180
                || p.rotation == 270);
    fuzz_assert(p.hdr == 0 || p.hdr == 1);

    n = video_ladder_select(p.width, p.height, rungs);

    if (n < 0) {
        return 0;
    }

    fuzz_assert(n >= 1 && n <= VIDEO_LADDER_MAX);

    for (i = 0; i < n; i++) {
        fuzz_assert(rungs[i].height <= p.height && rungs[i].height >= 2);
        fuzz_assert(rungs[i].width >= 2 && rungs[i].width % 2 == 0);
        fuzz_assert(i == 0 || rungs[i].height < rungs[i - 1].height);
    }

    /* exact sizes: ASan sees a byte past them */

    master = malloc(2048);
    buf = malloc(16384);

    if (master != NULL && buf != NULL) {
        len = video_ladder_master(rungs, n, p.has_audio, p.fps, master, 2048);
        fuzz_assert(len > 0 && len < 2048 && (size_t) len == strlen(master));

        memset(&job, 0, sizeof(job));
        job.input = "/work/in/original.mp4";
        job.demuxer = "mov";
        job.outdir = "/work/out";
        job.has_audio = p.has_audio;
        job.fps = p.fps;
        job.duration = p.duration;
        job.segment = 6;
        job.preset = "veryfast";
        job.threads = 0;
        job.hdr = p.hdr;

        argc = video_ladder_ffmpeg(&job, rungs, n, argv, buf, 16384);
        fuzz_assert(argc > 0 && argc < VIDEO_LADDER_ARGS_MAX
                    && argv[argc] == NULL);
    }

    free(buf);
    free(master);

    /* halfway, then past the end */

    video_progress_init(&prog);
    prog.out_time_us = (int64_t) fmin(p.duration * 5e5, 1e17);
    pct = video_progress_percent(&prog, p.duration);
    fuzz_assert(pct >= 0 && pct <= 99);

    prog.out_time_us = (int64_t) fmin(p.duration * 2e6 + 1, 1e17);
    fuzz_assert(video_progress_percent(&prog, p.duration) == 99
                || prog.out_time_us == (int64_t) 1e17);

    return 0;
}
