/*
 * The outputs to storage: each rung's playlist checked to name only
 * segments, the segments and playlists to the processed bucket, the
 * master playlist, and the thumbnail to its own bucket, each opened in
 * the sandbox's out/ without following links.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "worker_transcode.h"


/*
 * An output to storage.  The sandboxed ffmpeg wrote it, so it is opened
 * without following links (video_sandbox_open): the worker uploads what
 * ffmpeg made, never a file ffmpeg pointed it at.  PERMANENT when it is
 * not such a file, TRANSIENT when storage failed.
 */

int
video_transcode_put_as(video_transcode_t *t, const char *bucket,
    const char *rel, const char *key, const char *type)
{
    int   fd, rc;
    char  name[1200];

    fd = video_sandbox_open(t->dir, rel, t->err, sizeof(t->err));
    if (fd < 0) {
        return VIDEO_JOB_PERMANENT;
    }

    snprintf(name, sizeof(name), "%s/%s", t->job.video_id, key);

    rc = video_worker_storage_put_fd(bucket, name, fd, type, t->err,
                                     sizeof(t->err));
    close(fd);

    return rc == 0 ? VIDEO_JOB_OK : VIDEO_JOB_TRANSIENT;
}


static int
video_transcode_put(video_transcode_t *t, const char *bucket,
    const char *rel, const char *type)
{
    return video_transcode_put_as(t, bucket, rel, rel, type);
}


/* a segment's name in a rung's playlist, as ffmpeg makes it */

static int
video_transcode_segment_name(const char *name)
{
    size_t  i, n;

    n = strlen(name);

    if (n < 4 || n > 64 || strcmp(name + n - 3, ".ts") != 0
        || name[0] == '.')
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= 'A' && name[i] <= 'Z')
              || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '_' || name[i] == '-' || name[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


/* the master playlist, each rung's playlist and segments, the thumbnail */

int
video_transcode_upload(video_transcode_t *t)
{
    int    i, fd, rc;
    FILE  *f;
    char   rel[256], line[512], err[VIDEO_ERR_MAX];

    for (i = 0; i < t->nrungs; i++) {
        snprintf(rel, sizeof(rel), "%s/playlist.m3u8", t->rungs[i].name);

        fd = video_sandbox_open(t->dir, rel, err, sizeof(err));
        f = (fd >= 0) ? fdopen(fd, "r") : NULL;

        if (f == NULL) {
            if (fd >= 0) {
                close(fd);
            }

            snprintf(t->err, sizeof(t->err), "ffmpeg wrote no %s playlist "
                     "(%.300s)", t->rungs[i].name, err);
            return VIDEO_JOB_PERMANENT;
        }

        while (fgets(line, sizeof(line), f) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';

            if (line[0] == '\0' || line[0] == '#') {
                continue;
            }

            if (!video_transcode_segment_name(line)) {
                fclose(f);
                snprintf(t->err, sizeof(t->err), "the %s playlist names "
                         "\"%.200s\", not a segment", t->rungs[i].name,
                         line);
                return VIDEO_JOB_PERMANENT;
            }

            snprintf(rel, sizeof(rel), "%s/%.200s", t->rungs[i].name, line);

            rc = video_transcode_put(t, video_worker_conf.bucket_processed,
                                     rel, "video/mp2t");
            if (rc != VIDEO_JOB_OK) {
                fclose(f);
                return rc;
            }
        }

        fclose(f);

        snprintf(rel, sizeof(rel), "%s/playlist.m3u8", t->rungs[i].name);

        rc = video_transcode_put(t, video_worker_conf.bucket_processed, rel,
                                 "application/vnd.apple.mpegurl");
        if (rc != VIDEO_JOB_OK) {
            return rc;
        }
    }

    if (video_transcode_master(t) != 0) {
        return VIDEO_JOB_TRANSIENT;
    }

    rc = video_transcode_put(t, video_worker_conf.bucket_processed,
                             "master.m3u8", "application/vnd.apple.mpegurl");

    if (rc == VIDEO_JOB_OK) {
        rc = video_transcode_put(t, video_worker_conf.bucket_thumbnails,
                                 "thumbnail.jpg", "image/jpeg");
    }

    return rc;
}
