/*
 * WebRTC signaling: peer ids, the POST body, the poll's timeout, keys.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_signal.h"


START_TEST(peer_ids_are_1_to_64_url_safe_characters)
{
    char  p[VIDEO_SIGNAL_PEER_MAX + 2];

    ck_assert_int_eq(video_signal_peer_valid("a", 1), 1);
    ck_assert_int_eq(video_signal_peer_valid("viewer-1_A", 10), 1);
    ck_assert_int_eq(video_signal_peer_valid("", 0), 0);
    ck_assert_int_eq(video_signal_peer_valid("a b", 3), 0);
    ck_assert_int_eq(video_signal_peer_valid("a:b", 3), 0);
    ck_assert_int_eq(video_signal_peer_valid("\xc3\xa9", 2), 0);

    memset(p, 'x', sizeof(p));
    ck_assert_int_eq(video_signal_peer_valid(p, VIDEO_SIGNAL_PEER_MAX), 1);
    ck_assert_int_eq(video_signal_peer_valid(p, VIDEO_SIGNAL_PEER_MAX + 1),
                     0);
}
END_TEST


static int
parse(const char *body, video_signal_t *s, char **details)
{
    int      rc;
    json_t  *j, *d;

    j = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(j);

    rc = video_signal_parse(j, s, &d);
    *details = d ? json_dumps(d, JSON_COMPACT) : NULL;

    json_decref(d);
    json_decref(j);

    return rc;
}


START_TEST(a_good_body_parses)
{
    char            *d;
    video_signal_t   s;

    ck_assert_int_eq(parse("{\"type\":\"offer\",\"from\":\"a\",\"to\":\"b\","
                           "\"data\":\"v=0\"}", &s, &d), 0);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(s.type, 0);

    ck_assert_int_eq(parse("{\"type\":\"ice-candidate\",\"from\":\"a\","
                           "\"to\":\"b\",\"data\":{\"candidate\":\"x\"}}",
                           &s, &d), 0);
    ck_assert_int_eq(s.type, 2);

    /* the end of candidates is a null candidate */

    ck_assert_int_eq(parse("{\"type\":\"ice-candidate\",\"from\":\"a\","
                           "\"to\":\"b\",\"data\":null}", &s, &d), 0);
}
END_TEST


START_TEST(each_bad_field_is_a_detail)
{
    char            *d;
    video_signal_t   s;

    ck_assert_int_eq(parse("{}", &s, &d), -1);
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"type\""));
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"from\""));
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"to\""));
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"data\""));
    free(d);

    ck_assert_int_eq(parse("{\"type\":\"Offer\",\"from\":\"a\",\"to\":\"b\","
                           "\"data\":1}", &s, &d), -1);
    ck_assert_str_eq(d, "[{\"path\":\"type\",\"message\":\"type must be one "
                        "of offer, answer, ice-candidate\"}]");
    free(d);

    ck_assert_int_eq(parse("{\"type\":7,\"from\":\"a\",\"to\":\"b\","
                           "\"data\":1}", &s, &d), -1);
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"type\""));
    free(d);

    ck_assert_int_eq(parse("{\"type\":\"answer\",\"from\":\"a\",\"to\":\"a\","
                           "\"data\":1}", &s, &d), -1);
    ck_assert_str_eq(d, "[{\"path\":\"to\",\"message\":\"to must be another "
                        "peer than from\"}]");
    free(d);

    ck_assert_int_eq(parse("{\"type\":\"answer\",\"from\":\"a b\","
                           "\"to\":5,\"data\":1}", &s, &d), -1);
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"from\""));
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"to\""));
    free(d);
}
END_TEST


START_TEST(the_message_carries_every_field)
{
    char            *m;
    json_t          *j, *d, *msg;
    video_signal_t   s;

    j = json_loads("{\"type\":\"answer\",\"from\":\"a\",\"to\":\"b\","
                   "\"data\":{\"sdp\":\"v=0\"},\"extra\":1}", 0, NULL);
    ck_assert_int_eq(video_signal_parse(j, &s, &d), 0);
    ck_assert_ptr_null(d);

    msg = video_signal_message(&s, "ID", "2030-01-01T00:00:00.000Z");
    m = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);

    ck_assert_str_eq(m, "{\"createdAt\":\"2030-01-01T00:00:00.000Z\","
                        "\"data\":{\"sdp\":\"v=0\"},\"from\":\"a\","
                        "\"id\":\"ID\",\"to\":\"b\",\"type\":\"answer\"}");

    free(m);
    json_decref(msg);
    json_decref(j);
}
END_TEST


START_TEST(the_timeout_is_whole_seconds_up_to_the_limit)
{
    long  n;

    ck_assert_int_eq(video_signal_timeout("0", 1, 25, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(video_signal_timeout("2", 1, 25, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(video_signal_timeout("25", 2, 25, &n), 0);
    ck_assert_int_eq(n, 25);
    ck_assert_int_eq(video_signal_timeout("26", 2, 25, &n), 0);
    ck_assert_int_eq(n, 25);
    ck_assert_int_eq(video_signal_timeout("99999999999999999999999", 23, 25,
                                          &n), 0);
    ck_assert_int_eq(n, 25);

    ck_assert_int_eq(video_signal_timeout("", 0, 25, &n), -1);
    ck_assert_int_eq(video_signal_timeout("-1", 2, 25, &n), -1);
    ck_assert_int_eq(video_signal_timeout("1.5", 3, 25, &n), -1);
    ck_assert_int_eq(video_signal_timeout("2s", 2, 25, &n), -1);
}
END_TEST


START_TEST(keys_name_the_stream_and_the_peer)
{
    char    buf[VIDEO_SIGNAL_KEY_MAX];
    size_t  n;

    n = video_signal_key(buf, "V1StGXR8_Z5jdHi6B-myT", 21, "viewer-1", 8);
    ck_assert_uint_eq(n, 37);
    ck_assert_int_eq(memcmp(buf, "signal:V1StGXR8_Z5jdHi6B-myT:viewer-1", n),
                     0);
}
END_TEST


Suite *
unit_signal_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("signal");
    tc = tcase_create("signal");

    tcase_add_test(tc, peer_ids_are_1_to_64_url_safe_characters);
    tcase_add_test(tc, a_good_body_parses);
    tcase_add_test(tc, each_bad_field_is_a_detail);
    tcase_add_test(tc, the_message_carries_every_field);
    tcase_add_test(tc, the_timeout_is_whole_seconds_up_to_the_limit);
    tcase_add_test(tc, keys_name_the_stream_and_the_peer);

    suite_add_tcase(s, tc);

    return s;
}
