/*
 * One attempt of a webhook delivery: the event object as the receiver
 * gets it (the same JSON as the events feed), its Standard Webhooks
 * headers, and the libcurl handle that POSTs it under the connection
 * guard of source fetches (worker_fetch.c): only public addresses or
 * webhook_allow ones, whatever the endpoint's name resolves to, no proxy,
 * no redirect followed, https unless webhook_allow_http.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "video_time.h"
#include "video_urlguard.h"
#include "video_worker.h"
#include "worker_webhook.h"


/* the bytes of an answer's body read; the rest is not */
#define VIDEO_WH_READ_MAX  4096


static void
video_webhook_fail(video_webhook_send_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


static void
video_webhook_fail(video_webhook_send_t *s, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
}


/* the guard's "source address ..." said of an endpoint */

static void
video_webhook_refused(video_webhook_send_t *s, const char *reason)
{
    if (strncmp(reason, "source ", 7) == 0) {
        reason += 7;
    }

    video_webhook_fail(s, "%s", reason);
}


/* the event object: keys in the order of the spec and the feed */

static char *
video_webhook_body(PGresult *res, int row)
{
    char        *body, ts[VIDEO_TIME_ISO_LEN + 1];
    json_t      *o, *data;
    const char  *type;
    char         base[sizeof(video_worker_conf.public_url) + 8];

    data = json_loads(PQgetvalue(res, row, VIDEO_WH_COL_DATA), 0, NULL);
    if (data == NULL) {
        return NULL;
    }

    type = PQgetvalue(res, row, VIDEO_WH_COL_TYPE);

    /* a video's URLs as the API shows them, with no play token */

    if (json_is_object(data)
        && (strncmp(type, "video.", 6) == 0 || strncmp(type, "live.", 5) == 0))
    {
        snprintf(base, sizeof(base), "%s/play/",
                 video_worker_conf.public_url);

        if (video_webhook_video_urls(data, base) != 0) {
            json_decref(data);
            return NULL;
        }
    }

    video_time_iso8601(ts, strtoll(PQgetvalue(res, row,
                                              VIDEO_WH_COL_CREATED_MS),
                                   NULL, 10));

    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}",
                  "id", PQgetvalue(res, row, VIDEO_WH_COL_EVENT),
                  "type", type,
                  "timestamp", ts,
                  "accountId", PQgetvalue(res, row, VIDEO_WH_COL_ACCOUNT),
                  "objectId", PQgetvalue(res, row, VIDEO_WH_COL_OBJECT),
                  "sequence", (json_int_t) strtoll(PQgetvalue(res, row,
                                                       VIDEO_WH_COL_SEQUENCE),
                                                   NULL, 10),
                  "data", data);
    if (o == NULL) {
        return NULL;
    }

    body = json_dumps(o, JSON_COMPACT);
    json_decref(o);

    return body;
}


static size_t
video_webhook_header(char *p, size_t size, size_t n, void *data)
{
    long                   status;
    size_t                 len;
    video_webhook_send_t  *s = data;

    len = size * n;

    if (!((len == 2 && p[0] == '\r' && p[1] == '\n')
          || (len == 1 && p[0] == '\n')))
    {
        return len;
    }

    /* the end of an answer's headers; 1xx ones are followed by more */

    status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);

    if (status >= 200) {
        s->status = status;
        s->answered = 1;
    }

    return len;
}


/* the answer's body: a few KiB are read, then the transfer ends */

static size_t
video_webhook_write(char *p, size_t size, size_t n, void *data)
{
    video_webhook_send_t  *s = data;

    (void) p;

    s->read += size * n;

    return s->read > VIDEO_WH_READ_MAX ? 0 : size * n;
}


/* the headers; -1 when a secret is malformed or there is no memory */

