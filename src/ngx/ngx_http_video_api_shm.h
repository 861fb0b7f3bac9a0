/*
 * The shared zones of the module's per-node caches: a zone whose slab
 * pool holds one zeroed header, made once and kept across reloads, and
 * for the caches of entries a red-black tree of string keys with an LRU
 * queue at the start of that header.
 */

#ifndef _NGX_HTTP_VIDEO_API_SHM_H_INCLUDED_
#define _NGX_HTTP_VIDEO_API_SHM_H_INCLUDED_


#include "ngx_http_video_api.h"


/* what a header begins with when NGX_HTTP_VIDEO_API_SHM_TREE is asked */
typedef struct {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    ngx_queue_t                      lru;       /* most recent first */
} ngx_http_video_api_shm_tree_t;


#define NGX_HTTP_VIDEO_API_SHM_TREE  1


/*
 * Adds the zone "name" of size bytes; once it is mapped, zone->data is
 * its header of header bytes (the same across reloads while the zone is
 * kept), zeroed when made, its tree ready when flags say so.
 */
ngx_shm_zone_t *ngx_http_video_api_shm_add(ngx_conf_t *cf, char *name,
    size_t size, size_t header, ngx_uint_t flags);


#endif /* _NGX_HTTP_VIDEO_API_SHM_H_INCLUDED_ */
