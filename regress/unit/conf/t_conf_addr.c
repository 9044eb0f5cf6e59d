/*
 * t_conf_addr.c -- strict address, prefix and endpoint parsing, and the
 * printers that must read back what the parsers accept.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tap.h"

static const char *good_prefixes[][2] = {
	{ "10.0.0.2/24",	"10.0.0.2/24" },
	{ "10.0.0.2",		"10.0.0.2/32" },
	{ "0.0.0.0/0",		"0.0.0.0/0" },
	{ "255.255.255.255/32",	"255.255.255.255/32" },
	{ "::/0",		"::/0" },
	{ "fd00::1/64",		"fd00::1/64" },
	{ "FD00:0:0::1/128",	"fd00::1/128" },
	{ "::1",		"::1/128" },
	{ "::ffff:1.2.3.4/96",	"::ffff:1.2.3.4/96" },
};

static const char *bad_prefixes[] = {
	"", "/", "/24", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
	"10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8 ", " 10.0.0.0/8",
	"10.0.0.0/08", "10.0.0.0/8/8", "10.0.0/8", "10.0.0.0.0/8",
	"010.0.0.0/8", "1.2.3.256", "1.2.3.4x", "::/129", "::/1280",
	"fe80::1%eth0/64", "1::2::3/64", "host.example/24", "10.0.0.0/8x",
	"10.0.0.0/99999999999999999999", "0x0a.0.0.0/8",
};

static const char *good_endpoints[][2] = {
	{ "1.2.3.4:51820",		"1.2.3.4:51820" },
	{ "[::1]:1",			"[::1]:1" },
	{ "[2001:DB8::1]:65535",	"[2001:db8::1]:65535" },
	{ "0.0.0.0:80",			"0.0.0.0:80" },
};

static const char *bad_endpoints[] = {
	"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
	"1.2.3.4:-1", "1.2.3.4:+80", "1.2.3.4: 80", "1.2.3.4:80 ",
	"1.2.3.4:080", "::1:80", "[::1]", "[::1]:", "[::1]80",
	"[1.2.3.4]:80", "[::1]:80:80", "1.2.3.4:80:80", "vpn.example:80",
	"[fe80::1%eth0]:80", "[::1:80", "::1]:80",
	"1.2.3.4:5182000000000000000000",
};

int
main(void)
{
	struct prefix		 p, q;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin;
	char			 buf[64], small[8];
	size_t			 i;

	plan(134);

	for (i = 0; i < sizeof(good_prefixes) / sizeof(good_prefixes[0]);
	    i++) {
		memset(&p, 0xa5, sizeof(p));
		ok(prefix_parse(good_prefixes[i][0], &p) == 0,
		    "prefix_parse accepts \"%s\"", good_prefixes[i][0]);
		is_str(prefix_fmt(&p, buf, sizeof(buf)), good_prefixes[i][1],
		    "prefix_fmt round trip of \"%s\"", good_prefixes[i][0]);
	}
	for (i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++) {
		memset(&p, 0xa5, sizeof(p));
		memset(&q, 0xa5, sizeof(q));
		ok(prefix_parse(bad_prefixes[i], &p) == -1,
		    "prefix_parse refuses \"%s\"", bad_prefixes[i]);
		ok(memcmp(&p, &q, sizeof(p)) == 0,
		    "a refused prefix leaves the output alone");
	}
	ok(prefix_parse(NULL, &p) == -1, "prefix_parse refuses NULL");

	/* Host bits stay for interface addresses, prefix_mask clears them. */
	ok(prefix_parse("10.1.2.3/12", &p) == 0, "10.1.2.3/12 parses");
	is_int(p.af, AF_INET, "family is AF_INET");
	is_int(p.plen, 12, "plen 12");
	is_str(addr_fmt(&p, buf, sizeof(buf)), "10.1.2.3", "host bits kept");
	prefix_mask(&p);
	is_str(prefix_fmt(&p, buf, sizeof(buf)), "10.0.0.0/12",
	    "prefix_mask clears host bits");
	ok(prefix_parse("fd12:3456:f89a::ffff/33", &p) == 0, "v6 /33");
	prefix_mask(&p);
	is_str(prefix_fmt(&p, buf, sizeof(buf)), "fd12:3456:8000::/33",
	    "prefix_mask on a v6 /33");
	ok(prefix_parse("255.255.255.255/0", &p) == 0, "/0 parses");
	prefix_mask(&p);
	is_str(prefix_fmt(&p, buf, sizeof(buf)), "0.0.0.0/0", "mask to /0");

	/* addr_parse: no length allowed. */
	ok(addr_parse("192.0.2.1", &p) == 0 && p.plen == 32,
	    "addr_parse v4 is a /32");
	ok(addr_parse("2001:db8::53", &p) == 0 && p.plen == 128 &&
	    p.af == AF_INET6, "addr_parse v6 is a /128");
	ok(addr_parse("192.0.2.1/32", &p) == -1, "addr_parse refuses /len");
	ok(addr_parse("", &p) == -1, "addr_parse refuses empty");
	ok(addr_parse("1.1.1.1.", &p) == -1, "addr_parse refuses junk");

	/* prefix_contains */
	prefix_parse("10.0.0.0/8", &p);
	prefix_parse("10.200.0.0/16", &q);
	ok(prefix_contains(&p, &q), "10/8 contains 10.200/16");
	ok(!prefix_contains(&q, &p), "10.200/16 does not contain 10/8");
	ok(prefix_contains(&p, &p), "a prefix contains itself");
	prefix_parse("11.0.0.0/16", &q);
	ok(!prefix_contains(&p, &q), "10/8 does not contain 11/16");
	prefix_parse("10.0.0.0/7", &p);
	ok(prefix_contains(&p, &q), "10/7 contains 11/16");
	prefix_parse("::/0", &p);
	ok(!prefix_contains(&p, &q), "families never contain each other");
	prefix_parse("::/0", &q);
	ok(prefix_contains(&p, &q), "::/0 contains ::/0");
	prefix_parse("fe80::/10", &p);
	prefix_parse("febf::1", &q);
	ok(prefix_contains(&p, &q), "fe80::/10 contains febf::1");
	prefix_parse("fec0::1", &q);
	ok(!prefix_contains(&p, &q), "fe80::/10 does not contain fec0::1");

	/* Endpoints */
	for (i = 0; i < sizeof(good_endpoints) / sizeof(good_endpoints[0]);
	    i++) {
		ok(endpoint_parse(good_endpoints[i][0], &ss) == 0,
		    "endpoint_parse accepts \"%s\"", good_endpoints[i][0]);
		is_str(endpoint_fmt(&ss, buf, sizeof(buf)),
		    good_endpoints[i][1], "endpoint_fmt round trip");
	}
	for (i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]);
	    i++)
		ok(endpoint_parse(bad_endpoints[i], &ss) == -1,
		    "endpoint_parse refuses \"%s\"", bad_endpoints[i]);
	ok(endpoint_parse("192.0.2.7:51820", &ss) == 0, "v4 endpoint");
	sin = (struct sockaddr_in *)&ss;
	is_int(ss.ss_family, AF_INET, "v4 endpoint family");
	is_int(ntohs(sin->sin_port), 51820, "port in network order");
	is_int(sin->sin_addr.s_addr, htonl(0xc0000207), "address bytes");
	is_int(sa_len(&ss), sizeof(struct sockaddr_in), "sa_len v4");
	ok(endpoint_parse("[::1]:9", &ss) == 0, "v6 endpoint");
	is_int(sa_len(&ss), sizeof(struct sockaddr_in6), "sa_len v6");
	ss.ss_family = AF_UNSPEC;
	is_int(sa_len(&ss), 0, "sa_len unspec");
	is_str(endpoint_fmt(&ss, buf, sizeof(buf)), "(none)",
	    "endpoint_fmt without endpoint");

	/* Printers truncate but always terminate. */
	prefix_parse("255.255.255.255/32", &p);
	prefix_fmt(&p, small, sizeof(small));
	is_str(small, "255.255", "prefix_fmt truncates");
	p.af = AF_UNSPEC;
	is_str(addr_fmt(&p, buf, sizeof(buf)), "?", "addr_fmt bad family");

	return done_testing();
}
