/*
 * The container sniffer: ISO BMFF by its box structure, Matroska and WebM
 * by the EBML header's DocType, Ogg by its first page, FLV by its header.
 * A file is accepted only when its leading bytes are consistent with one
 * of these; a refused file is named for the message by what it looks like.
 */

#include <string.h>
#include <strings.h>

#include "video_container.h"


static const video_container_t  video_container_mov = {
    VIDEO_CONTAINER_MOV, "MP4/MOV", "mov"
};

static const video_container_t  video_container_matroska = {
    VIDEO_CONTAINER_MATROSKA, "WebM/Matroska", "matroska"
};

static const video_container_t  video_container_ogg = {
    VIDEO_CONTAINER_OGG, "Ogg", "ogg"
};

static const video_container_t  video_container_flv = {
    VIDEO_CONTAINER_FLV, "FLV", "flv"
};


#define VIDEO_CONTAINER_YES    1
#define VIDEO_CONTAINER_NOT    0     /* not this container: try the next */
#define VIDEO_CONTAINER_BAD   -1     /* this container, but broken */


static uint32_t
video_container_be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


static uint64_t
video_container_be64(const unsigned char *p)
{
    return (uint64_t) video_container_be32(p) << 32
           | video_container_be32(p + 4);
}


/* a box type: four printable ASCII characters, or QuickTime's (c) */

static int
video_container_fourcc(const unsigned char *p)
{
    int  i;

    for (i = 0; i < 4; i++) {
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != 0xa9) {
            return 0;
        }
    }

    return 1;
}


/*
 * ISO BMFF (ISO/IEC 14496-12) and QuickTime: a sequence of boxes, each a
 * 32-bit size (1: a 64-bit size follows the type; 0: to the end of the
 * file) and a four-character type.  The first box is one a file starts
 * with; every box whose header was read must fit in the file.
 */

static int
video_container_iso(const unsigned char *p, size_t len, uint64_t size,
    const char **what)
{
    size_t               i;
    uint64_t             off, box, hdr;
    unsigned             n;
    const unsigned char *b;

    static const char  *first[] = {
        "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", NULL
    };

    if (len < 8) {
        return VIDEO_CONTAINER_NOT;
    }

    for (i = 0; first[i] != NULL; i++) {
        if (memcmp(p + 4, first[i], 4) == 0) {
            break;
        }
    }

    if (first[i] == NULL) {
        return VIDEO_CONTAINER_NOT;
    }

    off = 0;
    n = 0;

    while (off + 8 <= len) {
        b = p + off;

        if (!video_container_fourcc(b + 4)) {
            *what = "a malformed MP4/MOV (a box type is not a name)";
            return VIDEO_CONTAINER_BAD;
        }

        box = video_container_be32(b);
        hdr = 8;

        if (box == 1) {
            if (off + 16 > len) {
                if (off + 16 > size) {
                    *what = "a truncated MP4/MOV";
                    return VIDEO_CONTAINER_BAD;
                }

                break;
            }

            box = video_container_be64(b + 8);
            hdr = 16;

        } else if (box == 0) {
            box = size - off;
        }

        if (box < hdr) {
            *what = "a malformed MP4/MOV (a box smaller than its header)";
            return VIDEO_CONTAINER_BAD;
        }

        if (box > size - off) {
            *what = "a truncated MP4/MOV";
            return VIDEO_CONTAINER_BAD;
        }

        if (n == 0 && memcmp(b + 4, "ftyp", 4) == 0) {

            /* major brand, minor version, compatible brands */

            if (box < 16 || box > 1024 || (box - 16) % 4 != 0
                || off + box > len)
            {
                *what = "a malformed MP4/MOV (its ftyp box)";
                return VIDEO_CONTAINER_BAD;
            }

            for (i = 8; i < box; i += 4) {
                if (i != 12 && !video_container_fourcc(b + i)
                    && video_container_be32(b + i) != 0)
                {
                    *what = "a malformed MP4/MOV (its ftyp box)";
                    return VIDEO_CONTAINER_BAD;
                }
            }
        }

        n++;
        off += box;
    }

    if (n == 0) {
        *what = "a truncated MP4/MOV";
        return VIDEO_CONTAINER_BAD;
    }

    return VIDEO_CONTAINER_YES;
}


