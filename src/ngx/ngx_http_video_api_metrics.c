/*
 * Prometheus metrics in one shared memory zone ("video_api_metrics").
 *
 * Counters are atomic adds in the zone, so every worker adds to the same
 * figures and a reload (which keeps a zone of the same name and size)
 * keeps them.  Gauges of a worker's own state (its requests, its
 * connections) live in a slot the worker holds by its pid: a scrape sums
 * the slots of the processes alive, so nothing drifts when a worker exits
 * or dies.  No lock is taken: a request costs an index computed at
 * startup and three atomic adds in the log phase.
 */

#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_router.h"


#define NGX_HTTP_VIDEO_API_M_SLOTS     128
#define NGX_HTTP_VIDEO_API_M_METHODS   8
#define NGX_HTTP_VIDEO_API_M_STATUSES  6
#define NGX_HTTP_VIDEO_API_M_BUCKETS   13     /* the bounds, then +Inf */
#define NGX_HTTP_VIDEO_API_M_LABELS    256    /* route templates, "unmatched" */
#define NGX_HTTP_VIDEO_API_M_TABLES    32
#define NGX_HTTP_VIDEO_API_M_UNMATCHED 0

/* what a scrape writes per line at most: a route template is shorter */
#define NGX_HTTP_VIDEO_API_M_LINE      512
#define NGX_HTTP_VIDEO_API_M_ROUTE_MAX 128
#define NGX_HTTP_VIDEO_API_M_CHUNK     16384


typedef struct {
    ngx_atomic_t                 pid;          /* 0: free */
    ngx_atomic_t                 gauges[NGX_HTTP_VIDEO_API_G_NGAUGES];
} ngx_http_video_api_metrics_slot_t;


/* the zone: this header, then the per-route arrays */
typedef struct {
    uint32_t                     signature;    /* of the layout */
    ngx_atomic_t                 counters[NGX_HTTP_VIDEO_API_M_NCOUNTERS];
    ngx_http_video_api_metrics_slot_t  slots[NGX_HTTP_VIDEO_API_M_SLOTS];
    /* a worker that found no free slot shares this one */
    ngx_http_video_api_metrics_slot_t  spare;
} ngx_http_video_api_metrics_sh_t;


typedef struct {
    ngx_http_request_t          *request;
    ngx_chain_t                 *first;
    ngx_chain_t                **last;
    ngx_buf_t                   *b;
    off_t                        size;
    ngx_uint_t                   failed;
} ngx_http_video_api_metrics_out_t;


static ngx_int_t ngx_http_video_api_metrics_zone_init(ngx_shm_zone_t *zone,
    void *data);
static size_t ngx_http_video_api_metrics_size(void);
static ngx_int_t ngx_http_video_api_metrics_labels(ngx_conf_t *cf);
static ngx_uint_t ngx_http_video_api_metrics_label(
    ngx_http_video_api_route_t *rt);
static ngx_int_t ngx_http_video_api_metrics_log(ngx_http_request_t *r);
static void ngx_http_video_api_metrics_done(void *data);
static ngx_int_t ngx_http_video_api_metrics_handler(ngx_http_request_t *r);
static void ngx_http_video_api_metrics_write(
    ngx_http_video_api_metrics_out_t *out);
static void ngx_http_video_api_metrics_http(
    ngx_http_video_api_metrics_out_t *out);
static void ngx_http_video_api_metrics_printf(
    ngx_http_video_api_metrics_out_t *out, const char *fmt, ...);
static void ngx_http_video_api_metrics_head(
    ngx_http_video_api_metrics_out_t *out, char *name, char *type,
    char *help);
static ngx_uint_t ngx_http_video_api_metrics_alive(ngx_atomic_uint_t pid);


static ngx_str_t  ngx_http_video_api_metrics_zone_name =
    ngx_string("video_api_metrics");

static ngx_msec_t  ngx_http_video_api_metrics_bounds[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
};

static char  *ngx_http_video_api_metrics_le[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
    "5", "10", "30", "+Inf"
};

static char  *ngx_http_video_api_metrics_methods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"
};

