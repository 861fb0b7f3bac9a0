/*
 * Idempotency keys (see the header): the key's claim, the replay, and
 * the stored answer, as steps a route calls.
 */

#include "ngx_http_video_api_idem.h"
#include "ngx_http_video_api_response.h"
#include "video_hmac.h"
#include "video_idem.h"


#define NGX_HTTP_VIDEO_API_IDEM_HASH_HEX  (2 * VIDEO_SHA256_LEN)


typedef enum {
    IDEM_BEGIN = 0,
    IDEM_CLAIM,
    IDEM_CLAIMED,
    IDEM_LOOKUP,
    IDEM_FOUND,
    IDEM_STORE,
    IDEM_STORED,
    IDEM_COMMITTED,
    IDEM_ROLLBACK,
    IDEM_ROLLED
} ngx_http_video_api_idem_step_e;

static const char *const  idem_names[] = {
    "idempotency begin", "idempotency claim", "idempotency claimed",
    "idempotency lookup", "idempotency found", "idempotency store",
    "idempotency stored", "idempotency committed", "idempotency rollback",
    "idempotency rolled back"
};

static ngx_int_t ngx_http_video_api_idem_step(ngx_http_video_api_run_t *run);

static ngx_http_video_api_steps_t  idem_steps = {
    "idempotency", ngx_http_video_api_idem_step, idem_names
};


/* the key's row: its place, and what the claim writes */

enum {
    IDEM_SCOPE = 0,
    IDEM_ROUTE,
    IDEM_KEY,           /* SHA-256 of the Idempotency-Key, hex */
    IDEM_REQUEST,       /* SHA-256 of the request, hex */
    IDEM_TTL,           /* seconds */
    IDEM_NPARAMS
};

/* the answer, written into the claimed row */

enum {
    STORE_SCOPE = 0,
    STORE_ROUTE,
    STORE_KEY,
    STORE_STATUS,
    STORE_ANSWER,       /* sealed, hex */
    STORE_NPARAMS
};


static ngx_http_video_api_pg_stmt_t  idem_begin_stmt =
    ngx_http_video_api_pg_stmt("idem_begin", "BEGIN");

static ngx_http_video_api_pg_stmt_t  idem_commit_stmt =
    ngx_http_video_api_pg_stmt("idem_commit", "COMMIT");

static ngx_http_video_api_pg_stmt_t  idem_rollback_stmt =
    ngx_http_video_api_pg_stmt("idem_rollback", "ROLLBACK");

/*
 * A row: the key is new (or its row expired, taken over in place).  No
 * row: answered before, or by a transaction this one waited for.
 */
static ngx_http_video_api_pg_stmt_t  idem_claim_stmt =
    ngx_http_video_api_pg_stmt("idem_claim",
        "INSERT INTO idempotency_keys AS i (scope, route, key_hash,"
        " request_hash, expires_at)"
        " VALUES ($1, $2, decode($3, 'hex'), decode($4, 'hex'),"
        " now() + make_interval(secs => $5::bigint))"
        " ON CONFLICT (scope, route, key_hash) DO UPDATE"
        " SET request_hash = excluded.request_hash, status = 0,"
        " answer = NULL, created_at = now(),"
        " expires_at = excluded.expires_at"
        " WHERE i.expires_at <= now()"
        " RETURNING 1");

static ngx_http_video_api_pg_stmt_t  idem_lookup_stmt =
    ngx_http_video_api_pg_stmt("idem_lookup",
        "SELECT request_hash = decode($4, 'hex'), status,"
        " encode(answer, 'hex')"
        " FROM idempotency_keys"
        " WHERE scope = $1 AND route = $2 AND key_hash = decode($3, 'hex')"
        " AND expires_at > now()");

static ngx_http_video_api_pg_stmt_t  idem_store_stmt =
    ngx_http_video_api_pg_stmt("idem_store",
        "UPDATE idempotency_keys SET status = $4::smallint,"
        " answer = decode($5, 'hex')"
        " WHERE scope = $1 AND route = $2 AND key_hash = decode($3, 'hex')"
        " RETURNING 1");


