/*
 * Path patterns such as "/api/videos/:id/progress" matched against request
 * paths; no nginx types, so the router logic is unit-tested on its own.
 */

#ifndef _VIDEO_ROUTE_H_INCLUDED_
#define _VIDEO_ROUTE_H_INCLUDED_


#include <stddef.h>


#define VIDEO_ROUTE_MAX_PARAMS  4


typedef struct {
    const char  *data;
    size_t       len;
} video_route_param_t;


/*
 * Returns the number of parameters captured (0 or more) when path
 * matches pattern, or -1.  One trailing slash on the path is ignored;
 * a parameter never matches an empty segment.  A last pattern segment "*"
 * captures the rest of the path (one or more segments, slashes included)
 * as one more parameter.  params must have room for
 * VIDEO_ROUTE_MAX_PARAMS entries; they point into path.
 */
int video_route_match(const char *pattern, const char *path, size_t len,
    video_route_param_t *params);


#endif /* _VIDEO_ROUTE_H_INCLUDED_ */
