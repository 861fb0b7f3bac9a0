/*
 * video_redact.c: what access logs may keep of a request target.
 */

#include <string.h>

#include "unit.h"
#include "video_redact.h"


#define TOKEN  "1790000000-P70eCuw1miR4W5iOe9pDwaKHO_3bealrVyBUVNu__dTwE"


static char  out[1024];


static const char *
redact(const char *in)
{
    size_t  n;

    n = video_redact_target(in, strlen(in), out);
    ck_assert_uint_le(n, strlen(in));
    out[n] = '\0';

    return out;
}


START_TEST(play_tokens_leave_paths)
{
    ck_assert_str_eq(redact("/play/V1StGXR8_Z5jdHi6B-myT/" TOKEN
                            "/720p/playlist.m3u8"),
                     "/play/V1StGXR8_Z5jdHi6B-myT/-/720p/playlist.m3u8");
    ck_assert_str_eq(redact("/live/V1StGXR8_Z5jdHi6B-myT/" TOKEN
                            "/index.m3u8?x=1"),
                     "/live/V1StGXR8_Z5jdHi6B-myT/-/index.m3u8?x=1");

    /* escaped, it is still a token */
    ck_assert_str_eq(redact("/play/V1StGXR8_Z5jdHi6B-myT/%31%37"
                            "90000000-P70eCuw1miR4W5iOe9pDwaKHO_3bealrVyBUVNu__"
                            "dTwE"),
                     "/play/V1StGXR8_Z5jdHi6B-myT/-");

    /* what is no token stays */
    ck_assert_str_eq(redact("/play/V1StGXR8_Z5jdHi6B-myT/master.m3u8"),
                     "/play/V1StGXR8_Z5jdHi6B-myT/master.m3u8");
    ck_assert_str_eq(redact("/api/videos/V1StGXR8_Z5jdHi6B-myT"),
                     "/api/videos/V1StGXR8_Z5jdHi6B-myT");
    ck_assert_str_eq(redact("//a//b/"), "//a//b/");
    ck_assert_str_eq(redact(""), "");
    ck_assert_str_eq(redact("*"), "*");
}
END_TEST


START_TEST(signatures_leave_queries)
{
    ck_assert_str_eq(redact("/videos-raw/id/original.mp4?X-Amz-Algorithm="
                            "AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F2026"
                            "&X-Amz-Date=20261205T000000Z&X-Amz-Expires=3600"
                            "&X-Amz-SignedHeaders=host&X-Amz-Signature="
                            "0123456789abcdef"),
                     "/videos-raw/id/original.mp4?X-Amz-Algorithm="
                     "AWS4-HMAC-SHA256&X-Amz-Credential=-"
                     "&X-Amz-Date=20261205T000000Z&X-Amz-Expires=3600"
                     "&X-Amz-SignedHeaders=host&X-Amz-Signature=-");

    /* any case, escaped names, a token or secret parameter */
    ck_assert_str_eq(redact("/a?x-amz-signature=1&X-Amz-%53ignature=2"
                            "&token=t&SECRET=s&X-Amz-Security-Token=st"),
                     "/a?x-amz-signature=-&X-Amz-%53ignature=-"
                     "&token=-&SECRET=-&X-Amz-Security-Token=-");

    /* other parameters, empty values and bare names stay */
    ck_assert_str_eq(redact("/api/videos?limit=2&q=token&token=&signature"
                            "&&="),
                     "/api/videos?limit=2&q=token&token=&signature&&=");
    ck_assert_str_eq(redact("?"), "?");
    ck_assert_str_eq(redact("/a?b=%zz&c=%"), "/a?b=%zz&c=%");
}
END_TEST


Suite *
unit_redact_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("redact");
    tc = tcase_create("redact");

    tcase_add_test(tc, play_tokens_leave_paths);
    tcase_add_test(tc, signatures_leave_queries);
    suite_add_tcase(s, tc);

    return s;
}
