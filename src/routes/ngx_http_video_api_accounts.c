/*
 * /api/accounts and /api/audit, for admins: the accounts with their
 * limits and usage, and the audit log every change of the management API
 * writes (see ngx_http_video_api_access.c).
 */

#include "ngx_http_video_api_access.h"
#include "ngx_http_video_api_response.h"
#include "ngx_http_video_api_idem.h"
#include "video_access.h"
#include "video_id.h"
#include "video_validate.h"


static ngx_http_video_api_pg_stmt_t  accounts_list_stmt =
    ngx_http_video_api_pg_stmt("accounts_list",
        "SELECT COALESCE(json_agg(" ACCESS_ACCOUNT_JSON("a")
        "  ORDER BY a.created_at, a.id), '[]')::text FROM accounts a");

enum {
    ACCOUNTS_CREATE_ID = 0,
    ACCOUNTS_CREATE_NAME,
    ACCOUNTS_CREATE_MAX_BYTES,      /* the limits: NULL for none */
    ACCOUNTS_CREATE_MAX_VIDEOS,
    ACCOUNTS_CREATE_MAX_LIVE,
    ACCOUNTS_CREATE_CALLER_KEY,
    ACCOUNTS_CREATE_SOURCE,
    ACCOUNTS_CREATE_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  accounts_create_stmt =
    ngx_http_video_api_pg_stmt("accounts_create",
        "WITH a AS ("
        " INSERT INTO accounts (id, name, max_bytes, max_videos, max_live)"
        " VALUES ($1::text, $2::text, $3::bigint, $4::integer, $5::integer)"
        " ON CONFLICT (id) DO NOTHING RETURNING *),"
        " l AS (INSERT INTO audit_log (actor_key_id, actor, account_id,"
        "  action, target, source, detail)"
        " SELECT $6::text, 'key:' || $6::text, a.id, 'account.create', a.id,"
        "  $7::text, jsonb_build_object('name', a.name) FROM a)"
        " SELECT " ACCESS_ACCOUNT_JSON("a") "::text FROM a");

enum {
    ACCOUNTS_UPDATE_ID = 0,
    ACCOUNTS_UPDATE_NAME,
    ACCOUNTS_UPDATE_MAX_BYTES,      /* the limits: NULL for none */
    ACCOUNTS_UPDATE_MAX_VIDEOS,
    ACCOUNTS_UPDATE_MAX_LIVE,
    ACCOUNTS_UPDATE_MAX_BYTES_SET,  /* whether each limit is given */
    ACCOUNTS_UPDATE_MAX_VIDEOS_SET,
    ACCOUNTS_UPDATE_MAX_LIVE_SET,
    ACCOUNTS_UPDATE_DISABLED,       /* NULL: unchanged */
    ACCOUNTS_UPDATE_CALLER_KEY,
    ACCOUNTS_UPDATE_SOURCE,
    ACCOUNTS_UPDATE_NPARAMS
};

/*
 * Disabling moves the account's videos' token generation on; the ids
 * come back so their cached copies can go.
 */
static ngx_http_video_api_pg_stmt_t  accounts_update_stmt =
    ngx_http_video_api_pg_stmt("accounts_update",
        "WITH o AS MATERIALIZED (SELECT disabled_at FROM accounts"
        " WHERE id = $1::text),"
        " a AS ("
        " UPDATE accounts SET name = COALESCE($2::text, name),"
        "  max_bytes = CASE WHEN $6::boolean THEN $3::bigint"
        "   ELSE max_bytes END,"
        "  max_videos = CASE WHEN $7::boolean THEN $4::integer"
        "   ELSE max_videos END,"
        "  max_live = CASE WHEN $8::boolean THEN $5::integer"
        "   ELSE max_live END,"
        "  disabled_at = CASE WHEN $9::boolean IS NULL THEN disabled_at"
        "   WHEN $9::boolean THEN COALESCE(disabled_at, now()) END"
        " WHERE id = $1::text RETURNING *),"
        " v AS (UPDATE videos SET token_gen = token_gen + 1"
        "  WHERE account_id IN (SELECT a.id FROM a, o"
        "   WHERE a.disabled_at IS NOT NULL AND o.disabled_at IS NULL)"
        "  RETURNING id),"
        " l AS (INSERT INTO audit_log (actor_key_id, actor, account_id,"
        "  action, target, source, detail)"
        " SELECT $10::text, 'key:' || $10::text, a.id,"
        "  CASE WHEN $9::boolean AND o.disabled_at IS NULL"
        "   THEN 'account.disable'"
        "   WHEN NOT $9::boolean AND o.disabled_at IS NOT NULL"
        "   THEN 'account.enable' ELSE 'account.update' END, a.id,"
        "  $11::text, jsonb_build_object('name', a.name,"
        "   'maxBytes', a.max_bytes, 'maxVideos', a.max_videos,"
        "   'maxLive', a.max_live) FROM a, o)"
        " SELECT " ACCESS_ACCOUNT_JSON("a") "::text,"
        "  (SELECT string_agg(id, ' ') FROM v) FROM a");

enum {
    AUDIT_LIST_LIMIT = 0,
    AUDIT_LIST_ACCOUNT,             /* NULL: every one */
    AUDIT_LIST_NPARAMS
};

static ngx_http_video_api_pg_stmt_t  audit_list_stmt =
    ngx_http_video_api_pg_stmt("audit_list",
        "SELECT COALESCE(json_agg(json_build_object('id', l.id,"
        "  'at', api_time(l.at), 'actor', l.actor,"
        "  'actorKeyId', l.actor_key_id, 'accountId', l.account_id,"
        "  'action', l.action, 'target', l.target, 'source', l.source,"
        "  'detail', l.detail) ORDER BY l.at DESC, l.id DESC), '[]')::text"
        " FROM (SELECT * FROM audit_log"
        "  WHERE $2::text IS NULL OR account_id = $2::text"
        "  ORDER BY at DESC, id DESC LIMIT $1::int) l");


/* GET /api/accounts */

ngx_int_t
ngx_http_video_api_accounts_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    ngx_http_video_api_access_ctx_t  *actx;

