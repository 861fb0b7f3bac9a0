/*
 * JSON text through the walk that trims video objects for callers who
 * see their public view: what jansson takes, the walk takes too, and what
 * it writes is valid JSON again, no longer than the input, without any
 * dropped member at any depth, and unchanged by a second walk; without
 * names it is the input.  Top-level strings it reads lie in the input.
 */

#include <jansson.h>

#include "fuzz.h"
#include "video_json.h"


static const char *const  names[] = { "a", "thumbnailKey", "playlistKey",
                                      NULL };


/* no object in j has a member of names */

static int
fuzz_json_clean(json_t *j, int depth)
{
    size_t       i;
    const char  *k;
    json_t      *v;

    if (depth > VIDEO_JSON_DEPTH_MAX + 1) {
        return 1;
    }

    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            for (i = 0; names[i] != NULL; i++) {
                if (strcmp(k, names[i]) == 0) {
                    return 0;
                }
            }

            if (!fuzz_json_clean(v, depth + 1)) {
                return 0;
            }
        }
    }

    if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            if (!fuzz_json_clean(v, depth + 1)) {
                return 0;
            }
        }
    }

    return 1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char              *out, *again;
    ssize_t            n, m;
    json_t            *in, *res;
    json_error_t       err;
    video_json_str_t   v[4];
    const char        *s = (const char *) data;

    out = malloc(size + 1);
    again = malloc(size + 1);

    if (out == NULL || again == NULL) {
        free(out);
        free(again);
        return 0;
    }

    n = video_json_drop(s, size, NULL, out);
    fuzz_assert(n < 0 || ((size_t) n == size && memcmp(out, s, size) == 0));

    /* jansson stops at a NUL byte outside strings, as if the text ended */

    in = (memchr(s, '\0', size) == NULL)
         ? json_loadb(s, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err)
         : NULL;
    n = video_json_drop(s, size, names, out);

    if (in != NULL && n < 0) {
        /* only nesting deeper than the walk goes may be refused */
        fuzz_assert(size > VIDEO_JSON_DEPTH_MAX);
    }

    if (n >= 0) {
        fuzz_assert((size_t) n <= size);

        m = video_json_drop(out, n, names, again);
        fuzz_assert(m == n && memcmp(out, again, n) == 0);

        if (in != NULL) {
            res = json_loadb(out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
            fuzz_assert(res != NULL);
            fuzz_assert(fuzz_json_clean(res, 0));
            json_decref(res);
        }
    }

    json_decref(in);

    if (video_json_strings(s, size, names, v) == 0) {
        for (m = 0; m < 3; m++) {
            fuzz_assert(v[m].data == NULL
                        || (v[m].data >= s
                            && v[m].data + v[m].len <= s + size));
        }
    }

    free(out);
    free(again);

    return 0;
}
