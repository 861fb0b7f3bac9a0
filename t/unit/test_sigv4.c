/*
 * SigV4 for S3: presigned URLs and Authorization headers equal botocore's
 * byte for byte (sigv4_vectors.h, made by sigv4_vectors.py), and the
 * verifier accepts exactly those URLs, inside their window, untouched.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "unit.h"
#include "unit_sigv4.h"
#include "video_sigv4.h"
#include "sigv4_vectors.h"


#define NELTS(a)  (sizeof(a) / sizeof((a)[0]))

/* the example of "Authenticating Requests: Using Query Parameters" */
#define AWS_DOC_URL                                                          \
    "https://examplebucket.s3.amazonaws.com/test.txt"                        \
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"                                      \
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3"     \
    "%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"        \
    "&X-Amz-SignedHeaders=host&X-Amz-Signature="                             \
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"


/* a request as the server sees it, editable */
typedef struct {
    const char  *method;
    char         path[VIDEO_SIGV4_URL_MAX];
    char         query[VIDEO_SIGV4_URL_MAX];
    char         host[256];
    int64_t      now;
} req_t;


static const video_sigv4_creds_t  creds_us = {
    SIGV4_T_ACCESS, SIGV4_T_SECRET, "us-east-1", "s3"
};


static video_sigv4_creds_t
vector_creds(const sigv4_presign_vector_t *v)
{
    video_sigv4_creds_t  c;

    c = creds_us;
    c.region = v->region;

    return c;
}


static video_sigv4_presign_t
vector_request(const sigv4_presign_vector_t *v)
{
    video_sigv4_presign_t  p;

    p.method = v->method;
    p.endpoint = v->endpoint;
    p.bucket = v->bucket;
    p.key = v->key;
    p.path_style = v->path_style;
    p.now = v->now;
    p.expires = v->expires;

    return p;
}


/* splits "scheme://authority/path?query" */
static void
split(const char *url, const char *method, const char *host, int64_t now,
    req_t *r)
{
    const char  *p, *q;

    p = strchr(strstr(url, "://") + 3, '/');
    ck_assert_ptr_nonnull(p);
    q = strchr(p, '?');

    r->method = method;
    r->now = now;
    snprintf(r->path, sizeof(r->path), "%.*s",
             (int) (q != NULL ? q - p : (long) strlen(p)), p);
    snprintf(r->query, sizeof(r->query), "%s", q != NULL ? q + 1 : "");
    snprintf(r->host, sizeof(r->host), "%s", host);
}


static void
split_vector(const sigv4_presign_vector_t *v, req_t *r)
{
    split(v->url, v->method, v->host, v->now, r);
}


static int
verify_as(const video_sigv4_creds_t *c, const req_t *r, const char **err)
{
    *err = "unset";

    return video_sigv4_verify(c, r->method, r->path, strlen(r->path),
                              r->query, strlen(r->query), r->host,
                              strlen(r->host), r->now, err);
}


static int
verify(const sigv4_presign_vector_t *v, const req_t *r)
{
    int                  rc;
    const char          *err;
    video_sigv4_creds_t  c;

    c = vector_creds(v);
    rc = verify_as(&c, r, &err);

    /* every refusal says why */
    ck_assert_msg(rc == VIDEO_SIGV4_OK ? err == NULL : err != NULL,
                  "verify %d without a matching message", rc);

    return rc;
}


/*
 * Replaces the value of the parameter called name in r's query (value
 * NULL: removes the parameter).
 */
static void
set_param(req_t *r, const char *name, const char *value)
{
    size_t  n;
    char    out[VIDEO_SIGV4_URL_MAX], *s, *amp, *dst;

    n = strlen(name);
    dst = out;
    *dst = '\0';

    for (s = r->query; s != NULL && *s != '\0'; s = amp) {
        amp = strchr(s, '&');

        if (strncmp(s, name, n) == 0 && s[n] == '=') {
            if (value != NULL) {
                dst += sprintf(dst, "%s%s=%s", dst == out ? "" : "&", name,
                               value);
            }

        } else {
            dst += sprintf(dst, "%s%.*s", dst == out ? "" : "&",
                           (int) (amp != NULL ? amp - s : (long) strlen(s)),
                           s);
        }

        if (amp != NULL) {
            amp++;
        }
    }

    strcpy(r->query, out);
}


/* a different character of the same class */
static char
other_char(char c)
{
    if (c >= '0' && c <= '9') {
        return (c == '9') ? '8' : c + 1;
    }

    return (c == 'a') ? 'b' : 'a';
}


START_TEST(aws_documentation_example)
{
    int                    n;
    char                   url[VIDEO_SIGV4_URL_MAX];
    req_t                  r;
    const char            *err;
    video_sigv4_presign_t  p;

    p.method = "GET";
    p.endpoint = "https://s3.amazonaws.com";
    p.bucket = "examplebucket";
    p.key = "test.txt";
    p.path_style = 0;
    p.now = 1369353600;      /* 20130524T000000Z */
    p.expires = 86400;

    err = NULL;
    n = video_sigv4_presign(&creds_us, &p, url, sizeof(url), &err);

    ck_assert_int_eq(n, (int) strlen(AWS_DOC_URL));
    ck_assert_str_eq(url, AWS_DOC_URL);
    ck_assert_ptr_nonnull(strstr(url, "&X-Amz-Signature=aeeed9bbccd4d02ee5c0"
                                 "109b86d86835f995330da4c265957d157751f60"
                                 "4d404"));

    split(url, "GET", "examplebucket.s3.amazonaws.com", p.now + 3600, &r);
    ck_assert_int_eq(verify_as(&creds_us, &r, &err), VIDEO_SIGV4_OK);
}
END_TEST