/*
 * An EBML variable-length integer at p (len bytes available): its length
 * in *n and value in *v, the length marker kept for element IDs.  -1 when
 * it is not one or does not fit; 1 for a size of all ones (unknown).
 */

static int
video_container_vint(const unsigned char *p, size_t len, int id, size_t *n,
    uint64_t *v)
{
    size_t    i, l;
    uint64_t  x, ones;

    if (len == 0 || p[0] == 0) {
        return -1;
    }

    for (l = 1; !(p[0] & (0x80 >> (l - 1))); l++) {
        /* void */
    }

    if (l > len || (id && l > 4)) {
        return -1;
    }

    x = id ? p[0] : (p[0] & (0xff >> l));

    for (i = 1; i < l; i++) {
        x = x << 8 | p[i];
    }

    *n = l;
    *v = x;

    ones = ((uint64_t) 1 << (7 * l)) - 1;

    return (!id && x == ones) ? 1 : 0;
}


/*
 * Matroska and WebM: the EBML header (ID 1A 45 DF A3) of a known size,
 * read whole, with a DocType of "matroska" or "webm"
 */

static int
video_container_ebml(const unsigned char *p, size_t len, uint64_t size,
    const char **what)
{
    size_t    n, off, end, dlen;
    uint64_t  id, sz;

    if (len < 4 || memcmp(p, "\x1a\x45\xdf\xa3", 4) != 0) {
        return VIDEO_CONTAINER_NOT;
    }

    if (video_container_vint(p + 4, len - 4, 0, &n, &sz) != 0) {
        *what = (len == size) ? "a truncated Matroska/WebM"
                              : "a malformed Matroska/WebM (its header)";
        return VIDEO_CONTAINER_BAD;
    }

    off = 4 + n;

    if (sz > size - off) {
        *what = "a truncated Matroska/WebM";
        return VIDEO_CONTAINER_BAD;
    }

    if (sz > len - off || sz > 1024) {
        *what = "a malformed Matroska/WebM (its header)";
        return VIDEO_CONTAINER_BAD;
    }

    end = off + sz;

    while (off < end) {
        if (video_container_vint(p + off, end - off, 1, &n, &id) != 0) {
            break;
        }

        off += n;

        if (video_container_vint(p + off, end - off, 0, &n, &sz) != 0
            || sz > end - off - n)
        {
            break;
        }

        off += n;

        if (id == 0x4282) {

            /* DocType: a string, maybe padded with NULs */

            for (dlen = sz; dlen > 0 && p[off + dlen - 1] == '\0'; dlen--) {
                /* void */
            }

            if ((dlen == 8 && memcmp(p + off, "matroska", 8) == 0)
                || (dlen == 4 && memcmp(p + off, "webm", 4) == 0))
            {
                return VIDEO_CONTAINER_YES;
            }

            *what = "an EBML document that is neither Matroska nor WebM";
            return VIDEO_CONTAINER_BAD;
        }

        off += sz;
    }

    *what = "a malformed Matroska/WebM (its header)";

    return VIDEO_CONTAINER_BAD;
}


/* Ogg: the first page, version 0, beginning a stream */

static int
video_container_ogg_page(const unsigned char *p, size_t len, uint64_t size,
    const char **what)
{
    if (len < 4 || memcmp(p, "OggS", 4) != 0) {
        return VIDEO_CONTAINER_NOT;
    }

    if (size < 27 || (len >= 27 && (uint64_t) 27 + p[26] > size)) {
        *what = "a truncated Ogg";
        return VIDEO_CONTAINER_BAD;
    }

    if (len < 27 || p[4] != 0 || (p[5] & 0xf8) || !(p[5] & 0x02)
        || (p[5] & 0x01))
    {
        *what = "a malformed Ogg (its first page)";
        return VIDEO_CONTAINER_BAD;
    }

    return VIDEO_CONTAINER_YES;
}


/* FLV: version 1, no reserved flags, a header of at least 9 bytes */

