/*
 * The bodies of the access management routes (/api/keys, /api/accounts),
 * checked with the messages the API answers.
 */

#ifndef _VIDEO_ACCESS_H_INCLUDED_
#define _VIDEO_ACCESS_H_INCLUDED_


#include <jansson.h>


#define VIDEO_KEY_EXPIRES_MIN  60
#define VIDEO_KEY_EXPIRES_MAX  (10LL * 366 * 86400)


typedef struct {
    const char   *role;         /* "viewer", "editor", "admin" */
    const char   *name;         /* "" when absent */
    const char   *account;      /* NULL: the caller's */
    long long     expires_in;   /* seconds; 0: never */
} video_key_create_t;


/*
 * POST /api/keys: role (required, viewer | editor | admin), name (at most
 * 255 characters), accountId (an account id), expiresIn (seconds, 60 to
 * ten years).  0, or -1 with *details a new array of {path, message}.
 * The strings point into body.
 */
int video_key_create_parse(json_t *body, video_key_create_t *out,
    json_t **details);


/* a limit: absent, null (none) or a number */
typedef struct {
    int           set;
    long long     value;        /* -1: none */
} video_limit_t;


typedef struct {
    const char   *id;           /* create: NULL for a generated one */
    const char   *name;         /* NULL when absent */
    video_limit_t max_bytes;
    video_limit_t max_videos;
    video_limit_t max_live;
    int           disabled;     /* -1 absent, 0, 1 */
} video_account_t;


/*
 * POST /api/accounts (create 1: name required, id optional, no
 * "disabled") and PATCH /api/accounts/:id (create 0: at least one field):
 * name 1..255 characters, id 1..21 of [A-Za-z0-9_-], maxBytes, maxVideos,
 * maxLive non-negative integers or null, disabled a boolean.  As
 * video_key_create_parse() otherwise.
 */
int video_account_parse(json_t *body, int create, video_account_t *out,
    json_t **details);

/* 1 when s is an account id: 1..21 of [A-Za-z0-9_-] */
int video_account_id_valid(const char *s, size_t len);


#endif /* _VIDEO_ACCESS_H_INCLUDED_ */