static char  *ngx_http_video_api_metrics_statuses[] = {
    "1xx", "2xx", "3xx", "4xx", "5xx", "other"
};


/*
 * The route labels, computed at startup from the route tables: a route
 * entry's label is the index of its template, 0 is "unmatched".  Route
 * tables are static, so these never point into a configuration's memory.
 */
static ngx_http_video_api_route_t  *ngx_http_video_api_metrics_tables
                                        [NGX_HTTP_VIDEO_API_M_TABLES];
static ngx_uint_t   ngx_http_video_api_metrics_first
                        [NGX_HTTP_VIDEO_API_M_TABLES];
static ngx_uint_t   ngx_http_video_api_metrics_ntables;
static ngx_uint_t   ngx_http_video_api_metrics_entry_label
                        [NGX_HTTP_VIDEO_API_M_LABELS];
static char        *ngx_http_video_api_metrics_names
                        [NGX_HTTP_VIDEO_API_M_LABELS];
static ngx_uint_t   ngx_http_video_api_metrics_nlabels;
static ngx_uint_t   ngx_http_video_api_metrics_nentries;
static uint32_t     ngx_http_video_api_metrics_signature;


/* this process's view of the zone, set after the fork */
static ngx_http_video_api_metrics_sh_t    *ngx_http_video_api_metrics_sh;
static ngx_http_video_api_metrics_slot_t  *ngx_http_video_api_metrics_slot;


/* the per-route arrays after the header */

#define ngx_http_video_api_metrics_requests(sh)                              \
    ((ngx_atomic_t *) ((u_char *) (sh)                                        \
                       + sizeof(ngx_http_video_api_metrics_sh_t)))

#define ngx_http_video_api_metrics_buckets(sh)                               \
    (ngx_http_video_api_metrics_requests(sh)                                  \
     + ngx_http_video_api_metrics_nlabels * NGX_HTTP_VIDEO_API_M_METHODS      \
       * NGX_HTTP_VIDEO_API_M_STATUSES)

#define ngx_http_video_api_metrics_sums(sh)                                  \
    (ngx_http_video_api_metrics_buckets(sh)                                   \
     + ngx_http_video_api_metrics_nlabels * NGX_HTTP_VIDEO_API_M_BUCKETS)


void
ngx_http_video_api_metrics_inc(ngx_uint_t counter)
{
    if (ngx_http_video_api_metrics_sh != NULL) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_video_api_metrics_sh->counters[counter], 1);
    }
}


void
ngx_http_video_api_metrics_cache(ngx_uint_t hit_counter, ngx_uint_t hit)
{
    ngx_http_video_api_metrics_inc(hit ? hit_counter : hit_counter + 1);
}


void
ngx_http_video_api_metrics_gauge(ngx_uint_t gauge, ngx_int_t delta)
{
    if (ngx_http_video_api_metrics_slot != NULL) {
        (void) ngx_atomic_fetch_add(
                   &ngx_http_video_api_metrics_slot->gauges[gauge],
                   (ngx_atomic_int_t) delta);
    }
}


void
ngx_http_video_api_metrics_gauge_set(ngx_uint_t gauge, ngx_uint_t value)
{
    if (ngx_http_video_api_metrics_slot != NULL) {
        ngx_http_video_api_metrics_slot->gauges[gauge] = value;
    }
}


void
ngx_http_video_api_metrics_start(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    if (ngx_http_video_api_metrics_slot == NULL) {
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return;
    }

    cln->handler = ngx_http_video_api_metrics_done;
    cln->data = NULL;

    ngx_http_video_api_metrics_gauge(NGX_HTTP_VIDEO_API_G_IN_FLIGHT, 1);
}


static void
ngx_http_video_api_metrics_done(void *data)
{
    ngx_http_video_api_metrics_gauge(NGX_HTTP_VIDEO_API_G_IN_FLIGHT, -1);
}


