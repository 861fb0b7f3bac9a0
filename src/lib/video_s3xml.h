/*
 * S3's XML: the documents an S3-compatible store answers with (errors,
 * ListObjectsV2 pages, the multipart results, DeleteObjects results), the
 * listing logic behind a ListObjectsV2 page, and strict parsers of the
 * request bodies a store reads (CompleteMultipartUpload, DeleteObjects)
 * and of the answers an S3 client reads (InitiateMultipartUpload,
 * ListParts, CompleteMultipartUpload, Error).
 *
 * Renderers write into a caller buffer: with out NULL they return the
 * length the document needs, else they write exactly that many bytes (no
 * NUL) and return it; -1 when a value cannot be put in XML 1.0 (text
 * that is not UTF-8, or holds a control character other than tab, LF and
 * CR, which are written as character references).
 *
 * Parsers take the body as it came, len bytes, and a buffer of at least
 * len bytes that decoded text is written to: every string they return
 * points into it (or into in), so it must outlive them.  They allocate
 * nothing and recurse nowhere.  They refuse DOCTYPE (and so any entity
 * declaration), processing instructions other than a leading XML
 * declaration, elements nested deeper than VIDEO_S3XML_DEPTH_MAX,
 * references other than the five predefined entities and numeric
 * references to XML characters, text that is not UTF-8, and bodies
 * longer than VIDEO_S3XML_BODY_MAX.  Attributes (xmlns) are checked for
 * form and ignored; comments and whitespace between elements are
 * skipped; CDATA sections are read as text; element names are matched
 * without namespace prefixes.
 */

#ifndef _VIDEO_S3XML_H_INCLUDED_
#define _VIDEO_S3XML_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VIDEO_S3XML_BODY_MAX    (8 * 1024 * 1024)
#define VIDEO_S3XML_DEPTH_MAX   16
#define VIDEO_S3XML_PARTS_MAX   10000     /* a Complete's parts, part numbers */
#define VIDEO_S3XML_DELETE_MAX  1000      /* a DeleteObjects' keys */
#define VIDEO_S3XML_KEYS_MAX    1000      /* a listing page, max-keys' cap */
#define VIDEO_S3XML_KEY_MAX     1024      /* bytes of a key */
#define VIDEO_S3XML_ETAG_MAX    64        /* an ETag read from S3, unquoted */

/* base64url, no padding, of a kind byte and up to a key's bytes */
#define VIDEO_S3XML_TOKEN_MAX   ((1 + VIDEO_S3XML_KEY_MAX) * 4 / 3 + 2)

#define VIDEO_S3XML_NS  "http://s3.amazonaws.com/doc/2006-03-01/"


/* results; video_s3xml_code() names them as S3 does */
#define VIDEO_S3XML_OK                  0
#define VIDEO_S3XML_MALFORMED           1   /* MalformedXML */
#define VIDEO_S3XML_INVALID_PART_ORDER  2   /* InvalidPartOrder */
#define VIDEO_S3XML_INVALID_PART        3   /* InvalidPart */
#define VIDEO_S3XML_INVALID_ARGUMENT    4   /* InvalidArgument */
#define VIDEO_S3XML_S3_ERROR            5   /* the answer is an <Error> */


/* a string; the member order of ngx_str_t */
typedef struct {
    size_t                       len;
    const char                  *data;
} video_s3xml_str_t;


/* the error document, each value escaped; resource and request_id may
 * be empty (len 0), and are then left out */
typedef struct {
    video_s3xml_str_t            code;
    video_s3xml_str_t            message;
    video_s3xml_str_t            resource;
    video_s3xml_str_t            request_id;
} video_s3xml_error_t;


/* an object of a listing: its ETag unquoted, as the store keeps it */
typedef struct {
    video_s3xml_str_t            key;
    video_s3xml_str_t            etag;
    int64_t                      size;
    int64_t                      mtime_ms;  /* ms since the Unix epoch */
} video_s3xml_object_t;


