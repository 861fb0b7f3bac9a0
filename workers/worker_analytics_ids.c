/*
 * Step 1 of the analytics cycle: the set of ids (video:ids), which lets
 * the module refuse views of unknown videos without asking PostgreSQL,
 * filled from PostgreSQL when video:ids:complete is missing and pruned of
 * what is no video.  Applying a batch prunes it of videos deleted since.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_id.h"
#include "video_views.h"
#include "worker_analytics.h"


#define VIDEO_ANALYTICS_IDS_CHUNK   1000


/* -- step 1: the set of ids ----------------------------------------------- */


static int
video_analytics_ids_fill(video_analytics_t *a)
{
    int           i, n, argc;
    char          last[VIDEO_ID_LEN + 1];
    long long     total;
    PGresult     *res;
    redisReply   *r;
    const char   *values[1];
    const char   *argv[2 + VIDEO_ANALYTICS_IDS_CHUNK];

    last[0] = '\0';
    total = 0;

    for ( ;; ) {
        values[0] = last;

        res = video_worker_pg(a->pg,
                  "SELECT id FROM videos WHERE id > $1 ORDER BY id"
                  " LIMIT 1000",
                  1, values, PGRES_TUPLES_OK);
        if (res == NULL) {
            return -1;
        }

        n = PQntuples(res);

        if (n == 0) {
            PQclear(res);
            break;
        }

        argc = 0;
        argv[argc++] = "SADD";
        argv[argc++] = VIDEO_IDS_KEY;

        for (i = 0; i < n; i++) {
            argv[argc++] = PQgetvalue(res, i, 0);
        }

        snprintf(last, sizeof(last), "%s", PQgetvalue(res, n - 1, 0));

        r = video_analytics_argv(a, argc, argv);
        PQclear(res);

        if (r == NULL) {
            return -1;
        }

        freeReplyObject(r);
        total += n;

        if (n < VIDEO_ANALYTICS_IDS_CHUNK) {
            break;
        }
    }

    video_worker_log("added %lld id(s) to \"" VIDEO_IDS_KEY "\"", total);

    return 0;
}


/* the ids of ids (an array literal) that are no video */

PGresult *
video_analytics_missing(video_analytics_t *a, const char *ids)
{
    const char  *values[1];

    values[0] = ids;

    return video_worker_pg(a->pg,
               "SELECT x FROM unnest($1::text[]) x"
               " WHERE NOT EXISTS (SELECT 1 FROM videos WHERE id = x)",
               1, values, PGRES_TUPLES_OK);
}


/* SREMs from video:ids the ids of a result's first column, and extra */

int
video_analytics_srem(video_analytics_t *a, PGresult *res, const char **extra,
    int nextra)
{
    int           i, n, argc, rc;
    const char  **argv;
    redisReply   *r;

    n = res ? PQntuples(res) : 0;

    if (n + nextra == 0) {
        return 0;
    }

    argv = malloc((n + nextra + 2) * sizeof(char *));
    if (argv == NULL) {
        video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                            "out of memory");
        return -1;
    }

    argc = 0;
    argv[argc++] = "SREM";
    argv[argc++] = VIDEO_IDS_KEY;

    for (i = 0; i < n; i++) {
        argv[argc++] = PQgetvalue(res, i, 0);
    }

    for (i = 0; i < nextra; i++) {
        argv[argc++] = extra[i];
    }

    r = video_analytics_argv(a, argc, argv);
    free(argv);

    rc = r ? 0 : -1;

    if (r != NULL) {
        if (r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
            video_worker_log("removed %lld id(s) of deleted videos from "
                             "\"" VIDEO_IDS_KEY "\"", r->integer);
        }

        freeReplyObject(r);
    }

    return rc;
}


static int
video_analytics_ids_prune(video_analytics_t *a)
{
    int                     rc, nbad;
    char                    cursor[32], shown[72];
    size_t                  i;
    PGresult               *res;
    redisReply             *r, *m;
    const char            **bad;
    video_analytics_buf_t   ids;

    snprintf(cursor, sizeof(cursor), "0");

    do {
        r = video_analytics_cmd(a, "SSCAN " VIDEO_IDS_KEY " %s COUNT %d",
                                cursor, VIDEO_ANALYTICS_IDS_CHUNK);
        if (r == NULL) {
            return -1;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[0]->len >= sizeof(cursor)
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            video_worker_log("redis: SSCAN: unexpected reply");
            freeReplyObject(r);
            return -1;
        }

        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        m = r->element[1];

        memset(&ids, 0, sizeof(ids));
        bad = malloc((m->elements + 1) * sizeof(char *));
        nbad = 0;
        rc = (bad == NULL) ? -1 : video_analytics_add(&ids, "{");

        for (i = 0; rc == 0 && i < m->elements; i++) {
            if (m->element[i]->type != REDIS_REPLY_STRING) {
                continue;
            }

            if (!video_id_valid(m->element[i]->str, m->element[i]->len)) {
                /* no video has such an id */
                video_worker_log("\"" VIDEO_IDS_KEY "\" holds \"%s\", "
                                 "which is no id",
                                 video_analytics_printable(shown,
                                     sizeof(shown), m->element[i]->str,
                                     m->element[i]->len));
                bad[nbad++] = m->element[i]->str;
                continue;
            }

            rc = video_analytics_add(&ids, "%s%s", ids.len > 1 ? "," : "",
                                     m->element[i]->str);
        }

        if (rc == 0) {
            rc = video_analytics_add(&ids, "}");
        }

        res = NULL;

        if (rc == 0 && ids.len > 2) {
            res = video_analytics_missing(a, ids.data);
            rc = res ? 0 : -1;
        }

        if (rc == 0) {
            rc = video_analytics_srem(a, res, bad, nbad);
        }

        PQclear(res);
        free(ids.data);
        free(bad);
        freeReplyObject(r);

        if (rc != 0) {
            return -1;
        }

    } while (strcmp(cursor, "0") != 0 && !video_worker_stop);

    return video_worker_stop ? -1 : 0;
}


int
video_analytics_ids(video_analytics_t *a)
{
    long long    n;
    redisReply  *r;

    r = video_analytics_cmd(a, "EXISTS " VIDEO_IDS_COMPLETE_KEY);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &n, "EXISTS") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);

    if (n == 1) {
        return 0;
    }

    video_worker_log("\"" VIDEO_IDS_COMPLETE_KEY "\" is missing: filling "
                     "\"" VIDEO_IDS_KEY "\" from postgresql");

    if (video_analytics_ids_fill(a) != 0
        || video_analytics_ids_prune(a) != 0)
    {
        return -1;
    }

    r = video_analytics_cmd(a, "SET " VIDEO_IDS_COMPLETE_KEY " 1");
    if (r == NULL) {
        return -1;
    }

    freeReplyObject(r);

    return 0;
}
