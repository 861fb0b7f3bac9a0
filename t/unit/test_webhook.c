/*
 * video_webhook: installation keys, sealed secrets and their rotation,
 * endpoint secrets, Standard Webhooks signatures (against vectors made
 * with Python's hmac and base64, the specification's example among them)
 * and their verification, and the URL fields of an event's video.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_webhook.h"
#include "webhook_vectors.h"


#define NELTS(a)   (sizeof(a) / sizeof((a)[0]))

#define INSTALL    "installation webhook key, 1"
#define INSTALL2   "installation webhook key, 2"
#define SECRET     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define OTHER      "whsec_AAECAwQFBgcICQoLDA0ODw=="
#define MSG_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TS         1614265330
#define TS_TEXT    "1614265330"
#define BODY       "{\"test\": 2432232314}"
#define SIG        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define TOLERANCE  300


static void
hex(const unsigned char *p, size_t len, char *out)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        sprintf(out + 2 * i, "%02x", p[i]);
    }

    out[2 * len] = '\0';
}


static void
derive(const char *install, video_webhook_key_t *key)
{
    ck_assert_int_eq(video_webhook_key_derive(install, strlen(install), key),
                     0);
}


static int
verify(const char *secret, const char *timestamp, const char *body,
    const char *header, int64_t now)
{
    return video_webhook_verify(secret, strlen(secret), MSG_ID, timestamp,
                                body, strlen(body), header, now, TOLERANCE);
}


START_TEST(key_derive_vectors)
{
    size_t                          i;
    char                            h[65];
    video_webhook_key_t             key;
    const webhook_derive_vector_t  *v;

    for (i = 0; i < NELTS(webhook_derive_vectors); i++) {
        v = &webhook_derive_vectors[i];

        ck_assert_int_eq(video_webhook_key_derive(v->secret, v->len, &key),
                         0);
        hex(key.key, sizeof(key.key), h);
        ck_assert_str_eq(h, v->key);
        ck_assert_str_eq(key.id, v->id);
    }

    /* an installation key shorter than 16 bytes is refused */

    ck_assert_int_eq(video_webhook_key_derive("0123456789abcde", 15, &key),
                     -1);
    ck_assert_int_eq(video_webhook_key_derive(NULL, 16, &key), -1);
}
END_TEST


/* secrets sealed by Python's AES-GCM, with fixed nonces, open */

START_TEST(seal_vectors)
{
    size_t                        i, which;
    char                          out[128];
    video_webhook_key_t           key, other;
    const video_webhook_key_t    *keys[2];
    const webhook_seal_vector_t  *v;

    derive(INSTALL, &other);

    for (i = 0; i < NELTS(webhook_seal_vectors); i++) {
        v = &webhook_seal_vectors[i];

        ck_assert_int_eq(video_webhook_key_derive(v->install, v->install_len,
                                                  &key), 0);
        keys[0] = &other;
        keys[1] = &key;

        ck_assert_int_eq(video_webhook_open(keys, 2, v->sealed, out,
                                            sizeof(out), &which), 0);
        ck_assert_str_eq(out, v->secret);
        ck_assert_uint_eq(which, 1);
    }
}
END_TEST


