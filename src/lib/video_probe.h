/*
 * What the transcoder learns from ffprobe about an uploaded file: its
 * picture size as players show it, frame rate, audio, duration and
 * whether its picture is HDR.  ffprobe reads the
 * user's bytes, so its output is outside input too: checked here,
 * without ffprobe, where the fuzzer and the unit tests reach it.
 */

#ifndef _VIDEO_PROBE_H_INCLUDED_
#define _VIDEO_PROBE_H_INCLUDED_


#include <stddef.h>


typedef struct {
    int     width;       /* of the first video stream, as shown: after */
    int     height;      /* its rotation; 0: none */
    int     rotation;    /* the clockwise turn a player gives the coded
                            picture: 0, 90, 180 or 270 */
    int     hdr;         /* its transfer is PQ (smpte2084) or HLG
                            (arib-std-b67) */
    int     has_audio;
    int     audio_lc;    /* its first audio stream is AAC-LC */
    int     audio_channels;
    int     audio_rate;  /* Hz; 0: unknown */
    int     audio_bps;   /* bits per second; 0: unknown */
    double  fps;         /* its average frame rate; 0: unknown */
    double  duration;    /* seconds, of the container */
} video_probe_t;


/*
 * Reads the JSON of "ffprobe -print_format json -show_streams
 * -show_format".  Returns 0, or -1 with *err saying why the file cannot
 * be transcoded: "the file has no video stream" (none, or a size that is
 * not a positive int) or "the video has no duration" (none, not a
 * number, not positive, or infinite).  A frame rate that is not
 * "<num>/<den>" with both in int range and den > 0 is unknown.
 *
 * The rotation is the display matrix's (a phone's portrait clip is coded
 * landscape, with a matrix that turns it), from the stream's side data or
 * else its "rotate" tag, as ffmpeg reads it when it turns the picture
 * upright: within a degree of a quarter turn, else 0 (ffmpeg turns
 * other angles within the same frame).  A quarter turn swaps the width
 * and the height.
 */
int video_probe_parse(const char *json, size_t len, video_probe_t *out,
    const char **err);


/*
 * The first audio stream can be copied as it is into an audio rendition
 * of kbps: AAC-LC (what the playlists' CODECS say: mp4a.40.2), one or
 * two channels (the rendition says CHANNELS="2", at most), 44.1 or
 * 48 kHz, and a known rate no more than 2% above kbps (BANDWIDTH counts
 * kbps for it).  A copy costs no CPU and loses nothing; anything else
 * is encoded.
 */
int video_probe_audio_copy(const video_probe_t *p, int kbps);


#endif /* _VIDEO_PROBE_H_INCLUDED_ */
