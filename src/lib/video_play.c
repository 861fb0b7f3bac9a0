/*
 * Playback tokens and the signing of play URLs in video JSON.
 */

#define _GNU_SOURCE  /* memmem() */

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "video_base64.h"
#include "video_hmac.h"
#include "video_id.h"
#include "video_play.h"


static int
video_play_sign(const video_play_key_t *key, const char *id, size_t id_len,
    const char *exp, size_t exp_len, int64_t gen, char *out)
{
    int            n;
    unsigned char  mac[VIDEO_SHA256_LEN];
    char           msg[VIDEO_ID_LEN + 1 + VIDEO_PLAY_EXP_MAX + 1 + 12];

    if (id_len != VIDEO_ID_LEN || exp_len > VIDEO_PLAY_EXP_MAX || gen < 0
        || gen > VIDEO_PLAY_GEN_MAX)
    {
        return -1;
    }

    memcpy(msg, id, id_len);
    msg[id_len] = '/';
    memcpy(msg + id_len + 1, exp, exp_len);
    n = snprintf(msg + id_len + 1 + exp_len, 13, "/%lld", (long long) gen);

    if (n < 2
        || video_hmac_sha256(key->secret, key->len, msg,
                             id_len + 1 + exp_len + n, mac)
           != 0)
    {
        return -1;
    }

    video_base64_encode(mac, sizeof(mac), out,
                        VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD);

    return 0;
}


int
video_play_key_init(video_play_key_t *key, const unsigned char *secret,
    size_t len)
{
    unsigned char      mac[VIDEO_SHA256_LEN];
    char               enc[VIDEO_PLAY_SIG_LEN];
    static const char  label[] = "video-api playback key id";

    if (video_hmac_sha256(secret, len, label, sizeof(label) - 1, mac) != 0) {
        return -1;
    }

    video_base64_encode(mac, sizeof(mac), enc,
                        VIDEO_BASE64_URL | VIDEO_BASE64_NOPAD);

    key->secret = secret;
    key->len = len;
    memcpy(key->kid, enc, VIDEO_PLAY_KID_LEN);

    return 0;
}


int
video_play_derive_secret(const unsigned char *storage_secret, size_t len,
    unsigned char *out)
{
    static const char  label[] = "video-api playback tokens";

    if (storage_secret == NULL) {
        return RAND_bytes(out, VIDEO_PLAY_SECRET_LEN) == 1 ? 0 : -1;
    }

    return video_hmac_sha256(storage_secret, len, label, sizeof(label) - 1,
                             out);
}


int
video_play_token(const video_play_key_t *key, const char *id,
    size_t id_len, int64_t expires, int64_t gen, char *out)
{
    int   n;
    char  exp[VIDEO_PLAY_EXP_MAX + 2];

    n = snprintf(exp, sizeof(exp), "%lld", (long long) expires);

    if (expires < 0 || n < 1 || n > VIDEO_PLAY_EXP_MAX) {
        return -1;
    }

    memcpy(out, exp, n);
    out[n] = '-';
    memcpy(out + n + 1, key->kid, VIDEO_PLAY_KID_LEN);

    if (video_play_sign(key, id, id_len, exp, n, gen,
                        out + n + 1 + VIDEO_PLAY_KID_LEN)
        != 0)
    {
        return -1;
    }

    return n + 1 + VIDEO_PLAY_KID_LEN + VIDEO_PLAY_SIG_LEN;
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
        || len != digits + 1 + VIDEO_PLAY_KID_LEN + VIDEO_PLAY_SIG_LEN
        || s[digits] != '-')
    {
        return 0;
    }

    for (i = digits + 1; i < len; i++) {
        if (video_base64_value(s[i], VIDEO_BASE64_URL) < 0) {
            return 0;
        }
    }

    return 1;
}


