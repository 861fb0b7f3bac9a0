/*
 * Signed webhooks: endpoint secrets, their sealing at rest with
 * AES-256-GCM, Standard Webhooks signatures and their verification, and
 * the URL fields of an event's video object.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "video_base64.h"
#include "video_hmac.h"
#include "video_webhook.h"


#define VIDEO_WEBHOOK_INSTALL_MIN  16
#define VIDEO_WEBHOOK_KEY_MIN      16
#define VIDEO_WEBHOOK_KEY_MAX      64
#define VIDEO_WEBHOOK_NONCE_LEN    12
#define VIDEO_WEBHOOK_TAG_LEN      16

/* "wk1.<key id>", the part of a sealed secret that is authenticated */
#define VIDEO_WEBHOOK_SEAL_TAG     "wk1."
#define VIDEO_WEBHOOK_SEAL_AAD     (4 + VIDEO_WEBHOOK_KEY_ID_LEN)
#define VIDEO_WEBHOOK_SEAL_RAW                                               \
    (VIDEO_WEBHOOK_NONCE_LEN + VIDEO_WEBHOOK_SEALABLE_MAX                     \
     + VIDEO_WEBHOOK_TAG_LEN)

/* a timestamp has at most 18 digits: any two of them subtract safely */
#define VIDEO_WEBHOOK_TS_DIGITS    18

/* signed messages up to this size are put together on the stack */
#define VIDEO_WEBHOOK_MSG_STACK    1024


int
video_webhook_key_derive(const char *secret, size_t len,
    video_webhook_key_t *key)
{
    size_t             i;
    const EVP_MD      *md;
    unsigned char      h[VIDEO_SHA256_LEN];
    static const char  label[] = "video-api webhook secrets v1";
    static const char  hex[] = "0123456789abcdef";

    if (secret == NULL || len < VIDEO_WEBHOOK_INSTALL_MIN) {
        return -1;
    }

    md = video_sha256();

    if (md == NULL
        || video_hmac_sha256(secret, len, label, sizeof(label) - 1, key->key)
           != 0
        || EVP_Digest(key->key, sizeof(key->key), h, NULL, md, NULL) != 1)
    {
        OPENSSL_cleanse(key->key, sizeof(key->key));
        return -1;
    }

    for (i = 0; i < VIDEO_WEBHOOK_KEY_ID_LEN / 2; i++) {
        key->id[2 * i] = hex[h[i] >> 4];
        key->id[2 * i + 1] = hex[h[i] & 0x0f];
    }

    key->id[VIDEO_WEBHOOK_KEY_ID_LEN] = '\0';

    return 0;
}


int
video_webhook_secret_new(char *out)
{
    size_t         n;
    unsigned char  raw[VIDEO_WEBHOOK_SECRET_BYTES];

    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return -1;
    }

    memcpy(out, VIDEO_WEBHOOK_SECRET_PREFIX,
           sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1);
    n = video_base64_encode(raw, sizeof(raw),
                            out + sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1, 0);
    out[sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1 + n] = '\0';

    OPENSSL_cleanse(raw, sizeof(raw));

    return 0;
}


int
video_webhook_secret_key(const char *secret, size_t len, unsigned char *key)
{
    size_t  n;

    if (secret == NULL) {
        return -1;
    }

    if (len >= sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1
        && memcmp(secret, VIDEO_WEBHOOK_SECRET_PREFIX,
                  sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1)
           == 0)
    {
        secret += sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1;
        len -= sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1;
    }

    if (len > VIDEO_BASE64_LEN(VIDEO_WEBHOOK_KEY_MAX)) {
        return -1;
    }

    /* what a bad secret left of a key is wiped */

    if (video_base64_decode(secret, len, key, VIDEO_WEBHOOK_KEY_MAX, &n, 0)
        != 0
        || n < VIDEO_WEBHOOK_KEY_MIN)
    {
        OPENSSL_cleanse(key, VIDEO_WEBHOOK_KEY_MAX);
        return -1;
    }

    return (int) n;
}


