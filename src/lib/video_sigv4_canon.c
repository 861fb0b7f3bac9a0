/*
 * What SigV4's signer and verifier share: the encoding of names, values
 * and paths, the canonical request hashed as it is streamed (a small
 * buffer, no heap), the signature the key derived for a scope gives over
 * it, and the X-Amz-Date format.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "video_hmac.h"
#include "video_sigv4_int.h"
#include "video_form.h"


#define SIGV4_SHA256_LEN   32
#define SIGV4_MAX_METHOD   16
#define SIGV4_MAX_NAME     128     /* access key, secret key */
#define SIGV4_MAX_SCOPE    64      /* region, service */


static const char  sigv4_hex[] = "0123456789ABCDEF";
const char         video_sigv4_lhex[] = "0123456789abcdef";


static int
sigv4_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}


void
video_sigv4_canon_init(video_sigv4_canon_t *it, const void *s, size_t len,
    int decode, int keep_slash)
{
    it->pos = s;
    it->last = it->pos + len;
    it->decode = decode;
    it->keep_slash = keep_slash;
    it->pending = 0;
}


/* the next byte, or -1 at the end; encoded input was validated before */
int
video_sigv4_canon_next(video_sigv4_canon_t *it)
{
    unsigned char  c;

    if (it->pending > 0) {
        return it->escape[2 - it->pending--];
    }

    if (it->pos == it->last) {
        return -1;
    }

    c = *it->pos++;

    if (c == '%' && it->decode) {
        c = (unsigned char) (video_form_hex(it->pos[0]) << 4
                             | video_form_hex(it->pos[1]));
        it->pos += 2;
    }

    if (sigv4_unreserved(c) || (c == '/' && it->keep_slash)) {
        return c;
    }

    it->escape[0] = sigv4_hex[c >> 4];
    it->escape[1] = sigv4_hex[c & 0xf];
    it->pending = 2;

    return '%';
}


void
video_sigv4_hash_init(video_sigv4_hash_t *h)
{
    h->n = 0;
    h->failed = 0;
    h->ctx = EVP_MD_CTX_new();

    if (h->ctx == NULL
        || video_sha256() == NULL
        || EVP_DigestInit_ex(h->ctx, video_sha256(), NULL) != 1)
    {
        h->failed = 1;
    }
}


static void
sigv4_hash_flush(video_sigv4_hash_t *h)
{
    if (!h->failed && h->n > 0
        && EVP_DigestUpdate(h->ctx, h->buf, h->n) != 1)
    {
        h->failed = 1;
    }

    h->n = 0;
}


void
video_sigv4_hash_add(video_sigv4_hash_t *h, const void *data, size_t len)
{
    size_t                n;
    const unsigned char  *p;

    p = data;

    while (len > 0) {
        if (h->n == sizeof(h->buf)) {
            sigv4_hash_flush(h);
        }

        n = sizeof(h->buf) - h->n;
        n = (n < len) ? n : len;

        memcpy(h->buf + h->n, p, n);
        h->n += n;
        p += n;
        len -= n;
    }
}


void
video_sigv4_hash_str(video_sigv4_hash_t *h, const char *s)
{
    video_sigv4_hash_add(h, s, strlen(s));
}


void
video_sigv4_hash_canon(video_sigv4_hash_t *h, const unsigned char *s,
    size_t len, int keep_slash)
{
    int                   c;
    unsigned char         ch;
    video_sigv4_canon_t   it;

    video_sigv4_canon_init(&it, s, len, 1, keep_slash);

    while ((c = video_sigv4_canon_next(&it)) != -1) {
        ch = (unsigned char) c;
        video_sigv4_hash_add(h, &ch, 1);
    }
}


static void
sigv4_hex_encode(const unsigned char *md, size_t len, char *hex)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        hex[2 * i] = video_sigv4_lhex[md[i] >> 4];
        hex[2 * i + 1] = video_sigv4_lhex[md[i] & 0xf];
    }

    hex[2 * len] = '\0';
}


/* hex into 65 bytes; frees the context whatever happened before */
int
video_sigv4_hash_final(video_sigv4_hash_t *h, char *hex)
{
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    sigv4_hash_flush(h);

    n = 0;

    if (!h->failed
        && (EVP_DigestFinal_ex(h->ctx, md, &n) != 1
            || n != SIGV4_SHA256_LEN))
    {
        h->failed = 1;
    }

    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;

    if (h->failed) {
        return -1;
    }

    sigv4_hex_encode(md, SIGV4_SHA256_LEN, hex);

    return 0;
}


static int
sigv4_hmac(const unsigned char *key, size_t key_len, const void *data,
    size_t len, unsigned char *md)
{
    return video_hmac_sha256(key, key_len, data, len, md);
}


/*
 * The signing key of a day and scope, kept for the next signature of the
 * same ones: four of a signature's five HMACs, the same all day.  One
 * entry per thread (the workers' sweeper signs beside their main loop).
 */
typedef struct {
    int                       valid;
    char                      date[8];
    size_t                    secret_len;
    char                      secret[SIGV4_MAX_NAME];
    char                      region[SIGV4_MAX_SCOPE + 1];
    char                      service[SIGV4_MAX_SCOPE + 1];
    unsigned char             key[SIGV4_SHA256_LEN];
} sigv4_key_cache_t;

