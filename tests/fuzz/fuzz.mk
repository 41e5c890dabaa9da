# tests/fuzz/fuzz.mk: the libFuzzer binaries (GNU make). Run by `make fuzz`
# from the configured build tree, which passes the source list and the
# library flags; the binaries land in tests/fuzz/ of that tree, beside the
# replay tests, their objects in tests/fuzz/lf/.
#
# They are built apart from the normal objects because the whole data
# layer must be compiled for them with clang's coverage instrumentation
# and ASan+UBSan, whatever compiler and flags the tree was configured
# with. clang's own warnings differ from gcc's, so they are shown here,
# not made errors: the replay tests build the same sources with the
# project's -Werror set.

FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -g -O1
# UBSan aborts on its first report, so libFuzzer saves the input.
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_ALL_CFLAGS = -std=c11 -Wall -Wextra $(FUZZ_CFLAGS) $(FUZZ_SAN)
FUZZ_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir) $(DEP_CFLAGS)

O = tests/fuzz/lf
TARGETS = png csv idx store jpeg webp
TARGETS += npy probs
BINS = $(TARGETS:%=tests/fuzz/fuzz-%)
DATA_OBJS = $(patsubst %.c,$(O)/%.o,$(notdir $(filter %.c,$(DATA_SOURCES))))

vpath %.c $(top_srcdir)/data $(top_srcdir)/tests/fuzz

all: $(BINS)

# One clear sentence when clang or libFuzzer's runtime is missing, rather
# than a link error after a minute of compiling.
$(O)/cc-ok:
	@mkdir -p $(O)
	@printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	  'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	  'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	  '{ (void)d; (void)n; return 0; }' > $(O)/probe.c
	@if ! $(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $(O)/probe \
	    $(O)/probe.c >$(O)/probe.log 2>&1; then \
	  cat $(O)/probe.log >&2; \
	  echo "make fuzz: '$(FUZZ_CC)' cannot build a libFuzzer target" \
	    "(-fsanitize=fuzzer,address,undefined): it needs clang and" \
	    "libFuzzer's runtime, the Debian packages clang and" \
	    "libclang-rt-14-dev (or FUZZ_CC=clang-N with libclang-rt-N-dev)" >&2; \
	  exit 1; \
	fi
	@touch $@

$(O)/%.o: %.c $(O)/cc-ok
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_ALL_CFLAGS) \
	  -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(O)/libwndata-fuzz.a: $(DATA_OBJS)
	rm -f $@
	ar cr $@ $(DATA_OBJS)

tests/fuzz/fuzz-%: $(O)/fuzz-%.o $(O)/fuzz.o $(O)/libwndata-fuzz.a
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(DEP_LIBS)

.PHONY: all
.SECONDARY:
-include $(wildcard $(O)/*.d)
