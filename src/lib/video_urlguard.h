/*
 * Source URLs fetched on a caller's behalf, and the addresses a fetch may
 * connect to (server-side request forgery).  A URL is parsed strictly and
 * rewritten in one normal form, the form that is then handed to libcurl;
 * an address is public or named by the operator's allow-list, or it is
 * refused.  The decision that counts is the one on the address a
 * connection is actually made to (DNS may say anything, a URL's host may
 * be a name or any of the legacy IPv4 forms); a literal address in a URL
 * is also judged at once, for an earlier and clearer refusal.
 */

#ifndef _VIDEO_URLGUARD_H_INCLUDED_
#define _VIDEO_URLGUARD_H_INCLUDED_


#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>


#define VIDEO_URLGUARD_URL_MAX    2048   /* bytes, given and normalised */
#define VIDEO_URLGUARD_HOST_MAX   253    /* a name, its trailing dot apart */
#define VIDEO_URLGUARD_ALLOW_MAX  64     /* CIDRs in one allow-list */
#define VIDEO_URLGUARD_REASON     192    /* room for a refusal's reason */


typedef enum {
    VIDEO_URLGUARD_OK = 0,
    VIDEO_URLGUARD_TOO_LONG,       /* over VIDEO_URLGUARD_URL_MAX */
    VIDEO_URLGUARD_SYNTAX,         /* no scheme, a control byte, a space,
                                      a backslash, a bad %-escape... */
    VIDEO_URLGUARD_SCHEME,         /* neither http nor https */
    VIDEO_URLGUARD_USERINFO,       /* user[:password]@ */
    VIDEO_URLGUARD_NO_HOST,
    VIDEO_URLGUARD_HOST,           /* a malformed name or address */
    VIDEO_URLGUARD_IDN,            /* a host name that is not ASCII */
    VIDEO_URLGUARD_PORT            /* empty, not digits, 0, > 65535 */
} video_urlguard_rc_t;


typedef struct {
    int                      https;
    int                      literal;   /* 0: a name; AF_INET, AF_INET6 */
    unsigned                 port;      /* given, or the scheme's */
    struct sockaddr_storage  addr;      /* a literal's, with the port */
    socklen_t                addr_len;  /* 0 for a name */
    char                     host[VIDEO_URLGUARD_HOST_MAX + 2];
                                        /* lower case; an address in its
                                           normal text, IPv6 without
                                           brackets */
    char                     url[VIDEO_URLGUARD_URL_MAX + 1];
                                        /* the normal form */
} video_urlguard_url_t;


/*
 * Parses len bytes of s (no NUL needed) as a URL a fetch may start from
 * or be redirected to: http or https (any case), "//", a host, an
 * optional port, then path and query.  Refused: a userinfo part, a host
 * name that is not ASCII (IDN: a caller sends the punycode "xn--" form),
 * a %-escape or a zone id in the host, any byte outside printable ASCII,
 * spaces, backslashes (which browsers read as "/" and libcurl does not),
 * malformed %-escapes anywhere.  Normalised: scheme and host in lower
 * case, an IPv4 host in any of the forms inet_aton(3) and browsers take
 * (127.1, 0x7f.1, 017700000001, 2130706433) written as its dotted quad,
 * an IPv6 address in its RFC 5952 text, the scheme's own port dropped, an
 * empty path made "/", the fragment dropped.  An IPv4 form that does not
 * parse (a last label of digits that is not a valid number) is refused,
 * as browsers do, rather than looked up as a name.  Returns
 * VIDEO_URLGUARD_OK with u filled, or the reason with *err set to a
 * message (a static string).
 */
video_urlguard_rc_t video_urlguard_parse(const char *s, size_t len,
    video_urlguard_url_t *u, const char **err);


