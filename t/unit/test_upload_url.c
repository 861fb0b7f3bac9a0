/*
 * POST /api/upload/url bodies: the URL in its normal form, literal
 * addresses judged at once, names left to the worker, every refusal with
 * its detail.
 */

#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "video_upload_url.h"


/* parses body; the first detail's message into msg ("" when it passed) */

static int
upload_url(const char *body, video_upload_url_t *out, char *msg, size_t size)
{
    int            rc;
    json_t        *j, *details;
    json_error_t   jerr;

    j = json_loads(body, JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(j != NULL, "bad test body %s", body);

    rc = video_upload_url_parse(j, out, &details);
    msg[0] = '\0';

    if (rc != 0) {
        ck_assert_ptr_nonnull(details);
        ck_assert_int_gt(json_array_size(details), 0);
        snprintf(msg, size, "%s",
                 json_string_value(json_object_get(
                     json_array_get(details, 0), "message")));
        json_decref(details);
    }

    /* out's json_t are borrowed from the body: read them first */

    if (rc == 0 && out->title != NULL) {
        snprintf(msg, size, "title=%s", json_string_value(out->title));
    }

    json_decref(j);

    return rc;
}


START_TEST(a_good_body_gives_the_normal_form)
{
    char                msg[512];
    video_upload_url_t  in;

    ck_assert_int_eq(upload_url("{\"url\": \"HTTPS://Media.Example.COM:443"
                                "/a/clip.mp4?x=1#frag\", \"title\": \"T\"}",
                                &in, msg, sizeof(msg)), 0);
    ck_assert_str_eq(in.url.url, "https://media.example.com/a/clip.mp4?x=1");
    ck_assert_int_eq(in.url.https, 1);
    ck_assert_int_eq(in.url.literal, 0);
    ck_assert_str_eq(msg, "title=T");

    ck_assert_int_eq(upload_url("{\"url\": \"http://93.184.215.14:8080/v\"}",
                                &in, msg, sizeof(msg)), 0);
    ck_assert_str_eq(in.url.url, "http://93.184.215.14:8080/v");
    ck_assert_ptr_null(in.title);

    /* a name is the worker's to judge, on the address it connects to */

    ck_assert_int_eq(upload_url("{\"url\": \"http://localhost/clip.mp4\"}",
                                &in, msg, sizeof(msg)), 0);
}
END_TEST


START_TEST(literal_addresses_that_are_not_public_are_refused)
{
    size_t              i;
    char                msg[512];
    video_upload_url_t  in;

    static const char *const  cases[][2] = {
        { "http://127.0.0.1/",
          "url refused: source address 127.0.0.1 is not public (loopback)" },
        { "http://127.1:8080/",
          "url refused: source address 127.0.0.1 is not public (loopback)" },
        { "http://0x7f000001/",
          "url refused: source address 127.0.0.1 is not public (loopback)" },
        { "http://[::1]/",
          "url refused: source address ::1 is not public (loopback)" },
        { "http://169.254.169.254/latest/meta-data/",
          "url refused: source address 169.254.169.254 is not public "
          "(link-local)" },
        { "http://10.0.0.1/", NULL },
        { "http://192.168.1.1/", NULL },
        { "http://100.64.0.1/", NULL },
        { "http://0.0.0.0/", NULL },
        { "http://[::ffff:10.0.0.1]/", NULL },
        { "http://[fe80::1]/", NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char  body[256];

        snprintf(body, sizeof(body), "{\"url\": \"%s\"}", cases[i][0]);

        ck_assert_int_eq(upload_url(body, &in, msg, sizeof(msg)), -1);

        if (cases[i][1] != NULL) {
            ck_assert_str_eq(msg, cases[i][1]);

        } else {
            ck_assert_msg(strncmp(msg, "url refused: source address ", 28)
                          == 0, "%s: %s", cases[i][0], msg);
        }
    }
}
END_TEST


START_TEST(bad_urls_and_fields_are_refused_with_their_reason)
{
    char                msg[512], body[4096];
    video_upload_url_t  in;

    ck_assert_int_eq(upload_url("{}", &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url is required");
    ck_assert_int_eq(upload_url("{\"url\": null}", &in, msg, sizeof(msg)),
                     -1);
    ck_assert_str_eq(msg, "url must be a string");
    ck_assert_int_eq(upload_url("{\"url\": \"ftp://example.com/a\"}", &in,
                                msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url is not a usable http(s) URL: only http and "
                     "https URLs are fetched");
    ck_assert_int_eq(upload_url("{\"url\": \"file:///etc/passwd\"}", &in,
                                msg, sizeof(msg)), -1);
    ck_assert_int_eq(upload_url("{\"url\": \"http://u:p@example.com/\"}",
                                &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url is not a usable http(s) URL: URL has a user "
                     "name or password");
    ck_assert_int_eq(upload_url("{\"url\": \"http://example.com\\\\a\"}",
                                &in, msg, sizeof(msg)), -1);
    ck_assert_int_eq(upload_url("{\"url\": \"http://ex\\u0000ample.com/\"}",
                                &in, msg, sizeof(msg)), -1);

    memset(body, 0, sizeof(body));
    strcpy(body, "{\"url\": \"http://example.com/");
    memset(body + strlen(body), 'a', 2049 - 19);
    strcat(body, "\"}");

    ck_assert_int_eq(upload_url(body, &in, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "url must be at most 2048 characters");

    ck_assert_int_eq(upload_url("{\"url\": \"https://example.com/\","
                                " \"title\": \"\"}", &in, msg, sizeof(msg)),
                     -1);
    ck_assert_str_eq(msg, "title must be 1 to 255 characters");
    ck_assert_int_eq(upload_url("{\"url\": \"https://example.com/\","
                                " \"description\": 1}", &in, msg,
                                sizeof(msg)), -1);
    ck_assert_str_eq(msg, "description must be a string or null");
    ck_assert_int_eq(upload_url("{\"url\": \"https://example.com/\","
                                " \"description\": null}", &in, msg,
                                sizeof(msg)), 0);
}
END_TEST


Suite *
unit_upload_url_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("upload_url");
    tc = tcase_create("upload_url");

    tcase_add_test(tc, a_good_body_gives_the_normal_form);
    tcase_add_test(tc, literal_addresses_that_are_not_public_are_refused);
    tcase_add_test(tc, bad_urls_and_fields_are_refused_with_their_reason);
    suite_add_tcase(s, tc);

    return s;
}
