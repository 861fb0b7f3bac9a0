/*
 * video_play: tokens, their checks, and the signing of play URLs in JSON.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_play.h"


#define SECRET    (const unsigned char *) "playback-secret"
#define SECRET_N  (sizeof("playback-secret") - 1)
#define ID        "V1StGXR8_Z5jdHi6B-myT"
#define OTHER     "Xq9aGXR8_Z5jdHi6B-myT"
#define EXP       1790000000

/* Python: hmac.new(secret, id + "/" + exp, sha256), urlsafe_b64encode */
#define TOKEN     "1790000000-a_V43b5sy7-qKMaTCAiJg3gx7UGChxsWLPpNyfWGAtA"

#define BASE      "http://media.test/play/"


static int
verify(const char *id, const char *token, int64_t now)
{
    return video_play_verify(SECRET, SECRET_N, id, strlen(id), token,
                             strlen(token), now);
}


/* signs json and returns the result as a C string the caller frees */

static char *
sign(const char *json, int *signed_out)
{
    long   need, n;
    char  *out;

    need = video_play_sign_json(json, strlen(json), BASE, sizeof(BASE) - 1,
                                SECRET, SECRET_N, EXP, NULL, NULL);
    ck_assert_int_ge(need, (long) strlen(json));

    out = calloc(1, need + 1);
    ck_assert_ptr_nonnull(out);

    n = video_play_sign_json(json, strlen(json), BASE, sizeof(BASE) - 1,
                             SECRET, SECRET_N, EXP, out, signed_out);
    ck_assert_int_eq(n, need);

    return out;
}


START_TEST(tokens_are_hmac_sha256_of_id_and_expiry)
{
    int   n;
    char  out[VIDEO_PLAY_TOKEN_MAX];

    n = video_play_token(SECRET, SECRET_N, ID, 21, EXP, out);

    ck_assert_int_eq(n, (int) strlen(TOKEN));
    ck_assert(memcmp(out, TOKEN, n) == 0);
    ck_assert(video_play_is_token(out, n));

    /* ids are 21 characters; a negative expiry is no expiry */

    ck_assert_int_eq(video_play_token(SECRET, SECRET_N, "abc", 3, EXP, out),
                     -1);
    ck_assert_int_eq(video_play_token(SECRET, SECRET_N, ID, 21, -1, out), -1);
}
END_TEST


START_TEST(tokens_open_their_video_until_they_expire)
{
    ck_assert_int_eq(verify(ID, TOKEN, EXP - 3600), VIDEO_PLAY_OK);
    ck_assert_int_eq(verify(ID, TOKEN, EXP), VIDEO_PLAY_OK);
    ck_assert_int_eq(verify(ID, TOKEN, EXP + 1), VIDEO_PLAY_EXPIRED);
}
END_TEST


