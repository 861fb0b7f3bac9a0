/*
 * Applying a batch, which steps 3 and 4 of the analytics cycle do: its
 * fields are read into rows, each video's views summed, the live figures
 * and unique viewers read from Redis, and all of it written in one
 * PostgreSQL transaction with the batch's key; then the batch is deleted.
 */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "video_id.h"
#include "video_views.h"
#include "worker_analytics.h"


#define VIDEO_ANALYTICS_MANY_CHUNK  1000
#define VIDEO_ANALYTICS_PF_CHUNK    1000


/* a field of a batch: views of a video on a day */
typedef struct {
    char           day[sizeof("YYYY-MM-DD")];
    char           id[VIDEO_ID_LEN + 1];
    long long      n;
    long long      unique;
} video_analytics_row_t;


/* a video of a batch: its views summed over the days, its live figures */
typedef struct {
    const char    *id;
    long long      n;
    long long      today;
    long long      month;
} video_analytics_video_t;


/* -- applying a batch, for steps 3 and 4 ---------------------------------- */


/* "YYYY-MM-DD" of a date that exists: PostgreSQL would refuse others */

static int
video_analytics_day_valid(const char *s, size_t len)
{
    int     y, m, d, last;
    size_t  i;

    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };

    if (len != sizeof("YYYY-MM-DD") - 1 || s[4] != '-' || s[7] != '-') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }

    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10
        + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');

    if (y < 1 || m < 1 || m > 12 || d < 1) {
        return 0;
    }

    last = days[m - 1];

    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        last = 29;
    }

    return d <= last;
}


/* the fields of a batch into rows; malformed ones are logged and left */

static int
video_analytics_rows(redisReply *h, const char *key,
    video_analytics_row_t **out, size_t *nout, long long *views)
{
    char                    shown[72], *end;
    size_t                  i, n;
    long long               v;
    redisReply             *f, *c;
    video_analytics_row_t  *rows;

    rows = malloc((h->elements / 2 + 1) * sizeof(video_analytics_row_t));
    if (rows == NULL) {
        video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                            "out of memory");
        return -1;
    }

    n = 0;
    *views = 0;

    for (i = 0; i + 1 < h->elements; i += 2) {
        f = h->element[i];
        c = h->element[i + 1];

        /* "<day>:<id>" */

        if (f->type != REDIS_REPLY_STRING
            || f->len != sizeof("YYYY-MM-DD:") - 1 + VIDEO_ID_LEN
            || f->str[sizeof("YYYY-MM-DD") - 1] != ':'
            || !video_analytics_day_valid(f->str, sizeof("YYYY-MM-DD") - 1)
            || !video_id_valid(f->str + sizeof("YYYY-MM-DD:") - 1,
                               VIDEO_ID_LEN))
        {
            video_worker_log("%s: ignoring the malformed field \"%s\"", key,
                             f->type == REDIS_REPLY_STRING
                             ? video_analytics_printable(shown, sizeof(shown),
                                                         f->str, f->len)
                             : "");
            continue;
        }

        errno = 0;
        v = (c->type == REDIS_REPLY_STRING) ? strtoll(c->str, &end, 10) : 0;

        if (c->type != REDIS_REPLY_STRING || errno || end == c->str
            || *end != '\0' || v <= 0)
        {
            video_worker_log("%s: ignoring the malformed count of \"%s\"",
                             key, video_analytics_printable(shown,
                                      sizeof(shown), f->str, f->len));
            continue;
        }

        memcpy(rows[n].day, f->str, sizeof("YYYY-MM-DD") - 1);
        rows[n].day[sizeof("YYYY-MM-DD") - 1] = '\0';
        memcpy(rows[n].id, f->str + sizeof("YYYY-MM-DD:") - 1, VIDEO_ID_LEN);
        rows[n].id[VIDEO_ID_LEN] = '\0';
        rows[n].n = v;
        rows[n].unique = 0;

        *views += v;
        n++;
    }

    *out = rows;
    *nout = n;

    return 0;
}


static int
video_analytics_row_cmp(const void *one, const void *two)
{
    int                           rc;
    const video_analytics_row_t  *a, *b;

    a = one;
    b = two;

    rc = strcmp(a->id, b->id);

    return rc ? rc : strcmp(a->day, b->day);
}


/*
 * The day's unique viewers: generation 0's HyperLogLog takes every viewer
 * of the day, whatever the resets; it only grows, so a count that cannot
 * be read is 0 and the next batch of the day brings it
 */

