/*
 * ISO 8601 timestamps as the API shows them.
 */

#include "unit.h"
#include "video_time.h"


START_TEST(formats_utc_with_milliseconds)
{
    char  buf[VIDEO_TIME_ISO_LEN + 1];

    ck_assert_uint_eq(video_time_iso8601(buf, 0), VIDEO_TIME_ISO_LEN);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");

    ck_assert_uint_eq(video_time_iso8601(buf, 1761991200123LL),
                      VIDEO_TIME_ISO_LEN);
    ck_assert_str_eq(buf, "2025-11-01T10:00:00.123Z");

    /* a leap day */

    video_time_iso8601(buf, 1709164800000LL + 86399999LL);
    ck_assert_str_eq(buf, "2024-02-29T23:59:59.999Z");
}
END_TEST


START_TEST(negative_times_borrow_a_second)
{
    char  buf[VIDEO_TIME_ISO_LEN + 1];

    video_time_iso8601(buf, -1);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
}
END_TEST


START_TEST(years_past_9999_are_refused)
{
    char  buf[VIDEO_TIME_ISO_LEN + 1];

    ck_assert_uint_eq(video_time_iso8601(buf, 253402300800000LL), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST


START_TEST(now_is_after_2025)
{
    ck_assert(video_time_now_ms() > 1735689600000LL);
}
END_TEST


Suite *
unit_time_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("time");
    tc = tcase_create("iso8601");

    tcase_add_test(tc, formats_utc_with_milliseconds);
    tcase_add_test(tc, negative_times_borrow_a_second);
    tcase_add_test(tc, years_past_9999_are_refused);
    tcase_add_test(tc, now_is_after_2025);
    suite_add_tcase(s, tc);

    return s;
}
