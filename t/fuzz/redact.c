/*
 * Request targets as clients send them, through what the access log
 * writes of them ($video_api_request): never longer than the target,
 * idempotent, and no segment of the result is a play token.
 */

#include "fuzz.h"
#include "video_play.h"
#include "video_redact.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         *out, *again;
    size_t        n, m;
    const char   *p, *end, *seg;

    out = malloc(size + 1);
    again = malloc(size + 1);

    if (out == NULL || again == NULL) {
        free(out);
        free(again);
        return 0;
    }

    n = video_redact_target((const char *) data, size, out);
    fuzz_assert(n <= size);

    /* what was taken out stays out */

    m = video_redact_target(out, n, again);
    fuzz_assert(m == n && memcmp(out, again, n) == 0);

    /* no plain token is left in the path */

    end = memchr(out, '?', n);
    end = (end != NULL) ? end : out + n;

    for (p = out; p < end; p = seg + 1) {
        seg = memchr(p, '/', end - p);
        seg = (seg != NULL) ? seg : end;
        fuzz_assert(!video_play_is_token(p, seg - p));
    }

    free(out);
    free(again);

    return 0;
}
