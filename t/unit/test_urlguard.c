/*
 * Source URLs and addresses a fetch may reach: every special range at
 * its edges, the forms that carry an IPv4 address, the allow-list, and
 * hostile URLs.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "unit.h"
#include "video_urlguard.h"


#define P  VIDEO_URLGUARD_PUBLIC


typedef struct {
    const char              *addr;
    video_urlguard_class_t   class;
    const char              *via;
} urlguard_case_t;


/* a text address as the sockaddr a connect would use */

static socklen_t
urlguard_sa(const char *text, struct sockaddr_storage *ss)
{
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    memset(ss, 0, sizeof(struct sockaddr_storage));

    sin = (struct sockaddr_in *) ss;

    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(80);
        return sizeof(struct sockaddr_in);
    }

    sin6 = (struct sockaddr_in6 *) ss;

    ck_assert_msg(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1,
                  "bad test address %s", text);

    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(80);

    return sizeof(struct sockaddr_in6);
}


static void
urlguard_cases(const urlguard_case_t *cases, size_t n)
{
    size_t                   i;
    socklen_t                len;
    const char              *via;
    video_urlguard_class_t   c;
    struct sockaddr_storage  ss;

    for (i = 0; i < n; i++) {
        len = urlguard_sa(cases[i].addr, &ss);
        c = video_urlguard_classify((struct sockaddr *) &ss, len, &via);

        ck_assert_msg(c == cases[i].class, "%s: %s, expected %s",
                      cases[i].addr, video_urlguard_class_name(c),
                      video_urlguard_class_name(cases[i].class));

        ck_assert_msg((via == NULL && cases[i].via == NULL)
                      || (via != NULL && cases[i].via != NULL
                          && strcmp(via, cases[i].via) == 0),
                      "%s: via %s, expected %s", cases[i].addr,
                      via ? via : "none",
                      cases[i].via ? cases[i].via : "none");
    }
}


