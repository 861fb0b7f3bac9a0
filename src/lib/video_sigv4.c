/*
 * AWS Signature Version 4 as S3 applies it.  S3 signs the path exactly as
 * it is sent (encoded once, never normalized), so the URL we build is its
 * own canonical form; the verifier instead gets whatever a client sent and
 * decodes and encodes it again before hashing.  The canonical request is
 * streamed into the digest, so verification needs no heap of its own and
 * no buffer as large as the request.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "video_hmac.h"
#include "video_sigv4.h"


#define SIGV4_ALGORITHM    "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR   "aws4_request"
#define SIGV4_SHA256_LEN   32
#define SIGV4_HEX_LEN      64
#define SIGV4_MAX_METHOD   16
#define SIGV4_MAX_NAME     128     /* access key, secret key */
#define SIGV4_MAX_SCOPE    64      /* region, service */
/* a signed Host value: bucket, ".", the endpoint's host, ":65535" */
#define SIGV4_MAX_HOST                                                        \
    (VIDEO_SIGV4_MAX_BUCKET + 1 + VIDEO_SIGV4_MAX_ENDPOINT + 6 + 1)

/* 9999-12-31T23:59:59Z: X-Amz-Date has four digits for the year */
#define SIGV4_MAX_TIME     253402300799LL

#define SIGV4_HEADERS      "host;x-amz-content-sha256;x-amz-date"

/* every header a presigned URL of ours may bind, the longest list */
#define SIGV4_BOUND_HEADERS                                                   \
    "content-length;content-type;host;if-none-match"


typedef struct {
    char           *pos;
    char           *end;
    int             full;
} sigv4_buf_t;


typedef struct {
    EVP_MD_CTX     *ctx;
    size_t          n;
    int             failed;
    unsigned char   buf[512];
} sigv4_hash_t;


typedef struct {
    const char     *start;
    size_t          len;          /* without a trailing "/" */
    size_t          scheme_len;   /* "http://" or "https://" */
    const char     *host;         /* "[::1]" keeps its brackets */
    size_t          host_len;
    const char     *authority;    /* host[:port] as written */
    size_t          authority_len;
    unsigned        port;         /* 0 when the scheme's default */
} sigv4_endpoint_t;


/* one query parameter as sent, still percent-encoded */
typedef struct {
    const unsigned char  *name;
    size_t                name_len;
    const unsigned char  *value;
    size_t                value_len;
} sigv4_param_t;


/* the bytes of SigV4's encoding of a (possibly encoded) string, one by one */
typedef struct {
    const unsigned char  *pos;
    const unsigned char  *last;
    int                   decode;
    int                   keep_slash;
    int                   pending;
    unsigned char         escape[2];
} sigv4_canon_t;


enum {
    SIGV4_P_ALGORITHM = 0,
    SIGV4_P_CREDENTIAL,
    SIGV4_P_DATE,
    SIGV4_P_EXPIRES,
    SIGV4_P_SIGNED_HEADERS,
    SIGV4_P_SIGNATURE,
    SIGV4_P_N
};


static const char  *const sigv4_auth_params[SIGV4_P_N] = {
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature"
};

static const char  *const sigv4_missing[SIGV4_P_N] = {
    "missing X-Amz-Algorithm",
    "missing X-Amz-Credential",
    "missing X-Amz-Date",
    "missing X-Amz-Expires",
    "missing X-Amz-SignedHeaders",
    "missing X-Amz-Signature"
};

static const char  *const sigv4_duplicate[SIGV4_P_N] = {
    "duplicate X-Amz-Algorithm",
    "duplicate X-Amz-Credential",
    "duplicate X-Amz-Date",
    "duplicate X-Amz-Expires",
    "duplicate X-Amz-SignedHeaders",
    "duplicate X-Amz-Signature"
};

static const char  *const sigv4_malformed[SIGV4_P_N] = {
    "malformed X-Amz-Algorithm",
    "malformed X-Amz-Credential",
    "malformed X-Amz-Date",
    "malformed X-Amz-Expires",
    "malformed X-Amz-SignedHeaders",
    "malformed X-Amz-Signature"
};

static const char  sigv4_hex[] = "0123456789ABCDEF";
static const char  sigv4_lhex[] = "0123456789abcdef";


static int
sigv4_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~';
}


static int
sigv4_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* every "%" is followed by two hex digits */
static int
sigv4_pct_valid(const unsigned char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            continue;
        }

        if (i + 2 >= len
            || sigv4_hexval(s[i + 1]) < 0 || sigv4_hexval(s[i + 2]) < 0)
        {
            return 0;
        }

        i += 2;
    }

    return 1;
}


static void
sigv4_canon_init(sigv4_canon_t *it, const void *s, size_t len, int decode,
    int keep_slash)
{
    it->pos = s;
    it->last = it->pos + len;
    it->decode = decode;
    it->keep_slash = keep_slash;
    it->pending = 0;
}


/* the next byte, or -1 at the end; encoded input was validated before */
static int
sigv4_canon_next(sigv4_canon_t *it)
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
        c = (unsigned char) (sigv4_hexval(it->pos[0]) << 4
                             | sigv4_hexval(it->pos[1]));
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


