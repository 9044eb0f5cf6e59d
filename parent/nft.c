/*
 * nft.c -- the kill switch: table "inet vpnd", built with libnftnl and
 * sent as one nfnetlink batch, which the kernel applies atomically.
 *
 * Install is "add table; delete table; add table and its chains and
 * rules" in a single transaction: the first add makes the delete
 * succeed when no table exists, and no packet ever sees a moment
 * without the kill switch.  No nft(8), no shell: the parent may not
 * exec.
 *
 * What it allows, everything else being dropped (chain policy):
 *	output	loopback; the tunnel interface; UDP to the peers'
 *		endpoints carrying our fwmark (only the parent can set
 *		it), one rule a family looking "address . port" up in a
 *		set (hashed, however many peers); DHCPv4 and DHCPv6 client traffic to where DHCP
 *		servers are (broadcast, private and link-local ranges,
 *		ff02::1:2, fe80::/10); neighbour discovery; DNS anywhere
 *		but the tunnel's resolvers is
 *		rejected (fail fast) before the LAN rule so that it cannot
 *		leak to a LAN resolver; then the LAN, if allowed.
 *	input	the same, mirrored: replies from the endpoints, DHCP
 *		server replies, neighbour discovery, the LAN if allowed.
 *	prerouting (raw)  wg-quick's anti-spoofing: packets for our tunnel
 *		addresses that come in on another interface, from an
 *		address that is not local, are dropped.
 * IPv6 outside the tunnel is dropped, whatever the tunnel carries,
 * except the link-local plumbing above and the LAN ranges.
 *
 * Lockdown (nft_lockdown_install) is the same table built without a
 * tunnel: no interface, endpoint or anti-spoofing rules, so only
 * loopback, DHCP, neighbour discovery and, if allowed, the LAN pass.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "config.h"
#include "compat.h"
#include "sys.h"
#include "sysnl.h"

#define NFT_BATCH_LIMIT	(2 * 1024 * 1024) /* ~100,000 endpoints */
#define NFT_ACK_ROOM	2048		/* receive buffer per ack (skb and all) */
#define NFT_BATCH_SLACK	(16 * 1024)	/* a message past the limit */
#define NFT_PRIO_RAW	(-300)		/* NF_IP_PRI_RAW */
#define NFT_PRIO_MANGLE	(-150)		/* NF_IP_PRI_MANGLE */
#define NFT_PRIO_SRCNAT	100		/* NF_IP_PRI_NAT_SRC */

#define IP4_SADDR	12		/* offsets in the network header */
#define IP4_DADDR	16
#define IP6_SADDR	8
#define IP6_DADDR	24
#define TH_SPORT	0		/* ... and in the transport header */
#define TH_DPORT	2
#define ICMP6_TYPE	0

/*
 * The endpoints' sets, one per family: "address . port" keys, each
 * field in whole 32-bit registers (the port zero-padded), looked up by
 * hash however many peers there are.
 */
#define EP_SET4		"endpoints4"
#define EP_SET6		"endpoints6"
#define EP_SET4_ID	1		/* in the transaction */
#define EP_SET6_ID	2
#define EP_KEY4		8		/* 4 + 2, padded to 4 */
#define EP_KEY6		20		/* 16 + 2, padded to 4 */
#define NFT_TYPE_BITS	6		/* nft(8)'s concatenated types */
#define NFT_TYPE_IP4	7		/* ipv4_addr */
#define NFT_TYPE_IP6	8		/* ipv6_addr */
#define NFT_TYPE_PORT	13		/* inet_service */
#define EP_CHUNK	256		/* elements a message: < 9 KB */

#define ND_ROUTER_SOLICIT	133
#define ND_REDIRECT_LAST	136	/* 133-136: RS, RA, NS, NA */

struct nft_batch {
	struct mnl_nlmsg_batch	*b;
	char			*buf;
	uint32_t		 seq;	/* of the batch begin message */
	uint32_t		 n;	/* messages that ask for an ack */
	int			 err;	/* first build error or 0 */
	size_t			 nset4, nset6;	/* endpoint keys */
};

/* A rule under construction; matches load into register 1. */
struct nft_rule {
	struct nftnl_rule	*r;
	int			 err;
};

struct lan_range {
	sa_family_t	 af;
	uint8_t		 bytes[16];
	uint8_t		 plen;
	bool		 mcast;		/* a destination only */
};

static const struct lan_range lan_ranges[] = {
	{ AF_INET, { 10 }, 8, false },
	{ AF_INET, { 172, 16 }, 12, false },
	{ AF_INET, { 192, 168 }, 16, false },
	{ AF_INET, { 169, 254 }, 16, false },
	/*
	 * Multicast that stays on the LAN: the local network control block
	 * (mDNS, LLMNR), administratively scoped (SSDP), broadcast; IPv6
	 * interface-, link-, site- and organisation-local scopes. Globally
	 * scoped groups are routable past the LAN: not here.
	 */
	{ AF_INET, { 224, 0, 0 }, 24, true },
	{ AF_INET, { 239 }, 8, true },
	{ AF_INET, { 255, 255, 255, 255 }, 32, true },
	{ AF_INET6, { 0xfe, 0x80 }, 10, false },
	{ AF_INET6, { 0xfc }, 7, false },
	{ AF_INET6, { 0xff, 0x01 }, 16, true },
	{ AF_INET6, { 0xff, 0x02 }, 16, true },
	{ AF_INET6, { 0xff, 0x05 }, 16, true },
	{ AF_INET6, { 0xff, 0x08 }, 16, true },
};

