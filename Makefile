# Shadow Nexus: one top-level make. See README.
PREFIX ?= /usr/local
DESTDIR ?=
SAN ?= 0

ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS =
endif

CC ?= cc
PKGS = libevent libevent_openssl openssl libsystemd sqlite3 libargon2 opus libopusenc opusfile libsrtp2 jansson
# Every pkg-config module the build uses, as MODULE:DEBIAN-PACKAGE. The build
# stops before compiling when one is missing and names the package;
# test_deps checks that test/deps.sh installs each of these packages.
PKG_DEBS = libevent:libevent-dev libevent_openssl:libevent-dev openssl:libssl-dev \
	libsystemd:libsystemd-dev sqlite3:libsqlite3-dev libargon2:libargon2-dev \
	opus:libopus-dev libopusenc:libopusenc-dev opusfile:libopusfile-dev \
	libsrtp2:libsrtp2-dev jansson:libjansson-dev ncursesw:libncurses-dev \
	libpulse-simple:libpulse-dev cmocka:libcmocka-dev
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
CURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null)
# nexus talk's microphone and speaker (the client only)
PULSE_CFLAGS := $(shell pkg-config --cflags libpulse-simple 2>/dev/null)
PULSE_LIBS := $(shell pkg-config --libs libpulse-simple 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) -iquote common $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += $(SANFLAGS)

# Every daemon is a flat folder built into $(BUILD)/NAME.
DAEMONS := chatd filed audiod videod
COMMON_SRC := $(wildcard common/*.c)
CLIENT_SRC := $(wildcard client-cli/*.c)
UNIT_SRC := $(wildcard test/unit/test_*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)

LIB := $(BUILD)/libnexus.a
BINS := $(DAEMONS:%=$(BUILD)/%) $(BUILD)/nexus

.PHONY: all test run install fuzz bench format check-format deps clean pkgcheck print-pkgs
.SECONDARY:
all: $(BINS) $(UNIT_BIN)

# One line per missing module, before anything compiles (an empty
# `pkg-config --libs` would otherwise link with no libraries at all).
pkgcheck:
	@missing=0; for pd in $(PKG_DEBS); do \
		m=$${pd%%:*}; d=$${pd#*:}; \
		pkg-config --exists "$$m" 2>/dev/null || { \
			echo "missing pkg-config module $$m: apt-get install $$d" >&2; missing=1; }; \
	done; \
	if [ $$missing = 1 ]; then echo "(or run: make deps)" >&2; exit 1; fi

print-pkgs:
	@echo $(PKG_DEBS)

$(BUILD)/obj/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/client-cli/%.o: client-cli/%.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CURSES_CFLAGS) $(PULSE_CFLAGS) -D_GNU_SOURCE -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define daemon_rule
$(BUILD)/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c)) $(LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rule,$(d))))

$(BUILD)/nexus: $(CLIENT_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURSES_LIBS) $(PULSE_LIBS)

$(BUILD)/test/%: $(BUILD)/obj/test/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# test_tui also links the full-screen client's pure parts (no curses).
TUI_UNIT_OBJ := $(patsubst %,$(BUILD)/obj/client-cli/%.o,tui_input tui_cmd tui_state)
$(BUILD)/test/test_tui: $(BUILD)/obj/test/unit/test_tui.o $(TUI_UNIT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# test_client_settings also links the client's settings and saved servers.
CLIENT_SETTINGS_UNIT_OBJ := $(patsubst %,$(BUILD)/obj/client-cli/%.o,settings servers output)
$(BUILD)/test/test_client_settings: $(BUILD)/obj/test/unit/test_client_settings.o $(CLIENT_SETTINGS_UNIT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# The full-screen client's redraw benchmark (make bench runs it).
TUI_BENCH_OBJ := $(patsubst %,$(BUILD)/obj/client-cli/%.o,tui_input tui_state tui_draw)
$(BUILD)/bench/tui_bench: $(BUILD)/obj/test/bench/tui_bench.o $(TUI_BENCH_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURSES_LIBS)

# Installs missing Debian packages (as root) or says which command to run.
deps:
	@sh test/deps.sh build

test:
	@sh test/deps.sh test
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) SAN=$(SAN) sh test/run.sh

run:
	@sh test/deps.sh build
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh test/run-local.sh

fuzz:
	@sh test/deps.sh fuzz
	@sh test/fuzz/run.sh

bench:
	@sh test/deps.sh bench
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh test/bench/run.sh
	@BUILD=$(BUILD) sh test/bench/video_run.sh

# Layout: programs, man pages and the call page under PREFIX; units,
# sysusers.d and tmpfiles.d under PREFIX/lib (systemd reads
# /usr/local/lib/systemd/system as well as /usr/lib/systemd/system, see
# systemd-analyze unit-paths); the config in /etc/nexus whatever the PREFIX,
# since the daemons read /etc/nexus/nexus.conf. Every path is below DESTDIR.
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR ?= $(PREFIX)/share/man
WWWDIR = $(PREFIX)/share/nexus/videod/www

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)/etc/nexus
	install -m 0755 $(BUILD)/nexus $(DESTDIR)$(PREFIX)/bin/nexus
	for d in $(DAEMONS); do \
		install -m 0755 $(BUILD)/$$d $(DESTDIR)$(PREFIX)/sbin/$$d && \
		sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/nexus-$$d.service.in > $(DESTDIR)$(UNITDIR)/nexus-$$d.service && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/nexus-$$d.service && \
		install -m 0644 systemd/nexus-$$d.socket $(DESTDIR)$(UNITDIR)/ && \
		install -m 0644 $$d/$$d.8 $(DESTDIR)$(MANDIR)/man8/ || exit 1; \
	done
	test ! -d videod/www || { install -d $(DESTDIR)$(WWWDIR) && \
		install -m 0644 videod/www/* $(DESTDIR)$(WWWDIR)/; }
	install -m 0644 systemd/nexus.target $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/nexus.sysusers $(DESTDIR)$(SYSUSERSDIR)/nexus.conf
	install -m 0644 systemd/nexus.tmpfiles $(DESTDIR)$(TMPFILESDIR)/nexus.conf
	install -m 0644 client-cli/nexus.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 common/nexus.conf.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's|/usr/local/share/nexus/|$(PREFIX)/share/nexus/|g' common/nexus.conf.example \
		> $(DESTDIR)/etc/nexus/nexus.conf.example
	chmod 0644 $(DESTDIR)/etc/nexus/nexus.conf.example
	test -e $(DESTDIR)/etc/nexus/nexus.conf || \
		install -m 0644 $(DESTDIR)/etc/nexus/nexus.conf.example $(DESTDIR)/etc/nexus/nexus.conf

# Every C file of the tree, in clang-format's layout (.clang-format).
FORMAT_SRC = $(wildcard $(addsuffix /*.[ch],common chatd filed audiod videod client-cli \
	test/unit test/fuzz test/bench))

format:
	clang-format -i $(FORMAT_SRC)

# Fails naming each file whose layout is not clang-format's (CI runs it).
check-format:
	@command -v clang-format >/dev/null || { echo "check-format: no clang-format: sh test/deps.sh test"; exit 1; }
	@bad=$$(for f in $(FORMAT_SRC); do clang-format --dry-run -Werror "$$f" >/dev/null 2>&1 || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "not in clang-format's layout (run: make format):"; \
		echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "check-format: $(words $(FORMAT_SRC)) files in clang-format's layout"

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
