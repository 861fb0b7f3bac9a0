/*
 * video_form.c: callback bodies as nginx-rtmp sends them, and hostile ones.
 */

#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "video_form.h"


#define FORM(s)  s, sizeof(s) - 1


START_TEST(fields_of_an_on_publish_body)
{
    char  out[64];

    static const char  body[] =
        "app=live&flashver=FMLE%2F3.0&swfurl=&tcurl=rtmp%3A%2F%2F127.0.0.1"
        "%2Flive&pageurl=&addr=127.0.0.1&clientid=7&call=publish"
        "&name=abc_DEF-123&type=live";

    ck_assert_int_eq(video_form_value(FORM(body), "call", out, sizeof(out)),
                     7);
    ck_assert_str_eq(out, "publish");
    ck_assert_int_eq(video_form_value(FORM(body), "name", out, sizeof(out)),
                     11);
    ck_assert_str_eq(out, "abc_DEF-123");
    ck_assert_int_eq(video_form_value(FORM(body), "tcurl", out, sizeof(out)),
                     21);
    ck_assert_str_eq(out, "rtmp://127.0.0.1/live");
    ck_assert_int_eq(video_form_value(FORM(body), "swfurl", out, sizeof(out)),
                     0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(video_form_value(FORM(body), "type", out, sizeof(out)),
                     4);
    ck_assert_int_eq(video_form_value(FORM(body), "nam", out, sizeof(out)),
                     VIDEO_FORM_MISSING);
    ck_assert_int_eq(video_form_value(FORM(body), "names", out, sizeof(out)),
                     VIDEO_FORM_MISSING);
}
END_TEST


START_TEST(plus_is_a_space_and_escapes_decode)
{
    char  out[16];

    ck_assert_int_eq(video_form_value(FORM("a=x+y%2b%41"), "a", out,
                                      sizeof(out)), 5);
    ck_assert_str_eq(out, "x y+A");
    ck_assert_int_eq(video_form_value(FORM("a"), "a", out, sizeof(out)), 0);
    ck_assert_int_eq(video_form_value(FORM(""), "a", out, sizeof(out)),
                     VIDEO_FORM_MISSING);
    ck_assert_int_eq(video_form_value(FORM("&&b=1&"), "b", out, sizeof(out)),
                     1);
}
END_TEST


START_TEST(hostile_bodies_are_invalid)
{
    char  out[8];

    /* twice: which one would count? */
    ck_assert_int_eq(video_form_value(FORM("name=a&name=b"), "name", out,
                                      sizeof(out)), VIDEO_FORM_INVALID);

    /* broken escapes, an escaped NUL, a raw NUL */
    ck_assert_int_eq(video_form_value(FORM("a=%4"), "a", out, sizeof(out)),
                     VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_value(FORM("a=%"), "a", out, sizeof(out)),
                     VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_value(FORM("a=%zz"), "a", out, sizeof(out)),
                     VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_value(FORM("a=x%00y"), "a", out,
                                      sizeof(out)), VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_value("a=x\0y", 5, "a", out, sizeof(out)),
                     VIDEO_FORM_INVALID);

    /* longer than the caller takes: 7 characters and the NUL fit */
    ck_assert_int_eq(video_form_value(FORM("a=1234567"), "a", out,
                                      sizeof(out)), 7);
    ck_assert_int_eq(video_form_value(FORM("a=12345678"), "a", out,
                                      sizeof(out)), VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_value(FORM("a=1"), "a", out, 0),
                     VIDEO_FORM_INVALID);
}
END_TEST


/* what nginx-rtmp sends passes; a publisher's injected field does not */
START_TEST(whole_bodies_are_checked)
{
    int   i;
    char  many[VIDEO_FORM_MAX_FIELDS * 8 + 8], *p;

    ck_assert_int_eq(video_form_check(FORM("app=live&flashver=FMLE%2F3.0"
        "&swfurl=&tcurl=rtmp%3A%2F%2Fh%2Flive&pageurl=&addr=127.0.0.1"
        "&clientid=7&call=publish&name=k&type=live&obs=1")), 0);
    ck_assert_int_eq(video_form_check(FORM("")), 0);
    ck_assert_int_eq(video_form_check(FORM("a=1&&b=2&")), 0);

    /* the publisher's query string names clientid (or name) again */
    ck_assert_int_eq(video_form_check(FORM("addr=1&clientid=7&call=publish"
        "&name=k&type=live&clientid=1")), VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_check(FORM("name=k&x=1&name")),
                     VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_check(FORM("path=/a&path=/b")),
                     VIDEO_FORM_INVALID);

    /* escaped names would read as another field elsewhere */
    ck_assert_int_eq(video_form_check(FORM("client%69d=1")),
                     VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_check(FORM("a+b=1")), VIDEO_FORM_INVALID);
    ck_assert_int_eq(video_form_check(FORM("=1")), VIDEO_FORM_INVALID);

    /* a bounded number of fields */
    p = many;
    for (i = 0; i < VIDEO_FORM_MAX_FIELDS; i++) {
        p += sprintf(p, "f%d=1&", i);
    }
    ck_assert_int_eq(video_form_check(many, strlen(many)), 0);
    sprintf(p, "z=1");
    ck_assert_int_eq(video_form_check(many, strlen(many)),
                     VIDEO_FORM_INVALID);
}
END_TEST


Suite *
unit_form_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("form");
    tc = tcase_create("form");

    tcase_add_test(tc, fields_of_an_on_publish_body);
    tcase_add_test(tc, plus_is_a_space_and_escapes_decode);
    tcase_add_test(tc, hostile_bodies_are_invalid);
    tcase_add_test(tc, whole_bodies_are_checked);
    suite_add_tcase(s, tc);

    return s;
}
