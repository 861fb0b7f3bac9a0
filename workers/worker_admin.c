/*
 * The operators' command line for accounts and API keys: what works with
 * only PostgreSQL reachable, so the first admin key comes from here.
 * Every change is written with its audit row in one transaction.
 *
 *   video-worker keys create --account ID --role ROLE [--name N]
 *                            [--expires-in SECONDS]
 *   video-worker keys list [--account ID]
 *   video-worker keys revoke KEY_ID
 *   video-worker accounts create --name N [--id ID] [limits]
 *   video-worker accounts set ID [--name N] [limits]
 *   video-worker accounts list
 *   video-worker accounts disable|enable ID
 *
 * limits: --max-bytes B, --max-videos N, --max-live N ("none": no limit)
 */

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "video_apikey.h"
#include "video_cache.h"
#include "video_id.h"
#include "video_worker.h"


typedef struct {
    const char  *account;
    const char  *role;
    const char  *name;
    const char  *expires_in;
    const char  *id;
    const char  *max_bytes;
    const char  *max_videos;
    const char  *max_live;
    const char  *arg;          /* the one positional argument */
} video_admin_args_t;


static char  video_admin_actor[96];


static void
video_admin_usage(FILE *out)
{
    fprintf(out,
        "usage: video-worker keys create --account ID --role ROLE "
        "[--name NAME]\n"
        "                                [--expires-in SECONDS]\n"
        "       video-worker keys list [--account ID]\n"
        "       video-worker keys revoke KEY_ID\n"
        "       video-worker accounts create --name NAME [--id ID] "
        "[LIMITS]\n"
        "       video-worker accounts set ID [--name NAME] [LIMITS]\n"
        "       video-worker accounts list\n"
        "       video-worker accounts disable ID\n"
        "       video-worker accounts enable ID\n"
        "ROLE: admin, editor or viewer\n"
        "LIMITS: --max-bytes BYTES, --max-videos N, --max-live N "
        "(\"none\": no limit)\n"
        "keys create prints the key on standard output, once: it is "
        "stored only as its SHA-256\n");
}


static int
video_admin_parse(int argc, char **argv, video_admin_args_t *a)
{
    int           i;
    const char  **slot;

    memset(a, 0, sizeof(video_admin_args_t));

    for (i = 0; i < argc; i++) {

        if (strncmp(argv[i], "--", 2) != 0) {
            if (a->arg != NULL) {
                fprintf(stderr, "video-worker: unexpected \"%s\"\n", argv[i]);
                return -1;
            }

            a->arg = argv[i];
            continue;
        }

        if (strcmp(argv[i], "--account") == 0) {
            slot = &a->account;
        } else if (strcmp(argv[i], "--role") == 0) {
            slot = &a->role;
        } else if (strcmp(argv[i], "--name") == 0) {
            slot = &a->name;
        } else if (strcmp(argv[i], "--expires-in") == 0) {
            slot = &a->expires_in;
        } else if (strcmp(argv[i], "--id") == 0) {
            slot = &a->id;
        } else if (strcmp(argv[i], "--max-bytes") == 0) {
            slot = &a->max_bytes;
        } else if (strcmp(argv[i], "--max-videos") == 0) {
            slot = &a->max_videos;
        } else if (strcmp(argv[i], "--max-live") == 0) {
            slot = &a->max_live;
        } else {
            fprintf(stderr, "video-worker: unknown option \"%s\"\n", argv[i]);
            return -1;
        }

        if (i + 1 == argc) {
            fprintf(stderr, "video-worker: %s needs a value\n", argv[i]);
            return -1;
        }

        *slot = argv[++i];
    }

    return 0;
}


/* a limit as SQL text: NULL for "none", else digits; -1 when malformed */