/* Where a DHCP client may send (the first is also where replies go). */
static const struct lan_range dhcp_dsts[] = {
	{ AF_INET, { 255, 255, 255, 255 }, 32, true },
	{ AF_INET, { 10 }, 8, false },
	{ AF_INET, { 172, 16 }, 12, false },
	{ AF_INET, { 192, 168 }, 16, false },
	{ AF_INET, { 169, 254 }, 16, false },
};
static const struct lan_range dhcp6_dsts[] = {
	{ AF_INET6, { 0xff, 0x02, [13] = 0x01, [15] = 0x02 }, 128, true },
	{ AF_INET6, { 0xfe, 0x80 }, 10, false },
};

static int	 batch_init(struct nft_batch *);
static void	 batch_free(struct nft_batch *);
static struct nlmsghdr *batch_hdr(struct nft_batch *, uint16_t, uint16_t);
static void	 batch_next(struct nft_batch *);
static int	 batch_send(struct nft_batch *);
static void	 put_table(struct nft_batch *, uint16_t, uint16_t);
static void	 put_table_named(struct nft_batch *, const char *, uint16_t,
		    uint16_t);
static void	 put_chain(struct nft_batch *, const char *, uint32_t,
		    int32_t, uint32_t);
static void	 put_chain_typed(struct nft_batch *, const char *,
		    const char *, const char *, uint32_t, int32_t, uint32_t);
static void	 rule_begin(struct nft_rule *, const char *);
static void	 rule_begin_in(struct nft_rule *, const char *, const char *);
static void	 rule_end(struct nft_batch *, struct nft_rule *);
static struct nftnl_expr *ex_new(struct nft_rule *, const char *);
static void	 m_meta(struct nft_rule *, uint32_t);
static void	 m_cmp(struct nft_rule *, uint32_t, const void *, uint32_t);
static void	 m_payload(struct nft_rule *, uint32_t, uint32_t, uint32_t);
static void	 m_nfproto(struct nft_rule *, sa_family_t);
static void	 m_l4proto(struct nft_rule *, uint8_t);
static void	 m_ifname(struct nft_rule *, bool, const char *, uint32_t);
static void	 m_mark(struct nft_rule *, uint32_t);
static void	 m_port(struct nft_rule *, bool, uint16_t);
static void	 m_addr(struct nft_rule *, bool, sa_family_t,
		    const uint8_t *, uint8_t, uint32_t);
static void	 m_icmp6_types(struct nft_rule *, uint8_t, uint8_t);
static void	 m_fib_saddr_not_local(struct nft_rule *);
static void	 v_verdict(struct nft_rule *, int);
static void	 v_reject(struct nft_rule *, uint32_t, uint8_t);
static int	 ks_check(const struct ks_params *);
static int	 ks_send(const struct ks_params *);
static void	 ks_chains(struct nft_batch *);
static void	 ks_output(struct nft_batch *, const struct ks_params *);
static void	 ks_input(struct nft_batch *, const struct ks_params *);
static void	 ks_common(struct nft_batch *, const struct ks_params *,
		    const char *, bool);
static void	 ks_dns(struct nft_batch *, const char *, sa_family_t,
		    uint8_t);
static void	 ks_forward(struct nft_batch *, const struct ks_params *);
static void	 ks_antispoof(struct nft_batch *, const struct ks_params *);
static int	 endpoint_split(const struct sockaddr_storage *,
		    sa_family_t *, const uint8_t **, uint16_t *);
static void	 ep_key(uint8_t *, sa_family_t, const uint8_t *, uint16_t);
static struct nftnl_set *ep_set_new(sa_family_t, uint32_t);
static size_t	 ks_endpoint_set(struct nft_batch *, const struct ks_params *,
		    sa_family_t);
static void	 ks_endpoints(struct nft_batch *, const struct ks_params *,
		    const char *, bool);
static int	 table_cb(const struct nlmsghdr *, void *);
static int	 table_present(const char *);
static void	 m_ctmark(struct nft_rule *, uint32_t);
static void	 m_ctstate(struct nft_rule *, uint32_t);
static void	 s_imm32(struct nft_rule *, uint32_t);
static void	 s_ctmark(struct nft_rule *, uint32_t);
static void	 s_mark(struct nft_rule *, uint32_t);
static void	 ks_split(struct nft_batch *, const struct ks_params *,
		    const char *, bool);
static int	 split_check(const struct split_cg *, size_t);

static int
batch_init(struct nft_batch *nb)
{
	memset(nb, 0, sizeof(*nb));
	/* zeroed: attribute padding must not carry old bytes to the kernel */
	if ((nb->buf = calloc(1, NFT_BATCH_LIMIT + NFT_BATCH_SLACK)) == NULL)
		return -1;
	if ((nb->b = mnl_nlmsg_batch_start(nb->buf, NFT_BATCH_LIMIT)) ==
	    NULL) {
		free(nb->buf);
		return -1;
	}
	nb->seq = sysnl_seq();
	nftnl_batch_begin(mnl_nlmsg_batch_current(nb->b), nb->seq);
	batch_next(nb);
	return 0;
}

static void
batch_free(struct nft_batch *nb)
{
	if (nb->b != NULL)
		mnl_nlmsg_batch_stop(nb->b);
	free(nb->buf);
	memset(nb, 0, sizeof(*nb));
}

/* The header of the next command; every command asks for its ack. */
static struct nlmsghdr *
batch_hdr(struct nft_batch *nb, uint16_t type, uint16_t flags)
{
	nb->n++;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(nb->b), type,
	    NFPROTO_INET, flags | NLM_F_ACK, nb->seq + nb->n);
}

static void
batch_next(struct nft_batch *nb)
{
	if (!mnl_nlmsg_batch_next(nb->b) && nb->err == 0)
		nb->err = E2BIG;
}

