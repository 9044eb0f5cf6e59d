/*
 * t_allowedips.c -- cryptokey routing table: longest-prefix match checked
 * against a brute-force reference over random prefixes of both families,
 * plus the edges: /0, host routes, owner changes, removal.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "allowedips.h"
#include "tap.h"

#define NOWNERS		16
#define MAXREF		6000

struct ref {
	struct prefix	 p;
	void		*owner;
};

static int		 owners[NOWNERS];
static struct ref	 refs[MAXREF];
static size_t		 nrefs;

static void
ref_insert(const struct prefix *p0, void *owner)
{
	struct prefix	 p = *p0;
	size_t		 i;

	prefix_mask(&p);
	for (i = 0; i < nrefs; i++)
		if (refs[i].p.af == p.af && refs[i].p.plen == p.plen &&
		    memcmp(refs[i].p.addr, p.addr, 16) == 0) {
			refs[i].owner = owner;
			return;
		}
	refs[nrefs].p = p;
	refs[nrefs++].owner = owner;
}

static int
ref_remove(const struct prefix *p0, void *owner)
{
	struct prefix	 p = *p0;
	size_t		 i;

	prefix_mask(&p);
	for (i = 0; i < nrefs; i++)
		if (refs[i].p.af == p.af && refs[i].p.plen == p.plen &&
		    memcmp(refs[i].p.addr, p.addr, 16) == 0) {
			if (refs[i].owner != owner)
				return -1;
			refs[i] = refs[--nrefs];
			return 0;
		}
	return -1;
}

static void *
ref_lookup(sa_family_t af, const uint8_t *addr)
{
	struct prefix	 a;
	void		*best = NULL;
	int		 bestlen = -1;
	size_t		 i;

	memset(&a, 0, sizeof(a));
	a.af = af;
	a.plen = af == AF_INET ? 32 : 128;
	memcpy(a.addr, addr, af == AF_INET ? 4 : 16);
	for (i = 0; i < nrefs; i++)
		if (refs[i].p.plen > bestlen &&
		    prefix_contains(&refs[i].p, &a)) {
			best = refs[i].owner;
			bestlen = refs[i].p.plen;
		}
	return best;
}

static void
rnd_addr(sa_family_t af, uint8_t *a)
{
	/* A few dense regions, so prefixes overlap and nest a lot. */
	static const uint8_t	 firsts[] = { 0x00, 0x0a, 0xc0, 0xfd, 0xff };
	int			 i, n = af == AF_INET ? 4 : 16;

	memset(a, 0, 16);
	for (i = 0; i < n; i++)
		a[i] = random();
	a[0] = firsts[random() % sizeof(firsts)];
	if (random() % 2)
		a[1] &= 0x0f;
}

static void
rnd_prefix(sa_family_t af, struct prefix *p)
{
	int	 max = af == AF_INET ? 32 : 128;

	memset(p, 0, sizeof(*p));
	p->af = af;
	rnd_addr(af, p->addr);
	switch (random() % 4) {
	case 0:
		p->plen = random() % (max + 1);
		break;
	case 1:
		p->plen = random() % 17;
		break;
	case 2:
		p->plen = max - random() % 9;
		break;
	default:
		p->plen = 8 + random() % 17;
		break;
	}
}

/* A lookup address: random, or inside / just outside a known prefix. */
static void
rnd_lookup(sa_family_t af, uint8_t *a)
{
	struct prefix	*p;
	int		 i, n = af == AF_INET ? 4 : 16;

	rnd_addr(af, a);
	if (nrefs == 0 || random() % 3 == 0)
		return;
	p = &refs[random() % nrefs].p;
	if (p->af != af)
		return;
	for (i = 0; i < n; i++) {
		if ((i + 1) * 8 <= p->plen)
			a[i] = p->addr[i];
		else if (i * 8 < p->plen)
			a[i] = (p->addr[i] &
			    (0xff << (8 - (p->plen - i * 8)))) |
			    (a[i] & (0xff >> (p->plen - i * 8)));
	}
	/* Sometimes flip the last prefix bit to land right beside it. */
	if (p->plen > 0 && random() % 4 == 0)
		a[(p->plen - 1) / 8] ^= 0x80 >> ((p->plen - 1) % 8);
}

static int
compare_lookups(struct aip_table *t, int n, const char *what)
{
	uint8_t		 a[16];
	sa_family_t	 af;
	void		*got, *want;
	int		 i, bad = 0;
	char		 buf[64];
	struct prefix	 pa;

	for (i = 0; i < n; i++) {
		af = i % 2 ? AF_INET6 : AF_INET;
		rnd_lookup(af, a);
		got = aip_lookup(t, af, a);
		want = ref_lookup(af, a);
		if (got != want && bad++ < 5) {
			memset(&pa, 0, sizeof(pa));
			pa.af = af;
			memcpy(pa.addr, a, 16);
			diag("%s: %s got %p want %p", what,
			    addr_fmt(&pa, buf, sizeof(buf)), got, want);
		}
	}
	return ok(bad == 0, "%s: %d lookups match the reference", what, n);
}

