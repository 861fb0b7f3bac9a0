/*
 * Job messages as the transcode and cleanup workers take them off the
 * queue: video_job_parse() on any bytes, and everything a parsed job
 * promises checked, since the workers act on it at once (fetch, upload,
 * delete): every key under "<videoId>/" with no empty, "." or ".."
 * segment, a recording that is an absolute, plain path of this video's
 * ".flv", an ETag that is one token for an If-Match header (visible
 * ASCII, no '"') and never beside a recording, strings that fit and end
 * where they say.
 */

#include <jansson.h>

#include "fuzz.h"
#include "video_id.h"
#include "video_job.h"


/* no empty, "." or ".." segment in s (segments split at '/') */

static int
job_plain(const char *s)
{
    const char  *p, *seg;

    for (p = s; ; p++) {
        seg = p;

        while (*p != '\0' && *p != '/') {
            p++;
        }

        if (p == seg || (p - seg == 1 && seg[0] == '.')
            || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
        {
            return 0;
        }

        if (*p == '\0') {
            return 1;
        }
    }
}


static void
job_key_check(const video_job_t *job, const char *key)
{
    fuzz_assert(strlen(key) <= VIDEO_JOB_KEY_MAX);
    fuzz_assert(strncmp(key, job->video_id, VIDEO_ID_LEN) == 0);
    fuzz_assert(key[VIDEO_ID_LEN] == '/');
    fuzz_assert(job_plain(key + VIDEO_ID_LEN + 1));
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
    int           i;
    size_t        n;
    const char   *err, *name;
    video_job_t   job;

    err = NULL;

    if (video_job_parse((const char *) data, size, &job, &err) != 0) {
        fuzz_assert(err != NULL);
        return 0;
    }

    fuzz_assert(job.type == VIDEO_JOB_TRANSCODE
                || job.type == VIDEO_JOB_CLEANUP);
    fuzz_assert(job.video_id[VIDEO_ID_LEN] == '\0');
    fuzz_assert(video_id_valid(job.video_id, VIDEO_ID_LEN));

    if (job.type == VIDEO_JOB_TRANSCODE) {
        job_key_check(&job, job.input_key);
        fuzz_assert(job.nobjects == 0);

        n = strlen(job.etag);
        fuzz_assert(n <= VIDEO_JOB_ETAG_MAX);

        for (i = 0; i < (int) n; i++) {
            fuzz_assert(job.etag[i] > 0x20 && job.etag[i] < 0x7f
                        && job.etag[i] != '"');
        }

        fuzz_assert(n == 0 || job.recording[0] == '\0');

        n = strlen(job.recording);
        fuzz_assert(n < VIDEO_JOB_PATH_MAX);

        if (n > 0) {
            fuzz_assert(job.recording[0] == '/');
            fuzz_assert(job_plain(job.recording + 1));
            fuzz_assert(n >= 4 && strcmp(job.recording + n - 4, ".flv") == 0);

            name = strrchr(job.recording, '/') + 1;

            fuzz_assert(strncmp(name, job.video_id, VIDEO_ID_LEN) == 0);
            fuzz_assert(name[VIDEO_ID_LEN] == '-'
                        || name[VIDEO_ID_LEN] == '.');
        }

        return 0;
    }

    fuzz_assert(job.nobjects >= 0 && job.nobjects <= VIDEO_JOB_OBJECTS);
    fuzz_assert(job.input_key[0] == '\0' && job.recording[0] == '\0'
                && job.etag[0] == '\0');

    for (i = 0; i < job.nobjects; i++) {
        n = strlen(job.objects[i].bucket);
        fuzz_assert(n > 0 && n <= VIDEO_JOB_BUCKET_MAX);

        if (job.objects[i].prefix) {
            fuzz_assert(strncmp(job.objects[i].key, job.video_id,
                                VIDEO_ID_LEN) == 0);
            fuzz_assert(strcmp(job.objects[i].key + VIDEO_ID_LEN, "/") == 0);

        } else {
            job_key_check(&job, job.objects[i].key);
        }
    }

    return 0;
}