int
video_webhook_seal(const video_webhook_key_t *key, const char *secret,
    size_t len, char *out)
{
    int              ok, n, fin;
    EVP_CIPHER_CTX  *ctx;
    unsigned char    raw[VIDEO_WEBHOOK_SEAL_RAW];
    unsigned char   *ct, *tag;

    if (key == NULL || secret == NULL || len == 0
        || len > VIDEO_WEBHOOK_SEALABLE_MAX
        || memchr(secret, '\0', len) != NULL)
    {
        return -1;
    }

    if (RAND_bytes(raw, VIDEO_WEBHOOK_NONCE_LEN) != 1) {
        return -1;
    }

    ct = raw + VIDEO_WEBHOOK_NONCE_LEN;
    tag = ct + len;

    memcpy(out, VIDEO_WEBHOOK_SEAL_TAG, sizeof(VIDEO_WEBHOOK_SEAL_TAG) - 1);
    memcpy(out + sizeof(VIDEO_WEBHOOK_SEAL_TAG) - 1, key->id,
           VIDEO_WEBHOOK_KEY_ID_LEN);

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    ok = EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key->key, raw, NULL)
         == 1
         && EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *) out,
                              VIDEO_WEBHOOK_SEAL_AAD) == 1
         && EVP_EncryptUpdate(ctx, ct, &n, (const unsigned char *) secret,
                              (int) len) == 1
         && (size_t) n == len
         && EVP_EncryptFinal_ex(ctx, ct + n, &fin) == 1
         && fin == 0
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
                                VIDEO_WEBHOOK_TAG_LEN, tag) == 1;

    EVP_CIPHER_CTX_free(ctx);

    if (!ok) {
        OPENSSL_cleanse(raw, sizeof(raw));
        out[0] = '\0';
        return -1;
    }

    out[VIDEO_WEBHOOK_SEAL_AAD] = '.';
    n = (int) video_base64_encode(raw,
                                  VIDEO_WEBHOOK_NONCE_LEN + len
                                  + VIDEO_WEBHOOK_TAG_LEN,
                                  out + VIDEO_WEBHOOK_SEAL_AAD + 1, 0);
    out[VIDEO_WEBHOOK_SEAL_AAD + 1 + n] = '\0';

    return 0;
}


/* decrypts and authenticates clen bytes of raw (nonce, ciphertext, tag) */

static int
video_webhook_unseal(const video_webhook_key_t *key, const char *aad,
    unsigned char *raw, size_t clen, unsigned char *plain)
{
    int              ok, n, fin;
    EVP_CIPHER_CTX  *ctx;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    ok = EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key->key, raw, NULL)
         == 1
         && EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *) aad,
                              VIDEO_WEBHOOK_SEAL_AAD) == 1
         && EVP_DecryptUpdate(ctx, plain, &n, raw + VIDEO_WEBHOOK_NONCE_LEN,
                              (int) clen) == 1
         && (size_t) n == clen
         && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
                                VIDEO_WEBHOOK_TAG_LEN,
                                raw + VIDEO_WEBHOOK_NONCE_LEN + clen) == 1
         && EVP_DecryptFinal_ex(ctx, plain + n, &fin) == 1
         && fin == 0;

    EVP_CIPHER_CTX_free(ctx);

    return ok ? 0 : -1;
}


