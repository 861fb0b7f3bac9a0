/*
 * /api/keys, /api/accounts, /api/audit: managing who may call the API
 * (this file: the area's table, the keys, /api/me and the one-statement
 * run every route here uses; the accounts and the audit log are in
 * ngx_http_video_api_accounts.c).
 * A key is needed even where video_api_auth is off.  Editors manage their
 * account's keys up to editor; admins every key, the accounts and the
 * audit log.  The rules are in each statement too (where the rows are
 * chosen), and every change writes its audit row in the same
 * statement.
 */

#include "ngx_http_video_api_router.h"
#include "ngx_http_video_api_access.h"
#include "ngx_http_video_api_auth.h"
#include "ngx_http_video_api_cache.h"
#include "ngx_http_video_api_run.h"
#include "ngx_http_video_api_redis.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_idem.h"
#include "video_cache.h"
#include "video_access.h"
#include "video_apikey.h"
#include "video_id.h"
#include "video_validate.h"


static ngx_int_t ngx_http_video_api_keys_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_keys_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_keys_revoke(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);
static ngx_int_t ngx_http_video_api_me(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx);


#define NGX_HTTP_VIDEO_API_KEYED_EDITOR                                       \
    (NGX_HTTP_VIDEO_API_ACCESS_EDITOR | NGX_HTTP_VIDEO_API_ACCESS_KEYED)
#define NGX_HTTP_VIDEO_API_KEYED_ADMIN                                        \
    (NGX_HTTP_VIDEO_API_ACCESS_ADMIN | NGX_HTTP_VIDEO_API_ACCESS_KEYED)


ngx_http_video_api_route_t  ngx_http_video_api_access_routes[] = {
    { NGX_HTTP_POST, "/api/keys",
      ngx_http_video_api_keys_create, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_KEYED_EDITOR },
    { NGX_HTTP_GET, "/api/keys",
      ngx_http_video_api_keys_list, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_KEYED_EDITOR },
    { NGX_HTTP_DELETE, "/api/keys/:id",
      ngx_http_video_api_keys_revoke, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_KEYED_EDITOR },
    { NGX_HTTP_GET, "/api/accounts",
      ngx_http_video_api_accounts_list, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_KEYED_ADMIN },
    { NGX_HTTP_POST, "/api/accounts",
      ngx_http_video_api_accounts_create, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_KEYED_ADMIN },
    { NGX_HTTP_PATCH, "/api/accounts/:id",
      ngx_http_video_api_accounts_update, NGX_HTTP_VIDEO_API_BODY_JSON,
      NGX_HTTP_VIDEO_API_KEYED_ADMIN },
    { NGX_HTTP_GET, "/api/audit",
      ngx_http_video_api_audit_list, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_KEYED_ADMIN },
    { NGX_HTTP_GET, "/api/me",
      ngx_http_video_api_me, NGX_HTTP_VIDEO_API_BODY_NONE,
      NGX_HTTP_VIDEO_API_ACCESS_ANYONE },
    { 0, NULL, NULL, 0, 0 }
};


/* a key's fields as the API shows them: never the key nor its hash */

#define ACCESS_KEY_JSON(k)                                                    \
    "json_build_object('id', " k ".id, 'accountId', " k ".account_id,"      \
    " 'role', " k ".role, 'name', " k ".name, 'hint', " k ".hint,"          \
    " 'createdAt', api_time(" k ".created_at),"                               \
    " 'expiresAt', api_time(" k ".expires_at),"                               \
    " 'revokedAt', api_time(" k ".revoked_at),"                               \
    " 'lastUsedAt', api_time(" k ".last_used_at),"                            \
    " 'createdBy', " k ".created_by)"

enum {
    KEYS_CREATE_ID = 0,
    KEYS_CREATE_ACCOUNT,
    KEYS_CREATE_ROLE,
    KEYS_CREATE_NAME,
    KEYS_CREATE_HASH,
    KEYS_CREATE_HINT,
    KEYS_CREATE_EXPIRES_IN,         /* seconds, or NULL: never */
    KEYS_CREATE_CALLER_KEY,
    KEYS_CREATE_CALLER_ROLE,
    KEYS_CREATE_CALLER_ACCOUNT,
    KEYS_CREATE_SOURCE,             /* the caller's address */
    KEYS_CREATE_NPARAMS
};

