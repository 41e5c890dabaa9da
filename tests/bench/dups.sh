#!/bin/sh
# Near-duplicate benchmark (BENCHMARKS.md, "Near-duplicates"): the
# perceptual hash's precision and recall on copies made from CIFAR-10 test
# images, by Hamming threshold, and the time to find all pairs among the
# 30,000 images of cifar10-train-30k and among a million synthetic hashes
# (random, with planted near copies), with the sizes between for the
# growth.
#
#   sh tests/bench/dups.sh [BUILDDIR]
#
# Needs ../shared/datasets; builds BUILDDIR/dupsbench (make bench-tools,
# libjpeg for the JPEG copies) when it is missing. Minutes on two cores.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../..}
data=${WINNOW_DATASETS:-$here/../../../shared/datasets}
[ -x "$build/dupsbench" ] || make -C "$build" dupsbench >/dev/null
bench="$build/dupsbench"
echo "## quality: 1000 CIFAR-10 test images, 14 copies each, 5000 others"
"$bench" quality "$data/cifar10-test" 1000 5000 1
echo
echo "## speed: cifar10-train-30k, T = 8"
"$bench" speed-dir "$data/cifar10-train-30k" 8
echo
echo "## speed: synthetic hashes, 1% planted near copies, T = 8"
for n in 100000 300000 1000000; do
  /usr/bin/time -f "wall %e s, peak RSS %M KB" \
    "$bench" speed "$n" $((n / 100)) 8 1
done
