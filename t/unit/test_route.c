/*
 * video_route_match: literal segments, parameters, trailing slashes.
 */

#include <string.h>

#include "unit.h"
#include "video_route.h"


static int
match(const char *pattern, const char *path, video_route_param_t *params)
{
    return video_route_match(pattern, path, strlen(path), params);
}


START_TEST(literal_paths_match_exactly)
{
    video_route_param_t  p[VIDEO_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(match("/health", "/health", p), 0);
    ck_assert_int_eq(match("/api/videos", "/api/videos", p), 0);
    ck_assert_int_eq(match("/api/videos", "/api/video", p), -1);
    ck_assert_int_eq(match("/api/videos", "/api/videosx", p), -1);
    ck_assert_int_eq(match("/api/videos", "/api/videos/x", p), -1);
    ck_assert_int_eq(match("/api/videos", "/api", p), -1);
    ck_assert_int_eq(match("/api/videos", "", p), -1);
    ck_assert_int_eq(match("/health", "health", p), -1);
}
END_TEST


START_TEST(one_trailing_slash_is_ignored)
{
    video_route_param_t  p[VIDEO_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(match("/api/videos", "/api/videos/", p), 0);
    ck_assert_int_eq(match("/api/videos", "/api/videos//", p), -1);
}
END_TEST


START_TEST(parameters_capture_one_segment)
{
    video_route_param_t  p[VIDEO_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(match("/api/videos/:id/progress",
                           "/api/videos/V1StGXR8_Z5jdHi6B-myT/progress", p),
                     1);
    ck_assert_uint_eq(p[0].len, 21);
    ck_assert(memcmp(p[0].data, "V1StGXR8_Z5jdHi6B-myT", 21) == 0);

    ck_assert_int_eq(match("/api/videos/:id", "/api/videos/abc/", p), 1);
    ck_assert_uint_eq(p[0].len, 3);

    ck_assert_int_eq(match("/a/:x/b/:y", "/a/1/b/22", p), 2);
    ck_assert_uint_eq(p[0].len, 1);
    ck_assert_uint_eq(p[1].len, 2);
    ck_assert(memcmp(p[1].data, "22", 2) == 0);
}
END_TEST


START_TEST(parameters_never_match_empty_or_missing_segments)
{
    video_route_param_t  p[VIDEO_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(match("/api/videos/:id", "/api/videos", p), -1);
    ck_assert_int_eq(match("/api/videos/:id", "/api/videos//", p), -1);
    ck_assert_int_eq(match("/api/videos/:id/progress",
                           "/api/videos//progress", p), -1);
    ck_assert_int_eq(match("/api/videos/:id/progress",
                           "/api/videos/abc/progress/more", p), -1);
    ck_assert_int_eq(match("/api/videos/:id", "/api/videos/a/b", p), -1);
}
END_TEST


START_TEST(length_bounds_the_path)
{
    video_route_param_t  p[VIDEO_ROUTE_MAX_PARAMS];
    const char          *path = "/api/videos/abc?x=1";

    /* nginx strings are not NUL-terminated: only len bytes count */

    ck_assert_int_eq(video_route_match("/api/videos/:id", path, 15, p), 1);
    ck_assert_uint_eq(p[0].len, 3);
}
END_TEST


START_TEST(a_star_captures_the_rest_of_the_path)
{
    video_route_param_t  p[VIDEO_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(match("/play/:id/*", "/play/abc/master.m3u8", p), 2);
    ck_assert_uint_eq(p[1].len, 11);
    ck_assert(memcmp(p[1].data, "master.m3u8", 11) == 0);

    ck_assert_int_eq(match("/play/:id/*", "/play/abc/720p/segment_001.ts",
                           p), 2);
    ck_assert_uint_eq(p[0].len, 3);
    ck_assert_uint_eq(p[1].len, 19);
    ck_assert(memcmp(p[1].data, "720p/segment_001.ts", 19) == 0);

    /* one trailing slash is dropped, as elsewhere */

    ck_assert_int_eq(match("/play/:id/*", "/play/abc/720p/", p), 2);
    ck_assert_uint_eq(p[1].len, 4);

    /* the rest is never empty */

    ck_assert_int_eq(match("/play/:id/*", "/play/abc", p), -1);
    ck_assert_int_eq(match("/play/:id/*", "/play/abc/", p), -1);
    ck_assert_int_eq(match("/play/:id/*", "/play/abc//x", p), -1);
    ck_assert_int_eq(match("/play/:id/*", "/plays/abc/x", p), -1);
}
END_TEST


Suite *
unit_route_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("route");
    tc = tcase_create("match");

    tcase_add_test(tc, literal_paths_match_exactly);
    tcase_add_test(tc, one_trailing_slash_is_ignored);
    tcase_add_test(tc, parameters_capture_one_segment);
    tcase_add_test(tc, parameters_never_match_empty_or_missing_segments);
    tcase_add_test(tc, length_bounds_the_path);
    tcase_add_test(tc, a_star_captures_the_rest_of_the_path);
    suite_add_tcase(s, tc);

    return s;
}
