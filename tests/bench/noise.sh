#!/bin/sh
# Detection benchmark: inject label noise with a fixed seed, then do what a
# user would (winnow import, winnow score, winnow export --scores) and count
# what the scores find (tests/bench/noisetool.c eval). One row per case:
# the score step's wall time and peak memory, then noisetool's figures.
#
#   sh tests/bench/noise.sh [BUILDDIR [CASE...]]
#
# CASE (or CASES="..." in the environment; default: all but torch):
#   cifar-sym20 cifar-sym40 cifar-asym40   CIFAR-10 30k, CSV manifest
#   cifar-sym20-elr cifar-asym40-elr       the same with --elr
#   cifar-sym20-folds5                     the same as cifar-sym20, with
#                                          --folds 5
#   mnist-sym20 mnist-asym40               MNIST test, IDX (gzip images)
#   flowers-sym20 flowers-asym30           Oxford 17 flowers, 1,360 JPEG
#                                          photos, CSV manifest
#   flowers-sym20-folds5                   the same with --folds 5: every
#                                          photo judged by a model that
#                                          never saw it
#   torch                                  the same CNN in PyTorch, one
#                                          epoch, images/s (tests/bench/
#                                          torch-ref.py; installs
#                                          python3-torch and python3-pil)
# Environment:
#   SCORE_ARGS        extra options for every winnow score
#   IMPORT_ARGS       extra options for every winnow import (--max-side)
#   NOISE_SEED        seed of the injected noise (default 1)
#   RESULTS=FILE      also append the rows to FILE
#   WINNOW_DATASETS   the datasets (default: <repo>/../shared/datasets)
#   KEEP=1            keep the work folders (printed) for a closer look
#
# CIFAR cases take ten minutes and more on two cores; MNIST ones a few.
# Needs ../shared/datasets (not part of the repository) and builds
# BUILDDIR/noisetool with `make bench-tools` when it is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd)
winnow=$build/winnow
noisetool=$build/noisetool
data=${WINNOW_DATASETS:-$top/../shared/datasets}
seed=${NOISE_SEED:-1}
score_args=${SCORE_ARGS:-}
import_args=${IMPORT_ARGS:-}
results=${RESULTS:-}
all="cifar-sym20 cifar-sym40 cifar-asym40 mnist-sym20 mnist-asym40
cifar-sym20-elr cifar-asym40-elr cifar-sym20-folds5 flowers-sym20
flowers-asym30 flowers-sym20-folds5"
if [ $# -gt 0 ]; then cases=$*; else cases=${CASES:-$all}; fi

[ -x "$winnow" ] || { echo "no winnow at $winnow (make first)" >&2; exit 1; }
[ -x "$noisetool" ] || make -C "$build" bench-tools >&2
cifar=$data/cifar10-train-30k
flowers=$data/flowers17
mnist_images=$data/mnist-test/t10k-images-idx3-ubyte.gz
mnist_labels=$data/mnist-test/t10k-labels-idx1-ubyte.gz

out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-noise.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "work folders under $out" >&2
else
  trap 'rm -rf "$out"' EXIT
fi

emit() {
  echo "$1"
  [ -z "$results" ] || echo "$1" >>"$results"
}

rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
emit "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg); $("$winnow" --version) ($rev); noise seed $seed; SCORE_ARGS='$score_args' IMPORT_ARGS='$import_args'"

# run_case NAME SOURCE MODE RATE [SCORE OPTIONS...]
run_case() {
  name=$1 source=$2 mode=$3 rate=$4
  shift 4
  dir=$out/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  # shellcheck disable=SC2086 # IMPORT_ARGS is a list of options
  case $source in
  cifar|flowers)
    if [ "$source" = cifar ]; then root=$cifar; else root=$flowers; fi
    [ -d "$root" ] || { echo "no datasets at $data" >&2; return 1; }
    "$noisetool" inject-folder "$root" "$dir" "$mode" "$rate" "$seed" \
      2>"$dir/inject.log"
    "$winnow" import "$dir/p.db" --csv "$dir/manifest.csv" --quiet \
      $import_args >"$dir/import.log" 2>&1 ;;
  mnist)
    [ -f "$mnist_images" ] || { echo "no datasets at $data" >&2; return 1; }
    "$noisetool" inject-idx "$mnist_images" "$mnist_labels" "$dir" "$mode" \
      "$rate" "$seed" 2>"$dir/inject.log"
    "$winnow" import "$dir/p.db" --idx "$mnist_images" \
      "$dir/labels-noisy.idx" --quiet $import_args >"$dir/import.log" 2>&1 ;;
  esac
  # Not --quiet: the per-epoch lines give the training speed.
  # shellcheck disable=SC2086 # SCORE_ARGS is a list of options
  if ! /usr/bin/time -f '%e %M' -o "$dir/time" \
      "$winnow" score "$dir/p.db" $score_args "$@" >"$dir/score.log" 2>&1
  then
    tail -5 "$dir/score.log" >&2
    emit "case=$name FAILED (winnow score)"
    return 0
  fi
  "$winnow" export "$dir/p.db" --scores "$dir/scores.csv"
  # eval exits 1 when truth and scores do not join; its figures still show.
  figures=$("$noisetool" eval "$dir/truth.csv" "$dir/scores.csv") ||
    echo "$name: truth and scores do not join fully" >&2
  # shellcheck disable=SC2046 # two numbers
  set -- $(cat "$dir/time")
  secs=$1 kb=$2
  epochs=$(grep -o 'epoch [0-9]*/[0-9]*' "$dir/score.log" | tail -1 |
           cut -d/ -f2)
  ips=$(grep -o '[0-9]* images/s' "$dir/score.log" | tail -1 | cut -d' ' -f1)
  gflops=$(grep -o '[0-9.]* GFLOP/s' "$dir/score.log" | tail -1 |
           cut -d' ' -f1)
  est=$(grep -o 'estimated noise rate [0-9.]*' "$dir/score.log" |
        cut -d' ' -f4)
  emit "case=$name secs=$secs peak_mib=$((kb / 1024)) epochs=${epochs:-?} images_per_s=${ips:-?} train_gflops=${gflops:-?} est_noise_pct=${est:-?} $figures"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
}