/* an editor makes keys of its own account up to editor */
static ngx_http_video_api_pg_stmt_t  keys_create_stmt =
    ngx_http_video_api_pg_stmt("keys_create",
        "WITH k AS ("
        " INSERT INTO api_keys (id, account_id, role, name, key_hash, hint,"
        "  expires_at, created_by)"
        " SELECT $1::text, a.id, $3::api_role, $4::text, $5::bytea,"
        "  $6::text, now() + make_interval(secs => $7::bigint), $8::text"
        " FROM accounts a WHERE a.id = $2::text AND a.disabled_at IS NULL"
        " AND ($9::text = 'admin' OR ($9::text = 'editor'"
        "  AND a.id = $10::text AND $3::api_role <> 'admin'))"
        " RETURNING *),"
        " l AS (INSERT INTO audit_log (actor_key_id, actor, account_id,"
        "  action, target, source, detail)"
        " SELECT $8::text, 'key:' || $8::text, k.account_id, 'key.create',"
        "  k.id, $11::text, jsonb_build_object('role', k.role,"
        "  'name', k.name, 'expiresAt', api_time(k.expires_at)) FROM k)"
        " SELECT " ACCESS_KEY_JSON("k") "::text FROM k");

enum {
    KEYS_LIST_CALLER_ROLE = 0,
    KEYS_LIST_CALLER_ACCOUNT,
    KEYS_LIST_ACCOUNT,              /* asked for by an admin, or NULL */
    KEYS_LIST_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  keys_list_stmt =
    ngx_http_video_api_pg_stmt("keys_list",
        "SELECT COALESCE(json_agg(" ACCESS_KEY_JSON("k")
        "  ORDER BY k.created_at DESC, k.id), '[]')::text"
        " FROM api_keys k"
        " WHERE CASE WHEN $1::text = 'admin' THEN $3::text IS NULL"
        "  OR k.account_id = $3::text ELSE k.account_id = $2::text END");

enum {
    KEYS_REVOKE_ID = 0,
    KEYS_REVOKE_CALLER_KEY,
    KEYS_REVOKE_CALLER_ROLE,
    KEYS_REVOKE_CALLER_ACCOUNT,
    KEYS_REVOKE_SOURCE,
    KEYS_REVOKE_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  keys_revoke_stmt =
    ngx_http_video_api_pg_stmt("keys_revoke",
        "WITH k AS ("
        " UPDATE api_keys SET revoked_at = now()"
        " WHERE id = $1::text AND revoked_at IS NULL"
        " AND ($3::text = 'admin' OR ($3::text = 'editor'"
        "  AND account_id = $4::text AND role <> 'admin'))"
        " RETURNING *),"
        " l AS (INSERT INTO audit_log (actor_key_id, actor, account_id,"
        "  action, target, source)"
        " SELECT $2::text, 'key:' || $2::text, k.account_id, 'key.revoke',"
        "  k.id, $5::text FROM k)"
        " SELECT " ACCESS_KEY_JSON("k") "::text FROM k");

/* every route here is one statement, and its rows the answer */

typedef enum {
    ACCESS_QUERY = 0,
    ACCESS_ROWS,
    ACCESS_CLAIMED      /* an Idempotency-Key claimed (the creates) */
} ngx_http_video_api_access_step_e;

static const char *const  access_names[] = { "query", "rows", "claimed" };

static ngx_int_t ngx_http_video_api_access_step(
    ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  access_steps = {
    "access", ngx_http_video_api_access_step, access_names
};


ngx_http_video_api_access_ctx_t *
ngx_http_video_api_access_ctx(ngx_http_request_t *r, const char *prefix,
    const char *suffix)
{
    ngx_http_video_api_access_ctx_t  *actx;

    actx = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_access_ctx_t));
    if (actx == NULL) {
        return NULL;
    }

    actx->prefix = prefix;
    actx->suffix = suffix;
    actx->status = NGX_HTTP_OK;

