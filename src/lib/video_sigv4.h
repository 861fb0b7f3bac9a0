/*
 * AWS Signature Version 4 for S3: presigned URLs, their verification as the
 * object server sees them, and Authorization headers for uploads and
 * downloads.  Pure C on libcrypto; no global state, safe in any thread.
 */

#ifndef _VIDEO_SIGV4_H_INCLUDED_
#define _VIDEO_SIGV4_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* "20130524T000000Z" */
#define VIDEO_SIGV4_AMZ_DATE_LEN  16

#define VIDEO_SIGV4_MIN_EXPIRES   1
#define VIDEO_SIGV4_MAX_EXPIRES   604800

/*
 * how far X-Amz-Date may be ahead of the verifier's clock; for a
 * header-signed request, also behind it
 */
#define VIDEO_SIGV4_MAX_SKEW      900

/* S3's own limits on names; longer input is refused, never truncated */
#define VIDEO_SIGV4_MAX_BUCKET    63
#define VIDEO_SIGV4_MAX_KEY       1024
#define VIDEO_SIGV4_MAX_ENDPOINT  256

/* a buffer of this size holds any URL that presign or url accept */
#define VIDEO_SIGV4_URL_MAX       5120

/* enough for any Authorization value that sign_headers accepts */
#define VIDEO_SIGV4_AUTH_MAX      512

/* what verify accepts; larger requests are refused as ACCESS_DENIED */
#define VIDEO_SIGV4_MAX_PATH      8192
#define VIDEO_SIGV4_MAX_QUERY     8192
#define VIDEO_SIGV4_MAX_PARAMS    64
#define VIDEO_SIGV4_MAX_HOST      1024

#define VIDEO_SIGV4_UNSIGNED_PAYLOAD  "UNSIGNED-PAYLOAD"


typedef struct {
    const char  *access_key;
    const char  *secret_key;
    const char  *region;      /* "us-east-1" */
    const char  *service;     /* "s3" */
} video_sigv4_creds_t;


typedef struct {
    const char  *method;      /* "GET", "PUT", "HEAD", "DELETE" */
    const char  *endpoint;    /* "http://127.0.0.1:9000", no path */
    const char  *bucket;
    const char  *key;         /* raw object key, UTF-8; NULL: the */
                              /* bucket itself (ListObjectsV2) */
    int          path_style;  /* 1: endpoint/bucket/key; 0: bucket.host/key */
    int64_t      now;         /* seconds since the epoch */
    long         expires;     /* 1 .. 604800; presign only */
} video_sigv4_presign_t;


/*
 * A query parameter a presigned URL carries besides X-Amz-*, as S3's
 * subresources (uploadId, partNumber, uploads): name begins with a
 * lower-case letter, then letters, digits and "-" (so every such name
 * sorts after the X-Amz-* ones), and is not "x-amz-..." in any case;
 * value any UTF-8 text ("" for a name alone), encoded as SigV4 encodes
 * it.
 */
typedef struct {
    const char  *name;
    const char  *value;
} video_sigv4_param_t;

#define VIDEO_SIGV4_MAX_PARAM_NAME  32


/*
 * Headers a presigned URL binds besides Host: the request must carry each
 * with exactly this value.  Values are signed as they are, so they must
 * already be in SigV4's canonical form: visible ASCII with single blanks
 * inside, at most VIDEO_SIGV4_MAX_HEADER_VALUE bytes.
 */
typedef struct {
    int64_t      content_length;  /* -1: not bound */
    const char  *content_type;    /* NULL: not bound */
    const char  *if_none_match;   /* NULL: not bound; "*": only a new object */
} video_sigv4_bind_t;

#define VIDEO_SIGV4_MAX_HEADER_VALUE  256


/*
 * The presigned URL into out (NUL-terminated); its length, or -1 with *err
 * set (expiry out of range, bad endpoint, bucket or key, buffer too small).
 * It signs the Host header only.
 */
int video_sigv4_presign(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, char *out, size_t size,
    const char **err);

/*
 * The same, also signing the headers bind names (NULL: none), in
 * X-Amz-SignedHeaders as "content-length;content-type;host;if-none-match"
 * or the part of it that is bound; a bad value is refused with *err set.
 */
int video_sigv4_presign_bound(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, const video_sigv4_bind_t *bind,
    char *out, size_t size, const char **err);

/*
 * The same with n query parameters (params, in strictly ascending order
 * of name) signed and sent beside X-Amz-*; n 0 is presign_bound.  A bad
 * name, a name out of order or twice, or a value longer than
 * VIDEO_SIGV4_MAX_KEY is refused with *err set.
 */