/*
 * A ListObjectsV2 request's parameters.  data NULL means not given
 * (delimiter, start_after, token); an empty delimiter is none.
 * max_keys comes from video_s3xml_max_keys() (-1 when not given: 1000).
 */
typedef struct {
    video_s3xml_str_t            prefix;
    video_s3xml_str_t            delimiter;
    video_s3xml_str_t            start_after;
    video_s3xml_str_t            token;
    long                         max_keys;
    int                          url;        /* encoding-type=url */
} video_s3xml_query_t;


/*
 * A page of a listing, in the order S3 gives it: keys and common
 * prefixes in byte order, each list on its own, both counted against
 * max_keys.  video_s3xml_list_page() fills it, or a caller that has
 * sorted and filtered by itself; next_token is rendered only when
 * truncated.
 */
typedef struct {
    video_s3xml_object_t         contents[VIDEO_S3XML_KEYS_MAX];
    video_s3xml_str_t            prefixes[VIDEO_S3XML_KEYS_MAX];
    size_t                       ncontents;
    size_t                       nprefixes;
    long                         max_keys;   /* as applied: 0..1000 */
    int                          truncated;
    size_t                       next_token_len;
    char                         next_token[VIDEO_S3XML_TOKEN_MAX + 1];
} video_s3xml_page_t;


/* a part: of a CompleteMultipartUpload body, or of a ListParts answer */
typedef struct {
    uint32_t                     number;
    int64_t                      size;       /* -1 where none is given */
    int64_t                      mtime_ms;   /* for rendering ListParts */
    size_t                       etag_len;
    char                         etag[VIDEO_S3XML_ETAG_MAX + 1];
} video_s3xml_part_t;


typedef struct {
    video_s3xml_str_t            bucket;
    video_s3xml_str_t            key;
    video_s3xml_str_t            upload_id;
    uint32_t                     part_number_marker;
    uint32_t                     next_part_number_marker;
    uint32_t                     max_parts;
    int                          truncated;
    const video_s3xml_part_t    *parts;
    size_t                       nparts;
} video_s3xml_list_parts_t;


/* an entry of a DeleteResult: deleted when code.len is 0 */
typedef struct {
    video_s3xml_str_t            key;
    video_s3xml_str_t            code;
    video_s3xml_str_t            message;
} video_s3xml_deleted_t;


/* an Object of a DeleteObjects body; version_id.data NULL when absent */
typedef struct {
    video_s3xml_str_t            key;
    video_s3xml_str_t            version_id;
} video_s3xml_delete_key_t;


/* what an S3 error document says (video_s3xml_parse_error) */
typedef struct {
    video_s3xml_str_t            code;
    video_s3xml_str_t            message;
} video_s3xml_s3_error_t;


/*
 * A ListObjectsV2 page as read from S3, MinIO or this store: each
 * Contents' key, ETag (unquoted; len 0 when none is given) and Size (-1
 * when none is given) in contents (mtime_ms 0), IsTruncated, and the
 * NextContinuationToken when truncated.
 */
typedef struct {
    video_s3xml_object_t        *contents;   /* the caller's array */
    size_t                       nalloc;
    size_t                       ncontents;
    int                          truncated;
    video_s3xml_str_t            next_token;
} video_s3xml_objects_page_t;


/* ListParts as read from S3 or MinIO */
typedef struct {
    video_s3xml_part_t          *parts;      /* the caller's array */
    size_t                       nalloc;
    size_t                       nparts;
    int                          truncated;
    uint32_t                     next_part_number_marker;
} video_s3xml_parts_page_t;


/* "MalformedXML" for VIDEO_S3XML_MALFORMED, ...; "InternalError" else */
const char *video_s3xml_code(int rc);


/* Renderers: see the top of this file for out, the result and -1. */

