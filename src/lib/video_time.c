/*
 * ISO 8601 formatting without locale or time zone state, so it is safe in
 * any process.
 */

#include <stdio.h>
#include <time.h>

#include "video_time.h"


size_t
video_time_iso8601(char *buf, int64_t ms)
{
    int        n;
    time_t     sec;
    int64_t    frac;
    struct tm  tm;

    sec = (time_t) (ms / 1000);
    frac = ms % 1000;

    if (frac < 0) {
        frac += 1000;
        sec--;
    }

    if (gmtime_r(&sec, &tm) == NULL
        || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
    {
        buf[0] = '\0';
        return 0;
    }

    n = snprintf(buf, VIDEO_TIME_ISO_LEN + 1,
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) frac);

    return (n == VIDEO_TIME_ISO_LEN) ? (size_t) n : 0;
}


int64_t
video_time_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