START_TEST(seal_open_round_trip)
{
    char                        s[VIDEO_WEBHOOK_SECRET_LEN + 1];
    char                        sealed[VIDEO_WEBHOOK_SEALED_MAX];
    char                        again[VIDEO_WEBHOOK_SEALED_MAX];
    char                        out[128];
    size_t                      which;
    video_webhook_key_t         key;
    const video_webhook_key_t  *keys[1];

    derive(INSTALL, &key);
    keys[0] = &key;

    ck_assert_int_eq(video_webhook_secret_new(s), 0);
    ck_assert_int_eq(video_webhook_seal(&key, s, strlen(s), sealed), 0);

    /* "wk1.<id>." then the base64 of 12 + 38 + 16 bytes */

    ck_assert_int_eq(strncmp(sealed, "wk1.", 4), 0);
    ck_assert_int_eq(strncmp(sealed + 4, key.id, 8), 0);
    ck_assert_int_eq(sealed[12], '.');
    ck_assert_uint_eq(strlen(sealed), 13 + 88);
    ck_assert_ptr_null(strstr(sealed, s + 6));

    which = 7;
    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out, sizeof(out),
                                        &which), 0);
    ck_assert_str_eq(out, s);
    ck_assert_uint_eq(which, 0);

    /* a new nonce each time: the same secret seals differently */

    ck_assert_int_eq(video_webhook_seal(&key, s, strlen(s), again), 0);
    ck_assert_str_ne(again, sealed);
    ck_assert_int_eq(video_webhook_open(keys, 1, again, out, sizeof(out),
                                        NULL), 0);
    ck_assert_str_eq(out, s);

    /* the out buffer must hold the secret and its NUL */

    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out,
                                        VIDEO_WEBHOOK_SECRET_LEN, NULL), -1);
    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out,
                                        VIDEO_WEBHOOK_SECRET_LEN + 1, NULL),
                     0);
    ck_assert_str_eq(out, s);
}
END_TEST


START_TEST(seal_lengths)
{
    char                        s[VIDEO_WEBHOOK_SEALABLE_MAX + 2];
    char                        sealed[VIDEO_WEBHOOK_SEALED_MAX];
    char                        out[128];
    video_webhook_key_t         key;
    const video_webhook_key_t  *keys[1];

    derive(INSTALL, &key);
    keys[0] = &key;

    memset(s, 'z', sizeof(s));

    /* the longest secret fits, NUL included */

    ck_assert_int_eq(video_webhook_seal(&key, s, VIDEO_WEBHOOK_SEALABLE_MAX,
                                        sealed), 0);
    ck_assert_uint_lt(strlen(sealed), VIDEO_WEBHOOK_SEALED_MAX);
    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out, sizeof(out),
                                        NULL), 0);
    ck_assert_uint_eq(strlen(out), VIDEO_WEBHOOK_SEALABLE_MAX);

    /* one byte, each padding length */

    ck_assert_int_eq(video_webhook_seal(&key, "a", 1, sealed), 0);
    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out, sizeof(out),
                                        NULL), 0);
    ck_assert_str_eq(out, "a");

    ck_assert_int_eq(video_webhook_seal(&key, "ab", 2, sealed), 0);
    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out, sizeof(out),
                                        NULL), 0);
    ck_assert_str_eq(out, "ab");

    /* empty, too long, or holding a NUL */

    ck_assert_int_eq(video_webhook_seal(&key, s, 0, sealed), -1);
    ck_assert_int_eq(video_webhook_seal(&key, s,
                                        VIDEO_WEBHOOK_SEALABLE_MAX + 1,
                                        sealed), -1);
    ck_assert_int_eq(video_webhook_seal(&key, "a\0b", 3, sealed), -1);
    ck_assert_int_eq(video_webhook_seal(NULL, "abc", 3, sealed), -1);
}
END_TEST


START_TEST(open_with_previous_key)
{
    char                        sealed[VIDEO_WEBHOOK_SEALED_MAX];
    char                        out[128];
    size_t                      which;
    video_webhook_key_t         old, cur;
    const video_webhook_key_t  *keys[3];

    derive(INSTALL, &old);
    derive(INSTALL2, &cur);
    ck_assert_str_ne(old.id, cur.id);

    keys[0] = &cur;
    keys[1] = NULL;
    keys[2] = &old;

    /* sealed by the previous key: the second of two (a NULL skipped) */

    ck_assert_int_eq(video_webhook_seal(&old, SECRET, strlen(SECRET),
                                        sealed), 0);
    ck_assert_int_eq(video_webhook_open(keys, 3, sealed, out, sizeof(out),
                                        &which), 0);
    ck_assert_str_eq(out, SECRET);
    ck_assert_uint_eq(which, 2);

    /* sealed again by the new one */

    ck_assert_int_eq(video_webhook_seal(&cur, SECRET, strlen(SECRET),
                                        sealed), 0);
    ck_assert_int_eq(video_webhook_open(keys, 3, sealed, out, sizeof(out),
                                        &which), 0);
    ck_assert_str_eq(out, SECRET);
    ck_assert_uint_eq(which, 0);

    /* once the previous key is gone, what it sealed stays shut */

    ck_assert_int_eq(video_webhook_seal(&old, SECRET, strlen(SECRET),
                                        sealed), 0);
    ck_assert_int_eq(video_webhook_open(keys, 2, sealed, out, sizeof(out),
                                        &which), -1);
    ck_assert_int_eq(video_webhook_open(keys, 0, sealed, out, sizeof(out),
                                        &which), -1);
}
END_TEST