static int
batch_send(struct nft_batch *nb)
{
	struct mnl_socket	*nl;
	size_t			 len;
	int			 rv, save, size;

	if (nb->err != 0) {
		errno = nb->err;
		return -1;
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(nb->b), nb->seq + nb->n + 1);
	batch_next(nb);
	if (nb->err != 0) {
		errno = nb->err;
		return -1;
	}
	len = mnl_nlmsg_batch_size(nb->b);
	if ((nl = sysnl_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	/* The whole batch goes in one datagram. */
	size = (int)len + 4096;
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE,
	    &size, sizeof(size)) == -1)
		(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUF,
		    &size, sizeof(size));
	/*
	 * Every command is acked once the batch is done: the acks must all
	 * fit, or the kernel drops some (ENOBUFS) after it committed the
	 * batch, and the caller would take a ruleset that is in place for
	 * one that failed.
	 */
	size = (int)MINIMUM((size_t)nb->n * NFT_ACK_ROOM + 65536,
	    (size_t)INT_MAX);
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
	    &size, sizeof(size)) == -1)
		(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF,
		    &size, sizeof(size));
	rv = sysnl_batch(nl, mnl_nlmsg_batch_head(nb->b), len, nb->seq,
	    nb->n);
	save = errno;
	mnl_socket_close(nl);
	errno = save;
	return rv;
}

static void
put_table(struct nft_batch *nb, uint16_t type, uint16_t flags)
{
	put_table_named(nb, VPND_NFT_TABLE, type, flags);
}

static void
put_table_named(struct nft_batch *nb, const char *table, uint16_t type,
    uint16_t flags)
{
	struct nftnl_table	*t;
	struct nlmsghdr		*nlh;

	if ((t = nftnl_table_alloc()) == NULL) {
		nb->err = ENOMEM;
		return;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = batch_hdr(nb, type, flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_next(nb);
}

static void
put_chain(struct nft_batch *nb, const char *name, uint32_t hook,
    int32_t prio, uint32_t policy)
{
	put_chain_typed(nb, VPND_NFT_TABLE, name, "filter", hook, prio,
	    policy);
}

static void
put_chain_typed(struct nft_batch *nb, const char *table, const char *name,
    const char *type, uint32_t hook, int32_t prio, uint32_t policy)
{
	struct nftnl_chain	*c;
	struct nlmsghdr		*nlh;

	if ((c = nftnl_chain_alloc()) == NULL) {
		nb->err = ENOMEM;
		return;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	nlh = batch_hdr(nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	batch_next(nb);
}

static void
rule_begin(struct nft_rule *ru, const char *chain)
{
	rule_begin_in(ru, VPND_NFT_TABLE, chain);
}

static void
rule_begin_in(struct nft_rule *ru, const char *table, const char *chain)
{
	ru->err = 0;
	if ((ru->r = nftnl_rule_alloc()) == NULL) {
		ru->err = ENOMEM;
		return;
	}
	nftnl_rule_set_u32(ru->r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(ru->r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(ru->r, NFTNL_RULE_CHAIN, chain);
}

static void
rule_end(struct nft_batch *nb, struct nft_rule *ru)
{
	struct nlmsghdr	*nlh;

	if (ru->err == 0) {
		nlh = batch_hdr(nb, NFT_MSG_NEWRULE,
		    NLM_F_CREATE | NLM_F_APPEND);
		nftnl_rule_nlmsg_build_payload(nlh, ru->r);
		batch_next(nb);
	} else if (nb->err == 0)
		nb->err = ru->err;
	if (ru->r != NULL)
		nftnl_rule_free(ru->r);
	ru->r = NULL;
}

/* A new expression, already owned by the rule (freed with it). */
static struct nftnl_expr *
ex_new(struct nft_rule *ru, const char *name)
{
	struct nftnl_expr	*e;

	if (ru->r == NULL)
		return NULL;
	if ((e = nftnl_expr_alloc(name)) == NULL) {
		ru->err = ENOMEM;
		return NULL;
	}
	nftnl_rule_add_expr(ru->r, e);
	return e;
}

static void
m_meta(struct nft_rule *ru, uint32_t key)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "meta")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void
m_cmp(struct nft_rule *ru, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "cmp")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void
m_payload(struct nft_rule *ru, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "payload")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

/* Every address match is preceded by this, or it reads the wrong bytes. */
static void
m_nfproto(struct nft_rule *ru, sa_family_t af)
{
	uint8_t	proto = af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;

	m_meta(ru, NFT_META_NFPROTO);
	m_cmp(ru, NFT_CMP_EQ, &proto, sizeof(proto));
}

static void
m_l4proto(struct nft_rule *ru, uint8_t proto)
{
	m_meta(ru, NFT_META_L4PROTO);
	m_cmp(ru, NFT_CMP_EQ, &proto, sizeof(proto));
}

/* The NUL is compared too: "vpn0" must not match "vpn01". */
static void
m_ifname(struct nft_rule *ru, bool in, const char *name, uint32_t op)
{
	m_meta(ru, in ? NFT_META_IIFNAME : NFT_META_OIFNAME);
	m_cmp(ru, op, name, (uint32_t)strlen(name) + 1);
}

static void
m_mark(struct nft_rule *ru, uint32_t mark)
{
	m_meta(ru, NFT_META_MARK);
	m_cmp(ru, NFT_CMP_EQ, &mark, sizeof(mark));	/* host order */
}

static void
m_port(struct nft_rule *ru, bool src, uint16_t port)
{
	uint16_t	np = htons(port);

	m_payload(ru, NFT_PAYLOAD_TRANSPORT_HEADER, src ? TH_SPORT : TH_DPORT,
	    sizeof(np));
	m_cmp(ru, NFT_CMP_EQ, &np, sizeof(np));
}

/* addr/plen (plen 0: matches anything, nothing emitted); op on the rest. */
static void
m_addr(struct nft_rule *ru, bool src, sa_family_t af, const uint8_t *addr,
    uint8_t plen, uint32_t op)
{
	struct nftnl_expr	*e;
	uint8_t			 mask[16], net[16], xor[16];
	uint32_t		 alen, off, i, bits;

	alen = af == AF_INET ? 4 : 16;
	if (af == AF_INET)
		off = src ? IP4_SADDR : IP4_DADDR;
	else
		off = src ? IP6_SADDR : IP6_DADDR;
	if (plen == 0)
		return;
	memset(mask, 0, sizeof(mask));
	for (i = 0, bits = plen; i < alen && bits > 0; i++) {
		mask[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		bits = bits >= 8 ? bits - 8 : 0;
	}
	for (i = 0; i < alen; i++)
		net[i] = addr[i] & mask[i];
	m_payload(ru, NFT_PAYLOAD_NETWORK_HEADER, off, alen);
	if (plen < alen * 8) {
		memset(xor, 0, sizeof(xor));
		if ((e = ex_new(ru, "bitwise")) == NULL)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, alen);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, alen);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, alen);
	}
	m_cmp(ru, op, net, alen);
}

static void
m_icmp6_types(struct nft_rule *ru, uint8_t lo, uint8_t hi)
{
	m_l4proto(ru, IPPROTO_ICMPV6);
	m_payload(ru, NFT_PAYLOAD_TRANSPORT_HEADER, ICMP6_TYPE, 1);
	m_cmp(ru, NFT_CMP_GTE, &lo, 1);
	m_cmp(ru, NFT_CMP_LTE, &hi, 1);
}

/* fib saddr type != local */
static void
m_fib_saddr_not_local(struct nft_rule *ru)
{
	struct nftnl_expr	*e;
	uint32_t		 local = RTN_LOCAL;

	if ((e = ex_new(ru, "fib")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_SADDR);
	m_cmp(ru, NFT_CMP_NEQ, &local, sizeof(local));
}

static void
v_verdict(struct nft_rule *ru, int verdict)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "immediate")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
}

static void
v_reject(struct nft_rule *ru, uint32_t type, uint8_t code)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "reject")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
}

