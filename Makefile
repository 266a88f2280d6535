# spool: one plain Makefile.
#
#   make            build libspool and the programs into build/
#   make check      install missing Debian packages, build with ASan and UBSan
#                   into build/san/, run every test
#   make run        install missing packages, build, make demo spools in demo/ and
#                   run spoold on them in the foreground
#   make bench      the benchmarks of BENCHMARKS.md (slow; not part of check)
#   make fuzz       the job.xml reader under libFuzzer, FUZZ_SECONDS (not part of check)
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
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSTEMDUNITDIR ?= $(LIBDIR)/systemd/system

VERSION = 0.1.0
SOVERSION = 0

# Debian packages: to build, and to run the tests.  The invoice needs its fonts at run
# time (a Latin, Greek and Cyrillic one, and a CJK one): they come with the build.
PKGS_BUILD = gcc make pkg-config libc6-dev libxml2-dev libinih-dev libsystemd-dev libesmtp-dev \
	libqpdf-dev libcairo2-dev libpango1.0-dev libcrypt-dev libmicrohttpd-dev libjansson-dev \
	fonts-dejavu-core fonts-ipafont-gothic
PKGS_TEST = libcmocka-dev libxml2-utils mandoc python3 python3-aiosmtpd qpdf openssl samba smbclient \
	poppler-utils curl prometheus chromium nodejs glusterfs-server glusterfs-client
# Only for make fuzz: clang, with libFuzzer and its sanitizer runtimes.
PKGS_FUZZ = clang
# the baselines of make bench: msmtp for mail, Postfix's sendmail for submissions
PKGS_BENCH = msmtp postfix

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
DEPS_CFLAGS := $(shell pkg-config --cflags libxml-2.0 inih libqpdf cairo pangocairo libcrypt 2>/dev/null)
DEPS_LIBS := $(shell pkg-config --libs libxml-2.0 inih libqpdf cairo pangocairo libcrypt 2>/dev/null)

ifeq ($(SAN),1)
B = build/san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS = -O1 -g
else
B = build
SANFLAGS =
endif

ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DSPOOL_VERSION='"$(VERSION)"' -fPIC $(WARN) $(DEPS_CFLAGS) $(SANFLAGS) $(CFLAGS) -Ilib
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# libspool in layers, arrows only going down (ARCHITECTURE.md): the core knows the
# protocol; bundle, print, mail and web stand on it.
LIB_CORE = lib/core/sys.c lib/core/util.c lib/core/text.c lib/core/names.c lib/core/publish.c lib/core/order.c \
	lib/core/history.c lib/core/conf.c lib/core/layout.c lib/core/move.c lib/core/check.c \
	lib/core/journal.c lib/core/node.c lib/core/intent.c
LIB_DOMAIN = lib/bundle/xml.c lib/bundle/upload.c lib/bundle/bundle.c lib/bundle/money.c \
	lib/print/stitch.c lib/print/invoice.c lib/print/shop.c lib/print/jobxml.c lib/print/print.c \
	lib/print/hotjob.c lib/print/queue.c lib/mail/mailconf.c lib/mail/mail.c lib/web/users.c