struct ngx_http_video_api_idem_s {
    char                              *values[IDEM_NPARAMS];
    char                              *store[STORE_NPARAMS];
    u_char                             secret[VIDEO_IDEM_SECRET_LEN];

    /* the answer kept for finish */
    ngx_uint_t                         status;
    ngx_buf_t                         *buf;
    ngx_int_t                          rc;

    unsigned                           claimed:1;
    unsigned                           capture:1;
    unsigned                           captured:1;
    unsigned                           retried:1;
};


static ngx_str_t  ngx_http_video_api_idem_json = ngx_string("application/json");
static ngx_str_t  ngx_http_video_api_idem_true = ngx_string("true");


/* SHA-256 of the parts, as hex into out (NUL-terminated) */

static ngx_int_t
ngx_http_video_api_idem_hash(ngx_str_t *parts, ngx_uint_t n, u_char *out)
{
    int            ok;
    ngx_uint_t     i;
    EVP_MD_CTX    *c;
    const EVP_MD  *md;
    u_char         hash[VIDEO_SHA256_LEN];

    md = video_sha256();
    if (md == NULL) {
        return NGX_ERROR;
    }

    c = EVP_MD_CTX_new();
    if (c == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DigestInit_ex(c, md, NULL) == 1;

    for (i = 0; ok && i < n; i++) {
        ok = EVP_DigestUpdate(c, parts[i].data, parts[i].len) == 1;
    }

    ok = ok && EVP_DigestFinal_ex(c, hash, NULL) == 1;

    EVP_MD_CTX_free(c);

    if (!ok) {
        return NGX_ERROR;
    }

    *ngx_hex_dump(out, hash, VIDEO_SHA256_LEN) = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_video_api_idem_init(ngx_http_request_t *r,
    ngx_http_video_api_ctx_t *ctx)
{
    u_char                          *p;
    ngx_str_t                       *key, *cred, parts[7];
    ngx_http_video_api_idem_t       *idem;
    ngx_http_video_api_main_conf_t  *mcf;

    static ngx_str_t  nl = ngx_string("\n");
    static ngx_str_t  sp = ngx_string(" ");
    static ngx_str_t  qm = ngx_string("?");

    key = ngx_http_video_api_header_in(r, "Idempotency-Key");

    if (key == NULL) {
        return NGX_DECLINED;
    }

    if (!video_idem_key_valid((char *) key->data, key->len)) {
        return ngx_http_video_api_send_invalid(r,
                   json_pack("[{s:s, s:s}]", "path", "Idempotency-Key",
                             "message", "Idempotency-Key must be 1 to 255 "
                             "printable ASCII characters"));
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_video_api_module);

    idem = ngx_pcalloc(r->pool, sizeof(ngx_http_video_api_idem_t));
    if (idem == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the caller: its key, or its account where no key was needed */

    if (ctx->caller.key_id.len > 0) {
        p = ngx_pnalloc(r->pool, sizeof("key:") + ctx->caller.key_id.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        idem->values[IDEM_SCOPE] = (char *) p;
        ngx_sprintf(p, "key:%V%Z", &ctx->caller.key_id);

    } else {
        p = ngx_pnalloc(r->pool, sizeof("open:") + ctx->caller.account.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        idem->values[IDEM_SCOPE] = (char *) p;
        ngx_sprintf(p, "open:%V%Z", &ctx->caller.account);
    }

    p = ngx_pnalloc(r->pool, r->method_name.len + 1
                             + ngx_strlen(ctx->route->pattern) + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    idem->values[IDEM_ROUTE] = (char *) p;
    ngx_sprintf(p, "%V %s%Z", &r->method_name, ctx->route->pattern);

    idem->values[IDEM_KEY] = ngx_pnalloc(r->pool,
                                         NGX_HTTP_VIDEO_API_IDEM_HASH_HEX + 1);
    idem->values[IDEM_REQUEST] = ngx_pnalloc(r->pool,
                                      NGX_HTTP_VIDEO_API_IDEM_HASH_HEX + 1);
    idem->values[IDEM_TTL] = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1);

    if (idem->values[IDEM_KEY] == NULL || idem->values[IDEM_REQUEST] == NULL
        || idem->values[IDEM_TTL] == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf((u_char *) idem->values[IDEM_TTL], "%T%Z", mcf->idem_ttl);

    /* what makes it the same request: method, path, query, body */

    parts[0] = r->method_name;
    parts[1] = sp;
    parts[2] = r->uri;
    parts[3] = qm;
    parts[4] = r->args;
    parts[5] = nl;
    parts[6] = ctx->body;

    if (ngx_http_video_api_idem_hash(key, 1, (u_char *) idem->values[IDEM_KEY])
        != NGX_OK
        || ngx_http_video_api_idem_hash(parts, 7,
                                        (u_char *) idem->values[IDEM_REQUEST])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the stored answer opens with the key and the caller's credential */

    cred = ngx_http_video_api_header_in(r, "Authorization");

    if (video_idem_secret((char *) key->data, key->len,
                          cred ? (char *) cred->data : NULL,
                          cred ? cred->len : 0, idem->secret)
        != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->idem = idem;

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_video_api_idem_claim(ngx_http_video_api_run_t *run, ngx_uint_t next)
{
    ngx_http_video_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(run->request, ngx_http_video_api_module);

    if (ctx == NULL || ctx->idem == NULL || ctx->idem->claimed) {
        return ngx_http_video_api_run_goto(run, next);
    }

    return ngx_http_video_api_run_call(run, &idem_steps, ctx->idem,
                                       IDEM_BEGIN, next);
}


ngx_uint_t
ngx_http_video_api_idem_capture(ngx_http_video_api_ctx_t *ctx,
    ngx_uint_t status, ngx_buf_t *b)
{
    ngx_http_video_api_idem_t  *idem;

    idem = ctx->idem;

    if (idem == NULL || !idem->capture) {
        return 0;
    }

    idem->status = status;
    idem->buf = b;
    idem->captured = 1;

    return 1;
}


/* what the seal binds besides the body: "<scope>\n<route>\n<status>" */

static u_char *
ngx_http_video_api_idem_aad(ngx_http_request_t *r,
    ngx_http_video_api_idem_t *idem, ngx_uint_t status, size_t *len)
{
    u_char  *p, *last;

    p = ngx_pnalloc(r->pool, ngx_strlen(idem->values[IDEM_SCOPE])
                             + ngx_strlen(idem->values[IDEM_ROUTE])
                             + 2 + NGX_INT_T_LEN);
    if (p == NULL) {
        return NULL;
    }

    last = ngx_sprintf(p, "%s\n%s\n%ui", idem->values[IDEM_SCOPE],
                       idem->values[IDEM_ROUTE], status);
    *len = last - p;

    return p;
}


ngx_int_t
ngx_http_video_api_idem_finish(ngx_http_video_api_run_t *run, ngx_int_t rc)
{
    u_char                     *aad, *sealed, *hex;
    size_t                      aad_len, len;
    ngx_http_request_t         *r;
    ngx_http_video_api_ctx_t   *ctx;
    ngx_http_video_api_idem_t  *idem;

    r = run->request;
    ctx = ngx_http_get_module_ctx(r, ngx_http_video_api_module);
    idem = (ctx != NULL) ? ctx->idem : NULL;

    if (idem == NULL || !idem->claimed || rc == NGX_DONE) {
        return rc;
    }

    idem->claimed = 0;
    idem->rc = rc;

    if (!idem->captured || idem->status < NGX_HTTP_OK
        || idem->status >= NGX_HTTP_SPECIAL_RESPONSE)
    {
        /* nothing created, nothing kept: a retry runs again */

        return ngx_http_video_api_run_call(run, &idem_steps, idem,
                                           IDEM_ROLLBACK, 0);
    }

    len = idem->buf->last - idem->buf->pos;

    aad = ngx_http_video_api_idem_aad(r, idem, idem->status, &aad_len);
    sealed = ngx_pnalloc(r->pool, len + VIDEO_IDEM_SEAL_EXTRA);
    hex = ngx_pnalloc(r->pool, 2 * (len + VIDEO_IDEM_SEAL_EXTRA) + 1);
    idem->store[STORE_STATUS] = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);

    if (aad == NULL || sealed == NULL || hex == NULL
        || idem->store[STORE_STATUS] == NULL
        || video_idem_seal(idem->secret, aad, aad_len, idem->buf->pos, len,
                           sealed)
           != 0)
    {
        idem->captured = 0;
        idem->rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        return ngx_http_video_api_run_call(run, &idem_steps, idem,
                                           IDEM_ROLLBACK, 0);
    }

    *ngx_hex_dump(hex, sealed, len + VIDEO_IDEM_SEAL_EXTRA) = '\0';
    ngx_sprintf((u_char *) idem->store[STORE_STATUS], "%ui%Z", idem->status);

    idem->store[STORE_SCOPE] = idem->values[IDEM_SCOPE];
    idem->store[STORE_ROUTE] = idem->values[IDEM_ROUTE];
    idem->store[STORE_KEY] = idem->values[IDEM_KEY];
    idem->store[STORE_ANSWER] = (char *) hex;

    return ngx_http_video_api_run_call(run, &idem_steps, idem, IDEM_STORE, 0);
}


/* the answer kept for a key: replayed, or a 409 */

static ngx_int_t
ngx_http_video_api_idem_found(ngx_http_video_api_run_t *run,
    ngx_http_video_api_idem_t *idem)
{
    u_char              *aad, *sealed, *p;
    long                 n;
    size_t               aad_len, hex_len, len;
    PGresult            *res;
    ngx_buf_t           *b;
    ngx_int_t            status;
    ngx_http_request_t  *r;

    r = run->request;
    res = run->res;

    if (!ngx_http_video_api_run_ok(run)
        || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 3)
    {
        return ngx_http_video_api_run_failed(run);
    }

    if (PQntuples(res) == 0) {

        /* expired and removed since the claim: claim it again, once */

        if (!idem->retried) {
            idem->retried = 1;
            return ngx_http_video_api_run_goto(run, IDEM_BEGIN);
        }

        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT,
                   "CONFLICT", "A request with this Idempotency-Key is in "
                   "progress; retry it later");
    }

    if (PQgetvalue(res, 0, 0)[0] != 't') {
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT,
                   "CONFLICT", "This Idempotency-Key was used with another "
                   "request; use a new key for a new request");
    }

    status = ngx_atoi((u_char *) PQgetvalue(res, 0, 1),
                      PQgetlength(res, 0, 1));
    hex_len = PQgetlength(res, 0, 2);

    if (status < NGX_HTTP_OK || status >= NGX_HTTP_SPECIAL_RESPONSE
        || PQgetisnull(res, 0, 2) || hex_len % 2 != 0
        || hex_len / 2 < VIDEO_IDEM_SEAL_EXTRA)
    {
        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT,
                   "CONFLICT", "A request with this Idempotency-Key is in "
                   "progress; retry it later");
    }

    len = hex_len / 2;
    sealed = ngx_pnalloc(r->pool, len);
    b = ngx_create_temp_buf(r->pool, len - VIDEO_IDEM_SEAL_EXTRA + 1);
    aad = ngx_http_video_api_idem_aad(r, idem, (ngx_uint_t) status,
                                      &aad_len);

    if (sealed == NULL || b == NULL || aad == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (p = (u_char *) PQgetvalue(res, 0, 2), n = 0;
         (size_t) n < len;
         n++, p += 2)
    {
        sealed[n] = (u_char) ((ngx_hextoi(p, 1) << 4) | ngx_hextoi(p + 1, 1));
    }

    n = video_idem_open(idem->secret, aad, aad_len, sealed, len, b->pos);

    if (n < 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "video_api: the stored answer of an idempotency key "
                      "does not open");

        return ngx_http_video_api_send_error(r, NGX_HTTP_CONFLICT,
                   "CONFLICT", "This Idempotency-Key was used with another "
                   "request; use a new key for a new request");
    }

    b->last = b->pos + n;

    if (ngx_http_video_api_header_out(r, "Idempotent-Replayed",
                                      &ngx_http_video_api_idem_true)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_video_api_send_body(r, (ngx_uint_t) status,
                                        &ngx_http_video_api_idem_json, b);
}


/* a failure inside the transaction: its answer kept, then rolled back */

static ngx_int_t
ngx_http_video_api_idem_abort(ngx_http_video_api_run_t *run,
    ngx_http_video_api_idem_t *idem)
{
    idem->claimed = 0;
    idem->capture = 1;
    idem->captured = 0;
    idem->rc = ngx_http_video_api_run_failed(run);

    return ngx_http_video_api_run_goto(run, IDEM_ROLLBACK);
}


static ngx_int_t
ngx_http_video_api_idem_step(ngx_http_video_api_run_t *run)
{
    PGresult                   *res;
    ngx_http_video_api_idem_t  *idem;

    idem = run->data;
    res = run->res;

    switch (run->step) {

    case IDEM_BEGIN:
        run->hold = 1;

        return ngx_http_video_api_run_query(run, IDEM_CLAIM, &idem_begin_stmt,
                                            0, NULL);

    case IDEM_CLAIM:
        if (!ngx_http_video_api_run_ok(run)) {
            return ngx_http_video_api_idem_abort(run, idem);
        }

        return ngx_http_video_api_run_query(run, IDEM_CLAIMED,
                                            &idem_claim_stmt, IDEM_NPARAMS,
                                            idem->values);

    case IDEM_CLAIMED:
        if (!ngx_http_video_api_run_ok(run)
            || PQresultStatus(res) != PGRES_TUPLES_OK)
        {
            return ngx_http_video_api_idem_abort(run, idem);
        }

        if (PQntuples(res) == 1) {

            /* ours: the route creates in this transaction */

            idem->claimed = 1;
            idem->capture = 1;

            return ngx_http_video_api_run_return(run);
        }

        /* answered: out of the transaction, then the answer read */

        run->hold = 0;

        return ngx_http_video_api_run_query(run, IDEM_LOOKUP,
                                            &idem_rollback_stmt, 0, NULL);

    case IDEM_LOOKUP:
        if (!ngx_http_video_api_run_ok(run)) {
            return ngx_http_video_api_run_failed(run);
        }

        return ngx_http_video_api_run_query(run, IDEM_FOUND,
                                            &idem_lookup_stmt,
                                            IDEM_REQUEST + 1, idem->values);

    case IDEM_FOUND:
        return ngx_http_video_api_idem_found(run, idem);

    case IDEM_STORE:
        return ngx_http_video_api_run_query(run, IDEM_STORED,
                                            &idem_store_stmt, STORE_NPARAMS,
                                            idem->store);

    case IDEM_STORED:
        if (!ngx_http_video_api_run_ok(run) || PQntuples(res) != 1) {
            return ngx_http_video_api_idem_abort(run, idem);
        }

        run->hold = 0;

        return ngx_http_video_api_run_query(run, IDEM_COMMITTED,
                                            &idem_commit_stmt, 0, NULL);

    case IDEM_COMMITTED:
        idem->capture = 0;

        if (!ngx_http_video_api_run_ok(run)) {

            /* not committed: nothing was created */

            return ngx_http_video_api_run_failed(run);
        }

        return ngx_http_video_api_send_body(run->request, idem->status,
                                            &ngx_http_video_api_idem_json,
                                            idem->buf);

    case IDEM_ROLLBACK:
        run->hold = 0;

        return ngx_http_video_api_run_query(run, IDEM_ROLLED,
                                            &idem_rollback_stmt, 0, NULL);

    default: /* IDEM_ROLLED */
        idem->capture = 0;

        ngx_http_video_api_run_release(run);

        if (idem->captured) {
            return ngx_http_video_api_send_body(run->request, idem->status,
                                           &ngx_http_video_api_idem_json,
                                           idem->buf);
        }

        return idem->rc;
    }
}