START_TEST(ipv4_ranges_at_their_edges)
{
    static const urlguard_case_t  cases[] = {
        { "0.0.0.0", VIDEO_URLGUARD_UNSPECIFIED, NULL },
        { "0.255.255.255", VIDEO_URLGUARD_UNSPECIFIED, NULL },
        { "1.0.0.0", P, NULL },
        { "9.255.255.255", P, NULL },
        { "10.0.0.0", VIDEO_URLGUARD_PRIVATE, NULL },
        { "10.255.255.255", VIDEO_URLGUARD_PRIVATE, NULL },
        { "11.0.0.0", P, NULL },
        { "100.63.255.255", P, NULL },
        { "100.64.0.0", VIDEO_URLGUARD_SHARED, NULL },
        { "100.127.255.255", VIDEO_URLGUARD_SHARED, NULL },
        { "100.128.0.0", P, NULL },
        { "126.255.255.255", P, NULL },
        { "127.0.0.0", VIDEO_URLGUARD_LOOPBACK, NULL },
        { "127.0.0.1", VIDEO_URLGUARD_LOOPBACK, NULL },
        { "127.255.255.255", VIDEO_URLGUARD_LOOPBACK, NULL },
        { "128.0.0.0", P, NULL },
        { "169.253.255.255", P, NULL },
        { "169.254.0.0", VIDEO_URLGUARD_LINK_LOCAL, NULL },
        { "169.254.169.254", VIDEO_URLGUARD_LINK_LOCAL, NULL },
        { "169.254.255.255", VIDEO_URLGUARD_LINK_LOCAL, NULL },
        { "169.255.0.0", P, NULL },
        { "172.15.255.255", P, NULL },
        { "172.16.0.0", VIDEO_URLGUARD_PRIVATE, NULL },
        { "172.31.255.255", VIDEO_URLGUARD_PRIVATE, NULL },
        { "172.32.0.0", P, NULL },
        { "191.255.255.255", P, NULL },
        { "192.0.0.0", VIDEO_URLGUARD_PROTOCOL, NULL },
        { "192.0.0.255", VIDEO_URLGUARD_PROTOCOL, NULL },
        { "192.0.1.0", P, NULL },
        { "192.0.1.255", P, NULL },
        { "192.0.2.0", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "192.0.2.255", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "192.0.3.0", P, NULL },
        { "192.88.98.255", P, NULL },
        { "192.88.99.0", VIDEO_URLGUARD_RESERVED, NULL },
        { "192.88.99.255", VIDEO_URLGUARD_RESERVED, NULL },
        { "192.88.100.0", P, NULL },
        { "192.167.255.255", P, NULL },
        { "192.168.0.0", VIDEO_URLGUARD_PRIVATE, NULL },
        { "192.168.255.255", VIDEO_URLGUARD_PRIVATE, NULL },
        { "192.169.0.0", P, NULL },
        { "198.17.255.255", P, NULL },
        { "198.18.0.0", VIDEO_URLGUARD_BENCHMARKING, NULL },
        { "198.19.255.255", VIDEO_URLGUARD_BENCHMARKING, NULL },
        { "198.20.0.0", P, NULL },
        { "198.51.99.255", P, NULL },
        { "198.51.100.0", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "198.51.100.255", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "198.51.101.0", P, NULL },
        { "203.0.112.255", P, NULL },
        { "203.0.113.0", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "203.0.113.255", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "203.0.114.0", P, NULL },
        { "223.255.255.255", P, NULL },
        { "224.0.0.0", VIDEO_URLGUARD_MULTICAST, NULL },
        { "239.255.255.255", VIDEO_URLGUARD_MULTICAST, NULL },
        { "240.0.0.0", VIDEO_URLGUARD_RESERVED, NULL },
        { "255.255.255.254", VIDEO_URLGUARD_RESERVED, NULL },
        { "255.255.255.255", VIDEO_URLGUARD_BROADCAST, NULL },
        { "8.8.8.8", P, NULL },
        { "93.184.215.14", P, NULL },
    };

    urlguard_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST


START_TEST(ipv6_ranges_at_their_edges)
{
    static const urlguard_case_t  cases[] = {
        { "::", VIDEO_URLGUARD_UNSPECIFIED, NULL },
        { "::1", VIDEO_URLGUARD_LOOPBACK, NULL },
        { "1::", VIDEO_URLGUARD_RESERVED, NULL },
        { "100::", VIDEO_URLGUARD_RESERVED, NULL },
        { "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_RESERVED, NULL },
        { "2000::", P, NULL },
        { "2001:200::", P, NULL },
        { "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_PROTOCOL, NULL },
        { "2001:1::", VIDEO_URLGUARD_PROTOCOL, NULL },
        { "2001:1:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_PROTOCOL, NULL },
        { "2001:2::", VIDEO_URLGUARD_BENCHMARKING, NULL },
        { "2001:2:0:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_BENCHMARKING, NULL },
        { "2001:2:1::", VIDEO_URLGUARD_PROTOCOL, NULL },
        { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", P, NULL },
        { "2001:db8::", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "2001:db9::", P, NULL },
        { "2001:4860:4860::8888", P, NULL },
        { "2003::", P, NULL },
        { "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", P, NULL },
        { "3fff::", VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_DOCUMENTATION, NULL },
        { "3fff:1000::", P, NULL },
        { "4000::", VIDEO_URLGUARD_RESERVED, NULL },
        { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_RESERVED, NULL },
        { "fc00::", VIDEO_URLGUARD_PRIVATE, NULL },
        { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_PRIVATE, NULL },
        { "fe00::", VIDEO_URLGUARD_RESERVED, NULL },
        { "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_RESERVED, NULL },
        { "fe80::", VIDEO_URLGUARD_LINK_LOCAL, NULL },
        { "fe80::1", VIDEO_URLGUARD_LINK_LOCAL, NULL },
        { "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_LINK_LOCAL, NULL },
        { "fec0::", VIDEO_URLGUARD_SITE_LOCAL, NULL },
        { "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_SITE_LOCAL, NULL },
        { "ff00::", VIDEO_URLGUARD_MULTICAST, NULL },
        { "ff02::1", VIDEO_URLGUARD_MULTICAST, NULL },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_MULTICAST, NULL },
    };

    urlguard_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST


START_TEST(ipv6_forms_are_judged_by_their_ipv4_address)
{
    static const urlguard_case_t  cases[] = {

        /* IPv4-mapped ::ffff:0:0/96, at its edges */

        { "::ffff:127.0.0.1", VIDEO_URLGUARD_LOOPBACK, "IPv4-mapped" },
        { "::ffff:0.0.0.0", VIDEO_URLGUARD_UNSPECIFIED, "IPv4-mapped" },
        { "::ffff:10.1.2.3", VIDEO_URLGUARD_PRIVATE, "IPv4-mapped" },
        { "::ffff:169.254.169.254", VIDEO_URLGUARD_LINK_LOCAL,
          "IPv4-mapped" },
        { "::ffff:255.255.255.255", VIDEO_URLGUARD_BROADCAST,
          "IPv4-mapped" },
        { "::ffff:8.8.8.8", P, "IPv4-mapped" },
        { "::fffe:ffff:ffff", VIDEO_URLGUARD_RESERVED, NULL },
        { "::1:0:0:0", VIDEO_URLGUARD_RESERVED, NULL },
        { "::ffff:0:7f00:1", VIDEO_URLGUARD_RESERVED, NULL },

        /* IPv4-compatible ::/96 */

        { "::127.0.0.1", VIDEO_URLGUARD_LOOPBACK, "IPv4-compatible" },
        { "::0.0.0.2", VIDEO_URLGUARD_UNSPECIFIED, "IPv4-compatible" },
        { "::192.168.1.1", VIDEO_URLGUARD_PRIVATE, "IPv4-compatible" },
        { "::8.8.8.8", P, "IPv4-compatible" },
        { "::255.255.255.255", VIDEO_URLGUARD_BROADCAST,
          "IPv4-compatible" },

        /* NAT64 64:ff9b::/96, and what is just outside */

        { "64:ff9b::7f00:1", VIDEO_URLGUARD_LOOPBACK, "NAT64" },
        { "64:ff9b::a9fe:a9fe", VIDEO_URLGUARD_LINK_LOCAL, "NAT64" },
        { "64:ff9b::808:808", P, "NAT64" },
        { "64:ff9b::", VIDEO_URLGUARD_UNSPECIFIED, "NAT64" },
        { "64:ff9b::ffff:ffff", VIDEO_URLGUARD_BROADCAST, "NAT64" },
        { "64:ff9b::1:808:808", VIDEO_URLGUARD_RESERVED, NULL },
        { "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", VIDEO_URLGUARD_RESERVED,
          NULL },
        { "64:ff9b:1::808:808", VIDEO_URLGUARD_RESERVED, NULL },

        /* 6to4 2002::/16: the address in its second and third groups */

        { "2002:7f00:1::", VIDEO_URLGUARD_LOOPBACK, "6to4" },
        { "2002:a00:1::1", VIDEO_URLGUARD_PRIVATE, "6to4" },
        { "2002::", VIDEO_URLGUARD_UNSPECIFIED, "6to4" },
        { "2002:808:808::", P, "6to4" },
        { "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          VIDEO_URLGUARD_BROADCAST, "6to4" },
        { "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", P, NULL },

        /* Teredo 2001::/32: the server, and the client inverted */

        { "2001:0:808:808:0:0:f7f7:f7f7", P, "Teredo" },
        { "2001:0:7f00:1:0:0:f7f7:f7f7", VIDEO_URLGUARD_LOOPBACK,
          "Teredo" },
        { "2001:0:808:808:0:0:80ff:fffe", VIDEO_URLGUARD_LOOPBACK,
          "Teredo" },
        { "2001:0:808:808:0:0:f5ff:fffe", VIDEO_URLGUARD_PRIVATE, "Teredo" },
        { "2001::", VIDEO_URLGUARD_UNSPECIFIED, "Teredo" },
        { "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", VIDEO_URLGUARD_BROADCAST,
          "Teredo" },
        { "2001:0:808:808:ffff:ffff:f7f7:f7f7", P, "Teredo" },
    };

    urlguard_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST


START_TEST(other_families_are_not_ip)
{
    const char          *via;
    struct sockaddr_un   un;
    struct sockaddr_in   sin;
    char                 reason[VIDEO_URLGUARD_REASON];

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "/run/postgresql/.s.PGSQL.5432");

    ck_assert_int_eq(video_urlguard_classify((struct sockaddr *) &un,
                                             sizeof(un), &via),
                     VIDEO_URLGUARD_NOT_IP);
    ck_assert_int_eq(video_urlguard_check(NULL, (struct sockaddr *) &un,
                                          sizeof(un), reason,
                                          sizeof(reason)), -1);
    ck_assert_str_eq(reason, "source address of family 1 is not an IP "
                     "address");

    /* a sockaddr too short for its family */

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x08080808);

    ck_assert_int_eq(video_urlguard_classify((struct sockaddr *) &sin,
                                             sizeof(sin) - 1, &via),
                     VIDEO_URLGUARD_NOT_IP);
    ck_assert_int_eq(video_urlguard_classify((struct sockaddr *) &sin,
                                             sizeof(sin), &via), P);
    ck_assert_int_eq(video_urlguard_classify(NULL, 0, &via),
                     VIDEO_URLGUARD_NOT_IP);
}
END_TEST


START_TEST(cidrs_parse_strictly)
{
    size_t                  i;
    const char             *err;
    video_urlguard_cidr_t   c;

    static const char      *bad[] = {
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.1/8",
        "10.0.0.0/8/8", "10.0.0.0/-8", "10.0.0.0/ 8", "010.0.0.0/8",
        "10.0.0/24", "10.0.0.0.0/8", "0x0a000000/8", "167772160/8",
        "localhost", "::1/129", "::1/64", "fe80::1%lo/128", "[::1]/128",
        "10.0.0.0/1000", "1.2.3.4 ", "1.2.3.4/32x", "::ffff:10.0.0.1/104",
        "2001:db8::/16",
    };

    ck_assert_int_eq(video_urlguard_cidr_parse("127.0.0.1/32", 12, &c, &err),
                     0);
    ck_assert_int_eq(c.family, AF_INET);
    ck_assert_uint_eq(c.bits, 32);
    ck_assert(memcmp(c.addr, "\x7f\x00\x00\x01", 4) == 0);

    ck_assert_int_eq(video_urlguard_cidr_parse("10.0.0.0/8", 10, &c, &err),
                     0);
    ck_assert_uint_eq(c.bits, 8);

    ck_assert_int_eq(video_urlguard_cidr_parse("::1/128", 7, &c, &err), 0);
    ck_assert_int_eq(c.family, AF_INET6);
    ck_assert_uint_eq(c.bits, 128);

    ck_assert_int_eq(video_urlguard_cidr_parse("0.0.0.0/0", 9, &c, &err), 0);
    ck_assert_uint_eq(c.bits, 0);

    ck_assert_int_eq(video_urlguard_cidr_parse("fd00::/8", 8, &c, &err), 0);
    ck_assert_uint_eq(c.bits, 8);

    /* an address alone is a network of one */

    ck_assert_int_eq(video_urlguard_cidr_parse("192.0.2.7", 9, &c, &err), 0);
    ck_assert_uint_eq(c.bits, 32);

    ck_assert_int_eq(video_urlguard_cidr_parse("fe80::1", 7, &c, &err), 0);
    ck_assert_uint_eq(c.bits, 128);

    /* an IPv4-mapped network is its IPv4 one */

    ck_assert_int_eq(video_urlguard_cidr_parse("::ffff:10.0.0.0/104", 19, &c,
                                               &err), 0);
    ck_assert_int_eq(c.family, AF_INET);
    ck_assert_uint_eq(c.bits, 8);
    ck_assert(memcmp(c.addr, "\x0a\x00\x00\x00", 4) == 0);

    /* the length given is all that is read */

    ck_assert_int_eq(video_urlguard_cidr_parse("10.0.0.0/8garbage", 10, &c,
                                               &err), 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_msg(video_urlguard_cidr_parse(bad[i], strlen(bad[i]), &c,
                                                &err) == -1,
                      "\"%s\" parsed", bad[i]);
        ck_assert(err != NULL);
    }
}
END_TEST


static int
urlguard_allowed(const video_urlguard_allow_t *allow, const char *text)
{
    socklen_t                len;
    struct sockaddr_storage  ss;

    len = urlguard_sa(text, &ss);

    return video_urlguard_allowed(allow, (struct sockaddr *) &ss, len);
}


START_TEST(the_allow_list_matches_its_networks_only)
{
    char                    err[128];
    const char             *list;
    video_urlguard_allow_t  allow;

    memset(&allow, 0, sizeof(allow));

    list = "127.0.0.1/32, 10.0.0.0/8 ::1/128,,172.16.0.0/12\t"
           "fd12:3456::/32 100.64.0.0/10";

    ck_assert_int_eq(video_urlguard_allow_parse(&allow, list, strlen(list),
                                                err, sizeof(err)), 0);
    ck_assert_uint_eq(allow.n, 6);

    ck_assert(urlguard_allowed(&allow, "127.0.0.1"));
    ck_assert(!urlguard_allowed(&allow, "127.0.0.2"));
    ck_assert(!urlguard_allowed(&allow, "127.0.0.0"));
    ck_assert(urlguard_allowed(&allow, "10.0.0.0"));
    ck_assert(urlguard_allowed(&allow, "10.255.255.255"));
    ck_assert(!urlguard_allowed(&allow, "11.0.0.0"));
    ck_assert(!urlguard_allowed(&allow, "9.255.255.255"));
    ck_assert(urlguard_allowed(&allow, "172.16.0.0"));
    ck_assert(urlguard_allowed(&allow, "172.31.255.255"));
    ck_assert(!urlguard_allowed(&allow, "172.32.0.0"));
    ck_assert(!urlguard_allowed(&allow, "172.15.255.255"));
    ck_assert(urlguard_allowed(&allow, "100.127.255.255"));
    ck_assert(!urlguard_allowed(&allow, "100.128.0.0"));
    ck_assert(urlguard_allowed(&allow, "::1"));
    ck_assert(!urlguard_allowed(&allow, "::2"));
    ck_assert(urlguard_allowed(&allow, "fd12:3456::1"));
    ck_assert(urlguard_allowed(&allow, "fd12:3456:ffff::1"));
    ck_assert(!urlguard_allowed(&allow, "fd12:3457::"));
    ck_assert(!urlguard_allowed(&allow, "192.168.1.1"));

    /* an IPv4-mapped address is the same host; other forms are not */

    ck_assert(urlguard_allowed(&allow, "::ffff:127.0.0.1"));
    ck_assert(urlguard_allowed(&allow, "::ffff:10.9.8.7"));
    ck_assert(!urlguard_allowed(&allow, "::ffff:127.0.0.2"));
    ck_assert(!urlguard_allowed(&allow, "::127.0.0.1"));
    ck_assert(!urlguard_allowed(&allow, "64:ff9b::7f00:1"));
    ck_assert(!urlguard_allowed(&allow, "2002:7f00:1::"));

    /* an IPv4 address is not matched by IPv6 networks, nor the reverse */

    memset(&allow, 0, sizeof(allow));
    list = "::/0";
    ck_assert_int_eq(video_urlguard_allow_parse(&allow, list, strlen(list),
                                                err, sizeof(err)), 0);
    ck_assert(urlguard_allowed(&allow, "fe80::1"));
    ck_assert(!urlguard_allowed(&allow, "127.0.0.1"));

    memset(&allow, 0, sizeof(allow));
    list = "0.0.0.0/0";
    ck_assert_int_eq(video_urlguard_allow_parse(&allow, list, strlen(list),
                                                err, sizeof(err)), 0);
    ck_assert(urlguard_allowed(&allow, "127.0.0.1"));
    ck_assert(urlguard_allowed(&allow, "::ffff:127.0.0.1"));
    ck_assert(!urlguard_allowed(&allow, "::1"));

    /* empty lists; nothing is allowed */

    memset(&allow, 0, sizeof(allow));
    ck_assert_int_eq(video_urlguard_allow_parse(&allow, "", 0, err,
                                                sizeof(err)), 0);
    ck_assert_int_eq(video_urlguard_allow_parse(&allow, " , ", 3, err,
                                                sizeof(err)), 0);
    ck_assert_uint_eq(allow.n, 0);
    ck_assert(!urlguard_allowed(&allow, "127.0.0.1"));
    ck_assert(!urlguard_allowed(NULL, "127.0.0.1"));
}
END_TEST


START_TEST(a_bad_allow_list_names_its_entry)
{
    int                     i;
    char                    err[128], list[4096];
    size_t                  n;
    video_urlguard_allow_t  allow;

    memset(&allow, 0, sizeof(allow));

    ck_assert_int_eq(video_urlguard_allow_parse(&allow,
                         "10.0.0.0/8, 10.0.0.1/8", 22, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "\"10.0.0.1/8\": address has bits set beyond "
                     "the prefix length");

    memset(&allow, 0, sizeof(allow));

    ck_assert_int_eq(video_urlguard_allow_parse(&allow, "localhost", 9, err,
                                                sizeof(err)), -1);
    ck_assert_str_eq(err, "\"localhost\": not an IPv4 or IPv6 address");

    /* no more than VIDEO_URLGUARD_ALLOW_MAX */

    memset(&allow, 0, sizeof(allow));
    n = 0;

    for (i = 0; i <= VIDEO_URLGUARD_ALLOW_MAX; i++) {
        n += snprintf(list + n, sizeof(list) - n, "10.0.%d.0/24 ", i);
    }

    ck_assert_int_eq(video_urlguard_allow_parse(&allow, list, n, err,
                                                sizeof(err)), -1);
    ck_assert_str_eq(err, "more than 64 networks");
}
END_TEST


START_TEST(refusals_name_the_address_and_its_range)
{
    char                     reason[VIDEO_URLGUARD_REASON];
    socklen_t                len;
    video_urlguard_allow_t   allow;
    struct sockaddr_storage  ss;

    memset(&allow, 0, sizeof(allow));

    len = urlguard_sa("127.0.0.1", &ss);
    ck_assert_int_eq(video_urlguard_check(NULL, (struct sockaddr *) &ss, len,
                                          reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "source address 127.0.0.1 is not public "
                     "(loopback)");

    len = urlguard_sa("::ffff:169.254.169.254", &ss);
    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "source address ::ffff:169.254.169.254 is not "
                     "public (link-local, IPv4-mapped)");

    len = urlguard_sa("100.64.0.1", &ss);
    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, sizeof(reason)), -1);
    ck_assert_str_eq(reason, "source address 100.64.0.1 is not public "
                     "(carrier-grade NAT)");

    len = urlguard_sa("8.8.8.8", &ss);
    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, sizeof(reason)), 0);

    /* allowed although not public */

    ck_assert_int_eq(video_urlguard_allow_parse(&allow, "127.0.0.0/8", 11,
                                                reason, sizeof(reason)), 0);

    len = urlguard_sa("127.0.0.1", &ss);
    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, sizeof(reason)), 0);

    len = urlguard_sa("::ffff:127.0.0.1", &ss);
    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, sizeof(reason)), 0);

    len = urlguard_sa("::1", &ss);
    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, sizeof(reason)), -1);

    /* a small buffer still ends in a NUL */

    ck_assert_int_eq(video_urlguard_check(&allow, (struct sockaddr *) &ss,
                                          len, reason, 10), -1);
    ck_assert_str_eq(reason, "source ad");
}
END_TEST


