/*
 * SigV4 in the Authorization header: the requests an s3 client sends
 * (sigv4_auth_vectors, captured from botocore by sigv4_vectors.py) verify,
 * with what their X-Amz-Content-SHA256 says of the body, and nothing else
 * does: another signature, header, time, scope, key or a malformed
 * Authorization.
 */

#define _GNU_SOURCE             /* strptime, timegm */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "unit.h"
#include "unit_sigv4.h"
#include "video_sigv4.h"
#include "sigv4_vectors.h"


#define NELTS(a)  (sizeof(a) / sizeof((a)[0]))


/* a header-signed request as the server sees it, editable */
typedef struct {
    const char           *method;
    char                  path[VIDEO_SIGV4_URL_MAX];
    char                  query[VIDEO_SIGV4_URL_MAX];
    char                  host[256];
    char                  auth[VIDEO_SIGV4_MAX_AUTHORIZATION + 64];
    int64_t               now;
    headers_t             hs;
    video_sigv4_creds_t   creds;
} auth_req_t;


static void
auth_request(const sigv4_auth_vector_t *v, auth_req_t *r)
{
    int  i;

    r->method = v->method;
    snprintf(r->path, sizeof(r->path), "%s", v->path);
    snprintf(r->query, sizeof(r->query), "%s", v->query);
    snprintf(r->host, sizeof(r->host), "%s", v->host);
    snprintf(r->auth, sizeof(r->auth), "%s", v->authorization);
    r->now = v->now;

    r->hs.n = 0;

    for (i = 0; i < v->nheaders; i++) {
        add_header(&r->hs, v->headers[i][0], v->headers[i][1]);
    }

    /* headers nobody signed do not matter */
    add_header(&r->hs, "User-Agent", "aws-cli/2.15.0 md/arch#x86_64");
    add_header(&r->hs, "amz-sdk-invocation-id", "a8f1c2e0");

    r->creds.access_key = SIGV4_T_ACCESS;
    r->creds.secret_key = SIGV4_T_SECRET;
    r->creds.region = v->region;
    r->creds.service = "s3";
}


static int
verify_auth_as(const auth_req_t *r, size_t auth_len,
    video_sigv4_payload_t *pl, const char **err)
{
    int  rc;

    *err = "unset";
    pl->kind = -1;

    rc = video_sigv4_verify_auth(&r->creds, r->method, r->path,
                                 strlen(r->path), r->query, strlen(r->query),
                                 r->host, strlen(r->host), r->auth, auth_len,
                                 header_of, (void *) &r->hs, r->now, pl,
                                 err);

    /* every refusal says why, and reports no payload */
    ck_assert_msg(rc == VIDEO_SIGV4_OK ? *err == NULL : *err != NULL,
                  "verify_auth %d without a matching message", rc);
    ck_assert_msg(rc == VIDEO_SIGV4_OK || pl->kind == VIDEO_SIGV4_PAYLOAD_NONE,
                  "verify_auth %d with a payload kind %d", rc, pl->kind);

    return rc;
}


static int
verify_auth(const auth_req_t *r, const char **err)
{
    video_sigv4_payload_t  pl;

    return verify_auth_as(r, strlen(r->auth), &pl, err);
}


/* the index of a header in r, or -1 */
static int
find_header(const auth_req_t *r, const char *name)
{
    int  i;

    for (i = 0; i < r->hs.n; i++) {
        if (strcasecmp(r->hs.name[i], name) == 0) {
            return i;
        }
    }

    return -1;
}


/* the three fields of r's Authorization, copied out */
typedef struct {
    char  cred[256];
    char  signed_headers[256];
    char  sig[80];
} auth_fields_t;


static void
auth_fields(const char *auth, auth_fields_t *f)
{
    ck_assert_int_eq(sscanf(auth, "AWS4-HMAC-SHA256 Credential=%255[^,], "
                            "SignedHeaders=%255[^,], Signature=%79s",
                            f->cred, f->signed_headers, f->sig), 3);
}


