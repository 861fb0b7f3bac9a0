/*
 * The per-node cache of answers about API keys (see the header): a
 * red-black tree of key hashes in a shared zone, with an LRU queue.
 */

#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_auth_cache.h"
#include "ngx_http_video_api_shm.h"
#include "video_apikey.h"
#include "video_id.h"


#define NGX_HTTP_VIDEO_API_AUTH_ZONE_SIZE  (1024 * 1024)


typedef ngx_http_video_api_shm_tree_t  ngx_http_video_api_auth_sh_t;


/* what is known of one key hash; role 0: refused */
typedef struct {
    ngx_str_node_t                   sn;        /* sn.str: hash */
    ngx_queue_t                      lru;
    ngx_msec_t                       fetched;
    time_t                           expires;   /* the key's own; 0: none */
    u_char                           hash[VIDEO_APIKEY_HASH_LEN];
    u_char                           role;
    u_char                           account_len;
    u_char                           account[VIDEO_ID_LEN];
    u_char                           key_id[VIDEO_ID_LEN];
} ngx_http_video_api_auth_node_t;


static ngx_shm_zone_t  *ngx_http_video_api_auth_zone;


ngx_int_t
ngx_http_video_api_auth_cache_init(ngx_conf_t *cf)
{
    ngx_http_video_api_auth_zone = ngx_http_video_api_shm_add(cf,
                                       "video_api_keys",
                                       NGX_HTTP_VIDEO_API_AUTH_ZONE_SIZE,
                                       sizeof(ngx_http_video_api_auth_sh_t),
                                       NGX_HTTP_VIDEO_API_SHM_TREE);

    return ngx_http_video_api_auth_zone ? NGX_OK : NGX_ERROR;
}


static ngx_http_video_api_auth_node_t *
ngx_http_video_api_auth_find(ngx_http_video_api_auth_sh_t *sh, u_char *hash)
{
    ngx_str_t  name;

    name.len = VIDEO_APIKEY_HASH_LEN;
    name.data = hash;

    return (ngx_http_video_api_auth_node_t *)
               ngx_str_rbtree_lookup(&sh->rbtree, &name,
                                     ngx_crc32_short(hash,
                                                     VIDEO_APIKEY_HASH_LEN));
}


ngx_http_video_api_auth_cache_hit_e
ngx_http_video_api_auth_cache_get(u_char *hash, ngx_http_video_api_caller_t *caller,
    ngx_pool_t *pool)
{
    ngx_msec_int_t                   age;
    ngx_slab_pool_t                 *shpool;
    ngx_http_video_api_auth_sh_t    *sh;
    ngx_http_video_api_auth_node_t  *n;
    ngx_http_video_api_auth_cache_hit_e    hit;

    if (ngx_http_video_api_auth_zone == NULL) {
        return NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_auth_zone->shm.addr;
    sh = ngx_http_video_api_auth_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    n = ngx_http_video_api_auth_find(sh, hash);

    if (n == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS;
    }

    age = (ngx_msec_int_t) (ngx_current_msec - n->fetched);

    if (n->role == VIDEO_ROLE_NONE
        || (n->expires && n->expires <= ngx_time()))
    {
        hit = (age < NGX_HTTP_VIDEO_API_AUTH_FRESH)
              ? NGX_HTTP_VIDEO_API_AUTH_CACHE_REFUSED
              : NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS;

        ngx_shmtx_unlock(&shpool->mutex);
        return hit;
    }

    if (age >= NGX_HTTP_VIDEO_API_AUTH_STALE) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS;
    }

    hit = (age < NGX_HTTP_VIDEO_API_AUTH_FRESH)
          ? NGX_HTTP_VIDEO_API_AUTH_CACHE_KNOWN
          : NGX_HTTP_VIDEO_API_AUTH_CACHE_OLD;

    ngx_queue_remove(&n->lru);
    ngx_queue_insert_head(&sh->lru, &n->lru);

    caller->role = n->role;
    caller->account.len = n->account_len;
    caller->key_id.len = VIDEO_ID_LEN;
    caller->account.data = ngx_pnalloc(pool, n->account_len);
    caller->key_id.data = ngx_pnalloc(pool, VIDEO_ID_LEN);

    if (caller->account.data == NULL || caller->key_id.data == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));
        return NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS;
    }

    ngx_memcpy(caller->account.data, n->account, n->account_len);
    ngx_memcpy(caller->key_id.data, n->key_id, VIDEO_ID_LEN);

    ngx_shmtx_unlock(&shpool->mutex);

    return hit;
}


/* notes an answer (caller->role 0: refused), evicting the oldest if full */

void
ngx_http_video_api_auth_cache_put(u_char *hash, ngx_http_video_api_caller_t *caller,
    time_t expires)
{
    ngx_uint_t                       i;
    ngx_queue_t                     *q;
    ngx_slab_pool_t                 *shpool;
    ngx_http_video_api_auth_sh_t    *sh;
    ngx_http_video_api_auth_node_t  *n;

    if (ngx_http_video_api_auth_zone == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_auth_zone->shm.addr;
    sh = ngx_http_video_api_auth_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    n = ngx_http_video_api_auth_find(sh, hash);

    if (n == NULL) {

        for (i = 0; i < 8; i++) {
            n = ngx_slab_alloc_locked(shpool,
                                      sizeof(ngx_http_video_api_auth_node_t));
            if (n != NULL || ngx_queue_empty(&sh->lru)) {
                break;
            }

            q = ngx_queue_last(&sh->lru);
            ngx_queue_remove(q);

            n = ngx_queue_data(q, ngx_http_video_api_auth_node_t, lru);
            ngx_rbtree_delete(&sh->rbtree, &n->sn.node);
            ngx_slab_free_locked(shpool, n);
            n = NULL;
        }

        if (n == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return;
        }

        ngx_memcpy(n->hash, hash, VIDEO_APIKEY_HASH_LEN);
        n->sn.str.len = VIDEO_APIKEY_HASH_LEN;
        n->sn.str.data = n->hash;
        n->sn.node.key = ngx_crc32_short(hash, VIDEO_APIKEY_HASH_LEN);

        ngx_rbtree_insert(&sh->rbtree, &n->sn.node);

    } else {
        ngx_queue_remove(&n->lru);
    }

    ngx_queue_insert_head(&sh->lru, &n->lru);

    n->fetched = ngx_current_msec;
    n->expires = expires;
    n->role = (u_char) caller->role;
    n->account_len = (u_char) caller->account.len;

    if (caller->role != VIDEO_ROLE_NONE) {
        ngx_memcpy(n->account, caller->account.data, caller->account.len);
        ngx_memcpy(n->key_id, caller->key_id.data, VIDEO_ID_LEN);
    }

    ngx_shmtx_unlock(&shpool->mutex);
}
