/*
 * The object store's gate for header-signed requests: a request as the
 * store hands it to video_sigv4_verify_auth() (lines: method, raw path,
 * raw query, Host, Authorization, then its other headers as "Name: value"
 * lines), under the credentials and a minute after the time of the
 * botocore vectors (t/unit/sigv4_vectors.py), so seeds captured from an
 * s3 client verify.  Every answer is one of its four codes, with a reason
 * unless it is OK, and a payload kind only when it is; a request that
 * verifies no longer does half an hour earlier or later, under another
 * secret, or as a presigned request.
 */

#include <strings.h>

#include "fuzz.h"
#include "video_sigv4.h"


/* 2025-11-26T01:23:45Z plus a minute */
#define AUTH_NOW  (1764120225 + 60)


static const video_sigv4_creds_t  auth_creds = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "us-east-1", "s3"
};

static const video_sigv4_creds_t  auth_other = {
    "AKIAIOSFODNN7EXAMPLE", "another secret", "us-east-1", "s3"
};


/*
 * A header from the "Name: value" lines: the value after the colon as it
 * is (the verifier trims it), -1 when the name comes twice
 */
static int
auth_header(void *data, const char *name, size_t name_len,
    const char **value, size_t *value_len)
{
    int                 found;
    const char         *p, *end, *nl, *colon;
    const fuzz_part_t  *headers;

    headers = data;
    p = headers->data;
    end = p + headers->len;
    found = 0;

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        nl = (nl != NULL) ? nl : end;
        colon = memchr(p, ':', nl - p);

        if (colon != NULL && (size_t) (colon - p) == name_len
            && strncasecmp(p, name, name_len) == 0)
        {
            *value = colon + 1;
            *value_len = nl - (colon + 1);
            found++;
        }

        p = nl + 1;
    }

    return (found > 1) ? -1 : found;
}


static int
auth_verify_at(const video_sigv4_creds_t *c, const char *method,
    fuzz_part_t *parts, int64_t now, video_sigv4_payload_t *pl,
    const char **err)
{
    *err = NULL;

    return video_sigv4_verify_auth(c, method, parts[1].data, parts[1].len,
                                   parts[2].data, parts[2].len,
                                   parts[3].data, parts[3].len,
                                   parts[4].data, parts[4].len, auth_header,
                                   &parts[5], now, pl, err);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    rc, i, hi, lo;
    char                  *method;
    const char            *err;
    fuzz_part_t            parts[6];
    video_sigv4_payload_t  pl;

    fuzz_split(data, size, '\n', parts, 6);

    method = fuzz_strndup(parts[0].data, parts[0].len);
    if (method == NULL) {
        return 0;
    }

    rc = auth_verify_at(&auth_creds, method, parts, AUTH_NOW, &pl, &err);

    fuzz_assert(rc == VIDEO_SIGV4_OK || rc == VIDEO_SIGV4_ACCESS_DENIED
                || rc == VIDEO_SIGV4_SIGNATURE_MISMATCH
                || rc == VIDEO_SIGV4_TIME_SKEWED);
    fuzz_assert((rc == VIDEO_SIGV4_OK) == (err == NULL));
    fuzz_assert((rc == VIDEO_SIGV4_OK)
                == (pl.kind != VIDEO_SIGV4_PAYLOAD_NONE));

    if (rc == VIDEO_SIGV4_OK) {
        fuzz_assert(pl.kind == VIDEO_SIGV4_PAYLOAD_UNSIGNED
                    || pl.kind == VIDEO_SIGV4_PAYLOAD_SHA256
                    || pl.kind == VIDEO_SIGV4_PAYLOAD_STREAMING);

        if (pl.kind == VIDEO_SIGV4_PAYLOAD_SHA256) {
            fuzz_assert(strlen(pl.sha256_hex) == 64);

            for (i = 0; i < 32; i++) {
                hi = pl.sha256_hex[2 * i];
                lo = pl.sha256_hex[2 * i + 1];
                hi = (hi <= '9') ? hi - '0' : hi - 'a' + 10;
                lo = (lo <= '9') ? lo - '0' : lo - 'a' + 10;
                fuzz_assert(pl.sha256[i] == (hi << 4 | lo));
            }
        }

        /* X-Amz-Date was within 15 minutes of now, either way */

        fuzz_assert(auth_verify_at(&auth_creds, method, parts,
                                   AUTH_NOW + 2 * VIDEO_SIGV4_MAX_SKEW + 1,
                                   &pl, &err)
                    == VIDEO_SIGV4_TIME_SKEWED);
        fuzz_assert(auth_verify_at(&auth_creds, method, parts,
                                   AUTH_NOW - 2 * VIDEO_SIGV4_MAX_SKEW - 1,
                                   &pl, &err)
                    == VIDEO_SIGV4_TIME_SKEWED);
        fuzz_assert(auth_verify_at(&auth_other, method, parts, AUTH_NOW,
                                   &pl, &err)
                    == VIDEO_SIGV4_SIGNATURE_MISMATCH);

        /* what verifies as header-signed is no presigned request */

        fuzz_assert(video_sigv4_verify_headers(&auth_creds, method,
                        parts[1].data, parts[1].len, parts[2].data,
                        parts[2].len, parts[3].data, parts[3].len,
                        auth_header, &parts[5], AUTH_NOW, &err)
                    != VIDEO_SIGV4_OK);
    }

    free(method);

    return 0;
}
