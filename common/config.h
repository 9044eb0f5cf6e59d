/*
 * config.h -- the tunnel configuration shared by every front end.
 *
 * One struct, filled from a wg-quick file (wgconf.c, used by the parent in
 * headless mode and by vpnctl up) or from an activate request (netmgr).
 * Addresses, prefixes and keys have one parser and one printer each, here.
 */
#ifndef VPND_CONFIG_H
#define VPND_CONFIG_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN		32
#define WG_KEY_B64_LEN		44	/* without the NUL */

#define CONF_MAX_ADDRS		8	/* interface addresses */
#define CONF_MAX_DNS		8
#define CONF_MAX_SEARCH		8
#define CONF_MAX_PEERS		1024
#define CONF_MAX_AIPS		1024	/* allowed IPs per peer */
#define CONF_DOMAIN_LEN		254

#define CONF_DEFAULT_MTU	1420
#define CONF_MIN_MTU		1280
#define CONF_MAX_MTU		9000

enum hop_type {
	HOP_SINGLE = 0,
	HOP_MULTI_ENTRY,
	HOP_MULTI_EXIT,
	HOP_MAX,		/* the number of hop types */
};

/* An address or a prefix; for a bare address plen is the full length. */
struct prefix {
	sa_family_t	 af;		/* AF_INET or AF_INET6 */
	uint8_t		 plen;
	uint8_t		 addr[16];	/* network order; v4 in the first 4 */
};

struct peer_conf {
	uint8_t		 pubkey[WG_KEY_LEN];
	uint8_t		 psk[WG_KEY_LEN];
	bool		 has_psk;
	/* ss_family is AF_UNSPEC when the peer has no endpoint. */
	struct sockaddr_storage endpoint;
	uint16_t	 keepalive;	/* seconds, 0 = off */
	struct prefix	*aips;
	size_t		 naips;
};

#define WGCONF_NIGNORED		5	/* wgconf.c's ignored_keys */

/*
 * wg-quick's Table: auto (a full tunnel's routes in a table of their own,
 * numbered as the mark, behind two policy rules; other routes in main),
 * off (no routes, no rules: the user routes), or a number (every route in
 * that table, no rules; main is 254).
 */
enum conf_table {
	CONF_TABLE_AUTO = 0,
	CONF_TABLE_OFF,
	CONF_TABLE_NUM,
};
#define CONF_DEFAULT_FWMARK	0x7670	/* vpnd's own mark and table */
#define CONF_TABLE_MAIN		254

#define LOCKDOWN_KEY_OFF	1	/* tunnel_conf.lockdown */
#define LOCKDOWN_KEY_ON		2
#define LOCKDOWN_KEY_ON_LAN	3

struct tunnel_conf {
	uint8_t		 privkey[WG_KEY_LEN];
	bool		 has_privkey;
	uint16_t	 listen_port;	/* 0 = any */
	int		 mtu;		/* 0 = default */
	struct prefix	 addrs[CONF_MAX_ADDRS];
	size_t		 naddrs;
	struct prefix	 dns[CONF_MAX_DNS];	/* plen is the full length */
	size_t		 ndns;
	char		 search[CONF_MAX_SEARCH][CONF_DOMAIN_LEN];
	size_t		 nsearch;
	int		 killswitch;	/* -1 unset: on for a full tunnel */
	bool		 allowlan;
	/* Lockdown (vpnd -f only): 0 no key, else LOCKDOWN_KEY_* */
	int		 lockdown;
	enum hop_type	 hop;
	int		 table_mode;	/* enum conf_table */
	uint32_t	 table;		/* CONF_TABLE_NUM: the table */
	uint32_t	 fwmark;	/* 0: CONF_DEFAULT_FWMARK */
	struct peer_conf *peers;
	size_t		 npeers;
	/* wg-quick keys read and not acted on: where each first was, or 0 */
	int		 ignored_line[WGCONF_NIGNORED];
};

