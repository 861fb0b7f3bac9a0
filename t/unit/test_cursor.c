/*
 * Keyset cursors: round trips, and every forgery refused.
 */

#include <string.h>

#include "unit.h"
#include "video_cursor.h"
#include "video_id.h"


START_TEST(cursors_round_trip)
{
    char     c[VIDEO_CURSOR_MAX + 1], id[VIDEO_ID_LEN];
    size_t   len;
    int64_t  micros;

    len = video_cursor_encode(c, 1795654193607712LL, "vidBBBBBBBBBBBBBBBBBB");
    ck_assert_uint_eq(len, strlen(c));
    ck_assert_str_eq(c, "MTc5NTY1NDE5MzYwNzcxMi52aWRCQkJCQkJCQkJCQkJCQkJCQkI");

    ck_assert_int_eq(video_cursor_decode(c, len, &micros, id), 0);
    ck_assert(micros == 1795654193607712LL);
    ck_assert(memcmp(id, "vidBBBBBBBBBBBBBBBBBB", VIDEO_ID_LEN) == 0);

    len = video_cursor_encode(c, 0, "V1StGXR8_Z5jdHi6B-myT");
    ck_assert_int_eq(video_cursor_decode(c, len, &micros, id), 0);
    ck_assert(micros == 0);
    ck_assert(memcmp(id, "V1StGXR8_Z5jdHi6B-myT", VIDEO_ID_LEN) == 0);
}
END_TEST


static int
decode(const char *c)
{
    char     id[VIDEO_ID_LEN];
    int64_t  micros;

    return video_cursor_decode(c, strlen(c), &micros, id);
}


START_TEST(forged_cursors_are_refused)
{
    /* "1.x' OR '1'='1" */
    ck_assert_int_eq(decode("MS54JyBPUiAnMSc9JzE"), -1);
    /* "abc.vidBBBBBBBBBBBBBBBBBB": the time is not a number */
    ck_assert_int_eq(decode("YWJjLnZpZEJCQkJCQkJCQkJCQkJCQkJCQg"), -1);
    /* "123vidBBBBBBBBBBBBBBBBBB": no dot */
    ck_assert_int_eq(decode("MTIzdmlkQkJCQkJCQkJCQkJCQkJCQkJC"), -1);
    /* "123.short" */
    ck_assert_int_eq(decode("MTIzLnNob3J0"), -1);
    /* not base64url */
    ck_assert_int_eq(decode("MTc5+/=="), -1);
    ck_assert_int_eq(decode(""), -1);
    ck_assert_int_eq(decode("A"), -1);
    /* too long */
    ck_assert_int_eq(decode("MTc5NTY1NDE5MzYwNzcxMi52aWRCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"
                            "QkJCQkJCQkJC"), -1);
}
END_TEST


/* digits past any time PostgreSQL or int64_t holds are refused */
START_TEST(out_of_range_times_are_refused)
{
    char     id[VIDEO_ID_LEN];
    int64_t  micros;

    /* "9999999999999999999.vidBBBBBBBBBBBBBBBBBB": past INT64_MAX */
    ck_assert_int_eq(decode("OTk5OTk5OTk5OTk5OTk5OTk5OS52aWRCQkJCQkJC"
                            "QkJCQkJCQkJCQkI"), -1);
    /* "9223372036854775807.vid...": INT64_MAX, past year 9999 */
    ck_assert_int_eq(decode("OTIyMzM3MjAzNjg1NDc3NTgwNy52aWRCQkJCQkJC"
                            "QkJCQkJCQkJCQkI"), -1);
    /* "253402300800000000.vid...": 10000-01-01T00:00:00Z */
    ck_assert_int_eq(decode("MjUzNDAyMzAwODAwMDAwMDAwLnZpZEJCQkJCQkJC"
                            "QkJCQkJCQkJCQg"), -1);

    /* "253402300799999999.vid...": the last microsecond of 9999 */
    ck_assert_int_eq(video_cursor_decode("MjUzNDAyMzAwNzk5OTk5OTk5LnZpZEJC"
                                         "QkJCQkJCQkJCQkJCQkJCQg", 54,
                                         &micros, id), 0);
    ck_assert(micros == 253402300799999999LL);
}
END_TEST


Suite *
unit_cursor_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("cursor");
    tc = tcase_create("cursor");

    tcase_add_test(tc, cursors_round_trip);
    tcase_add_test(tc, forged_cursors_are_refused);
    tcase_add_test(tc, out_of_range_times_are_refused);
    suite_add_tcase(s, tc);

    return s;
}
