/*
 * API keys: their shape, checksum, generation and hash; roles by name.
 */

#include <string.h>

#include "unit.h"
#include "video_apikey.h"


/* made with Python's zlib.crc32 */
#define ZEROS  "vapi_00000000000000000000000000000000000000000004XrIEG"
#define ZEDS   "vapi_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ1pnVBZ"


START_TEST(keys_with_their_checksum_are_valid)
{
    ck_assert_int_eq(strlen(ZEROS), VIDEO_APIKEY_LEN);
    ck_assert(video_apikey_valid(ZEROS, VIDEO_APIKEY_LEN));
    ck_assert(video_apikey_valid(ZEDS, VIDEO_APIKEY_LEN));
}
END_TEST


START_TEST(a_mistyped_or_reshaped_key_is_refused)
{
    size_t  i;
    char    k[VIDEO_APIKEY_LEN + 2];

    /* every single changed character, in any of the three parts */

    for (i = 0; i < VIDEO_APIKEY_LEN; i++) {
        memcpy(k, ZEROS, VIDEO_APIKEY_LEN);
        k[i] = (k[i] == 'a') ? 'b' : 'a';
        ck_assert_msg(!video_apikey_valid(k, VIDEO_APIKEY_LEN),
                      "a change at %zu passed", i);
    }

    /* two swapped neighbours */

    memcpy(k, ZEDS, VIDEO_APIKEY_LEN);
    k[48] = ZEDS[49];
    k[49] = ZEDS[48];
    ck_assert(!video_apikey_valid(k, VIDEO_APIKEY_LEN));

    /* shorter, longer, other prefix, a character outside base62 */

    ck_assert(!video_apikey_valid(ZEROS, VIDEO_APIKEY_LEN - 1));
    memcpy(k, ZEROS, VIDEO_APIKEY_LEN);
    k[VIDEO_APIKEY_LEN] = '0';
    ck_assert(!video_apikey_valid(k, VIDEO_APIKEY_LEN + 1));
    ck_assert(!video_apikey_valid("", 0));

    memcpy(k, ZEROS, VIDEO_APIKEY_LEN);
    k[0] = 'V';
    ck_assert(!video_apikey_valid(k, VIDEO_APIKEY_LEN));

    memcpy(k, ZEROS, VIDEO_APIKEY_LEN);
    k[10] = '-';
    ck_assert(!video_apikey_valid(k, VIDEO_APIKEY_LEN));
    k[10] = '\0';
    ck_assert(!video_apikey_valid(k, VIDEO_APIKEY_LEN));
}
END_TEST


START_TEST(generated_keys_are_valid_and_differ)
{
    int   i;
    char  a[VIDEO_APIKEY_LEN], b[VIDEO_APIKEY_LEN];

    for (i = 0; i < 1000; i++) {
        ck_assert_int_eq(video_apikey_generate(a), 0);
        ck_assert_int_eq(video_apikey_generate(b), 0);
        ck_assert(video_apikey_valid(a, VIDEO_APIKEY_LEN));
        ck_assert(memcmp(a, VIDEO_APIKEY_PREFIX, 5) == 0);
        ck_assert(memcmp(a, b, VIDEO_APIKEY_LEN) != 0);
    }
}
END_TEST


START_TEST(keys_are_stored_as_their_sha256)
{
    unsigned char  h[VIDEO_APIKEY_HASH_LEN];

    /* printf %s ZEROS | sha256sum */
    static const unsigned char  want[] = {
        0x6b, 0x78, 0x30, 0xbe, 0x93, 0x8b, 0x99, 0x93, 0x35,
        0x84, 0x7a, 0xe8, 0xe5, 0x51, 0x45, 0x55, 0xb7, 0x0a,
        0x44, 0xc9, 0x14, 0x94, 0x0d, 0x88, 0x7b, 0x44, 0x80,
        0x33, 0x35, 0x6e, 0xee, 0x49
    };

    ck_assert_int_eq(video_apikey_hash(ZEROS, VIDEO_APIKEY_LEN, h), 0);
    ck_assert(memcmp(h, want, sizeof(want)) == 0);
}
END_TEST


