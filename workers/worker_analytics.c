/*
 * Analytics: the view counters the module keeps in Redis, rolled up into
 * PostgreSQL (src/lib/video_views.h has the keys and the scripts).
 *
 * A rollup renames the pending views to a batch key and lists it in
 * views:batches; the batch is applied in one transaction that also
 * records its key in analytics_batches, and only then deleted.  A batch
 * found again after a crash is applied once: the second insert of its key
 * conflicts.  The videos' views_today and views_month are copies of the
 * live counters, zeroed when the day, the month or their generation (a
 * reset) changes.  A session advisory lock keeps two workers (the
 * supervised one and a --once) from running a cycle at the same time.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "video_id.h"
#include "video_views.h"
#include "video_worker.h"


#define VIDEO_ANALYTICS_IDS_CHUNK   1000
#define VIDEO_ANALYTICS_SEED_CHUNK  500
#define VIDEO_ANALYTICS_MANY_CHUNK  1000
#define VIDEO_ANALYTICS_PF_CHUNK    1000

#define VIDEO_ANALYTICS_BATCH       "views:batch:"
#define VIDEO_ANALYTICS_BATCH_LEN   (sizeof(VIDEO_ANALYTICS_BATCH) - 1 + 32)

/* the advisory lock of the rollup: "view" */
#define VIDEO_ANALYTICS_LOCK        "1986618743"

/* "YYYY-MM-DD:" and a generation of up to 20 digits */
#define VIDEO_ANALYTICS_PERIOD_LEN  32


typedef struct {
    redisContext  *redis;
    PGconn        *pg;
    int            once;
    int            redis_down;     /* "unavailable" logged */
    int            locked;
    char           today[sizeof("YYYY-MM-DD")];
    char           month[sizeof("YYYY-MM")];
} video_analytics_t;


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


typedef struct {
    char          *data;
    size_t         len;
    size_t         size;
} video_analytics_buf_t;


/* -- helpers -------------------------------------------------------------- */

static int64_t
video_analytics_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
video_analytics_clock(video_analytics_t *a)
{
    time_t     now;
    struct tm  tm;

    now = time(NULL) + video_worker_conf.clock_offset;
    gmtime_r(&now, &tm);

    strftime(a->today, sizeof(a->today), "%Y-%m-%d", &tm);
    strftime(a->month, sizeof(a->month), "%Y-%m", &tm);
}


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


