/*
 * Source URLs and the addresses a fetch may reach: a strict parser that
 * writes a URL in one normal form, the special-purpose address ranges
 * (IANA's IPv4 and IPv6 registries) and the operator's allow-list.
 */

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "video_urlguard.h"


#define video_urlguard_lower(c)                                               \
    (((c) >= 'A' && (c) <= 'Z') ? (c) - 'A' + 'a' : (c))

#define video_urlguard_digit(c)  ((c) >= '0' && (c) <= '9')

#define video_urlguard_hex(c)                                                 \
    (video_urlguard_digit(c) || ((c) >= 'a' && (c) <= 'f')                   \
     || ((c) >= 'A' && (c) <= 'F'))


typedef struct {
    uint32_t                net;
    unsigned                bits;
    video_urlguard_class_t  class;
} video_urlguard_range4_t;


/* first match wins: the broadcast address before the rest of 240/4 */

static const video_urlguard_range4_t  video_urlguard_ranges4[] = {
    { 0x00000000,  8, VIDEO_URLGUARD_UNSPECIFIED },
    { 0x0a000000,  8, VIDEO_URLGUARD_PRIVATE },
    { 0x64400000, 10, VIDEO_URLGUARD_SHARED },
    { 0x7f000000,  8, VIDEO_URLGUARD_LOOPBACK },
    { 0xa9fe0000, 16, VIDEO_URLGUARD_LINK_LOCAL },
    { 0xac100000, 12, VIDEO_URLGUARD_PRIVATE },
    { 0xc0000000, 24, VIDEO_URLGUARD_PROTOCOL },
    { 0xc0000200, 24, VIDEO_URLGUARD_DOCUMENTATION },
    { 0xc0586300, 24, VIDEO_URLGUARD_RESERVED },     /* 6to4 relays */
    { 0xc0a80000, 16, VIDEO_URLGUARD_PRIVATE },
    { 0xc6120000, 15, VIDEO_URLGUARD_BENCHMARKING },
    { 0xc6336400, 24, VIDEO_URLGUARD_DOCUMENTATION },
    { 0xcb007100, 24, VIDEO_URLGUARD_DOCUMENTATION },
    { 0xe0000000,  4, VIDEO_URLGUARD_MULTICAST },
    { 0xffffffff, 32, VIDEO_URLGUARD_BROADCAST },
    { 0xf0000000,  4, VIDEO_URLGUARD_RESERVED },
};


static const char  *video_urlguard_class_names[] = {
    "public", "unspecified", "loopback", "private", "carrier-grade NAT",
    "link-local", "site-local", "IETF protocol assignments",
    "documentation", "benchmarking", "multicast", "broadcast", "reserved",
    "not an IP address"
};


const char *
video_urlguard_class_name(video_urlguard_class_t c)
{
    if ((unsigned) c >= sizeof(video_urlguard_class_names)
                        / sizeof(video_urlguard_class_names[0]))
    {
        return "unknown";
    }

    return video_urlguard_class_names[c];
}


video_urlguard_class_t
video_urlguard_classify4(const unsigned char *a)
{
    size_t    i;
    uint32_t  v, mask;

    v = ((uint32_t) a[0] << 24) | ((uint32_t) a[1] << 16)
        | ((uint32_t) a[2] << 8) | a[3];

    for (i = 0; i < sizeof(video_urlguard_ranges4)
                    / sizeof(video_urlguard_ranges4[0]); i++)
    {
        mask = 0xffffffff << (32 - video_urlguard_ranges4[i].bits);

        if ((v & mask) == video_urlguard_ranges4[i].net) {
            return video_urlguard_ranges4[i].class;
        }
    }

    return VIDEO_URLGUARD_PUBLIC;
}


static int
video_urlguard_zero(const unsigned char *a, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (a[i] != 0) {
            return 0;
        }
    }

    return 1;
}


