/*
 * video_hmac: HMAC-SHA256 against RFC 4231's test cases and keys at and
 * around the block size.
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "video_hmac.h"


static void
hex(const unsigned char *md, char *out)
{
    int  i;

    for (i = 0; i < VIDEO_SHA256_LEN; i++) {
        sprintf(out + 2 * i, "%02x", md[i]);
    }
}


static void
check(const void *key, size_t key_len, const char *msg, const char *expect)
{
    char           h[2 * VIDEO_SHA256_LEN + 1];
    unsigned char  md[VIDEO_SHA256_LEN];

    ck_assert_int_eq(video_hmac_sha256(key, key_len, msg, strlen(msg), md),
                     0);
    hex(md, h);
    ck_assert_str_eq(h, expect);
}


START_TEST(rfc_4231_test_cases)
{
    unsigned char  k[131];

    /* test case 1: a 20-byte key */

    memset(k, 0x0b, 20);
    check(k, 20, "Hi There",
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    /* test case 2: a key shorter than the output */

    check("Jefe", 4, "what do ya want for nothing?",
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    /* test case 6: a key longer than the block is hashed first */

    memset(k, 0xaa, 131);
    check(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST


START_TEST(empty_and_block_sized_keys)
{
    unsigned char  k[64];

    check("", 0, "",
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

    memset(k, 'k', 64);
    check(k, 64, "exactly one block of key",
          "baa93ea4ccc7062ed6870c5e7937dbd35ad7791df4e29df9addeb429ff491acf");
}
END_TEST


Suite *
unit_hmac_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("hmac");
    tc = tcase_create("sha256");

    tcase_add_test(tc, rfc_4231_test_cases);
    tcase_add_test(tc, empty_and_block_sized_keys);
    suite_add_tcase(s, tc);

    return s;
}
