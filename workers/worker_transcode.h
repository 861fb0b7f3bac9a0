/*
 * What the transcoder's files share: a job's state and what an attempt
 * comes to, the work directory (worker_transcode.c), running a command
 * in the media sandbox (worker_transcode_run.c), the ladder encode
 * (worker_transcode_ladder.c) and the upload of its outputs
 * (worker_transcode_upload.c), in the order a job runs them.
 */

#ifndef _WORKER_TRANSCODE_H_INCLUDED_
#define _WORKER_TRANSCODE_H_INCLUDED_


#include <stddef.h>

#include "video_container.h"
#include "video_job.h"
#include "video_ladder.h"
#include "video_progress.h"
#include "video_worker.h"


#define VIDEO_JOB_OK         0
#define VIDEO_JOB_PERMANENT  1   /* the input is bad: FAILED, no retry */
#define VIDEO_JOB_TRANSIENT  2   /* a dependency failed: retry */
#define VIDEO_JOB_STOPPED    3   /* asked to stop: requeue */

#define VIDEO_ERR_MAX        512

/* the audio rendition of a chunked transcode, kb/s */
#define VIDEO_CHUNK_AUDIO_KBPS  128


typedef struct {
    PGconn         *pg;
    video_job_t     job;
    char            dir[1024];
    char            err[VIDEO_ERR_MAX];
    int             limit;        /* err names a limit that was exceeded */

    /* from the sniffer: the demuxer ffprobe and ffmpeg are given */
    video_container_t  container;

    /* from ffprobe: the size as shown, after the rotation */
    int             width;
    int             height;
    int             rotation;
    int             hdr;
    int             has_audio;
    int             audio_copy;    /* chunked: the audio copied, not
                                      encoded (video_probe_audio_copy) */
    double          duration;
    double          fps;

    video_rung_t    rungs[VIDEO_LADDER_MAX];
    int             nrungs;

    /* a chunk's job: its piece's place, whether it makes the thumbnail;
       the audio's segments put in storage so far */
    double          chunk_start;
    double          chunk_end;
    int             chunk_thumb;
    int             audio_sent;
    int             audio_failed;

    /* ffmpeg's progress, written at most once a second and never back */
    video_progress_t  progress;
    int               progress_written;
    double            progress_at;
} video_transcode_t;


/* worker_transcode.c: the work directory, the cache, READY */
int video_transcode_mkdirs(const char *path);
int video_transcode_rmtree(const char *dir);
void video_transcode_cache(PGconn *pg, const char *id);
int video_transcode_finish(video_transcode_t *t);

/* worker_transcode_run.c: a command in the media sandbox, fed to on_line
   line by line */
typedef void (*video_transcode_line_pt)(video_transcode_t *t,
    const char *line, size_t len);

double video_transcode_now(void);
int video_transcode_run(video_transcode_t *t, char **argv,
    const char *errfile, video_transcode_line_pt on_line, char *out,
    size_t out_size);

/* worker_transcode_fetch.c: an upload from a URL, fetched to path and put
   into storage as the original */
int video_transcode_fetch(video_transcode_t *t, const char *path);

/* worker_transcode_ladder.c: the original sniffed and probed, the ladder
   encoded, the master playlist written */
int video_transcode_sniff(video_transcode_t *t, unsigned flags);
int video_transcode_probe(video_transcode_t *t);
int video_transcode_encode(video_transcode_t *t);
int video_transcode_master(video_transcode_t *t);

/* worker_transcode_upload.c: the outputs to storage; one of them, out/rel
   as "<videoId>/<key>" */
int video_transcode_upload(video_transcode_t *t);
int video_transcode_put_as(video_transcode_t *t, const char *bucket,
    const char *rel, const char *key, const char *type);

/* worker_transcode_chunk.c: the split into chunk jobs, a chunk's job, and
   what follows each chunk (playable, READY) */
int video_transcode_split(video_transcode_t *t);
int video_transcode_chunk(video_transcode_t *t);
int video_transcode_chunk_after(video_transcode_t *t);
void video_transcode_chunk_discard(video_transcode_t *t);


#endif /* _WORKER_TRANSCODE_H_INCLUDED_ */
