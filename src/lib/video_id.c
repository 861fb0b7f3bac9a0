/*
 * Id validation and generation.  The alphabet has 64 symbols, so masking a
 * random byte to 6 bits picks one without bias.
 */

#include <errno.h>
#include <sys/random.h>

#include "video_hmac.h"
#include "video_id.h"


static const char  video_id_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";


int
video_id_random(unsigned char *buf, size_t len)
{
    size_t   got;
    ssize_t  n;

    for (got = 0; got < len; got += (size_t) n) {
        n = getrandom(buf + got, len - got, 0);

        if (n < 0) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }

            return -1;
        }
    }

    return 0;
}


int
video_id_url_safe(const char *s, size_t len)
{
    size_t  i;
    char    c;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
video_id_valid(const char *s, size_t len)
{
    return len == VIDEO_ID_LEN && video_id_url_safe(s, len);
}


int
video_stream_key_valid(const char *s, size_t len)
{
    return len == VIDEO_STREAM_KEY_LEN && video_id_url_safe(s, len);
}


int
video_id_generate(char *out)
{
    size_t         i;
    unsigned char  rnd[VIDEO_ID_LEN];

    if (video_id_random(rnd, sizeof(rnd)) != 0) {
        return -1;
    }

    for (i = 0; i < VIDEO_ID_LEN; i++) {
        out[i] = video_id_alphabet[rnd[i] & 63];
    }

    return 0;
}


int
video_stream_key_generate(char *out)
{
    size_t         i;
    unsigned int   v;
    unsigned char  rnd[VIDEO_STREAM_KEY_LEN * 3 / 4];

    if (video_id_random(rnd, sizeof(rnd)) != 0) {
        return -1;
    }

    /* every 3 bytes make 4 characters of 6 bits */

    for (i = 0; i < sizeof(rnd); i += 3) {
        v = (rnd[i] << 16) | (rnd[i + 1] << 8) | rnd[i + 2];

        *out++ = video_id_alphabet[(v >> 18) & 63];
        *out++ = video_id_alphabet[(v >> 12) & 63];
        *out++ = video_id_alphabet[(v >> 6) & 63];
        *out++ = video_id_alphabet[v & 63];
    }

    return 0;
}


int
video_stream_key_hash(const char *key, size_t len, char *out)
{
    size_t           i;
    unsigned int     md_len;
    const EVP_MD    *md;
    unsigned char    digest[EVP_MAX_MD_SIZE];
    static const char  hex[] = "0123456789abcdef";

    md = video_sha256();

    if (md == NULL
        || EVP_Digest(key, len, digest, &md_len, md, NULL) != 1
        || md_len * 2 != VIDEO_STREAM_KEY_HASH_LEN)
    {
        return -1;
    }

    for (i = 0; i < md_len; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }

    return 0;
}
