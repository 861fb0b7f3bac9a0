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
#define TTL       (6 * 3600)
#define GEN       3

/*
 * Python: the key id is urlsafe_b64encode(hmac.new(secret, "video-api
 * playback key id", sha256))[:2], the signature urlsafe_b64encode of
 * hmac.new(secret, id + "/" + exp + "/" + gen, sha256), unpadded
 */
#define TOKEN     "1790000000-P70eCuw1miR4W5iOe9pDwaKHO_3bealrVyBUVNu__dTwE"

#define BASE      "http://media.test/play/"


static video_play_key_t  key;


static const video_play_key_t *
play_key(void)
{
    if (key.len == 0) {
        ck_assert_int_eq(video_play_key_init(&key, SECRET, SECRET_N), 0);
    }

    return &key;
}


static int
verify(const char *id, const char *token, int64_t now)
{
    return video_play_verify(play_key(), 1, id, strlen(id), token,
                             strlen(token), GEN, now, TTL);
}


/* signs json and returns the result as a C string the caller frees */

static char *
sign(const char *json, int *signed_out)
{
    long   need, n;
    char  *out;

    need = video_play_sign_json(json, strlen(json), BASE, sizeof(BASE) - 1,
                                play_key(), EXP, NULL, NULL);
    ck_assert_int_ge(need, (long) strlen(json));

    out = calloc(1, need + 1);
    ck_assert_ptr_nonnull(out);

    n = video_play_sign_json(json, strlen(json), BASE, sizeof(BASE) - 1,
                             play_key(), EXP, out, signed_out);
    ck_assert_int_eq(n, need);

    return out;
}


START_TEST(tokens_are_hmac_sha256_of_id_expiry_and_generation)
{
    int   n;
    char  out[VIDEO_PLAY_TOKEN_MAX];

    n = video_play_token(play_key(), ID, 21, EXP, GEN, out);

    ck_assert_int_eq(n, (int) strlen(TOKEN));
    ck_assert(memcmp(out, TOKEN, n) == 0);
    ck_assert(video_play_is_token(out, n));

    /* ids are 21 characters; a negative expiry is no expiry */

    ck_assert_int_eq(video_play_token(play_key(), "abc", 3, EXP, GEN, out),
                     -1);
    ck_assert_int_eq(video_play_token(play_key(), ID, 21, -1, GEN, out), -1);
    ck_assert_int_eq(video_play_token(play_key(), ID, 21, EXP, -1, out), -1);
}
END_TEST


START_TEST(a_token_dies_with_its_generation)
{
    ck_assert_int_eq(verify(ID, TOKEN, EXP), VIDEO_PLAY_OK);
    ck_assert_int_eq(video_play_verify(play_key(), 1, ID, 21, TOKEN,
                                       strlen(TOKEN), GEN + 1, EXP, TTL),
                     VIDEO_PLAY_INVALID);
    ck_assert_int_eq(video_play_verify(play_key(), 1, ID, 21, TOKEN,
                                       strlen(TOKEN), GEN - 1, EXP, TTL),
                     VIDEO_PLAY_INVALID);
}
END_TEST


START_TEST(a_previous_key_still_opens_its_tokens)
{
    int               n;
    char              out[VIDEO_PLAY_TOKEN_MAX + 1];
    video_play_key_t  keys[2];

    /* the new secret signs; tokens of the old one, which it names, pass */

    ck_assert_int_eq(video_play_key_init(&keys[0],
                                         (const unsigned char *) "other", 5),
                     0);
    keys[1] = *play_key();

    ck_assert(memcmp(keys[0].kid, keys[1].kid, VIDEO_PLAY_KID_LEN) != 0);
    ck_assert_int_eq(video_play_verify(keys, 2, ID, 21, TOKEN, strlen(TOKEN),
                                       GEN, EXP, TTL),
                     VIDEO_PLAY_OK);
    ck_assert_int_eq(video_play_verify(keys, 1, ID, 21, TOKEN, strlen(TOKEN),
                                       GEN, EXP, TTL),
                     VIDEO_PLAY_INVALID);

    n = video_play_token(&keys[0], ID, 21, EXP, GEN, out);
    ck_assert_int_gt(n, 0);
    out[n] = '\0';
    ck_assert(memcmp(out + 11, keys[0].kid, VIDEO_PLAY_KID_LEN) == 0);
    ck_assert_int_eq(video_play_verify(keys, 2, ID, 21, out, n, GEN, EXP,
                                       TTL),
                     VIDEO_PLAY_OK);
}
END_TEST


START_TEST(tokens_open_their_video_until_they_expire)
{
    ck_assert_int_eq(verify(ID, TOKEN, EXP - 3600), VIDEO_PLAY_OK);
    ck_assert_int_eq(verify(ID, TOKEN, EXP), VIDEO_PLAY_OK);
    ck_assert_int_eq(verify(ID, TOKEN, EXP + 1), VIDEO_PLAY_EXPIRED);
}
END_TEST