# The yardstick for train_gflops, measured now, on this machine and load.
emit "case=peak $("$noisetool" peak "$(nproc)")"

for c in $cases; do
  case $c in
  cifar-sym20)        run_case "$c" cifar sym 0.2 ;;
  cifar-sym40)        run_case "$c" cifar sym 0.4 ;;
  cifar-asym40)       run_case "$c" cifar cifar-asym 0.4 ;;
  cifar-sym20-elr)    run_case "$c" cifar sym 0.2 --elr ;;
  cifar-asym40-elr)   run_case "$c" cifar cifar-asym 0.4 --elr ;;
  cifar-sym20-folds5) run_case "$c" cifar sym 0.2 --folds 5 ;;
  mnist-sym20)        run_case "$c" mnist sym 0.2 ;;
  mnist-asym40)       run_case "$c" mnist mnist-asym 0.4 ;;
  flowers-sym20)      run_case "$c" flowers sym 0.2 ;;
  flowers-asym30)     run_case "$c" flowers flowers-asym 0.3 ;;
  flowers-sym20-folds5) run_case "$c" flowers sym 0.2 --folds 5 ;;
  torch)
    # Debian's python (not one earlier on PATH) is where its packages go.
    # Only the benchmark installs them, and only when asked for.
    if ! /usr/bin/python3 -c 'import torch, PIL' 2>/dev/null; then
      apt-get install -y python3-torch python3-pil >&2
    fi
    emit "case=torch $(/usr/bin/python3 "$here/torch-ref.py" "$cifar")" ;;
  *) echo "unknown case '$c' (known: $all torch)" >&2; exit 2 ;;
  esac
done