START_TEST(presigned_urls_equal_botocore)
{
    int                           n;
    char                          url[VIDEO_SIGV4_URL_MAX];
    const char                   *err;
    video_sigv4_creds_t           c;
    video_sigv4_presign_t         p;
    const sigv4_presign_vector_t  *v;

    ck_assert_uint_ge(NELTS(sigv4_presign_vectors), 12);

    v = &sigv4_presign_vectors[_i];
    c = vector_creds(v);
    p = vector_request(v);

    err = NULL;
    n = video_sigv4_presign(&c, &p, url, sizeof(url), &err);

    ck_assert_msg(n > 0, "%s %s: %s", v->method, v->key, err);
    ck_assert_str_eq(url, v->url);
    ck_assert_int_eq(n, (int) strlen(v->url));

    /* exactly the room it needs, and one byte less */
    ck_assert_int_eq(video_sigv4_presign(&c, &p, url, (size_t) n + 1, &err),
                     n);
    ck_assert_int_eq(video_sigv4_presign(&c, &p, url, (size_t) n, &err), -1);
    ck_assert_str_eq(err, "buffer too small");
}
END_TEST


/*
 * The signing key is kept per thread for its day and scope: every vector
 * in turn, twice over, in one process, still signs as botocore does
 * (days, regions and secrets change from one to the next)
 */
START_TEST(kept_signing_keys_follow_day_scope_and_secret)
{
    size_t                         i, k;
    char                           url[VIDEO_SIGV4_URL_MAX];
    const char                    *err;
    video_sigv4_creds_t            c;
    video_sigv4_presign_t          p;
    const sigv4_presign_vector_t  *v;

    for (k = 0; k < 2 * NELTS(sigv4_presign_vectors); k++) {
        i = (k * 7) % NELTS(sigv4_presign_vectors);
        v = &sigv4_presign_vectors[i];
        c = vector_creds(v);
        p = vector_request(v);

        ck_assert_int_gt(video_sigv4_presign(&c, &p, url, sizeof(url), &err),
                         0);
        ck_assert_str_eq(url, v->url);

        /* the same request under another secret signs differently */
        c.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
        ck_assert_int_gt(video_sigv4_presign(&c, &p, url, sizeof(url), &err),
                         0);
        ck_assert_str_ne(url, v->url);
    }
}
END_TEST


START_TEST(presign_refuses_bad_input)
{
    char                   url[VIDEO_SIGV4_URL_MAX], key[1100];
    size_t                 i;
    const char            *err;
    video_sigv4_creds_t    c;
    video_sigv4_presign_t  p, q;

    static const char  *bad_endpoints[] = {
        "", "ftp://host", "http://", "http:///", "127.0.0.1:9000",
        "http://host/path", "http://host:", "http://host:0",
        "http://host:65536", "http://host:123456", "http://user@host",
        "http://host?x", "http://host#x", "http://ho st", "http://[::1",
        "http://host//"
    };

    p.method = "GET";
    p.endpoint = "http://127.0.0.1:9000";
    p.bucket = "videos";
    p.key = "a.mp4";
    p.path_style = 1;
    p.now = 1764120225;
    p.expires = 3600;

    ck_assert_int_gt(video_sigv4_presign(&creds_us, &p, url, sizeof(url),
                                         &err), 0);

    q = p;
    q.expires = 0;
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);
    ck_assert_str_eq(err, "expiry out of range");
    q.expires = 604801;
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);
    ck_assert_str_eq(err, "expiry out of range");
    q.expires = -1;
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);

    for (i = 0; i < NELTS(bad_endpoints); i++) {
        q = p;
        q.endpoint = bad_endpoints[i];
        err = NULL;
        ck_assert_msg(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                          &err) == -1,
                      "endpoint \"%s\" accepted", bad_endpoints[i]);
        ck_assert_str_eq(err, "bad endpoint");
    }

    q = p;
    q.endpoint = NULL;
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);

    /* a trailing slash and an IPv6 literal are fine */
    q = p;
    q.endpoint = "http://[::1]:9000/";
    ck_assert_int_gt(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), 0);
    ck_assert(strncmp(url, "http://[::1]:9000/videos/a.mp4?", 31) == 0);

    q = p;
    q.key = "";
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);
    ck_assert_str_eq(err, "bad key");

    memset(key, 'k', sizeof(key));
    key[VIDEO_SIGV4_MAX_KEY] = '\0';
    q = p;
    q.key = key;
    ck_assert_int_gt(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), 0);
    key[VIDEO_SIGV4_MAX_KEY] = 'k';
    key[VIDEO_SIGV4_MAX_KEY + 1] = '\0';
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);
    ck_assert_str_eq(err, "bad key");

    /* the longest key, all escapes, still fits VIDEO_SIGV4_URL_MAX */
    memset(key, ' ', VIDEO_SIGV4_MAX_KEY);
    key[VIDEO_SIGV4_MAX_KEY] = '\0';
    ck_assert_int_gt(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), 3 * VIDEO_SIGV4_MAX_KEY);

    q = p;
    q.path_style = 0;
    q.bucket = "Videos";
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);
    ck_assert_str_eq(err, "bad bucket");
    q.bucket = "";
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);

    q = p;
    q.method = "get";
    ck_assert_int_eq(video_sigv4_presign(&creds_us, &q, url, sizeof(url),
                                         &err), -1);
    ck_assert_str_eq(err, "bad method");

    c = creds_us;
    c.region = "us/east";
    ck_assert_int_eq(video_sigv4_presign(&c, &p, url, sizeof(url), &err),
                     -1);
    ck_assert_str_eq(err, "bad credentials");

    ck_assert_int_eq(video_sigv4_presign(&creds_us, &p, url, 0, &err), -1);
    ck_assert_str_eq(err, "buffer too small");
}
END_TEST


START_TEST(table_urls_verify_inside_their_window)
{
    req_t                          r;
    const sigv4_presign_vector_t  *v;

    v = &sigv4_presign_vectors[_i];
    split_vector(v, &r);

    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);

    r.now = v->now + v->expires;
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);

    r.now = v->now + v->expires + 1;
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_EXPIRED);

    r.now = v->now + 86400 * 365;
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_EXPIRED);

    /* a signer's clock may run a little ahead of ours, not more */
    r.now = v->now - VIDEO_SIGV4_MAX_SKEW;
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);

    r.now = v->now - VIDEO_SIGV4_MAX_SKEW - 1;
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_EXPIRED);
}
END_TEST


