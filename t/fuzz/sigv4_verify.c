/*
 * The object store's gate: a request as the access handler hands it to
 * video_sigv4_verify() (method, raw path, raw query, Host header, one per
 * line), under the credentials and at the time of the AWS documentation's
 * presigned URL example, so seeds made by the signer verify.  Every
 * answer is one of the four codes, with a reason unless it is OK; a
 * request that verifies no longer does once it has expired, a moment
 * before it was signed, or under another secret.
 */

#include "fuzz.h"
#include "video_sigv4.h"


/* 2013-05-24T00:00:00Z plus a minute */
#define SIGV4_NOW  (1369353600 + 60)


static const video_sigv4_creds_t  sigv4_creds = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "us-east-1", "s3"
};

static const video_sigv4_creds_t  sigv4_other = {
    "AKIAIOSFODNN7EXAMPLE", "another secret", "us-east-1", "s3"
};


static int
sigv4_verify_at(const video_sigv4_creds_t *c, const char *method,
    const fuzz_part_t *parts, int64_t now, const char **err)
{
    *err = NULL;

    return video_sigv4_verify(c, method, parts[1].data, parts[1].len,
                              parts[2].data, parts[2].len, parts[3].data,
                              parts[3].len, now, err);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc;
    char         *method;
    const char   *err;
    fuzz_part_t   parts[4];

    fuzz_split(data, size, '\n', parts, 4);

    /* the gate copies the method name, NUL-terminated, from the line */

    method = fuzz_strndup(parts[0].data, parts[0].len);
    if (method == NULL) {
        return 0;
    }

    rc = sigv4_verify_at(&sigv4_creds, method, parts, SIGV4_NOW, &err);

    fuzz_assert(rc == VIDEO_SIGV4_OK || rc == VIDEO_SIGV4_ACCESS_DENIED
                || rc == VIDEO_SIGV4_SIGNATURE_MISMATCH
                || rc == VIDEO_SIGV4_EXPIRED);
    fuzz_assert((rc == VIDEO_SIGV4_OK) == (err == NULL));

    if (rc == VIDEO_SIGV4_OK) {

        /* X-Amz-Expires is 604800 at most, X-Amz-Date was in the past */

        fuzz_assert(sigv4_verify_at(&sigv4_creds, method, parts,
                                    SIGV4_NOW + VIDEO_SIGV4_MAX_EXPIRES + 61,
                                    &err)
                    == VIDEO_SIGV4_EXPIRED);
        fuzz_assert(sigv4_verify_at(&sigv4_creds, method, parts,
                                    SIGV4_NOW - VIDEO_SIGV4_MAX_SKEW - 61,
                                    &err)
                    == VIDEO_SIGV4_EXPIRED);
        fuzz_assert(sigv4_verify_at(&sigv4_other, method, parts, SIGV4_NOW,
                                    &err)
                    == VIDEO_SIGV4_SIGNATURE_MISMATCH);
    }

    free(method);

    return 0;
}
