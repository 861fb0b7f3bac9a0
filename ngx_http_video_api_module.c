/*
 * ngx_http_video_api_module: directives, configuration, and the content
 * handler that hands each request to its route (src/routes).
 */

#include <libpq-fe.h>

#include "ngx_http_video_api.h"
#include "ngx_http_video_api_auth.h"
#include "video_cache.h"
#include "ngx_http_video_api_body.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_cors.h"
#include "ngx_http_video_api_error_filter.h"
#include "ngx_http_video_api_delivery.h"
#include "ngx_http_video_api_play_cache.h"
#include "ngx_http_video_api_log.h"
#include "ngx_http_video_api_media.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_pubsub.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_variables.h"
#include "ngx_http_video_api_store.h"
#include "video_hmac.h"
#include "video_play.h"


/* how long a playback token opens a private video: a long film and then
   some, as a page with a player stays open */
#define NGX_HTTP_VIDEO_API_PLAY_EXPIRES  (6 * 3600)

/* how long a node plays a video on what it read of it: as long as it
   trusts what it read of an API key (NGX_HTTP_VIDEO_API_AUTH_FRESH) */
#define NGX_HTTP_VIDEO_API_PLAY_CACHE    1000


/* video_api_webhooks: endpoints per account, a rotated secret's life */
#define NGX_HTTP_VIDEO_API_WEBHOOK_ENDPOINTS  20
#define NGX_HTTP_VIDEO_API_WEBHOOK_OVERLAP    (24 * 3600)
#define NGX_HTTP_VIDEO_API_WEBHOOK_KEY_MIN    32


#define NGX_HTTP_VIDEO_API_PARAM_STR   0
#define NGX_HTTP_VIDEO_API_PARAM_UINT  1
#define NGX_HTTP_VIDEO_API_PARAM_MSEC  2
#define NGX_HTTP_VIDEO_API_PARAM_SEC   3
#define NGX_HTTP_VIDEO_API_PARAM_FLAG  4
#define NGX_HTTP_VIDEO_API_PARAM_SIZE  5    /* off_t, "50g" */


/* a "name=value" parameter of a directive, stored at offset in a struct */
typedef struct {
    ngx_str_t                    name;
    ngx_uint_t                   type;
    size_t                       offset;
    ngx_uint_t                   min;
    ngx_uint_t                   max;
} ngx_http_video_api_param_t;


static ngx_int_t ngx_http_video_api_handler(ngx_http_request_t *r);

