#!/bin/sh
# Review screen benchmark: key-to-screen latency with 50,000 samples while
# the engine trains, and the memory of the UI process without the engine.
#
#   sh tests/bench/ui-latency.sh [BUILDDIR]
#
# Makes a 50,000-sample project (28x28 gray shapes, 10% of labels
# flipped), scores it once (1 epoch, for a ranking), then drives
# `winnow review` in a 200x60 tmux window with WINNOW_UI_TIMING set: the
# binary appends, per key, the milliseconds from the key's arrival (poll
# waking up) to the end of the doupdate that shows its effect. Keys are
# sent one at a time, 40 ms apart, while a new run trains (t). A second
# figure is the tmux round trip: send-keys until capture-pane shows the
# change. Memory: VmHWM of a review without the engine after paging
# through the queue. Takes a few minutes (the scoring run); with
# WINNOW_BENCH_KEEP=DIR the project is made in DIR and kept, and an
# existing DIR/p.db is used as it is.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top}
winnow=$build/winnow
n=${WINNOW_BENCH_SAMPLES:-50000}
sock=wnb$$
if [ -n "${WINNOW_BENCH_KEEP:-}" ]; then
  out=$WINNOW_BENCH_KEEP
  mkdir -p "$out"
  trap 'tmux -L "$sock" kill-server >/dev/null 2>&1' EXIT INT TERM
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-ui.XXXXXX")
  trap 'tmux -L "$sock" kill-server >/dev/null 2>&1; rm -rf "$out"' EXIT INT TERM
fi
tm() { tmux -u -L "$sock" -f /dev/null "$@"; }
make -C "$build" tests/tools/shapes >/dev/null

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "winnow:  $("$winnow" --version)"
cd "$out"
if [ ! -f p.db ]; then
  "$build/tests/tools/shapes" ds "$n" 28 10 5
  "$winnow" import p.db --csv ds/manifest.csv -q
  "$winnow" score p.db --epochs 1 --quiet
fi

median() { sort -n "$1" | awk '{ v[NR] = $1 } END {
  printf "n %d  median %.2f ms  p90 %.2f ms  max %.2f ms\n", NR,
    v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[NR] }'; }

wait_for() { # TEXT: poll the screen for up to 60 s
  end=$(($(date +%s) + 60))
  until tm capture-pane -p -t w | grep -qF -- "$1"; do
    [ "$(date +%s)" -ge "$end" ] && { echo "timeout: $1" >&2; return 1; }
    sleep 0.02
  done
}

# 1. Latency while training.
tm start-server \; set -g default-terminal tmux-256color \; \
  new-session -d -s b -n w -x 200 -y 60 -c "$out" \
  -e LANG=C.UTF-8 -e WINNOW_UI_TIMING="$out/keys.ms" \
  "'$winnow' review p.db --epochs 50 --debug '$out/debug.log'; sleep 600"
wait_for "showing: to review"
tm send-keys -t w t
wait_for "training"
: >"$out/keys.ms"
i=0
for k in j j j j k j C-f j j k v j j u j G g j C-b j; do
  for rep in 1 2 3 4 5 6 7 8 9 10; do
    tm send-keys -t w "$k"
    sleep 0.04
    i=$((i + 1))
  done
done
echo "keys sent: $i; engine: $(tm capture-pane -p -t w | grep -o 'training.*img/s' | head -1)"
printf 'key to screen, %s samples, engine training: ' "$n"
median "$out/keys.ms"

# 2. The tmux round trip: send a key, poll until the screen changes.
: >"$out/rt.ms"
for r in $(seq 1 30); do
  before=$(tm capture-pane -p -t w | sed -n 2p)
  t0=$(date +%s%N)
  tm send-keys -t w j
  while [ "$(tm capture-pane -p -t w | sed -n 2p)" = "$before" ]; do :; done
  t1=$(date +%s%N)
  echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e6 }' >>"$out/rt.ms"
done
printf 'tmux round trip (send-keys to capture-pane), engine training: '
median "$out/rt.ms"
tm send-keys -t w q
sleep 2
tm kill-server
sock=wnb$$m

# 3. Memory without the engine, after paging through the queue.
tm start-server \; new-session -d -s m -n w -x 200 -y 60 -c "$out" \
  -e LANG=C.UTF-8 "'$winnow' review p.db --no-engine; sleep 600"
wait_for "showing: to review"
for r in $(seq 1 100); do tm send-keys -t w C-f; done
tm send-keys -t w G
sleep 1
pid=$(pgrep -P "$(tm display -p -t w '#{pane_pid}')" | head -1)
hwm=$(awk '/VmHWM/ { print $2 }' /proc/"$pid"/status)
rss=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
echo "UI memory without the engine, $n samples: peak $((hwm / 1024)) MiB, now $((rss / 1024)) MiB"
tm send-keys -t w q