START_TEST(client_requests_verify)
{
    int                           i;
    unsigned int                  hi, lo;
    auth_req_t                    r;
    const char                   *err;
    video_sigv4_payload_t         pl;
    const sigv4_auth_vector_t    *v;

    v = &sigv4_auth_vectors[_i];
    auth_request(v, &r);

    ck_assert_msg(verify_auth_as(&r, strlen(r.auth), &pl, &err)
                  == VIDEO_SIGV4_OK, "%s: %s", v->name, err);
    ck_assert_int_eq(pl.kind, v->payload);

    if (v->payload == VIDEO_SIGV4_PAYLOAD_SHA256) {

        /* the body's own digest, as hashlib computed it */

        ck_assert_str_eq(pl.sha256_hex, v->body_sha256);

        for (i = 0; i < 32; i++) {
            sscanf(&v->body_sha256[2 * i], "%1x%1x", &hi, &lo);
            ck_assert_uint_eq(pl.sha256[i], hi << 4 | lo);
        }
    }

    /* 15 minutes either way, not a second more */

    r.now = v->now + VIDEO_SIGV4_MAX_SKEW;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_OK);
    r.now = v->now - VIDEO_SIGV4_MAX_SKEW;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_OK);

    r.now = v->now + VIDEO_SIGV4_MAX_SKEW + 1;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_TIME_SKEWED);
    ck_assert_str_eq(err, "X-Amz-Date is too far from the server's time");
    r.now = v->now - VIDEO_SIGV4_MAX_SKEW - 1;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_TIME_SKEWED);
    r.now = v->now + 16 * 60;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_TIME_SKEWED);
    r.now = v->now - 16 * 60;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_TIME_SKEWED);
    r.now = -1;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_TIME_SKEWED);
    r.now = INT64_MAX;
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_TIME_SKEWED);

    /* no presigned query beside the header */

    auth_request(v, &r);
    snprintf(r.query, sizeof(r.query), "%s%sX-Amz-Signature=%064d",
             v->query, v->query[0] != '\0' ? "&" : "", 0);
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "an Authorization header and a presigned query");
}
END_TEST


START_TEST(tampered_requests_are_a_mismatch)
{
    int                         i, j, k;
    char                        other[128];
    auth_req_t                  r, t;
    const char                 *err, *sig, *name;
    const sigv4_auth_vector_t  *v;

    v = &sigv4_auth_vectors[_i];
    auth_request(v, &r);

    /* every character of the signature */

    sig = strstr(r.auth, "Signature=") + 10;

    for (i = 0; i < 64; i++) {
        t = r;
        t.auth[sig - r.auth + i] = (sig[i] == '0') ? '1' : '0';
        ck_assert_int_eq(verify_auth(&t, &err),
                         VIDEO_SIGV4_SIGNATURE_MISMATCH);
        ck_assert_str_eq(err, "signature does not match");
    }

    /* another secret, method, path, query, Host */

    t = r;
    t.creds.secret_key = "another secret";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = r;
    t.method = (strcmp(r.method, "PUT") == 0) ? "POST" : "PUT";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = r;
    strcat(t.path, "x");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = r;
    strcat(t.query, t.query[0] != '\0' ? "&x-id=1" : "x-id=1");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = r;
    strcat(t.host, "0");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* every signed header changed after signing, missing, sent twice */

    for (i = 0; i < v->nheaders; i++) {
        name = r.hs.name[i];
        k = strcasecmp(name, "X-Amz-Date") == 0
            || strcasecmp(name, "X-Amz-Content-SHA256") == 0;

        t = r;

        if (strcasecmp(name, "X-Amz-Content-SHA256") == 0) {
            snprintf(other, sizeof(other), "%s",
                     v->payload == VIDEO_SIGV4_PAYLOAD_SHA256
                     ? "UNSIGNED-PAYLOAD"
                     : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
                       "95991b7852b855");

        } else if (strcasecmp(name, "X-Amz-Date") == 0) {
            snprintf(other, sizeof(other), "%s", r.hs.value[i]);
            j = (other[14] == '0') ? '1' : '0';
            other[14] = (char) j;

        } else {
            snprintf(other, sizeof(other), "%s0", r.hs.value[i]);
        }

        t.hs.value[i] = other;
        ck_assert_msg(verify_auth(&t, &err) == VIDEO_SIGV4_SIGNATURE_MISMATCH,
                      "%s: %s changed: %s", v->name, name, err);

        t = r;
        t.hs.name[i] = "X-Not-Signed";
        ck_assert_int_eq(verify_auth(&t, &err),
                         k ? VIDEO_SIGV4_ACCESS_DENIED
                           : VIDEO_SIGV4_SIGNATURE_MISMATCH);

        t = r;
        add_header(&t.hs, name, r.hs.value[i]);
        ck_assert_int_eq(verify_auth(&t, &err),
                         k ? VIDEO_SIGV4_ACCESS_DENIED
                           : VIDEO_SIGV4_SIGNATURE_MISMATCH);
        ck_assert_str_eq(err, k ? (strcasecmp(name, "X-Amz-Date") == 0
                                   ? "X-Amz-Date is sent more than once"
                                   : "X-Amz-Content-SHA256 is sent more "
                                     "than once")
                                : "a signed header is sent more than once");
    }

    /* what was not signed may change */

    t = r;
    t.hs.value[find_header(&r, "User-Agent")] = "curl/8.0";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);
}
END_TEST


