/*
 * Canonical forms, both ways: the signer presigns a request made from the
 * input (lines: method, endpoint, "path" or "virtual", bucket, expiry,
 * and the key, any bytes), and what it signs must verify as the store's
 * gate receives it (path and query from the URL, the Host header a
 * client sends for it) until it expires, and not after, nor for another
 * method.  The unsigned URL and the header signature of the same request
 * must agree with it.  The same request with the key's bytes also as an
 * uploadId parameter (a subresource, as AbortMultipartUpload's) must
 * verify too, the parameter after X-Amz-*, and not for another method.
 */

#include <stdio.h>

#include "fuzz.h"
#include "video_sigv4.h"


#define PRESIGN_NOW  1369353600


static const video_sigv4_creds_t  presign_creds = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "us-east-1", "s3"
};

/* endpoints as configured: the local store, AWS, IPv6, ports, case */
static const char *const  presign_endpoints[] = {
    "http://127.0.0.1:9000",
    "http://localhost:9000/",
    "https://s3.amazonaws.com",
    "http://[::1]:9000",
    "https://minio.example.com:443",
    "HTTP://Example.COM:8080",
    "http://store:80",
};


/* the request as the gate sees it: path, query, Host (default port cut) */

static int
presign_split(const char *url, const char *endpoint, fuzz_part_t *req,
    char *host, size_t size)
{
    size_t       n;
    const char  *a, *p, *q;

    a = strstr(url, "://");
    if (a == NULL) {
        return -1;
    }

    a += 3;
    p = strchr(a, '/');
    q = (p != NULL) ? strchr(p, '?') : NULL;

    if (p == NULL || q == NULL || (size_t) (p - a) >= size) {
        return -1;
    }

    n = p - a;
    memcpy(host, a, n);
    host[n] = '\0';

    if ((strncasecmp(endpoint, "http:", 5) == 0 && n > 3
         && strcmp(host + n - 3, ":80") == 0)
        || (strncasecmp(endpoint, "https:", 6) == 0 && n > 4
            && strcmp(host + n - 4, ":443") == 0))
    {
        *strrchr(host, ':') = '\0';
    }

    req[0].data = p;
    req[0].len = q - p;
    req[1].data = q + 1;
    req[1].len = strlen(q + 1);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     n, rc;
    char                   *method, *bucket, *key, *exp;
    char                    url[VIDEO_SIGV4_URL_MAX], bare[VIDEO_SIGV4_URL_MAX];
    char                    host[VIDEO_SIGV4_URL_MAX];
    char                    sub[VIDEO_SIGV4_URL_MAX], *sig;
    char                    auth[VIDEO_SIGV4_AUTH_MAX], date[17];
    const char             *err;
    fuzz_part_t             parts[6], req[2];
    video_sigv4_param_t     param;
    video_sigv4_presign_t   p;

    fuzz_split(data, size, '\n', parts, 6);

    method = fuzz_strndup(parts[0].data, parts[0].len);
    bucket = fuzz_strndup(parts[3].data, parts[3].len);
    exp = fuzz_strndup(parts[4].data, parts[4].len > 9 ? 9 : parts[4].len);
    key = fuzz_strndup(parts[5].data, parts[5].len);

    if (method == NULL || bucket == NULL || exp == NULL || key == NULL) {
        goto done;
    }

    p.method = method;
    p.endpoint = presign_endpoints[fuzz_pick(&parts[1], presign_endpoints,
                                         FUZZ_NELTS(presign_endpoints))];
    p.path_style = (parts[2].len == 4 && memcmp(parts[2].data, "path", 4)
                                         == 0);
    p.bucket = bucket;
    p.key = key;
    p.now = PRESIGN_NOW;
    p.expires = atol(exp);

    err = NULL;
    n = video_sigv4_presign(&presign_creds, &p, url, sizeof(url), &err);

    if (n < 0) {
        fuzz_assert(err != NULL);
        goto done;
    }

    fuzz_assert((size_t) n == strlen(url));
    fuzz_assert(p.expires >= VIDEO_SIGV4_MIN_EXPIRES
                && p.expires <= VIDEO_SIGV4_MAX_EXPIRES);

    /* the unsigned URL is the signed one without its query */

    n = video_sigv4_url(&p, bare, sizeof(bare), &err);
    fuzz_assert(n > 0 && strncmp(url, bare, n) == 0 && url[n] == '?');

    fuzz_assert(presign_split(url, p.endpoint, req, host, sizeof(host))
                == 0);

    rc = video_sigv4_verify(&presign_creds, method, req[0].data, req[0].len,
                            req[1].data, req[1].len, host, strlen(host),
                            PRESIGN_NOW, &err);
    fuzz_assert(rc == VIDEO_SIGV4_OK);

    rc = video_sigv4_verify(&presign_creds, method, req[0].data, req[0].len,
                            req[1].data, req[1].len, host, strlen(host),
                            PRESIGN_NOW + p.expires + 1, &err);
    fuzz_assert(rc == VIDEO_SIGV4_EXPIRED);

    rc = video_sigv4_verify(&presign_creds,
                            strcmp(method, "POST") == 0 ? "PATCH" : "POST",
                            req[0].data, req[0].len, req[1].data, req[1].len,
                            host, strlen(host), PRESIGN_NOW, &err);
    fuzz_assert(rc == VIDEO_SIGV4_SIGNATURE_MISMATCH);

    /* with a subresource: the same parameters, then uploadId, signed */

    param.name = "uploadId";
    param.value = key;
    n = video_sigv4_presign_query(&presign_creds, &p, NULL, &param, 1, sub,
                                  sizeof(sub), &err);

    if (n < 0) {
        fuzz_assert(err != NULL && strcmp(err, "buffer too small") == 0);

    } else {
        sig = strstr(url, "&X-Amz-Signature=");
        fuzz_assert(sig != NULL);
        fuzz_assert(strncmp(sub, url, sig - url) == 0);
        fuzz_assert(strncmp(sub + (sig - url), "&uploadId=", 10) == 0);

        fuzz_assert(presign_split(sub, p.endpoint, req, host, sizeof(host))
                    == 0);
        rc = video_sigv4_verify(&presign_creds, method, req[0].data,
                                req[0].len, req[1].data, req[1].len, host,
                                strlen(host), PRESIGN_NOW, &err);
        fuzz_assert(rc == VIDEO_SIGV4_OK);

        rc = video_sigv4_verify(&presign_creds,
                                strcmp(method, "POST") == 0 ? "PATCH" : "POST",
                                req[0].data, req[0].len, req[1].data,
                                req[1].len, host, strlen(host), PRESIGN_NOW,
                                &err);
        fuzz_assert(rc == VIDEO_SIGV4_SIGNATURE_MISMATCH);

        fuzz_assert(presign_split(url, p.endpoint, req, host, sizeof(host))
                    == 0);
    }

    /* and the same request signed in headers, as the workers send it */

    rc = video_sigv4_sign_headers(&presign_creds, &p,
                                  VIDEO_SIGV4_UNSIGNED_PAYLOAD, auth,
                                  sizeof(auth), date, &err);
    fuzz_assert(rc == 0 || err != NULL);

    if (rc == 0) {
        fuzz_assert(strlen(auth) < sizeof(auth) && strlen(date) == 16);
    }

done:

    free(method);
    free(bucket);
    free(exp);
    free(key);

    return 0;
}