static int
video_webhook_headers(video_webhook_send_t *s, const char *secret,
    const char *previous, int64_t now)
{
    char                sig[2 * (VIDEO_WEBHOOK_SIG_ENTRY + 1) + 1];
    char                line[256];
    size_t              len;
    struct curl_slist  *h;

    if (video_webhook_sign(secret, strlen(secret), s->event, now, s->body,
                           strlen(s->body), sig)
        != 0)
    {
        return -1;
    }

    /* the previous secret's too, while the receiver may not know the new */

    if (previous != NULL) {
        len = strlen(sig);
        sig[len++] = ' ';

        if (video_webhook_sign(previous, strlen(previous), s->event, now,
                               s->body, strlen(s->body), sig + len)
            != 0)
        {
            return -1;
        }
    }

    h = NULL;

    h = curl_slist_append(h, "Content-Type: application/json");
    if (h != NULL) {
        s->headers = h;
        snprintf(line, sizeof(line), "webhook-id: %s", s->event);
        h = curl_slist_append(h, line);
    }

    if (h != NULL) {
        snprintf(line, sizeof(line), "webhook-timestamp: %lld",
                 (long long) now);
        h = curl_slist_append(h, line);
    }

    if (h != NULL) {
        snprintf(line, sizeof(line), "webhook-signature: %s", sig);
        h = curl_slist_append(h, line);
    }

    /* no "Expect: 100-continue" round trip for a large body */

    if (h != NULL) {
        h = curl_slist_append(h, "Expect:");
    }

    return h != NULL ? 0 : -1;
}


/* the URL's own verdict: 0, or -1 with s->error */

static int
video_webhook_url(video_webhook_send_t *s, const char *url)
{
    const char            *err;
    video_urlguard_url_t  *u;

    u = malloc(sizeof(video_urlguard_url_t));
    if (u == NULL) {
        video_webhook_fail(s, "out of memory");
        return -1;
    }

    if (video_urlguard_parse(url, strlen(url), u, &err)
        != VIDEO_URLGUARD_OK)
    {
        video_webhook_fail(s, "URL refused: %s", err);
        free(u);
        return -1;
    }

    if (!u->https && !video_worker_conf.webhook_allow_http) {
        video_webhook_fail(s, "http URL refused (webhook_allow_http off)");
        free(u);
        return -1;
    }

    /* a literal address is judged at once; a name's when connected to */

    if (u->literal
        && video_urlguard_check(&video_worker_conf.webhook_allow_list,
                                (struct sockaddr *) &u->addr, u->addr_len,
                                s->guard.reason, sizeof(s->guard.reason))
           != 0)
    {
        video_webhook_refused(s, s->guard.reason);
        free(u);
        return -1;
    }

    free(u);

    return 0;
}