START_TEST(extra_parameters_are_sorted_into_the_signature)
{
    req_t                          r;
    const sigv4_presign_vector_t  *v;

    v = &sigv4_extra_vectors[_i];
    split_vector(v, &r);

    /* botocore puts them unsorted before the X-Amz-* parameters */
    ck_assert(strncmp(r.query, "response-", 9) == 0);
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);

    set_param(&r, "response-content-type", NULL);
    set_param(&r, "response-cache-control", NULL);
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_SIGNATURE_MISMATCH);
}
END_TEST


START_TEST(tampering_is_a_signature_mismatch)
{
    char                          *s, *d;
    size_t                         i;
    req_t                          r, t;
    const sigv4_presign_vector_t  *v;

    v = &sigv4_presign_vectors[_i];
    split_vector(v, &r);

    /* one character of the path: the last one outside an escape */

    t = r;
    i = strlen(t.path);

    do {
        i--;
    } while (i > 0 && (t.path[i] == '/' || t.path[i] == '.'
                       || (i >= 1 && t.path[i - 1] == '%')
                       || (i >= 2 && t.path[i - 2] == '%')));

    t.path[i] = other_char(t.path[i]);
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* one character of a query value: a second of X-Amz-Date */

    t = r;
    d = strstr(t.query, "X-Amz-Date=") + sizeof("X-Amz-Date=") - 1;
    d[14] = (d[14] == '0') ? '1' : d[14] - 1;
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    if (v->expires < VIDEO_SIGV4_MAX_EXPIRES) {
        t = r;
        s = strstr(t.query, "X-Amz-Expires=") + sizeof("X-Amz-Expires=") - 1;
        s[strspn(s, "0123456789") - 1]++;
        ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);
    }

    /* one character of the signature */

    t = r;
    s = strstr(t.query, "X-Amz-Signature=") + sizeof("X-Amz-Signature=") - 1;
    s[10] = other_char(s[10]);
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* the method */

    t = r;
    t.method = (strcmp(v->method, "GET") == 0) ? "PUT" : "GET";
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* the host, and a parameter nobody signed */

    t = r;
    strcat(t.host, "0");
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = r;
    strcat(t.query, "&response-content-type=text%2Fhtml");
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);
}
END_TEST


START_TEST(another_secret_is_a_signature_mismatch)
{
    char                           url[VIDEO_SIGV4_URL_MAX];
    req_t                          r;
    const char                    *err;
    video_sigv4_creds_t            c;
    video_sigv4_presign_t          p;
    const sigv4_presign_vector_t  *v;

    v = &sigv4_presign_vectors[_i];
    c = vector_creds(v);
    c.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
    p = vector_request(v);

    ck_assert_int_gt(video_sigv4_presign(&c, &p, url, sizeof(url), &err), 0);
    split(url, v->method, v->host, v->now, &r);

    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_SIGNATURE_MISMATCH);
}
END_TEST


START_TEST(equivalent_encodings_verify)
{
    req_t                          r, t;
    const sigv4_presign_vector_t  *v;

    /* "a b/c d.mp4" on 127.0.0.1:9000 */
    v = &sigv4_presign_vectors[1];
    split_vector(v, &r);
    ck_assert_str_eq(r.path, "/videos/a%20b/c%20d.mp4");

    t = r;
    strcpy(t.path, "/vid%65os/a%20b/c%20d%2Emp4");
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_OK);

    /* lower-case escapes, and parameters in another order */
    t = r;
    set_param(&t, "X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2f20251126"
              "%2fus-east-1%2fs3%2faws4_request");
    set_param(&t, "X-Amz-Algorithm", NULL);
    strcat(t.query, "&X-Amz-Algorithm=AWS4-HMAC-SHA256");
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_OK);

    /* "+" is a plus, not a space */
    t = r;
    strcpy(t.path, "/videos/a+b/c%20d.mp4");
    ck_assert_int_eq(verify(v, &t), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* "vidéo/é.mp4" with lower-case escapes */
    v = &sigv4_presign_vectors[2];
    split_vector(v, &r);
    strcpy(r.path, "/videos/vid%c3%a9o/%c3%a9.mp4");
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);

    /* the Host header in another case, with blanks around it */
    v = &sigv4_presign_vectors[14];
    ck_assert_str_eq(v->host, "my-videos.s3.eu-west-1.amazonaws.com");
    split_vector(v, &r);
    strcpy(r.host, " My-Videos.S3.EU-West-1.amazonaws.com\t");
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);
}
END_TEST


