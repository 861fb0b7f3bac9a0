/*
 * application/x-www-form-urlencoded bodies, as nginx-rtmp's callbacks
 * send them ("call=publish&name=...&addr=...").
 */

#ifndef _VIDEO_FORM_H_INCLUDED_
#define _VIDEO_FORM_H_INCLUDED_


#include <stddef.h>


#define VIDEO_FORM_MISSING  -1   /* no such field */
#define VIDEO_FORM_INVALID  -2   /* twice, too long, bad escape, NUL */

#define VIDEO_FORM_MAX_FIELDS  64


/* a hex digit's value, or -1 (percent-decoding, here and in SigV4's) */
int video_form_hex(int c);

/*
 * The value of field name in body (len bytes), decoded ('+' is a space,
 * %XX a byte) into out, NUL-terminated: out has size bytes.  Returns the
 * value's length, or VIDEO_FORM_MISSING or VIDEO_FORM_INVALID.  A field
 * given twice is invalid: a callback is never ambiguous.
 */
int video_form_value(const char *body, size_t len, const char *name,
    char *out, size_t size);

/*
 * 0 when body is a form nginx-rtmp could have sent: at most
 * VIDEO_FORM_MAX_FIELDS fields, no field name escaped or given twice.
 * nginx-rtmp appends the publisher's query string raw after its own
 * fields, so a publisher that names one of them (clientid, name, path)
 * makes a duplicate: the whole callback is refused, never half-read.
 */
int video_form_check(const char *body, size_t len);


#endif /* _VIDEO_FORM_H_INCLUDED_ */
