/*
 * allowedips.c -- longest-prefix match over a path-compressed binary trie.
 *
 * Every node carries its full key and length.  A node with an owner is a
 * prefix somebody routes; a node without one only joins two subtrees that
 * part ways at its length, so a trie of n prefixes has fewer than 2n nodes
 * and is at most 129 levels deep.  Lookups walk down, remember the last
 * owned node that matched, and allocate nothing.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "config.h"
#include "allowedips.h"

struct aip_node {
	struct aip_node	*n_child[2];
	struct aip_node	*n_parent;
	void		*n_owner;	/* NULL: a join node */
	uint8_t		 n_key[16];	/* masked to n_plen */
	uint8_t		 n_plen;
};

struct aip_table {
	struct aip_node	*t_root4;
	struct aip_node	*t_root6;
	size_t		 t_count;	/* owned nodes */
};

/*
 * Bound of the explicit stacks of the walks: lengths strictly grow down a
 * path, so it has at most 129 nodes, and a walk keeps at most one pending
 * sibling per level.
 */
#define AIP_MAXDEPTH	(128 + 2)

static int		 af_maxbits(sa_family_t);
static struct aip_node	**root_of(struct aip_table *, sa_family_t);
static inline int	 bit_at(const uint8_t *, unsigned int);
static inline int	 key_matches(const struct aip_node *, const uint8_t *);
static unsigned int	 common_bits(const uint8_t *, const uint8_t *,
			    unsigned int);
static struct aip_node	**slot_of(struct aip_table *, sa_family_t,
			    struct aip_node *);
static void		 node_unlink(struct aip_table *, sa_family_t,
			    struct aip_node *);
static void		 tree_free(struct aip_node *);
static size_t		 tree_walk(struct aip_node *, sa_family_t, void *,
			    void (*)(const struct prefix *, void *), void *);
static struct aip_node	*tree_prune(struct aip_table *, struct aip_node *,
			    void *);

static int
af_maxbits(sa_family_t af)
{
	if (af == AF_INET)
		return 32;
	if (af == AF_INET6)
		return 128;
	return -1;
}

static struct aip_node **
root_of(struct aip_table *t, sa_family_t af)
{
	return af == AF_INET ? &t->t_root4 : &t->t_root6;
}

