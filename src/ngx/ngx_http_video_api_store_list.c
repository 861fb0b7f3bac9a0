/*
 * ListObjectsV2 (GET /<bucket>?list-type=2): the keys under a prefix,
 * in S3's byte order, a page at a time.
 *
 * Walking a large prefix takes time, so it runs in nginx's thread pool:
 * the task walks the bucket's directories from the deepest one the
 * prefix names, reads each object's size, time and ETag, makes the page
 * (video_s3xml_list_page: order, start-after, continuation token,
 * delimiter, max-keys) and renders it, all in memory of its own; the
 * event loop only sends the result.  Nothing in the task touches nginx's
 * structures.
 */

#include "ngx_http_video_api_store.h"
#include "ngx_http_video_api_response.h"
#include "video_s3xml.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/xattr.h>


/* at most this many keys under one prefix are read for a page */
#define NGX_HTTP_VIDEO_API_STORE_LIST_MAX  1000000

/* directories deeper than this under a bucket are not walked */
#define NGX_HTTP_VIDEO_API_STORE_LIST_DEPTH  64


typedef struct {
    /* in: what the event loop prepared */
    char                        *dir;        /* the bucket's, NUL-term. */
    size_t                       dir_len;
    char                        *start;      /* walked from, relative */
    video_s3xml_str_t            bucket;
    video_s3xml_query_t          query;

    /* the walk's, freed by the event loop */
    video_s3xml_object_t        *objects;
    size_t                       nobjects;
    size_t                       nalloc;
    char                        *names;      /* keys and ETags, chained */

    /* out */
    int                          rc;         /* 0, or an S3XML code */
    int                          too_many;
    int                          failed;     /* errno of the walk */
    char                        *xml;
    long                         xml_len;

    ngx_http_request_t          *request;
} ngx_http_video_api_store_list_t;


/* a block of key and ETag text, freed in a chain */
typedef struct ngx_http_video_api_store_names_s
    ngx_http_video_api_store_names_t;

struct ngx_http_video_api_store_names_s {
    ngx_http_video_api_store_names_t  *next;
    size_t                             used;
    size_t                             size;
    char                               data[];
};


static void ngx_http_video_api_store_list_thread(void *data,
    ngx_log_t *log);
static void ngx_http_video_api_store_list_done(ngx_event_t *ev);
static void ngx_http_video_api_store_list_free(
    ngx_http_video_api_store_list_t *ls);
static ngx_int_t ngx_http_video_api_store_list_param(ngx_http_request_t *r,
    const char *name, video_s3xml_str_t *value);


