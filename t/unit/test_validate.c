/*
 * Input validation: enums, UTF-8 lengths, the PATCH body.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_validate.h"


START_TEST(enums_match_exactly)
{
    ck_assert_int_eq(video_enum_index(video_statuses, "READY", 5), 2);
    ck_assert_int_eq(video_enum_index(video_statuses, "ready", 5), -1);
    ck_assert_int_eq(video_enum_index(video_statuses, "READ", 4), -1);
    ck_assert_int_eq(video_enum_index(video_visibilities, "PRIVATE", 7), 2);
    ck_assert_int_eq(video_enum_index(video_types, "LIVE", 4), 1);
    ck_assert_int_eq(video_enum_index(video_types, "", 0), -1);
}
END_TEST


START_TEST(utf8_is_counted_in_code_points)
{
    ck_assert_int_eq(video_utf8_length("abc", 3), 3);
    ck_assert_int_eq(video_utf8_length("\xc3\xa9t\xc3\xa9", 5), 3);
    ck_assert_int_eq(video_utf8_length("\xf0\x9f\x8e\xac", 4), 1);
    ck_assert_int_eq(video_utf8_length("", 0), 0);

    /* truncated, overlong, surrogate, past U+10FFFF */

    ck_assert_int_eq(video_utf8_length("\xc3", 1), -1);
    ck_assert_int_eq(video_utf8_length("\xc0\xaf", 2), -1);
    ck_assert_int_eq(video_utf8_length("\xed\xa0\x80", 3), -1);
    ck_assert_int_eq(video_utf8_length("\xf4\x90\x80\x80", 4), -1);
}
END_TEST


static int
parse(const char *body, video_patch_t *p, char **details)
{
    int      rc;
    json_t  *j, *d;

    j = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(j);

    rc = video_patch_parse(j, p, &d);
    *details = d ? json_dumps(d, JSON_COMPACT) : NULL;

    json_decref(d);
    json_decref(j);

    return rc;
}


START_TEST(patch_takes_known_fields_and_ignores_others)
{
    char           *details;
    video_patch_t   p;

    ck_assert_int_eq(parse("{\"title\": \"x\", \"color\": 1}", &p, &details),
                     0);
    ck_assert_ptr_null(details);

    ck_assert_int_eq(parse("{\"description\": null}", &p, &details), 0);
    ck_assert_ptr_null(details);
}
END_TEST


START_TEST(patch_reports_every_bad_field)
{
    char           *details;
    video_patch_t   p;

    ck_assert_int_eq(parse("{\"title\": \"\", \"description\": 3, "
                           "\"visibility\": \"SECRET\"}", &p, &details), -1);
    ck_assert_str_eq(details,
        "[{\"path\":\"title\",\"message\":\"title must be 1 to 255 "
        "characters\"},{\"path\":\"description\",\"message\":"
        "\"description must be a string or null\"},{\"path\":"
        "\"visibility\",\"message\":\"visibility must be one of PUBLIC, "
        "UNLISTED, PRIVATE\"}]");
    free(details);

    ck_assert_int_eq(parse("{}", &p, &details), -1);
    ck_assert_ptr_nonnull(strstr(details, "at least one of"));
    free(details);

    ck_assert_int_eq(parse("{\"title\": null}", &p, &details), -1);
    ck_assert_ptr_nonnull(strstr(details, "title must be a string"));
    free(details);
}
END_TEST


START_TEST(presign_needs_name_size_and_type)
{
    json_t           *j, *d;
    video_presign_t   p;

    j = json_loads("{\"fileName\": \"a.mp4\", \"fileSize\": 2147483648, "
                   "\"contentType\": \"video/ogg\"}", 0, NULL);
    ck_assert_int_eq(video_presign_parse(j, &p, &d), 0);
    ck_assert(p.file_size == 2147483648LL);
    ck_assert_int_eq(p.type, 2);
    ck_assert_str_eq(video_upload_extensions[p.type], "ogg");
    json_decref(j);

    j = json_loads("{\"fileName\": \"a\", \"fileSize\": 2147483649, "
                   "\"contentType\": \"video/mp4\"}", 0, NULL);
    ck_assert_int_eq(video_presign_parse(j, &p, &d), -1);
    ck_assert_uint_eq(json_array_size(d), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 0),
                                                       "path")),
                     "fileSize");
    json_decref(d);
    json_decref(j);

    j = json_loads("{\"fileName\": \"a\", \"fileSize\": 1.0, "
                   "\"contentType\": \"video/mp4; codecs=avc1\"}", 0, NULL);
    ck_assert_int_eq(video_presign_parse(j, &p, &d), -1);
    ck_assert_uint_eq(json_array_size(d), 2);
    json_decref(d);
    json_decref(j);
}
END_TEST


