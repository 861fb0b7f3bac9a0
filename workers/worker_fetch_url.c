/*
 * video-worker fetch-url: the guarded fetch from the command line, as a
 * job would run it, for operators (is this source reachable, and is it
 * refused?) and for the tests.  One JSON line on stdout says how it went.
 *
 *   video-worker fetch-url [--allow CIDR]... [--max-bytes N]
 *                          [--timeout S] [--connect-timeout S]
 *                          [--low-speed-limit B --low-speed-time S]
 *                          [--max-redirects N] [--progress] URL OUTFILE
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "video_urlguard.h"
#include "video_worker.h"
#include "worker_fetch.h"


static const char  *video_fetch_url_names[] = {
    "ok", "url", "address", "redirect", "redirects", "too-big", "http",
    "timeout", "tls", "network", "write", "cancelled", "error"
};


static void
video_fetch_url_usage(FILE *out)
{
    fprintf(out,
        "usage: video-worker fetch-url [--allow CIDR]... [--max-bytes N]\n"
        "           [--timeout S] [--connect-timeout S]\n"
        "           [--low-speed-limit BYTES --low-speed-time S]\n"
        "           [--max-redirects N] [--progress] URL OUTFILE\n"
        "fetches URL into OUTFILE as a job would: only public addresses,\n"
        "or those of --allow (which replace fetch_allow), no proxy; the\n"
        "other options replace the fetch_* settings.  Prints one JSON\n"
        "line: {\"ok\":true,\"bytes\":..,\"contentType\":..,\"url\":..} or\n"
        "{\"ok\":false,\"reason\":..}; exit status 1 when the fetch failed\n"
        "(OUTFILE is then removed), 2 on a usage error\n");
}


/* a whole decimal number in min..max */

static int
video_fetch_url_number(const char *opt, const char *v, long long min,
    long long max, long long *out)
{
    char       *end;
    long long   n;

    errno = 0;
    n = strtoll(v, &end, 10);

    if (errno != 0 || *v == '\0' || *end != '\0' || *v == '-' || *v == '+'
        || n < min || n > max)
    {
        fprintf(stderr, "video-worker: %s \"%s\" is not a number in "
                "%lld..%lld\n", opt, v, min, max);
        return -1;
    }

    *out = n;

    return 0;
}


static int
video_fetch_url_progress(void *data, int64_t bytes, int64_t total)
{
    (void) data;

    fprintf(stderr, "progress %lld %lld\n", (long long) bytes,
            (long long) total);

    return 0;
}


