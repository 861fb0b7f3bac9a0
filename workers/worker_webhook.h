/*
 * The webhook deliveries (worker_webhook*.c): one attempt of a delivery,
 * from the claimed row to the receiver's answer.
 */

#ifndef _WORKER_WEBHOOK_H_INCLUDED_
#define _WORKER_WEBHOOK_H_INCLUDED_


#include <stdint.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "video_webhook.h"
#include "worker_fetch.h"


/* the columns of a claimed delivery (worker_webhook.c's claim) */
enum {
    VIDEO_WH_COL_DELIVERY = 0,
    VIDEO_WH_COL_ATTEMPT,
    VIDEO_WH_COL_ENDPOINT,
    VIDEO_WH_COL_URL,
    VIDEO_WH_COL_SECRET,
    VIDEO_WH_COL_PREVIOUS,      /* NULL unless still signed with */
    VIDEO_WH_COL_EVENT,
    VIDEO_WH_COL_TYPE,
    VIDEO_WH_COL_CREATED_MS,
    VIDEO_WH_COL_ACCOUNT,
    VIDEO_WH_COL_OBJECT,
    VIDEO_WH_COL_SEQUENCE,
    VIDEO_WH_COL_DATA,
    VIDEO_WH_COLS
};


typedef struct video_webhook_send_s  video_webhook_send_t;

struct video_webhook_send_s {
    CURL                  *curl;        /* NULL: failed before sending */
    struct curl_slist     *headers;
    char                  *body;
    char                   delivery[24];
    char                   endpoint[24];
    char                   event[64];
    int                    attempt;
    int64_t                at_ms;       /* wall clock when it started */
    double                 started;     /* monotonic */
    long                   status;      /* the final answer's, 0: none */
    int                    answered;    /* its headers all came */
    size_t                 read;        /* bytes of its body read */
    video_fetch_guard_t    guard;
    char                   error[256];  /* why, when it failed */
    char                   cerr[CURL_ERROR_SIZE];
    video_webhook_send_t  *next;
};


/*
 * An attempt of the claimed delivery in row of res: the event object
 * rendered, signed with the endpoint's secret (and its previous one while
 * that is still signed with), and a libcurl handle ready to POST it.  A
 * delivery that cannot be sent (a URL or address refused, a secret that
 * does not open) comes back with no handle and its error set.  NULL when
 * out of memory.
 */
video_webhook_send_t *video_webhook_send_new(PGresult *res, int row,
    const video_webhook_key_t *const *keys, size_t nkeys);

/*
 * The outcome once its transfer ended with rc: 1 delivered (a 2xx),
 * 0 failed with s->error set; s->status is the answer's, 0 when none
 */
int video_webhook_send_done(video_webhook_send_t *s, CURLcode rc);

void video_webhook_send_free(video_webhook_send_t *s);

/*
 * Records an attempt that ended (worker_webhook_record.c); the metrics'
 * outcome (VIDEO_METRICS_WH_*), or -1 when PostgreSQL failed (rolled
 * back: the delivery's lease passes, and it is tried again)
 */
int video_webhook_record(PGconn *pg, video_webhook_send_t *s, int delivered,
    double seconds);

/* sql with values, expecting no rows; 0, or -1 (logged) */
int video_webhook_exec(PGconn *pg, const char *sql, int n,
    const char *const *values);


#endif /* _WORKER_WEBHOOK_H_INCLUDED_ */
