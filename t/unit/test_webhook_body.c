/*
 * The webhook routes' input: an endpoint's URL judged like a source URL
 * (normal form, literal addresses at once, the allow-list and the https
 * rule), its event types against the known list, its description's
 * length; the rotate and redeliver bodies; cursors that round-trip and
 * refuse forgeries.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "video_webhook_body.h"


/* parses body; the first detail's path and message into msg */

static int
endpoint(const char *body, int create, const char *allow, int allow_http,
    video_webhook_endpoint_t *out, char *msg, size_t size)
{
    int                      rc;
    json_t                  *j, *details, *d;
    json_error_t             jerr;
    video_urlguard_allow_t   list;
    char                     err[256];

    memset(&list, 0, sizeof(list));

    if (allow != NULL) {
        ck_assert_int_eq(video_urlguard_allow_parse(&list, allow,
                                                    strlen(allow), err,
                                                    sizeof(err)), 0);
    }

    j = json_loads(body, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    ck_assert_msg(j != NULL, "bad test body %s", body);

    rc = video_webhook_endpoint_parse(j, create, allow ? &list : NULL,
                                      allow_http, out, &details);
    msg[0] = '\0';

    if (rc != 0) {
        ck_assert_ptr_nonnull(details);
        ck_assert_int_gt(json_array_size(details), 0);
        d = json_array_get(details, 0);
        snprintf(msg, size, "%s: %s",
                 json_string_value(json_object_get(d, "path")),
                 json_string_value(json_object_get(d, "message")));
        json_decref(details);

    } else {
        ck_assert_ptr_null(details);
    }

    json_decref(j);

    return rc;
}


START_TEST(a_good_body_gives_the_normal_form_and_a_types_literal)
{
    char                      msg[512];
    video_webhook_endpoint_t  in;

    ck_assert_int_eq(endpoint("{\"url\": \"HTTPS://Hooks.Example.COM:443/in"
                              "#x\", \"description\": \"prod\", "
                              "\"eventTypes\": [\"video.ready\", "
                              "\"video.failed\"], \"enabled\": false}",
                              1, NULL, 0, &in, msg, sizeof(msg)), 0);
    ck_assert_str_eq(in.url.url, "https://hooks.example.com/in");
    ck_assert_int_eq(in.url_set, 1);
    ck_assert_int_eq(in.types_set, 1);
    ck_assert_str_eq(in.types, "{video.ready,video.failed}");
    ck_assert_int_eq(in.enabled, 0);

    ck_assert_int_eq(endpoint("{\"url\": \"https://a.example/\", "
                              "\"eventTypes\": []}", 1, NULL, 0, &in, msg,
                              sizeof(msg)), 0);
    ck_assert_str_eq(in.types, "{}");
    ck_assert_int_eq(in.enabled, -1);
    ck_assert_ptr_null(in.description);
}
END_TEST


START_TEST(create_needs_a_url_and_patch_a_field)
{
    char                      msg[512];
    video_webhook_endpoint_t  in;

    ck_assert_int_eq(endpoint("{}", 1, NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url: url is required");
    ck_assert_int_eq(endpoint("{}", 0, NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_int_eq(endpoint("[]", 0, NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, ": the body must be a JSON object");
    ck_assert_int_eq(endpoint("{\"enabled\": true}", 0, NULL, 0, &in, msg,
                              sizeof(msg)), 0);
    ck_assert_int_eq(in.enabled, 1);
    ck_assert_int_eq(in.url_set, 0);
}
END_TEST


START_TEST(http_needs_allow_http)
{
    char                      msg[512];
    video_webhook_endpoint_t  in;

    ck_assert_int_eq(endpoint("{\"url\": \"http://hooks.example.com/\"}", 1,
                              NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url: url must be an https:// URL");
    ck_assert_int_eq(endpoint("{\"url\": \"http://hooks.example.com/\"}", 1,
                              NULL, 1, &in, msg, sizeof(msg)), 0);
}
END_TEST


START_TEST(literal_addresses_that_are_not_public_are_refused)
{
    char                      msg[512], body[256];
    size_t                    i;
    video_webhook_endpoint_t  in;
    static const char        *hosts[] = {
        "127.0.0.1", "127.1", "0x7f000001", "2130706433", "017700000001",
        "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.1",
        "192.168.1.1", "172.16.0.1", "[fe80::1]", "0.0.0.0", "[::]",
        "100.64.0.1", NULL
    };

    for (i = 0; hosts[i]; i++) {
        snprintf(body, sizeof(body), "{\"url\": \"https://%s/hook\"}",
                 hosts[i]);
        ck_assert_msg(endpoint(body, 1, NULL, 1, &in, msg, sizeof(msg))
                      == -1, "%s passed", hosts[i]);
        ck_assert_msg(strncmp(msg, "url: url refused", 16) == 0, "%s: %s",
                      hosts[i], msg);
    }

    /* the allow-list lets the operator's own through, and only those */

    ck_assert_int_eq(endpoint("{\"url\": \"http://127.1:8080/h\"}", 1,
                              "127.0.0.0/8", 1, &in, msg, sizeof(msg)), 0);
    ck_assert_str_eq(in.url.url, "http://127.0.0.1:8080/h");
    ck_assert_int_eq(endpoint("{\"url\": \"http://10.0.0.1/h\"}", 1,
                              "127.0.0.0/8", 1, &in, msg, sizeof(msg)), -1);

    /* a name is judged when connected to */

    ck_assert_int_eq(endpoint("{\"url\": \"https://localhost/h\"}", 1,
                              NULL, 0, &in, msg, sizeof(msg)), 0);
    ck_assert_int_eq(endpoint("{\"url\": \"https://93.184.215.14/h\"}", 1,
                              NULL, 0, &in, msg, sizeof(msg)), 0);
}
END_TEST


START_TEST(urls_that_are_no_http_urls_are_refused)
{
    char                      msg[512], *body;
    size_t                    i;
    video_webhook_endpoint_t  in;
    static const char        *bad[] = {
        "{\"url\": \"https://user:pw@hooks.example.com/\"}",
        "{\"url\": \"ftp://hooks.example.com/\"}",
        "{\"url\": \"file:///etc/passwd\"}",
        "{\"url\": \"gopher://hooks.example.com/\"}",
        "{\"url\": \"javascript:alert(1)\"}",
        "{\"url\": \"hooks.example.com\"}",
        "{\"url\": \"\"}",
        "{\"url\": 7}",
        "{\"url\": null}",
        "{\"url\": \"https://exa mple.com/\"}",
        NULL
    };

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(endpoint(bad[i], 1, NULL, 1, &in, msg, sizeof(msg))
                      == -1, "%s passed", bad[i]);
        ck_assert_msg(strncmp(msg, "url: ", 5) == 0, "%s", msg);
    }

    body = malloc(2200);
    ck_assert_ptr_nonnull(body);
    memcpy(body, "{\"url\": \"https://a.example/", 27);
    memset(body + 27, 'a', 2100);
    memcpy(body + 2127, "\"}", 3);
    ck_assert_int_eq(endpoint(body, 1, NULL, 1, &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url: url must be at most 2048 characters");
    free(body);
}
END_TEST


START_TEST(event_types_are_known_distinct_and_an_array)
{
    char                      msg[512];
    video_webhook_endpoint_t  in;

    ck_assert_int_eq(endpoint("{\"eventTypes\": [\"video.exploded\"]}", 0,
                              NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_int_eq(strncmp(msg, "eventTypes: ", 12), 0);
    ck_assert_int_eq(endpoint("{\"eventTypes\": [\"video.ready\", "
                              "\"video.ready\"]}", 0, NULL, 0, &in, msg,
                              sizeof(msg)), -1);
    ck_assert_str_eq(msg, "eventTypes: eventTypes must not name a type "
                          "twice");
    ck_assert_int_eq(endpoint("{\"eventTypes\": \"video.ready\"}", 0, NULL,
                              0, &in, msg, sizeof(msg)), -1);
    ck_assert_int_eq(endpoint("{\"eventTypes\": [7]}", 0, NULL, 0, &in, msg,
                              sizeof(msg)), -1);
    ck_assert_int_eq(endpoint("{\"eventTypes\": [\"video.ready\\u0000x\"]}",
                              0, NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_int_eq(endpoint("{\"eventTypes\": [\"video.created\", "
                              "\"video.upload.completed\", "
                              "\"video.processing\", \"video.ready\", "
                              "\"video.failed\", \"video.updated\", "
                              "\"video.deleted\", \"live.created\", "
                              "\"live.started\", \"live.ended\", "
                              "\"live.recording.ready\", "
                              "\"webhook.endpoint.disabled\", "
                              "\"webhook.test\"]}", 0, NULL, 0, &in, msg,
                              sizeof(msg)), 0);
    ck_assert_int_eq(in.types_set, 1);
}
END_TEST


START_TEST(descriptions_and_enabled_are_checked)
{
    char                      msg[512], body[2048];
    video_webhook_endpoint_t  in;

    snprintf(body, sizeof(body), "{\"description\": \"%0256d\"}", 0);
    ck_assert_int_eq(endpoint(body, 0, NULL, 0, &in, msg, sizeof(msg)), -1);
    ck_assert_int_eq(strncmp(msg, "description: ", 13), 0);
    snprintf(body, sizeof(body), "{\"description\": \"%0255d\"}", 0);
    ck_assert_int_eq(endpoint(body, 0, NULL, 0, &in, msg, sizeof(msg)), 0);
    ck_assert_int_eq(endpoint("{\"description\": null}", 0, NULL, 0, &in,
                              msg, sizeof(msg)), -1);
    ck_assert_int_eq(endpoint("{\"enabled\": \"yes\"}", 0, NULL, 0, &in,
                              msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "enabled: enabled must be a boolean");
}
END_TEST


START_TEST(rotate_and_redeliver_bodies)
{
    json_t      *j, *details;
    long long    overlap;
    const char  *id;

    ck_assert_int_eq(video_webhook_rotate_parse(NULL, &overlap, &details), 0);
    ck_assert_int_eq(overlap, -1);

    j = json_pack("{s:i}", "overlap", 3600);
    ck_assert_int_eq(video_webhook_rotate_parse(j, &overlap, &details), 0);
    ck_assert_int_eq(overlap, 3600);
    json_decref(j);

    j = json_pack("{s:i}", "overlap", 604801);
    ck_assert_int_eq(video_webhook_rotate_parse(j, &overlap, &details), -1);
    ck_assert_ptr_nonnull(details);
    json_decref(details);
    json_decref(j);

    j = json_pack("{s:s}", "eventId", "evt_0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(video_webhook_redeliver_parse(j, &id, &details), 0);
    ck_assert_str_eq(id, "evt_0123456789abcdef0123456789abcdef");
    json_decref(j);

    j = json_pack("{s:s}", "eventId", "evt_0123456789ABCDEF0123456789abcdef");
    ck_assert_int_eq(video_webhook_redeliver_parse(j, &id, &details), -1);
    json_decref(details);
    json_decref(j);

    j = json_object();
    ck_assert_int_eq(video_webhook_redeliver_parse(j, &id, &details), -1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(details, 0), "path")), "eventId");
    json_decref(details);
    json_decref(j);
}
END_TEST


START_TEST(cursors_round_trip_and_refuse_forgeries)
{
    char      c[VIDEO_WEBHOOK_CURSOR_MAX + 1];
    size_t    len;
    uint64_t  a, b;

    len = video_webhook_cursor_encode(c, 748291, 1234);
    ck_assert_uint_eq(len, strlen(c));
    ck_assert_int_eq(video_webhook_cursor_decode(c, len, &a, &b), 0);
    ck_assert_uint_eq(a, 748291);
    ck_assert_uint_eq(b, 1234);

    len = video_webhook_cursor_encode(c, INT64_MAX, INT64_MAX);
    ck_assert_uint_le(len, VIDEO_WEBHOOK_CURSOR_MAX);
    ck_assert_int_eq(video_webhook_cursor_decode(c, len, &a, &b), 0);
    ck_assert_uint_eq(a, (uint64_t) INT64_MAX);

    len = video_webhook_cursor_encode(c, 0, 0);
    ck_assert_int_eq(video_webhook_cursor_decode(c, len, &a, &b), 0);
    ck_assert_uint_eq(a + b, 0);

    /* "1.2" spelled otherwise, "01.2", "-1.2", "1", "x.2", too big */

    ck_assert_int_eq(video_webhook_cursor_decode("MS4y", 4, &a, &b), 0);
    ck_assert_int_eq(video_webhook_cursor_decode("MS4z", 4, &a, &b), 0);
    ck_assert_int_eq(video_webhook_cursor_decode("MDEuMg", 6, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("LTEuMg", 6, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("MQ", 2, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("eC4y", 4, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("MS4y=", 5, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("MS4", 3, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("", 0, &a, &b), -1);
    ck_assert_int_eq(video_webhook_cursor_decode("OTIyMzM3MjAzNjg1NDc3NTgw"
                                                 "OC4x", 28, &a, &b), -1);
}
END_TEST


Suite *
unit_webhook_body_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("webhook_body");
    tc = tcase_create("core");

    tcase_add_test(tc, a_good_body_gives_the_normal_form_and_a_types_literal);
    tcase_add_test(tc, create_needs_a_url_and_patch_a_field);
    tcase_add_test(tc, http_needs_allow_http);
    tcase_add_test(tc, literal_addresses_that_are_not_public_are_refused);
    tcase_add_test(tc, urls_that_are_no_http_urls_are_refused);
    tcase_add_test(tc, event_types_are_known_distinct_and_an_array);
    tcase_add_test(tc, descriptions_and_enabled_are_checked);
    tcase_add_test(tc, rotate_and_redeliver_bodies);
    tcase_add_test(tc, cursors_round_trip_and_refuse_forgeries);
    suite_add_tcase(s, tc);

    return s;
}