static int
video_container_flv_header(const unsigned char *p, size_t len,
    uint64_t size, const char **what)
{
    uint32_t  off;

    if (len < 3 || memcmp(p, "FLV", 3) != 0) {
        return VIDEO_CONTAINER_NOT;
    }

    if (len < 9) {
        *what = "a truncated FLV";
        return VIDEO_CONTAINER_BAD;
    }

    off = video_container_be32(p + 5);

    if (p[3] != 1 || (p[4] & 0xfa) || off < 9 || off > size) {
        *what = "a malformed FLV (its header)";
        return VIDEO_CONTAINER_BAD;
    }

    return VIDEO_CONTAINER_YES;
}


static int
video_container_prefix(const unsigned char *p, size_t len, const char *s)
{
    size_t  n;

    n = strlen(s);

    return len >= n && memcmp(p, s, n) == 0;
}


/* what a refused file looks like */

static const char *
video_container_describe(const unsigned char *p, size_t len, uint64_t size)
{
    size_t  i;

    if (size == 0) {
        return "an empty file";
    }

    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return "a JPEG image";
    }

    if (video_container_prefix(p, len, "\x89PNG")) {
        return "a PNG image";
    }

    if (video_container_prefix(p, len, "GIF8")) {
        return "a GIF image";
    }

    if (video_container_prefix(p, len, "RIFF")) {
        return "a RIFF file (AVI, WAV)";
    }

    if (len > 188 && p[0] == 0x47 && p[188] == 0x47) {
        return "an MPEG transport stream";
    }

    /* text, maybe after a byte order mark and blank space */

    if (video_container_prefix(p, len, "\xef\xbb\xbf")) {
        p += 3;
        len -= 3;

    } else if (video_container_prefix(p, len, "\xff\xfe")
               || video_container_prefix(p, len, "\xfe\xff"))
    {
        return "a UTF-16 text file";
    }

    while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
        len--;
    }

    if (len >= 7 && strncasecmp((const char *) p, "#EXTM3U", 7) == 0) {
        return "an HLS playlist";
    }

    if (video_container_prefix(p, len, "ffconcat")) {
        return "an ffconcat script";
    }

    if (video_container_prefix(p, len, "<")) {
        return "an XML or HTML document";
    }

    for (i = 0; i < len; i++) {
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            || p[i] == 0x7f)
        {
            break;
        }
    }

    if (i == len && len > 0) {
        return "a text file";
    }

    if (size < 8) {
        return "a file too short to be a video";
    }

    return "an unknown format";
}


int
video_container_sniff(const unsigned char *data, size_t len, uint64_t size,
    unsigned flags, video_container_t *c, const char **what)
{
    int  rc;

    *what = NULL;

    if (len > size) {
        len = size;
    }

    rc = video_container_iso(data, len, size, what);
    if (rc == VIDEO_CONTAINER_YES) {
        *c = video_container_mov;
        return 0;
    }

    if (rc == VIDEO_CONTAINER_NOT) {
        rc = video_container_ebml(data, len, size, what);
        if (rc == VIDEO_CONTAINER_YES) {
            *c = video_container_matroska;
            return 0;
        }
    }

    if (rc == VIDEO_CONTAINER_NOT) {
        rc = video_container_ogg_page(data, len, size, what);
        if (rc == VIDEO_CONTAINER_YES) {
            *c = video_container_ogg;
            return 0;
        }
    }

    if (rc == VIDEO_CONTAINER_NOT) {
        rc = video_container_flv_header(data, len, size, what);
        if (rc == VIDEO_CONTAINER_YES) {
            if (flags & VIDEO_CONTAINER_ALLOW_FLV) {
                *c = video_container_flv;
                return 0;
            }

            *what = "FLV, accepted from live recordings only";
            rc = VIDEO_CONTAINER_BAD;
        }
    }

    if (rc == VIDEO_CONTAINER_NOT) {
        *what = video_container_describe(data, len, size);
    }

    c->type = VIDEO_CONTAINER_NONE;
    c->name = NULL;
    c->demuxer = NULL;

    return -1;
}


const char *
video_container_accepted(unsigned flags)
{
    return (flags & VIDEO_CONTAINER_ALLOW_FLV)
           ? "MP4/MOV, WebM/Matroska, Ogg, FLV"
           : "MP4/MOV, WebM/Matroska, Ogg";
}
