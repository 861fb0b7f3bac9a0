/*
 * A shared-memory list of stale cache keys.  Without it, a write made
 * while Redis was down would leave Redis's older copy to be served after
 * Redis returns, until its TTL ends.
 */

#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_play_cache.h"
#include "ngx_http_video_api_shm.h"
#include "video_views.h"


#define NGX_HTTP_VIDEO_API_STALE_MAX      1024
#define NGX_HTTP_VIDEO_API_STALE_KEY_MAX  64


typedef struct {
    ngx_uint_t                   n;
    ngx_uint_t                   overflow;
    ngx_uint_t                   list;
    ngx_uint_t                   ids;      /* video:ids missed a change */
    u_char                       len[NGX_HTTP_VIDEO_API_STALE_MAX];
    u_char                       keys[NGX_HTTP_VIDEO_API_STALE_MAX]
                                     [NGX_HTTP_VIDEO_API_STALE_KEY_MAX];
} ngx_http_video_api_stale_t;


static void ngx_http_video_api_cache_id_written(ngx_http_request_t *r,
    void *data, redisReply *reply);


static ngx_shm_zone_t  *ngx_http_video_api_cache_zone;


ngx_int_t
ngx_http_video_api_cache_init_conf(ngx_conf_t *cf)
{
    ngx_http_video_api_cache_zone = ngx_http_video_api_shm_add(cf,
                                        "video_api_stale_cache_keys",
                                        8 * ngx_pagesize
                                        + sizeof(ngx_http_video_api_stale_t),
                                        sizeof(ngx_http_video_api_stale_t),
                                        0);

    return ngx_http_video_api_cache_zone ? NGX_OK : NGX_ERROR;
}


void
ngx_http_video_api_cache_stale(ngx_log_t *log, ngx_str_t *key)
{
    ngx_uint_t                   i;
    ngx_slab_pool_t             *shpool;
    ngx_http_video_api_stale_t  *stale;

    if (ngx_http_video_api_cache_zone == NULL
        || key->len > NGX_HTTP_VIDEO_API_STALE_KEY_MAX)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_cache_zone->shm.addr;
    stale = ngx_http_video_api_cache_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < stale->n; i++) {
        if (stale->len[i] == key->len
            && ngx_memcmp(stale->keys[i], key->data, key->len) == 0)
        {
            ngx_shmtx_unlock(&shpool->mutex);
            return;
        }
    }

    if (stale->n < NGX_HTTP_VIDEO_API_STALE_MAX) {
        stale->len[stale->n] = (u_char) key->len;
        ngx_memcpy(stale->keys[stale->n], key->data, key->len);
        stale->n++;

    } else if (!stale->overflow) {
        stale->overflow = 1;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "video_api: more than %d writes while redis was "
                      "unreachable: older cached copies may be served "
                      "until their cache_ttl ends",
                      NGX_HTTP_VIDEO_API_STALE_MAX);
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* "cmd key", its answer ignored; NGX_OK when it was queued */

static ngx_int_t
ngx_http_video_api_cache_key_command(ngx_http_request_t *r, char *cmd,
    char *key)
{
    const char  *argv[2];

    argv[0] = cmd;
    argv[1] = key;

    return ngx_http_video_api_redis_command(r, ngx_http_video_api_redis_ignore,
                                            NULL, 2, argv, NULL);
}


void
ngx_http_video_api_cache_lists_changed(ngx_http_request_t *r)
{
    /* every change to videos passes here: what /play/ knows is stale */

    ngx_http_video_api_play_cache_flush();

    if (ngx_http_video_api_cache_key_command(r, "INCR",
                                             NGX_HTTP_VIDEO_API_LIST_VERSION)
        != NGX_OK)
    {
        ngx_http_video_api_cache_list_stale(r->connection->log);
    }
}


void
ngx_http_video_api_cache_list_stale(ngx_log_t *log)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_video_api_stale_t  *stale;

    if (ngx_http_video_api_cache_zone == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_cache_zone->shm.addr;
    stale = ngx_http_video_api_cache_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    stale->list = 1;
    ngx_shmtx_unlock(&shpool->mutex);
}


void
ngx_http_video_api_cache_flush_stale(ngx_http_request_t *r)
{
    int                          argc;
    size_t                      *argvlen;
    ngx_uint_t                   i;
    const char                 **argv;
    ngx_slab_pool_t             *shpool;
    ngx_http_video_api_stale_t  *stale;

    if (ngx_http_video_api_cache_zone == NULL) {
        return;
    }

    stale = ngx_http_video_api_cache_zone->data;

    /* the common case, read without the lock: nothing is stale */

    if (stale->n == 0 && !stale->list && !stale->ids) {
        return;
    }

    argv = ngx_palloc(r->pool, (NGX_HTTP_VIDEO_API_STALE_MAX + 1)
                               * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (NGX_HTTP_VIDEO_API_STALE_MAX + 1)
                                  * sizeof(size_t));
    if (argv == NULL || argvlen == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_cache_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    if (stale->list
        && ngx_http_video_api_cache_key_command(r, "INCR",
               NGX_HTTP_VIDEO_API_LIST_VERSION)
           == NGX_OK)
    {
        stale->list = 0;
    }

    if (stale->ids
        && ngx_http_video_api_cache_key_command(r, "DEL",
               VIDEO_IDS_COMPLETE_KEY)
           == NGX_OK)
    {
        stale->ids = 0;
    }

    if (stale->n == 0) {
        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    argv[0] = "DEL";
    argvlen[0] = 3;
    argc = 1;

    for (i = 0; i < stale->n; i++) {
        argv[argc] = ngx_pnalloc(r->pool, stale->len[i]);
        if (argv[argc] == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return;
        }

        ngx_memcpy((u_char *) argv[argc], stale->keys[i], stale->len[i]);
        argvlen[argc++] = stale->len[i];
    }

    /* queued on the connection means it reaches Redis before our read */

    if (ngx_http_video_api_redis_command(r, ngx_http_video_api_redis_ignore,
                                         NULL, argc, argv, argvlen)
        == NGX_OK)
    {
        stale->n = 0;
        stale->overflow = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


void
ngx_http_video_api_cache_video_id(ngx_http_request_t *r, ngx_str_t *id,
    ngx_uint_t add)
{
    const char                      *argv[3];
    size_t                           argvlen[3];
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (!mcf->redis_set) {
        return;
    }

    argv[0] = add ? "SADD" : "SREM";
    argvlen[0] = 4;
    argv[1] = VIDEO_IDS_KEY;
    argvlen[1] = sizeof(VIDEO_IDS_KEY) - 1;
    argv[2] = (char *) id->data;
    argvlen[2] = id->len;

    if (ngx_http_video_api_redis_command(r,
            ngx_http_video_api_cache_id_written, NULL, 3, argv, argvlen)
        != NGX_OK)
    {
        ngx_http_video_api_cache_id_written(r, NULL, NULL);
    }
}


static void
ngx_http_video_api_cache_id_written(ngx_http_request_t *r, void *data,
    redisReply *reply)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_video_api_stale_t  *stale;

    if ((reply != NULL && reply->type == REDIS_REPLY_INTEGER)
        || ngx_http_video_api_cache_zone == NULL)
    {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_cache_zone->shm.addr;
    stale = ngx_http_video_api_cache_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    stale->ids = 1;
    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "video_api: redis missed a change to the set of video "
                  "ids; it is refilled once redis is back");
}