struct walkctx {
	void	*owner;
	int	 bad;
	size_t	 n;
	struct prefix last;
};

static void
walk_cb(const struct prefix *p, void *arg)
{
	struct walkctx	*w = arg;
	size_t		 i;

	w->n++;
	for (i = 0; i < nrefs; i++)
		if (refs[i].p.af == p->af && refs[i].p.plen == p->plen &&
		    memcmp(refs[i].p.addr, p->addr, 16) == 0)
			break;
	if (i == nrefs || (w->owner != NULL && refs[i].owner != w->owner))
		w->bad++;
}

static void
compare_walks(struct aip_table *t, const char *what)
{
	struct walkctx	 w;
	size_t		 i, want, total = 0;
	int		 o, bad = 0;

	for (o = 0; o < NOWNERS; o++) {
		memset(&w, 0, sizeof(w));
		w.owner = &owners[o];
		for (i = 0, want = 0; i < nrefs; i++)
			if (refs[i].owner == w.owner)
				want++;
		if (aip_walk(t, w.owner, walk_cb, &w) != want || w.n != want ||
		    w.bad != 0)
			bad++;
		total += w.n;
	}
	memset(&w, 0, sizeof(w));
	ok(bad == 0 && total == nrefs &&
	    aip_walk(t, NULL, walk_cb, &w) == nrefs && w.bad == 0 &&
	    aip_count(t) == nrefs,
	    "%s: walks give each owner's %zu prefixes", what, nrefs);
}

static void *
lookup_str(struct aip_table *t, const char *s)
{
	struct prefix	 p;

	if (addr_parse(s, &p) == -1)
		abort();
	return aip_lookup(t, p.af, p.addr);
}

static int
insert_str(struct aip_table *t, const char *s, void *owner)
{
	struct prefix	 p;

	if (prefix_parse(s, &p) == -1)
		abort();
	return aip_insert(t, &p, owner);
}

static int
remove_str(struct aip_table *t, const char *s, void *owner)
{
	struct prefix	 p;

	if (prefix_parse(s, &p) == -1)
		abort();
	return aip_remove(t, &p, owner);
}

static void
collect_cb(const struct prefix *p, void *arg)
{
	char	*out = arg, buf[64];

	if (*out != '\0')
		strlcat(out, " ", 512);
	strlcat(out, prefix_fmt(p, buf, sizeof(buf)), 512);
}

