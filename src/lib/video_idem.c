/*
 * Idempotency keys: the key's check and the sealing of stored answers.
 */

#include <limits.h>

#include <openssl/evp.h>

#include "video_hmac.h"
#include "video_id.h"
#include "video_idem.h"


int
video_idem_key_valid(const char *key, size_t len)
{
    size_t  i;

    if (key == NULL || len == 0 || len > VIDEO_IDEM_KEY_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) key[i] < 0x20 || (unsigned char) key[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


int
video_idem_secret(const char *key, size_t len, const char *cred,
    size_t cred_len, unsigned char *secret)
{
    return video_hmac_sha256(key, len, cred_len ? cred : "", cred_len,
                             secret);
}


int
video_idem_seal(const unsigned char *secret, const void *aad,
    size_t aad_len, const void *in, size_t len, unsigned char *out)
{
    int              n, ok;
    unsigned char   *nonce, *body;
    EVP_CIPHER_CTX  *c;

    if (len > INT_MAX - VIDEO_IDEM_SEAL_EXTRA || aad_len > INT_MAX) {
        return -1;
    }

    nonce = out;
    body = out + VIDEO_IDEM_NONCE_LEN;

    if (video_id_random(nonce, VIDEO_IDEM_NONCE_LEN) != 0) {
        return -1;
    }

    c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        return -1;
    }

    ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, secret, nonce) == 1
         && (aad_len == 0
             || EVP_EncryptUpdate(c, NULL, &n, aad, (int) aad_len) == 1)
         && EVP_EncryptUpdate(c, body, &n, in, (int) len) == 1
         && EVP_EncryptFinal_ex(c, body + n, &n) == 1
         && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VIDEO_IDEM_TAG_LEN,
                                body + len)
            == 1;

    EVP_CIPHER_CTX_free(c);

    return ok ? 0 : -1;
}


long
video_idem_open(const unsigned char *secret, const void *aad,
    size_t aad_len, const unsigned char *in, size_t len, unsigned char *out)
{
    int              n, m, ok;
    size_t           blen;
    EVP_CIPHER_CTX  *c;

    if (len < VIDEO_IDEM_SEAL_EXTRA || len > INT_MAX || aad_len > INT_MAX) {
        return -1;
    }

    blen = len - VIDEO_IDEM_SEAL_EXTRA;

    c = EVP_CIPHER_CTX_new();
    if (c == NULL) {
        return -1;
    }

    n = 0;
    m = 0;

    ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, secret, in) == 1
         && (aad_len == 0
             || EVP_DecryptUpdate(c, NULL, &n, aad, (int) aad_len) == 1)
         && EVP_DecryptUpdate(c, out, &n, in + VIDEO_IDEM_NONCE_LEN,
                              (int) blen)
            == 1
         && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, VIDEO_IDEM_TAG_LEN,
                                (void *) (in + VIDEO_IDEM_NONCE_LEN + blen))
            == 1
         && EVP_DecryptFinal_ex(c, out + n, &m) == 1;

    EVP_CIPHER_CTX_free(c);

    return ok ? (long) (n + m) : -1;
}
