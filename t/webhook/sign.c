/*
 * webhook-sign: src/lib/video_webhook's signer and verifier on the
 * command line, for t/070-webhook-sign.t to hold against another
 * implementation of Standard Webhooks.  The body is read from stdin as
 * bytes.
 *
 *   webhook-sign <secret> <msg-id> <timestamp>
 *       prints the webhook-signature value ("v1,<base64>")
 *   webhook-sign --verify <secret> <msg-id> <timestamp> <signature>
 *       exits 0 when the signature header verifies against the clock
 *       (5 minutes either way, as the libraries allow), 1 when not
 *
 * Exit 2: usage, a malformed secret or timestamp, an unreadable body.
 * The secret is never printed.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "video_hmac.h"
#include "video_webhook.h"


#define WEBHOOK_SIGN_TOLERANCE  300


static char *
read_body(size_t *len)
{
    char    *body, *p;
    size_t   size, n;

    size = 65536;
    *len = 0;

    body = malloc(size);
    if (body == NULL) {
        return NULL;
    }

    for ( ;; ) {
        n = fread(body + *len, 1, size - *len, stdin);
        *len += n;

        if (*len < size) {
            if (ferror(stdin)) {
                free(body);
                return NULL;
            }

            return body;
        }

        size *= 2;

        p = realloc(body, size);
        if (p == NULL) {
            free(body);
            return NULL;
        }

        body = p;
    }
}


static int
parse_timestamp(const char *s, int64_t *ts)
{
    char       *end;
    long long   v;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0') {
        return -1;
    }

    *ts = v;

    return 0;
}


static int
usage(void)
{
    fprintf(stderr,
            "usage: webhook-sign <secret> <msg-id> <timestamp> < body\n"
            "       webhook-sign --verify <secret> <msg-id> <timestamp> "
            "<signature> < body\n");

    return 2;
}


int
main(int argc, char **argv)
{
    int       rc, verify;
    char     *body;
    char      sig[VIDEO_WEBHOOK_SIG_ENTRY + 1];
    size_t    len;
    int64_t   ts;

    verify = argc > 1 && strcmp(argv[1], "--verify") == 0;

    if (argc != (verify ? 6 : 4)) {
        return usage();
    }

    argv += verify;

    if (parse_timestamp(argv[3], &ts) != 0) {
        fprintf(stderr, "webhook-sign: invalid timestamp \"%s\"\n", argv[3]);
        return 2;
    }

    body = read_body(&len);
    if (body == NULL) {
        fprintf(stderr, "webhook-sign: cannot read the body\n");
        return 2;
    }

    if (verify) {
        rc = video_webhook_verify(argv[1], strlen(argv[1]), argv[2], argv[3],
                                  body, len, argv[4], (int64_t) time(NULL),
                                  WEBHOOK_SIGN_TOLERANCE);
        if (rc != 0) {
            fprintf(stderr, "webhook-sign: the signature does not verify\n");
        }

        rc = (rc == 0) ? 0 : 1;

    } else if (video_webhook_sign(argv[1], strlen(argv[1]), argv[2], ts,
                                  body, len, sig)
               != 0)
    {
        fprintf(stderr, "webhook-sign: the secret is not a webhook secret\n");
        rc = 2;

    } else {
        printf("%s\n", sig);
        rc = 0;
    }

    free(body);
    video_hmac_release();

    return rc;
}