static int
video_analytics_batch_valid(const char *s, size_t len)
{
    size_t  i;

    if (len != VIDEO_ANALYTICS_BATCH_LEN
        || memcmp(s, VIDEO_ANALYTICS_BATCH, sizeof(VIDEO_ANALYTICS_BATCH) - 1)
           != 0)
    {
        return 0;
    }

    for (i = sizeof(VIDEO_ANALYTICS_BATCH) - 1; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


/* a printable prefix of what Redis holds, for a log line */

static const char *
video_analytics_printable(char *buf, size_t size, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len && i + 1 < size; i++) {
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    }

    buf[i] = '\0';

    return buf;
}


static int
video_analytics_add(video_analytics_buf_t *b, const char *fmt, ...)
{
    int       n;
    char     *p;
    size_t    size;
    va_list   ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return -1;
    }

    if (b->len + n + 1 > b->size) {
        size = b->size ? b->size : 256;

        while (b->len + n + 1 > size) {
            size *= 2;
        }

        p = realloc(b->data, size);
        if (p == NULL) {
            video_worker_log("out of memory");
            return -1;
        }

        b->data = p;
        b->size = size;
    }

    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
    va_end(ap);

    b->len += n;

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
video_analytics_row_cmp(const void *one, const void *two)
{
    int                           rc;
    const video_analytics_row_t  *a, *b;

    a = one;
    b = two;

    rc = strcmp(a->id, b->id);

    return rc ? rc : strcmp(a->day, b->day);
}


/* -- redis ---------------------------------------------------------------- */

static void
video_analytics_redis_lost(video_analytics_t *a)
{
    if (!a->redis_down) {
        video_worker_log("redis unavailable: %s; the views wait there",
                         a->redis ? a->redis->errstr : "no connection");
        a->redis_down = 1;
    }

    if (a->redis != NULL) {
        redisFree(a->redis);
        a->redis = NULL;
    }
}


static int
video_analytics_redis_connect(video_analytics_t *a)
{
    char  err[256];

    /* a cycle's commands are small; a stuck server must not stop it */

    a->redis = video_worker_redis_connect(10, err, sizeof(err));

    if (a->redis == NULL) {
        if (!a->redis_down) {
            video_worker_log("redis unavailable: %s; the views wait there",
                             err);
            a->redis_down = 1;
        }

        return -1;
    }

    if (a->redis_down) {
        video_worker_log("redis is back");
        a->redis_down = 0;
    }

    return 0;
}


/* a reply that is not an error, or NULL (and logs) */

static redisReply *
video_analytics_reply(video_analytics_t *a, redisReply *r, const char *what)
{
    if (r == NULL) {
        video_analytics_redis_lost(a);
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        video_worker_log("redis: %.*s: %s", (int) strcspn(what, " "), what,
                         r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


static redisReply *
video_analytics_cmd(video_analytics_t *a, const char *fmt, ...)
{
    va_list      ap;
    redisReply  *r;

    va_start(ap, fmt);
    r = redisvCommand(a->redis, fmt, ap);
    va_end(ap);

    return video_analytics_reply(a, r, fmt);
}


static redisReply *
video_analytics_argv(video_analytics_t *a, int argc, const char **argv)
{
    redisReply  *r;

    r = redisCommandArgv(a->redis, argc, argv, NULL);

    return video_analytics_reply(a, r, argv[0]);
}


/* an integer reply, or -1 with the reply logged */

static int
video_analytics_integer(redisReply *r, long long *n, const char *what)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        video_worker_log("redis: %s: unexpected reply", what);
        return -1;
    }

    *n = r->integer;

    return 0;
}


/* "<period>:<generation>" from a GET of views:gd:... or views:gm:... */

static int
video_analytics_generation(redisReply *r, const char *period, char *out)
{
    size_t  i;

    if (r->type == REDIS_REPLY_NIL) {
        snprintf(out, VIDEO_ANALYTICS_PERIOD_LEN, "%s:0", period);
        return 0;
    }

    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20) {
        video_worker_log("redis: a generation of \"%s\" is not a number",
                         period);
        return -1;
    }

    for (i = 0; i < r->len; i++) {
        if (r->str[i] < '0' || r->str[i] > '9') {
            video_worker_log("redis: a generation of \"%s\" is not a number",
                             period);
            return -1;
        }
    }

    snprintf(out, VIDEO_ANALYTICS_PERIOD_LEN, "%s:%.*s", period, (int) r->len,
             r->str);

    return 0;
}


/* the current periods, "<today>:<gen>" and "<month>:<gen>" */

static int
video_analytics_periods(video_analytics_t *a, char *day, char *month)
{
    int          rc;
    redisReply  *r;

    r = video_analytics_cmd(a, "MGET views:gd:%s views:gm:%s", a->today,
                            a->month);
    if (r == NULL) {
        return -1;
    }

    rc = -1;

    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && video_analytics_generation(r->element[0], a->today, day) == 0
        && video_analytics_generation(r->element[1], a->month, month) == 0)
    {
        rc = 0;
    }

    freeReplyObject(r);

    return rc;
}


static int
video_analytics_batch_key(char *key, size_t size)
{
    int            fd;
    size_t         i, got;
    ssize_t        n;
    unsigned char  rnd[16];

    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        video_worker_log("cannot open /dev/urandom: %s", strerror(errno));
        return -1;
    }

    for (got = 0; got < sizeof(rnd); got += n) {
        n = read(fd, rnd + got, sizeof(rnd) - got);

        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }

            video_worker_log("cannot read /dev/urandom: %s",
                             n ? strerror(errno) : "end of file");
            close(fd);
            return -1;
        }
    }

    close(fd);

    i = snprintf(key, size, VIDEO_ANALYTICS_BATCH);

    for (got = 0; got < sizeof(rnd); got++) {
        i += snprintf(key + i, size - i, "%02x", rnd[got]);
    }

    return 0;
}


