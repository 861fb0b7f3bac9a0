/*
 * Timestamps as the API shows them: ISO 8601, UTC, milliseconds.
 */

#ifndef _VIDEO_TIME_H_INCLUDED_
#define _VIDEO_TIME_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* "2025-11-01T10:00:00.000Z" */
#define VIDEO_TIME_ISO_LEN  24


/*
 * Writes ms (milliseconds since the Unix epoch) into buf, which has room
 * for VIDEO_TIME_ISO_LEN + 1 bytes, NUL-terminated.  Returns the length,
 * or 0 when the time cannot be shown in four-digit years.
 */
size_t video_time_iso8601(char *buf, int64_t ms);

/* Milliseconds since the Unix epoch from the realtime clock. */
int64_t video_time_now_ms(void);


#endif /* _VIDEO_TIME_H_INCLUDED_ */
