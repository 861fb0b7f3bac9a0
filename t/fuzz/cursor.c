/*
 * The list route's query values: ?cursor= through video_cursor_decode(),
 * twice per input (as it comes, and the input taken as the decoded text
 * "<micros>.<id>" and encoded first, so the fuzzer reaches the number
 * and the id directly), with every cursor that decodes encoded again;
 * and ?q=, ?status=, ?visibility=, ?videoType= through the checks the
 * route makes of them (UTF-8 length, the enums).
 */

#include "fuzz.h"
#include "video_cursor.h"
#include "video_id.h"
#include "video_validate.h"


/* what decodes is what this service makes: the same cursor again */

static void
cursor_check(const char *in, size_t len)
{
    char     id[VIDEO_ID_LEN], again[VIDEO_CURSOR_MAX + 1];
    char     id2[VIDEO_ID_LEN];
    size_t   n;
    int64_t  micros, micros2;

    if (video_cursor_decode(in, len, &micros, id) != 0) {
        return;
    }

    fuzz_assert(micros >= 0);
    fuzz_assert(video_id_valid(id, VIDEO_ID_LEN));

    n = video_cursor_encode(again, micros, id);
    fuzz_assert(n <= VIDEO_CURSOR_MAX && again[n] == '\0');

    fuzz_assert(video_cursor_decode(again, n, &micros2, id2) == 0);
    fuzz_assert(micros2 == micros && memcmp(id2, id, VIDEO_ID_LEN) == 0);
}


/* base64url without padding of in, as the cursor's encoder writes it */

static size_t
cursor_b64(const uint8_t *in, size_t len, char *out)
{
    size_t    i, o;
    uint32_t  v;

    static const char  b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    for (i = 0, o = 0; i < len; i += 3) {
        v = (uint32_t) in[i] << 16;
        v |= (i + 1 < len) ? (uint32_t) in[i + 1] << 8 : 0;
        v |= (i + 2 < len) ? in[i + 2] : 0;

        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];

        if (i + 1 < len) {
            out[o++] = b64[(v >> 6) & 63];
        }

        if (i + 2 < len) {
            out[o++] = b64[v & 63];
        }
    }

    return o;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   enc[(VIDEO_CURSOR_MAX + 4) / 4 * 4 + 4];
    long   n;
    size_t len;

    cursor_check((const char *) data, size);

    /* the decoded form: 42 bytes encode to the longest cursor, 56 */

    len = size < 42 ? size : 42;
    cursor_check(enc, cursor_b64(data, len, enc));

    /* the other list parameters, as the route checks them */

    n = video_utf8_length((const char *) data, size);
    fuzz_assert(n >= -1 && n <= (long) size);

    (void) video_enum_index(video_statuses, (const char *) data, size);
    (void) video_enum_index(video_visibilities, (const char *) data, size);
    (void) video_enum_index(video_types, (const char *) data, size);

    return 0;
}
