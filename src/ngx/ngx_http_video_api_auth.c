/*
 * The caller of every request in a video_api location, resolved in the
 * rewrite phase: no Authorization header is an anonymous caller (or, with
 * "video_api_auth off", the default account's admin); a malformed key or
 * one whose checksum fails is a 401 without any lookup; a well-formed key
 * is looked up by its SHA-256 in a shared-memory cache, then PostgreSQL.
 *
 * Revocation is bounded by construction: a cached answer, yes or no, is
 * trusted for NGX_HTTP_VIDEO_API_AUTH_FRESH ms only, then asked again, so a
 * key revoked (or expired, or of a disabled account) is refused by every
 * worker of every node within a second, whatever else is down.  When
 * PostgreSQL cannot answer, a key it confirmed in the last five minutes
 * still reads; it writes nothing.
 */

#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_auth_cache.h"
#include "ngx_http_video_api_pg.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_metrics.h"
#include "ngx_http_video_api_variables.h"
#include "video_apikey.h"
#include "video_id.h"
#include "video_json.h"


/* one lookup: the hash, its text for PostgreSQL, and what came back */
typedef struct {
    u_char                           hash[VIDEO_APIKEY_HASH_LEN];
    char                             text[VIDEO_APIKEY_HASH_TEXT_LEN + 1];
    char                            *values[1];
    ngx_msec_t                       start;     /* $video_api_pg_time */
} ngx_http_video_api_auth_lookup_t;


enum {
    NGX_HTTP_VIDEO_API_AUTH_COL_KEY_ID = 0,
    NGX_HTTP_VIDEO_API_AUTH_COL_ACCOUNT,
    NGX_HTTP_VIDEO_API_AUTH_COL_ROLE,
    NGX_HTTP_VIDEO_API_AUTH_COL_EXPIRES,
    NGX_HTTP_VIDEO_API_AUTH_NCOLS
};


static ngx_int_t ngx_http_video_api_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_video_api_auth_refuse(ngx_http_request_t *r,
    ngx_int_t status);
static void ngx_http_video_api_auth_resolved(ngx_http_video_api_pg_op_t *op,
    PGresult *res);
static ngx_int_t ngx_http_video_api_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_video_api_default_account = ngx_string("default");


static ngx_http_video_api_pg_stmt_t  ngx_http_video_api_auth_stmt =
    ngx_http_video_api_pg_stmt("auth_key",
        "SELECT key_id, account_id, role::text, "
        "extract(epoch FROM expires_at)::bigint "
        "FROM api_key_resolve($1::bytea)");


#define NGX_HTTP_VIDEO_API_VAR_ACCOUNT  0
#define NGX_HTTP_VIDEO_API_VAR_KEY_ID   1
#define NGX_HTTP_VIDEO_API_VAR_ROLE     2

static ngx_http_variable_t  ngx_http_video_api_auth_vars[] = {
    { ngx_string("video_api_account"), NULL,
      ngx_http_video_api_auth_variable, NGX_HTTP_VIDEO_API_VAR_ACCOUNT,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_key_id"), NULL,
      ngx_http_video_api_auth_variable, NGX_HTTP_VIDEO_API_VAR_KEY_ID,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("video_api_role"), NULL,
      ngx_http_video_api_auth_variable, NGX_HTTP_VIDEO_API_VAR_ROLE,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },
    ngx_http_null_variable
};


ngx_int_t
ngx_http_video_api_auth_add_variables(ngx_conf_t *cf)
{
    return ngx_http_video_api_variables_table(cf,
                                              ngx_http_video_api_auth_vars);
}


