/*
 * What an S3 client reads, and the store's listing.  Each input goes
 * whole through the answer parsers (Error, InitiateMultipartUpload,
 * ListParts, CompleteMultipartUpload, ListObjectsV2), with a decoding
 * buffer exactly as long as the body; then it is read as a ListObjectsV2
 * request and the keys to list, lines of
 *
 *     prefix \n delimiter \n start-after \n token \n max-keys \n keys...
 *
 * (empty delimiter, start-after and token: not given; keys one a line,
 * "url" in max-keys' line asks for encoding-type=url).  A page must be
 * in byte order, under the prefix, after the marker, grouped by the
 * delimiter and no longer than max-keys; following the continuation
 * tokens page by page must give exactly what one page of 1000 gives;
 * every page accepted must render, and with encoding-type=url always,
 * and read back by the ListObjectsV2 parser as the same keys.
 */

#define _GNU_SOURCE  /* memmem() */

#include "fuzz.h"
#include "video_s3xml.h"


#define KEYS_MAX  300


static video_s3xml_part_t    parts[1000];
static video_s3xml_object_t  objects[KEYS_MAX];
static video_s3xml_page_t    page, whole;
static video_s3xml_object_t  listed[VIDEO_S3XML_KEYS_MAX];


static int
in_buf(const video_s3xml_str_t *s, const char *buf, size_t size)
{
    return s->data >= buf && s->len <= size
           && (size_t) (s->data - buf) <= size - s->len;
}


static void
check_answers(const char *body, size_t size, char *buf)
{
    int                         rc;
    size_t                      i;
    video_s3xml_str_t           v;
    video_s3xml_s3_error_t      err;
    video_s3xml_parts_page_t    pp;
    video_s3xml_objects_page_t  op;

    rc = video_s3xml_parse_error(body, size, buf, &err);
    fuzz_assert(rc == VIDEO_S3XML_OK || rc == VIDEO_S3XML_MALFORMED);

    if (rc == VIDEO_S3XML_OK) {
        fuzz_assert(err.code.len > 0 && in_buf(&err.code, buf, size));
        fuzz_assert(in_buf(&err.message, buf, size));
    }

    rc = video_s3xml_parse_initiate(body, size, buf, &v, &err);
    fuzz_assert(rc == VIDEO_S3XML_OK || rc == VIDEO_S3XML_MALFORMED
                || rc == VIDEO_S3XML_S3_ERROR);

    if (rc == VIDEO_S3XML_OK) {
        fuzz_assert(v.len > 0 && in_buf(&v, buf, size));
    }

    rc = video_s3xml_parse_complete_result(body, size, buf, &v, NULL);

    if (rc == VIDEO_S3XML_OK) {
        fuzz_assert(v.len > 0 && v.len <= VIDEO_S3XML_ETAG_MAX);
        fuzz_assert(in_buf(&v, buf, size) || in_buf(&v, body, size));
    }

    memset(&pp, 0, sizeof(pp));
    pp.parts = parts;
    pp.nalloc = FUZZ_NELTS(parts);

    rc = video_s3xml_parse_list_parts(body, size, buf, &pp, &err);

    if (rc == VIDEO_S3XML_OK) {
        fuzz_assert(pp.nparts <= pp.nalloc);
        fuzz_assert(!pp.truncated || pp.next_part_number_marker <= 10000);

        for (i = 0; i < pp.nparts; i++) {
            fuzz_assert(parts[i].number >= 1 && parts[i].number <= 10000);
            fuzz_assert(parts[i].etag_len >= 1
                        && parts[i].etag_len <= VIDEO_S3XML_ETAG_MAX);
            fuzz_assert(strlen(parts[i].etag) == parts[i].etag_len);
            fuzz_assert(parts[i].size >= 0);
        }
    }

    memset(&op, 0, sizeof(op));
    op.contents = listed;
    op.nalloc = FUZZ_NELTS(listed);

    rc = video_s3xml_parse_list_objects(body, size, buf, &op, &err);
    fuzz_assert(rc == VIDEO_S3XML_OK || rc == VIDEO_S3XML_MALFORMED
                || rc == VIDEO_S3XML_S3_ERROR);

    if (rc == VIDEO_S3XML_OK) {
        fuzz_assert(op.ncontents <= op.nalloc);
        fuzz_assert(!op.truncated
                    || (op.next_token.len > 0
                        && in_buf(&op.next_token, buf, size)));

        for (i = 0; i < op.ncontents; i++) {
            fuzz_assert(listed[i].key.len >= 1
                        && listed[i].key.len <= VIDEO_S3XML_KEY_MAX);
            fuzz_assert(in_buf(&listed[i].key, buf, size));
            fuzz_assert(memchr(listed[i].key.data, '\0', listed[i].key.len)
                        == NULL);
            fuzz_assert(listed[i].etag.len <= VIDEO_S3XML_ETAG_MAX);
            fuzz_assert(listed[i].size >= -1);
        }
    }
}