int video_sigv4_presign_query(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, const video_sigv4_bind_t *bind,
    const video_sigv4_param_t *params, size_t n, char *out, size_t size,
    const char **err);


#define VIDEO_SIGV4_ERROR              -1   /* libcrypto failed */
#define VIDEO_SIGV4_OK                  0
#define VIDEO_SIGV4_ACCESS_DENIED       1
#define VIDEO_SIGV4_SIGNATURE_MISMATCH  2
#define VIDEO_SIGV4_EXPIRED             3
#define VIDEO_SIGV4_TIME_SKEWED         4   /* verify_auth only */

/* names in X-Amz-SignedHeaders that verify accepts */
#define VIDEO_SIGV4_MAX_SIGNED  16

/*
 * How the verifier reads a request header other than Host: name is in
 * lower case (not NUL-terminated).  Returns 1 with the value as sent (not
 * NUL-terminated), 0 when the request has no such header, -1 when it has
 * it more than once.
 */
typedef int (*video_sigv4_header_pt)(void *data, const char *name,
    size_t name_len, const char **value, size_t *value_len);

/*
 * Verifies a presigned request as a server receives it: path and query are
 * the raw (still percent-encoded) parts of the request line, host the Host
 * header, and header (with data) reads every other header that
 * X-Amz-SignedHeaders names (NULL: the request has none).  The signature
 * is recomputed over the canonical form (decoded, then encoded again the
 * way SigV4 does; "+" is a plus, not a space; header values trimmed with
 * inner blanks collapsed) and compared in constant time.  Returns one of
 * the codes above, *err says what was wrong:
 *
 * ACCESS_DENIED: a missing, duplicated or malformed X-Amz-* parameter
 *   (X-Amz-Expires outside 1..604800 included; SignedHeaders that are not
 *   a sorted list of lower-case names with "host" among them), an unknown
 *   access key, a scope of another date, region or service, an algorithm
 *   other than AWS4-HMAC-SHA256, malformed percent-encoding, or input
 *   larger than the limits above;
 * EXPIRED: now is past X-Amz-Date + X-Amz-Expires, or X-Amz-Date is more
 *   than VIDEO_SIGV4_MAX_SKEW seconds ahead of now;
 * SIGNATURE_MISMATCH: all of the above is fine but a signed header is
 *   missing from the request or sent twice, or the signature is not the
 *   one the secret key gives for what the request carries.
 */
int video_sigv4_verify_headers(const video_sigv4_creds_t *c,
    const char *method, const char *path, size_t path_len, const char *query,
    size_t query_len, const char *host, size_t host_len,
    video_sigv4_header_pt header, void *data, int64_t now, const char **err);

/* the same for a request that carries no signed header but Host */
int video_sigv4_verify(const video_sigv4_creds_t *c, const char *method,
    const char *path, size_t path_len, const char *query, size_t query_len,
    const char *host, size_t host_len, int64_t now, const char **err);

/*
 * Header-signed requests, as S3 clients (aws-cli, botocore, the SDKs) send
 * them: the signature in an Authorization header, not in the query.
 *
 * Which verifier a request goes to: one that carries an Authorization
 * header (whatever its value) goes to video_sigv4_verify_auth(), any other
 * to video_sigv4_verify_headers().  verify_auth refuses a query that also
 * carries X-Amz-Algorithm, X-Amz-Credential or X-Amz-Signature, as S3
 * refuses two ways of signing one request.  An Authorization header sent
 * more than once is for the caller to refuse as ACCESS_DENIED.
 */

/* longer Authorization values are refused as ACCESS_DENIED */
#define VIDEO_SIGV4_MAX_AUTHORIZATION  2048

#define VIDEO_SIGV4_PAYLOAD_NONE       0   /* not verified */
#define VIDEO_SIGV4_PAYLOAD_UNSIGNED   1   /* UNSIGNED-PAYLOAD: any body */
#define VIDEO_SIGV4_PAYLOAD_SHA256     2   /* the body's SHA-256 must be */
                                           /* sha256 (else S3's */
                                           /* XAmzContentSHA256Mismatch) */
#define VIDEO_SIGV4_PAYLOAD_STREAMING  3   /* STREAMING-*: an aws-chunked */
                                           /* body, not decoded here (S3's */
                                           /* NotImplemented) */

/* what X-Amz-Content-SHA256 says the body is */
typedef struct {
    int            kind;               /* VIDEO_SIGV4_PAYLOAD_* */
    unsigned char  sha256[32];         /* kind SHA256: the digest */
    char           sha256_hex[65];     /* kind SHA256: the same, lower-case */
                                       /* hex as sent, NUL-terminated */
} video_sigv4_payload_t;

