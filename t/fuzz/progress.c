/*
 * ffmpeg's -progress output as the transcoder reads it: the first line
 * is the source's duration as ffprobe printed it (read with strtod, as
 * the probe is), the rest are progress lines fed one by one to
 * video_progress_line(), and after each block the percentage is taken.
 * The percentage stays in 0..99 and never goes back, out_time never
 * goes back, frame is never negative.
 */

#include <stdlib.h>

#include "fuzz.h"
#include "video_progress.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc, pct, last;
    char              *text;
    double             duration;
    int64_t            out_time;
    fuzz_part_t        parts[2];
    const char        *p, *end, *nl;
    video_progress_t   prog;

    fuzz_split(data, size, '\n', parts, 2);

    text = fuzz_strndup(parts[0].data, parts[0].len);
    if (text == NULL) {
        return 0;
    }

    duration = strtod(text, NULL);
    free(text);

    video_progress_init(&prog);

    last = 0;
    out_time = prog.out_time_us;
    p = parts[1].data;
    end = p + parts[1].len;

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        if (nl == NULL) {
            nl = end;
        }

        rc = video_progress_line(&prog, p, nl - p);

        fuzz_assert(rc == VIDEO_PROGRESS_NONE || rc == VIDEO_PROGRESS_CONTINUE
                    || rc == VIDEO_PROGRESS_END);
        fuzz_assert(prog.out_time_us >= out_time && prog.frame >= 0);

        out_time = prog.out_time_us;

        if (rc != VIDEO_PROGRESS_NONE) {
            pct = video_progress_percent(&prog, duration);

            fuzz_assert(pct >= 0 && pct <= 99 && pct >= last);
            last = pct;
        }

        p = nl + 1;
    }

    return 0;
}
