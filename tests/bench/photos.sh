#!/bin/sh
# Photo import benchmark: JPEG folders as people have them. Makes, in a
# temporary folder, the 30,000 CIFAR-10 training PNGs as 32x32 JPEGs and
# flowers17 enlarged to 3000x2000 (6 megapixels) JPEGs, with
# BUILDDIR/jpegset, then imports them and flowers17 itself (1,360 JPEG
# photos up to 320 pixels) from a cold page cache, REPS times each, and
# prints the best and median images/s, peak memory and the project file's
# size per image. Then flowers17 at each stored size of MAX_SIDES (the
# --max-side study in BENCHMARKS.md).
#
#   make bench-photos   (or: sh tests/bench/photos.sh [BUILDDIR])
# Environment:
#   REPS=3            imports of each set
#   MAX_SIDES="64 128 160 224"
#   SETS="flowers cifar-jpeg photos-6mp sides"   what to run
#   WINNOW_DATASETS   the datasets (default: <repo>/../shared/datasets)
#   KEEP=1            keep the work folder (printed)
#
# Making the 6-megapixel set takes a few minutes and about 1 GB of disk.
# The page cache is dropped (as root) before each import, as import.sh
# does; without root the figures are warm-cache ones, and say so.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$top}" && pwd)
winnow=$build/winnow
jpegset=$build/jpegset
data=${WINNOW_DATASETS:-$top/../shared/datasets}
reps=${REPS:-3}
max_sides=${MAX_SIDES:-64 128 160 224}
sets=${SETS:-flowers cifar-jpeg photos-6mp sides}

[ -x "$winnow" ] || { echo "no winnow at $winnow (make first)" >&2; exit 1; }
[ -x "$jpegset" ] || make -C "$build" bench-tools >&2
[ -d "$data/flowers17" ] || { echo "no datasets at $data" >&2; exit 1; }
out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-photos.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "work folder $out" >&2
else
  trap 'rm -rf "$out"' EXIT
fi

cold=cold
drop_caches() {
  sync
  echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || cold=warm
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg); $("$winnow" --version)"

# bench NAME REPS IMPORT-ARGS...: one line, best and median of REPS.
bench() {
  name=$1 n_reps=$2
  shift 2
  : >"$out/runs"
  r=0
  while [ "$r" -lt "$n_reps" ]; do
    rm -f "$out/b.db" "$out/b.db-wal" "$out/b.db-shm"
    drop_caches
    /usr/bin/time -f '%e %M' -o "$out/time" \
      "$winnow" import "$out/b.db" "$@" --quiet >"$out/log" 2>&1 ||
      { cat "$out/log" >&2; return 1; }
    n=$(grep -o 'imported [0-9]*' "$out/log" | cut -d' ' -f2)
    echo "$(cat "$out/time") $n $(du -k "$out/b.db" | cut -f1)" >>"$out/runs"
    r=$((r + 1))
  done
  # Sorted by seconds: the best first, the median in the middle.
  sort -n "$out/runs" | awk -v name="$name" -v cold="$cold" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" '
    { s[NR] = $1; kb[NR] = $2; n = $3; file = $4 }
    END {
      med = s[int((NR + 1) / 2)]; peak = 0
      for (i = 1; i <= NR; i++) if (kb[i] > peak) peak = kb[i]
      printf "%-24s %6d images  best %7.2f s %7.0f/s  median %7.2f s %7.0f/s  peak %5.0f MiB  %5.1f KiB/image  (%s cache, %d runs, load %s)\n",
        name, n, s[1], n / s[1], med, n / med, peak / 1024, file / n, cold, NR, load }'
}

for set in $sets; do
  case $set in
  flowers)
    bench flowers17 "$reps" "$data/flowers17" ;;
  cifar-jpeg)
    "$jpegset" "$data/cifar10-train-30k" "$out/cifar-jpeg" 0 0 90 >&2
    bench cifar10-30k-jpeg "$reps" "$out/cifar-jpeg"
    rm -rf "$out/cifar-jpeg" ;;
  photos-6mp)
    "$jpegset" "$data/flowers17" "$out/photos" 3000 2000 90 >&2
    bench flowers17-3000x2000 "$reps" "$out/photos"
    rm -rf "$out/photos" ;;
  sides)
    for m in $max_sides; do
      bench "flowers17 --max-side $m" "$reps" "$data/flowers17" --max-side "$m"
    done ;;
  *) echo "unknown set '$set'" >&2; exit 2 ;;
  esac
done
