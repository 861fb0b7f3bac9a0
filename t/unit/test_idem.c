/*
 * video_idem: what an Idempotency-Key may be, and sealed answers that
 * open only under their secret and what was bound to them.
 */

#define _GNU_SOURCE

#include <string.h>

#include "unit.h"
#include "video_idem.h"


START_TEST(keys)
{
    char  k[VIDEO_IDEM_KEY_MAX + 2];

    ck_assert_int_eq(video_idem_key_valid("a", 1), 1);
    ck_assert_int_eq(video_idem_key_valid(" !~{}", 5), 1);
    ck_assert_int_eq(video_idem_key_valid("", 0), 0);
    ck_assert_int_eq(video_idem_key_valid(NULL, 3), 0);
    ck_assert_int_eq(video_idem_key_valid("a\x01" "b", 3), 0);
    ck_assert_int_eq(video_idem_key_valid("a\x7f", 2), 0);
    ck_assert_int_eq(video_idem_key_valid("caf\xc3\xa9", 5), 0);
    ck_assert_int_eq(video_idem_key_valid("a\0b", 3), 0);

    memset(k, 'k', sizeof(k));
    ck_assert_int_eq(video_idem_key_valid(k, VIDEO_IDEM_KEY_MAX), 1);
    ck_assert_int_eq(video_idem_key_valid(k, VIDEO_IDEM_KEY_MAX + 1), 0);
}
END_TEST


START_TEST(seal_and_open)
{
    long           n;
    const char    *body = "{\"success\":true,\"data\":{\"key\":\"vapi_x\"}}";
    size_t         len;
    unsigned char  s1[VIDEO_IDEM_SECRET_LEN], s2[VIDEO_IDEM_SECRET_LEN],
                   s3[VIDEO_IDEM_SECRET_LEN];
    unsigned char  sealed[128 + VIDEO_IDEM_SEAL_EXTRA], again[sizeof(sealed)];
    unsigned char  out[128];

    len = strlen(body);

    ck_assert_int_eq(video_idem_secret("order-1", 7, "Bearer a", 8, s1), 0);
    ck_assert_int_eq(video_idem_secret("order-1", 7, "Bearer b", 8, s2), 0);
    ck_assert_int_eq(video_idem_secret("order-1", 7, NULL, 0, s3), 0);
    ck_assert(memcmp(s1, s2, sizeof(s1)) != 0);
    ck_assert(memcmp(s1, s3, sizeof(s1)) != 0);

    ck_assert_int_eq(video_idem_seal(s1, "aad", 3, body, len, sealed), 0);
    ck_assert(memmem(sealed, len + VIDEO_IDEM_SEAL_EXTRA, "vapi_x", 6)
              == NULL);

    n = video_idem_open(s1, "aad", 3, sealed, len + VIDEO_IDEM_SEAL_EXTRA,
                        out);
    ck_assert_int_eq(n, (long) len);
    ck_assert(memcmp(out, body, len) == 0);

    /* a fresh nonce each time */

    ck_assert_int_eq(video_idem_seal(s1, "aad", 3, body, len, again), 0);
    ck_assert(memcmp(sealed, again, len + VIDEO_IDEM_SEAL_EXTRA) != 0);

    /* another secret, another aad, a flipped bit, a cut: nothing opens */

    ck_assert_int_eq(video_idem_open(s2, "aad", 3, sealed,
                                     len + VIDEO_IDEM_SEAL_EXTRA, out), -1);
    ck_assert_int_eq(video_idem_open(s1, "aae", 3, sealed,
                                     len + VIDEO_IDEM_SEAL_EXTRA, out), -1);
    sealed[VIDEO_IDEM_NONCE_LEN + 3] ^= 1;
    ck_assert_int_eq(video_idem_open(s1, "aad", 3, sealed,
                                     len + VIDEO_IDEM_SEAL_EXTRA, out), -1);
    sealed[VIDEO_IDEM_NONCE_LEN + 3] ^= 1;
    ck_assert_int_eq(video_idem_open(s1, "aad", 3, sealed,
                                     len + VIDEO_IDEM_SEAL_EXTRA - 1, out),
                     -1);
    ck_assert_int_eq(video_idem_open(s1, "aad", 3, sealed,
                                     VIDEO_IDEM_SEAL_EXTRA - 1, out), -1);

    /* an empty body seals too */

    ck_assert_int_eq(video_idem_seal(s1, NULL, 0, "", 0, sealed), 0);
    ck_assert_int_eq(video_idem_open(s1, NULL, 0, sealed,
                                     VIDEO_IDEM_SEAL_EXTRA, out), 0);
}
END_TEST


Suite *
unit_idem_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("idem");
    tc = tcase_create("idempotency keys");

    tcase_add_test(tc, keys);
    tcase_add_test(tc, seal_and_open);
    suite_add_tcase(s, tc);

    return s;
}