START_TEST(open_rejects_tampering)
{
    char                        sealed[VIDEO_WEBHOOK_SEALED_MAX];
    char                        bad[VIDEO_WEBHOOK_SEALED_MAX];
    char                        out[128];
    size_t                      i, len;
    video_webhook_key_t         key, same_id;
    const video_webhook_key_t  *keys[2];

    derive(INSTALL, &key);
    keys[0] = &key;

    ck_assert_int_eq(video_webhook_seal(&key, SECRET, strlen(SECRET),
                                        sealed), 0);
    len = strlen(sealed);

    /* one flipped bit anywhere: prefix, key id, nonce, ciphertext, tag */

    for (i = 0; i < len; i++) {
        memcpy(bad, sealed, len + 1);
        bad[i] ^= 0x01;
        ck_assert_msg(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                         NULL) == -1,
                      "byte %zu flipped opened", i);
    }

    /* truncated anywhere */

    for (i = 0; i < len; i++) {
        memcpy(bad, sealed, i);
        bad[i] = '\0';
        ck_assert_msg(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                         NULL) == -1,
                      "truncated to %zu opened", i);
    }

    /* another key id, well formed */

    memcpy(bad, sealed, len + 1);
    memcpy(bad + 4, key.id[0] == '0' ? "1" : "0", 1);
    ck_assert_int_eq(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                        NULL), -1);

    /* a key that has the id but is not the key */

    derive(INSTALL2, &same_id);
    memcpy(same_id.id, key.id, sizeof(key.id));
    keys[0] = &same_id;
    ck_assert_int_eq(video_webhook_open(keys, 1, sealed, out, sizeof(out),
                                        NULL), -1);

    /* ... but the right key after it still opens it */

    keys[1] = &key;
    ck_assert_int_eq(video_webhook_open(keys, 2, sealed, out, sizeof(out),
                                        &i), 0);
    ck_assert_str_eq(out, SECRET);
    ck_assert_uint_eq(i, 1);
    keys[0] = &key;

    /* sealed text moved under another prefix version */

    memcpy(bad, sealed, len + 1);
    bad[2] = '2';
    ck_assert_int_eq(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                        NULL), -1);

    /* the key id in capitals: the same hex, not the same text */

    memcpy(bad, sealed, len + 1);

    for (i = 4; i < 12; i++) {
        if (bad[i] >= 'a' && bad[i] <= 'f') {
            bad[i] -= 'a' - 'A';
        }
    }

    if (strcmp(bad, sealed) != 0) {
        ck_assert_int_eq(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                            NULL), -1);
    }

    /* trailing bytes */

    memcpy(bad, sealed, len);
    memcpy(bad + len, "AAAA", 5);
    ck_assert_int_eq(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                        NULL), -1);

    memcpy(bad, sealed, len);
    memcpy(bad + len, "\n", 2);
    ck_assert_int_eq(video_webhook_open(keys, 1, bad, out, sizeof(out),
                                        NULL), -1);
}
END_TEST