video_urlguard_class_t
video_urlguard_classify6(const unsigned char *a, const char **via)
{
    unsigned char           client[4];
    video_urlguard_class_t  c;

    static const unsigned char  nat64[12] = {
        0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
    };

    if (via != NULL) {
        *via = NULL;
    }

    if (video_urlguard_zero(a, 16)) {
        return VIDEO_URLGUARD_UNSPECIFIED;
    }

    if (video_urlguard_zero(a, 15) && a[15] == 1) {
        return VIDEO_URLGUARD_LOOPBACK;
    }

    /* the forms that carry an IPv4 address are as good as it is */

    if (video_urlguard_zero(a, 10) && a[10] == 0xff && a[11] == 0xff) {
        if (via != NULL) {
            *via = "IPv4-mapped";
        }

        return video_urlguard_classify4(a + 12);
    }

    if (video_urlguard_zero(a, 12)) {
        if (via != NULL) {
            *via = "IPv4-compatible";
        }

        return video_urlguard_classify4(a + 12);
    }

    if (memcmp(a, nat64, sizeof(nat64)) == 0) {
        if (via != NULL) {
            *via = "NAT64";
        }

        return video_urlguard_classify4(a + 12);
    }

    if (a[0] == 0x20 && a[1] == 0x02) {
        if (via != NULL) {
            *via = "6to4";
        }

        return video_urlguard_classify4(a + 2);
    }

    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) {

        /* Teredo: the server's address, then the client's, inverted */

        if (via != NULL) {
            *via = "Teredo";
        }

        c = video_urlguard_classify4(a + 4);

        if (c != VIDEO_URLGUARD_PUBLIC) {
            return c;
        }

        client[0] = ~a[12];
        client[1] = ~a[13];
        client[2] = ~a[14];
        client[3] = ~a[15];

        return video_urlguard_classify4(client);
    }

    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0x02
        && a[4] == 0 && a[5] == 0)
    {
        return VIDEO_URLGUARD_BENCHMARKING;
    }

    if (a[0] == 0x20 && a[1] == 0x01 && (a[2] & 0xfe) == 0) {
        return VIDEO_URLGUARD_PROTOCOL;
    }

    if ((a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        || (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0))
    {
        return VIDEO_URLGUARD_DOCUMENTATION;
    }

    if ((a[0] & 0xfe) == 0xfc) {
        return VIDEO_URLGUARD_PRIVATE;
    }

    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
        return VIDEO_URLGUARD_LINK_LOCAL;
    }

    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
        return VIDEO_URLGUARD_SITE_LOCAL;
    }

    if (a[0] == 0xff) {
        return VIDEO_URLGUARD_MULTICAST;
    }

    /* only 2000::/3 is global unicast so far */

    if ((a[0] & 0xe0) != 0x20) {
        return VIDEO_URLGUARD_RESERVED;
    }

    return VIDEO_URLGUARD_PUBLIC;
}


video_urlguard_class_t
video_urlguard_classify(const struct sockaddr *sa, socklen_t len,
    const char **via)
{
    if (via != NULL) {
        *via = NULL;
    }

    if (sa == NULL) {
        return VIDEO_URLGUARD_NOT_IP;
    }

    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        return video_urlguard_classify4((const unsigned char *)
                   &((const struct sockaddr_in *) sa)->sin_addr);
    }

    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        return video_urlguard_classify6((const unsigned char *)
                   &((const struct sockaddr_in6 *) sa)->sin6_addr, via);
    }

    return VIDEO_URLGUARD_NOT_IP;
}


/* -- the allow-list ------------------------------------------------------ */


static int
video_urlguard_prefix(const unsigned char *a, const unsigned char *net,
    unsigned bits)
{
    unsigned       n, rest;
    unsigned char  mask;

    n = bits / 8;
    rest = bits % 8;

    if (memcmp(a, net, n) != 0) {
        return 0;
    }

    if (rest == 0) {
        return 1;
    }

    mask = (unsigned char) (0xff << (8 - rest));

    return (a[n] & mask) == (net[n] & mask);
}


