#!/bin/sh
# Import benchmark: the 30,000 CIFAR-10 PNGs (class folders) and the MNIST
# test set (IDX, gzip). Reports wall time, images/s, peak memory and the
# project file's size.
#
#   make bench   (or: sh tests/bench/import.sh [BUILDDIR])
#
# Needs ../shared/datasets (not part of the repository).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top}
winnow=$build/winnow
data=${WINNOW_DATASETS:-$top/../shared/datasets}
out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
[ -d "$data/cifar10-train-30k" ] || { echo "no datasets at $data" >&2; exit 1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "winnow:  $("$winnow" --version)"

bench() { # name, then the import arguments
  name=$1; shift
  # Drop the page cache's advantage for a fair first read where we can.
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  /usr/bin/time -f '%e %M' -o "$out/time" "$winnow" import "$out/$name.db" "$@" --quiet >"$out/log" 2>&1
  set -- $(cat "$out/time")
  secs=$1; kb=$2
  n=$(grep -o 'imported [0-9]*' "$out/log" | cut -d' ' -f2)
  size=$(du -k "$out/$name.db" | cut -f1)
  awk -v name="$name" -v n="$n" -v s="$secs" -v kb="$kb" -v size="$size" 'BEGIN {
    printf "%-22s %6d images  %6.2f s  %7.0f images/s  peak %5.0f MiB  file %6.1f MiB\n",
      name, n, s, n / s, kb / 1024, size / 1024 }'
}

bench cifar10-train-30k "$data/cifar10-train-30k"
bench cifar10-train-30k-1t "$data/cifar10-train-30k" --threads 1
bench mnist-test --idx "$data/mnist-test/t10k-images-idx3-ubyte.gz" "$data/mnist-test/t10k-labels-idx1-ubyte.gz"
