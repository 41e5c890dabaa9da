#!/bin/sh
# tests/check-tsan.sh: `make check-tsan`. Builds winnow with ThreadSanitizer
# in a folder of its own and runs the tests that put threads side by side;
# passes when they pass and TSan reported nothing.
#   check-tsan.sh SRCDIR BUILDDIR TEST...
#
# SRCDIR is a copy of the sources (make distdir): a source tree configured
# in place cannot take a second build. Every report goes to
# BUILDDIR/tsan-logs, since a test often swallows a program's stderr and
# the review screen's stderr is a tmux pane; the reports are printed at the
# end and any one of them fails the target.
#
# No suppressions. OpenBLAS hands work to its own thread pool with spin
# loops TSan cannot see (the library is not instrumented), so a product run
# on that pool shows a false race: a pool thread's memset of C against the
# caller's malloc of it (t-gemm with OPENBLAS_NUM_THREADS unset does this).
# The engine never uses the pool: gemm_set_threads sets BLAS to one thread
# per team member, and the tests run with OPENBLAS_NUM_THREADS=1 besides.
# Every product runs on the thread that asked for it, and TSan checks the
# buffers it reads and writes against our other threads.
#
# GCC 12's TSan dies with "FATAL: ThreadSanitizer: unexpected memory
# mapping" on kernels that randomize mmap with more than 28 bits; there the
# tests run with address randomization off (setarch -R).
set -u
src=$1 build=$2
shift 2
make=${MAKE:-make}
mkdir -p "$build" || exit 1
cd "$build" || exit 1
if [ ! -f Makefile ]; then
  "$src/configure" -q --enable-sanitizers=thread || exit 1
fi
$make || exit 1

prefix=""
if ./winnow --help 2>&1 | grep -q 'unexpected memory mapping'; then
  prefix="setarch $(uname -m) -R"
  if ! $prefix true 2>/dev/null; then
    echo "check-tsan: this kernel's mmap randomization breaks TSan and" \
      "setarch -R is not allowed here; try: sysctl vm.mmap_rnd_bits=28" >&2
    exit 1
  fi
  echo "check-tsan: running with address randomization off ($prefix)"
fi

rm -rf tsan-logs
mkdir tsan-logs
TSAN_OPTIONS="log_path=$build/tsan-logs/tsan second_deadlock_stack=1"
export TSAN_OPTIONS
start=$(date +%s)
rc=0
$prefix $make check TESTS="$*" || rc=$?
took=$(($(date +%s) - start))
[ $rc -eq 0 ] || cat test-suite.log
reports=$(ls tsan-logs)
if [ -n "$reports" ]; then
  for r in $reports; do
    echo "=== tsan-logs/$r"
    cat "tsan-logs/$r"
  done
  echo "check-tsan: ThreadSanitizer reported in: $reports" >&2
  exit 1
fi
[ $rc -eq 0 ] || exit $rc
echo "check-tsan: $# tests under ThreadSanitizer in $took s, no reports"
