/*
 * video_s3xml: every document byte for byte as botocore reads it
 * (s3xml_vectors.h, checked by s3xml_vectors.py), the listing's order,
 * grouping, pages and tokens, and the parsers on what aws-cli sends and
 * on hostile bodies.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_s3xml.h"
#include "s3xml_vectors.h"


#define T1  1764120225123LL     /* 2025-11-26T01:23:45.123Z */
#define T2  946684799000LL      /* 1999-12-31T23:59:59.000Z */

#define S(s)  { sizeof(s) - 1, s }

#define ETAG_A  "a54357aff0632cce46d942af68356b38"
#define ETAG_B  "0c78aef83f66abc1fa1e8477f296d394"


static video_s3xml_str_t
str(const char *s)
{
    video_s3xml_str_t  v;

    v.len = strlen(s);
    v.data = s;

    return v;
}


/* a literal and its length */
#define SL(s)  s, (sizeof(s) - 1)


/* a document rendered into a buffer of exactly the size measured */

static char *
rendered(long n, long (*again)(void *, char *), void *ctx)
{
    char  *out;

    ck_assert_int_ge(n, 0);

    out = malloc(n + 1);
    ck_assert_ptr_nonnull(out);

    ck_assert_int_eq(again(ctx, out), n);
    out[n] = '\0';

    return out;
}


typedef struct {
    const video_s3xml_str_t      *bucket;
    const video_s3xml_query_t    *query;
    const video_s3xml_page_t     *page;
} list_args_t;


static long
list_again(void *ctx, char *out)
{
    list_args_t  *a = ctx;

    return video_s3xml_list(a->bucket, a->query, a->page, out);
}


static char *
render_list(const char *bucket, const video_s3xml_query_t *query,
    const video_s3xml_page_t *page)
{
    list_args_t        a;
    video_s3xml_str_t  b;

    b = str(bucket);
    a.bucket = &b;
    a.query = query;
    a.page = page;

    return rendered(video_s3xml_list(&b, query, page, NULL), list_again, &a);
}


static long
error_again(void *ctx, char *out)
{
    return video_s3xml_error(ctx, out);
}


START_TEST(renders_error)
{
    char                 *out;
    video_s3xml_error_t   err = {
        S("NoSuchKey"), S("The specified key does not exist."),
        S("/media/a&b<c>.mp4"), S("4442587FB7D0A2F9")
    };

    out = rendered(video_s3xml_error(&err, NULL), error_again, &err);
    ck_assert_str_eq(out, S3XML_T_ERROR);
    free(out);

    /* no Resource, no RequestId */
    err.resource.len = 0;
    err.request_id.len = 0;
    out = rendered(video_s3xml_error(&err, NULL), error_again, &err);
    ck_assert_str_eq(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<Error><Code>NoSuchKey</Code><Message>The specified "
                     "key does not exist.</Message></Error>");
    free(out);

    /* what XML 1.0 cannot carry is refused, not passed on */
    err.resource = str("/media/\001");
    ck_assert_int_eq(video_s3xml_error(&err, NULL), -1);
    err.resource = str("/media/\xc0\xaf");
    ck_assert_int_eq(video_s3xml_error(&err, NULL), -1);
    err.resource = str("/media/\xef\xbf\xbe");      /* U+FFFE */
    ck_assert_int_eq(video_s3xml_error(&err, NULL), -1);
    err.resource.len = 9;                           /* a NUL */
    err.resource.data = "/media/a\0";
    ck_assert_int_eq(video_s3xml_error(&err, NULL), -1);
}
END_TEST


static video_s3xml_page_t  page;


static void
object(video_s3xml_object_t *o, const char *key, int64_t size, int64_t mtime,
    const char *etag)
{
    o->key = str(key);
    o->size = size;
    o->mtime_ms = mtime;
    o->etag = str(etag);
}


static video_s3xml_query_t
query(const char *prefix, const char *delimiter, long max_keys)
{
    video_s3xml_query_t  q;

    memset(&q, 0, sizeof(q));
    q.prefix = str(prefix);
    q.max_keys = max_keys;

    if (delimiter != NULL) {
        q.delimiter = str(delimiter);
    }

    return q;
}


