/*
 * Playback tokens and the signing of play URLs in video JSON.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "video_id.h"
#include "video_play.h"


static const char  video_play_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static int
video_play_is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


/* 32 bytes to 43 characters, no padding */

static void
video_play_encode(const unsigned char *in, char *out)
{
    int       i, n;
    uint32_t  v;

    n = 0;

    for (i = 0; i + 3 <= 32; i += 3) {
        v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];
        out[n++] = video_play_b64url[(v >> 18) & 0x3f];
        out[n++] = video_play_b64url[(v >> 12) & 0x3f];
        out[n++] = video_play_b64url[(v >> 6) & 0x3f];
        out[n++] = video_play_b64url[v & 0x3f];
    }

    /* the last two bytes: three characters */

    v = ((uint32_t) in[30] << 16) | ((uint32_t) in[31] << 8);
    out[n++] = video_play_b64url[(v >> 18) & 0x3f];
    out[n++] = video_play_b64url[(v >> 12) & 0x3f];
    out[n] = video_play_b64url[(v >> 6) & 0x3f];
}


static int
video_play_sign(const unsigned char *secret, size_t secret_len,
    const char *id, size_t id_len, const char *exp, size_t exp_len,
    char *out)
{
    int            ok;
    unsigned int   mac_len;
    unsigned char  mac[EVP_MAX_MD_SIZE];
    char           msg[VIDEO_ID_LEN + 1 + VIDEO_PLAY_EXP_MAX];

    if (id_len != VIDEO_ID_LEN || exp_len > VIDEO_PLAY_EXP_MAX) {
        return -1;
    }

    memcpy(msg, id, id_len);
    msg[id_len] = '/';
    memcpy(msg + id_len + 1, exp, exp_len);

    ok = HMAC(EVP_sha256(), secret, (int) secret_len, (unsigned char *) msg,
              id_len + 1 + exp_len, mac, &mac_len)
         != NULL;

    if (!ok || mac_len != 32) {
        return -1;
    }

    video_play_encode(mac, out);

    return 0;
}


int
video_play_derive_secret(const unsigned char *storage_secret, size_t len,
    unsigned char *out)
{
    unsigned int          n;
    static const char     label[] = "video-api playback tokens";

    if (storage_secret == NULL) {
        return RAND_bytes(out, VIDEO_PLAY_SECRET_LEN) == 1 ? 0 : -1;
    }

    n = 0;

    if (HMAC(EVP_sha256(), storage_secret, (int) len,
             (const unsigned char *) label, sizeof(label) - 1, out, &n)
        == NULL
        || n != VIDEO_PLAY_SECRET_LEN)
    {
        return -1;
    }

    return 0;
}


int
video_play_token(const unsigned char *secret, size_t secret_len,
    const char *id, size_t id_len, int64_t expires, char *out)
{
    int   n;
    char  exp[VIDEO_PLAY_EXP_MAX + 2];

    n = snprintf(exp, sizeof(exp), "%lld", (long long) expires);

    if (expires < 0 || n < 1 || n > VIDEO_PLAY_EXP_MAX) {
        return -1;
    }

    memcpy(out, exp, n);
    out[n] = '-';

    if (video_play_sign(secret, secret_len, id, id_len, exp, n, out + n + 1)
        != 0)
    {
        return -1;
    }

    return n + 1 + VIDEO_PLAY_SIG_LEN;
}


int
video_play_is_token(const char *s, size_t len)
{
    size_t  i, digits;

    for (digits = 0; digits < len && s[digits] >= '0' && s[digits] <= '9';
         digits++)
    {
        /* void */
    }

    if (digits == 0 || digits > VIDEO_PLAY_EXP_MAX
        || len != digits + 1 + VIDEO_PLAY_SIG_LEN || s[digits] != '-')
    {
        return 0;
    }

    for (i = digits + 1; i < len; i++) {
        if (!video_play_is_b64url(s[i])) {
            return 0;
        }
    }

    return 1;
}


int
video_play_verify(const unsigned char *secret, size_t secret_len,
    const char *id, size_t id_len, const char *token, size_t token_len,
    int64_t now)
{
    size_t   digits, i;
    int64_t  expires;
    char     sig[VIDEO_PLAY_SIG_LEN];

    if (!video_play_is_token(token, token_len)
        || !video_id_valid(id, id_len))
    {
        return VIDEO_PLAY_INVALID;
    }

    digits = token_len - 1 - VIDEO_PLAY_SIG_LEN;

    if (video_play_sign(secret, secret_len, id, id_len, token, digits, sig)
        != 0)
    {
        return VIDEO_PLAY_ERROR;
    }

    if (CRYPTO_memcmp(sig, token + digits + 1, VIDEO_PLAY_SIG_LEN) != 0) {
        return VIDEO_PLAY_INVALID;
    }

    /* the signature covers the digits: they are ours, so no overflow */

    expires = 0;

    for (i = 0; i < digits; i++) {
        expires = expires * 10 + (token[i] - '0');
    }

    return (now > expires) ? VIDEO_PLAY_EXPIRED : VIDEO_PLAY_OK;
}


