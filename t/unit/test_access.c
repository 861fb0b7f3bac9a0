/*
 * The access management bodies: keys and accounts, every bad field named.
 */

#include <string.h>

#include "unit.h"
#include "video_access.h"


static json_t *
parse(const char *text)
{
    json_t  *j;

    j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);

    return j;
}


static int
paths(json_t *details, const char *want)
{
    size_t   i;
    json_t  *d;
    char     got[256];

    got[0] = '\0';

    json_array_foreach(details, i, d) {
        if (i) {
            strcat(got, " ");
        }

        strcat(got, json_string_value(json_object_get(d, "path")));
    }

    return strcmp(got, want) == 0;
}


START_TEST(key_bodies)
{
    json_t              *b, *details;
    video_key_create_t   k;

    b = parse("{\"role\":\"editor\",\"name\":\"ci\",\"accountId\":\"acctB\","
              "\"expiresIn\":60}");
    ck_assert_int_eq(video_key_create_parse(b, &k, &details), 0);
    ck_assert_str_eq(k.role, "editor");
    ck_assert_str_eq(k.name, "ci");
    ck_assert_str_eq(k.account, "acctB");
    ck_assert_int_eq(k.expires_in, 60);
    json_decref(b);

    b = parse("{\"role\":\"viewer\"}");
    ck_assert_int_eq(video_key_create_parse(b, &k, &details), 0);
    ck_assert_str_eq(k.name, "");
    ck_assert_ptr_null(k.account);
    ck_assert_int_eq(k.expires_in, 0);
    json_decref(b);

    b = parse("{\"role\":\"root\",\"name\":1,\"accountId\":\"a/b\","
              "\"expiresIn\":59}");
    ck_assert_int_eq(video_key_create_parse(b, &k, &details), -1);
    ck_assert(paths(details, "role name accountId expiresIn"));
    json_decref(details);
    json_decref(b);

    b = parse("{}");
    ck_assert_int_eq(video_key_create_parse(b, &k, &details), -1);
    ck_assert(paths(details, "role"));
    json_decref(details);
    json_decref(b);
}
END_TEST


START_TEST(account_bodies)
{
    json_t           *b, *details;
    video_account_t   a;

    b = parse("{\"name\":\"Team\",\"id\":\"team-1\",\"maxBytes\":10,"
              "\"maxVideos\":null}");
    ck_assert_int_eq(video_account_parse(b, 1, &a, &details), 0);
    ck_assert_str_eq(a.name, "Team");
    ck_assert_str_eq(a.id, "team-1");
    ck_assert(a.max_bytes.set && a.max_bytes.value == 10);
    ck_assert(a.max_videos.set && a.max_videos.value == -1);
    ck_assert(!a.max_live.set);
    json_decref(b);

    /* create: a name; update: something, and no id */

    b = parse("{\"id\":\"x\"}");
    ck_assert_int_eq(video_account_parse(b, 1, &a, &details), -1);
    ck_assert(paths(details, "name"));
    json_decref(details);
    ck_assert_int_eq(video_account_parse(b, 0, &a, &details), -1);
    ck_assert(paths(details, ""));
    json_decref(details);
    json_decref(b);

    b = parse("{\"name\":\"\",\"maxLive\":-1,\"disabled\":\"yes\"}");
    ck_assert_int_eq(video_account_parse(b, 0, &a, &details), -1);
    ck_assert(paths(details, "name maxLive disabled"));
    json_decref(details);
    json_decref(b);

    b = parse("{\"disabled\":true}");
    ck_assert_int_eq(video_account_parse(b, 0, &a, &details), 0);
    ck_assert_int_eq(a.disabled, 1);
    json_decref(b);

    ck_assert(video_account_id_valid("default", 7));
    ck_assert(!video_account_id_valid("", 0));
    ck_assert(!video_account_id_valid("abcdefghijklmnopqrstuv", 22));
    ck_assert(!video_account_id_valid("a b", 3));
}
END_TEST


Suite *
unit_access_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("access");
    tc = tcase_create("access");

    tcase_add_test(tc, key_bodies);
    tcase_add_test(tc, account_bodies);
    suite_add_tcase(s, tc);

    return s;
}
