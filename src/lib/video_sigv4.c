/*
 * AWS Signature Version 4 as S3 applies it, the signing side: presigned
 * URLs and Authorization headers.  S3 signs the path exactly as it is sent
 * (encoded once, never normalized), so the URL we build is its own
 * canonical form and is hashed as it stands.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "video_sigv4_int.h"
#include "video_form.h"


/* a signed Host value: bucket, ".", the endpoint's host, ":65535" */
#define SIGV4_MAX_HOST                                                        \
    (VIDEO_SIGV4_MAX_BUCKET + 1 + VIDEO_SIGV4_MAX_ENDPOINT + 6 + 1)

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
    const char     *start;
    size_t          len;          /* without a trailing "/" */
    size_t          scheme_len;   /* "http://" or "https://" */
    const char     *host;         /* "[::1]" keeps its brackets */
    size_t          host_len;
    const char     *authority;    /* host[:port] as written */
    size_t          authority_len;
    unsigned        port;         /* 0 when the scheme's default */
} sigv4_endpoint_t;


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
    int                   c;
    char                  ch;
    video_sigv4_canon_t   it;

    video_sigv4_canon_init(&it, s, strlen(s), 0, keep_slash);

    while ((c = video_sigv4_canon_next(&it)) != -1) {
        ch = (char) c;
        sigv4_buf_add(b, &ch, 1);
    }
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
            if (video_form_hex((unsigned char) a[i]) < 0 && a[i] != ':'
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

    if (i == 0 || i > 5 || video_sigv4_digits(colon + 1, i, &port) != 0
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
        || !video_sigv4_method_valid(p->method, strlen(p->method)))
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

    /* no key: the bucket itself */

    if (p->key == NULL) {
        return 0;
    }

    n = strlen(p->key);

    if (n == 0 || n > VIDEO_SIGV4_MAX_KEY) {
        *err = "bad key";
        return -1;
    }

    return 0;
}


/*
 * the object's URL (the bucket's, key NULL) without a query; *path is
 * the offset of its path
 */
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

    /* the bucket: "/bucket" path-style (a store refuses an empty
     * segment), "/" virtual-hosted */

    if (p->key == NULL) {
        if (!p->path_style) {
            sigv4_buf_add(b, "/", 1);
        }

        return;
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
    return video_sigv4_presign_query(c, p, bind, NULL, 0, out, size, err);
}


/*
 * names as S3's subresources are: [a-z][A-Za-z0-9-]*, ascending, none
 * that a verifier could take for one of SigV4's own
 */
