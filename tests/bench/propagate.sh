#!/bin/sh
# Propagation benchmark (BENCHMARKS.md, "One decision, many samples"): on
# CIFAR-10 30k with 20% symmetric noise (noise.sh's cifar-sym20, seed 1),
# the wrong labels one simulated person fixes per 100 keypresses, one
# sample a key and with the review screen's offers (p, P): propbench.
#
#   sh tests/bench/propagate.sh [BUILDDIR [KEYS]]
#
# Needs ../shared/datasets; half an hour and more on two cores (the run).
# CASE=NAME takes another noise.sh case (mnist-sym20: minutes);
# PROJECT=DIR reuses a kept noise.sh work folder (KEEP=1) instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../..}" && pwd)
keys=${2:-1000}
[ -x "$build/propbench" ] || make -C "$build" bench-tools >&2
if [ -z "${PROJECT:-}" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/winnow-prop.XXXXXX")
  case=${CASE:-cifar-sym20}
  TMPDIR=$work KEEP=1 sh "$here/noise.sh" "$build" "$case" >&2
  PROJECT=$(ls -d "$work"/winnow-noise.*/"$case")
fi
"$build/propbench" "$PROJECT/p.db" "$PROJECT/truth.csv" "$keys"