/*
 * An Authorization value from a template: {C}, {H} and {S} stand for the
 * Credential, SignedHeaders and Signature of a good one, {s} for all of
 * the signature but its last digit, {A} for 1200 letters
 */
static void
expand(const char *tpl, const auth_fields_t *f, char *out, size_t size)
{
    size_t       n, len;
    const char  *v;
    char         letters[1201];

    memset(letters, 'a', sizeof(letters) - 1);
    letters[sizeof(letters) - 1] = '\0';

    for (n = 0; *tpl != '\0'; tpl++) {
        v = NULL;
        len = 0;

        if (tpl[0] == '{' && tpl[1] != '\0' && tpl[2] == '}') {
            switch (tpl[1]) {
            case 'C': v = f->cred; break;
            case 'H': v = f->signed_headers; break;
            case 'S': v = f->sig; break;
            case 's': v = f->sig; len = strlen(f->sig) - 1; break;
            case 'A': v = letters; break;
            }
        }

        if (v != NULL) {
            len = (len > 0) ? len : strlen(v);
            tpl += 2;

        } else {
            v = tpl;
            len = 1;
        }

        ck_assert_uint_lt(n + len, size);
        memcpy(out + n, v, len);
        n += len;
    }

    out[n] = '\0';
}


/* X-Amz-Date moved by some seconds, as a client with a wrong clock signs */
static void
shift_date(const char *date, long seconds, char *out)
{
    time_t     t;
    struct tm  tm;

    memset(&tm, 0, sizeof(tm));
    ck_assert_ptr_nonnull(strptime(date, "%Y%m%dT%H%M%SZ", &tm));
    t = timegm(&tm) + seconds;
    gmtime_r(&t, &tm);
    strftime(out, VIDEO_SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}


START_TEST(dates_scopes_and_keys)
{
    int                         d;
    char                        date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    auth_req_t                  r, t;
    const char                 *err;
    auth_fields_t               f;
    const sigv4_auth_vector_t  *v;

    v = &sigv4_auth_vectors[0];
    auth_request(v, &r);
    auth_fields(r.auth, &f);
    d = find_header(&r, "X-Amz-Date");
    ck_assert_int_ge(d, 0);

    /* X-Amz-Date 16 minutes off either way, the credential's day kept */

    t = r;
    shift_date(r.hs.value[d], 16 * 60, date);
    ck_assert_int_eq(memcmp(date, r.hs.value[d], 8), 0);
    t.hs.value[d] = date;
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_TIME_SKEWED);

    t = r;
    shift_date(r.hs.value[d], -16 * 60, date);
    t.hs.value[d] = date;
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_TIME_SKEWED);

    /* a minute off is inside the window, but not what was signed */

    t = r;
    shift_date(r.hs.value[d], 60, date);
    t.hs.value[d] = date;
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* a day that is not the credential's */

    t = r;
    shift_date(r.hs.value[d], 86400, date);
    t.hs.value[d] = date;
    t.now = r.now + 86400;
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "credential date is not the day of X-Amz-Date");

    t = r;
    expand("AWS4-HMAC-SHA256 Credential=" SIGV4_T_ACCESS "/20251125/"
           "us-east-1/s3/aws4_request, SignedHeaders={H}, Signature={S}", &f,
           t.auth, sizeof(t.auth));
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "credential date is not the day of X-Amz-Date");

    /* malformed dates */

    t = r;
    t.hs.value[d] = "20251126T012345";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "malformed X-Amz-Date");

    t.hs.value[d] = "Wed, 26 Nov 2025 01:23:45 GMT";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "malformed X-Amz-Date");

    t.hs.value[d] = "20250230T012345Z";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);

    t.hs.value[d] = "";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);

    /* blanks around the value are not part of it */

    t.hs.value[d] = " \t20251126T012345Z ";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);

    /* another access key, region or service than the store's */

    t = r;
    t.creds.access_key = "AKIAOTHERKEY";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "unknown access key");

    t = r;
    t.creds.region = "eu-west-1";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "wrong region in credential scope");

    t = r;
    t.creds.service = "execute-api";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "wrong service in credential scope");

    t = r;
    expand("AWS4-HMAC-SHA256 Credential=" SIGV4_T_ACCESS "/20251126/"
           "us-east-1/s3, SignedHeaders={H}, Signature={S}", &f, t.auth,
           sizeof(t.auth));
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "malformed Credential in Authorization");

    /* bad credentials are the caller's error */

    t = r;
    t.creds.secret_key = "";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ERROR);
}
END_TEST