    return actx;
}


/* a 400 VALIDATION_ERROR for one query argument */

ngx_int_t
ngx_http_video_api_access_invalid(ngx_http_request_t *r, const char *path,
    const char *message)
{
    json_t  *details;

    details = json_array();

    if (details != NULL && video_detail_add(details, path, message) != 0) {
        json_decref(details);
        details = NULL;
    }

    return ngx_http_video_api_send_invalid(r, details);
}


/* a NUL-terminated copy of s (an id of a path, a caller's field) */

char *
ngx_http_video_api_access_cstr(ngx_http_request_t *r, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


/* the caller's key id and where it calls from, as audit rows have them */

ngx_int_t
ngx_http_video_api_access_actor(ngx_http_request_t *r, char **key,
    char **source)
{
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);

    *key = ngx_http_video_api_access_cstr(r, &ctx->caller.key_id);
    *source = ngx_http_video_api_access_cstr(r, &r->connection->addr_text);

    return (*key != NULL && *source != NULL) ? NGX_OK : NGX_ERROR;
}


/* drops the cached copies of the videos named in ids ("a b c") */

void
ngx_http_video_api_access_uncache(ngx_http_request_t *r, char *ids)
{
    char        *p, *end;
    u_char       key[sizeof(VIDEO_CACHE_KEY_PREFIX) + VIDEO_ID_LEN];
    const char  *argv[2];
    size_t       argvlen[2];

    ngx_http_video_api_cache_lists_changed(r);

    for (p = ids; *p; p = end) {
        end = p;

        while (*end && *end != ' ') {
            end++;
        }

        if (end - p == VIDEO_ID_LEN) {
            argv[0] = "DEL";
            argvlen[0] = 3;
            argv[1] = (char *) key;
            argvlen[1] = ngx_sprintf(key, VIDEO_CACHE_KEY_PREFIX "%*s",
                                     (size_t) VIDEO_ID_LEN, p)
                         - key;

            (void) ngx_http_video_api_redis_command(r,
                       ngx_http_video_api_redis_ignore, NULL, 2, argv,
                       argvlen);
        }

        while (*end == ' ') {
            end++;
        }
    }
}


ngx_int_t
ngx_http_video_api_access_query(ngx_http_request_t *r,
    ngx_http_video_api_access_ctx_t *actx, ngx_http_video_api_pg_stmt_t *stmt,
    int n)
{
    actx->stmt = stmt;
    actx->nvalues = n;

    return ngx_http_video_api_run(r, &access_steps, actx, ACCESS_QUERY);
}


static ngx_int_t
ngx_http_video_api_access_step(ngx_http_video_api_run_t *run)
{
    PGresult                         *res;
    ngx_http_request_t               *r;
    ngx_http_video_api_access_ctx_t  *actx;

    r = run->request;
    actx = run->data;
    res = run->res;

    if (run->step == ACCESS_QUERY) {

        /* a create's Idempotency-Key: claimed in its transaction */

        return ngx_http_video_api_idem_claim(run, ACCESS_CLAIMED);
    }

    if (run->step == ACCESS_CLAIMED) {
        return ngx_http_video_api_run_query(run, ACCESS_ROWS, actx->stmt,
                                            actx->nvalues, actx->values);
    }

    if (!ngx_http_video_api_run_ok(run)
        || PQresultStatus(res) != PGRES_TUPLES_OK)
    {
        return ngx_http_video_api_idem_finish(run,
                                          ngx_http_video_api_run_failed(run));
    }

    if (PQntuples(res) == 0) {
        return ngx_http_video_api_idem_finish(run,
                   ngx_http_video_api_send_error(r,
                       actx->conflict ? NGX_HTTP_CONFLICT : NGX_HTTP_NOT_FOUND,
                       NULL, actx->missing, &actx->id));
    }

    if (actx->drop && !PQgetisnull(res, 0, 1)) {
        ngx_http_video_api_access_uncache(r, PQgetvalue(res, 0, 1));
    }

    return ngx_http_video_api_idem_finish(run,
               ngx_http_video_api_send_wrapped(r, actx->status, actx->prefix,
                                          (u_char *) PQgetvalue(res, 0, 0),
                                          PQgetlength(res, 0, 0),
                                          actx->suffix));
}


/* POST /api/keys: the key is in this answer and nowhere else, ever */

static ngx_int_t
ngx_http_video_api_keys_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                            **v;
    u_char                           *p;
    json_t                           *details;
    ngx_int_t                         rc;
    ngx_uint_t                        role;
    video_key_create_t                in;
    ngx_http_video_api_caller_t      *caller;
    ngx_http_video_api_access_ctx_t  *actx;
    u_char                            hash[VIDEO_APIKEY_HASH_LEN];

