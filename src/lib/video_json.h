/*
 * Reading and trimming JSON text without building a tree: the video
 * objects PostgreSQL or the cache hand over are passed through as text,
 * so who may see what is decided on the text, by a walk over its tokens
 * that does not depend on how it is laid out.
 */

#ifndef _VIDEO_JSON_H_INCLUDED_
#define _VIDEO_JSON_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>


/* how deep the walk goes; deeper text is refused */
#define VIDEO_JSON_DEPTH_MAX  32


typedef struct {
    const char  *data;       /* the string's characters, between quotes */
    size_t       len;        /* 0 and data NULL: absent or not a string */
} video_json_str_t;


/*
 * The values of the object's top-level members named in names (a
 * NULL-terminated list) into values (one per name): a string's raw
 * characters (escapes as they are, without the quotes), a number's or a
 * literal's text; an object, an array or a missing member is absent.  0,
 * or -1 when the text is not one JSON object.
 */
int video_json_strings(const char *json, size_t len,
    const char *const *names, video_json_str_t *values);

/*
 * Copies the JSON text to out (room for len bytes) without the members
 * named in names, at any depth.  The length written, or -1 when the text
 * is not valid JSON of at most VIDEO_JSON_DEPTH_MAX levels.
 */
ssize_t video_json_drop(const char *json, size_t len,
    const char *const *names, char *out);


#endif /* _VIDEO_JSON_H_INCLUDED_ */