START_TEST(bad_parameters_are_access_denied)
{
    char                           big[VIDEO_SIGV4_MAX_PATH + 2];
    req_t                          r, t;
    size_t                         i;
    const char                    *err;
    video_sigv4_creds_t            c;
    const sigv4_presign_vector_t  *v;

    static const struct {
        const char  *name;
        const char  *value;     /* NULL: removed */
        const char  *err;
    } bad[] = {
        { "X-Amz-Signature", NULL, "missing X-Amz-Signature" },
        { "X-Amz-Algorithm", NULL, "missing X-Amz-Algorithm" },
        { "X-Amz-Credential", NULL, "missing X-Amz-Credential" },
        { "X-Amz-Date", NULL, "missing X-Amz-Date" },
        { "X-Amz-Expires", NULL, "missing X-Amz-Expires" },
        { "X-Amz-SignedHeaders", NULL, "missing X-Amz-SignedHeaders" },
        { "X-Amz-Algorithm", "AWS4-HMAC-SHA1",
          "algorithm is not AWS4-HMAC-SHA256" },
        { "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256",
          "algorithm is not AWS4-HMAC-SHA256" },
        { "X-Amz-Expires", "0", "X-Amz-Expires is not 1..604800" },
        { "X-Amz-Expires", "604801", "X-Amz-Expires is not 1..604800" },
        { "X-Amz-Expires", "-1", "X-Amz-Expires is not 1..604800" },
        { "X-Amz-Expires", "", "X-Amz-Expires is not 1..604800" },
        { "X-Amz-Expires", "36e2", "X-Amz-Expires is not 1..604800" },
        { "X-Amz-SignedHeaders", "x-amz-date",
          "X-Amz-SignedHeaders does not include host" },
        { "X-Amz-SignedHeaders", "content-type%3Bx-amz-date",
          "X-Amz-SignedHeaders does not include host" },
        { "X-Amz-SignedHeaders", "x-amz-date%3Bhost",
          "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "host%3Bhost",
          "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "Host", "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "host%3B", "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "%3Bhost", "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "", "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "host%3Bx_y",
          "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "host%3Bx%20y",
          "malformed X-Amz-SignedHeaders" },
        { "X-Amz-SignedHeaders", "a%3Bb%3Bc%3Bd%3Be%3Bf%3Bg%3Bh%3Bhost%3Bi%3B"
          "j%3Bk%3Bl%3Bm%3Bn%3Bo%3Bp", "malformed X-Amz-SignedHeaders" },
        { "X-Amz-Date", "20251126T012345", "malformed X-Amz-Date" },
        { "X-Amz-Date", "20250230T012345Z", "malformed X-Amz-Date" },
        { "X-Amz-Date", "20251126T246060Z", "malformed X-Amz-Date" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLE%2F20251125%2Fus-east-1%2Fs3%2Faws4_request",
          "credential date is not the day of X-Amz-Date" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLE%2F20251126%2Fus-east-1%2Fs3%2Faws4_reques",
          "malformed X-Amz-Credential" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLE%2F20251126%2Fus-east-1%2Fs3",
          "malformed X-Amz-Credential" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLF%2F20251126%2Fus-east-1%2Fs3%2Faws4_request",
          "unknown access key" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLE%2F20251126%2Fus-west-2%2Fs3%2Faws4_request",
          "wrong region in credential scope" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLE%2F20251126%2Fus-east-1%2Fiam%2Faws4_request",
          "wrong service in credential scope" },
        { "X-Amz-Credential",
          "AKIAIOSFODNN7EXAMPLE%2F20251126%2Fus-east-1%2Fs3%2Faws4_request"
          "%00x", "malformed X-Amz-Credential" },
        { "X-Amz-Signature", "abc", "malformed X-Amz-Signature" },
        { "X-Amz-Signature", "%zz", "malformed percent-encoding in the query" }
    };

    /* "a b/c d.mp4" on 127.0.0.1:9000, signed 20251126T012345Z */
    v = &sigv4_presign_vectors[1];
    split_vector(v, &r);
    ck_assert_int_eq(verify(v, &r), VIDEO_SIGV4_OK);

    for (i = 0; i < NELTS(bad); i++) {
        t = r;
        set_param(&t, bad[i].name, bad[i].value);
        ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                         VIDEO_SIGV4_ACCESS_DENIED);
        ck_assert_msg(strcmp(err, bad[i].err) == 0, "%s=%s: \"%s\"",
                      bad[i].name, bad[i].value, err);
    }

    /* duplicates, even of equal values */

    t = r;
    strcat(t.query, "&X-Amz-Date=20251126T012345Z");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "duplicate X-Amz-Date");

    t = r;
    strcat(t.query, "&X-Amz-Signature=");
    strcat(t.query, strstr(r.query, "X-Amz-Signature=") + 16);
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "duplicate X-Amz-Signature");

    t = r;
    strcat(t.query, "&X-Amz-%53ignedHeaders=host");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "duplicate X-Amz-SignedHeaders");

    /* a well-formed list naming a header the request does not carry */

    t = r;
    set_param(&t, "X-Amz-SignedHeaders", "host%3Bx-amz-date");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);
    ck_assert_str_eq(err, "a signed header is missing");

    /* sixteen names are accepted: this is a mismatch, not a refusal */

    t = r;
    set_param(&t, "X-Amz-SignedHeaders", "a%3Bb%3Bc%3Bd%3Be%3Bf%3Bg%3Bh%3B"
              "host%3Bi%3Bj%3Bk%3Bl%3Bm%3Bn%3Bo");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* our credentials differ from the signer's */

    c = creds_us;
    c.access_key = "AKIAIOSFODNN7EXAMPLF";
    ck_assert_int_eq(verify_as(&c, &r, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "unknown access key");

    c = creds_us;
    c.region = "eu-west-1";
    ck_assert_int_eq(verify_as(&c, &r, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "wrong region in credential scope");

    c = creds_us;
    c.service = "execute-api";
    ck_assert_int_eq(verify_as(&c, &r, &err), VIDEO_SIGV4_ACCESS_DENIED);

    c = creds_us;
    c.secret_key = "";
    ck_assert_int_eq(verify_as(&c, &r, &err), VIDEO_SIGV4_ERROR);

    /* what the request line and the Host header may not be */

    t = r;
    strcpy(t.path, "/videos/a%2");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;
    strcpy(t.path, "videos/a%20b/c%20d.mp4");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;
    t.host[0] = '\0';
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;
    strcpy(t.host, "127.0.0.1:9000\r\nX: y");
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;
    t.method = "get";
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;
    t.query[0] = '\0';
    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "missing X-Amz-Algorithm");

    /* oversize input is refused, not truncated */

    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(video_sigv4_verify(&creds_us, "GET", big, strlen(big),
                                        r.query, strlen(r.query), r.host,
                                        strlen(r.host), r.now, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_int_eq(video_sigv4_verify(&creds_us, "GET", r.path,
                                        strlen(r.path), big, strlen(big),
                                        r.host, strlen(r.host), r.now, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;

    for (i = 0; i < VIDEO_SIGV4_MAX_PARAMS; i++) {
        strcat(t.query, "&a=b");
    }

    ck_assert_int_eq(verify_as(&creds_us, &t, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "too many query parameters");
}
END_TEST


int
header_of(void *data, const char *name, size_t name_len, const char **value,
    size_t *value_len)
{
    int         i, found;
    headers_t  *hs;

    hs = data;
    found = 0;

    for (i = 0; i < hs->n; i++) {
        if (strlen(hs->name[i]) == name_len
            && strncasecmp(hs->name[i], name, name_len) == 0)
        {
            *value = hs->value[i];
            *value_len = strlen(hs->value[i]);
            found++;
        }
    }

    return (found > 1) ? -1 : found;
}


void
add_header(headers_t *hs, const char *name, const char *value)
{
    ck_assert_int_lt(hs->n, SIGV4_T_MAX_HEADERS);
    hs->name[hs->n] = name;
    hs->value[hs->n] = value;
    hs->n++;
}


/* what a client following vector v sends, as headers */
static void
bound_headers(const sigv4_bound_vector_t *v, headers_t *hs, char *length)
{
    hs->n = 0;

    if (v->content_length >= 0) {
        sprintf(length, "%lld", (long long) v->content_length);
        add_header(hs, "Content-Length", length);
    }

    if (v->content_type != NULL) {
        add_header(hs, "Content-Type", v->content_type);
    }

    if (v->if_none_match != NULL) {
        add_header(hs, "If-None-Match", v->if_none_match);
    }

    /* headers nobody signed do not matter */
    add_header(hs, "User-Agent", "test");
}


static int
verify_bound(const sigv4_bound_vector_t *v, headers_t *hs,
    const char **err)
{
    req_t                r;
    video_sigv4_creds_t  c;

    c = creds_us;
    c.region = v->region;
    split(v->url, "PUT", v->host, v->now, &r);
    *err = "unset";

    return video_sigv4_verify_headers(&c, r.method, r.path, strlen(r.path),
                                      r.query, strlen(r.query), r.host,
                                      strlen(r.host), header_of, hs, r.now,
                                      err);
}


START_TEST(bound_urls_equal_botocore)
{
    int                          n;
    char                         url[VIDEO_SIGV4_URL_MAX];
    const char                  *err;
    video_sigv4_creds_t          c;
    video_sigv4_bind_t           b;
    video_sigv4_presign_t        p;
    const sigv4_bound_vector_t  *v;

    ck_assert_uint_ge(NELTS(sigv4_bound_vectors), 8);

    v = &sigv4_bound_vectors[_i];

    c = creds_us;
    c.region = v->region;

    p.method = "PUT";
    p.endpoint = v->endpoint;
    p.bucket = v->bucket;
    p.key = v->key;
    p.path_style = v->path_style;
    p.now = v->now;
    p.expires = v->expires;

    b.content_length = v->content_length;
    b.content_type = v->content_type;
    b.if_none_match = v->if_none_match;

    err = NULL;
    n = video_sigv4_presign_bound(&c, &p, &b, url, sizeof(url), &err);

    ck_assert_msg(n > 0, "%s: %s", v->key, err);
    ck_assert_str_eq(url, v->url);
    ck_assert_int_eq(n, (int) strlen(v->url));

    ck_assert_int_eq(video_sigv4_presign_bound(&c, &p, &b, url,
                                               (size_t) n + 1, &err), n);
    ck_assert_int_eq(video_sigv4_presign_bound(&c, &p, &b, url, (size_t) n,
                                               &err), -1);
    ck_assert_str_eq(err, "buffer too small");
}
END_TEST


START_TEST(bound_urls_verify_only_with_their_headers)
{
    int                          i, bound;
    char                         length[24], other[32];
    headers_t                    hs, t;
    const char                  *err;
    const sigv4_bound_vector_t  *v;

    v = &sigv4_bound_vectors[_i];
    bound_headers(v, &hs, length);
    bound = hs.n - 1;

    ck_assert_int_eq(verify_bound(v, &hs, &err), VIDEO_SIGV4_OK);
    ck_assert_ptr_null(err);

    /* without any one of them, with any one changed or sent twice */

    for (i = 0; i < bound; i++) {
        t = hs;
        t.name[i] = "X-Not-Signed";
        ck_assert_int_eq(verify_bound(v, &t, &err),
                         VIDEO_SIGV4_SIGNATURE_MISMATCH);
        ck_assert_str_eq(err, "a signed header is missing");

        t = hs;
        snprintf(other, sizeof(other), "%s0", hs.value[i]);
        t.value[i] = other;
        ck_assert_int_eq(verify_bound(v, &t, &err),
                         VIDEO_SIGV4_SIGNATURE_MISMATCH);
        ck_assert_str_eq(err, "signature does not match");

        t = hs;
        add_header(&t, hs.name[i], hs.value[i]);
        ck_assert_int_eq(verify_bound(v, &t, &err),
                         VIDEO_SIGV4_SIGNATURE_MISMATCH);
        ck_assert_str_eq(err, "a signed header is sent more than once");
    }

    /* a verifier that sees no headers */

    if (bound > 0) {
        t = hs;
        t.n = 0;
        ck_assert_int_eq(verify_bound(v, &t, &err),
                         VIDEO_SIGV4_SIGNATURE_MISMATCH);
    }

    /* expiry still comes first */

    {
        req_t                r;
        video_sigv4_creds_t  c;

        c = creds_us;
        c.region = v->region;
        split(v->url, "PUT", v->host, v->now + v->expires + 1, &r);
        t = hs;
        t.n = 0;
        ck_assert_int_eq(video_sigv4_verify_headers(&c, r.method, r.path,
                             strlen(r.path), r.query, strlen(r.query),
                             r.host, strlen(r.host), header_of, &t, r.now,
                             &err),
                         VIDEO_SIGV4_EXPIRED);
    }
}
END_TEST


START_TEST(bound_header_values_as_sent)
{
    req_t                        r;
    headers_t                    hs, t;
    char                         length[24];
    const char                  *err;
    const sigv4_bound_vector_t  *v;

    /* 1048576 bytes of video/mp4, If-None-Match: * */
    v = &sigv4_bound_vectors[0];
    bound_headers(v, &hs, length);
    ck_assert_int_eq(verify_bound(v, &hs, &err), VIDEO_SIGV4_OK);

    /* blanks around a value are not part of it */
    t = hs;
    t.value[1] = " \tvideo/mp4 ";
    ck_assert_int_eq(verify_bound(v, &t, &err), VIDEO_SIGV4_OK);

    /* the same number written otherwise is another value */
    t = hs;
    t.value[0] = "01048576";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = hs;
    t.value[0] = "10";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* values are compared as they are: case, parameters */
    t = hs;
    t.value[1] = "Video/MP4";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = hs;
    t.value[1] = "video/mp4; charset=utf-8";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = hs;
    t.value[1] = "text/html";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = hs;
    t.value[2] = "\"etag\"";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* a value with blanks inside: runs of blanks count as one */
    v = &sigv4_bound_vectors[4];
    ck_assert_str_eq(v->content_type,
                     "video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"");
    bound_headers(v, &hs, length);
    ck_assert_int_eq(verify_bound(v, &hs, &err), VIDEO_SIGV4_OK);
    t = hs;
    t.value[0] = "video/mp4;   codecs=\"avc1.42E01E,\t mp4a.40.2\"";
    ck_assert_int_eq(verify_bound(v, &t, &err), VIDEO_SIGV4_OK);
    t.value[0] = "video/mp4;codecs=\"avc1.42E01E, mp4a.40.2\"";
    ck_assert_int_eq(verify_bound(v, &t, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* a URL binding headers, checked by a verifier that sees none */
    v = &sigv4_bound_vectors[0];
    split(v->url, "PUT", v->host, v->now, &r);
    ck_assert_int_eq(verify_as(&creds_us, &r, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);
    ck_assert_str_eq(err, "a signed header is missing");

    /* or with the binding struck from the query: the signature covers it */
    set_param(&r, "X-Amz-SignedHeaders", "host");
    ck_assert_int_eq(verify_as(&creds_us, &r, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);
    ck_assert_str_eq(err, "signature does not match");
}
END_TEST


START_TEST(presign_bound_refuses_bad_values)
{
    size_t                 i;
    char                   url[VIDEO_SIGV4_URL_MAX];
    char                   long_type[VIDEO_SIGV4_MAX_HEADER_VALUE + 2];
    const char            *err;
    video_sigv4_bind_t     b, q;
    video_sigv4_presign_t  p;

    static const char  *bad[] = {
        "", " video/mp4", "video/mp4 ", "video/mp4;  codecs=a",
        "video/mp4\t", "video/\tmp4", "video/mp4\r\nX-Evil: 1",
        "vid\303\251o/mp4", "video/mp4\177"
    };

    p.method = "PUT";
    p.endpoint = "http://127.0.0.1:9000";
    p.bucket = "videos-raw";
    p.key = "a/original.mp4";
    p.path_style = 1;
    p.now = 1764120225;
    p.expires = 3600;

    b.content_length = 10;
    b.content_type = "video/mp4";
    b.if_none_match = "*";

    ck_assert_int_gt(video_sigv4_presign_bound(&creds_us, &p, &b, url,
                                               sizeof(url), &err), 0);
    ck_assert_ptr_nonnull(strstr(url, "&X-Amz-SignedHeaders=content-length"
                                 "%3Bcontent-type%3Bhost%3Bif-none-match&"));

    /* no binding is the plain presigned URL */
    ck_assert_int_gt(video_sigv4_presign_bound(&creds_us, &p, NULL, url,
                                               sizeof(url), &err), 0);
    ck_assert_ptr_nonnull(strstr(url, "&X-Amz-SignedHeaders=host&"));

    q = b;
    q.content_length = -2;
    ck_assert_int_eq(video_sigv4_presign_bound(&creds_us, &p, &q, url,
                                               sizeof(url), &err), -1);
    ck_assert_str_eq(err, "bad content length");

    for (i = 0; i < NELTS(bad); i++) {
        q = b;
        q.content_type = bad[i];
        err = NULL;
        ck_assert_msg(video_sigv4_presign_bound(&creds_us, &p, &q, url,
                                                sizeof(url), &err) == -1,
                      "content type \"%s\" accepted", bad[i]);
        ck_assert_str_eq(err, "bad content type");

        q = b;
        q.if_none_match = bad[i];
        ck_assert_int_eq(video_sigv4_presign_bound(&creds_us, &p, &q, url,
                                                   sizeof(url), &err), -1);
        ck_assert_str_eq(err, "bad if-none-match");
    }

    memset(long_type, 'a', sizeof(long_type) - 1);
    long_type[VIDEO_SIGV4_MAX_HEADER_VALUE] = '\0';
    q = b;
    q.content_type = long_type;
    ck_assert_int_gt(video_sigv4_presign_bound(&creds_us, &p, &q, url,
                                               sizeof(url), &err), 0);
    long_type[VIDEO_SIGV4_MAX_HEADER_VALUE] = 'a';
    long_type[VIDEO_SIGV4_MAX_HEADER_VALUE + 1] = '\0';
    ck_assert_int_eq(video_sigv4_presign_bound(&creds_us, &p, &q, url,
                                               sizeof(url), &err), -1);
}
END_TEST


START_TEST(header_signatures_equal_botocore)
{
    int                           n;
    char                          auth[VIDEO_SIGV4_AUTH_MAX];
    char                          url[VIDEO_SIGV4_URL_MAX];
    char                          date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    const char                   *err;
    video_sigv4_creds_t           c;
    video_sigv4_presign_t         p;
    const sigv4_header_vector_t  *v;

    v = &sigv4_header_vectors[_i];

    c = creds_us;
    c.region = v->region;

    p.method = v->method;
    p.endpoint = v->endpoint;
    p.bucket = v->bucket;
    p.key = v->key;
    p.path_style = v->path_style;
    p.now = v->now;
    p.expires = 0;

    err = NULL;
    n = video_sigv4_url(&p, url, sizeof(url), &err);
    ck_assert_int_eq(n, (int) strlen(v->url));
    ck_assert_str_eq(url, v->url);

    ck_assert_int_eq(video_sigv4_sign_headers(&c, &p, v->payload, auth,
                                              sizeof(auth), date, &err), 0);
    ck_assert_str_eq(auth, v->authorization);
    ck_assert_str_eq(date, v->amz_date);

    ck_assert_int_eq(video_sigv4_sign_headers(&c, &p, v->payload, auth,
                                              strlen(v->authorization),
                                              date, &err), -1);
    ck_assert_str_eq(err, "buffer too small");
}
END_TEST


START_TEST(header_signing_refuses_bad_payload_hashes)
{
    char                   auth[VIDEO_SIGV4_AUTH_MAX];
    char                   date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    const char            *err;
    video_sigv4_presign_t  p;

    p.method = "PUT";
    p.endpoint = "http://127.0.0.1:9000";
    p.bucket = "videos";
    p.key = "a.mp4";
    p.path_style = 1;
    p.now = 1764120225;
    p.expires = 0;

    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        auth, sizeof(auth), date, &err), 0);

    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p,
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        auth, sizeof(auth), date, &err), -1);
    ck_assert_str_eq(err, "bad payload hash");

    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        auth, sizeof(auth), date, &err), -1);

    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550",
        auth, sizeof(auth), date, &err), -1);

    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p, "unsigned",
        auth, sizeof(auth), date, &err), -1);

    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p, NULL,
        auth, sizeof(auth), date, &err), -1);

    p.now = -1;
    ck_assert_int_eq(video_sigv4_sign_headers(&creds_us, &p,
        VIDEO_SIGV4_UNSIGNED_PAYLOAD, auth, sizeof(auth), date, &err), -1);
    ck_assert_str_eq(err, "time out of range");
}
END_TEST