static void *ngx_http_video_api_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_video_api_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_video_api_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_video_api_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_video_api_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_video_api_init_process(ngx_cycle_t *cycle);
static void ngx_http_video_api_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_video_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_video_api_postgres(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_video_api_pg_resolve(ngx_conf_t *cf,
    ngx_command_t *cmd, PQconninfoOption *opts,
    ngx_http_video_api_pg_conf_t *pg);
static char *ngx_http_video_api_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_video_api_storage(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_video_api_playback(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_video_api_dir(ngx_conf_t *cf, ngx_str_t *dir);
static ngx_int_t ngx_http_video_api_playback_init(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf);
static ngx_int_t ngx_http_video_api_playback_keys(ngx_conf_t *cf,
    ngx_http_video_api_play_conf_t *play);
static char *ngx_http_video_api_webhooks(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_video_api_webhooks_init(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf);
static char *ngx_http_video_api_public_url(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_video_api_cors(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_video_api_clock_offset(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_video_api_rtmp_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_video_api_live_record_path(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_video_api_secrets_check(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf);
static char *ngx_http_video_api_signal_limits(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_video_api_rtmp_url_init(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf);

static char *ngx_http_video_api_params(ngx_conf_t *cf, ngx_command_t *cmd,
    void *base, ngx_uint_t first, ngx_http_video_api_param_t *params);
static char *ngx_http_video_api_check_url(ngx_conf_t *cf, ngx_command_t *cmd,
    char *what, ngx_str_t *value, ngx_uint_t path_allowed);
static char *ngx_http_video_api_check_bucket(ngx_conf_t *cf,
    ngx_command_t *cmd, char *what, ngx_str_t *value);


/*
 * The relay secret travels as the push's flashVer, which nginx-rtmp cuts
 * at 31 bytes: a longer one would never match
 */
static char *ngx_http_video_api_live_relay_secret_check(ngx_conf_t *cf,
    void *post, void *data);

static ngx_conf_post_t  ngx_http_video_api_live_relay_secret_post =
    { ngx_http_video_api_live_relay_secret_check };


static ngx_command_t  ngx_http_video_api_commands[] = {

    { ngx_string("video_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_video_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_postgres"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_postgres,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_storage"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_storage,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_playback"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_playback,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_webhooks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_webhooks,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_video_api_public_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_rtmp_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_video_api_rtmp_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_clock_offset"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_video_api_clock_offset,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_live_record_path"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_video_api_live_record_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_live_relay_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_video_api_main_conf_t, live_relay_secret),
      &ngx_http_video_api_live_relay_secret_post },

    { ngx_string("video_api_signal_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_video_api_main_conf_t, signal_timeout),
      NULL },

    { ngx_string("video_api_idempotency_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_video_api_main_conf_t, idem_ttl),
      NULL },

    { ngx_string("video_api_signal_limits"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_signal_limits,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_cors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_video_api_cors,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_video_api_loc_conf_t, auth),
      NULL },

    { ngx_string("video_api_store"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_video_api_store,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_video_api_loc_conf_t, store),
      NULL },

    { ngx_string("video_api_json_errors"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_video_api_loc_conf_t, json_errors),
      NULL },

    { ngx_string("video_api_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_video_api_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("video_api_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_video_api_loc_conf_t, max_body_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_video_api_module_ctx = {
    ngx_http_video_api_add_variables,      /* preconfiguration */
    ngx_http_video_api_postconfiguration,  /* postconfiguration */

    ngx_http_video_api_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_video_api_create_loc_conf,    /* create location configuration */
    ngx_http_video_api_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_video_api_module = {
    NGX_MODULE_V1,
    &ngx_http_video_api_module_ctx,        /* module context */
    ngx_http_video_api_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_video_api_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_video_api_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_video_api_param_t  ngx_http_video_api_pg_params[] = {
    { ngx_string("pool"), NGX_HTTP_VIDEO_API_PARAM_UINT,
      offsetof(ngx_http_video_api_pg_conf_t, pool), 1, 1024 },
    { ngx_string("queue"), NGX_HTTP_VIDEO_API_PARAM_UINT,
      offsetof(ngx_http_video_api_pg_conf_t, queue), 0, 65536 },
    { ngx_string("timeout"), NGX_HTTP_VIDEO_API_PARAM_MSEC,
      offsetof(ngx_http_video_api_pg_conf_t, timeout), 1, 3600000 },
    { ngx_null_string, 0, 0, 0, 0 }
};


static ngx_http_video_api_param_t  ngx_http_video_api_redis_params[] = {
    { ngx_string("db"), NGX_HTTP_VIDEO_API_PARAM_UINT,
      offsetof(ngx_http_video_api_redis_conf_t, db), 0, 65535 },
    { ngx_string("password"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_redis_conf_t, password), 0, 0 },
    { ngx_string("timeout"), NGX_HTTP_VIDEO_API_PARAM_MSEC,
      offsetof(ngx_http_video_api_redis_conf_t, timeout), 1, 3600000 },
    { ngx_string("cache_ttl"), NGX_HTTP_VIDEO_API_PARAM_MSEC,
      offsetof(ngx_http_video_api_redis_conf_t, cache_ttl), 1000,
      30 * 86400 * 1000U },
    { ngx_string("list_ttl"), NGX_HTTP_VIDEO_API_PARAM_MSEC,
      offsetof(ngx_http_video_api_redis_conf_t, list_ttl), 0,
      86400 * 1000U },
    { ngx_null_string, 0, 0, 0, 0 }
};


static ngx_http_video_api_param_t  ngx_http_video_api_storage_params[] = {
    { ngx_string("endpoint"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, endpoint), 0, 0 },
    { ngx_string("region"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, region), 0, 0 },
    { ngx_string("access_key"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, access_key), 0, 0 },
    { ngx_string("secret_key"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, secret_key), 0, 0 },
    { ngx_string("bucket_raw"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, bucket_raw), 0, 0 },
    { ngx_string("bucket_processed"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, bucket_processed), 0, 0 },
    { ngx_string("bucket_thumbnails"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, bucket_thumbnails), 0, 0 },
    { ngx_string("path_style"), NGX_HTTP_VIDEO_API_PARAM_FLAG,
      offsetof(ngx_http_video_api_storage_conf_t, path_style), 0, 0 },
    { ngx_string("presign_expires"), NGX_HTTP_VIDEO_API_PARAM_SEC,
      offsetof(ngx_http_video_api_storage_conf_t, presign_expires),
      1, 7 * 24 * 3600 },
    { ngx_string("public_endpoint"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_storage_conf_t, public_endpoint), 0, 0 },
    { ngx_string("max_upload"), NGX_HTTP_VIDEO_API_PARAM_SIZE,
      offsetof(ngx_http_video_api_storage_conf_t, max_upload),
      1, (ngx_uint_t) 5 * 1024 * 1024 * 1024 * 1024 },
    { ngx_string("multipart_expires"), NGX_HTTP_VIDEO_API_PARAM_SEC,
      offsetof(ngx_http_video_api_storage_conf_t, multipart_expires),
      3600, 30 * 24 * 3600 },
    { ngx_null_string, 0, 0, 0, 0 }
};


static ngx_http_video_api_param_t  ngx_http_video_api_play_params[] = {
    { ngx_string("secret"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_play_conf_t, secret), 0, 0 },
    { ngx_string("previous_secret"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_play_conf_t, previous), 0, 0 },
    { ngx_string("expires"), NGX_HTTP_VIDEO_API_PARAM_SEC,
      offsetof(ngx_http_video_api_play_conf_t, expires), 60, 7 * 24 * 3600 },
    { ngx_string("cache"), NGX_HTTP_VIDEO_API_PARAM_MSEC,
      offsetof(ngx_http_video_api_play_conf_t, cache), 0, 60000 },
    { ngx_string("root"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_play_conf_t, root), 0, 0 },
    { ngx_string("live_root"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_play_conf_t, live_root), 0, 0 },
    { ngx_null_string, 0, 0, 0, 0 }
};


static ngx_http_video_api_param_t  ngx_http_video_api_webhooks_params[] = {
    { ngx_string("key"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_webhooks_conf_t, key), 0, 0 },
    { ngx_string("allow"), NGX_HTTP_VIDEO_API_PARAM_STR,
      offsetof(ngx_http_video_api_webhooks_conf_t, allow_list), 0, 0 },
    { ngx_string("allow_http"), NGX_HTTP_VIDEO_API_PARAM_FLAG,
      offsetof(ngx_http_video_api_webhooks_conf_t, allow_http), 0, 0 },
    { ngx_string("max_endpoints"), NGX_HTTP_VIDEO_API_PARAM_UINT,
      offsetof(ngx_http_video_api_webhooks_conf_t, max_endpoints), 1, 10000 },
    { ngx_string("overlap"), NGX_HTTP_VIDEO_API_PARAM_SEC,
      offsetof(ngx_http_video_api_webhooks_conf_t, overlap), 0,
      7 * 24 * 3600 },
    { ngx_null_string, 0, 0, 0, 0 }
};


/* storage for the cors parameters while "video_api_cors" is parsed */
typedef struct {
    ngx_flag_t                   credentials;
    time_t                       max_age;
} ngx_http_video_api_cors_params_t;


static ngx_http_video_api_param_t  ngx_http_video_api_cors_params[] = {
    { ngx_string("credentials"), NGX_HTTP_VIDEO_API_PARAM_FLAG,
      offsetof(ngx_http_video_api_cors_params_t, credentials), 0, 0 },
    { ngx_string("max_age"), NGX_HTTP_VIDEO_API_PARAM_SEC,
      offsetof(ngx_http_video_api_cors_params_t, max_age), 0, 365 * 86400 },
    { ngx_null_string, 0, 0, 0, 0 }
};


static ngx_int_t
ngx_http_video_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc, found;
    ngx_str_t                       allow;
    ngx_http_video_api_ctx_t       *ctx;
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    ctx = ngx_http_video_api_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_video_api_metrics_start(r);

    found = ngx_http_video_api_route_find(r, lcf->areas, ctx, &allow);

    if (found == NGX_OK) {

        /* the caller's rights first: a refused request reads no body */

        if (ngx_http_video_api_auth_check(r, ctx, &rc) != NGX_OK) {
            return rc;
        }

        return ngx_http_video_api_body_dispatch(r, ctx);
    }

    if (found == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (found == NGX_DECLINED) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "Route %V %V not found",
                                             &r->method_name, &r->uri);
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_video_api_cors_options(r, &allow);
    }

    if (ngx_http_video_api_header_out(r, "Allow", &allow) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_ALLOWED, NULL,
                                         "Method %V is not allowed on %V",
                                         &r->method_name, &r->uri);
}


static void *
ngx_http_video_api_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_video_api_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->signal_timeout = NGX_CONF_UNSET_MSEC;
    mcf->idem_ttl = NGX_CONF_UNSET;

    return mcf;
}


static void *
ngx_http_video_api_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_video_api_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_video_api_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->areas = 0;
     */

    lcf->cors_origins = NGX_CONF_UNSET_PTR;
    lcf->cors_credentials = NGX_CONF_UNSET;
    lcf->cors_max_age = NGX_CONF_UNSET;
    lcf->max_body_size = NGX_CONF_UNSET_SIZE;
    lcf->store = NGX_CONF_UNSET;
    lcf->auth = NGX_CONF_UNSET;
    lcf->json_errors = NGX_CONF_UNSET;

    return lcf;
}


static char *
ngx_http_video_api_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_video_api_loc_conf_t  *prev = parent;
    ngx_http_video_api_loc_conf_t  *conf = child;

    /* the cors parameters travel together: inherit all or none */

    if (conf->cors_origins == NGX_CONF_UNSET_PTR) {
        conf->cors_origins = prev->cors_origins;
        conf->cors_credentials = prev->cors_credentials;
        conf->cors_max_age = prev->cors_max_age;
    }

    if (conf->cors_origins == NGX_CONF_UNSET_PTR) {

        /* like the service this module replaces: any origin */

        conf->cors_origins = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
        if (conf->cors_origins == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->cors_credentials = 0;
        conf->cors_max_age = 86400;
    }

    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              64 * 1024);
    ngx_conf_merge_value(conf->store, prev->store, 0);

    /* on: every route scopes its rows by the caller */
    ngx_conf_merge_value(conf->auth, prev->auth, 1);
    ngx_conf_merge_value(conf->json_errors, prev->json_errors, 0);

    return NGX_CONF_OK;
}


static void
ngx_http_video_api_hmac_release(void *data)
{
    video_hmac_release();
}


static ngx_int_t
ngx_http_video_api_add_variables(ngx_conf_t *cf)
{
    if (ngx_http_video_api_log_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_video_api_variables_add(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_video_api_auth_add_variables(cf);
}


static ngx_int_t
ngx_http_video_api_postconfiguration(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_video_api_module);

    if (mcf->redis_set && ngx_http_video_api_cache_init_conf(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_conf_init_msec_value(mcf->signal_timeout, 25000);
    ngx_conf_init_value(mcf->idem_ttl, 86400);

    if (mcf->idem_ttl < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"video_api_idempotency_ttl\" must be 1s or "
                           "more");
        return NGX_ERROR;
    }

    if (mcf->signal_limits.peers == 0) {
        video_signal_limits_default(&mcf->signal_limits);
    }

    if (ngx_http_video_api_secrets_check(cf, mcf) != NGX_OK
        || ngx_http_video_api_webhooks_init(cf, mcf) != NGX_OK
        || ngx_http_video_api_playback_init(cf, mcf) != NGX_OK
        || ngx_http_video_api_rtmp_url_init(cf, mcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the signers' digest goes with the configuration that used it */

    cln = ngx_pool_cleanup_add(cf->cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_video_api_hmac_release;

    if (ngx_http_video_api_store_init(cf) != NGX_OK
        || ngx_http_video_api_auth_init(cf) != NGX_OK
        || ngx_http_video_api_metrics_init(cf) != NGX_OK
        || ngx_http_video_api_play_cache_init(cf) != NGX_OK
        || ngx_http_video_api_error_filter_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* first in the chain: it decides before the error filter envelopes */

    return ngx_http_video_api_delivery_filter_init(cf);
}


/* each worker opens its own connections, after the fork */

static ngx_int_t
ngx_http_video_api_init_process(ngx_cycle_t *cycle)
{
    /* first: the pools say how they are doing from the start */

    if (ngx_http_video_api_metrics_init_worker(cycle) != NGX_OK
        || ngx_http_video_api_pg_init_worker(cycle) != NGX_OK
        || ngx_http_video_api_redis_init_worker(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_video_api_pubsub_init_worker(cycle);
}


static void
ngx_http_video_api_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_video_api_pubsub_exit_worker(cycle);
    ngx_http_video_api_redis_exit_worker(cycle);
    ngx_http_video_api_pg_exit_worker(cycle);
    ngx_http_video_api_metrics_exit_worker(cycle);
    ngx_http_video_api_media_exit_worker(cycle);
}


static char *
ngx_http_video_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_loc_conf_t *lcf = conf;

    ngx_str_t                 *value;
    ngx_uint_t                 i, bit;
    ngx_http_core_loc_conf_t  *clcf;

    if (lcf->areas) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        bit = ngx_http_video_api_area(&value[i]);

        if (bit == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "video_api: unknown area \"%V\" in \"%V\", "
                               "expected videos, upload, analytics, live, "
                               "live_callbacks, health, play, access, "
                               "webhooks or all",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        lcf->areas |= bit;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_video_api_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_video_api_postgres(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    char                         *err, *rv;
    size_t                        len;
    ngx_str_t                    *value;
    PQconninfoOption             *opts;
    ngx_http_video_api_pg_conf_t *pg;

    if (mcf->pg_set) {
        return "is duplicate";
    }

    value = cf->args->elts;
    pg = &mcf->pg;

    /* libpq parses without connecting, so a typo fails "nginx -t" */

    opts = PQconninfoParse((char *) value[1].data, &err);

    if (opts == NULL) {
        len = (err != NULL) ? ngx_strlen(err) : 0;

        while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == '\r')) {
            len--;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid connection string \"%V\" "
                           "in \"%V\": %*s", &value[1], &cmd->name,
                           len, err ? err : "out of memory");
        if (err != NULL) {
            PQfreemem(err);
        }

        return NGX_CONF_ERROR;
    }

    /*
     * libpq resolves a host name with a blocking getaddrinfo() while it
     * connects: resolve it here, once, and connect to the address
     */

    if (ngx_http_video_api_pg_resolve(cf, cmd, opts, pg) != NGX_CONF_OK) {
        PQconninfoFree(opts);
        return NGX_CONF_ERROR;
    }

    PQconninfoFree(opts);

    pg->conninfo = value[1];
    pg->pool = 8;
    pg->queue = 1024;
    pg->timeout = 5000;

    rv = ngx_http_video_api_params(cf, cmd, pg, 2,
                                   ngx_http_video_api_pg_params);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    mcf->pg_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_video_api_pg_resolve(ngx_conf_t *cf, ngx_command_t *cmd,
    PQconninfoOption *opts, ngx_http_video_api_pg_conf_t *pg)
{
    char               *host, *hostaddr;
    ngx_url_t           u;
    ngx_uint_t          i;
    PQconninfoOption   *o;

    host = NULL;
    hostaddr = NULL;

    for (o = opts; o->keyword != NULL; o++) {
        if (ngx_strcmp(o->keyword, "host") == 0) {
            host = o->val;

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0) {
            hostaddr = o->val;
        }
    }

    /* no host (the local socket), a socket directory, or several hosts */

    if (host == NULL || host[0] == '\0' || host[0] == '/' || hostaddr != NULL
        || ngx_strchr(host, ',') != NULL)
    {
        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url.data = (u_char *) host;
    u.url.len = ngx_strlen(host);
    u.default_port = 5432;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: host \"%s\" not found in \"%V\"",
                           host, &cmd->name);
        return NGX_CONF_ERROR;
    }

    pg->hostaddr.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (pg->hostaddr.data == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * one address is used: an IPv4 one when there is one, as servers
     * configured for "localhost" often listen on 127.0.0.1 only
     */

    for (i = 0; i < u.naddrs - 1; i++) {
        if (u.addrs[i].sockaddr->sa_family == AF_INET) {
            break;
        }
    }

    pg->hostaddr.len = ngx_sock_ntop(u.addrs[i].sockaddr, u.addrs[i].socklen,
                                     pg->hostaddr.data, NGX_SOCKADDR_STRLEN,
                                     0);
    pg->hostaddr.data[pg->hostaddr.len] = '\0';

    return NGX_CONF_OK;
}


static char *
ngx_http_video_api_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    char       *rv;
    ngx_url_t   u;
    ngx_str_t  *value;

    if (mcf->redis_set) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid address \"%V\" in \"%V\": %s",
                           &value[1], &cmd->name,
                           u.err ? u.err : "host not found");
        return NGX_CONF_ERROR;
    }

    mcf->redis.addr = value[1];
    mcf->redis.timeout = 2000;
    mcf->redis.cache_ttl = VIDEO_CACHE_TTL_MS;
    mcf->redis.list_ttl = 10000;

    /*
     * hiredis resolves names with a blocking getaddrinfo(): resolve here,
     * at configuration time, and give it the numeric address
     */

    if (u.family == AF_UNIX) {
        mcf->redis.unix_path.len = value[1].len - 5;
        mcf->redis.unix_path.data = ngx_pnalloc(cf->pool,
                                                mcf->redis.unix_path.len + 1);
        if (mcf->redis.unix_path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(mcf->redis.unix_path.data, value[1].data + 5,
                    mcf->redis.unix_path.len + 1);

    } else {
        mcf->redis.host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (mcf->redis.host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        mcf->redis.host.len = ngx_sock_ntop(u.addrs[0].sockaddr,
                                            u.addrs[0].socklen,
                                            mcf->redis.host.data,
                                            NGX_SOCKADDR_STRLEN, 0);
        mcf->redis.host.data[mcf->redis.host.len] = '\0';
        mcf->redis.port = u.port;
    }

    rv = ngx_http_video_api_params(cf, cmd, &mcf->redis, 2,
                                   ngx_http_video_api_redis_params);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    mcf->redis_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_video_api_storage(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    char                              *rv;
    ngx_http_video_api_storage_conf_t *st;

    if (mcf->storage_set) {
        return "is duplicate";
    }

    st = &mcf->storage;

    ngx_str_set(&st->region, "us-east-1");
    ngx_str_set(&st->bucket_raw, "videos-raw");
    ngx_str_set(&st->bucket_processed, "videos-processed");
    ngx_str_set(&st->bucket_thumbnails, "thumbnails");
    st->path_style = 1;
    st->presign_expires = 3600;
    st->max_upload = (off_t) 50 * 1024 * 1024 * 1024;
    st->multipart_expires = 24 * 3600;

    rv = ngx_http_video_api_params(cf, cmd, st, 1,
                                   ngx_http_video_api_storage_params);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (st->endpoint.len == 0 || st->access_key.len == 0
        || st->secret_key.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: \"%V\" requires \"endpoint\", "
                           "\"access_key\" and \"secret_key\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (st->public_endpoint.len == 0) {
        st->public_endpoint = st->endpoint;
    }

    if (ngx_http_video_api_check_url(cf, cmd, "endpoint", &st->endpoint, 0)
        != NGX_CONF_OK
        || ngx_http_video_api_check_url(cf, cmd, "public_endpoint",
                                        &st->public_endpoint, 0)
           != NGX_CONF_OK
        || ngx_http_video_api_check_bucket(cf, cmd, "bucket_raw",
                                           &st->bucket_raw)
           != NGX_CONF_OK
        || ngx_http_video_api_check_bucket(cf, cmd, "bucket_processed",
                                           &st->bucket_processed)
           != NGX_CONF_OK
        || ngx_http_video_api_check_bucket(cf, cmd, "bucket_thumbnails",
                                           &st->bucket_thumbnails)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    mcf->storage_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_video_api_playback(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    char  *rv;

    if (mcf->play_set) {
        return "is duplicate";
    }

    mcf->play_set = 1;
    mcf->play.expires = NGX_HTTP_VIDEO_API_PLAY_EXPIRES;
    mcf->play.cache = NGX_HTTP_VIDEO_API_PLAY_CACHE;

    rv = ngx_http_video_api_params(cf, cmd, &mcf->play, 1,
                                   ngx_http_video_api_play_params);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_http_video_api_dir(cf, &mcf->play.root) != NGX_OK
        || ngx_http_video_api_dir(cf, &mcf->play.live_root) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A directory parameter: relative to nginx's prefix, as "root" and
 * "alias" are, and without trailing '/' (files are appended as "/name")
 */

static ngx_int_t
ngx_http_video_api_dir(ngx_conf_t *cf, ngx_str_t *dir)
{
    if (dir->len == 0) {
        return NGX_OK;
    }

    if (ngx_conf_full_name(cf->cycle, dir, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    while (dir->len > 1 && dir->data[dir->len - 1] == '/') {
        dir->len--;
    }

    return NGX_OK;
}


static char *
ngx_http_video_api_live_relay_secret_check(ngx_conf_t *cf, void *post,
    void *data)
{
    ngx_str_t  *secret = data;

    if (secret->len < 16 || secret->len > 31) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid \"video_api_live_relay_secret\" "
                           "of %uz characters, expected 16..31 (nginx-rtmp "
                           "sends at most 31 as a flashVer)", secret->len);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Secrets that were ever published (our old sample configuration, the
 * placeholders of the shipped one, MinIO's default) sign for anyone who
 * read them: a server that others can reach refuses to start with one.
 * `make run` renders generated secrets into its copy of the
 * configuration.
 */

static ngx_str_t  ngx_http_video_api_sample_secrets[] = {
    ngx_string("videoapi-secret"),
    ngx_string("@STORAGE_SECRET_KEY@"),
    ngx_string("@PLAYBACK_SECRET@"),
    ngx_string("@LIVE_RELAY_SECRET@"),
    ngx_string("@WEBHOOK_KEY@"),
    ngx_string("minioadmin"),
    ngx_null_string
};


static ngx_int_t
ngx_http_video_api_secrets_check(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf)
{
    size_t                      len;
    ngx_str_t                  *known, *secret;
    ngx_uint_t                  i, j, k, loopback;
    struct sockaddr            *sa;
    struct sockaddr_in         *sin;
    ngx_http_conf_port_t       *port;
    ngx_http_conf_addr_t       *addr;
    ngx_http_core_main_conf_t  *cmcf;
    u_char                      text[NGX_SOCKADDR_STRLEN];
#if (NGX_HAVE_INET6)
    struct sockaddr_in6        *sin6;
#endif
    static char                *names[] = { "secret_key", "secret",
                                            "secret", "previous_secret",
                                            "key" };
    static char                *directives[] = { "video_api_storage",
                                                 "video_api_playback",
                                                 "video_api_live_relay_secret",
                                                 "video_api_playback",
                                                 "video_api_webhooks" };

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->ports == NULL) {
        return NGX_OK;
    }

    for (k = 0; k < 5; k++) {
        switch (k) {
        case 0:
            secret = mcf->storage_set ? &mcf->storage.secret_key : NULL;
            break;
        case 1:
            secret = &mcf->play.secret;
            break;
        case 2:
            secret = &mcf->live_relay_secret;
            break;
        case 3:
            secret = &mcf->play.previous;
            break;
        default:
            secret = mcf->webhooks ? &mcf->webhooks->key : NULL;
            break;
        }

        if (secret == NULL || secret->len == 0) {
            continue;
        }

        for (known = ngx_http_video_api_sample_secrets; known->len; known++) {
            if (known->len == secret->len
                && ngx_strncmp(known->data, secret->data, secret->len) == 0)
            {
                break;
            }
        }

        if (known->len == 0) {
            continue;
        }

        port = cmcf->ports->elts;

        for (i = 0; i < cmcf->ports->nelts; i++) {
            addr = port[i].addrs.elts;

            for (j = 0; j < port[i].addrs.nelts; j++) {
                sa = addr[j].opt.sockaddr;

                switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
                case AF_INET6:
                    sin6 = (struct sockaddr_in6 *) sa;
                    loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
                    break;
#endif

#if (NGX_HAVE_UNIX_DOMAIN)
                case AF_UNIX:
                    loopback = 1;
                    break;
#endif

                default: /* AF_INET */
                    sin = (struct sockaddr_in *) sa;
                    loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
                    break;
                }

                if (loopback) {
                    continue;
                }

                len = ngx_sock_ntop(sa, addr[j].opt.socklen, text,
                                    NGX_SOCKADDR_STRLEN, 1);

                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "video_api: \"%s\" of \"%s\" is the published "
                              "sample value \"%V\" and a server listens on "
                              "%*s, which is not loopback: set a secret of "
                              "your own (make run generates one) or listen "
                              "on loopback only", names[k], directives[k],
                              known, len, text);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/*
 * Once everything is read: play URLs start with the public URL, and
 * without a configured secret the tokens are keyed by one derived from
 * the storage secret, so they stay valid across restarts and reloads.
 */

static ngx_int_t
ngx_http_video_api_playback_init(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf)
{
    u_char                          *p;
    ngx_http_video_api_play_conf_t  *play;

    play = &mcf->play;

    if (!mcf->play_set) {
        play->expires = NGX_HTTP_VIDEO_API_PLAY_EXPIRES;
        play->cache = NGX_HTTP_VIDEO_API_PLAY_CACHE;
    }

    play->base.len = mcf->public_url.len + sizeof("/play/") - 1;
    play->base.data = ngx_pnalloc(cf->pool, play->base.len + 1);
    if (play->base.data == NULL) {
        return NGX_ERROR;
    }

    p = play->base.data;

    if (mcf->public_url.len) {
        p = ngx_cpymem(p, mcf->public_url.data, mcf->public_url.len);
    }

    ngx_memcpy(p, "/play/", sizeof("/play/"));

    if (play->secret.len) {
        return ngx_http_video_api_playback_keys(cf, play);
    }

    play->secret.data = ngx_pnalloc(cf->pool, VIDEO_PLAY_SECRET_LEN);
    if (play->secret.data == NULL) {
        return NGX_ERROR;
    }

    play->secret.len = VIDEO_PLAY_SECRET_LEN;

    if (video_play_derive_secret(mcf->storage_set
                                 ? mcf->storage.secret_key.data : NULL,
                                 mcf->storage.secret_key.len,
                                 play->secret.data)
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "video_api: cannot make a playback secret");
        return NGX_ERROR;
    }

    return ngx_http_video_api_playback_keys(cf, play);
}


/* the signing key and the previous one, each with its id */

static ngx_int_t
ngx_http_video_api_playback_keys(ngx_conf_t *cf,
    ngx_http_video_api_play_conf_t *play)
{
    play->nkeys = 0;

    if (video_play_key_init(&play->keys[play->nkeys++], play->secret.data,
                            play->secret.len)
        != 0
        || (play->previous.len
            && video_play_key_init(&play->keys[play->nkeys++],
                                   play->previous.data, play->previous.len)
               != 0))
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "video_api: cannot make the playback key ids");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * video_api_webhooks key=<secret> [allow=<CIDRs>] [allow_http=on|off]
 * [max_endpoints=<n>] [overlap=<time>]: the endpoints' secrets are sealed
 * under a key derived from key, once, here
 */

static char *
ngx_http_video_api_webhooks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    char                                *rv;
    ngx_http_video_api_webhooks_conf_t  *wh;
    char                                 err[VIDEO_URLGUARD_REASON];

    if (mcf->webhooks != NULL) {
        return "is duplicate";
    }

    wh = ngx_pcalloc(cf->pool, sizeof(ngx_http_video_api_webhooks_conf_t));
    if (wh == NULL) {
        return NGX_CONF_ERROR;
    }

    wh->max_endpoints = NGX_HTTP_VIDEO_API_WEBHOOK_ENDPOINTS;
    wh->overlap = NGX_HTTP_VIDEO_API_WEBHOOK_OVERLAP;

    rv = ngx_http_video_api_params(cf, cmd, wh, 1,
                                   ngx_http_video_api_webhooks_params);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (wh->key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: \"%V\" requires \"key\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* the shipped placeholder passes here: secrets_check judges it */

    if (wh->key.len < NGX_HTTP_VIDEO_API_WEBHOOK_KEY_MIN
        && !(wh->key.len == sizeof("@WEBHOOK_KEY@") - 1
             && ngx_strncmp(wh->key.data, "@WEBHOOK_KEY@", wh->key.len) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: \"key\" of \"%V\" has %uz "
                           "characters, expected %d or more",
                           &cmd->name, wh->key.len,
                           NGX_HTTP_VIDEO_API_WEBHOOK_KEY_MIN);
        return NGX_CONF_ERROR;
    }

    if (wh->allow_list.len
        && video_urlguard_allow_parse(&wh->allow,
                                      (char *) wh->allow_list.data,
                                      wh->allow_list.len, err, sizeof(err))
           != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid \"allow\" value \"%V\" in "
                           "\"%V\": %s", &wh->allow_list, &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    if (wh->key.len >= NGX_HTTP_VIDEO_API_WEBHOOK_KEY_MIN) {
        if (video_webhook_key_derive((char *) wh->key.data, wh->key.len,
                                     &wh->seal)
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "video_api: cannot derive the webhook key "
                               "in \"%V\"", &cmd->name);
            return NGX_CONF_ERROR;
        }

        wh->sealing = 1;
    }

    mcf->webhooks = wh;

    return NGX_CONF_OK;
}


/*
 * Without the directive the routes still list and manage what exists;
 * making or rotating a secret answers 503 (nothing to seal it with), as
 * does the shipped placeholder, which is no key
 */

static ngx_int_t
ngx_http_video_api_webhooks_init(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf)
{
    ngx_http_video_api_webhooks_conf_t  *wh;

    if (mcf->webhooks != NULL) {
        return NGX_OK;
    }

    wh = ngx_pcalloc(cf->pool, sizeof(ngx_http_video_api_webhooks_conf_t));
    if (wh == NULL) {
        return NGX_ERROR;
    }

    wh->max_endpoints = NGX_HTTP_VIDEO_API_WEBHOOK_ENDPOINTS;
    wh->overlap = NGX_HTTP_VIDEO_API_WEBHOOK_OVERLAP;

    mcf->webhooks = wh;

    return NGX_OK;
}


static char *
ngx_http_video_api_public_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->public_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_video_api_check_url(cf, cmd, "url", &value[1], 1)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    mcf->public_url = value[1];

    /* URLs are built as public_url + "/path" */

    while (mcf->public_url.len > 0
           && mcf->public_url.data[mcf->public_url.len - 1] == '/')
    {
        mcf->public_url.len--;
    }

    return NGX_CONF_OK;
}


/* video_api_rtmp_url rtmp://host[:port]/app: live create's rtmpUrl */

static char *
ngx_http_video_api_rtmp_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->rtmp_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len <= sizeof("rtmp://") - 1
        || ngx_strncmp(value[1].data, "rtmp://", sizeof("rtmp://") - 1) != 0
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '"')
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '\\'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not an rtmp:// URL",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    mcf->rtmp_url = value[1];

    while (mcf->rtmp_url.data[mcf->rtmp_url.len - 1] == '/') {
        mcf->rtmp_url.len--;
    }

    return NGX_CONF_OK;
}


/* without video_api_rtmp_url: the public URL's host, port 1935, "live" */

static ngx_int_t
ngx_http_video_api_rtmp_url_init(ngx_conf_t *cf,
    ngx_http_video_api_main_conf_t *mcf)
{
    u_char     *p, *host, *last;
    ngx_str_t   url;

    if (mcf->rtmp_url.data) {
        return NGX_OK;
    }

    ngx_str_set(&url, "http://127.0.0.1");

    if (mcf->public_url.len) {
        url = mcf->public_url;
    }

    last = url.data + url.len;
    host = ngx_strlcasestrn(url.data, last, (u_char *) "://", 3 - 1);
    host = (host != NULL) ? host + 3 : url.data;

    if (host < last && *host == '[') {
        p = ngx_strlchr(host, last, ']');
        p = (p != NULL) ? p + 1 : last;

    } else {
        for (p = host; p < last && *p != ':' && *p != '/'; p++) {
            /* void */
        }
    }

    mcf->rtmp_url.data = ngx_pnalloc(cf->pool, (p - host)
                                     + sizeof("rtmp://:1935/live") - 1);
    if (mcf->rtmp_url.data == NULL) {
        return NGX_ERROR;
    }

    mcf->rtmp_url.len = ngx_sprintf(mcf->rtmp_url.data, "rtmp://%*s:1935/live",
                                    (size_t) (p - host), host)
                        - mcf->rtmp_url.data;

    return NGX_OK;
}


/*
 * video_api_live_record_path <dir>: where nginx-rtmp's recorder writes
 * (its record_path); on_record_done paths outside it are refused
 */

static char *
ngx_http_video_api_live_record_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->live_record_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mcf->live_record_path = value[1];

    if (ngx_conf_full_name(cf->cycle, &mcf->live_record_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    while (mcf->live_record_path.len > 1
           && mcf->live_record_path.data[mcf->live_record_path.len - 1] == '/')
    {
        mcf->live_record_path.len--;
    }

    return NGX_CONF_OK;
}


/* video_api_signal_limits name=value ...: what a stream's signaling holds */

static char *
ngx_http_video_api_signal_limits(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    size_t                 *lens;
    ngx_str_t              *value;
    ngx_uint_t              i, n;
    const char            **params;
    video_signal_limits_t   limits;
    char                    err[256];

    if (mcf->signal_limits.peers != 0) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    params = ngx_palloc(cf->temp_pool, n * sizeof(char *));
    lens = ngx_palloc(cf->temp_pool, n * sizeof(size_t));
    if (params == NULL || lens == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        params[i] = (char *) value[i + 1].data;
        lens[i] = value[i + 1].len;
    }

    video_signal_limits_default(&limits);

    if (video_signal_limits_parse(&limits, (int) n, params, lens, err,
                                  sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "video_api: %s in \"%V\"",
                           err, &cmd->name);
        return NGX_CONF_ERROR;
    }

    mcf->signal_limits = limits;

    return NGX_CONF_OK;
}


/*
 * video_api_clock_offset [-]<time>: what the view counters take as now is
 * the clock plus this, so tests can move to another day or month
 */

static char *
ngx_http_video_api_clock_offset(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_video_api_main_conf_t *mcf = conf;

    time_t      t;
    ngx_str_t  *value, v;
    ngx_int_t   sign;

    if (mcf->clock_offset_set) {
        return "is duplicate";
    }

    value = cf->args->elts;
    v = value[1];
    sign = 1;

    if (v.len > 1 && v.data[0] == '-') {
        sign = -1;
        v.data++;
        v.len--;
    }

    t = ngx_parse_time(&v, 1);

    if (t == (time_t) NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not a time (seconds, or "
                           "e.g. 2d, -36h)", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    mcf->clock_offset = sign * t;
    mcf->clock_offset_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_video_api_cors(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_video_api_loc_conf_t *lcf = conf;

    char                              *rv;
    ngx_str_t                         *value, *origin;
    ngx_uint_t                         i, any;
    ngx_http_video_api_cors_params_t   params;

    if (lcf->cors_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2
        && ngx_strcmp(value[1].data, "off") == 0)
    {
        lcf->cors_origins = NULL;
        lcf->cors_credentials = 0;
        lcf->cors_max_age = 0;
        return NGX_CONF_OK;
    }

    lcf->cors_origins = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (lcf->cors_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    any = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')) {
            break;
        }

        if (ngx_strcmp(value[i].data, "*") == 0) {
            any = 1;
            continue;
        }

        if (ngx_http_video_api_check_url(cf, cmd, "origin", &value[i], 0)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        origin = ngx_array_push(lcf->cors_origins);
        if (origin == NULL) {
            return NGX_CONF_ERROR;
        }

        *origin = value[i];
    }

    if (i == 1 || (any && lcf->cors_origins->nelts > 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: \"%V\" takes \"off\", \"*\", or "
                           "a list of origins", &cmd->name);
        return NGX_CONF_ERROR;
    }

    params.credentials = 0;
    params.max_age = 86400;

    rv = ngx_http_video_api_params(cf, cmd, &params, i,
                                   ngx_http_video_api_cors_params);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    lcf->cors_credentials = params.credentials;
    lcf->cors_max_age = params.max_age;

    return NGX_CONF_OK;
}


/*
 * Parses the "name=value" arguments from index first on into base, as
 * params describe; every mistake names the directive and the bad value.
 */

static char *
ngx_http_video_api_params(ngx_conf_t *cf, ngx_command_t *cmd, void *base,
    ngx_uint_t first, ngx_http_video_api_param_t *params)
{
    u_char                      *eq, *p;
    off_t                        o;
    ngx_int_t                    n;
    ngx_str_t                   *value, name, v;
    ngx_uint_t                   i, seen;
    ngx_http_video_api_param_t  *pm;

    value = cf->args->elts;
    seen = 0;

    for (i = first; i < cf->args->nelts; i++) {

        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "video_api: invalid parameter \"%V\" in "
                               "\"%V\", expected name=value",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;
        v.data = eq + 1;
        v.len = value[i].data + value[i].len - v.data;

        for (pm = params; pm->name.len; pm++) {
            if (pm->name.len == name.len
                && ngx_strncmp(pm->name.data, name.data, name.len) == 0)
            {
                break;
            }
        }

        if (pm->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "video_api: unknown parameter \"%V\" in "
                               "\"%V\"", &name, &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (seen & ((ngx_uint_t) 1 << (pm - params))) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "video_api: duplicate parameter \"%V\" in "
                               "\"%V\"", &name, &cmd->name);
            return NGX_CONF_ERROR;
        }

        seen |= (ngx_uint_t) 1 << (pm - params);
        p = (u_char *) base + pm->offset;

        switch (pm->type) {

        case NGX_HTTP_VIDEO_API_PARAM_STR:
            if (v.len == 0) {
                goto invalid;
            }

            *(ngx_str_t *) p = v;
            break;

        case NGX_HTTP_VIDEO_API_PARAM_UINT:
            n = ngx_atoi(v.data, v.len);
            if (n == NGX_ERROR || (ngx_uint_t) n < pm->min
                || (ngx_uint_t) n > pm->max)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "video_api: invalid \"%V\" value \"%V\" "
                                   "in \"%V\", expected %ui..%ui",
                                   &name, &v, &cmd->name, pm->min, pm->max);
                return NGX_CONF_ERROR;
            }

            *(ngx_uint_t *) p = n;
            break;

        case NGX_HTTP_VIDEO_API_PARAM_MSEC:
        case NGX_HTTP_VIDEO_API_PARAM_SEC:
            n = ngx_parse_time(&v, pm->type == NGX_HTTP_VIDEO_API_PARAM_SEC);
            if (n == NGX_ERROR || (ngx_uint_t) n < pm->min
                || (ngx_uint_t) n > pm->max)
            {
                goto invalid;
            }

            if (pm->type == NGX_HTTP_VIDEO_API_PARAM_SEC) {
                *(time_t *) p = n;

            } else {
                *(ngx_msec_t *) p = n;
            }

            break;

        case NGX_HTTP_VIDEO_API_PARAM_SIZE:
            o = ngx_parse_offset(&v);
            if (o == NGX_ERROR || (ngx_uint_t) o < pm->min
                || (ngx_uint_t) o > pm->max)
            {
                goto invalid;
            }

            *(off_t *) p = o;
            break;

        default: /* NGX_HTTP_VIDEO_API_PARAM_FLAG */
            if (v.len == 2 && ngx_strncmp(v.data, "on", 2) == 0) {
                *(ngx_flag_t *) p = 1;

            } else if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
                *(ngx_flag_t *) p = 0;

            } else {
                goto invalid;
            }
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "video_api: invalid \"%V\" value \"%V\" in \"%V\"",
                       &name, &v, &cmd->name);

    return NGX_CONF_ERROR;
}


/* An http(s) URL; with path_allowed 0, nothing may follow host[:port]. */

static char *
ngx_http_video_api_check_url(ngx_conf_t *cf, ngx_command_t *cmd, char *what,
    ngx_str_t *value, ngx_uint_t path_allowed)
{
    size_t      skip;
    ngx_url_t   u;

    if (value->len > 7 && ngx_strncasecmp(value->data,
                                          (u_char *) "http://", 7) == 0)
    {
        skip = 7;

    } else if (value->len > 8 && ngx_strncasecmp(value->data,
                                                 (u_char *) "https://", 8)
                                 == 0)
    {
        skip = 8;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid %s \"%V\" in \"%V\", "
                           "expected http:// or https:// URL",
                           what, value, &cmd->name);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url.data = value->data + skip;
    u.url.len = value->len - skip;
    u.default_port = (skip == 7) ? 80 : 443;
    u.uri_part = 1;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid %s \"%V\" in \"%V\": %s",
                           what, value, &cmd->name,
                           u.err ? u.err : "no host");
        return NGX_CONF_ERROR;
    }

    if (!path_allowed && u.uri.len > 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "video_api: invalid %s \"%V\" in \"%V\", "
                           "expected scheme://host[:port] with no path",
                           what, value, &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* S3's bucket naming rules, the part that matters for building URLs */

static char *
ngx_http_video_api_check_bucket(ngx_conf_t *cf, ngx_command_t *cmd,
    char *what, ngx_str_t *value)
{
    u_char      c;
    ngx_uint_t  i;

    if (value->len < 3 || value->len > 63) {
        goto invalid;
    }

    for (i = 0; i < value->len; i++) {
        c = value->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || ((c == '-' || c == '.') && i > 0 && i < value->len - 1)))
        {
            goto invalid;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "video_api: invalid \"%s\" value \"%V\" in \"%V\", "
                       "expected 3..63 of a-z, 0-9, '-' and '.'",
                       what, value, &cmd->name);

    return NGX_CONF_ERROR;
}
