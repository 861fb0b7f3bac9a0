/*
 * The operators' commands for webhook secrets (video_webhook.h):
 *
 *   video-worker webhooks seal      a secret read on stdin, sealed under
 *                                   webhook_key, on stdout
 *   video-worker webhooks reseal    every endpoint's secrets sealed again
 *                                   under webhook_key
 *
 * Rotating the installation's key: set webhook_previous_key (and nginx's
 * key=) to the old key and webhook_key to the new one, restart, run
 * `webhooks reseal`, then drop the previous key.  Until the reseal, the
 * delivery worker opens the secrets still sealed under the old key with
 * webhook_previous_key.
 */

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "video_webhook.h"
#include "video_worker.h"


typedef struct {
    video_webhook_key_t         key;
    video_webhook_key_t         previous;
    const video_webhook_key_t  *keys[2];
    size_t                      n;
} video_admin_keys_t;


static int
video_admin_webhook_keys(video_admin_keys_t *k)
{
    const char  *s;

    s = video_worker_conf.webhook_key;

    if (s[0] == '@' || video_webhook_key_derive(s, strlen(s), &k->key) != 0) {
        fprintf(stderr, "video-worker: webhook_key is not set or shorter "
                "than 16 bytes (conf/worker.conf holds a placeholder: use "
                ".run/workers/worker.conf or set "
                "VIDEO_WORKER_WEBHOOK_KEY)\n");
        return -1;
    }

    k->keys[0] = &k->key;
    k->n = 1;

    s = video_worker_conf.webhook_previous_key;

    if (s[0] == '\0') {
        return 0;
    }

    if (video_webhook_key_derive(s, strlen(s), &k->previous) != 0) {
        fprintf(stderr, "video-worker: webhook_previous_key is shorter than "
                "16 bytes\n");
        return -1;
    }

    k->keys[1] = &k->previous;
    k->n = 2;

    return 0;
}


static int
video_admin_webhook_seal(video_admin_keys_t *k)
{
    char           line[256], sealed[VIDEO_WEBHOOK_SEALED_MAX];
    size_t         len;
    unsigned char  hmac[64];

    if (fgets(line, sizeof(line), stdin) == NULL) {
        fprintf(stderr, "video-worker: no secret on standard input\n");
        return 1;
    }

    len = strcspn(line, "\r\n");
    line[len] = '\0';

    if (video_webhook_secret_key(line, len, hmac) < 0
        || video_webhook_seal(&k->key, line, len, sealed) != 0)
    {
        explicit_bzero(line, sizeof(line));
        fprintf(stderr, "video-worker: not a webhook secret (\"whsec_\" "
                "and base64)\n");
        return 1;
    }

    explicit_bzero(line, sizeof(line));
    explicit_bzero(hmac, sizeof(hmac));

    printf("%s\n", sealed);

    return 0;
}


/* one sealed secret under the current key; 1 changed, 0 not, -1 */

static int
video_admin_webhook_again(video_admin_keys_t *k, const char *sealed,
    char *out)
{
    int     rc;
    char    secret[128];
    size_t  which;

    if (video_webhook_open(k->keys, k->n, sealed, secret, sizeof(secret),
                           &which)
        != 0)
    {
        return -1;
    }

    rc = 0;

    if (which != 0) {
        rc = video_webhook_seal(&k->key, secret, strlen(secret), out) == 0
             ? 1 : -1;
    }

    explicit_bzero(secret, sizeof(secret));

    return rc;
}