ngx_int_t
ngx_http_video_api_auth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_video_api_auth_cache_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the rewrite phase: before limit_req and limit_conn look at callers */

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_video_api_auth_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_video_api_auth_handler(ngx_http_request_t *r)
{
    int                                rc;
    size_t                             len;
    const char                        *key;
    ngx_table_elt_t                   *h;
    ngx_http_video_api_ctx_t          *ctx;
    ngx_http_video_api_pg_op_t        *op;
    ngx_http_video_api_loc_conf_t     *lcf;
    ngx_http_video_api_auth_lookup_t  *lk;
    ngx_http_video_api_auth_cache_hit_e  hit;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_video_api_module);

    if (lcf->areas == 0 || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_video_api_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->auth_done) {
        return NGX_DECLINED;
    }

    if (ctx->auth_pending) {
        return NGX_DONE;
    }

    if (ctx->auth_status) {
        ctx->auth_done = 1;
        return ngx_http_video_api_auth_refuse(r, ctx->auth_status);
    }

    /*
     * Only a Bearer credential can be a key.  Other schemes are not ours
     * (nginx's auth_basic may wrap the API); with auth off, neither is a
     * Bearer token of another kind (a gate's own, passed along).
     */

    h = r->headers_in.authorization;
    rc = VIDEO_APIKEY_OTHER;
    key = NULL;
    len = 0;

    if (h != NULL) {
        rc = video_apikey_from_header((char *) h->value.data, h->value.len,
                                      &key, &len);
    }

    ctx->auth_done = 1;

    if (rc == VIDEO_APIKEY_OTHER || (rc == VIDEO_APIKEY_FOREIGN && !lcf->auth))
    {
        if (!lcf->auth) {
            ctx->caller.open = 1;
            ctx->caller.role = VIDEO_ROLE_ADMIN;
            ctx->caller.account = ngx_http_video_api_default_account;
        }

        return NGX_DECLINED;
    }

    if (rc != VIDEO_APIKEY_VALID) {
        return ngx_http_video_api_auth_refuse(r, NGX_HTTP_UNAUTHORIZED);
    }

    lk = ngx_palloc(r->pool, sizeof(ngx_http_video_api_auth_lookup_t));
    if (lk == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (video_apikey_hash(key, len, lk->hash) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hit = ngx_http_video_api_auth_cache_get(lk->hash, &ctx->caller, r->pool);

    ngx_http_video_api_metrics_cache(NGX_HTTP_VIDEO_API_M_CACHE_KEY_HIT,
        hit == NGX_HTTP_VIDEO_API_AUTH_CACHE_KNOWN
        || hit == NGX_HTTP_VIDEO_API_AUTH_CACHE_REFUSED);

    switch (hit) {

    case NGX_HTTP_VIDEO_API_AUTH_CACHE_KNOWN:
        return NGX_DECLINED;

    case NGX_HTTP_VIDEO_API_AUTH_CACHE_REFUSED:
        ngx_memzero(&ctx->caller, sizeof(ngx_http_video_api_caller_t));
        return ngx_http_video_api_auth_refuse(r, NGX_HTTP_UNAUTHORIZED);

    default:
        break;
    }

    /* an old or missing answer: PostgreSQL decides, the old one is kept */

    video_apikey_hash_text(lk->hash, lk->text);
    lk->values[0] = lk->text;

    op = ngx_http_video_api_pg_op(r, ngx_http_video_api_auth_resolved, lk);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_video_api_pg_send(op, &ngx_http_video_api_auth_stmt, 1,
                                   lk->values)
        != NGX_OK)
    {
        /* no answer now: as when PostgreSQL does not answer in time */

        ngx_http_video_api_auth_resolved(op, NULL);
        ctx->auth_done = 1;

        return ctx->auth_status
               ? ngx_http_video_api_auth_refuse(r, ctx->auth_status)
               : NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "video_api: asking postgresql about a key");

    ctx->auth_done = 0;
    ctx->auth_pending = 1;
    lk->start = ngx_current_msec;

    return NGX_DONE;
}


/*
 * PostgreSQL's answer about the key: the caller, none (401), or no answer
 * (a recent caller reads; else 503).  Runs from the pool's event, then
 * resumes the phases; or from the phase handler itself when the pool
 * could not send (op->conn is NULL then), which carries on alone.
 */