LIB_SRC = $(LIB_CORE) $(LIB_DOMAIN) lib/init.c
LIB_H = lib/spool.h $(wildcard lib/*/*.h)
# the library's own headers, not installed
LIB_H_INTERNAL = lib/core/internal.h lib/bundle/xml.h lib/bundle/upload.h
LIB_OBJ = $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/embed.o
EMBED = workflows/print.conf workflows/email.conf workflows/pos.conf \
	schemas/order.xsd schemas/upload.xsd schemas/job.xsd \
	templates/status.txt templates/purge-reminder.txt templates/send-failed.txt \
	templates/printer-failed.txt templates/stitch-failed.txt templates/status.html
COMMON_SRC = common/json.c common/order.c
COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/obj/%.o)
CTL_SRC = spoolctl/spoolctl.c spoolctl/list.c spoolctl/show.c \
	spoolctl/change.c spoolctl/upkeep.c spoolctl/outbox.c spoolctl/user.c spoolctl/status.c
CTL_OBJ = $(CTL_SRC:%.c=$(B)/obj/%.o)
WEB_SRC = spoolweb/main.c spoolweb/http.c spoolweb/session.c spoolweb/api.c spoolweb/pages.c \
	spoolweb/metrics.c
WEB_OBJ = $(WEB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/spoolweb/assets.o
WEB_ASSETS = spoolweb/static/style.css spoolweb/static/app.js
WEB_CFLAGS := $(shell pkg-config --cflags libmicrohttpd jansson 2>/dev/null)
WEB_LIBS := $(shell pkg-config --libs libmicrohttpd jansson 2>/dev/null) -lpthread
D_SRC = spoold/main.c spoold/loop.c spoold/engine.c spoold/watch.c spoold/jobs.c spoold/queue.c spoold/log.c \
	spoold/sync.c spoold/mailer.c spoold/notify.c spoold/print.c spoold/stall.c spoold/nodes.c \
	spoold/submit.c
D_OBJ = $(D_SRC:%.c=$(B)/obj/%.o)
SYSTEMD_CFLAGS := $(shell pkg-config --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null)
ESMTP_CFLAGS := $(shell pkg-config --cflags libesmtp-1.0 openssl 2>/dev/null)
ESMTP_LIBS := $(shell pkg-config --libs libesmtp-1.0 openssl 2>/dev/null)

UNIT = test_util test_publish test_order test_conf test_history test_move \
	test_bundle test_check test_fault test_mail test_mailer test_stitch \
	test_jobxml test_print test_text test_invoice test_web test_users test_node
UNIT_BIN = $(UNIT:%=$(B)/tests/%)
UNIT_OBJ = $(UNIT:%=$(B)/obj/tests/%.o) $(B)/obj/tests/fault.o

MAN = spoolctl/spoolctl.1 spool-layout/spool-layout.5 spool-layout/spool.conf.5 spoold/spoold.8 \
	spoolweb/spoolweb.8

all: $(B)/libspool.a $(B)/libspool.so.$(SOVERSION) $(B)/spoolctl $(B)/spoold $(B)/spoolweb

$(LIB_SRC:%.c=$(B)/obj/%.o): $(B)/obj/lib/%.o: lib/%.c $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(B)/obj/embed.c: mk/embed $(EMBED:%=spool-layout/%)
	@mkdir -p $(@D)
	mk/embed $@ $(foreach f,$(EMBED),$(f)=spool-layout/$(f))

$(B)/obj/embed.o: $(B)/obj/embed.c $(LIB_H)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(B)/libspool.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

# The exported symbols are those of the version script, which mk/exports checks.
$(B)/libspool.so.$(SOVERSION): $(LIB_OBJ) lib/libspool.map
	$(CC) -shared -Wl,-soname,libspool.so.$(SOVERSION) \
		-Wl,--version-script=lib/libspool.map $(ALL_LDFLAGS) -o $@ $(LIB_OBJ) $(DEPS_LIBS)

# --as-needed: spoolctl never publishes a job, so it links neither libqpdf nor cairo
# and Pango, and starts in a third of the time (a submit is a process per order)
$(B)/spoolctl: $(CTL_OBJ) $(COMMON_OBJ) $(B)/libspool.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJ) $(COMMON_OBJ) $(B)/libspool.a -Wl,--as-needed \
		$(DEPS_LIBS) -Wl,--no-as-needed

# spoolweb: libmicrohttpd for HTTP, jansson to read request bodies (the JSON it writes
# is common/json.c's); its stylesheet and script are compiled in
$(WEB_SRC:%.c=$(B)/obj/%.o): $(B)/obj/spoolweb/%.o: spoolweb/%.c spoolweb/web.h $(wildcard common/*.h) \
		$(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(WEB_CFLAGS) -Icommon -Ispoolweb -c -o $@ $<

$(B)/obj/spoolweb/assets.c: mk/embed $(WEB_ASSETS)
	@mkdir -p $(@D)
	EMBED_INCLUDE=web.h EMBED_TYPE='struct web_asset' EMBED_ARRAY=web_assets mk/embed $@ \
		$(foreach f,$(WEB_ASSETS),$(notdir $(f))=$(f))

$(B)/obj/spoolweb/assets.o: $(B)/obj/spoolweb/assets.c spoolweb/web.h
	$(CC) $(ALL_CFLAGS) $(WEB_CFLAGS) -Icommon -Ispoolweb -c -o $@ $<

$(B)/spoolweb: $(WEB_OBJ) $(COMMON_OBJ) $(B)/libspool.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(WEB_OBJ) $(COMMON_OBJ) $(B)/libspool.a $(DEPS_LIBS) $(WEB_LIBS)

$(D_OBJ): $(B)/obj/spoold/%.o: spoold/%.c spoold/spoold.h spoold/log.h $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SYSTEMD_CFLAGS) $(ESMTP_CFLAGS) -c -o $@ $<

$(B)/obj/spoold/mailer.o: spoold/mailer.h

$(B)/spoold: $(D_OBJ) $(B)/libspool.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(D_OBJ) $(B)/libspool.a $(DEPS_LIBS) $(SYSTEMD_LIBS) \
		$(ESMTP_LIBS)

# what the programs above libspool share: the JSON writer, an order's view
$(COMMON_OBJ): $(B)/obj/common/%.o: common/%.c $(wildcard common/*.h) $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(CTL_OBJ): $(B)/obj/spoolctl/%.o: spoolctl/%.c spoolctl/spoolctl.h $(wildcard common/*.h) $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icommon -c -o $@ $<

$(UNIT_OBJ): $(B)/obj/tests/%.o: tests/unit/%.c tests/unit/fault.h $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(UNIT_CFLAGS) $(shell pkg-config --cflags cmocka) -c -o $@ $<

# test_mailer also links spoold's mailer and logging, and libesmtp.
$(B)/tests/test_mailer: UNIT_EXTRA = $(B)/obj/spoold/mailer.o $(B)/obj/spoold/log.o
$(B)/tests/test_mailer: UNIT_LIBS = $(ESMTP_LIBS)
$(B)/tests/test_mailer: $(B)/obj/spoold/mailer.o $(B)/obj/spoold/log.o
$(B)/obj/tests/test_mailer.o: spoold/mailer.h
# test_web calls spoolweb's handlers, as its main.c does.
$(B)/tests/test_web: UNIT_EXTRA = $(filter-out $(B)/obj/spoolweb/main.o,$(WEB_OBJ)) $(COMMON_OBJ)
$(B)/tests/test_web: UNIT_LIBS = $(WEB_LIBS)
$(B)/tests/test_web: $(WEB_OBJ) $(COMMON_OBJ)
$(B)/obj/tests/test_web.o: UNIT_CFLAGS = -Icommon -Ispoolweb $(WEB_CFLAGS)
$(B)/obj/tests/test_web.o: spoolweb/web.h
# test_text also checks spoold's log lines.
$(B)/tests/test_text: UNIT_EXTRA = $(B)/obj/spoold/log.o
$(B)/tests/test_text: $(B)/obj/spoold/log.o
$(B)/obj/tests/test_text.o: spoold/log.h

$(UNIT_BIN): $(B)/tests/%: $(B)/obj/tests/%.o $(B)/obj/tests/fault.o $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_EXTRA) $(B)/obj/tests/fault.o $(B)/libspool.a \
		$(DEPS_LIBS) $(UNIT_LIBS) $(shell pkg-config --libs cmocka)

$(B)/tests/mkspool: bench/mkspool.c $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libspool.a $(DEPS_LIBS)

$(B)/tests/pipe: bench/pipe.c $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libspool.a $(DEPS_LIBS)

$(B)/tests/spawn: bench/spawn.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(B)/tests/mail: bench/mail.c $(B)/obj/spoold/mailer.o $(B)/obj/spoold/log.o $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/obj/spoold/mailer.o $(B)/obj/spoold/log.o \
		$(B)/libspool.a $(DEPS_LIBS) $(ESMTP_LIBS)

# the stitching benchmark's driver: spool_stitch_item, timed
$(B)/tests/stitch: bench/stitch.c $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libspool.a $(DEPS_LIBS)

# the print latency benchmark: a printer's save to the order's move
$(B)/tests/printlat: bench/printlat.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(DEPS_LIBS)

# spoold and spoolctl with the fault injector (tests/fault/faultinj.c): its constructor
# wraps the syscall table by the rules in SPOOL_FAULTS, for the end-to-end tests.  The
# link lines are those of $(B)/spoold and $(B)/spoolctl, plus the injector; keep them
# in step.  The installed programs never contain it.
FAULT_OBJ = $(B)/obj/tests/fault/faultinj.o
FAULT_BIN = $(B)/tests/spoold-fault $(B)/tests/spoolctl-fault

$(FAULT_OBJ): tests/fault/faultinj.c $(LIB_H)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/spoold-fault: $(D_OBJ) $(FAULT_OBJ) $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(D_OBJ) $(FAULT_OBJ) $(B)/libspool.a $(DEPS_LIBS) \
		$(SYSTEMD_LIBS) $(ESMTP_LIBS)

$(B)/tests/spoolctl-fault: $(CTL_OBJ) $(COMMON_OBJ) $(FAULT_OBJ) $(B)/libspool.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJ) $(COMMON_OBJ) $(FAULT_OBJ) $(B)/libspool.a $(DEPS_LIBS)

tests: all $(UNIT_BIN) $(B)/tests/mkspool $(B)/tests/pipe $(B)/tests/spawn $(B)/tests/mail \
	$(B)/tests/stitch $(B)/tests/printlat $(FAULT_BIN)

deps:
	@mk/deps $(PKGS_BUILD)

deps-test:
	@mk/deps $(PKGS_BUILD) $(PKGS_TEST)

# puppeteer-core for t_browser, as package-lock.json pins it.  npm comes with some
# builds of nodejs and conflicts with Debian's npm package there: ask for it only
# when it is missing.  A failure leaves t_browser to skip, saying why.
tests/web/node_modules: tests/web/package.json tests/web/package-lock.json
	@command -v npm >/dev/null || mk/deps npm
	@if npm ci --prefix tests/web --no-audit --no-fund; then touch $@; \
	else echo "tests/web: npm ci failed; t_browser will skip" >&2; fi

check: deps-test tests/web/node_modules
	$(MAKE) SAN=1 tests
	tests/run build/san

run: deps
	$(MAKE) all
	mk/demo build demo
	mk/run-demo build demo

bench: deps-test
	@mk/deps $(PKGS_BENCH)
	$(MAKE) tests
	bench/run build

# only the stitching figures of bench/run (a few seconds)
bench-stitch: deps-test
	$(MAKE) tests
	BENCH_STITCH_ONLY=1 bench/run build

# only the print latency figures of bench/run (about a minute)
bench-print: deps-test
	$(MAKE) tests
	BENCH_PRINT_ONLY=1 bench/run build

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(DATADIR)/workflows \
		$(DESTDIR)$(DATADIR)/schemas $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/spoolctl $(DESTDIR)$(BINDIR)/spoolctl
	install -m 755 $(B)/spoold $(DESTDIR)$(SBINDIR)/spoold
	install -m 755 $(B)/spoolweb $(DESTDIR)$(SBINDIR)/spoolweb
	install -m 644 $(B)/libspool.a $(DESTDIR)$(LIBDIR)/libspool.a
	install -m 755 $(B)/libspool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libspool.so.$(SOVERSION)
	ln -sf libspool.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libspool.so
	# spool.h, and its headers per concern under include/spool/ (core/, bundle/, ...)
	sed 's|^#include "\([a-z]*/[a-z]*\.h\)"|#include "spool/\1"|' lib/spool.h \
		>$(DESTDIR)$(INCLUDEDIR)/spool.h
	for h in $(filter-out lib/spool.h $(LIB_H_INTERNAL),$(LIB_H)); do \
		install -d $(DESTDIR)$(INCLUDEDIR)/spool/$$(basename $$(dirname $$h)) && \
		install -m 644 $$h $(DESTDIR)$(INCLUDEDIR)/spool/$${h#lib/} || exit 1; \
	done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		lib/libspool.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libspool.pc
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' spool-layout/spoold@.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/spoold@.service
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' spool-layout/spoolweb@.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/spoolweb@.service
	install -m 644 spool-layout/workflows/*.conf $(DESTDIR)$(DATADIR)/workflows/
	install -m 644 spool-layout/schemas/*.xsd $(DESTDIR)$(DATADIR)/schemas/
	cp -R spool-layout/examples $(DESTDIR)$(DATADIR)/
	install -m 644 spool-layout/smb.conf.example $(DESTDIR)$(DATADIR)/examples/
	install -m 644 spoolctl/spoolctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 spool-layout/spool-layout.5 spool-layout/spool.conf.5 \
		$(DESTDIR)$(MANDIR)/man5/
	install -m 644 spoold/spoold.8 spoolweb/spoolweb.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 spoolctl/spoolctl.bash $(DESTDIR)$(COMPLETIONDIR)/spoolctl

# make fuzz: the libFuzzer target for the job.xml reader, built with clang under ASan
# and UBSan, run for FUZZ_SECONDS on a working corpus seeded from tests/fuzz/corpus/.
# Not part of check.
FUZZ_SECONDS ?= 600
FUZZ_CC ?= clang
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) $(FUZZ_SAN) -O1 -g -Ilib
FUZZ_B = build/fuzz
FUZZ_OBJ = $(LIB_SRC:%.c=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/embed.o

$(FUZZ_B)/obj/embed.c: mk/embed $(EMBED:%=spool-layout/%)
	@mkdir -p $(@D)
	mk/embed $@ $(foreach f,$(EMBED),$(f)=spool-layout/$(f))

$(FUZZ_B)/obj/%.o: %.c $(LIB_H)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/obj/embed.o: $(FUZZ_B)/obj/embed.c $(LIB_H)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# An archive, so the target links only the parts of libspool it uses.
$(FUZZ_B)/libspool.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

$(FUZZ_B)/fuzz_jobxml: tests/fuzz/fuzz_jobxml.c $(FUZZ_B)/libspool.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/libspool.a $(DEPS_LIBS)

fuzz:
	@mk/deps $(PKGS_BUILD) $(PKGS_FUZZ)
	$(MAKE) $(FUZZ_B)/fuzz_jobxml
	@mkdir -p $(FUZZ_B)/corpus-jobxml
	$(FUZZ_B)/fuzz_jobxml -max_len=65536 -max_total_time=$(FUZZ_SECONDS) \
		-dict=tests/fuzz/jobxml.dict -print_final_stats=1 -artifact_prefix=$(FUZZ_B)/ \
		$(FUZZ_B)/corpus-jobxml tests/fuzz/corpus/jobxml

clean:
	rm -rf build demo

.PHONY: all tests deps deps-test check run bench bench-stitch bench-print fuzz install clean