START_TEST(authorization_forms)
{
    size_t                 i, n;
    auth_req_t             r, t;
    const char            *err;
    auth_fields_t          f;
    video_sigv4_payload_t  pl;

    static char            huge[VIDEO_SIGV4_MAX_AUTHORIZATION + 2];

    static const struct {
        int          expect;
        const char  *err;      /* NULL: OK */
        const char  *tpl;
    } forms[] = {

        /* what SDKs send: with or without blanks, any order */

        { VIDEO_SIGV4_OK, NULL,
          "AWS4-HMAC-SHA256 Credential={C},SignedHeaders={H},Signature={S}" },
        { VIDEO_SIGV4_OK, NULL,
          "  AWS4-HMAC-SHA256  Credential={C} , SignedHeaders={H}\t,\t"
          "Signature={S} \t" },
        { VIDEO_SIGV4_OK, NULL,
          "AWS4-HMAC-SHA256 Signature={S}, Credential={C}, "
          "SignedHeaders={H}" },
        { VIDEO_SIGV4_OK, NULL,
          "AWS4-HMAC-SHA256\tSignedHeaders={H}, Signature={S}, "
          "Credential={C}" },

        /* another algorithm or scheme */

        { VIDEO_SIGV4_ACCESS_DENIED, "algorithm is not AWS4-HMAC-SHA256",
          "AWS4-HMAC-SHA512 Credential={C}, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "algorithm is not AWS4-HMAC-SHA256",
          "aws4-hmac-sha256 Credential={C}, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "algorithm is not AWS4-HMAC-SHA256",
          "AWS4-HMAC-SHA256,Credential={C}, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "algorithm is not AWS4-HMAC-SHA256",
          "AWS " SIGV4_T_ACCESS ":frJIUN8DYpKDtOLCwo//yllqDzg=" },
        { VIDEO_SIGV4_ACCESS_DENIED, "algorithm is not AWS4-HMAC-SHA256",
          "Bearer {S}" },

        /* fields missing, repeated, unknown, empty */

        { VIDEO_SIGV4_ACCESS_DENIED, "missing Credential in Authorization",
          "AWS4-HMAC-SHA256" },
        { VIDEO_SIGV4_ACCESS_DENIED, "missing Credential in Authorization",
          "AWS4-HMAC-SHA256 SignedHeaders={H}, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "missing SignedHeaders in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "missing Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "duplicate Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={S}, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "duplicate Credential in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, Credential={C}, "
          "SignedHeaders={H}, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={S}, Date=x" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 credential={C}, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature=" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 Credential {C}, SignedHeaders={H}, "
          "Signature={S}" },

        /* extra commas, blanks inside a value */

        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 Credential={C},, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 , Credential={C}, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={S}," },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={S} , " },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed Credential in Authorization",
          "AWS4-HMAC-SHA256 Credential={C} SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed SignedHeaders in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H};, "
          "Signature={S}" },

        /* the signature: 64 lower-case hex digits */

        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={s}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={S}0" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={s}g" },

        /* SignedHeaders without one that must be signed, or not sorted */

        { VIDEO_SIGV4_ACCESS_DENIED, "SignedHeaders does not include host",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders=content-md5;"
          "content-type;x-amz-content-sha256;x-amz-date, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "SignedHeaders does not include x-amz-content-sha256",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders=content-md5;"
          "content-type;host;x-amz-date, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "SignedHeaders does not include x-amz-date",
          "AWS4-HMAC-SHA256 Credential={C}, "
          "SignedHeaders=host;x-amz-content-sha256, Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed SignedHeaders in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, "
          "SignedHeaders=host;x-amz-date;x-amz-content-sha256, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed SignedHeaders in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, "
          "SignedHeaders=Host;x-amz-content-sha256;x-amz-date, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed SignedHeaders in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, "
          "SignedHeaders=host;host;x-amz-content-sha256;x-amz-date, "
          "Signature={S}" },

        /* values longer than any good one */

        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed Credential in Authorization",
          "AWS4-HMAC-SHA256 Credential={A}, SignedHeaders={H}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED,
          "malformed SignedHeaders in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={A}, "
          "Signature={S}" },
        { VIDEO_SIGV4_ACCESS_DENIED, "malformed Signature in Authorization",
          "AWS4-HMAC-SHA256 Credential={C}, SignedHeaders={H}, "
          "Signature={A}" },
    };

    auth_request(&sigv4_auth_vectors[0], &r);
    auth_fields(r.auth, &f);

    for (i = 0; i < NELTS(forms); i++) {
        t = r;
        expand(forms[i].tpl, &f, t.auth, sizeof(t.auth));
        ck_assert_msg(verify_auth(&t, &err) == forms[i].expect,
                      "\"%s\": %s", t.auth, err);

        if (forms[i].err != NULL) {
            ck_assert_str_eq(err, forms[i].err);
        }
    }

    /* an upper-case signature */

    t = r;
    for (i = strlen(t.auth) - 64; t.auth[i] != '\0'; i++) {
        if (t.auth[i] >= 'a' && t.auth[i] <= 'f') {
            t.auth[i] -= 'a' - 'A';
        }
    }
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "malformed Signature in Authorization");

    /* every truncation of a good value */

    n = strlen(r.auth);

    for (i = 0; i < n; i++) {
        ck_assert_msg(verify_auth_as(&r, i, &pl, &err)
                      == VIDEO_SIGV4_ACCESS_DENIED, "truncated at %zu: %s",
                      i, err);
    }

    /* a NUL inside, a huge value, none */

    t = r;
    t.auth[30] = '\0';
    ck_assert_int_eq(verify_auth_as(&t, n, &pl, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);

    t = r;
    memset(huge, ' ', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    memcpy(huge, r.auth, n);
    snprintf(t.auth, sizeof(t.auth), "%s", huge);
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "missing or oversize Authorization");

    /* up to the limit, it is the whole value that counts */
    t.auth[VIDEO_SIGV4_MAX_AUTHORIZATION] = '\0';
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);

    t = r;
    ck_assert_int_eq(video_sigv4_verify_auth(&t.creds, t.method, t.path,
                         strlen(t.path), t.query, strlen(t.query), t.host,
                         strlen(t.host), NULL, 0, header_of, &t.hs, t.now,
                         &pl, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "missing or oversize Authorization");
}
END_TEST


