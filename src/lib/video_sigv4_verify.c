/*
 * SigV4 requests verified as the object server receives them: presigned
 * ones (X-Amz-* query parameters) and header-signed ones (Authorization).
 * The verifier gets whatever a client sent, so it decodes path and query
 * and encodes them again before hashing; the canonical request is streamed
 * into the digest, so verification needs no heap of its own and no buffer
 * as large as the request.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "video_sigv4_int.h"
#include "video_form.h"


/* X-Amz-SignedHeaders, decoded, with its NUL */
#define SIGV4_MAX_LIST  512


/* one query parameter as sent, still percent-encoded */
typedef struct {
    const unsigned char  *name;
    size_t                name_len;
    const unsigned char  *value;
    size_t                value_len;
} sigv4_param_t;


enum {
    SIGV4_P_ALGORITHM = 0,
    SIGV4_P_CREDENTIAL,
    SIGV4_P_DATE,
    SIGV4_P_EXPIRES,
    SIGV4_P_SIGNED_HEADERS,
    SIGV4_P_SIGNATURE,
    SIGV4_P_N
};


/* the request as parse leaves it: within the limits, its query split */
typedef struct {
    const char           *method;
    const unsigned char  *path;
    size_t                path_len;
    const unsigned char  *host;       /* without surrounding blanks */
    const unsigned char  *host_end;
    sigv4_param_t         params[VIDEO_SIGV4_MAX_PARAMS];
    size_t                nparams;    /* all but the signature */
    sigv4_param_t         signature;
    sigv4_param_t        *auth[SIGV4_P_N];
} sigv4_request_t;


/* what signs the request, decoded and checked by extract */
typedef struct {
    const char           *payload;    /* the canonical request's last line */
    size_t                payload_len;
    char                  date[VIDEO_SIGV4_AMZ_DATE_LEN + 1];
    char                  signature[SIGV4_HEX_LEN + 1];
    char                  signed_list[SIGV4_MAX_LIST];
    char                  names_buf[SIGV4_MAX_LIST];  /* split into names */
    char                 *names[VIDEO_SIGV4_MAX_SIGNED];
    size_t                nnames;
} sigv4_auth_t;


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

/* what is wrong with a list of signed headers: malformed, without host */
static const char  *const sigv4_query_list[2] = {
    "malformed X-Amz-SignedHeaders",
    "X-Amz-SignedHeaders does not include host"
};


/* the fields of an Authorization header, as sent (not NUL-terminated) */
typedef struct {
    const char  *value;
    size_t       len;
} sigv4_field_t;


enum {
    SIGV4_A_CREDENTIAL = 0,
    SIGV4_A_SIGNED_HEADERS,
    SIGV4_A_SIGNATURE,
    SIGV4_A_N
};


typedef struct {
    const char  *name;
    const char  *missing;
    const char  *duplicate;
    const char  *malformed;
} sigv4_field_name_t;


static const sigv4_field_name_t  sigv4_fields[SIGV4_A_N] = {
    { "Credential", "missing Credential in Authorization",
      "duplicate Credential in Authorization",
      "malformed Credential in Authorization" },
    { "SignedHeaders", "missing SignedHeaders in Authorization",
      "duplicate SignedHeaders in Authorization",
      "malformed SignedHeaders in Authorization" },
    { "Signature", "missing Signature in Authorization",
      "duplicate Signature in Authorization",
      "malformed Signature in Authorization" }
};

static const char  *const sigv4_header_list[2] = {
    "malformed SignedHeaders in Authorization",
    "SignedHeaders does not include host"
};

/*
 * Headers a header-signed request must sign: the name, what is said when
 * SignedHeaders lacks it, when the request does, when it comes twice
 */
enum {
    SIGV4_R_CONTENT_SHA256 = 0,
    SIGV4_R_DATE
};

static const char  *const sigv4_required[][4] = {
    { "x-amz-content-sha256", "SignedHeaders does not include "
      "x-amz-content-sha256", "missing X-Amz-Content-SHA256",
      "X-Amz-Content-SHA256 is sent more than once" },
    { "x-amz-date", "SignedHeaders does not include x-amz-date",
      "missing X-Amz-Date", "X-Amz-Date is sent more than once" }
};

