/*
 * What the transcoder reads back from a chunked transcode's runs: the
 * split's list of pieces (video_ladder_pieces) and a run's playlist
 * (video_ladder_segments), both written by ffmpeg from a hostile
 * original.  The first byte picks the parser (and, for a playlist, the
 * chunk number it expects); the rest is the text.  Pieces come back in
 * order, on the original's timeline, never going back, each ending at or
 * after its start; segments have positive durations; neither reads
 * past what it is given (ASan) nor returns more than it may.
 */

#include "fuzz.h"
#include "video_ladder.h"


#define FUZZ_CHUNK_MAX  64


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int      i, n, chunk;
    char    *text;
    double   s[FUZZ_CHUNK_MAX], e[FUZZ_CHUNK_MAX];

    if (size < 1) {
        return 0;
    }

    /* a copy of exactly the text's length: a read past it is caught */

    text = fuzz_strndup((const char *) data + 1, size - 1);
    if (text == NULL) {
        return 0;
    }

    if (data[0] & 1) {
        n = video_ladder_pieces(text, size - 1, s, e, FUZZ_CHUNK_MAX);

        fuzz_assert(n >= -1 && n <= FUZZ_CHUNK_MAX);

        for (i = 0; i < n; i++) {
            fuzz_assert(s[i] >= 0 && e[i] >= s[i]);
            fuzz_assert(i == 0 || s[i] >= e[i - 1] - 0.001);
        }

    } else {
        chunk = (data[0] >> 1) - 1;
        n = video_ladder_segments(text, size - 1, chunk, s, FUZZ_CHUNK_MAX);

        fuzz_assert(n >= -1 && n <= FUZZ_CHUNK_MAX);

        for (i = 0; i < n; i++) {
            fuzz_assert(s[i] > 0);
        }
    }

    free(text);

    return 0;
}