START_TEST(payload_hash_header)
{
    int                         p;
    size_t                      i;
    auth_req_t                  r, t;
    const char                 *err;
    video_sigv4_payload_t       pl;

    static const char  *bad[] = {
        "unsigned-payload",
        "UNSIGNED-PAYLOAD-TRAILER",
        "853FF93762A06DDBF722C4EBE9DDD66D8F63DDAEA97F521C3ECC20DA7C976020",
        "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c97602",
        "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c97602g",
        "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c9760200",
        "STREAMING-",
        "STREAMING-aws4-hmac-sha256-payload",
        "STREAMING-AWS4 HMAC",
        "",
    };

    /* the GET's UNSIGNED-PAYLOAD, then the others */

    auth_request(&sigv4_auth_vectors[1], &r);
    p = find_header(&r, "X-Amz-Content-SHA256");
    ck_assert_int_ge(p, 0);

    for (i = 0; i < NELTS(bad); i++) {
        t = r;
        t.hs.value[p] = bad[i];
        ck_assert_msg(verify_auth(&t, &err) == VIDEO_SIGV4_ACCESS_DENIED,
                      "%s: %s", bad[i], err);
        ck_assert_str_eq(err, "X-Amz-Content-SHA256 is not UNSIGNED-PAYLOAD,"
                         " a SHA-256 or STREAMING-*");
    }

    /* well-formed, but not what was signed */

    t = r;
    t.hs.value[p] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    ck_assert_int_eq(verify_auth_as(&t, strlen(t.auth), &pl, &err),
                     VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* blanks around it are not part of it */

    t = r;
    t.hs.value[p] = "\tUNSIGNED-PAYLOAD  ";
    ck_assert_int_eq(verify_auth_as(&t, strlen(t.auth), &pl, &err),
                     VIDEO_SIGV4_OK);
    ck_assert_int_eq(pl.kind, VIDEO_SIGV4_PAYLOAD_UNSIGNED);

    /* missing, sent twice, no header callback */

    t = r;
    t.hs.name[p] = "X-Amz-Content-SHA1";
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "missing X-Amz-Content-SHA256");

    t = r;
    add_header(&t.hs, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);

    ck_assert_int_eq(video_sigv4_verify_auth(&r.creds, r.method, r.path,
                         strlen(r.path), r.query, strlen(r.query), r.host,
                         strlen(r.host), r.auth, strlen(r.auth), NULL, NULL,
                         r.now, &pl, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "missing X-Amz-Date");

    ck_assert_int_eq(video_sigv4_verify_auth(&r.creds, r.method, r.path,
                         strlen(r.path), r.query, strlen(r.query), r.host,
                         strlen(r.host), r.auth, strlen(r.auth), header_of,
                         &r.hs, r.now, NULL, &err),
                     VIDEO_SIGV4_ERROR);
}
END_TEST


START_TEST(query_and_limits)
{
    int                         i;
    char                        big[VIDEO_SIGV4_MAX_PATH + 2];
    auth_req_t                  r, t;
    const char                 *err;

    static const char  *presigned[] = {
        "X-Amz-Signature=00",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=" SIGV4_T_ACCESS "%2F20251126%2Fus-east-1%2Fs3"
        "%2Faws4_request",
        "X-Amz-%53ignature=00",
    };

    /* ListObjectsV2: its parameters in another order, other escapes */

    auth_request(&sigv4_auth_vectors[3], &r);
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_OK);

    t = r;
    snprintf(t.query, sizeof(t.query), "%s",
             "encoding-type=url&continuation-token=1%2Fab%2Bc%3Dd%20e%7E%25"
             "%26x&max-keys=5&delimiter=%2f&prefix=a%2Fb%20c%2Bd%3D%c3%a9&"
             "list-type=2");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);

    /* every parameter is signed: none may be dropped or added */

    t = r;
    snprintf(t.query, sizeof(t.query), "%s",
             "list-type=2&prefix=a%2Fb%20c%2Bd%3D%C3%A9&delimiter=%2F&"
             "max-keys=5&continuation-token=1%2Fab%2Bc%3Dd%20e~%25%26x");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    t = r;
    strcat(t.query, "&X-Amz-Date=20251126T012345Z");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* "+" is a plus, not a blank */

    t = r;
    snprintf(t.query, sizeof(t.query), "%s",
             "list-type=2&prefix=a%2Fb+c%2Bd%3D%C3%A9&delimiter=%2F&"
             "max-keys=5&continuation-token=1%2Fab%2Bc%3Dd%20e~%25%26x&"
             "encoding-type=url");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* no presigned query beside the header, however it is spelled */

    for (i = 0; i < (int) NELTS(presigned); i++) {
        t = r;
        strcat(t.query, "&");
        strcat(t.query, presigned[i]);
        ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
        ck_assert_str_eq(err,
                         "an Authorization header and a presigned query");
    }

    /* the empty value of ?uploads and ?delete, spelt both ways */

    auth_request(&sigv4_auth_vectors[5], &r);
    ck_assert_int_eq(verify_auth(&r, &err), VIDEO_SIGV4_OK);
    t = r;
    strcpy(t.query, "uploads=");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);
    t = r;
    strcpy(t.query, "");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    auth_request(&sigv4_auth_vectors[6], &r);
    t = r;
    strcpy(t.query, "delete=");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);
    strcpy(t.query, "uploads");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* limits, malformed escapes */

    t = r;
    strcpy(t.query, "delete&a=%4");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "malformed percent-encoding in the query");

    t = r;
    strcpy(t.query, "delete");
    for (i = 0; i < VIDEO_SIGV4_MAX_PARAMS; i++) {
        strcat(t.query, "&a=b");
    }
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "too many query parameters");

    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';

    t = r;
    ck_assert_int_eq(video_sigv4_verify_auth(&t.creds, t.method, big,
                         strlen(big), t.query, strlen(t.query), t.host,
                         strlen(t.host), t.auth, strlen(t.auth), header_of,
                         &t.hs, t.now, &(video_sigv4_payload_t) { 0 },
                         &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "malformed or oversize path");

    ck_assert_int_eq(video_sigv4_verify_auth(&t.creds, t.method, t.path,
                         strlen(t.path), big, VIDEO_SIGV4_MAX_QUERY + 1,
                         t.host, strlen(t.host), t.auth, strlen(t.auth),
                         header_of, &t.hs, t.now,
                         &(video_sigv4_payload_t) { 0 }, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "oversize query");

    ck_assert_int_eq(video_sigv4_verify_auth(&t.creds, t.method, t.path,
                         strlen(t.path), t.query, strlen(t.query), big + 1,
                         VIDEO_SIGV4_MAX_HOST + 1, t.auth, strlen(t.auth),
                         header_of, &t.hs, t.now,
                         &(video_sigv4_payload_t) { 0 }, &err),
                     VIDEO_SIGV4_ACCESS_DENIED);
    ck_assert_str_eq(err, "missing or oversize host");

    /* Host: in any case, with blanks around it */

    auth_request(&sigv4_auth_vectors[7], &r);
    t = r;
    strcpy(t.host, " My-Videos.S3.EU-West-1.amazonaws.com\t");
    ck_assert_int_eq(verify_auth(&t, &err), VIDEO_SIGV4_OK);
}
END_TEST


/* what video_sigv4_sign_headers() signs, the verifier accepts */
START_TEST(own_header_signatures_verify)
{
    char                          url[VIDEO_SIGV4_URL_MAX];
    auth_req_t                    r;
    const char                   *err, *p, *h;
    video_sigv4_payload_t         pl;
    const sigv4_header_vector_t  *v;

    v = &sigv4_header_vectors[_i];

    snprintf(url, sizeof(url), "%s", v->url);
    h = strstr(url, "://") + 3;
    p = strchr(h, '/');
    ck_assert_ptr_nonnull(p);

    r.method = v->method;
    snprintf(r.path, sizeof(r.path), "%s", p);
    snprintf(r.host, sizeof(r.host), "%.*s", (int) (p - h), h);
    r.query[0] = '\0';
    snprintf(r.auth, sizeof(r.auth), "%s", v->authorization);
    r.now = v->now;
    r.hs.n = 0;
    add_header(&r.hs, "X-Amz-Date", v->amz_date);
    add_header(&r.hs, "X-Amz-Content-SHA256", v->payload);
    r.creds.access_key = SIGV4_T_ACCESS;
    r.creds.secret_key = SIGV4_T_SECRET;
    r.creds.region = v->region;
    r.creds.service = "s3";

    ck_assert_msg(verify_auth_as(&r, strlen(r.auth), &pl, &err)
                  == VIDEO_SIGV4_OK, "%s: %s", v->url, err);
    ck_assert_int_eq(pl.kind, strcmp(v->payload, "UNSIGNED-PAYLOAD") == 0
                              ? VIDEO_SIGV4_PAYLOAD_UNSIGNED
                              : VIDEO_SIGV4_PAYLOAD_SHA256);
}
END_TEST


Suite *
unit_sigv4_auth_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("sigv4_auth");
    tc = tcase_create("sigv4_auth");

    tcase_add_loop_test(tc, client_requests_verify, 0,
                        NELTS(sigv4_auth_vectors));
    tcase_add_loop_test(tc, tampered_requests_are_a_mismatch, 0,
                        NELTS(sigv4_auth_vectors));
    tcase_add_test(tc, dates_scopes_and_keys);
    tcase_add_test(tc, authorization_forms);
    tcase_add_test(tc, payload_hash_header);
    tcase_add_test(tc, query_and_limits);
    tcase_add_loop_test(tc, own_header_signatures_verify, 0,
                        NELTS(sigv4_header_vectors));
    suite_add_tcase(s, tc);

    return s;
}