/* a validly signed token that outlives what is issued: forged with a key */
START_TEST(tokens_last_no_longer_than_issued_ones)
{
    int      n;
    int64_t  now, exp;
    char     out[VIDEO_PLAY_TOKEN_MAX + 1];

    /*
     * issued tokens expire after the lifetime rounded up to a step (45
     * min): TOKEN is fine 6 h before its end, and two steps more is
     * longer than any issued then
     */
    ck_assert_int_eq(verify(ID, TOKEN, EXP - TTL), VIDEO_PLAY_OK);
    ck_assert_int_eq(verify(ID, TOKEN, EXP - TTL - 2 * (TTL / 8)),
                     VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify(ID, TOKEN, EXP - 10 * 365 * 86400LL),
                     VIDEO_PLAY_INVALID);

    /* a shorter lifetime configured later cuts older tokens short */
    ck_assert_int_eq(video_play_verify(play_key(), 1, ID, 21, TOKEN,
                                       strlen(TOKEN), GEN, EXP - 3 * 3600,
                                       3600),
                     VIDEO_PLAY_INVALID);

    /* and every token just issued passes, whatever the second */
    for (now = EXP - 2 * TTL; now < EXP - 2 * TTL + 3 * TTL / 8; now += 7) {
        exp = video_play_expiry(now, TTL);
        n = video_play_token(play_key(), ID, 21, exp, GEN, out);
        ck_assert_int_gt(n, 0);
        out[n] = '\0';
        ck_assert_int_eq(verify(ID, out, now), VIDEO_PLAY_OK);
    }
}
END_TEST


START_TEST(other_videos_secrets_and_tampering_are_refused)
{
    char  t[sizeof(TOKEN)];

    ck_assert_int_eq(verify(OTHER, TOKEN, EXP), VIDEO_PLAY_INVALID);

    {
        video_play_key_t  other;

        ck_assert_int_eq(video_play_key_init(&other,
                             (const unsigned char *) "other", 5), 0);

        /* another key, by the token's key id or not */

        memcpy(other.kid, play_key()->kid, VIDEO_PLAY_KID_LEN);
        ck_assert_int_eq(video_play_verify(&other, 1, ID, 21, TOKEN,
                                           strlen(TOKEN), GEN, EXP, TTL),
                         VIDEO_PLAY_INVALID);
    }

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
    ck_assert_int_eq(verify(ID, "-P70eCuw1miR4W5iOe9pDwaKHO_3bealrVyBUVNu__"
                            "dTwE", EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify(ID, "1790000000-a_V43b5sy7-qKMaTCAiJg3gx7UGChxsW"
                            "LPpNyfWGAtA", EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify(ID, TOKEN "A", EXP), VIDEO_PLAY_INVALID);
    ck_assert_int_eq(verify("abc", TOKEN, EXP), VIDEO_PLAY_INVALID);

    ck_assert(!video_play_is_token("master.m3u8", 11));
    ck_assert(!video_play_is_token("720p", 4));
    ck_assert(!video_play_is_token("1234567890123-P70eCuw1miR4W5iOe9pDwaKHO"
                                   "_3bealrVyBUVNu__dTwE", 59));
    ck_assert(!video_play_is_token("1790000000-P70eCuw1miR4W5iOe9pDwaKHO_3b"
                                   "ealrVyBUVNu__dTw=", 56));
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
               "\"tokenGeneration\" : 3, "
               "\"thumbnailUrl\" : \"" BASE ID "/thumbnail.jpg\", "
               "\"playbackUrl\" : \"" BASE ID "/master.m3u8\", "
               "\"variants\" : [{\"playbackUrl\" : \"" BASE ID
               "/720p/playlist.m3u8\"}]}", &s);

    ck_assert_str_eq(out,
               "{\"id\" : \"" ID "\", \"visibility\" : \"PRIVATE\", "
               "\"tokenGeneration\" : 3, "
               "\"thumbnailUrl\" : \"" BASE ID "/" TOKEN "/thumbnail.jpg\", "
               "\"playbackUrl\" : \"" BASE ID "/" TOKEN "/master.m3u8\", "
               "\"variants\" : [{\"playbackUrl\" : \"" BASE ID "/" TOKEN
               "/720p/playlist.m3u8\"}]}");
    ck_assert_int_eq(s, 1);
    free(out);
}
END_TEST


START_TEST(each_video_is_signed_with_its_own_generation)
{
    int    s;
    char  *out;

    /* the same video twice, as if its generation moved between */

    out = sign("[{\"visibility\":\"PRIVATE\",\"tokenGeneration\":3,"
               "\"playbackUrl\":\"" BASE ID "/master.m3u8\"},"
               "{\"visibility\":\"PRIVATE\",\"tokenGeneration\":4,"
               "\"playbackUrl\":\"" BASE ID "/master.m3u8\"}]", &s);

    ck_assert(strstr(out, BASE ID "/" TOKEN "/master.m3u8") != NULL);
    ck_assert(strstr(strstr(out, TOKEN) + 1, TOKEN) == NULL);
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

    tcase_add_test(tc, tokens_are_hmac_sha256_of_id_expiry_and_generation);
    tcase_add_test(tc, a_token_dies_with_its_generation);
    tcase_add_test(tc, a_previous_key_still_opens_its_tokens);
    tcase_add_test(tc, tokens_open_their_video_until_they_expire);
    tcase_add_test(tc, other_videos_secrets_and_tampering_are_refused);
    tcase_add_test(tc, tokens_last_no_longer_than_issued_ones);
    tcase_add_test(tc, expiries_are_stable_within_a_step);
    tcase_add_test(tc, private_videos_get_their_own_tokens);
    tcase_add_test(tc, each_video_is_signed_with_its_own_generation);
    tcase_add_test(tc, public_and_unlisted_videos_are_left_alone);
    tcase_add_test(tc, text_in_other_fields_is_never_signed);
    tcase_add_test(tc, visibility_is_read_from_the_video_not_its_text);
    suite_add_tcase(s, tc);

    return s;
}
