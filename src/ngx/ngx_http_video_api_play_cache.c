/*
 * The per-node cache of what /play/ read of videos (see the header): a
 * red-black tree of video ids in a shared zone, with an LRU queue, and an
 * epoch that emptying the cache moves on (an entry of an older epoch is
 * no entry).
 */

#include "ngx_http_video_api_play_cache.h"
#include "ngx_http_video_api_shm.h"
#include "video_id.h"


#define NGX_HTTP_VIDEO_API_PLAY_ZONE_SIZE  (512 * 1024)


typedef struct {
    ngx_http_video_api_shm_tree_t    tree;
    ngx_uint_t                       epoch;
} ngx_http_video_api_play_sh_t;


typedef struct {
    ngx_str_node_t                   sn;        /* sn.str: the id */
    ngx_queue_t                      lru;
    ngx_msec_t                       fetched;
    ngx_uint_t                       epoch;
    int64_t                          gen;
    u_char                           visibility;
    u_char                           processing;
    u_char                           id[VIDEO_ID_LEN];
} ngx_http_video_api_play_node_t;


static ngx_shm_zone_t  *ngx_http_video_api_play_zone;


ngx_int_t
ngx_http_video_api_play_cache_init(ngx_conf_t *cf)
{
    ngx_http_video_api_play_zone = ngx_http_video_api_shm_add(cf,
                                       "video_api_play",
                                       NGX_HTTP_VIDEO_API_PLAY_ZONE_SIZE,
                                       sizeof(ngx_http_video_api_play_sh_t),
                                       NGX_HTTP_VIDEO_API_SHM_TREE);

    return ngx_http_video_api_play_zone ? NGX_OK : NGX_ERROR;
}


static ngx_http_video_api_play_node_t *
ngx_http_video_api_play_find(ngx_http_video_api_play_sh_t *sh, ngx_str_t *id)
{
    return (ngx_http_video_api_play_node_t *)
               ngx_str_rbtree_lookup(&sh->tree.rbtree, id,
                                     ngx_crc32_short(id->data, id->len));
}


ngx_int_t
ngx_http_video_api_play_cache_get(ngx_str_t *id, ngx_msec_t valid,
    ngx_http_video_api_play_known_t *known)
{
    ngx_int_t                        rc;
    ngx_slab_pool_t                 *shpool;
    ngx_http_video_api_play_sh_t    *sh;
    ngx_http_video_api_play_node_t  *n;

    known->epoch = 0;

    if (ngx_http_video_api_play_zone == NULL || id->len != VIDEO_ID_LEN) {
        return NGX_DECLINED;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_play_zone->shm.addr;
    sh = ngx_http_video_api_play_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    known->epoch = sh->epoch;
    rc = NGX_DECLINED;

    if (valid) {
        n = ngx_http_video_api_play_find(sh, id);

        if (n != NULL && n->epoch == sh->epoch
            && (ngx_msec_int_t) (ngx_current_msec - n->fetched)
               < (ngx_msec_int_t) valid)
        {
            known->gen = n->gen;
            known->visibility = n->visibility;
            known->processing = n->processing;
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


void
ngx_http_video_api_play_cache_put(ngx_str_t *id,
    ngx_http_video_api_play_known_t *known)
{
    ngx_uint_t                       i;
    ngx_queue_t                     *q;
    ngx_slab_pool_t                 *shpool;
    ngx_http_video_api_play_sh_t    *sh;
    ngx_http_video_api_play_node_t  *n;

    if (ngx_http_video_api_play_zone == NULL || id->len != VIDEO_ID_LEN) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_play_zone->shm.addr;
    sh = ngx_http_video_api_play_zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    if (known->epoch != sh->epoch) {
        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    n = ngx_http_video_api_play_find(sh, id);

    if (n == NULL) {

        for (i = 0; i < 8; i++) {
            n = ngx_slab_alloc_locked(shpool,
                                      sizeof(ngx_http_video_api_play_node_t));
            if (n != NULL || ngx_queue_empty(&sh->tree.lru)) {
                break;
            }

            q = ngx_queue_last(&sh->tree.lru);
            ngx_queue_remove(q);

            n = ngx_queue_data(q, ngx_http_video_api_play_node_t, lru);
            ngx_rbtree_delete(&sh->tree.rbtree, &n->sn.node);
            ngx_slab_free_locked(shpool, n);
            n = NULL;
        }

        if (n == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            return;
        }

        ngx_memcpy(n->id, id->data, VIDEO_ID_LEN);
        n->sn.str.len = VIDEO_ID_LEN;
        n->sn.str.data = n->id;
        n->sn.node.key = ngx_crc32_short(id->data, VIDEO_ID_LEN);

        ngx_rbtree_insert(&sh->tree.rbtree, &n->sn.node);

    } else {
        ngx_queue_remove(&n->lru);
    }

    ngx_queue_insert_head(&sh->tree.lru, &n->lru);

    n->fetched = ngx_current_msec;
    n->epoch = sh->epoch;
    n->gen = known->gen;
    n->visibility = (u_char) known->visibility;
    n->processing = (u_char) (known->processing != 0);

    ngx_shmtx_unlock(&shpool->mutex);
}


void
ngx_http_video_api_play_cache_flush(void)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_video_api_play_sh_t  *sh;

    if (ngx_http_video_api_play_zone == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) ngx_http_video_api_play_zone->shm.addr;
    sh = ngx_http_video_api_play_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    sh->epoch++;
    ngx_shmtx_unlock(&shpool->mutex);
}
