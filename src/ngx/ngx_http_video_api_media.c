/*
 * Presigned requests to storage and signed play URLs.
 */

#include "ngx_http_video_api_media.h"
#include "video_play.h"


void
ngx_http_video_api_media_creds(ngx_http_video_api_storage_conf_t *st,
    video_sigv4_creds_t *creds)
{
    creds->access_key = (char *) st->access_key.data;
    creds->secret_key = (char *) st->secret_key.data;
    creds->region = (char *) st->region.data;
    creds->service = "s3";
}


ngx_int_t
ngx_http_video_api_media_request(ngx_http_request_t *r, const char *prefix,
    const char *method, ngx_str_t *bucket, const char *key, long expires,
    ngx_str_t *uri, ngx_str_t *args)
{
    return ngx_http_video_api_media_request_query(r, prefix, method, bucket,
                                                  key, NULL, 0, expires, uri,
                                                  args);
}


ngx_int_t
ngx_http_video_api_media_request_query(ngx_http_request_t *r,
    const char *prefix, const char *method, ngx_str_t *bucket,
    const char *key, const video_sigv4_param_t *params, size_t nparams,
    long expires, ngx_str_t *uri,
    ngx_str_t *args)
{
    int                                 rc;
    u_char                             *url, *p, *q;
    size_t                              prefix_len;
    const char                         *err;
    video_sigv4_creds_t                 creds;
    video_sigv4_presign_t               ps;
    ngx_http_video_api_main_conf_t     *mcf;
    ngx_http_video_api_storage_conf_t  *st;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
    st = &mcf->storage;

    url = ngx_pnalloc(r->pool, VIDEO_SIGV4_URL_MAX);
    if (url == NULL) {
        return NGX_ERROR;
    }

    ngx_http_video_api_media_creds(st, &creds);

    /*
     * Path style whatever the configuration says: the internal location
     * proxies to the endpoint itself, and the request is signed for the
     * Host it sends, the endpoint's
     */

    ps.method = method;
    ps.endpoint = (char *) st->endpoint.data;
    ps.bucket = (char *) bucket->data;
    ps.key = key;
    ps.path_style = 1;
    ps.now = (int64_t) ngx_time();
    ps.expires = expires;

    err = NULL;
    rc = video_sigv4_presign_query(&creds, &ps, NULL, params, nparams,
                                   (char *) url, VIDEO_SIGV4_URL_MAX, &err);
    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: cannot presign a storage request: %s",
                      err ? err : "unknown error");
        return NGX_ERROR;
    }

    /* "http://host:port/bucket/key?query" to "<prefix>bucket/key", query */

    p = (u_char *) ngx_strstr(url, "://");
    p = (p != NULL) ? ngx_strlchr(p + 3, url + rc, '/') : NULL;
    q = ngx_strlchr(url, url + rc, '?');

    if (p == NULL || q == NULL) {
        return NGX_ERROR;
    }

    prefix_len = ngx_strlen(prefix);

    uri->len = prefix_len - 1 + (q - p);
    uri->data = ngx_pnalloc(r->pool, uri->len);
    if (uri->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(uri->data, prefix, prefix_len - 1), p, q - p);

    args->data = q + 1;
    args->len = url + rc - args->data;

    return NGX_OK;
}


/*
 * The presigned requests a worker made last, for the media files players
 * fetch over and over: one is made again only once half its validity has
 * passed, which spares the SigV4 canonical request, its hash and the
 * signature on each segment of a popular video.  The URL never leaves
 * nginx (it is an internal redirect) and still expires when it says.
 * Direct-mapped by the key's hash; longer keys or URLs are not kept.
 */

#define NGX_HTTP_VIDEO_API_MEDIA_SLOTS    64
#define NGX_HTTP_VIDEO_API_MEDIA_KEY_MAX  576
#define NGX_HTTP_VIDEO_API_MEDIA_URL_MAX  1024


typedef struct {
    void                        *conf;       /* the configuration's */
    ngx_str_t                   *bucket;
    const char                  *prefix;
    time_t                       made;       /* 0: empty */
    time_t                       expires;
    u_char                       head;
    size_t                       key_len;
    size_t                       uri_len;
    size_t                       args_len;
    u_char                       key[NGX_HTTP_VIDEO_API_MEDIA_KEY_MAX];
    u_char                       url[NGX_HTTP_VIDEO_API_MEDIA_URL_MAX];
} ngx_http_video_api_media_slot_t;


static ngx_http_video_api_media_slot_t  *ngx_http_video_api_media_slots;


void
ngx_http_video_api_media_exit_worker(ngx_cycle_t *cycle)
{
    ngx_free(ngx_http_video_api_media_slots);
    ngx_http_video_api_media_slots = NULL;
}


