/*
 * The HLS ladder: which renditions a source gets, and the master playlist
 * that lists them.  Pure functions, so the transcoder's choices are
 * unit-tested without ffmpeg.
 */

#ifndef _VIDEO_LADDER_H_INCLUDED_
#define _VIDEO_LADDER_H_INCLUDED_


#include <stddef.h>


#define VIDEO_LADDER_MAX    4
#define VIDEO_LADDER_SHORT_CLIP  1.0  /* s: a shorter video has no B-frames */
#define VIDEO_RUNG_NAME_MAX 8


typedef struct {
    char         name[VIDEO_RUNG_NAME_MAX];  /* "720p": its directory */
    int          width;                      /* even */
    int          height;                     /* even */
    int          video_kbps;                 /* target bitrate */
    int          maxrate_kbps;               /* VBV ceiling */
    int          audio_kbps;
    const char  *level;                      /* H.264 level, "3.1" */
    const char  *codec;                      /* RFC 6381, "avc1.64001f" */
} video_rung_t;


/*
 * The rungs for a source of src_width x src_height (display size), highest
 * first: each of 1080p, 720p, 480p and 360p no taller than the source; a
 * source shorter than 360 lines gets one rung at its own height.  Widths
 * keep the source's aspect ratio, rounded to even.  Returns the number of
 * rungs (1..VIDEO_LADDER_MAX), or -1 for a size that is not a picture.
 */
int video_ladder_select(int src_width, int src_height, video_rung_t *rungs);

/*
 * The master playlist for the rungs, each at "<name>/playlist.m3u8", with
 * BANDWIDTH (peak: maxrate plus audio), AVERAGE-BANDWIDTH, RESOLUTION,
 * CODECS (without the audio codec when the source has no audio) and
 * FRAME-RATE when fps > 0.  Writes at most size bytes with a NUL; returns
 * the length, or -1 when it does not fit.
 */
int video_ladder_master(const video_rung_t *rungs, int n, int has_audio,
    double fps, char *out, size_t size);


#define VIDEO_LADDER_ARGS_MAX  160


typedef struct {
    const char  *input;         /* the source file */
    const char  *demuxer;       /* its container's demuxer: "mov" */
    const char  *outdir;        /* "<outdir>/<rung>/playlist.m3u8", ... */
    int          has_audio;
    double       fps;           /* of the source; 0: unknown (30 is used) */
    double       duration;      /* seconds, for the thumbnail's time (and
                                   VIDEO_LADDER_SHORT_CLIP) */
    int          segment;       /* seconds per segment, 4..6 */
    const char  *preset;        /* x264 preset, "veryfast" */
    int          threads;       /* per encoder; 0: ffmpeg's choice */
    int          hdr;           /* PQ or HLG: tone-mapped to BT.709 */
} video_ladder_job_t;


/*
 * The input of every ffprobe and ffmpeg run: the demuxer forced, never
 * guessed (a guess takes playlists and scripts that name other files),
 * the file protocol alone, the MOV demuxer's external data references
 * off, and the source as "file:<input>".  The demuxer is one of
 * video_container's; the arguments are
 *   -protocol_whitelist file -f <demuxer> [-enable_drefs 0] -i file:<input>
 *
 * The arguments of ffprobe for the source: its streams and format as JSON
 * on stdout.  argv (VIDEO_LADDER_ARGS_MAX entries, NULL-terminated) points
 * into buf.  Returns the number of arguments, or -1 when buf is too small
 * or the demuxer is missing.
 */
int video_ladder_ffprobe(const char *input, const char *demuxer, char **argv,
    char *buf, size_t size);

/*
 * The arguments of ONE ffmpeg run that decodes the source once and
 * encodes every rung to HLS (a chain of split + scale in one filter
 * graph, each rung scaled from the one above; H.264
 * High + AAC; a keyframe every segment in every rung, so segments align
 * and players can switch; 8-bit 4:2:0 whatever the source's depth, the
 * only H.264 browsers play; an HDR source tone-mapped to BT.709 SDR
 * first, as the rungs are SDR), plus a JPEG thumbnail
 * ("<outdir>/thumbnail.jpg",
 * 640 wide, from a third of the way in, at most 5 s), with -progress on
 * stdout, its input as video_ladder_ffprobe() has it.  argv
 * (VIDEO_LADDER_ARGS_MAX entries, NULL-terminated) points into buf.
 * Returns the number of arguments, or -1 when buf is too small or the
 * demuxer is missing.
 */
int video_ladder_ffmpeg(const video_ladder_job_t *job,
    const video_rung_t *rungs, int n, char **argv, char *buf, size_t size);


/*
 * Chunked transcoding (video_ladder_chunk.c).  The original's video is
 * split by stream copy into pieces, cut at keyframes; each piece is
 * encoded to every rung by a run of its own, anywhere; the audio is
 * encoded once, in a run of its own.  Timestamps: see the file.
 */