ngx_int_t
ngx_http_video_api_store_list(ngx_http_request_t *r,
    ngx_http_video_api_store_req_t *sr)
{
    u_char                           *slash;
    ngx_int_t                         rc;
    ngx_str_t                         type;
    video_s3xml_str_t                 max_keys, encoding;
    ngx_thread_task_t                *task;
    ngx_http_video_api_loc_conf_t    *lcf;
    ngx_http_video_api_store_list_t  *ls;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    if (lcf->store_pool == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    task = ngx_thread_task_alloc(r->pool,
                                 sizeof(ngx_http_video_api_store_list_t));
    if (task == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    ls = task->ctx;
    ls->request = r;
    ls->query.max_keys = -1;

    if (ngx_http_video_api_store_list_param(r, "prefix", &ls->query.prefix)
           != NGX_OK
        || ngx_http_video_api_store_list_param(r, "delimiter",
                                               &ls->query.delimiter)
           != NGX_OK
        || ngx_http_video_api_store_list_param(r, "start-after",
                                               &ls->query.start_after)
           != NGX_OK
        || ngx_http_video_api_store_list_param(r, "continuation-token",
                                               &ls->query.token)
           != NGX_OK
        || ngx_http_video_api_store_list_param(r, "max-keys", &max_keys)
           != NGX_OK
        || ngx_http_video_api_store_list_param(r, "encoding-type", &encoding)
           != NGX_OK)
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                   "InvalidArgument", "A parameter is not well encoded.");
    }

    if (max_keys.data != NULL
        && video_s3xml_max_keys(max_keys.data, max_keys.len,
                                &ls->query.max_keys)
           != 0)
    {
        return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                   "InvalidArgument",
                   "Provided max-keys not an integer or within integer "
                   "range");
    }

    if (encoding.data != NULL) {
        type.data = (u_char *) encoding.data;
        type.len = encoding.len;

        if (type.len != 3 || ngx_strncmp(type.data, "url", 3) != 0) {
            return ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                       "InvalidArgument", "Invalid Encoding Method specified "
                       "in Request");
        }

        ls->query.url = 1;
    }

    if (ls->query.prefix.data == NULL) {
        ls->query.prefix.data = "";
    }

    /* the bucket's directory, and the one the prefix's last '/' names */

    ls->dir = ngx_pnalloc(r->pool, sr->path.len + 1);
    if (ls->dir == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    ngx_memcpy(ls->dir, sr->path.data, sr->path.len);
    ls->dir_len = sr->path.len;

    while (ls->dir_len > 1 && ls->dir[ls->dir_len - 1] == '/') {
        ls->dir_len--;
    }

    ls->dir[ls->dir_len] = '\0';

    ls->start = ngx_pnalloc(r->pool, ls->query.prefix.len + 1);
    if (ls->start == NULL) {
        return ngx_http_video_api_store_internal(r);
    }

    slash = NULL;

    if (ls->query.prefix.len) {
        slash = (u_char *) ls->query.prefix.data + ls->query.prefix.len;

        while (slash > (u_char *) ls->query.prefix.data && slash[-1] != '/')
        {
            slash--;
        }
    }

    ngx_memcpy(ls->start, ls->query.prefix.data,
               slash ? (size_t) (slash - (u_char *) ls->query.prefix.data)
                     : 0);
    ls->start[slash ? slash - (u_char *) ls->query.prefix.data : 0] = '\0';

    ls->bucket.data = (char *) sr->bucket.data;
    ls->bucket.len = sr->bucket.len;

    task->handler = ngx_http_video_api_store_list_thread;
    task->event.handler = ngx_http_video_api_store_list_done;
    task->event.data = ls;

    return ngx_http_video_api_store_post(r, task);
}


/* a query parameter's value, decoded; data NULL when it is not there */

