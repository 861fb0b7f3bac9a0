/*
 * The object store's request bodies: each input through
 * video_s3xml_parse_complete() and video_s3xml_parse_delete(), with a
 * decoding buffer exactly as long as the body (the parsers promise no
 * more is needed).  What a parser accepts must keep its promises (parts
 * 1..10000 strictly ascending with MD5 ETags, keys of 1..1024 bytes in
 * the buffer), a CompleteMultipartUpload rendered from the parts must
 * parse back to the same parts, and a DeleteResult of the keys must
 * render, measured and written alike.
 */

#include "fuzz.h"
#include "video_s3xml.h"


static video_s3xml_part_t        parts[VIDEO_S3XML_PARTS_MAX];
static video_s3xml_part_t        again[VIDEO_S3XML_PARTS_MAX];
static video_s3xml_delete_key_t  keys[VIDEO_S3XML_DELETE_MAX];
static video_s3xml_deleted_t     deleted[VIDEO_S3XML_DELETE_MAX];


static int
in_buf(const video_s3xml_str_t *s, const char *buf, size_t size)
{
    return s->data >= buf && s->len <= size
           && (size_t) (s->data - buf) <= size - s->len;
}


static void
check_complete(const char *body, size_t size, char *buf)
{
    int     rc;
    long    n, m;
    char   *out, *buf2;
    size_t  i, j, nparts, n2;

    rc = video_s3xml_parse_complete(body, size, buf, parts,
                                    VIDEO_S3XML_PARTS_MAX, &nparts);

    fuzz_assert(rc >= VIDEO_S3XML_OK && rc <= VIDEO_S3XML_INVALID_PART);

    if (rc == VIDEO_S3XML_MALFORMED) {
        fuzz_assert(nparts == 0);
        return;
    }

    fuzz_assert(nparts >= 1 && nparts <= VIDEO_S3XML_PARTS_MAX);

    if (rc != VIDEO_S3XML_OK) {
        return;
    }

    for (i = 0; i < nparts; i++) {
        fuzz_assert(parts[i].number >= 1
                    && parts[i].number <= VIDEO_S3XML_PARTS_MAX);
        fuzz_assert(i == 0 || parts[i].number > parts[i - 1].number);
        fuzz_assert(parts[i].etag_len == 32 && parts[i].etag[32] == '\0');

        for (j = 0; j < 32; j++) {
            fuzz_assert((parts[i].etag[j] >= '0' && parts[i].etag[j] <= '9')
                        || (parts[i].etag[j] >= 'a'
                            && parts[i].etag[j] <= 'f'));
        }
    }

    n = video_s3xml_complete_request(parts, nparts, NULL);
    fuzz_assert(n > 0);

    out = malloc(n);
    buf2 = malloc(n);
    fuzz_assert(out != NULL && buf2 != NULL);

    m = video_s3xml_complete_request(parts, nparts, out);
    fuzz_assert(m == n);

    fuzz_assert(video_s3xml_parse_complete(out, n, buf2, again,
                                           VIDEO_S3XML_PARTS_MAX, &n2)
                == VIDEO_S3XML_OK || n > VIDEO_S3XML_BODY_MAX);

    if (n <= VIDEO_S3XML_BODY_MAX) {
        fuzz_assert(n2 == nparts);

        for (i = 0; i < nparts; i++) {
            fuzz_assert(again[i].number == parts[i].number);
            fuzz_assert(memcmp(again[i].etag, parts[i].etag, 33) == 0);
        }
    }

    free(out);
    free(buf2);
}


static void
check_delete(const char *body, size_t size, char *buf)
{
    int     rc, quiet;
    long    n, m;
    char   *out;
    size_t  i, nkeys;

    rc = video_s3xml_parse_delete(body, size, buf, keys,
                                  VIDEO_S3XML_DELETE_MAX, &nkeys, &quiet);

    fuzz_assert(rc == VIDEO_S3XML_OK || rc == VIDEO_S3XML_MALFORMED);

    if (rc != VIDEO_S3XML_OK) {
        fuzz_assert(nkeys == 0);
        return;
    }

    fuzz_assert(nkeys >= 1 && nkeys <= VIDEO_S3XML_DELETE_MAX);
    fuzz_assert(quiet == 0 || quiet == 1);

    for (i = 0; i < nkeys; i++) {
        fuzz_assert(keys[i].key.len >= 1
                    && keys[i].key.len <= VIDEO_S3XML_KEY_MAX);
        fuzz_assert(in_buf(&keys[i].key, buf, size));
        fuzz_assert(keys[i].version_id.data == NULL
                    || in_buf(&keys[i].version_id, buf, size));

        deleted[i].key = keys[i].key;
        deleted[i].code.len = (i % 3 == 2) ? 12 : 0;
        deleted[i].code.data = "AccessDenied";
        deleted[i].message.len = 13;
        deleted[i].message.data = "Access Denied";
    }

    /* every key the parser passes can be answered */

    n = video_s3xml_delete_result(deleted, nkeys, quiet, NULL);
    fuzz_assert(n > 0);

    out = malloc(n);
    fuzz_assert(out != NULL);

    m = video_s3xml_delete_result(deleted, nkeys, quiet, out);
    fuzz_assert(m == n);

    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  *buf;

    /* exactly the body's length: ASan catches a byte more */

    buf = malloc(size != 0 ? size : 1);
    fuzz_assert(buf != NULL);

    check_complete((const char *) data, size, buf);
    check_delete((const char *) data, size, buf);

    free(buf);

    return 0;
}