int
video_webhook_open(const video_webhook_key_t *const *keys, size_t n,
    const char *sealed, char *out, size_t size, size_t *which)
{
    size_t         i, len, rlen, clen;
    const char    *id;
    unsigned char  raw[VIDEO_WEBHOOK_SEAL_RAW];
    unsigned char  plain[VIDEO_WEBHOOK_SEALABLE_MAX];

    if (sealed == NULL || out == NULL) {
        return -1;
    }

    len = strnlen(sealed, VIDEO_WEBHOOK_SEALED_MAX);
    id = sealed + sizeof(VIDEO_WEBHOOK_SEAL_TAG) - 1;

    if (len == VIDEO_WEBHOOK_SEALED_MAX
        || len < VIDEO_WEBHOOK_SEAL_AAD + 1
        || memcmp(sealed, VIDEO_WEBHOOK_SEAL_TAG,
                  sizeof(VIDEO_WEBHOOK_SEAL_TAG) - 1)
           != 0
        || sealed[VIDEO_WEBHOOK_SEAL_AAD] != '.')
    {
        return -1;
    }

    for (i = 0; i < VIDEO_WEBHOOK_KEY_ID_LEN; i++) {
        if ((id[i] < '0' || id[i] > '9') && (id[i] < 'a' || id[i] > 'f')) {
            return -1;
        }
    }

    if (video_base64_decode(sealed + VIDEO_WEBHOOK_SEAL_AAD + 1,
                            len - VIDEO_WEBHOOK_SEAL_AAD - 1, raw,
                            sizeof(raw), &rlen, 0)
        != 0
        || rlen <= VIDEO_WEBHOOK_NONCE_LEN + VIDEO_WEBHOOK_TAG_LEN)
    {
        return -1;
    }

    clen = rlen - VIDEO_WEBHOOK_NONCE_LEN - VIDEO_WEBHOOK_TAG_LEN;

    if (clen >= size) {
        return -1;
    }

    /* every key with the id is tried: two keys may share one by chance */

    for (i = 0; i < n; i++) {
        if (keys[i] == NULL
            || memcmp(keys[i]->id, id, VIDEO_WEBHOOK_KEY_ID_LEN) != 0
            || video_webhook_unseal(keys[i], sealed, raw, clen, plain) != 0)
        {
            continue;
        }

        if (memchr(plain, '\0', clen) != NULL) {
            break;
        }

        memcpy(out, plain, clen);
        out[clen] = '\0';
        OPENSSL_cleanse(plain, sizeof(plain));

        if (which != NULL) {
            *which = i;
        }

        return 0;
    }

    OPENSSL_cleanse(plain, sizeof(plain));

    return -1;
}


/* HMAC-SHA256 of "<id>.<timestamp>.<body>" */

static int
video_webhook_mac(const unsigned char *key, size_t key_len, const char *id,
    int64_t timestamp, const char *body, size_t body_len, unsigned char *mac)
{
    int     rc, n;
    char   *msg;
    char    ts[24], buf[VIDEO_WEBHOOK_MSG_STACK];
    size_t  id_len, len;

    id_len = strlen(id);
    n = snprintf(ts, sizeof(ts), ".%lld.", (long long) timestamp);

    if (n < 3 || (size_t) n >= sizeof(ts)
        || body_len > (size_t) -1 - id_len - n)
    {
        return -1;
    }

    len = id_len + n + body_len;

    if (len <= sizeof(buf)) {
        msg = buf;

    } else {
        msg = malloc(len);
        if (msg == NULL) {
            return -1;
        }
    }

    memcpy(msg, id, id_len);
    memcpy(msg + id_len, ts, n);

    if (body_len > 0) {
        memcpy(msg + id_len + n, body, body_len);
    }

    rc = video_hmac_sha256(key, key_len, msg, len, mac);

    if (msg != buf) {
        free(msg);
    }

    return rc;
}


int
video_webhook_sign(const char *secret, size_t secret_len,
    const char *id, int64_t timestamp, const char *body, size_t body_len,
    char *out)
{
    int            n, rc;
    unsigned char  key[VIDEO_WEBHOOK_KEY_MAX], mac[VIDEO_SHA256_LEN];

    if (id == NULL || (body == NULL && body_len > 0)) {
        return -1;
    }

    n = video_webhook_secret_key(secret, secret_len, key);
    if (n < 0) {
        return -1;
    }

    rc = video_webhook_mac(key, n, id, timestamp, body, body_len, mac);

    OPENSSL_cleanse(key, sizeof(key));

    if (rc != 0) {
        return -1;
    }

    memcpy(out, "v1,", 3);
    n = (int) video_base64_encode(mac, sizeof(mac), out + 3, 0);
    out[3 + n] = '\0';

    return 0;
}