/* -- postgresql ----------------------------------------------------------- */

static int
video_analytics_exec(video_analytics_t *a, const char *sql)
{
    PGresult  *r;

    r = video_worker_pg(a->pg, sql, 0, NULL, PGRES_COMMAND_OK);
    PQclear(r);

    return r ? 0 : -1;
}


static void
video_analytics_rollback(video_analytics_t *a)
{
    if (a->pg != NULL && PQtransactionStatus(a->pg) != PQTRANS_IDLE
        && PQtransactionStatus(a->pg) != PQTRANS_UNKNOWN)
    {
        (void) video_analytics_exec(a, "ROLLBACK");
    }
}


/* the ids of ids (an array literal) that are no video */

static PGresult *
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

static int
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
        video_worker_log("out of memory");
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


/*
 * The period check: when the day or the month differs from the one the
 * videos' copies are of (a new day, or a reset), the copies are zeroed.
 * Runs in the caller's transaction.
 */

static int
video_analytics_period(video_analytics_t *a, const char *day,
    const char *month)
{
    int          new_day, new_month;
    PGresult    *res;
    const char  *values[2];

    res = video_worker_pg(a->pg,
              "SELECT day, month FROM analytics_period FOR UPDATE",
              0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    new_day = (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), day));
    new_month = (PQntuples(res) == 0
                 || strcmp(PQgetvalue(res, 0, 1), month));

    PQclear(res);

    if (new_day
        && video_analytics_exec(a, "UPDATE videos SET views_today = 0"
                                   " WHERE views_today <> 0")
           != 0)
    {
        return -1;
    }

    if (new_month
        && video_analytics_exec(a, "UPDATE videos SET views_month = 0"
                                   " WHERE views_month <> 0")
           != 0)
    {
        return -1;
    }

    if (!new_day && !new_month) {
        return 0;
    }

    values[0] = day;
    values[1] = month;

    res = video_worker_pg(a->pg,
              "INSERT INTO analytics_period (day, month) VALUES ($1, $2)"
              " ON CONFLICT (one) DO UPDATE"
              " SET day = EXCLUDED.day, month = EXCLUDED.month",
              2, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);

    video_worker_log("period is now \"%s\" \"%s\"%s%s", day, month,
                     new_day ? "; views_today zeroed" : "",
                     new_month ? "; views_month zeroed" : "");

    return 0;
}


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


static int
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


/* -- step 2: seeding the counters from postgresql ------------------------- */

static int
video_analytics_seed_chunk(video_analytics_t *a, PGresult *res, int today,
    int month, long long *seeded)
{
    int           i, n, argc;
    long long     k;
    redisReply   *r;
    const char   *argv[5 + 4 * VIDEO_ANALYTICS_SEED_CHUNK];

    n = PQntuples(res);

    argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = VIDEO_VIEWS_SEED_LUA;
    argv[argc++] = "0";
    argv[argc++] = a->today;
    argv[argc++] = a->month;

    for (i = 0; i < n && i < VIDEO_ANALYTICS_SEED_CHUNK; i++) {
        argv[argc++] = PQgetvalue(res, i, 0);
        argv[argc++] = today ? PQgetvalue(res, i, 1) : "0";
        argv[argc++] = month ? PQgetvalue(res, i, 2) : "0";
        argv[argc++] = PQgetvalue(res, i, 3);
    }

    r = video_analytics_argv(a, argc, argv);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &k, "seeding") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);
    *seeded += k;

    return 0;
}


/*
 * The counters lack what PostgreSQL holds (views:loaded is missing: a new
 * or emptied Redis): each video's figures are added to them once.
 * views_today and views_month count only while of this day and month.
 */

