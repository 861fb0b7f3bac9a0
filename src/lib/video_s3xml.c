/*
 * S3's XML by hand: a writer that escapes every value, and a pull parser
 * of the one shape S3's documents have (a root, records, leaves of
 * text).  The parser keeps a fixed stack of open element names and
 * decodes text into the caller's buffer, never further than the input
 * it has read, so a body of len bytes needs len bytes of buffer at most;
 * there is no entity table to expand, and nothing recurses.
 */

#define _GNU_SOURCE  /* memmem() */

#include <stdlib.h>
#include <string.h>

#include "video_base64.h"
#include "video_form.h"
#include "video_s3xml.h"
#include "video_time.h"


#define S3XML_DECL  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"


/* the writer: with out NULL it only counts */

typedef struct {
    char                *out;
    size_t               len;
    int                  bad;
} s3xml_w_t;


static void
w_raw(s3xml_w_t *w, const char *s, size_t n)
{
    if (w->out != NULL && n != 0) {
        memcpy(w->out + w->len, s, n);
    }

    w->len += n;
}


static void
w_lit(s3xml_w_t *w, const char *s)
{
    w_raw(w, s, strlen(s));
}


/*
 * One UTF-8 sequence at p (before end): its length, with its code point
 * in *cp, or 0 when it is not well-formed (overlong, a surrogate, past
 * U+10FFFF, cut short).
 */

static size_t
utf8_char(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    size_t    n, i;
    uint32_t  c, min;

    c = p[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return n;
}


/* a character XML 1.0 allows in a document */

static int
xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xa || c == 0xd
           || (c >= 0x20 && c <= 0xd7ff)
           || (c >= 0xe000 && c <= 0xfffd)
           || (c >= 0x10000 && c <= 0x10ffff);
}


static int
utf8_valid(const char *s, size_t len)
{
    uint32_t              c;
    size_t                n;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        n = utf8_char(p, end, &c);
        if (n == 0 || c == 0) {
            return 0;
        }

        p += n;
    }

    return 1;
}


/* text, escaped; what XML cannot carry makes the document fail */

static void
w_text(s3xml_w_t *w, const char *s, size_t len)
{
    size_t                n;
    uint32_t              c;
    const char           *e;
    const unsigned char  *p, *end, *run;

    p = (const unsigned char *) s;
    end = p + len;
    run = p;

    while (p < end) {
        n = utf8_char(p, end, &c);
        if (n == 0 || !xml_char(c)) {
            w->bad = 1;
            return;
        }

        switch (c) {
        case '&':  e = "&amp;";  break;
        case '<':  e = "&lt;";   break;
        case '>':  e = "&gt;";   break;
        case '"':  e = "&quot;"; break;
        case '\'': e = "&apos;"; break;
        case '\t': e = "&#9;";   break;
        case '\n': e = "&#10;";  break;
        case '\r': e = "&#13;";  break;
        default:   e = NULL;
        }

        if (e != NULL) {
            w_raw(w, (const char *) run, p - run);
            w_lit(w, e);
            run = p + n;
        }

        p += n;
    }

    w_raw(w, (const char *) run, p - run);
}


/*
 * encoding-type=url: what botocore and the SDKs undo with unquote_plus:
 * unreserved characters and "/" as they are, a space as "+", every other
 * byte as %XX
 */

static void
w_url(s3xml_w_t *w, const char *s, size_t len)
{
    char           e[3];
    size_t         i;
    unsigned char  c;

    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~' || c == '/')
        {
            w_raw(w, (const char *) &s[i], 1);

        } else if (c == ' ') {
            w_raw(w, "+", 1);

        } else {
            e[0] = '%';
            e[1] = hex[c >> 4];
            e[2] = hex[c & 0xf];
            w_raw(w, e, 3);
        }
    }
}


