/*
 * Fetching a source URL with libcurl, guarded against server-side request
 * forgery.  Redirects are followed here, not by libcurl, so that every
 * hop's URL goes through the same parser as the first; every connection
 * is opened through video_fetch_opensocket(), which refuses an address
 * that is neither public nor allowed, whatever name or redirect led to
 * it; no connection is reused, so none escapes that check.  Proxies
 * (also from http_proxy and the like), .netrc and cookies are off.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "video_urlguard.h"
#include "video_worker.h"
#include "worker_fetch.h"


typedef struct {
    CURL                      *curl;
    const video_fetch_conf_t  *conf;
    video_fetch_result_t      *res;
    int                        fd;
    long                       status;        /* once the headers ended */
    int                        headers_done;
    int                        failed;        /* res->rc and reason set */
    video_fetch_guard_t        guard;         /* its refusals */
    int64_t                    length;        /* Content-Length, -1 */
    int64_t                    reported;      /* bytes at the last
                                                 progress call, -1 */
    size_t                     location_len;  /* the response's Location,
                                                 as sent (0: none) */
    char                       location[VIDEO_URLGUARD_URL_MAX + 2];
} video_fetch_ctx_t;


static double
video_fetch_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static video_fetch_rc_t
video_fetch_fail(video_fetch_result_t *res, video_fetch_rc_t rc,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));


static video_fetch_rc_t
video_fetch_fail(video_fetch_result_t *res, video_fetch_rc_t rc,
    const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    va_end(ap);

    res->rc = rc;

    return rc;
}


static curl_socket_t
video_fetch_opensocket(void *data, curlsocktype purpose,
    struct curl_sockaddr *address)
{
    video_fetch_guard_t  *g = data;

    (void) purpose;

    if (video_urlguard_check(g->allow, &address->addr, address->addrlen,
                             g->reason, sizeof(g->reason))
        != 0)
    {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }

    g->opened++;

    return socket(address->family, address->socktype | SOCK_CLOEXEC,
                  address->protocol);
}


int
video_fetch_guard(CURL *curl, video_fetch_guard_t *g, const char *protocols)
{
    unsigned  rc;
#if LIBCURL_VERSION_NUM < 0x075500
    long      p;
#endif

#if LIBCURL_VERSION_NUM >= 0x075500
    rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols)
         | curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
#else
    p = (strcmp(protocols, "https") == 0)
        ? CURLPROTO_HTTPS : (CURLPROTO_HTTP | CURLPROTO_HTTPS);
    rc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS, p)
         | curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, p);
#endif

    rc |= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L)
          | curl_easy_setopt(curl, CURLOPT_PROXY, "")
          | curl_easy_setopt(curl, CURLOPT_NOPROXY, "*")
          | curl_easy_setopt(curl, CURLOPT_NETRC, (long) CURL_NETRC_IGNORED)
          | curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION,
                             video_fetch_opensocket)
          | curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, g);

    return rc == CURLE_OK ? 0 : -1;
}


static int64_t
video_fetch_length(const char *v, size_t len)
{
    size_t   i;
    int64_t  n;

    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }

    n = 0;

    for (i = 0; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
        if (n > (INT64_MAX - 9) / 10) {
            return INT64_MAX;
        }

        n = n * 10 + (v[i] - '0');
    }

    return i > 0 ? n : -1;
}


