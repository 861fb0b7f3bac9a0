/*
 * What video_ladder.c gives video_ladder_chunk.c: arguments formatted
 * into one buffer, and the forced-demuxer input every run has.
 */

#ifndef _VIDEO_LADDER_INT_H_INCLUDED_
#define _VIDEO_LADDER_INT_H_INCLUDED_


#include <stddef.h>


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


#endif /* _VIDEO_LADDER_INT_H_INCLUDED_ */