static ngx_int_t
ngx_http_video_api_store_list_param(ngx_http_request_t *r, const char *name,
    video_s3xml_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   raw;

    value->data = NULL;
    value->len = 0;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_OK;
    }

    dst = ngx_pnalloc(r->pool, raw.len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->data = (char *) dst;
    src = raw.data;

    ngx_unescape_uri(&dst, &src, raw.len, 0);

    if (src != raw.data + raw.len) {
        return NGX_ERROR;
    }

    value->len = dst - (u_char *) value->data;
    *dst = '\0';

    /* a NUL would end a path where S3 goes on */

    if (ngx_strlchr((u_char *) value->data, dst, '\0') != NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* -- the task, in a thread of the pool -------------------------------- */

static char *
ngx_http_video_api_store_list_text(ngx_http_video_api_store_list_t *ls,
    const char *s, size_t len)
{
    char                              *p;
    size_t                             size;
    ngx_http_video_api_store_names_t  *b;

    b = (ngx_http_video_api_store_names_t *) ls->names;

    if (b == NULL || b->size - b->used < len + 1) {
        size = (len + 1 > 65536) ? len + 1 : 65536;

        b = malloc(sizeof(ngx_http_video_api_store_names_t) + size);
        if (b == NULL) {
            return NULL;
        }

        b->next = (ngx_http_video_api_store_names_t *) ls->names;
        b->used = 0;
        b->size = size;
        ls->names = (char *) b;
    }

    p = b->data + b->used;
    memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;

    return p;
}


static int
ngx_http_video_api_store_list_add(ngx_http_video_api_store_list_t *ls,
    const char *path, const char *key, size_t key_len, struct stat *st)
{
    ssize_t                n;
    char                   etag[64];
    video_s3xml_object_t  *o;

    if (ls->nobjects == ls->nalloc) {
        if (ls->nalloc == NGX_HTTP_VIDEO_API_STORE_LIST_MAX) {
            ls->too_many = 1;
            return -1;
        }

        ls->nalloc = ls->nalloc ? ls->nalloc * 2 : 1024;

        if (ls->nalloc > NGX_HTTP_VIDEO_API_STORE_LIST_MAX) {
            ls->nalloc = NGX_HTTP_VIDEO_API_STORE_LIST_MAX;
        }

        o = realloc(ls->objects, ls->nalloc * sizeof(video_s3xml_object_t));
        if (o == NULL) {
            ls->failed = ENOMEM;
            return -1;
        }

        ls->objects = o;
    }

    o = &ls->objects[ls->nobjects];

    o->key.data = ngx_http_video_api_store_list_text(ls, key, key_len);
    if (o->key.data == NULL) {
        ls->failed = ENOMEM;
        return -1;
    }

    o->key.len = key_len;
    o->size = st->st_size;
    o->mtime_ms = (int64_t) st->st_mtim.tv_sec * 1000
                  + st->st_mtim.tv_nsec / 1000000;

    /* the stored ETag, else nginx's for the file (as GET answers it) */

    n = getxattr(path, NGX_HTTP_VIDEO_API_STORE_XATTR_ETAG, etag,
                 sizeof(etag) - 1);

    if (n <= 0) {
        n = snprintf(etag, sizeof(etag), "%lx-%lx",
                     (unsigned long) st->st_mtim.tv_sec,
                     (unsigned long) st->st_size);
    }

    o->etag.data = ngx_http_video_api_store_list_text(ls, etag, n);
    if (o->etag.data == NULL) {
        ls->failed = ENOMEM;
        return -1;
    }

    o->etag.len = n;
    ls->nobjects++;

    return 0;
}


/*
 * The regular files under path (whose key so far is key, key_len bytes,
 * "" or ending in '/'), depth first; path and key are buffers of
 * PATH_MAX bytes that the walk extends and restores
 */

static int
ngx_http_video_api_store_list_walk(ngx_http_video_api_store_list_t *ls,
    char *path, size_t path_len, char *key, size_t key_len,
    ngx_uint_t depth)
{
    DIR            *d;
    size_t          n;
    struct stat     st;
    struct dirent  *e;

    if (depth > NGX_HTTP_VIDEO_API_STORE_LIST_DEPTH) {
        return 0;
    }

    d = opendir(path);
    if (d == NULL) {

        /* a prefix whose directory is not there lists nothing */

        if (errno == ENOENT || errno == ENOTDIR) {
            return 0;
        }

        ls->failed = errno;
        return -1;
    }

    while ((e = readdir(d)) != NULL) {

        if (e->d_name[0] == '.'
            && (e->d_name[1] == '\0'
                || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
        {
            continue;
        }

        n = strlen(e->d_name);

        if (path_len + 1 + n + 1 >= PATH_MAX
            || key_len + n + 2 > VIDEO_S3XML_KEY_MAX + 1)
        {
            continue;
        }

        path[path_len] = '/';
        memcpy(path + path_len + 1, e->d_name, n + 1);
        memcpy(key + key_len, e->d_name, n + 1);

        if (lstat(path, &st) != 0) {
            continue;
        }

        if (S_ISDIR(st.st_mode)) {
            key[key_len + n] = '/';
            key[key_len + n + 1] = '\0';

            if (ngx_http_video_api_store_list_walk(ls, path,
                                                   path_len + 1 + n, key,
                                                   key_len + n + 1,
                                                   depth + 1)
                != 0)
            {
                closedir(d);
                return -1;
            }

        } else if (S_ISREG(st.st_mode)) {
            if (ngx_http_video_api_store_list_add(ls, path, key, key_len + n,
                                                  &st)
                != 0)
            {
                closedir(d);
                return -1;
            }
        }
    }

    path[path_len] = '\0';
    key[key_len] = '\0';

    closedir(d);

    return 0;
}


static void
ngx_http_video_api_store_list_thread(void *data, ngx_log_t *log)
{
    ngx_http_video_api_store_list_t *ls = data;

    int                  rc;
    long                 len;
    size_t               start_len;
    video_s3xml_page_t  *page;
    char                 path[PATH_MAX], key[VIDEO_S3XML_KEY_MAX + 2];

    start_len = strlen(ls->start);

    if (ls->dir_len + 1 + start_len + 1 >= PATH_MAX
        || start_len > VIDEO_S3XML_KEY_MAX)
    {
        ls->rc = VIDEO_S3XML_INVALID_ARGUMENT;
        return;
    }

    memcpy(path, ls->dir, ls->dir_len);
    path[ls->dir_len] = '\0';

    if (start_len) {
        path[ls->dir_len] = '/';
        memcpy(path + ls->dir_len + 1, ls->start, start_len);

        /* without its trailing '/' */
        path[ls->dir_len + start_len] = '\0';
    }

    memcpy(key, ls->start, start_len + 1);

    if (ngx_http_video_api_store_list_walk(ls, path, strlen(path), key,
                                           start_len, 0)
        != 0)
    {
        return;
    }

    page = malloc(sizeof(video_s3xml_page_t));
    if (page == NULL) {
        ls->failed = ENOMEM;
        return;
    }

    rc = video_s3xml_list_page(ls->objects, ls->nobjects, &ls->query, page);

    if (rc != 0) {
        ls->rc = rc;
        free(page);
        return;
    }

    len = video_s3xml_list(&ls->bucket, &ls->query, page, NULL);

    if (len < 0 || (ls->xml = malloc(len)) == NULL) {
        ls->failed = (len < 0) ? EINVAL : ENOMEM;
        free(page);
        return;
    }

    ls->xml_len = video_s3xml_list(&ls->bucket, &ls->query, page, ls->xml);

    free(page);
}


/* -- back in the event loop ------------------------------------------- */

static void
ngx_http_video_api_store_list_done(ngx_event_t *ev)
{
    ngx_http_video_api_store_list_t *ls = ev->data;

    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ls->request;

    r->main->blocked--;

    if (ls->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ls->failed,
                      "video_api: the store cannot list \"%s/%s\"",
                      ls->dir, ls->start);
        rc = ngx_http_video_api_store_internal(r);

    } else if (ls->too_many) {
        rc = ngx_http_video_api_store_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                 "SlowDown", "More keys under this prefix than the store "
                 "lists at once: list a longer prefix.");

    } else if (ls->rc != 0) {
        rc = ngx_http_video_api_store_error(r, NGX_HTTP_BAD_REQUEST,
                 video_s3xml_code(ls->rc),
                 "The continuation token, delimiter or prefix is not valid.");

    } else {
        rc = ngx_http_video_api_store_xml(r, ls->xml, ls->xml_len);
    }

    ngx_http_video_api_store_list_free(ls);

    ngx_http_video_api_store_task_done(r, rc);
}


static void
ngx_http_video_api_store_list_free(ngx_http_video_api_store_list_t *ls)
{
    ngx_http_video_api_store_names_t  *b, *next;

    for (b = (ngx_http_video_api_store_names_t *) ls->names; b; b = next) {
        next = b->next;
        free(b);
    }

    free(ls->objects);
    free(ls->xml);

    ls->names = NULL;
    ls->objects = NULL;
    ls->xml = NULL;
}