static int
endpoint_split(const struct sockaddr_storage *ss, sa_family_t *af,
    const uint8_t **addr, uint16_t *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (ss->ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)ss;
		*addr = (const uint8_t *)&sin->sin_addr;
		*port = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)ss;
		*addr = (const uint8_t *)&sin6->sin6_addr;
		*port = ntohs(sin6->sin6_port);
		break;
	default:
		return -1;
	}
	*af = ss->ss_family;
	return *port == 0 ? -1 : 0;
}

static int
ks_check(const struct ks_params *ks)
{
	sa_family_t	 af;
	const uint8_t	*a;
	uint16_t	 port;
	size_t		 i;

	if (ks == NULL || !sysnl_ifname_ok(ks->ifname) ||
	    (ks->nendpoints > 0 && ks->endpoints == NULL) ||
	    (ks->ndns > 0 && ks->dns == NULL) ||
	    (ks->ntunaddrs > 0 && ks->tunaddrs == NULL))
		return -1;
	for (i = 0; i < ks->nendpoints; i++)
		if (endpoint_split(&ks->endpoints[i], &af, &a, &port) == -1)
			return -1;
	for (i = 0; i < ks->ndns; i++)
		if (ks->dns[i].af != AF_INET && ks->dns[i].af != AF_INET6)
			return -1;
	for (i = 0; i < ks->ntunaddrs; i++)
		if (ks->tunaddrs[i].af != AF_INET &&
		    ks->tunaddrs[i].af != AF_INET6)
			return -1;
	return 0;
}

static void
ks_chains(struct nft_batch *nb)
{
	put_chain(nb, "prerouting", NF_INET_PRE_ROUTING, NFT_PRIO_RAW,
	    NF_ACCEPT);
	put_chain(nb, "input", NF_INET_LOCAL_IN, 0, NF_DROP);
	put_chain(nb, "output", NF_INET_LOCAL_OUT, 0, NF_DROP);
	/* containers and VMs routed through this host leak no less */
	put_chain(nb, "forward", NF_INET_FORWARD, 0, NF_DROP);
}

/* What both directions accept, the endpoint of each rule swapped. */
static void
ks_common(struct nft_batch *nb, const struct ks_params *ks,
    const char *chain, bool in)
{
	struct nft_rule	 ru;
	size_t		 i;

	rule_begin(&ru, chain);
	m_ifname(&ru, in, "lo", NFT_CMP_EQ);
	v_verdict(&ru, NF_ACCEPT);
	rule_end(nb, &ru);

	if (ks->ifname != NULL) {	/* NULL: lockdown, no tunnel */
		rule_begin(&ru, chain);
		m_ifname(&ru, in, ks->ifname, NFT_CMP_EQ);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}

	ks_endpoints(nb, ks, chain, in);

	/*
	 * DHCP clients, only where DHCP goes: v4 68 -> 67 to the broadcast
	 * address or, for a renewal sent to the server itself, the private
	 * and link-local ranges; v6 546 -> 547 to the link-local
	 * All_DHCP_Relay_Agents_and_Servers group or a link-local server.
	 * Anywhere else these ports would carry data around the tunnel.
	 * Server replies may come from anywhere a relay is.
	 */
	for (i = 0; i < nitems(dhcp_dsts); i++) {
		if (in && i > 0)
			break;
		rule_begin(&ru, chain);
		m_nfproto(&ru, dhcp_dsts[i].af);
		m_l4proto(&ru, IPPROTO_UDP);
		if (!in)
			m_addr(&ru, false, dhcp_dsts[i].af, dhcp_dsts[i].bytes,
			    dhcp_dsts[i].plen, NFT_CMP_EQ);
		m_port(&ru, true, in ? 67 : 68);
		m_port(&ru, false, in ? 68 : 67);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}
	for (i = 0; i < nitems(dhcp6_dsts); i++) {
		if (in && i > 0)
			break;
		rule_begin(&ru, chain);
		m_nfproto(&ru, AF_INET6);
		m_l4proto(&ru, IPPROTO_UDP);
		if (!in)
			m_addr(&ru, false, AF_INET6, dhcp6_dsts[i].bytes,
			    dhcp6_dsts[i].plen, NFT_CMP_EQ);
		m_port(&ru, true, in ? 547 : 546);
		m_port(&ru, false, in ? 546 : 547);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}

	/* Without neighbour discovery IPv6 on the link dies. */
	rule_begin(&ru, chain);
	m_nfproto(&ru, AF_INET6);
	m_icmp6_types(&ru, ND_ROUTER_SOLICIT, ND_REDIRECT_LAST);
	v_verdict(&ru, NF_ACCEPT);
	rule_end(nb, &ru);
}