typedef struct {
    const char  *in;
    const char  *url;       /* the normal form */
    const char  *host;
    unsigned     port;
    int          literal;
} urlguard_url_case_t;


START_TEST(urls_are_written_in_their_normal_form)
{
    size_t                i;
    const char           *err;
    video_urlguard_url_t  u, again;

    static const urlguard_url_case_t  cases[] = {
        { "http://example.com", "http://example.com/", "example.com", 80,
          0 },
        { "HTTPS://Example.COM:8443/A/b?C=d#frag",
          "https://example.com:8443/A/b?C=d", "example.com", 8443, 0 },
        { "http://example.com:80/x", "http://example.com/x", "example.com",
          80, 0 },
        { "https://example.com:443", "https://example.com/", "example.com",
          443, 0 },
        { "https://example.com:80/", "https://example.com:80/",
          "example.com", 80, 0 },
        { "http://example.com?q=1", "http://example.com/?q=1",
          "example.com", 80, 0 },
        { "http://example.com#top", "http://example.com/", "example.com",
          80, 0 },
        { "http://a.example.com./v.mp4", "http://a.example.com./v.mp4",
          "a.example.com.", 80, 0 },
        { "http://xn--bcher-kva.example/v%20.mp4",
          "http://xn--bcher-kva.example/v%20.mp4", "xn--bcher-kva.example",
          80, 0 },
        { "http://my_host-1.example/a@b", "http://my_host-1.example/a@b",
          "my_host-1.example", 80, 0 },
        { "http://h/p?a[]=1&b={x}|y", "http://h/p?a[]=1&b={x}|y", "h", 80,
          0 },
        { "http://localhost:65535/", "http://localhost:65535/", "localhost",
          65535, 0 },
        { "http://localhost:00080/", "http://localhost/", "localhost", 80,
          0 },
        { "http://example.com/%41%7e", "http://example.com/%41%7e",
          "example.com", 80, 0 },

        /* the IPv4 forms resolvers take, written as dotted quads */

        { "http://127.0.0.1:8080/v", "http://127.0.0.1:8080/v",
          "127.0.0.1", 8080, AF_INET },
        { "http://127.1/", "http://127.0.0.1/", "127.0.0.1", 80, AF_INET },
        { "http://127.0.1/", "http://127.0.0.1/", "127.0.0.1", 80, AF_INET },
        { "http://0x7f.1/", "http://127.0.0.1/", "127.0.0.1", 80, AF_INET },
        { "http://0X7F.0X0.0X0.0X1/", "http://127.0.0.1/", "127.0.0.1", 80,
          AF_INET },
        { "http://2130706433/", "http://127.0.0.1/", "127.0.0.1", 80,
          AF_INET },
        { "http://0x7f000001/", "http://127.0.0.1/", "127.0.0.1", 80,
          AF_INET },
        { "http://017700000001/", "http://127.0.0.1/", "127.0.0.1", 80,
          AF_INET },
        { "http://0177.0.0.01/", "http://127.0.0.1/", "127.0.0.1", 80,
          AF_INET },
        { "http://0/", "http://0.0.0.0/", "0.0.0.0", 80, AF_INET },
        { "http://0x/", "http://0.0.0.0/", "0.0.0.0", 80, AF_INET },
        { "http://169.254.169.254./latest",
          "http://169.254.169.254/latest", "169.254.169.254", 80, AF_INET },
        { "http://4294967295/", "http://255.255.255.255/",
          "255.255.255.255", 80, AF_INET },
        { "http://10.0.65535/", "http://10.0.255.255/", "10.0.255.255", 80,
          AF_INET },

        /* IPv6 literals in their RFC 5952 text */

        { "http://[::1]/", "http://[::1]/", "::1", 80, AF_INET6 },
        { "http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080/", "::1",
          8080, AF_INET6 },
        { "http://[::ffff:127.0.0.1]/", "http://[::ffff:127.0.0.1]/",
          "::ffff:127.0.0.1", 80, AF_INET6 },
        { "http://[::FFFF:7F00:1]/", "http://[::ffff:127.0.0.1]/",
          "::ffff:127.0.0.1", 80, AF_INET6 },
        { "https://[2001:DB8::A]:443/x", "https://[2001:db8::a]/x",
          "2001:db8::a", 443, AF_INET6 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = NULL;

        ck_assert_msg(video_urlguard_parse(cases[i].in, strlen(cases[i].in),
                                           &u, &err)
                      == VIDEO_URLGUARD_OK, "%s: %s", cases[i].in, err);
        ck_assert_msg(strcmp(u.url, cases[i].url) == 0, "%s: %s",
                      cases[i].in, u.url);
        ck_assert_str_eq(u.host, cases[i].host);
        ck_assert_uint_eq(u.port, cases[i].port);
        ck_assert_int_eq(u.literal, cases[i].literal);
        ck_assert_int_eq(u.https, strncasecmp(cases[i].in, "https", 5) == 0);

        if (u.literal == AF_INET) {
            ck_assert_uint_eq(u.addr_len, sizeof(struct sockaddr_in));
            ck_assert_uint_eq(ntohs(((struct sockaddr_in *) &u.addr)
                                    ->sin_port), u.port);

        } else if (u.literal == AF_INET6) {
            ck_assert_uint_eq(u.addr_len, sizeof(struct sockaddr_in6));
            ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *) &u.addr)
                                    ->sin6_port), u.port);

        } else {
            ck_assert_uint_eq(u.addr_len, 0);
        }

        /* the normal form is its own */

        ck_assert_int_eq(video_urlguard_parse(u.url, strlen(u.url), &again,
                                              &err), VIDEO_URLGUARD_OK);
        ck_assert_str_eq(again.url, u.url);
    }
}
END_TEST