static void
w_int(s3xml_w_t *w, int64_t v)
{
    char      buf[24];
    size_t    i;
    uint64_t  u;

    i = sizeof(buf);
    u = (v < 0) ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

    do {
        buf[--i] = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    if (v < 0) {
        buf[--i] = '-';
    }

    w_raw(w, buf + i, sizeof(buf) - i);
}


/* <name>escaped text</name> */

static void
w_elem(s3xml_w_t *w, const char *name, const char *s, size_t len)
{
    w_raw(w, "<", 1);
    w_lit(w, name);
    w_raw(w, ">", 1);
    w_text(w, s, len);
    w_raw(w, "</", 2);
    w_lit(w, name);
    w_raw(w, ">", 1);
}


static void
w_elem_str(s3xml_w_t *w, const char *name, const video_s3xml_str_t *s)
{
    w_elem(w, name, s->data, s->len);
}


/* <name>text</name>, URL-encoded when asked */

static void
w_elem_key(s3xml_w_t *w, const char *name, const char *s, size_t len,
    int url)
{
    if (!url) {
        w_elem(w, name, s, len);
        return;
    }

    w_raw(w, "<", 1);
    w_lit(w, name);
    w_raw(w, ">", 1);
    w_url(w, s, len);
    w_raw(w, "</", 2);
    w_lit(w, name);
    w_raw(w, ">", 1);
}


static void
w_elem_int(s3xml_w_t *w, const char *name, int64_t v)
{
    w_raw(w, "<", 1);
    w_lit(w, name);
    w_raw(w, ">", 1);
    w_int(w, v);
    w_raw(w, "</", 2);
    w_lit(w, name);
    w_raw(w, ">", 1);
}


static void
w_elem_bool(s3xml_w_t *w, const char *name, int v)
{
    w_elem(w, name, v ? "true" : "false", v ? 4 : 5);
}


static void
w_elem_time(s3xml_w_t *w, const char *name, int64_t ms)
{
    char    buf[VIDEO_TIME_ISO_LEN + 1];
    size_t  n;

    n = video_time_iso8601(buf, ms);
    if (n == 0) {
        w->bad = 1;
        return;
    }

    w_elem(w, name, buf, n);
}


/* <ETag>&quot;etag&quot;</ETag> */

static void
w_elem_etag(s3xml_w_t *w, const char *etag, size_t len)
{
    w_lit(w, "<ETag>&quot;");
    w_text(w, etag, len);
    w_lit(w, "&quot;</ETag>");
}


static long
w_done(s3xml_w_t *w)
{
    if (w->bad || w->len > (size_t) 0x7fffffff) {
        return -1;
    }

    return (long) w->len;
}


const char *
video_s3xml_code(int rc)
{
    switch (rc) {
    case VIDEO_S3XML_MALFORMED:
        return "MalformedXML";
    case VIDEO_S3XML_INVALID_PART_ORDER:
        return "InvalidPartOrder";
    case VIDEO_S3XML_INVALID_PART:
        return "InvalidPart";
    case VIDEO_S3XML_INVALID_ARGUMENT:
        return "InvalidArgument";
    default:
        return "InternalError";
    }
}


long
video_s3xml_error(const video_s3xml_error_t *err, char *out)
{
    s3xml_w_t  w = { out, 0, 0 };

    w_lit(&w, S3XML_DECL "<Error>");
    w_elem_str(&w, "Code", &err->code);
    w_elem_str(&w, "Message", &err->message);

    if (err->resource.len != 0) {
        w_elem_str(&w, "Resource", &err->resource);
    }

    if (err->request_id.len != 0) {
        w_elem_str(&w, "RequestId", &err->request_id);
    }

    w_lit(&w, "</Error>");

    return w_done(&w);
}


long
video_s3xml_list(const video_s3xml_str_t *bucket,
    const video_s3xml_query_t *query, const video_s3xml_page_t *page,
    char *out)
{
    size_t                       i;
    s3xml_w_t                    w = { out, 0, 0 };
    const video_s3xml_object_t  *o;

    w_lit(&w, S3XML_DECL "<ListBucketResult xmlns=\"" VIDEO_S3XML_NS "\">");
    w_elem_str(&w, "Name", bucket);
    w_elem_key(&w, "Prefix", query->prefix.data, query->prefix.len,
               query->url);

    if (query->delimiter.data != NULL && query->delimiter.len != 0) {
        w_elem_key(&w, "Delimiter", query->delimiter.data,
                   query->delimiter.len, query->url);
    }

    w_elem_int(&w, "MaxKeys", page->max_keys);
    w_elem_int(&w, "KeyCount", (int64_t) (page->ncontents + page->nprefixes));
    w_elem_bool(&w, "IsTruncated", page->truncated);

    if (query->token.data != NULL) {
        w_elem_str(&w, "ContinuationToken", &query->token);
    }

    if (page->truncated) {
        w_elem(&w, "NextContinuationToken", page->next_token,
               page->next_token_len);
    }

    if (query->start_after.data != NULL) {
        w_elem_key(&w, "StartAfter", query->start_after.data,
                   query->start_after.len, query->url);
    }

    if (query->url) {
        w_lit(&w, "<EncodingType>url</EncodingType>");
    }

    for (i = 0; i < page->ncontents; i++) {
        o = &page->contents[i];

        w_lit(&w, "<Contents>");
        w_elem_key(&w, "Key", o->key.data, o->key.len, query->url);
        w_elem_time(&w, "LastModified", o->mtime_ms);
        w_elem_etag(&w, o->etag.data, o->etag.len);
        w_elem_int(&w, "Size", o->size);
        w_lit(&w, "<StorageClass>STANDARD</StorageClass></Contents>");
    }

    for (i = 0; i < page->nprefixes; i++) {
        w_lit(&w, "<CommonPrefixes>");
        w_elem_key(&w, "Prefix", page->prefixes[i].data,
                   page->prefixes[i].len, query->url);
        w_lit(&w, "</CommonPrefixes>");
    }

    w_lit(&w, "</ListBucketResult>");

    return w_done(&w);
}


long
video_s3xml_initiate(const video_s3xml_str_t *bucket,
    const video_s3xml_str_t *key, const video_s3xml_str_t *upload_id,
    char *out)
{
    s3xml_w_t  w = { out, 0, 0 };

    w_lit(&w, S3XML_DECL "<InitiateMultipartUploadResult xmlns=\""
              VIDEO_S3XML_NS "\">");
    w_elem_str(&w, "Bucket", bucket);
    w_elem_str(&w, "Key", key);
    w_elem_str(&w, "UploadId", upload_id);
    w_lit(&w, "</InitiateMultipartUploadResult>");

    return w_done(&w);
}


long
video_s3xml_complete(const video_s3xml_str_t *location,
    const video_s3xml_str_t *bucket, const video_s3xml_str_t *key,
    const video_s3xml_str_t *etag, char *out)
{
    s3xml_w_t  w = { out, 0, 0 };

    w_lit(&w, S3XML_DECL "<CompleteMultipartUploadResult xmlns=\""
              VIDEO_S3XML_NS "\">");
    w_elem_str(&w, "Location", location);
    w_elem_str(&w, "Bucket", bucket);
    w_elem_str(&w, "Key", key);
    w_elem_etag(&w, etag->data, etag->len);
    w_lit(&w, "</CompleteMultipartUploadResult>");

    return w_done(&w);
}


long
video_s3xml_list_parts(const video_s3xml_list_parts_t *lp, char *out)
{
    size_t                     i;
    s3xml_w_t                  w = { out, 0, 0 };
    const video_s3xml_part_t  *p;

    w_lit(&w, S3XML_DECL "<ListPartsResult xmlns=\"" VIDEO_S3XML_NS "\">");
    w_elem_str(&w, "Bucket", &lp->bucket);
    w_elem_str(&w, "Key", &lp->key);
    w_elem_str(&w, "UploadId", &lp->upload_id);
    w_elem_int(&w, "PartNumberMarker", lp->part_number_marker);
    w_elem_int(&w, "NextPartNumberMarker", lp->next_part_number_marker);
    w_elem_int(&w, "MaxParts", lp->max_parts);
    w_elem_bool(&w, "IsTruncated", lp->truncated);

    for (i = 0; i < lp->nparts; i++) {
        p = &lp->parts[i];

        w_lit(&w, "<Part>");
        w_elem_int(&w, "PartNumber", p->number);
        w_elem_time(&w, "LastModified", p->mtime_ms);
        w_elem_etag(&w, p->etag, p->etag_len);
        w_elem_int(&w, "Size", p->size);
        w_lit(&w, "</Part>");
    }

    w_lit(&w, "</ListPartsResult>");

    return w_done(&w);
}


long
video_s3xml_delete_result(const video_s3xml_deleted_t *entries, size_t n,
    int quiet, char *out)
{
    size_t                        i;
    s3xml_w_t                     w = { out, 0, 0 };
    const video_s3xml_deleted_t  *e;

    w_lit(&w, S3XML_DECL "<DeleteResult xmlns=\"" VIDEO_S3XML_NS "\">");

    for (i = 0; i < n; i++) {
        e = &entries[i];

        if (e->code.len == 0) {
            if (!quiet) {
                w_lit(&w, "<Deleted>");
                w_elem_str(&w, "Key", &e->key);
                w_lit(&w, "</Deleted>");
            }

            continue;
        }

        w_lit(&w, "<Error>");
        w_elem_str(&w, "Key", &e->key);
        w_elem_str(&w, "Code", &e->code);
        w_elem_str(&w, "Message", &e->message);
        w_lit(&w, "</Error>");
    }

    w_lit(&w, "</DeleteResult>");

    return w_done(&w);
}


long
video_s3xml_complete_request(const video_s3xml_part_t *parts, size_t n,
    char *out)
{
    size_t     i;
    s3xml_w_t  w = { out, 0, 0 };

    w_lit(&w, "<CompleteMultipartUpload xmlns=\"" VIDEO_S3XML_NS "\">");

    for (i = 0; i < n; i++) {
        w_lit(&w, "<Part>");
        w_elem_etag(&w, parts[i].etag, parts[i].etag_len);
        w_elem_int(&w, "PartNumber", parts[i].number);
        w_lit(&w, "</Part>");
    }

    w_lit(&w, "</CompleteMultipartUpload>");

    return w_done(&w);
}


/* listing */

int
video_s3xml_max_keys(const char *s, size_t len, long *max_keys)
{
    size_t  i;
    long    v;

    if (len == 0) {
        return VIDEO_S3XML_INVALID_ARGUMENT;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return VIDEO_S3XML_INVALID_ARGUMENT;
        }

        if (v <= VIDEO_S3XML_KEYS_MAX) {
            v = v * 10 + (s[i] - '0');
        }
    }

    *max_keys = (v > VIDEO_S3XML_KEYS_MAX) ? VIDEO_S3XML_KEYS_MAX : v;

    return VIDEO_S3XML_OK;
}


