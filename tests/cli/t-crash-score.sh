#!/bin/sh
# kill -9 a `winnow score` at random moments, again and again: the project
# file stays sound and readable, the scores published before stay whole
# (or are replaced by one complete newer run, never a mix), the dead
# process is not mistaken for a live one, the killed run is resumed by the
# next --resume, and a last --resume finishes and publishes.
#
# The moments come from a seeded plan, spread over the whole life of a
# run: start-up and loading, training, the end (scoring and publication),
# and the checkpoint written after a SIGINT. Delays scale with the
# measured length of one run, so a slower build (sanitizers) hits the same
# phases. WINNOW_CRASH_KILLS (default 20) sets how many kills must land;
# WINNOW_CRASH_SEED picks another plan.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || {
  echo "1..0 # SKIP sqlite3 is not installed"
  exit 0
}
kills_wanted=${WINNOW_CRASH_KILLS:-20}
seed=${WINNOW_CRASH_SEED:-1}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
q() { sqlite3 p.db "$@"; }

n=150 epochs=4
"$TESTS_BUILDDIR/tools/shapes" ds $n 16 10 11
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
score_args="--epochs $epochs --seed 4 --threads 1"

t0=$(now_ms)
run "$WINNOW" score p.db $score_args --quiet
exits "a first run publishes scores" 0
span=$(($(now_ms) - t0))
"$WINNOW" export p.db --scores ref.csv
is "they export one row per sample" "$(($(wc -l <ref.csv) - 1))" $n
diag "one run takes $span ms; the plan is seeded with $seed"

# The plan: one line per attempt, "MODE A B", A and B in thousandths of
# the length of one run, turned into milliseconds when the attempt starts
# (the length is re-measured as runs complete, so a machine that was busy
# while the first run was timed does not push every kill past the end).
# early: start-up, loading and the claim of the run; any: anywhere in
# training; publish: B after the last epoch is reported, in scoring and
# publication; stop: SIGINT at A, then SIGKILL B later, while the
# checkpoint is being written.
awk -v seed="$seed" -v n=$((kills_wanted * 4 + 10)) 'BEGIN {
  srand(seed)
  for (i = 0; i < n; i++) {
    r = rand()
    if (r < 0.15)
      printf "early %d 0\n", rand() * 40
    else if (r < 0.45)
      printf "any %d 0\n", rand() * 1000
    else if (r < 0.75)
      printf "publish 0 %d\n", rand() * 100
    else
      printf "stop %d %d\n", 100 + rand() * 700, rand() * 50
  }
}' >plan

# wait_ms MS [TEXT]: sleep MS milliseconds, or until the process has
# written TEXT (default: until it gave up; a refused --resume need not
# wait for its kill). Polling costs a few milliseconds, too coarse for the
# early kills, which sleep once instead.
wait_ms() {
  _end=$(($(now_ms) + $1))
  while [ "$(now_ms)" -lt $_end ]; do
    grep -q "${2:-no interrupted run}" "$T/run.err" && return
    sleep 0.01
  done
}

# attempt ARGS...: start score with ARGS and kill it as the plan line in
# $mode $d1 $d2 says; sets pid and rc.
attempt() {
  : >"$T/run.err" # before wait_ms looks at it, not when the child opens it
  d1=$((f1 * span / 1000)) d2=$((f2 * span / 1000))
  started=$(now_ms)
  "$WINNOW" score p.db "$@" >"$T/run.out" 2>"$T/run.err" &
  pid=$!
  case $mode in
  publish)
    wait_ms $((span * 3)) "epoch $epochs/$epochs"
    wait_ms "$d2"
    ;;
  stop)
    wait_ms "$d1"
    kill -INT $pid 2>/dev/null
    wait_ms "$d2"
    ;;
  early) sleep "$(awk -v d="$d1" 'BEGIN { printf "%.3f", d / 1000 }')" ;;
  *) wait_ms "$d1" ;;
  esac
  # Not yet waited for, so the pid is still ours even if it has exited.
  kill -KILL $pid 2>/dev/null
  rc=0
  wait $pid 2>/dev/null || rc=$?
  # A run that finished before its kill is the best measure of how long
  # one takes now.
  if [ $rc -eq 0 ] && [ "$mode" != stop ]; then
    took=$(($(now_ms) - started))
    [ $took -ge "$span" ] || span=$took
  fi
  # winnow, read-only, is the first to open what the kill left (a hot WAL),
  # before the sqlite3 shell recovers it.
  "$WINNOW" info p.db >"$T/info.out" 2>&1 || {
    info_failed=$((info_failed + 1))
    sed 's/^/# info: /' "$T/info.out"
  }
}