int64_t
video_play_expiry(int64_t now, int64_t ttl)
{
    int64_t  step;

    step = ttl / 8;

    if (step < 1) {
        step = 1;
    }

    return ((now + ttl) / step + 1) * step;
}


/*
 * A walk over the string values of JSON text that sit directly under a
 * key ("key" : "value"), without parsing the rest: strings are skipped
 * with their escapes, so text inside a value is never taken for a key.
 */

typedef struct {
    const char  *in;
    size_t       len;
    size_t       i;
    char         prev;         /* the last character outside strings */
    const char  *key;          /* the key of the value found */
    size_t       key_len;
} video_play_scan_t;


static int
video_play_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/* 1 with the next such value in [*v, *v + *len), 0 at the end */

static int
video_play_next(video_play_scan_t *s, const char **v, size_t *len)
{
    int     value;
    size_t  start, j;

    while (s->i < s->len) {

        if (s->in[s->i] != '"') {
            if (!video_play_space(s->in[s->i])) {
                s->prev = s->in[s->i];
            }

            s->i++;
            continue;
        }

        value = (s->prev == ':');
        start = ++s->i;

        while (s->i < s->len && s->in[s->i] != '"') {
            s->i += (s->in[s->i] == '\\') ? 2 : 1;
        }

        if (s->i >= s->len) {
            return 0;
        }

        s->prev = '"';

        for (j = s->i + 1; j < s->len && video_play_space(s->in[j]); j++) {
            /* void */
        }

        if (j < s->len && s->in[j] == ':') {
            s->key = s->in + start;
            s->key_len = s->i - start;
            s->i++;
            continue;
        }

        *v = s->in + start;
        *len = s->i - start;
        s->i++;

        if (value && s->key != NULL) {
            return 1;
        }
    }

    return 0;
}


static int
video_play_is(const char *s, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(s, name, len) == 0;
}


/* a visibility value: 1 for PUBLIC and UNLISTED, else 0 */

static int
video_play_open(const char *v, size_t len)
{
    return video_play_is(v, len, "PUBLIC") || video_play_is(v, len, "UNLISTED");
}


int
video_play_visibility(const char *json, size_t len)
{
    size_t             n;
    const char        *v;
    video_play_scan_t  s;

    memset(&s, 0, sizeof(video_play_scan_t));
    s.in = json;
    s.len = len;

    while (video_play_next(&s, &v, &n)) {
        if (video_play_is(s.key, s.key_len, "visibility")) {
            return video_play_open(v, n);
        }
    }

    return -1;
}


long
video_play_sign_json(const char *in, size_t len, const char *base,
    size_t base_len, const unsigned char *secret, size_t secret_len,
    int64_t expires, char *out, int *signed_out)
{
    int                 private, token_len;
    char                exp[VIDEO_PLAY_EXP_MAX + 2];
    char                token[VIDEO_PLAY_TOKEN_MAX];
    size_t              n, at, copied, out_len;
    const char         *v, *id, *token_id;
    video_play_scan_t   s;

    memset(&s, 0, sizeof(video_play_scan_t));
    s.in = in;
    s.len = len;

    if (signed_out != NULL) {
        *signed_out = 0;
    }

    /* measuring needs only the token's length */

    token_len = snprintf(exp, sizeof(exp), "%lld", (long long) expires)
                + 1 + VIDEO_PLAY_SIG_LEN;

    if (expires < 0 || token_len > VIDEO_PLAY_TOKEN_MAX) {
        return -1;
    }

    private = 1;
    token_id = NULL;
    copied = 0;
    out_len = 0;

    while (video_play_next(&s, &v, &n)) {

        if (video_play_is(s.key, s.key_len, "visibility")) {
            private = !video_play_open(v, n);
            continue;
        }

        if (!private
            || !(video_play_is(s.key, s.key_len, "playbackUrl")
                 || video_play_is(s.key, s.key_len, "thumbnailUrl"))
            || n <= base_len + VIDEO_ID_LEN + 1
            || memcmp(v, base, base_len) != 0
            || !video_id_valid(v + base_len, VIDEO_ID_LEN)
            || v[base_len + VIDEO_ID_LEN] != '/')
        {
            continue;
        }

        if (signed_out != NULL) {
            *signed_out = 1;
        }

        id = v + base_len;
        at = (id - in) + VIDEO_ID_LEN + 1;

        if (out == NULL) {
            out_len += at - copied + token_len + 1;
            copied = at;
            continue;
        }

        /* the URLs of one video come together: one HMAC for them */

        if (token_id == NULL || memcmp(token_id, id, VIDEO_ID_LEN) != 0) {
            token_len = video_play_token(secret, secret_len, id,
                                         VIDEO_ID_LEN, expires, token);
            if (token_len < 0) {
                return -1;
            }

            token_id = id;
        }

        memcpy(out + out_len, in + copied, at - copied);
        out_len += at - copied;
        memcpy(out + out_len, token, token_len);
        out_len += token_len;
        out[out_len++] = '/';

        copied = at;
    }

    if (out != NULL) {
        memcpy(out + out_len, in + copied, len - copied);
    }

    return (long) (out_len + len - copied);
}
