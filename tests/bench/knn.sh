#!/bin/sh
# The neighbour search at 30,000 to 1,000,000 rows of 64 features: time,
# CPU time, peak memory and recall@20 of the true neighbours on random
# queries (BENCHMARKS.md, "Scale").
#   make knnbench && tests/bench/knn.sh BUILDDIR [N ...]
# Environment: KNN_KINDS (default "mix iso"; empty for none), KNN_QUERIES (default 1000),
# KNN_THREADS (2), KNN_ARGS (more knnbench options, e.g. "--probes 8"),
# KNN_FEATURES (a .npy of N x 64 real features, e.g. from
# `winnow export --features`: its rows, repeated with noise up to N).
set -eu
build=$(cd "${1:?usage: knn.sh BUILDDIR [N ...]}" && pwd)
shift
[ $# -gt 0 ] || set -- 30000 100000 300000 1000000
kinds=${KNN_KINDS-mix iso}
[ -n "${KNN_FEATURES:-}" ] && kinds="$kinds file"
for n in "$@"; do
  for kind in $kinds; do
    if [ "$kind" = file ]; then
      src="--features $KNN_FEATURES"
    else
      src="--kind $kind"
    fi
    # shellcheck disable=SC2086
    /usr/bin/time -f 'peak_mb=%M' "$build/knnbench" "$n" $src \
      --threads "${KNN_THREADS:-2}" --queries "${KNN_QUERIES:-1000}" \
      ${KNN_ARGS:-} 2>"${TMPDIR:-/tmp}/knn.$$" | tr '\n' ' '
    # /usr/bin/time gives KiB; the table wants MiB.
    awk -F= '/peak_mb/ {printf "peak_mb=%d\n", $2 / 1024}' \
      "${TMPDIR:-/tmp}/knn.$$"
    rm -f "${TMPDIR:-/tmp}/knn.$$"
  done
done