#define SIGV4_STREAMING  "STREAMING-"


/* every "%" is followed by two hex digits */
static int
sigv4_pct_valid(const unsigned char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            continue;
        }

        if (i + 2 >= len || video_form_hex((unsigned char) s[i + 1]) < 0
            || video_form_hex((unsigned char) s[i + 2]) < 0)
        {
            return 0;
        }

        i += 2;
    }

    return 1;
}


/* compares the canonical forms of two encoded strings */
static int
sigv4_canon_cmp(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
    int                   ca, cb;
    video_sigv4_canon_t   ia, ib;

    video_sigv4_canon_init(&ia, a, alen, 1, 0);
    video_sigv4_canon_init(&ib, b, blen, 1, 0);

    do {
        ca = video_sigv4_canon_next(&ia);
        cb = video_sigv4_canon_next(&ib);
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
            out[n] = (char) (video_form_hex((unsigned char) s[i + 1]) << 4
                             | video_form_hex((unsigned char) s[i + 2]));
            i += 2;

        } else {
            out[n] = (char) s[i];
        }
    }

    out[n] = '\0';

    return (long) n;
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
        || video_sigv4_digits(s, 4, &y) != 0
        || video_sigv4_digits(s + 4, 2, &mo) != 0
        || video_sigv4_digits(s + 6, 2, &d) != 0
        || video_sigv4_digits(s + 9, 2, &h) != 0
        || video_sigv4_digits(s + 11, 2, &mi) != 0
        || video_sigv4_digits(s + 13, 2, &se) != 0
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

    if (video_sigv4_amz_date(*t, again) != 0
        || memcmp(again, s, VIDEO_SIGV4_AMZ_DATE_LEN) != 0)
    {
        return -1;
    }

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
    const char *malformed, const char **err)
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
        *err = malformed;
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
 * A list of signed headers (X-Amz-SignedHeaders decoded, or the
 * SignedHeaders of Authorization) split in place into names: lower-case
 * tokens, sorted without repeats (as SigV4 requires), "host" among them;
 * msg says what is wrong when it is malformed, and when host is missing
 */
static int
sigv4_signed_names(char *list, char **names, size_t *nnames,
    const char *const *msg, const char **err)
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
            *err = msg[0];
            return -1;
        }

        for (i = 0; s[i] != '\0'; i++) {
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
                  || s[i] == '-'))
            {
                *err = msg[0];
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
        *err = msg[1];
        return -1;
    }

    *nnames = n;

    return 0;
}


/* a header value in its canonical form: trimmed, blanks collapsed */
static void
sigv4_hash_header_value(video_sigv4_hash_t *h, const unsigned char *v,
    size_t len)
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
            video_sigv4_hash_add(h, " ", 1);
        }

        blank = 0;
        started = 1;
        video_sigv4_hash_add(h, &v[i], 1);
    }
}


/* the Host header without surrounding blanks, to be compared in lower case */
static int
sigv4_parse_host(sigv4_request_t *r, const char *host, size_t host_len,
    const char **err)
{
    const unsigned char  *s, *hs, *he;

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

    r->host = hs;
    r->host_end = he;

    return VIDEO_SIGV4_OK;
}


/*
 * The query split into parameters.  Presigned: the X-Amz-* ones must each
 * come once, and the signature stays out of the canonical query.  Signed
 * in the Authorization header: every parameter is in the canonical query,
 * and none may say that the query signs the request too.
 */
