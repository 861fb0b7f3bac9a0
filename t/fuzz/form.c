/*
 * nginx-rtmp callback bodies (application/x-www-form-urlencoded), read
 * the way the live routes read them: the whole-body check (no field
 * twice), then call, name, clientid and path, each
 * into a buffer of the size the route gives it, and a name that passes
 * for a stream key hashed as verify does.
 */

#include "fuzz.h"
#include "video_form.h"
#include "video_id.h"


typedef struct {
    const char  *name;
    size_t       size;
} form_field_t;


/* the route's sizes (1024: a live field; 21: an atomic number), and edges */
static const form_field_t  form_fields[] = {
    { "call",     1024 },
    { "name",     1024 },
    { "clientid", 21 },
    { "path",     1024 },
    { "app",      8 },
    { "addr",     1 },
    { "",         16 },
    { "name=",    16 },
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           n;
    size_t        i;
    char          out[1024], hash[VIDEO_STREAM_KEY_HASH_LEN];
    const char   *body;

    body = (const char *) data;

    for (i = 0; i < FUZZ_NELTS(form_fields); i++) {
        n = video_form_value(body, size, form_fields[i].name, out,
                             form_fields[i].size);

        if (n == VIDEO_FORM_MISSING || n == VIDEO_FORM_INVALID) {
            continue;
        }

        /* a value fits with its NUL and has no other NUL */

        fuzz_assert(n >= 0 && (size_t) n < form_fields[i].size);
        fuzz_assert(out[n] == '\0' && strlen(out) == (size_t) n);

        /* never longer than the body it came from */

        fuzz_assert((size_t) n <= size);

        if (strcmp(form_fields[i].name, "name") == 0
            && video_stream_key_valid(out, n))
        {
            fuzz_assert(video_stream_key_hash(out, n, hash) == 0);
        }
    }

    fuzz_assert(video_form_value(body, size, "name", out, 0)
                == VIDEO_FORM_INVALID);

    /*
     * the whole-body check the callbacks make first: a body it passes
     * names no field twice, so no field reads as invalid for being twice
     */

    if (video_form_check(body, size) == 0) {
        for (i = 0; i < FUZZ_NELTS(form_fields); i++) {
            if (form_fields[i].name[0] == '\0') {
                continue;
            }

            n = video_form_value(body, size, form_fields[i].name, out,
                                 sizeof(out));
            fuzz_assert(n != VIDEO_FORM_INVALID || memchr(body, '%', size)
                        || memchr(body, '\0', size)
                        || size >= sizeof(out));
        }
    }

    return 0;
}
