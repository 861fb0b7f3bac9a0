/*
 * The container sniffer: real headers are accepted with their demuxer;
 * playlists, scripts, images, text and broken or truncated headers are
 * refused and named.
 */

#include <string.h>

#include "unit.h"
#include "video_container.h"


/* the first bytes of what ffmpeg writes */

static const unsigned char  mp4_head[] = {
    0x00, 0x00, 0x00, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm',
    0x00, 0x00, 0x02, 0x00, 'i', 's', 'o', 'm', 'i', 's', 'o', '2',
    'a', 'v', 'c', '1', 'm', 'p', '4', '1',
    0x00, 0x00, 0x00, 0x08, 'f', 'r', 'e', 'e',
    0x00, 0x00, 0x14, 0x53, 'm', 'd', 'a', 't'
};

static const unsigned char  webm_head[] = {
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81,
    0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84,
    'w', 'e', 'b', 'm', 0x42, 0x87, 0x81, 0x02, 0x42, 0x85, 0x81, 0x02,
    0x18, 0x53, 0x80, 0x67, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xae
};

static const unsigned char  mkv_head[] = {
    0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81,
    0x01, 0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x88,
    'm', 'a', 't', 'r', 'o', 's', 'k', 'a', 0x42, 0x87, 0x81, 0x04,
    0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67
};

static const unsigned char  ogg_head[] = {
    'O', 'g', 'g', 'S', 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x70, 0xc5, 0xbf, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x76, 0x20,
    0x8b, 0x13, 0x01, 0x2a
};

static const unsigned char  flv_head[] = {
    'F', 'L', 'V', 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
    0x00
};


static int
sniff(const void *data, size_t len, uint64_t size, unsigned flags,
    video_container_t *c, const char **what)
{
    return video_container_sniff(data, len, size, flags, c, what);
}


/* refused, and named so */

static void
refused(const void *data, size_t len, uint64_t size, const char *expect)
{
    const char         *what;
    video_container_t   c;

    ck_assert_int_eq(sniff(data, len, size, VIDEO_CONTAINER_ALLOW_FLV, &c,
                           &what), -1);
    ck_assert_ptr_null(c.demuxer);
    ck_assert_ptr_nonnull(what);
    ck_assert_str_eq(what, expect);
}


static void
refused_text(const char *text, const char *expect)
{
    refused(text, strlen(text), strlen(text), expect);
}


START_TEST(real_headers_get_their_demuxer)
{
    const char         *what;
    video_container_t   c;

    /* only the head of a longer file is read */

    ck_assert_int_eq(sniff(mp4_head, sizeof(mp4_head), 100000, 0, &c, &what),
                     0);
    ck_assert_int_eq(c.type, VIDEO_CONTAINER_MOV);
    ck_assert_str_eq(c.demuxer, "mov");
    ck_assert_str_eq(c.name, "MP4/MOV");
    ck_assert_ptr_null(what);

    ck_assert_int_eq(sniff(webm_head, sizeof(webm_head), 5000, 0, &c, &what),
                     0);
    ck_assert_int_eq(c.type, VIDEO_CONTAINER_MATROSKA);
    ck_assert_str_eq(c.demuxer, "matroska");

    ck_assert_int_eq(sniff(mkv_head, sizeof(mkv_head), 5000, 0, &c, &what),
                     0);
    ck_assert_str_eq(c.demuxer, "matroska");

    ck_assert_int_eq(sniff(ogg_head, sizeof(ogg_head), 5000, 0, &c, &what),
                     0);
    ck_assert_int_eq(c.type, VIDEO_CONTAINER_OGG);
    ck_assert_str_eq(c.demuxer, "ogg");
}
END_TEST


START_TEST(flv_only_from_recordings)
{
    const char         *what;
    video_container_t   c;

    ck_assert_int_eq(sniff(flv_head, sizeof(flv_head), 5000, 0, &c, &what),
                     -1);
    ck_assert_str_eq(what, "FLV, accepted from live recordings only");
    ck_assert_ptr_null(c.demuxer);

    ck_assert_int_eq(sniff(flv_head, sizeof(flv_head), 5000,
                           VIDEO_CONTAINER_ALLOW_FLV, &c, &what), 0);
    ck_assert_int_eq(c.type, VIDEO_CONTAINER_FLV);
    ck_assert_str_eq(c.demuxer, "flv");

    ck_assert_str_eq(video_container_accepted(0),
                     "MP4/MOV, WebM/Matroska, Ogg");
    ck_assert_str_eq(video_container_accepted(VIDEO_CONTAINER_ALLOW_FLV),
                     "MP4/MOV, WebM/Matroska, Ogg, FLV");

    /* a newer version, reserved flags, a header offset past the end */

    refused("FLV\x02\x05\0\0\0\x09", 9, 5000, "a malformed FLV (its header)");
    refused("FLV\x01\x85\0\0\0\x09", 9, 5000, "a malformed FLV (its header)");
    refused("FLV\x01\x05\0\0\x20\0", 9, 5000, "a malformed FLV (its header)");
    refused("FLV\x01\x05", 5, 5, "a truncated FLV");
}
END_TEST