static int
cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int     rc;
    size_t  n;

    n = alen < blen ? alen : blen;
    rc = n ? memcmp(a, b, n) : 0;

    return rc ? rc : (alen > blen) - (alen < blen);
}


static int
starts(const char *s, size_t len, const video_s3xml_str_t *p)
{
    return len >= p->len && (p->len == 0 || memcmp(s, p->data, p->len) == 0);
}


/* the page entries in byte order (contents and prefixes merged) */

static size_t
entries(const video_s3xml_page_t *pg, video_s3xml_str_t *out, int *cp)
{
    size_t  i, j, n;

    i = 0;
    j = 0;
    n = 0;

    while (i < pg->ncontents || j < pg->nprefixes) {
        if (j == pg->nprefixes
            || (i < pg->ncontents
                && cmp(pg->contents[i].key.data, pg->contents[i].key.len,
                       pg->prefixes[j].data, pg->prefixes[j].len) < 0))
        {
            out[n] = pg->contents[i++].key;
            cp[n++] = 0;

        } else {
            out[n] = pg->prefixes[j++];
            cp[n++] = 1;
        }
    }

    return n;
}


static void
check_page(const video_s3xml_query_t *q, const video_s3xml_page_t *pg)
{
    long                        i, n;
    char                       *out, *buf;
    const char                 *d;
    video_s3xml_str_t           b = { 1, "b" }, *e;
    video_s3xml_objects_page_t  op;

    fuzz_assert(pg->ncontents + pg->nprefixes <= (size_t) pg->max_keys);
    fuzz_assert(pg->max_keys >= 0 && pg->max_keys <= 1000);
    fuzz_assert(!pg->truncated || pg->next_token_len > 0);

    for (i = 0; i < (long) pg->ncontents; i++) {
        e = (video_s3xml_str_t *) &pg->contents[i].key;
        fuzz_assert(starts(e->data, e->len, &q->prefix));
        fuzz_assert(i == 0 || cmp(pg->contents[i - 1].key.data,
                                  pg->contents[i - 1].key.len,
                                  e->data, e->len) <= 0);

        if (q->delimiter.len != 0) {
            d = memmem(e->data + q->prefix.len, e->len - q->prefix.len,
                       q->delimiter.data, q->delimiter.len);
            fuzz_assert(d == NULL);
        }
    }

    for (i = 0; i < (long) pg->nprefixes; i++) {
        e = (video_s3xml_str_t *) &pg->prefixes[i];
        fuzz_assert(q->delimiter.len != 0);
        fuzz_assert(starts(e->data, e->len, &q->prefix));
        fuzz_assert(e->len >= q->prefix.len + q->delimiter.len);
        fuzz_assert(memcmp(e->data + e->len - q->delimiter.len,
                           q->delimiter.data, q->delimiter.len) == 0);
        fuzz_assert(i == 0 || cmp(pg->prefixes[i - 1].data,
                                  pg->prefixes[i - 1].len,
                                  e->data, e->len) < 0);
    }

    n = video_s3xml_list(&b, q, pg, NULL);
    fuzz_assert(n >= 0 || !q->url);

    if (n >= 0) {
        out = malloc(n != 0 ? n : 1);
        fuzz_assert(out != NULL);
        fuzz_assert(video_s3xml_list(&b, q, pg, out) == n);

        /* what a client reads of it: the same keys, in that order */

        buf = malloc(n != 0 ? n : 1);
        fuzz_assert(buf != NULL);

        memset(&op, 0, sizeof(op));
        op.contents = listed;
        op.nalloc = FUZZ_NELTS(listed);

        fuzz_assert(video_s3xml_parse_list_objects(out, n, buf, &op, NULL)
                    == VIDEO_S3XML_OK);
        fuzz_assert(op.ncontents == pg->ncontents);
        fuzz_assert(op.truncated == pg->truncated);

        for (i = 0; i < (long) op.ncontents; i++) {
            fuzz_assert(cmp(listed[i].key.data, listed[i].key.len,
                            pg->contents[i].key.data,
                            pg->contents[i].key.len) == 0);
            fuzz_assert(listed[i].size == pg->contents[i].size);
        }

        free(buf);
        free(out);
    }
}


