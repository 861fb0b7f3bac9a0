/*
 * WebRTC signaling: peer ids and tokens, the POST body, the poll's
 * timeout, keys, the limits of video_api_signal_limits.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_signal.h"


START_TEST(peer_ids_are_the_21_characters_the_server_issues)
{
    char  p[VIDEO_SIGNAL_PEER_LEN + 2], t[VIDEO_SIGNAL_TOKEN_LEN];

    ck_assert_int_eq(video_signal_peer_valid("V1StGXR8_Z5jdHi6B-myT", 21), 1);
    ck_assert_int_eq(video_signal_peer_valid("", 0), 0);
    ck_assert_int_eq(video_signal_peer_valid("alice", 5), 0);
    ck_assert_int_eq(video_signal_peer_valid("V1StGXR8 Z5jdHi6B-myT", 21), 0);
    ck_assert_int_eq(video_signal_peer_valid("V1StGXR8:Z5jdHi6B-myT", 21), 0);

    /* no peer list can be named like the stream's other keys */

    ck_assert_int_eq(video_signal_peer_valid("peers", 5), 0);
    ck_assert_int_eq(video_signal_peer_valid("tokens", 6), 0);
    ck_assert_int_eq(video_signal_peer_valid("bytes", 5), 0);

    memset(p, 'x', sizeof(p));
    ck_assert_int_eq(video_signal_peer_valid(p, VIDEO_SIGNAL_PEER_LEN), 1);
    ck_assert_int_eq(video_signal_peer_valid(p, VIDEO_SIGNAL_PEER_LEN + 1),
                     0);
    ck_assert_int_eq(video_signal_peer_valid(p, VIDEO_SIGNAL_PEER_LEN - 1),
                     0);

    ck_assert_int_eq(video_signal_peer_generate(p, t), 0);
    ck_assert_int_eq(video_signal_peer_valid(p, VIDEO_SIGNAL_PEER_LEN), 1);
    ck_assert_int_eq(video_signal_token_valid(t, VIDEO_SIGNAL_TOKEN_LEN), 1);
}
END_TEST


