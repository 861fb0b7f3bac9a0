/*
 * Which container a media file is, from its leading bytes.  The
 * transcoder gives ffprobe and ffmpeg a forced demuxer for the few
 * containers it accepts and refuses everything else: left to guess,
 * ffmpeg takes a playlist, a concat script or an image sequence and opens
 * the files it names.
 */

#ifndef _VIDEO_CONTAINER_H_INCLUDED_
#define _VIDEO_CONTAINER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* how many leading bytes the sniffer wants (fewer when the file is
   shorter) */
#define VIDEO_CONTAINER_SNIFF_LEN  4096

/* flags: FLV is accepted only from live recordings (nginx-rtmp's) */
#define VIDEO_CONTAINER_ALLOW_FLV  0x01


typedef enum {
    VIDEO_CONTAINER_NONE = 0,
    VIDEO_CONTAINER_MOV,           /* ISO BMFF: MP4, MOV, M4V, 3GP */
    VIDEO_CONTAINER_MATROSKA,      /* Matroska, WebM */
    VIDEO_CONTAINER_OGG,
    VIDEO_CONTAINER_FLV
} video_container_type_e;


typedef struct {
    video_container_type_e   type;
    const char              *name;      /* "MP4/MOV", for messages */
    const char              *demuxer;   /* ffmpeg's -f: "mov" */
} video_container_t;


/*
 * data holds the first len bytes of a file of size bytes (len <= size).
 * Returns 0 with *c set when the file is an accepted container, or -1
 * with *what saying what it is instead, for a message: "an HLS playlist",
 * "a truncated MP4/MOV", "an empty file".
 */
int video_container_sniff(const unsigned char *data, size_t len,
    uint64_t size, unsigned flags, video_container_t *c, const char **what);

/* the accepted containers, for a message: "MP4/MOV, WebM/Matroska, Ogg" */
const char *video_container_accepted(unsigned flags);


#endif /* _VIDEO_CONTAINER_H_INCLUDED_ */
