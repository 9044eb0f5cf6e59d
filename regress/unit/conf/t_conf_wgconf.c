/*
 * t_conf_wgconf.c -- the wg-quick file parser: whole files, every refusal
 * with its line number, and the file permission rule.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "tap.h"

#define PRIV	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define K1	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2	"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define K3	"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="
#define K4	"BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ="

static const char one_peer[] =
    "[Interface]\n"
    "PrivateKey = " PRIV "\n"
    "Address = 10.64.0.2/32, fc00:bbbb::2/128\n"
    "DNS = 10.64.0.1\n"
    "\n"
    "[Peer]\n"
    "PublicKey = " K1 "\n"
    "AllowedIPs = 0.0.0.0/0, ::/0\n"
    "Endpoint = 192.0.2.10:51820\n";

static const char many_peers[] =
    "# a comment first\r\n"
    "  [ interface ]   # section names ignore case\r\n"
    "privatekey=" PRIV "\r\n"
    "ADDRESS = 10.0.0.2/24\r\n"
    "Address = fd00::2/64 , 10.0.1.2/24\r\n"
    "ListenPort = 51820\r\n"
    "MTU = 1380\r\n"
    "DNS = 10.0.0.1, fd00::1, corp.example, lan\r\n"
    "DNS = 9.9.9.9\r\n"
    "Table = off\r\n"
    "PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo 'a=b # c'\r\n"
    "PreDown = true\r\n"
    "SaveConfig = true\r\n"
    "FwMark = 0x1234\r\n"
    "\r\n"
    "[Peer]\r\n"
    "PublicKey = " K1 "\r\n"
    "PresharedKey = " K4 "\r\n"
    "AllowedIPs = 10.0.0.0/24\r\n"
    "AllowedIPs = 10.9.9.9/16\r\n"
    "Endpoint = [2001:db8::1]:4500\r\n"
    "PersistentKeepalive = 25\r\n"
    "[Peer]\r\n"
    "PublicKey = " K2 "\r\n"
    "AllowedIPs =\r\n"
    "PersistentKeepalive = off\r\n"
    "\t[Peer]\r\n"
    "\tpublickey\t=\t" K3 "\t\r\n"
    "\tallowedips = 192.168.0.0/16\r\n"
    "\tendpoint = localhost:1234\r\n"
    "\tpersistentkeepalive = 0";

struct bad {
	const char	*text;
	const char	*err;
};

#define HDR	"[Interface]\nPrivateKey = " PRIV "\n"
#define PEER	"[Peer]\nPublicKey = " K1 "\n"

static const struct bad bads[] = {
	{ "PrivateKey = " PRIV "\n",
	    "t:1: key \"PrivateKey\" outside a section" },
	{ "\n\n[Interfaces]\n", "t:3: unknown section [Interfaces]" },
	{ "[Interface\n", "t:1: bad section header" },
	{ "[Interface] x\n", "t:1: bad section header" },
	{ HDR "Foo = bar\n", "t:3: unknown key \"Foo\" in [Interface]" },
	{ HDR "Address\n", "t:3: expected \"Key = value\"" },
	{ HDR "= 1\n", "t:3: missing key before '='" },
	{ HDR "PublicKey = " K1 "\n",
	    "t:3: unknown key \"PublicKey\" in [Interface]" },
	{ HDR PEER "PrivateKey = " PRIV "\n",
	    "t:5: unknown key \"PrivateKey\" in [Peer]" },
	{ HDR PEER "Table = off\n", "t:5: unknown key \"Table\" in [Peer]" },
	{ "[Interface]\nPrivateKey = " K1 "x\n",
	    "t:2: bad PrivateKey: not a base64 32-byte key" },
	{ "[Interface]\nPrivateKey = \n",
	    "t:2: bad PrivateKey: not a base64 32-byte key" },
	{ HDR "Address = 10.0.0.2/33\n", "t:3: bad Address \"10.0.0.2/33\"" },
	{ HDR "Address = 10.0.0.2/24,\n", "t:3: empty item in a list" },
	{ HDR "Address = 1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,"
	    "7.7.7.7,8.8.8.8,9.9.9.9\n", "t:3: more than 8 addresses" },
	{ HDR "ListenPort = 65536\n", "t:3: bad ListenPort \"65536\"" },
	{ HDR "ListenPort = -1\n", "t:3: bad ListenPort \"-1\"" },
	{ HDR "ListenPort = 0x10\n", "t:3: bad ListenPort \"0x10\"" },
	{ HDR "MTU = 1279\n", "t:3: bad MTU \"1279\" (1280..9000)" },
	{ HDR "MTU = 9001\n", "t:3: bad MTU \"9001\" (1280..9000)" },
	{ HDR "Table = 253\n", "t:3: Table 253 is the kernel's default table" },
	{ HDR "Table = local\n",
	    "t:3: bad Table \"local\" (off, auto, main or 1..4294967295)" },
	{ HDR "Table = 4294967296\n", "t:3: bad Table \"4294967296\" (off, "
	    "auto, main or 1..4294967295)" },
	{ HDR "FwMark = 0\n", "t:3: FwMark 0: vpnd's sockets always carry a "
	    "mark (leave FwMark out for 0x7670)" },
	{ HDR "FwMark = 254\n", "t:3: FwMark 254 with Table = auto would name "
	    "the kernel's table 254" },
	{ HDR "DNS = 10.0.0.1, bad..domain\n",
	    "t:3: bad DNS server or search domain \"bad..domain\"" },
	{ HDR "DNS = 10.0.0.256\n",
	    "t:3: bad DNS server or search domain \"10.0.0.256\"" },
	{ HDR "DNS = 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
	    "1.1.1.7,1.1.1.8,1.1.1.9\n", "t:3: more than 8 DNS servers" },
	{ HDR PEER "PublicKey = AAAA\n",
	    "t:5: bad PublicKey: not a base64 32-byte key" },
	{ HDR PEER "PresharedKey = " K2 "==\n",
	    "t:5: bad PresharedKey: not a base64 32-byte key" },
	{ HDR PEER "AllowedIPs = 10.0.0.0/8, 300.0.0.0/8\n",
	    "t:5: bad AllowedIPs \"300.0.0.0/8\"" },
	{ HDR PEER "AllowedIPs = 10.0.0.0/8,,\n", "t:5: empty item in a list" },
	{ HDR PEER "Endpoint = 192.0.2.1\n",
	    "t:5: bad Endpoint \"192.0.2.1\"" },
	{ HDR PEER "Endpoint = 192.0.2.1:0\n",
	    "t:5: bad Endpoint \"192.0.2.1:0\"" },
	{ HDR PEER "Endpoint = ::1:51820\n",
	    "t:5: bad Endpoint \"::1:51820\"" },
	{ HDR PEER "Endpoint = [::1]:99999\n",
	    "t:5: bad Endpoint \"[::1]:99999\"" },
	{ HDR PEER "Endpoint = bad_host!:80\n",
	    "t:5: bad Endpoint \"bad_host!:80\"" },
	{ HDR PEER "PersistentKeepalive = 65536\n",
	    "t:5: bad PersistentKeepalive \"65536\"" },
	{ HDR PEER "PersistentKeepalive = on\n",
	    "t:5: bad PersistentKeepalive \"on\"" },
	{ HDR PEER "\n\n" PEER, "t:7: duplicate peer PublicKey" },
	{ HDR "[Peer]\nPublicKey = " K2 "\n" PEER "[Peer]\nPublicKey = " K2
	    "\n", "t:7: duplicate peer PublicKey" },
	{ HDR "[Peer]\nAllowedIPs = 10.0.0.0/8\n" PEER,
	    "t:3: [Peer] without PublicKey" },
	{ HDR PEER "[Peer]\n# nothing\n", "t:5: [Peer] without PublicKey" },
	{ "[Interface]\nListenPort = 1\n",
	    "t:2: no PrivateKey in [Interface]" },
	{ "# empty\n", "t:1: no [Interface] section" },
	{ "", "t:1: no [Interface] section" },
	{ PEER "[Interface]\n", "t:3: no PrivateKey in [Interface]" },
};

static int
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int	 fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int
main(void)
{
	struct tunnel_conf	 conf;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	uint8_t			 k[WG_KEY_LEN];
	char			 err[512], want[512], buf[128], path[64];
	char			 dir[] = "/tmp/t_conf_wgconf.XXXXXX";
	char			*big;
	size_t			 i, n;

	plan(228);

	/* One peer. */
	ok(wgconf_parse(one_peer, strlen(one_peer), "wg0.conf", &conf, err,
	    sizeof(err)) == 0, "one-peer file parses: %s", err);
	ok(conf.has_privkey, "has a private key");
	key_from_base64(k, PRIV);
	is_mem(conf.privkey, k, WG_KEY_LEN, "private key bytes");
	is_int(conf.naddrs, 2, "two addresses");
	is_str(prefix_fmt(&conf.addrs[0], buf, sizeof(buf)), "10.64.0.2/32",
	    "first address");
	is_str(prefix_fmt(&conf.addrs[1], buf, sizeof(buf)),
	    "fc00:bbbb::2/128", "second address");
	is_int(conf.ndns, 1, "one resolver");
	is_str(addr_fmt(&conf.dns[0], buf, sizeof(buf)), "10.64.0.1",
	    "resolver");
	is_int(conf.nsearch, 0, "no search domains");
	is_int(conf.listen_port, 0, "ListenPort defaults to any");
	is_int(conf.mtu, 0, "MTU defaults to unset");
	is_int(conf.killswitch, -1, "killswitch left unset");
	i = 0;
	ok(!wgconf_warning(&conf, "wg0.conf", &i, buf, sizeof(buf)),
	    "no wg-quick-only keys, no warning");
	is_int(conf.npeers, 1, "one peer");
	key_from_base64(k, K1);
	is_mem(conf.peers[0].pubkey, k, WG_KEY_LEN, "peer public key");
	ok(!conf.peers[0].has_psk, "no preshared key");
	is_int(conf.peers[0].naips, 2, "two allowed IPs");
	ok(conf_is_full_tunnel(&conf, AF_INET) &&
	    conf_is_full_tunnel(&conf, AF_INET6), "a full tunnel");
	is_str(endpoint_fmt(&conf.peers[0].endpoint, buf, sizeof(buf)),
	    "192.0.2.10:51820", "endpoint");
	is_int(conf.peers[0].keepalive, 0, "no keepalive");
	conf_free(&conf);

	/* Several peers, CRLF, odd spacing and case, ignored keys. */
	ok(wgconf_parse(many_peers, strlen(many_peers), "wg1.conf", &conf,
	    err, sizeof(err)) == 0, "three-peer file parses: %s", err);
	is_int(conf.naddrs, 3, "Address lines add up");
	is_str(prefix_fmt(&conf.addrs[1], buf, sizeof(buf)), "fd00::2/64",
	    "address from the second line");
	is_int(conf.listen_port, 51820, "ListenPort");
	is_int(conf.mtu, 1380, "MTU");
	is_int(conf.ndns, 3, "three resolvers over two DNS lines");
	is_str(addr_fmt(&conf.dns[1], buf, sizeof(buf)), "fd00::1",
	    "v6 resolver");
	is_str(addr_fmt(&conf.dns[2], buf, sizeof(buf)), "9.9.9.9",
	    "resolver from the second DNS line");
	is_int(conf.nsearch, 2, "two search domains");
	is_str(conf.search[0], "corp.example", "first search domain");
	is_str(conf.search[1], "lan", "second search domain");
	is_int(conf.npeers, 3, "three peers");
	ok(conf.peers[0].has_psk, "peer 1 has a preshared key");
	key_from_base64(k, K4);
	is_mem(conf.peers[0].psk, k, WG_KEY_LEN, "preshared key bytes");
	is_int(conf.peers[0].naips, 2, "AllowedIPs lines add up");
	is_str(prefix_fmt(&conf.peers[0].aips[1], buf, sizeof(buf)),
	    "10.9.0.0/16", "allowed IPs are masked");
	sin6 = (struct sockaddr_in6 *)&conf.peers[0].endpoint;
	is_int(sin6->sin6_family, AF_INET6, "v6 endpoint");
	is_str(endpoint_fmt(&conf.peers[0].endpoint, buf, sizeof(buf)),
	    "[2001:db8::1]:4500", "v6 endpoint text");
	is_int(conf.peers[0].keepalive, 25, "keepalive 25");
	/* one warning per wg-quick key not acted on, in a fixed order */
	i = 0;
	n = 0;
	while (wgconf_warning(&conf, "wg1.conf", &i, buf, sizeof(buf))) {
		static const char *const want_warn[] = {
			"wg1.conf:11: PostUp is ignored: vpnd never runs hook "
			    "commands",
			"wg1.conf:12: PreDown is ignored: vpnd never runs hook "
			    "commands",
			"wg1.conf:13: SaveConfig is ignored: vpnd never writes "
			    "the configuration file",
		};
		if (n < nitems(want_warn))
			is_str(buf, want_warn[n], "warning %zu", n);
		n++;
	}
	is_int(n, 3, "three warnings, none for PreUp/PostDown (absent), "
	    "Table and FwMark are honoured");
	ok(conf.table_mode == CONF_TABLE_OFF, "Table = off");
	is_int(conf.fwmark, 0x1234, "FwMark = 0x1234");
	ok(!wgconf_warning(&conf, "wg1.conf", &i, buf, sizeof(buf)),
	    "the iteration stays at its end");
	is_int(conf.peers[1].naips, 0, "empty AllowedIPs");
	is_int(conf.peers[1].endpoint.ss_family, AF_UNSPEC, "no endpoint");
	is_int(conf.peers[1].keepalive, 0, "keepalive off");
	key_from_base64(k, K3);
	is_mem(conf.peers[2].pubkey, k, WG_KEY_LEN, "tabs around values");
	ok(conf.peers[2].endpoint.ss_family == AF_INET ||
	    conf.peers[2].endpoint.ss_family == AF_INET6,
	    "hostname endpoint resolved");
	sin = (struct sockaddr_in *)&conf.peers[2].endpoint;
	is_int(ntohs(sin->sin_port), 1234, "resolved endpoint keeps its port");
	ok(!conf_is_full_tunnel(&conf, AF_UNSPEC), "not a full tunnel");
	conf_free(&conf);

	/* Every refusal, with its line. */
	for (i = 0; i < nitems(bads); i++) {
		memset(err, 0, sizeof(err));
		ok(wgconf_parse(bads[i].text, strlen(bads[i].text), "t", &conf,
		    err, sizeof(err)) == -1, "refused: %s", bads[i].err);
		is_str(err, bads[i].err, "message");
		ok(conf.npeers == 0 && conf.peers == NULL && !conf.has_privkey,
		    "a refused conf is freed");
	}

	/* NUL bytes and long lines. */
	ok(wgconf_parse(HDR "Address = 10.0.0.1\0/8\n", sizeof(HDR) + 20,
	    "t", &conf, err, sizeof(err)) == -1, "NUL byte refused");
	is_str(err, "t:3: NUL byte", "NUL byte message");
	n = strlen(one_peer) + 4096 + 2;
	if ((big = malloc(n + 2)) == NULL)
		abort();
	memset(big, ' ', 4096);
	big[0] = '#';
	big[4096] = '\n';
	memcpy(big + 4097, one_peer, strlen(one_peer));
	ok(wgconf_parse(big, n - 1, "t", &conf, err, sizeof(err)) == 0,
	    "a line of exactly 4096 bytes is fine: %s", err);
	conf_free(&conf);
	memset(big, ' ', 4097);
	big[0] = '#';
	big[4097] = '\n';
	memcpy(big + 4098, one_peer, strlen(one_peer));
	ok(wgconf_parse(big, n, "t", &conf, err, sizeof(err)) == -1,
	    "a line of 4097 bytes is refused");
	is_str(err, "t:1: line longer than 4096 bytes", "long line message");
	free(big);
	ok(wgconf_parse(one_peer, strlen(one_peer), "t", &conf, NULL, 0) == 0,
	    "err may be NULL");
	conf_free(&conf);
	ok(wgconf_parse("x", 1, "t", &conf, NULL, 0) == -1,
	    "and errors still fail without it");

	/* Too many peers. */
	n = (CONF_MAX_PEERS + 1) * 80 + 200;
	if ((big = calloc(1, n)) == NULL)
		abort();
	strlcpy(big, HDR, n);
	for (i = 0; i < CONF_MAX_PEERS + 1; i++) {
		memset(k, 0, sizeof(k));
		k[0] = (i + 1) & 0xff;
		k[1] = (i + 1) >> 8;
		key_to_base64(buf, k);
		snprintf(want, sizeof(want), "[Peer]\nPublicKey = %s\n", buf);
		strlcat(big, want, n);
	}
	ok(wgconf_parse(big, strlen(big), "t", &conf, err, sizeof(err)) ==
	    -1, "CONF_MAX_PEERS + 1 peers refused");
	snprintf(want, sizeof(want), "t:%d: more than %d peers",
	    3 + 2 * CONF_MAX_PEERS, CONF_MAX_PEERS);
	is_str(err, want, "too many peers message");
	free(big);

	/*
	 * Hostile input: mutated files must parse or fail cleanly, never
	 * crash or read past the buffer (run under ASan).  No Endpoint line,
	 * so no mutation sends a name to the resolver.
	 */
	{
		static const char seed[] =
		    "[Interface]\nPrivateKey = " PRIV "\nAddress = 10.0.0.2/24,"
		    " fd00::2/64\nDNS = 10.0.0.1, example.com\nMTU = 1400\n"
		    "ListenPort = 51820\n[Peer]\nPublicKey = " K1 "\n"
		    "PresharedKey = " K2 "\nAllowedIPs = 0.0.0.0/0, ::/0\n"
		    "PersistentKeepalive = 25 # c\n";
		char	*m;
		size_t	 len, j;
		int	 r, nok = 0, nbad = 0, badmsg = 0;

		srandom(7);
		for (i = 0; i < 5000; i++) {
			len = sizeof(seed) - 1 - random() % 8;
			if ((m = malloc(len)) == NULL)
				abort();
			memcpy(m, seed, len);
			for (j = 0; j < 1 + (size_t)random() % 4; j++)
				m[random() % len] = random() % 4 == 0 ?
				    "\0\n#=[],/: "[random() % 11] : random();
			r = wgconf_parse(m, len, "t", &conf, err, sizeof(err));
			if (r == 0)
				nok++;
			else {
				nbad++;
				if (strncmp(err, "t:", 2) != 0)
					badmsg++;
			}
			conf_free(&conf);
			free(m);
		}
		ok(badmsg == 0, "5000 mutated files: %d parsed, %d refused "
		    "with a located message", nok, nbad);
	}

	/* Loading: permissions, size, missing files. */
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
	ok(write_file(path, one_peer, strlen(one_peer), 0600) == 0, "0600");
	ok(wgconf_load(path, &conf, err, sizeof(err)) == 0,
	    "a 0600 file loads: %s", err);
	is_int(conf.npeers, 1, "with its peer");
	conf_free(&conf);
	chmod(path, 0400);
	ok(wgconf_load(path, &conf, err, sizeof(err)) == 0, "0400 loads");
	conf_free(&conf);
	chmod(path, 0644);
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1, "0644 refused");
	snprintf(want, sizeof(want), "%s: mode 0644 is too open; chmod 600 it",
	    path);
	is_str(err, want, "mode message");
	ok(conf.npeers == 0 && !conf.has_privkey, "refused conf is freed");
	chmod(path, 0620);
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
	    "group-writable refused");
	chmod(path, 0604);
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
	    "world-readable refused");
	chmod(path, 0601);
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
	    "world-executable refused too");
	if (geteuid() == 0) {
		chmod(path, 0600);
		ok(chown(path, 65534, 65534) == 0, "chown to nobody");
		ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
		    "a file of another user is refused");
		snprintf(want, sizeof(want), "%s: owned by uid 65534, not by "
		    "root or uid 0", path);
		is_str(err, want, "owner message");
	} else
		skip(3, "not root: a file owned by another user was not "
		    "tried");

	ok(write_file(path, one_peer, strlen(one_peer) - 11, 0600) == 0,
	    "a file with an error");
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
	    "parse errors come through");
	snprintf(want, sizeof(want), "%s:9: bad Endpoint \"192.0.\"", path);
	is_str(err, want, "with the path and line");

	n = 1024 * 1024 + 1;
	if ((big = malloc(n)) == NULL)
		abort();
	memcpy(big, one_peer, strlen(one_peer));
	memset(big + strlen(one_peer), '\n', n - strlen(one_peer));
	ok(write_file(path, big, n - 1, 0600) == 0, "a 1 MiB file");
	ok(wgconf_load(path, &conf, err, sizeof(err)) == 0,
	    "exactly 1 MiB loads: %s", err);
	conf_free(&conf);
	ok(write_file(path, big, n, 0600) == 0, "a 1 MiB + 1 file");
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
	    "one byte more is refused");
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	is_str(err, want, "size message");
	free(big);

	unlink(path);
	ok(wgconf_load(path, &conf, err, sizeof(err)) == -1,
	    "a missing file fails");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	is_str(err, want, "with errno's text");
	ok(wgconf_load(dir, &conf, err, sizeof(err)) == -1,
	    "a directory fails");
	rmdir(dir);

	return done_testing();
}