START_TEST(renders_list_url_encoded)
{
    char                  *out;
    video_s3xml_query_t    q;
    video_s3xml_object_t   o[6];

    object(&o[0], "videos/c/z", 3, T1, ETAG_A);
    object(&o[1], "videos/b\xf0\x9f\x8e\xac/y.mp4", 2, T1, ETAG_A);
    object(&o[2], "other/q", 9, T1, ETAG_A);
    object(&o[3], "videos/a & b\xc3\xbc.mp4", 1048576, T1, ETAG_A);
    object(&o[4], "videos/b\xf0\x9f\x8e\xac/x.mp4", 2, T1, ETAG_A);
    object(&o[5], "videos", 2, T1, ETAG_A);

    q = query("videos/", "/", 2);
    q.url = 1;

    ck_assert_int_eq(video_s3xml_list_page(o, 6, &q, &page), 0);
    out = render_list("media", &q, &page);
    ck_assert_str_eq(out, S3XML_T_LIST_URL);
    free(out);

    /* the next page: after the common prefix, none of its keys again */

    q.token.data = strdup(page.next_token);
    q.token.len = page.next_token_len;

    ck_assert_int_eq(video_s3xml_list_page(o, 6, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 0);
    ck_assert_uint_eq(page.nprefixes, 1);
    ck_assert_int_eq(page.prefixes[0].len, 9);
    ck_assert(memcmp(page.prefixes[0].data, "videos/c/", 9) == 0);
    ck_assert_int_eq(page.truncated, 0);

    out = render_list("media", &q, &page);
    ck_assert_str_eq(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>media</Name><Prefix>videos/</Prefix><Delimiter>/</Delimiter>"
        "<MaxKeys>2</MaxKeys><KeyCount>1</KeyCount>"
        "<IsTruncated>false</IsTruncated>"
        "<ContinuationToken>UHZpZGVvcy9i8J-OrC8</ContinuationToken>"
        "<EncodingType>url</EncodingType>"
        "<CommonPrefixes><Prefix>videos/c/</Prefix></CommonPrefixes>"
        "</ListBucketResult>");
    free(out);
    free((char *) q.token.data);
}
END_TEST


START_TEST(renders_list_xml_escaped)
{
    char                  *out;
    video_s3xml_query_t    q;
    video_s3xml_object_t   o[3];

    object(&o[0], "tab\tnl\ncr\r", 5, T1, ETAG_A);
    object(&o[1], "a", 1, T1, ETAG_A);
    object(&o[2], "b&\"c'", 0, T2, ETAG_B "-2");

    q = query("", NULL, -1);
    q.start_after = str("<a>");
    q.token = str("S2E");           /* "Ka": after "a", start-after aside */

    ck_assert_int_eq(video_s3xml_list_page(o, 3, &q, &page), 0);
    out = render_list("media", &q, &page);
    ck_assert_str_eq(out, S3XML_T_LIST_XML);
    free(out);

    /* a key XML cannot carry fails the page, unless URL-encoded */

    object(&o[0], "bell\a", 5, T1, ETAG_A);
    ck_assert_int_eq(video_s3xml_list_page(o, 3, &q, &page), 0);
    ck_assert_int_eq(video_s3xml_list(&o[0].key, &q, &page, NULL), -1);

    q.url = 1;
    out = render_list("media", &q, &page);
    ck_assert_ptr_nonnull(strstr(out, "<Key>bell%07</Key>"));
    ck_assert_ptr_nonnull(strstr(out, "<Key>b%26%22c%27</Key>"));
    ck_assert_ptr_nonnull(strstr(out, "<StartAfter>%3Ca%3E</StartAfter>"));
    free(out);
}
END_TEST


static long
initiate_again(void *ctx, char *out)
{
    video_s3xml_str_t  *v = ctx;

    return video_s3xml_initiate(&v[0], &v[1], &v[2], out);
}


static long
complete_again(void *ctx, char *out)
{
    video_s3xml_str_t  *v = ctx;

    return video_s3xml_complete(&v[0], &v[1], &v[2], &v[3], out);
}


static long
list_parts_again(void *ctx, char *out)
{
    return video_s3xml_list_parts(ctx, out);
}


typedef struct {
    const video_s3xml_deleted_t  *e;
    size_t                        n;
    int                           quiet;
} delete_args_t;


static long
delete_again(void *ctx, char *out)
{
    delete_args_t  *a = ctx;

    return video_s3xml_delete_result(a->e, a->n, a->quiet, out);
}


START_TEST(renders_multipart_documents)
{
    char                      *out;
    delete_args_t              da;
    video_s3xml_part_t         parts[2];
    video_s3xml_list_parts_t   lp;
    video_s3xml_str_t          v[4];
    video_s3xml_deleted_t      del[2] = {
        { S("a&b"), { 0, NULL }, { 0, NULL } },
        { S("<x>"), S("AccessDenied"), S("Access Denied") }
    };

    v[0] = str("media");
    v[1] = str("videos/a&b.mp4");
    v[2] = str("VXBsb2FkIElE-1");
    out = rendered(video_s3xml_initiate(&v[0], &v[1], &v[2], NULL),
                   initiate_again, v);
    ck_assert_str_eq(out, S3XML_T_INITIATE);
    free(out);

    v[0] = str("http://127.0.0.1:9000/media/videos/a.mp4");
    v[1] = str("media");
    v[2] = str("videos/a.mp4");
    v[3] = str("3858f62230ac3c915f300c664312c11f-9");
    out = rendered(video_s3xml_complete(&v[0], &v[1], &v[2], &v[3], NULL),
                   complete_again, v);
    ck_assert_str_eq(out, S3XML_T_COMPLETE);
    free(out);

    memset(parts, 0, sizeof(parts));
    parts[0].number = 2;
    parts[0].mtime_ms = T1;
    parts[0].size = 5242880;
    strcpy(parts[0].etag, ETAG_B);
    parts[0].etag_len = 32;
    parts[1].number = 3;
    parts[1].mtime_ms = T2;
    parts[1].size = 17;
    strcpy(parts[1].etag, ETAG_A);
    parts[1].etag_len = 32;

    memset(&lp, 0, sizeof(lp));
    lp.bucket = str("media");
    lp.key = str("videos/a.mp4");
    lp.upload_id = str("VXBsb2FkIElE-1");
    lp.part_number_marker = 1;
    lp.next_part_number_marker = 3;
    lp.max_parts = 2;
    lp.truncated = 1;
    lp.parts = parts;
    lp.nparts = 2;
    out = rendered(video_s3xml_list_parts(&lp, NULL), list_parts_again, &lp);
    ck_assert_str_eq(out, S3XML_T_LIST_PARTS);
    free(out);

    da.e = del;
    da.n = 2;
    da.quiet = 0;
    out = rendered(video_s3xml_delete_result(del, 2, 0, NULL), delete_again,
                   &da);
    ck_assert_str_eq(out, S3XML_T_DELETE_RESULT);
    free(out);

    da.quiet = 1;
    out = rendered(video_s3xml_delete_result(del, 2, 1, NULL), delete_again,
                   &da);
    ck_assert_str_eq(out, S3XML_T_DELETE_RESULT_QUIET);
    free(out);
}
END_TEST


/* the parsers' buffers: as long as the longest body of these tests */

static char                      buf[VIDEO_S3XML_BODY_MAX];
static video_s3xml_part_t        parts[VIDEO_S3XML_PARTS_MAX + 1];
static video_s3xml_delete_key_t  keys[VIDEO_S3XML_DELETE_MAX + 1];
static size_t                    nparts, nkeys;


static int
complete(const char *body)
{
    return video_s3xml_parse_complete(body, strlen(body), buf, parts,
                                      VIDEO_S3XML_PARTS_MAX + 1, &nparts);
}


static int
delete(const char *body, int *quiet)
{
    return video_s3xml_parse_delete(body, strlen(body), buf, keys,
                                    VIDEO_S3XML_DELETE_MAX + 1, &nkeys,
                                    quiet);
}


START_TEST(complete_request_round_trips)
{
    char  *out;
    long   n;

    memset(parts, 0, 3 * sizeof(video_s3xml_part_t));
    parts[0].number = 1;
    strcpy(parts[0].etag, ETAG_A);
    parts[0].etag_len = 32;
    parts[1].number = 7;
    strcpy(parts[1].etag, ETAG_B);
    parts[1].etag_len = 32;

    n = video_s3xml_complete_request(parts, 2, NULL);
    out = malloc(n + 1);
    ck_assert_int_eq(video_s3xml_complete_request(parts, 2, out), n);
    out[n] = '\0';
    ck_assert_str_eq(out,
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
        "2006-03-01/\"><Part><ETag>&quot;" ETAG_A "&quot;</ETag>"
        "<PartNumber>1</PartNumber></Part><Part><ETag>&quot;" ETAG_B
        "&quot;</ETag><PartNumber>7</PartNumber></Part>"
        "</CompleteMultipartUpload>");

    ck_assert_int_eq(complete(out), VIDEO_S3XML_OK);
    ck_assert_uint_eq(nparts, 2);
    ck_assert_uint_eq(parts[1].number, 7);
    ck_assert_str_eq(parts[1].etag, ETAG_B);
    free(out);
}
END_TEST


START_TEST(lists_in_byte_order)
{
    size_t                 i;
    video_s3xml_query_t    q;
    video_s3xml_object_t   o[8];

    static const char  *sorted[] = {
        "a", "a-b", "a/b", "aa", "z", "\xc3\xa9", "\xe6\x96\x87",
        "\xf0\x9f\x8e\xac"
    };

    /* in reverse, and shuffled */
    object(&o[0], sorted[7], 1, T1, ETAG_A);
    object(&o[1], sorted[2], 1, T1, ETAG_A);
    object(&o[2], sorted[5], 1, T1, ETAG_A);
    object(&o[3], sorted[0], 1, T1, ETAG_A);
    object(&o[4], sorted[6], 1, T1, ETAG_A);
    object(&o[5], sorted[1], 1, T1, ETAG_A);
    object(&o[6], sorted[4], 1, T1, ETAG_A);
    object(&o[7], sorted[3], 1, T1, ETAG_A);

    q = query("", NULL, -1);
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 8);
    ck_assert_int_eq(page.max_keys, 1000);

    for (i = 0; i < 8; i++) {
        ck_assert_uint_eq(page.contents[i].key.len, strlen(sorted[i]));
        ck_assert(memcmp(page.contents[i].key.data, sorted[i],
                         strlen(sorted[i])) == 0);
    }

    /* with "/": "a-b" is a key before the common prefix "a/" */

    q = query("", "/", -1);
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 7);
    ck_assert_uint_eq(page.nprefixes, 1);
    ck_assert_int_eq(page.prefixes[0].len, 2);
    ck_assert(memcmp(page.prefixes[0].data, "a/", 2) == 0);
    ck_assert(memcmp(page.contents[1].key.data, "a-b", 3) == 0);
    ck_assert(memcmp(page.contents[2].key.data, "aa", 2) == 0);

    /* start-after; the prefix "a" */

    q = query("a", NULL, -1);
    q.start_after = str("a-b");
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 2);
    ck_assert(memcmp(page.contents[0].key.data, "a/b", 3) == 0);
    ck_assert(memcmp(page.contents[1].key.data, "aa", 2) == 0);

    /* a key given twice is listed once, on one page or across two */

    object(&o[7], sorted[0], 1, T1, ETAG_A);    /* sorted: for the last */
    q = query("", NULL, -1);
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 7);
    ck_assert(memcmp(page.contents[1].key.data, "a-b", 3) == 0);

    q = query("", NULL, 1);
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 1);
    q.token = str(page.next_token);
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert(memcmp(page.contents[0].key.data, "a-b", 3) == 0);

    /* not UTF-8, too long: never listed */

    object(&o[0], "\xff", 1, T1, ETAG_A);
    object(&o[2], "a\0b", 1, T1, ETAG_A);
    o[2].key.len = 3;
    q = query("", NULL, -1);
    ck_assert_int_eq(video_s3xml_list_page(o, 8, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents, 6);
}
END_TEST