START_TEST(open_rejects_garbage)
{
    char                        out[128];
    char                        huge[512];
    size_t                      i;
    video_webhook_key_t         key;
    const video_webhook_key_t  *keys[1];
    static const char          *garbage[] = {
        "",
        "wk1",
        "wk1.",
        "wk1.00000000",
        "wk1.00000000.",
        "wk1.00000000.AAAA",
        "wk1.zzzzzzzz.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "wk1.0000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "wk1..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "wk1.00000000.!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "wk1.00000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "wk1.00000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };

    derive(INSTALL, &key);
    keys[0] = &key;

    for (i = 0; i < NELTS(garbage); i++) {
        ck_assert_msg(video_webhook_open(keys, 1, garbage[i], out,
                                         sizeof(out), NULL) == -1,
                      "\"%s\" opened", garbage[i]);
    }

    /* the right key id, nonsense after it */

    snprintf(huge, sizeof(huge), "wk1.%s.%s", key.id,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    ck_assert_int_eq(video_webhook_open(keys, 1, huge, out, sizeof(out),
                                        NULL), -1);

    /* far longer than any sealed secret */

    memset(huge, 'A', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    memcpy(huge, "wk1.", 4);
    memcpy(huge + 4, key.id, 8);
    huge[12] = '.';
    ck_assert_int_eq(video_webhook_open(keys, 1, huge, out, sizeof(out),
                                        NULL), -1);

    ck_assert_int_eq(video_webhook_open(keys, 1, NULL, out, sizeof(out),
                                        NULL), -1);
}
END_TEST


START_TEST(secret_new_format)
{
    char           a[VIDEO_WEBHOOK_SECRET_LEN + 1];
    char           b[VIDEO_WEBHOOK_SECRET_LEN + 1];
    unsigned char  k[64];

    ck_assert_int_eq(video_webhook_secret_new(a), 0);
    ck_assert_int_eq(video_webhook_secret_new(b), 0);

    ck_assert_uint_eq(strlen(a), VIDEO_WEBHOOK_SECRET_LEN);
    ck_assert_int_eq(strncmp(a, "whsec_", 6), 0);
    ck_assert_uint_eq(strspn(a + 6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "abcdefghijklmnopqrstuvwxyz"
                                    "0123456789+/"), 32);
    ck_assert_int_eq(video_webhook_secret_key(a, strlen(a), k),
                     VIDEO_WEBHOOK_SECRET_BYTES);

    ck_assert_str_ne(a, b);
}
END_TEST


START_TEST(secret_key_vectors)
{
    int                          n;
    size_t                       i;
    char                         h[129];
    unsigned char                k[64];
    const webhook_key_vector_t  *v;

    for (i = 0; i < NELTS(webhook_key_vectors); i++) {
        v = &webhook_key_vectors[i];

        n = video_webhook_secret_key(v->secret, strlen(v->secret), k);
        ck_assert_int_eq(n, (int) strlen(v->key) / 2);
        hex(k, n, h);
        ck_assert_str_eq(h, v->key);
    }
}
END_TEST


START_TEST(secret_key_rejects)
{
    char                 long_key[88];
    size_t               i;
    unsigned char        k[64];
    static const char   *bad[] = {
        "",
        "whsec_",
        /* 15 bytes */
        "whsec_AAECAwQFBgcICQoLDA0O",
        /* not whole groups, padding missing or misplaced */
        "whsec_AAECAwQFBgcICQoLDA0ODw",
        "whsec_AAECAwQFBgcICQoLDA0ODw=",
        "whsec_AAECAwQFBgcICQoLDA0ODw===",
        "whsec_AAECAwQFBgcICQoLDA0ODw==AAAA",
        "whsec_AAEC=wQFBgcICQoLDA0ODw==",
        "whsec_AAECAwQFBgcICQoLDA0OD===",
        "whsec_====AwQFBgcICQoLDA0ODw==",
        /* bits past the last byte */
        "whsec_AAECAwQFBgcICQoLDA0ODx==",
        "whsec_AAAAAAAAAAAAAAAAAAAAAAB=",
        /* characters outside the alphabet, base64url's among them */
        "whsec_AAECAwQFBgcICQoLDA0OD-==",
        "whsec_AAECAwQFBgcICQoLDA0OD_==",
        "whsec_AAECAwQFBgcI CQoLDA0ODw==",
        "whsec_AAECAwQFBgcICQoLDA0ODw==\n",
        " whsec_AAECAwQFBgcICQoLDA0ODw==",
        "whsec_AAECAwQFBgcICQoLDA0O\303\251==",
        /* the prefix once only, and in lower case */
        "whsec_whsec_AAECAwQFBgcICQoLDA0ODw==",
        "WHSEC_AAECAwQFBgcICQoLDA0ODw==",
    };

    for (i = 0; i < NELTS(bad); i++) {
        ck_assert_msg(video_webhook_secret_key(bad[i], strlen(bad[i]), k)
                      == -1, "\"%s\" accepted", bad[i]);
    }

    /* 65 bytes, 64 */

    memset(long_key, 'A', 88);
    long_key[87] = '=';
    ck_assert_int_eq(video_webhook_secret_key(long_key, 88, k), -1);
    long_key[86] = '=';
    ck_assert_int_eq(video_webhook_secret_key(long_key, 88, k), 64);

    /* a NUL inside */

    ck_assert_int_eq(video_webhook_secret_key("whsec_AAECAwQFBgcI\0AoLDA0O"
                                              "Dw==", 30, k), -1);
    ck_assert_int_eq(video_webhook_secret_key(NULL, 0, k), -1);
}
END_TEST


START_TEST(sign_vectors)
{
    int                           j;
    char                          sig[VIDEO_WEBHOOK_SIG_ENTRY + 1];
    char                          ts[24];
    char                         *body;
    size_t                        i, len;
    const webhook_sign_vector_t  *v;

    for (i = 0; i < NELTS(webhook_sign_vectors); i++) {
        v = &webhook_sign_vectors[i];

        len = v->body_len * v->repeat;
        body = malloc(len + 1);
        ck_assert_ptr_nonnull(body);

        for (j = 0; j < v->repeat; j++) {
            memcpy(body + j * v->body_len, v->body, v->body_len);
        }

        ck_assert_int_eq(video_webhook_sign(v->secret, strlen(v->secret),
                                            v->id, v->timestamp, body, len,
                                            sig), 0);
        ck_assert_str_eq(sig, v->signature);
        ck_assert_uint_eq(strlen(sig), VIDEO_WEBHOOK_SIG_ENTRY);

        snprintf(ts, sizeof(ts), "%lld", (long long) v->timestamp);
        ck_assert_int_eq(video_webhook_verify(v->secret, strlen(v->secret),
                                              v->id, ts, body, len,
                                              v->signature, v->timestamp,
                                              TOLERANCE), 0);

        /* one byte more of body is another signature */

        body[len] = ' ';
        ck_assert_int_eq(video_webhook_verify(v->secret, strlen(v->secret),
                                              v->id, ts, body, len + 1,
                                              v->signature, v->timestamp,
                                              TOLERANCE), -1);
        free(body);
    }
}
END_TEST


START_TEST(sign_rejects)
{
    char  sig[VIDEO_WEBHOOK_SIG_ENTRY + 1];

    ck_assert_int_eq(video_webhook_sign("whsec_short", 11, MSG_ID, TS, BODY,
                                        strlen(BODY), sig), -1);
    ck_assert_int_eq(video_webhook_sign(SECRET, strlen(SECRET), NULL, TS,
                                        BODY, strlen(BODY), sig), -1);
    ck_assert_int_eq(video_webhook_sign(SECRET, strlen(SECRET), MSG_ID, TS,
                                        NULL, 1, sig), -1);
    ck_assert_int_eq(video_webhook_sign(SECRET, strlen(SECRET), MSG_ID, TS,
                                        NULL, 0, sig), 0);
}
END_TEST


START_TEST(verify_entries)
{
    char  h[256];

    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, TS), 0);

    /* several entries, the good one anywhere; empty entries skipped */

    snprintf(h, sizeof(h), "v1,bad %s", SIG);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, h, TS), 0);
    snprintf(h, sizeof(h), "%s v1,bad", SIG);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, h, TS), 0);
    snprintf(h, sizeof(h),
             "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= %s "
             "v1a,xyz", SIG);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, h, TS), 0);
    snprintf(h, sizeof(h), "  %s  ", SIG);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, h, TS), 0);

    /* the right signature under another version only */

    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY,
                            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY,
                            "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY,
                            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY,
                            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY,
                            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=,",
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY,
                            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\t",
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, "", TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, "v1,", TS), -1);

    /* another secret, body or message id */

    ck_assert_int_eq(verify(OTHER, TS_TEXT, BODY, SIG, TS), -1);
    ck_assert_int_eq(verify("whsec_bad", TS_TEXT, BODY, SIG, TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, "{\"test\": 2432232315}", SIG,
                            TS), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, "{\"test\":2432232314}", SIG,
                            TS), -1);
    ck_assert_int_eq(video_webhook_verify(SECRET, strlen(SECRET), "msg_x",
                                          TS_TEXT, BODY, strlen(BODY), SIG,
                                          TS, TOLERANCE), -1);
}
END_TEST