static size_t
video_fetch_header(char *p, size_t size, size_t n, void *data)
{
    long                 status;
    size_t               len;
    video_fetch_ctx_t   *ctx = data;

    len = size * n;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        ctx->headers_done = 0;
        ctx->length = -1;
        ctx->location_len = 0;
        return len;
    }

    /*
     * libcurl resolves a Location only when a transfer ends well, and a
     * redirect's body is not read: it is kept here, resolved later
     */

    if (len >= 9 && strncasecmp(p, "location:", 9) == 0) {
        p += 9;
        len -= 9;

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }

        while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'
                           || p[len - 1] == ' ' || p[len - 1] == '\t'))
        {
            len--;
        }

        /* one byte more than a URL may have says it is too long */

        if (len > VIDEO_URLGUARD_URL_MAX + 1) {
            len = VIDEO_URLGUARD_URL_MAX + 1;
        }

        memcpy(ctx->location, p, len);
        ctx->location[len] = '\0';
        ctx->location_len = len;

        return size * n;
    }

    if (len >= 15 && strncasecmp(p, "content-length:", 15) == 0) {
        ctx->length = video_fetch_length(p + 15, len - 15);
        return len;
    }

    if (!(len == 2 && p[0] == '\r' && p[1] == '\n')
        && !(len == 1 && p[0] == '\n'))
    {
        return len;
    }

    /* the end of a response's headers: 1xx ones are followed by more */

    status = 0;
    curl_easy_getinfo(ctx->curl, CURLINFO_RESPONSE_CODE, &status);

    if (status >= 100 && status < 200) {
        return len;
    }

    ctx->status = status;
    ctx->headers_done = 1;

    if (status != 200) {

        /* a redirect or a failure: its body is of no use, it is not read */

        return 0;
    }

    if (ctx->length > ctx->conf->max_bytes) {
        ctx->failed = 1;
        video_fetch_fail(ctx->res, VIDEO_FETCH_TOO_BIG,
                         "source larger than %lld bytes (Content-Length: "
                         "%lld)", (long long) ctx->conf->max_bytes,
                         (long long) ctx->length);
        return 0;
    }

    return len;
}


static size_t
video_fetch_write(char *p, size_t size, size_t n, void *data)
{
    size_t              len;
    ssize_t             w;
    video_fetch_ctx_t  *ctx = data;

    len = size * n;

    if (ctx->status != 200) {
        return 0;
    }

    if ((int64_t) len > ctx->conf->max_bytes - ctx->res->bytes) {
        ctx->failed = 1;
        video_fetch_fail(ctx->res, VIDEO_FETCH_TOO_BIG,
                         "source larger than %lld bytes",
                         (long long) ctx->conf->max_bytes);
        return 0;
    }

    while (len > 0) {
        w = write(ctx->fd, p, len);

        if (w < 0 && errno == EINTR) {
            continue;
        }

        if (w <= 0) {
            ctx->failed = 1;
            video_fetch_fail(ctx->res, VIDEO_FETCH_WRITE,
                             "cannot write the file: %s",
                             w < 0 ? strerror(errno) : "no progress");
            return 0;
        }

        p += w;
        len -= w;
        ctx->res->bytes += w;
    }

    return size * n;
}


static int
video_fetch_xferinfo(void *data, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
    video_fetch_ctx_t  *ctx = data;

    (void) dltotal;
    (void) dlnow;
    (void) ultotal;
    (void) ulnow;

    if (video_worker_stop) {
        ctx->failed = 1;
        video_fetch_fail(ctx->res, VIDEO_FETCH_CANCELLED, "stopped");
        return 1;
    }

    if (ctx->conf->progress == NULL || !ctx->headers_done
        || ctx->status != 200 || ctx->res->bytes == ctx->reported)
    {
        return 0;
    }

    ctx->reported = ctx->res->bytes;

    if (ctx->conf->progress(ctx->conf->data, ctx->res->bytes, ctx->length)
        != 0)
    {
        ctx->failed = 1;
        video_fetch_fail(ctx->res, VIDEO_FETCH_CANCELLED, "cancelled");
        return 1;
    }

    return 0;
}


/* why perform() failed, when no callback said it */