static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int     rc;
    size_t  n;

    n = alen < blen ? alen : blen;
    rc = (n != 0) ? memcmp(a, b, n) : 0;
    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}


static int
object_cmp(const void *one, const void *two)
{
    const video_s3xml_object_t  *a, *b;

    a = one;
    b = two;

    return key_cmp(a->key.data, a->key.len, b->key.data, b->key.len);
}


static int
has_prefix(const char *s, size_t len, const char *prefix, size_t plen)
{
    return len >= plen && (plen == 0 || memcmp(s, prefix, plen) == 0);
}


/* where needle first is in [s, s + len), or NULL */

static const char *
find(const char *s, size_t len, const char *needle, size_t nlen)
{
    size_t  i;

    if (nlen == 0 || len < nlen) {
        return NULL;
    }

    for (i = 0; i + nlen <= len; i++) {
        if (s[i] == needle[0] && memcmp(s + i, needle, nlen) == 0) {
            return s + i;
        }
    }

    return NULL;
}


int
video_s3xml_list_page(video_s3xml_object_t *objects, size_t n,
    const video_s3xml_query_t *query, video_s3xml_page_t *page)
{
    int                    marker_cp, last_cp;
    long                   max_keys;
    size_t                 i, plen, dlen, count, mlen, cplen, lastlen, t;
    const char            *k, *d, *delim, *marker, *lastp, *last;
    unsigned char          raw[1 + VIDEO_S3XML_KEY_MAX];
    video_s3xml_object_t  *o;

    max_keys = query->max_keys;

    if (max_keys < -1) {
        return VIDEO_S3XML_INVALID_ARGUMENT;
    }

    if (max_keys == -1 || max_keys > VIDEO_S3XML_KEYS_MAX) {
        max_keys = VIDEO_S3XML_KEYS_MAX;
    }

    plen = query->prefix.len;
    dlen = (query->delimiter.data != NULL) ? query->delimiter.len : 0;
    delim = query->delimiter.data;

    /*
     * A delimiter that is UTF-8 matches keys that are at a character's
     * start, so each common prefix is UTF-8 too (and can be a token)
     */

    if (dlen != 0 && !utf8_valid(delim, dlen)) {
        return VIDEO_S3XML_INVALID_ARGUMENT;
    }

    marker = NULL;
    mlen = 0;
    marker_cp = 0;

    if (query->token.data != NULL) {
        if (video_base64_decode(query->token.data, query->token.len, raw,
                                sizeof(raw), &t,
                                VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD)
            != 0
            || t < 2 || (raw[0] != 'K' && raw[0] != 'P'))
        {
            return VIDEO_S3XML_INVALID_ARGUMENT;
        }

        marker = (const char *) raw + 1;
        mlen = t - 1;
        marker_cp = (raw[0] == 'P');

        if (!utf8_valid(marker, mlen)
            || !has_prefix(marker, mlen, query->prefix.data, plen)
            || (marker_cp
                && (dlen == 0 || mlen < plen + dlen
                    || memcmp(marker + mlen - dlen, delim, dlen) != 0
                    || find(marker + plen, mlen - plen, delim, dlen)
                       != marker + mlen - dlen)))
        {
            return VIDEO_S3XML_INVALID_ARGUMENT;
        }

    } else if (query->start_after.data != NULL) {
        marker = query->start_after.data;
        mlen = query->start_after.len;
    }

    /* the token may be this page's own: read before it is cleared */

    page->ncontents = 0;
    page->nprefixes = 0;
    page->truncated = 0;
    page->next_token_len = 0;
    page->next_token[0] = '\0';
    page->max_keys = max_keys;

    if (max_keys == 0) {
        return VIDEO_S3XML_OK;
    }

    if (n > 1) {
        qsort(objects, n, sizeof(video_s3xml_object_t), object_cmp);
    }

    count = 0;
    last = NULL;
    lastlen = 0;
    last_cp = 0;
    lastp = NULL;
    cplen = 0;

    for (i = 0; i < n; i++) {
        o = &objects[i];
        k = o->key.data;

        /* a key given twice is one key */

        if (i > 0 && object_cmp(o, o - 1) == 0) {
            continue;
        }

        if (o->key.len == 0 || o->key.len > VIDEO_S3XML_KEY_MAX
            || !has_prefix(k, o->key.len, query->prefix.data, plen)
            || !utf8_valid(k, o->key.len))
        {
            continue;
        }

        if (marker != NULL) {
            if (key_cmp(k, o->key.len, marker, mlen) <= 0) {
                continue;
            }

            if (marker_cp && has_prefix(k, o->key.len, marker, mlen)) {
                continue;
            }
        }

        d = find(k + plen, o->key.len - plen, delim, dlen);

        if (d != NULL) {
            cplen = (size_t) (d - k) + dlen;

            /* keys of one common prefix are next to each other */

            if (lastp != NULL && cplen == lastlen && last_cp
                && memcmp(lastp, k, cplen) == 0)
            {
                continue;
            }
        }

        if (count == (size_t) max_keys) {
            page->truncated = 1;
            break;
        }

        if (d != NULL) {
            page->prefixes[page->nprefixes].data = k;
            page->prefixes[page->nprefixes].len = cplen;
            page->nprefixes++;

            last = k;
            lastlen = cplen;
            last_cp = 1;

        } else {
            page->contents[page->ncontents++] = *o;

            last = k;
            lastlen = o->key.len;
            last_cp = 0;
        }

        lastp = last;
        count++;
    }

    if (page->truncated) {
        raw[0] = last_cp ? 'P' : 'K';
        memcpy(raw + 1, last, lastlen);
        page->next_token_len = video_base64_encode(raw, 1 + lastlen,
                                                   page->next_token,
                                                   VIDEO_BASE64_URL
                                                   | VIDEO_BASE64_NOPAD);
        page->next_token[page->next_token_len] = '\0';
    }

    return VIDEO_S3XML_OK;
}


/* the parser */

#define XML_BAD     -1
#define XML_EOF      0
#define XML_START    1
#define XML_END      2


