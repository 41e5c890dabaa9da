#!/bin/sh
# Scale benchmark: review, export and stats at 30,000 to 1,000,000
# samples, on projects made by bigproject (no decoding: CIFAR-10 images,
# or synthetic ones without ../shared/datasets, a finished run, decisions).
#
#   sh tests/bench/scale.sh [BUILDDIR]
#
# WINNOW_BENCH_SIZES (default "30000 100000 300000 1000000"), and
# WINNOW_BENCH_DIR: where the projects are made and kept (default a
# temporary folder, removed; a 1,000,000-sample project takes 3 GB), an
# existing DIR/pN.db is used as it is. WINNOW_BENCH_REPEAT (default 3):
# runs of each timing, reported as best and median.
#
# Per size: review start-up (launch to the first screen, in a 200x60 tmux
# window, without the engine; and the load alone, from the --debug log),
# key to screen (WINNOW_UI_TIMING, as tests/bench/ui-latency.sh; moves, a
# decision and its undo; no engine), the review's peak memory, and
# export --labels, --scores, --jsonl and stats: wall time and peak RSS.
# WINNOW=PATH times another winnow binary on the same projects.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top}
winnow=${WINNOW:-$build/winnow} # another build to compare with
sizes=${WINNOW_BENCH_SIZES:-30000 100000 300000 1000000}
repeat=${WINNOW_BENCH_REPEAT:-3}
data=${WINNOW_DATASETS:-$top/../shared/datasets}/cifar10-train-30k
[ -d "$data" ] || data=-
sock=wns$$
if [ -n "${WINNOW_BENCH_DIR:-}" ]; then
  out=$WINNOW_BENCH_DIR
  mkdir -p "$out"
  trap 'tmux -L "$sock" kill-server >/dev/null 2>&1' EXIT INT TERM
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-scale.XXXXXX")
  trap 'tmux -L "$sock" kill-server >/dev/null 2>&1; rm -rf "$out"' EXIT INT TERM
fi
tm() { tmux -u -L "$sock" -f /dev/null "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "winnow:  $("$winnow" --version)"

now() { date +%s%N; }
ms() { echo "$1 $2" | awk '{ printf "%.0f\n", ($2 - $1) / 1e6 }'; }
# best and median of the numbers in a file
summary() { sort -n "$1" | awk '{ v[NR] = $1 } END {
  printf "best %s median %s", v[1], v[int((NR + 1) / 2)] }'; }
keys() { sort -n "$1" | awk '{ v[NR] = $1 } END {
  printf "n %d median %.2f ms p90 %.2f ms max %.2f ms", NR,
    v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }'; }

wait_for() { # TEXT: poll the screen for up to 120 s
  end=$(($(date +%s) + 120))
  until tm capture-pane -p -t w 2>/dev/null | grep -qF -- "$1"; do
    [ "$(date +%s)" -ge "$end" ] && { echo "timeout: $1" >&2; return 1; }
    sleep 0.01
  done
}

runs=0
review_once() { # DB TIMINGFILE: start-up ms on stdout; leaves the screen up
  # A server of its own each time: a new one on the socket of one that is
  # still exiting can be taken down with it.
  runs=$((runs + 1))
  sock=wns$$r$runs
  t0=$(now)
  tm start-server \; set -g default-terminal tmux-256color \; \
    new-session -d -s b -n w -x 200 -y 60 -c "$out" \
    -e LANG=C.UTF-8 -e WINNOW_UI_TIMING="$2" \
    "'$winnow' review '$1' --no-engine --debug '$out/debug.log'; sleep 600"
  wait_for "showing: to review"
  ms "$t0" "$(now)"
}

timed() { # LABEL, then the command: appends "secs kb" to $out/LABEL.t
  label=$1; shift
  /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/err" ||
    { cat "$out/err" >&2; return 1; }
  cat "$out/time" >>"$out/$label.t"
}

report() { # LABEL NAME
  awk '{ print $1 }' "$out/$1.t" >"$out/$1.s"
  kb=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$out/$1.t")
  printf '  %-16s %s s, peak %d MiB\n' "$2" "$(summary "$out/$1.s")" \
    $((kb / 1024))
}

for n in $sizes; do
  db=$out/p$n.db
  if [ ! -f "$db" ]; then
    make -C "$build" bigproject >/dev/null
    t0=$(now)
    "$build/bigproject" project "$db" "$n" "$data" 2>"$out/gen.log"
    echo "p$n: made in $(ms "$t0" "$(now)") ms: $(cat "$out/gen.log")"
  fi
  echo "== $n samples ($(du -m "$db" | cut -f1) MiB)"
  rm -f "$out"/*.t "$out/start.ms" "$out/load.ms"
  : >"$out/keys.ms"

  # Start-up and keys: the screen up, a page of keys, quit.
  for r in $(seq 1 "$repeat"); do
    : >"$out/debug.log"
    review_once "$db" "$out/keys.ms" >"$out/one.ms"
    cat "$out/one.ms" >>"$out/start.ms"
    grep -o 'loaded [0-9]* samples, run [0-9]*, in [0-9.]* ms' \
      "$out/debug.log" | head -1 | awk '{ print $7 }' >>"$out/load.ms"
    for k in j j j j k j C-f j j k v j j u j G g j C-b j; do
      tm send-keys -t w "$k"
      sleep 0.04
    done
    sleep 0.5
    pid=$(pgrep -P "$(tm display -p -t w '#{pane_pid}')" | head -1)
    hwm=$(awk '/VmHWM/ { print $2 }' /proc/"$pid"/status)
    tm send-keys -t w q
    sleep 0.3
    tm kill-server >/dev/null 2>&1 || true
  done
  echo "  review start-up  $(summary "$out/start.ms") ms (launch to first screen)"
  echo "  review load      $(summary "$out/load.ms") ms (states and scores to the ranked queue)"
  echo "  key to screen    $(keys "$out/keys.ms")"
  echo "  review memory    peak $((hwm / 1024)) MiB (no engine)"

  for r in $(seq 1 "$repeat"); do
    timed labels "$winnow" export "$db" --labels "$out/l.csv" --status
    timed scores "$winnow" export "$db" --scores "$out/s.csv"
    timed jsonl "$winnow" export "$db" --jsonl "$out/j.jsonl"
    timed stats "$winnow" stats "$db"
  done
  report labels "export --labels"
  report scores "export --scores"
  report jsonl "export --jsonl"
  report stats "stats"
  rm -f "$out/l.csv" "$out/s.csv" "$out/j.jsonl"
done
