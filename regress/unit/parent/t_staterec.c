/*
 * t_staterec.c -- the parent's state record, which tells the next start
 * what to remove after a crash: what it writes reads back exactly; the
 * older one-line record still reads (with the default table and mark);
 * unknown keys of the right shape are skipped and counted; anything else
 * (truncated, binary, a key twice or missing, a bad name, table or mark,
 * a kernel table, no version first, a newer version) is corrupt, so that
 * the caller removes everything of ours it knows instead.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "parent.h"
#include "sys.h"
#include "tap.h"

static int
parse(const char *s, struct net_staterec *r)
{
	char	err[128];

	return netops_state_parse(s, strlen(s), r, err, sizeof(err));
}

static void
corrupt(const char *s, const char *what)
{
	struct net_staterec	 r;
	char			 err[128];

	err[0] = '\0';
	ok(netops_state_parse(s, strlen(s), &r, err, sizeof(err)) == -1 &&
	    err[0] != '\0', "corrupt: %s (%s)", what, err);
}

int
main(void)
{
	struct net_staterec	 r, back;
	char			 buf[NET_STATE_MAX], big[NET_STATE_MAX + 64];
	int			 n;

	memset(&r, 0, sizeof(r));
	strlcpy(r.ifname, "wg-corp.1", sizeof(r.ifname));
	r.table = 1234;
	r.mark = 0xca6c;
	n = netops_state_format(&r, buf, sizeof(buf));
	ok(n > 0, "formatted");
	is_str(buf, "version=1\nifname=wg-corp.1\ntable=1234\nmark=51820\n",
	    "the format: versioned key=value lines");
	ok(netops_state_parse(buf, n, &back, big, sizeof(big)) == 0,
	    "what is written reads back");
	is_str(back.ifname, "wg-corp.1", "ifname");
	is_int(back.table, 1234, "table");
	is_int(back.mark, 0xca6c, "mark");
	is_int(back.version, 1, "version 1");

	ok(parse("vpn0\n", &back) == 0, "the older one-line record reads");
	is_str(back.ifname, "vpn0", "older: ifname");
	ok(back.table == VPND_TABLE && back.mark == VPND_FWMARK &&
	    back.version == 0, "older: the default table and mark");

	ok(parse("version=1\nifname=vpn0\nfuture_key=x y\ntable=30320\n"
	    "mark=4294967295\nother=\n", &back) == 0,
	    "unknown keys are skipped");
	ok(back.unknown == 2 && back.mark == UINT32_MAX, "and counted (%d)",
	    back.unknown);

	corrupt("", "empty");
	corrupt("vp", "truncated (no newline)");
	corrupt("version=1\nifname=vpn0\ntable=30320\nmark=30320",
	    "truncated key=value");
	corrupt("\001\377x\n\200garbage", "binary");
	n = snprintf(big, sizeof(big), "version=1\nifname=vpn0\n");
	memset(big + n, 'a', sizeof(big) - n - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	corrupt(big, "too long");
	ok(netops_state_parse("vpn0\n\0x\n", 8, &back, buf, sizeof(buf)) ==
	    -1, "corrupt: a NUL inside");
	corrupt("vpn0\nvpn1\n", "two lines of the older format");
	corrupt("vpn 0\n", "older format, bad name");
	corrupt("0123456789abcdef\n", "older format, name too long");
	corrupt("ifname=vpn0\nversion=1\ntable=30320\nmark=30320\n",
	    "version not first");
	corrupt("version=2\nifname=vpn0\ntable=30320\nmark=30320\n",
	    "a newer version");
	corrupt("version=1\ntable=30320\nmark=30320\n", "ifname missing");
	corrupt("version=1\nifname=vpn0\nmark=30320\n", "table missing");
	corrupt("version=1\nifname=vpn0\ntable=30320\n", "mark missing");
	corrupt("version=1\nifname=vpn0\nifname=vpn1\ntable=30320\n"
	    "mark=30320\n", "ifname twice");
	corrupt("version=1\nifname=vpn0\ntable=30320\nmark=30320\n"
	    "table=30320\n", "table twice");
	corrupt("version=1\nifname=../x\ntable=30320\nmark=30320\n",
	    "ifname with a slash");
	corrupt("version=1\nifname=\ntable=30320\nmark=30320\n",
	    "empty ifname");
	corrupt("version=1\nifname=vpn0\ntable=0\nmark=30320\n", "table 0");
	corrupt("version=1\nifname=vpn0\ntable=254\nmark=30320\n",
	    "table main");
	corrupt("version=1\nifname=vpn0\ntable=255\nmark=30320\n",
	    "table local");
	corrupt("version=1\nifname=vpn0\ntable=253\nmark=30320\n",
	    "table default");
	corrupt("version=1\nifname=vpn0\ntable=4294967296\nmark=30320\n",
	    "table past 32 bits");
	corrupt("version=1\nifname=vpn0\ntable=30320\nmark=0\n", "mark 0");
	corrupt("version=1\nifname=vpn0\ntable=30320\nmark=-1\n",
	    "negative mark");
	corrupt("version=1\nifname=vpn0\ntable=30320\nmark=0x7670\n",
	    "hex mark");
	corrupt("version=1\nifname=vpn0\ntable=030320\nmark=30320\n",
	    "leading zero");
	corrupt("version=1\nifname=vpn0\ntable= 30320\nmark=30320\n",
	    "a space in a value");
	corrupt("version=1\nifname=vpn0\n\ntable=30320\nmark=30320\n",
	    "an empty line");
	corrupt("version=1\nifname=vpn0\nTable=30320\nmark=30320\n",
	    "a key in capitals");
	corrupt("version=1\nifname=vpn0\ntable=30320\nmark\n",
	    "a line without =");
	return done_testing();
}
