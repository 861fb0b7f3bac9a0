/*
 * WebRTC signaling input: the first line is a poll's ?timeout= value,
 * checked against the smallest, the default and the largest maximum
 * nginx's time syntax allows (video_api_signal_timeout); the rest is a
 * POST /api/live/:id/signal body, parsed as the module parses bodies and
 * checked by video_signal_parse().  What passes becomes the stored
 * message and the peer's Redis key, within their bounds; what fails has
 * details that serialize as the 400's envelope.
 */

#include <jansson.h>

#include "fuzz.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_signal.h"


#define SIGNAL_STREAM  "V1StGXR8_Z5jdHi6B-myT"


/* 0, 25 s (the default) and 2147483 s (2^31 - 1 ms, the most it takes) */
static const long  signal_max[] = { 0, 25, 2147483 };


static void
signal_timeout(const fuzz_part_t *arg)
{
    int     rc;
    long    seconds;
    size_t  i, j, digits;

    for (j = 0; j < FUZZ_NELTS(signal_max); j++) {
        seconds = -1;
        rc = video_signal_timeout(arg->data, arg->len, signal_max[j],
                                  &seconds);

        for (digits = 0; digits < arg->len; digits++) {
            if (arg->data[digits] < '0' || arg->data[digits] > '9') {
                break;
            }
        }

        fuzz_assert((rc == 0) == (arg->len > 0 && digits == arg->len));

        if (rc != 0) {
            continue;
        }

        fuzz_assert(seconds >= 0 && seconds <= signal_max[j]);

        /* below the maximum it is the number itself */

        if (seconds < signal_max[j]) {
            for (i = 0; i < arg->len && arg->data[i] == '0'; i++) {
                /* void */
            }

            fuzz_assert(arg->len - i <= 7);
        }
    }
}


static void
signal_body(const fuzz_part_t *part)
{
    char            key[VIDEO_SIGNAL_KEY_MAX], *text;
    size_t          n;
    json_t         *body, *details, *msg;
    json_error_t    err;
    video_signal_t  s;

    body = json_loadb(part->data, part->len, JSON_REJECT_DUPLICATES, &err);
    if (body == NULL) {
        return;
    }

    if (!json_is_object(body)) {
        json_decref(body);
        return;
    }

    details = NULL;

    if (video_signal_parse(body, &s, &details) == 0) {
        fuzz_assert(details == NULL);
        fuzz_assert(s.type >= 0 && s.type <= 2 && s.data != NULL);
        fuzz_assert(video_signal_peer_valid(s.from, strlen(s.from)));
        fuzz_assert(video_signal_peer_valid(s.to, strlen(s.to)));
        fuzz_assert(strcmp(s.from, s.to) != 0);

        n = video_signal_key(key, SIGNAL_STREAM, VIDEO_ID_LEN, s.to,
                             strlen(s.to));
        fuzz_assert(n <= sizeof(key));

        msg = video_signal_message(&s, "abcdefghijklmnopqrstu",
                                   "2025-11-01T10:00:00.000Z");
        fuzz_assert(msg != NULL);

    } else {
        fuzz_assert(details != NULL && json_array_size(details) > 0);
        msg = video_envelope_error(400, "VALIDATION_ERROR",
                                   "Validation failed", 17, details);
        fuzz_assert(msg != NULL);
    }

    text = json_dumps(msg, JSON_COMPACT);
    fuzz_assert(text != NULL);

    free(text);
    json_decref(msg);
    json_decref(body);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    json_object_seed(1);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part_t  parts[2];

    fuzz_split(data, size, '\n', parts, 2);

    signal_timeout(&parts[0]);
    signal_body(&parts[1]);

    return 0;
}
