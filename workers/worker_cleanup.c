/*
 * Cleanup: video-cleanup jobs (from DELETE) remove a video's objects from
 * every bucket.  Storage has no portable listing (the local store has
 * none), so the processed prefix is walked the way a player would: the
 * master playlist names the rung playlists, which name the segments.
 * Objects already gone count as removed, so a job done twice is harmless.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_job.h"
#include "video_worker.h"


#define VIDEO_PLAYLIST_MAX  (4 * 1024 * 1024)


/* the URIs of a playlist (lines that are not tags), each under dir */

static int
video_cleanup_playlist(const char *bucket, const char *dir, const char *name,
    int nested, char *err, size_t err_size)
{
    long   status;
    char  *text, *line, *save, key[2048], sub[1024], *slash;

    snprintf(key, sizeof(key), "%s%s", dir, name);

    text = video_worker_storage_read(bucket, key, VIDEO_PLAYLIST_MAX, &status,
                                     err, err_size);
    if (text == NULL) {
        return (status == 404) ? 0 : -1;
    }

    for (line = strtok_r(text, "\r\n", &save); line != NULL;
         line = strtok_r(NULL, "\r\n", &save))
    {
        if (line[0] == '#' || line[0] == '\0' || strstr(line, "..") != NULL
            || strstr(line, "://") != NULL || line[0] == '/')
        {
            continue;
        }

        if (nested) {

            /* a rung: "<rung>/playlist.m3u8" */

            slash = strrchr(line, '/');
            snprintf(sub, sizeof(sub), "%s%.*s", dir,
                     slash ? (int) (slash - line + 1) : 0, line);

            if (video_cleanup_playlist(bucket, sub, slash ? slash + 1 : line,
                                       0, err, err_size)
                != 0)
            {
                free(text);
                return -1;
            }

            continue;
        }

        snprintf(key, sizeof(key), "%s%s", dir, line);

        if (video_worker_storage_delete(bucket, key, err, err_size) != 0) {
            free(text);
            return -1;
        }
    }

    free(text);

    snprintf(key, sizeof(key), "%s%s", dir, name);

    return video_worker_storage_delete(bucket, key, err, err_size);
}


static int
video_cleanup_job(video_job_t *job, char *err, size_t err_size)
{
    int                  i;
    video_job_object_t  *o;

    for (i = 0; i < job->nobjects; i++) {
        o = &job->objects[i];

        if (o->prefix) {
            if (video_cleanup_playlist(o->bucket, o->key, "master.m3u8", 1,
                                       err, err_size)
                != 0)
            {
                return -1;
            }

            continue;
        }

        if (video_worker_storage_delete(o->bucket, o->key, err, err_size)
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
video_cleanup_message(amqp_envelope_t *env)
{
    int           attempt;
    char          err[512];
    double        wait;
    const char   *perr;
    video_job_t   job;

    perr = NULL;

    if (video_job_parse(env->message.body.bytes, env->message.body.len, &job,
                        &perr)
        != 0
        || job.type != VIDEO_JOB_CLEANUP)
    {
        video_worker_log("dead-lettering a malformed cleanup job: %s",
                         perr ? perr : "not a cleanup job");
        return VIDEO_DEAD;
    }

    wait = 1;

    for (attempt = 1; attempt <= video_worker_conf.max_attempts; attempt++) {
        if (video_cleanup_job(&job, err, sizeof(err)) == 0) {
            video_worker_log("removed the objects of video %s",
                             job.video_id);
            return VIDEO_ACK;
        }

        video_worker_log("cleanup of video %s, attempt %d: %s", job.video_id,
                         attempt, err);

        video_worker_sleep(wait);
        wait = wait < 16 ? wait * 2 : 30;

        if (video_worker_stop) {
            return VIDEO_REQUEUE;
        }
    }

    return VIDEO_DEAD;
}


int
video_worker_cleanup(void)
{
    return video_worker_consume(VIDEO_QUEUE_CLEANUP, video_cleanup_message);
}
