/*
 * What callers send the webhook routes (/api/webhooks): an endpoint's
 * fields in a POST or PATCH body, checked before anything is written, and
 * the opaque cursors of the deliveries log and the events feed.
 */

#ifndef _VIDEO_WEBHOOK_BODY_H_INCLUDED_
#define _VIDEO_WEBHOOK_BODY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "video_urlguard.h"


#define VIDEO_WEBHOOK_DESCRIPTION_MAX  255

/* the event types there are, NULL-terminated */
extern const char *const  video_webhook_event_types[];

/* "{a,b,...}" of every type at most once: a text[] literal */
#define VIDEO_WEBHOOK_TYPES_TEXT_MAX  512

/* the rotate body's overlap, seconds */
#define VIDEO_WEBHOOK_OVERLAP_MAX     604800


typedef struct {
    int                      url_set;
    video_urlguard_url_t     url;            /* in its normal form */
    json_t                  *description;    /* NULL: absent */
    int                      types_set;
    char                     types[VIDEO_WEBHOOK_TYPES_TEXT_MAX];
    int                      enabled;        /* -1: absent */
} video_webhook_endpoint_t;


/*
 * Checks a POST (create 1: url required) or PATCH (create 0: at least one
 * field) /api/webhooks body, a JSON object: url a string of at most
 * VIDEO_URLGUARD_URL_MAX bytes that video_urlguard_parse() takes, https
 * unless allow_http, and when its host is a literal address, a public one
 * or one in allow (may be NULL); description a string of at most 255
 * characters; eventTypes an array of distinct known types (empty: all),
 * into types as a text[] literal; enabled a boolean.  0 with out filled,
 * or -1 with *details an array of {path, message} (NULL when out of
 * memory).
 */
int video_webhook_endpoint_parse(json_t *body, int create,
    const video_urlguard_allow_t *allow, int allow_http,
    video_webhook_endpoint_t *out, json_t **details);

/*
 * The rotate body (may be NULL: no body): {overlap?: integer seconds
 * 0..VIDEO_WEBHOOK_OVERLAP_MAX}, *overlap -1 when absent.  0, or -1 with
 * *details.
 */
int video_webhook_rotate_parse(json_t *body, long long *overlap,
    json_t **details);

/* The redeliver body: {eventId: "evt_" and 32 hex digits}.  As above. */
int video_webhook_redeliver_parse(json_t *body, const char **event_id,
    json_t **details);


/* a cursor's text: base64url of "<a>.<b>", two numbers of 19 digits */
#define VIDEO_WEBHOOK_CURSOR_MAX  56

/*
 * A position in the events feed (a, b: the event's transaction id and
 * number) or in a deliveries log (a: the delivery's id, b: 0), both
 * 0..INT64_MAX, as an opaque URL-safe text into out
 * (VIDEO_WEBHOOK_CURSOR_MAX + 1 bytes); its length.
 */
size_t video_webhook_cursor_encode(char *out, uint64_t a, uint64_t b);

/* 0 with a and b, or -1 when in is not a cursor this service made */
int video_webhook_cursor_decode(const char *in, size_t len, uint64_t *a,
    uint64_t *b);


#endif /* _VIDEO_WEBHOOK_BODY_H_INCLUDED_ */