static int
sigv4_params_valid(const video_sigv4_param_t *params, size_t n)
{
    size_t       i, j, len;
    const char  *s;

    for (i = 0; i < n; i++) {
        s = params[i].name;
        len = (s != NULL) ? strlen(s) : 0;

        if (len == 0 || len > VIDEO_SIGV4_MAX_PARAM_NAME
            || !(s[0] >= 'a' && s[0] <= 'z')
            || strncasecmp(s, "x-amz-", 6) == 0
            || params[i].value == NULL
            || strlen(params[i].value) > VIDEO_SIGV4_MAX_KEY)
        {
            return 0;
        }

        for (j = 1; j < len; j++) {
            if (!((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z')
                  || (s[j] >= '0' && s[j] <= '9') || s[j] == '-'))
            {
                return 0;
            }
        }

        if (i > 0 && strcmp(params[i - 1].name, s) >= 0) {
            return 0;
        }
    }

    return 1;
}


int
video_sigv4_presign_query(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, const video_sigv4_bind_t *bind,
    const video_sigv4_param_t *params, size_t n, char *out, size_t size,
    const char **err)
{
    char                *q;
    size_t               path, hn, i;
    sigv4_buf_t          b, l;
    video_sigv4_hash_t   h;
    sigv4_endpoint_t     ep;
    video_sigv4_bind_t   none;
    char                 date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    char                 host[SIGV4_MAX_HOST], num[24], length[24];
    char                 list[sizeof(SIGV4_BOUND_HEADERS)];
    char                 creq[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];

    if (!video_sigv4_creds_valid(c)) {
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

    if (n > 0 && (params == NULL || !sigv4_params_valid(params, n))) {
        *err = "bad query parameter";
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

    if (video_sigv4_amz_date(p->now, date) != 0) {
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

    /* lower-case names: after every X-Amz-* in the canonical order */

    for (i = 0; i < n; i++) {
        sigv4_buf_add(&b, "&", 1);
        sigv4_buf_str(&b, params[i].name);
        sigv4_buf_add(&b, "=", 1);
        sigv4_buf_encode(&b, params[i].value, 0);
    }

    if (b.full) {
        *err = "buffer too small";
        return -1;
    }

    hn = sigv4_signed_host(p, &ep, host);

    video_sigv4_hash_init(&h);
    video_sigv4_hash_str(&h, p->method);
    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_add(&h, out + path, (size_t) (q - out) - path);
    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_add(&h, q + 1, (size_t) (b.pos - q) - 1);
    video_sigv4_hash_add(&h, "\n", 1);

    if (bind->content_length >= 0) {
        video_sigv4_hash_str(&h, "content-length:");
        video_sigv4_hash_str(&h, length);
        video_sigv4_hash_add(&h, "\n", 1);
    }

    if (bind->content_type != NULL) {
        video_sigv4_hash_str(&h, "content-type:");
        video_sigv4_hash_str(&h, bind->content_type);
        video_sigv4_hash_add(&h, "\n", 1);
    }

    video_sigv4_hash_str(&h, "host:");
    video_sigv4_hash_add(&h, host, hn);
    video_sigv4_hash_add(&h, "\n", 1);

    if (bind->if_none_match != NULL) {
        video_sigv4_hash_str(&h, "if-none-match:");
        video_sigv4_hash_str(&h, bind->if_none_match);
        video_sigv4_hash_add(&h, "\n", 1);
    }

    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_str(&h, list);
    video_sigv4_hash_str(&h, "\n" VIDEO_SIGV4_UNSIGNED_PAYLOAD);

    if (video_sigv4_hash_final(&h, creq) != 0
        || video_sigv4_sign(c, date, creq, sig) != 0)
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
    size_t               path, hn, i;
    sigv4_buf_t          b;
    video_sigv4_hash_t   h;
    sigv4_endpoint_t     ep;
    char                 date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    char                 host[SIGV4_MAX_HOST], url[VIDEO_SIGV4_URL_MAX];
    char                 creq[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];
    const char          *ph;

    if (!video_sigv4_creds_valid(c)) {
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
            if (strchr(video_sigv4_lhex, ph[i]) == NULL) {
                break;
            }
        }

        if (i != SIGV4_HEX_LEN || ph[i] != '\0') {
            *err = "bad payload hash";
            return -1;
        }
    }

    if (video_sigv4_amz_date(p->now, date) != 0) {
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

    video_sigv4_hash_init(&h);
    video_sigv4_hash_str(&h, p->method);
    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_add(&h, url + path, (size_t) (b.pos - url) - path);
    video_sigv4_hash_str(&h, "\n\nhost:");
    video_sigv4_hash_add(&h, host, hn);
    video_sigv4_hash_str(&h, "\nx-amz-content-sha256:");
    video_sigv4_hash_str(&h, ph);
    video_sigv4_hash_str(&h, "\nx-amz-date:");
    video_sigv4_hash_str(&h, date);
    video_sigv4_hash_str(&h, "\n\n" SIGV4_HEADERS "\n");
    video_sigv4_hash_str(&h, ph);

    if (video_sigv4_hash_final(&h, creq) != 0
        || video_sigv4_sign(c, date, creq, sig) != 0)
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