/* every page of a listing, one entry per page, as "K:key" / "P:prefix" */

static void
walk(video_s3xml_object_t *o, size_t n, const char *prefix,
    const char *delimiter, long max_keys, char *out)
{
    int                  pages;
    size_t               i;
    char                 token[VIDEO_S3XML_TOKEN_MAX + 1];
    video_s3xml_query_t  q;

    q = query(prefix, delimiter, max_keys);
    out[0] = '\0';

    for (pages = 0; pages < 100; pages++) {
        ck_assert_int_eq(video_s3xml_list_page(o, n, &q, &page), 0);
        ck_assert_uint_le(page.ncontents + page.nprefixes, max_keys);

        for (i = 0; i < page.ncontents; i++) {
            sprintf(out + strlen(out), "K:%.*s ",
                    (int) page.contents[i].key.len,
                    page.contents[i].key.data);
        }

        for (i = 0; i < page.nprefixes; i++) {
            sprintf(out + strlen(out), "P:%.*s ", (int) page.prefixes[i].len,
                    page.prefixes[i].data);
        }

        if (!page.truncated) {
            return;
        }

        strcat(out, "| ");
        memcpy(token, page.next_token, page.next_token_len + 1);
        q.token.data = token;
        q.token.len = page.next_token_len;
    }

    ck_abort_msg("the listing does not end");
}


START_TEST(groups_common_prefixes_across_pages)
{
    char                  out[512];
    video_s3xml_object_t  o[7];

    object(&o[0], "s/1", 1, T1, ETAG_A);
    object(&o[1], "p/2", 1, T1, ETAG_A);
    object(&o[2], "q/1", 1, T1, ETAG_A);
    object(&o[3], "p/1", 1, T1, ETAG_A);
    object(&o[4], "r", 1, T1, ETAG_A);
    object(&o[5], "q/2/deep", 1, T1, ETAG_A);
    object(&o[6], "p/", 1, T1, ETAG_A);

    walk(o, 7, "", "/", 2, out);
    ck_assert_str_eq(out, "P:p/ P:q/ | K:r P:s/ ");

    walk(o, 7, "", "/", 1, out);
    ck_assert_str_eq(out, "P:p/ | P:q/ | K:r | P:s/ ");

    walk(o, 7, "", "/", 1000, out);
    ck_assert_str_eq(out, "K:r P:p/ P:q/ P:s/ ");

    walk(o, 7, "q/", "/", 1, out);
    ck_assert_str_eq(out, "K:q/1 | P:q/2/ ");

    walk(o, 7, "", NULL, 3, out);
    ck_assert_str_eq(out, "K:p/ K:p/1 K:p/2 | K:q/1 K:q/2/deep K:r | "
                     "K:s/1 ");

    /* a delimiter of more than one byte */
    walk(o, 7, "", "/1", 1000, out);
    ck_assert_str_eq(out, "K:p/ K:p/2 K:q/2/deep K:r P:p/1 P:q/1 P:s/1 ");

    /* exactly max-keys entries: not truncated */
    walk(o, 7, "", "/", 4, out);
    ck_assert_str_eq(out, "K:r P:p/ P:q/ P:s/ ");
}
END_TEST


static int
token(const char *prefix, const char *delimiter, const char *t)
{
    video_s3xml_query_t   q;
    video_s3xml_object_t  o;

    object(&o, "videos/a", 1, T1, ETAG_A);
    q = query(prefix, delimiter, -1);
    q.token = str(t);

    return video_s3xml_list_page(&o, 1, &q, &page);
}