int
video_urlguard_cidr_parse(const char *s, size_t len,
    video_urlguard_cidr_t *c, const char **err)
{
    size_t         alen, i;
    unsigned       bits, max;
    const char    *slash;
    unsigned char  mask;
    char           buf[64];

    memset(c, 0, sizeof(video_urlguard_cidr_t));

    slash = memchr(s, '/', len);
    alen = slash ? (size_t) (slash - s) : len;

    if (alen == 0 || alen >= sizeof(buf)) {
        *err = "not an IPv4 or IPv6 address";
        return -1;
    }

    memcpy(buf, s, alen);
    buf[alen] = '\0';

    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        max = 32;

    } else if (memchr(buf, ':', alen) != NULL
               && inet_pton(AF_INET6, buf, c->addr) == 1)
    {
        c->family = AF_INET6;
        max = 128;

    } else {
        *err = "not an IPv4 or IPv6 address";
        return -1;
    }

    bits = max;

    if (slash != NULL) {
        s = slash + 1;
        len -= alen + 1;

        if (len == 0 || len > 3 || (len > 1 && s[0] == '0')) {
            *err = "invalid prefix length";
            return -1;
        }

        bits = 0;

        for (i = 0; i < len; i++) {
            if (!video_urlguard_digit(s[i])) {
                *err = "invalid prefix length";
                return -1;
            }

            bits = bits * 10 + (s[i] - '0');
        }

        if (bits > max) {
            *err = "prefix length too long for the address";
            return -1;
        }
    }

    /* the address must be the network's: 10.0.0.1/8 is a mistake */

    for (i = bits; i < max; i++) {
        mask = (unsigned char) (0x80 >> (i % 8));

        if (c->addr[i / 8] & mask) {
            *err = "address has bits set beyond the prefix length";
            return -1;
        }
    }

    c->bits = bits;

    /* ::ffff:10.0.0.0/104 is 10.0.0.0/8 */

    if (c->family == AF_INET6 && bits >= 96 && video_urlguard_zero(c->addr, 10)
        && c->addr[10] == 0xff && c->addr[11] == 0xff)
    {
        c->family = AF_INET;
        c->bits = bits - 96;
        memmove(c->addr, c->addr + 12, 4);
        memset(c->addr + 4, 0, 12);
    }

    return 0;
}


int
video_urlguard_allow_parse(video_urlguard_allow_t *allow, const char *list,
    size_t len, char *err, size_t size)
{
    size_t       n;
    const char  *p, *end, *e, *why;

    p = list;
    end = list + len;

    while (p < end) {
        if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n'
            || *p == '\r')
        {
            p++;
            continue;
        }

        for (e = p; e < end; e++) {
            if (*e == ',' || *e == ' ' || *e == '\t' || *e == '\n'
                || *e == '\r')
            {
                break;
            }
        }

        n = e - p;

        if (allow->n == VIDEO_URLGUARD_ALLOW_MAX) {
            snprintf(err, size, "more than %d networks",
                     VIDEO_URLGUARD_ALLOW_MAX);
            return -1;
        }

        if (video_urlguard_cidr_parse(p, n, &allow->cidr[allow->n], &why)
            != 0)
        {
            snprintf(err, size, "\"%.*s\": %s", (int) (n > 64 ? 64 : n), p,
                     why);
            return -1;
        }

        allow->n++;
        p = e;
    }

    return 0;
}


int
video_urlguard_allowed(const video_urlguard_allow_t *allow,
    const struct sockaddr *sa, socklen_t len)
{
    int                   family;
    size_t                i;
    const unsigned char  *a, *mapped;

    if (allow == NULL || sa == NULL) {
        return 0;
    }

    mapped = NULL;

    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        family = AF_INET;
        a = (const unsigned char *)
                &((const struct sockaddr_in *) sa)->sin_addr;

    } else if (sa->sa_family == AF_INET6
               && len >= sizeof(struct sockaddr_in6))
    {
        family = AF_INET6;
        a = (const unsigned char *)
                &((const struct sockaddr_in6 *) sa)->sin6_addr;

        if (video_urlguard_zero(a, 10) && a[10] == 0xff && a[11] == 0xff) {
            mapped = a + 12;
        }

    } else {
        return 0;
    }

    for (i = 0; i < allow->n; i++) {
        if (allow->cidr[i].family == family
            && video_urlguard_prefix(a, allow->cidr[i].addr,
                                     allow->cidr[i].bits))
        {
            return 1;
        }

        if (mapped != NULL && allow->cidr[i].family == AF_INET
            && video_urlguard_prefix(mapped, allow->cidr[i].addr,
                                     allow->cidr[i].bits))
        {
            return 1;
        }
    }

    return 0;
}


int
video_urlguard_check(const video_urlguard_allow_t *allow,
    const struct sockaddr *sa, socklen_t len, char *reason, size_t size)
{
    char                    text[INET6_ADDRSTRLEN];
    const char             *via;
    const void             *a;
    video_urlguard_class_t  c;

    c = video_urlguard_classify(sa, len, &via);

    if (c == VIDEO_URLGUARD_NOT_IP) {
        snprintf(reason, size, "source address of family %d is not an IP "
                 "address", sa ? (int) sa->sa_family : -1);
        return -1;
    }

    if (c == VIDEO_URLGUARD_PUBLIC || video_urlguard_allowed(allow, sa, len))
    {
        return 0;
    }

    if (sa->sa_family == AF_INET) {
        a = &((const struct sockaddr_in *) sa)->sin_addr;

    } else {
        a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    }

    if (inet_ntop(sa->sa_family, a, text, sizeof(text)) == NULL) {
        strcpy(text, "?");
    }

    snprintf(reason, size, "source address %s is not public (%s%s%s)", text,
             video_urlguard_class_name(c), via ? ", " : "", via ? via : "");

    return -1;
}


