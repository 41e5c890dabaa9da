#!/bin/sh
# score --probs on random but valid probabilities: wall time and peak
# memory of 30,000 x 10 and 1,000,000 x 100 (BENCHMARKS.md).
#   make probsbench && tests/bench/probs.sh BUILDDIR [N:K ...]
set -eu
build=$(cd "${1:?usage: probs.sh BUILDDIR [N:K ...]}" && pwd)
shift
[ $# -gt 0 ] || set -- 30000:10 1000000:100
dir=$(mktemp -d "${TMPDIR:-/tmp}/winnow-probs.XXXXXX")
trap 'rm -rf "$dir"' EXIT
for case in "$@"; do
  n=${case%:*} k=${case#*:}
  rm -f "$dir"/p.db* "$dir"/p.npy
  t0=$(date +%s.%N)
  "$build/probsbench" "$dir/p.db" "$dir/p.npy" "$n" "$k"
  t1=$(date +%s.%N)
  /usr/bin/time -v "$build/winnow" score "$dir/p.db" --probs "$dir/p.npy" \
    >"$dir/out" 2>"$dir/time"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time")
  size=$(du -m "$dir/p.db" | cut -f1)
  /usr/bin/time -v "$build/winnow" export "$dir/p.db" --probs "$dir/o.npy" \
    >/dev/null 2>"$dir/etime"
  ewall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/etime")
  erss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/etime")
  cmp -s "$dir/p.npy" "$dir/o.npy" && same=yes || same=NO
  printf '%s x %s: made in %.0f s; score --probs %s wall, %d MB peak; ' \
    "$n" "$k" "$(echo "$t1 - $t0" | bc)" "$wall" $((rss / 1024))
  printf 'project %s MB; export --probs %s wall, %d MB peak, identical: %s\n' \
    "$size" "$ewall" $((erss / 1024)) "$same"
  head -1 "$dir/out"
  rm -f "$dir/o.npy"
done