int
main(void)
{
	struct aip_table	*t;
	struct prefix		 p;
	void			*A = &owners[0], *B = &owners[1];
	void			*C = &owners[2];
	char			 out[512];
	size_t			 i;
	int			 round, bad;

	plan(81);

	if ((t = aip_new()) == NULL)
		abort();
	ok(lookup_str(t, "10.0.0.1") == NULL, "empty table matches nothing");
	ok(lookup_str(t, "::1") == NULL, "empty v6 table matches nothing");

	ok(insert_str(t, "0.0.0.0/0", A) == 0, "insert 0.0.0.0/0 -> A");
	ok(lookup_str(t, "1.2.3.4") == A, "/0 matches any v4");
	ok(lookup_str(t, "255.255.255.255") == A, "/0 matches broadcast");
	ok(lookup_str(t, "::1") == NULL, "v4 /0 does not match v6");
	ok(insert_str(t, "10.0.0.0/8", B) == 0, "insert 10/8 -> B");
	ok(insert_str(t, "10.1.2.3/32", C) == 0, "insert 10.1.2.3/32 -> C");
	ok(insert_str(t, "10.1.0.0/16", A) == 0, "insert 10.1/16 -> A");
	ok(lookup_str(t, "10.1.2.3") == C, "/32 wins");
	ok(lookup_str(t, "10.1.2.4") == A, "/16 next");
	ok(lookup_str(t, "10.2.0.0") == B, "then /8");
	ok(lookup_str(t, "11.0.0.0") == A, "then /0");
	ok(insert_str(t, "10.1.2.99/16", B) == 0,
	    "re-insert 10.1/16 (host bits set) -> B");
	ok(lookup_str(t, "10.1.9.9") == B, "re-insert changed the owner");
	is_int(aip_count(t), 4, "still four prefixes");

	ok(insert_str(t, "::/0", C) == 0, "insert ::/0 -> C");
	ok(insert_str(t, "fd00::/8", A) == 0, "insert fd00::/8 -> A");
	ok(insert_str(t, "fd00::1/128", B) == 0, "insert fd00::1/128 -> B");
	ok(lookup_str(t, "fd00::1") == B, "/128 wins");
	ok(lookup_str(t, "fd00::2") == A, "/8 next");
	ok(lookup_str(t, "2001:db8::") == C, "then ::/0");
	ok(lookup_str(t, "10.1.2.3") == C, "v4 unaffected by v6");

	out[0] = '\0';
	is_int(aip_walk(t, A, collect_cb, out), 2, "A owns two prefixes");
	is_str(out, "0.0.0.0/0 fd00::/8", "walk gives A's prefixes");
	out[0] = '\0';
	aip_walk(t, NULL, collect_cb, out);
	is_str(out, "0.0.0.0/0 10.0.0.0/8 10.1.0.0/16 10.1.2.3/32 ::/0 "
	    "fd00::/8 fd00::1/128", "walk of all is ordered, outer first");

	ok(remove_str(t, "10.1.0.0/16", A) == -1,
	    "remove refuses a prefix the owner does not own");
	ok(lookup_str(t, "10.1.9.9") == B, "and leaves it");
	ok(remove_str(t, "10.3.0.0/16", B) == -1, "remove of absent fails");
	ok(remove_str(t, "10.1.0.0/16", B) == 0, "owner removes 10.1/16");
	ok(lookup_str(t, "10.1.9.9") == B, "10/8 takes over");
	ok(lookup_str(t, "10.1.2.3") == C, "the /32 below stays");
	ok(remove_str(t, "10.0.0.0/8", B) == 0, "remove 10/8");
	ok(lookup_str(t, "10.1.9.9") == A, "/0 takes over");
	ok(remove_str(t, "10.1.2.3/32", C) == 0, "remove the /32");
	ok(lookup_str(t, "10.1.2.3") == A, "/0 again");
	ok(remove_str(t, "10.1.2.3/32", C) == -1, "removing twice fails");

	aip_remove_owner(t, A);
	ok(lookup_str(t, "10.1.2.3") == NULL, "remove_owner drops the v4 /0");
	ok(lookup_str(t, "fd00::2") == C, "and fd00::/8 falls back to ::/0");
	ok(lookup_str(t, "fd00::1") == B, "other owners stay");
	is_int(aip_count(t), 2, "two prefixes left");

	p.af = AF_INET;
	p.plen = 33;
	ok(aip_insert(t, &p, A) == -1, "plen 33 refused");
	p.af = AF_UNIX;
	p.plen = 0;
	ok(aip_insert(t, &p, A) == -1, "bad family refused");
	p.af = AF_INET;
	ok(aip_insert(t, &p, NULL) == -1, "NULL owner refused");
	ok(aip_lookup(t, AF_UNIX, (const uint8_t *)"xxxxxxxxxxxxxxxx") == NULL,
	    "lookup in a bad family finds nothing");
	aip_free(t);

	/* Random tables against the brute-force reference. */
	for (round = 0; round < 3; round++) {
		if ((t = aip_new()) == NULL)
			abort();
		bad = 0;
		nrefs = 0;
		srandom(1000 + round);
		for (i = 0; i < 2500; i++) {
			void	*o = &owners[random() % NOWNERS];

			rnd_prefix(i % 2 ? AF_INET6 : AF_INET, &p);
			if (aip_insert(t, &p, o) == -1)
				bad++;
			ref_insert(&p, o);
		}
		ok(bad == 0, "round %d: %zu distinct prefixes inserted", round,
		    nrefs);
		compare_lookups(t, 20000, "after insert");
		compare_walks(t, "after insert");

		/* Remove some with the right owner, some with a wrong one. */
		bad = 0;
		for (i = 0; i < 1500 && nrefs > 0; i++) {
			struct ref	r = refs[random() % nrefs];
			void		*o = random() % 3 == 0 ?
			    &owners[random() % NOWNERS] : r.owner;
			int		 want = o == r.owner ? 0 : -1;

			/* Host bits are masked before the search. */
			if (r.p.plen <= 120 && random() % 2)
				r.p.addr[15] |= 1;
			if (aip_remove(t, &r.p, o) != want)
				bad++;
			if (ref_remove(&r.p, o) != want)
				bad++;
		}
		ok(bad == 0, "removes succeed exactly when owned (%zu left)",
		    nrefs);
		compare_lookups(t, 20000, "after remove");
		compare_walks(t, "after remove");

		aip_remove_owner(t, &owners[3]);
		aip_remove_owner(t, &owners[7]);
		for (i = 0; i < nrefs;)
			if (refs[i].owner == &owners[3] ||
			    refs[i].owner == &owners[7])
				refs[i] = refs[--nrefs];
			else
				i++;
		compare_lookups(t, 20000, "after remove_owner");
		compare_walks(t, "after remove_owner");

		/* Refill, so removed paths are rebuilt correctly. */
		for (i = 0; i < 1000; i++) {
			void	*o = &owners[random() % NOWNERS];

			rnd_prefix(i % 2 ? AF_INET6 : AF_INET, &p);
			aip_insert(t, &p, o);
			ref_insert(&p, o);
		}
		compare_lookups(t, 20000, "after refill");
		compare_walks(t, "after refill");

		for (i = 0; i < NOWNERS; i++)
			aip_remove_owner(t, &owners[i]);
		is_int(aip_count(t), 0, "every owner removed: empty");
		nrefs = 0;
		compare_lookups(t, 2000, "empty again");
		aip_free(t);
	}
	aip_free(NULL);

	return done_testing();
}