/* A set's key for an endpoint: address, then the port in a register. */
static void
ep_key(uint8_t *key, sa_family_t af, const uint8_t *addr, uint16_t port)
{
	size_t		 alen = af == AF_INET ? 4 : 16;
	uint16_t	 np = htons(port);

	memset(key, 0, EP_KEY6);
	memcpy(key, addr, alen);
	memcpy(key + alen, &np, sizeof(np));
}

/* A set of ours, named, with no elements (yet). */
static struct nftnl_set *
ep_set_new(sa_family_t af, uint32_t klen)
{
	struct nftnl_set	*st;

	if ((st = nftnl_set_alloc()) == NULL)
		return NULL;
	nftnl_set_set_str(st, NFTNL_SET_TABLE, VPND_NFT_TABLE);
	nftnl_set_set_str(st, NFTNL_SET_NAME, af == AF_INET ? EP_SET4 :
	    EP_SET6);
	nftnl_set_set_u32(st, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(st, NFTNL_SET_ID, af == AF_INET ? EP_SET4_ID :
	    EP_SET6_ID);
	nftnl_set_set_u32(st, NFTNL_SET_KEY_LEN, klen);
	nftnl_set_set_u32(st, NFTNL_SET_KEY_TYPE, ((af == AF_INET ?
	    NFT_TYPE_IP4 : NFT_TYPE_IP6) << NFT_TYPE_BITS) | NFT_TYPE_PORT);
	return st;
}

/*
 * The set of af's endpoints, before the rules that name it; how many
 * keys it got (0: no set, no rule). The same endpoint twice (two peers
 * behind one address and port) is one key: the kernel takes an element
 * again without NLM_F_EXCL. Elements go EP_CHUNK to a message, so that
 * each message stays within the batch's slack (a message past the limit
 * is never sent: E2BIG) and its element list within a netlink
 * attribute's 64 KiB.
 */
static size_t
ks_endpoint_set(struct nft_batch *nb, const struct ks_params *ks,
    sa_family_t af)
{
	struct nftnl_set	*st = NULL;
	struct nftnl_set_elem	*el;
	struct nlmsghdr		*nlh;
	uint8_t			 key[EP_KEY6];
	const uint8_t		*a;
	sa_family_t		 eaf;
	uint16_t		 port;
	uint32_t		 klen = af == AF_INET ? EP_KEY4 : EP_KEY6;
	size_t			 i, n = 0, inmsg = 0;

	for (i = 0; i < ks->nendpoints && nb->err == 0; i++) {
		if (endpoint_split(&ks->endpoints[i], &eaf, &a, &port) == -1 ||
		    eaf != af)
			continue;	/* ks_check() refused bad ones */
		if (n == 0) {
			if ((st = ep_set_new(af, klen)) == NULL) {
				nb->err = ENOMEM;
				break;
			}
			nlh = batch_hdr(nb, NFT_MSG_NEWSET, NLM_F_CREATE);
			nftnl_set_nlmsg_build_payload(nlh, st);
			batch_next(nb);
			nftnl_set_free(st);
			st = NULL;
		}
		if (st == NULL && (st = ep_set_new(af, klen)) == NULL) {
			nb->err = ENOMEM;
			break;
		}
		if ((el = nftnl_set_elem_alloc()) == NULL) {
			nb->err = ENOMEM;
			break;
		}
		ep_key(key, af, a, port);
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, klen);
		nftnl_set_elem_add(st, el);
		n++;
		if (++inmsg == EP_CHUNK) {
			nlh = batch_hdr(nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
			nftnl_set_elems_nlmsg_build_payload(nlh, st);
			batch_next(nb);
			nftnl_set_free(st);
			st = NULL;
			inmsg = 0;
		}
	}
	if (st != NULL && inmsg > 0 && nb->err == 0) {
		nlh = batch_hdr(nb, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
		nftnl_set_elems_nlmsg_build_payload(nlh, st);
		batch_next(nb);
	}
	if (st != NULL)
		nftnl_set_free(st);
	return nb->err == 0 ? n : 0;
}

/*
 * UDP to (out) or from (in) an endpoint of the set. The mark proves a
 * packet comes from one of our sockets: nothing else can reach the
 * endpoint outside the tunnel.  Replies cannot carry it, so incoming ones
 * are matched on their source alone.
 */
static void
ks_endpoints(struct nft_batch *nb, const struct ks_params *ks,
    const char *chain, bool in)
{
	struct nft_rule		 ru;
	struct nftnl_expr	*e;
	sa_family_t		 af;
	uint32_t		 alen, off;
	int			 k;

	for (k = 0; k < 2; k++) {
		af = k == 0 ? AF_INET : AF_INET6;
		if ((af == AF_INET ? nb->nset4 : nb->nset6) == 0)
			continue;
		alen = af == AF_INET ? 4 : 16;
		if (af == AF_INET)
			off = in ? IP4_SADDR : IP4_DADDR;
		else
			off = in ? IP6_SADDR : IP6_DADDR;
		rule_begin(&ru, chain);
		m_nfproto(&ru, af);
		m_l4proto(&ru, IPPROTO_UDP);
		if (!in)
			m_mark(&ru, ks->mark != 0 ? ks->mark : VPND_FWMARK);
		if ((e = ex_new(&ru, "payload")) != NULL) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG,
			    NFT_REG32_00);
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE,
			    NFT_PAYLOAD_NETWORK_HEADER);
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, alen);
		}
		if ((e = ex_new(&ru, "payload")) != NULL) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG,
			    NFT_REG32_00 + alen / 4);
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE,
			    NFT_PAYLOAD_TRANSPORT_HEADER);
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET,
			    in ? TH_SPORT : TH_DPORT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
		}
		if ((e = ex_new(&ru, "lookup")) != NULL) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG,
			    NFT_REG32_00);
			nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET,
			    af == AF_INET ? EP_SET4 : EP_SET6);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID,
			    af == AF_INET ? EP_SET4_ID : EP_SET6_ID);
		}
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}
}

