/*
 * The first bytes of an uploaded file through the transcoder's container
 * check (video_container_sniff), with and without FLV allowed and with
 * the file's size at, past and below what was read: an accepted file
 * has a demuxer from the whitelist, a refused one a reason, and FLV is
 * never accepted unless allowed.
 */

#include "fuzz.h"
#include "video_container.h"


static const char  *container_demuxers[] = {
    "mov", "matroska", "ogg", "flv"
};


static void
container_check(const uint8_t *data, size_t len, uint64_t size,
    unsigned flags)
{
    int                 rc;
    size_t              i;
    const char         *what;
    video_container_t   c;

    what = NULL;
    memset(&c, 0, sizeof(c));

    rc = video_container_sniff(data, len, size, flags, &c, &what);

    if (rc != 0) {
        fuzz_assert(rc == -1 && what != NULL && what[0] != '\0');
        return;
    }

    fuzz_assert(c.demuxer != NULL && c.name != NULL);

    for (i = 0; i < FUZZ_NELTS(container_demuxers); i++) {
        if (strcmp(c.demuxer, container_demuxers[i]) == 0) {
            break;
        }
    }

    fuzz_assert(i < FUZZ_NELTS(container_demuxers));
    fuzz_assert(strcmp(c.demuxer, "flv") != 0
                || (flags & VIDEO_CONTAINER_ALLOW_FLV));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    container_check(data, size, size, 0);
    container_check(data, size, size, VIDEO_CONTAINER_ALLOW_FLV);
    container_check(data, size, (uint64_t) size * 1000 + 1, 0);

    if (size > 0) {
        container_check(data, size - 1, size - 1, 0);
    }

    fuzz_assert(video_container_accepted(0) != NULL);

    return 0;
}