typedef struct {
    const unsigned char         *start;
    const unsigned char         *p;
    const unsigned char         *end;
    char                        *buf;
    size_t                       used;       /* bytes of buf kept */
    size_t                       text_len;   /* of the text at buf + used */
    int                          text_ws;    /* it is all whitespace */
    int                          closing;    /* <name/> read: END next */
    int                          root_done;
    size_t                       depth;
    video_s3xml_str_t            raw[VIDEO_S3XML_DEPTH_MAX];
    unsigned char                kids[VIDEO_S3XML_DEPTH_MAX];

    /* the event: the element's name without its prefix, depth, text */
    video_s3xml_str_t            name;
    size_t                       level;
    int                          leaf;
    video_s3xml_str_t            text;
} s3xml_p_t;


static int
xml_init(s3xml_p_t *x, const char *in, size_t len, char *buf)
{
    memset(x, 0, sizeof(s3xml_p_t));

    if (len > VIDEO_S3XML_BODY_MAX || in == NULL || buf == NULL) {
        return -1;
    }

    x->start = (const unsigned char *) in;
    x->p = x->start;
    x->end = x->start + len;
    x->buf = buf;
    x->text_ws = 1;

    return 0;
}


static int
xml_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


static int
xml_name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
           || c == ':';
}


static int
xml_name_char(unsigned char c)
{
    return xml_name_start(c) || (c >= '0' && c <= '9') || c == '-'
           || c == '.';
}