/*
 * Verifies a header-signed request.  method, path, query, host and header
 * are as for video_sigv4_verify_headers(); authorization is the value of
 * the Authorization header (not NUL-terminated):
 *
 *   AWS4-HMAC-SHA256 Credential=<access key>/<yyyymmdd>/<region>/
 *   <service>/aws4_request, SignedHeaders=<a;b;c>, Signature=<64 hex>
 *
 * (one line; the three fields in any order, each once, separated by
 * commas with optional blanks around them).  SignedHeaders must be a
 * sorted list of lower-case names with host, x-amz-content-sha256 and
 * x-amz-date among them; header reads every signed header but Host.
 * X-Amz-Date ("yyyymmddThhmmssZ") must be of the credential's day.  Every
 * query parameter is part of the canonical query.  X-Amz-Content-SHA256
 * is the canonical request's payload hash and must be UNSIGNED-PAYLOAD,
 * 64 lower-case hex digits, or STREAMING-<upper-case letters, digits and
 * dashes>; *payload (not NULL) says which, once the result is OK (its
 * kind is VIDEO_SIGV4_PAYLOAD_NONE otherwise).  A STREAMING-* request
 * whose seed signature is right is OK with kind STREAMING: the caller
 * refuses it.  Returns one of the codes above, *err says what was wrong:
 *
 * ACCESS_DENIED: a malformed, truncated or oversize (over
 *   VIDEO_SIGV4_MAX_AUTHORIZATION) Authorization, an algorithm other than
 *   AWS4-HMAC-SHA256, a field missing, repeated or unknown, a Signature
 *   that is not 64 lower-case hex digits, SignedHeaders without host,
 *   x-amz-content-sha256 or x-amz-date, X-Amz-Date or
 *   X-Amz-Content-SHA256 missing, sent twice or malformed, an unknown
 *   access key, a scope of another day than X-Amz-Date's or of another
 *   region or service, a presigned query beside the header, malformed
 *   percent-encoding, or input larger than the limits above;
 * TIME_SKEWED: X-Amz-Date is more than VIDEO_SIGV4_MAX_SKEW seconds from
 *   now, either way (S3's RequestTimeTooSkewed);
 * SIGNATURE_MISMATCH: all of the above is fine but another signed header
 *   is missing from the request or sent twice, or the signature is not
 *   the one the secret key gives for what the request carries;
 * ERROR: bad credentials in c, payload NULL, or libcrypto failed.
 *
 * Checks come in that order: the request's limits and query, then
 * Authorization, X-Amz-Date, the scope, the clock, X-Amz-Content-SHA256,
 * the signature.  *err is a static string.  How S3 answers each: OK with
 * kind UNSIGNED serves the request, with kind SHA256 reads the body and
 * answers 400 XAmzContentSHA256Mismatch if its SHA-256 is not sha256,
 * with kind STREAMING 501 NotImplemented; ACCESS_DENIED 403 AccessDenied,
 * SIGNATURE_MISMATCH 403 SignatureDoesNotMatch, TIME_SKEWED 403
 * RequestTimeTooSkewed.
 */
int video_sigv4_verify_auth(const video_sigv4_creds_t *c, const char *method,
    const char *path, size_t path_len, const char *query, size_t query_len,
    const char *host, size_t host_len, const char *authorization,
    size_t authorization_len, video_sigv4_header_pt header, void *data,
    int64_t now, video_sigv4_payload_t *payload, const char **err);

/*
 * Header signing for a request a client sends: the Authorization value
 * into authorization and X-Amz-Date into amz_date (17 bytes), for the
 * signed headers host, x-amz-content-sha256 (payload_sha256_hex: the
 * payload's SHA-256 in lower-case hex, or "UNSIGNED-PAYLOAD") and
 * x-amz-date.  The request goes to the URL video_sigv4_url() gives, with
 * X-Amz-Content-SHA256 set to payload_sha256_hex; p->expires is not used.
 * Returns 0, or -1 with *err set.
 */
int video_sigv4_sign_headers(const video_sigv4_creds_t *c,
    const video_sigv4_presign_t *p, const char *payload_sha256_hex,
    char *authorization, size_t auth_size, char *amz_date,
    const char **err);

/*
 * The unsigned URL of p's object (endpoint, bucket and encoded key, no
 * query) into out; its length, or -1 with *err set.
 */
int video_sigv4_url(const video_sigv4_presign_t *p, char *out, size_t size,
    const char **err);


#endif /* _VIDEO_SIGV4_H_INCLUDED_ */