ngx_int_t
ngx_http_video_api_metrics_init(ngx_conf_t *cf)
{
    ngx_shm_zone_t                  *zone;
    ngx_http_handler_pt             *h;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_http_video_api_main_conf_t  *mcf;

    if (ngx_http_video_api_metrics_labels(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_video_api_module);

    zone = ngx_shared_memory_add(cf, &ngx_http_video_api_metrics_zone_name,
                                 ngx_align(ngx_http_video_api_metrics_size(),
                                           ngx_pagesize)
                                 + 8 * ngx_pagesize,
                                 &ngx_http_video_api_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_video_api_metrics_zone_init;
    zone->data = NULL;

    mcf->metrics_zone = zone;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_video_api_metrics_log;

    return NGX_OK;
}


/* every route template once, in table order; each entry to its label */

static ngx_int_t
ngx_http_video_api_metrics_labels(ngx_conf_t *cf)
{
    size_t                       len;
    uint32_t                     crc;
    ngx_uint_t                   t, l, n;
    ngx_http_video_api_route_t  *table, *rt;

    ngx_http_video_api_metrics_names[0] = "unmatched";
    ngx_http_video_api_metrics_nlabels = 1;

    ngx_crc32_init(crc);
    n = 0;

    for (t = 0; (table = ngx_http_video_api_route_table(t)) != NULL; t++) {

        if (t == NGX_HTTP_VIDEO_API_M_TABLES) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "video_api: too many route tables");
            return NGX_ERROR;
        }

        ngx_http_video_api_metrics_tables[t] = table;
        ngx_http_video_api_metrics_first[t] = n;

        for (rt = table; rt->pattern; rt++, n++) {

            len = ngx_strlen(rt->pattern);

            if (n == NGX_HTTP_VIDEO_API_M_LABELS
                || len > NGX_HTTP_VIDEO_API_M_ROUTE_MAX
                || ngx_strlchr((u_char *) rt->pattern,
                               (u_char *) rt->pattern + len, '"')
                || ngx_strlchr((u_char *) rt->pattern,
                               (u_char *) rt->pattern + len, '\\'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "video_api: route \"%s\" cannot be "
                                   "a metrics label", rt->pattern);
                return NGX_ERROR;
            }

            for (l = 1; l < ngx_http_video_api_metrics_nlabels; l++) {
                if (ngx_strcmp(ngx_http_video_api_metrics_names[l],
                               rt->pattern) == 0)
                {
                    break;
                }
            }

            if (l == ngx_http_video_api_metrics_nlabels) {
                ngx_http_video_api_metrics_names[l] = rt->pattern;
                ngx_http_video_api_metrics_nlabels++;
                ngx_crc32_update(&crc, (u_char *) rt->pattern, len + 1);
            }

            ngx_http_video_api_metrics_entry_label[n] = l;
        }
    }

    ngx_http_video_api_metrics_ntables = t;
    ngx_http_video_api_metrics_nentries = n;

    /* the layout: a zone kept across a reload must have the same one */

    ngx_crc32_update(&crc, (u_char *) &n, sizeof(n));
    ngx_crc32_final(crc);

    ngx_http_video_api_metrics_signature = crc
        ^ (NGX_HTTP_VIDEO_API_M_NCOUNTERS << 24)
        ^ (NGX_HTTP_VIDEO_API_G_NGAUGES << 16);

    return NGX_OK;
}


static size_t
ngx_http_video_api_metrics_size(void)
{
    return sizeof(ngx_http_video_api_metrics_sh_t)
           + ngx_http_video_api_metrics_nlabels * sizeof(ngx_atomic_t)
             * (NGX_HTTP_VIDEO_API_M_METHODS * NGX_HTTP_VIDEO_API_M_STATUSES
                + NGX_HTTP_VIDEO_API_M_BUCKETS + 1);
}


static ngx_int_t
ngx_http_video_api_metrics_zone_init(ngx_shm_zone_t *zone, void *data)
{
    size_t                            size;
    ngx_slab_pool_t                  *shpool;
    ngx_http_video_api_metrics_sh_t  *sh;

    size = ngx_http_video_api_metrics_size();

    /* a reload: the old workers and the new count on together */

    if (data != NULL) {
        sh = data;

        if (sh->signature != ngx_http_video_api_metrics_signature) {

            /* other routes behind the same size: start over */

            ngx_memzero(sh, size);
            sh->signature = ngx_http_video_api_metrics_signature;
        }

        zone->data = sh;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, size);
    sh->signature = ngx_http_video_api_metrics_signature;

    shpool->data = sh;
    zone->data = sh;

    return NGX_OK;
}


