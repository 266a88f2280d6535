# spool: one plain Makefile.
#
#   make            build libspool and the programs into build/
#   make check      install missing Debian packages, build with ASan and UBSan
#                   into build/san/, run every test
#   make run        install missing packages, build, make a demo spool in demo/
#   make bench      the benchmarks of BENCHMARKS.md (slow; not part of check)
#   make install    PREFIX, DESTDIR, MANDIR as usual

.DELETE_ON_ERROR:
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share/spool
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSTEMDUNITDIR ?= $(LIBDIR)/systemd/system

VERSION = 0.1.0
SOVERSION = 0

# Debian packages: to build, and to run the tests.
PKGS_BUILD = gcc make pkg-config libc6-dev libxml2-dev libinih-dev libsystemd-dev
PKGS_TEST = libcmocka-dev libxml2-utils mandoc python3

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
DEPS_CFLAGS := $(shell pkg-config --cflags libxml-2.0 inih 2>/dev/null)
DEPS_LIBS := $(shell pkg-config --libs libxml-2.0 inih 2>/dev/null)

ifeq ($(SAN),1)
B = build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS = -O1 -g
else
B = build
SANFLAGS =
endif

ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -fPIC $(WARN) $(DEPS_CFLAGS) $(SANFLAGS) $(CFLAGS) -Ilib
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC = lib/util.c lib/sys.c lib/publish.c lib/order.c lib/conf.c lib/layout.c \
	lib/history.c lib/move.c lib/bundle.c lib/check.c
LIB_OBJ = $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/embed.o
EMBED = workflows/print.conf workflows/email.conf workflows/pos.conf \
	schemas/order.xsd schemas/upload.xsd
CTL_OBJ = $(B)/obj/spoolctl/spoolctl.o $(B)/obj/spoolctl/json.o
D_SRC = spoold/main.c spoold/engine.c spoold/watch.c spoold/jobs.c spoold/queue.c spoold/log.c \
	spoold/sync.c
D_OBJ = $(D_SRC:%.c=$(B)/obj/%.o)
SYSTEMD_CFLAGS := $(shell pkg-config --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)

UNIT = test_util test_publish test_order test_conf test_history test_move \
	test_bundle test_check test_fault
UNIT_BIN = $(UNIT:%=$(B)/tests/%)
UNIT_OBJ = $(UNIT:%=$(B)/obj/tests/%.o) $(B)/obj/tests/fault.o

MAN = spoolctl/spoolctl.1 spool-layout/spool-layout.5 spool-layout/spool.conf.5 spoold/spoold.8

all: $(B)/libspool.a $(B)/libspool.so.$(SOVERSION) $(B)/spoolctl $(B)/spoold

$(LIB_SRC:%.c=$(B)/obj/%.o): $(B)/obj/lib/%.o: lib/%.c lib/spool.h lib/internal.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj/embed.c: mk/embed $(EMBED:%=spool-layout/%)
	@mkdir -p $(@D)
	mk/embed $@ $(foreach f,$(EMBED),$(f)=spool-layout/$(f))

$(B)/obj/embed.o: $(B)/obj/embed.c lib/internal.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libspool.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(B)/libspool.so.$(SOVERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libspool.so.$(SOVERSION) $(ALL_LDFLAGS) -o $@ $(LIB_OBJ) \
		$(DEPS_LIBS)

$(B)/spoolctl: $(CTL_OBJ) $(B)/libspool.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJ) $(B)/libspool.a $(DEPS_LIBS)

$(D_OBJ): $(B)/obj/spoold/%.o: spoold/%.c spoold/spoold.h spoold/log.h lib/spool.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SYSTEMD_CFLAGS) -c -o $@ $<

$(B)/spoold: $(D_OBJ) $(B)/libspool.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(D_OBJ) $(B)/libspool.a $(DEPS_LIBS) $(SYSTEMD_LIBS)

$(CTL_OBJ): $(B)/obj/spoolctl/%.o: spoolctl/%.c spoolctl/json.h lib/spool.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(UNIT_OBJ): $(B)/obj/tests/%.o: tests/unit/%.c tests/unit/fault.h lib/spool.h lib/internal.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -c -o $@ $<

$(UNIT_BIN): $(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/fault.o $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/obj/tests/fault.o $(B)/libspool.a $(DEPS_LIBS) \
		$(shell pkg-config --libs cmocka)

$(B)/tests/mkspool: bench/mkspool.c $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libspool.a $(DEPS_LIBS)

$(B)/tests/pipe: bench/pipe.c $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libspool.a $(DEPS_LIBS)

$(B)/tests/spawn: bench/spawn.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

tests: all $(UNIT_BIN) $(B)/tests/mkspool $(B)/tests/pipe $(B)/tests/spawn

deps:
	@mk/deps $(PKGS_BUILD)

deps-test:
	@mk/deps $(PKGS_BUILD) $(PKGS_TEST)

check: deps-test
	$(MAKE) SAN=1 tests
	tests/run build/san

run: deps
	$(MAKE) all
	mk/demo build demo
	mk/run-demo build demo

bench: deps-test
	$(MAKE) tests
	bench/run build

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(DATADIR)/workflows \
		$(DESTDIR)$(DATADIR)/schemas $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/spoolctl $(DESTDIR)$(BINDIR)/spoolctl
	install -m 755 $(B)/spoold $(DESTDIR)$(SBINDIR)/spoold
	install -m 644 $(B)/libspool.a $(DESTDIR)$(LIBDIR)/libspool.a
	install -m 755 $(B)/libspool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libspool.so.$(SOVERSION)
	ln -sf libspool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libspool.so
	install -m 644 lib/spool.h $(DESTDIR)$(INCLUDEDIR)/spool.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		lib/libspool.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libspool.pc
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' spool-layout/spoold@.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/spoold@.service
	install -m 644 spool-layout/workflows/*.conf $(DESTDIR)$(DATADIR)/workflows/
	install -m 644 spool-layout/schemas/*.xsd $(DESTDIR)$(DATADIR)/schemas/
	cp -R spool-layout/examples $(DESTDIR)$(DATADIR)/
	install -m 644 spoolctl/spoolctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 spool-layout/spool-layout.5 spool-layout/spool.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/
	install -m 644 spoold/spoold.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build demo

.PHONY: all tests deps deps-test check run bench install clean