/* compares the canonical forms of two encoded strings */
static int
sigv4_canon_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
    int            ca, cb;
    sigv4_canon_t  ia, ib;

    sigv4_canon_init(&ia, a, alen, 1, 0);
    sigv4_canon_init(&ib, b, blen, 1, 0);

    do {
        ca = sigv4_canon_next(&ia);
        cb = sigv4_canon_next(&ib);
    } while (ca == cb && ca != -1);

    return ca - cb;
}


/* decodes into out (size bytes, NUL added); the length, or -1 if longer */
static long
sigv4_decode(const unsigned char *s, size_t len, char *out, size_t size)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++, n++) {
        if (n + 1 >= size) {
            return -1;
        }

        if (s[i] == '%') {
            out[n] = (char) (sigv4_hexval(s[i + 1]) << 4
                             | sigv4_hexval(s[i + 2]));
            i += 2;

        } else {
            out[n] = (char) s[i];
        }
    }

    out[n] = '\0';

    return (long) n;
}


static void
sigv4_buf_init(sigv4_buf_t *b, char *out, size_t size)
{
    b->pos = out;
    b->end = out + size;
    b->full = (size == 0);

    if (size > 0) {
        *out = '\0';
    }
}


/* appends while one byte stays free for the NUL */
static void
sigv4_buf_add(sigv4_buf_t *b, const char *s, size_t len)
{
    if (b->full || (size_t) (b->end - b->pos) <= len) {
        b->full = 1;
        return;
    }

    memcpy(b->pos, s, len);
    b->pos += len;
    *b->pos = '\0';
}


static void
sigv4_buf_str(sigv4_buf_t *b, const char *s)
{
    sigv4_buf_add(b, s, strlen(s));
}


static void
sigv4_buf_encode(sigv4_buf_t *b, const char *s, int keep_slash)
{
    int            c;
    char           ch;
    sigv4_canon_t  it;

    sigv4_canon_init(&it, s, strlen(s), 0, keep_slash);

    while ((c = sigv4_canon_next(&it)) != -1) {
        ch = (char) c;
        sigv4_buf_add(b, &ch, 1);
    }
}


static void
sigv4_hash_init(sigv4_hash_t *h)
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
sigv4_hash_flush(sigv4_hash_t *h)
{
    if (!h->failed && h->n > 0
        && EVP_DigestUpdate(h->ctx, h->buf, h->n) != 1)
    {
        h->failed = 1;
    }

    h->n = 0;
}


static void
sigv4_hash_add(sigv4_hash_t *h, const void *data, size_t len)
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


static void
sigv4_hash_str(sigv4_hash_t *h, const char *s)
{
    sigv4_hash_add(h, s, strlen(s));
}


static void
sigv4_hash_canon(sigv4_hash_t *h, const unsigned char *s, size_t len,
    int keep_slash)
{
    int            c;
    unsigned char  ch;
    sigv4_canon_t  it;

    sigv4_canon_init(&it, s, len, 1, keep_slash);

    while ((c = sigv4_canon_next(&it)) != -1) {
        ch = (unsigned char) c;
        sigv4_hash_add(h, &ch, 1);
    }
}


static void
sigv4_hex_encode(const unsigned char *md, size_t len, char *hex)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        hex[2 * i] = sigv4_lhex[md[i] >> 4];
        hex[2 * i + 1] = sigv4_lhex[md[i] & 0xf];
    }

    hex[2 * len] = '\0';
}


/* hex into 65 bytes; frees the context whatever happened before */
static int
sigv4_hash_final(sigv4_hash_t *h, char *hex)
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
 * The signature (65 bytes of hex) of a canonical request whose hash is
 * creq_hex, signed at amz_date with the key derived for its scope.
 */
static int
sigv4_sign(const video_sigv4_creds_t *c, const char *amz_date,
    const char *creq_hex, char *sig_hex)
{
    int            rc;
    size_t         n;
    unsigned char  k1[SIGV4_SHA256_LEN], k2[SIGV4_SHA256_LEN];
    unsigned char  secret[4 + SIGV4_MAX_NAME];
    char           sts[512];

    n = strlen(c->secret_key);
    memcpy(secret, "AWS4", 4);
    memcpy(secret + 4, c->secret_key, n);

    rc = snprintf(sts, sizeof(sts), SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/"
                  SIGV4_TERMINATOR "\n%s", amz_date, amz_date, c->region,
                  c->service, creq_hex);

    if (rc < 0 || (size_t) rc >= sizeof(sts)
        || sigv4_hmac(secret, 4 + n, amz_date, 8, k1) != 0
        || sigv4_hmac(k1, sizeof(k1), c->region, strlen(c->region), k2) != 0
        || sigv4_hmac(k2, sizeof(k2), c->service, strlen(c->service), k1)
           != 0
        || sigv4_hmac(k1, sizeof(k1), SIGV4_TERMINATOR,
                      sizeof(SIGV4_TERMINATOR) - 1, k2) != 0
        || sigv4_hmac(k2, sizeof(k2), sts, (size_t) rc, k1) != 0)
    {
        rc = -1;

    } else {
        sigv4_hex_encode(k1, sizeof(k1), sig_hex);
        rc = 0;
    }

    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));

    return rc;
}


static int
sigv4_creds_valid(const video_sigv4_creds_t *c)
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