static int
video_analytics_seed(video_analytics_t *a)
{
    int           n, today, month, rc;
    char          last[VIDEO_ID_LEN + 1];
    char          day_now[VIDEO_ANALYTICS_PERIOD_LEN];
    char          month_now[VIDEO_ANALYTICS_PERIOD_LEN];
    char          day_was[VIDEO_ANALYTICS_PERIOD_LEN];
    char          month_was[VIDEO_ANALYTICS_PERIOD_LEN];
    long long     loaded, seeded;
    PGresult     *res;
    redisReply   *r;
    const char   *values[4];

    r = video_analytics_cmd(a, "EXISTS " VIDEO_VIEWS_LOADED_KEY);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &loaded, "EXISTS") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);

    if (loaded == 1) {
        return 0;
    }

    video_worker_log("\"" VIDEO_VIEWS_LOADED_KEY "\" is missing: seeding "
                     "the counters from postgresql");

    res = video_worker_pg(a->pg, "SELECT day, month FROM analytics_period",
                          0, NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        return -1;
    }

    day_was[0] = '\0';
    month_was[0] = '\0';

    if (PQntuples(res) == 1) {
        snprintf(day_was, sizeof(day_was), "%s", PQgetvalue(res, 0, 0));
        snprintf(month_was, sizeof(month_was), "%s", PQgetvalue(res, 0, 1));
    }

    PQclear(res);

    today = (strncmp(day_was, a->today, sizeof(a->today) - 1) == 0
             && day_was[sizeof(a->today) - 1] == ':');
    month = (strncmp(month_was, a->month, sizeof(a->month) - 1) == 0
             && month_was[sizeof(a->month) - 1] == ':');

    /* the generations the seeded figures go to */

    if (video_analytics_periods(a, day_now, month_now) != 0) {
        return -1;
    }

    last[0] = '\0';
    seeded = 0;

    for ( ;; ) {
        values[0] = last;

        res = video_worker_pg(a->pg,
                  "SELECT id, views_today, views_month, views_total"
                  " FROM videos WHERE id > $1"
                  " AND (views_today <> 0 OR views_month <> 0"
                  "      OR views_total <> 0)"
                  " ORDER BY id LIMIT 500",
                  1, values, PGRES_TUPLES_OK);
        if (res == NULL) {
            return -1;
        }

        n = PQntuples(res);

        if (n == 0) {
            PQclear(res);
            break;
        }

        snprintf(last, sizeof(last), "%s", PQgetvalue(res, n - 1, 0));

        rc = video_analytics_seed_chunk(a, res, today, month, &seeded);
        PQclear(res);

        if (rc != 0) {
            return -1;
        }

        if (n < VIDEO_ANALYTICS_SEED_CHUNK) {
            break;
        }
    }

    /*
     * The copies seeded are now those of the current generations, which
     * are 0 again in an emptied Redis even when a reset made them 1 in
     * PostgreSQL: saying so keeps the next period check from zeroing
     * copies Redis now holds.
     */

    values[0] = day_was;
    values[1] = today ? day_now : day_was;
    values[2] = month_was;
    values[3] = month ? month_now : month_was;

    res = video_worker_pg(a->pg,
              "UPDATE analytics_period"
              " SET day = CASE WHEN day = $1 THEN $2 ELSE day END,"
              " month = CASE WHEN month = $3 THEN $4 ELSE month END",
              4, values, PGRES_COMMAND_OK);
    if (res == NULL) {
        return -1;
    }

    PQclear(res);

    if (redisAppendCommand(a->redis, "MULTI") != REDIS_OK
        || redisAppendCommand(a->redis, "SET " VIDEO_VIEWS_LOADED_KEY " 1")
           != REDIS_OK
        || redisAppendCommand(a->redis, "DEL views:seeded") != REDIS_OK
        || redisAppendCommand(a->redis, "EXEC") != REDIS_OK)
    {
        video_analytics_redis_lost(a);
        return -1;
    }

    for (n = 0, rc = 0; n < 4; n++) {
        if (redisGetReply(a->redis, (void **) &r) != REDIS_OK) {
            video_analytics_redis_lost(a);
            return -1;
        }

        if (r->type == REDIS_REPLY_ERROR
            || (n == 3 && r->type != REDIS_REPLY_ARRAY))
        {
            video_worker_log("redis: marking the counters loaded: %s",
                             r->type == REDIS_REPLY_ERROR ? r->str
                                                          : "aborted");
            rc = -1;
        }

        freeReplyObject(r);
    }

    if (rc == 0) {
        video_worker_log("seeded %lld video(s)", seeded);
    }

    return rc;
}