static int
xml_starts(s3xml_p_t *x, const char *s)
{
    size_t  n;

    n = strlen(s);

    return (size_t) (x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}


/* a name at x->p: its length (ASCII names only), or 0 */

static size_t
xml_name(s3xml_p_t *x)
{
    const unsigned char  *p;

    p = x->p;

    if (p == x->end || !xml_name_start(*p)) {
        return 0;
    }

    while (p < x->end && xml_name_char(*p)) {
        p++;
    }

    return p - x->p;
}


/* appends a character to the current text */

static void
xml_put(s3xml_p_t *x, uint32_t c)
{
    char  *o;

    o = x->buf + x->used + x->text_len;

    if (c < 0x80) {
        o[0] = (char) c;
        x->text_len += 1;

    } else if (c < 0x800) {
        o[0] = (char) (0xc0 | (c >> 6));
        o[1] = (char) (0x80 | (c & 0x3f));
        x->text_len += 2;

    } else if (c < 0x10000) {
        o[0] = (char) (0xe0 | (c >> 12));
        o[1] = (char) (0x80 | ((c >> 6) & 0x3f));
        o[2] = (char) (0x80 | (c & 0x3f));
        x->text_len += 3;

    } else {
        o[0] = (char) (0xf0 | (c >> 18));
        o[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        o[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        o[3] = (char) (0x80 | (c & 0x3f));
        x->text_len += 4;
    }

    if (!xml_space((unsigned char) c) || c >= 0x80) {
        x->text_ws = 0;
    }
}


/*
 * A reference at x->p ("&...;"): its character, x->p past it; 0 when it
 * is not one of the five entities or a reference to an XML character.
 * Its text is never shorter than the character's UTF-8, so decoded text
 * never outruns what was read.
 */

static uint32_t
xml_ref(s3xml_p_t *x)
{
    int                   hex, d;
    size_t                i, n;
    uint32_t              c;
    const unsigned char  *p, *semi;

    static const struct {
        const char  *name;
        uint32_t     c;
    } entities[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
        { "&quot;", '"' }, { "&apos;", '\'' }
    };

    for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
        if (xml_starts(x, entities[i].name)) {
            x->p += strlen(entities[i].name);
            return entities[i].c;
        }
    }

    p = x->p + 1;

    if (p == x->end || *p != '#') {
        return 0;
    }

    p++;
    hex = (p < x->end && *p == 'x');
    p += hex;

    /* "&#x10FFFF;" is the longest with no leading zeros: allow a few */

    n = (size_t) (x->end - p) < 12 ? (size_t) (x->end - p) : 12;
    semi = memchr(p, ';', n);

    if (semi == NULL || semi == p) {
        return 0;
    }

    c = 0;

    for ( /* void */ ; p < semi; p++) {
        if (*p >= '0' && *p <= '9') {
            d = *p - '0';

        } else if (hex && *p >= 'a' && *p <= 'f') {
            d = *p - 'a' + 10;

        } else if (hex && *p >= 'A' && *p <= 'F') {
            d = *p - 'A' + 10;

        } else {
            return 0;
        }

        c = c * (hex ? 16 : 10) + (uint32_t) d;

        if (c > 0x10ffff) {
            return 0;
        }
    }

    if (!xml_char(c)) {
        return 0;
    }

    x->p = semi + 1;

    return c;
}


/*
 * Character data up to the next "<" into the current text: references
 * decoded, line ends normalized as XML does (CR LF and CR to LF).
 */

static int
xml_chars(s3xml_p_t *x)
{
    size_t    n;
    uint32_t  c;

    while (x->p < x->end && *x->p != '<') {

        if (*x->p == '&') {
            c = xml_ref(x);
            if (c == 0) {
                return -1;
            }

            xml_put(x, c);
            continue;
        }

        if (*x->p == '\r') {
            x->p++;

            if (x->p < x->end && *x->p == '\n') {
                x->p++;
            }

            xml_put(x, '\n');
            continue;
        }

        if (*x->p == '>' && x->p - x->start >= 2
            && x->p[-1] == ']' && x->p[-2] == ']')
        {
            return -1;
        }

        n = utf8_char(x->p, x->end, &c);
        if (n == 0 || !xml_char(c)) {
            return -1;
        }

        memcpy(x->buf + x->used + x->text_len, x->p, n);
        x->text_len += n;

        if (!xml_space(*x->p)) {
            x->text_ws = 0;
        }

        x->p += n;
    }

    return 0;
}


/* characters up to the terminator (which x->p is then after) */

static int
xml_until(s3xml_p_t *x, const char *term, int copy)
{
    size_t    n, tlen;
    uint32_t  c;

    tlen = strlen(term);

    for ( ;; ) {
        if (xml_starts(x, term)) {
            x->p += tlen;
            return 0;
        }

        if (x->p == x->end) {
            return -1;
        }

        n = utf8_char(x->p, x->end, &c);
        if (n == 0 || !xml_char(c)) {
            return -1;
        }

        if (copy) {
            memcpy(x->buf + x->used + x->text_len, x->p, n);
            x->text_len += n;

            if (!xml_space(*x->p)) {
                x->text_ws = 0;
            }
        }

        x->p += n;
    }
}


/* <!-- ... -->, x->p at "<!--"; "--" may not appear inside */

static int
xml_comment(s3xml_p_t *x)
{
    const unsigned char  *from, *dd;

    x->p += 4;
    from = x->p;

    if (xml_until(x, "-->", 0) != 0) {
        return -1;
    }

    dd = memmem(from, x->p - from, "--", 2);

    return (dd == x->p - 3) ? 0 : -1;
}


static void
xml_skip_space(s3xml_p_t *x)
{
    while (x->p < x->end && xml_space(*x->p)) {
        x->p++;
    }
}


/*
 * Attributes up to ">" or "/>": each name="value" or name='value',
 * values with the same references as text, checked and dropped.
 * Returns 1 for "/>", 0 for ">", -1.
 */

static int
xml_attributes(s3xml_p_t *x)
{
    size_t         n;
    uint32_t       c;
    unsigned char  q;

    for ( ;; ) {
        n = x->p - x->start;
        xml_skip_space(x);

        if (x->p == x->end) {
            return -1;
        }

        if (*x->p == '>') {
            x->p++;
            return 0;
        }

        if (xml_starts(x, "/>")) {
            x->p += 2;
            return 1;
        }

        /* a name needs whitespace before it */

        if ((size_t) (x->p - x->start) == n) {
            return -1;
        }

        n = xml_name(x);
        if (n == 0) {
            return -1;
        }

        x->p += n;
        xml_skip_space(x);

        if (x->p == x->end || *x->p != '=') {
            return -1;
        }

        x->p++;
        xml_skip_space(x);

        if (x->p == x->end || (*x->p != '"' && *x->p != '\'')) {
            return -1;
        }

        q = *x->p++;

        while (x->p < x->end && *x->p != q) {
            if (*x->p == '<') {
                return -1;
            }

            if (*x->p == '&') {
                if (xml_ref(x) == 0) {
                    return -1;
                }

                continue;
            }

            n = utf8_char(x->p, x->end, &c);
            if (n == 0 || !xml_char(c)) {
                return -1;
            }

            x->p += n;
        }

        if (x->p == x->end) {
            return -1;
        }

        x->p++;
    }
}


/* the name without a namespace prefix */

static void
xml_local(const video_s3xml_str_t *raw, video_s3xml_str_t *local)
{
    const char  *colon;

    colon = memchr(raw->data, ':', raw->len);

    if (colon == NULL) {
        *local = *raw;
        return;
    }

    local->data = colon + 1;
    local->len = raw->len - (colon + 1 - raw->data);
}


static void
xml_text_reset(s3xml_p_t *x)
{
    x->text_len = 0;
    x->text_ws = 1;
}


/* the next start or end of an element: XML_START, XML_END, _EOF, _BAD */

static int
xml_next(s3xml_p_t *x)
{
    int     rc;
    size_t  n;

    if (x->closing) {
        x->closing = 0;
        goto end;
    }

    for ( ;; ) {

        if (x->depth == 0) {

            /* the prolog or what follows the root: no text */

            if (x->p == x->start) {
                if (xml_starts(x, "\xef\xbb\xbf")) {
                    x->p += 3;
                }

                if (xml_starts(x, "<?xml") && x->p + 5 < x->end
                    && xml_space(x->p[5]))
                {
                    x->p += 5;

                    if (xml_until(x, "?>", 0) != 0) {
                        return XML_BAD;
                    }
                }
            }

            xml_skip_space(x);

            if (x->p == x->end) {
                return x->root_done ? XML_EOF : XML_BAD;
            }

            if (*x->p != '<') {
                return XML_BAD;
            }

        } else {
            if (xml_chars(x) != 0 || x->p == x->end) {
                return XML_BAD;
            }
        }

        /* at "<" */

        if (xml_starts(x, "<!--")) {
            if (xml_comment(x) != 0) {
                return XML_BAD;
            }

            continue;
        }

        if (xml_starts(x, "<![CDATA[")) {
            if (x->depth == 0) {
                return XML_BAD;
            }

            x->p += 9;

            if (xml_until(x, "]]>", 1) != 0) {
                return XML_BAD;
            }

            continue;
        }

        /* DOCTYPE, and with it every entity declaration; PIs */

        if (xml_starts(x, "<!") || xml_starts(x, "<?")) {
            return XML_BAD;
        }

        if (xml_starts(x, "</")) {
            if (x->depth == 0) {
                return XML_BAD;
            }

            x->p += 2;
            n = x->raw[x->depth - 1].len;

            if ((size_t) (x->end - x->p) < n
                || memcmp(x->p, x->raw[x->depth - 1].data, n) != 0)
            {
                return XML_BAD;
            }

            x->p += n;

            if (x->p < x->end && xml_name_char(*x->p)) {
                return XML_BAD;
            }

            xml_skip_space(x);

            if (x->p == x->end || *x->p != '>') {
                return XML_BAD;
            }

            x->p++;
            goto end;
        }

        /* a start tag */

        if (x->root_done || x->depth == VIDEO_S3XML_DEPTH_MAX) {
            return XML_BAD;
        }

        if (!x->text_ws) {
            return XML_BAD;     /* mixed content */
        }

        x->p++;
        n = xml_name(x);
        if (n == 0) {
            return XML_BAD;
        }

        if (x->depth > 0) {
            x->kids[x->depth - 1] = 1;
        }

        x->raw[x->depth].data = (const char *) x->p;
        x->raw[x->depth].len = n;
        x->kids[x->depth] = 0;
        x->p += n;

        rc = xml_attributes(x);
        if (rc < 0) {
            return XML_BAD;
        }

        x->depth++;
        x->closing = rc;
        xml_text_reset(x);

        xml_local(&x->raw[x->depth - 1], &x->name);
        x->level = x->depth;
        x->leaf = 0;
        x->text.data = NULL;
        x->text.len = 0;

        return XML_START;
    }

end:

    /* an element with elements in it may have only whitespace besides */

    x->leaf = !x->kids[x->depth - 1];

    if (!x->leaf && !x->text_ws) {
        return XML_BAD;
    }

    xml_local(&x->raw[x->depth - 1], &x->name);
    x->level = x->depth;
    x->text.data = x->buf + x->used;
    x->text.len = x->leaf ? x->text_len : 0;

    x->depth--;

    if (x->depth == 0) {
        x->root_done = 1;
    }

    xml_text_reset(x);

    return XML_END;
}


/* keeps the text of the element just ended, x->text stays valid */

static void
xml_keep(s3xml_p_t *x)
{
    x->used += x->text.len;
}


static int
xml_is(const video_s3xml_str_t *s, const char *name)
{
    return s->len == strlen(name) && memcmp(s->data, name, s->len) == 0;
}


/* reads to the end of the document, which must be well-formed */

static int
xml_finish(s3xml_p_t *x)
{
    int  ev;

    do {
        ev = xml_next(x);
    } while (ev == XML_START || ev == XML_END);

    return ev == XML_EOF ? 0 : -1;
}


/* digits only, 1..10 of them (more are never a valid number here) */

static int
parse_uint(const video_s3xml_str_t *s, uint64_t *v)
{
    size_t  i;

    if (s->len == 0 || s->len > 19) {
        return -1;
    }

    *v = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return -1;
        }

        *v = *v * 10 + (uint64_t) (s->data[i] - '0');
    }

    return 0;
}


/* an MD5 ETag, quotes around it optional: 32 lower-case hex into out */

