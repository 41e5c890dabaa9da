#!/bin/sh
# Several winnow processes on one project file at once. Every write either
# lands or fails with "project is busy" after a bounded wait, and nothing
# is lost or corrupted:
#   review + score + export + import + set/undo writers: the review
#   screen decides while `winnow score` trains, scripts set, undo and
#   export in loops and an import adds samples; each writer's reported
#   successes are exactly the events in the file, and every export sees
#   the import whole or not at all;
#   score + score: a second score (or the screen's t) refuses while the
#   first is live, and a new one works once it has ended;
#   a writer held off by a long transaction gives up after the busy
#   timeout (10 s) with the busy message, on the command line and in the
#   review screen, while readers go on;
#   review with its engine live + set writers: no decision of either is
#   lost (a second connection in one process once dropped the first one's
#   file locks, and another process then deleted the WAL under it); a
#   paused engine keeps its heartbeat, so a score elsewhere still refuses;
#   two scores started at the same instant: exactly one runs.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
command -v sqlite3 >/dev/null 2>&1 || {
  echo "1..0 # SKIP sqlite3 is not installed"
  exit 0
}
TM_DEADLINE=60
now_ms() { date +%s%3N; }

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 3
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" import q.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" import r.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score p.db --epochs 2 --threads 1 -q
# Thirty more images in class folders, imported while the others write.
for c in disc square cross; do
  for i in 0 1 2 3 4 5 6 7 8 9; do
    png ds3/$c/$i.png 16 16 1
  done
done
sq() { sqlite3 -cmd '.timeout 20000' "$@"; }
count() { sq "$1" "SELECT count(*) FROM label_events WHERE $2"; }
# Decisions made before the loops, so that every undo has one to revert.
for i in 50 51 52 53 54 55; do
  "$WINNOW" set p.db img/00$i.png disc --note "n:pre-$i" >/dev/null
done
for i in 50 51 52 53 54 55; do echo "n:pre-$i"; done >notes.ok

# wait_for FILE TEXT: until FILE holds TEXT (60 s at most).
wait_for() {
  _end=$(($(date +%s) + 60))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ "$(date +%s)" -ge "$_end" ] && return 1
    sleep 0.05
  done
}

# wait_for_file FILE: until FILE exists (30 s at most).
wait_for_file() {
  _end=$(($(date +%s) + 30))
  while [ ! -f "$1" ]; do
    [ "$(date +%s)" -ge "$_end" ] && return 1
    sleep 0.05
  done
}

# setter DB W N: N decisions on samples of its own, each with a note naming
# it; successes (with their time in ms) go to set-W.ok, busy refusals to
# set-W.busy, anything else to set-W.bad.
setter() {
  _i=0
  : >"set-$2.ok"
  : >"set-$2.busy"
  : >"set-$2.bad"
  while [ $_i -lt "$3" ]; do
    _path=$(printf 'img/%04d.png' $((($2 - 1) * 12 + _i % 12)))
    _label=$(echo disc square cross | cut -d' ' -f$((_i % 3 + 1)))
    _note="n:$1-w$2-$_i"
    _t0=$(now_ms)
    if "$WINNOW" set "$1" "$_path" "$_label" --note "$_note" \
      >"set-$2.out" 2>"set-$2.err"; then
      echo "$_note $(($(now_ms) - _t0))" >>"set-$2.ok"
    elif grep -q '^winnow: set: project is busy' "set-$2.err"; then
      echo "$_note" >>"set-$2.busy"
    else
      cat "set-$2.err" >>"set-$2.bad"
    fi
    _i=$((_i + 1))
  done
}

# undoer N: undo the newest decision N times; "undid" lines to undo.ok.
undoer() {
  : >undo.ok
  : >undo.busy
  : >undo.bad
  _i=0
  while [ $_i -lt "$1" ]; do
    if "$WINNOW" undo p.db >undo.out 2>undo.err; then
      grep '^undid #' undo.out >>undo.ok
    elif grep -q '^winnow: undo: project is busy' undo.err; then
      echo busy >>undo.busy
    else
      cat undo.err >>undo.bad
    fi
    _i=$((_i + 1))
  done
}

# exporter N: read-only exports (labels and scores) and exports that
# accept suggestions (writes: all or nothing).
exporter() {
  : >export.bad
  : >export.accepted
  : >export.refused
  _i=0
  while [ $_i -lt "$1" ]; do
    if ! "$WINNOW" export p.db --labels l.csv --status --scores s.csv -q \
      2>export.err; then
      cat export.err >>export.bad
    else
      # The import beside it lands whole or not at all.
      case $(wc -l <l.csv) in
      61 | 91) ;;
      *) echo "export $_i: $(wc -l <l.csv) lines of labels" >>export.bad ;;
      esac
      [ "$(wc -l <s.csv)" -eq 61 ] ||
        echo "export $_i: $(wc -l <s.csv) lines of scores" >>export.bad
    fi
    if "$WINNOW" export p.db --labels a.csv --unreviewed accept-above 0.6 \
      >export.out 2>export.err; then
      sed -n 's/^accepted \([0-9]*\) suggestions.*/\1/p' export.out \
        >>export.accepted
    elif grep -q 'project is busy\|its label changed during the export' \
      export.err; then
      echo refused >>export.refused
    else
      cat export.err >>export.bad
    fi
    _i=$((_i + 1))
  done
}

