/*
 * Live view figures written into video JSON text.
 */

#include <string.h>

#include "unit.h"
#include "video_views.h"


#define ID1  "V1StGXR8_Z5jdHi6B-myT"
#define ID2  "abcdefghijklmnopqrstu"
#define VAR  "zzzzzzzzzzzzzzzzzzzzz"

#define VIDEO(id, title, t, m, a)                                             \
    "{\"id\" : \"" id "\", \"title\" : \"" title "\", "                       \
    "\"viewsToday\" : " t ", \"viewsMonth\" : " m ", \"viewsTotal\" : " a     \
    ", \"variants\" : [{\"id\" : \"" VAR "\", \"height\" : 720}]}"


static size_t
views_patch(const char *in, video_views_slot_t *slots, size_t max,
    char *out)
{
    size_t  i, n;

    n = video_views_scan(in, strlen(in), slots, max);

    for (i = 0; i < n; i++) {
        slots[i].today = 10 * (i + 1) + 1;
        slots[i].month = 10 * (i + 1) + 2;
        slots[i].total = 12345678901234LL;
    }

    out[video_views_write(in, strlen(in), slots, n, out)] = '\0';

    return n;
}


START_TEST(a_video_gets_its_figures)
{
    char                 out[1024];
    video_views_slot_t   slots[4];

    ck_assert_uint_eq(views_patch(VIDEO(ID1, "a", "0", "0", "0"), slots, 4,
                                  out), 1);
    ck_assert(memcmp(slots[0].id, ID1, 21) == 0);
    ck_assert_str_eq(out, VIDEO(ID1, "a", "11", "12", "12345678901234"));
}
END_TEST


START_TEST(each_video_of_a_list_gets_its_own)
{
    char                 out[2048];
    video_views_slot_t   slots[4];

    ck_assert_uint_eq(views_patch("{\"videos\":[" VIDEO(ID1, "a", "5", "6",
                                                        "700")
                                  "," VIDEO(ID2, "b", "1", "2", "3") "]}",
                                  slots, 4, out), 2);
    ck_assert(memcmp(slots[0].id, ID1, 21) == 0);
    ck_assert(memcmp(slots[1].id, ID2, 21) == 0);
    ck_assert_str_eq(out, "{\"videos\":["
                     VIDEO(ID1, "a", "11", "12", "12345678901234") ","
                     VIDEO(ID2, "b", "21", "22", "12345678901234") "]}");

    /* no more slots than asked for */

    ck_assert_uint_eq(video_views_scan("[" VIDEO(ID1, "a", "5", "6", "7") ","
                                       VIDEO(ID2, "b", "1", "2", "3") "]",
                                       strlen("[" VIDEO(ID1, "a", "5", "6",
                                              "7") "," VIDEO(ID2, "b", "1",
                                              "2", "3") "]"),
                                       slots, 1), 1);
}
END_TEST


START_TEST(text_in_strings_is_not_a_key)
{
    char                 out[1024];
    video_views_slot_t   slots[4];
    const char          *in;

    /* a title quoting the keys has its quotes escaped */

    in = VIDEO(ID1, "\\\"viewsToday\\\" : 99, \\\"viewsMonth\\\" : 1",
               "3", "4", "5");
    ck_assert_uint_eq(views_patch(in, slots, 4, out), 1);
    ck_assert(memcmp(slots[0].id, ID1, 21) == 0);
    ck_assert(strstr(out, "99") != NULL);
    ck_assert(strstr(out, "\"viewsToday\" : 11,") != NULL);

    /* not the shape video_json() writes: left alone */

    in = "{\"id\" : \"" ID1 "\", \"viewsToday\" : 1, \"viewsTotal\" : 2}";
    ck_assert_uint_eq(views_patch(in, slots, 4, out), 0);
    ck_assert_str_eq(out, in);

    in = "{\"viewsToday\" : 1, \"viewsMonth\" : 2, \"viewsTotal\" : 3}";
    ck_assert_uint_eq(views_patch(in, slots, 4, out), 0);

    in = "{\"id\" : \"short\", \"viewsToday\" : 1, \"viewsMonth\" : 2, "
         "\"viewsTotal\" : 3}";
    ck_assert_uint_eq(views_patch(in, slots, 4, out), 0);

    in = "{\"id\" : \"" ID1 "\", \"viewsToday\" : -1, \"viewsMonth\" : 2, "
         "\"viewsTotal\" : 3}";
    ck_assert_uint_eq(views_patch(in, slots, 4, out), 0);

    ck_assert_uint_eq(views_patch("", slots, 4, out), 0);
    ck_assert_uint_eq(views_patch("{\"id\" : \"", slots, 4, out), 0);
}
END_TEST


Suite *
unit_views_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("views");
    tc = tcase_create("views");

    tcase_add_test(tc, a_video_gets_its_figures);
    tcase_add_test(tc, each_video_of_a_list_gets_its_own);
    tcase_add_test(tc, text_in_strings_is_not_a_key);
    suite_add_tcase(s, tc);

    return s;
}