/*
 * Reject DNS that is not going into the tunnel. It comes after the
 * tunnel-interface rule, so DNS inside the tunnel -- to the tunnel's
 * resolvers -- is already accepted, and before the LAN rule, so no
 * resolver off the tunnel can be reached: not a LAN one, and not the
 * tunnel's own address either when a LAN route or a reconnect would
 * send it out of another interface.  Rejected, not dropped, so
 * resolvers fail over at once.
 */
static void
ks_dns(struct nft_batch *nb, const char *chain, sa_family_t af,
    uint8_t proto)
{
	struct nft_rule	 ru;

	rule_begin(&ru, chain);
	m_nfproto(&ru, af);
	m_l4proto(&ru, proto);
	m_port(&ru, false, 53);
	if (proto == IPPROTO_TCP)
		v_reject(&ru, NFT_REJECT_TCP_RST, 0);
	else
		v_reject(&ru, NFT_REJECT_ICMPX_UNREACH,
		    NFT_REJECT_ICMPX_PORT_UNREACH);
	rule_end(nb, &ru);
}

static void
ks_output(struct nft_batch *nb, const struct ks_params *ks)
{
	struct nft_rule	 ru;
	size_t		 i;

	ks_split(nb, ks, "output", false);
	ks_common(nb, ks, "output", false);
	ks_dns(nb, "output", AF_INET, IPPROTO_UDP);
	ks_dns(nb, "output", AF_INET, IPPROTO_TCP);
	ks_dns(nb, "output", AF_INET6, IPPROTO_UDP);
	ks_dns(nb, "output", AF_INET6, IPPROTO_TCP);
	if (!ks->allow_lan)
		return;
	for (i = 0; i < nitems(lan_ranges); i++) {
		rule_begin(&ru, "output");
		m_nfproto(&ru, lan_ranges[i].af);
		m_addr(&ru, false, lan_ranges[i].af, lan_ranges[i].bytes,
		    lan_ranges[i].plen, NFT_CMP_EQ);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}
}

static void
ks_input(struct nft_batch *nb, const struct ks_params *ks)
{
	struct nft_rule	 ru;
	size_t		 i;

	ks_split(nb, ks, "input", true);
	ks_common(nb, ks, "input", true);
	if (!ks->allow_lan)
		return;
	for (i = 0; i < nitems(lan_ranges); i++) {
		rule_begin(&ru, "input");
		m_nfproto(&ru, lan_ranges[i].af);
		m_addr(&ru, !lan_ranges[i].mcast, lan_ranges[i].af,
		    lan_ranges[i].bytes, lan_ranges[i].plen, NFT_CMP_EQ);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}
}

/*
 * Forwarded traffic: in or out of the tunnel only; DNS off the tunnel is
 * rejected as for our own; with allow_lan, traffic to the LAN ranges.
 */
static void
ks_forward(struct nft_batch *nb, const struct ks_params *ks)
{
	struct nft_rule	 ru;
	size_t		 i;

	if (ks->ifname != NULL) {
		rule_begin(&ru, "forward");
		m_ifname(&ru, true, ks->ifname, NFT_CMP_EQ);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
		rule_begin(&ru, "forward");
		m_ifname(&ru, false, ks->ifname, NFT_CMP_EQ);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}
	if (!ks->allow_lan)
		return;
	ks_dns(nb, "forward", AF_INET, IPPROTO_UDP);
	ks_dns(nb, "forward", AF_INET, IPPROTO_TCP);
	ks_dns(nb, "forward", AF_INET6, IPPROTO_UDP);
	ks_dns(nb, "forward", AF_INET6, IPPROTO_TCP);
	for (i = 0; i < nitems(lan_ranges); i++) {
		rule_begin(&ru, "forward");
		m_nfproto(&ru, lan_ranges[i].af);
		m_addr(&ru, false, lan_ranges[i].af, lan_ranges[i].bytes,
		    lan_ranges[i].plen, NFT_CMP_EQ);
		v_verdict(&ru, NF_ACCEPT);
		rule_end(nb, &ru);
	}
}

