/*
 * Source URLs and the addresses a fetch may reach.  The first line names
 * what the rest is:
 *
 *   url   a URL: what passes is http(s), printable ASCII with no
 *         userinfo, fits VIDEO_URLGUARD_URL_MAX, is its own normal form,
 *         and libcurl's own parser reads the same scheme, host and port
 *         from it (the form handed to libcurl means what was judged)
 *   cidr  an allow-list entry: what passes has no bits beyond its
 *         prefix, matches its own network and not the address just
 *         outside it
 *   addr  16 bytes: an IPv6 address and, from its last 4, an IPv4 one;
 *         the IPv4-mapped form is judged as its IPv4 address, the check
 *         refuses exactly what is not public, with a reason that fits
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <strings.h>

#include <curl/curl.h>

#include "fuzz.h"
#include "video_urlguard.h"


static const char *const  urlguard_modes[] = { "url", "cidr", "addr" };


/* host (without brackets) and port as libcurl's URL parser reads them */

static void
urlguard_curl(const video_urlguard_url_t *u)
{
    char          *scheme, *host, *port, *h;
    size_t         len;
    CURLU         *cu;
    CURLUcode      rc;
    unsigned char  a[16], b[16];

    cu = curl_url();
    fuzz_assert(cu != NULL);

    rc = curl_url_set(cu, CURLUPART_URL, u->url, 0);
    fuzz_assert(rc == CURLUE_OK);

    fuzz_assert(curl_url_get(cu, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK);
    fuzz_assert(strcmp(scheme, u->https ? "https" : "http") == 0);

    fuzz_assert(curl_url_get(cu, CURLUPART_HOST, &host, 0) == CURLUE_OK);

    h = host;
    len = strlen(h);

    if (h[0] == '[') {
        fuzz_assert(len > 2 && h[len - 1] == ']');
        h[len - 1] = '\0';
        h++;
    }

    if (u->literal == AF_INET6) {
        fuzz_assert(inet_pton(AF_INET6, h, a) == 1);
        fuzz_assert(inet_pton(AF_INET6, u->host, b) == 1);
        fuzz_assert(memcmp(a, b, 16) == 0);

    } else {
        fuzz_assert(strcasecmp(h, u->host) == 0);
    }

    fuzz_assert(curl_url_get(cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)
                == CURLUE_OK);
    fuzz_assert((unsigned) atoi(port) == u->port);

    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(cu);
}


static void
urlguard_url(const char *s, size_t len)
{
    char                   reason[VIDEO_URLGUARD_REASON];
    size_t                 n, i;
    const char            *err, *a, *ae;
    video_urlguard_rc_t    rc;
    video_urlguard_url_t  *u, *again;

    u = malloc(sizeof(video_urlguard_url_t) * 2);
    fuzz_assert(u != NULL);
    again = u + 1;

    err = NULL;
    rc = video_urlguard_parse(s, len, u, &err);

    if (rc != VIDEO_URLGUARD_OK) {
        fuzz_assert(err != NULL);
        free(u);
        return;
    }

    n = strlen(u->url);
    fuzz_assert(n <= VIDEO_URLGUARD_URL_MAX);
    fuzz_assert(strncmp(u->url, u->https ? "https://" : "http://",
                        u->https ? 8 : 7) == 0);
    fuzz_assert(u->port >= 1 && u->port <= 65535);
    fuzz_assert(u->host[0] != '\0');

    for (i = 0; i < n; i++) {
        fuzz_assert((unsigned char) u->url[i] > 0x20
                    && (unsigned char) u->url[i] < 0x7f
                    && u->url[i] != '\\');
    }

    a = u->url + (u->https ? 8 : 7);
    ae = a + strcspn(a, "/?#");
    fuzz_assert(memchr(a, '@', ae - a) == NULL);
    fuzz_assert(strchr(u->url, '#') == NULL);

    if (u->literal != 0) {
        fuzz_assert(u->addr.ss_family == u->literal);
        fuzz_assert(u->addr_len != 0);

        /* a literal is judged at once, as a connect to it would be */

        if (video_urlguard_check(NULL, (struct sockaddr *) &u->addr,
                                 u->addr_len, reason, sizeof(reason))
            != 0)
        {
            fuzz_assert(strncmp(reason, "source address ", 15) == 0);
        }

    } else {
        fuzz_assert(u->addr_len == 0);
    }

    rc = video_urlguard_parse(u->url, n, again, &err);
    fuzz_assert(rc == VIDEO_URLGUARD_OK);
    fuzz_assert(strcmp(again->url, u->url) == 0);
    fuzz_assert(strcmp(again->host, u->host) == 0);
    fuzz_assert(again->port == u->port && again->literal == u->literal);

    urlguard_curl(u);

    free(u);
}


static void
urlguard_cidr(const char *s, size_t len)
{
    unsigned                 max, i;
    const char              *err;
    video_urlguard_allow_t   allow;
    video_urlguard_cidr_t   *c;
    struct sockaddr_in      *sin;
    struct sockaddr_in6     *sin6;
    struct sockaddr_storage  ss;

    memset(&allow, 0, sizeof(allow));
    c = &allow.cidr[0];
    sin = NULL;
    sin6 = NULL;

    if (video_urlguard_cidr_parse(s, len, c, &err) != 0) {
        fuzz_assert(err != NULL);
        return;
    }

    allow.n = 1;

    fuzz_assert(c->family == AF_INET || c->family == AF_INET6);
    max = (c->family == AF_INET) ? 32 : 128;
    fuzz_assert(c->bits <= max);

    for (i = c->bits; i < max; i++) {
        fuzz_assert((c->addr[i / 8] & (0x80 >> (i % 8))) == 0);
    }

    memset(&ss, 0, sizeof(ss));

    if (c->family == AF_INET) {
        sin = (struct sockaddr_in *) &ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, c->addr, 4);

    } else {
        sin6 = (struct sockaddr_in6 *) &ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, c->addr, 16);
    }

    fuzz_assert(video_urlguard_allowed(&allow, (struct sockaddr *) &ss,
                                       sizeof(ss)));

    if (c->bits == 0) {
        return;
    }

    /* the last bit of the prefix flipped: outside */

    i = c->bits - 1;

    if (c->family == AF_INET) {
        ((unsigned char *) &sin->sin_addr)[i / 8] ^= 0x80 >> (i % 8);

    } else {
        ((unsigned char *) &sin6->sin6_addr)[i / 8] ^= 0x80 >> (i % 8);
    }

    fuzz_assert(!video_urlguard_allowed(&allow, (struct sockaddr *) &ss,
                                        sizeof(ss)));
}