int
video_worker_fetch_url(int argc, char **argv)
{
    int                      i, fd, progress;
    char                    *line, err[256];
    json_t                  *o;
    long long                n;
    const char              *pos[2], *opt;
    video_fetch_conf_t       conf;
    video_fetch_result_t    *res;
    video_urlguard_allow_t   allow;

    video_fetch_conf_init(&conf);
    memset(&allow, 0, sizeof(allow));

    progress = 0;
    pos[0] = NULL;
    pos[1] = NULL;

    for (i = 2; i < argc; i++) {
        opt = argv[i];

        if (strcmp(opt, "--progress") == 0) {
            progress = 1;
            continue;
        }

        if (strncmp(opt, "--", 2) != 0) {
            if (pos[0] == NULL) {
                pos[0] = argv[i];

            } else if (pos[1] == NULL) {
                pos[1] = argv[i];

            } else {
                fprintf(stderr, "video-worker: unexpected \"%s\"\n",
                        argv[i]);
                video_fetch_url_usage(stderr);
                return 2;
            }

            continue;
        }

        if (i + 1 == argc) {
            fprintf(stderr, "video-worker: %s needs a value\n", opt);
            return 2;
        }

        i++;

        if (strcmp(opt, "--allow") == 0) {
            if (video_urlguard_allow_parse(&allow, argv[i], strlen(argv[i]),
                                           err, sizeof(err))
                != 0)
            {
                fprintf(stderr, "video-worker: --allow %s\n", err);
                return 2;
            }

            conf.allow = &allow;
            continue;
        }

        if (strcmp(opt, "--max-bytes") == 0) {
            if (video_fetch_url_number(opt, argv[i], 1, INT64_MAX / 2, &n)
                != 0)
            {
                return 2;
            }

            conf.max_bytes = n;

        } else if (strcmp(opt, "--timeout") == 0) {
            if (video_fetch_url_number(opt, argv[i], 1, 604800, &n) != 0) {
                return 2;
            }

            conf.timeout = n;

        } else if (strcmp(opt, "--connect-timeout") == 0) {
            if (video_fetch_url_number(opt, argv[i], 1, 600, &n) != 0) {
                return 2;
            }

            conf.connect_timeout = n;

        } else if (strcmp(opt, "--low-speed-limit") == 0) {
            if (video_fetch_url_number(opt, argv[i], 0, 1000000000, &n)
                != 0)
            {
                return 2;
            }

            conf.low_speed_limit = n;

        } else if (strcmp(opt, "--low-speed-time") == 0) {
            if (video_fetch_url_number(opt, argv[i], 0, 86400, &n) != 0) {
                return 2;
            }

            conf.low_speed_time = n;

        } else if (strcmp(opt, "--max-redirects") == 0) {
            if (video_fetch_url_number(opt, argv[i], 0, 20, &n) != 0) {
                return 2;
            }

            conf.max_redirects = (int) n;

        } else {
            fprintf(stderr, "video-worker: unknown option \"%s\"\n", opt);
            video_fetch_url_usage(stderr);
            return 2;
        }
    }

    if (pos[1] == NULL) {
        video_fetch_url_usage(stderr);
        return 2;
    }

    if (progress) {
        conf.progress = video_fetch_url_progress;
    }

    fd = open(pos[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0644);

    if (fd == -1) {
        fprintf(stderr, "video-worker: cannot open \"%s\": %s\n", pos[1],
                strerror(errno));
        return 2;
    }

    res = malloc(sizeof(video_fetch_result_t));
    if (res == NULL) {
        close(fd);
        unlink(pos[1]);
        fprintf(stderr, "video-worker: out of memory\n");
        return 1;
    }

    video_fetch(pos[0], fd, &conf, res);

    if (res->rc == VIDEO_FETCH_OK && fsync(fd) != 0) {
        res->rc = VIDEO_FETCH_WRITE;
        snprintf(res->reason, sizeof(res->reason), "cannot write the file: "
                 "%s", strerror(errno));
    }

    if (close(fd) != 0 && res->rc == VIDEO_FETCH_OK) {
        res->rc = VIDEO_FETCH_WRITE;
        snprintf(res->reason, sizeof(res->reason), "cannot write the file: "
                 "%s", strerror(errno));
    }

    if (res->rc == VIDEO_FETCH_OK) {
        o = json_pack("{s:b, s:I, s:s, s:s, s:i, s:i}", "ok", 1,
                      "bytes", (json_int_t) res->bytes,
                      "contentType", res->content_type, "url", res->url,
                      "status", (int) res->status,
                      "redirects", res->redirects);

    } else {
        unlink(pos[1]);

        o = json_pack("{s:b, s:s, s:s, s:s, s:i, s:b}", "ok", 0,
                      "reason", res->reason,
                      "kind", video_fetch_url_names[res->rc],
                      "url", res->url, "status", (int) res->status,
                      "transient", video_fetch_transient(res));
    }

    line = (o != NULL) ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);

    if (line == NULL) {
        fprintf(stderr, "video-worker: cannot write the result\n");
        free(res);
        return 1;
    }

    printf("%s\n", line);
    free(line);

    i = (res->rc == VIDEO_FETCH_OK) ? 0 : 1;
    free(res);

    return i;
}