# The latest finished run, its number of scores and distinct samples, and
# how many score rows belong to runs that never finished: "L N N 0".
# ARGS go first (another statement).
published() {
  q "$@" "SELECT (SELECT coalesce(max(id), 0) FROM runs WHERE status = 'done'),
     (SELECT count(*) FROM scores WHERE run_id = (SELECT max(id) FROM runs
        WHERE status = 'done')),
     (SELECT count(DISTINCT sample_id) FROM scores WHERE run_id =
        (SELECT max(id) FROM runs WHERE status = 'done')),
     (SELECT count(*) FROM scores WHERE run_id NOT IN
        (SELECT id FROM runs WHERE status = 'done'))" | tr '|' ' '
}

ref_run=$(published | cut -d' ' -f1)
kills=0 tries=0 publications=0 busy=0 unexpected=0 info_failed=0
orphans=0 resumed=0 lost=0
ph_early=0 ph_train=0 ph_end=0 ph_ckpt=0 ph_done=0
orphan=0 # a run left "running" by a killed process, for --resume
while [ $kills -lt "$kills_wanted" ]; do
  tries=$((tries + 1))
  line=$(sed -n "${tries}p" plan)
  [ -n "$line" ] || break
  set -- $line
  mode=$1 f1=$2 f2=$3
  if [ $orphan -ne 0 ]; then
    attempt $score_args --resume
    state=$(q "SELECT status || ' ' || pid FROM runs WHERE id = $orphan")
    if [ $rc -eq 1 ] && grep -q "no interrupted run to resume" "$T/run.err"
    then
      lost=$((lost + 1))
      orphan=0
      attempt $score_args
    elif [ "${state#* }" = "$pid" ]; then
      resumed=$((resumed + 1)) # claimed by this process, whatever came next
      orphan=0
    elif [ "${state% *}" != running ]; then
      lost=$((lost + 1)) # marked failed, and another run resumed
      diag "run $orphan was not resumed: $state"
      orphan=0
    fi # else killed before it got as far as the claim: next time
  else
    attempt $score_args
  fi
  grep -q "project is busy" "$T/run.err" && busy=$((busy + 1))
  case $rc in
  137) kills=$((kills + 1)) ;;
  0) ;;
  # A SIGINT that came before the handler was in place: as good as a kill.
  130) [ "$mode" = stop ] || unexpected=$((unexpected + 1)) ;;
  1)
    grep -q "interrupted; run [0-9]* saved" "$T/run.err" || {
      unexpected=$((unexpected + 1))
      diag "attempt $tries ($mode) failed:"
      sed 's/^/#   /' "$T/run.err"
    }
    ;;
  *)
    unexpected=$((unexpected + 1))
    diag "attempt $tries ($mode) exited $rc:"
    sed 's/^/#   /' "$T/run.err"
    ;;
  esac

  # Where the process was when it died, from its run's state and the
  # epochs it reported.
  mine=$(q "SELECT id || ' ' || status FROM runs WHERE pid = $pid
    ORDER BY id DESC LIMIT 1")
  case "$mode:$mine" in
  *:*done) phase="after publishing" ph_done=$((ph_done + 1)) ;;
  *:) phase="before the run was claimed" ph_early=$((ph_early + 1)) ;;
  stop:*) phase="while stopping" ph_ckpt=$((ph_ckpt + 1)) ;;
  *)
    if grep -q "epoch $epochs/$epochs" "$T/run.err"; then
      phase="scoring or publishing" ph_end=$((ph_end + 1))
    else
      phase="training, $(grep -c "epoch" "$T/run.err") epochs reported"
      ph_train=$((ph_train + 1))
    fi
    ;;
  esac
  if [ $rc -eq 137 ] && [ "${mine#* }" = running ]; then
    orphans=$((orphans + 1))
    orphan=${mine% *}
  fi

  what="attempt $tries: $mode $d1 $d2 ms, rc $rc, $phase"
  published "PRAGMA integrity_check" >"$T/state"
  sound=$(sed -n 1p "$T/state")
  pub=$(sed -n 2p "$T/state")
  set -- $pub
  run "$WINNOW" export p.db --scores cur.csv
  if [ "$sound" != ok ] || [ $rc -ne 0 ]; then
    ok "$what: the project file is sound" 1
    diag "integrity_check: $sound" "export:"
    sed 's/^/#   /' "$T/err"
    continue
  fi
  if [ "$1" != "$ref_run" ]; then
    publications=$((publications + 1))
    ref_run=$1
  fi
  # The same seed gives the same scores bit for bit, resumed or not, so
  # every complete set exports the same bytes; a mix shows in the counts.
  whole=0
  [ "$2" -eq $n ] && [ "$3" -eq $n ] && [ "$4" -eq 0 ] &&
    cmp -s cur.csv ref.csv || whole=1
  ok "$what: sound, and run $ref_run's scores are whole" $whole
  [ $whole -eq 0 ] || diag "latest done, its scores, samples, strays: $pub"