START_TEST(verify_timestamps)
{
    size_t              i;
    static const char  *bad[] = {
        "", "-1614265330", "+1614265330", " 1614265330", "1614265330 ",
        "1614265330a", "0x6037c2f2", "1.614265330e9", "1614265330.0",
        "1234567890123456789", "99999999999999999999999999",
    };

    /* within the tolerance either way, its bounds included */

    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, TS + TOLERANCE), 0);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, TS - TOLERANCE), 0);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, TS + TOLERANCE + 1),
                     -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, TS - TOLERANCE - 1),
                     -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, 0), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, INT64_MAX), -1);
    ck_assert_int_eq(verify(SECRET, TS_TEXT, BODY, SIG, -1), -1);
    ck_assert_int_eq(video_webhook_verify(SECRET, strlen(SECRET), MSG_ID,
                                          TS_TEXT, BODY, strlen(BODY), SIG,
                                          TS, -1), -1);

    /* the signed timestamp is the one in the header */

    ck_assert_int_eq(verify(SECRET, "1614265331", BODY, SIG, TS), -1);

    /* leading zeros read as the libraries' parseInt() reads them */

    ck_assert_int_eq(verify(SECRET, "0001614265330", BODY, SIG, TS), 0);

    for (i = 0; i < NELTS(bad); i++) {
        ck_assert_msg(verify(SECRET, bad[i], BODY, SIG, TS) == -1,
                      "timestamp \"%s\" accepted", bad[i]);
    }

    ck_assert_int_eq(video_webhook_verify(SECRET, strlen(SECRET), MSG_ID,
                                          NULL, BODY, strlen(BODY), SIG, TS,
                                          TOLERANCE), -1);
}
END_TEST