START_TEST(tokens_are_random_and_kept_as_their_sha256)
{
    int     i, j;
    char    peers[16][VIDEO_SIGNAL_PEER_LEN];
    char    tokens[16][VIDEO_SIGNAL_TOKEN_LEN];
    char    hash[VIDEO_SIGNAL_TOKEN_HASH_LEN], again[sizeof(hash)];

    for (i = 0; i < 16; i++) {
        ck_assert_int_eq(video_signal_peer_generate(peers[i], tokens[i]), 0);

        for (j = 0; j < i; j++) {
            ck_assert_int_ne(memcmp(peers[i], peers[j], sizeof(peers[i])),
                             0);
            ck_assert_int_ne(memcmp(tokens[i], tokens[j],
                                    sizeof(tokens[i])), 0);
        }
    }

    /* sha256("abc"), FIPS 180-2 */

    ck_assert_int_eq(video_signal_token_hash("abc", 3, hash), 0);
    ck_assert_int_eq(memcmp(hash, "ba7816bf8f01cfea414140de5dae2223"
                                  "b00361a396177a9cb410ff61f20015ad", 64), 0);

    ck_assert_int_eq(video_signal_token_hash(tokens[0],
                                             VIDEO_SIGNAL_TOKEN_LEN, hash),
                     0);
    ck_assert_int_eq(video_signal_token_hash(tokens[0],
                                             VIDEO_SIGNAL_TOKEN_LEN, again),
                     0);
    ck_assert_int_eq(memcmp(hash, again, sizeof(hash)), 0);
    ck_assert_int_ne(memcmp(hash, tokens[0], VIDEO_SIGNAL_TOKEN_LEN), 0);

    ck_assert_int_eq(video_signal_token_valid(tokens[0],
                                              VIDEO_SIGNAL_TOKEN_LEN - 1), 0);
    ck_assert_int_eq(video_signal_token_valid(
                         "0123456789abcdefghijklmnopqrst+/", 32), 0);
    ck_assert_int_eq(video_signal_token_valid(
                         "0123456789abcdefghijklmnopqrst_-", 32), 1);
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


#define A  "\"AAAAAAAAAAAAAAAAAAAAA\""
#define B  "\"BBBBBBBBBBBBBBBBBBBBB\""


START_TEST(a_good_body_parses)
{
    char            *d;
    video_signal_t   s;

    ck_assert_int_eq(parse("{\"type\":\"offer\",\"from\":" A ",\"to\":" B
                           ",\"data\":\"v=0\"}", &s, &d), 0);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(s.type, 0);

    ck_assert_int_eq(parse("{\"type\":\"ice-candidate\",\"from\":" A ","
                           "\"to\":" B ",\"data\":{\"candidate\":\"x\"}}",
                           &s, &d), 0);
    ck_assert_int_eq(s.type, 2);

    /* the end of candidates is a null candidate */

    ck_assert_int_eq(parse("{\"type\":\"ice-candidate\",\"from\":" A ","
                           "\"to\":" B ",\"data\":null}", &s, &d), 0);
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

    ck_assert_int_eq(parse("{\"type\":\"Offer\",\"from\":" A ",\"to\":" B ","
                           "\"data\":1}", &s, &d), -1);
    ck_assert_str_eq(d, "[{\"path\":\"type\",\"message\":\"type must be one "
                        "of offer, answer, ice-candidate\"}]");
    free(d);

    ck_assert_int_eq(parse("{\"type\":7,\"from\":" A ",\"to\":" B ","
                           "\"data\":1}", &s, &d), -1);
    ck_assert_ptr_nonnull(strstr(d, "\"path\":\"type\""));
    free(d);

    ck_assert_int_eq(parse("{\"type\":\"answer\",\"from\":" A ",\"to\":" A ","
                           "\"data\":1}", &s, &d), -1);
    ck_assert_str_eq(d, "[{\"path\":\"to\",\"message\":\"to must be another "
                        "peer than from\"}]");
    free(d);

    /* ids a client makes up are not peer ids */

    ck_assert_int_eq(parse("{\"type\":\"answer\",\"from\":\"alice\","
                           "\"to\":" B ",\"data\":1}", &s, &d), -1);
    ck_assert_str_eq(d, "[{\"path\":\"from\",\"message\":\"from must be a "
                        "peer id: 21 characters of A-Z, a-z, 0-9, _ and "
                        "-\"}]");
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

    j = json_loads("{\"type\":\"answer\",\"from\":" A ",\"to\":" B ","
                   "\"data\":{\"sdp\":\"v=0\"},\"extra\":1}", 0, NULL);
    ck_assert_int_eq(video_signal_parse(j, &s, &d), 0);
    ck_assert_ptr_null(d);

    msg = video_signal_message(&s, "ID", "2030-01-01T00:00:00.000Z");
    m = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);

    ck_assert_str_eq(m, "{\"createdAt\":\"2030-01-01T00:00:00.000Z\","
                        "\"data\":{\"sdp\":\"v=0\"},\"from\":" A ","
                        "\"id\":\"ID\",\"to\":" B ",\"type\":\"answer\"}");

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

    n = video_signal_key(buf, "V1StGXR8_Z5jdHi6B-myT", 21,
                         "Zp0w3y1xL2-kq9_AbCdEf", 21);
    ck_assert_uint_eq(n, VIDEO_SIGNAL_KEY_MAX);
    ck_assert_int_eq(memcmp(buf, "signal:V1StGXR8_Z5jdHi6B-myT:"
                                 "Zp0w3y1xL2-kq9_AbCdEf", n), 0);

    n = video_signal_key(buf, "V1StGXR8_Z5jdHi6B-myT", 21, "tokens", 6);
    ck_assert_int_eq(memcmp(buf, "signal:V1StGXR8_Z5jdHi6B-myT:tokens", n),
                     0);
}
END_TEST


static int
limits(video_signal_limits_t *l, const char *a, const char *b, char *err)
{
    int          n;
    size_t       lens[2];
    const char  *params[2];

    n = 0;

    if (a != NULL) {
        params[n] = a;
        lens[n++] = strlen(a);
    }

    if (b != NULL) {
        params[n] = b;
        lens[n++] = strlen(b);
    }

    err[0] = '\0';

    return video_signal_limits_parse(l, n, params, lens, err, 256);
}


