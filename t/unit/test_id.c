/*
 * Ids: 21 URL-safe characters, validated and generated.
 */

#include <string.h>

#include "unit.h"
#include "video_id.h"


START_TEST(valid_ids_are_21_url_safe_characters)
{
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B-myT", 21), 1);
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B-my", 20), 0);
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B-myTT", 22), 0);
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B/myT", 21), 0);
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B.myT", 21), 0);
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B myT", 21), 0);
    ck_assert_int_eq(video_id_valid("V1StGXR8_Z5jdHi6B\0myT", 21), 0);
    ck_assert_int_eq(video_id_valid("", 0), 0);
}
END_TEST


START_TEST(generated_ids_are_valid_and_differ)
{
    int   i;
    char  a[VIDEO_ID_LEN], b[VIDEO_ID_LEN];

    for (i = 0; i < 1000; i++) {
        ck_assert_int_eq(video_id_generate(a), 0);
        ck_assert_int_eq(video_id_generate(b), 0);
        ck_assert_int_eq(video_id_valid(a, VIDEO_ID_LEN), 1);
        ck_assert(memcmp(a, b, VIDEO_ID_LEN) != 0);
    }
}
END_TEST


START_TEST(stream_keys_are_long_url_safe_and_stored_hashed)
{
    int   i;
    char  a[VIDEO_STREAM_KEY_LEN], b[VIDEO_STREAM_KEY_LEN];
    char  hash[VIDEO_STREAM_KEY_HASH_LEN];

    ck_assert(video_stream_key_valid("abcdefghijklmnopqrstuvwxyz012_-A", 32));
    ck_assert(!video_stream_key_valid("abcdefghijklmnopqrstuvwxyz012_-", 31));
    ck_assert(!video_stream_key_valid("abcdefghijklmnopqrstuvwxyz012_/A", 32));

    for (i = 0; i < 1000; i++) {
        ck_assert_int_eq(video_stream_key_generate(a), 0);
        ck_assert_int_eq(video_stream_key_generate(b), 0);
        ck_assert(memcmp(a, b, VIDEO_STREAM_KEY_LEN) != 0);

        /* the id alphabet: [A-Za-z0-9_-] */

        ck_assert_int_eq(video_id_valid(a, VIDEO_ID_LEN), 1);
        ck_assert_int_eq(video_id_valid(a + VIDEO_STREAM_KEY_LEN
                                        - VIDEO_ID_LEN, VIDEO_ID_LEN), 1);
    }

    /* FIPS 180-2's "abc" */

    ck_assert_int_eq(video_stream_key_hash("abc", 3, hash), 0);
    ck_assert(memcmp(hash, "ba7816bf8f01cfea414140de5dae2223"
                           "b00361a396177a9cb410ff61f20015ad",
                     VIDEO_STREAM_KEY_HASH_LEN) == 0);
}
END_TEST


Suite *
unit_id_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("id");
    tc = tcase_create("id");

    tcase_add_test(tc, valid_ids_are_21_url_safe_characters);
    tcase_add_test(tc, generated_ids_are_valid_and_differ);
    tcase_add_test(tc, stream_keys_are_long_url_safe_and_stored_hashed);
    suite_add_tcase(s, tc);

    return s;
}