done
diag "$kills kills in $tries attempts (one run: $span ms at the end), $orphans" \
  "left a run orphaned:" \
  "$ph_early before the claim," \
  "$ph_train in training, $ph_end scoring or publishing, $ph_ckpt while" \
  "stopping, $ph_done after publishing; $publications new publications"
[ $kills -ge "$kills_wanted" ]
ok "at least $kills_wanted kills landed ($kills)" $?
is "no start took a dead process for a live one (project is busy)" $busy 0
is "no attempt failed in an unexpected way" $unexpected 0
is "winnow info read what every attempt left" $info_failed 0
ok "every killed run was resumed by the next --resume ($resumed of \
$((resumed + lost)))" $lost

# The last word: one more run killed in mid-training, then --resume runs
# it to completion and publishes.
"$WINNOW" score p.db $score_args >/dev/null 2>&1 &
pid=$!
deadline=$(($(date +%s) + 30))
while [ -z "$(q "SELECT id FROM runs WHERE pid = $pid AND status = 'running'")" ] &&
  [ "$(date +%s)" -lt $deadline ]; do
  sleep 0.02
done
kill -KILL $pid
wait $pid 2>/dev/null
last=$(q "SELECT id FROM runs WHERE pid = $pid")
run "$WINNOW" score p.db $score_args --resume
ok "a last --resume continues the killed run $last to completion" \
  "$([ $rc -eq 0 ] && [ "$(q "SELECT status FROM runs WHERE id = $last")" = done ]
  echo $?)"
if [ $rc -ne 0 ]; then
  sed 's/^/# /' "$T/err"
  run "$WINNOW" score p.db $score_args
  exits "a fresh run completes instead" 0
fi
set -- $(published)
is "the last run's scores are published, one per sample" "$2 $3 $4" "$n $n 0"
run "$WINNOW" export p.db --scores end.csv
cmp -s end.csv ref.csv
ok "and they are the scores of an unbroken run, bit for bit" $?
is "the project file is sound at the end" "$(q 'PRAGMA integrity_check')" ok
run "$WINNOW" info p.db
hasnt "info lists no run as still running" "$T/out" " running "
diag "runs: $(q "SELECT status || ' ' || count(*) FROM runs GROUP BY status" |
  tr '\n' ' ')"
done_testing
