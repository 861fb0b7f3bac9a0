/*
 * video-worker: the process for slow work outside nginx.  Each role is a
 * subcommand; the roles (relay, transcode, analytics) connect to their
 * services as they are built.
 */

#include <stdio.h>
#include <string.h>

#include "video_time.h"


static const char  *video_worker_roles[] = {
    "relay", "transcode", "analytics", NULL
};


static void
video_worker_usage(FILE *out)
{
    fprintf(out,
            "usage: video-worker <role>\n"
            "roles: relay, transcode, analytics\n"
            "       version    print the version and exit\n");
}


int
main(int argc, char **argv)
{
    int   i;
    char  now[VIDEO_TIME_ISO_LEN + 1];

    if (argc != 2) {
        video_worker_usage(stderr);
        return 2;
    }

    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        video_worker_usage(stdout);
        return 0;
    }

    if (strcmp(argv[1], "version") == 0) {
        printf("video-worker 0.1.0\n");
        return 0;
    }

    for (i = 0; video_worker_roles[i] != NULL; i++) {
        if (strcmp(argv[1], video_worker_roles[i]) == 0) {
            video_time_iso8601(now, video_time_now_ms());
            fprintf(stderr, "%s video-worker: role \"%s\" has no work "
                    "defined yet\n", now, argv[1]);
            return 0;
        }
    }

    fprintf(stderr, "video-worker: unknown role \"%s\"\n", argv[1]);
    video_worker_usage(stderr);

    return 2;
}