START_TEST(quicktime_and_large_boxes)
{
    const char         *what;
    video_container_t   c;
    unsigned char       b[64];

    /* an old QuickTime file: no ftyp, a wide atom, then mdat */

    memcpy(b, "\0\0\0\x08wide\0\0\0\x30mdat", 16);
    ck_assert_int_eq(sniff(b, 16, 56, 0, &c, &what), 0);
    ck_assert_str_eq(c.demuxer, "mov");

    /* mdat with a 64-bit size, and a last box running to the end */

    memcpy(b, mp4_head, 32);
    memcpy(b + 32, "\0\0\0\x01mdat\0\0\0\0\0\0\0\x18", 16);
    memcpy(b + 56, "\0\0\0\0free", 8);
    ck_assert_int_eq(sniff(b, 64, 64, 0, &c, &what), 0);

    /* a 64-bit size header beyond what was read, in a longer file */

    ck_assert_int_eq(sniff(b, 40, 64, 0, &c, &what), 0);
}
END_TEST


START_TEST(short_and_truncated_files)
{
    unsigned char  b[64];

    refused("", 0, 0, "an empty file");
    refused("\x01\x02\x03\x04\x05", 5, 5, "a file too short to be a video");

    /* the first seven bytes of an MP4 are no MP4 */

    refused(mp4_head, 7, 7, "a file too short to be a video");

    /* boxes that run past the end of the file */

    refused(mp4_head, 20, 20, "a truncated MP4/MOV");
    refused(mp4_head, sizeof(mp4_head), sizeof(mp4_head),
            "a truncated MP4/MOV");
    refused("\0\0\0\x08wide\0\0\0\x30mdat", 16, 16, "a truncated MP4/MOV");

    /* a 64-bit size cut short by the end of the file */

    memcpy(b, "\0\0\0\x01mdat\0\0\0\0", 12);
    refused(b, 12, 12, "a truncated MP4/MOV");

    /* a size that does not even cover the header */

    memcpy(b, "\0\0\0\x04" "ftyp", 8);
    refused(b, 8, 1000, "a malformed MP4/MOV (a box smaller than its header)");

    memcpy(b, "\0\0\0\x01mdat\0\0\0\0\0\0\0\x08", 16);
    refused(b, 16, 1000,
            "a malformed MP4/MOV (a box smaller than its header)");

    /* an ftyp too short for its brands, or of a size not in brands */

    memcpy(b, "\0\0\0\x0c" "ftypisom", 12);
    refused(b, 12, 1000, "a malformed MP4/MOV (its ftyp box)");

    memcpy(b, "\0\0\0\x13" "ftypisom\0\0\0\0iso", 19);
    refused(b, 19, 1000, "a malformed MP4/MOV (its ftyp box)");

    /* a brand that is not a name */

    memcpy(b, "\0\0\0\x10" "ftyp\x01\x02\x03\x04\0\0\0\0", 16);
    refused(b, 16, 1000, "a malformed MP4/MOV (its ftyp box)");

    /* the box after ftyp has no name */

    memcpy(b, mp4_head, 32);
    memcpy(b + 32, "\0\0\0\x08\n#EX", 8);
    refused(b, 40, 1000, "a malformed MP4/MOV (a box type is not a name)");

    /* EBML, Ogg: cut short */

    refused(webm_head, 4, 4, "a truncated Matroska/WebM");
    refused(webm_head, 20, 20, "a truncated Matroska/WebM");
    refused(ogg_head, 20, 20, "a truncated Ogg");
}
END_TEST