/* What an address is; everything but PUBLIC is refused */
typedef enum {
    VIDEO_URLGUARD_PUBLIC = 0,
    VIDEO_URLGUARD_UNSPECIFIED,      /* 0.0.0.0/8, :: */
    VIDEO_URLGUARD_LOOPBACK,         /* 127.0.0.0/8, ::1 */
    VIDEO_URLGUARD_PRIVATE,          /* 10/8, 172.16/12, 192.168/16,
                                        fc00::/7 */
    VIDEO_URLGUARD_SHARED,           /* 100.64.0.0/10, carrier-grade NAT */
    VIDEO_URLGUARD_LINK_LOCAL,       /* 169.254.0.0/16, fe80::/10 */
    VIDEO_URLGUARD_SITE_LOCAL,       /* fec0::/10 */
    VIDEO_URLGUARD_PROTOCOL,         /* 192.0.0.0/24, 2001::/23 */
    VIDEO_URLGUARD_DOCUMENTATION,    /* 192.0.2/24, 198.51.100/24,
                                        203.0.113/24, 2001:db8::/32,
                                        3fff::/20 */
    VIDEO_URLGUARD_BENCHMARKING,     /* 198.18.0.0/15, 2001:2::/48 */
    VIDEO_URLGUARD_MULTICAST,        /* 224.0.0.0/4, ff00::/8 */
    VIDEO_URLGUARD_BROADCAST,        /* 255.255.255.255 */
    VIDEO_URLGUARD_RESERVED,         /* 240.0.0.0/4, 192.88.99.0/24, IPv6
                                        outside 2000::/3 */
    VIDEO_URLGUARD_NOT_IP            /* neither AF_INET nor AF_INET6 */
} video_urlguard_class_t;

/* "loopback", "private"... */
const char *video_urlguard_class_name(video_urlguard_class_t c);

/* an IPv4 address, 4 bytes in network order */
video_urlguard_class_t video_urlguard_classify4(const unsigned char *a);

/*
 * An IPv6 address, 16 bytes.  The forms that carry an IPv4 address are
 * judged by it: IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16 and Teredo 2001::/32 (its server's and
 * its client's addresses, both); *via (when not NULL) then names the form,
 * else is NULL.
 */
video_urlguard_class_t video_urlguard_classify6(const unsigned char *a,
    const char **via);

/* an AF_INET or AF_INET6 sockaddr of len bytes; anything else NOT_IP */
video_urlguard_class_t video_urlguard_classify(const struct sockaddr *sa,
    socklen_t len, const char **via);


/* An operator's allow-list: addresses a fetch may reach though not public */
typedef struct {
    int            family;      /* AF_INET or AF_INET6 */
    unsigned       bits;
    unsigned char  addr[16];
} video_urlguard_cidr_t;

typedef struct {
    size_t                 n;
    video_urlguard_cidr_t  cidr[VIDEO_URLGUARD_ALLOW_MAX];
} video_urlguard_allow_t;

/*
 * "10.0.0.0/8", "::1/128", or an address alone (all its bits); an
 * IPv4-mapped IPv6 network of 96 bits or more is kept as its IPv4 one.
 * Refused: bits set beyond the prefix, a prefix too long for the family,
 * leading zeros, anything inet_pton(3) does not take.  0, or -1 with
 * *err a static message.
 */
int video_urlguard_cidr_parse(const char *s, size_t len,
    video_urlguard_cidr_t *c, const char **err);

/*
 * Appends to allow the CIDRs of a list separated by commas and/or white
 * space (empty: none).  0, or -1 with err naming the entry at fault.
 */
int video_urlguard_allow_parse(video_urlguard_allow_t *allow,
    const char *list, size_t len, char *err, size_t size);

/*
 * 1 when the address is in one of allow's networks (an IPv4-mapped IPv6
 * address also as its IPv4 address: the same host), else 0.  The other
 * forms carrying an IPv4 address reach another host (a gateway): an
 * allow-list names them as they are.
 */
int video_urlguard_allowed(const video_urlguard_allow_t *allow,
    const struct sockaddr *sa, socklen_t len);

/*
 * The decision on an address a fetch is about to connect to: 0 when it
 * is allowed or public, else -1 with reason (size bytes, NUL-terminated)
 * "source address 10.1.2.3 is not public (private)", the form of an
 * embedded IPv4 address named: "(loopback, IPv4-mapped)".  allow may be
 * NULL.
 */
int video_urlguard_check(const video_urlguard_allow_t *allow,
    const struct sockaddr *sa, socklen_t len, char *reason, size_t size);


#endif /* _VIDEO_URLGUARD_H_INCLUDED_ */