static int
video_analytics_unique(video_analytics_t *a, video_analytics_row_t *rows,
    size_t n)
{
    size_t       i, j, end;
    redisReply  *r;

    for (i = 0; i < n; i = end) {
        end = (n - i > VIDEO_ANALYTICS_PF_CHUNK) ? i + VIDEO_ANALYTICS_PF_CHUNK
                                                 : n;

        for (j = i; j < end; j++) {
            if (redisAppendCommand(a->redis, "PFCOUNT views:u:%s:%s",
                                   rows[j].day, rows[j].id)
                != REDIS_OK)
            {
                video_analytics_redis_lost(a);
                return -1;
            }
        }

        for (j = i; j < end; j++) {
            if (redisGetReply(a->redis, (void **) &r) != REDIS_OK) {
                video_analytics_redis_lost(a);
                return -1;
            }

            if (r->type == REDIS_REPLY_INTEGER) {
                rows[j].unique = r->integer;

            } else {
                video_worker_log("redis: PFCOUNT views:u:%s:%s: %s",
                                 rows[j].day, rows[j].id,
                                 r->type == REDIS_REPLY_ERROR
                                 ? r->str : "unexpected reply");
            }

            freeReplyObject(r);
        }
    }

    return 0;
}


/*
 * The live figures of the batch's videos and the periods they are of, in
 * one MULTI so that a reset cannot fall between them
 */

static int
video_analytics_live(video_analytics_t *a, video_analytics_video_t *v,
    size_t n, int *loaded, char *day, char *month)
{
    int           rc;
    size_t        i, j, k, chunks, argc;
    redisReply   *r, *e;
    const char   *argv[5 + VIDEO_ANALYTICS_MANY_CHUNK];

    chunks = (n + VIDEO_ANALYTICS_MANY_CHUNK - 1) / VIDEO_ANALYTICS_MANY_CHUNK;

    if (redisAppendCommand(a->redis, "MULTI") != REDIS_OK
        || redisAppendCommand(a->redis, "MGET views:gd:%s views:gm:%s",
                              a->today, a->month)
           != REDIS_OK)
    {
        video_analytics_redis_lost(a);
        return -1;
    }

    argv[0] = "EVAL";
    argv[1] = VIDEO_VIEWS_MANY_LUA;
    argv[2] = "0";
    argv[3] = a->today;
    argv[4] = a->month;

    for (i = 0; i < n; i += VIDEO_ANALYTICS_MANY_CHUNK) {
        argc = 5;

        for (j = i; j < n && j < i + VIDEO_ANALYTICS_MANY_CHUNK; j++) {
            argv[argc++] = v[j].id;
        }

        if (redisAppendCommandArgv(a->redis, argc, argv, NULL) != REDIS_OK) {
            video_analytics_redis_lost(a);
            return -1;
        }
    }

    if (redisAppendCommand(a->redis, "EXEC") != REDIS_OK) {
        video_analytics_redis_lost(a);
        return -1;
    }

    /* +OK, +QUEUED for each command, then EXEC's array */

    rc = 0;

    for (i = 0; i < chunks + 2; i++) {
        if (redisGetReply(a->redis, (void **) &r) != REDIS_OK) {
            video_analytics_redis_lost(a);
            return -1;
        }

        if (r->type == REDIS_REPLY_ERROR) {
            video_worker_log("redis: reading live figures: %s", r->str);
            rc = -1;
        }

        freeReplyObject(r);
    }

    if (redisGetReply(a->redis, (void **) &r) != REDIS_OK) {
        video_analytics_redis_lost(a);
        return -1;
    }

    if (rc != 0 || r->type != REDIS_REPLY_ARRAY
        || r->elements != chunks + 1)
    {
        video_worker_log("redis: reading live figures: %s",
                         r->type == REDIS_REPLY_ERROR ? r->str
                                                      : "unexpected reply");
        freeReplyObject(r);
        return -1;
    }

    e = r->element[0];

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
        || video_analytics_generation(e->element[0], a->today, day) != 0
        || video_analytics_generation(e->element[1], a->month, month) != 0)
    {
        video_worker_log("redis: reading the generations: unexpected reply");
        freeReplyObject(r);
        return -1;
    }

    *loaded = (n > 0);

    for (i = 0, k = 0; i < chunks; i++) {
        e = r->element[i + 1];
        j = (n - k > VIDEO_ANALYTICS_MANY_CHUNK) ? VIDEO_ANALYTICS_MANY_CHUNK
                                                 : n - k;

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 1 + 3 * j) {
            video_worker_log("redis: reading live figures: %s",
                             e->type == REDIS_REPLY_ERROR
                             ? e->str : "unexpected reply");
            freeReplyObject(r);
            return -1;
        }

        for (j = 0; j < e->elements; j++) {
            if (e->element[j]->type != REDIS_REPLY_INTEGER) {
                video_worker_log("redis: reading live figures: "
                                 "unexpected reply");
                freeReplyObject(r);
                return -1;
            }
        }

        if (e->element[0]->integer != 1) {
            *loaded = 0;
        }

        for (j = 1; j < e->elements; j += 3, k++) {
            v[k].today = e->element[j]->integer;
            v[k].month = e->element[j + 1]->integer;
        }
    }

    freeReplyObject(r);

    return 0;
}