static video_fetch_rc_t
video_fetch_failed(video_fetch_ctx_t *ctx, CURLcode rc, const char *cerr,
    double started)
{
    curl_off_t                 connected;
    const char                *e;
    const video_fetch_conf_t  *conf;

    conf = ctx->conf;
    e = cerr[0] ? cerr : curl_easy_strerror(rc);

    switch (rc) {

    case CURLE_COULDNT_CONNECT:

        /* the name's only addresses were refused, or an allowed one
           did not answer either */

        if (ctx->guard.refused && ctx->guard.opened == 0) {
            snprintf(ctx->res->reason, sizeof(ctx->res->reason), "%s",
                     ctx->guard.reason);
            ctx->res->rc = VIDEO_FETCH_ADDRESS;
            return VIDEO_FETCH_ADDRESS;
        }

        return video_fetch_fail(ctx->res, VIDEO_FETCH_NETWORK,
                                "cannot connect to the source: %s", e);

    case CURLE_COULDNT_RESOLVE_HOST:
        return video_fetch_fail(ctx->res, VIDEO_FETCH_NETWORK,
                                "cannot resolve the source's host: %s", e);

    case CURLE_OPERATION_TIMEDOUT:
        if (video_fetch_now() - started >= conf->timeout - 0.05) {
            return video_fetch_fail(ctx->res, VIDEO_FETCH_TIMEOUT,
                                    "timed out after %ld s", conf->timeout);
        }

        connected = 0;
        curl_easy_getinfo(ctx->curl, CURLINFO_CONNECT_TIME_T, &connected);

        if (connected == 0) {
            return video_fetch_fail(ctx->res, VIDEO_FETCH_TIMEOUT,
                                    "connecting to the source timed out "
                                    "after %ld s", conf->connect_timeout);
        }

        return video_fetch_fail(ctx->res, VIDEO_FETCH_TIMEOUT,
                                "source slower than %ld bytes/s for %ld s",
                                conf->low_speed_limit, conf->low_speed_time);

    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return video_fetch_fail(ctx->res, VIDEO_FETCH_TLS, "TLS error: %s",
                                e);

    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return video_fetch_fail(ctx->res, VIDEO_FETCH_URL,
                                "source URL refused by libcurl: %s", e);

    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY:
        return video_fetch_fail(ctx->res, VIDEO_FETCH_NETWORK,
                                "source connection failed: %s", e);

    default:
        return video_fetch_fail(ctx->res, VIDEO_FETCH_ERROR, "%s", e);
    }
}


void
video_fetch_conf_init(video_fetch_conf_t *conf)
{
    video_worker_conf_t  *c = &video_worker_conf;

    memset(conf, 0, sizeof(video_fetch_conf_t));

    conf->allow = &c->fetch_allow_list;
    conf->max_bytes = c->fetch_max_bytes;
    conf->timeout = c->fetch_timeout;
    conf->connect_timeout = c->fetch_connect_timeout;
    conf->low_speed_limit = c->fetch_low_speed_limit;
    conf->low_speed_time = c->fetch_low_speed_time;
    conf->max_redirects = c->fetch_max_redirects;
}


/* a URL the fetch starts from (hop 0) or is redirected to; 0 or -1 */

static int
video_fetch_url(video_fetch_ctx_t *ctx, const char *url, size_t len, int hop)
{
    const char            *err;
    video_urlguard_rc_t    rc;
    video_urlguard_url_t  *u;

    u = malloc(sizeof(video_urlguard_url_t));
    if (u == NULL) {
        video_fetch_fail(ctx->res, VIDEO_FETCH_ERROR, "out of memory");
        return -1;
    }

    rc = video_urlguard_parse(url, len, u, &err);

    if (rc != VIDEO_URLGUARD_OK) {
        if (hop == 0) {
            video_fetch_fail(ctx->res, VIDEO_FETCH_URL, "source URL refused: "
                             "%s", err);

        } else if (rc == VIDEO_URLGUARD_SCHEME) {
            video_fetch_fail(ctx->res, VIDEO_FETCH_REDIRECT,
                             "redirect to a non-http(s) URL");

        } else {
            video_fetch_fail(ctx->res, VIDEO_FETCH_REDIRECT,
                             "redirect to a refused URL: %s", err);
        }

        free(u);
        return -1;
    }

    /* a literal address is judged at once; a name when it is connected */

    if (u->literal
        && video_urlguard_check(ctx->conf->allow,
                                (struct sockaddr *) &u->addr, u->addr_len,
                                ctx->res->reason, sizeof(ctx->res->reason))
           != 0)
    {
        ctx->res->rc = VIDEO_FETCH_ADDRESS;
        snprintf(ctx->res->url, sizeof(ctx->res->url), "%s", u->url);
        free(u);
        return -1;
    }

    snprintf(ctx->res->url, sizeof(ctx->res->url), "%s", u->url);
    free(u);

    return 0;
}