static _Thread_local sigv4_key_cache_t  sigv4_key_cache;


static int
sigv4_signing_key(const video_sigv4_creds_t *c, const char *amz_date,
    unsigned char *key)
{
    int                 rc;
    size_t              n, r, v;
    unsigned char       k1[SIGV4_SHA256_LEN], k2[SIGV4_SHA256_LEN];
    unsigned char       secret[4 + SIGV4_MAX_NAME];
    sigv4_key_cache_t  *kc;

    kc = &sigv4_key_cache;

    n = strlen(c->secret_key);
    r = strlen(c->region);
    v = strlen(c->service);

    if (n > SIGV4_MAX_NAME || r > SIGV4_MAX_SCOPE || v > SIGV4_MAX_SCOPE) {
        return -1;
    }

    if (kc->valid && memcmp(kc->date, amz_date, 8) == 0
        && kc->secret_len == n && memcmp(kc->secret, c->secret_key, n) == 0
        && strcmp(kc->region, c->region) == 0
        && strcmp(kc->service, c->service) == 0)
    {
        memcpy(key, kc->key, SIGV4_SHA256_LEN);
        return 0;
    }

    memcpy(secret, "AWS4", 4);
    memcpy(secret + 4, c->secret_key, n);

    rc = (sigv4_hmac(secret, 4 + n, amz_date, 8, k1) != 0
          || sigv4_hmac(k1, sizeof(k1), c->region, r, k2) != 0
          || sigv4_hmac(k2, sizeof(k2), c->service, v, k1) != 0
          || sigv4_hmac(k1, sizeof(k1), SIGV4_TERMINATOR,
                        sizeof(SIGV4_TERMINATOR) - 1, key) != 0)
         ? -1 : 0;

    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));

    if (rc == 0) {
        memcpy(kc->date, amz_date, 8);
        kc->secret_len = n;
        memcpy(kc->secret, c->secret_key, n);
        memcpy(kc->region, c->region, r + 1);
        memcpy(kc->service, c->service, v + 1);
        memcpy(kc->key, key, SIGV4_SHA256_LEN);
        kc->valid = 1;
    }

    return rc;
}


/*
 * The signature (65 bytes of hex) of a canonical request whose hash is
 * creq_hex, signed at amz_date with the key derived for its scope.
 */
int
video_sigv4_sign(const video_sigv4_creds_t *c, const char *amz_date,
    const char *creq_hex, char *sig_hex)
{
    int            rc;
    unsigned char  key[SIGV4_SHA256_LEN], md[SIGV4_SHA256_LEN];
    char           sts[512];

    if (strlen(amz_date) < 8) {
        return -1;
    }

    rc = snprintf(sts, sizeof(sts), SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/"
                  SIGV4_TERMINATOR "\n%s", amz_date, amz_date, c->region,
                  c->service, creq_hex);

    if (rc < 0 || (size_t) rc >= sizeof(sts)
        || sigv4_signing_key(c, amz_date, key) != 0
        || sigv4_hmac(key, sizeof(key), sts, (size_t) rc, md) != 0)
    {
        rc = -1;

    } else {
        sigv4_hex_encode(md, sizeof(md), sig_hex);
        rc = 0;
    }

    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(md, sizeof(md));

    return rc;
}


int
video_sigv4_creds_valid(const video_sigv4_creds_t *c)
{
    size_t  a, s, r, v;

    if (c == NULL || c->access_key == NULL || c->secret_key == NULL
        || c->region == NULL || c->service == NULL)
    {
        return 0;
    }

    a = strlen(c->access_key);
    s = strlen(c->secret_key);
    r = strlen(c->region);
    v = strlen(c->service);

    /* a "/" would shift the parts of the credential scope */
    return a > 0 && a <= SIGV4_MAX_NAME && s > 0 && s <= SIGV4_MAX_NAME
           && r > 0 && r <= SIGV4_MAX_SCOPE && v > 0 && v <= SIGV4_MAX_SCOPE
           && strchr(c->access_key, '/') == NULL
           && strchr(c->region, '/') == NULL
           && strchr(c->service, '/') == NULL;
}


int
video_sigv4_method_valid(const char *m, size_t len)
{
    size_t  i;

    if (len == 0 || len > SIGV4_MAX_METHOD) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (m[i] < 'A' || m[i] > 'Z') {
            return 0;
        }
    }

    return 1;
}


/* "yyyymmddThhmmssZ" from gmtime_r, which needs neither locale nor TZ */
int
video_sigv4_amz_date(int64_t now, char *out)
{
    int        n;
    time_t     t;
    struct tm  tm;

    if (now < 0 || now > SIGV4_MAX_TIME) {
        return -1;
    }

    t = (time_t) now;

    if (gmtime_r(&t, &tm) == NULL) {
        return -1;
    }

    n = snprintf(out, VIDEO_SIGV4_AMZ_DATE_LEN + 1,
                 "%04d%02d%02dT%02d%02d%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);

    return (n == VIDEO_SIGV4_AMZ_DATE_LEN) ? 0 : -1;
}


int
video_sigv4_digits(const char *s, size_t len, int64_t *v)
{
    size_t  i;

    *v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        *v = *v * 10 + (s[i] - '0');
    }

    return 0;
}