# --- score + score: the second refuses while the first is live ---------
"$WINNOW" score p.db --epochs 10000 --threads 1 2>long.err >long.out &
long=$!
wait_for long.err "epoch 1/"
ok "a long score is training" $?
t0=$(now_ms)
run "$WINNOW" score p.db --epochs 2 --threads 1
t1=$(now_ms)
exits "a second score exits 1" 1
has "and says the project is busy with the live run" "$T/err" \
  "winnow: score: project is busy: run 2 is being scored by process $long"
diag "second score refused in $((t1 - t0)) ms"
is "no run was added for it" "$(sq p.db 'SELECT count(*) FROM runs')" 2

# --- review + score + export + writers ---------------------------------
tm_start 100 30 "'$WINNOW' review p.db --threads 1"
tm_wait "#1 of 60" >/dev/null
ok "the review screen opens beside the running score" $?
tm_keys t
tm_wait "scoring failed: project is busy: run 2 is being scored by"
ok "t in the screen refuses to race the running score" $?

setter p.db 1 16 &
w1=$!
setter p.db 2 16 &
w2=$!
setter p.db 3 16 &
w3=$!
undoer 8 &
w4=$!
exporter 6 &
w5=$!
"$WINNOW" import p.db ds3 --threads 2 -q >import.out 2>import.err &
w6=$!
for i in 1 2 3 4 5 6 7 8; do
  here=$(tm_current)
  tm_keys Space
  tm_wait_current_not "$here" || break
done
wait $w1 $w2 $w3 $w4 $w5
rc=0
wait $w6 || rc=$?
is "an import beside them lands" "$rc $(cat import.err)" "0 "
cat set-1.bad set-2.bad set-3.bad undo.bad export.bad >bad
is "no writer failed other than busy" "$(cat bad)" ""
n_set=$(cat set-1.ok set-2.ok set-3.ok | wc -l)
n_busy=$(cat set-1.busy set-2.busy set-3.busy undo.busy | wc -l)
n_undo=$(wc -l <undo.ok)
n_auto=$(awk '{ s += $1 } END { print s + 0 }' export.accepted)
diag "3 set writers: $n_set of 48 landed, $n_busy busy; $n_undo undos;\
 exports accepted $n_auto suggestions, $(wc -l <export.refused) refused"
diag "set under contention: $(cat set-1.ok set-2.ok set-3.ok | awk '
  { s += $2; if ($2 > m) m = $2 }
  END { printf "mean %d ms, max %d ms", s / NR, m }')"
ok "most decisions landed ($n_set of 48)" $([ "$n_set" -ge 40 ]; echo $?)
kill -0 $long
ok "the score kept training meanwhile" $?

# --- a writer held off by a long transaction ----------------------------
rm -f locked release
(
  echo "BEGIN IMMEDIATE;"
  echo "UPDATE classes SET name = name WHERE id = 0;"
  echo ".shell touch locked"
  n=0
  while [ ! -f release ] && [ $n -lt 400 ]; do
    sleep 0.1
    n=$((n + 1))
  done
  echo "ROLLBACK;"
) | sq p.db &
holder=$!
wait_for_file locked
ok "another process holds the write lock" $?
here=$(tm_current)
tm_keys Space
t0=$(now_ms)
run "$WINNOW" set p.db img/0059.png cross --note n:held
t1=$(now_ms)
busy_ms=$((t1 - t0))
exits "set gives up" 1
is "with the busy message" "$(cat "$T/err")" \
  "winnow: set: project is busy: another winnow is writing to it"
ok "after the busy timeout, not before and not much after ($busy_ms ms)" \
  $([ $busy_ms -ge 9500 ] && [ $busy_ms -le 30000 ]; echo $?)
t0=$(now_ms)
run "$WINNOW" export p.db --labels held.csv -q
t1=$(now_ms)
exits "a reader does not wait for the writer" 0
diag "set waited $busy_ms ms; an export meanwhile took $((t1 - t0)) ms"
tm_wait "not saved: project is busy: another winnow is writing to it"
ok "the review screen says its decision was not saved" $?
is "and stays on the sample" "$(tm_current)" "$here"
touch release
wait $holder
run "$WINNOW" set p.db img/0059.png cross --note n:after
exits "once the lock is free, set works" 0
echo n:after >>notes.ok

