/*
 * video_base64: RFC 4648's test vectors in both alphabets, with padding
 * and without, round trips, and every non-canonical spelling refused.
 */

#include <string.h>

#include "unit.h"
#include "video_base64.h"


#define STD    0
#define URL    (VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD)


static void
encodes(const char *in, size_t len, unsigned flags, const char *expect)
{
    char    out[128];
    size_t  n;

    memset(out, '#', sizeof(out));
    n = video_base64_encode((const unsigned char *) in, len, out, flags);

    ck_assert_uint_eq(n, strlen(expect));
    ck_assert(memcmp(out, expect, n) == 0);
    /* nothing written past the encoding */
    ck_assert_int_eq(out[n], '#');
}


static void
decodes(const char *in, unsigned flags, const char *expect, size_t len)
{
    size_t         n;
    unsigned char  out[128];

    ck_assert_int_eq(video_base64_decode(in, strlen(in), out, sizeof(out),
                                         &n, flags),
                     0);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(out, expect, len) == 0);
}


static int
refuses(const char *in, size_t len, unsigned flags)
{
    size_t         n;
    unsigned char  out[128];

    return video_base64_decode(in, len, out, sizeof(out), &n, flags) == -1;
}


#define refused(in, flags)  ck_assert(refuses(in, strlen(in), flags))


START_TEST(rfc_4648_vectors)
{
    static const struct {
        const char  *plain;
        const char  *padded;
        const char  *bare;
    } v[] = {
        { "",       "",         ""         },
        { "f",      "Zg==",     "Zg"       },
        { "fo",     "Zm8=",     "Zm8"      },
        { "foo",    "Zm9v",     "Zm9v"     },
        { "foob",   "Zm9vYg==", "Zm9vYg"   },
        { "fooba",  "Zm9vYmE=", "Zm9vYmE"  },
        { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
    };

    size_t  i, len;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        len = strlen(v[i].plain);

        encodes(v[i].plain, len, STD, v[i].padded);
        encodes(v[i].plain, len, VIDEO_BASE64_URL, v[i].padded);
        encodes(v[i].plain, len, VIDEO_BASE64_NOPAD, v[i].bare);
        encodes(v[i].plain, len, URL, v[i].bare);

        decodes(v[i].padded, STD, v[i].plain, len);
        decodes(v[i].padded, VIDEO_BASE64_URL, v[i].plain, len);
        decodes(v[i].bare, VIDEO_BASE64_NOPAD, v[i].plain, len);
        decodes(v[i].bare, URL, v[i].plain, len);

        ck_assert_uint_eq(VIDEO_BASE64_LEN(len), strlen(v[i].padded));
        ck_assert_uint_eq(VIDEO_BASE64_NOPAD_LEN(len), strlen(v[i].bare));
    }
}
END_TEST


START_TEST(the_alphabets_differ_in_two_characters)
{
    /* RFC 4648 section 5: 62 and 63 are "-" and "_" instead of "+" and "/" */

    encodes("\xfb\xef\xbe", 3, STD, "++++");
    encodes("\xfb\xef\xbe", 3, URL, "----");
    encodes("\xff\xff\xff", 3, STD, "////");
    encodes("\xff\xff\xff", 3, URL, "____");
    encodes("\xfb\xff", 2, STD, "+/8=");
    encodes("\xfb\xff", 2, URL, "-_8");

    decodes("+/8=", STD, "\xfb\xff", 2);
    decodes("-_8", URL, "\xfb\xff", 2);

    refused("-_8=", STD);
    refused("+/8", URL);

    ck_assert_int_eq(video_base64_value('+', STD), 62);
    ck_assert_int_eq(video_base64_value('/', STD), 63);
    ck_assert_int_eq(video_base64_value('-', URL), 62);
    ck_assert_int_eq(video_base64_value('_', URL), 63);
    ck_assert_int_eq(video_base64_value('-', STD), -1);
    ck_assert_int_eq(video_base64_value('+', URL), -1);
    ck_assert_int_eq(video_base64_value('=', STD), -1);
    ck_assert_int_eq(video_base64_value('\0', URL), -1);
    ck_assert_int_eq(video_base64_value('A', URL), 0);
    ck_assert_int_eq(video_base64_value('z', STD), 51);
    ck_assert_int_eq(video_base64_value('9', URL), 61);
}
END_TEST