START_TEST(limits_default_and_parse)
{
    char                   err[256];
    video_signal_limits_t  l;

    video_signal_limits_default(&l);
    ck_assert_uint_eq(l.peers, 64);
    ck_assert_uint_eq(l.bytes, 1048576);
    ck_assert_uint_eq(l.queue, 64);
    ck_assert_uint_eq(l.queue_bytes, 262144);
    ck_assert_uint_eq(l.idle_ms, 120000);

    ck_assert_int_eq(limits(&l, "peers=8", "bytes=256k", err), 0);
    ck_assert_uint_eq(l.peers, 8);
    ck_assert_uint_eq(l.bytes, 262144);
    ck_assert_uint_eq(l.queue, 64);

    ck_assert_int_eq(limits(&l, "queue=4", "queue_bytes=100000", err), 0);
    ck_assert_uint_eq(l.queue, 4);
    ck_assert_uint_eq(l.queue_bytes, 100000);

    ck_assert_int_eq(limits(&l, "bytes=2M", "queue_bytes=1m", err), 0);
    ck_assert_uint_eq(l.bytes, 2097152);
    ck_assert_uint_eq(l.queue_bytes, 1048576);

    ck_assert_int_eq(limits(&l, "idle=3", NULL, err), 0);
    ck_assert_uint_eq(l.idle_ms, 3000);
    ck_assert_int_eq(limits(&l, "idle=1500ms", NULL, err), 0);
    ck_assert_uint_eq(l.idle_ms, 1500);
    ck_assert_int_eq(limits(&l, "idle=90s", NULL, err), 0);
    ck_assert_uint_eq(l.idle_ms, 90000);
    ck_assert_int_eq(limits(&l, "idle=2m", NULL, err), 0);
    ck_assert_uint_eq(l.idle_ms, 120000);
    ck_assert_int_eq(limits(&l, "idle=1h", NULL, err), 0);
    ck_assert_uint_eq(l.idle_ms, 3600000);

    ck_assert_int_eq(limits(&l, "peers=1000", "bytes=1024m", err), 0);
    ck_assert_uint_eq(l.bytes, 1073741824);
}
END_TEST


START_TEST(bad_limits_say_why_and_change_nothing)
{
    char                   err[256];
    video_signal_limits_t  l, before;

    video_signal_limits_default(&l);
    before = l;

    ck_assert_int_eq(limits(&l, "peers=8", "rooms=3", err), -1);
    ck_assert_str_eq(err, "invalid parameter \"rooms=3\"");
    ck_assert_int_eq(limits(&l, "peers", NULL, err), -1);
    ck_assert_str_eq(err, "invalid parameter \"peers\"");
    ck_assert_int_eq(limits(&l, "peers=8", "peers=9", err), -1);
    ck_assert_str_eq(err, "duplicate parameter \"peers\"");

    ck_assert_int_eq(limits(&l, "peers=1", NULL, err), -1);
    ck_assert_str_eq(err, "invalid \"peers\" value \"1\", expected 2..1000");
    ck_assert_int_eq(limits(&l, "peers=1001", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "peers=", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "peers=-5", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "peers=8k", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "peers=99999999999999999999999", NULL, err),
                     -1);
    ck_assert_int_eq(limits(&l, "queue=0", NULL, err), -1);

    ck_assert_int_eq(limits(&l, "bytes=1023", NULL, err), -1);
    ck_assert_str_eq(err, "invalid \"bytes\" value \"1023\", expected "
                          "1k..1024m");
    ck_assert_int_eq(limits(&l, "bytes=1025m", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "bytes=1g", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "bytes=1kb", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "bytes=k", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "bytes=18446744073709551615k", NULL, err),
                     -1);

    ck_assert_int_eq(limits(&l, "idle=0", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "idle=999ms", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "idle=2h", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "idle=5d", NULL, err), -1);
    ck_assert_int_eq(limits(&l, "idle=5 s", NULL, err), -1);

    /* a peer's share cannot be more than its stream's */

    ck_assert_int_eq(limits(&l, "bytes=64k", NULL, err), -1);
    ck_assert_str_eq(err, "\"queue_bytes\" (262144) is more than \"bytes\" "
                          "(65536): a peer's messages are part of its "
                          "stream's");

    ck_assert_int_eq(memcmp(&l, &before, sizeof(l)), 0);
}
END_TEST


Suite *
unit_signal_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("signal");
    tc = tcase_create("signal");

    tcase_add_test(tc, peer_ids_are_the_21_characters_the_server_issues);
    tcase_add_test(tc, tokens_are_random_and_kept_as_their_sha256);
    tcase_add_test(tc, a_good_body_parses);
    tcase_add_test(tc, each_bad_field_is_a_detail);
    tcase_add_test(tc, the_message_carries_every_field);
    tcase_add_test(tc, the_timeout_is_whole_seconds_up_to_the_limit);
    tcase_add_test(tc, keys_name_the_stream_and_the_peer);
    tcase_add_test(tc, limits_default_and_parse);
    tcase_add_test(tc, bad_limits_say_why_and_change_nothing);

    suite_add_tcase(s, tc);

    return s;
}