START_TEST(the_key_of_an_authorization_header)
{
    size_t       len;
    const char  *key;

    ck_assert_int_eq(video_apikey_from_header("Bearer " ZEROS,
                                              7 + VIDEO_APIKEY_LEN,
                                              &key, &len), 0);
    ck_assert_int_eq(len, VIDEO_APIKEY_LEN);
    ck_assert(memcmp(key, ZEROS, len) == 0);

    ck_assert_int_eq(video_apikey_from_header("bearer \t " ZEDS "  ",
                                              9 + VIDEO_APIKEY_LEN + 2,
                                              &key, &len), 0);
    ck_assert(memcmp(key, ZEDS, len) == 0 && len == VIDEO_APIKEY_LEN);

    /* a key's prefix and anything wrong after it: invalid */

    ck_assert_int_eq(video_apikey_from_header("Bearer " ZEROS " x",
                                              7 + VIDEO_APIKEY_LEN + 2,
                                              &key, &len),
                     VIDEO_APIKEY_INVALID);
    ck_assert_int_eq(video_apikey_from_header("Bearer vapi_0", 13, &key,
                                              &len),
                     VIDEO_APIKEY_INVALID);
    ck_assert_int_eq(video_apikey_from_header("Bearer " ZEROS "0",
                                              7 + VIDEO_APIKEY_LEN + 1,
                                              &key, &len),
                     VIDEO_APIKEY_INVALID);

    /* another Bearer credential, another scheme */

    ck_assert_int_eq(video_apikey_from_header("Bearer x " ZEROS,
                                              9 + VIDEO_APIKEY_LEN,
                                              &key, &len),
                     VIDEO_APIKEY_FOREIGN);
    ck_assert_int_eq(video_apikey_from_header("Bearer eyJhbGciOi.x.y", 21,
                                              &key, &len),
                     VIDEO_APIKEY_FOREIGN);
    ck_assert_int_eq(video_apikey_from_header("Bearer ", 7, &key, &len),
                     VIDEO_APIKEY_FOREIGN);
    ck_assert_int_eq(video_apikey_from_header("Bearer", 6, &key, &len),
                     VIDEO_APIKEY_FOREIGN);
    ck_assert_int_eq(video_apikey_from_header("Basic " ZEROS,
                                              6 + VIDEO_APIKEY_LEN,
                                              &key, &len),
                     VIDEO_APIKEY_OTHER);
    ck_assert_int_eq(video_apikey_from_header("Bearer" ZEROS,
                                              6 + VIDEO_APIKEY_LEN,
                                              &key, &len),
                     VIDEO_APIKEY_OTHER);
    ck_assert_int_eq(video_apikey_from_header("", 0, &key, &len),
                     VIDEO_APIKEY_OTHER);
}
END_TEST


START_TEST(roles_by_name)
{
    ck_assert_int_eq(video_role_parse("admin", 5), VIDEO_ROLE_ADMIN);
    ck_assert_int_eq(video_role_parse("editor", 6), VIDEO_ROLE_EDITOR);
    ck_assert_int_eq(video_role_parse("viewer", 6), VIDEO_ROLE_VIEWER);
    ck_assert_int_eq(video_role_parse("Admin", 5), VIDEO_ROLE_NONE);
    ck_assert_int_eq(video_role_parse("admin", 4), VIDEO_ROLE_NONE);
    ck_assert_int_eq(video_role_parse("", 0), VIDEO_ROLE_NONE);
    ck_assert_str_eq(video_role_name(VIDEO_ROLE_EDITOR), "editor");
    ck_assert_str_eq(video_role_name(VIDEO_ROLE_NONE), "");
    ck_assert_str_eq(video_role_name((video_role_e) 9), "");
}
END_TEST


Suite *
unit_apikey_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("apikey");
    tc = tcase_create("apikey");

    tcase_add_test(tc, keys_with_their_checksum_are_valid);
    tcase_add_test(tc, a_mistyped_or_reshaped_key_is_refused);
    tcase_add_test(tc, generated_keys_are_valid_and_differ);
    tcase_add_test(tc, keys_are_stored_as_their_sha256);
    tcase_add_test(tc, the_key_of_an_authorization_header);
    tcase_add_test(tc, roles_by_name);
    suite_add_tcase(s, tc);

    return s;
}
