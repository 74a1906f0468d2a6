# eddy: build, test, fuzz, bench, demo.
#   make          build/eddy (optimised, with debug info)
#   make test     everything under AddressSanitizer + UBSan: unit tests, fuzz corpora, integration tests
#   make demo     eddy's main job on the embedded default
#   make bench    benchmarks against their peers (results in bench/RESULTS.md)
#   make fuzz     libFuzzer targets (clang); FUZZ_SECONDS per target
# Sources are discovered: src/<part>/*.c is the program, src/<part>/*_test.c the unit tests,
# fuzz/*_fuzz.c the fuzz targets, so adding a file or a part needs no edit here.

CC      ?= cc
FUZZ_CC ?= clang
PKGS    := libuv rocksdb rdkafka libzstd liblz4 snappy zlib libcurl openssl gumbo libedit
EXTRA_LIBS := -lhttp_parser -lm -lpthread -ldl

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wvla
COMMON  := -std=c17 -D_GNU_SOURCE -pthread -g -Isrc -Itests/unit $(WARN) -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

MODE ?= release
ifeq ($(MODE),asan)
  OPT := -O1 $(SANITIZE)
else
  OPT := -O2
endif
OUT := build/$(if $(filter asan,$(MODE)),asan,release)

PROGRAM_SRCS := $(filter-out %_test.c,$(wildcard src/*/*.c))
TEST_SRCS    := $(wildcard src/*/*_test.c) tests/unit/runner.c
FUZZ_SRCS    := $(wildcard fuzz/*_fuzz.c)

obj = $(patsubst %.c,$(OUT)/obj/%.o,$(1))

LIB  := $(OUT)/libeddy.a
DEPS_STAMP := build/.deps-ok

.PHONY: all test unit demo bench fuzz clean deps asan format build/eddy
all: build/eddy

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh $(wildcard tests/package.json)
	@scripts/deps.sh

# The optimised binary lives at build/eddy; the sanitizer build under build/asan/.
build/eddy: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=release build/release/eddy
	@cp build/release/eddy build/eddy

asan: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory MODE=asan build/asan/eddy build/asan/unit build/asan/fuzz-replay

$(OUT)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(COMMON) $(OPT) $(PKG_CFLAGS) -c $< -o $@

$(LIB): $(call obj,$(PROGRAM_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(OUT)/eddy: $(call obj,src/main.c) $(LIB)
	$(CC) $(COMMON) $(OPT) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS)

$(OUT)/unit: $(call obj,$(TEST_SRCS)) $(LIB)
	$(CC) $(COMMON) $(OPT) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS)

# Every fuzz target replays its corpus under the sanitizers in make test, without libFuzzer.
$(OUT)/fuzz-replay/%: $(call obj,fuzz/%.c) $(call obj,fuzz/replay_main.c) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(COMMON) $(OPT) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS)

$(OUT)/fuzz-replay: $(patsubst fuzz/%.c,$(OUT)/fuzz-replay/%,$(FUZZ_SRCS))
	@mkdir -p $@

test: asan build/eddy
	@tests/run.sh

unit: asan
	@build/asan/unit $(T)

demo: build/eddy
	@scripts/demo.sh $(DEMO_FLAGS)

bench: build/eddy
	@scripts/deps.sh --bench
	@bench/run.sh $(B)

# Benchmark programs: build/bench/NAME from bench/NAME.c, linked with the optimised library and
# the peers' client libraries (make bench installs them; bench/*.sh build what they run).
BENCH_LIBS := -lsqlite3
build/bench/%: bench/%.c build/release/libeddy.a
	@mkdir -p build/bench
	$(CC) $(COMMON) -O2 $(PKG_CFLAGS) -o $@ $< build/release/libeddy.a $(PKG_LIBS) $(EXTRA_LIBS) $(BENCH_LIBS)

# libFuzzer builds: clang, each target linked with the program's sources compiled for fuzzing.
FUZZ_OUT := build/fuzz
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -pthread -g -O1 -Isrc -fsanitize=fuzzer-no-link,address,undefined
fuzz: $(DEPS_STAMP)
	@mkdir -p $(FUZZ_OUT)
	@for t in $(FUZZ_SRCS); do \
	  n=$$(basename $$t .c); \
	  $(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer $$t $(PROGRAM_SRCS) \
	    -o $(FUZZ_OUT)/$$n $(PKG_LIBS) $(EXTRA_LIBS) || exit 1; \
	  mkdir -p $(FUZZ_OUT)/corpus/$$n; \
	  $(FUZZ_OUT)/$$n -max_total_time=$${FUZZ_SECONDS:-60} $(FUZZ_OUT)/corpus/$$n fuzz/corpus/$$n || exit 1; \
	done

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h fuzz/*.c tests/unit/*.[ch] bench/*.c)

clean:
	rm -rf build/release build/asan build/fuzz build/eddy

-include $(shell find build -name '*.d' 2>/dev/null)