int
video_play_verify(const video_play_key_t *keys, size_t nkeys,
    const char *id, size_t id_len, const char *token, size_t token_len,
    int64_t gen, int64_t now, int64_t ttl)
{
    int          good;
    size_t       digits, i, k;
    int64_t      expires;
    const char  *kid;
    char         sig[VIDEO_PLAY_SIG_LEN];

    if (!video_play_is_token(token, token_len)
        || !video_id_valid(id, id_len) || gen < 0 || gen > VIDEO_PLAY_GEN_MAX)
    {
        return VIDEO_PLAY_INVALID;
    }

    digits = token_len - 1 - VIDEO_PLAY_KID_LEN - VIDEO_PLAY_SIG_LEN;
    kid = token + digits + 1;

    /* the key it names (two may share an id: each is tried) */

    good = 0;

    for (k = 0; k < nkeys; k++) {
        if (memcmp(keys[k].kid, kid, VIDEO_PLAY_KID_LEN) != 0) {
            continue;
        }

        if (video_play_sign(&keys[k], id, id_len, token, digits, gen, sig)
            != 0)
        {
            return VIDEO_PLAY_ERROR;
        }

        good |= CRYPTO_memcmp(sig, kid + VIDEO_PLAY_KID_LEN,
                              VIDEO_PLAY_SIG_LEN) == 0;
    }

    if (!good) {
        return VIDEO_PLAY_INVALID;
    }

    /* the signature covers the digits: they are ours, so no overflow */

    expires = 0;

    for (i = 0; i < digits; i++) {
        expires = expires * 10 + (token[i] - '0');
    }

    if (now > expires) {
        return VIDEO_PLAY_EXPIRED;
    }

    /* never longer than a token issued now would last */

    if (expires > video_play_expiry(now, ttl)) {
        return VIDEO_PLAY_INVALID;
    }

    return VIDEO_PLAY_OK;
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
 * Finding play URLs and visibilities in JSON text without parsing it: the
 * text is searched with memmem() for the URL base and for the
 * "visibility" key, and each hit is accepted only where the JSON grammar
 * puts a key's string value.  Inside a JSON string every quote is escaped,
 * so a quote with an even run of backslashes before it delimits a string,
 * and text a user wrote (a title that reads like a key and a URL) never
 * passes for one.
 */

static int
video_play_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/* 1 when the quote at q delimits a string */

static int
video_play_quote(const char *in, const char *q)
{
    const char  *b;

    if (q < in || *q != '"') {
        return 0;
    }

    for (b = q; b > in && b[-1] == '\\'; b--) {
        /* void */
    }

    return (q - b) % 2 == 0;
}


/*
 * q is the opening quote of a string value: 1 when the key before it (ws
 * ":" ws) is name
 */

static int
video_play_key_before(const char *in, const char *q, const char *name)
{
    size_t       n;
    const char  *p;

    p = q;

    while (p > in && video_play_space(p[-1])) {
        p--;
    }

    if (p == in || *--p != ':') {
        return 0;
    }

    while (p > in && video_play_space(p[-1])) {
        p--;
    }

    /* p - 1: the key's closing quote */

    n = strlen(name);

    if ((size_t) (p - in) < n + 2 || p[-1] != '"'
        || memcmp(p - 1 - n, name, n) != 0)
    {
        return 0;
    }

    return video_play_quote(in, p - 2 - n);
}


/*
 * k is the start of "visibility" (its quote) in the text: the value after
 * it in [*v, *v + *len), or 0 when k is not that key
 */

static int
video_play_key_value(const char *in, const char *end, const char *k,
    size_t klen, const char **v, size_t *len)
{
    const char  *p, *q;

    if (!video_play_quote(in, k)) {
        return 0;
    }

    p = k + klen;

    while (p < end && video_play_space(*p)) {
        p++;
    }

    if (p == end || *p++ != ':') {
        return 0;
    }

    while (p < end && video_play_space(*p)) {
        p++;
    }

    if (p == end || *p++ != '"') {
        return 0;
    }

    q = memchr(p, '"', end - p);
    if (q == NULL) {
        return 0;
    }

    *v = p;
    *len = q - p;

    return 1;
}


#define VIDEO_PLAY_VISIBILITY  "\"visibility\""


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
    size_t       n;
    const char  *p, *k, *v, *end;

    end = json + len;

    for (p = json; p < end; p = k + 1) {
        k = memmem(p, end - p, VIDEO_PLAY_VISIBILITY,
                   sizeof(VIDEO_PLAY_VISIBILITY) - 1);
        if (k == NULL) {
            break;
        }

        if (video_play_key_value(json, end, k,
                                 sizeof(VIDEO_PLAY_VISIBILITY) - 1, &v, &n))
        {
            return video_play_open(v, n);
        }
    }

    return -1;
}


/* a generation value: the digits after the key at k, else -1 */

static int64_t
video_play_key_number(const char *in, const char *end, const char *k,
    size_t klen)
{
    int64_t      n;
    const char  *p, *s;

    if (!video_play_quote(in, k)) {
        return -1;
    }

    p = k + klen;

    while (p < end && video_play_space(*p)) {
        p++;
    }

    if (p == end || *p++ != ':') {
        return -1;
    }

    while (p < end && video_play_space(*p)) {
        p++;
    }

    n = 0;

    for (s = p; p < end && *p >= '0' && *p <= '9' && p - s < 10; p++) {
        n = n * 10 + (*p - '0');
    }

    if (p == s || n > VIDEO_PLAY_GEN_MAX || (p < end && *p >= '0'
                                             && *p <= '9'))
    {
        return -1;
    }

    return n;
}


