/*
 * Signed webhooks.  The first line names what the rest is:
 *
 *   open    a sealed secret, opened with two fixed installation keys: what
 *           opens is a secret that seals again and opens to itself; the
 *           rest, taken as a secret, seals and opens to itself
 *   key     an endpoint secret: the key it gives is 16..64 bytes whose
 *           base64 (OpenSSL's encoder) is the secret without "whsec_",
 *           the one spelling accepted; the input's first bytes, taken as
 *           a key and encoded, give those bytes back
 *   verify  a secret, message id, timestamp and signature header, one a
 *           line, then the body: what verifies is within the tolerance
 *           and holds our own signature as an entry; our own signature of
 *           the message verifies, and not for a body one byte changed
 *   urls    a video object: its URL fields are the base and their keys,
 *           or null
 */

#include <openssl/evp.h>

#include "fuzz.h"
#include "video_webhook.h"


#define WEBHOOK_INSTALL    "fuzzing installation webhook key"
#define WEBHOOK_INSTALL2   "fuzzing installation webhook key, the next"
#define WEBHOOK_NOW        1764120225
#define WEBHOOK_TOLERANCE  300
#define WEBHOOK_BASE       "https://v.test/play/"


static const char *const  webhook_modes[] = { "open", "key", "verify",
                                              "urls" };

static video_webhook_key_t         webhook_key1, webhook_key2;
static const video_webhook_key_t  *webhook_keys[3];


static void
webhook_init(void)
{
    if (webhook_keys[0] != NULL) {
        return;
    }

    fuzz_assert(video_webhook_key_derive(WEBHOOK_INSTALL,
                                         sizeof(WEBHOOK_INSTALL) - 1,
                                         &webhook_key1) == 0);
    fuzz_assert(video_webhook_key_derive(WEBHOOK_INSTALL2,
                                         sizeof(WEBHOOK_INSTALL2) - 1,
                                         &webhook_key2) == 0);

    /* the next key first, then a hole, then the current one */

    webhook_keys[0] = &webhook_key2;
    webhook_keys[1] = NULL;
    webhook_keys[2] = &webhook_key1;
}


static void
webhook_round_trip(const video_webhook_key_t *key, const char *secret,
    size_t len)
{
    char    sealed[VIDEO_WEBHOOK_SEALED_MAX];
    char    out[VIDEO_WEBHOOK_SEALABLE_MAX + 1];
    size_t  which;

    fuzz_assert(video_webhook_seal(key, secret, len, sealed) == 0);
    fuzz_assert(strlen(sealed) < VIDEO_WEBHOOK_SEALED_MAX);
    fuzz_assert(video_webhook_open(webhook_keys, 3, sealed, out, sizeof(out),
                                   &which)
                == 0);
    fuzz_assert(webhook_keys[which] == key);
    fuzz_assert(strlen(out) == len && memcmp(out, secret, len) == 0);
}


static void
webhook_open(const fuzz_part_t *rest)
{
    int     rc;
    char   *sealed;
    char    out[128];
    size_t  which, len;

    sealed = fuzz_strndup(rest->data, rest->len);
    if (sealed == NULL) {
        return;
    }

    which = 99;
    rc = video_webhook_open(webhook_keys, 3, sealed, out, sizeof(out),
                            &which);

    fuzz_assert(rc == 0 || rc == -1);

    if (rc == 0) {
        len = strlen(out);

        fuzz_assert(len >= 1 && len <= VIDEO_WEBHOOK_SEALABLE_MAX);
        fuzz_assert(which < 3 && webhook_keys[which] != NULL);
        fuzz_assert(memcmp(sealed + 4, webhook_keys[which]->id,
                           VIDEO_WEBHOOK_KEY_ID_LEN) == 0);

        webhook_round_trip(webhook_keys[which], out, len);

    } else {
        fuzz_assert(which == 99);
    }

    free(sealed);

    /* the input as a secret */

    if (rest->len >= 1 && rest->len <= VIDEO_WEBHOOK_SEALABLE_MAX
        && memchr(rest->data, '\0', rest->len) == NULL)
    {
        webhook_round_trip(rest->len % 2 ? &webhook_key1 : &webhook_key2,
                           rest->data, rest->len);

    } else {
        fuzz_assert(video_webhook_seal(&webhook_key1, rest->data, rest->len,
                                       out)
                    == -1);
    }
}


static void
webhook_key(const fuzz_part_t *rest)
{
    int             n, m;
    size_t          len, plen;
    const char     *b64;
    char            enc[6 + 4 * 64 / 3 + 4];
    unsigned char   key[64], again[64];

    n = video_webhook_secret_key(rest->data, rest->len, key);

    fuzz_assert(n == -1 || (n >= 16 && n <= 64));

    if (n > 0) {
        plen = sizeof(VIDEO_WEBHOOK_SECRET_PREFIX) - 1;
        b64 = rest->data;
        len = rest->len;

        if (len >= plen && memcmp(b64, VIDEO_WEBHOOK_SECRET_PREFIX, plen) == 0)
        {
            b64 += plen;
            len -= plen;
        }

        m = EVP_EncodeBlock((unsigned char *) enc, key, n);

        fuzz_assert(m >= 0 && (size_t) m == len && memcmp(enc, b64, m) == 0);
    }

    /* the first bytes as a key: their encoding is taken, with the prefix
     * or without */

    if (rest->len < 16) {
        return;
    }

    len = rest->len > 64 ? 64 : rest->len;

    memcpy(enc, VIDEO_WEBHOOK_SECRET_PREFIX, 6);
    m = EVP_EncodeBlock((unsigned char *) enc + 6,
                        (const unsigned char *) rest->data, len);

    fuzz_assert(video_webhook_secret_key(enc, 6 + m, again) == (int) len);
    fuzz_assert(memcmp(again, rest->data, len) == 0);
    fuzz_assert(video_webhook_secret_key(enc + 6, m, again) == (int) len);

    /* and one character less is never a secret */

    fuzz_assert(video_webhook_secret_key(enc, 6 + m - 1, again) == -1);
}