/* config.c: life cycle. conf_free zeroes every key before freeing. */
void	 conf_init(struct tunnel_conf *);
void	 conf_free(struct tunnel_conf *);
struct peer_conf *conf_add_peer(struct tunnel_conf *);	/* NULL: full/ENOMEM */
int	 peer_add_aip(struct peer_conf *, const struct prefix *);
bool	 conf_is_full_tunnel(const struct tunnel_conf *, int af);
/*
 * Table and FwMark values as wg-quick writes them: Table "off", "auto",
 * "main" or 1..4294967295 but the kernel's 253 (default) and 255
 * (local); FwMark decimal or 0x hex, 1..0xffffffff ("off" and 0 are
 * refused: vpnd's sockets always carry a mark, which the kill switch and
 * the policy rules match). 0 or -1 with a reason.
 */
int	 conf_parse_table(const char *, int *mode, uint32_t *table,
	    char *err, size_t errlen);
int	 conf_parse_fwmark(const char *, uint32_t *, char *err, size_t errlen);
/* The whole: Table = auto needs a mark that can name a table; Table =
 * main takes no full tunnel (it would replace the host's default route).
 */
int	 conf_check_routing(const struct tunnel_conf *, char *err,
	    size_t errlen);
uint32_t conf_fwmark(const struct tunnel_conf *);	/* the mark in use */

/*
 * addr.c: strict parsers; 0 on success, -1 on malformed input.
 * prefix_parse accepts "addr" (full length) and "addr/len"; host bits set
 * beyond the prefix length are accepted for interface addresses
 * ("10.0.0.2/24") -- prefix_mask() clears them where a route needs it.
 */
int	 prefix_parse(const char *, struct prefix *);
int	 addr_parse(const char *, struct prefix *);	/* no "/len" allowed */
void	 prefix_mask(struct prefix *);
const char *prefix_fmt(const struct prefix *, char *, size_t);	/* a/len */
const char *addr_fmt(const struct prefix *, char *, size_t);	/* a */
/* "1.2.3.4:51820", "[::1]:51820"; numeric only. */
int	 endpoint_parse(const char *, struct sockaddr_storage *);
const char *endpoint_fmt(const struct sockaddr_storage *, char *, size_t);
socklen_t sa_len(const struct sockaddr_storage *);
bool	 prefix_contains(const struct prefix *, const struct prefix *);

/* keys.c: base64 WireGuard keys (44 chars, one '=' of padding). */
int	 key_from_base64(uint8_t [WG_KEY_LEN], const char *);
void	 key_to_base64(char [WG_KEY_B64_LEN + 1], const uint8_t [WG_KEY_LEN]);
int	 key_public_from_private(uint8_t [WG_KEY_LEN],
	    const uint8_t [WG_KEY_LEN]);	/* X25519 base point mult */
bool	 key_is_zero(const uint8_t [WG_KEY_LEN]);

/*
 * wgconf.c: the wg-quick format. On error returns -1 and writes
 * "file:line: reason" into err. wgconf_load() refuses a file that holds a
 * private key and is readable or writable by group or others, or owned by
 * someone other than root or the caller.  Both initialise the conf
 * themselves (conf_init) and free it again on error.
 */
int	 wgconf_parse(const char *buf, size_t len, const char *name,
	    struct tunnel_conf *, char *err, size_t errlen);
int	 wgconf_load(const char *path, struct tunnel_conf *, char *err,
	    size_t errlen);
/*
 * The warnings for the wg-quick keys a parsed conf held and vpnd does not
 * act on, one per key: call with *iter = 0 until it returns 0; each 1
 * leaves "name:line: Key is ignored: why" in buf.
 */
int	 wgconf_warning(const struct tunnel_conf *, const char *name,
	    size_t *iter, char *buf, size_t len);

#endif /* VPND_CONFIG_H */
