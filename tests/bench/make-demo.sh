#!/bin/sh
# Cut the demo dataset of `winnow demo` into data/demo/ (committed: the
# demo must run without ../shared/datasets). The output depends only on the
# source images and the seed, so running this again changes nothing.
#
#   sh tests/bench/make-demo.sh [BUILDDIR]
#
# Needs ../shared/datasets/cifar10-test (not part of the repository).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top}
data=${WINNOW_DATASETS:-$top/../shared/datasets}
[ -d "$data/cifar10-test" ] || { echo "no datasets at $data" >&2; exit 1; }
make -C "$build" make-demo >/dev/null
mkdir -p "$top/data/demo"
# 200 images per class, 10% of the labels flipped, seed 2026.
"$build/make-demo" "$data/cifar10-test" "$top/data/demo" 200 10 2026
ls -l "$top/data/demo"