/*
 * A Location against the URL it came from (a relative one, or of another
 * scheme: the guard refuses that one); curl_free() it.  NULL when it is
 * not a URL at all.
 */

static char *
video_fetch_resolve(const char *base, const char *location)
{
    char   *url;
    CURLU  *cu;

    cu = curl_url();
    if (cu == NULL) {
        return NULL;
    }

    url = NULL;

    if (curl_url_set(cu, CURLUPART_URL, base, 0) != CURLUE_OK
        || curl_url_set(cu, CURLUPART_URL, location,
                        CURLU_NON_SUPPORT_SCHEME)
           != CURLUE_OK
        || curl_url_get(cu, CURLUPART_URL, &url, 0) != CURLUE_OK)
    {
        curl_free(url);
        url = NULL;
    }

    curl_url_cleanup(cu);

    return url;
}


/* a header's value as printable ASCII (it goes into JSON and logs) */

static void
video_fetch_text(char *out, size_t size, const char *v)
{
    size_t  i;

    for (i = 0; v != NULL && v[i] != '\0' && i + 1 < size; i++) {
        out[i] = ((unsigned char) v[i] >= 0x20 && v[i] != 0x7f) ? v[i] : '?';
        out[i] = ((unsigned char) v[i] >= 0x80) ? '?' : out[i];
    }

    out[i] = '\0';
}


static int
video_fetch_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307
           || status == 308;
}


