/*
 * $video_api_request is $request with play tokens in the path and
 * signatures in the query written as "-" (video_redact.c): the shipped
 * log format uses it, so an access log holds no URL that still opens a
 * private video or writes to storage.  It is the line the client sent,
 * whatever internal redirect (/play/ to storage) came after.
 */

#include "ngx_http_video_api_log.h"
#include "video_redact.h"


static ngx_int_t ngx_http_video_api_request_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_video_api_request_name =
    ngx_string("video_api_request");


ngx_int_t
ngx_http_video_api_log_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_video_api_request_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_video_api_request_variable;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_request_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char              *p, *line, *start, *end;
    ngx_http_request_t  *m;

    m = r->main;
    line = m->request_line.data;

    if (line == NULL || m->request_line.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* the target as sent, between the method and the protocol */

    start = m->uri_start;
    end = m->uri_end;

    if (start == NULL || end == NULL || start < line || end < start
        || end > line + m->request_line.len)
    {
        start = line + m->request_line.len;
        end = start;
    }

    p = ngx_pnalloc(r->pool, m->request_line.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    p = ngx_cpymem(p, line, start - line);
    p += video_redact_target((char *) start, end - start, (char *) p);
    p = ngx_cpymem(p, end, line + m->request_line.len - end);

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
