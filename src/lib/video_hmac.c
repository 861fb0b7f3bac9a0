/*
 * HMAC-SHA256 over a digest fetched once.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "video_hmac.h"


#define VIDEO_SHA256_BLOCK  64


static EVP_MD  *video_hmac_md;


const EVP_MD *
video_sha256(void)
{
    if (video_hmac_md == NULL) {
        video_hmac_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    return video_hmac_md;
}


void
video_hmac_release(void)
{
    EVP_MD_free(video_hmac_md);
    video_hmac_md = NULL;
}


int
video_hmac_sha256(const void *key, size_t key_len, const void *msg,
    size_t len, unsigned char *out)
{
    int             ok;
    size_t          i;
    EVP_MD_CTX     *ctx;
    const EVP_MD   *md;
    unsigned char   k[VIDEO_SHA256_BLOCK], pad[VIDEO_SHA256_BLOCK];
    unsigned char   inner[VIDEO_SHA256_LEN];

    md = video_sha256();
    if (md == NULL) {
        return -1;
    }

    memset(k, 0, sizeof(k));

    if (key_len > VIDEO_SHA256_BLOCK) {
        if (EVP_Digest(key, key_len, k, NULL, md, NULL) != 1) {
            return -1;
        }

    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        OPENSSL_cleanse(k, sizeof(k));
        return -1;
    }

    for (i = 0; i < VIDEO_SHA256_BLOCK; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    ok = EVP_DigestInit_ex(ctx, md, NULL) == 1
         && EVP_DigestUpdate(ctx, pad, sizeof(pad)) == 1
         && EVP_DigestUpdate(ctx, msg, len) == 1
         && EVP_DigestFinal_ex(ctx, inner, NULL) == 1;

    for (i = 0; i < VIDEO_SHA256_BLOCK; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    ok = ok
         && EVP_DigestInit_ex(ctx, md, NULL) == 1
         && EVP_DigestUpdate(ctx, pad, sizeof(pad)) == 1
         && EVP_DigestUpdate(ctx, inner, sizeof(inner)) == 1
         && EVP_DigestFinal_ex(ctx, out, NULL) == 1;

    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));

    return ok ? 0 : -1;
}