static int
video_admin_limit(const char *opt, const char *v, const char **out)
{
    const char  *p;

    if (v == NULL) {
        *out = NULL;
        return 0;
    }

    if (strcmp(v, "none") == 0) {
        *out = NULL;
        return 0;
    }

    for (p = v; *p >= '0' && *p <= '9'; p++) {
        /* void */
    }

    if (p == v || *p != '\0' || p - v > 18) {
        fprintf(stderr, "video-worker: %s \"%s\" is not a number or "
                "\"none\"\n", opt, v);
        return -1;
    }

    *out = v;

    return 0;
}


/* runs sql; a failure is reported with what was being done */

static PGresult *
video_admin_exec(PGconn *pg, const char *what, const char *sql, int n,
    const char *const *values, ExecStatusType expect)
{
    PGresult  *res;

    res = PQexecParams(pg, sql, n, NULL, values, NULL, NULL, 0);

    if (PQresultStatus(res) != expect) {
        fprintf(stderr, "video-worker: %s failed: %s", what,
                PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                             : PQerrorMessage(pg));
        PQclear(res);
        return NULL;
    }

    return res;
}


/*
 * Runs one changing statement and its audit row in a transaction: the
 * statement's first column of its one row is the audit's target.  0, or
 * -1 (nothing changed); *found 0 when the statement matched no row.
 */

static int
video_admin_change(PGconn *pg, const char *what, const char *sql, int n,
    const char *const *values, const char *action, const char *account,
    const char *detail, char *target, size_t size, int *found)
{
    PGresult    *res;
    const char  *audit[5];
    char         owner[64];

    *found = 0;

    res = video_admin_exec(pg, "BEGIN", "BEGIN", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);

    res = video_admin_exec(pg, what, sql, n, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        goto failed;
    }

    if (PQntuples(res) != 1) {
        PQclear(res);
        goto failed;
    }

    snprintf(target, size, "%s", PQgetvalue(res, 0, 0));

    if (account == NULL && PQnfields(res) > 1) {
        snprintf(owner, sizeof(owner), "%s", PQgetvalue(res, 0, 1));
        account = owner;
    }

    PQclear(res);

    audit[0] = video_admin_actor;
    audit[1] = account;
    audit[2] = action;
    audit[3] = target;
    audit[4] = detail;

    res = video_admin_exec(pg, "writing the audit log",
              "INSERT INTO audit_log (actor, account_id, action, target, "
              "source, detail) VALUES ($1, $2, $3, $4, 'cli', $5::jsonb) "
              "RETURNING id", 5, audit, PGRES_TUPLES_OK);

    PQclear(res);

    if (res == NULL) {
        goto failed;
    }

    res = video_admin_exec(pg, "COMMIT", "COMMIT", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);
    *found = 1;

    return 0;

failed:

    res = PQexec(pg, "ROLLBACK");
    PQclear(res);

    return -1;
}


/* a JSON text for the audit log's detail (malloc'ed), from a json_pack */

static char *
video_admin_detail(json_t *j)
{
    char  *s;

    s = (j != NULL) ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);

    if (s == NULL) {
        fprintf(stderr, "video-worker: out of memory\n");
    }

    return s;
}


