/*
 * API key generation, checking and hashing.  Base62 keeps a key one word
 * that a double click selects whole; CRC-32 is what secret scanners
 * verify such checksums with.
 */

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "video_apikey.h"
#include "video_hmac.h"
#include "video_id.h"


static const char  video_apikey_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";


/* the value of a base62 digit, or -1 */

static int
video_apikey_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'Z') {
        return c - 'A' + 10;
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 36;
    }

    return -1;
}


/* CRC-32 (IEEE 802.3, reflected), bit by bit: keys are short */

static uint32_t
video_apikey_crc32(const char *s, size_t len)
{
    size_t    i;
    uint32_t  crc;
    int       k;

    crc = 0xffffffff;

    for (i = 0; i < len; i++) {
        crc ^= (unsigned char) s[i];

        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
        }
    }

    return ~crc;
}


/* v as n base62 digits, most significant first */

static void
video_apikey_put_check(char *out, uint32_t v)
{
    int  i;

    for (i = VIDEO_APIKEY_CHECK_LEN - 1; i >= 0; i--) {
        out[i] = video_apikey_alphabet[v % 62];
        v /= 62;
    }
}


int
video_apikey_generate(char *out)
{
    int            i, j;
    unsigned int   rem, cur;
    unsigned char  num[32];

    if (video_id_random(num, sizeof(num)) != 0) {
        return -1;
    }

    memcpy(out, VIDEO_APIKEY_PREFIX, VIDEO_APIKEY_PREFIX_LEN);

    /* the 256-bit number in base62: divide by 62, least digit first */

    for (i = VIDEO_APIKEY_SECRET_LEN - 1; i >= 0; i--) {
        rem = 0;

        for (j = 0; j < (int) sizeof(num); j++) {
            cur = (rem << 8) | num[j];
            num[j] = (unsigned char) (cur / 62);
            rem = cur % 62;
        }

        out[VIDEO_APIKEY_PREFIX_LEN + i] = video_apikey_alphabet[rem];
    }

    video_apikey_put_check(out + VIDEO_APIKEY_PREFIX_LEN
                           + VIDEO_APIKEY_SECRET_LEN,
                           video_apikey_crc32(out, VIDEO_APIKEY_PREFIX_LEN
                                              + VIDEO_APIKEY_SECRET_LEN));

    return 0;
}


int
video_apikey_valid(const char *s, size_t len)
{
    int       d, bad;
    size_t    i, body;
    uint64_t  check;

    if (len != VIDEO_APIKEY_LEN) {
        return 0;
    }

    bad = memcmp(s, VIDEO_APIKEY_PREFIX, VIDEO_APIKEY_PREFIX_LEN) != 0;

    body = VIDEO_APIKEY_PREFIX_LEN + VIDEO_APIKEY_SECRET_LEN;

    for (i = VIDEO_APIKEY_PREFIX_LEN; i < body; i++) {
        bad |= video_apikey_digit(s[i]) < 0;
    }

    check = 0;

    for (i = body; i < len; i++) {
        d = video_apikey_digit(s[i]);
        bad |= d < 0;
        check = check * 62 + (uint64_t) (d < 0 ? 0 : d);
    }

    bad |= check != video_apikey_crc32(s, body);

    return !bad;
}


int
video_apikey_from_header(const char *h, size_t hlen, const char **key,
    size_t *len)
{
    size_t       n;
    const char  *p, *end;

    end = h + hlen;

    if (hlen < sizeof("Bearer") - 1
        || strncasecmp(h, "Bearer", sizeof("Bearer") - 1) != 0
        || (hlen > 6 && h[6] != ' ' && h[6] != '\t'))
    {
        return VIDEO_APIKEY_OTHER;
    }

    for (p = h + 6; p < end && (*p == ' ' || *p == '\t'); p++) {
        /* void */
    }

    for (n = 0; p + n < end && p[n] != ' ' && p[n] != '\t'; n++) {
        /* void */
    }

    if (n < VIDEO_APIKEY_PREFIX_LEN
        || memcmp(p, VIDEO_APIKEY_PREFIX, VIDEO_APIKEY_PREFIX_LEN) != 0)
    {
        return VIDEO_APIKEY_FOREIGN;
    }

    /* nothing but blanks after the key */

    for (end--; end >= p + n; end--) {
        if (*end != ' ' && *end != '\t') {
            return VIDEO_APIKEY_INVALID;
        }
    }

    if (!video_apikey_valid(p, n)) {
        return VIDEO_APIKEY_INVALID;
    }

    *key = p;
    *len = n;

    return VIDEO_APIKEY_VALID;
}


int
video_apikey_hash(const char *key, size_t len, unsigned char *out)
{
    unsigned int   md_len;
    const EVP_MD  *md;

    md = video_sha256();

    if (md == NULL
        || EVP_Digest(key, len, out, &md_len, md, NULL) != 1
        || md_len != VIDEO_APIKEY_HASH_LEN)
    {
        return -1;
    }

    return 0;
}


void
video_apikey_hash_text(const unsigned char *hash, char *out)
{
    int                i;
    static const char  hex[] = "0123456789abcdef";

    *out++ = '\\';
    *out++ = 'x';

    for (i = 0; i < VIDEO_APIKEY_HASH_LEN; i++) {
        *out++ = hex[hash[i] >> 4];
        *out++ = hex[hash[i] & 15];
    }

    *out = '\0';
}


static const char  *video_role_names[] = { "", "viewer", "editor", "admin" };


video_role_e
video_role_parse(const char *s, size_t len)
{
    int  i;

    for (i = VIDEO_ROLE_VIEWER; i <= VIDEO_ROLE_ADMIN; i++) {
        if (len == strlen(video_role_names[i])
            && memcmp(s, video_role_names[i], len) == 0)
        {
            return (video_role_e) i;
        }
    }

    return VIDEO_ROLE_NONE;
}


const char *
video_role_name(video_role_e role)
{
    if (role > VIDEO_ROLE_ADMIN) {
        return "";
    }

    return video_role_names[role];
}