/*
 * PostgreSQL array literals; their elements (ids, days, numbers) were
 * validated and need no quotes
 */

/* what an element of an array is, in its struct */
#define VIDEO_ANALYTICS_TEXT    0       /* a char array */
#define VIDEO_ANALYTICS_PTR     1       /* a const char * */
#define VIDEO_ANALYTICS_NUMBER  2       /* a long long */

typedef struct {
    size_t         offset;
    int            type;
} video_analytics_field_t;


/* the field of each of n items of size bytes, as an array literal */

static char *
video_analytics_array(const void *items, size_t n, size_t size,
    const video_analytics_field_t *f)
{
    int                     rc;
    size_t                  i;
    const char             *p, *sep;
    video_analytics_buf_t   b;

    memset(&b, 0, sizeof(b));

    if (video_analytics_add(&b, "{") != 0) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        p = (const char *) items + i * size + f->offset;
        sep = i ? "," : "";

        switch (f->type) {

        case VIDEO_ANALYTICS_TEXT:
            rc = video_analytics_add(&b, "%s%s", sep, p);
            break;

        case VIDEO_ANALYTICS_PTR:
            rc = video_analytics_add(&b, "%s%s", sep, *(const char **) p);
            break;

        default:
            rc = video_analytics_add(&b, "%s%lld", sep,
                                     *(const long long *) p);
        }

        if (rc != 0) {
            free(b.data);
            return NULL;
        }
    }

    if (video_analytics_add(&b, "}") != 0) {
        free(b.data);
        return NULL;
    }

    return b.data;
}


/* the batch's arrays, in the order of the statements' parameters */

static const video_analytics_field_t  video_analytics_row_fields[] = {
    { offsetof(video_analytics_row_t, id), VIDEO_ANALYTICS_TEXT },
    { offsetof(video_analytics_row_t, day), VIDEO_ANALYTICS_TEXT },
    { offsetof(video_analytics_row_t, n), VIDEO_ANALYTICS_NUMBER },
    { offsetof(video_analytics_row_t, unique), VIDEO_ANALYTICS_NUMBER }
};

static const video_analytics_field_t  video_analytics_video_fields[] = {
    { offsetof(video_analytics_video_t, id), VIDEO_ANALYTICS_PTR },
    { offsetof(video_analytics_video_t, n), VIDEO_ANALYTICS_NUMBER },
    { offsetof(video_analytics_video_t, today), VIDEO_ANALYTICS_NUMBER },
    { offsetof(video_analytics_video_t, month), VIDEO_ANALYTICS_NUMBER }
};


static int
video_analytics_done(video_analytics_t *a, const char *key)
{
    redisReply  *r;

    r = video_analytics_cmd(a, "EVAL %s 0 %s", VIDEO_VIEWS_DONE_LUA, key);
    if (r == NULL) {
        return -1;
    }

    freeReplyObject(r);

    return 0;
}


static int64_t
video_analytics_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * Applies batch key in one transaction; 0 when it is in PostgreSQL (now
 * or before) and gone from Redis, -1 when it stays for the next cycle
 */