static int
video_admin_key_create(PGconn *pg, video_admin_args_t *a)
{
    int            found, rc;
    char          *detail;
    char           key[VIDEO_APIKEY_LEN + 1], id[VIDEO_ID_LEN + 1];
    char           hash[VIDEO_APIKEY_HASH_TEXT_LEN + 1], hint[16];
    char           target[64];
    const char    *v[7];
    unsigned char  h[VIDEO_APIKEY_HASH_LEN];

    if (a->account == NULL || a->role == NULL || a->arg != NULL) {
        video_admin_usage(stderr);
        return 2;
    }

    if (video_role_parse(a->role, strlen(a->role)) == VIDEO_ROLE_NONE) {
        fprintf(stderr, "video-worker: role \"%s\" is not admin, editor or "
                "viewer\n", a->role);
        return 2;
    }

    if (a->expires_in != NULL
        && (strspn(a->expires_in, "0123456789") != strlen(a->expires_in)
            || strlen(a->expires_in) == 0 || strlen(a->expires_in) > 9
            || atol(a->expires_in) == 0))
    {
        fprintf(stderr, "video-worker: --expires-in \"%s\" is not a number "
                "of seconds\n", a->expires_in);
        return 2;
    }

    if (video_apikey_generate(key) != 0 || video_id_generate(id) != 0
        || video_apikey_hash(key, VIDEO_APIKEY_LEN, h) != 0)
    {
        fprintf(stderr, "video-worker: cannot make a key: %s\n",
                strerror(errno));
        return 1;
    }

    key[VIDEO_APIKEY_LEN] = '\0';
    id[VIDEO_ID_LEN] = '\0';

    video_apikey_hash_text(h, hash);

    snprintf(hint, sizeof(hint), "%.*s", (int) VIDEO_APIKEY_PREFIX_LEN + 4,
             key);

    v[0] = id;
    v[1] = a->account;
    v[2] = a->role;
    v[3] = a->name ? a->name : "";
    v[4] = hash;
    v[5] = hint;
    v[6] = a->expires_in;

    detail = video_admin_detail(json_pack("{s:s, s:s, s:s?}", "role",
                                          a->role, "name", v[3],
                                          "expiresIn", a->expires_in));
    if (detail == NULL) {
        return 1;
    }

    /* only into an account that is enabled */

    rc = video_admin_change(pg, "creating the key",
             "INSERT INTO api_keys (id, account_id, role, name, key_hash, "
             "hint, expires_at) SELECT $1, a.id, $3, $4, $5::bytea, $6, "
             "now() + make_interval(secs => $7::bigint) FROM accounts a "
             "WHERE a.id = $2 AND a.disabled_at IS NULL RETURNING id",
             7, v, "key.create", a->account, detail, target, sizeof(target),
             &found);

    free(detail);

    if (rc != 0) {
        if (!found) {
            fprintf(stderr, "video-worker: account \"%s\" not found or "
                    "disabled\n", a->account);
        }

        return 1;
    }

    printf("%s\n", key);
    fprintf(stderr, "key %s: %s of account \"%s\"%s%s; shown once, keep it "
            "now\n", id, a->role, a->account,
            a->expires_in ? ", expires in seconds: " : "",
            a->expires_in ? a->expires_in : "");

    return 0;
}


static void
video_admin_print(PGresult *res)
{
    int  r, c, n;

    n = PQnfields(res);

    for (c = 0; c < n; c++) {
        printf("%s%s", c ? "\t" : "", PQfname(res, c));
    }

    printf("\n");

    for (r = 0; r < PQntuples(res); r++) {
        for (c = 0; c < n; c++) {
            printf("%s%s", c ? "\t" : "",
                   PQgetisnull(res, r, c) ? "-" : PQgetvalue(res, r, c));
        }

        printf("\n");
    }
}


static int
video_admin_list(PGconn *pg, const char *what, const char *sql, int n,
    const char *const *values)
{
    PGresult  *res;

    res = video_admin_exec(pg, what, sql, n, values, PGRES_TUPLES_OK);
    if (res == NULL) {
        return 1;
    }

    video_admin_print(res);
    PQclear(res);

    return 0;
}


#define VIDEO_ADMIN_TIME(c)                                                  \
    "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"


