/*
 * Types shared by every part of the module: configuration, the per-request
 * context, and the shape of a route.
 */

#ifndef _NGX_HTTP_VIDEO_API_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "video_play.h"
#include "video_route.h"
#include "video_signal.h"
#include "video_urlguard.h"
#include "video_webhook.h"


#define NGX_HTTP_VIDEO_API_VERSION  "0.1.0"


/* areas a location serves ("video_api videos live;") */
#define NGX_HTTP_VIDEO_API_VIDEOS     0x01
#define NGX_HTTP_VIDEO_API_UPLOAD     0x02
#define NGX_HTTP_VIDEO_API_ANALYTICS  0x04
#define NGX_HTTP_VIDEO_API_LIVE       0x08
#define NGX_HTTP_VIDEO_API_HEALTH     0x10
#define NGX_HTTP_VIDEO_API_PLAY       0x20
#define NGX_HTTP_VIDEO_API_ACCESS     0x80   /* keys, accounts, audit */
#define NGX_HTTP_VIDEO_API_WEBHOOKS   0x100
#define NGX_HTTP_VIDEO_API_ALL        0x1bf

/*
 * nginx-rtmp's callbacks: never part of "all", so they are served only
 * where a location names them, whatever other locations match
 */
#define NGX_HTTP_VIDEO_API_LIVE_CALLBACKS  0x40


/*
 * who may call a route (its table says, one per route); a route that
 * says nothing is for admins only, so a forgotten entry fails closed
 */
#define NGX_HTTP_VIDEO_API_ACCESS_UNSET    0
#define NGX_HTTP_VIDEO_API_ACCESS_ANYONE   1   /* the route scopes its rows */
#define NGX_HTTP_VIDEO_API_ACCESS_EDITOR   2   /* editor or admin */
#define NGX_HTTP_VIDEO_API_ACCESS_ADMIN    3
#define NGX_HTTP_VIDEO_API_ACCESS_KEY      4   /* a key, even with auth off */

/* with EDITOR or ADMIN: and a key, even where auth is off */
#define NGX_HTTP_VIDEO_API_ACCESS_KEYED    0x10


/* what a route does with the request body */
#define NGX_HTTP_VIDEO_API_BODY_NONE       0   /* discarded */
#define NGX_HTTP_VIDEO_API_BODY_JSON       1   /* a JSON object, required */
#define NGX_HTTP_VIDEO_API_BODY_JSON_OPT   2   /* a JSON object or empty */
#define NGX_HTTP_VIDEO_API_BODY_FORM       3   /* urlencoded, kept raw */


typedef struct {
    ngx_str_t                    conninfo;
    ngx_str_t                    hostaddr;   /* resolved at configuration */
    ngx_uint_t                   pool;
    ngx_uint_t                   queue;
    ngx_msec_t                   timeout;
} ngx_http_video_api_pg_conf_t;


typedef struct {
    ngx_str_t                    addr;       /* as configured */
    ngx_str_t                    host;       /* numeric address, or NULL */
    ngx_str_t                    unix_path;  /* or a socket path */
    in_port_t                    port;
    ngx_str_t                    password;
    ngx_uint_t                   db;
    ngx_msec_t                   timeout;
    ngx_msec_t                   cache_ttl;  /* video cache entries */
    ngx_msec_t                   list_ttl;   /* list pages, 0: off */
} ngx_http_video_api_redis_conf_t;


typedef struct {
    ngx_str_t                    endpoint;
    ngx_str_t                    region;
    ngx_str_t                    access_key;
    ngx_str_t                    secret_key;
    ngx_str_t                    bucket_raw;
    ngx_str_t                    bucket_processed;
    ngx_str_t                    bucket_thumbnails;
    ngx_flag_t                   path_style;
    time_t                       presign_expires;
    ngx_str_t                    public_endpoint;  /* in URLs for clients */
    off_t                        max_upload;       /* multipart fileSize */
    time_t                       multipart_expires;
} ngx_http_video_api_storage_conf_t;


typedef struct {
    ngx_str_t                    secret;     /* HMAC key of the tokens */
    ngx_str_t                    previous;   /* the one before, still good */
    time_t                       expires;    /* token lifetime */

    /*
     * how long a node trusts what it read of a video to play it: the
     * bound within which a change made elsewhere stops it playing
     */
    ngx_msec_t                   cache;

    /* secret's key (signs and verifies), then previous's (verifies) */
    video_play_key_t             keys[2];
    ngx_uint_t                   nkeys;

    /* "<public url>/play/", NUL-terminated: what play URLs start with */
    ngx_str_t                    base;

    /*
     * the local store's directory (its buckets) and nginx-rtmp's HLS
     * directory, full and without a trailing '/': files /play/ and /live/
     * serve themselves; empty: an internal redirect to the media location
     */
    ngx_str_t                    root;
    ngx_str_t                    live_root;
} ngx_http_video_api_play_conf_t;


