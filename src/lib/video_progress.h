/*
 * ffmpeg's -progress output ("key=value" lines in blocks that end with
 * "progress=continue" or "progress=end") turned into a percentage.
 */

#ifndef _VIDEO_PROGRESS_H_INCLUDED_
#define _VIDEO_PROGRESS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VIDEO_PROGRESS_NONE      0   /* a line inside a block */
#define VIDEO_PROGRESS_CONTINUE  1   /* a block ended, more to come */
#define VIDEO_PROGRESS_END       2   /* the last block ended */


typedef struct {
    int64_t  out_time_us;   /* the furthest output time seen, -1: none */
    int64_t  frame;
    double   speed;         /* "1.5x" as 1.5, 0 when unknown */
} video_progress_t;


void video_progress_init(video_progress_t *p);

/*
 * Takes one line (without its newline).  out_time_us (or out_time_ms,
 * which ffmpeg also gives in microseconds) never goes back; "N/A" and
 * malformed values are ignored.  Returns VIDEO_PROGRESS_*.
 */
int video_progress_line(video_progress_t *p, const char *line, size_t len);

/*
 * The percentage done for a source of duration_s seconds: 0..99 while
 * running (100 is for when the outputs are stored), 0 when the duration
 * is unknown (not positive, or not a number).
 */
int video_progress_percent(const video_progress_t *p, double duration_s);


#endif /* _VIDEO_PROGRESS_H_INCLUDED_ */
