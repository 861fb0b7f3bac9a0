/*
 * What the upload routes share: an upload as recorded (the uploads row),
 * looked up by its video id for the caller.
 */

#ifndef _NGX_HTTP_VIDEO_API_UPLOAD_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_UPLOAD_H_INCLUDED_


#include "ngx_http_video_api_run.h"


typedef struct {
    ngx_str_t                    key;
    off_t                        size;         /* declared */
    ngx_str_t                    upload_id;    /* len 0: a single PUT */
    off_t                        part_size;
    ngx_uint_t                   part_count;
    char                        *expires_at;   /* ISO 8601 */
    unsigned                     completed:1;
} ngx_http_video_api_upload_t;


/* the ISO 8601 form of a timestamptz, as the API writes times */
#define NGX_HTTP_VIDEO_API_ISO(col)                                           \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* the upload of video id, if the caller may complete it; then next */
ngx_int_t ngx_http_video_api_upload_lookup(ngx_http_video_api_run_t *run,
    ngx_str_t *id, ngx_uint_t next);

/*
 * After the lookup: NGX_DECLINED with up filled (completed or not), or
 * what answering returned (404 when there is no such upload for the
 * caller)
 */
ngx_int_t ngx_http_video_api_upload_found(ngx_http_video_api_run_t *run,
    ngx_str_t *id, ngx_http_video_api_upload_t *up);

/* a presigned PUT of part number, {partNumber, size, url}; NULL: failed */
json_t *ngx_http_video_api_multipart_part(ngx_http_request_t *r,
    ngx_http_video_api_upload_t *up, ngx_uint_t number);



#endif /* _NGX_HTTP_VIDEO_API_UPLOAD_H_INCLUDED_ */