static int
video_admin_keys(PGconn *pg, const char *cmd, video_admin_args_t *a)
{
    int          found;
    char         target[64];
    const char  *v[1];

    if (strcmp(cmd, "create") == 0) {
        return video_admin_key_create(pg, a);
    }

    if (strcmp(cmd, "list") == 0 && a->arg == NULL) {
        return video_admin_list(pg, "listing keys",
            "SELECT id, account_id AS account, role, name, hint, "
            VIDEO_ADMIN_TIME("created_at") " AS created, "
            VIDEO_ADMIN_TIME("expires_at") " AS expires, "
            VIDEO_ADMIN_TIME("last_used_at") " AS last_used, "
            "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' "
            "WHEN expires_at <= now() THEN 'expired' ELSE 'active' END "
            "AS state FROM api_keys "
            "WHERE $1::text IS NULL OR account_id = $1 "
            "ORDER BY created_at, id", 1, &a->account);
    }

    if (strcmp(cmd, "revoke") == 0 && a->arg != NULL) {
        v[0] = a->arg;

        if (video_admin_change(pg, "revoking the key",
                "UPDATE api_keys SET revoked_at = now() "
                "WHERE id = $1 AND revoked_at IS NULL "
                "RETURNING id, account_id", 1, v, "key.revoke", NULL, NULL,
                target, sizeof(target), &found)
            != 0)
        {
            if (!found) {
                fprintf(stderr, "video-worker: key \"%s\" not found or "
                        "already revoked\n", a->arg);
            }

            return 1;
        }

        fprintf(stderr, "key %s revoked\n", target);
        return 0;
    }

    video_admin_usage(stderr);
    return 2;
}


/*
 * A disabled account's videos have a new token generation: their cached
 * copies (which carry the old one) go, so play tokens die at once rather
 * than when the copies expire.  Without Redis, they expire on their own.
 */

static void
video_admin_uncache(PGconn *pg, const char *account)
{
    int            i;
    char           err[256];
    PGresult      *res;
    redisReply    *reply;
    redisContext  *rc;
    const char    *v[1];

    v[0] = account;

    res = video_admin_exec(pg, "listing the account's videos",
                           "SELECT id FROM videos WHERE account_id = $1", 1,
                           v, PGRES_TUPLES_OK);
    if (res == NULL) {
        return;
    }

    rc = video_worker_redis_connect(5, err, sizeof(err));

    if (rc == NULL) {
        fprintf(stderr, "warning: redis unavailable (%s): cached copies of "
                "the account's videos expire on their own\n", err);
        PQclear(res);
        return;
    }

    for (i = 0; i < PQntuples(res); i++) {
        reply = redisCommand(rc, "DEL video:%s", PQgetvalue(res, i, 0));
        freeReplyObject(reply);
    }

    reply = redisCommand(rc, "INCR %s", VIDEO_CACHE_LIST_VERSION);
    freeReplyObject(reply);

    redisFree(rc);
    PQclear(res);
}