static void
urlguard_addr(const char *s, size_t len)
{
    int                     rc;
    char                    reason[VIDEO_URLGUARD_REASON];
    const char             *via, *via6;
    unsigned char           a[16], m[16];
    struct sockaddr_in      sin;
    struct sockaddr_in6     sin6;
    video_urlguard_class_t  c4, c6, c;

    memset(a, 0, sizeof(a));
    memcpy(a, s, len > 16 ? 16 : len);

    c6 = video_urlguard_classify6(a, &via6);
    fuzz_assert(c6 < VIDEO_URLGUARD_NOT_IP);

    c4 = video_urlguard_classify4(a + 12);
    fuzz_assert(c4 < VIDEO_URLGUARD_NOT_IP);

    memset(m, 0, sizeof(m));
    m[10] = 0xff;
    m[11] = 0xff;
    memcpy(m + 12, a + 12, 4);

    c = video_urlguard_classify6(m, &via);
    fuzz_assert(c == c4 && via != NULL && strcmp(via, "IPv4-mapped") == 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, a + 12, 4);

    rc = video_urlguard_check(NULL, (struct sockaddr *) &sin, sizeof(sin),
                              reason, sizeof(reason));
    fuzz_assert((rc == 0) == (c4 == VIDEO_URLGUARD_PUBLIC));
    fuzz_assert(rc == 0 || strstr(reason, " is not public (") != NULL);

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, a, 16);

    rc = video_urlguard_check(NULL, (struct sockaddr *) &sin6, sizeof(sin6),
                              reason, sizeof(reason));
    fuzz_assert((rc == 0) == (c6 == VIDEO_URLGUARD_PUBLIC));
    fuzz_assert(rc == 0 || strstr(reason, " is not public (") != NULL);
    fuzz_assert(strlen(reason) < sizeof(reason));

    /* public IPv6 is global unicast, 2000::/3 */

    fuzz_assert(c6 != VIDEO_URLGUARD_PUBLIC || (a[0] & 0xe0) == 0x20
                || via6 != NULL);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part_t  parts[2];

    fuzz_split(data, size, '\n', parts, 2);

    switch (fuzz_pick(&parts[0], urlguard_modes,
                      FUZZ_NELTS(urlguard_modes)))
    {
    case 0:
        urlguard_url(parts[1].data, parts[1].len);
        break;

    case 1:
        urlguard_cidr(parts[1].data, parts[1].len);
        break;

    default:
        urlguard_addr(parts[1].data, parts[1].len);
        break;
    }

    return 0;
}