/*
 * Subresource parameters: botocore's generate_presigned_url() for
 * abort_multipart_upload and upload_part (t/unit/sigv4_vectors.py's
 * client, clock T2025) gives these signatures; its URLs put the
 * parameters first, ours after X-Amz-*, the canonical order either way
 */
#define QUERY_KEY   "V1StGXR8_Z5jdHi6B-myT/original.mp4"
#define QUERY_CRED  "?X-Amz-Algorithm=AWS4-HMAC-SHA256"                      \
    "&X-Amz-Credential=" SIGV4_T_ACCESS "%2F20251126%2Fus-east-1%2Fs3"       \
    "%2Faws4_request&X-Amz-Date=20251126T012345Z"

START_TEST(query_parameters_equal_botocore)
{
    int                     n;
    req_t                   r;
    char                    url[VIDEO_SIGV4_URL_MAX];
    const char             *err;
    video_sigv4_presign_t   p;
    video_sigv4_param_t     abort[1], part[2];

    p.method = "DELETE";
    p.endpoint = "http://127.0.0.1:9000";
    p.bucket = "videos-raw";
    p.key = QUERY_KEY;
    p.path_style = 1;
    p.now = 1764120225;
    p.expires = 900;

    abort[0].name = "uploadId";
    abort[0].value = "2~a.b_c-d/e+f==";

    err = NULL;
    n = video_sigv4_presign_query(&creds_us, &p, NULL, abort, 1, url,
                                  sizeof(url), &err);
    ck_assert_msg(n > 0, "presign_query: %s", err ? err : "?");
    ck_assert_str_eq(url,
        "http://127.0.0.1:9000/videos-raw/" QUERY_KEY QUERY_CRED
        "&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
        "&uploadId=2~a.b_c-d%2Fe%2Bf%3D%3D&X-Amz-Signature="
        "7acdc3236ff0acedf02c2e1907fd6afcf24d9b1dbf1475176c21b484c2570f1f");

    split(url, "DELETE", "127.0.0.1:9000", p.now, &r);
    ck_assert_int_eq(verify_as(&creds_us, &r, &err), VIDEO_SIGV4_OK);

    /* the parameter is signed: another upload id, or none, is refused */

    set_param(&r, "uploadId", "0123");
    ck_assert_int_eq(verify_as(&creds_us, &r, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);
    set_param(&r, "uploadId", NULL);
    ck_assert_int_eq(verify_as(&creds_us, &r, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    p.method = "PUT";
    p.expires = 3600;
    part[0].name = "partNumber";
    part[0].value = "7";
    part[1].name = "uploadId";
    part[1].value = "0123abcd";

    n = video_sigv4_presign_query(&creds_us, &p, NULL, part, 2, url,
                                  sizeof(url), &err);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(url,
        "http://127.0.0.1:9000/videos-raw/" QUERY_KEY QUERY_CRED
        "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&partNumber=7&uploadId=0123abcd&X-Amz-Signature="
        "36428486a545231f4890aa990450cf810748075a5ab8d0b5f1335eb41083578a");

    split(url, "PUT", "127.0.0.1:9000", p.now, &r);
    ck_assert_int_eq(verify_as(&creds_us, &r, &err), VIDEO_SIGV4_OK);
    set_param(&r, "partNumber", "8");
    ck_assert_int_eq(verify_as(&creds_us, &r, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* none at all is presign_bound */

    n = video_sigv4_presign_query(&creds_us, &p, NULL, NULL, 0, url,
                                  sizeof(url), &err);
    ck_assert_int_gt(n, 0);
    ck_assert_ptr_null(strstr(url, "uploadId"));
}
END_TEST


START_TEST(query_parameters_refused)
{
    size_t                  i;
    char                    url[VIDEO_SIGV4_URL_MAX], big[2048];
    const char             *err;
    video_sigv4_presign_t   p;
    video_sigv4_param_t     two[2];

    static const video_sigv4_param_t  bad[][2] = {
        { { "UploadId", "1" }, { "zz", "1" } },        /* upper case first */
        { { "", "1" }, { "zz", "1" } },
        { { "upload_id", "1" }, { "zz", "1" } },       /* not a name char */
        { { "upload id", "1" }, { "zz", "1" } },
        { { "x-amz-signature", "1" }, { "zz", "1" } },
        { { "X-Amz-Date", "1" }, { "zz", "1" } },
        { { "x-AMZ-expires", "1" }, { "zz", "1" } },
        { { "uploadId", "1" }, { "partNumber", "1" } }, /* out of order */
        { { "uploadId", "1" }, { "uploadId", "2" } },   /* twice */
        { { "uploadId", NULL }, { "zz", "1" } },
        { { NULL, "1" }, { "zz", "1" } },
        { { "uploadIdxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "1" },
          { "zz", "1" } },                               /* 33 > 32 */
    };

    p.method = "DELETE";
    p.endpoint = "http://127.0.0.1:9000";
    p.bucket = "videos-raw";
    p.key = QUERY_KEY;
    p.path_style = 1;
    p.now = 1764120225;
    p.expires = 900;

    for (i = 0; i < NELTS(bad); i++) {
        err = NULL;
        ck_assert_msg(video_sigv4_presign_query(&creds_us, &p, NULL, bad[i],
                                                2, url, sizeof(url), &err)
                      == -1, "case %zu accepted", i);
        ck_assert_str_eq(err, "bad query parameter");
    }

    /* a value longer than a key; a list that is not there */

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    two[0].name = "uploadId";
    two[0].value = big;
    ck_assert_int_eq(video_sigv4_presign_query(&creds_us, &p, NULL, two, 1,
                                               url, sizeof(url), &err), -1);
    ck_assert_int_eq(video_sigv4_presign_query(&creds_us, &p, NULL, NULL, 1,
                                               url, sizeof(url), &err), -1);

    /* what does not fit the buffer is refused, never cut */

    two[0].value = "0123456789abcdef";
    ck_assert_int_eq(video_sigv4_presign_query(&creds_us, &p, NULL, two, 1,
                                               url, 300, &err), -1);
    ck_assert_str_eq(err, "buffer too small");
}
END_TEST


/*
 * The bucket itself (key NULL), as ListObjectsV2 is presigned: botocore
 * (its list_objects_v2, which adds encoding-type=url; clock T2025)
 * signs "/videos-raw" path-style and "/" virtual-hosted
 */
#define LIST_TOKEN  "S1YxU3RHWFI4X1o1amRIaTZCLW15VC9hL2IgYw"

START_TEST(bucket_urls_equal_botocore)
{
    int                     n;
    req_t                   r;
    char                    url[VIDEO_SIGV4_URL_MAX];
    const char             *err;
    video_sigv4_creds_t     eu;
    video_sigv4_presign_t   p;
    video_sigv4_param_t     list[5];

    p.method = "GET";
    p.endpoint = "http://127.0.0.1:9000";
    p.bucket = "videos-raw";
    p.key = NULL;
    p.path_style = 1;
    p.now = 1764120225;
    p.expires = 900;

    list[0].name = "continuation-token";
    list[0].value = LIST_TOKEN;
    list[1].name = "encoding-type";
    list[1].value = "url";
    list[2].name = "list-type";
    list[2].value = "2";
    list[3].name = "max-keys";
    list[3].value = "1000";
    list[4].name = "prefix";
    list[4].value = "V1StGXR8_Z5jdHi6B-myT/";

    err = NULL;
    n = video_sigv4_presign_query(&creds_us, &p, NULL, list, 5, url,
                                  sizeof(url), &err);
    ck_assert_msg(n > 0, "presign_query: %s", err ? err : "?");
    ck_assert_str_eq(url,
        "http://127.0.0.1:9000/videos-raw" QUERY_CRED
        "&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
        "&continuation-token=" LIST_TOKEN "&encoding-type=url&list-type=2"
        "&max-keys=1000&prefix=V1StGXR8_Z5jdHi6B-myT%2F&X-Amz-Signature="
        "b3e3fead146d05ccb84de4df7ca6d78bf6e260168666618ff914ea1d3eb1e0b2");

    split(url, "GET", "127.0.0.1:9000", p.now, &r);
    ck_assert_int_eq(verify_as(&creds_us, &r, &err), VIDEO_SIGV4_OK);

    /* the prefix is signed: another one lists nothing it was not for */

    set_param(&r, "prefix", "V1StGXR8_Z5jdHi6B-myU%2F");
    ck_assert_int_eq(verify_as(&creds_us, &r, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    eu = creds_us;
    eu.region = "eu-west-1";
    p.endpoint = "https://s3.eu-west-1.amazonaws.com";
    p.path_style = 0;

    n = video_sigv4_presign_query(&eu, &p, NULL, list, 5, url, sizeof(url),
                                  &err);
    ck_assert_int_gt(n, 0);
    ck_assert(strncmp(url, "https://videos-raw.s3.eu-west-1.amazonaws.com/?",
                      47) == 0);
    ck_assert_ptr_nonnull(strstr(url, "&X-Amz-Signature="
        "6c10973221ea4efdf6b2cf048c8a42fd1892f9a55b5c7fa75f265592d05f6037"));

    /* an empty key is still no key at all */

    p.key = "";
    ck_assert_int_eq(video_sigv4_presign_query(&eu, &p, NULL, list, 5, url,
                                               sizeof(url), &err), -1);
    ck_assert_str_eq(err, "bad key");
}
END_TEST


Suite *
unit_sigv4_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("sigv4");
    tc = tcase_create("sigv4");

    tcase_add_test(tc, aws_documentation_example);
    tcase_add_loop_test(tc, presigned_urls_equal_botocore, 0,
                        NELTS(sigv4_presign_vectors));
    tcase_add_test(tc, kept_signing_keys_follow_day_scope_and_secret);
    tcase_add_test(tc, presign_refuses_bad_input);
    tcase_add_loop_test(tc, table_urls_verify_inside_their_window, 0,
                        NELTS(sigv4_presign_vectors));
    tcase_add_loop_test(tc, extra_parameters_are_sorted_into_the_signature,
                        0, NELTS(sigv4_extra_vectors));
    tcase_add_loop_test(tc, tampering_is_a_signature_mismatch, 0,
                        NELTS(sigv4_presign_vectors));
    tcase_add_loop_test(tc, another_secret_is_a_signature_mismatch, 0,
                        NELTS(sigv4_presign_vectors));
    tcase_add_test(tc, equivalent_encodings_verify);
    tcase_add_test(tc, bad_parameters_are_access_denied);
    tcase_add_loop_test(tc, bound_urls_equal_botocore, 0,
                        NELTS(sigv4_bound_vectors));
    tcase_add_loop_test(tc, bound_urls_verify_only_with_their_headers, 0,
                        NELTS(sigv4_bound_vectors));
    tcase_add_test(tc, bound_header_values_as_sent);
    tcase_add_test(tc, presign_bound_refuses_bad_values);
    tcase_add_loop_test(tc, header_signatures_equal_botocore, 0,
                        NELTS(sigv4_header_vectors));
    tcase_add_test(tc, header_signing_refuses_bad_payload_hashes);
    tcase_add_test(tc, query_parameters_equal_botocore);
    tcase_add_test(tc, query_parameters_refused);
    tcase_add_test(tc, bucket_urls_equal_botocore);
    suite_add_tcase(s, tc);

    return s;
}
