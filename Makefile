# mint: see README.md.  `make demo` and `make check` are the two entry points.
CC ?= cc
PREFIX ?= /usr/local
VERSION := 0.1.0
SOVERSION := 0

# Variants: SANITIZE=1 (ASan+UBSan), TSAN=1, CROSS=aarch64|s390x|i686.
ifeq ($(SANITIZE),1)
  BUILD ?= build/asan
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(TSAN),1)
  BUILD ?= build/tsan
  # -Wno-tsan: GCC warns that TSan does not model atomic_thread_fence; the
  # fences of the doorbell handshake are checked by the tests instead.
  SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
endif
ifneq ($(CROSS),)
  BUILD ?= build/$(CROSS)
  CC := $(CROSS)-linux-gnu-gcc
  ifeq ($(CROSS),i686)
    CROSSFLAGS := -Wno-psabi
  endif
  STATIC := 1
endif
BUILD ?= build

CFLAGS ?= -O2 -g
# -MMD -MP: each object's header dependencies are written beside it
# (.d files, included below), so a changed header rebuilds what uses it.
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
	-pthread -fPIC -MMD -MP $(SANFLAGS) $(CROSSFLAGS) $(CFLAGS)
# The library sees its private headers and exports only what
# src/lib/libmint.map lists; everything else sees include/ and, for the
# tools, src/ (includes name their folder: "agent/agent.h").
LIB_CFLAGS := $(BASE_CFLAGS) -Isrc/lib -fvisibility=hidden
TOOL_CFLAGS := $(BASE_CFLAGS) -Isrc
LDLIBS := -pthread -latomic -lm
ALL_LDFLAGS := $(SANFLAGS) $(if $(STATIC),-static) $(LDFLAGS)