/* CVE-2019-14899: iifname != tun daddr <ours> fib saddr type != local */
static void
ks_antispoof(struct nft_batch *nb, const struct ks_params *ks)
{
	struct nft_rule	 ru;
	const struct prefix *p;
	size_t		 i;

	for (i = 0; i < ks->ntunaddrs; i++) {
		p = &ks->tunaddrs[i];
		rule_begin(&ru, "prerouting");
		m_nfproto(&ru, p->af);
		m_ifname(&ru, true, ks->ifname, NFT_CMP_NEQ);
		m_addr(&ru, false, p->af, p->addr, p->af == AF_INET ? 32 : 128,
		    NFT_CMP_EQ);
		m_fib_saddr_not_local(&ru);
		v_verdict(&ru, NF_DROP);
		rule_end(nb, &ru);
	}
}

int
nft_ks_install(const struct ks_params *ks)
{
	if (ks_check(ks) == -1) {
		errno = EINVAL;
		return -1;
	}
	return ks_send(ks);
}

int
nft_lockdown_install(bool allow_lan)
{
	struct ks_params	kp;

	memset(&kp, 0, sizeof(kp));
	kp.ifname = NULL;	/* no tunnel: no interface, no endpoints */
	kp.allow_lan = allow_lan;
	return ks_send(&kp);
}

/* The table as ks describes it, replacing ours in one transaction. */
static int
ks_send(const struct ks_params *ks)
{
	struct nft_batch	nb;
	int			rv, save;

	if (batch_init(&nb) == -1)
		return -1;
	put_table(&nb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(&nb, NFT_MSG_DELTABLE, 0);
	put_table(&nb, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	ks_chains(&nb);
	nb.nset4 = ks_endpoint_set(&nb, ks, AF_INET);
	nb.nset6 = ks_endpoint_set(&nb, ks, AF_INET6);
	ks_antispoof(&nb, ks);
	ks_output(&nb, ks);
	ks_input(&nb, ks);
	ks_forward(&nb, ks);
	rv = batch_send(&nb);
	save = errno;
	batch_free(&nb);
	errno = save;
	return rv;
}

int
nft_ks_remove(void)
{
	struct nft_batch	nb;
	int			rv, save;

	if (batch_init(&nb) == -1)
		return -1;
	put_table(&nb, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(&nb, NFT_MSG_DELTABLE, 0);
	rv = batch_send(&nb);
	save = errno;
	batch_free(&nb);
	errno = save;
	return rv;
}

struct table_query {
	const char	*name;
	int		 found;
};

static int
table_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nftnl_table	*t;
	struct table_query	*q = arg;
	const char		*name;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) |
	    NFT_MSG_NEWTABLE) || (t = nftnl_table_alloc()) == NULL) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (nftnl_table_nlmsg_parse(nlh, t) == -1 ||
	    (name = nftnl_table_get_str(t, NFTNL_TABLE_NAME)) == NULL ||
	    strcmp(name, q->name) != 0 ||
	    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) != NFPROTO_INET) {
		nftnl_table_free(t);
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	nftnl_table_free(t);
	q->found = 1;
	return MNL_CB_OK;
}

static int
table_present(const char *table)
{
	char			 buf[1024] = { 0 };
	struct nlmsghdr		*nlh;
	struct nftnl_table	*t;
	struct mnl_socket	*nl;
	struct table_query	 q = { table, 0 };
	int			 rv, save;

	if ((t = nftnl_table_alloc()) == NULL)
		return -1;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_ACK, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	if ((nl = sysnl_open(NETLINK_NETFILTER)) == NULL)
		return -1;
	rv = sysnl_talk(nl, nlh, table_cb, &q);
	save = errno;
	mnl_socket_close(nl);
	if (rv == -1) {
		if (save == ENOENT)
			return 0;
		errno = save;
		return -1;
	}
	if (!q.found) {
		errno = EPROTO;
		return -1;
	}
	return 1;
}

int
nft_ks_present(void)
{
	return table_present(VPND_NFT_TABLE);
}

/*
 * Split tunnelling.  The kill switch's part: what comes back is accepted
 * only as part of a connection the split table marked as excluded (ct
 * mark).  On the way out, a packet the split table re-routed still shows
 * the tunnel as its output interface to the rest of the output hook (the
 * hook's state keeps the device it started with), so the tunnel rule
 * admits it already; the rule here says the intent, with the bypass mark
 * that only the split table (or CAP_NET_ADMIN) sets on that same packet.
 *
 * The ct mark outlives the exclusion: conntrack keeps a connection for
 * days after the split table is gone and its process back in its own
 * cgroup.  So both directions also want the bypass mark on the packet
 * itself, which only the split table's chains set (route on the way out,
 * prerouting on the way in): once the table is gone, such a connection
 * is an ordinary one again.  The lockdown table has no tunnel and so
 * nothing excluded: no rule at all.
 */
static void
ks_split(struct nft_batch *nb, const struct ks_params *ks, const char *chain,
    bool in)
{
	struct nft_rule	 ru;

	/* lockdown's table: nothing is excluded without a tunnel */
	if (ks->ifname == NULL)
		return;
	rule_begin(&ru, chain);
	m_ctmark(&ru, VPND_CTMARK_EXCL);
	if (in)
		m_ctstate(&ru, (1 << 1) | (1 << 2));	/* established, related */
	m_mark(&ru, ks->mark == 0 ? VPND_FWMARK : ks->mark);
	v_verdict(&ru, NF_ACCEPT);
	rule_end(nb, &ru);
}

static void
m_ctmark(struct nft_rule *ru, uint32_t mark)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "ct")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	m_cmp(ru, NFT_CMP_EQ, &mark, sizeof(mark));
}