static void
ngx_http_video_api_auth_resolved(ngx_http_video_api_pg_op_t *op,
    PGresult *res)
{
    char                              *v;
    time_t                             expires;
    ngx_uint_t                         resume;
    ngx_http_request_t                *r;
    ngx_http_video_api_ctx_t          *ctx;
    ngx_http_video_api_caller_t       *caller;
    ngx_http_video_api_auth_lookup_t  *lk;

    r = op->request;
    lk = op->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    caller = &ctx->caller;

    resume = ctx->auth_pending;
    ctx->auth_pending = 0;
    ctx->auth_done = 0;

    if (resume) {
        ngx_http_video_api_variables_waited(r, 1, lk->start);
    }

    if (res == NULL || ngx_http_video_api_pg_timed_out(res)) {

        if (ngx_http_video_api_auth_cache_get(lk->hash, caller, r->pool)
            != NGX_HTTP_VIDEO_API_AUTH_CACHE_MISS
            && caller->role != VIDEO_ROLE_NONE)
        {
            caller->read_only = 1;

        } else {
            ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));
            ctx->auth_status = NGX_HTTP_SERVICE_UNAVAILABLE;
        }

    } else if (PQresultStatus(res) != PGRES_TUPLES_OK
               || (PQntuples(res) == 1
                   && PQnfields(res) != NGX_HTTP_VIDEO_API_AUTH_NCOLS))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: looking up an API key failed: %s",
                      PQresultErrorMessage(res));
        ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));
        ctx->auth_status = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else if (PQntuples(res) != 1) {
        ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));
        ngx_http_video_api_auth_cache_put(lk->hash, caller, 0);
        ctx->auth_status = NGX_HTTP_UNAUTHORIZED;

    } else {
        ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));

        v = PQgetvalue(res, 0, NGX_HTTP_VIDEO_API_AUTH_COL_ROLE);
        caller->role = video_role_parse(v, ngx_strlen(v));

        caller->key_id.len = PQgetlength(res, 0,
                                         NGX_HTTP_VIDEO_API_AUTH_COL_KEY_ID);
        caller->account.len = PQgetlength(res, 0,
                                          NGX_HTTP_VIDEO_API_AUTH_COL_ACCOUNT);

        if (caller->role == VIDEO_ROLE_NONE
            || caller->key_id.len != VIDEO_ID_LEN
            || caller->account.len == 0 || caller->account.len > VIDEO_ID_LEN)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "video_api: an API key's row is malformed");
            ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));
            ctx->auth_status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            goto done;
        }

        caller->key_id.data = ngx_pnalloc(r->pool, VIDEO_ID_LEN);
        caller->account.data = ngx_pnalloc(r->pool, caller->account.len);

        if (caller->key_id.data == NULL || caller->account.data == NULL) {
            ngx_memzero(caller, sizeof(ngx_http_video_api_caller_t));
            ctx->auth_status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            goto done;
        }

        ngx_memcpy(caller->key_id.data,
                   PQgetvalue(res, 0, NGX_HTTP_VIDEO_API_AUTH_COL_KEY_ID),
                   VIDEO_ID_LEN);
        ngx_memcpy(caller->account.data,
                   PQgetvalue(res, 0, NGX_HTTP_VIDEO_API_AUTH_COL_ACCOUNT),
                   caller->account.len);

        expires = 0;

        if (!PQgetisnull(res, 0, NGX_HTTP_VIDEO_API_AUTH_COL_EXPIRES)) {
            v = PQgetvalue(res, 0, NGX_HTTP_VIDEO_API_AUTH_COL_EXPIRES);
            expires = ngx_atotm((u_char *) v, ngx_strlen(v));
            expires = (expires > 0) ? expires : 1;
        }

        ngx_http_video_api_auth_cache_put(lk->hash, caller, expires);
    }