static int
video_admin_webhook_reseal(PGconn *pg, video_admin_keys_t *k)
{
    int             i, n, a, b, changed, bad;
    char            s1[VIDEO_WEBHOOK_SEALED_MAX], s2[VIDEO_WEBHOOK_SEALED_MAX];
    char            actor[96], detail[64];
    PGresult       *res, *r;
    const char     *values[5];
    struct passwd  *pw;

    r = PQexec(pg, "BEGIN");
    PQclear(r);

    res = PQexec(pg, "SELECT id, secret_sealed, previous_sealed"
                 " FROM webhook_endpoints ORDER BY id FOR UPDATE");

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "video-worker: reading the endpoints failed: %s",
                PQresultErrorMessage(res));
        goto failed;
    }

    n = PQntuples(res);
    changed = 0;
    bad = 0;

    for (i = 0; i < n; i++) {
        a = video_admin_webhook_again(k, PQgetvalue(res, i, 1), s1);
        b = PQgetisnull(res, i, 2)
            ? 0 : video_admin_webhook_again(k, PQgetvalue(res, i, 2), s2);

        if (a < 0 || b < 0) {
            fprintf(stderr, "video-worker: endpoint %s: a secret opens "
                    "with neither webhook_key nor webhook_previous_key\n",
                    PQgetvalue(res, i, 0));
            bad++;
            continue;
        }

        if (a == 0 && b == 0) {
            continue;
        }

        values[0] = PQgetvalue(res, i, 0);
        values[1] = a ? s1 : NULL;
        values[2] = b ? s2 : NULL;

        r = PQexecParams(pg, "UPDATE webhook_endpoints"
                         " SET secret_sealed = coalesce($2, secret_sealed),"
                         " previous_sealed = coalesce($3, previous_sealed)"
                         " WHERE id = $1", 3, NULL, values, NULL, NULL, 0);

        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "video-worker: updating endpoint %s failed: %s",
                    values[0], PQresultErrorMessage(r));
            PQclear(r);
            goto failed;
        }

        PQclear(r);
        changed++;
    }

    if (bad > 0) {
        fprintf(stderr, "video-worker: %d endpoint(s) cannot be opened: "
                "nothing changed\n", bad);
        goto failed;
    }

    pw = getpwuid(getuid());
    snprintf(actor, sizeof(actor), "cli:%s", pw ? pw->pw_name : "?");
    snprintf(detail, sizeof(detail), "{\"resealed\": %d, \"keyId\": \"%s\"}",
             changed, k->key.id);

    values[0] = actor;
    values[1] = detail;

    r = PQexecParams(pg, "INSERT INTO audit_log (actor, action, source,"
                     " detail) VALUES ($1, 'webhooks.reseal', 'cli',"
                     " $2::jsonb)", 2, NULL, values, NULL, NULL, 0);

    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "video-worker: writing the audit log failed: %s",
                PQresultErrorMessage(r));
        PQclear(r);
        goto failed;
    }

    PQclear(r);

    r = PQexec(pg, "COMMIT");

    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "video-worker: COMMIT failed: %s",
                PQresultErrorMessage(r));
        PQclear(r);
        PQclear(res);
        return 1;
    }

    PQclear(r);
    PQclear(res);

    fprintf(stderr, "%d of %d endpoint(s) sealed again under key %s\n",
            changed, n, k->key.id);

    return 0;

failed:

    PQclear(res);
    r = PQexec(pg, "ROLLBACK");
    PQclear(r);

    return 1;
}


int
video_admin_webhooks(int argc, char **argv)
{
    int                 rc;
    PGconn             *pg;
    video_admin_keys_t  k;

    memset(&k, 0, sizeof(k));

    if (argc != 3
        || (strcmp(argv[2], "seal") != 0 && strcmp(argv[2], "reseal") != 0))
    {
        fprintf(stderr, "usage: video-worker webhooks seal   (a secret on "
                "standard input)\n"
                "       video-worker webhooks reseal\n");
        return 2;
    }

    if (video_admin_webhook_keys(&k) != 0) {
        return 1;
    }

    if (strcmp(argv[2], "seal") == 0) {
        rc = video_admin_webhook_seal(&k);
        explicit_bzero(&k, sizeof(k));
        return rc;
    }

    pg = PQconnectdb(video_worker_conf.postgres);

    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "video-worker: postgresql unavailable: %s",
                PQerrorMessage(pg));
        PQfinish(pg);
        explicit_bzero(&k, sizeof(k));
        return 1;
    }

    rc = video_admin_webhook_reseal(pg, &k);

    PQfinish(pg);
    explicit_bzero(&k, sizeof(k));

    return rc;
}