START_TEST(every_length_round_trips)
{
    char           enc[128];
    size_t         len, e, n, f;
    unsigned char  in[64], out[64];
    unsigned       flags[] = { STD, VIDEO_BASE64_URL, VIDEO_BASE64_NOPAD,
                               URL };

    for (len = 0; len < sizeof(in); len++) {
        in[len] = (unsigned char) (len * 37 + 251);
    }

    for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
        for (len = 0; len <= sizeof(in); len++) {
            e = video_base64_encode(in, len, enc, flags[f]);

            ck_assert_uint_eq(e, (flags[f] & VIDEO_BASE64_NOPAD)
                                 ? VIDEO_BASE64_NOPAD_LEN(len)
                                 : VIDEO_BASE64_LEN(len));

            ck_assert_int_eq(video_base64_decode(enc, e, out, len, &n,
                                                 flags[f]),
                             0);
            ck_assert_uint_eq(n, len);
            ck_assert(memcmp(in, out, len) == 0);

            /* one byte short of room is refused */

            if (len > 0) {
                ck_assert_int_eq(video_base64_decode(enc, e, out, len - 1,
                                                     &n, flags[f]),
                                 -1);
            }
        }
    }
}
END_TEST


START_TEST(padding_is_canonical)
{
    /* padded: whole groups of four, "=" only at the end, one or two */
    refused("Zg=", STD);
    refused("Zg", STD);
    refused("Zm9", STD);
    refused("Zm9vY", STD);
    refused("Z===", STD);
    refused("====", STD);
    refused("Zg==Zg==", STD);
    refused("Zm=v", STD);
    refused("=Zm9", STD);

    /* unpadded: no "=" at all, and no lone last character */
    refused("Zg==", URL);
    refused("Zm8=", URL);
    refused("Z", URL);
    refused("Zm9vY", URL);
    refused("Zm9v=", URL);
    refused("Zg==", VIDEO_BASE64_NOPAD);
}
END_TEST


START_TEST(stray_bits_are_refused)
{
    /* "Zg" is "f"; "Zh".."Zv" set bits past the byte */
    refused("Zh==", STD);
    refused("Zv==", STD);
    refused("Zh", URL);
    refused("Zm9=", STD);
    refused("Zm9", URL);

    /* unless the caller asks for the bits to be ignored */
    decodes("Zh", URL | VIDEO_BASE64_LAX_TAIL, "f", 1);
    decodes("Zm9", URL | VIDEO_BASE64_LAX_TAIL, "fo", 2);
    decodes("Zh==", VIDEO_BASE64_LAX_TAIL, "f", 1);

    /* which still refuses what is not base64 */
    refused("Z", URL | VIDEO_BASE64_LAX_TAIL);
    refused("Zh=", URL | VIDEO_BASE64_LAX_TAIL);
    refused("Z!", URL | VIDEO_BASE64_LAX_TAIL);
}
END_TEST


START_TEST(foreign_characters_are_refused)
{
    refused(" Zg=", STD);
    refused("Zg==\n", STD);
    refused("Zm9v\r\n", STD);
    refused("Zm 9v", URL);
    refused("Zm9v.", URL);
    refused("Zm9\xc3\xa9", URL);
    ck_assert(refuses("Zm\0v", 4, STD));
    ck_assert(refuses("Zm\0v", 4, URL));
}
END_TEST


Suite *
unit_base64_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("base64");
    tc = tcase_create("base64");

    tcase_add_test(tc, rfc_4648_vectors);
    tcase_add_test(tc, the_alphabets_differ_in_two_characters);
    tcase_add_test(tc, every_length_round_trips);
    tcase_add_test(tc, padding_is_canonical);
    tcase_add_test(tc, stray_bits_are_refused);
    tcase_add_test(tc, foreign_characters_are_refused);
    suite_add_tcase(s, tc);

    return s;
}