/* -- URLs ---------------------------------------------------------------- */


/*
 * The IPv4 forms of a host (WHATWG's URL standard, inet_aton(3)): up to
 * four numbers, each decimal, octal (a leading 0) or hexadecimal (0x),
 * the last filling the bytes left.  -1 when the host is not one (its last
 * label is not a number: a name), -2 when it is one that is invalid, 0
 * with *out.
 */

static int
video_urlguard_ipv4(const char *h, size_t len, unsigned char *out)
{
    size_t       n, i, k, llen, lens[4];
    uint64_t     v, nums[4], base, d;
    const char  *p, *end, *dot, *last, *label[4];

    end = h + len;

    /* a trailing dot is the root's, not a label */

    if (len > 1 && end[-1] == '.') {
        end--;
    }

    /* a host whose last label is not a number is a name */

    for (last = end; last > h && last[-1] != '.'; last--) {
        /* void */
    }

    llen = end - last;

    if (llen == 0) {
        return -1;
    }

    i = 0;

    if (llen >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
        for (i = 2; i < llen && video_urlguard_hex(last[i]); i++) {
            /* void */
        }

    } else {
        for (i = 0; i < llen && video_urlguard_digit(last[i]); i++) {
            /* void */
        }
    }

    if (i < llen) {
        return -1;
    }

    n = 0;

    for (p = h; /* void */; p = dot + 1) {
        if (n == 4) {
            return -2;
        }

        dot = memchr(p, '.', end - p);

        label[n] = p;
        lens[n] = (dot ? dot : end) - p;
        n++;

        if (dot == NULL) {
            break;
        }
    }

    for (k = 0; k < n; k++) {
        p = label[k];
        llen = lens[k];

        if (llen == 0) {
            return -2;
        }

        base = 10;
        i = 0;

        if (llen >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            base = 16;
            i = 2;

        } else if (llen >= 2 && p[0] == '0') {
            base = 8;
            i = 1;
        }

        v = 0;

        for ( /* void */ ; i < llen; i++) {
            if (video_urlguard_digit(p[i])) {
                d = p[i] - '0';

            } else if (base == 16 && video_urlguard_hex(p[i])) {
                d = video_urlguard_lower(p[i]) - 'a' + 10;

            } else {
                return -2;
            }

            if (d >= base) {
                return -2;
            }

            v = v * base + d;

            if (v > 0xffffffff) {
                return -2;
            }
        }

        nums[k] = v;
    }

    for (k = 0; k + 1 < n; k++) {
        if (nums[k] > 255) {
            return -2;
        }
    }

    if (nums[n - 1] >= ((uint64_t) 1 << (8 * (5 - n)))) {
        return -2;
    }

    v = nums[n - 1];

    for (k = 0; k + 1 < n; k++) {
        v += nums[k] << (8 * (3 - k));
    }

    out[0] = (unsigned char) (v >> 24);
    out[1] = (unsigned char) (v >> 16);
    out[2] = (unsigned char) (v >> 8);
    out[3] = (unsigned char) v;

    return 0;
}


/* a host name: labels of [a-z0-9_-], 1..63 bytes, 253 in all */

static int
video_urlguard_name(const char *h, size_t len, const char **err)
{
    size_t  i, label;

    if (len > 1 && h[len - 1] == '.') {
        len--;
    }

    if (len > VIDEO_URLGUARD_HOST_MAX) {
        *err = "host name longer than 253 bytes";
        return -1;
    }

    label = 0;

    for (i = 0; i < len; i++) {
        if (h[i] == '.') {
            if (label == 0) {
                *err = "empty label in the host name";
                return -1;
            }

            label = 0;
            continue;
        }

        if (++label > 63) {
            *err = "label of the host name longer than 63 bytes";
            return -1;
        }
    }

    if (label == 0) {
        *err = "empty label in the host name";
        return -1;
    }

    return 0;
}


/* appends len bytes of s to out at *n; -1 once out is full */

static int
video_urlguard_put(char *out, size_t *n, const char *s, size_t len)
{
    if (*n + len > VIDEO_URLGUARD_URL_MAX) {
        return -1;
    }

    memcpy(out + *n, s, len);
    *n += len;
    out[*n] = '\0';

    return 0;
}


