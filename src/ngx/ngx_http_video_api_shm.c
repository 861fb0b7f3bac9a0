/*
 * The shared zones of the per-node caches (see the header), made as
 * nginx's own limit_req zone is: the zone's layout goes to init in
 * zone->data, which init then replaces with the header.
 */

#include "ngx_http_video_api_shm.h"


typedef struct {
    size_t                           header;
    ngx_uint_t                       flags;
} ngx_http_video_api_shm_layout_t;


static ngx_int_t ngx_http_video_api_shm_init(ngx_shm_zone_t *zone,
    void *data);


ngx_shm_zone_t *
ngx_http_video_api_shm_add(ngx_conf_t *cf, char *name, size_t size,
    size_t header, ngx_uint_t flags)
{
    ngx_str_t                         zname;
    ngx_shm_zone_t                   *zone;
    ngx_http_video_api_shm_layout_t  *layout;

    layout = ngx_palloc(cf->pool, sizeof(ngx_http_video_api_shm_layout_t));
    if (layout == NULL) {
        return NULL;
    }

    layout->header = header;
    layout->flags = flags;

    zname.data = (u_char *) name;
    zname.len = ngx_strlen(name);

    zone = ngx_shared_memory_add(cf, &zname, size,
                                 &ngx_http_video_api_module);
    if (zone == NULL) {
        return NULL;
    }

    zone->init = ngx_http_video_api_shm_init;
    zone->data = layout;

    return zone;
}


static ngx_int_t
ngx_http_video_api_shm_init(ngx_shm_zone_t *zone, void *data)
{
    void                             *sh;
    ngx_slab_pool_t                  *shpool;
    ngx_http_video_api_shm_tree_t    *tree;
    ngx_http_video_api_shm_layout_t  *layout;

    /* kept by a reload: the old cycle's header */

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    layout = zone->data;

    sh = ngx_slab_calloc(shpool, layout->header);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    if (layout->flags & NGX_HTTP_VIDEO_API_SHM_TREE) {
        tree = sh;
        ngx_rbtree_init(&tree->rbtree, &tree->sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_queue_init(&tree->lru);

        /* a full cache evicts, its failed allocations are no news */
        shpool->log_nomem = 0;
    }

    shpool->data = sh;
    zone->data = sh;

    return NGX_OK;
}