video_fetch_rc_t
video_fetch(const char *url, int fd, const video_fetch_conf_t *conf,
    video_fetch_result_t *res)
{
    int                 hop, ok;
    long                ms;
    char               *next, *type;
    double              started, left;
    CURLcode            rc;
    video_fetch_rc_t    frc;
    video_fetch_ctx_t   ctx;
    char                cerr[CURL_ERROR_SIZE];

    memset(res, 0, sizeof(video_fetch_result_t));
    memset(&ctx, 0, sizeof(video_fetch_ctx_t));

    ctx.conf = conf;
    ctx.res = res;
    ctx.fd = fd;
    ctx.guard.allow = conf->allow;

    started = video_fetch_now();

    if (video_fetch_url(&ctx, url, strlen(url), 0) != 0) {
        return res->rc;
    }

    ctx.curl = curl_easy_init();
    if (ctx.curl == NULL) {
        return video_fetch_fail(res, VIDEO_FETCH_ERROR,
                                "curl_easy_init() failed");
    }

    cerr[0] = '\0';

    curl_easy_setopt(ctx.curl, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(ctx.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ctx.curl, CURLOPT_USERAGENT,
                     "video-api/" VIDEO_WORKER_VERSION);
    curl_easy_setopt(ctx.curl, CURLOPT_HTTPGET, 1L);

    /*
     * The guard's own settings: a libcurl that refuses one of them is
     * not used at all.  http and https only, here and (belt and braces)
     * for redirects, which are followed here, not by libcurl; every
     * connection new, so every one is checked
     */

    if (video_fetch_guard(ctx.curl, &ctx.guard, "http,https") != 0
        || curl_easy_setopt(ctx.curl, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK
        || curl_easy_setopt(ctx.curl, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK)
    {
        curl_easy_cleanup(ctx.curl);
        return video_fetch_fail(res, VIDEO_FETCH_ERROR, "libcurl refused "
                                "a setting the fetch needs");
    }

    curl_easy_setopt(ctx.curl, CURLOPT_HEADERFUNCTION, video_fetch_header);
    curl_easy_setopt(ctx.curl, CURLOPT_HEADERDATA, &ctx);
    curl_easy_setopt(ctx.curl, CURLOPT_WRITEFUNCTION, video_fetch_write);
    curl_easy_setopt(ctx.curl, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(ctx.curl, CURLOPT_XFERINFOFUNCTION,
                     video_fetch_xferinfo);
    curl_easy_setopt(ctx.curl, CURLOPT_XFERINFODATA, &ctx);
    curl_easy_setopt(ctx.curl, CURLOPT_NOPROGRESS, 0L);

    if (conf->low_speed_time > 0) {
        curl_easy_setopt(ctx.curl, CURLOPT_LOW_SPEED_LIMIT,
                         conf->low_speed_limit);
        curl_easy_setopt(ctx.curl, CURLOPT_LOW_SPEED_TIME,
                         conf->low_speed_time);
    }

    for (hop = 0; /* void */; hop++) {
        left = conf->timeout - (video_fetch_now() - started);

        if (left <= 0) {
            frc = video_fetch_fail(res, VIDEO_FETCH_TIMEOUT,
                                   "timed out after %ld s", conf->timeout);
            break;
        }

        ms = (long) (left * 1000) + 1;

        curl_easy_setopt(ctx.curl, CURLOPT_URL, res->url);
        curl_easy_setopt(ctx.curl, CURLOPT_TIMEOUT_MS, ms);
        curl_easy_setopt(ctx.curl, CURLOPT_CONNECTTIMEOUT_MS,
                         conf->connect_timeout * 1000 < ms
                         ? conf->connect_timeout * 1000 : ms);

        ctx.status = 0;
        ctx.headers_done = 0;
        ctx.guard.refused = 0;
        ctx.guard.opened = 0;
        ctx.length = -1;
        ctx.reported = -1;
        res->reason[0] = '\0';
        cerr[0] = '\0';

        rc = curl_easy_perform(ctx.curl);

        res->status = ctx.status;

        if (ctx.failed) {
            frc = res->rc;
            break;
        }

        /* a body not read on purpose (not a 200) is no failure */

        if (rc != CURLE_OK
            && !(rc == CURLE_WRITE_ERROR && ctx.headers_done
                 && ctx.status != 200))
        {
            frc = video_fetch_failed(&ctx, rc, cerr, started);
            break;
        }

        if (ctx.status == 200) {
            type = NULL;
            curl_easy_getinfo(ctx.curl, CURLINFO_CONTENT_TYPE, &type);
            video_fetch_text(res->content_type, sizeof(res->content_type),
                             type);

            if (ctx.conf->progress != NULL
                && ctx.reported != res->bytes
                && ctx.conf->progress(ctx.conf->data, res->bytes,
                                      ctx.length)
                   != 0)
            {
                frc = video_fetch_fail(res, VIDEO_FETCH_CANCELLED,
                                       "cancelled");
                break;
            }

            res->reason[0] = '\0';
            frc = VIDEO_FETCH_OK;
            break;
        }

        if (!video_fetch_redirect(ctx.status)) {
            frc = video_fetch_fail(res, VIDEO_FETCH_HTTP,
                                   "HTTP %ld from source", ctx.status);
            break;
        }

        if (ctx.location_len == 0) {
            frc = video_fetch_fail(res, VIDEO_FETCH_REDIRECT,
                                   "HTTP %ld from source without a "
                                   "Location", ctx.status);
            break;
        }

        if (hop == conf->max_redirects) {
            frc = video_fetch_fail(res, VIDEO_FETCH_REDIRECTS,
                                   "more than %d redirects",
                                   conf->max_redirects);
            break;
        }

        if (ctx.location_len > VIDEO_URLGUARD_URL_MAX) {
            frc = video_fetch_fail(res, VIDEO_FETCH_REDIRECT,
                                   "redirect to a refused URL: URL longer "
                                   "than %d bytes", VIDEO_URLGUARD_URL_MAX);
            break;
        }

        next = video_fetch_resolve(res->url, ctx.location);

        if (next == NULL) {
            frc = video_fetch_fail(res, VIDEO_FETCH_REDIRECT,
                                   "redirect to a URL that cannot be "
                                   "followed");
            break;
        }

        ok = video_fetch_url(&ctx, next, strlen(next), hop + 1);
        curl_free(next);

        if (ok != 0) {
            frc = res->rc;
            break;
        }

        res->redirects++;
    }

    curl_easy_cleanup(ctx.curl);

    res->rc = frc;

    return frc;
}


int
video_fetch_transient(const video_fetch_result_t *res)
{
    switch (res->rc) {

    case VIDEO_FETCH_TIMEOUT:
    case VIDEO_FETCH_NETWORK:
    case VIDEO_FETCH_ERROR:
        return 1;

    case VIDEO_FETCH_HTTP:
        return res->status == 408 || res->status == 429
               || res->status >= 500;

    default:
        return 0;
    }
}
