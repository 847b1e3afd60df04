# mapi-bpf: MAPI on eBPF.  `make` builds the library, the mapi tool and the
# examples into build/; `make check` runs every test; `make help` lists more.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool

VERSION := 0.1.0
SONAME := libmapi-bpf.so.0

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Werror
# CFLAGS is the user's (optimization, sanitizers); the rest is ours.
CFLAGS ?= -O2 -g
# The library's layers, each a folder of user/ (docs/architecture.md).
LIB_LAYERS := api backend transport flow filter engine
LIB_INCLUDES := $(addprefix -Iuser/,$(LIB_LAYERS))
XCFLAGS = $(CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude $(LIB_INCLUDES) -I$(BUILD)/skel
DEPFLAGS = -MMD -MP
LIBS := -lbpf -lpcap -lpthread -lm

BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_x86 -I. -Wall -Werror

LIB_SRCS := $(foreach l,$(LIB_LAYERS),$(wildcard user/$(l)/*.c))
# The function library's routines in BPF C, spliced into generated programs.
ROUTINE_SRCS := $(wildcard bpf/fn/*.bpf.c)
ROUTINE_CS := $(patsubst bpf/fn/%.bpf.c,$(BUILD)/routines/%.c,$(ROUTINE_SRCS))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS)) \
	$(patsubst $(BUILD)/routines/%.c,$(BUILD)/lib/routines/%.o,$(ROUTINE_CS))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
CLI := $(BUILD)/mapi
MAPID := $(BUILD)/mapid
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))
TEST_COMMON := $(patsubst tests/common/%.c,$(BUILD)/tests/common/%.o,$(wildcard tests/common/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/*.c))
BPF_TESTS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(wildcard tests/bpf/*.c))
BENCH := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/*.c))
FUZZ_OBJS := $(patsubst user/%.c,$(BUILD)/fuzz/lib/%.o,$(LIB_SRCS)) \
	$(patsubst $(BUILD)/routines/%.c,$(BUILD)/fuzz/lib/routines/%.o,$(ROUTINE_CS))
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -std=gnu11 \
	-D_GNU_SOURCE -Wall -Iinclude $(LIB_INCLUDES)

SHLIB := $(BUILD)/$(SONAME)
STLIB := $(BUILD)/libmapi-bpf.a

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all lib check tests sanitize demo bench bench-smoke fuzz deps install uninstall clean vmlinux help

all: lib $(CLI) $(MAPID) $(EXAMPLES)

lib: $(SHLIB) $(STLIB) $(BUILD)/mapi-bpf.pc

help:
	@echo "make            library, mapi tool and examples (into $(BUILD)/)"
	@echo "make demo       install packages, build, run the examples on a veth testbed"
	@echo "make check      install packages, build, run every test"
	@echo "make bench      benchmarks against baselines measured in the same run"
	@echo "make bench-smoke every benchmark case once, tiny (part of make check)"
	@echo "make sanitize   the unit and kernel tests under AddressSanitizer and UBSan"
	@echo "make fuzz       libFuzzer targets, FUZZ_SECONDS=$(FUZZ_SECONDS) each"
	@echo "make install    library, header, pkg-config file, mapi, mapid and its systemd unit into PREFIX=$(PREFIX)"
	@echo "make vmlinux    regenerate vmlinux.h from the running kernel"

# --- Kernel side: BPF C compiled at build time, embedded as skeletons -------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c vmlinux.h | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/skel
	$(BPFTOOL) gen skeleton $< > $@

# Routines (user/engine/routines.h): no relocations, checked by the script.
$(BUILD)/routines/%.bpf.o: bpf/fn/%.bpf.c vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -mcpu=v3 $(DEPFLAGS) -c $< -o $@

$(BUILD)/routines/%.c: $(BUILD)/routines/%.bpf.o scripts/bpf-routines.py
	scripts/bpf-routines.py $< $@

$(BUILD)/lib/routines/%.o: $(BUILD)/routines/%.c
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

vmlinux:
	scripts/gen-vmlinux.sh

# --- libmapi-bpf ------------------------------------------------------------
$(BUILD)/lib/%.o: user/%.c
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(SHLIB): $(LIB_OBJS) user/api/libmapi-bpf.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=user/api/libmapi-bpf.map -Wl,-z,defs -o $@ $(LIB_OBJS) $(LIBS)
	ln -sf $(SONAME) $(BUILD)/libmapi-bpf.so

# The archive holds one object whose internal symbols are made local, so that
# a static link exports exactly what the shared library does.
$(STLIB): $(LIB_OBJS)
	ld -r -o $(BUILD)/libmapi-bpf.o $(LIB_OBJS)
	objcopy --localize-hidden $(BUILD)/libmapi-bpf.o
	rm -f $@ && ar rcs $@ $(BUILD)/libmapi-bpf.o

$(BUILD)/mapi-bpf.pc: Makefile | $(BUILD)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' \
		'includedir=$${prefix}/include' '' 'Name: mapi-bpf' \
		'Description: MAPI, the Monitoring API, on eBPF/XDP' 'Version: $(VERSION)' \
		'Requires.private: libbpf libpcap' 'Libs: -L$${libdir} -lmapi-bpf' \
		'Libs.private: -lpthread -lm' 'Cflags: -I$${includedir}' > $@

# --- Programs ---------------------------------------------------------------
$(BUILD)/cli/%.o: user/cli/%.c | $(BUILD)/cli
	$(CC) $(XCFLAGS) $(DEPFLAGS) -c $< -o $@

# The tool takes functions as text as mapid's configuration does: it links
# that one file of the library's (fntext.h) beside the public calls.
$(CLI): $(patsubst user/cli/%.c,$(BUILD)/cli/%.o,$(wildcard user/cli/*.c)) \
	$(BUILD)/lib/flow/fntext.o $(STLIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lm

# mapid links the library's objects: it runs the same engine, and more of
# it than the exported calls.
$(BUILD)/mapid-objs/%.o: user/mapid/%.c
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(DEPFLAGS) -c $< -o $@

$(MAPID): $(patsubst user/mapid/%.c,$(BUILD)/mapid-objs/%.o,$(wildcard user/mapid/*.c)) $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# Examples link the shared library, as applications do.
$(BUILD)/examples/%: examples/%.c $(SHLIB) | $(BUILD)/examples
	$(CC) $(XCFLAGS) $(DEPFLAGS) -o $@ $< -L$(BUILD) -lmapi-bpf -Wl,-rpath,'$$ORIGIN/..'

# Tests and benchmarks may use internals: they link the objects directly,
# with the helpers of tests/common.
TEST_LINK = $(TEST_COMMON) $(LIB_OBJS) $(LIBS) -lm

$(BUILD)/tests/common/%.o: tests/common/%.c $(SKELS) | $(BUILD)/tests/common
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Itests/common -c $< -o $@

$(BUILD)/tests/%: tests/tools/%.c $(TEST_COMMON) $(LIB_OBJS) $(SKELS) | $(BUILD)/tests
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Itests/common -o $@ $< $(TEST_LINK)

# A program written for MAPI 2.0, built as its users built theirs: the
# public header with the compatibility switch, the shared library; in C11
# (the header's checking macro) and in C99 (the plain call, which reads
# MAPI 2.0's argument forms).
MAPI2_PROGS := $(BUILD)/tests/mapi2_trace $(BUILD)/tests/mapi2_trace_c99
MAPI2_BUILD = $(CC) $(CFLAGS) -Wall -Werror -DMAPI_V2 -Iinclude -o $@ $< -L$(BUILD) \
	-lmapi-bpf -lpcap -Wl,-rpath,'$$ORIGIN/..'

$(BUILD)/tests/mapi2_trace: tests/mapi2/mapi2_trace.c include/mapi.h include/mapi2.h $(SHLIB) | $(BUILD)/tests
	$(MAPI2_BUILD) -std=gnu11

$(BUILD)/tests/mapi2_trace_c99: tests/mapi2/mapi2_trace.c include/mapi.h include/mapi2.h $(SHLIB) | $(BUILD)/tests
	$(MAPI2_BUILD) -std=gnu99

$(BUILD)/tests/%: tests/unit/%.c $(TEST_COMMON) $(LIB_OBJS) | $(BUILD)/tests
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Itests/common -o $@ $< $(TEST_LINK) -lcmocka

MAPID_CONFIG_OBJS := $(addprefix $(BUILD)/mapid-objs/,config.o http.o utf8.o)

# mapid's HTTP endpoint is mapid's, not the library's: its object too.
$(BUILD)/tests/test_http: tests/unit/test_http.c $(BUILD)/mapid-objs/http.o $(TEST_COMMON) \
		$(LIB_OBJS) | $(BUILD)/tests
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Iuser/mapid -o $@ $< $(BUILD)/mapid-objs/http.o \
		$(TEST_LINK) -lcmocka

$(BUILD)/tests/test_utf8: tests/unit/test_utf8.c $(BUILD)/mapid-objs/utf8.o | $(BUILD)/tests
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Iuser/mapid -o $@ $< $(BUILD)/mapid-objs/utf8.o -lcmocka

# mapid's configuration, with the endpoint's parser it checks addresses with
$(BUILD)/tests/test_mapid_config: tests/unit/test_mapid_config.c $(MAPID_CONFIG_OBJS) \
		$(TEST_COMMON) $(LIB_OBJS) | $(BUILD)/tests
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Iuser/mapid -o $@ $< $(MAPID_CONFIG_OBJS) \
		$(TEST_LINK) -lcmocka

$(BUILD)/tests/%: tests/bpf/%.c $(TEST_COMMON) $(LIB_OBJS) $(SKELS) | $(BUILD)/tests
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Itests/common -o $@ $< $(TEST_LINK)

$(BUILD)/bench/%: bench/%.c $(TEST_COMMON) $(LIB_OBJS) $(SKELS) | $(BUILD)/bench
	$(CC) $(XCFLAGS) $(DEPFLAGS) -Itests -Itests/common -o $@ $< $(TEST_LINK)

# Fuzz targets: the library again, built by clang with libFuzzer's hooks.
$(BUILD)/fuzz/lib/%.o: user/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(BUILD)/fuzz/lib/routines/%.o: $(BUILD)/routines/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# (libpcap's interpreter, the oracle, as the tests have it)
$(BUILD)/fuzz/pcap_oracle.o: tests/common/pcap_oracle.c | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) $(BUILD)/fuzz/pcap_oracle.o | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(DEPFLAGS) -Itests -Itests/common -o $@ $< \
		$(FUZZ_OBJS) $(BUILD)/fuzz/pcap_oracle.o $(LIBS)

$(BUILD) $(BUILD)/bpf $(BUILD)/skel $(BUILD)/cli $(BUILD)/examples \
$(BUILD)/tests $(BUILD)/tests/common $(BUILD)/bench $(BUILD)/fuzz:
	mkdir -p $@

# --- Tests ------------------------------------------------------------------
deps:
	scripts/install-deps.sh

check: deps
	$(MAKE) all tests $(BENCH)
	tests/run.sh $(BUILD)

tests: $(UNIT_TESTS) $(BPF_TESTS) $(TOOLS) $(MAPI2_PROGS)

# The unit and kernel tests again, built with AddressSanitizer and UBSan
# into a build of their own; a leak or undefined behaviour fails the test.
# Not part of check: the sanitizers double the run.
SANITIZE_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
sanitize: deps
	$(MAKE) BUILD=$(BUILD)/sanitize CFLAGS="$(SANITIZE_FLAGS)" tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		MAPI_TEST_TIERS="unit bpf" tests/run.sh $(BUILD)/sanitize

demo: deps
	$(MAKE) all tests
	scripts/demo.sh $(BUILD)

bench: deps
	$(MAKE) all tests $(BENCH)
	bench/run.sh $(BUILD)

# Every benchmark case once, tiny: proves they all still run (no timing).
bench-smoke: all tests $(BENCH)
	BENCH_SMOKE=1 bench/run.sh $(BUILD)

fuzz: deps
	$(MAKE) $(FUZZERS) $(BUILD)/tests/gen_traffic $(BUILD)/tests/pcapconv
	scripts/fuzz.sh $(BUILD) $(FUZZ_SECONDS)

# --- Install ----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(SHLIB) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libmapi-bpf.so
	install -m 644 $(STLIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/mapi.h include/mapi2.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/mapi-bpf.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/mapi.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(MAPID) $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 docs/mapid.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' scripts/mapid.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/mapid.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/$(SONAME) $(DESTDIR)$(PREFIX)/lib/libmapi-bpf.so \
		$(DESTDIR)$(PREFIX)/lib/libmapi-bpf.a $(DESTDIR)$(PREFIX)/include/mapi.h \
		$(DESTDIR)$(PREFIX)/include/mapi2.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/mapi-bpf.pc $(DESTDIR)$(PREFIX)/bin/mapi \
		$(DESTDIR)$(PREFIX)/share/man/man1/mapi.1 $(DESTDIR)$(PREFIX)/sbin/mapid \
		$(DESTDIR)$(PREFIX)/share/man/man8/mapid.8 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/mapid.service

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