video_urlguard_rc_t
video_urlguard_parse(const char *s, size_t len, video_urlguard_url_t *u,
    const char **err)
{
    int                   rc;
    char                  buf[64], port[8];
    size_t                i, n, hlen;
    unsigned              p;
    const char           *end, *a, *ae, *h, *he, *pp, *rb, *frag;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    memset(u, 0, sizeof(video_urlguard_url_t));

    if (len > VIDEO_URLGUARD_URL_MAX) {
        *err = "URL longer than 2048 bytes";
        return VIDEO_URLGUARD_TOO_LONG;
    }

    if (len == 0) {
        *err = "empty URL";
        return VIDEO_URLGUARD_SYNTAX;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f) {
            *err = "URL contains a space or a control character";
            return VIDEO_URLGUARD_SYNTAX;
        }

        if (s[i] == '\\') {
            *err = "URL contains a backslash";
            return VIDEO_URLGUARD_SYNTAX;
        }
    }

    end = s + len;

    /* the scheme */

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (i > 0 && (video_urlguard_digit(s[i]) || s[i] == '+'
                            || s[i] == '-' || s[i] == '.'))))
        {
            break;
        }
    }

    if (i == 0 || i == len || s[i] != ':') {
        *err = "URL has no scheme";
        return VIDEO_URLGUARD_SYNTAX;
    }

    if (i == 4 && strncasecmp(s, "http", 4) == 0) {
        u->https = 0;

    } else if (i == 5 && strncasecmp(s, "https", 5) == 0) {
        u->https = 1;

    } else {
        *err = "only http and https URLs are fetched";
        return VIDEO_URLGUARD_SCHEME;
    }

    if (len - i < 3 || s[i + 1] != '/' || s[i + 2] != '/') {
        *err = "expected \"//\" after the scheme";
        return VIDEO_URLGUARD_SYNTAX;
    }

    /* the authority: up to a path, a query or a fragment */

    a = s + i + 3;

    for (ae = a; ae < end && *ae != '/' && *ae != '?' && *ae != '#'; ae++) {
        /* void */
    }

    if (memchr(a, '@', ae - a) != NULL) {
        *err = "URL has a user name or password";
        return VIDEO_URLGUARD_USERINFO;
    }

    if (ae == a) {
        *err = "URL has no host";
        return VIDEO_URLGUARD_NO_HOST;
    }

    pp = NULL;

    if (*a == '[') {
        rb = memchr(a, ']', ae - a);

        if (rb == NULL) {
            *err = "unterminated IPv6 address";
            return VIDEO_URLGUARD_HOST;
        }

        h = a + 1;
        hlen = rb - h;

        if (memchr(h, '%', hlen) != NULL) {
            *err = "zone ids are not accepted in an IPv6 address";
            return VIDEO_URLGUARD_HOST;
        }

        for (i = 0; i < hlen; i++) {
            if (!video_urlguard_hex(h[i]) && h[i] != ':' && h[i] != '.') {
                *err = "invalid IPv6 address";
                return VIDEO_URLGUARD_HOST;
            }
        }

        if (hlen == 0 || hlen >= sizeof(buf)) {
            *err = "invalid IPv6 address";
            return VIDEO_URLGUARD_HOST;
        }

        memcpy(buf, h, hlen);
        buf[hlen] = '\0';

        sin6 = (struct sockaddr_in6 *) &u->addr;

        if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1) {
            *err = "invalid IPv6 address";
            return VIDEO_URLGUARD_HOST;
        }

        sin6->sin6_family = AF_INET6;
        u->literal = AF_INET6;
        u->addr_len = sizeof(struct sockaddr_in6);

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, u->host, sizeof(u->host))
            == NULL)
        {
            *err = "invalid IPv6 address";
            return VIDEO_URLGUARD_HOST;
        }

        if (rb + 1 < ae) {
            if (rb[1] != ':') {
                *err = "unexpected characters after the IPv6 address";
                return VIDEO_URLGUARD_HOST;
            }

            pp = rb + 2;
        }

    } else {
        he = memchr(a, ':', ae - a);

        if (he != NULL) {
            pp = he + 1;

        } else {
            he = ae;
        }

        h = a;
        hlen = he - a;

        if (hlen == 0) {
            *err = "URL has no host";
            return VIDEO_URLGUARD_NO_HOST;
        }

        for (i = 0; i < hlen; i++) {
            if ((unsigned char) h[i] >= 0x80) {
                *err = "host name is not ASCII (IDN): send its punycode "
                       "(xn--) form";
                return VIDEO_URLGUARD_IDN;
            }
        }

        for (i = 0; i < hlen; i++) {
            if (h[i] == '%') {
                *err = "percent-encoded host names are not accepted";
                return VIDEO_URLGUARD_HOST;
            }

            if (!(video_urlguard_hex(h[i]) || (h[i] >= 'g' && h[i] <= 'z')
                  || (h[i] >= 'G' && h[i] <= 'Z') || h[i] == '.'
                  || h[i] == '-' || h[i] == '_'))
            {
                *err = "invalid character in the host name";
                return VIDEO_URLGUARD_HOST;
            }
        }

        sin = (struct sockaddr_in *) &u->addr;

        rc = video_urlguard_ipv4(h, hlen, (unsigned char *) &sin->sin_addr);

        if (rc == -2) {
            *err = "host is not a valid IPv4 address";
            return VIDEO_URLGUARD_HOST;
        }

        if (rc == 0) {
            sin->sin_family = AF_INET;
            u->literal = AF_INET;
            u->addr_len = sizeof(struct sockaddr_in);

            if (inet_ntop(AF_INET, &sin->sin_addr, u->host, sizeof(u->host))
                == NULL)
            {
                *err = "host is not a valid IPv4 address";
                return VIDEO_URLGUARD_HOST;
            }

        } else {
            if (video_urlguard_name(h, hlen, err) != 0) {
                return VIDEO_URLGUARD_HOST;
            }

            for (i = 0; i < hlen; i++) {
                u->host[i] = video_urlguard_lower(h[i]);
            }

            u->host[hlen] = '\0';
        }
    }

    /* the port */

    u->port = u->https ? 443 : 80;

    if (pp != NULL) {
        n = ae - pp;

        if (n == 0 || n > 5) {
            *err = "invalid port";
            return VIDEO_URLGUARD_PORT;
        }

        p = 0;

        for (i = 0; i < n; i++) {
            if (!video_urlguard_digit(pp[i])) {
                *err = "invalid port";
                return VIDEO_URLGUARD_PORT;
            }

            p = p * 10 + (pp[i] - '0');
        }

        if (p == 0 || p > 65535) {
            *err = "invalid port";
            return VIDEO_URLGUARD_PORT;
        }

        u->port = p;
    }

    if (u->literal == AF_INET) {
        ((struct sockaddr_in *) &u->addr)->sin_port = htons(u->port);

    } else if (u->literal == AF_INET6) {
        ((struct sockaddr_in6 *) &u->addr)->sin6_port = htons(u->port);
    }

    /* path and query: printable ASCII with well-formed escapes */

    frag = memchr(ae, '#', end - ae);
    if (frag == NULL) {
        frag = end;
    }

    for (pp = ae; pp < frag; pp++) {
        if ((unsigned char) *pp >= 0x80) {
            *err = "URL contains bytes that are not ASCII (percent-encode "
                   "them)";
            return VIDEO_URLGUARD_SYNTAX;
        }

        if (*pp == '%'
            && (frag - pp < 3 || !video_urlguard_hex(pp[1])
                || !video_urlguard_hex(pp[2])))
        {
            *err = "malformed percent-escape in the URL";
            return VIDEO_URLGUARD_SYNTAX;
        }
    }

    /* the normal form */

    n = 0;
    u->url[0] = '\0';

    if (video_urlguard_put(u->url, &n, u->https ? "https://" : "http://",
                           u->https ? 8 : 7)
        != 0
        || (u->literal == AF_INET6
            && video_urlguard_put(u->url, &n, "[", 1) != 0)
        || video_urlguard_put(u->url, &n, u->host, strlen(u->host)) != 0
        || (u->literal == AF_INET6
            && video_urlguard_put(u->url, &n, "]", 1) != 0))
    {
        goto too_long;
    }

    if (u->port != (u->https ? 443u : 80u)) {
        snprintf(port, sizeof(port), ":%u", u->port);

        if (video_urlguard_put(u->url, &n, port, strlen(port)) != 0) {
            goto too_long;
        }
    }

    if ((ae == frag || *ae == '?')
        && video_urlguard_put(u->url, &n, "/", 1) != 0)
    {
        goto too_long;
    }

    if (video_urlguard_put(u->url, &n, ae, frag - ae) != 0) {
        goto too_long;
    }

    *err = NULL;

    return VIDEO_URLGUARD_OK;

too_long:

    *err = "URL longer than 2048 bytes";
    return VIDEO_URLGUARD_TOO_LONG;
}