START_TEST(part_numbers_are_a_batch_of_distinct_parts)
{
    size_t       n;
    json_t      *j, *d;
    uint32_t     nums[VIDEO_PARTS_BATCH_MAX];
    const char  *bad[] = {
        "{}", "{\"partNumbers\": []}", "{\"partNumbers\": [0]}",
        "{\"partNumbers\": [11]}", "{\"partNumbers\": [2, 2]}",
        "{\"partNumbers\": [\"1\"]}", "{\"partNumbers\": [1.5]}",
        "{\"partNumbers\": [-1]}", "{\"partNumbers\": 1}",
        "{\"partNumbers\": [4294967297]}"
    };
    size_t       i;

    j = json_loads("{\"partNumbers\": [10, 1, 5]}", 0, NULL);
    ck_assert_int_eq(video_part_numbers_parse(j, 10, nums, &n, &d), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(nums[0], 10);
    ck_assert_uint_eq(nums[1], 1);
    ck_assert_uint_eq(nums[2], 5);
    json_decref(j);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(video_part_numbers_parse(j, 10, nums, &n, &d) == -1,
                      "%s passed", bad[i]);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(json_array_size(d), 1);
        json_decref(d);
        json_decref(j);
    }
}
END_TEST


START_TEST(complete_parts_are_every_part_in_order)
{
    json_t        *j, *d;
    video_part_t   parts[3];
    size_t         i;
    const char    *bad[] = {
        "{}", "{\"parts\": []}",
        "{\"parts\": [{\"partNumber\": 1, \"etag\": \"a\"},"
        " {\"partNumber\": 2, \"etag\": \"b\"}]}",
        "{\"parts\": [{\"partNumber\": 1, \"etag\": \"a\"},"
        " {\"partNumber\": 3, \"etag\": \"b\"},"
        " {\"partNumber\": 2, \"etag\": \"c\"}]}",
        "{\"parts\": [{\"partNumber\": 1, \"etag\": \"a\"},"
        " {\"partNumber\": 2, \"etag\": \"\"},"
        " {\"partNumber\": 3, \"etag\": \"c\"}]}",
        "{\"parts\": [{\"partNumber\": 1, \"etag\": \"a\"},"
        " {\"partNumber\": 2, \"etag\": \"<x>\"},"
        " {\"partNumber\": 3, \"etag\": \"c\"}]}",
        "{\"parts\": [{\"partNumber\": 1, \"etag\": \"a\"},"
        " {\"partNumber\": 2, \"etag\": 7},"
        " {\"partNumber\": 3, \"etag\": \"c\"}]}",
        "{\"parts\": [1, 2, 3]}"
    };

    j = json_loads("{\"parts\": [{\"partNumber\": 1, \"etag\": "
                   "\"\\\"0123456789abcdef0123456789abcdef\\\"\"},"
                   " {\"partNumber\": 2, \"etag\": \"x-2\"},"
                   " {\"partNumber\": 3, \"etag\": \"C\"}]}", 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(video_complete_parts_parse(j, 3, parts, &d), 0);
    ck_assert_str_eq(parts[0].etag, "0123456789abcdef0123456789abcdef");
    ck_assert_uint_eq(parts[0].etag_len, 32);
    ck_assert_uint_eq(parts[0].number, 1);
    ck_assert_str_eq(parts[1].etag, "x-2");
    ck_assert_uint_eq(parts[2].number, 3);
    json_decref(j);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i], 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(video_complete_parts_parse(j, 3, parts, &d) == -1,
                      "%s passed", bad[i]);
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(d, 0), "path")), "parts");
        json_decref(d);
        json_decref(j);
    }
}
END_TEST


START_TEST(multipart_size_is_bound_by_its_maximum)
{
    json_t           *j, *d;
    video_presign_t   p;

    j = json_loads("{\"fileName\": \"a.mp4\", \"fileSize\": 53687091200, "
                   "\"contentType\": \"video/mp4\"}", 0, NULL);
    ck_assert_int_eq(video_upload_parse(j, 53687091200LL, &p, &d), 0);
    ck_assert(p.file_size == 53687091200LL);
    ck_assert_int_eq(video_presign_parse(j, &p, &d), -1);
    json_decref(d);
    ck_assert_int_eq(video_upload_parse(j, 53687091199LL, &p, &d), -1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(d, 0),
                                                       "message")),
                     "fileSize must be an integer from 1 to 53687091199");
    json_decref(d);
    json_decref(j);
}
END_TEST