static int
sigv4_parse_query(sigv4_request_t *r, const char *query, size_t query_len,
    int presigned, const char **err)
{
    int                   k, idx;
    size_t                np;
    sigv4_param_t        *p;
    const unsigned char  *s, *end, *amp, *eq;

    for (k = 0; k < SIGV4_P_N; k++) {
        r->auth[k] = NULL;
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

            p = &r->params[np];
            p->name = s;
            p->name_len = (size_t) ((eq != NULL ? eq : amp) - s);
            p->value = (eq != NULL) ? eq + 1 : amp;
            p->value_len = (size_t) (amp - p->value);

            if (!sigv4_pct_valid(p->name, p->name_len)
                || !sigv4_pct_valid(p->value, p->value_len))
            {
                *err = "malformed percent-encoding in the query";
                return VIDEO_SIGV4_ACCESS_DENIED;
            }

            idx = sigv4_auth_param(p->name, p->name_len);

            if (!presigned) {
                if (idx == SIGV4_P_ALGORITHM || idx == SIGV4_P_CREDENTIAL
                    || idx == SIGV4_P_SIGNATURE)
                {
                    *err = "an Authorization header and a presigned query";
                    return VIDEO_SIGV4_ACCESS_DENIED;
                }

                idx = -1;
            }

            if (idx >= 0 && r->auth[idx] != NULL) {
                *err = sigv4_duplicate[idx];
                return VIDEO_SIGV4_ACCESS_DENIED;
            }

            if (idx == SIGV4_P_SIGNATURE) {
                r->signature = *p;
                r->auth[idx] = &r->signature;

            } else {
                if (idx >= 0) {
                    r->auth[idx] = p;
                }

                np++;
            }
        }

        if (amp == end) {
            break;
        }

        s = amp + 1;
    }

    r->nparams = np;

    return VIDEO_SIGV4_OK;
}


/*
 * The request as it came, within the limits, its Host and query parsed,
 * for our credentials
 */