/* the timestamp as the verifier reads it: 1..18 digits */

static int
webhook_timestamp(const char *s, int64_t *ts)
{
    size_t  i;

    *ts = 0;

    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || i == 18) {
            return -1;
        }

        *ts = *ts * 10 + (s[i] - '0');
    }

    return i > 0 ? 0 : -1;
}


static void
webhook_verify(const fuzz_part_t *rest)
{
    int          rc, own;
    char        *secret, *id, *ts_text, *header, *body;
    char         sig[VIDEO_WEBHOOK_SIG_ENTRY + 1];
    size_t       body_len;
    int64_t      ts;
    fuzz_part_t  p[5];

    fuzz_split((const uint8_t *) rest->data, rest->len, '\n', p, 5);

    secret = fuzz_strndup(p[0].data, p[0].len);
    id = fuzz_strndup(p[1].data, p[1].len);
    ts_text = fuzz_strndup(p[2].data, p[2].len);
    header = fuzz_strndup(p[3].data, p[3].len);

    /* the body exactly its size, for ASan to see a read past it */

    body_len = p[4].len;
    body = malloc(body_len > 0 ? body_len : 1);

    if (secret == NULL || id == NULL || ts_text == NULL || header == NULL
        || body == NULL)
    {
        goto done;
    }

    memcpy(body, p[4].data, body_len);

    rc = video_webhook_verify(secret, p[0].len, id, ts_text, body, body_len,
                              header, WEBHOOK_NOW, WEBHOOK_TOLERANCE);

    fuzz_assert(rc == 0 || rc == -1);

    own = video_webhook_sign(secret, p[0].len, id,
                             webhook_timestamp(ts_text, &ts) == 0 ? ts : 0,
                             body, body_len, sig);

    if (rc == 0) {
        fuzz_assert(webhook_timestamp(ts_text, &ts) == 0);
        fuzz_assert(ts >= WEBHOOK_NOW - WEBHOOK_TOLERANCE
                    && ts <= WEBHOOK_NOW + WEBHOOK_TOLERANCE);
        fuzz_assert(own == 0);
        fuzz_assert(strstr(header, sig) != NULL);
    }

    if (own != 0 || webhook_timestamp(ts_text, &ts) != 0) {
        goto done;
    }

    fuzz_assert(video_webhook_verify(secret, p[0].len, id, ts_text, body,
                                     body_len, sig, ts, 0)
                == 0);

    if (body_len > 0) {
        body[body_len / 2] ^= 0x20;
        fuzz_assert(video_webhook_verify(secret, p[0].len, id, ts_text, body,
                                         body_len, sig, ts, 0)
                    == -1);
    }

done:

    free(secret);
    free(id);
    free(ts_text);
    free(header);
    free(body);
}


static void
webhook_url_is(json_t *obj, const char *field, const char *key_field)
{
    json_t  *url, *key;
    size_t   n;

    url = json_object_get(obj, field);
    key = json_object_get(obj, key_field);

    fuzz_assert(url != NULL);

    if (!json_is_string(key)) {
        fuzz_assert(json_is_null(url));
        return;
    }

    n = sizeof(WEBHOOK_BASE) - 1;

    fuzz_assert(json_is_string(url));
    fuzz_assert(json_string_length(url) == n + json_string_length(key));
    fuzz_assert(memcmp(json_string_value(url), WEBHOOK_BASE, n) == 0);
    fuzz_assert(memcmp(json_string_value(url) + n, json_string_value(key),
                       json_string_length(key))
                == 0);
}


static void
webhook_urls(const fuzz_part_t *rest)
{
    int            rc;
    char          *text;
    size_t         i;
    json_t        *video, *variants, *v;
    json_error_t   err;

    video = json_loadb(rest->data, rest->len, JSON_DECODE_ANY, &err);
    if (video == NULL) {
        return;
    }

    rc = video_webhook_video_urls(video, WEBHOOK_BASE);

    if (!json_is_object(video)) {
        fuzz_assert(rc == -1);
        json_decref(video);
        return;
    }

    fuzz_assert(rc == 0);

    webhook_url_is(video, "thumbnailUrl", "thumbnailKey");
    webhook_url_is(video, "playbackUrl", "hlsManifestKey");

    variants = json_object_get(video, "variants");

    if (json_is_array(variants)) {
        json_array_foreach(variants, i, v) {
            if (json_is_object(v)) {
                webhook_url_is(v, "playbackUrl", "playlistKey");
            }
        }
    }

    text = json_dumps(video, JSON_COMPACT);
    fuzz_assert(text != NULL);
    free(text);

    json_decref(video);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part_t  p[2];

    webhook_init();

    fuzz_split(data, size, '\n', p, 2);

    switch (fuzz_pick(&p[0], webhook_modes, FUZZ_NELTS(webhook_modes))) {

    case 0:
        webhook_open(&p[1]);
        break;

    case 1:
        webhook_key(&p[1]);
        break;

    case 2:
        webhook_verify(&p[1]);
        break;

    default:
        webhook_urls(&p[1]);
        break;
    }

    return 0;
}
