/*
 * Public ids: 21 URL-safe random characters, as the API promises.
 */

#ifndef _VIDEO_ID_H_INCLUDED_
#define _VIDEO_ID_H_INCLUDED_


#include <stddef.h>


#define VIDEO_ID_LEN  21


/* 1 when s is exactly VIDEO_ID_LEN characters of [A-Za-z0-9_-], else 0. */
int video_id_valid(const char *s, size_t len);

/*
 * Fills out with VIDEO_ID_LEN characters (no NUL) from the kernel's CSPRNG;
 * 126 bits of entropy.  Returns 0, or -1 with errno set.
 */
int video_id_generate(char *out);


#endif /* _VIDEO_ID_H_INCLUDED_ */
