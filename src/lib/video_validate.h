/*
 * Validation of API input that needs no nginx: enums, UTF-8 lengths, the
 * PATCH body.  Errors come back as API.md's "details" array.
 */

#ifndef _VIDEO_VALIDATE_H_INCLUDED_
#define _VIDEO_VALIDATE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>


#define VIDEO_TITLE_MAX        255
#define VIDEO_DESCRIPTION_MAX  2000


extern const char *const  video_statuses[];      /* NULL-terminated */
extern const char *const  video_visibilities[];
extern const char *const  video_types[];


/* the index of s in names, or -1 */
int video_enum_index(const char *const *names, const char *s, size_t len);

/*
 * The length of the UTF-8 sequence at s (1..4), or 0 when it is not valid
 * (overlong, surrogate, truncated, past U+10FFFF).
 */
size_t video_utf8_seq(const unsigned char *s, size_t len);

/* number of code points in valid UTF-8, or -1 when s is not UTF-8 */
long video_utf8_length(const char *s, size_t len);


typedef struct {
    json_t       *title;        /* NULL when absent */
    json_t       *description;  /* NULL when absent; json null to clear */
    json_t       *visibility;
} video_patch_t;


/*
 * Checks a PATCH /api/videos/:id body (a JSON object): title 1..255
 * characters, description at most 2000 or null, visibility one of the
 * enum; unknown fields are ignored, and at least one known field must be
 * there.  Returns 0, or -1 with *details set to a new array of
 * {"path", "message"} (the caller owns it).  The fields point into body.
 */
int video_patch_parse(json_t *body, video_patch_t *out, json_t **details);

/*
 * Checks a POST /api/live/create body: title 1..255 characters (required),
 * description at most 2000 or null, visibility one of the enum (absent:
 * the caller's default).  As video_patch_parse() otherwise.
 */
int video_live_create_parse(json_t *body, video_patch_t *out,
    json_t **details);

/*
 * The other live bodies, checked the same way (0, or -1 with *details):
 *   start:      {streamKey}: a string of 1..256 characters, into *key;
 *   stop:       {convertToVOD?}: a boolean; *convert is -1 when absent;
 *   visibility: {visibility}: one of the enum, required, into *visibility.
 * body may be NULL for stop (no body at all).
 */
int video_live_start_parse(json_t *body, json_t **key, json_t **details);
int video_live_stop_parse(json_t *body, int *convert, json_t **details);
int video_live_visibility_parse(json_t *body, json_t **visibility,
    json_t **details);

#define VIDEO_UPLOAD_MAX_SIZE  2147483648LL    /* 2 GiB */

extern const char *const  video_upload_types[];       /* "video/mp4", ... */
extern const char *const  video_upload_extensions[];  /* "mp4", ... */


typedef struct {
    json_t       *file_name;
    long long     file_size;
    int           type;          /* index in video_upload_types */
} video_presign_t;


/*
 * Checks a POST /api/upload/presign body: fileName 1..255 characters,
 * fileSize an integer 1..2 GiB, contentType one of video_upload_types.
 * Returns 0, or -1 with *details as video_patch_parse() does.
 */
int video_presign_parse(json_t *body, video_presign_t *out, json_t **details);

/* the same for a multipart upload: fileSize 1..max_size */
int video_upload_parse(json_t *body, long long max_size, video_presign_t *out,
    json_t **details);


#define VIDEO_PARTS_BATCH_MAX  100     /* part URLs asked for at once */
#define VIDEO_PART_ETAG_MAX    64

/*
 * {partNumbers}: 1..VIDEO_PARTS_BATCH_MAX distinct integers, each
 * 1..part_count, into numbers (give VIDEO_PARTS_BATCH_MAX) in the order
 * given.  0, or -1 with *details.
 */
int video_part_numbers_parse(json_t *body, uint32_t part_count,
    uint32_t *numbers, size_t *n, json_t **details);

typedef struct {
    uint32_t      number;
    size_t        etag_len;
    char          etag[VIDEO_PART_ETAG_MAX + 1];   /* unquoted */
} video_part_t;

/*
 * A multipart upload's complete body's parts: exactly part_count objects
 * {partNumber, etag}, numbered 1..part_count in order, each etag 1..64 of
 * [A-Za-z0-9-] (S3's part ETags), double quotes around it allowed; into
 * parts (part_count entries).  0, or -1 with *details.
 */
int video_complete_parts_parse(json_t *body, uint32_t part_count,
    video_part_t *parts, json_t **details);

typedef struct {
    json_t       *key;
    json_t       *title;         /* NULL: "Untitled Video" */
    json_t       *description;   /* NULL or json null: none */
} video_complete_t;


/*
 * Checks a POST /api/upload/:id/complete body: key required, and it must
 * be "<id>/original.<mp4|webm|ogg>" for this id (any string when id is
 * NULL: an id that is not one cannot make the body bad); title 1..255 and
 * description at most 2000 characters (or null) when given.
 */
int video_complete_parse(json_t *body, const char *id, size_t id_len,
    video_complete_t *out, json_t **details);

/* appends {"path": path, "message": message} to details (an array) */
int video_detail_add(json_t *details, const char *path, const char *message);


#endif /* _VIDEO_VALIDATE_H_INCLUDED_ */
