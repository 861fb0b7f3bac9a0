/*
 * Fetching a source URL on a caller's behalf: the URL and every
 * redirect's checked by src/lib/video_urlguard.c, every connection's
 * address checked when its socket is opened (so neither DNS nor a
 * redirect can lead to a private address), no proxy, size and time
 * bounds.  Blocking: for the workers only, in a process that called
 * curl_global_init() before starting threads (as for storage).
 */

#ifndef _WORKER_FETCH_H_INCLUDED_
#define _WORKER_FETCH_H_INCLUDED_


#include <stdint.h>

#include <curl/curl.h>

#include "video_urlguard.h"


/* what became of a fetch */
typedef enum {
    VIDEO_FETCH_OK = 0,
    VIDEO_FETCH_URL,         /* the URL is refused (not http(s), malformed) */
    VIDEO_FETCH_ADDRESS,     /* an address neither public nor allowed */
    VIDEO_FETCH_REDIRECT,    /* a redirect to a URL refused or unusable */
    VIDEO_FETCH_REDIRECTS,   /* more redirects than max_redirects */
    VIDEO_FETCH_TOO_BIG,     /* more than max_bytes, said or sent */
    VIDEO_FETCH_HTTP,        /* a final status other than 200 */
    VIDEO_FETCH_TIMEOUT,     /* the whole fetch, a connect, or too slow */
    VIDEO_FETCH_TLS,         /* a handshake or a certificate */
    VIDEO_FETCH_NETWORK,     /* no such host, no connection, cut short */
    VIDEO_FETCH_WRITE,       /* the file could not be written */
    VIDEO_FETCH_CANCELLED,   /* the progress callback, or a stop signal */
    VIDEO_FETCH_ERROR        /* libcurl itself */
} video_fetch_rc_t;


/*
 * Called as bytes arrive (the final response's: redirects' bodies are
 * never read): bytes written so far, the total its Content-Length
 * announced (-1: none).  Non-zero cancels the fetch.  It is called often
 * (each read from the socket, and about once a second while none comes):
 * a caller publishing progress rate-limits it.
 */
typedef int (*video_fetch_progress_pt)(void *data, int64_t bytes,
    int64_t total);


typedef struct {
    const video_urlguard_allow_t  *allow;   /* may be NULL: public only */
    int64_t                        max_bytes;
    long                           timeout;          /* s, the whole
                                                        fetch, redirects
                                                        included */
    long                           connect_timeout;  /* s, a connection */
    long                           low_speed_limit;  /* bytes/s, under */
    long                           low_speed_time;   /* ... this long
                                                        (s; 0: no limit) */
    int                            max_redirects;
    video_fetch_progress_pt        progress;         /* may be NULL */
    void                          *data;             /* progress's */
} video_fetch_conf_t;


typedef struct {
    video_fetch_rc_t  rc;
    long              status;         /* the last response's, 0: none */
    int               redirects;      /* followed */
    int64_t           bytes;          /* written to the file */
    char              url[VIDEO_URLGUARD_URL_MAX + 1];
                                      /* the last URL asked for (in its
                                         normal form): on success the
                                         effective URL */
    char              content_type[128];  /* the 200's, "" when none */
    char              reason[512];    /* why, when rc is not OK:
                                         "source address 127.0.0.1 is
                                         not public (loopback)", "HTTP 404
                                         from source"... */
} video_fetch_result_t;


/*
 * The guard of a libcurl handle (shared with the webhook deliveries):
 * every socket it opens is first checked against allow (NULL: public
 * only); a refusal is counted, its reason kept ("address 10.1.2.3 is not
 * public (private)").  A caller zeroes refused and opened before each
 * transfer.
 */
typedef struct {
    const video_urlguard_allow_t  *allow;
    int                            refused;
    int                            opened;    /* sockets opened */
    char                           reason[VIDEO_URLGUARD_REASON];
} video_fetch_guard_t;

/*
 * Sets what the guard needs on curl: protocols ("http,https", "https")
 * for the URL and any redirect, no redirect followed by libcurl, no
 * proxy (whatever http_proxy and the like say: the address connected to
 * would be the proxy's), no .netrc, and every socket opened through the
 * check of g.  0, or -1 when libcurl refused one of them (the handle
 * must then not be used).
 */
int video_fetch_guard(CURL *curl, video_fetch_guard_t *g,
    const char *protocols);

/* conf from the worker's settings (fetch_*); allow is theirs */
void video_fetch_conf_init(video_fetch_conf_t *conf);

/*
 * GETs url and writes the body of its 200 answer to fd, from the file's
 * current offset.  On failure some bytes may have been written: the
 * caller truncates or removes the file.  Returns res->rc; res is filled
 * in either case.
 */
video_fetch_rc_t video_fetch(const char *url, int fd,
    const video_fetch_conf_t *conf, video_fetch_result_t *res);

/*
 * 1 when trying again later may succeed (a timeout, the network, HTTP 408,
 * 429 and 5xx, libcurl's own failures), 0 when the same answer will come
 * again (a refused URL or address, too big, another status...)
 */
int video_fetch_transient(const video_fetch_result_t *res);


#endif /* _WORKER_FETCH_H_INCLUDED_ */