/* -- step 5: applying a batch --------------------------------------------- */

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
        video_worker_log("out of memory");
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


/*
 * Applies batch key in one transaction; 0 when it is in PostgreSQL (now
 * or before) and gone from Redis, -1 when it stays for the next cycle
 */

static int
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
        video_worker_log("out of memory");
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
    video_worker_log("%s not applied; it is tried again", key);

done:

    PQclear(missing);

    for (i = 0; i < 8; i++) {
        free(arr[i]);
    }

    free(videos);
    free(rows);

    return rc;
}


/* -- steps 3 and 4: the batches left, then a new one ---------------------- */

static int
video_analytics_recover(video_analytics_t *a)
{
    int          rc;
    char         shown[72];
    size_t       i;
    redisReply  *r, *e, *s;

    r = video_analytics_cmd(a, "SMEMBERS views:batches");
    if (r == NULL) {
        return -1;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        video_worker_log("redis: SMEMBERS views:batches: unexpected reply");
        freeReplyObject(r);
        return -1;
    }

    rc = 0;

    for (i = 0; i < r->elements && a->redis != NULL && !video_worker_stop;
         i++)
    {
        e = r->element[i];

        if (e->type != REDIS_REPLY_STRING) {
            continue;
        }

        if (!video_analytics_batch_valid(e->str, e->len)) {

            /* only our keys are ever deleted */

            video_worker_log("\"views:batches\" lists \"%s\", which is no "
                             "batch; removed",
                             video_analytics_printable(shown, sizeof(shown),
                                                       e->str, e->len));

            s = video_analytics_cmd(a, "SREM views:batches %b", e->str,
                                    e->len);
            if (s == NULL) {
                rc = -1;
                continue;
            }

            freeReplyObject(s);
            continue;
        }

        video_worker_log("recovering %s", e->str);

        if (video_analytics_batch(a, e->str) != 0) {
            rc = -1;
        }
    }

    freeReplyObject(r);

    return rc;
}


static int
video_analytics_take(video_analytics_t *a)
{
    char         key[VIDEO_ANALYTICS_BATCH_LEN + 1];
    long long    n;
    redisReply  *r;

    if (video_analytics_batch_key(key, sizeof(key)) != 0) {
        return -1;
    }

    r = video_analytics_cmd(a, "EVAL %s 0 %s", VIDEO_VIEWS_TAKE_LUA, key);
    if (r == NULL) {
        return -1;
    }

    if (video_analytics_integer(r, &n, "taking a batch") != 0) {
        freeReplyObject(r);
        return -1;
    }

    freeReplyObject(r);

    if (n == 0) {
        return 0;
    }

    if (n == -1) {
        video_worker_log("the counters are not loaded; nothing taken");
        return -1;
    }

    return video_analytics_batch(a, key);
}


/* -- step 6: the period, and the record of applied batches ---------------- */

static int
video_analytics_housekeep(video_analytics_t *a)
{
    char  day[VIDEO_ANALYTICS_PERIOD_LEN];
    char  month[VIDEO_ANALYTICS_PERIOD_LEN];

    if (video_analytics_periods(a, day, month) != 0) {
        return -1;
    }

    if (video_analytics_exec(a, "BEGIN") != 0
        || video_analytics_period(a, day, month) != 0
        || video_analytics_exec(a, "DELETE FROM analytics_batches"
                                   " WHERE applied_at"
                                   " < now() - interval '7 days'")
           != 0
        || video_analytics_exec(a, "COMMIT") != 0)
    {
        video_analytics_rollback(a);
        return -1;
    }

    return 0;
}


/* -- the cycle ------------------------------------------------------------ */

static int
video_analytics_up(video_analytics_t *a)
{
    return a->redis != NULL && a->pg != NULL
           && PQstatus(a->pg) == CONNECTION_OK && !video_worker_stop;
}