int
video_analytics_batch(video_analytics_t *a, const char *key)
{
    int                       rc, applied, loaded;
    char                      views_s[32];
    char                      day[VIDEO_ANALYTICS_PERIOD_LEN];
    char                      month[VIDEO_ANALYTICS_PERIOD_LEN];
    char                     *arr[8];
    size_t                    i, nrows, nvideos;
    int64_t                   start;
    PGresult                 *res, *missing;
    long long                 views, rows_written;
    redisReply               *h;
    const char               *values[5];
    video_analytics_row_t    *rows;
    video_analytics_video_t  *videos;

    start = video_analytics_ms();
    rows = NULL;
    videos = NULL;
    missing = NULL;
    memset(arr, 0, sizeof(arr));
    rc = -1;

    h = video_analytics_cmd(a, "HGETALL %s", key);
    if (h == NULL) {
        return -1;
    }

    if (h->type != REDIS_REPLY_ARRAY) {
        video_worker_log("redis: HGETALL %s: unexpected reply", key);
        freeReplyObject(h);
        return -1;
    }

    if (h->elements == 0) {

        /* listed but gone: nothing left to apply */

        freeReplyObject(h);
        video_worker_log("%s is empty, dropped", key);

        return video_analytics_done(a, key);
    }

    if (video_analytics_rows(h, key, &rows, &nrows, &views) != 0) {
        freeReplyObject(h);
        return -1;
    }

    freeReplyObject(h);

    qsort(rows, nrows, sizeof(video_analytics_row_t),
          video_analytics_row_cmp);

    videos = malloc((nrows + 1) * sizeof(video_analytics_video_t));
    if (videos == NULL) {
        video_worker_log_at(VIDEO_WORKER_LOG_ERROR,
                            "out of memory");
        goto failed;
    }

    for (i = 0, nvideos = 0; i < nrows; i++) {
        if (nvideos == 0 || strcmp(videos[nvideos - 1].id, rows[i].id) != 0) {
            videos[nvideos].id = rows[i].id;
            videos[nvideos].n = 0;
            videos[nvideos].today = 0;
            videos[nvideos].month = 0;
            nvideos++;
        }

        videos[nvideos - 1].n += rows[i].n;
    }

    if (video_analytics_unique(a, rows, nrows) != 0
        || video_analytics_live(a, videos, nvideos, &loaded, day, month) != 0)
    {
        goto failed;
    }

    for (i = 0; i < 4; i++) {
        arr[i] = video_analytics_array(rows, nrows, sizeof(*rows),
                                       &video_analytics_row_fields[i]);
        arr[i + 4] = video_analytics_array(videos, nvideos, sizeof(*videos),
                                           &video_analytics_video_fields[i]);

        if (arr[i] == NULL || arr[i + 4] == NULL) {
            goto failed;
        }
    }

    if (video_analytics_exec(a, "BEGIN") != 0) {
        goto failed;
    }

    snprintf(views_s, sizeof(views_s), "%lld", views);
    values[0] = key;
    values[1] = views_s;

    res = video_worker_pg(a->pg,
              "INSERT INTO analytics_batches (batch, views) VALUES ($1, $2)"
              " ON CONFLICT DO NOTHING",
              2, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto failed;
    }

    applied = (strcmp(PQcmdTuples(res), "0") == 0);
    PQclear(res);

    rows_written = 0;

    if (applied) {

        /* applied before a crash kept it from being deleted */

        if (video_analytics_exec(a, "ROLLBACK") != 0) {
            goto failed;
        }

        goto cleanup;
    }

    /* views of deleted videos are dropped by the join */

    values[0] = arr[0];
    values[1] = arr[1];
    values[2] = arr[2];
    values[3] = arr[3];

    res = video_worker_pg(a->pg,
              "INSERT INTO video_views_daily AS d"
              " (video_id, day, views, unique_viewers)"
              " SELECT b.id, b.day, b.n, b.u"
              " FROM unnest($1::text[], $2::date[], $3::bigint[],"
              "             $4::bigint[]) AS b (id, day, n, u)"
              " JOIN videos v ON v.id = b.id"
              " ON CONFLICT (video_id, day) DO UPDATE"
              " SET views = d.views + EXCLUDED.views,"
              " unique_viewers = GREATEST(d.unique_viewers,"
              "                           EXCLUDED.unique_viewers)",
              4, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto failed;
    }

    rows_written = atoll(PQcmdTuples(res));
    PQclear(res);

    if (video_analytics_period(a, day, month) != 0) {
        goto failed;
    }

    /* the live copies only when the counters hold PostgreSQL's figures */

    values[0] = arr[4];
    values[1] = arr[5];
    values[2] = arr[6];
    values[3] = arr[7];
    values[4] = loaded ? "true" : "false";

    res = video_worker_pg(a->pg,
              "UPDATE videos v SET views_total = v.views_total + b.n,"
              " views_today = CASE WHEN $5::boolean THEN b.today"
              "               ELSE v.views_today END,"
              " views_month = CASE WHEN $5::boolean THEN b.month"
              "               ELSE v.views_month END"
              " FROM unnest($1::text[], $2::bigint[], $3::bigint[],"
              "             $4::bigint[]) AS b (id, n, today, month)"
              " WHERE v.id = b.id",
              5, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        goto failed;
    }

    PQclear(res);

    if (video_analytics_exec(a, "COMMIT") != 0) {
        goto failed;
    }

cleanup:

    if (video_analytics_done(a, key) != 0) {
        video_worker_log("%s is in postgresql but still in redis; the next "
                         "cycle drops it", key);
        goto done;
    }

    /* the set may still list videos deleted meanwhile */

    missing = video_analytics_missing(a, arr[4]);

    if (missing != NULL) {
        (void) video_analytics_srem(a, missing, NULL, 0);
    }

    if (applied) {
        video_worker_log("%s was applied before; dropped", key);

    } else {
        video_worker_log("applied %s: %lld row(s), %lld view(s), %lld ms",
                         key, rows_written, views,
                         (long long) (video_analytics_ms() - start));
    }

    rc = 0;
    goto done;

failed:

    video_analytics_rollback(a);
    video_worker_log_at(VIDEO_WORKER_LOG_WARN,
                        "%s not applied; it is tried again", key);

done:

    PQclear(missing);

    for (i = 0; i < 8; i++) {
        free(arr[i]);
    }

    free(videos);
    free(rows);

    return rc;
}