# --- the first score ends; a new one works ------------------------------
kill -INT $long
rc=0
wait $long || rc=$?
is "the long score stops on SIGINT" "$rc" 1
has "its run is saved as interrupted" long.err "run 2 saved"
run "$WINNOW" score p.db --epochs 2 --threads 1
exits "a score after it ends runs" 0
has "as run 3" "$T/out" "run 3 done"
tm_wait "run 3 finished"
ok "the open review screen picks up the run published elsewhere" $?
tm_keys q
is "the review screen exits 0" "$(tm_wait_exit)" 0
tm_wait "decisions this session"
ui=$(sed -n 's/^\([0-9]*\) decisions* this session.*/\1/p' "$T/screen")
tm_kill

# --- nothing lost, nothing corrupt --------------------------------------
is "the project file is intact" "$(sq p.db 'PRAGMA integrity_check')" ok
cat set-1.ok set-2.ok set-3.ok | cut -d' ' -f1 >>notes.ok
sort notes.ok >want
sq p.db "SELECT note FROM label_events WHERE note LIKE 'n:%'" | sort >got
cmp -s want got
ok "every set reported done is in the file, and no other" $?
[ $? -eq 0 ] || diff want got | head -10 | sed 's/^/# /'
human=$(count p.db "source = 'human'")
is "human events: sets + undos + screen decisions" "$human" \
  $((6 + n_set + 1 + n_undo + ui))
is "auto events: what the exports reported accepting" \
  "$(count p.db "source = 'auto'")" "$n_auto"
is "the undos reverted decisions" \
  "$(count p.db "undoes IS NOT NULL")" "$n_undo"
is "the import's samples are all there" \
  "$(sq p.db 'SELECT count(*) FROM samples')" 90
is "runs: done, interrupted, done" \
  "$(sq p.db 'SELECT group_concat(status) FROM runs')" \
  "done,interrupted,done"

# --- review with its engine live, beside set writers --------------------
tm_start 100 30 "'$WINNOW' review q.db --epochs 10000 --threads 1"
tm_wait "training" >/dev/null
ok "the review screen scores q.db by itself" $?
setter q.db 1 12 &
w1=$!
setter q.db 2 12 &
w2=$!
for i in 1 2 3 4 5 6; do
  here=$(tm_current)
  tm_keys Space
  tm_wait_current_not "$here" || break
  "$WINNOW" info q.db >/dev/null
done
wait $w1 $w2
is "no writer failed other than busy" "$(cat set-1.bad set-2.bad)" ""
n_set=$(cat set-1.ok set-2.ok | wc -l)

# A paused engine is alive: its heartbeat goes on, so a score elsewhere
# refuses instead of taking the run for orphaned and racing it.
tm_keys t
tm_wait "paused:" >/dev/null
ok "t pauses the engine" $?
heartbeat() { sq q.db "SELECT heartbeat FROM runs WHERE status = 'running'"; }
sq q.db "UPDATE runs SET heartbeat = 0 WHERE status = 'running'"
end=$(($(date +%s) + 15))
while [ "$(heartbeat)" = 0 ] && [ "$(date +%s)" -lt "$end" ]; do
  sleep 0.2
done
hb=$(heartbeat)
ok "the paused engine refreshes its heartbeat" $([ "${hb:-0}" -gt 0 ]; echo $?)
run "$WINNOW" score q.db --epochs 2 --threads 1
exits "a score elsewhere refuses the paused run's project" 1
has "as busy" "$T/err" "project is busy: run 1 is being scored by process"
tm_keys q
is "the review screen exits 0" "$(tm_wait_exit)" 0
tm_wait "decisions this session"
ui=$(sed -n 's/^\([0-9]*\) decisions* this session.*/\1/p' "$T/screen")
tm_kill
is "q.db is intact" "$(sq q.db 'PRAGMA integrity_check')" ok
is "no decision of the screen or of set is lost" \
  "$(count q.db "source = 'human'")" $((n_set + ui))
cat set-1.ok set-2.ok | cut -d' ' -f1 | sort >want
sq q.db "SELECT note FROM label_events WHERE note LIKE 'n:%'" | sort >got
cmp -s want got
ok "every set reported done is in the file, and no other" $?
is "the screen's run is interrupted, not failed" \
  "$(sq q.db 'SELECT group_concat(status) FROM runs')" interrupted

# --- two scores started at the same instant -----------------------------
"$WINNOW" score r.db --epochs 10000 --threads 1 >a.out 2>a.err &
a=$!
"$WINNOW" score r.db --epochs 10000 --threads 1 >b.out 2>b.err &
b=$!
end=$(($(date +%s) + 60))
while kill -0 $a 2>/dev/null && kill -0 $b 2>/dev/null &&
  [ "$(date +%s)" -lt "$end" ]; do
  sleep 0.05
done
if kill -0 $a 2>/dev/null; then
  live=$a lose=$b err=b.err
else
  live=$b lose=$a err=a.err
fi
rc=0
wait $lose || rc=$?
is "one of two simultaneous scores refuses" "$rc" 1
has "naming the other's process" $err \
  "project is busy: run 1 is being scored by process $live"
kill -0 $live
ok "the other one runs" $?
kill -INT $live
wait $live
is "one run only" "$(sq r.db 'SELECT group_concat(status) FROM runs')" \
  interrupted

done_testing
