/*
 * The JSON envelope: shapes and codes from API.md.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_envelope.h"


static char *
dump(json_t *json)
{
    char  *s;

    ck_assert_ptr_nonnull(json);
    s = json_dumps(json, JSON_COMPACT);
    json_decref(json);

    return s;
}


START_TEST(codes_follow_the_status)
{
    ck_assert_str_eq(video_envelope_code(400), "BAD_REQUEST");
    ck_assert_str_eq(video_envelope_code(401), "UNAUTHORIZED");
    ck_assert_str_eq(video_envelope_code(403), "FORBIDDEN");
    ck_assert_str_eq(video_envelope_code(404), "NOT_FOUND");
    ck_assert_str_eq(video_envelope_code(405), "METHOD_NOT_ALLOWED");
    ck_assert_str_eq(video_envelope_code(409), "CONFLICT");
    ck_assert_str_eq(video_envelope_code(413), "PAYLOAD_TOO_LARGE");
    ck_assert_str_eq(video_envelope_code(416), "RANGE_NOT_SATISFIABLE");
    ck_assert_str_eq(video_envelope_code(429), "TOO_MANY_REQUESTS");
    ck_assert_str_eq(video_envelope_code(503), "UNAVAILABLE");
    ck_assert_str_eq(video_envelope_code(500), "INTERNAL");
    ck_assert_str_eq(video_envelope_code(418), "BAD_REQUEST");
    ck_assert_str_eq(video_envelope_code(599), "INTERNAL");
}
END_TEST


START_TEST(success_wraps_data)
{
    char  *s;

    s = dump(video_envelope_ok(json_pack("{s:i}", "total", 3)));
    ck_assert_str_eq(s, "{\"success\":true,\"data\":{\"total\":3}}");
    free(s);

    ck_assert_ptr_null(video_envelope_ok(NULL));
}
END_TEST


START_TEST(errors_carry_message_status_and_code)
{
    char  *s;

    s = dump(video_envelope_error(404, NULL, "Video with id 'abc' not found",
                                  29, NULL));
    ck_assert_str_eq(s, "{\"success\":false,\"error\":{\"message\":"
                     "\"Video with id 'abc' not found\",\"status\":404,"
                     "\"code\":\"NOT_FOUND\"}}");
    free(s);
}
END_TEST


START_TEST(validation_errors_carry_details)
{
    char  *s;

    s = dump(video_envelope_error(400, "VALIDATION_ERROR", "Invalid body",
                                  12, json_pack("[{s:s, s:s}]",
                                                "path", "fileSize",
                                                "message", "too big")));
    ck_assert_str_eq(s, "{\"success\":false,\"error\":{\"message\":"
                     "\"Invalid body\",\"status\":400,\"code\":"
                     "\"VALIDATION_ERROR\",\"details\":[{\"path\":"
                     "\"fileSize\",\"message\":\"too big\"}]}}");
    free(s);
}
END_TEST


START_TEST(messages_survive_invalid_utf8)
{
    char        *s;
    json_t      *str;
    const char   bad[] = "Route GET /a\xff\xfe\xc3 not found";

    s = dump(video_envelope_error(404, NULL, bad, sizeof(bad) - 1, NULL));
    ck_assert_ptr_nonnull(strstr(s, "Route GET /a??? not found"));
    free(s);

    /* valid multibyte text is kept as it is */

    str = video_json_string_lossy("caf\xc3\xa9", 5);
    ck_assert_str_eq(json_string_value(str), "caf\xc3\xa9");
    json_decref(str);

    /* overlong encodings and surrogates are not UTF-8 */

    str = video_json_string_lossy("\xc0\xaf\xed\xa0\x80", 5);
    ck_assert_str_eq(json_string_value(str), "?????");
    json_decref(str);
}
END_TEST


Suite *
unit_envelope_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("envelope");
    tc = tcase_create("shape");

    tcase_add_test(tc, codes_follow_the_status);
    tcase_add_test(tc, success_wraps_data);
    tcase_add_test(tc, errors_carry_message_status_and_code);
    tcase_add_test(tc, validation_errors_carry_details);
    tcase_add_test(tc, messages_survive_invalid_utf8);
    suite_add_tcase(s, tc);

    return s;
}
