/*
 * Segment-by-segment matcher for route patterns.
 */

#include <string.h>

#include "video_route.h"


int
video_route_match(const char *pattern, const char *path, size_t len,
    video_route_param_t *params)
{
    int          n;
    size_t       plen;
    const char  *p, *end, *seg;

    if (len > 1 && path[len - 1] == '/') {
        len--;
    }

    p = path;
    end = path + len;
    n = 0;

    while (*pattern != '\0') {

        if (*pattern != '/' || p == end || *p != '/') {
            return -1;
        }

        pattern++;
        p++;

        seg = p;
        while (p < end && *p != '/') {
            p++;
        }

        plen = strcspn(pattern, "/");

        if (plen == 1 && *pattern == '*' && pattern[1] == '\0') {

            /* the rest of the path, one or more segments */

            if (p == seg || n == VIDEO_ROUTE_MAX_PARAMS) {
                return -1;
            }

            params[n].data = seg;
            params[n].len = (size_t) (end - seg);

            return n + 1;
        }

        if (*pattern == ':') {
            if (p == seg || n == VIDEO_ROUTE_MAX_PARAMS) {
                return -1;
            }

            params[n].data = seg;
            params[n].len = (size_t) (p - seg);
            n++;

        } else if (plen != (size_t) (p - seg)
                   || memcmp(pattern, seg, plen) != 0)
        {
            return -1;
        }

        pattern += plen;
    }

    return (p == end) ? n : -1;
}