START_TEST(broken_ebml_and_ogg)
{
    unsigned char  b[64];

    /* a DocType of another EBML format */

    memcpy(b, webm_head, sizeof(webm_head));
    memcpy(b + 24, "abcd", 4);
    refused(b, sizeof(webm_head), 5000,
            "an EBML document that is neither Matroska nor WebM");

    /* no DocType at all: the header's size covers only EBMLVersion */

    memcpy(b, "\x1a\x45\xdf\xa3\x84\x42\x86\x81\x01", 9);
    refused(b, 9, 5000, "a malformed Matroska/WebM (its header)");

    /* a header of unknown size, an empty one, one larger than anything
       real */

    memcpy(b, "\x1a\x45\xdf\xa3\x01\xff\xff\xff\xff\xff\xff\xff", 12);
    refused(b, 12, 5000, "a malformed Matroska/WebM (its header)");

    memcpy(b, "\x1a\x45\xdf\xa3\x40\x00\x42\x82", 8);
    refused(b, 8, 5000, "a malformed Matroska/WebM (its header)");

    memcpy(b, "\x1a\x45\xdf\xa3\x50\x00", 6);
    refused(b, 6, 100000, "a malformed Matroska/WebM (its header)");

    /* an element inside the header longer than the header */

    memcpy(b, "\x1a\x45\xdf\xa3\x84\x42\x82\x88matroska", 16);
    refused(b, 16, 5000, "a malformed Matroska/WebM (its header)");

    /* Ogg: a continued page first, another version */

    memcpy(b, ogg_head, sizeof(ogg_head));
    b[5] = 0x03;
    refused(b, sizeof(ogg_head), 5000, "a malformed Ogg (its first page)");

    b[5] = 0x02;
    b[4] = 0x01;
    refused(b, sizeof(ogg_head), 5000, "a malformed Ogg (its first page)");
}
END_TEST


START_TEST(playlists_and_scripts_are_refused)
{
    const char  *bom_playlist, *utf16;

    static const char  playlist[] =
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n/etc/secret.ts\n"
        "#EXT-X-ENDLIST\n";

    refused(playlist, sizeof(playlist) - 1, sizeof(playlist) - 1,
            "an HLS playlist");

    bom_playlist = "\xef\xbb\xbf#EXTM3U\nfile:///etc/secret.ts\n";
    refused(bom_playlist, strlen(bom_playlist), strlen(bom_playlist),
            "an HLS playlist");

    refused_text("\r\n\n  #extm3u\nx.ts\n", "an HLS playlist");

    refused_text("ffconcat version 1.0\nfile '/etc/secret.ts'\n",
                 "an ffconcat script");
    refused_text("file 'file:///etc/secret.ts'\n", "a text file");
    refused_text("<?xml version=\"1.0\"?><MPD/>", "an XML or HTML document");

    utf16 = "\xff\xfe#\0E\0X\0T\0";
    refused(utf16, 10, 10, "a UTF-16 text file");

    /* text that happens to read "ftyp" where a box type would be */

    refused_text("abcdftyp and more text", "a truncated MP4/MOV");

    /* a playlist after a box: its first word is no box */

    refused("\0\0\0\x08" "free#EXTM3U\n", 16, 16,
            "a malformed MP4/MOV (a box type is not a name)");
}
END_TEST


START_TEST(other_formats_are_named)
{
    unsigned char  b[400];

    refused("\xff\xd8\xff\xe0\0\x10JFIF", 10, 10, "a JPEG image");
    refused("\x89PNG\r\n\x1a\n", 8, 8, "a PNG image");
    refused("GIF89a\x01\0", 8, 8, "a GIF image");
    refused("RIFF\0\0\0\0AVI LIST", 16, 16, "a RIFF file (AVI, WAV)");

    memset(b, 0xff, sizeof(b));
    b[0] = 0x47;
    b[188] = 0x47;
    refused(b, sizeof(b), sizeof(b), "an MPEG transport stream");

    b[188] = 0x00;
    b[1] = 0x00;
    refused(b, sizeof(b), sizeof(b), "an unknown format");
}
END_TEST


Suite *
unit_container_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("container");
    tc = tcase_create("container");

    tcase_add_test(tc, real_headers_get_their_demuxer);
    tcase_add_test(tc, flv_only_from_recordings);
    tcase_add_test(tc, quicktime_and_large_boxes);
    tcase_add_test(tc, short_and_truncated_files);
    tcase_add_test(tc, broken_ebml_and_ogg);
    tcase_add_test(tc, playlists_and_scripts_are_refused);
    tcase_add_test(tc, other_formats_are_named);
    suite_add_tcase(s, tc);

    return s;
}
