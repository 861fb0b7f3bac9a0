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
#include <sys/time.h>

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


int
video_worker_cleanup(void)
{
    int                  attempt, ok, down;
    char                 err[512];
    double               backoff, wait;
    const char          *perr;
    video_job_t          job;
    struct timeval       tv;
    amqp_rpc_reply_t     r;
    amqp_envelope_t      env;
    video_worker_amqp_t  a;

    memset(&a, 0, sizeof(a));
    down = 0;
    backoff = 0.5;

    while (!video_worker_stop) {

        if (!a.up) {
            if (video_worker_amqp_connect(&a) != 0) {
                if (!down) {
                    video_worker_log("rabbitmq unavailable (%s), retrying",
                                     a.error);
                    down = 1;
                }

                video_worker_sleep(backoff);
                backoff = backoff < 8 ? backoff * 2 : 10;
                continue;
            }

            amqp_basic_qos(a.conn, 1, 0, 1, 0);
            amqp_basic_consume(a.conn, 1,
                               amqp_cstring_bytes(VIDEO_QUEUE_CLEANUP),
                               amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
            r = amqp_get_rpc_reply(a.conn);

            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                video_worker_amqp_close(&a);
                continue;
            }

            video_worker_log("consuming %s", VIDEO_QUEUE_CLEANUP);
            down = 0;
            backoff = 0.5;
        }

        amqp_maybe_release_buffers(a.conn);

        tv.tv_sec = 1;
        tv.tv_usec = 0;

        r = amqp_consume_message(a.conn, &env, &tv, 0);

        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
            && r.library_error == AMQP_STATUS_TIMEOUT)
        {
            continue;
        }

        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            video_worker_amqp_close(&a);
            continue;
        }

        perr = NULL;

        if (video_job_parse(env.message.body.bytes, env.message.body.len,
                            &job, &perr)
            != 0
            || job.type != VIDEO_JOB_CLEANUP)
        {
            video_worker_log("dead-lettering a malformed cleanup job: %s",
                             perr ? perr : "not a cleanup job");
            amqp_basic_nack(a.conn, 1, env.delivery_tag, 0, 0);
            amqp_destroy_envelope(&env);
            continue;
        }

        ok = 0;
        wait = 1;

        for (attempt = 1; attempt <= video_worker_conf.max_attempts;
             attempt++)
        {
            if (video_cleanup_job(&job, err, sizeof(err)) == 0) {
                ok = 1;
                break;
            }

            video_worker_log("cleanup of video %s, attempt %d: %s",
                             job.video_id, attempt, err);

            video_worker_sleep(wait);
            wait = wait < 16 ? wait * 2 : 30;

            if (video_worker_stop) {
                break;
            }
        }

        if (ok) {
            video_worker_log("removed the objects of video %s", job.video_id);
            amqp_basic_ack(a.conn, 1, env.delivery_tag, 0);

        } else {
            amqp_basic_nack(a.conn, 1, env.delivery_tag, 0,
                            video_worker_stop ? 1 : 0);
        }

        amqp_destroy_envelope(&env);
    }

    video_worker_amqp_close(&a);

    return 0;
}