static int
parse_md5_etag(const video_s3xml_str_t *s, char *out)
{
    size_t       i, len;
    const char  *p;

    p = s->data;
    len = s->len;

    if (len == 34 && p[0] == '"' && p[33] == '"') {
        p++;
        len -= 2;
    }

    if (len != 32) {
        return -1;
    }

    for (i = 0; i < 32; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            out[i] = p[i];

        } else if (p[i] >= 'a' && p[i] <= 'f') {
            out[i] = p[i];

        } else if (p[i] >= 'A' && p[i] <= 'F') {
            out[i] = (char) (p[i] - 'A' + 'a');

        } else {
            return -1;
        }
    }

    out[32] = '\0';

    return 0;
}


int
video_s3xml_parse_complete(const char *in, size_t len, char *buf,
    video_s3xml_part_t *parts, size_t nalloc, size_t *nparts)
{
    int                  ev, found, have_num, have_etag, part_rc, in_part;
    size_t               n;
    uint64_t             v;
    uint32_t             last;
    s3xml_p_t            x;
    video_s3xml_part_t  *part;

    *nparts = 0;

    if (xml_init(&x, in, len, buf) != 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    if (nalloc > VIDEO_S3XML_PARTS_MAX) {
        nalloc = VIDEO_S3XML_PARTS_MAX;
    }

    if (xml_next(&x) != XML_START
        || !xml_is(&x.name, "CompleteMultipartUpload"))
    {
        return VIDEO_S3XML_MALFORMED;
    }

    n = 0;
    last = 0;
    found = VIDEO_S3XML_OK;
    part = NULL;
    have_num = 0;
    have_etag = 0;
    part_rc = VIDEO_S3XML_OK;
    in_part = 0;

    for ( ;; ) {
        ev = xml_next(&x);

        if (ev == XML_BAD) {
            return VIDEO_S3XML_MALFORMED;
        }

        if (ev == XML_END && x.level == 1) {
            break;
        }

        if (x.level == 2 && xml_is(&x.name, "Part")) {

            if (ev == XML_START) {
                if (n == nalloc) {
                    return VIDEO_S3XML_MALFORMED;
                }

                part = &parts[n];
                memset(part, 0, sizeof(video_s3xml_part_t));
                part->size = -1;
                in_part = 1;
                have_num = 0;
                have_etag = 0;
                part_rc = VIDEO_S3XML_OK;
                continue;
            }

            if (have_num != 1 || have_etag != 1) {
                return VIDEO_S3XML_MALFORMED;
            }

            in_part = 0;

            /* the number, then the order, then the ETag */

            if (part->number < 1 || part->number > VIDEO_S3XML_PARTS_MAX) {
                part_rc = VIDEO_S3XML_INVALID_PART;

            } else if (part->number <= last) {
                part_rc = VIDEO_S3XML_INVALID_PART_ORDER;
            }

            if (found == VIDEO_S3XML_OK) {
                found = part_rc;
            }

            last = part->number;
            n++;
            continue;
        }

        if (ev != XML_END || x.level != 3 || !in_part) {
            continue;
        }

        /* a leaf of a Part */

        if (xml_is(&x.name, "PartNumber")) {
            if (!x.leaf || have_num++ || parse_uint(&x.text, &v) != 0) {
                return VIDEO_S3XML_MALFORMED;
            }

            part->number = (v > VIDEO_S3XML_PARTS_MAX + 1)
                           ? VIDEO_S3XML_PARTS_MAX + 1 : (uint32_t) v;

        } else if (xml_is(&x.name, "ETag")) {
            if (!x.leaf || have_etag++) {
                return VIDEO_S3XML_MALFORMED;
            }

            if (parse_md5_etag(&x.text, part->etag) != 0) {
                part_rc = VIDEO_S3XML_INVALID_PART;

            } else {
                part->etag_len = 32;
            }
        }
    }

    if (xml_finish(&x) != 0 || n == 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    *nparts = n;

    return found;
}


int
video_s3xml_parse_delete(const char *in, size_t len, char *buf,
    video_s3xml_delete_key_t *keys, size_t nalloc, size_t *nkeys,
    int *quiet)
{
    int                        ev, have_quiet, have_key, have_version;
    int                        in_obj;
    size_t                     n;
    s3xml_p_t                  x;
    video_s3xml_delete_key_t  *k;

    *nkeys = 0;
    *quiet = 0;

    if (xml_init(&x, in, len, buf) != 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    if (nalloc > VIDEO_S3XML_DELETE_MAX) {
        nalloc = VIDEO_S3XML_DELETE_MAX;
    }

    if (xml_next(&x) != XML_START || !xml_is(&x.name, "Delete")) {
        return VIDEO_S3XML_MALFORMED;
    }

    n = 0;
    k = NULL;
    have_quiet = 0;
    have_key = 0;
    have_version = 0;
    in_obj = 0;

    for ( ;; ) {
        ev = xml_next(&x);

        if (ev == XML_BAD) {
            return VIDEO_S3XML_MALFORMED;
        }

        if (ev == XML_END && x.level == 1) {
            break;
        }

        if (x.level == 2 && xml_is(&x.name, "Object")) {

            if (ev == XML_START) {
                if (n == nalloc) {
                    return VIDEO_S3XML_MALFORMED;
                }

                k = &keys[n];
                memset(k, 0, sizeof(video_s3xml_delete_key_t));
                in_obj = 1;
                have_key = 0;
                have_version = 0;
                continue;
            }

            if (have_key != 1) {
                return VIDEO_S3XML_MALFORMED;
            }

            in_obj = 0;
            n++;
            continue;
        }

        if (ev != XML_END) {
            continue;
        }

        if (x.level == 2 && xml_is(&x.name, "Quiet")) {
            if (!x.leaf || have_quiet++) {
                return VIDEO_S3XML_MALFORMED;
            }

            if (xml_is(&x.text, "true")) {
                *quiet = 1;

            } else if (!xml_is(&x.text, "false")) {
                return VIDEO_S3XML_MALFORMED;
            }

            continue;
        }

        if (x.level != 3 || !in_obj) {
            continue;
        }

        if (xml_is(&x.name, "Key")) {
            if (!x.leaf || have_key++ || x.text.len == 0
                || x.text.len > VIDEO_S3XML_KEY_MAX)
            {
                return VIDEO_S3XML_MALFORMED;
            }

            xml_keep(&x);
            k->key = x.text;

        } else if (xml_is(&x.name, "VersionId")) {
            if (!x.leaf || have_version++) {
                return VIDEO_S3XML_MALFORMED;
            }

            xml_keep(&x);
            k->version_id = x.text;
        }
    }

    if (xml_finish(&x) != 0 || n == 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    *nkeys = n;

    return VIDEO_S3XML_OK;
}


/*
 * The root of an answer: VIDEO_S3XML_OK when it is root, else
 * VIDEO_S3XML_S3_ERROR after reading the <Error> document into err, or
 * VIDEO_S3XML_MALFORMED.
 */

static int
answer_root(s3xml_p_t *x, const char *root, video_s3xml_s3_error_t *err)
{
    int                     ev, have_code;
    video_s3xml_s3_error_t  e;

    if (xml_next(x) != XML_START) {
        return VIDEO_S3XML_MALFORMED;
    }

    if (xml_is(&x->name, root)) {
        return VIDEO_S3XML_OK;
    }

    if (!xml_is(&x->name, "Error")) {
        return VIDEO_S3XML_MALFORMED;
    }

    memset(&e, 0, sizeof(e));
    e.message.data = x->buf;
    have_code = 0;

    for ( ;; ) {
        ev = xml_next(x);

        if (ev == XML_BAD) {
            return VIDEO_S3XML_MALFORMED;
        }

        if (ev == XML_END && x->level == 1) {
            break;
        }

        if (ev != XML_END || x->level != 2 || !x->leaf) {
            continue;
        }

        if (xml_is(&x->name, "Code") && !have_code) {
            xml_keep(x);
            e.code = x->text;
            have_code = 1;

        } else if (xml_is(&x->name, "Message") && e.message.len == 0) {
            xml_keep(x);
            e.message = x->text;
        }
    }

    if (xml_finish(x) != 0 || e.code.len == 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    if (err != NULL) {
        *err = e;
    }

    return VIDEO_S3XML_S3_ERROR;
}


int
video_s3xml_parse_error(const char *in, size_t len, char *buf,
    video_s3xml_s3_error_t *err)
{
    int        rc;
    s3xml_p_t  x;

    if (xml_init(&x, in, len, buf) != 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    /* "Error" is never the root asked for: only an error passes */

    rc = answer_root(&x, "", err);

    return (rc == VIDEO_S3XML_S3_ERROR) ? VIDEO_S3XML_OK
                                        : VIDEO_S3XML_MALFORMED;
}


/*
 * The frame of every answer: its root (or the <Error> read into err),
 * each event below the root handed to "event", then the end of the
 * document.  "event" returns -1 to refuse the answer.
 */

typedef int (*answer_event_pt)(s3xml_p_t *x, int ev, void *data);


static int
answer_walk(const char *in, size_t len, char *buf, const char *root,
    video_s3xml_s3_error_t *err, answer_event_pt event, void *data)
{
    int        rc, ev;
    s3xml_p_t  x;

    if (xml_init(&x, in, len, buf) != 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    rc = answer_root(&x, root, err);
    if (rc != VIDEO_S3XML_OK) {
        return rc;
    }

    for ( ;; ) {
        ev = xml_next(&x);

        if (ev == XML_BAD) {
            return VIDEO_S3XML_MALFORMED;
        }

        if (ev == XML_END && x.level == 1) {
            break;
        }

        if (event(&x, ev, data) != 0) {
            return VIDEO_S3XML_MALFORMED;
        }
    }

    if (xml_finish(&x) != 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    return VIDEO_S3XML_OK;
}


/* the leaves of the root of an answer, one of which is read */

typedef struct {
    const char                  *name;
    video_s3xml_str_t           *value;
    int                          found;
} answer_leaf_t;


static int
answer_leaf_event(s3xml_p_t *x, int ev, void *data)
{
    answer_leaf_t  *al;

    al = data;

    if (ev == XML_END && x->level == 2 && xml_is(&x->name, al->name)) {
        if (!x->leaf || al->found++) {
            return -1;
        }

        xml_keep(x);
        *al->value = x->text;
    }

    return 0;
}


static int
answer_leaf(const char *in, size_t len, char *buf, const char *root,
    const char *leaf, video_s3xml_str_t *value, video_s3xml_s3_error_t *err)
{
    int            rc;
    answer_leaf_t  al;

    al.name = leaf;
    al.value = value;
    al.found = 0;

    rc = answer_walk(in, len, buf, root, err, answer_leaf_event, &al);
    if (rc != VIDEO_S3XML_OK) {
        return rc;
    }

    if (!al.found || value->len == 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    return VIDEO_S3XML_OK;
}


int
video_s3xml_parse_initiate(const char *in, size_t len, char *buf,
    video_s3xml_str_t *upload_id, video_s3xml_s3_error_t *err)
{
    return answer_leaf(in, len, buf, "InitiateMultipartUploadResult",
                       "UploadId", upload_id, err);
}


/* an ETag as S3 writes it: quotes dropped, printable ASCII, no blank */

static int
answer_etag(video_s3xml_str_t *etag)
{
    size_t  i;

    if (etag->len >= 2 && etag->data[0] == '"'
        && etag->data[etag->len - 1] == '"')
    {
        etag->data++;
        etag->len -= 2;
    }

    if (etag->len == 0 || etag->len > VIDEO_S3XML_ETAG_MAX) {
        return -1;
    }

    for (i = 0; i < etag->len; i++) {
        if (etag->data[i] <= ' ' || etag->data[i] > '~'
            || etag->data[i] == '"')
        {
            return -1;
        }
    }

    return 0;
}


int
video_s3xml_parse_complete_result(const char *in, size_t len, char *buf,
    video_s3xml_str_t *etag, video_s3xml_s3_error_t *err)
{
    int  rc;

    rc = answer_leaf(in, len, buf, "CompleteMultipartUploadResult", "ETag",
                     etag, err);

    if (rc == VIDEO_S3XML_OK && answer_etag(etag) != 0) {
        return VIDEO_S3XML_MALFORMED;
    }

    return rc;
}


/* the leaves both listings share */

static int
answer_truncated(s3xml_p_t *x, int *have, int *truncated)
{
    if (!x->leaf || (*have)++) {
        return -1;
    }

    if (xml_is(&x->text, "true")) {
        *truncated = 1;

    } else if (!xml_is(&x->text, "false")) {
        return -1;
    }

    return 0;
}


static int
answer_size(s3xml_p_t *x, int *have, int64_t *size)
{
    uint64_t  v;

    if (!x->leaf || (*have)++ || parse_uint(&x->text, &v) != 0
        || v > (uint64_t) INT64_MAX)
    {
        return -1;
    }

    *size = (int64_t) v;

    return 0;
}


typedef struct {
    video_s3xml_parts_page_t    *page;
    video_s3xml_part_t          *part;
    int                          in_part;
    int                          have_num;
    int                          have_etag;
    int                          have_size;
    int                          have_trunc;
    int                          have_next;
} answer_parts_t;


static int
answer_parts_event(s3xml_p_t *x, int ev, void *data)
{
    uint64_t                   v;
    answer_parts_t            *ap;
    video_s3xml_str_t          etag;
    video_s3xml_part_t        *part;
    video_s3xml_parts_page_t  *page;

    ap = data;
    page = ap->page;

    if (x->level == 2 && xml_is(&x->name, "Part")) {

        if (ev == XML_START) {
            if (page->nparts == page->nalloc) {
                return -1;
            }

            ap->part = &page->parts[page->nparts];
            memset(ap->part, 0, sizeof(video_s3xml_part_t));
            ap->in_part = 1;
            ap->have_num = 0;
            ap->have_etag = 0;
            ap->have_size = 0;
            return 0;
        }

        if (ap->have_num != 1 || ap->have_etag != 1 || ap->have_size != 1) {
            return -1;
        }

        ap->in_part = 0;
        page->nparts++;
        return 0;
    }

    if (ev != XML_END) {
        return 0;
    }

    if (x->level == 2) {
        if (xml_is(&x->name, "IsTruncated")) {
            return answer_truncated(x, &ap->have_trunc, &page->truncated);
        }

        if (xml_is(&x->name, "NextPartNumberMarker")) {
            if (!x->leaf || ap->have_next++ || parse_uint(&x->text, &v) != 0
                || v > VIDEO_S3XML_PARTS_MAX)
            {
                return -1;
            }

            page->next_part_number_marker = (uint32_t) v;
        }

        return 0;
    }

    if (x->level != 3 || !ap->in_part) {
        return 0;
    }

    part = ap->part;

    if (xml_is(&x->name, "PartNumber")) {
        if (!x->leaf || ap->have_num++ || parse_uint(&x->text, &v) != 0
            || v < 1 || v > VIDEO_S3XML_PARTS_MAX)
        {
            return -1;
        }

        part->number = (uint32_t) v;

    } else if (xml_is(&x->name, "ETag")) {
        etag = x->text;

        if (!x->leaf || ap->have_etag++ || answer_etag(&etag) != 0) {
            return -1;
        }

        memcpy(part->etag, etag.data, etag.len);
        part->etag[etag.len] = '\0';
        part->etag_len = etag.len;

    } else if (xml_is(&x->name, "Size")) {
        return answer_size(x, &ap->have_size, &part->size);
    }

    return 0;
}


int
video_s3xml_parse_list_parts(const char *in, size_t len, char *buf,
    video_s3xml_parts_page_t *page, video_s3xml_s3_error_t *err)
{
    int             rc;
    answer_parts_t  ap;

    page->nparts = 0;
    page->truncated = 0;
    page->next_part_number_marker = 0;

    memset(&ap, 0, sizeof(answer_parts_t));
    ap.page = page;

    rc = answer_walk(in, len, buf, "ListPartsResult", err,
                     answer_parts_event, &ap);
    if (rc != VIDEO_S3XML_OK) {
        return rc;
    }

    if (ap.have_trunc != 1 || (page->truncated && !ap.have_next)) {
        return VIDEO_S3XML_MALFORMED;
    }

    return VIDEO_S3XML_OK;
}


/* encoding-type=url undone in place: "+" a space, %XX a byte */

static int
answer_url_decode(video_s3xml_str_t *s, char *to)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '+') {
            to[n++] = ' ';
            continue;
        }

        if (s->data[i] != '%') {
            to[n++] = s->data[i];
            continue;
        }

        if (s->len - i < 3) {
            return -1;
        }

        hi = video_form_hex((unsigned char) s->data[i + 1]);
        lo = video_form_hex((unsigned char) s->data[i + 2]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        to[n++] = (char) (hi << 4 | lo);
        i += 2;
    }

    s->data = to;
    s->len = n;

    return 0;
}


static int
answer_key_valid(const video_s3xml_str_t *key)
{
    /* utf8_valid() refuses NUL too */

    return key->len > 0 && key->len <= VIDEO_S3XML_KEY_MAX
           && utf8_valid(key->data, key->len);
}


typedef struct {
    video_s3xml_objects_page_t  *page;
    video_s3xml_object_t        *object;
    int                          in_contents;
    int                          url;
    int                          have_key;
    int                          have_etag;
    int                          have_size;
    int                          have_trunc;
    int                          have_next;
    int                          have_enc;
} answer_objects_t;


static int
answer_objects_event(s3xml_p_t *x, int ev, void *data)
{
    answer_objects_t            *ao;
    video_s3xml_str_t            etag;
    video_s3xml_object_t        *o;
    video_s3xml_objects_page_t  *page;

    ao = data;
    page = ao->page;

    if (x->level == 2 && xml_is(&x->name, "Contents")) {

        if (ev == XML_START) {
            if (page->ncontents == page->nalloc) {
                return -1;
            }

            ao->object = &page->contents[page->ncontents];
            memset(ao->object, 0, sizeof(video_s3xml_object_t));
            ao->object->size = -1;
            ao->in_contents = 1;
            ao->have_key = 0;
            ao->have_etag = 0;
            ao->have_size = 0;
            return 0;
        }

        if (ao->have_key != 1) {
            return -1;
        }

        ao->in_contents = 0;
        page->ncontents++;
        return 0;
    }

    if (ev != XML_END) {
        return 0;
    }

    if (x->level == 2) {
        if (xml_is(&x->name, "IsTruncated")) {
            return answer_truncated(x, &ao->have_trunc, &page->truncated);
        }

        if (xml_is(&x->name, "NextContinuationToken")) {
            if (!x->leaf || ao->have_next++) {
                return -1;
            }

            xml_keep(x);
            page->next_token = x->text;

        } else if (xml_is(&x->name, "EncodingType")) {
            if (!x->leaf || ao->have_enc++ || !xml_is(&x->text, "url")) {
                return -1;
            }

            ao->url = 1;
        }

        return 0;
    }

    if (x->level != 3 || !ao->in_contents) {
        return 0;
    }

    o = ao->object;

    if (xml_is(&x->name, "Key")) {
        if (!x->leaf || ao->have_key++) {
            return -1;
        }

        xml_keep(x);
        o->key = x->text;

    } else if (xml_is(&x->name, "ETag")) {
        etag = x->text;

        if (!x->leaf || ao->have_etag++ || answer_etag(&etag) != 0) {
            return -1;
        }

        xml_keep(x);
        o->etag = etag;

    } else if (xml_is(&x->name, "Size")) {
        return answer_size(x, &ao->have_size, &o->size);
    }

    return 0;
}


int
video_s3xml_parse_list_objects(const char *in, size_t len, char *buf,
    video_s3xml_objects_page_t *page, video_s3xml_s3_error_t *err)
{
    int                    rc;
    size_t                 i;
    answer_objects_t       ao;
    video_s3xml_object_t  *o;

    page->ncontents = 0;
    page->truncated = 0;
    page->next_token.len = 0;
    page->next_token.data = NULL;

    memset(&ao, 0, sizeof(answer_objects_t));
    ao.page = page;

    rc = answer_walk(in, len, buf, "ListBucketResult", err,
                     answer_objects_event, &ao);
    if (rc != VIDEO_S3XML_OK) {
        return rc;
    }

    if (ao.have_trunc != 1 || (page->truncated && page->next_token.len == 0))
    {
        return VIDEO_S3XML_MALFORMED;
    }

    /*
     * the keys are decoded once EncodingType, wherever it came, is
     * known; each is in buf, and shrinks as it is decoded
     */

    for (i = 0; i < page->ncontents; i++) {
        o = &page->contents[i];

        if (ao.url
            && answer_url_decode(&o->key,
                                 buf + (o->key.data - (const char *) buf))
               != 0)
        {
            return VIDEO_S3XML_MALFORMED;
        }

        if (!answer_key_valid(&o->key)) {
            return VIDEO_S3XML_MALFORMED;
        }
    }

    return VIDEO_S3XML_OK;
}
