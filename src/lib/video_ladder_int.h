/*
 * What video_ladder.c gives video_ladder_chunk.c: arguments formatted
 * into one buffer, and the forced-demuxer input every run has.
 */

#ifndef _VIDEO_LADDER_INT_H_INCLUDED_
#define _VIDEO_LADDER_INT_H_INCLUDED_


#include <stddef.h>

#include "video_ladder.h"


typedef struct {
    char    **argv;
    int       argc;
    char     *buf;
    size_t    size;
    size_t    used;
    int       failed;
} video_ladder_args_t;


/* one argument, printf-formatted into the buffer; a->failed when full */
void video_ladder_arg(video_ladder_args_t *a, const char *fmt, ...);

/* -protocol_whitelist file -f <demuxer> [-enable_drefs 0] -i file:<input> */
void video_ladder_input(video_ladder_args_t *a, const char *input,
    const char *demuxer);

void video_ladder_args_init(video_ladder_args_t *a, char **argv, char *buf,
    size_t size);

/* "ffmpeg -hide_banner -nostdin -nostats -loglevel error
   [-progress pipe:1] -y" */
void video_ladder_quiet(video_ladder_args_t *a, int progress);

/* the HDR tone-map, filters ending in ',', or "" */
const char *video_ladder_tonemap(int hdr);

/*
 * The chain of scalers, highest rung first, each from the one above:
 * ";[c0]scale=...,setsar=1,split=2[v0][c1];...[v<n-1>]" appended to graph
 * at len; the new length (size or more: it did not fit)
 */
size_t video_ladder_scalers(char *graph, size_t len, size_t size,
    const video_rung_t *rungs, int n);

/* -c:a aac -ac 2 -ar 48000: every audio rendition's encoder, stereo
   48 kHz (its rate said apart) */
void video_ladder_aac(video_ladder_args_t *a);

/* [-filter_complex_threads N -threads N] before the input: the decoder's
   and the filters' threads as the encoders' (threads 0: ffmpeg's own) */
void video_ladder_threads(video_ladder_args_t *a, int threads);

/* [-threads N] -c:v libx264 -preset -profile:v high -pix_fmt yuv420p, a
   keyframe every segment (fps 0: 30) and none between; no B-frames for a
   video shorter than VIDEO_LADDER_SHORT_CLIP s (duration 0: unknown) */
void video_ladder_x264(video_ladder_args_t *a, const char *preset,
    int threads, double fps, int segment, double duration);

/* the -var_stream_map naming each rung's stream(s); 0, or -1 when it does
   not fit */
int video_ladder_var_map(char *map, size_t size, const video_rung_t *rungs,
    int n, int has_audio);

/* each rung's -b:v (crf 0) or -crf, -maxrate, -bufsize and -level */
void video_ladder_rates(video_ladder_args_t *a, const video_rung_t *rungs,
    int n, int crf);

/* -f hls ... -var_stream_map map <outdir>/%v/<playlist>: segments named
   <outdir>/%v/<segments>; independent: -hls_flags independent_segments */
void video_ladder_hls(video_ladder_args_t *a, int segment, int independent,
    const char *outdir, const char *segments, const char *playlist,
    const char *map);

/* -map [thumb] -frames:v 1 -q:v 3 <outdir>/thumbnail.jpg */
void video_ladder_thumb(video_ladder_args_t *a, const char *outdir);

/* argv NULL-terminated: its count, or -1 when an argument did not fit */
int video_ladder_done(video_ladder_args_t *a);


#endif /* _VIDEO_LADDER_INT_H_INCLUDED_ */