START_TEST(complete_needs_the_key_of_its_id)
{
    json_t            *j, *d;
    video_complete_t   c;
    const char        *id = "V1StGXR8_Z5jdHi6B-myT";

    j = json_loads("{\"key\": \"V1StGXR8_Z5jdHi6B-myT/original.webm\"}", 0,
                   NULL);
    ck_assert_int_eq(video_complete_parse(j, id, 21, &c, &d), 0);
    ck_assert_ptr_null(c.title);
    json_decref(j);

    j = json_loads("{\"key\": \"V1StGXR8_Z5jdHi6B-myX/original.mp4\"}", 0,
                   NULL);
    ck_assert_int_eq(video_complete_parse(j, id, 21, &c, &d), -1);
    json_decref(d);
    json_decref(j);

    j = json_loads("{\"key\": \"V1StGXR8_Z5jdHi6B-myT/original.mp4.exe\"}",
                   0, NULL);
    ck_assert_int_eq(video_complete_parse(j, id, 21, &c, &d), -1);
    json_decref(d);
    json_decref(j);

    /* for an id that is not one, only the shape of the body counts */

    j = json_loads("{\"key\": \"bad-id/original.mp4\"}", 0, NULL);
    ck_assert_int_eq(video_complete_parse(j, NULL, 6, &c, &d), 0);
    json_decref(j);

    j = json_loads("{\"key\": \"V1StGXR8_Z5jdHi6B-myT/../x/original.mp4\","
                   " \"title\": \"\"}", 0, NULL);
    ck_assert_int_eq(video_complete_parse(j, id, 21, &c, &d), -1);
    ck_assert_uint_eq(json_array_size(d), 2);
    json_decref(d);
    json_decref(j);
}
END_TEST


START_TEST(live_bodies_are_checked)
{
    int      convert;
    json_t  *j, *v, *details;

    j = json_loads("{\"streamKey\": \"abc\"}", 0, NULL);
    ck_assert_int_eq(video_live_start_parse(j, &v, &details), 0);
    ck_assert_str_eq(json_string_value(v), "abc");
    json_decref(j);

    j = json_loads("{\"streamKey\": 12}", 0, NULL);
    ck_assert_int_eq(video_live_start_parse(j, &v, &details), -1);
    ck_assert_int_eq(json_array_size(details), 1);
    json_decref(details);
    json_decref(j);

    j = json_loads("{\"streamKey\": \"\"}", 0, NULL);
    ck_assert_int_eq(video_live_start_parse(j, &v, &details), -1);
    json_decref(details);
    json_decref(j);

    j = json_loads("{}", 0, NULL);
    ck_assert_int_eq(video_live_start_parse(j, &v, &details), -1);
    json_decref(details);

    ck_assert_int_eq(video_live_stop_parse(j, &convert, &details), 0);
    ck_assert_int_eq(convert, -1);
    ck_assert_int_eq(video_live_stop_parse(NULL, &convert, &details), 0);
    ck_assert_int_eq(convert, -1);

    ck_assert_int_eq(video_live_visibility_parse(j, &v, &details), -1);
    json_decref(details);
    json_decref(j);

    j = json_loads("{\"convertToVOD\": false}", 0, NULL);
    ck_assert_int_eq(video_live_stop_parse(j, &convert, &details), 0);
    ck_assert_int_eq(convert, 0);
    json_decref(j);

    j = json_loads("{\"convertToVOD\": \"yes\"}", 0, NULL);
    ck_assert_int_eq(video_live_stop_parse(j, &convert, &details), -1);
    json_decref(details);
    json_decref(j);

    j = json_loads("{\"visibility\": \"UNLISTED\"}", 0, NULL);
    ck_assert_int_eq(video_live_visibility_parse(j, &v, &details), 0);
    ck_assert_str_eq(json_string_value(v), "UNLISTED");
    json_decref(j);

    j = json_loads("{\"visibility\": \"public\"}", 0, NULL);
    ck_assert_int_eq(video_live_visibility_parse(j, &v, &details), -1);
    json_decref(details);
    json_decref(j);
}
END_TEST


Suite *
unit_validate_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("validate");
    tc = tcase_create("validate");

    tcase_add_test(tc, enums_match_exactly);
    tcase_add_test(tc, utf8_is_counted_in_code_points);
    tcase_add_test(tc, patch_takes_known_fields_and_ignores_others);
    tcase_add_test(tc, patch_reports_every_bad_field);
    tcase_add_test(tc, presign_needs_name_size_and_type);
    tcase_add_test(tc, complete_needs_the_key_of_its_id);
    tcase_add_test(tc, part_numbers_are_a_batch_of_distinct_parts);
    tcase_add_test(tc, complete_parts_are_every_part_in_order);
    tcase_add_test(tc, multipart_size_is_bound_by_its_maximum);
    tcase_add_test(tc, live_bodies_are_checked);
    suite_add_tcase(s, tc);

    return s;
}