/* a slot free, else one whose process is gone; the spare one at worst */

ngx_int_t
ngx_http_video_api_metrics_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                          i, pass;
    ngx_atomic_uint_t                   pid;
    ngx_http_video_api_metrics_sh_t    *sh;
    ngx_http_video_api_metrics_slot_t  *slot;
    ngx_http_video_api_main_conf_t     *mcf;

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || cycle->conf_ctx[ngx_http_module.index] == NULL)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_video_api_module);

    if (mcf == NULL || mcf->metrics_zone == NULL
        || mcf->metrics_zone->data == NULL)
    {
        return NGX_OK;
    }

    sh = mcf->metrics_zone->data;
    slot = NULL;

    for (pass = 0; pass < 2 && slot == NULL; pass++) {

        for (i = 0; i < NGX_HTTP_VIDEO_API_M_SLOTS; i++) {
            pid = sh->slots[i].pid;

            if (pass == 0 ? pid != 0
                          : (pid == 0
                             || ngx_http_video_api_metrics_alive(pid)))
            {
                continue;
            }

            if (ngx_atomic_cmp_set(&sh->slots[i].pid, pid,
                                   (ngx_atomic_uint_t) ngx_pid))
            {
                slot = &sh->slots[i];
                ngx_memzero((void *) slot->gauges, sizeof(slot->gauges));
                break;
            }
        }
    }

    if (slot == NULL) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "video_api: no free metrics slot, this worker's "
                      "gauges are shared");
        slot = &sh->spare;
    }

    ngx_http_video_api_metrics_sh = sh;
    ngx_http_video_api_metrics_slot = slot;

    return NGX_OK;
}


void
ngx_http_video_api_metrics_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_video_api_metrics_slot_t  *slot;

    slot = ngx_http_video_api_metrics_slot;

    if (slot == NULL) {
        return;
    }

    ngx_http_video_api_metrics_slot = NULL;

    if (slot == &ngx_http_video_api_metrics_sh->spare) {
        return;
    }

    ngx_memzero((void *) slot->gauges, sizeof(slot->gauges));
    slot->pid = 0;
}


static ngx_uint_t
ngx_http_video_api_metrics_alive(ngx_atomic_uint_t pid)
{
    return kill((ngx_pid_t) pid, 0) == 0 || ngx_errno != NGX_ESRCH;
}


/* the route entry's label: which table it is in, and where */

static ngx_uint_t
ngx_http_video_api_metrics_label(ngx_http_video_api_route_t *rt)
{
    ngx_uint_t                   t, n;
    ngx_http_video_api_route_t  *table;

    for (t = 0; t < ngx_http_video_api_metrics_ntables; t++) {
        table = ngx_http_video_api_metrics_tables[t];

        if (rt < table) {
            continue;
        }

        n = ngx_http_video_api_metrics_first[t] + (rt - table);

        if (n < ((t + 1 < ngx_http_video_api_metrics_ntables)
                 ? ngx_http_video_api_metrics_first[t + 1]
                 : ngx_http_video_api_metrics_nentries))
        {
            return ngx_http_video_api_metrics_entry_label[n];
        }
    }

    return NGX_HTTP_VIDEO_API_M_UNMATCHED;
}


/* every answer of an API location, once, whoever answered it */