video_webhook_send_t *
video_webhook_send_new(PGresult *res, int row,
    const video_webhook_key_t *const *keys, size_t nkeys)
{
    char                  secret[128], previous[128];
    int64_t               now;
    const char           *url;
    video_webhook_send_t  *s;

    s = calloc(1, sizeof(video_webhook_send_t));
    if (s == NULL) {
        return NULL;
    }

    snprintf(s->delivery, sizeof(s->delivery), "%s",
             PQgetvalue(res, row, VIDEO_WH_COL_DELIVERY));
    snprintf(s->endpoint, sizeof(s->endpoint), "%s",
             PQgetvalue(res, row, VIDEO_WH_COL_ENDPOINT));
    snprintf(s->event, sizeof(s->event), "%s",
             PQgetvalue(res, row, VIDEO_WH_COL_EVENT));
    s->attempt = atoi(PQgetvalue(res, row, VIDEO_WH_COL_ATTEMPT));
    s->at_ms = video_time_now_ms();
    s->started = video_metrics_now();
    s->guard.allow = &video_worker_conf.webhook_allow_list;

    url = PQgetvalue(res, row, VIDEO_WH_COL_URL);

    if (video_webhook_url(s, url) != 0) {
        return s;
    }

    if (video_webhook_open(keys, nkeys,
                           PQgetvalue(res, row, VIDEO_WH_COL_SECRET), secret,
                           sizeof(secret), NULL)
        != 0)
    {
        video_webhook_fail(s, "the endpoint's secret does not open with "
                           "webhook_key or webhook_previous_key");
        return s;
    }

    previous[0] = '\0';

    if (!PQgetisnull(res, row, VIDEO_WH_COL_PREVIOUS)
        && video_webhook_open(keys, nkeys,
                              PQgetvalue(res, row, VIDEO_WH_COL_PREVIOUS),
                              previous, sizeof(previous), NULL)
           != 0)
    {
        /* the new secret alone still reaches an up-to-date receiver */
        previous[0] = '\0';
    }

    s->body = video_webhook_body(res, row);
    now = s->at_ms / 1000;

    if (s->body == NULL
        || video_webhook_headers(s, secret, previous[0] ? previous : NULL,
                                 now)
           != 0)
    {
        explicit_bzero(secret, sizeof(secret));
        explicit_bzero(previous, sizeof(previous));
        video_webhook_fail(s, s->body == NULL ? "the event cannot be "
                           "rendered" : "the endpoint's secret is malformed");
        return s;
    }

    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(previous, sizeof(previous));

    s->curl = curl_easy_init();
    if (s->curl == NULL) {
        video_webhook_fail(s, "curl_easy_init() failed");
        return s;
    }

    if (video_fetch_guard(s->curl, &s->guard,
                          video_worker_conf.webhook_allow_http
                          ? "http,https" : "https")
        != 0)
    {
        curl_easy_cleanup(s->curl);
        s->curl = NULL;
        video_webhook_fail(s, "libcurl refused a setting the guard needs");
        return s;
    }

    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->cerr);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "video-api-webhooks/1");
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long) strlen(s->body));
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS,
                     video_worker_conf.webhook_timeout * 1000L);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     video_worker_conf.webhook_connect_timeout * 1000L);
    curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, video_webhook_header);
    curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, video_webhook_write);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);

    return s;
}


int
video_webhook_send_done(video_webhook_send_t *s, CURLcode rc)
{
    long         os;
    const char  *e;

    if (s->curl == NULL) {
        return 0;
    }

    /* an answer is an answer, whatever became of its body */

    if (s->answered) {
        if (s->status >= 200 && s->status < 300) {
            s->error[0] = '\0';
            return 1;
        }

        video_webhook_fail(s, "HTTP %ld", s->status);
        return 0;
    }

    s->status = 0;
    e = s->cerr[0] ? s->cerr : curl_easy_strerror(rc);

    switch (rc) {

    case CURLE_COULDNT_CONNECT:
        if (s->guard.refused && s->guard.opened == 0) {
            video_webhook_refused(s, s->guard.reason);
            break;
        }

        os = 0;
        curl_easy_getinfo(s->curl, CURLINFO_OS_ERRNO, &os);

        if (os == ECONNREFUSED) {
            video_webhook_fail(s, "connection refused");

        } else {
            video_webhook_fail(s, "cannot connect: %s",
                               os ? strerror((int) os) : e);
        }

        break;

    case CURLE_COULDNT_RESOLVE_HOST:
        video_webhook_fail(s, "cannot resolve the host");
        break;

    case CURLE_OPERATION_TIMEDOUT:

        /* a reused connection has no connect time: the clock says which */

        if (video_metrics_now() - s->started
            < video_worker_conf.webhook_timeout - 0.05)
        {
            video_webhook_fail(s, "connecting timed out after %d s",
                               video_worker_conf.webhook_connect_timeout);

        } else {
            video_webhook_fail(s, "timed out after %d s",
                               video_worker_conf.webhook_timeout);
        }

        break;

    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        video_webhook_fail(s, "TLS error: %s", e);
        break;

    case CURLE_GOT_NOTHING:
        video_webhook_fail(s, "empty reply");
        break;

    default:
        video_webhook_fail(s, "connection failed: %s", e);
    }

    return 0;
}


void
video_webhook_send_free(video_webhook_send_t *s)
{
    if (s->curl != NULL) {
        curl_easy_cleanup(s->curl);
    }

    curl_slist_free_all(s->headers);
    free(s->body);
    free(s);
}
