/*
 * Jobs as the outbox carries them (JSON), checked before any work: a job
 * that does not parse is rejected, never half-done.
 */

#ifndef _VIDEO_JOB_H_INCLUDED_
#define _VIDEO_JOB_H_INCLUDED_


#include <stddef.h>

#include "video_id.h"
#include "video_urlguard.h"


#define VIDEO_JOB_TRANSCODE   1
#define VIDEO_JOB_CLEANUP     2
#define VIDEO_JOB_CHUNK       3   /* a piece of a chunked transcode */

#define VIDEO_JOB_CHUNK_MAX   20000

#define VIDEO_JOB_KEY_MAX     1024
#define VIDEO_JOB_PATH_MAX    1024
#define VIDEO_JOB_BUCKET_MAX  63
#define VIDEO_JOB_OBJECTS     8
#define VIDEO_JOB_ETAG_MAX    128


typedef struct {
    char  bucket[VIDEO_JOB_BUCKET_MAX + 1];
    char  key[VIDEO_JOB_KEY_MAX + 1];     /* an object, or a prefix */
    int   prefix;                         /* key is a prefix ("<id>/") */
} video_job_object_t;


typedef struct {
    int                  type;
    char                 video_id[VIDEO_ID_LEN + 1];

    /* transcode: the original in the raw bucket */
    char                 input_key[VIDEO_JOB_KEY_MAX + 1];

    /*
     * transcode of a live recording: the local FLV nginx-rtmp wrote, to be
     * uploaded at input_key first; "" when the original is an upload
     */
    char                 recording[VIDEO_JOB_PATH_MAX];

    /*
     * transcode of an upload: the ETag storage gave the original when the
     * upload was completed, without its quotes; the original is read only
     * if it still has it.  "" when the job names none.
     */
    char                 etag[VIDEO_JOB_ETAG_MAX + 1];

    /*
     * transcode of an upload from a URL: the source to fetch into storage
     * at input_key first, in its normal form (video_urlguard_parse());
     * "" when the original is in storage already
     */
    char                 source_url[VIDEO_URLGUARD_URL_MAX + 1];

    /* chunk: the piece's number, or -1 for the audio */
    int                  chunk;

    /* cleanup: what to remove (objects whose key is null are left out) */
    video_job_object_t   objects[VIDEO_JOB_OBJECTS];
    int                  nobjects;
} video_job_t;


/*
 * Parses a job.  Returns 0, or -1 with *err saying what is wrong: not
 * JSON, not an object, an unknown type, a missing or malformed videoId,
 * an inputKey that is not under "<videoId>/", a bucket or key too long,
 * a key with "..", a cleanup prefix other than "<videoId>/", a recording
 * that is not an absolute, normalized path of an ".flv" file whose name
 * starts with "<videoId>-" or "<videoId>.", an "etag" that is not a
 * string of 1..VIDEO_JOB_ETAG_MAX visible ASCII characters other than '"'
 * (quotes, blanks and control characters could change the If-Match
 * header it goes into), an "etag" beside a "recording" (whose original is
 * stored by the job itself), a sourceUrl that video_urlguard_parse()
 * refuses or that is not in its normal form, a job with both a recording
 * and a sourceUrl.  A null etag, recording or sourceUrl is none.  A
 * chunk job is {"type": "chunk", "videoId", "chunk"}, chunk an integer
 * from -1 (the audio) to VIDEO_JOB_CHUNK_MAX - 1.
 */
int video_job_parse(const char *json, size_t len, video_job_t *job,
    const char **err);


#endif /* _VIDEO_JOB_H_INCLUDED_ */
