# Top-level build for the SFU: data plane, ctrl, tap, tools, tests, benchmarks.
#
#   make            build everything (needs the packages scripts/install-deps installs)
#   make test       install what is missing, build, reserve hugepages, run the whole suite
#   make run        install what is missing, build, set up hugepages and the local network,
#                   start every process and print the URL to open
#   make bench      benchmarks: figures printed from one run on this machine
#   make SAN=1 ...  the same under ASan + UBSan
#   make clean
#
# Every library comes from pkg-config; warnings are errors.  New files are picked up
# by the wildcards below: dataplane/lib/*.c and ctrl/lib/*.c go into libsfu.a (shared by
# all binaries and tests), ctrl/src/*.c make sfu-ctrl,
# tests/unit/test_*.c, tests/tools/*.c, tests/fuzz/fuzz_*.c and perf/bench_*.c each
# become one program; perf/pktgen/*.c make sfu-pktgen and perf/janus/*.c make
# sfu-janus-client (the WebRTC test client speaking Janus's VideoRoom API).

BUILD  ?= build
CC     ?= gcc
PKGS   := libdpdk libsrtp2 openssl libwebsockets libcjson hiredis libuv opus libcurl pocketsphinx sphinxbase
SAN    ?= 0

ifeq ($(SAN),1)
BUILD  := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-missing-field-initializers \
           -D_GNU_SOURCE -MMD -MP $(SANFLAGS) \
           -Idataplane/include -Idataplane/lib -Ictrl/lib -Itap/lib $(PKG_CFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lm -lpthread

LIB_SRCS   := $(wildcard dataplane/lib/*.c) $(wildcard ctrl/lib/*.c) $(wildcard tap/lib/*.c)
DP_SRCS    := $(wildcard dataplane/src/*.c)
CTRL_SRCS  := $(wildcard ctrl/src/*.c)
TAP_SRCS   := $(wildcard tap/src/*.c)
STTD_SRCS  := $(wildcard tap/sttd/*.c)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
TOOL_SRCS  := $(wildcard tests/tools/*.c)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard perf/bench_*.c)
PKTGEN_SRCS := $(wildcard perf/pktgen/*.c)
JANUS_SRCS  := $(wildcard perf/janus/*.c)

LIB     := $(BUILD)/libsfu.a
DP_BIN  := $(BUILD)/sfu-dataplane
DPCTL   := $(BUILD)/sfu-dpctl
CTRL_BIN := $(BUILD)/sfu-ctrl
TAP_BIN  := $(BUILD)/sfu-tap
STTD_BIN := $(BUILD)/sfu-sttd
UNITS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/%)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BENCHES := $(BENCH_SRCS:perf/%.c=$(BUILD)/perf/%)
PKTGEN  := $(BUILD)/perf/sfu-pktgen
JANUSC  := $(BUILD)/perf/sfu-janus-client
PERF_BINS := $(if $(PKTGEN_SRCS),$(PKTGEN)) $(if $(JANUS_SRCS),$(JANUSC))

BINS := $(DP_BIN) $(DPCTL) $(if $(CTRL_SRCS),$(CTRL_BIN)) $(if $(TAP_SRCS),$(TAP_BIN)) \
        $(if $(STTD_SRCS),$(STTD_BIN))

.PHONY: all deps-ok check-build test run bench bench-capacity clean install-deps web
.DEFAULT_GOAL := all
# Objects built through pattern chains (tests, tools, benchmarks) are kept: make
# would otherwise delete them as intermediates and rebuild them on the next run.
.SECONDARY:

all: deps-ok $(BINS) $(UNITS) $(TOOLS) $(FUZZERS) $(BENCHES) $(PERF_BINS) web

# The browser client: mediasoup-client bundled by esbuild into ctrl/web/dist
# (what sfu-ctrl serves).  npm ci installs exactly package-lock.json.
WEB_SRCS := $(wildcard ctrl/web/src/*.js) ctrl/web/index.html ctrl/web/style.css ctrl/web/build.mjs

web: ctrl/web/dist/app.js

ctrl/web/node_modules/.package-lock.json: ctrl/web/package-lock.json ctrl/web/package.json
	cd ctrl/web && npm ci --no-audit --no-fund --loglevel=error

ctrl/web/dist/app.js: ctrl/web/node_modules/.package-lock.json $(WEB_SRCS)
	cd ctrl/web && npm run build --silent

# Fail early, and say what to do, when a library is missing.
deps-ok:
	@for p in $(PKGS); do pkg-config --exists $$p || \
	  { echo "missing library '$$p': run scripts/install-deps (or make test / make run)"; exit 1; }; done

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_SRCS:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(DP_BIN): $(DP_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(DPCTL): $(BUILD)/dataplane/tools/dpctl.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(CTRL_BIN): $(CTRL_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TAP_BIN): $(TAP_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(STTD_BIN): $(STTD_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/driver.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/perf/%: $(BUILD)/perf/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(PKTGEN): $(PKTGEN_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(JANUSC): $(JANUS_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

install-deps:
	scripts/install-deps

# The README's test command.  Installs what is missing, builds, reserves hugepages,
# then runs every suite; the last line is "N passed, N failed".
test:
	scripts/install-deps
	$(MAKE) all
	hugepages/setup
	BUILD=$(BUILD) tests/run

run:
	scripts/install-deps
	$(MAKE) all
	hugepages/setup
	BUILD=$(BUILD) scripts/run-local

bench:
	scripts/install-deps
	$(MAKE) all
	hugepages/setup
	BUILD=$(BUILD) perf/run-bench

# The capacity report: sfu-pktgen scenario matrix, plots, Janus side by side
# (install-deps --bench adds gnuplot and linux-perf).
bench-capacity:
	scripts/install-deps --bench
	$(MAKE) all
	hugepages/setup
	BUILD=$(BUILD) perf/bench-capacity

clean:
	rm -rf build build-san ctrl/web/dist

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
