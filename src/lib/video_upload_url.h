/*
 * POST /api/upload/url bodies: the source URL a worker fetches as the
 * video's original, checked before anything is created.
 */

#ifndef _VIDEO_UPLOAD_URL_H_INCLUDED_
#define _VIDEO_UPLOAD_URL_H_INCLUDED_


#include <jansson.h>

#include "video_urlguard.h"


typedef struct {
    video_urlguard_url_t  url;           /* parsed, in its normal form */
    json_t               *title;         /* NULL: "Untitled Video" */
    json_t               *description;   /* NULL or json null: none */
} video_upload_url_t;


/*
 * Checks a POST /api/upload/url body (a JSON object): url required, a
 * string of at most VIDEO_URLGUARD_URL_MAX bytes that
 * video_urlguard_parse() takes (http or https), and, when its host is a
 * literal address, a public one (a name is judged by the worker on the
 * address it connects to); title 1..255 and description at most 2000
 * characters (or null) when given.  0 with out filled, or -1 with
 * *details an array of {path, message} (NULL when out of memory).
 */
int video_upload_url_parse(json_t *body, video_upload_url_t *out,
    json_t **details);

/*
 * A "url" field of a body: a string of at most VIDEO_URLGUARD_URL_MAX
 * bytes that video_urlguard_parse() takes, https unless allow_http, and,
 * when its host is a literal address, one that is public or in allow (may
 * be NULL).  0 with url filled, or -1 with a {path: "url", message}
 * added to details.
 */
int video_url_field(json_t *v, const video_urlguard_allow_t *allow,
    int allow_http, video_urlguard_url_t *url, json_t *details);


#endif /* _VIDEO_UPLOAD_URL_H_INCLUDED_ */