static void
check_url(json_t *obj, const char *field, const char *expect)
{
    json_t  *v;

    v = json_object_get(obj, field);
    ck_assert_ptr_nonnull(v);

    if (expect == NULL) {
        ck_assert_msg(json_is_null(v), "%s is not null", field);

    } else {
        ck_assert_msg(json_is_string(v), "%s is not a string", field);
        ck_assert_str_eq(json_string_value(v), expect);
    }
}


START_TEST(video_urls_fill)
{
    json_t        *video, *variants;
    json_error_t   err;

    video = json_loads("{\"id\":\"V1\",\"thumbnailKey\":\"V1/thumb.jpg\","
                       "\"hlsManifestKey\":\"V1/hls/master.m3u8\","
                       "\"thumbnailUrl\":\"stale\",\"variants\":["
                       "{\"quality\":\"720p\","
                       "\"playlistKey\":\"V1/hls/720p/index.m3u8\"},"
                       "{\"quality\":\"480p\",\"playlistKey\":null,"
                       "\"playbackUrl\":\"stale\"},"
                       "{\"quality\":\"360p\"},"
                       "{\"quality\":\"240p\",\"playlistKey\":7},"
                       "\"not an object\", null]}", 0, &err);
    ck_assert_ptr_nonnull(video);

    ck_assert_int_eq(video_webhook_video_urls(video,
                                              "https://v.example/play/"), 0);

    check_url(video, "thumbnailUrl", "https://v.example/play/V1/thumb.jpg");
    check_url(video, "playbackUrl",
              "https://v.example/play/V1/hls/master.m3u8");

    variants = json_object_get(video, "variants");
    ck_assert_uint_eq(json_array_size(variants), 6);
    check_url(json_array_get(variants, 0), "playbackUrl",
              "https://v.example/play/V1/hls/720p/index.m3u8");
    check_url(json_array_get(variants, 1), "playbackUrl", NULL);
    check_url(json_array_get(variants, 2), "playbackUrl", NULL);
    check_url(json_array_get(variants, 3), "playbackUrl", NULL);
    ck_assert(json_is_string(json_array_get(variants, 4)));
    ck_assert(json_is_null(json_array_get(variants, 5)));

    /* the keys stay; other members are untouched */

    ck_assert_str_eq(json_string_value(json_object_get(video,
                                                       "thumbnailKey")),
                     "V1/thumb.jpg");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(variants, 0), "quality")), "720p");

    json_decref(video);
}
END_TEST