START_TEST(refuses_forged_tokens)
{
    char  longer[1500];

    /* "Kvideos/a", "Pvideos/b/": what the store issues */
    ck_assert_int_eq(token("videos/", NULL, "S3ZpZGVvcy9h"), 0);
    ck_assert_int_eq(page.ncontents, 0);
    ck_assert_int_eq(token("videos/", "/", "UHZpZGVvcy9iLw"), 0);

    /* garbled */
    ck_assert_int_eq(token("", NULL, ""), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S2E="), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S2F"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S2E+"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S2E/"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S2 E"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36"),
                     VIDEO_S3XML_INVALID_ARGUMENT);

    /* "K" alone; "Xa": no such kind; "K\xff": not UTF-8; "Ka\0b" */
    ck_assert_int_eq(token("", NULL, "Sw"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "WGE"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S_8"), VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("", NULL, "S2EAYg"),
                     VIDEO_S3XML_INVALID_ARGUMENT);

    /* "Kother/a": not under the prefix asked for */
    ck_assert_int_eq(token("videos/", NULL, "S290aGVyL2E"),
                     VIDEO_S3XML_INVALID_ARGUMENT);

    /* "Pvideos/b/" with no delimiter, or another one */
    ck_assert_int_eq(token("videos/", NULL, "UHZpZGVvcy9iLw"),
                     VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(token("videos/", "-", "UHZpZGVvcy9iLw"),
                     VIDEO_S3XML_INVALID_ARGUMENT);
    /* "Pvideos/bx": no delimiter at its end */
    ck_assert_int_eq(token("videos/", "/", "UHZpZGVvcy9ieA"),
                     VIDEO_S3XML_INVALID_ARGUMENT);
    /* "Pvideos/a/b/": the delimiter before its end */
    ck_assert_int_eq(token("videos/", "/", "UHZpZGVvcy9hL2Iv"),
                     VIDEO_S3XML_INVALID_ARGUMENT);

    /* a delimiter that is not UTF-8 could cut a character */
    ck_assert_int_eq(token("videos/", "\xc3", "S3ZpZGVvcy9h"),
                     VIDEO_S3XML_INVALID_ARGUMENT);

    /* longer than a key can be */
    memset(longer, 'A', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    ck_assert_int_eq(token("", NULL, longer), VIDEO_S3XML_INVALID_ARGUMENT);
}
END_TEST


START_TEST(max_keys_values)
{
    long                  m;
    video_s3xml_query_t   q;
    video_s3xml_object_t  o[2];

    ck_assert_int_eq(video_s3xml_max_keys("0", 1, &m), 0);
    ck_assert_int_eq(m, 0);
    ck_assert_int_eq(video_s3xml_max_keys("1000", 4, &m), 0);
    ck_assert_int_eq(m, 1000);
    ck_assert_int_eq(video_s3xml_max_keys("1001", 4, &m), 0);
    ck_assert_int_eq(m, 1000);
    ck_assert_int_eq(video_s3xml_max_keys("0007", 4, &m), 0);
    ck_assert_int_eq(m, 7);
    ck_assert_int_eq(video_s3xml_max_keys("99999999999999999999999999", 26,
                                          &m), 0);
    ck_assert_int_eq(m, 1000);
    ck_assert_int_eq(video_s3xml_max_keys("-1", 2, &m),
                     VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(video_s3xml_max_keys("", 0, &m),
                     VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(video_s3xml_max_keys("1a", 2, &m),
                     VIDEO_S3XML_INVALID_ARGUMENT);
    ck_assert_int_eq(video_s3xml_max_keys(" 1", 2, &m),
                     VIDEO_S3XML_INVALID_ARGUMENT);

    /* max-keys 0: an empty page, not truncated, even with keys */

    object(&o[0], "a", 1, T1, ETAG_A);
    object(&o[1], "b", 1, T1, ETAG_A);
    q = query("", NULL, 0);
    ck_assert_int_eq(video_s3xml_list_page(o, 2, &q, &page), 0);
    ck_assert_uint_eq(page.ncontents + page.nprefixes, 0);
    ck_assert_int_eq(page.truncated, 0);
    ck_assert_int_eq(page.max_keys, 0);

    q.max_keys = -2;
    ck_assert_int_eq(video_s3xml_list_page(o, 2, &q, &page),
                     VIDEO_S3XML_INVALID_ARGUMENT);
}
END_TEST


START_TEST(parses_what_aws_cli_sends)
{
    size_t  i;
    int     quiet;

    ck_assert_int_eq(complete(S3XML_T_COMPLETE_BODY), VIDEO_S3XML_OK);
    ck_assert_uint_eq(nparts, 3);
    ck_assert_uint_eq(parts[0].number, 1);
    ck_assert_str_eq(parts[0].etag, ETAG_A);
    ck_assert_uint_eq(parts[1].number, 2);
    ck_assert_str_eq(parts[1].etag, ETAG_B);
    ck_assert_uint_eq(parts[2].number, 10000);
    ck_assert_str_eq(parts[2].etag, "acbd18db4cc2f85cedef654fccc4a4d8");
    ck_assert_uint_eq(parts[2].etag_len, 32);

    ck_assert_int_eq(delete(S3XML_T_DELETE_BODY, &quiet), VIDEO_S3XML_OK);
    ck_assert_int_eq(quiet, 1);
    ck_assert_uint_eq(nkeys, 5);

    for (i = 0; i < nkeys; i++) {
        ck_assert_uint_eq(keys[i].key.len, strlen(s3xml_t_delete_keys[i]));
        ck_assert(memcmp(keys[i].key.data, s3xml_t_delete_keys[i],
                         keys[i].key.len) == 0);
        ck_assert(keys[i].version_id.data == NULL || i == 4);
    }

    ck_assert_uint_eq(keys[4].version_id.len, 4);
    ck_assert(memcmp(keys[4].version_id.data, "null", 4) == 0);
}
END_TEST


#define CMU  "<CompleteMultipartUpload>"
#define CMU_END  "</CompleteMultipartUpload>"
#define PART(n, etag)                                                         \
    "<Part><PartNumber>" n "</PartNumber><ETag>" etag "</ETag></Part>"
#define E1   "\"" ETAG_A "\""


START_TEST(complete_accepts_what_xml_allows)
{
    /* the declaration, namespaces, whitespace, comments, references */
    ck_assert_int_eq(complete(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!-- a comment -->\n"
        "<CompleteMultipartUpload xmlns=\"" VIDEO_S3XML_NS "\">\r\n"
        "  <Part>\n    <PartNumber>&#x31;</PartNumber>\n"
        "    <ETag>&quot;" ETAG_A "&quot;</ETag>\n"
        "    <ChecksumCRC32><x a='1'>y</x></ChecksumCRC32>\n"
        "  </Part >\n"
        "  <Part><PartNumber>00002</PartNumber><ETag>" ETAG_B "</ETag>"
        "<!-- -->"
        "</Part><Foo><PartNumber>9</PartNumber></Foo>\n"
        "  <s3:Part xmlns:s3=\"" VIDEO_S3XML_NS "\"><s3:PartNumber>3"
        "</s3:PartNumber><s3:ETag><![CDATA[\"" ETAG_A "\"]]></s3:ETag>"
        "</s3:Part>"
        "</CompleteMultipartUpload>\n<!-- after -->\n"), VIDEO_S3XML_OK);
    ck_assert_uint_eq(nparts, 3);
    ck_assert_uint_eq(parts[0].number, 1);
    ck_assert_str_eq(parts[0].etag, ETAG_A);
    ck_assert_uint_eq(parts[1].number, 2);
    ck_assert_str_eq(parts[1].etag, ETAG_B);
    ck_assert_uint_eq(parts[2].number, 3);
}
END_TEST


START_TEST(complete_refuses_hostile_bodies)
{
    char    *body, *p;
    size_t   i;

    /* XXE and entity expansion: no DOCTYPE at all */
    ck_assert_int_eq(complete(
        "<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY x SYSTEM "
        "\"file:///etc/passwd\">]>" CMU PART("1", "&x;") CMU_END),
        VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(
        "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
        CMU PART("1", "&lol3;") CMU_END), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "&lol;") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "&#0;") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "&#xD800;") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "&#x110000;") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "&amp") CMU_END),
                     VIDEO_S3XML_MALFORMED);

    /* processing instructions, a late declaration */
    ck_assert_int_eq(complete("<?xml-stylesheet href=\"x\"?>" CMU
                              PART("1", E1) CMU_END), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<?php x?>" PART("1", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(" <?xml version=\"1.0\"?>" CMU PART("1", E1)
                              CMU_END), VIDEO_S3XML_MALFORMED);

    /* part numbers */
    ck_assert_int_eq(complete(CMU PART("0", E1) CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("10001", E1) CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("99999999999999999999999", E1)
                              CMU_END), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("-1", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1a", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART(" 1", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);

    /* order */
    ck_assert_int_eq(complete(CMU PART("2", E1) PART("1", E1) CMU_END),
                     VIDEO_S3XML_INVALID_PART_ORDER);
    ck_assert_int_eq(complete(CMU PART("1", E1) PART("1", E1) CMU_END),
                     VIDEO_S3XML_INVALID_PART_ORDER);
    ck_assert_int_eq(complete(CMU PART("1", E1) PART("3", E1) CMU_END),
                     VIDEO_S3XML_OK);
    /* the first error counts, and a malformed body beats both */
    ck_assert_int_eq(complete(CMU PART("2", E1) PART("1", "x") CMU_END),
                     VIDEO_S3XML_INVALID_PART_ORDER);
    ck_assert_int_eq(complete(CMU PART("2", "x") PART("1", E1) CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("2", E1) PART("1", E1) "<Part>"
                              CMU_END), VIDEO_S3XML_MALFORMED);

    /* ETags */
    ck_assert_int_eq(complete(CMU PART("1", "\"a54357aff0632cce46d942af6835"
                                            "6b3\"") CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("1", "\"a54357aff0632cce46d942af6835"
                                            "6b38a\"") CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("1", "\"g54357aff0632cce46d942af6835"
                                            "6b38\"") CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("1", "\"" ETAG_A) CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("1", "\"" ETAG_A "-2\"") CMU_END),
                     VIDEO_S3XML_INVALID_PART);
    ck_assert_int_eq(complete(CMU PART("1", " " ETAG_A) CMU_END),
                     VIDEO_S3XML_INVALID_PART);

    /* shapes */
    ck_assert_int_eq(complete(CMU CMU_END), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete("<CompleteMultipartUpload/>"),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(""), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete("<Delete>" PART("1", E1) "</Delete>"),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", E1) CMU_END CMU CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", E1) CMU_END "x"),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1</PartNumber></Part>"
                              CMU_END), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1</PartNumber>"
                              "<PartNumber>2</PartNumber><ETag>" E1
                              "</ETag></Part>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1<b/></PartNumber>"
                              "<ETag>" E1 "</ETag></Part>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part>x<PartNumber>1</PartNumber>"
                              "<ETag>" E1 "</ETag></Part>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part>" "<PartNumber>1</PartNumber>"
                              "<ETag>" E1 "</ETag></Part>x" CMU_END),
                     VIDEO_S3XML_MALFORMED);

    /* unterminated, mismatched */
    ck_assert_int_eq(complete(CMU PART("1", E1)), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete("<CompleteMultipartUpload"),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1</PartNumber"),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1</PartNumber><ETag>"
                              E1), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1</PartNumber><ETag>"
                              E1 "</ETag></Prt>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part><PartNumber>1</PartNumber><ETag>"
                              E1 "</ETag></PartX>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part a=\"1\" a>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU "<Part a=\"<\"/>" CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "<![CDATA[x") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "]]>") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete("<!-- -- -->" CMU PART("1", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete("<!-- " CMU PART("1", E1) CMU_END),
                     VIDEO_S3XML_MALFORMED);

    /* not UTF-8: a stray byte, an overlong "/", a cut sequence */
    ck_assert_int_eq(complete(CMU PART("1", E1 "\xff") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "\xc0\xaf") CMU_END),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", E1) CMU_END "\xe6\x96"),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(complete(CMU PART("1", "\x01") CMU_END),
                     VIDEO_S3XML_MALFORMED);

    /* NUL bytes, in text and in a tag */
    body = malloc(256);
    i = (size_t) sprintf(body, "%s", CMU PART("1", E1) CMU_END);
    p = strstr(body, ETAG_A);
    p[3] = '\0';
    ck_assert_int_eq(video_s3xml_parse_complete(body, i, buf, parts, 10,
                                                &nparts),
                     VIDEO_S3XML_MALFORMED);
    i = (size_t) sprintf(body, "%s", CMU PART("1", E1) CMU_END);
    body[3] = '\0';
    ck_assert_int_eq(video_s3xml_parse_complete(body, i, buf, parts, 10,
                                                &nparts),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_uint_eq(nparts, 0);

    /*
     * A length claim past the limit is refused before a byte is read:
     * the body is 256 bytes, the claim 100 MB (ASan would catch a read)
     */
    i = (size_t) sprintf(body, "%s", CMU PART("1", E1) CMU_END);
    ck_assert_int_eq(video_s3xml_parse_complete(body, i, buf, parts, 10,
                                                &nparts), VIDEO_S3XML_OK);
    ck_assert_int_eq(video_s3xml_parse_complete(body, 100 * 1024 * 1024,
                                                buf, parts, 10, &nparts),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(video_s3xml_parse_complete(body,
                                                VIDEO_S3XML_BODY_MAX + 1,
                                                buf, parts, 10, &nparts),
                     VIDEO_S3XML_MALFORMED);
    free(body);
}
END_TEST


/* CMU, n parts numbered from first, CMU_END into a malloc()ed string */

static char *
many_parts(size_t n, size_t first, size_t depth)
{
    char    *body, *p;
    size_t   i;

    body = malloc(100 * n + 16 * depth + 128);
    ck_assert_ptr_nonnull(body);

    p = body + sprintf(body, CMU);

    for (i = 0; i < n; i++) {
        p += sprintf(p, "<Part><PartNumber>%zu</PartNumber><ETag>\""
                     ETAG_A "\"</ETag>", first + i);

        if (i == 0) {
            for (i = 0; i < depth; i++) {
                p += sprintf(p, "<a>");
            }

            for (i = 0; i < depth; i++) {
                p += sprintf(p, "</a>");
            }

            i = 0;
        }

        p += sprintf(p, "</Part>");
    }

    sprintf(p, CMU_END);

    return body;
}


START_TEST(complete_bounds_parts_and_depth)
{
    char  *body;

    body = many_parts(VIDEO_S3XML_PARTS_MAX, 1, 0);
    ck_assert_int_eq(complete(body), VIDEO_S3XML_OK);
    ck_assert_uint_eq(nparts, VIDEO_S3XML_PARTS_MAX);
    ck_assert_uint_eq(parts[9999].number, 10000);
    free(body);

    /* 10001 parts: refused even with room for more */
    body = many_parts(VIDEO_S3XML_PARTS_MAX + 1, 1, 0);
    ck_assert_int_eq(complete(body), VIDEO_S3XML_MALFORMED);
    ck_assert_uint_eq(nparts, 0);
    free(body);

    /* and more than the caller has room for */
    body = many_parts(3, 1, 0);
    ck_assert_int_eq(video_s3xml_parse_complete(body, strlen(body), buf,
                                                parts, 2, &nparts),
                     VIDEO_S3XML_MALFORMED);
    free(body);

    /* nesting: as deep as allowed, then 10000 deep */
    body = many_parts(1, 1, VIDEO_S3XML_DEPTH_MAX - 2);
    ck_assert_int_eq(complete(body), VIDEO_S3XML_OK);
    free(body);
    body = many_parts(1, 1, VIDEO_S3XML_DEPTH_MAX - 1);
    ck_assert_int_eq(complete(body), VIDEO_S3XML_MALFORMED);
    free(body);
    body = many_parts(1, 1, 10000);
    ck_assert_int_eq(complete(body), VIDEO_S3XML_MALFORMED);
    free(body);
}
END_TEST


START_TEST(delete_bodies)
{
    int      quiet;
    char    *body, *p;
    size_t   i;

    ck_assert_int_eq(delete("<Delete><Object><Key>a&#13;b&#x1F3AC;</Key>"
                            "</Object><Quiet>false</Quiet></Delete>",
                            &quiet), VIDEO_S3XML_OK);
    ck_assert_int_eq(quiet, 0);
    ck_assert_uint_eq(nkeys, 1);
    ck_assert_uint_eq(keys[0].key.len, 7);
    ck_assert(memcmp(keys[0].key.data, "a\rb\xf0\x9f\x8e\xac", 7) == 0);

    /* a literal CR LF is a LF, as XML reads it */
    ck_assert_int_eq(delete("<Delete><Object><Key>a\r\nb\rc</Key></Object>"
                            "</Delete>", &quiet), VIDEO_S3XML_OK);
    ck_assert_uint_eq(keys[0].key.len, 5);
    ck_assert(memcmp(keys[0].key.data, "a\nb\nc", 5) == 0);
    ck_assert_int_eq(quiet, 0);

    ck_assert_int_eq(delete("<Delete></Delete>", &quiet),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Quiet>true</Quiet></Delete>", &quiet),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Object><Key>a</Key></Object>"
                            "<Quiet>yes</Quiet></Delete>", &quiet),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Object><Key>a</Key></Object>"
                            "<Quiet>true</Quiet><Quiet>true</Quiet>"
                            "</Delete>", &quiet), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Object><Key></Key></Object></Delete>",
                            &quiet), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Object></Object></Delete>", &quiet),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Object><Key>a</Key><Key>b</Key>"
                            "</Object></Delete>", &quiet),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<Delete><Foo><Key>a</Key></Foo></Delete>",
                            &quiet), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(delete("<!DOCTYPE d [<!ENTITY e \"x\">]><Delete><Object>"
                            "<Key>&e;</Key></Object></Delete>", &quiet),
                     VIDEO_S3XML_MALFORMED);

    /* keys of 1024 bytes, not 1025; 1000 objects, not 1001 */

    body = malloc(1100 * 30 + 2200);
    ck_assert_ptr_nonnull(body);

    p = body + sprintf(body, "<Delete><Object><Key>");
    memset(p, 'k', 1024);
    strcpy(p + 1024, "</Key></Object></Delete>");
    ck_assert_int_eq(delete(body, &quiet), VIDEO_S3XML_OK);
    ck_assert_uint_eq(keys[0].key.len, 1024);

    memset(p, 'k', 1025);
    strcpy(p + 1025, "</Key></Object></Delete>");
    ck_assert_int_eq(delete(body, &quiet), VIDEO_S3XML_MALFORMED);

    /* escaped, a long key is longer: 1024 "&amp;" is 1024 bytes */
    p = body + sprintf(body, "<Delete><Object><Key>");
    for (i = 0; i < 1024; i++) {
        p += sprintf(p, "&amp;");
    }
    strcpy(p, "</Key></Object></Delete>");
    ck_assert_int_eq(delete(body, &quiet), VIDEO_S3XML_OK);
    ck_assert_uint_eq(keys[0].key.len, 1024);
    ck_assert_int_eq(keys[0].key.data[1023], '&');

    for (i = 1000; i <= 1001; i++) {
        size_t  j;

        p = body + sprintf(body, "<Delete>");
        for (j = 0; j < i; j++) {
            p += sprintf(p, "<Object><Key>k%zu</Key></Object>", j);
        }
        strcpy(p, "</Delete>");

        ck_assert_int_eq(delete(body, &quiet),
                         i == 1000 ? VIDEO_S3XML_OK : VIDEO_S3XML_MALFORMED);
    }

    ck_assert_uint_eq(keys[999].key.len, 4);
    ck_assert(memcmp(keys[999].key.data, "k999", 4) == 0);
    ck_assert(memcmp(keys[0].key.data, "k0", 2) == 0);

    free(body);
}
END_TEST


