/*
 * Request paths against every route pattern the module serves, as the
 * router matches them, then what a route does first with a captured id
 * (video_id_valid) and what the 404 for an unknown path carries (the
 * path in a JSON error envelope, lossy for bytes that are not UTF-8).
 */

#include <jansson.h>

#include "fuzz.h"
#include "video_envelope.h"
#include "video_id.h"
#include "video_play.h"
#include "video_route.h"


/* the router's table (src/routes), plus patterns at the matcher's edges */
static const char *const  route_patterns[] = {
    "/health",
    "/api/videos",
    "/api/videos/:id",
    "/api/videos/:id/progress",
    "/api/upload/presign",
    "/api/upload/:id/complete",
    "/api/analytics/view/:id",
    "/api/analytics/stats/:id",
    "/api/analytics/reset/daily",
    "/api/analytics/reset/monthly",
    "/api/live/create",
    "/api/live/verify",
    "/api/live/unpublish",
    "/api/live/record",
    "/api/live/active",
    "/api/live/:id",
    "/api/live/:id/watch",
    "/api/live/:id/key",
    "/api/live/:id/start",
    "/api/live/:id/stop",
    "/api/live/:id/visibility",
    "/api/live/:id/signal",
    "/play/:id/*",
    "/live/:id/*",
    "/:a/:b/:c/:d",
    "/:a/:b/:c/:d/:e",
    "/:a/:b/:c/*",
    "/*",
    "/",
    "",
};


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    /* the same hash order every run: a crash reproduces */
    json_object_seed(1);

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   n, k, slash;
    char                 *text;
    size_t                i, j, colons;
    json_t               *env;
    const char           *path, *end, *pat;
    video_route_param_t   params[VIDEO_ROUTE_MAX_PARAMS];

    path = (const char *) data;
    end = path + size;

    for (i = 0; i < FUZZ_NELTS(route_patterns); i++) {
        pat = route_patterns[i];

        n = video_route_match(pat, path, size, params);

        if (n < 0) {
            continue;
        }

        /* as many parameters as the pattern has, each inside the path */

        colons = 0;

        for (j = 0; pat[j] != '\0'; j++) {
            colons += (pat[j] == ':' || pat[j] == '*');
        }

        fuzz_assert((size_t) n == colons && n <= VIDEO_ROUTE_MAX_PARAMS);

        for (k = 0; k < n; k++) {
            fuzz_assert(params[k].len > 0);
            fuzz_assert(params[k].data > path
                        && params[k].data + params[k].len <= end);
            fuzz_assert(params[k].data[-1] == '/');

            slash = memchr(params[k].data, '/', params[k].len) != NULL;

            /* only "*" takes a slash, and only inside what it captures */

            fuzz_assert(!slash
                        || (k == n - 1 && pat[strlen(pat) - 1] == '*'));

            (void) video_id_valid(params[k].data, params[k].len);
            (void) video_play_is_token(params[k].data, params[k].len);
        }
    }

    /* the 404's envelope names the path, whatever its bytes */

    env = video_envelope_error(404, NULL, path, size, NULL);
    fuzz_assert(env != NULL);

    text = json_dumps(env, JSON_COMPACT);
    fuzz_assert(text != NULL);

    free(text);
    json_decref(env);

    return 0;
}