START_TEST(literal_addresses_are_judged_as_written_or_encoded)
{
    size_t                i;
    char                  reason[VIDEO_URLGUARD_REASON];
    const char           *err;
    video_urlguard_url_t  u;

    static const char    *loopback[] = {
        "http://127.0.0.1/", "http://127.1/", "http://0x7f.1/",
        "http://2130706433/", "http://0177.0.0.1/", "http://017700000001/",
        "http://0x7f000001/", "http://127.000.000.001/",
        "http://[::ffff:127.0.0.1]/", "http://[::1]/",
        "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
    };

    static const char    *others[] = {
        "http://0/", "http://0.0.0.0/", "http://[::]/",
        "http://169.254.169.254/", "http://0xa9fea9fe/",
        "http://[fe80::1]/", "http://10.1.2.3/", "http://192.168.0.1/",
        "http://[fd00::1]/", "http://100.64.1.1/", "http://224.0.0.1/",
        "http://255.255.255.255/", "http://[fec0::1]/",
    };

    for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        ck_assert_int_eq(video_urlguard_parse(loopback[i],
                                              strlen(loopback[i]), &u, &err),
                         VIDEO_URLGUARD_OK);
        ck_assert_int_ne(u.literal, 0);
        ck_assert_int_eq(video_urlguard_check(NULL,
                                              (struct sockaddr *) &u.addr,
                                              u.addr_len, reason,
                                              sizeof(reason)), -1);
        ck_assert_msg(strstr(reason, "(loopback") != NULL, "%s: %s",
                      loopback[i], reason);
    }

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        ck_assert_int_eq(video_urlguard_parse(others[i], strlen(others[i]),
                                              &u, &err),
                         VIDEO_URLGUARD_OK);
        ck_assert_msg(video_urlguard_check(NULL, (struct sockaddr *) &u.addr,
                                           u.addr_len, reason,
                                           sizeof(reason)) == -1,
                      "%s passed", others[i]);
    }

    ck_assert_int_eq(video_urlguard_parse("http://8.8.8.8/", 15, &u, &err),
                     VIDEO_URLGUARD_OK);
    ck_assert_int_eq(video_urlguard_check(NULL, (struct sockaddr *) &u.addr,
                                          u.addr_len, reason,
                                          sizeof(reason)), 0);
}
END_TEST