static int
video_admin_accounts(PGconn *pg, const char *cmd, video_admin_args_t *a)
{
    int          found, disable, i;
    char         target[64], id[VIDEO_ID_LEN + 1];
    const char  *v[5], *w[3], *all[8], *action;

    if (strcmp(cmd, "list") == 0 && a->arg == NULL) {
        return video_admin_list(pg, "listing accounts",
            "SELECT a.id, a.name, a.max_bytes, a.max_videos, a.max_live, "
            "a.used_bytes, a.used_videos AS videos, a.open_live, "
            "a.live_now, "
            "(SELECT count(*) FROM api_keys k WHERE k.account_id = a.id "
            "AND k.revoked_at IS NULL) AS keys, "
            VIDEO_ADMIN_TIME("a.created_at") " AS created, "
            "CASE WHEN a.disabled_at IS NULL THEN 'enabled' "
            "ELSE 'disabled' END AS state FROM accounts a "
            "ORDER BY a.created_at, a.id", 0, NULL);
    }

    if ((strcmp(cmd, "create") == 0 && a->arg == NULL && a->name != NULL)
        || (strcmp(cmd, "set") == 0 && a->arg != NULL))
    {
        if (video_admin_limit("--max-bytes", a->max_bytes, &v[2]) != 0
            || video_admin_limit("--max-videos", a->max_videos, &v[3]) != 0
            || video_admin_limit("--max-live", a->max_live, &v[4]) != 0)
        {
            return 2;
        }

        v[1] = a->name;

        if (cmd[0] == 'c') {
            if (a->id == NULL) {
                if (video_id_generate(id) != 0) {
                    return 1;
                }

                id[VIDEO_ID_LEN] = '\0';
                a->id = id;
            }

            v[0] = a->id;

            if (video_admin_change(pg, "creating the account",
                    "INSERT INTO accounts (id, name, max_bytes, max_videos, "
                    "max_live) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    5, v, "account.create", a->id, NULL, target,
                    sizeof(target), &found)
                != 0)
            {
                return 1;
            }

            printf("%s\n", target);
            return 0;
        }

        /* set: only what was given changes; "none" clears a limit */

        v[0] = a->arg;
        w[0] = a->max_bytes ? "t" : "f";
        w[1] = a->max_videos ? "t" : "f";
        w[2] = a->max_live ? "t" : "f";

        for (i = 0; i < 5; i++) {
            all[i] = v[i];
        }

        for (i = 0; i < 3; i++) {
            all[5 + i] = w[i];
        }

        if (video_admin_change(pg, "changing the account",
                "UPDATE accounts SET name = coalesce($2, name), "
                "max_bytes = CASE WHEN $6 THEN $3::bigint "
                "ELSE max_bytes END, "
                "max_videos = CASE WHEN $7 THEN $4::integer "
                "ELSE max_videos END, "
                "max_live = CASE WHEN $8 THEN $5::integer "
                "ELSE max_live END "
                "WHERE id = $1 RETURNING id",
                8, all, "account.update", a->arg, NULL, target,
                sizeof(target), &found)
            != 0)
        {
            if (!found) {
                fprintf(stderr, "video-worker: account \"%s\" not found\n",
                        a->arg);
            }

            return 1;
        }

        fprintf(stderr, "account %s changed\n", target);
        return 0;
    }

    disable = strcmp(cmd, "disable") == 0;

    if ((disable || strcmp(cmd, "enable") == 0) && a->arg != NULL) {
        v[0] = a->arg;
        action = disable ? "account.disable" : "account.enable";

        /* disabling kills the play tokens of the account's videos */

        if (video_admin_change(pg, "changing the account",
                disable
                ? "WITH a AS (UPDATE accounts SET disabled_at = now() "
                  "WHERE id = $1 AND disabled_at IS NULL RETURNING id), "
                  "v AS (UPDATE videos SET token_gen = token_gen + 1 "
                  "WHERE account_id IN (SELECT id FROM a)) "
                  "SELECT id FROM a"
                : "UPDATE accounts SET disabled_at = NULL "
                  "WHERE id = $1 AND disabled_at IS NOT NULL RETURNING id",
                1, v, action, a->arg, NULL, target, sizeof(target), &found)
            != 0)
        {
            if (!found) {
                fprintf(stderr, "video-worker: account \"%s\" not found or "
                        "already %s\n", a->arg,
                        disable ? "disabled" : "enabled");
            }

            return 1;
        }

        if (disable) {
            video_admin_uncache(pg, a->arg);
        }

        fprintf(stderr, "account %s %s\n", target,
                disable ? "disabled" : "enabled");
        return 0;
    }

    video_admin_usage(stderr);
    return 2;
}


int
video_worker_admin(int argc, char **argv)
{
    int                  rc;
    PGconn              *pg;
    struct passwd       *pw;
    video_admin_args_t   a;

    if (argc >= 2 && strcmp(argv[1], "webhooks") == 0) {
        return video_admin_webhooks(argc, argv);
    }

    if (argc < 3 || video_admin_parse(argc - 3, argv + 3, &a) != 0) {
        video_admin_usage(stderr);
        return 2;
    }

    pw = getpwuid(getuid());
    snprintf(video_admin_actor, sizeof(video_admin_actor), "cli:%s",
             pw ? pw->pw_name : "?");

    pg = PQconnectdb(video_worker_conf.postgres);

    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "video-worker: postgresql unavailable: %s",
                PQerrorMessage(pg));
        PQfinish(pg);
        return 1;
    }

    if (strcmp(argv[1], "keys") == 0) {
        rc = video_admin_keys(pg, argv[2], &a);

    } else {
        rc = video_admin_accounts(pg, argv[2], &a);
    }

    PQfinish(pg);

    return rc;
}
