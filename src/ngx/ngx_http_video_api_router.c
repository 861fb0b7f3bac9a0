/*
 * The router: a linear walk over small per-area tables.  The API has a few
 * dozen routes, so a scan of their patterns costs less than any index.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_response.h"


typedef struct {
    ngx_str_t                    name;
    ngx_uint_t                   bit;
    ngx_http_video_api_route_t  *routes;
} ngx_http_video_api_area_t;


static ngx_http_video_api_area_t  ngx_http_video_api_areas[] = {
    { ngx_string("videos"), NGX_HTTP_VIDEO_API_VIDEOS,
      ngx_http_video_api_videos_routes },
    { ngx_string("upload"), NGX_HTTP_VIDEO_API_UPLOAD,
      ngx_http_video_api_upload_routes },
    { ngx_string("upload"), NGX_HTTP_VIDEO_API_UPLOAD,
      ngx_http_video_api_multipart_routes },
    { ngx_string("upload"), NGX_HTTP_VIDEO_API_UPLOAD,
      ngx_http_video_api_upload_url_routes },
    { ngx_string("analytics"), NGX_HTTP_VIDEO_API_ANALYTICS,
      ngx_http_video_api_analytics_routes },
    { ngx_string("live"), NGX_HTTP_VIDEO_API_LIVE,
      ngx_http_video_api_live_routes },
    { ngx_string("live"), NGX_HTTP_VIDEO_API_LIVE,
      ngx_http_video_api_signal_routes },
    { ngx_string("health"), NGX_HTTP_VIDEO_API_HEALTH,
      ngx_http_video_api_health_routes },
    { ngx_string("play"), NGX_HTTP_VIDEO_API_PLAY,
      ngx_http_video_api_play_routes },
    { ngx_string("access"), NGX_HTTP_VIDEO_API_ACCESS,
      ngx_http_video_api_access_routes },
    { ngx_string("webhooks"), NGX_HTTP_VIDEO_API_WEBHOOKS,
      ngx_http_video_api_webhooks_routes },
    { ngx_string("live_callbacks"), NGX_HTTP_VIDEO_API_LIVE_CALLBACKS,
      ngx_http_video_api_live_callback_routes },
    { ngx_string("all"), NGX_HTTP_VIDEO_API_ALL, NULL },
    { ngx_null_string, 0, NULL }
};


/* the order in which Allow lists methods */
static struct {
    ngx_uint_t  method;
    char       *name;
} ngx_http_video_api_methods[] = {
    { NGX_HTTP_GET, "GET" },
    { NGX_HTTP_HEAD, "HEAD" },
    { NGX_HTTP_POST, "POST" },
    { NGX_HTTP_PUT, "PUT" },
    { NGX_HTTP_PATCH, "PATCH" },
    { NGX_HTTP_DELETE, "DELETE" },
    { NGX_HTTP_OPTIONS, "OPTIONS" },
    { 0, NULL }
};


ngx_uint_t
ngx_http_video_api_area(ngx_str_t *name)
{
    ngx_http_video_api_area_t  *a;

    for (a = ngx_http_video_api_areas; a->name.len; a++) {
        if (a->name.len == name->len
            && ngx_strncmp(a->name.data, name->data, name->len) == 0)
        {
            return a->bit;
        }
    }

    return 0;
}


ngx_http_video_api_route_t *
ngx_http_video_api_route_table(ngx_uint_t i)
{
    ngx_http_video_api_area_t  *a;

    for (a = ngx_http_video_api_areas; a->name.len; a++) {
        if (a->routes == NULL) {
            continue;
        }

        if (i-- == 0) {
            return a->routes;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_video_api_allow(ngx_http_request_t *r, ngx_uint_t methods,
    ngx_str_t *allow)
{
    u_char      *p;
    ngx_uint_t   i;

    /* GET routes answer HEAD too; every known path answers OPTIONS */

    if (methods & NGX_HTTP_GET) {
        methods |= NGX_HTTP_HEAD;
    }

    methods |= NGX_HTTP_OPTIONS;

    p = ngx_pnalloc(r->pool, sizeof("GET, HEAD, POST, PUT, PATCH, DELETE, "
                                    "OPTIONS"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    allow->data = p;

    for (i = 0; ngx_http_video_api_methods[i].name; i++) {
        if (!(methods & ngx_http_video_api_methods[i].method)) {
            continue;
        }

        if (p != allow->data) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, ngx_http_video_api_methods[i].name,
                       ngx_strlen(ngx_http_video_api_methods[i].name));
    }

    allow->len = p - allow->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_route_find(ngx_http_request_t *r, ngx_uint_t areas,
    ngx_http_video_api_ctx_t *ctx, ngx_str_t *allow)
{
    int                          n;
    ngx_uint_t                   i, methods, method;
    ngx_http_video_api_area_t   *a;
    ngx_http_video_api_route_t  *rt;
    video_route_param_t          params[VIDEO_ROUTE_MAX_PARAMS];

    methods = 0;
    method = (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;

    for (a = ngx_http_video_api_areas; a->name.len; a++) {

        if (!(areas & a->bit) || a->routes == NULL) {
            continue;
        }

        for (rt = a->routes; rt->pattern; rt++) {

            n = video_route_match(rt->pattern, (char *) r->uri.data,
                                  r->uri.len, params);
            if (n < 0) {
                continue;
            }

            if (rt->method != method) {
                methods |= rt->method;
                continue;
            }

            ctx->route = rt;
            ctx->nparams = n;

            for (i = 0; i < (ngx_uint_t) n; i++) {
                ctx->params[i].data = (u_char *) params[i].data;
                ctx->params[i].len = params[i].len;
            }

            return NGX_OK;
        }
    }

    if (methods == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_video_api_allow(r, methods, allow) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_HTTP_NOT_ALLOWED;
}


ngx_int_t
ngx_http_video_api_not_implemented(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_IMPLEMENTED, NULL,
                                         "%V %s is not implemented yet",
                                         &r->method_name,
                                         ctx->route->pattern);
}