START_TEST(other_videos_secrets_and_tampering_are_refused)
{
    char  t[sizeof(TOKEN)];

    ck_assert_int_eq(verify(OTHER, TOKEN, EXP), VIDEO_PLAY_INVALID);

    ck_assert_int_eq(video_play_verify((const unsigned char *) "other", 5,
                                       ID, 21, TOKEN, strlen(TOKEN), EXP),
                     VIDEO_PLAY_INVALID);

    /* a later expiry with the old signature */

    memcpy(t, TOKEN, sizeof(TOKEN));
    t[0] = '2';
    ck_assert_int_eq(verify(ID, t, EXP), VIDEO_PLAY_INVALID);

    /* one signature character changed */

    memcpy(t, TOKEN, sizeof(TOKEN));
    t[sizeof(TOKEN) - 2] = (t[sizeof(TOKEN) - 2] == 'A') ? 'B' : 'A';
    ck_assert_int_eq(verify(ID, t, EXP), VIDEO_PLAY_INVALID);

    /* shapes that are no token at all */

    ck_assert_int_eq(verify(ID, "", EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify(ID, "1790000000-", EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify(ID, "-a_V43b5sy7-qKMaTCAiJg3gx7UGChxsWLPpNyfWGAtA",
                            EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify(ID, TOKEN "A", EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify("abc", TOKEN, EXP), VIDEO_PLAY_INVALID);

    ck_assert(!video_play_is_token("master.m3u8", 11));
    ck_assert(!video_play_is_token("720p", 4));
    ck_assert(!video_play_is_token("1234567890123-a_V43b5sy7-qKMaTCAiJg3gx7"
                                   "UGChxsWLPpNyfWGAtA", 57));
    ck_assert(!video_play_is_token("1790000000-a_V43b5sy7-qKMaTCAiJg3gx7UG"
                                   "ChxsWLPpNyfWGAt=", 54));
}
END_TEST


START_TEST(expiries_are_stable_within_a_step)
{
    int64_t  a, b, ttl;

    ttl = 6 * 3600;

    a = video_play_expiry(1790000000, ttl);
    b = video_play_expiry(1790000000 + 60, ttl);

    ck_assert_int_eq(a, b);
    ck_assert_int_ge(a, 1790000000 + ttl);
    ck_assert_int_le(a, 1790000000 + ttl + ttl / 8);

    /* a step later the expiry moves on, never backwards */

    b = video_play_expiry(1790000000 + ttl / 8, ttl);
    ck_assert_int_gt(b, a);

    ck_assert_int_eq(video_play_expiry(100, 1), 102);
}
END_TEST


START_TEST(private_videos_get_their_own_tokens)
{
    int    s;
    char  *out;

    out = sign("{\"id\" : \"" ID "\", \"visibility\" : \"PRIVATE\", "
               "\"thumbnailUrl\" : \"" BASE ID "/thumbnail.jpg\", "
               "\"playbackUrl\" : \"" BASE ID "/master.m3u8\", "
               "\"variants\" : [{\"playbackUrl\" : \"" BASE ID
               "/720p/playlist.m3u8\"}]}", &s);

    ck_assert_str_eq(out,
               "{\"id\" : \"" ID "\", \"visibility\" : \"PRIVATE\", "
               "\"thumbnailUrl\" : \"" BASE ID "/" TOKEN "/thumbnail.jpg\", "
               "\"playbackUrl\" : \"" BASE ID "/" TOKEN "/master.m3u8\", "
               "\"variants\" : [{\"playbackUrl\" : \"" BASE ID "/" TOKEN
               "/720p/playlist.m3u8\"}]}");
    ck_assert_int_eq(s, 1);
    free(out);
}
END_TEST


START_TEST(public_and_unlisted_videos_are_left_alone)
{
    int          s;
    char        *out;
    const char  *json;

    json = "[{\"visibility\":\"PUBLIC\",\"playbackUrl\":\"" BASE ID
           "/master.m3u8\"},{\"visibility\":\"UNLISTED\",\"playbackUrl\":\""
           BASE OTHER "/master.m3u8\"}]";

    out = sign(json, &s);
    ck_assert_str_eq(out, json);
    ck_assert_int_eq(s, 0);
    free(out);

    /* in a list each video's own visibility counts */

    out = sign("[{\"visibility\":\"PUBLIC\",\"playbackUrl\":\"" BASE ID
               "/master.m3u8\"},{\"visibility\":\"PRIVATE\",\"playbackUrl\":"
               "\"" BASE OTHER "/master.m3u8\",\"thumbnailUrl\":null}]", &s);

    ck_assert(strstr(out, BASE ID "/master.m3u8") != NULL);
    ck_assert(strstr(out, BASE OTHER "/" OTHER) == NULL);
    ck_assert(strstr(out, BASE OTHER "/master.m3u8") == NULL);
    ck_assert(strstr(out, BASE OTHER "/1") != NULL);
    ck_assert_int_eq(s, 1);
    free(out);
}
END_TEST


START_TEST(text_in_other_fields_is_never_signed)
{
    int          s;
    char        *out;
    const char  *json;

    /* a title that looks like a key and a URL, escaped as JSON escapes it;
       a description that is exactly a play URL; a URL for another base */

    json = "{\"title\" : \"\\\"playbackUrl\\\" : \\\"" BASE OTHER
           "/x.m3u8\\\"\", \"description\" : \"" BASE OTHER "/master.m3u8\","
           " \"visibility\" : \"PRIVATE\", \"playbackUrl\" : "
           "\"http://elsewhere/play/" ID "/master.m3u8\", "
           "\"thumbnailUrl\" : \"" BASE "short/x.jpg\"}";

    out = sign(json, &s);
    ck_assert_str_eq(out, json);
    ck_assert_int_eq(s, 0);
    free(out);

    /* cut-off input ends the scan without reading past it */

    out = sign("{\"visibility\":\"PRIVATE\",\"playbackUrl\":\"" BASE ID
               "/m", &s);
    ck_assert_int_eq(s, 0);
    free(out);
}
END_TEST


START_TEST(visibility_is_read_from_the_video_not_its_text)
{
    const char  *json;

    ck_assert_int_eq(video_play_visibility("{\"visibility\" : \"PUBLIC\"}",
                                           25), 1);

    json = "{\"visibility\":\"UNLISTED\"}";
    ck_assert_int_eq(video_play_visibility(json, strlen(json)), 1);

    json = "{\"title\":\"\\\"visibility\\\":\\\"PUBLIC\\\"\","
           "\"visibility\":\"PRIVATE\"}";
    ck_assert_int_eq(video_play_visibility(json, strlen(json)), 0);

    json = "{\"title\":\"visibility\"}";
    ck_assert_int_eq(video_play_visibility(json, strlen(json)), -1);
    ck_assert_int_eq(video_play_visibility("", 0), -1);
}
END_TEST


Suite *
unit_play_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("play");
    tc = tcase_create("tokens");

    tcase_add_test(tc, tokens_are_hmac_sha256_of_id_and_expiry);
    tcase_add_test(tc, tokens_open_their_video_until_they_expire);
    tcase_add_test(tc, other_videos_secrets_and_tampering_are_refused);
    tcase_add_test(tc, expiries_are_stable_within_a_step);
    tcase_add_test(tc, private_videos_get_their_own_tokens);
    tcase_add_test(tc, public_and_unlisted_videos_are_left_alone);
    tcase_add_test(tc, text_in_other_fields_is_never_signed);
    tcase_add_test(tc, visibility_is_read_from_the_video_not_its_text);
    suite_add_tcase(s, tc);

    return s;
}