#define VIDEO_PLAY_GENERATION  "\"tokenGeneration\""


long
video_play_sign_json(const char *in, size_t len, const char *base,
    size_t base_len, const video_play_key_t *key, int64_t expires, char *out,
    int *signed_out)
{
    int          private, token_len;
    char         exp[VIDEO_PLAY_EXP_MAX + 2];
    char         token[VIDEO_PLAY_TOKEN_MAX];
    size_t       n, copied, out_len;
    int64_t      gen, g, token_gen;
    const char  *p, *end, *url, *vis, *v, *id, *at, *token_id, *gk;

    if (signed_out != NULL) {
        *signed_out = 0;
    }

    /* measuring needs only the token's length */

    token_len = snprintf(exp, sizeof(exp), "%lld", (long long) expires)
                + 1 + VIDEO_PLAY_KID_LEN + VIDEO_PLAY_SIG_LEN;

    if (expires < 0 || token_len > VIDEO_PLAY_TOKEN_MAX || base_len == 0) {
        return -1;
    }

    end = in + len;
    private = 1;
    gen = 0;
    token_gen = -1;
    token_id = NULL;
    copied = 0;
    out_len = 0;
    p = in;

    vis = memmem(in, len, VIDEO_PLAY_VISIBILITY,
                 sizeof(VIDEO_PLAY_VISIBILITY) - 1);
    gk = memmem(in, len, VIDEO_PLAY_GENERATION,
                sizeof(VIDEO_PLAY_GENERATION) - 1);

    for ( ;; ) {

        /*
         * A video's visibility comes before its URLs: up to the next
         * visibility there is nothing to look for unless this one is
         * private
         */

        url = private ? memmem(p, (vis ? vis : end) - p, base, base_len)
                      : NULL;

        if (url == NULL) {
            if (vis == NULL) {
                break;
            }

            if (video_play_key_value(in, end, vis,
                                     sizeof(VIDEO_PLAY_VISIBILITY) - 1, &v,
                                     &n))
            {
                private = !video_play_open(v, n);
            }

            p = vis + 1;
            vis = memmem(p, end - p, VIDEO_PLAY_VISIBILITY,
                         sizeof(VIDEO_PLAY_VISIBILITY) - 1);
            continue;
        }

        id = url + base_len;
        p = url + 1;

        if ((size_t) (end - id) <= VIDEO_ID_LEN + 1
            || !video_id_valid(id, VIDEO_ID_LEN)
            || id[VIDEO_ID_LEN] != '/'
            || url == in
            || !video_play_quote(in, url - 1)
            || memchr(id, '"', end - id) == NULL
            || !(video_play_key_before(in, url - 1, "playbackUrl")
                 || video_play_key_before(in, url - 1, "thumbnailUrl")))
        {
            continue;
        }

        if (signed_out != NULL) {
            *signed_out = 1;
        }

        /* the generation of this URL's video: the last one before it */

        while (gk != NULL && gk < url) {
            g = video_play_key_number(in, end, gk,
                                      sizeof(VIDEO_PLAY_GENERATION) - 1);
            if (g >= 0) {
                gen = g;
            }

            gk = memmem(gk + 1, end - gk - 1, VIDEO_PLAY_GENERATION,
                        sizeof(VIDEO_PLAY_GENERATION) - 1);
        }

        at = id + VIDEO_ID_LEN + 1;

        if (out == NULL) {
            out_len += (at - in) - copied + token_len + 1;

        } else {

            /* the URLs of one video come together: one HMAC for them */

            if (token_id == NULL || memcmp(token_id, id, VIDEO_ID_LEN) != 0
                || token_gen != gen)
            {
                token_len = video_play_token(key, id, VIDEO_ID_LEN, expires,
                                             gen, token);
                if (token_len < 0) {
                    return -1;
                }

                token_id = id;
                token_gen = gen;
            }

            memcpy(out + out_len, in + copied, (at - in) - copied);
            out_len += (at - in) - copied;
            memcpy(out + out_len, token, token_len);
            out_len += token_len;
            out[out_len++] = '/';
        }

        copied = at - in;
        p = at;
    }

    if (out != NULL) {
        memcpy(out + out_len, in + copied, len - copied);
    }

    return (long) (out_len + len - copied);
}