START_TEST(video_urls_null)
{
    json_t        *video;
    json_error_t   err;

    /* a video still processing: no thumbnail, no manifest, no variants */

    video = json_loads("{\"id\":\"V2\",\"hlsManifestKey\":null,"
                       "\"thumbnailUrl\":\"stale\",\"playbackUrl\":\"x\"}",
                       0, &err);
    ck_assert_ptr_nonnull(video);

    ck_assert_int_eq(video_webhook_video_urls(video, "http://h/play/"), 0);
    check_url(video, "thumbnailUrl", NULL);
    check_url(video, "playbackUrl", NULL);
    ck_assert_ptr_null(json_object_get(video, "variants"));

    json_decref(video);

    /* variants that are not an array are left as they are */

    video = json_loads("{\"thumbnailKey\":\"t.jpg\",\"variants\":{}}", 0,
                       &err);
    ck_assert_ptr_nonnull(video);
    ck_assert_int_eq(video_webhook_video_urls(video, ""), 0);
    check_url(video, "thumbnailUrl", "t.jpg");
    ck_assert(json_is_object(json_object_get(video, "variants")));
    ck_assert_uint_eq(json_object_size(json_object_get(video, "variants")),
                      0);
    json_decref(video);

    /* not an object, or no base */

    video = json_array();
    ck_assert_int_eq(video_webhook_video_urls(video, "http://h/play/"), -1);
    json_decref(video);

    ck_assert_int_eq(video_webhook_video_urls(NULL, "http://h/play/"), -1);

    video = json_object();
    ck_assert_int_eq(video_webhook_video_urls(video, NULL), -1);
    json_decref(video);
}
END_TEST


Suite *
unit_webhook_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("webhook");

    tc = tcase_create("sealing");
    tcase_add_test(tc, key_derive_vectors);
    tcase_add_test(tc, seal_vectors);
    tcase_add_test(tc, seal_open_round_trip);
    tcase_add_test(tc, seal_lengths);
    tcase_add_test(tc, open_with_previous_key);
    tcase_add_test(tc, open_rejects_tampering);
    tcase_add_test(tc, open_rejects_garbage);
    suite_add_tcase(s, tc);

    tc = tcase_create("secrets");
    tcase_add_test(tc, secret_new_format);
    tcase_add_test(tc, secret_key_vectors);
    tcase_add_test(tc, secret_key_rejects);
    suite_add_tcase(s, tc);

    tc = tcase_create("signatures");
    tcase_add_test(tc, sign_vectors);
    tcase_add_test(tc, sign_rejects);
    tcase_add_test(tc, verify_entries);
    tcase_add_test(tc, verify_timestamps);
    suite_add_tcase(s, tc);

    tc = tcase_create("urls");
    tcase_add_test(tc, video_urls_fill);
    tcase_add_test(tc, video_urls_null);
    suite_add_tcase(s, tc);

    return s;
}