LIB_SRC := $(wildcard src/lib/*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
LIB_MAP := src/lib/libmint.map
COMMON_SRC := $(wildcard src/common/*.c)
AGENT_SRC := $(wildcard src/agent/*.c)
INJECT_SRC := $(wildcard src/inject/*.c)
# The command line links mint's ivshmem server (src/server) too.
CLI_SRC := $(wildcard src/cli/*.c) $(wildcard src/server/*.c)
# `mint capture` and `mint inject --pcap` need libpcap: native builds
# compile against libpcap-dev's headers and dlopen() the library on first
# use (src/common/pcap_lazy.c), so no other command pays for loading it;
# the static cross builds (no libpcap for them) leave capture out.
# WITH_PCAP=0 builds without it natively too.
ifneq ($(CROSS),)
  override WITH_PCAP := 0
  override WITH_URING := 0
endif
# The VNI's TAP I/O goes through io_uring (liburing-dev) where the kernel
# allows it (src/agent/tap_uring.c); the static cross builds have no
# liburing and use read/write.  WITH_URING=0 leaves it out natively too.
WITH_URING ?= 1
ifeq ($(WITH_URING),1)
  TOOL_CFLAGS += -DMINT_WITH_URING
  URING_LDLIBS := -luring
endif
WITH_PCAP ?= 1
ifeq ($(WITH_PCAP),1)
  TOOL_CFLAGS += -DMINT_WITH_PCAP
  TOOL_LDLIBS := -ldl
else
  COMMON_SRC := $(filter-out src/common/pcap_lazy.c,$(COMMON_SRC))
  CLI_SRC := $(filter-out src/cli/cmd_capture.c,$(CLI_SRC))
endif
# The tools' layers, each an internal static archive: the command line
# links all of them, tests and benchmarks link what they use.
COMMON_A := $(BUILD)/libmint-common.a
AGENT_A := $(BUILD)/libmint-agent.a
INJECT_A := $(BUILD)/libmint-inject.a
CLI_OBJ := $(CLI_SRC:src/%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(wildcard tests/helper_*.c)
TEST_BIN += $(HELPER_SRC:tests/%.c=$(BUILD)/tests/%)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
# C++ users: the public headers compile as C++17 (examples/*.cpp).
CXX ?= c++
ifeq ($(CROSS),)
  EXAMPLE_CXX_SRC := $(wildcard examples/*.cpp)
  EXAMPLE_BIN += $(EXAMPLE_CXX_SRC:examples/%.cpp=$(BUILD)/examples/%)
endif
BENCH_SRC := $(wildcard bench/*.c)
BENCH_OBJ := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%.o)
DEV_BENCH := $(BUILD)/mint-dev-bench
# The verdict rule and records every benchmark shares (bench/verdict/).
VERDICT_OBJ := $(BUILD)/bench/verdict/verdict.o

# A recipe that fails or is interrupted leaves no half-written target whose
# new time would pass it for up to date (an empty static agent once did).
.DELETE_ON_ERROR:

.PHONY: all lib tools tests benchbin examples check demo bench bench-plot stress fuzz deps install \
	uninstall guest-images \
	clean cross

all: lib tools tests benchbin examples
lib: $(BUILD)/libmint.a $(BUILD)/libmint.so.$(VERSION)
tools: $(BUILD)/mint
tests: $(TEST_BIN)
benchbin: $(BUILD)/mint-bench $(BUILD)/nic-bench $(BUILD)/nic-icount $(DEV_BENCH) \
	$(BUILD)/mint-bench-verdict
examples: $(EXAMPLE_BIN)

$(BUILD)/lib/%.o: src/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@
$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -c $< -o $@
$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Ibench -c $< -o $@

$(BUILD)/libmint.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)
$(BUILD)/libmint.so.$(VERSION): $(LIB_OBJ) $(LIB_MAP)
	$(CC) $(SANFLAGS) -shared -Wl,-soname,libmint.so.$(SOVERSION) \
		-Wl,--version-script=$(LIB_MAP) -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf libmint.so.$(VERSION) $(BUILD)/libmint.so.$(SOVERSION)
	ln -sf libmint.so.$(VERSION) $(BUILD)/libmint.so
$(COMMON_A): $(COMMON_SRC:src/%.c=$(BUILD)/%.o)
$(AGENT_A): $(AGENT_SRC:src/%.c=$(BUILD)/%.o)
$(INJECT_A): $(INJECT_SRC:src/%.c=$(BUILD)/%.o)
$(COMMON_A) $(AGENT_A) $(INJECT_A):
	rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

$(BUILD)/mint: $(CLI_OBJ) $(INJECT_A) $(AGENT_A) $(COMMON_A) $(BUILD)/libmint.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(URING_LDLIBS) $(TOOL_LDLIBS) $(LDLIBS)
$(BUILD)/mint-bench: $(BENCH_OBJ) $(VERDICT_OBJ) $(BUILD)/libmint.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)
$(BUILD)/nic-bench: bench/nic/nic-bench.c $(VERDICT_OBJ) $(BUILD)/libmint.a
	$(CC) $(BASE_CFLAGS) -Ibench $(ALL_LDFLAGS) -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)
$(BUILD)/nic-icount: bench/nic/nic-icount.c $(BUILD)/libmint.a
	$(CC) $(BASE_CFLAGS) -Ibench $(ALL_LDFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS)
$(DEV_BENCH): bench/dev/dev-bench.c $(VERDICT_OBJ) $(BUILD)/libmint.a
	$(CC) $(BASE_CFLAGS) -Ibench $(ALL_LDFLAGS) -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)
$(BUILD)/mint-bench-verdict: $(BUILD)/bench/verdict/main.o $(VERDICT_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

# Tests link the layers they exercise; a test of the library's internals
# says so in its first comment and includes src/lib itself.
$(BUILD)/tests/helper_hostif: tests/helper_hostif.c $(COMMON_A) $(BUILD)/libmint.a
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) $(ALL_LDFLAGS) -Itests -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)
$(BUILD)/tests/%: tests/%.c $(BUILD)/libmint.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -Itests -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)

# Examples build as a user's program would: <mint/...> from include/.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libmint.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)
$(BUILD)/examples/%: examples/%.cpp $(BUILD)/libmint.a
	@mkdir -p $(@D)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -Iinclude -pthread -MMD -MP $(SANFLAGS) $(CFLAGS) \
		$(ALL_LDFLAGS) -o $@ $(filter %.c %.cpp %.o %.a,$^) $(LDLIBS)

# This variant's dependency files (other variants live below build/ too).
TOOL_OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(COMMON_SRC) $(AGENT_SRC) $(INJECT_SRC)) $(CLI_OBJ)
-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(TEST_BIN:=.d) $(EXAMPLE_BIN:=.d) \
	$(BUILD)/nic-bench.d $(BUILD)/nic-icount.d $(DEV_BENCH).d

# The other architectures of the cross-architecture test (static, run under
# qemu-user-static).
cross:
	$(MAKE) CROSS=aarch64 SANITIZE= TSAN= BUILD=build/aarch64 tools
	$(MAKE) CROSS=s390x SANITIZE= TSAN= BUILD=build/s390x tools
	$(MAKE) CROSS=i686 SANITIZE= TSAN= BUILD=build/i686 tools

deps:
	@mk/deps.sh

# What a QEMU guest node boots (mk/guest-images.sh): Debian's kernel, the
# guest modules built against its headers, an initramfs with busybox,
# iperf3 and the static agent, per architecture, into $(BUILD)/guest/ARCH.
GUEST_ARCHS ?= x86_64 aarch64
guest-images: tools
	for a in $(GUEST_ARCHS); do \
		$(MAKE) CROSS=$$a SANITIZE= TSAN= BUILD=build/$$a tools || exit 1; \
		MINT_BUILD=$(BUILD) MINT_AGENT=build/$$a/mint mk/guest-images.sh $$a || exit 1; \
	done

check: deps
	$(MAKE) all
	$(MAKE) cross
	$(MAKE) guest-images || echo "mint: no guest images: t_guest says why"
	MINT_BUILD=$(BUILD) tests/run.sh

demo: deps
	$(MAKE) tools
	$(MAKE) guest-images || echo "mint: no guest images: the demo leaves the guest out"
	MINT_BUILD=$(BUILD) mk/demo.sh

bench: deps
	$(MAKE) tools benchbin
	$(MAKE) guest-images || echo "mint: no guest images: the guest benchmark is skipped"
	MINT_BUILD=$(BUILD) mk/bench.sh

# Each ratio of docs/bench-history.jsonl against its target: PNGs in
# $(BUILD)/bench-plot/ (BENCH_HISTORY names another history).
bench-plot:
	MINT_BUILD=$(BUILD) mk/bench-plot.sh $(BENCH_HISTORY)

# Every test with 10x the iterations, the whole suite STRESS_ROUNDS times.
STRESS_ROUNDS ?= 3
stress: deps
	$(MAKE) all
	$(MAKE) cross
	for i in $$(seq $(STRESS_ROUNDS)); do \
		echo "== stress round $$i of $(STRESS_ROUNDS)"; \
		MINT_BUILD=$(BUILD) MINT_STRESS=1 tests/run.sh || exit 1; \
	done

install: lib tools
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/mint \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 $(BUILD)/libmint.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libmint.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libmint.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmint.so.$(SOVERSION)
	ln -sf libmint.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libmint.so
	install -m 644 include/mint/*.h $(DESTDIR)$(PREFIX)/include/mint/
	install -m 755 $(BUILD)/mint $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/man3/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' mint.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/mint.pc

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/mint
	rm -f $(DESTDIR)$(PREFIX)/lib/libmint.* $(DESTDIR)$(PREFIX)/bin/mint \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/mint.pc \
		$(DESTDIR)$(PREFIX)/share/man/man1/mint*.1 $(DESTDIR)$(PREFIX)/share/man/man3/mint_*.3 \
		$(DESTDIR)$(PREFIX)/share/man/man3/libmint.3

clean:
	rm -rf build

# Coverage-guided fuzzing of what a peer controls (libFuzzer, clang):
# FUZZ_SECONDS per target (default 60).
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) mk/fuzz.sh