/* video_api_webhooks */
typedef struct {
    ngx_str_t                    key;        /* the installation's key */
    ngx_str_t                    allow_list; /* as configured */
    ngx_flag_t                   allow_http;
    ngx_uint_t                   max_endpoints;   /* per account */
    time_t                       overlap;    /* a rotated secret's life */

    /* literal addresses of endpoint URLs that may be other than public */
    video_urlguard_allow_t       allow;

    /* what seals the endpoints' secrets; sealing 0: no usable key */
    video_webhook_key_t          seal;
    unsigned                     sealing:1;
} ngx_http_video_api_webhooks_conf_t;


typedef struct {
    ngx_http_video_api_pg_conf_t       pg;
    ngx_http_video_api_redis_conf_t    redis;
    ngx_http_video_api_storage_conf_t  storage;
    ngx_http_video_api_play_conf_t     play;
    ngx_http_video_api_webhooks_conf_t *webhooks;
    ngx_str_t                          public_url;
    ngx_str_t                          rtmp_url;      /* what OBS takes */
    time_t                             clock_offset;  /* of view counts */
    ngx_str_t                          live_record_path;   /* full, no '/' */
    ngx_str_t                          live_relay_secret;  /* push's flashVer */
    ngx_msec_t                         signal_timeout;     /* long polls */
    time_t                             idem_ttl;   /* Idempotency-Key rows */
    video_signal_limits_t              signal_limits;      /* peers 0: unset */
    ngx_shm_zone_t                    *metrics_zone;
    unsigned                           clock_offset_set:1;
    unsigned                           pg_set:1;
    unsigned                           redis_set:1;
    unsigned                           storage_set:1;
    unsigned                           play_set:1;
} ngx_http_video_api_main_conf_t;


typedef struct {
    ngx_uint_t                   areas;

    /* NULL: CORS off; an empty array: any origin ("*") */
    ngx_array_t                 *cors_origins;
    ngx_flag_t                   cors_credentials;
    time_t                       cors_max_age;

    size_t                       max_body_size;

    ngx_flag_t                   store;
    ngx_thread_pool_t           *store_pool;   /* its long work */

    ngx_flag_t                   auth;       /* video_api_auth */
    /* nginx's own error pages as envelopes for JSON clients (no area) */
    ngx_flag_t                   json_errors;
} ngx_http_video_api_loc_conf_t;


typedef struct ngx_http_video_api_ctx_s  ngx_http_video_api_ctx_t;

/* a request's Idempotency-Key (ngx_http_video_api_idem.c) */
typedef struct ngx_http_video_api_idem_s  ngx_http_video_api_idem_t;

typedef ngx_int_t (*ngx_http_video_api_handler_pt)(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


typedef struct {
    ngx_uint_t                     method;     /* NGX_HTTP_GET, ... */
    char                          *pattern;    /* "/api/videos/:id" */
    ngx_http_video_api_handler_pt  handler;
    ngx_uint_t                     body;       /* NGX_HTTP_VIDEO_API_BODY_* */
    ngx_uint_t                     access;     /* NGX_HTTP_VIDEO_API_ACCESS_* */
} ngx_http_video_api_route_t;


/* who is calling: resolved once, before any route runs */
typedef struct {
    ngx_uint_t                     role;       /* video_role_e; 0: anonymous */
    ngx_str_t                      account;    /* empty: anonymous */
    ngx_str_t                      key_id;     /* empty: no key */

    /* video_api_auth off and no key: the default account's admin */
    unsigned                       open:1;

    /* a cached key while PostgreSQL cannot confirm it: reads only */
    unsigned                       read_only:1;
} ngx_http_video_api_caller_t;


struct ngx_http_video_api_ctx_s {
    ngx_http_video_api_route_t    *route;
    ngx_str_t                      params[VIDEO_ROUTE_MAX_PARAMS];
    ngx_uint_t                     nparams;

    ngx_str_t                      body;       /* raw request body */
    json_t                        *json;       /* parsed JSON body or NULL */
    void                          *data;       /* the route's own state */
    void                          *storage;    /* a storage call awaited */
    ngx_http_video_api_idem_t     *idem;       /* Idempotency-Key, or NULL */

    ngx_buf_t                     *error_buf;  /* envelope for nginx's own
                                                  error pages */

    ngx_http_video_api_caller_t    caller;
    ngx_int_t                      auth_status;  /* a refusal to send */

    /* for logs (ngx_http_video_api_variables.c) */
    ngx_str_t                      error_code;   /* the error envelope's */
    ngx_msec_t                     pg_time;      /* waited, summed */
    ngx_msec_t                     redis_time;
    unsigned                       auth_done:1;
    unsigned                       auth_pending:1;

    unsigned                       own_response:1;
    unsigned                       error_replaced:1;

    /* an error of a media location, answered with the envelope too */
    unsigned                       error_envelope:1;
    unsigned                       error_sent:1;
};


extern ngx_module_t  ngx_http_video_api_module;


#endif /* _NGX_HTTP_VIDEO_API_H_INCLUDED_ */