    if (video_key_create_parse(ctx->json, &in, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    caller = &ctx->caller;
    role = video_role_parse(in.role, ngx_strlen(in.role));

    /* an editor makes keys of its own account, never an admin key */

    if (role > caller->role
        || (caller->role != VIDEO_ROLE_ADMIN && in.account != NULL
            && (ngx_strlen(in.account) != caller->account.len
                || ngx_strncmp(in.account, caller->account.data,
                               caller->account.len) != 0)))
    {
        return ngx_http_video_api_send_error(r, NGX_HTTP_FORBIDDEN, NULL,
                   "A key of role %s may not make a %s key%s",
                   video_role_name(caller->role), in.role,
                   in.account ? " for another account" : "");
    }

    rc = ngx_http_video_api_idem_init(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    actx = ngx_http_video_api_access_ctx(r, NULL, "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    actx->status = NGX_HTTP_CREATED;
    actx->missing = "Account '%V' not found, or disabled";

    v = actx->values;
    v[KEYS_CREATE_ID] = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
    v[KEYS_CREATE_HASH] = ngx_pnalloc(r->pool, VIDEO_APIKEY_HASH_TEXT_LEN + 1);
    v[KEYS_CREATE_HINT] = ngx_pnalloc(r->pool, VIDEO_APIKEY_PREFIX_LEN + 5);
    v[KEYS_CREATE_EXPIRES_IN] = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);

    if (v[KEYS_CREATE_ID] == NULL || v[KEYS_CREATE_HASH] == NULL
        || v[KEYS_CREATE_HINT] == NULL || v[KEYS_CREATE_EXPIRES_IN] == NULL
        || video_id_generate(v[KEYS_CREATE_ID]) != 0
        || video_apikey_generate((char *) actx->key) != 0
        || video_apikey_hash((char *) actx->key, VIDEO_APIKEY_LEN, hash) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v[KEYS_CREATE_ID][VIDEO_ID_LEN] = '\0';
    actx->key[VIDEO_APIKEY_LEN] = '\0';

    video_apikey_hash_text(hash, v[KEYS_CREATE_HASH]);

    ngx_memcpy(v[KEYS_CREATE_HINT], actx->key, VIDEO_APIKEY_PREFIX_LEN + 4);
    v[KEYS_CREATE_HINT][VIDEO_APIKEY_PREFIX_LEN + 4] = '\0';

    if (in.expires_in) {
        *ngx_sprintf((u_char *) v[KEYS_CREATE_EXPIRES_IN], "%L",
                     (int64_t) in.expires_in) = '\0';
    } else {
        v[KEYS_CREATE_EXPIRES_IN] = NULL;
    }

    v[KEYS_CREATE_ACCOUNT] = in.account
                      ? (char *) in.account
                      : ngx_http_video_api_access_cstr(r, &caller->account);

    if (v[KEYS_CREATE_ACCOUNT] != NULL) {
        actx->id.data = (u_char *) v[KEYS_CREATE_ACCOUNT];
        actx->id.len = ngx_strlen(v[KEYS_CREATE_ACCOUNT]);
    }
    v[KEYS_CREATE_ROLE] = (char *) in.role;
    v[KEYS_CREATE_NAME] = (char *) in.name;
    v[KEYS_CREATE_CALLER_ROLE] = (char *) video_role_name(caller->role);
    v[KEYS_CREATE_CALLER_ACCOUNT] =
                         ngx_http_video_api_access_cstr(r, &caller->account);

    if (v[KEYS_CREATE_ACCOUNT] == NULL || v[KEYS_CREATE_CALLER_ACCOUNT] == NULL
        || ngx_http_video_api_access_actor(r, &v[KEYS_CREATE_CALLER_KEY],
                                           &v[KEYS_CREATE_SOURCE])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the answer: {"key":"<key>","apiKey":{...}} */

    p = ngx_pnalloc(r->pool, sizeof("{\"key\":\"\",\"apiKey\":")
                             + VIDEO_APIKEY_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(p, "{\"key\":\"%s\",\"apiKey\":%Z", actx->key);
    actx->prefix = (char *) p;

    return ngx_http_video_api_access_query(r, actx, &keys_create_stmt,
                                           KEYS_CREATE_NPARAMS);
}


/* GET /api/keys[?accountId=]: its account's, or any for an admin */

static ngx_int_t
ngx_http_video_api_keys_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                            **v;
    ngx_str_t                         arg;
    ngx_http_video_api_access_ctx_t  *actx;

    actx = ngx_http_video_api_access_ctx(r, "{\"keys\":", "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v = actx->values;
    v[KEYS_LIST_CALLER_ROLE] = (char *) video_role_name(ctx->caller.role);
    v[KEYS_LIST_CALLER_ACCOUNT] = ngx_http_video_api_access_cstr(r,
                                      &ctx->caller.account);
    v[KEYS_LIST_ACCOUNT] = NULL;

    if (ngx_http_arg(r, (u_char *) "accountId", sizeof("accountId") - 1, &arg)
        == NGX_OK)
    {
        if (!video_account_id_valid((char *) arg.data, arg.len)) {
            return ngx_http_video_api_access_invalid(r, "accountId",
                       "accountId must be 1 to 21 of A-Z, a-z, 0-9, _ and -");
        }

        v[KEYS_LIST_ACCOUNT] = ngx_http_video_api_access_cstr(r, &arg);
    }

    if (v[KEYS_LIST_CALLER_ACCOUNT] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_access_query(r, actx, &keys_list_stmt,
                                           KEYS_LIST_NPARAMS);
}


/* DELETE /api/keys/:id: revoked, refused everywhere within a second */

static ngx_int_t
ngx_http_video_api_keys_revoke(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                            **v;
    ngx_http_video_api_access_ctx_t  *actx;

    actx = ngx_http_video_api_access_ctx(r, "{\"message\":\"API key revoked\","
                                         "\"apiKey\":", "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    actx->id = ctx->params[0];
    actx->missing = "API key '%V' not found";

    if (!video_id_valid((char *) actx->id.data, actx->id.len)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "API key '%V' not found",
                                             &actx->id);
    }

    v = actx->values;
    v[KEYS_REVOKE_ID] = ngx_http_video_api_access_cstr(r, &actx->id);
    v[KEYS_REVOKE_CALLER_ROLE] = (char *) video_role_name(ctx->caller.role);
    v[KEYS_REVOKE_CALLER_ACCOUNT] = ngx_http_video_api_access_cstr(r,
                                        &ctx->caller.account);

    if (v[KEYS_REVOKE_ID] == NULL || v[KEYS_REVOKE_CALLER_ACCOUNT] == NULL
        || ngx_http_video_api_access_actor(r, &v[KEYS_REVOKE_CALLER_KEY],
                                           &v[KEYS_REVOKE_SOURCE])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_access_query(r, actx, &keys_revoke_stmt,
                                           KEYS_REVOKE_NPARAMS);
}


/*
 * GET /api/me: who the caller is, as resolved before the route ran (no
 * statement): a page asks it to show what its key allows.  An anonymous
 * caller is {role: null}; where auth is off and no key is sent, the
 * default account's admin; an invalid key never gets here (401).
 */

static ngx_int_t
ngx_http_video_api_me(ngx_http_request_t *r, ngx_http_video_api_ctx_t *ctx)
{
    json_t                       *me;
    ngx_http_video_api_caller_t  *c;

    c = &ctx->caller;

    me = json_pack("{s:o, s:o, s:o, s:s}",
                   "role", c->role ? json_string(video_role_name(c->role))
                                   : json_null(),
                   "accountId", c->account.len
                                ? json_stringn((char *) c->account.data,
                                               c->account.len)
                                : json_null(),
                   "keyId", c->key_id.len
                            ? json_stringn((char *) c->key_id.data,
                                           c->key_id.len)
                            : json_null(),
                   "auth", c->open ? "off" : "on");

    return ngx_http_video_api_send_data(r, NGX_HTTP_OK, me);
}