ngx_int_t
ngx_http_video_api_media_request_kept(ngx_http_request_t *r,
    const char *prefix, const char *method, ngx_str_t *bucket,
    const char *key, long expires, ngx_str_t *uri, ngx_str_t *args)
{
    size_t                            key_len;
    time_t                            now;
    u_char                            head;
    ngx_http_video_api_main_conf_t   *mcf;
    ngx_http_video_api_media_slot_t  *slot;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    if (ngx_http_video_api_media_slots == NULL) {
        ngx_http_video_api_media_slots = ngx_calloc(
            NGX_HTTP_VIDEO_API_MEDIA_SLOTS
            * sizeof(ngx_http_video_api_media_slot_t), r->connection->log);
    }

    key_len = ngx_strlen(key);
    head = (method[0] == 'H');
    now = ngx_time();

    if (ngx_http_video_api_media_slots == NULL
        || key_len > NGX_HTTP_VIDEO_API_MEDIA_KEY_MAX)
    {
        return ngx_http_video_api_media_request(r, prefix, method, bucket,
                                                key, expires, uri, args);
    }

    slot = &ngx_http_video_api_media_slots[
               ngx_hash_key((u_char *) key, key_len)
               % NGX_HTTP_VIDEO_API_MEDIA_SLOTS];

    if (slot->made != 0 && slot->conf == mcf && slot->bucket == bucket
        && slot->prefix == prefix && slot->head == head
        && slot->expires == expires && slot->key_len == key_len
        && now >= slot->made && now - slot->made < expires / 2
        && ngx_memcmp(slot->key, key, key_len) == 0)
    {
        uri->len = slot->uri_len;
        uri->data = ngx_pnalloc(r->pool, slot->uri_len + slot->args_len);
        if (uri->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(uri->data, slot->url, slot->uri_len + slot->args_len);

        args->len = slot->args_len;
        args->data = uri->data + uri->len;

        return NGX_OK;
    }

    if (ngx_http_video_api_media_request(r, prefix, method, bucket, key,
                                         expires, uri, args)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (uri->len + args->len > NGX_HTTP_VIDEO_API_MEDIA_URL_MAX) {
        slot->made = 0;
        return NGX_OK;
    }

    slot->conf = mcf;
    slot->bucket = bucket;
    slot->prefix = prefix;
    slot->made = now;
    slot->expires = expires;
    slot->head = head;
    slot->key_len = key_len;
    ngx_memcpy(slot->key, key, key_len);
    slot->uri_len = uri->len;
    slot->args_len = args->len;
    ngx_memcpy(ngx_cpymem(slot->url, uri->data, uri->len), args->data,
               args->len);

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_media_file(ngx_http_request_t *r, ngx_str_t *root,
    ngx_str_t *name)
{
    u_char                *p;
    ngx_int_t              rc;
    ngx_str_t              path;
    ngx_open_file_info_t   of;

    path.len = root->len + 1 + name->len;
    path.data = ngx_pnalloc(r->pool, path.len + 1);
    if (path.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(path.data, root->data, root->len);
    *p++ = '/';
    p = ngx_cpymem(p, name->data, name->len);
    *p = '\0';

    rc = ngx_http_video_api_media_open(r, &path, &of);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_video_api_media_send(r, &path, &of);
}


ngx_int_t
ngx_http_video_api_media_open(ngx_http_request_t *r, ngx_str_t *path,
    ngx_open_file_info_t *of)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(of, sizeof(ngx_open_file_info_t));

    of->read_ahead = clcf->read_ahead;
    of->directio = clcf->directio;
    of->valid = clcf->open_file_cache_valid;
    of->min_uses = clcf->open_file_cache_min_uses;
    of->errors = clcf->open_file_cache_errors;
    of->events = clcf->open_file_cache_events;

    if (ngx_http_set_disable_symlinks(r, clcf, path, of) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_open_cached_file(clcf->open_file_cache, path, of, r->pool)
        != NGX_OK)
    {
        switch (of->err) {

        case NGX_ENOENT:
        case NGX_ENOTDIR:
        case NGX_ENAMETOOLONG:
            return NGX_DECLINED;

        case 0:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;

        /* as the static module: a file the worker may not read */

        case NGX_EACCES:
#if (NGX_HAVE_OPENAT)
        case NGX_EMLINK:
        case NGX_ELOOP:
#endif
            ngx_log_error(NGX_LOG_ERR, r->connection->log, of->err,
                          "video_api: %s \"%s\" failed", of->failed,
                          path->data);
            return NGX_HTTP_FORBIDDEN;

        default:
            ngx_log_error(NGX_LOG_ERR, r->connection->log, of->err,
                          "video_api: %s \"%s\" failed", of->failed,
                          path->data);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* a directory, a fifo: nothing storage would hold under that name */

    if (!of->is_file) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_media_send(ngx_http_request_t *r, ngx_str_t *path,
    ngx_open_file_info_t *of)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->root_tested = !r->error_page;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = of->size;
    r->headers_out.last_modified_time = of->mtime;

    if ((r->headers_out.etag == NULL && ngx_http_set_etag(r) != NGX_OK)
        || ngx_http_set_content_type(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->file_pos = 0;
    b->file_last = of->size;
    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    b->sync = (b->last_buf || b->in_file) ? 0 : 1;

    b->file->fd = of->fd;
    b->file->name = *path;
    b->file->log = r->connection->log;
    b->file->directio = of->is_directio;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_video_api_media_sign(ngx_http_request_t *r, u_char **json,
    size_t *len, time_t *expires)
{
    int                              s;
    long                             n;
    u_char                          *out;
    int64_t                          exp;
    ngx_http_video_api_play_conf_t  *play;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);
    play = &mcf->play;

    *expires = 0;
    exp = video_play_expiry((int64_t) ngx_time(), (int64_t) play->expires);

    n = video_play_sign_json((char *) *json, *len, (char *) play->base.data,
                             play->base.len, &play->keys[0], exp, NULL, &s);
    if (n < 0) {
        return NGX_ERROR;
    }

    if (!s) {
        return NGX_OK;
    }

    out = ngx_pnalloc(r->pool, n);
    if (out == NULL) {
        return NGX_ERROR;
    }

    n = video_play_sign_json((char *) *json, *len, (char *) play->base.data,
                             play->base.len, &play->keys[0], exp,
                             (char *) out, NULL);
    if (n < 0) {
        return NGX_ERROR;
    }

    *json = out;
    *len = n;
    *expires = (time_t) exp;

    return NGX_OK;
}