/* the decimal digits of a webhook-timestamp value, 18 at most */

static int
video_webhook_timestamp(const char *s, int64_t *ts)
{
    size_t   i;
    int64_t  v;

    v = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || i == VIDEO_WEBHOOK_TS_DIGITS) {
            return -1;
        }

        v = v * 10 + (s[i] - '0');
    }

    if (i == 0) {
        return -1;
    }

    *ts = v;

    return 0;
}


int
video_webhook_verify(const char *secret, size_t secret_len,
    const char *id, const char *timestamp, const char *body,
    size_t body_len, const char *header, int64_t now, int64_t tolerance)
{
    int          match;
    size_t       len;
    int64_t      ts;
    const char  *p, *end;
    char         expect[VIDEO_WEBHOOK_SIG_ENTRY + 1];

    if (timestamp == NULL || header == NULL || now < 0 || tolerance < 0
        || video_webhook_timestamp(timestamp, &ts) != 0)
    {
        return -1;
    }

    if ((ts > now && ts - now > tolerance)
        || (ts < now && now - ts > tolerance))
    {
        return -1;
    }

    if (video_webhook_sign(secret, secret_len, id, ts, body, body_len,
                           expect)
        != 0)
    {
        return -1;
    }

    /* every entry is looked at, whichever matches */

    match = 0;

    for (p = header; *p != '\0'; p = end) {
        end = strchr(p, ' ');
        if (end == NULL) {
            end = p + strlen(p);
        }

        len = end - p;

        if (len == VIDEO_WEBHOOK_SIG_ENTRY
            && CRYPTO_memcmp(p, expect, VIDEO_WEBHOOK_SIG_ENTRY) == 0)
        {
            match = 1;
        }

        if (*end == ' ') {
            end++;
        }
    }

    OPENSSL_cleanse(expect, sizeof(expect));

    return match ? 0 : -1;
}


/* obj's field: base and the string of its key_field, or null */

static int
video_webhook_url(json_t *obj, const char *field, const char *key_field,
    const char *base, size_t base_len)
{
    char    *s;
    json_t  *key, *url;
    size_t   len;

    key = json_object_get(obj, key_field);

    if (!json_is_string(key)) {
        url = json_null();

    } else {
        len = json_string_length(key);

        s = malloc(base_len + len + 1);
        if (s == NULL) {
            return -1;
        }

        memcpy(s, base, base_len);
        memcpy(s + base_len, json_string_value(key), len);

        url = json_stringn(s, base_len + len);
        free(s);

        if (url == NULL) {
            return -1;
        }
    }

    return json_object_set_new(obj, field, url) == 0 ? 0 : -1;
}


int
video_webhook_video_urls(json_t *video, const char *base)
{
    size_t   i, len;
    json_t  *variants, *v;

    if (!json_is_object(video) || base == NULL) {
        return -1;
    }

    len = strlen(base);

    if (video_webhook_url(video, "thumbnailUrl", "thumbnailKey", base, len)
        != 0
        || video_webhook_url(video, "playbackUrl", "hlsManifestKey", base,
                             len)
           != 0)
    {
        return -1;
    }

    variants = json_object_get(video, "variants");

    if (!json_is_array(variants)) {
        return 0;
    }

    json_array_foreach(variants, i, v) {
        if (json_is_object(v)
            && video_webhook_url(v, "playbackUrl", "playlistKey", base, len)
               != 0)
        {
            return -1;
        }
    }

    return 0;
}