static void
check_listing(const char *data, size_t size)
{
    int                  rc, cp1[1000], cp2[1000];
    long                 max_keys, pages;
    char                 token[VIDEO_S3XML_TOKEN_MAX + 1];
    size_t               i, n, nobj, nwhole, got;
    fuzz_part_t          p[6], k[KEYS_MAX];
    video_s3xml_str_t    e1[1000], e2[1000];
    video_s3xml_query_t  q;

    static video_s3xml_str_t  seen[KEYS_MAX + 1000];
    static int                seen_cp[KEYS_MAX + 1000];

    fuzz_split((const uint8_t *) data, size, '\n', p, 6);

    memset(&q, 0, sizeof(q));
    q.prefix.data = p[0].data;
    q.prefix.len = p[0].len;

    if (p[1].len != 0) {
        q.delimiter.data = p[1].data;
        q.delimiter.len = p[1].len;
    }

    if (p[2].len != 0) {
        q.start_after.data = p[2].data;
        q.start_after.len = p[2].len;
    }

    if (p[3].len != 0) {
        q.token.data = p[3].data;
        q.token.len = p[3].len;
    }

    q.url = (p[4].len >= 3 && memcmp(p[4].data, "url", 3) == 0);

    if (video_s3xml_max_keys(p[4].data + (q.url ? 3 : 0),
                             p[4].len - (q.url ? 3 : 0), &max_keys) != 0)
    {
        max_keys = -1;
    }

    q.max_keys = max_keys;

    n = fuzz_split((const uint8_t *) p[5].data, p[5].len, '\n', k,
                   KEYS_MAX) + 1;

    if (p[5].len == 0) {
        n = 0;
    }

    for (i = 0; i < n; i++) {
        objects[i].key.data = k[i].data;
        objects[i].key.len = k[i].len;
        objects[i].etag.data = "d41d8cd98f00b204e9800998ecf8427e";
        objects[i].etag.len = 32;
        objects[i].size = (int64_t) i;
        objects[i].mtime_ms = 1764120225123LL + (int64_t) i;
    }

    nobj = n;
    rc = video_s3xml_list_page(objects, nobj, &q, &page);

    if (rc != VIDEO_S3XML_OK) {
        fuzz_assert(rc == VIDEO_S3XML_INVALID_ARGUMENT);
        fuzz_assert(q.token.data != NULL || q.delimiter.data != NULL);
        return;
    }

    check_page(&q, &page);

    if (max_keys == 0) {
        fuzz_assert(page.ncontents + page.nprefixes == 0 && !page.truncated);
        return;
    }

    /* the whole listing at once, then page by page */

    q.max_keys = 1000;
    fuzz_assert(video_s3xml_list_page(objects, nobj, &q, &whole) == 0);
    fuzz_assert(!whole.truncated);
    nwhole = entries(&whole, e1, cp1);

    q.max_keys = max_keys;
    got = 0;

    for (pages = 0; pages <= KEYS_MAX + 1; pages++) {
        fuzz_assert(video_s3xml_list_page(objects, nobj, &q, &page) == 0);
        check_page(&q, &page);

        n = entries(&page, e2, cp2);

        for (i = 0; i < n; i++) {
            fuzz_assert(got < nwhole);
            seen[got] = e2[i];
            seen_cp[got++] = cp2[i];
        }

        if (!page.truncated) {
            break;
        }

        fuzz_assert(n > 0);
        memcpy(token, page.next_token, page.next_token_len + 1);
        q.token.data = token;
        q.token.len = page.next_token_len;
    }

    fuzz_assert(got == nwhole);

    for (i = 0; i < nwhole; i++) {
        fuzz_assert(seen_cp[i] == cp1[i]);
        fuzz_assert(cmp(seen[i].data, seen[i].len, e1[i].data, e1[i].len)
                    == 0);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  *buf;

    buf = malloc(size != 0 ? size : 1);
    fuzz_assert(buf != NULL);

    check_answers((const char *) data, size, buf);
    free(buf);

    check_listing((const char *) data, size);

    return 0;
}
