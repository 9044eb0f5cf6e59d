# vpnd -- privilege-separated WireGuard VPN daemon
#
# make            build vpnd and vpnctl (warning-free, -Werror)
# make check      install missing packages, lint, build, run every test
#                 under prove
# make sanitize   build with ASan+UBSan and run the unit tests that way
# make demo       bring a tunnel up between two network namespaces
# make bench      vpnd against wireguard-go, side by side
# make fuzz       every libFuzzer harness for FUZZ_SECONDS (default 60) each
# make soak       1,000 activate/switch/rekey/deactivate cycles, no growth
# make memcheck   valgrind over a whole cycle (parent, then the children)
#                 and the children's unit tests
# make install    honours DESTDIR and PREFIX; creates the users vpnd runs as
# make deb        build the Debian package in a clean clone and check it
#
# Without the libraries (pkg-config does not find them), make stops before
# compiling with one line naming the missing packages: make deps.

VERSION =	0.1.0
PREFIX ?=	/usr/local
SBINDIR ?=	$(PREFIX)/sbin
LIBEXECDIR ?=	$(PREFIX)/libexec
BINDIR ?=	$(PREFIX)/bin
MANDIR ?=	$(PREFIX)/share/man
SYSCONFDIR ?=	/etc
UNITDIR ?=	/lib/systemd/system
POLKITDIR ?=	/usr/share/polkit-1/rules.d
DBUSPOLICYDIR ?=	/usr/share/dbus-1/system.d
DBUSSERVICEDIR ?=	/usr/share/dbus-1/system-services
BASHCOMPDIR ?=	$(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC ?=		cc
PKG_CONFIG ?=	pkg-config
PKGS =		libevent libevent_pthreads libsodium libcrypto libbsd-overlay json-c \
		libcap-ng libseccomp libmnl libnftnl libsystemd

ifeq ($(TESTHOOKS),1)
B ?=		build-test
SANFLAGS =	-DVPND_TESTHOOKS
OPT ?=		-O2 -g
else ifeq ($(FUZZ),1)
B ?=		build-fuzz
CC =		clang
SANFLAGS =	-fsanitize=fuzzer-no-link,address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all
# clang counts vprintf-style wrappers as non-literal formats; gcc does not.
EXTRA_CFLAGS +=	-Wno-format-nonliteral
OPT ?=		-O1 -g
else ifeq ($(SANITIZE),1)
B ?=		build-asan
SANFLAGS =	-fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=all
OPT ?=		-O1 -g
else ifeq ($(TSAN),1)
# gcc warns that TSan does not model atomic_thread_fence (tunworker's
# sleep/wake hand-shake uses seq_cst fences beside seq_cst atomics, which
# it does model); -Werror made that warning stop the build.
B ?=		build-tsan
SANFLAGS =	-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
OPT ?=		-O1 -g
else
B ?=		build
SANFLAGS =
OPT ?=		-O2 -g
endif

# vpnctl links only what a client needs: no daemon library.
CTL_PKGS =	libsodium libbsd-overlay json-c

PKG_CFLAGS :=	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS :=	$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CTL_PKG_LIBS :=	$(shell $(PKG_CONFIG) --libs $(CTL_PKGS) 2>/dev/null)

CFLAGS ?=	$(OPT)
CFLAGS +=	-std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
		-Wshadow -Wformat=2 -fstack-protector-strong \
		-D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DVPND_VERSION=\"$(VERSION)\" \
		$(PKG_CFLAGS) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS +=	$(SANFLAGS) -pthread
LDLIBS +=	$(PKG_LIBS) -lm

# Each folder sees only itself and common/: what two processes share lives
# in common/, and a reach into another folder is a compile error. Only
# parent/vpnd.c, which execs the children, sees their entry headers. Tests
# see what they test.
FOLDERS =	parent netmgr tunworker dnsmgr vpnctl
$(B)/obj/common/%.o: INC = -Icommon
$(foreach d,$(FOLDERS),$(eval $$(B)/obj/$(d)/%.o: INC = -I$(d) -Icommon))
$(B)/obj/parent/vpnd.o: INC = -Iparent -Icommon
# Where an installed vpnd finds its children (a build tree's vpnd takes
# the ones next to it).
$(B)/obj/parent/parent.o: INC = -Iparent -Icommon \
	-DVPND_LIBEXECDIR=\"$(LIBEXECDIR)/vpnd\"
$(B)/obj/regress/%.o: INC = -Iregress/lib -Icommon $(addprefix -I,$(FOLDERS))

# Two archives: common/ (which vpnctl shares) and the daemon's folders.
# Unit tests link exactly the code the daemon runs.
COMMON_SRCS :=	$(wildcard common/*.c)
LIB_SRCS :=	$(filter-out parent/vpnd.c, \
		$(wildcard parent/*.c netmgr/*.c tunworker/*.c dnsmgr/*.c))
CTL_SRCS :=	$(filter-out vpnctl/vpnctl.c, $(wildcard vpnctl/*.c))
TAP_SRCS :=	$(wildcard regress/lib/*.c)
UNIT_SRCS :=	$(wildcard regress/unit/*/t_*.c)

COMMON_OBJS :=	$(COMMON_SRCS:%.c=$(B)/obj/%.o)
LIB_OBJS :=	$(LIB_SRCS:%.c=$(B)/obj/%.o)
CTL_OBJS :=	$(CTL_SRCS:%.c=$(B)/obj/%.o)
TAP_OBJS :=	$(TAP_SRCS:%.c=$(B)/obj/%.o)
UNIT_NAMES :=	$(foreach t,$(UNIT_SRCS),regress/$(basename $(notdir $(t)))) \
		regress/t_datapath_pool
UNIT_BINS :=	$(addprefix $(B)/,$(UNIT_NAMES))
# Unit files that need root and make a private network namespace (veths,
# nftables, TUN devices in it): make check-sys, not make check-unit.
SYS_NAMES :=	regress/t_sys_nft regress/t_sys_netlink
PLAIN_NAMES :=	$(filter-out $(SYS_NAMES),$(UNIT_NAMES))
E2E_TESTS :=	$(sort $(wildcard regress/e2e/*.t))
CONF_TESTS :=	regress/conf/conf.t
# every fault in regress/mutate/mutations still applies (no build: fast)
MUT_TESTS :=	regress/mutate/applies.t
FUZZ_SRCS :=	$(wildcard regress/fuzz/f_*.c)
FUZZ_BINS :=	$(FUZZ_SRCS:regress/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?=	60

.PHONY: all deps builddeps deb deb-deps check check-unit check-e2e sanitize demo bench install \
	uninstall clean lint unit-bins fuzz fuzz-bins golden mutate tsan \
	check-sys sandbox-approve soak memcheck
.DEFAULT_GOAL := all

# Each child is an executable of its own, parent/vpnd.c compiled with
# VPND_CHILD=<name>: linked --as-needed, it maps only the libraries its
# own code calls (a process pays for every library it maps, in memory and
# start-up relocations, used or not).
CHILDREN =	netmgr tunworker dnsmgr
CHILD_BINS :=	$(addprefix $(B)/vpnd-,$(CHILDREN))

all: $(B)/vpnd $(CHILD_BINS) $(B)/vpnctl $(B)/hsgen

deps:
	@sh scripts/deps.sh

# The Debian package: make deb builds it in a clean clone of HEAD and
# checks it (regress/pkg/deb.t). Not part of make check: it compiles
# everything once more and needs debhelper and lintian.
deb-deps:
	@sh scripts/deps.sh deb

deb: deb-deps
	prove -v regress/pkg/deb.t

# Before anything compiles: one clear line naming what is missing.
builddeps:
	@PKG_CONFIG='$(PKG_CONFIG)' sh scripts/builddeps.sh $(PKGS)

$(B)/obj/%.o: %.c | builddeps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -MMD -MP -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/libvpnd.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/libvpnctl.a: $(CTL_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/libtap.a: $(TAP_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/vpnd: $(B)/obj/parent/vpnd.o $(B)/libvpnd.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(LDLIBS)

CHILD_OBJS :=	$(CHILDREN:%=$(B)/obj/parent/vpnd-%.o)
$(CHILD_OBJS): $(B)/obj/parent/vpnd-%.o: parent/vpnd.c | builddeps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iparent -Icommon -I$* -DVPND_CHILD=$* -MMD -MP \
		-c -o $@ $<

$(CHILD_BINS): $(B)/vpnd-%: $(B)/obj/parent/vpnd-%.o $(B)/libvpnd.a \
    $(B)/libcommon.a
	$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(LDLIBS)

$(B)/vpnctl: $(B)/obj/vpnctl/vpnctl.o $(B)/libvpnctl.a $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CTL_PKG_LIBS)

# Test and benchmark tool (not installed): many key pairs at once, and a
# stream of valid handshake initiations from many peers (bench_scale.sh).
$(B)/hsgen: $(B)/obj/scripts/hsgen.o $(B)/obj/tunworker/blake2s.o
	$(CC) $(LDFLAGS) -o $@ $^ -lsodium

define unit_rule
$(B)/regress/$(basename $(notdir $(1))): $(B)/obj/$(basename $(1)).o \
    $(B)/libtap.a $(B)/libvpnctl.a $(B)/libvpnd.a $(B)/libcommon.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call unit_rule,$(t))))

# t_datapath_pool: t_datapath's full UDP GRO receive against a data path
# whose pool is one buffer short of it (udp-rx runs dry mid-receive).
POOL_FLAGS =	-DDP_POOL='(DP_RING + 4 * DP_BATCH - 1)' -DDP_SMALL_POOL
$(B)/obj/pool/datapath.o: tunworker/datapath.c | builddeps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(POOL_FLAGS) -Itunworker -Icommon -MMD -MP -c -o $@ $<
$(B)/obj/pool/t_datapath.o: regress/unit/wgdata/t_datapath.c | builddeps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(POOL_FLAGS) -Iregress/lib -Icommon \
		$(addprefix -I,$(FOLDERS)) -MMD -MP -c -o $@ $<
$(B)/regress/t_datapath_pool: $(B)/obj/pool/t_datapath.o \
    $(B)/obj/pool/datapath.o $(B)/libtap.a $(B)/libvpnctl.a $(B)/libvpnd.a \
    $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit-bins: $(UNIT_BINS)

# libFuzzer harnesses: clang, ASan+UBSan, against the same archive.
$(B)/fuzz/%: regress/fuzz/%.c $(B)/libvpnd.a $(B)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iregress/lib -Iregress/unit/wg -Icommon \
		$(addprefix -I,$(FOLDERS)) -fsanitize=fuzzer -MMD -MP -o $@ \
		$(filter %.c %.a,$^) \
		$(LDFLAGS) $(LDLIBS)

fuzz-bins:
	$(MAKE) -j2 FUZZ=1 $(FUZZ_SRCS:regress/fuzz/%.c=build-fuzz/fuzz/%)

fuzz: deps fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) prove -v regress/fuzz/fuzz.t

# Unit tests run twice: the normal build and the ASan+UBSan build.
# End-to-end tests need root and network namespaces; they use build/.
check: deps lint
	@if [ -n "$${VPNCTL_REGEN+x}$${VPNCTL_GOLDEN_UPDATE+x}" ]; then \
		echo 'VPNCTL_REGEN/VPNCTL_GOLDEN_UPDATE are gone: make golden'; \
		exit 1; fi
	@echo '== building (normal, test-hook and ASan+UBSan builds)'
	$(MAKE) -j2 all unit-bins
	$(MAKE) -j2 TESTHOOKS=1 all
	$(MAKE) -j2 SANITIZE=1 unit-bins
	$(MAKE) fuzz-bins
	VPND_BUILD=$(CURDIR)/build sh regress/lib/prove-noskip.sh --timer \
		$(addprefix build/,$(UNIT_NAMES)) \
		$(addprefix build-asan/,$(UNIT_NAMES)) regress/fuzz/fuzz.t \
		regress/unit/wg/kat.t $(CONF_TESTS) $(MUT_TESTS) $(E2E_TESTS)

# The long soak (regress/e2e/soak.t runs a short one in make check).
SOAK_CYCLES ?=	1000
soak: all
	$(MAKE) -j2 TESTHOOKS=1 all
	SOAK_CYCLES=$(SOAK_CYCLES) VPND_BUILD=$(CURDIR)/build \
		prove -v regress/e2e/soak.t

# valgrind memcheck over an activate/traffic/rekey/deactivate cycle.
memcheck: all unit-bins
	$(MAKE) -j2 TESTHOOKS=1 all
	VPND_BUILD=$(CURDIR)/build prove -v regress/memcheck/memcheck.t

# After a reviewed change to a child's seccomp list or Landlock rules:
# rewrite regress/sandbox.approved (exits non-zero; commit the file).
sandbox-approve: all
	$(MAKE) -j2 TESTHOOKS=1 all
	SANDBOX_APPROVE=1 VPND_BUILD=$(CURDIR)/build \
		bash regress/e2e/sandbox.t; exit 1

check-unit: all unit-bins
	VPND_BUILD=$(CURDIR)/$(B) prove -f $(addprefix $(B)/,$(PLAIN_NAMES)) \
		$(CONF_TESTS) $(MUT_TESTS)

check-sys: all unit-bins
	sh regress/lib/prove-noskip.sh $(addprefix $(B)/,$(SYS_NAMES))

check-e2e: all
	$(MAKE) -j2 TESTHOOKS=1 all
	VPND_BUILD=$(CURDIR)/build prove -f --timer $(or $(T),$(E2E_TESTS))

# Golden files are rewritten only here, never by a test run: each run
# leaves what it printed under golden-got/; this copies it over the golden
# files and fails on purpose, so a regeneration never passes for a test.
golden: all unit-bins
	rm -rf $(B)/regress/golden-got $(B)/golden-got
	-$(B)/regress/t_ctl_output >/dev/null
	cp $(B)/regress/golden-got/ctl/*.ok regress/unit/ctl/golden/
	-VPND_BUILD=$(CURDIR)/$(B) $(CONF_TESTS) -update
	if [ "$$(id -u)" = 0 ]; then \
		$(MAKE) -j2 TESTHOOKS=1 all; \
		VPND_BUILD=$(CURDIR)/$(B) prove regress/e2e/vpnctl.t; \
		cp $(B)/golden-got/vpnctl/* regress/e2e/golden/vpnctl/; \
	else echo 'not root: the end-to-end golden files were not rewritten'; fi
	git status --short regress/unit/ctl/golden regress/e2e/golden \
	    regress/conf
	@echo 'golden files rewritten: review them with git diff; failing on purpose'
	@exit 1

# The data-path unit tests (threads on one device, the per-thread
# crypto, the shared tables) under ThreadSanitizer.
TSAN_TESTS =	t_wg_handshake t_wg_hostile t_wg_cookie t_allowedips t_datapath \
		t_replay t_offload t_aead
tsan:
	$(MAKE) -j2 TSAN=1 $(addprefix build-tsan/regress/,$(TSAN_TESTS))
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 prove -f \
		$(addprefix build-tsan/regress/,$(TSAN_TESTS))

# Not part of check (it rebuilds once per fault): every fault listed in
# regress/mutate/mutations must be killed by the tests it names.
mutate:
	python3 regress/mutate/mutate.py

sanitize:
	$(MAKE) SANITIZE=1 all unit-bins
	prove -f $(addprefix build-asan/,$(PLAIN_NAMES))

demo: deps
	$(MAKE) all
	sh scripts/demo.sh

bench: deps
	$(MAKE) all
	bash scripts/bench.sh
	bash scripts/bench_flood.sh
	bash scripts/bench_scale.sh

# The manual pages, and the syntax of every shell script and test.
lint:
	for m in man/*.[0-9]; do mandoc -Tlint -Wwarning $$m || exit 1; done
	for s in scripts/*.sh regress/lib/e2e.sh etc/bash-completion/* regress/e2e/*.t \
	    regress/conf/*.t regress/fuzz/*.t regress/pkg/*.t; do bash -n $$s || exit 1; done
	# the C that make bench compiles on the fly
	$(CC) -fsyntax-only -Wall -Wextra -Werror -D_GNU_SOURCE -Itunworker scripts/flood.c
	$(CC) -fsyntax-only -Wall -Wextra -Werror -D_GNU_SOURCE scripts/wakeup.c

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/vpnd
	install -m 0755 $(B)/vpnd $(DESTDIR)$(SBINDIR)/vpnd
	install -d $(DESTDIR)$(LIBEXECDIR)/vpnd
	for c in $(CHILDREN); do \
		install -m 0755 $(B)/vpnd-$$c \
		    $(DESTDIR)$(LIBEXECDIR)/vpnd/vpnd-$$c || exit 1; \
	done
	install -m 0755 $(B)/vpnctl $(DESTDIR)$(BINDIR)/vpnctl
	install -m 0644 man/vpnd.8 man/vpnctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/vpnd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	if [ -f etc/vpnd.service ]; then \
		install -d $(DESTDIR)$(UNITDIR); \
		sed 's,@SBINDIR@,$(SBINDIR),g' etc/vpnd.service \
		    > $(DESTDIR)$(UNITDIR)/vpnd.service; fi
	install -d $(DESTDIR)$(POLKITDIR)
	install -m 0644 etc/vpnd-resolved.rules \
		$(DESTDIR)$(POLKITDIR)/50-vpnd-resolved.rules
	install -d $(DESTDIR)$(DBUSPOLICYDIR) $(DESTDIR)$(DBUSSERVICEDIR)
	install -m 0644 etc/org.mozilla.vpn.dbus.conf $(DESTDIR)$(DBUSPOLICYDIR)/
	install -m 0644 etc/org.mozilla.vpn.dbus.service \
		$(DESTDIR)$(DBUSSERVICEDIR)/
	if [ -f etc/vpnd.conf.example ]; then \
		install -m 0600 etc/vpnd.conf.example \
		    $(DESTDIR)$(SYSCONFDIR)/vpnd/vpnd.conf.example; fi
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 etc/bash-completion/vpnctl $(DESTDIR)$(BASHCOMPDIR)/vpnctl
	install -m 0644 etc/bash-completion/vpnctl $(DESTDIR)$(BASHCOMPDIR)/vpnd
	install -d $(DESTDIR)$(PREFIX)/share/vpnd
	for f in etc/vpnd.rc etc/org.vpnd.plist; do \
		[ -f $$f ] && sed 's,@SBINDIR@,$(SBINDIR),g' $$f \
		    > $(DESTDIR)$(PREFIX)/share/vpnd/$${f#etc/}; done; true
	chmod 0755 $(DESTDIR)$(PREFIX)/share/vpnd/vpnd.rc 2>/dev/null || true
	if [ -z "$(DESTDIR)" ]; then sh scripts/mkuser.sh; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vpnd $(DESTDIR)$(BINDIR)/vpnctl \
		$(CHILDREN:%=$(DESTDIR)$(LIBEXECDIR)/vpnd/vpnd-%) \
		$(DESTDIR)$(MANDIR)/man8/vpnd.8 \
		$(DESTDIR)$(MANDIR)/man8/vpnctl.8 \
		$(DESTDIR)$(MANDIR)/man5/vpnd.conf.5 \
		$(DESTDIR)$(UNITDIR)/vpnd.service \
		$(DESTDIR)$(POLKITDIR)/50-vpnd-resolved.rules \
		$(DESTDIR)$(DBUSPOLICYDIR)/org.mozilla.vpn.dbus.conf \
		$(DESTDIR)$(DBUSSERVICEDIR)/org.mozilla.vpn.dbus.service \
		$(DESTDIR)$(SYSCONFDIR)/vpnd/vpnd.conf.example \
		$(DESTDIR)$(PREFIX)/share/vpnd/vpnd.rc \
		$(DESTDIR)$(BASHCOMPDIR)/vpnctl $(DESTDIR)$(BASHCOMPDIR)/vpnd \
		$(DESTDIR)$(PREFIX)/share/vpnd/org.vpnd.plist

clean:
	rm -rf build build-asan build-test build-fuzz build-tsan

-include $(COMMON_OBJS:.o=.d) $(LIB_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(TAP_OBJS:.o=.d)
-include $(wildcard $(B)/fuzz/*.d)
-include $(wildcard $(B)/obj/regress/unit/*/*.d) $(B)/obj/parent/vpnd.d \
	$(wildcard $(CHILDREN:%=$(B)/obj/parent/vpnd-%.d)) \
	$(B)/obj/vpnctl/vpnctl.d
