# tern build. Plain make, no generator: every src/<layer>/*.c goes into libtern.a,
# src/cli/main.c links it into build/tern. The same rules build a sanitizer tree
# (build/asan) when SAN=1 and a ThreadSanitizer tree (build/tsan) when SAN=tsan;
# `make check` builds all three and runs every test on each.

BUILD   ?= build
SAN     ?= 0
CC      ?= cc
PKGS    := openssl libevent libevent_openssl libevent_pthreads sqlite3 libgsasl zlib libunbound \
           opendkim libcurl libseccomp libxml-2.0

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wformat=2 -Wvla
CFLAGS_COMMON := -std=c17 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -MMD -MP -pthread

ifeq ($(SAN),1)
CFLAGS_MODE := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
LDFLAGS_MODE := -fsanitize=address,undefined
else ifeq ($(SAN),tsan)
CFLAGS_MODE := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS_MODE := -fsanitize=thread
else
CFLAGS_MODE := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS_MODE :=
endif

CFLAGS  += $(CFLAGS_COMMON) $(CFLAGS_MODE)
LDLIBS  := $(PKG_LIBS) -lspf2 -lopendmarc -lcrypt -lunistring -pthread
LDFLAGS += $(LDFLAGS_MODE)

LIB_SRC   := $(sort $(wildcard src/lib/*.c src/net/*.c src/mail/*.c src/store/*.c \
                              src/auth/*.c src/session/*.c src/imap/*.c src/pop3/*.c \
                              src/smtp/*.c src/http/*.c src/cli/*.c))
LIB_SRC   := $(filter-out src/cli/main.c,$(LIB_SRC))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/http_www.o
# The web admin page's files, compiled in (src/http/http_www.h).
WWW_SRC   := $(sort $(wildcard src/http/www/*))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helper programs the tests run (not tests themselves).
UNIT_BIN  += $(BUILD)/tests/crash_store_writer $(BUILD)/tests/store_writer \
             $(BUILD)/tests/fault_shim.so

.SECONDARY:
.PHONY: all deps run check check-root tsan unit integration fuzz fuzz-build fuzz-check fuzz-long \
        fuzz-wire bench bench-imap bench-store bench-fuzzy bench-smtp bench-relay bench-stress bench-compress \
        format clean

all: $(BUILD)/tern $(BUILD)/bench/loadgen

# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-5s %s\n'
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/http_www.c: $(WWW_SRC) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(say) GEN $@
	$(Q)sh scripts/embed.sh $(WWW_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/http_www.o: $(BUILD)/gen/http_www.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libtern.a: $(LIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(BUILD)/tern: $(BUILD)/obj/src/cli/main.o $(BUILD)/libtern.a
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libtern.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# LD_PRELOAD shim for the fault-injection tests: no sanitizer (the ASan
# runtime must stay first), whatever the tree.
$(BUILD)/tests/fault_shim.so: tests/unit/fault_shim.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

unit-bins: $(UNIT_BIN)

deps:
	@sh scripts/deps.sh

# A newcomer's first command: dependencies, build, a data directory with a test
# account on first use (on PORT_BASE=N, or the first free base from 10000),
# then the server in the foreground.
run: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/run.sh $(BUILD)

# Three trees: unit tests on the normal and the ASan+UBSan one, integration
# tests against the sanitizer build (it catches what the optimised one hides)
# and again against the normal one, a short replay of every fuzz corpus, then
# the ThreadSanitizer tree on its unit tests and the concurrency tests (`make
# tsan` alone). The last line is "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory all unit-bins
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit-bins
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN=tsan all unit-bins
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@python3 tests/run.py --build build --build-asan build/asan --fuzz build/fuzz \
		--fuzz-seconds $(FUZZ_CHECK_SECONDS) --tsan build/tsan

# What needs root: the store on a tmpfs that really fills up
# (tests/integration/test_faults_root.py), against both trees.
check-root: deps
	@$(MAKE) --no-print-directory all unit-bins
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit-bins
	@TERN_CHECK_ROOT=1 python3 tests/run.py --no-unit --build build --build-asan build/asan \
		--pattern 'test_faults_root*'

# ThreadSanitizer: a third tree, its unit tests, and the integration tests
# where several threads touch shared state (tests/run.py TSAN_PATTERNS).
tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN=tsan all unit-bins
	@python3 tests/run.py --no-unit --no-integration --tsan build/tsan

# PREFIX (/usr/local), DESTDIR; as root without DESTDIR also the tern user,
# /etc/tern and /var/lib/tern (scripts/install.sh, docs/ADMIN.md).
install: all
	@PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" sh scripts/install.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# libFuzzer harnesses (clang). The parsers are compiled once into
# build/fuzz/libfuzz.a with coverage instrumentation and linked into each
# fuzz/fuzz_<name>.c. `make fuzz` runs each for FUZZ_SECONDS on its corpus;
# `make fuzz-check` (part of `make check`) replays fuzz/corpus/<name>/ and
# mutates it for FUZZ_CHECK_SECONDS each: tests/run.py --fuzz.
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 3
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
# Parsers are pure (bytes in, structs out), so harnesses link only them;
# the auth decoders too (jwt.c adds only OpenSSL crypto).
FUZZ_LIB_SRC := $(sort $(wildcard src/lib/*.c src/mail/*.c)) \
                $(addprefix src/imap/,parser.c imap_fetch_parse.c search_parse.c seqset.c \
                                      mutf7.c imap_flags.c list_pattern.c thread.c \
                                      imap_quota_parse.c imap_metadata_parse.c \
                                      imap_esearch_source.c imap_language.c lang_pl.c lang_ru.c \
                                      imap_annotate_parse.c imap_convert_parse.c) \
                src/auth/sasl_parse.c src/auth/jwt.c src/auth/gssapi_map.c src/pop3/pop3_parse.c \
                src/http/http_parse.c src/net/zstream.c src/store/acl_rights.c \
                $(addprefix src/smtp/,smtp_parse.c smtp_address.c smtp_mx.c smtp_mailauth.c \
                                      smtp_mta_sts.c smtp_dane.c smtp_downgrade.c \
                                      smtp_https.c smtp_tlsrpt.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc -g -O1 $(PKG_CFLAGS) -MMD -MP \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libfuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

build/fuzz/%: fuzz/%.c build/fuzz/libfuzz.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libfuzz.a $(LDLIBS)

# deps first, then the build (under -j a prerequisite list runs in parallel,
# and the compilers need the headers deps installs).
fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

fuzz: fuzz-build
	@for f in $(FUZZ_BIN); do \
		n=$$(basename $$f | sed 's/^fuzz_//'); \
		mkdir -p build/fuzz/corpus-$$n build/fuzz/artifacts; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/$$n.dict \
			-artifact_prefix=build/fuzz/artifacts/$$n- \
			build/fuzz/corpus-$$n fuzz/corpus/$$n || exit 1; \
	done

# The campaign (issue 17): every harness for FUZZ_SECONDS (an hour) in turn,
# one process at a time; inputs that add coverage are merged into
# fuzz/corpus/<name> to be committed. make fuzz-long FUZZ_SECONDS=180
fuzz-long: FUZZ_SECONDS = 3600
fuzz-long: fuzz-build
	@python3 fuzz/campaign.py --seconds $(FUZZ_SECONDS) --merge

# A live ASan server driven by random well-formed IMAP, POP3 and SMTP
# sessions (fuzz/wire_fuzz.py); WIRE_SECONDS=600. make check runs 45 s of it
# (tests/integration/test_wire_fuzz.py).
WIRE_SECONDS ?= 600
fuzz-wire: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all
	@python3 fuzz/wire_fuzz.py --seconds $(WIRE_SECONDS) --tern build/asan/tern

fuzz-check: fuzz-build
	@python3 tests/run.py --no-unit --no-integration --fuzz build/fuzz \
		--fuzz-seconds $(FUZZ_CHECK_SECONDS)

# Every workload against tern and Dovecot/Postfix in one run, one table, written
# into docs/PERFORMANCE.md (bench/run; as root, installs what it needs):
# BENCH_RUN_ARGS="--quick" (about 5 minutes) or "--smoke" (under a minute).
bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bench/run $(BENCH_RUN_ARGS)

# The event-driven load generator bench/run drives the idle fleet and POP3
# with (bench/loadgen.c): libevent only, no tern code.
$(BUILD)/bench/loadgen: $(BUILD)/obj/bench/loadgen.o
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The older single-topic benches, still runnable alone.
# IMAP figures (bench/imap_bench.py); BENCH_IMAP_ARGS="--messages 20000 --idle 1000 --markdown".
bench-imap: deps all
	@python3 bench/imap_bench.py --build $(BUILD) $(BENCH_IMAP_ARGS)

# Inbound delivery, tern against Postfix + Dovecot LMTP (bench/smtp_bench.py
# installs postfix and dovecot-lmtpd if missing; needs root);
# BENCH_SMTP_ARGS="--messages 10000 --senders 10,50 --markdown".
bench-smtp: deps all
	@python3 bench/smtp_bench.py --build $(BUILD) $(BENCH_SMTP_ARGS)

# Relaying, tern against Postfix (bench/relay_bench.py; needs root);
# BENCH_RELAY_ARGS="--messages 3000 --senders 10 --markdown".
bench-relay: deps all
	@python3 bench/relay_bench.py --build $(BUILD) $(BENCH_RELAY_ARGS)
# ImapTest's stress mixes against tern and Dovecot (bench/imap_stress.py):
# commands/s by type, errors found, peak memory. BENCH_STRESS_ARGS="--seconds 60".
bench-stress: deps all
	@python3 bench/imap_stress.py --build $(BUILD) $(BENCH_STRESS_ARGS)

# COMPRESS=DEFLATE: wire bytes and memory per IDLE connection with and
# without it (bench/compress_bench.py); BENCH_COMPRESS_ARGS="--idle 1000".
bench-compress: deps all
	@python3 bench/compress_bench.py --build $(BUILD) $(BENCH_COMPRESS_ARGS)

# Store figures for docs/PERFORMANCE.md: make bench-store BENCH_ARGS="-n 200000"
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libtern.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-store: $(BUILD)/bench/store_bench
	./$(BUILD)/bench/store_bench $(BENCH_ARGS)

# SEARCH=FUZZY figures (bench/fuzzy_bench.c): make bench-fuzzy BENCH_ARGS="-n 100000"
bench-fuzzy: $(BUILD)/bench/fuzzy_bench
	./$(BUILD)/bench/fuzzy_bench $(BENCH_ARGS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/src/cli/main.d $(BUILD)/obj/bench/loadgen.d $(UNIT_BIN:$(BUILD)/tests/%=$(BUILD)/obj/tests/unit/%.d)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:%=%.d)