#define VIDEO_CHUNK_OFFSET       10     /* added by the split */
#define VIDEO_CHUNK_ZERO         1      /* the original's 0 in the output */
#define VIDEO_CHUNK_MAX          20000  /* pieces of one video */
#define VIDEO_CHUNK_MAX_SECONDS  86400
#define VIDEO_CHUNK_TIMES_LEN    (VIDEO_CHUNK_MAX * 12)
#define VIDEO_CHUNK_SEGMENTS     1000   /* segments of one chunk */


typedef struct {
    const char  *input;         /* the original */
    const char  *demuxer;
    const char  *outdir;        /* "<outdir>/p00000.nut", "pieces.csv",
                                   "audio.nut" */
    double       duration;      /* the original's */
    int          first;         /* seconds to the first cut */
    int          every;         /* seconds between the last ones */
    int          ramp;          /* seconds of pieces 2 * first long */
    int          has_audio;
} video_ladder_split_t;


/*
 * The split: the first video stream copied into pieces "p%05d.nut", each
 * cut at the first keyframe at or after first, then after pieces twice
 * first long (at most every) up to ramp seconds into the original, then
 * after pieces each twice as long as the one before up to every, then
 * every long (first 1, every 4, ramp 0: 1, 3, 7, 11, ...; ramp 9: 1, 3,
 * 5, 7, 9, 13, 17, ...); the
 * list of them with their times in "pieces.csv"; the first audio stream
 * copied whole into "audio.nut".  Both with VIDEO_CHUNK_OFFSET added to
 * their timestamps.  argv as video_ladder_ffmpeg(); its buf must hold
 * VIDEO_CHUNK_TIMES_LEN more.  Returns the number of arguments or -1.
 */
int video_ladder_split(const video_ladder_split_t *job, char **argv,
    char *buf, size_t size);

/*
 * The split's "pieces.csv": each piece's start and end in seconds of the
 * original, into start[] and end[] (max entries).  Rows must name
 * p00000.nut, p00001.nut, ... in order, with times that do not go back.
 * Returns the number of pieces, or -1.
 */
int video_ladder_pieces(const char *csv, size_t len, double *start,
    double *end, int max);

/*
 * The priority of the job of a chunk starting at "start" seconds of the
 * original (the audio's: 0), max for the start and one less each time
 * the start doubles (1, 3, 7, 15, 31, ... s), down to 1: a video's first
 * minutes pass the later chunks of a long one queued before it, in about
 * the order a player needs them.
 */
int video_ladder_priority(double start, int max);

/*
 * The encoder threads of chunk k's run: threads (encoder_threads; 0:
 * x264's own choice), but the first chunk's on at least every core of
 * the machine (cores), as the video is playable once it is done and the
 * other workers are then mostly putting pieces in storage.
 */
int video_ladder_chunk_threads(int k, int threads, int cores);


typedef struct {
    const char  *input;         /* the piece */
    const char  *outdir;        /* "<outdir>/<rung>/c<chunk>_<k>.ts" */
    int          chunk;         /* the piece's number */
    int          rotation;      /* the original's (video_probe_t) */
    int          hdr;
    double       fps;
    int          segment;
    const char  *preset;
    int          threads;
    int          crf;           /* 0: 23 */
    double       thumb;         /* the thumbnail's time, seconds of the
                                   original; < 0: not from this piece */
    double       duration;      /* the original's (0: unknown) */
} video_ladder_chunk_t;


/*
 * A piece's run: every rung, with a keyframe at its start and every
 * segment after it, constant quality capped at each rung's maxrate,
 * segments "<rung>/c%05d_%03d.ts" listed in "<rung>/chunk.m3u8", and
 * the thumbnail when the piece has its time.  No audio.
 */
int video_ladder_chunk(const video_ladder_chunk_t *job,
    const video_rung_t *rungs, int n, char **argv, char *buf, size_t size);


typedef struct {
    const char  *input;         /* the split's "audio.nut" */
    const char  *outdir;        /* "<outdir>/a_%05d.ts" */
    int          segment;
    int          kbps;
    int          copy;          /* the original's as it is (it is AAC-LC
                                   of kbps at most: video_probe_audio_copy) */
} video_ladder_audio_t;


/*
 * The audio's run: AAC stereo 48 kHz of kbps, or the original's copied,
 * segments "a_%05d.ts" listed in the EVENT playlist "audio.m3u8",
 * rewritten as each is closed.
 */
int video_ladder_audio(const video_ladder_audio_t *job, char **argv,
    char *buf, size_t size);

/*
 * The segments a run's playlist lists: their durations into durations[]
 * (max entries), checked to be named c<chunk>_000.ts, c<chunk>_001.ts,
 * ... (chunk >= 0) or a_00000.ts, ... (chunk < 0), in order.  Returns
 * their number, or -1.
 */
int video_ladder_segments(const char *m3u8, size_t len, int chunk,
    double *durations, int max);

/*
 * The master playlist of a chunked transcode: as video_ladder_master(),
 * but with the audio as one rendition of its own ("audio/playlist.m3u8",
 * audio_kbps) that every rung names, when has_audio.
 */
int video_ladder_master_group(const video_rung_t *rungs, int n,
    int has_audio, int audio_kbps, double fps, char *out, size_t size);


#endif /* _VIDEO_LADDER_H_INCLUDED_ */