static ngx_int_t
ngx_http_video_api_metrics_log(ngx_http_request_t *r)
{
    ngx_str_t                         allow;
    ngx_uint_t                        label, method, status, b;
    ngx_time_t                       *tp;
    ngx_msec_int_t                    ms;
    ngx_http_video_api_ctx_t         *ctx, found;
    ngx_http_video_api_metrics_sh_t  *sh;
    ngx_http_video_api_loc_conf_t    *lcf;

    sh = ngx_http_video_api_metrics_sh;

    if (sh == NULL || r != r->main) {
        return NGX_OK;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    if (lcf == NULL || lcf->areas == 0) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    if (ctx != NULL && ctx->route != NULL) {
        label = ngx_http_video_api_metrics_label(ctx->route);

    } else {

        /*
         * no route: none has the path, or the request was answered before
         * the content handler looked (a limit, a denial, a refused key)
         */

        ngx_memzero(&found, sizeof(ngx_http_video_api_ctx_t));

        label = (ngx_http_video_api_route_find(r, lcf->areas, &found, &allow)
                 == NGX_OK)
                ? ngx_http_video_api_metrics_label(found.route)
                : NGX_HTTP_VIDEO_API_M_UNMATCHED;
    }

    switch (r->method) {
    case NGX_HTTP_GET:     method = 0; break;
    case NGX_HTTP_HEAD:    method = 1; break;
    case NGX_HTTP_POST:    method = 2; break;
    case NGX_HTTP_PUT:     method = 3; break;
    case NGX_HTTP_PATCH:   method = 4; break;
    case NGX_HTTP_DELETE:  method = 5; break;
    case NGX_HTTP_OPTIONS: method = 6; break;
    default:               method = 7; break;
    }

    /* the status the access log writes */

    status = r->err_status ? r->err_status : r->headers_out.status;
    status = (status >= 100 && status < 600) ? status / 100 - 1 : 5;

    (void) ngx_atomic_fetch_add(
               &ngx_http_video_api_metrics_requests(sh)
                   [(label * NGX_HTTP_VIDEO_API_M_METHODS + method)
                    * NGX_HTTP_VIDEO_API_M_STATUSES + status], 1);

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    for (b = 0; b < NGX_HTTP_VIDEO_API_M_BUCKETS - 1; b++) {
        if ((ngx_msec_t) ms <= ngx_http_video_api_metrics_bounds[b]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(
               &ngx_http_video_api_metrics_buckets(sh)
                   [label * NGX_HTTP_VIDEO_API_M_BUCKETS + b], 1);

    (void) ngx_atomic_fetch_add(&ngx_http_video_api_metrics_sums(sh)[label],
                                (ngx_atomic_int_t) ms);

    return NGX_OK;
}


char *
ngx_http_video_api_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_video_api_metrics_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = ngx_http_video_api_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_video_api_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_str_t                          allow;
    ngx_http_video_api_metrics_out_t   out;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_str_set(&allow, "GET, HEAD");

        if (ngx_http_video_api_header_out(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_ALLOWED, NULL,
                                             "Method %V is not allowed on %V",
                                             &r->method_name, &r->uri);
    }

    if (ngx_http_video_api_metrics_sh == NULL) {
        return ngx_http_video_api_send_unavailable(r, "metrics");
    }

    ngx_memzero(&out, sizeof(ngx_http_video_api_metrics_out_t));
    out.request = r;
    out.last = &out.first;

    ngx_http_video_api_metrics_write(&out);

    if (out.failed || out.first == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = out.size;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.b->last_buf = 1;
    out.b->last_in_chain = 1;

    return ngx_http_output_filter(r, out.first);
}


static void
ngx_http_video_api_metrics_printf(ngx_http_video_api_metrics_out_t *out,
    const char *fmt, ...)
{
    u_char       *p;
    va_list       args;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (out->failed) {
        return;
    }

    b = out->b;

    if (b == NULL || b->end - b->last < NGX_HTTP_VIDEO_API_M_LINE) {
        b = ngx_create_temp_buf(out->request->pool,
                                NGX_HTTP_VIDEO_API_M_CHUNK);
        cl = ngx_alloc_chain_link(out->request->pool);

        if (b == NULL || cl == NULL) {
            out->failed = 1;
            return;
        }

        cl->buf = b;
        cl->next = NULL;
        *out->last = cl;
        out->last = &cl->next;
        out->b = b;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(b->last, b->last + NGX_HTTP_VIDEO_API_M_LINE, fmt,
                      args);
    va_end(args);

    out->size += p - b->last;
    b->last = p;
}


static void
ngx_http_video_api_metrics_head(ngx_http_video_api_metrics_out_t *out,
    char *name, char *type, char *help)
{
    ngx_http_video_api_metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
                                      name, help, name, type);
}


/* the metrics as text, version 0.0.4 of the exposition format */

static void
ngx_http_video_api_metrics_write(ngx_http_video_api_metrics_out_t *out)
{
    ngx_uint_t                         i, n, redis;
    ngx_atomic_int_t                   g[NGX_HTTP_VIDEO_API_G_NGAUGES];
    ngx_atomic_uint_t                  pid, v, w;
    ngx_http_video_api_metrics_sh_t   *sh;
    ngx_http_video_api_metrics_slot_t *s;

    sh = ngx_http_video_api_metrics_sh;

    ngx_http_video_api_metrics_http(out);

    /* the gauges of the workers alive */

    ngx_memzero(g, sizeof(g));
    n = 0;

    for (i = 0; i <= NGX_HTTP_VIDEO_API_M_SLOTS; i++) {
        s = (i < NGX_HTTP_VIDEO_API_M_SLOTS) ? &sh->slots[i] : &sh->spare;

        if (i < NGX_HTTP_VIDEO_API_M_SLOTS) {
            pid = s->pid;

            if (pid == 0 || !ngx_http_video_api_metrics_alive(pid)) {
                continue;
            }

            n++;
        }

        for (v = 0; v < NGX_HTTP_VIDEO_API_G_NGAUGES; v++) {
            g[v] += (ngx_atomic_int_t) s->gauges[v];
        }
    }

    for (v = 0; v < NGX_HTTP_VIDEO_API_G_NGAUGES; v++) {
        g[v] = ngx_max(g[v], 0);
    }

    ngx_http_video_api_metrics_head(out, "video_api_http_requests_in_flight",
        "gauge", "Requests of the API being answered now.");
    ngx_http_video_api_metrics_printf(out,
        "video_api_http_requests_in_flight %A\n",
        g[NGX_HTTP_VIDEO_API_G_IN_FLIGHT]);

    ngx_http_video_api_metrics_head(out, "video_api_worker_processes",
        "gauge", "nginx worker processes counting into the metrics.");
    ngx_http_video_api_metrics_printf(out, "video_api_worker_processes %ui\n",
                                      n);

#define ngx_http_video_api_metrics_counter(name, c, help)                    \
    ngx_http_video_api_metrics_head(out, name, "counter", help);              \
    ngx_http_video_api_metrics_printf(out, name " %uA\n", sh->counters[c])

#define ngx_http_video_api_metrics_gauge_line(name, value, help)             \
    ngx_http_video_api_metrics_head(out, name, "gauge", help);                \
    ngx_http_video_api_metrics_printf(out, name " %A\n",                      \
                                      (ngx_atomic_int_t) (value))

    /* PostgreSQL */

    ngx_http_video_api_metrics_gauge_line("video_api_pg_connections_open",
        g[NGX_HTTP_VIDEO_API_G_PG_OPEN],
        "PostgreSQL connections established, all workers' pools.");
    ngx_http_video_api_metrics_gauge_line("video_api_pg_connections_busy",
        g[NGX_HTTP_VIDEO_API_G_PG_BUSY],
        "PostgreSQL connections running a statement or holding "
        "a transaction.");
    ngx_http_video_api_metrics_gauge_line("video_api_pg_queue_length",
        g[NGX_HTTP_VIDEO_API_G_PG_QUEUE],
        "Statements waiting for a free PostgreSQL connection.");
    ngx_http_video_api_metrics_counter("video_api_pg_statements_total",
        NGX_HTTP_VIDEO_API_M_PG_STATEMENTS,
        "Statements handed to the PostgreSQL pool.");
    ngx_http_video_api_metrics_counter("video_api_pg_waits_total",
        NGX_HTTP_VIDEO_API_M_PG_WAITS,
        "Statements that had to queue for a PostgreSQL connection.");
    ngx_http_video_api_metrics_counter(
        "video_api_pg_statement_timeouts_total",
        NGX_HTTP_VIDEO_API_M_PG_TIMEOUTS,
        "Statements cancelled at the statement timeout.");
    ngx_http_video_api_metrics_counter("video_api_pg_unavailable_total",
        NGX_HTTP_VIDEO_API_M_PG_UNAVAILABLE,
        "Statements refused or timed out in the queue: no connection "
        "in time.");
    ngx_http_video_api_metrics_counter("video_api_pg_reconnects_total",
        NGX_HTTP_VIDEO_API_M_PG_RECONNECTS,
        "PostgreSQL connections made again after one was lost or failed.");

    ngx_http_video_api_metrics_head(out, "video_api_pg_errors_total",
        "counter", "PostgreSQL errors: connections lost or failed, "
        "statements that failed.");
    ngx_http_video_api_metrics_printf(out,
        "video_api_pg_errors_total{kind=\"connection\"} %uA\n"
        "video_api_pg_errors_total{kind=\"statement\"} %uA\n",
        sh->counters[NGX_HTTP_VIDEO_API_M_PG_CONN_ERRORS],
        sh->counters[NGX_HTTP_VIDEO_API_M_PG_STMT_ERRORS]);

    /* Redis */

    redis = g[NGX_HTTP_VIDEO_API_G_REDIS_UP];

    ngx_http_video_api_metrics_gauge_line("video_api_redis_up",
        (n > 0 && redis >= n) ? 1 : 0,
        "1 when every worker's Redis connection is ready, else 0.");
    ngx_http_video_api_metrics_gauge_line("video_api_redis_connections_open",
        redis, "Workers whose Redis connection is ready.");
    ngx_http_video_api_metrics_counter("video_api_redis_commands_total",
        NGX_HTTP_VIDEO_API_M_REDIS_COMMANDS, "Redis commands sent.");
    ngx_http_video_api_metrics_counter("video_api_redis_errors_total",
        NGX_HTTP_VIDEO_API_M_REDIS_ERRORS,
        "Redis commands answered by an error or by no answer (a lost "
        "connection, a timeout).");
    ngx_http_video_api_metrics_counter("video_api_redis_reconnects_total",
        NGX_HTTP_VIDEO_API_M_REDIS_RECONNECTS,
        "Redis connections attempted again after one was lost or failed.");

    /* caches */

    ngx_http_video_api_metrics_head(out, "video_api_cache_hits_total",
        "counter", "Cache lookups answered by the cache.");
    ngx_http_video_api_metrics_printf(out,
        "video_api_cache_hits_total{cache=\"video\"} %uA\n"
        "video_api_cache_hits_total{cache=\"list\"} %uA\n"
        "video_api_cache_hits_total{cache=\"key\"} %uA\n",
        sh->counters[NGX_HTTP_VIDEO_API_M_CACHE_VIDEO_HIT],
        sh->counters[NGX_HTTP_VIDEO_API_M_CACHE_LIST_HIT],
        sh->counters[NGX_HTTP_VIDEO_API_M_CACHE_KEY_HIT]);

    ngx_http_video_api_metrics_head(out, "video_api_cache_misses_total",
        "counter", "Cache lookups that went to PostgreSQL.");
    ngx_http_video_api_metrics_printf(out,
        "video_api_cache_misses_total{cache=\"video\"} %uA\n"
        "video_api_cache_misses_total{cache=\"list\"} %uA\n"
        "video_api_cache_misses_total{cache=\"key\"} %uA\n",
        sh->counters[NGX_HTTP_VIDEO_API_M_CACHE_VIDEO_MISS],
        sh->counters[NGX_HTTP_VIDEO_API_M_CACHE_LIST_MISS],
        sh->counters[NGX_HTTP_VIDEO_API_M_CACHE_KEY_MISS]);

    /* what the routes did */

    ngx_http_video_api_metrics_counter("video_api_views_total",
        NGX_HTTP_VIDEO_API_M_VIEWS, "Video views counted.");
    ngx_http_video_api_metrics_counter("video_api_uploads_presigned_total",
        NGX_HTTP_VIDEO_API_M_UPLOADS_PRESIGNED,
        "Uploads started: presigned URLs handed out.");
    ngx_http_video_api_metrics_counter("video_api_uploads_completed_total",
        NGX_HTTP_VIDEO_API_M_UPLOADS_COMPLETED,
        "Uploads completed into a video.");

    v = sh->counters[NGX_HTTP_VIDEO_API_M_LIVE_PUBLISHES];
    w = sh->counters[NGX_HTTP_VIDEO_API_M_LIVE_UNPUBLISHES];

    ngx_http_video_api_metrics_gauge_line("video_api_live_publishers",
        (v > w) ? v - w : 0, "Live streams being published now.");
    ngx_http_video_api_metrics_counter("video_api_live_publishes_total",
        NGX_HTTP_VIDEO_API_M_LIVE_PUBLISHES,
        "Live publishes accepted (nginx-rtmp on_publish).");
    ngx_http_video_api_metrics_counter("video_api_live_unpublishes_total",
        NGX_HTTP_VIDEO_API_M_LIVE_UNPUBLISHES,
        "Live publishes ended (nginx-rtmp on_publish_done).");

    ngx_http_video_api_metrics_gauge_line("video_api_signal_long_polls",
        g[NGX_HTTP_VIDEO_API_G_LONG_POLLS],
        "Signaling long polls waiting for a message.");

#undef ngx_http_video_api_metrics_counter
#undef ngx_http_video_api_metrics_gauge_line
}


/* the requests by route, method and status class; the latency by route */

static void
ngx_http_video_api_metrics_http(ngx_http_video_api_metrics_out_t *out)
{
    char                             *route;
    ngx_uint_t                        l, m, s, b;
    ngx_atomic_t                     *req, *bk;
    ngx_atomic_uint_t                 v, count, sum;
    ngx_http_video_api_metrics_sh_t  *sh;

    sh = ngx_http_video_api_metrics_sh;
    req = ngx_http_video_api_metrics_requests(sh);
    bk = ngx_http_video_api_metrics_buckets(sh);

    ngx_http_video_api_metrics_head(out, "video_api_http_requests_total",
        "counter", "Requests answered by the API, by route template, "
        "method and status class.");

    for (l = 0; l < ngx_http_video_api_metrics_nlabels; l++) {
        route = ngx_http_video_api_metrics_names[l];

        for (m = 0; m < NGX_HTTP_VIDEO_API_M_METHODS; m++) {
            for (s = 0; s < NGX_HTTP_VIDEO_API_M_STATUSES; s++) {
                v = req[(l * NGX_HTTP_VIDEO_API_M_METHODS + m)
                        * NGX_HTTP_VIDEO_API_M_STATUSES + s];

                if (v == 0) {
                    continue;
                }

                ngx_http_video_api_metrics_printf(out,
                    "video_api_http_requests_total{route=\"%s\","
                    "method=\"%s\",status=\"%s\"} %uA\n",
                    route, ngx_http_video_api_metrics_methods[m],
                    ngx_http_video_api_metrics_statuses[s], v);
            }
        }
    }

    ngx_http_video_api_metrics_head(out,
        "video_api_http_request_duration_seconds", "histogram",
        "Time from the first byte of a request to its log, by route "
        "template.");

    for (l = 0; l < ngx_http_video_api_metrics_nlabels; l++) {
        route = ngx_http_video_api_metrics_names[l];

        /* one read per bucket: the +Inf bucket is the count */

        count = 0;

        for (b = 0; b < NGX_HTTP_VIDEO_API_M_BUCKETS; b++) {
            count += bk[l * NGX_HTTP_VIDEO_API_M_BUCKETS + b];
        }

        if (count == 0) {
            continue;
        }

        sum = ngx_http_video_api_metrics_sums(sh)[l];
        count = 0;

        for (b = 0; b < NGX_HTTP_VIDEO_API_M_BUCKETS; b++) {
            count += bk[l * NGX_HTTP_VIDEO_API_M_BUCKETS + b];

            ngx_http_video_api_metrics_printf(out,
                "video_api_http_request_duration_seconds_bucket"
                "{route=\"%s\",le=\"%s\"} %uA\n",
                route, ngx_http_video_api_metrics_le[b], count);
        }

        ngx_http_video_api_metrics_printf(out,
            "video_api_http_request_duration_seconds_sum{route=\"%s\"} "
            "%uA.%03uA\n"
            "video_api_http_request_duration_seconds_count{route=\"%s\"} "
            "%uA\n",
            route, sum / 1000, sum % 1000, route, count);
    }
}
