/*
 * View figures written into video JSON text (video_json() of conf/sql,
 * whose titles and descriptions are any text a user wrote): every slot
 * the scan finds lies inside the text, in order, on the key run it
 * claims, for a valid id before it; writing the widest figures fits in
 * the room the header promises; and the written text scans again to the
 * same slots holding the new figures.
 */

#include <stdio.h>

#include "fuzz.h"
#include "video_id.h"
#include "video_views.h"


#define VIEWS_MAX  100      /* a page of the list at most */


static void
views_check(const char *json, size_t len, const video_views_slot_t *slots,
    size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        fuzz_assert(slots[i].start < slots[i].end && slots[i].end <= len);
        fuzz_assert(i == 0 || slots[i].start >= slots[i - 1].end);
        fuzz_assert(slots[i].id >= json
                    && slots[i].id + VIDEO_ID_LEN <= json + slots[i].start);
        fuzz_assert(video_id_valid(slots[i].id, VIDEO_ID_LEN));
        fuzz_assert(json[slots[i].start] >= '0'
                    && json[slots[i].start] <= '9');
        fuzz_assert(json[slots[i].end - 1] >= '0'
                    && json[slots[i].end - 1] <= '9');
    }
}


static void
views_write(const char *json, size_t len, video_views_slot_t *slots,
    size_t n, int64_t figure)
{
    char                *out;
    size_t               i, m, olen;
    video_views_slot_t  *again;

    for (i = 0; i < n; i++) {
        slots[i].today = figure;
        slots[i].month = figure;
        slots[i].total = figure;
    }

    /* exactly the room promised, so ASan sees a byte more */

    out = malloc(len + n * VIDEO_VIEWS_SLOT_GROWTH + 1);
    again = malloc(sizeof(video_views_slot_t) * (n + 1));

    if (out != NULL && again != NULL) {
        olen = video_views_write(json, len, slots, n, out);
        fuzz_assert(olen <= len + n * VIDEO_VIEWS_SLOT_GROWTH);

        /* (a scan that stopped at its maximum may leave slots behind) */

        if (figure >= 0 && n < VIEWS_MAX) {
            m = video_views_scan(out, olen, again, n + 1);
            fuzz_assert(m == n);
            views_check(out, olen, again, m);

            for (i = 0; i < m; i++) {
                fuzz_assert(memcmp(again[i].id, slots[i].id, VIDEO_ID_LEN)
                            == 0);
            }
        }
    }

    free(again);
    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               n, one;
    const char          *json;
    video_views_slot_t   slots[VIEWS_MAX], first;

    json = (const char *) data;

    n = video_views_scan(json, size, slots, VIEWS_MAX);
    fuzz_assert(n <= VIEWS_MAX);
    views_check(json, size, slots, n);

    /* a video's page asks for one: the first of the list's */

    one = video_views_scan(json, size, &first, 1);
    fuzz_assert(one == (n > 0));

    if (one) {
        fuzz_assert(first.id == slots[0].id && first.start == slots[0].start
                    && first.end == slots[0].end);
    }

    views_write(json, size, slots, n, 0);
    views_write(json, size, slots, n, INT64_MAX);
    views_write(json, size, slots, n, INT64_MIN);

    return 0;
}