    actx = ngx_http_video_api_access_ctx(r, "{\"accounts\":", "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_access_query(r, actx, &accounts_list_stmt, 0);
}


/* a limit as a statement value: NULL for none */

static char *
ngx_http_video_api_access_limit(ngx_http_request_t *r, video_limit_t *l)
{
    u_char  *p;

    if (l->value < 0) {
        return NULL;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 1);
    if (p != NULL) {
        *ngx_sprintf(p, "%L", (int64_t) l->value) = '\0';
    }

    return (char *) p;
}


/* an account's three limits as statement values */

static void
ngx_http_video_api_access_limits(ngx_http_request_t *r, video_account_t *in,
    char **bytes, char **videos, char **live)
{
    *bytes = ngx_http_video_api_access_limit(r, &in->max_bytes);
    *videos = ngx_http_video_api_access_limit(r, &in->max_videos);
    *live = ngx_http_video_api_access_limit(r, &in->max_live);
}


/* POST /api/accounts */

ngx_int_t
ngx_http_video_api_accounts_create(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                            **v;
    json_t                           *details;
    ngx_int_t                         rc;
    video_account_t                   in;
    ngx_http_video_api_access_ctx_t  *actx;

    if (video_account_parse(ctx->json, 1, &in, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    rc = ngx_http_video_api_idem_init(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    actx = ngx_http_video_api_access_ctx(r, "{\"account\":", "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    actx->status = NGX_HTTP_CREATED;
    actx->missing = "Account '%V' exists already";
    actx->conflict = 1;

    v = actx->values;

    if (in.id == NULL) {
        v[ACCOUNTS_CREATE_ID] = ngx_pnalloc(r->pool, VIDEO_ID_LEN + 1);
        if (v[ACCOUNTS_CREATE_ID] == NULL
            || video_id_generate(v[ACCOUNTS_CREATE_ID]) != 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        v[ACCOUNTS_CREATE_ID][VIDEO_ID_LEN] = '\0';

    } else {
        v[ACCOUNTS_CREATE_ID] = (char *) in.id;
    }

    actx->id.data = (u_char *) v[ACCOUNTS_CREATE_ID];
    actx->id.len = ngx_strlen(v[ACCOUNTS_CREATE_ID]);

    v[ACCOUNTS_CREATE_NAME] = (char *) in.name;
    ngx_http_video_api_access_limits(r, &in, &v[ACCOUNTS_CREATE_MAX_BYTES],
                                     &v[ACCOUNTS_CREATE_MAX_VIDEOS],
                                     &v[ACCOUNTS_CREATE_MAX_LIVE]);

    if (ngx_http_video_api_access_actor(r, &v[ACCOUNTS_CREATE_CALLER_KEY],
                                        &v[ACCOUNTS_CREATE_SOURCE])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_access_query(r, actx, &accounts_create_stmt,
                                           ACCOUNTS_CREATE_NPARAMS);
}


/* PATCH /api/accounts/:id */

ngx_int_t
ngx_http_video_api_accounts_update(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                            **v;
    json_t                           *details;
    video_account_t                   in;
    ngx_http_video_api_access_ctx_t  *actx;

    if (video_account_parse(ctx->json, 0, &in, &details) != 0) {
        return ngx_http_video_api_send_invalid(r, details);
    }

    actx = ngx_http_video_api_access_ctx(r, "{\"account\":", "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    actx->id = ctx->params[0];
    actx->drop = 1;
    actx->missing = "Account '%V' not found";

    if (!video_account_id_valid((char *) actx->id.data, actx->id.len)) {
        return ngx_http_video_api_send_error(r, NGX_HTTP_NOT_FOUND, NULL,
                                             "Account '%V' not found",
                                             &actx->id);
    }

    v = actx->values;
    v[ACCOUNTS_UPDATE_ID] = ngx_http_video_api_access_cstr(r, &actx->id);
    v[ACCOUNTS_UPDATE_NAME] = (char *) in.name;
    ngx_http_video_api_access_limits(r, &in, &v[ACCOUNTS_UPDATE_MAX_BYTES],
                                     &v[ACCOUNTS_UPDATE_MAX_VIDEOS],
                                     &v[ACCOUNTS_UPDATE_MAX_LIVE]);
    v[ACCOUNTS_UPDATE_MAX_BYTES_SET] = in.max_bytes.set ? "t" : "f";
    v[ACCOUNTS_UPDATE_MAX_VIDEOS_SET] = in.max_videos.set ? "t" : "f";
    v[ACCOUNTS_UPDATE_MAX_LIVE_SET] = in.max_live.set ? "t" : "f";
    v[ACCOUNTS_UPDATE_DISABLED] = (in.disabled == -1)
                                  ? NULL : (in.disabled ? "t" : "f");

    if (v[ACCOUNTS_UPDATE_ID] == NULL
        || ngx_http_video_api_access_actor(r, &v[ACCOUNTS_UPDATE_CALLER_KEY],
                                           &v[ACCOUNTS_UPDATE_SOURCE])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_access_query(r, actx, &accounts_update_stmt,
                                           ACCOUNTS_UPDATE_NPARAMS);
}


/* GET /api/audit[?limit=&accountId=]: newest first */

ngx_int_t
ngx_http_video_api_audit_list(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    char                            **v;
    ngx_int_t                         n;
    ngx_str_t                         arg;
    ngx_http_video_api_access_ctx_t  *actx;

    actx = ngx_http_video_api_access_ctx(r, "{\"entries\":", "}");
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = 100;

    if (ngx_http_arg(r, (u_char *) "limit", sizeof("limit") - 1, &arg)
        == NGX_OK)
    {
        n = ngx_atoi(arg.data, arg.len);

        if (n < 1 || n > 1000) {
            return ngx_http_video_api_access_invalid(r, "limit",
                       "limit must be an integer from 1 to 1000");
        }
    }

    v = actx->values;

    v[AUDIT_LIST_LIMIT] = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);
    if (v[AUDIT_LIST_LIMIT] == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *ngx_sprintf((u_char *) v[AUDIT_LIST_LIMIT], "%i", n) = '\0';
    v[AUDIT_LIST_ACCOUNT] = NULL;

    if (ngx_http_arg(r, (u_char *) "accountId", sizeof("accountId") - 1, &arg)
        == NGX_OK)
    {
        if (!video_account_id_valid((char *) arg.data, arg.len)) {
            return ngx_http_video_api_access_invalid(r, "accountId",
                       "accountId must be 1 to 21 of A-Z, a-z, 0-9, _ and -");
        }

        v[AUDIT_LIST_ACCOUNT] = ngx_http_video_api_access_cstr(r, &arg);
    }

    return ngx_http_video_api_access_query(r, actx, &audit_list_stmt,
                                           AUDIT_LIST_NPARAMS);
}