#define LIST_PARTS_AWS                                                        \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                            \
    "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"   \
    "  <Bucket>example-bucket</Bucket>\n"                                     \
    "  <Key>example-object</Key>\n"                                           \
    "  <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA"  \
    "</UploadId>\n"                                                           \
    "  <Initiator>\n"                                                         \
    "      <ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7"  \
    "-9df5-b288870d11xx</ID>\n"                                               \
    "      <DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870d11xx"       \
    "</DisplayName>\n"                                                        \
    "  </Initiator>\n"                                                        \
    "  <Owner>\n"                                                             \
    "    <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"\
    "</ID>\n"                                                                 \
    "    <DisplayName>someName</DisplayName>\n"                               \
    "  </Owner>\n"                                                            \
    "  <StorageClass>STANDARD</StorageClass>\n"                               \
    "  <PartNumberMarker>1</PartNumberMarker>\n"                              \
    "  <NextPartNumberMarker>3</NextPartNumberMarker>\n"                      \
    "  <MaxParts>2</MaxParts>\n"                                              \
    "  <IsTruncated>true</IsTruncated>\n"                                     \
    "  <Part>\n"                                                              \
    "    <PartNumber>2</PartNumber>\n"                                        \
    "    <LastModified>2010-11-10T20:48:34.000Z</LastModified>\n"             \
    "    <ETag>\"7778aef83f66abc1fa1e8477f296d394\"</ETag>\n"                 \
    "    <Size>10485760</Size>\n"                                             \
    "  </Part>\n"                                                             \
    "  <Part>\n"                                                              \
    "    <PartNumber>3</PartNumber>\n"                                        \
    "    <LastModified>2010-11-10T20:48:33.000Z</LastModified>\n"             \
    "    <ETag>\"aaaa18db4cc2f85cedef654fccc4a4x8\"</ETag>\n"                 \
    "    <Size>10485760</Size>\n"                                             \
    "  </Part>\n"                                                             \
    "</ListPartsResult>"