/* ct state & bits != 0 */
static void
m_ctstate(struct nft_rule *ru, uint32_t bits)
{
	struct nftnl_expr	*e;
	uint32_t		 zero = 0;

	if ((e = ex_new(ru, "ct")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	if ((e = ex_new(ru, "bitwise")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(bits));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &bits, sizeof(bits));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	m_cmp(ru, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static void
s_imm32(struct nft_rule *ru, uint32_t v)
{
	struct nftnl_expr	*e;

	if ((e = ex_new(ru, "immediate")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &v, sizeof(v));
}

static void
s_ctmark(struct nft_rule *ru, uint32_t mark)
{
	struct nftnl_expr	*e;

	s_imm32(ru, mark);
	if ((e = ex_new(ru, "ct")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
}

static void
s_mark(struct nft_rule *ru, uint32_t mark)
{
	struct nftnl_expr	*e;

	s_imm32(ru, mark);
	if ((e = ex_new(ru, "meta")) == NULL)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

static int
split_check(const struct split_cg *cgs, size_t n)
{
	size_t	i;

	if (n == 0 || n > SPLIT_MAX_CGROUPS || cgs == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (cgs[i].id == 0 || cgs[i].level == 0 ||
		    cgs[i].level > SPLIT_MAX_LEVEL)
			return -1;
	return 0;
}

/*
 * Table "inet vpnd_split", its own, replaced whole in one transaction
 * (mark: the bypass mark of the tunnel in force, its policy rules'):
 *	route (type route, hook output, mangle): a packet from a socket of
 *		an excluded cgroup (socket cgroupv2 level L == id: the
 *		cgroup or one below it) gets the ct mark on its connection
 *		and the bypass mark, so the kernel routes it again, by the
 *		main table: outside the tunnel;
 *	prerouting (filter, mangle): the replies of such connections
 *		carry the bypass mark, so reverse-path filtering looks up
 *		the way they left;
 *	postrouting (nat, srcnat): such connections leave with the
 *		outgoing interface's address (the socket may have taken the
 *		tunnel's before the second routing), loopback excepted.
 */
int
nft_split_install(const struct split_cg *cgs, size_t n, uint32_t mark)
{
	struct nft_batch	 nb;
	struct nft_rule		 ru;
	struct nftnl_expr	*e;
	size_t			 i;
	int			 rv, save;

	if (split_check(cgs, n) == -1 || mark == 0) {
		errno = EINVAL;
		return -1;
	}
	if (batch_init(&nb) == -1)
		return -1;
	put_table_named(&nb, VPND_NFT_SPLIT, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table_named(&nb, VPND_NFT_SPLIT, NFT_MSG_DELTABLE, 0);
	put_table_named(&nb, VPND_NFT_SPLIT, NFT_MSG_NEWTABLE,
	    NLM_F_CREATE | NLM_F_EXCL);
	put_chain_typed(&nb, VPND_NFT_SPLIT, "route", "route",
	    NF_INET_LOCAL_OUT, NFT_PRIO_MANGLE, NF_ACCEPT);
	put_chain_typed(&nb, VPND_NFT_SPLIT, "prerouting", "filter",
	    NF_INET_PRE_ROUTING, NFT_PRIO_MANGLE, NF_ACCEPT);
	put_chain_typed(&nb, VPND_NFT_SPLIT, "postrouting", "nat",
	    NF_INET_POST_ROUTING, NFT_PRIO_SRCNAT, NF_ACCEPT);
	for (i = 0; i < n; i++) {
		rule_begin_in(&ru, VPND_NFT_SPLIT, "route");
		if ((e = ex_new(&ru, "socket")) != NULL) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY,
			    NFT_SOCKET_CGROUPV2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG,
			    NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL,
			    cgs[i].level);
		}
		m_cmp(&ru, NFT_CMP_EQ, &cgs[i].id, sizeof(cgs[i].id));
		s_ctmark(&ru, VPND_CTMARK_EXCL);
		s_mark(&ru, mark);
		rule_end(&nb, &ru);
	}
	rule_begin_in(&ru, VPND_NFT_SPLIT, "prerouting");
	m_ctmark(&ru, VPND_CTMARK_EXCL);
	s_mark(&ru, mark);
	rule_end(&nb, &ru);
	rule_begin_in(&ru, VPND_NFT_SPLIT, "postrouting");
	m_ctmark(&ru, VPND_CTMARK_EXCL);
	m_ifname(&ru, false, "lo", NFT_CMP_NEQ);
	if (ex_new(&ru, "masq") == NULL && ru.err == 0)
		ru.err = ENOMEM;
	rule_end(&nb, &ru);
	rv = batch_send(&nb);
	save = errno;
	batch_free(&nb);
	errno = save;
	return rv;
}

int
nft_split_remove(void)
{
	struct nft_batch	nb;
	int			rv, save;

	if (batch_init(&nb) == -1)
		return -1;
	put_table_named(&nb, VPND_NFT_SPLIT, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table_named(&nb, VPND_NFT_SPLIT, NFT_MSG_DELTABLE, 0);
	rv = batch_send(&nb);
	save = errno;
	batch_free(&nb);
	errno = save;
	return rv;
}

int
nft_split_present(void)
{
	return table_present(VPND_NFT_SPLIT);
}

int
nft_watch_open(void)
{
	struct sockaddr_nl	 sa;
	int			 fd, grp = NFNLGRP_NFTABLES, save;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_NETFILTER)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
	    sizeof(grp)) == -1) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

int
nft_watch_read(int fd)
{
	char	 buf[8192];
	ssize_t	 n;
	int	 changed = 0;

	for (;;) {
		if ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			changed = 1;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return changed;
		if (n == -1 && errno == ENOBUFS) {
			changed = 1;	/* notices lost: look anyway */
			continue;
		}
		return changed ? 1 : -1;
	}
}
