#!/bin/sh
# tests/fuzz/run.sh: run one libFuzzer target by hand (tests/fuzz/README).
#
#   tests/fuzz/run.sh [-b BUILDDIR] [-w WORKDIR] TARGET SECONDS [ARGS...]
#       fuzz TARGET (png, csv, idx, store, jpeg, webp) for SECONDS under nice -n 19,
#       starting from the seed corpus and the crashes found so far; new
#       inputs go to WORKDIR/corpus, crashes to WORKDIR/crashes, the log
#       to WORKDIR/log; ARGS go to libFuzzer as they are
#   tests/fuzz/run.sh [-b BUILDDIR] [-w WORKDIR] -m TARGET [ARGS...]
#       merge into tests/fuzz/corpus/TARGET those inputs of WORKDIR/corpus
#       that reach coverage the seeds do not (libFuzzer -merge=1; for
#       store add -use_counters=0: new edges only, or the 17 KB project
#       files pile up)
#
# BUILDDIR (default: the current folder) is a configured tree where `make
# fuzz` ran; WORKDIR defaults to $TMPDIR/winnow-fuzz/TARGET, outside the
# source tree, and is kept between runs so a second run goes on from the
# first. Inputs are written to /dev/shm when it exists: the store target
# writes a project file per input, and a RAM disk keeps that off the disk.
set -eu

src=$(cd "$(dirname "$0")" && pwd)
build=.
work=
merge=no
while [ $# -gt 0 ]; do
  case $1 in
  -b) build=$2; shift 2 ;;
  -w) work=$2; shift 2 ;;
  -m) merge=yes; shift ;;
  *) break ;;
  esac
done
usage() {
  echo "usage: run.sh [-b BUILDDIR] [-w WORKDIR] TARGET SECONDS [ARGS...]" >&2
  echo "       run.sh [-b BUILDDIR] [-w WORKDIR] -m TARGET [ARGS...]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
target=$1
shift
case $target in
png|csv|idx|store|jpeg|webp|npy|probs) ;;
*) echo "run.sh: unknown target '$target' (png, csv, idx, store, jpeg, webp, npy, probs)" >&2
   exit 2 ;;
esac
bin=$build/tests/fuzz/fuzz-$target
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin not found: run 'make fuzz' in the build tree first" >&2
  exit 1
fi
work=${work:-${TMPDIR:-/tmp}/winnow-fuzz/$target}
mkdir -p "$work/corpus" "$work/crashes"
[ -d /dev/shm ] && [ -w /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR

if [ $merge = yes ]; then
  before=$(ls "$src/corpus/$target" | wc -l)
  "$bin" -merge=1 "$@" "$src/corpus/$target" "$work/corpus" 2>&1 |
    tail -n 3
  after=$(ls "$src/corpus/$target" | wc -l)
  echo "run.sh: corpus/$target: $before -> $after files," \
    "$(cat "$src/corpus/$target"/* | wc -c) bytes"
  exit 0
fi

[ $# -ge 1 ] || usage
seconds=$1
shift
dict=
[ -f "$src/$target.dict" ] && dict=-dict=$src/$target.dict
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "run.sh: fuzz-$target for $seconds s; load before: $load" | tee "$work/log"
# -timeout: the largest image a PNG may claim decodes in about a second
# under ASan; an input taking 25 is a hang worth a look.
nice -n 19 "$bin" -max_total_time="$seconds" -timeout=25 \
  -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/crashes/" $dict "$@" \
  "$work/corpus" "$src/corpus/$target" "$src/crashes/$target" \
  >>"$work/log" 2>&1 || status=$?
echo "run.sh: exit ${status:-0}; load after: $(cut -d' ' -f1-3 /proc/loadavg)" |
  tee -a "$work/log"
# The last status line (runs, cov, ft, corpus, exec/s) and final stats.
grep -E '^#[0-9]+' "$work/log" | tail -n 1
grep -E '^stat::' "$work/log" || true
ls "$work/crashes" | sed 's/^/crash: /'
exit "${status:-0}"