static int
list_parts(const char *body, size_t nalloc,
    video_s3xml_parts_page_t *pp, video_s3xml_s3_error_t *err)
{
    memset(pp, 0, sizeof(video_s3xml_parts_page_t));
    pp->parts = parts;
    pp->nalloc = nalloc;

    return video_s3xml_parse_list_parts(body, strlen(body), buf, pp, err);
}


START_TEST(parses_answers)
{
    video_s3xml_str_t         v;
    video_s3xml_s3_error_t    err;
    video_s3xml_parts_page_t  pp;

    /* what this store renders */

    ck_assert_int_eq(video_s3xml_parse_initiate(S3XML_T_INITIATE,
                         strlen(S3XML_T_INITIATE), buf, &v, &err), 0);
    ck_assert_uint_eq(v.len, 14);
    ck_assert(memcmp(v.data, "VXBsb2FkIElE-1", 14) == 0);

    ck_assert_int_eq(video_s3xml_parse_complete_result(S3XML_T_COMPLETE,
                         strlen(S3XML_T_COMPLETE), buf, &v, &err), 0);
    ck_assert_uint_eq(v.len, 34);
    ck_assert(memcmp(v.data, "3858f62230ac3c915f300c664312c11f-9", 34) == 0);

    ck_assert_int_eq(list_parts(S3XML_T_LIST_PARTS, 1000, &pp, &err), 0);
    ck_assert_uint_eq(pp.nparts, 2);
    ck_assert_int_eq(pp.truncated, 1);
    ck_assert_uint_eq(pp.next_part_number_marker, 3);
    ck_assert_uint_eq(parts[0].number, 2);
    ck_assert_str_eq(parts[0].etag, ETAG_B);
    ck_assert_int_eq(parts[0].size, 5242880);
    ck_assert_uint_eq(parts[1].number, 3);
    ck_assert_int_eq(parts[1].size, 17);

    ck_assert_int_eq(video_s3xml_parse_error(S3XML_T_ERROR,
                         strlen(S3XML_T_ERROR), buf, &err), 0);
    ck_assert_uint_eq(err.code.len, 9);
    ck_assert(memcmp(err.code.data, "NoSuchKey", 9) == 0);
    ck_assert_uint_eq(err.message.len, 33);

    /* AWS's own example, with Initiator and Owner */

    ck_assert_int_eq(list_parts(LIST_PARTS_AWS, 1000, &pp, &err), 0);
    ck_assert_uint_eq(pp.nparts, 2);
    ck_assert_str_eq(parts[0].etag, "7778aef83f66abc1fa1e8477f296d394");
    ck_assert_str_eq(parts[1].etag, "aaaa18db4cc2f85cedef654fccc4a4x8");
    ck_assert_int_eq(list_parts(LIST_PARTS_AWS, 1, &pp, &err),
                     VIDEO_S3XML_MALFORMED);

    ck_assert_int_eq(list_parts("<ListPartsResult><IsTruncated>false"
                                "</IsTruncated></ListPartsResult>", 1000,
                                &pp, &err), 0);
    ck_assert_uint_eq(pp.nparts, 0);
    ck_assert_int_eq(list_parts("<ListPartsResult><IsTruncated>true"
                                "</IsTruncated></ListPartsResult>", 1000,
                                &pp, &err), VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(list_parts("<ListPartsResult><IsTruncated>false"
                                "</IsTruncated><Part><PartNumber>1"
                                "</PartNumber><ETag>\"a b\"</ETag><Size>1"
                                "</Size></Part></ListPartsResult>", 1000,
                                &pp, &err), VIDEO_S3XML_MALFORMED);

    /* MinIO's Initiate, indented */

    ck_assert_int_eq(video_s3xml_parse_initiate(SL(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<InitiateMultipartUploadResult xmlns=\"" VIDEO_S3XML_NS "\">\n"
        "  <Bucket>media</Bucket>\n  <Key>a</Key>\n"
        "  <UploadId>ZjJhNTVkOTQtMmQ5Mi00YmYxLTk2N2QtMjMxMTk2NGM4YmEx"
        "</UploadId>\n</InitiateMultipartUploadResult>\n"), buf, &v, NULL),
        0);
    ck_assert_uint_eq(v.len, 48);

    ck_assert_int_eq(video_s3xml_parse_initiate(SL(
        "<InitiateMultipartUploadResult><UploadId></UploadId>"
        "</InitiateMultipartUploadResult>"), buf, &v, NULL),
        VIDEO_S3XML_MALFORMED);

    /* a Complete answered 200 with an error document */

    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(video_s3xml_parse_complete_result(SL(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n"
        "<Error><Code>InternalError</Code><Message>We encountered an "
        "internal error. Please try again.</Message><RequestId>656c76696e67"
        "</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWA"
        "tRPfTaOFg==</HostId></Error>"), buf, &v, &err),
        VIDEO_S3XML_S3_ERROR);
    ck_assert_uint_eq(err.code.len, 13);
    ck_assert(memcmp(err.code.data, "InternalError", 13) == 0);
    ck_assert_uint_eq(err.message.len, 51);

    ck_assert_int_eq(video_s3xml_parse_list_parts(S3XML_T_ERROR,
                         strlen(S3XML_T_ERROR), buf, &pp, NULL),
                     VIDEO_S3XML_S3_ERROR);

    /* not the document asked for; an error without a code */

    ck_assert_int_eq(video_s3xml_parse_initiate(S3XML_T_COMPLETE,
                         strlen(S3XML_T_COMPLETE), buf, &v, &err),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(video_s3xml_parse_error(SL("<Error><Message>x"
                                                "</Message></Error>"), buf,
                                             &err),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(video_s3xml_parse_error(S3XML_T_COMPLETE,
                         strlen(S3XML_T_COMPLETE), buf, &err),
                     VIDEO_S3XML_MALFORMED);
    ck_assert_int_eq(video_s3xml_parse_complete_result(SL(
        "<CompleteMultipartUploadResult><ETag>\"\"</ETag>"
        "</CompleteMultipartUploadResult>"), buf, &v, &err),
        VIDEO_S3XML_MALFORMED);

    ck_assert_str_eq(video_s3xml_code(VIDEO_S3XML_MALFORMED), "MalformedXML");
    ck_assert_str_eq(video_s3xml_code(VIDEO_S3XML_INVALID_PART_ORDER),
                     "InvalidPartOrder");
    ck_assert_str_eq(video_s3xml_code(VIDEO_S3XML_INVALID_PART),
                     "InvalidPart");
    ck_assert_str_eq(video_s3xml_code(VIDEO_S3XML_INVALID_ARGUMENT),
                     "InvalidArgument");
}
END_TEST


/* AWS's ListObjectsV2 example, with an Owner and a ChecksumAlgorithm */
#define LIST_OBJECTS_AWS                                                      \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                            \
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"  \
    "  <Name>bucket</Name>\n"                                                 \
    "  <Prefix/>\n"                                                           \
    "  <KeyCount>2</KeyCount>\n"                                              \
    "  <MaxKeys>1000</MaxKeys>\n"                                             \
    "  <IsTruncated>false</IsTruncated>\n"                                    \
    "  <Contents>\n"                                                          \
    "    <Key>my-image.jpg</Key>\n"                                           \
    "    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"             \
    "    <ETag>\"fba9dede5f27731c9771645a39863328\"</ETag>\n"                 \
    "    <Size>434234</Size>\n"                                               \
    "    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078e</ID>"    \
    "<DisplayName>mtd</DisplayName></Owner>\n"                                \
    "    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>\n"                      \
    "    <StorageClass>STANDARD</StorageClass>\n"                             \
    "  </Contents>\n"                                                         \
    "  <Contents>\n"                                                          \
    "    <Key>my-third-image.jpg</Key>\n"                                     \
    "    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"             \
    "    <ETag>\"1b2cf535f27731c974343645a3985328-2\"</ETag>\n"               \
    "    <Size>64994</Size>\n"                                                \
    "    <StorageClass>STANDARD_IA</StorageClass>\n"                          \
    "  </Contents>\n"                                                         \
    "  <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>\n"           \
    "</ListBucketResult>"

#define LIST_HEAD                                                             \
    "<ListBucketResult><IsTruncated>false</IsTruncated>"


static video_s3xml_object_t  listed[VIDEO_S3XML_KEYS_MAX];


static int
list_objects(const char *body, size_t nalloc, video_s3xml_objects_page_t *op,
    video_s3xml_s3_error_t *err)
{
    memset(op, 0, sizeof(video_s3xml_objects_page_t));
    op->contents = listed;
    op->nalloc = nalloc;

    return video_s3xml_parse_list_objects(body, strlen(body), buf, op, err);
}


static int
listed_is(size_t i, const char *key)
{
    return listed[i].key.len == strlen(key)
           && memcmp(listed[i].key.data, key, listed[i].key.len) == 0;
}


START_TEST(parses_object_listings)
{
    int                         url;
    size_t                      i;
    char                       *out;
    video_s3xml_query_t         q;
    video_s3xml_object_t        o[6];
    video_s3xml_s3_error_t      err;
    video_s3xml_objects_page_t  op;

    /* this store's pages, read back: keys decoded, the token */

    ck_assert_int_eq(list_objects(S3XML_T_LIST_URL, 10, &op, &err), 0);
    ck_assert_uint_eq(op.ncontents, 1);
    ck_assert(listed_is(0, "videos/a & b\xc3\xbc.mp4"));
    ck_assert_uint_eq(listed[0].etag.len, 32);
    ck_assert(memcmp(listed[0].etag.data, ETAG_A, 32) == 0);
    ck_assert_int_eq(listed[0].size, 1048576);
    ck_assert_int_eq(op.truncated, 1);
    ck_assert_uint_eq(op.next_token.len, 19);
    ck_assert(memcmp(op.next_token.data, "UHZpZGVvcy9i8J-OrC8", 19) == 0);

    ck_assert_int_eq(list_objects(S3XML_T_LIST_XML, 10, &op, &err), 0);
    ck_assert_uint_eq(op.ncontents, 2);
    ck_assert(listed_is(0, "b&\"c'"));
    ck_assert(listed_is(1, "tab\tnl\ncr\r"));
    ck_assert_int_eq(listed[0].size, 0);
    ck_assert_int_eq(op.truncated, 0);
    ck_assert_ptr_null(op.next_token.data);

    /* every key of a page, in both encodings */

    object(&o[0], "v/c00000_000.ts", 3, T1, ETAG_A);
    object(&o[1], "v/b\xf0\x9f\x8e\xac/y +%2F.ts", 2, T1, ETAG_A);
    object(&o[2], "v/a", 9, T1, ETAG_B);
    object(&o[3], "v/pieces/p00000.nut", 1048576, T1, ETAG_A);
    object(&o[4], "w/x", 2, T1, ETAG_A);
    object(&o[5], "v/\x7f~", 2, T1, ETAG_A);

    for (url = 0; url < 2; url++) {
        q = query("v/", NULL, 1000);
        q.url = url;

        ck_assert_int_eq(video_s3xml_list_page(o, 6, &q, &page), 0);
        out = render_list("media", &q, &page);
        ck_assert_int_eq(list_objects(out, 10, &op, &err), 0);
        ck_assert_uint_eq(op.ncontents, 5);

        for (i = 0; i < 5; i++) {
            ck_assert_uint_eq(listed[i].key.len, page.contents[i].key.len);
            ck_assert(memcmp(listed[i].key.data, page.contents[i].key.data,
                             listed[i].key.len) == 0);
            ck_assert_int_eq(listed[i].size, page.contents[i].size);
        }

        ck_assert_int_eq(list_objects(out, 4, &op, &err),
                         VIDEO_S3XML_MALFORMED);
        free(out);
    }

    /* AWS's example: Owner, CommonPrefixes and the rest skipped */

    ck_assert_int_eq(list_objects(LIST_OBJECTS_AWS, 10, &op, &err), 0);
    ck_assert_uint_eq(op.ncontents, 2);
    ck_assert(listed_is(0, "my-image.jpg"));
    ck_assert(listed_is(1, "my-third-image.jpg"));
    ck_assert_uint_eq(listed[1].etag.len, 34);
    ck_assert_int_eq(listed[1].size, 64994);

    /* an empty listing; a Contents with only its Key */

    ck_assert_int_eq(list_objects(LIST_HEAD "</ListBucketResult>", 10, &op,
                                  &err), 0);
    ck_assert_uint_eq(op.ncontents, 0);
    ck_assert_int_eq(list_objects(LIST_HEAD "<Contents><Key>a</Key>"
                                  "</Contents></ListBucketResult>", 10, &op,
                                  &err), 0);
    ck_assert_int_eq(listed[0].size, -1);
    ck_assert_uint_eq(listed[0].etag.len, 0);

    /* an error document, and a store that says it is not implemented */

    ck_assert_int_eq(list_objects(S3XML_T_ERROR, 10, &op, &err),
                     VIDEO_S3XML_S3_ERROR);
    ck_assert_int_eq(list_objects("<Error><Code>NotImplemented</Code>"
                                  "</Error>", 10, &op, &err),
                     VIDEO_S3XML_S3_ERROR);
    ck_assert_uint_eq(err.code.len, 14);
}
END_TEST


START_TEST(refuses_hostile_object_listings)
{
    char                        body[2200];
    size_t                      i;
    video_s3xml_objects_page_t  op;

    static const char  *bad[] = {
        "<ListBucketResult></ListBucketResult>",
        "<ListBucketResult><IsTruncated>yes</IsTruncated>"
        "</ListBucketResult>",
        LIST_HEAD "<IsTruncated>false</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        "</ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken></NextContinuationToken>"
        "</ListBucketResult>",
        LIST_HEAD "<Contents></Contents></ListBucketResult>",
        LIST_HEAD "<Contents><Key>a</Key><Key>b</Key></Contents>"
        "</ListBucketResult>",
        LIST_HEAD "<Contents><Key></Key></Contents></ListBucketResult>",
        LIST_HEAD "<Contents><Key><a/></Key></Contents></ListBucketResult>",
        LIST_HEAD "<Contents><Key>a</Key><Size>-1</Size></Contents>"
        "</ListBucketResult>",
        LIST_HEAD "<Contents><Key>a</Key><Size>1</Size><Size>1</Size>"
        "</Contents></ListBucketResult>",
        LIST_HEAD "<Contents><Key>a</Key><ETag>\"a b\"</ETag></Contents>"
        "</ListBucketResult>",
        LIST_HEAD "<EncodingType>base64</EncodingType></ListBucketResult>",
        LIST_HEAD "<EncodingType>url</EncodingType><Contents><Key>a%zz</Key>"
        "</Contents></ListBucketResult>",
        LIST_HEAD "<EncodingType>url</EncodingType><Contents><Key>a%2</Key>"
        "</Contents></ListBucketResult>",
        LIST_HEAD "<EncodingType>url</EncodingType><Contents><Key>a%00b"
        "</Key></Contents></ListBucketResult>",
        LIST_HEAD "<EncodingType>url</EncodingType><Contents><Key>%FF</Key>"
        "</Contents></ListBucketResult>",
        /* the encoding said after the keys still applies to them */
        LIST_HEAD "<Contents><Key>%C0%80</Key></Contents>"
        "<EncodingType>url</EncodingType></ListBucketResult>",
        LIST_HEAD "<Contents><Key>a</Key></Contents>",
        "<!DOCTYPE x [<!ENTITY e \"a\">]>" LIST_HEAD
        "<Contents><Key>&e;</Key></Contents></ListBucketResult>",
        "<ListPartsResult><IsTruncated>false</IsTruncated>"
        "</ListPartsResult>",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(list_objects(bad[i], 10, &op, NULL)
                      == VIDEO_S3XML_MALFORMED, "case %zu accepted", i);
    }

    /* a key of 1024 bytes is one, 1025 is not; "%2F" decodes to "/" */

    i = (size_t) snprintf(body, sizeof(body), "%s<Contents><Key>",
                          LIST_HEAD);
    memset(body + i, 'k', 1024);
    strcpy(body + i + 1024, "</Key></Contents></ListBucketResult>");
    ck_assert_int_eq(list_objects(body, 10, &op, NULL), 0);
    ck_assert_uint_eq(listed[0].key.len, 1024);

    memset(body + i, 'k', 1025);
    strcpy(body + i + 1025, "</Key></Contents></ListBucketResult>");
    ck_assert_int_eq(list_objects(body, 10, &op, NULL),
                     VIDEO_S3XML_MALFORMED);

    ck_assert_int_eq(list_objects(LIST_HEAD "<EncodingType>url</EncodingType>"
                                  "<Contents><Key>a%2Fb+c</Key></Contents>"
                                  "</ListBucketResult>", 10, &op, NULL), 0);
    ck_assert(listed_is(0, "a/b c"));

    /* without encoding-type a "+" is a plus */

    ck_assert_int_eq(list_objects(LIST_HEAD "<Contents><Key>a%2Fb+c</Key>"
                                  "</Contents></ListBucketResult>", 10, &op,
                                  NULL), 0);
    ck_assert(listed_is(0, "a%2Fb+c"));
}
END_TEST


Suite *
unit_s3xml_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("s3xml");
    tc = tcase_create("s3xml");
    tcase_set_timeout(tc, 30);

    tcase_add_test(tc, renders_error);
    tcase_add_test(tc, renders_list_url_encoded);
    tcase_add_test(tc, renders_list_xml_escaped);
    tcase_add_test(tc, renders_multipart_documents);
    tcase_add_test(tc, complete_request_round_trips);
    tcase_add_test(tc, lists_in_byte_order);
    tcase_add_test(tc, groups_common_prefixes_across_pages);
    tcase_add_test(tc, refuses_forged_tokens);
    tcase_add_test(tc, max_keys_values);
    tcase_add_test(tc, parses_what_aws_cli_sends);
    tcase_add_test(tc, complete_accepts_what_xml_allows);
    tcase_add_test(tc, complete_refuses_hostile_bodies);
    tcase_add_test(tc, complete_bounds_parts_and_depth);
    tcase_add_test(tc, delete_bodies);
    tcase_add_test(tc, parses_answers);
    tcase_add_test(tc, parses_object_listings);
    tcase_add_test(tc, refuses_hostile_object_listings);
    suite_add_tcase(s, tc);

    return s;
}