static inline int
bit_at(const uint8_t *key, unsigned int i)
{
	return (key[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Whether the first n_plen bits of addr equal the node's key. */
static inline int
key_matches(const struct aip_node *n, const uint8_t *addr)
{
	unsigned int	 bytes = n->n_plen >> 3, rest = n->n_plen & 7;

	if (memcmp(n->n_key, addr, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((n->n_key[bytes] ^ addr[bytes]) & (0xff << (8 - rest)) &
	    0xff) == 0;
}

/* The number of leading bits a and b share, at most max. */
static unsigned int
common_bits(const uint8_t *a, const uint8_t *b, unsigned int max)
{
	unsigned int	 i, n = 0;
	uint8_t		 x;

	for (i = 0; i < 16 && n < max; i++) {
		if ((x = a[i] ^ b[i]) == 0) {
			n += 8;
			continue;
		}
		n += __builtin_clz((unsigned int)x) -
		    (sizeof(unsigned int) - 1) * 8;
		break;
	}
	return MINIMUM(n, max);
}

/* The pointer that points at n: its parent's child slot, or the root. */
static struct aip_node **
slot_of(struct aip_table *t, sa_family_t af, struct aip_node *n)
{
	struct aip_node	*p = n->n_parent;

	if (p == NULL)
		return root_of(t, af);
	return &p->n_child[p->n_child[1] == n];
}

struct aip_table *
aip_new(void)
{
	return calloc(1, sizeof(struct aip_table));
}

static void
tree_free(struct aip_node *root)
{
	struct aip_node	*stack[AIP_MAXDEPTH], *n;
	int		 sp = 0;

	if (root != NULL)
		stack[sp++] = root;
	while (sp > 0) {
		n = stack[--sp];
		if (n->n_child[0] != NULL)
			stack[sp++] = n->n_child[0];
		if (n->n_child[1] != NULL)
			stack[sp++] = n->n_child[1];
		free(n);
	}
}

void
aip_free(struct aip_table *t)
{
	if (t == NULL)
		return;
	tree_free(t->t_root4);
	tree_free(t->t_root6);
	free(t);
}

int
aip_insert(struct aip_table *t, const struct prefix *pfx, void *owner)
{
	struct aip_node	**slot, *down, *parent, *n, *join;
	struct prefix	  m;
	unsigned int	  cb;
	int		  maxbits;

	if ((maxbits = af_maxbits(pfx->af)) == -1 || pfx->plen > maxbits ||
	    owner == NULL) {
		errno = EINVAL;
		return -1;
	}
	m = *pfx;
	prefix_mask(&m);

	/* Descend while the node is a prefix of the new key. */
	parent = NULL;
	slot = root_of(t, m.af);
	down = *slot;
	while (down != NULL && down->n_plen <= m.plen &&
	    key_matches(down, m.addr)) {
		if (down->n_plen == m.plen) {
			if (down->n_owner == NULL)
				t->t_count++;
			down->n_owner = owner;
			return 0;
		}
		parent = down;
		slot = &down->n_child[bit_at(m.addr, down->n_plen)];
		down = *slot;
	}

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -1;
	memcpy(n->n_key, m.addr, sizeof(n->n_key));
	n->n_plen = m.plen;
	n->n_owner = owner;

	if (down == NULL) {
		n->n_parent = parent;
		*slot = n;
		t->t_count++;
		return 0;
	}

	cb = common_bits(down->n_key, m.addr, MINIMUM(down->n_plen, m.plen));
	if (cb == m.plen) {
		/* The new prefix sits above down. */
		n->n_parent = parent;
		n->n_child[bit_at(down->n_key, m.plen)] = down;
		down->n_parent = n;
		*slot = n;
		t->t_count++;
		return 0;
	}

	/* They part ways at bit cb: join them under a node of length cb. */
	if ((join = calloc(1, sizeof(*join))) == NULL) {
		free(n);
		return -1;
	}
	join->n_plen = cb;
	m.plen = cb;
	prefix_mask(&m);
	memcpy(join->n_key, m.addr, sizeof(join->n_key));
	join->n_parent = parent;
	join->n_child[bit_at(down->n_key, cb)] = down;
	join->n_child[bit_at(n->n_key, cb)] = n;
	down->n_parent = join;
	n->n_parent = join;
	*slot = join;
	t->t_count++;
	return 0;
}

/*
 * n has lost its owner: drop it, and a join node above it that is left
 * with one child, so every join node keeps joining two subtrees.
 */
static void
node_unlink(struct aip_table *t, sa_family_t af, struct aip_node *n)
{
	struct aip_node	*child, *parent;

	while (n != NULL && n->n_owner == NULL &&
	    (n->n_child[0] == NULL || n->n_child[1] == NULL)) {
		child = n->n_child[0] != NULL ? n->n_child[0] : n->n_child[1];
		parent = n->n_parent;
		*slot_of(t, af, n) = child;
		if (child != NULL)
			child->n_parent = parent;
		free(n);
		/* Only a parent that lost its last-but-one child can go. */
		n = child == NULL ? parent : NULL;
	}
}

int
aip_remove(struct aip_table *t, const struct prefix *pfx, void *owner)
{
	struct aip_node	*n;
	struct prefix	 m;
	int		 maxbits;

	if ((maxbits = af_maxbits(pfx->af)) == -1 || pfx->plen > maxbits) {
		errno = EINVAL;
		return -1;
	}
	m = *pfx;
	prefix_mask(&m);
	n = *root_of(t, m.af);
	while (n != NULL && n->n_plen < m.plen && key_matches(n, m.addr))
		n = n->n_child[bit_at(m.addr, n->n_plen)];
	if (n == NULL || n->n_plen != m.plen || !key_matches(n, m.addr) ||
	    n->n_owner == NULL || n->n_owner != owner) {
		errno = ENOENT;
		return -1;
	}
	n->n_owner = NULL;
	t->t_count--;
	node_unlink(t, m.af, n);
	return 0;
}

/*
 * Clears owner below n and returns what replaces n: itself, its only child
 * once it became an ownerless join of one subtree, or NULL.  Recursion is
 * bounded by the trie's depth (129).
 */
static struct aip_node *
tree_prune(struct aip_table *t, struct aip_node *n, void *owner)
{
	struct aip_node	*c0, *c1, *child;

	if (n == NULL)
		return NULL;
	n->n_child[0] = c0 = tree_prune(t, n->n_child[0], owner);
	n->n_child[1] = c1 = tree_prune(t, n->n_child[1], owner);
	if (c0 != NULL)
		c0->n_parent = n;
	if (c1 != NULL)
		c1->n_parent = n;
	if (n->n_owner == owner) {
		n->n_owner = NULL;
		t->t_count--;
	}
	if (n->n_owner != NULL || (c0 != NULL && c1 != NULL))
		return n;
	child = c0 != NULL ? c0 : c1;
	if (child != NULL)
		child->n_parent = n->n_parent;
	free(n);
	return child;
}

void
aip_remove_owner(struct aip_table *t, void *owner)
{
	if (owner == NULL)
		return;
	t->t_root4 = tree_prune(t, t->t_root4, owner);
	t->t_root6 = tree_prune(t, t->t_root6, owner);
}

void *
aip_lookup(const struct aip_table *t, sa_family_t af, const uint8_t *addr)
{
	const struct aip_node	*n;
	void			*best = NULL;

	if (af == AF_INET)
		n = t->t_root4;
	else if (af == AF_INET6)
		n = t->t_root6;
	else
		return NULL;
	while (n != NULL && key_matches(n, addr)) {
		if (n->n_owner != NULL)
			best = n->n_owner;
		if (n->n_plen == (af == AF_INET ? 32 : 128))
			break;
		n = n->n_child[bit_at(addr, n->n_plen)];
	}
	return best;
}

static size_t
tree_walk(struct aip_node *root, sa_family_t af, void *owner,
    void (*cb)(const struct prefix *, void *), void *arg)
{
	struct aip_node	*stack[AIP_MAXDEPTH], *n;
	struct prefix	 p;
	size_t		 count = 0;
	int		 sp = 0;

	if (root != NULL)
		stack[sp++] = root;
	while (sp > 0) {
		n = stack[--sp];
		if (n->n_owner != NULL && (owner == NULL ||
		    n->n_owner == owner)) {
			memset(&p, 0, sizeof(p));
			p.af = af;
			p.plen = n->n_plen;
			memcpy(p.addr, n->n_key, sizeof(p.addr));
			if (cb != NULL)
				cb(&p, arg);
			count++;
		}
		/* Right first, so the left subtree comes out first. */
		if (n->n_child[1] != NULL)
			stack[sp++] = n->n_child[1];
		if (n->n_child[0] != NULL)
			stack[sp++] = n->n_child[0];
	}
	return count;
}

size_t
aip_walk(const struct aip_table *t, void *owner,
    void (*cb)(const struct prefix *, void *), void *arg)
{
	return tree_walk(t->t_root4, AF_INET, owner, cb, arg) +
	    tree_walk(t->t_root6, AF_INET6, owner, cb, arg);
}

size_t
aip_count(const struct aip_table *t)
{
	return t->t_count;
}