/* <?xml ...?>\n<Error><Code>..</Code>...</Error>\n */
long video_s3xml_error(const video_s3xml_error_t *err, char *out);

/* a ListObjectsV2 answer for bucket, query and the page made for it */
long video_s3xml_list(const video_s3xml_str_t *bucket,
    const video_s3xml_query_t *query, const video_s3xml_page_t *page,
    char *out);

long video_s3xml_initiate(const video_s3xml_str_t *bucket,
    const video_s3xml_str_t *key, const video_s3xml_str_t *upload_id,
    char *out);

/* etag unquoted ("<md5 hex>-<parts>"); the quotes are added */
long video_s3xml_complete(const video_s3xml_str_t *location,
    const video_s3xml_str_t *bucket, const video_s3xml_str_t *key,
    const video_s3xml_str_t *etag, char *out);

long video_s3xml_list_parts(const video_s3xml_list_parts_t *lp, char *out);

/* quiet: only the entries with a code are written */
long video_s3xml_delete_result(const video_s3xml_deleted_t *entries,
    size_t n, int quiet, char *out);

/*
 * A CompleteMultipartUpload request body, for a client: the parts
 * in the order given, ETags quoted.
 */
long video_s3xml_complete_request(const video_s3xml_part_t *parts,
    size_t n, char *out);


/*
 * Listing.
 *
 * max-keys' value: digits only; more than 1000 is 1000.  0, or
 * VIDEO_S3XML_INVALID_ARGUMENT (a sign, not a number, empty).
 */
int video_s3xml_max_keys(const char *s, size_t len, long *max_keys);

/*
 * The page for query out of objects (every key under the prefix, or
 * more, in any order; sorted here in place by bytes, as memcmp orders
 * them, so "a-b" comes before "a/b").  Keys after the continuation
 * token's position, or else after start_after, that begin with the
 * prefix are taken in order; with a delimiter, a key whose rest after
 * the prefix holds it is rolled up into the common prefix ending at its
 * first occurrence, which counts once against max_keys.  The page holds
 * up to max_keys entries; truncated when any remained, next_token then
 * naming the last one returned.  max_keys 0 gives an empty page that is
 * not truncated.  Page entries point into objects.
 *
 * The continuation token is base64url (no padding, canonical) of "K" and
 * the last key returned, or "P" and the last common prefix returned (so
 * its keys are not listed again).  A token is refused, with
 * VIDEO_S3XML_INVALID_ARGUMENT, unless it decodes to one this function
 * could have issued for this query: a known kind, 1..1024 bytes of
 * UTF-8 without NUL that begin with the prefix, and for "P" that end
 * with the delimiter.  It carries no more than start-after can, so a
 * token a client makes itself gains it nothing.  Keys that are not
 * UTF-8 (or hold NUL) or are longer than VIDEO_S3XML_KEY_MAX are
 * skipped; a key given twice is listed once.
 *
 * 0, or VIDEO_S3XML_INVALID_ARGUMENT (the token, a delimiter that is
 * not UTF-8, max_keys < -1).
 */
int video_s3xml_list_page(video_s3xml_object_t *objects, size_t n,
    const video_s3xml_query_t *query, video_s3xml_page_t *page);


/*
 * Request bodies, for a store.
 *
 * CompleteMultipartUpload: <CompleteMultipartUpload><Part><PartNumber>
 * and <ETag> per part.  Fills parts (nalloc entries; give
 * VIDEO_S3XML_PARTS_MAX) with each part's number and its ETag as 32
 * lower-case hex digits (quotes around it optional; size -1).  Other
 * elements in a Part (ChecksumCRC32, ChecksumSHA256, ...) or in the
 * root are skipped.  VIDEO_S3XML_MALFORMED for a body that is not that
 * document, a Part without exactly one PartNumber and one ETag, a part
 * number that is not decimal digits, no parts, or more than nalloc (or
 * 10000); else VIDEO_S3XML_INVALID_PART for a part number outside
 * 1..10000 or an ETag that is not an MD5, or
 * VIDEO_S3XML_INVALID_PART_ORDER when the numbers do not strictly
 * ascend (a repeated number too), whichever comes first.
 */
