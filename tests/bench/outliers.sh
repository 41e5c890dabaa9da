#!/bin/sh
# Outlier benchmark (BENCHMARKS.md, "Outliers"): images that belong to no
# class mixed into CIFAR-10 test images (MNIST digits, flat images, noise;
# tests/bench/outlier-mix.py), imported, scored, and the outlier column of
# export --scores judged: the AUROC of each kind of odd image against the
# CIFAR images, and of all of them together.
#
#   sh tests/bench/outliers.sh [BUILDDIR] [EPOCHS]
#
# Needs ../shared/datasets and python3. Minutes on two cores.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../..}
epochs=${2:-10}
data=${WINNOW_DATASETS:-$here/../../../shared/datasets}
work=${TMPDIR:-/tmp}/outliers.$$
rm -rf "$work"
mkdir -p "$work"
python3 "$here/outlier-mix.py" "$data" "$work/ds" 5000 200 50 50 1
"$build/winnow" import "$work/p.db" "$work/ds" -q >/dev/null
/usr/bin/time -f "score: wall %e s" \
  "$build/winnow" score "$work/p.db" --epochs "$epochs" --threads 2 -q
"$build/winnow" export "$work/p.db" --scores "$work/s.csv" -q
# AUROC of column outlier: the chance that an odd image of a kind scores
# above a CIFAR image (ties count half).
auroc() { # auroc KIND-PREFIX ("m", "b", "n", or "mbn" for all)
  awk -F, -v kinds="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "outlier") c = i; next }
    { n = split($1, p, "/"); k = substr(p[n], 1, 1)
      if (k == "c") neg[++nn] = $c; else if (index(kinds, k)) pos[++np] = $c }
    END { s = 0; for (i = 1; i <= np; i++) for (j = 1; j <= nn; j++)
            s += pos[i] > neg[j] ? 1 : pos[i] == neg[j] ? 0.5 : 0
          printf "%.4f (%d odd, %d CIFAR)\n", s / (np * nn), np, nn }' "$work/s.csv"
}
echo "MNIST digits: $(auroc m)"
echo "flat images:  $(auroc b)"
echo "noise:        $(auroc n)"
echo "all odd ones: $(auroc mbn)"
# The noise score's own AUROC for the same images, for comparison: a
# stray image is not a wrong label of a class, so it should not rank high
# there.
awk -F, 'NR > 1 { n = split($1, p, "/"); k = substr(p[n], 1, 1)
  if (k != "c") { odd++; if ($5 == 1) flagged++ } }
  END { printf "odd images flagged as wrong labels: %d of %d\n", flagged, odd }' "$work/s.csv"
if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