done:

    if (!resume) {
        return;
    }

    ctx->auth_done = (ctx->auth_status == 0);

    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_video_api_auth_refuse(ngx_http_request_t *r, ngx_int_t status)
{
    ngx_int_t  rc;
    ngx_str_t  challenge = ngx_string("Bearer realm=\"video-api\"");

    /* a body sent along is not the next request on the connection */

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    switch (status) {



    case NGX_HTTP_UNAUTHORIZED:
        if (ngx_http_video_api_header_out(r, "WWW-Authenticate", &challenge)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_video_api_send_error(r, NGX_HTTP_UNAUTHORIZED, NULL,
                   "A valid API key is required "
                   "(Authorization: Bearer <key>)");

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return ngx_http_video_api_send_unavailable(r, "Database");

    default:
        return ngx_http_video_api_send_error(r, status, NULL,
                                             "Internal error");
    }
}


ngx_int_t
ngx_http_video_api_auth_check(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx, ngx_int_t *rc)
{
    ngx_uint_t                    need, role;
    ngx_http_video_api_caller_t  *caller;

    caller = &ctx->caller;
    need = ctx->route->access & ~NGX_HTTP_VIDEO_API_ACCESS_KEYED;
    role = caller->role;

    /* management needs a key, even where auth is off */

    if ((ctx->route->access & NGX_HTTP_VIDEO_API_ACCESS_KEYED)
        && caller->open)
    {
        role = VIDEO_ROLE_NONE;
    }

    switch (need) {

    case NGX_HTTP_VIDEO_API_ACCESS_ANYONE:
        return NGX_OK;

    case NGX_HTTP_VIDEO_API_ACCESS_EDITOR:
        need = VIDEO_ROLE_EDITOR;
        break;

    case NGX_HTTP_VIDEO_API_ACCESS_KEY:

        /* what an open location's callers may not do without a key */

        if (caller->open) {
            role = VIDEO_ROLE_NONE;
        }

        need = VIDEO_ROLE_VIEWER;
        break;

    default:
        need = VIDEO_ROLE_ADMIN;
        break;
    }

    if (role == VIDEO_ROLE_NONE) {
        *rc = ngx_http_video_api_auth_refuse(r, NGX_HTTP_UNAUTHORIZED);
        return NGX_ERROR;
    }

    if (role < need) {
        *rc = ngx_http_discard_request_body(r);

        if (*rc == NGX_OK) {
            *rc = ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                      "The key's role (%s) does not allow %V %s",
                      video_role_name(role), &r->method_name,
                      ctx->route->pattern);
        }

        return NGX_ERROR;
    }

    if (caller->read_only) {
        *rc = ngx_http_video_api_auth_refuse(r, NGX_HTTP_SERVICE_UNAVAILABLE);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the scope of what a caller sees ----------------------------------------- */

static ngx_http_video_api_caller_t  ngx_http_video_api_nobody;


static ngx_http_video_api_caller_t *
ngx_http_video_api_caller(ngx_http_request_t *r)
{
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_video_api_module);

    return (ctx != NULL && ctx->auth_done) ? &ctx->caller
                                           : &ngx_http_video_api_nobody;
}


void
ngx_http_video_api_caller_sql(ngx_http_request_t *r, ngx_uint_t token,
    char **account, char **role)
{
    u_char                       *p;
    ngx_http_video_api_caller_t  *caller;

    caller = ngx_http_video_api_caller(r);

    *role = token ? "token" : (char *) video_role_name(caller->role);
    *account = "";

    if (caller->account.len) {
        p = ngx_pnalloc(r->pool, caller->account.len + 1);
        if (p != NULL) {
            ngx_memcpy(p, caller->account.data, caller->account.len);
            p[caller->account.len] = '\0';
            *account = (char *) p;

        } else {
            /* nothing of an account rather than too much */
            *role = "";
        }
    }
}


void
ngx_http_video_api_caller_audience(ngx_http_request_t *r,
    ngx_str_t *audience)
{
    ngx_http_video_api_caller_t  *caller;

    caller = ngx_http_video_api_caller(r);

    if (caller->role == VIDEO_ROLE_ADMIN) {
        ngx_str_set(audience, "*");

    } else if (caller->role == VIDEO_ROLE_NONE) {
        ngx_str_set(audience, "");

    } else {
        *audience = caller->account;
    }
}


static const char *const  ngx_http_video_api_private_members[] = {
    "accountId", "tokenGeneration", "thumbnailKey", "hlsManifestKey",
    "playlistKey", NULL
};


ngx_int_t
ngx_http_video_api_public_view(ngx_http_request_t *r, u_char **json,
    size_t *len)
{
    u_char   *out;
    ssize_t   n;

    out = ngx_pnalloc(r->pool, *len);
    if (out == NULL) {
        return NGX_ERROR;
    }

    n = video_json_drop((char *) *json, *len,
                        ngx_http_video_api_private_members, (char *) out);

    if (n < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: a video object is not valid JSON");
        return NGX_ERROR;
    }

    *json = out;
    *len = n;

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_caller_view(ngx_http_request_t *r, u_char **json,
    size_t *len, ngx_uint_t *full)
{
    video_json_str_t              v[2];
    ngx_http_video_api_caller_t  *caller;
    static const char *const      names[] = { "accountId", "visibility",
                                              NULL };

    if (video_json_strings((char *) *json, *len, names, v) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "video_api: a video object is not valid JSON");
        return NGX_ERROR;
    }

    if (v[0].data == NULL) {
        return NGX_AGAIN;
    }

    /* the rules of video_owned() and video_readable() in conf/sql */

    caller = ngx_http_video_api_caller(r);

    *full = caller->role == VIDEO_ROLE_ADMIN
            || (caller->account.len == v[0].len
                && ngx_memcmp(caller->account.data, v[0].data, v[0].len)
                   == 0);

    if (*full) {
        return NGX_OK;
    }

    if (v[1].len == sizeof("PRIVATE") - 1
        && ngx_memcmp(v[1].data, "PRIVATE", v[1].len) == 0)
    {
        return NGX_DECLINED;
    }

    return ngx_http_video_api_public_view(r, json, len);
}


ngx_int_t
ngx_http_video_api_token_check(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *token, u_char *json, size_t len)
{
    int64_t                   gen;
    video_json_str_t          v[1];
    static const char *const  names[] = { "tokenGeneration", NULL };

    if (video_json_strings((char *) json, len, names, v) != 0) {
        return VIDEO_PLAY_ERROR;
    }

    gen = 0;

    if (v[0].data != NULL) {
        gen = ngx_atoof((u_char *) v[0].data, v[0].len);
        if (gen < 0) {
            return VIDEO_PLAY_ERROR;
        }
    }

    return ngx_http_video_api_token_verify(r, id, token, gen);
}


ngx_int_t
ngx_http_video_api_token_verify(ngx_http_request_t *r, ngx_str_t *id,
    ngx_str_t *token, int64_t gen)
{
    ngx_http_video_api_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    return video_play_verify(mcf->play.keys, mcf->play.nkeys,
                             (char *) id->data, id->len,
                             (char *) token->data, token->len, gen,
                             (int64_t) ngx_time(),
                             (int64_t) mcf->play.expires);
}


ngx_str_t *
ngx_http_video_api_caller_token(ngx_http_request_t *r)
{
    ngx_str_t  *t;

    t = ngx_http_video_api_header_in(r, "X-Play-Token");

    return (t != NULL && video_play_is_token((char *) t->data, t->len))
           ? t : NULL;
}


static ngx_int_t
ngx_http_video_api_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char                *name;
    ngx_str_t                 *s, role;
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_video_api_module);

    if (ctx == NULL || !ctx->auth_done) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_VIDEO_API_VAR_ACCOUNT:
        s = &ctx->caller.account;
        break;

    case NGX_HTTP_VIDEO_API_VAR_KEY_ID:
        s = &ctx->caller.key_id;
        break;

    default:
        name = video_role_name(ctx->caller.role);
        role.len = ngx_strlen(name);
        role.data = (u_char *) name;
        s = &role;
        break;
    }

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
