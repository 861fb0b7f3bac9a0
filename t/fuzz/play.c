/*
 * Playback tokens and the signing of play URLs.  The input is an id, a
 * token and a JSON text, one per line: the token is verified for the id
 * as /play/<id>/<token>/... is, a token made for the id must verify until
 * it expires and not after, and the text (a video object as PostgreSQL
 * builds it, or anything) is signed: measuring and writing agree, and
 * taking the inserted tokens out again gives the text back unchanged.
 */

#define _GNU_SOURCE  /* memmem() */

#include <stdlib.h>

#include "fuzz.h"
#include "video_id.h"
#include "video_play.h"


#define PLAY_SECRET      (const unsigned char *) "playback-secret"
#define PLAY_SECRET_N    (sizeof("playback-secret") - 1)
#define PLAY_BASE        "http://media.test/play/"
#define PLAY_BASE_N      (sizeof(PLAY_BASE) - 1)
#define PLAY_NOW         1780000000
#define PLAY_EXP         1790000000
#define PLAY_TOKEN_HEAD  "1790000000-"
#define PLAY_TTL         (6 * 3600)
#define PLAY_GEN         7


static video_play_key_t  play_key_value;


static const video_play_key_t *
play_key(void)
{
    if (play_key_value.len == 0) {
        fuzz_assert(video_play_key_init(&play_key_value, PLAY_SECRET,
                                        PLAY_SECRET_N) == 0);
    }

    return &play_key_value;
}


static void
play_verify(const fuzz_part_t *id, const fuzz_part_t *token)
{
    int   rc, n;
    char  mine[VIDEO_PLAY_TOKEN_MAX];

    rc = video_play_verify(play_key(), 1, id->data, id->len, token->data,
                           token->len, PLAY_GEN, PLAY_NOW, PLAY_TTL);

    fuzz_assert(rc == VIDEO_PLAY_OK || rc == VIDEO_PLAY_INVALID
                || rc == VIDEO_PLAY_EXPIRED);

    if (rc != VIDEO_PLAY_INVALID) {
        fuzz_assert(video_play_is_token(token->data, token->len));
        fuzz_assert(video_id_valid(id->data, id->len));
    }

    if (!video_id_valid(id->data, id->len)) {
        return;
    }

    n = video_play_token(play_key(), id->data, id->len, PLAY_EXP, PLAY_GEN,
                         mine);

    fuzz_assert(n > 0 && video_play_is_token(mine, n));
    fuzz_assert(video_play_verify(play_key(), 1, id->data, id->len, mine, n,
                                  PLAY_GEN, PLAY_EXP, PLAY_TTL)
                == VIDEO_PLAY_OK);
    fuzz_assert(video_play_verify(play_key(), 1, id->data, id->len, mine, n,
                                  PLAY_GEN, PLAY_EXP + 1, PLAY_TTL)
                == VIDEO_PLAY_EXPIRED);

    /* another generation: no longer */

    fuzz_assert(video_play_verify(play_key(), 1, id->data, id->len, mine, n,
                                  PLAY_GEN + 1, PLAY_EXP, PLAY_TTL)
                == VIDEO_PLAY_INVALID);
}


/*
 * out without the tokens signing put after PLAY_BASE "<id>/": 1 when
 * that is in, else 0
 */

static int
play_unsigned_is(const char *out, size_t n, const char *in, size_t len)
{
    size_t   i, o, k;

    i = 0;
    o = 0;

    while (i < n) {
        if (n - i > PLAY_BASE_N + VIDEO_ID_LEN + 1
            && memcmp(out + i, PLAY_BASE, PLAY_BASE_N) == 0
            && video_id_valid(out + i + PLAY_BASE_N, VIDEO_ID_LEN)
            && out[i + PLAY_BASE_N + VIDEO_ID_LEN] == '/')
        {
            /* the token of whatever generation the text gave */

            k = sizeof(PLAY_TOKEN_HEAD) - 1 + VIDEO_PLAY_KID_LEN
                + VIDEO_PLAY_SIG_LEN;

            /* the base and the id stay; a token after them goes */

            if (o + PLAY_BASE_N + VIDEO_ID_LEN + 1 > len
                || memcmp(in + o, out + i, PLAY_BASE_N + VIDEO_ID_LEN + 1)
                   != 0)
            {
                return 0;
            }

            o += PLAY_BASE_N + VIDEO_ID_LEN + 1;
            i += PLAY_BASE_N + VIDEO_ID_LEN + 1;

            if (n - i > k
                && memcmp(out + i, PLAY_TOKEN_HEAD,
                          sizeof(PLAY_TOKEN_HEAD) - 1) == 0
                && video_play_is_token(out + i, k) && out[i + k] == '/')
            {
                i += k + 1;
            }

            continue;
        }

        if (o >= len || in[o] != out[i]) {
            return 0;
        }

        i++;
        o++;
    }

    return o == len;
}


static void
play_sign(const fuzz_part_t *json)
{
    int    s, s2, vis;
    long   need, n;
    char  *out;

    vis = video_play_visibility(json->data, json->len);
    fuzz_assert(vis >= -1 && vis <= 1);

    need = video_play_sign_json(json->data, json->len, PLAY_BASE,
                                PLAY_BASE_N, play_key(), PLAY_EXP, NULL, &s);

    fuzz_assert(need >= (long) json->len);
    fuzz_assert(s == (need > (long) json->len));

    /* exactly the room it asked for, so ASan sees any byte more */

    out = malloc(need > 0 ? need : 1);
    if (out == NULL) {
        return;
    }

    n = video_play_sign_json(json->data, json->len, PLAY_BASE, PLAY_BASE_N,
                             play_key(), PLAY_EXP, out, &s2);

    fuzz_assert(n == need && s2 == s);

    /*
     * a text with a token of ours in it already (the fuzzer sees the
     * comparisons below) could give it back in more than one way
     */

    if (memmem(json->data, json->len, PLAY_TOKEN_HEAD,
               sizeof(PLAY_TOKEN_HEAD) - 1) == NULL)
    {
        fuzz_assert(play_unsigned_is(out, n, json->data, json->len));
    }

    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part_t  parts[3];

    fuzz_split(data, size, '\n', parts, 3);

    play_verify(&parts[0], &parts[1]);
    play_sign(&parts[2]);

    return 0;
}
