#!/bin/sh
# Near-duplicate benchmark (BENCHMARKS.md, "Near-duplicates"): the
# perceptual hash's precision and recall on copies made from CIFAR-10 test
# images, by Hamming threshold, and the time to find all pairs among the
# 30,000 images of cifar10-train-30k and among a million synthetic hashes
# (random, with planted near copies), with the sizes between for the
# growth. Then the features' evidence: the copies written out as a
# project, scored, and the pairs of the hash, of the run's features by
# cosine threshold, and of both, judged (dupsbench make, judge).
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
echo
echo "## features: 300 CIFAR-10 test images, 14 copies each, 3000 others,"
echo "## imported and scored (10 epochs); hash, features and both"
work=${TMPDIR:-/tmp}/dupsbench-feat.$$
rm -rf "$work"
"$bench" make "$data/cifar10-test" 300 3000 1 "$work/ds"
"$build/winnow" import "$work/p.db" "$work/ds" -q >/dev/null
/usr/bin/time -f "score: wall %e s" \
  "$build/winnow" score "$work/p.db" --epochs 10 --threads 2 -q
"$bench" judge "$work/p.db"
rm -rf "$work"