typedef struct {
    const char           *in;
    video_urlguard_rc_t   rc;
} urlguard_bad_t;


START_TEST(hostile_urls_are_refused)
{
    char                  *longer;
    size_t                 i;
    const char            *err;
    video_urlguard_url_t   u;

    static const urlguard_bad_t  cases[] = {
        { "", VIDEO_URLGUARD_SYNTAX },
        { "example.com/v.mp4", VIDEO_URLGUARD_SYNTAX },
        { "//example.com/", VIDEO_URLGUARD_SYNTAX },
        { ":http://x/", VIDEO_URLGUARD_SYNTAX },
        { "http:example.com", VIDEO_URLGUARD_SYNTAX },
        { "http:/example.com", VIDEO_URLGUARD_SYNTAX },
        { "http:\\\\example.com\\", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com\\@127.0.0.1/", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/ a", VIDEO_URLGUARD_SYNTAX },
        { " http://example.com/", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/\r\nHost: x", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/\t", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/\x7f", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/caf\xc3\xa9", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/%", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/%4", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/%zz", VIDEO_URLGUARD_SYNTAX },
        { "http://example.com/?%g0", VIDEO_URLGUARD_SYNTAX },

        { "ftp://example.com/v.mp4", VIDEO_URLGUARD_SCHEME },
        { "file:///etc/passwd", VIDEO_URLGUARD_SCHEME },
        { "file://localhost/etc/passwd", VIDEO_URLGUARD_SCHEME },
        { "gopher://127.0.0.1:6379/_INFO", VIDEO_URLGUARD_SCHEME },
        { "dict://127.0.0.1:11211/stat", VIDEO_URLGUARD_SCHEME },
        { "ldap://127.0.0.1/", VIDEO_URLGUARD_SCHEME },
        { "httpx://example.com/", VIDEO_URLGUARD_SCHEME },
        { "htt://example.com/", VIDEO_URLGUARD_SCHEME },
        { "javascript:alert(1)", VIDEO_URLGUARD_SCHEME },
        { "data:text/plain,x", VIDEO_URLGUARD_SCHEME },
        { "h2://example.com/", VIDEO_URLGUARD_SCHEME },

        { "http://user:pass@example.com/", VIDEO_URLGUARD_USERINFO },
        { "http://user@example.com/", VIDEO_URLGUARD_USERINFO },
        { "http://@example.com/", VIDEO_URLGUARD_USERINFO },
        { "http://example.com@127.0.0.1/", VIDEO_URLGUARD_USERINFO },
        { "http://:@127.0.0.1/", VIDEO_URLGUARD_USERINFO },
        { "http://[::1]@example.com/", VIDEO_URLGUARD_USERINFO },

        { "http://", VIDEO_URLGUARD_NO_HOST },
        { "http:///etc/passwd", VIDEO_URLGUARD_NO_HOST },
        { "http://?x", VIDEO_URLGUARD_NO_HOST },
        { "http://#x", VIDEO_URLGUARD_NO_HOST },
        { "http://:80/", VIDEO_URLGUARD_NO_HOST },

        { "http://exa mple.com/", VIDEO_URLGUARD_SYNTAX },
        { "http://exa%6dple.com/", VIDEO_URLGUARD_HOST },
        { "http://%31%32%37.0.0.1/", VIDEO_URLGUARD_HOST },
        { "http://example.com;x/", VIDEO_URLGUARD_HOST },
        { "http://exa$mple.com/", VIDEO_URLGUARD_HOST },
        { "http://a..b/", VIDEO_URLGUARD_HOST },
        { "http://.a/", VIDEO_URLGUARD_HOST },
        { "http://./", VIDEO_URLGUARD_HOST },
        { "http://a.b../", VIDEO_URLGUARD_HOST },
        { "http://[::1/", VIDEO_URLGUARD_HOST },
        { "http://[]/", VIDEO_URLGUARD_HOST },
        { "http://[::1]x/", VIDEO_URLGUARD_HOST },
        { "http://[fe80::1%25eth0]/", VIDEO_URLGUARD_HOST },
        { "http://[::1:2:3:4:5:6:7:8]/", VIDEO_URLGUARD_HOST },
        { "http://[127.0.0.1]/", VIDEO_URLGUARD_HOST },
        { "http://[v1.x]/", VIDEO_URLGUARD_HOST },
        { "http://[:::1]/", VIDEO_URLGUARD_HOST },
        { "http://::1/", VIDEO_URLGUARD_NO_HOST },

        /* IPv4 forms that do not parse are not looked up as names */

        { "http://256.0.0.1/", VIDEO_URLGUARD_HOST },
        { "http://1.2.3.4.5/", VIDEO_URLGUARD_HOST },
        { "http://1.2.3.4.5.6.7/", VIDEO_URLGUARD_HOST },
        { "http://4294967296/", VIDEO_URLGUARD_HOST },
        { "http://0x100000000/", VIDEO_URLGUARD_HOST },
        { "http://99999999999999999999999/", VIDEO_URLGUARD_HOST },
        { "http://127.0.0.08/", VIDEO_URLGUARD_HOST },
        { "http://09/", VIDEO_URLGUARD_HOST },
        { "http://1.2.3.256/", VIDEO_URLGUARD_HOST },
        { "http://1.2.65536/", VIDEO_URLGUARD_HOST },
        { "http://1.16777216/", VIDEO_URLGUARD_HOST },
        { "http://1..2/", VIDEO_URLGUARD_HOST },
        { "http://.1/", VIDEO_URLGUARD_HOST },
        { "http://example.123/", VIDEO_URLGUARD_HOST },
        { "http://0xg.1/", VIDEO_URLGUARD_HOST },
        { "http://127.0.0.1../", VIDEO_URLGUARD_HOST },

        /* names that are not ASCII: the punycode form is asked for */

        { "http://b\xc3\xbc" "cher.example/", VIDEO_URLGUARD_IDN },
        { "http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/",
          VIDEO_URLGUARD_IDN },
        { "http://ex\xe2\x80\x8b" "ample.com/", VIDEO_URLGUARD_IDN },

        { "http://example.com:/", VIDEO_URLGUARD_PORT },
        { "http://example.com:0/", VIDEO_URLGUARD_PORT },
        { "http://example.com:65536/", VIDEO_URLGUARD_PORT },
        { "http://example.com:99999/", VIDEO_URLGUARD_PORT },
        { "http://example.com:123456/", VIDEO_URLGUARD_PORT },
        { "http://example.com:-1/", VIDEO_URLGUARD_PORT },
        { "http://example.com:+80/", VIDEO_URLGUARD_PORT },
        { "http://example.com:0x50/", VIDEO_URLGUARD_PORT },
        { "http://example.com:80:80/", VIDEO_URLGUARD_PORT },
        { "http://example.com:http/", VIDEO_URLGUARD_PORT },
        { "http://[::1]:/", VIDEO_URLGUARD_PORT },
        { "http://[::1]:0/", VIDEO_URLGUARD_PORT },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = NULL;

        ck_assert_msg(video_urlguard_parse(cases[i].in, strlen(cases[i].in),
                                           &u, &err) == cases[i].rc,
                      "%s: %s", cases[i].in, err ? err : u.url);
        ck_assert(err != NULL);
    }

    /* a NUL inside is a control character, not the end */

    ck_assert_int_eq(video_urlguard_parse("http://a.com\0@127.0.0.1/", 24,
                                          &u, &err), VIDEO_URLGUARD_SYNTAX);

    /* length: 2048 bytes pass, 2049 do not, before or after normalising */

    longer = malloc(VIDEO_URLGUARD_URL_MAX + 2);
    ck_assert(longer != NULL);

    memcpy(longer, "http://example.com/", 19);
    memset(longer + 19, 'a', VIDEO_URLGUARD_URL_MAX + 1 - 19);

    ck_assert_int_eq(video_urlguard_parse(longer, VIDEO_URLGUARD_URL_MAX, &u,
                                          &err), VIDEO_URLGUARD_OK);
    ck_assert_uint_eq(strlen(u.url), VIDEO_URLGUARD_URL_MAX);
    ck_assert_int_eq(video_urlguard_parse(longer, VIDEO_URLGUARD_URL_MAX + 1,
                                          &u, &err),
                     VIDEO_URLGUARD_TOO_LONG);
    ck_assert_str_eq(err, "URL longer than 2048 bytes");

    /* "http://1/" grows by six bytes into "http://0.0.0.1/" */

    memcpy(longer, "http://1/", 9);
    memset(longer + 9, 'a', VIDEO_URLGUARD_URL_MAX - 9);

    ck_assert_int_eq(video_urlguard_parse(longer, VIDEO_URLGUARD_URL_MAX, &u,
                                          &err), VIDEO_URLGUARD_TOO_LONG);
    ck_assert_int_eq(video_urlguard_parse(longer, VIDEO_URLGUARD_URL_MAX - 6,
                                          &u, &err), VIDEO_URLGUARD_OK);
    ck_assert_uint_eq(strlen(u.url), VIDEO_URLGUARD_URL_MAX);

    /* a host name of 253 bytes passes, 254 do not */

    memcpy(longer, "http://", 7);

    for (i = 0; i < 253; i++) {
        longer[7 + i] = (i % 64 == 63) ? '.' : 'a';
    }

    memcpy(longer + 7 + 253, "/", 1);

    ck_assert_int_eq(video_urlguard_parse(longer, 7 + 253 + 1, &u, &err),
                     VIDEO_URLGUARD_OK);

    longer[7 + 253] = 'a';
    memcpy(longer + 7 + 254, "/", 1);

    ck_assert_int_eq(video_urlguard_parse(longer, 7 + 254 + 1, &u, &err),
                     VIDEO_URLGUARD_HOST);

    /* a label of 64 bytes does not */

    memcpy(longer, "http://", 7);
    memset(longer + 7, 'b', 64);
    memcpy(longer + 7 + 64, ".com/", 5);

    ck_assert_int_eq(video_urlguard_parse(longer, 7 + 64 + 5, &u, &err),
                     VIDEO_URLGUARD_HOST);

    memcpy(longer + 7 + 63, ".com/", 5);

    ck_assert_int_eq(video_urlguard_parse(longer, 7 + 63 + 5, &u, &err),
                     VIDEO_URLGUARD_OK);

    free(longer);
}
END_TEST


Suite *
unit_urlguard_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("urlguard");
    tc = tcase_create("urlguard");

    tcase_add_test(tc, ipv4_ranges_at_their_edges);
    tcase_add_test(tc, ipv6_ranges_at_their_edges);
    tcase_add_test(tc, ipv6_forms_are_judged_by_their_ipv4_address);
    tcase_add_test(tc, other_families_are_not_ip);
    tcase_add_test(tc, cidrs_parse_strictly);
    tcase_add_test(tc, the_allow_list_matches_its_networks_only);
    tcase_add_test(tc, a_bad_allow_list_names_its_entry);
    tcase_add_test(tc, refusals_name_the_address_and_its_range);
    tcase_add_test(tc, urls_are_written_in_their_normal_form);
    tcase_add_test(tc, literal_addresses_are_judged_as_written_or_encoded);
    tcase_add_test(tc, hostile_urls_are_refused);
    suite_add_tcase(s, tc);

    return s;
}
