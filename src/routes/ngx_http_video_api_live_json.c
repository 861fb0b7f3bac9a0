/*
 * A stream as the live routes answer it: its columns (LIVE_STREAM) as
 * JSON, and its play URLs, with a token where the stream is private.
 * Never its key or the key's hash.
 */

#include "ngx_http_video_api_live.h"
#include "ngx_http_video_api_media.h"
#include "video_play.h"


/*
 * "<base><id>/[<token>/]<rest>": a play URL, with a token for the token
 * generation gen when the stream is private (gen -1 when it is not; the
 * token rule of /play/ holds for /live/ too)
 */

static char *
ngx_http_video_api_live_url(ngx_http_request_t *r, ngx_str_t *base,
    ngx_str_t *id, int64_t gen, char *rest, size_t rest_len)
{
    u_char                          *url, *p;
    int                              n;
    char                             token[VIDEO_PLAY_TOKEN_MAX];
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);
    n = 0;

    if (gen >= 0) {
        n = video_play_token(&mcf->play.keys[0], (char *) id->data, id->len,
                             video_play_expiry((int64_t) ngx_time(),
                                               (int64_t) mcf->play.expires),
                             gen, token);
        if (n < 0) {
            return NULL;
        }
    }

    url = ngx_pnalloc(r->pool, base->len + id->len + 1 + n + 1 + rest_len
                               + 1);
    if (url == NULL) {
        return NULL;
    }

    p = ngx_sprintf(url, "%V%V/", base, id);

    if (n > 0) {
        p = ngx_sprintf(p, "%*s/", (size_t) n, token);
    }

    *ngx_cpymem(p, rest, rest_len) = '\0';

    return (char *) url;
}


static ngx_str_t *
ngx_http_video_api_live_base(ngx_http_request_t *r)
{
    ngx_str_t                       *base;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    base = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (base == NULL) {
        return NULL;
    }

    base->len = mcf->public_url.len + sizeof("/live/") - 1;
    base->data = ngx_pnalloc(r->pool, base->len);
    if (base->data == NULL) {
        return NULL;
    }

    ngx_sprintf(base->data, "%V/live/", &mcf->public_url);

    return base;
}


json_t *
ngx_http_video_api_live_col(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return json_null();
    }

    return json_stringn(PQgetvalue(res, row, col),
                        PQgetlength(res, row, col));
}


/* the first row's column, NUL-terminated, in the request's pool */

ngx_int_t
ngx_http_video_api_live_copy(ngx_http_request_t *r, PGresult *res, int col,
    ngx_str_t *out)
{
    out->len = PQgetlength(res, 0, col);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, PQgetvalue(res, 0, col), out->len + 1);

    return NGX_OK;
}


ngx_uint_t
ngx_http_video_api_live_is(PGresult *res, int row, int col, char *value)
{
    return !PQgetisnull(res, row, col)
           && ngx_strcmp(PQgetvalue(res, row, col), value) == 0;
}


/* the live playlist's URL and, once it is a VOD, the VOD's */

ngx_int_t
ngx_http_video_api_live_urls(ngx_http_request_t *r, PGresult *res, int row,
    char **live, char **vod)
{
    char                            *key;
    int64_t                          gen;
    ngx_str_t                        id, *base;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    id.data = (u_char *) PQgetvalue(res, row, LIVE_COL_ID);
    id.len = PQgetlength(res, row, LIVE_COL_ID);
    gen = -1;

    if (ngx_http_video_api_live_is(res, row, LIVE_COL_VISIBILITY, "PRIVATE")) {
        gen = ngx_atoof((u_char *) PQgetvalue(res, row, LIVE_COL_GEN),
                        PQgetlength(res, row, LIVE_COL_GEN));
        if (gen < 0) {
            return NGX_ERROR;
        }
    }

    base = ngx_http_video_api_live_base(r);
    if (base == NULL) {
        return NGX_ERROR;
    }

    *live = ngx_http_video_api_live_url(r, base, &id, gen, "index.m3u8",
                                        sizeof("index.m3u8") - 1);
    if (*live == NULL) {
        return NGX_ERROR;
    }

    *vod = NULL;

    /* the manifest key is "<id>/<file>" */

    key = PQgetvalue(res, row, LIVE_COL_MANIFEST);

    if (!PQgetisnull(res, row, LIVE_COL_MANIFEST)
        && (size_t) PQgetlength(res, row, LIVE_COL_MANIFEST) > id.len + 1
        && ngx_strncmp(key, id.data, id.len) == 0 && key[id.len] == '/')
    {
        base = &mcf->play.base;
        *vod = ngx_http_video_api_live_url(r, base, &id, gen,
                                           key + id.len + 1,
                                           PQgetlength(res, row,
                                                       LIVE_COL_MANIFEST)
                                           - id.len - 1);
        if (*vod == NULL) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a stream as the API shows it: never its key or the key's hash */

json_t *
ngx_http_video_api_live_stream(ngx_http_request_t *r, PGresult *res,
    int row)
{
    char                            *live, *vod;
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_video_api_live_conf(r);

    if (ngx_http_video_api_live_urls(r, res, row, &live, &vod) != NGX_OK) {
        return NULL;
    }

    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:s,s:s%,s:s?,"
                     "s:o,s:o}",
               "id", ngx_http_video_api_live_col(res, row, LIVE_COL_ID),
               "title", ngx_http_video_api_live_col(res, row, LIVE_COL_TITLE),
               "description",
               ngx_http_video_api_live_col(res, row, LIVE_COL_DESCRIPTION),
               "status", ngx_http_video_api_live_col(res, row, LIVE_COL_STATUS),
               "visibility",
               ngx_http_video_api_live_col(res, row, LIVE_COL_VISIBILITY),
               "videoType",
               ngx_http_video_api_live_col(res, row, LIVE_COL_TYPE),
               "isLiveNow",
               (int) ngx_http_video_api_live_is(res, row, LIVE_COL_LIVE, "t"),
               "startedAt",
               ngx_http_video_api_live_col(res, row, LIVE_COL_STARTED),
               "endedAt", ngx_http_video_api_live_col(res, row, LIVE_COL_ENDED),
               "playbackUrl", live,
               "rtmpUrl", (char *) mcf->rtmp_url.data,
               (size_t) mcf->rtmp_url.len,
               "vodPlaybackUrl", vod,
               "createdAt",
               ngx_http_video_api_live_col(res, row, LIVE_COL_CREATED),
               "updatedAt",
               ngx_http_video_api_live_col(res, row, LIVE_COL_UPDATED));
}
