/*
 * JSON text walked without a tree: members dropped at any depth, top-level
 * strings read, whatever the layout; malformed text refused.
 */

#include <string.h>

#include "unit.h"
#include "video_json.h"


static const char *const  keys[] = {
    "thumbnailKey", "hlsManifestKey", "playlistKey", NULL
};


static char  out[4096];


static const char *
drop(const char *in, const char *const *names)
{
    ssize_t  n;

    n = video_json_drop(in, strlen(in), names, out);
    if (n < 0) {
        return NULL;
    }

    out[n] = '\0';

    return out;
}


START_TEST(members_are_dropped_at_any_depth)
{
    /* the layout json_build_object writes */

    ck_assert_str_eq(drop("{\"id\" : \"a\", \"thumbnailKey\" : \"a/t.jpg\", "
                          "\"variants\" : [{\"id\" : \"v\", \"playlistKey\" :"
                          " \"a/720p/p.m3u8\", \"height\" : 720}]}", keys),
                     "{\"id\" : \"a\", \"variants\" : [{\"id\" : \"v\", "
                     "\"height\" : 720}]}");

    /* compact, first and last members, nothing left */

    ck_assert_str_eq(drop("{\"hlsManifestKey\":null,\"x\":1}", keys),
                     "{\"x\":1}");
    ck_assert_str_eq(drop("{\"x\":[1,2],\"hlsManifestKey\":{\"a\":[]}}", keys),
                     "{\"x\":[1,2]}");
    ck_assert_str_eq(drop("{\"playlistKey\":\"k\"}", keys), "{}");
    ck_assert_str_eq(drop("[{\"playlistKey\":\"k\",\"a\":true},{}]", keys),
                     "[{\"a\":true},{}]");

    /* a name inside a string value is no member */

    ck_assert_str_eq(drop("{\"t\":\"\\\"playlistKey\\\": 1\"}", keys),
                     "{\"t\":\"\\\"playlistKey\\\": 1\"}");

    /* without names the text is copied as it is */

    ck_assert_str_eq(drop(" {\"a\" : [ 1 , -2.5e3, null, false ] } ", NULL),
                     " {\"a\" : [ 1 , -2.5e3, null, false ] } ");
}
END_TEST


START_TEST(malformed_text_is_refused)
{
    static const char *const  bad[] = {
        "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{\"a\" 1}",
        "\"abc", "{\"a\":\"\\x\"}", "{\"a\":nul}", "{\"a\":1}x", "{a:1}",
        "{\"a\":\"\x01\"}", NULL
    };

    int    i;
    char   deep[VIDEO_JSON_DEPTH_MAX + 2];

    for (i = 0; bad[i] != NULL; i++) {
        ck_assert_msg(video_json_drop(bad[i], strlen(bad[i]), keys, out) < 0,
                      "\"%s\" was taken", bad[i]);
    }

    memset(deep, '[', sizeof(deep));
    ck_assert(video_json_drop(deep, sizeof(deep), keys, out) < 0);
}
END_TEST


START_TEST(top_level_strings_are_read)
{
    video_json_str_t          v[3];
    static const char *const  names[] = { "accountId", "visibility", "n",
                                          NULL };
    static const char         doc[] =
        "{\"id\" : \"x\", \"accountId\" : \"acctB\", \"n\" : 3, "
        "\"variants\" : [{\"visibility\" : \"PUBLIC\"}], "
        "\"visibility\" : \"PRIVATE\"}";

    ck_assert_int_eq(video_json_strings(doc, sizeof(doc) - 1, names, v), 0);
    ck_assert_int_eq(v[0].len, 5);
    ck_assert(memcmp(v[0].data, "acctB", 5) == 0);
    ck_assert_int_eq(v[1].len, 7);
    ck_assert(memcmp(v[1].data, "PRIVATE", 7) == 0);
    ck_assert_int_eq(v[2].len, 1);
    ck_assert(v[2].data[0] == '3');

    ck_assert_int_eq(video_json_strings("{\"n\":{\"a\":1},\"visibility\":"
                                        "[1]}", 30, names, v), 0);
    ck_assert(v[1].data == NULL && v[2].data == NULL);

    ck_assert_int_eq(video_json_strings("[]", 2, names, v), -1);
    ck_assert_int_eq(video_json_strings("{\"a\":1", 6, names, v), -1);
    ck_assert_int_eq(video_json_strings("{}", 2, names, v), 0);
    ck_assert(v[0].data == NULL);
}
END_TEST


Suite *
unit_json_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("json");
    tc = tcase_create("json");

    tcase_add_test(tc, members_are_dropped_at_any_depth);
    tcase_add_test(tc, malformed_text_is_refused);
    tcase_add_test(tc, top_level_strings_are_read);
    suite_add_tcase(s, tc);

    return s;
}