static int
sigv4_parse(sigv4_request_t *r, const video_sigv4_creds_t *c,
    const char *method, const char *path, size_t path_len, const char *query,
    size_t query_len, const char *host, size_t host_len, int presigned,
    const char **err)
{
    int  rc;

    if (!video_sigv4_creds_valid(c)) {
        *err = "bad credentials";
        return VIDEO_SIGV4_ERROR;
    }

    if (method == NULL || !video_sigv4_method_valid(method, strlen(method))) {
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

    rc = sigv4_parse_host(r, host, host_len, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    r->method = method;
    r->path = (const unsigned char *) path;
    r->path_len = path_len;

    return sigv4_parse_query(r, query, query_len, presigned, err);
}


static int
sigv4_check_time(int64_t t, int64_t expires, int64_t now, const char **err)
{
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

    return VIDEO_SIGV4_OK;
}


/*
 * What signs the request, from its X-Amz-* parameters: each one decoded
 * and checked, the credential's scope against ours, the date and expiry
 * against the clock
 */
static int
sigv4_extract(const video_sigv4_creds_t *c, const sigv4_request_t *r,
    int64_t now, sigv4_auth_t *a, const char **err)
{
    int       k;
    long      n;
    int64_t   expires, t;
    char      alg[32], cred[320], expires_s[16];
    char     *val[SIGV4_P_N];
    size_t    val_size[SIGV4_P_N];

    val[SIGV4_P_ALGORITHM] = alg;
    val_size[SIGV4_P_ALGORITHM] = sizeof(alg);
    val[SIGV4_P_CREDENTIAL] = cred;
    val_size[SIGV4_P_CREDENTIAL] = sizeof(cred);
    val[SIGV4_P_DATE] = a->date;
    val_size[SIGV4_P_DATE] = sizeof(a->date);
    val[SIGV4_P_EXPIRES] = expires_s;
    val_size[SIGV4_P_EXPIRES] = sizeof(expires_s);
    val[SIGV4_P_SIGNED_HEADERS] = a->names_buf;
    val_size[SIGV4_P_SIGNED_HEADERS] = sizeof(a->names_buf);
    val[SIGV4_P_SIGNATURE] = a->signature;
    val_size[SIGV4_P_SIGNATURE] = sizeof(a->signature);

    for (k = 0; k < SIGV4_P_N; k++) {
        if (r->auth[k] == NULL) {
            *err = sigv4_missing[k];
            return VIDEO_SIGV4_ACCESS_DENIED;
        }

        /* a decoded NUL would hide what follows it from the checks */

        n = sigv4_decode(r->auth[k]->value, r->auth[k]->value_len, val[k],
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

    a->payload = VIDEO_SIGV4_UNSIGNED_PAYLOAD;
    a->payload_len = sizeof(VIDEO_SIGV4_UNSIGNED_PAYLOAD) - 1;

    memcpy(a->signed_list, a->names_buf, sizeof(a->names_buf));

    if (sigv4_signed_names(a->names_buf, a->names, &a->nnames,
                           sigv4_query_list, err)
        != 0)
    {
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (sigv4_parse_date(a->date, strlen(a->date), &t) != 0) {
        *err = sigv4_malformed[SIGV4_P_DATE];
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    n = (long) strlen(expires_s);

    if (n == 0 || n > 7
        || video_sigv4_digits(expires_s, (size_t) n, &expires) != 0
        || expires < VIDEO_SIGV4_MIN_EXPIRES
        || expires > VIDEO_SIGV4_MAX_EXPIRES)
    {
        *err = "X-Amz-Expires is not 1..604800";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (sigv4_check_scope(c, cred, a->date,
                          sigv4_malformed[SIGV4_P_CREDENTIAL], err)
        != 0)
    {
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    if (strlen(a->signature) != SIGV4_HEX_LEN) {
        *err = sigv4_malformed[SIGV4_P_SIGNATURE];
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    return sigv4_check_time(t, expires, now, err);
}


/*
 * The canonical query: every parameter but the signature, sorted by
 * encoded name, then by encoded value (insertion sort: a few dozen at
 * most)
 */
static void
sigv4_sort_params(sigv4_param_t *params, size_t n)
{
    int            k;
    size_t         i, j;
    sigv4_param_t  tmp;

    for (i = 1; i < n; i++) {
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
}


/*
 * Every signed header but Host as the request carries it: one that is
 * missing or sent twice cannot be what was signed
 */
static int
sigv4_signed_values(const sigv4_auth_t *a, video_sigv4_header_pt header,
    void *data, const char **hv, size_t *hv_len, const char **err)
{
    int     rc;
    size_t  i;

    for (i = 0; i < a->nnames; i++) {
        if (strcmp(a->names[i], "host") == 0) {
            continue;
        }

        rc = (header != NULL)
             ? header(data, a->names[i], strlen(a->names[i]), &hv[i],
                      &hv_len[i])
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

    return VIDEO_SIGV4_OK;
}


/*
 * The canonical request as the request carries it, hashed and signed
 * with our key, against the signature it came with
 */
static int
sigv4_verify(const video_sigv4_creds_t *c, sigv4_request_t *r,
    const sigv4_auth_t *a, video_sigv4_header_pt header, void *data,
    const char **err)
{
    int                   rc;
    size_t                i;
    unsigned char         lc;
    video_sigv4_hash_t    h;
    const unsigned char  *s;
    const char           *hv[VIDEO_SIGV4_MAX_SIGNED];
    size_t                hv_len[VIDEO_SIGV4_MAX_SIGNED];
    char                  creq[SIGV4_HEX_LEN + 1], want[SIGV4_HEX_LEN + 1];

    rc = sigv4_signed_values(a, header, data, hv, hv_len, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    sigv4_sort_params(r->params, r->nparams);

    video_sigv4_hash_init(&h);
    video_sigv4_hash_str(&h, r->method);
    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_canon(&h, r->path, r->path_len, 1);
    video_sigv4_hash_add(&h, "\n", 1);

    for (i = 0; i < r->nparams; i++) {
        if (i > 0) {
            video_sigv4_hash_add(&h, "&", 1);
        }

        video_sigv4_hash_canon(&h, r->params[i].name, r->params[i].name_len,
                               0);
        video_sigv4_hash_add(&h, "=", 1);
        video_sigv4_hash_canon(&h, r->params[i].value,
                               r->params[i].value_len, 0);
    }

    video_sigv4_hash_add(&h, "\n", 1);

    for (i = 0; i < a->nnames; i++) {
        video_sigv4_hash_str(&h, a->names[i]);
        video_sigv4_hash_add(&h, ":", 1);

        if (strcmp(a->names[i], "host") == 0) {
            for (s = r->host; s < r->host_end; s++) {
                lc = (*s >= 'A' && *s <= 'Z') ? (*s | 0x20) : *s;
                video_sigv4_hash_add(&h, &lc, 1);
            }

        } else {
            sigv4_hash_header_value(&h, (const unsigned char *) hv[i],
                                    hv_len[i]);
        }

        video_sigv4_hash_add(&h, "\n", 1);
    }

    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_str(&h, a->signed_list);
    video_sigv4_hash_add(&h, "\n", 1);
    video_sigv4_hash_add(&h, a->payload, a->payload_len);

    if (video_sigv4_hash_final(&h, creq) != 0
        || video_sigv4_sign(c, a->date, creq, want) != 0)
    {
        *err = "libcrypto failed";
        return VIDEO_SIGV4_ERROR;
    }

    if (CRYPTO_memcmp(want, a->signature, SIGV4_HEX_LEN) != 0) {
        *err = "signature does not match";
        return VIDEO_SIGV4_SIGNATURE_MISMATCH;
    }

    *err = NULL;

    return VIDEO_SIGV4_OK;
}


int
video_sigv4_verify_headers(const video_sigv4_creds_t *c, const char *method,
    const char *path, size_t path_len, const char *query, size_t query_len,
    const char *host, size_t host_len, video_sigv4_header_pt header,
    void *data, int64_t now, const char **err)
{
    int              rc;
    sigv4_auth_t     a;
    sigv4_request_t  r;

    rc = sigv4_parse(&r, c, method, path, path_len, query, query_len, host,
                     host_len, 1, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    rc = sigv4_extract(c, &r, now, &a, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    return sigv4_verify(c, &r, &a, header, data, err);
}



static int
sigv4_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}


/* which field of Authorization a name is, or -1 */
static int
sigv4_field(const unsigned char *name, size_t len)
{
    int  k;

    for (k = 0; k < SIGV4_A_N; k++) {
        if (strlen(sigv4_fields[k].name) == len
            && memcmp(sigv4_fields[k].name, name, len) == 0)
        {
            return k;
        }
    }

    return -1;
}


/*
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * split into its three fields: each once, in any order, separated by
 * commas with optional blanks, values of visible ASCII without commas
 */
static int
sigv4_parse_authorization(const char *auth, size_t len, sigv4_field_t *f,
    const char **err)
{
    int                   k;
    const unsigned char  *p, *end, *s;

    for (k = 0; k < SIGV4_A_N; k++) {
        f[k].value = NULL;
        f[k].len = 0;
    }

    if (auth == NULL || len == 0 || len > VIDEO_SIGV4_MAX_AUTHORIZATION) {
        *err = "missing or oversize Authorization";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    p = (const unsigned char *) auth;
    end = p + len;

    while (p < end && sigv4_blank(*p)) {
        p++;
    }

    while (end > p && sigv4_blank(end[-1])) {
        end--;
    }

    s = p;

    while (s < end && !sigv4_blank(*s)) {
        s++;
    }

    if ((size_t) (s - p) != sizeof(SIGV4_ALGORITHM) - 1
        || memcmp(p, SIGV4_ALGORITHM, sizeof(SIGV4_ALGORITHM) - 1) != 0)
    {
        *err = "algorithm is not " SIGV4_ALGORITHM;
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    /* p: at the blank after the algorithm, or after a comma */

    for (p = s; p < end; p++) {
        while (p < end && sigv4_blank(*p)) {
            p++;
        }

        s = p;

        while (p < end && (*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') {
            p++;
        }

        k = sigv4_field(s, (size_t) (p - s));

        if (k < 0 || p == end || *p != '=') {
            *err = "malformed Authorization";
            return VIDEO_SIGV4_ACCESS_DENIED;
        }

        if (f[k].value != NULL) {
            *err = sigv4_fields[k].duplicate;
            return VIDEO_SIGV4_ACCESS_DENIED;
        }

        s = ++p;

        while (p < end && *p > ' ' && *p < 0x7f && *p != ',') {
            p++;
        }

        f[k].value = (const char *) s;
        f[k].len = (size_t) (p - s);

        while (p < end && sigv4_blank(*p)) {
            p++;
        }

        if (f[k].len == 0 || (p < end && *p != ',')) {
            *err = sigv4_fields[k].malformed;
            return VIDEO_SIGV4_ACCESS_DENIED;
        }

        if (p + 1 == end) {
            *err = "malformed Authorization";
            return VIDEO_SIGV4_ACCESS_DENIED;
        }
    }

    for (k = 0; k < SIGV4_A_N; k++) {
        if (f[k].value == NULL) {
            *err = sigv4_fields[k].missing;
            return VIDEO_SIGV4_ACCESS_DENIED;
        }
    }

    return VIDEO_SIGV4_OK;
}


/* a field's value, NUL-terminated, into a buffer known to hold it */
static void
sigv4_field_copy(const sigv4_field_t *f, char *dst)
{
    memcpy(dst, f->value, f->len);
    dst[f->len] = '\0';
}


/* a header a header-signed request must sign, read and trimmed */
static int
sigv4_required_header(const sigv4_auth_t *a, video_sigv4_header_pt header,
    void *data, size_t which, const char **v, size_t *len, const char **err)
{
    int          rc;
    size_t       i;
    const char  *name;

    name = sigv4_required[which][0];

    for (i = 0; i < a->nnames && strcmp(a->names[i], name) != 0; i++) {
        /* void */
    }

    if (i == a->nnames) {
        *err = sigv4_required[which][1];
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    rc = (header != NULL) ? header(data, name, strlen(name), v, len) : 0;

    if (rc <= 0) {
        *err = sigv4_required[which][(rc == 0) ? 2 : 3];
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    while (*len > 0 && sigv4_blank((unsigned char) (*v)[0])) {
        (*v)++;
        (*len)--;
    }

    while (*len > 0 && sigv4_blank((unsigned char) (*v)[*len - 1])) {
        (*len)--;
    }

    return VIDEO_SIGV4_OK;
}


/*
 * What X-Amz-Content-SHA256 says the body is: UNSIGNED-PAYLOAD, its
 * SHA-256 in lower-case hex, or STREAMING-<upper case, digits, dashes>
 */
static int
sigv4_payload(const char *v, size_t len, video_sigv4_payload_t *pl)
{
    int     hi, lo;
    size_t  i;

    if (len == sizeof(VIDEO_SIGV4_UNSIGNED_PAYLOAD) - 1
        && memcmp(v, VIDEO_SIGV4_UNSIGNED_PAYLOAD, len) == 0)
    {
        pl->kind = VIDEO_SIGV4_PAYLOAD_UNSIGNED;
        return 0;
    }

    if (len == SIGV4_HEX_LEN) {
        for (i = 0; i < len; i += 2) {
            hi = video_form_hex((unsigned char) v[i]);
            lo = video_form_hex((unsigned char) v[i + 1]);

            if (hi < 0 || lo < 0 || (v[i] >= 'A' && v[i] <= 'F')
                || (v[i + 1] >= 'A' && v[i + 1] <= 'F'))
            {
                return -1;
            }

            pl->sha256[i / 2] = (unsigned char) (hi << 4 | lo);
        }

        memcpy(pl->sha256_hex, v, len);
        pl->sha256_hex[len] = '\0';
        pl->kind = VIDEO_SIGV4_PAYLOAD_SHA256;
        return 0;
    }

    if (len <= sizeof(SIGV4_STREAMING) - 1 || len > SIGV4_MAX_LIST
        || memcmp(v, SIGV4_STREAMING, sizeof(SIGV4_STREAMING) - 1) != 0)
    {
        return -1;
    }

    for (i = sizeof(SIGV4_STREAMING) - 1; i < len; i++) {
        if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9')
              || v[i] == '-'))
        {
            return -1;
        }
    }

    pl->kind = VIDEO_SIGV4_PAYLOAD_STREAMING;

    return 0;
}


static int
sigv4_check_skew(int64_t t, int64_t now, const char **err)
{
    /* a clock this far off cannot be compared without overflow */
    if (now < 0 || now > SIGV4_MAX_TIME + VIDEO_SIGV4_MAX_SKEW) {
        *err = "clock out of range";
        return VIDEO_SIGV4_TIME_SKEWED;
    }

    if (t - now > VIDEO_SIGV4_MAX_SKEW || now - t > VIDEO_SIGV4_MAX_SKEW) {
        *err = "X-Amz-Date is too far from the server's time";
        return VIDEO_SIGV4_TIME_SKEWED;
    }

    return VIDEO_SIGV4_OK;
}


/*
 * What signs a header-signed request: the fields of Authorization checked,
 * the credential's scope against ours and X-Amz-Date's day, X-Amz-Date
 * against the clock, X-Amz-Content-SHA256 for the payload line
 */
static int
sigv4_extract_auth(const video_sigv4_creds_t *c, const char *authorization,
    size_t authorization_len, video_sigv4_header_pt header, void *data,
    int64_t now, sigv4_auth_t *a, video_sigv4_payload_t *pl,
    const char **err)
{
    int             k, rc;
    size_t          len, i;
    int64_t         t;
    const char     *v;
    char            cred[320];
    sigv4_field_t   f[SIGV4_A_N], *sig;

    rc = sigv4_parse_authorization(authorization, authorization_len, f, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    /* the signature is 64 lower-case hex digits, the rest fits */

    sig = &f[SIGV4_A_SIGNATURE];

    i = 0;

    while (i < sig->len && strchr(video_sigv4_lhex, sig->value[i]) != NULL) {
        i++;
    }

    k = (f[SIGV4_A_CREDENTIAL].len >= sizeof(cred)) ? SIGV4_A_CREDENTIAL
        : (f[SIGV4_A_SIGNED_HEADERS].len >= sizeof(a->names_buf))
          ? SIGV4_A_SIGNED_HEADERS
        : (sig->len != SIGV4_HEX_LEN || i != sig->len) ? SIGV4_A_SIGNATURE
        : -1;

    if (k >= 0) {
        *err = sigv4_fields[k].malformed;
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    sigv4_field_copy(&f[SIGV4_A_CREDENTIAL], cred);
    sigv4_field_copy(&f[SIGV4_A_SIGNED_HEADERS], a->names_buf);
    sigv4_field_copy(sig, a->signature);

    memcpy(a->signed_list, a->names_buf, sizeof(a->names_buf));

    if (sigv4_signed_names(a->names_buf, a->names, &a->nnames,
                           sigv4_header_list, err)
        != 0)
    {
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    rc = sigv4_required_header(a, header, data, SIGV4_R_DATE, &v, &len, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    if (len != VIDEO_SIGV4_AMZ_DATE_LEN
        || sigv4_parse_date(v, len, &t) != 0)
    {
        *err = "malformed X-Amz-Date";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    memcpy(a->date, v, len);
    a->date[len] = '\0';

    if (sigv4_check_scope(c, cred, a->date,
                          sigv4_fields[SIGV4_A_CREDENTIAL].malformed, err)
        != 0)
    {
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    rc = sigv4_check_skew(t, now, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    rc = sigv4_required_header(a, header, data, SIGV4_R_CONTENT_SHA256,
                               &v, &len, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    if (sigv4_payload(v, len, pl) != 0) {
        *err = "X-Amz-Content-SHA256 is not UNSIGNED-PAYLOAD, a SHA-256 or "
               "STREAMING-*";
        return VIDEO_SIGV4_ACCESS_DENIED;
    }

    a->payload = v;
    a->payload_len = len;

    return VIDEO_SIGV4_OK;
}


int
video_sigv4_verify_auth(const video_sigv4_creds_t *c, const char *method,
    const char *path, size_t path_len, const char *query, size_t query_len,
    const char *host, size_t host_len, const char *authorization,
    size_t authorization_len, video_sigv4_header_pt header, void *data,
    int64_t now, video_sigv4_payload_t *payload, const char **err)
{
    int                    rc;
    sigv4_auth_t           a;
    sigv4_request_t        r;
    video_sigv4_payload_t  pl;

    if (payload == NULL) {
        *err = "no payload to report to";
        return VIDEO_SIGV4_ERROR;
    }

    payload->kind = VIDEO_SIGV4_PAYLOAD_NONE;

    rc = sigv4_parse(&r, c, method, path, path_len, query, query_len, host,
                     host_len, 0, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    rc = sigv4_extract_auth(c, authorization, authorization_len, header,
                            data, now, &a, &pl, err);
    if (rc != VIDEO_SIGV4_OK) {
        return rc;
    }

    rc = sigv4_verify(c, &r, &a, header, data, err);

    if (rc == VIDEO_SIGV4_OK) {
        *payload = pl;
    }

    return rc;
}