int video_s3xml_parse_complete(const char *in, size_t len, char *buf,
    video_s3xml_part_t *parts, size_t nalloc, size_t *nparts);

/*
 * DeleteObjects: <Delete><Quiet>true|false</Quiet><Object><Key>..</Key>
 * <VersionId>..</VersionId></Object>...</Delete>.  Fills keys (nalloc
 * entries; give VIDEO_S3XML_DELETE_MAX) with each Object's key, decoded
 * (1..1024 bytes of UTF-8), and its VersionId when it has one: this
 * parser does not judge versions; a store without versioning answers
 * such an Object with a per-key error (NoSuchVersion) unless it is
 * "null".  VIDEO_S3XML_MALFORMED for anything else: no Object, more
 * than nalloc (or 1000), an Object without exactly one Key, a Quiet
 * other than true or false, a key that is empty or too long.
 */
int video_s3xml_parse_delete(const char *in, size_t len, char *buf,
    video_s3xml_delete_key_t *keys, size_t nalloc, size_t *nkeys,
    int *quiet);


/*
 * Answers, for a client.  Each returns VIDEO_S3XML_S3_ERROR when the
 * body is an <Error> document, filling err (which may be NULL) as
 * video_s3xml_parse_error() does, and VIDEO_S3XML_MALFORMED when it is
 * not the document expected or lacks what is read from it.
 */

/* <Error>: its Code (required) and Message (may be empty) */
int video_s3xml_parse_error(const char *in, size_t len, char *buf,
    video_s3xml_s3_error_t *err);

/* InitiateMultipartUploadResult: its UploadId (non-empty) */
int video_s3xml_parse_initiate(const char *in, size_t len, char *buf,
    video_s3xml_str_t *upload_id, video_s3xml_s3_error_t *err);

/*
 * ListPartsResult: each Part's PartNumber (1..10000), ETag (unquoted,
 * 1..64 bytes of printable ASCII) and Size into page->parts, IsTruncated,
 * and NextPartNumberMarker (0 when absent; required when truncated).
 * More parts than page->nalloc is VIDEO_S3XML_MALFORMED.
 */
int video_s3xml_parse_list_parts(const char *in, size_t len, char *buf,
    video_s3xml_parts_page_t *page, video_s3xml_s3_error_t *err);

/*
 * ListBucketResult (ListObjectsV2): see video_s3xml_objects_page_t.  With
 * <EncodingType>url</EncodingType> the keys are percent-decoded ("+" is
 * a space), as botocore undoes encoding-type=url.  A Contents without
 * exactly one Key, a key empty, longer than VIDEO_S3XML_KEY_MAX, not
 * UTF-8 or holding NUL once decoded, a bad escape, an ETag or Size given
 * twice or malformed, another EncodingType, IsTruncated missing or other
 * than true or false, no NextContinuationToken (or an empty one) when
 * truncated, or more Contents than page->nalloc is
 * VIDEO_S3XML_MALFORMED.  CommonPrefixes, Owner and the other elements
 * are skipped.
 */
int video_s3xml_parse_list_objects(const char *in, size_t len, char *buf,
    video_s3xml_objects_page_t *page, video_s3xml_s3_error_t *err);

/*
 * CompleteMultipartUploadResult: its ETag, unquoted.  S3 may answer a
 * Complete with 200 and an <Error> body: that is VIDEO_S3XML_S3_ERROR.
 */
int video_s3xml_parse_complete_result(const char *in, size_t len, char *buf,
    video_s3xml_str_t *etag, video_s3xml_s3_error_t *err);


#endif /* _VIDEO_S3XML_H_INCLUDED_ */