static int
sigv4_method_valid(const char *m, size_t len)
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
static int
sigv4_amz_date(int64_t now, char *out)
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


static int
sigv4_digits(const char *s, size_t len, int64_t *v)
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


/*
 * X-Amz-Date back to seconds (days from the civil date, H. Hinnant's
 * algorithm); formatting the result again rejects dates like February 30.
 */
static int
sigv4_parse_date(const char *s, size_t len, int64_t *t)
{
    int64_t  y, mo, d, h, mi, se, era, yoe, doy, doe;
    char     again[VIDEO_SIGV4_AMZ_DATE_LEN + 1];

    if (len != VIDEO_SIGV4_AMZ_DATE_LEN || s[8] != 'T' || s[15] != 'Z'
        || sigv4_digits(s, 4, &y) != 0
        || sigv4_digits(s + 4, 2, &mo) != 0
        || sigv4_digits(s + 6, 2, &d) != 0
        || sigv4_digits(s + 9, 2, &h) != 0
        || sigv4_digits(s + 11, 2, &mi) != 0
        || sigv4_digits(s + 13, 2, &se) != 0
        || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
        || se > 59)
    {
        return -1;
    }

    y -= (mo <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    *t = (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + se;

    if (sigv4_amz_date(*t, again) != 0
        || memcmp(again, s, VIDEO_SIGV4_AMZ_DATE_LEN) != 0)
    {
        return -1;
    }

    return 0;
}


static int
sigv4_host_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}


/* "http[s]://host[:port]" with an optional "/" and nothing else */
static int
sigv4_parse_endpoint(const char *s, sigv4_endpoint_t *ep)
{
    int64_t      def, port;
    size_t       len, i;
    const char  *a, *end, *colon;

    if (s == NULL) {
        return -1;
    }

    len = strlen(s);

    if (len > VIDEO_SIGV4_MAX_ENDPOINT) {
        return -1;
    }

    if (len > 0 && s[len - 1] == '/') {
        len--;
    }

    if (len > 7 && strncasecmp(s, "http://", 7) == 0) {
        ep->scheme_len = 7;
        def = 80;

    } else if (len > 8 && strncasecmp(s, "https://", 8) == 0) {
        ep->scheme_len = 8;
        def = 443;

    } else {
        return -1;
    }

    ep->start = s;
    ep->len = len;
    ep->port = 0;

    a = s + ep->scheme_len;
    end = s + len;

    ep->authority = a;
    ep->authority_len = (size_t) (end - a);
    ep->host = a;

    if (*a == '[') {
        for (i = 1; a + i < end && a[i] != ']'; i++) {
            if (sigv4_hexval((unsigned char) a[i]) < 0 && a[i] != ':'
                && a[i] != '.')
            {
                return -1;
            }
        }

        if (a + i == end || i == 1) {
            return -1;
        }

        colon = a + i + 1;

        if (colon != end && *colon != ':') {
            return -1;
        }

    } else {
        for (colon = a; colon < end && *colon != ':'; colon++) {
            if (!sigv4_host_char(*colon)) {
                return -1;
            }
        }

        if (colon == a) {
            return -1;
        }
    }

    ep->host_len = (size_t) (colon - a);

    if (colon == end) {
        return 0;
    }

    /* botocore leaves the scheme's default port out of the Host header */

    i = (size_t) (end - colon - 1);

    if (i == 0 || i > 5 || sigv4_digits(colon + 1, i, &port) != 0
        || port < 1 || port > 65535)
    {
        return -1;
    }

    ep->port = (port != def) ? (unsigned) port : 0;

    return 0;
}


/* the Host header value: lower case, the port unless it is the default */
static size_t
sigv4_signed_host(const video_sigv4_presign_t *p, const sigv4_endpoint_t *ep,
    char *out)
{
    size_t  n, i;

    n = 0;

    if (!p->path_style) {
        for (i = 0; p->bucket[i] != '\0'; i++) {
            out[n++] = p->bucket[i];
        }

        out[n++] = '.';
    }

    for (i = 0; i < ep->host_len; i++) {
        out[n++] = (char) ((ep->host[i] >= 'A' && ep->host[i] <= 'Z')
                           ? ep->host[i] | 0x20 : ep->host[i]);
    }

    if (ep->port != 0) {
        n += (size_t) snprintf(out + n, 7, ":%u", ep->port);
    }

    out[n] = '\0';

    return n;
}


/* a virtual-hosted bucket is a DNS name, in lower case as botocore wants */
static int
sigv4_bucket_valid(const char *b, int path_style)
{
    size_t  n, i;

    n = (b != NULL) ? strlen(b) : 0;

    if (n == 0 || n > VIDEO_SIGV4_MAX_BUCKET) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (path_style) {
            if (!sigv4_host_char(b[i])) {
                return 0;
            }

        } else if (!((b[i] >= 'a' && b[i] <= 'z')
                     || (b[i] >= '0' && b[i] <= '9')
                     || b[i] == '-' || b[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
sigv4_request_valid(const video_sigv4_presign_t *p, sigv4_endpoint_t *ep,
    const char **err)
{
    size_t  n;

    if (p == NULL || p->method == NULL
        || !sigv4_method_valid(p->method, strlen(p->method)))
    {
        *err = "bad method";
        return -1;
    }

    if (sigv4_parse_endpoint(p->endpoint, ep) != 0) {
        *err = "bad endpoint";
        return -1;
    }

    if (!sigv4_bucket_valid(p->bucket, p->path_style)) {
        *err = "bad bucket";
        return -1;
    }

    if (!p->path_style && ep->host[0] == '[') {
        *err = "virtual-hosted style needs a host name endpoint";
        return -1;
    }

    n = (p->key != NULL) ? strlen(p->key) : 0;

    if (n == 0 || n > VIDEO_SIGV4_MAX_KEY) {
        *err = "bad key";
        return -1;
    }

    return 0;
}


/* the object's URL without a query; *path is the offset of its path */
static void
sigv4_put_url(sigv4_buf_t *b, const video_sigv4_presign_t *p,
    const sigv4_endpoint_t *ep, size_t *path)
{
    char  *start;

    start = b->pos;

    if (p->path_style) {
        sigv4_buf_add(b, ep->start, ep->len);
        *path = (size_t) (b->pos - start);
        sigv4_buf_add(b, "/", 1);
        sigv4_buf_encode(b, p->bucket, 0);

    } else {
        sigv4_buf_add(b, ep->start, ep->scheme_len);
        sigv4_buf_str(b, p->bucket);
        sigv4_buf_add(b, ".", 1);
        sigv4_buf_add(b, ep->authority, ep->authority_len);
        *path = (size_t) (b->pos - start);
    }

    sigv4_buf_add(b, "/", 1);
    sigv4_buf_encode(b, p->key, 1);
}


int
video_sigv4_url(const video_sigv4_presign_t *p, char *out, size_t size,
    const char **err)
{
    size_t            path;
    sigv4_buf_t       b;
    sigv4_endpoint_t  ep;

    if (sigv4_request_valid(p, &ep, err) != 0) {
        return -1;
    }

    sigv4_buf_init(&b, out, size);
    sigv4_put_url(&b, p, &ep, &path);

    if (b.full) {
        *err = "buffer too small";
        return -1;
    }

    return (int) (b.pos - out);
}


/*
 * A header value as it is signed: what botocore's canonical form leaves
 * unchanged (visible ASCII, single blanks inside), so the value a client
 * sends is the value that was signed
 */
static int
sigv4_header_value_valid(const char *v)
{
    size_t  i, n;

    n = strlen(v);

    if (n == 0 || n > VIDEO_SIGV4_MAX_HEADER_VALUE || v[0] == ' '
        || v[n - 1] == ' ')
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (v[i] == ' ' ? v[i + 1] == ' ' : (v[i] < 0x21 || v[i] > 0x7e)) {
            return 0;
        }
    }

    return 1;
}


int
video_sigv4_presign(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, char *out, size_t size,
    const char **err)
{
    return video_sigv4_presign_bound(c, p, NULL, out, size, err);
}


int
video_sigv4_presign_bound(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, const video_sigv4_bind_t *bind,
    char *out, size_t size, const char **err)
{
    char                *q;
    size_t               path, hn;
    sigv4_buf_t          b, l;
    sigv4_hash_t         h;
    sigv4_endpoint_t     ep;
    video_sigv4_bind_t   none;
    char                 date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    char                 host[SIGV4_MAX_HOST], num[24], length[24];
    char                 list[sizeof(SIGV4_BOUND_HEADERS)];
    char                 creq[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];

    if (!sigv4_creds_valid(c)) {
        *err = "bad credentials";
        return -1;
    }

    if (sigv4_request_valid(p, &ep, err) != 0) {
        return -1;
    }

    if (p->expires < VIDEO_SIGV4_MIN_EXPIRES
        || p->expires > VIDEO_SIGV4_MAX_EXPIRES)
    {
        *err = "expiry out of range";
        return -1;
    }

    if (bind == NULL) {
        none.content_length = -1;
        none.content_type = NULL;
        none.if_none_match = NULL;
        bind = &none;
    }

    if (bind->content_length < -1) {
        *err = "bad content length";
        return -1;
    }

    if (bind->content_type != NULL
        && !sigv4_header_value_valid(bind->content_type))
    {
        *err = "bad content type";
        return -1;
    }

    if (bind->if_none_match != NULL
        && !sigv4_header_value_valid(bind->if_none_match))
    {
        *err = "bad if-none-match";
        return -1;
    }

    if (sigv4_amz_date(p->now, date) != 0) {
        *err = "time out of range";
        return -1;
    }

    snprintf(length, sizeof(length), "%lld",
             (long long) bind->content_length);

    /* the signed header names, sorted */

    sigv4_buf_init(&l, list, sizeof(list));

    if (bind->content_length >= 0) {
        sigv4_buf_str(&l, "content-length;");
    }

    if (bind->content_type != NULL) {
        sigv4_buf_str(&l, "content-type;");
    }

    sigv4_buf_str(&l, "host");

    if (bind->if_none_match != NULL) {
        sigv4_buf_str(&l, ";if-none-match");
    }

    sigv4_buf_init(&b, out, size);
    sigv4_put_url(&b, p, &ep, &path);

    q = b.pos;

    /* the parameters in sorted order, so the query is its canonical form */
    sigv4_buf_str(&b, "?X-Amz-Algorithm=" SIGV4_ALGORITHM
                  "&X-Amz-Credential=");
    sigv4_buf_encode(&b, c->access_key, 0);
    sigv4_buf_str(&b, "%2F");
    sigv4_buf_add(&b, date, 8);
    sigv4_buf_str(&b, "%2F");
    sigv4_buf_encode(&b, c->region, 0);
    sigv4_buf_str(&b, "%2F");
    sigv4_buf_encode(&b, c->service, 0);
    sigv4_buf_str(&b, "%2F" SIGV4_TERMINATOR "&X-Amz-Date=");
    sigv4_buf_str(&b, date);
    snprintf(num, sizeof(num), "%ld", p->expires);
    sigv4_buf_str(&b, "&X-Amz-Expires=");
    sigv4_buf_str(&b, num);
    sigv4_buf_str(&b, "&X-Amz-SignedHeaders=");
    sigv4_buf_encode(&b, list, 0);

    if (b.full) {
        *err = "buffer too small";
        return -1;
    }

    hn = sigv4_signed_host(p, &ep, host);

    sigv4_hash_init(&h);
    sigv4_hash_str(&h, p->method);
    sigv4_hash_add(&h, "\n", 1);
    sigv4_hash_add(&h, out + path, (size_t) (q - out) - path);
    sigv4_hash_add(&h, "\n", 1);
    sigv4_hash_add(&h, q + 1, (size_t) (b.pos - q) - 1);
    sigv4_hash_add(&h, "\n", 1);

    if (bind->content_length >= 0) {
        sigv4_hash_str(&h, "content-length:");
        sigv4_hash_str(&h, length);
        sigv4_hash_add(&h, "\n", 1);
    }

    if (bind->content_type != NULL) {
        sigv4_hash_str(&h, "content-type:");
        sigv4_hash_str(&h, bind->content_type);
        sigv4_hash_add(&h, "\n", 1);
    }

    sigv4_hash_str(&h, "host:");
    sigv4_hash_add(&h, host, hn);
    sigv4_hash_add(&h, "\n", 1);

    if (bind->if_none_match != NULL) {
        sigv4_hash_str(&h, "if-none-match:");
        sigv4_hash_str(&h, bind->if_none_match);
        sigv4_hash_add(&h, "\n", 1);
    }

    sigv4_hash_add(&h, "\n", 1);
    sigv4_hash_str(&h, list);
    sigv4_hash_str(&h, "\n" VIDEO_SIGV4_UNSIGNED_PAYLOAD);

    if (sigv4_hash_final(&h, creq) != 0 || sigv4_sign(c, date, creq, sig) != 0)
    {
        *err = "libcrypto failed";
        return -1;
    }

    sigv4_buf_str(&b, "&X-Amz-Signature=");
    sigv4_buf_add(&b, sig, SIGV4_HEX_LEN);

    if (b.full) {
        *err = "buffer too small";
        return -1;
    }

    return (int) (b.pos - out);
}


int
video_sigv4_sign_headers(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, const char *payload_sha256_hex,
    char *authorization, size_t auth_size, char *amz_date,
    const char **err)
{
    size_t             path, hn, i;
    sigv4_buf_t        b;
    sigv4_hash_t       h;
    sigv4_endpoint_t   ep;
    char               date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    char               host[SIGV4_MAX_HOST], url[VIDEO_SIGV4_URL_MAX];
    char               creq[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];
    const char        *ph;

    if (!sigv4_creds_valid(c)) {
        *err = "bad credentials";
        return -1;
    }

    if (sigv4_request_valid(p, &ep, err) != 0) {
        return -1;
    }

    ph = payload_sha256_hex;

    if (ph == NULL) {
        *err = "bad payload hash";
        return -1;
    }

    if (strcmp(ph, VIDEO_SIGV4_UNSIGNED_PAYLOAD) != 0) {
        for (i = 0; ph[i] != '\0'; i++) {
            if (strchr(sigv4_lhex, ph[i]) == NULL) {
                break;
            }
        }

        if (i != SIGV4_HEX_LEN || ph[i] != '\0') {
            *err = "bad payload hash";
            return -1;
        }
    }

    if (sigv4_amz_date(p->now, date) != 0) {
        *err = "time out of range";
        return -1;
    }

    sigv4_buf_init(&b, url, sizeof(url));
    sigv4_put_url(&b, p, &ep, &path);

    if (b.full) {
        *err = "URL too long";
        return -1;
    }

    hn = sigv4_signed_host(p, &ep, host);

    sigv4_hash_init(&h);
    sigv4_hash_str(&h, p->method);
    sigv4_hash_add(&h, "\n", 1);
    sigv4_hash_add(&h, url + path, (size_t) (b.pos - url) - path);
    sigv4_hash_str(&h, "\n\nhost:");
    sigv4_hash_add(&h, host, hn);
    sigv4_hash_str(&h, "\nx-amz-content-sha256:");
    sigv4_hash_str(&h, ph);
    sigv4_hash_str(&h, "\nx-amz-date:");
    sigv4_hash_str(&h, date);
    sigv4_hash_str(&h, "\n\n" SIGV4_HEADERS "\n");
    sigv4_hash_str(&h, ph);

    if (sigv4_hash_final(&h, creq) != 0 || sigv4_sign(c, date, creq, sig) != 0)
    {
        *err = "libcrypto failed";
        return -1;
    }

    sigv4_buf_init(&b, authorization, auth_size);
    sigv4_buf_str(&b, SIGV4_ALGORITHM " Credential=");
    sigv4_buf_str(&b, c->access_key);
    sigv4_buf_add(&b, "/", 1);
    sigv4_buf_add(&b, date, 8);
    sigv4_buf_add(&b, "/", 1);
    sigv4_buf_str(&b, c->region);
    sigv4_buf_add(&b, "/", 1);
    sigv4_buf_str(&b, c->service);
    sigv4_buf_str(&b, "/" SIGV4_TERMINATOR ", SignedHeaders=" SIGV4_HEADERS
                  ", Signature=");
    sigv4_buf_add(&b, sig, SIGV4_HEX_LEN);

    if (b.full) {
        *err = "buffer too small";
        return -1;
    }

    memcpy(amz_date, date, sizeof(date));

    return 0;
}


/* which X-Amz-* parameter an encoded name is, or -1 */
static int
sigv4_auth_param(const unsigned char *name, size_t len)
{
    int   i;
    char  s[32];

    if (sigv4_decode(name, len, s, sizeof(s)) < 0) {
        return -1;
    }

    for (i = 0; i < SIGV4_P_N; i++) {
        if (strcmp(s, sigv4_auth_params[i]) == 0) {
            return i;
        }
    }

    return -1;
}


/* the credential's parts, checked against ours and the date's day */
static int
sigv4_check_scope(const video_sigv4_creds_t *c, char *cred, const char *date,
    const char **err)
{
    int    n;
    char  *part[6], *s;

    n = 0;
    s = cred;

    while (n < 6) {
        part[n++] = s;
        s = strchr(s, '/');

        if (s == NULL) {
            break;
        }

        *s++ = '\0';
    }

    if (n != 5 || strcmp(part[4], SIGV4_TERMINATOR) != 0) {
        *err = "malformed X-Amz-Credential";
        return -1;
    }

    if (strcmp(part[0], c->access_key) != 0) {
        *err = "unknown access key";
        return -1;
    }

    if (strlen(part[1]) != 8 || memcmp(part[1], date, 8) != 0) {
        *err = "credential date is not the day of X-Amz-Date";
        return -1;
    }

    if (strcmp(part[2], c->region) != 0) {
        *err = "wrong region in credential scope";
        return -1;
    }

    if (strcmp(part[3], c->service) != 0) {
        *err = "wrong service in credential scope";
        return -1;
    }

    return 0;
}


int
video_sigv4_verify(const video_sigv4_creds_t *c, const char *method,
    const char *path, size_t path_len, const char *query, size_t query_len,
    const char *host, size_t host_len, int64_t now, const char **err)
{
    return video_sigv4_verify_headers(c, method, path, path_len, query,
                                      query_len, host, host_len, NULL, NULL,
                                      now, err);
}


/*
 * X-Amz-SignedHeaders, decoded, split in place into names: lower-case
 * tokens, sorted without repeats (as SigV4 requires), "host" among them
 */
static int
sigv4_signed_names(char *list, char **names, size_t *nnames,
    const char **err)
{
    char    *s, *e;
    size_t   n, i;
    int      host;

    n = 0;
    host = 0;
    s = list;

    for ( ;; ) {
        e = strchr(s, ';');

        if (e != NULL) {
            *e = '\0';
        }

        if (*s == '\0' || n == VIDEO_SIGV4_MAX_SIGNED
            || (n > 0 && strcmp(names[n - 1], s) >= 0))
        {
            *err = sigv4_malformed[SIGV4_P_SIGNED_HEADERS];
            return -1;
        }

        for (i = 0; s[i] != '\0'; i++) {
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
                  || s[i] == '-'))
            {
                *err = sigv4_malformed[SIGV4_P_SIGNED_HEADERS];
                return -1;
            }
        }

        host |= (strcmp(s, "host") == 0);
        names[n++] = s;

        if (e == NULL) {
            break;
        }

        s = e + 1;
    }

    if (!host) {
        *err = "X-Amz-SignedHeaders does not include host";
        return -1;
    }

    *nnames = n;

    return 0;
}


/* a header value in its canonical form: trimmed, blanks collapsed */
static void
sigv4_hash_header_value(sigv4_hash_t *h, const unsigned char *v, size_t len)
{
    size_t  i;
    int     blank, started;

    blank = 0;
    started = 0;

    for (i = 0; i < len; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            blank = 1;
            continue;
        }

        if (blank && started) {
            sigv4_hash_add(h, " ", 1);
        }

        blank = 0;
        started = 1;
        sigv4_hash_add(h, &v[i], 1);
    }
}


int
video_sigv4_verify_headers(const video_sigv4_creds_t *c, const char *method,
    const char *path, size_t path_len, const char *query, size_t query_len,
    const char *host, size_t host_len, video_sigv4_header_pt header,
    void *data, int64_t now, const char **err)
{
    int                   k, idx, rc;
    long                  n;
    size_t                np, i, j, nnames;
    int64_t               expires, t;
    sigv4_hash_t          h;
    sigv4_param_t         params[VIDEO_SIGV4_MAX_PARAMS], tmp, sigp;
    sigv4_param_t        *auth[SIGV4_P_N];
    const unsigned char  *s, *end, *amp, *eq, *hs, *he;
    const char           *hv[VIDEO_SIGV4_MAX_SIGNED];
    size_t                hv_len[VIDEO_SIGV4_MAX_SIGNED];
    char                 *names[VIDEO_SIGV4_MAX_SIGNED];
    char                  alg[32], cred[320], sh[512], expires_s[16];
    char                  date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    char                  sig[SIGV4_HEX_LEN + 1], want[SIGV4_HEX_LEN + 1];
    char                  creq[SIGV4_HEX_LEN + 1];
    char                  signed_list[sizeof(sh)];
    char                 *val[SIGV4_P_N];
    size_t                val_size[SIGV4_P_N];
    unsigned char         lc;

    if (!sigv4_creds_valid(c)) {
        *err = "bad credentials";
        return VIDEO_SIGV4_ERROR;
    }

    if (method == NULL || !sigv4_method_valid(method, strlen(method))) {
        *err = "bad method";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (path == NULL || path_len == 0 || path[0] != '/'
        || path_len > VIDEO_SIGV4_MAX_PATH
        || !sigv4_pct_valid((const unsigned char *) path, path_len))
    {
        *err = "malformed or oversize path";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if ((query == NULL && query_len != 0)
        || query_len > VIDEO_SIGV4_MAX_QUERY)
    {
        *err = "oversize query";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    /* the Host header without surrounding blanks, compared in lower case */

    if (host == NULL) {
        host = "";
        host_len = 0;
    }

    hs = (const unsigned char *) host;
    he = hs + host_len;

    while (hs < he && (*hs == ' ' || *hs == '\t')) {
        hs++;
    }

    while (he > hs && (he[-1] == ' ' || he[-1] == '\t')) {
        he--;
    }

    if (hs == he || he - hs > VIDEO_SIGV4_MAX_HOST) {
        *err = "missing or oversize host";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    for (s = hs; s < he; s++) {
        if (*s <= ' ' || *s == 0x7f) {
            *err = "malformed host";
            return VIDEO_SIGV4_ACCESS_DENIED;
        }
    }

    /* split the query; the X-Amz-* parameters must each come once */

    for (k = 0; k < SIGV4_P_N; k++) {
        auth[k] = NULL;
    }

    np = 0;
    s = (const unsigned char *) ((query != NULL) ? query : "");
    end = s + query_len;

    while (s < end) {
        amp = memchr(s, '&', (size_t) (end - s));
        amp = (amp != NULL) ? amp : end;

        if (amp > s) {
            if (np == VIDEO_SIGV4_MAX_PARAMS) {
                *err = "too many query parameters";
                return VIDEO_SIGV4_ACCESS_DENIED;
            }

            eq = memchr(s, '=', (size_t) (amp - s));

            params[np].name = s;
            params[np].name_len = (size_t) ((eq != NULL ? eq : amp) - s);
            params[np].value = (eq != NULL) ? eq + 1 : amp;
            params[np].value_len = (size_t) (amp - params[np].value);

            if (!sigv4_pct_valid(params[np].name, params[np].name_len)
                || !sigv4_pct_valid(params[np].value, params[np].value_len))
            {
                *err = "malformed percent-encoding in the query";
                return VIDEO_SIGV4_ACCESS_DENIED;
            }

            idx = sigv4_auth_param(params[np].name, params[np].name_len);

            if (idx >= 0 && auth[idx] != NULL) {
                *err = sigv4_duplicate[idx];
                return VIDEO_SIGV4_ACCESS_DENIED;
            }

            /* the signature stays out of the canonical query */

            if (idx == SIGV4_P_SIGNATURE) {
                sigp = params[np];
                auth[idx] = &sigp;

            } else {
                if (idx >= 0) {
                    auth[idx] = &params[np];
                }

                np++;
            }
        }

        if (amp == end) {
            break;
        }

        s = amp + 1;
    }

    val[SIGV4_P_ALGORITHM] = alg;
    val_size[SIGV4_P_ALGORITHM] = sizeof(alg);
    val[SIGV4_P_CREDENTIAL] = cred;
    val_size[SIGV4_P_CREDENTIAL] = sizeof(cred);
    val[SIGV4_P_DATE] = date;
    val_size[SIGV4_P_DATE] = sizeof(date);
    val[SIGV4_P_EXPIRES] = expires_s;
    val_size[SIGV4_P_EXPIRES] = sizeof(expires_s);
    val[SIGV4_P_SIGNED_HEADERS] = sh;
    val_size[SIGV4_P_SIGNED_HEADERS] = sizeof(sh);
    val[SIGV4_P_SIGNATURE] = sig;
    val_size[SIGV4_P_SIGNATURE] = sizeof(sig);

    for (k = 0; k < SIGV4_P_N; k++) {
        if (auth[k] == NULL) {
            *err = sigv4_missing[k];
            return VIDEO_SIGV4_ACCESS_DENIED;
        }

        /* a decoded NUL would hide what follows it from the checks */

        n = sigv4_decode(auth[k]->value, auth[k]->value_len, val[k],
                         val_size[k]);

        if (n < 0 || strlen(val[k]) != (size_t) n) {
            *err = sigv4_malformed[k];
            return VIDEO_SIGV4_ACCESS_DENIED;
        }
    }

    if (strcmp(alg, SIGV4_ALGORITHM) != 0) {
        *err = "algorithm is not " SIGV4_ALGORITHM;
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    memcpy(signed_list, sh, sizeof(sh));

    if (sigv4_signed_names(sh, names, &nnames, err) != 0) {
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (sigv4_parse_date(date, strlen(date), &t) != 0) {
        *err = sigv4_malformed[SIGV4_P_DATE];
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    n = (long) strlen(expires_s);

    if (n == 0 || n > 7
        || sigv4_digits(expires_s, (size_t) n, &expires) != 0
        || expires < VIDEO_SIGV4_MIN_EXPIRES
        || expires > VIDEO_SIGV4_MAX_EXPIRES)
    {
        *err = "X-Amz-Expires is not 1..604800";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (sigv4_check_scope(c, cred, date, err) != 0) {
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (strlen(sig) != SIGV4_HEX_LEN) {
        *err = sigv4_malformed[SIGV4_P_SIGNATURE];
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    /* a clock this far off cannot be compared without overflow */
    if (now < 0 || now > SIGV4_MAX_TIME + VIDEO_SIGV4_MAX_EXPIRES) {
        *err = "clock out of range";
        return VIDEO_SIGV4_EXPIRED;
    }

    if (t - now > VIDEO_SIGV4_MAX_SKEW) {
        *err = "X-Amz-Date is in the future";
        return VIDEO_SIGV4_EXPIRED;
    }

    if (now - t > expires) {
        *err = "request has expired";
        return VIDEO_SIGV4_EXPIRED;
    }

    /*
     * Every signed header but Host as the request carries it: one that is
     * missing or sent twice cannot be what was signed
     */

    for (i = 0; i < nnames; i++) {
        if (strcmp(names[i], "host") == 0) {
            continue;
        }

        rc = (header != NULL)
             ? header(data, names[i], strlen(names[i]), &hv[i], &hv_len[i])
             : 0;

        if (rc == 0) {
            *err = "a signed header is missing";
            return VIDEO_SIGV4_SIGNATURE_MISMATCH;
        }

        if (rc < 0) {
            *err = "a signed header is sent more than once";
            return VIDEO_SIGV4_SIGNATURE_MISMATCH;
        }
    }

    /*
     * The canonical query: every parameter but the signature, sorted by
     * encoded name, then by encoded value (insertion sort: a few dozen
     * at most).
     */

    for (i = 1; i < np; i++) {
        tmp = params[i];

        for (j = i; j > 0; j--) {
            k = sigv4_canon_cmp(params[j - 1].name, params[j - 1].name_len,
                                tmp.name, tmp.name_len);

            if (k == 0) {
                k = sigv4_canon_cmp(params[j - 1].value,
                                    params[j - 1].value_len,
                                    tmp.value, tmp.value_len);
            }

            if (k <= 0) {
                break;
            }

            params[j] = params[j - 1];
        }

        params[j] = tmp;
    }

    sigv4_hash_init(&h);
    sigv4_hash_str(&h, method);
    sigv4_hash_add(&h, "\n", 1);
    sigv4_hash_canon(&h, (const unsigned char *) path, path_len, 1);
    sigv4_hash_add(&h, "\n", 1);

    for (i = 0; i < np; i++) {
        if (i > 0) {
            sigv4_hash_add(&h, "&", 1);
        }

        sigv4_hash_canon(&h, params[i].name, params[i].name_len, 0);
        sigv4_hash_add(&h, "=", 1);
        sigv4_hash_canon(&h, params[i].value, params[i].value_len, 0);
    }

    sigv4_hash_add(&h, "\n", 1);

    for (i = 0; i < nnames; i++) {
        sigv4_hash_str(&h, names[i]);
        sigv4_hash_add(&h, ":", 1);

        if (strcmp(names[i], "host") == 0) {
            for (s = hs; s < he; s++) {
                lc = (*s >= 'A' && *s <= 'Z') ? (*s | 0x20) : *s;
                sigv4_hash_add(&h, &lc, 1);
            }

        } else {
            sigv4_hash_header_value(&h, (const unsigned char *) hv[i],
                                    hv_len[i]);
        }

        sigv4_hash_add(&h, "\n", 1);
    }

    sigv4_hash_add(&h, "\n", 1);
    sigv4_hash_str(&h, signed_list);
    sigv4_hash_str(&h, "\n" VIDEO_SIGV4_UNSIGNED_PAYLOAD);

    if (sigv4_hash_final(&h, creq) != 0 || sigv4_sign(c, date, creq, want) != 0)
    {
        *err = "libcrypto failed";
        return VIDEO_SIGV4_ERROR;
    }

    if (CRYPTO_memcmp(want, sig, SIGV4_HEX_LEN) != 0) {
        *err = "signature does not match";
        return VIDEO_SIGV4_SIGNATURE_MISMATCH;
    }

    *err = NULL;

    return VIDEO_SIGV4_OK;
}