static int
video_analytics_connect(video_analytics_t *a)
{
    if (a->pg != NULL && PQstatus(a->pg) != CONNECTION_OK) {
        video_worker_log("postgresql connection lost");
        PQfinish(a->pg);
        a->pg = NULL;
        a->locked = 0;
    }

    if (a->pg == NULL) {
        if (a->once) {

            /* a test waits for the answer, not for PostgreSQL */

            a->pg = PQconnectdb(video_worker_conf.postgres);

            if (PQstatus(a->pg) != CONNECTION_OK) {
                video_worker_log("postgresql unavailable: %s",
                                 PQerrorMessage(a->pg));
                PQfinish(a->pg);
                a->pg = NULL;
                return -1;
            }

        } else {
            a->pg = video_worker_pg_connect();
            if (a->pg == NULL) {
                return -1;
            }
        }
    }

    if (a->redis == NULL && video_analytics_redis_connect(a) != 0) {
        return -1;
    }

    return 0;
}


/* the advisory lock, waited for while another worker runs a cycle */

static int
video_analytics_lock(video_analytics_t *a)
{
    int          got, waiting;
    PGresult    *res;
    const char  *values[1];

    values[0] = VIDEO_ANALYTICS_LOCK;
    waiting = 0;

    while (!video_worker_stop) {
        res = video_worker_pg(a->pg, "SELECT pg_try_advisory_lock($1::bigint)",
                              1, values, PGRES_TUPLES_OK);
        if (res == NULL) {
            return -1;
        }

        got = (strcmp(PQgetvalue(res, 0, 0), "t") == 0);
        PQclear(res);

        if (got) {
            a->locked = 1;
            return 0;
        }

        if (!waiting) {
            video_worker_log("another analytics worker is running a cycle; "
                             "waiting");
            waiting = 1;
        }

        video_worker_sleep(0.5);
    }

    return -1;
}


static void
video_analytics_unlock(video_analytics_t *a)
{
    PGresult    *res;
    const char  *values[1];

    if (!a->locked || a->pg == NULL || PQstatus(a->pg) != CONNECTION_OK) {
        a->locked = 0;
        return;
    }

    values[0] = VIDEO_ANALYTICS_LOCK;

    res = video_worker_pg(a->pg, "SELECT pg_advisory_unlock($1::bigint)",
                          1, values, PGRES_TUPLES_OK);
    PQclear(res);

    a->locked = 0;
}


static int
video_analytics_cycle(video_analytics_t *a)
{
    int  rc;

    video_analytics_clock(a);

    if (video_analytics_connect(a) != 0 || video_analytics_lock(a) != 0) {
        return -1;
    }

    /*
     * A step that fails leaves what it did not finish for the next cycle.
     * The set and the seeding come first; a batch that cannot be applied
     * does not keep the next ones from being taken.
     */

    rc = -1;

    if (video_analytics_ids(a) != 0 || video_analytics_seed(a) != 0) {
        goto done;
    }

    rc = 0;

    if (video_analytics_up(a) && video_analytics_recover(a) != 0) {
        rc = -1;
    }

    if (video_analytics_up(a) && video_analytics_take(a) != 0) {
        rc = -1;
    }

    if (video_analytics_up(a) && video_analytics_housekeep(a) != 0) {
        rc = -1;
    }

    if (!video_analytics_up(a)) {
        rc = -1;
    }

done:

    video_analytics_rollback(a);
    video_analytics_unlock(a);

    return rc;
}


int
video_worker_analytics(int once)
{
    int                 rc;
    video_analytics_t   a;

    memset(&a, 0, sizeof(a));
    a.once = once;

    if (once) {
        rc = video_analytics_cycle(&a);

    } else {
        rc = 0;

        while (!video_worker_stop) {
            (void) video_analytics_cycle(&a);
            video_worker_sleep(video_worker_conf.analytics_interval);
        }
    }

    if (a.redis != NULL) {
        redisFree(a.redis);
    }

    if (a.pg != NULL) {
        PQfinish(a.pg);
    }

    return (rc == 0) ? 0 : 1;
}
