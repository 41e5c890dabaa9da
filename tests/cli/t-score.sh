#!/bin/sh
# winnow score end to end on a tiny generated dataset with 10% of its labels
# flipped: the flipped samples rank on top, the suggestions name the true
# class, the same seed repeats bit for bit, and an interrupted run resumes
# to the very same scores.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

"$TESTS_BUILDDIR/tools/shapes" ds 300 16 10 7
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
score_args="--epochs 10 --seed 3 --threads 1"

run "$WINNOW" score p.db $score_args
exits "score exits 0" 0
has "score reports the run" "$T/out" "run 1 done"
run "$WINNOW" export p.db --scores s1.csv
exits "export --scores exits 0" 0
is "the header is the documented one" "$(head -1 s1.csv)" \
  "path,given_label,suggested_label,score,flagged,self_confidence,margin,cl_flag,aum,elr,suggested_prob,knn,dup_group,outlier"
is "one row per sample" "$(($(wc -l < s1.csv) - 1))" 300

# AUROC of score against the flips, from the rank order of the export
# (rows are sorted by score, highest first), and how often the suggestion
# for a flipped sample is its true class.
metrics() {
  awk -F, 'NR == FNR { if (FNR > 1) { flip[$1] = $4; truth[$1] = $2 }; next }
    FNR > 1 { n++; if (flip[$1] == 1) { p++; above += n - p; if ($3 == truth[$1]) right++ } }
    END { printf "%.3f %.3f\n", 1 - above / (p * (n - p)), right / p }' ds/truth.csv "$1"
}
set -- $(metrics s1.csv)
diag "AUROC $1, suggestion right for $2 of the flipped samples"
awk -v a="$1" 'BEGIN { exit !(a > 0.9) }'
ok "flipped samples rank on top (AUROC $1 > 0.9)" $?
awk -v a="$2" 'BEGIN { exit !(a >= 0.8) }'
ok "suggestions name the true class ($2 >= 0.8)" $?
flagged=$(awk -F, 'NR > 1 && $5 == 1' s1.csv | wc -l)
awk -v f="$flagged" 'BEGIN { exit !(f >= 20 && f <= 45) }'
ok "about the flipped number are flagged ($flagged of 30)" $?
sorted=$(awk -F, 'NR > 1 { print $4 }' s1.csv | sort -g -r -c 2>&1 && echo sorted)
is "rows are sorted by score, highest first" "$sorted" "sorted"

# The review screen's probability bars come from each sample's top classes.
if command -v sqlite3 >/dev/null; then
  top=$(sqlite3 p.db "SELECT top FROM scores WHERE run_id = 1 LIMIT 1")
  echo "$top" | grep -Eq '^[0-2]:[01]\.[0-9]{4},[0-2]:[01]\.[0-9]{4},[0-2]:[01]\.[0-9]{4}$'
  ok "each score row keeps its three likeliest classes ($top)" $?
  bad=$(sqlite3 p.db "SELECT count(*) FROM scores WHERE run_id = 1 AND (top IS NULL
    OR CAST(substr(top, 3, 6) AS REAL) < CAST(substr(top, 12, 6) AS REAL))")
  is "the likeliest class comes first" "$bad" 0
fi

run "$WINNOW" score p.db $score_args --quiet
exits "a second run exits 0" 0
is "--quiet prints nothing" "$(cat "$T/out" "$T/err")" ""
"$WINNOW" export p.db --scores s2.csv
cmp -s s1.csv s2.csv
ok "the same seed gives the same scores bit for bit" $?

# Interrupt a run mid-training (SIGINT), then resume it.
"$WINNOW" score p.db $score_args >"$T/int.out" 2>"$T/int.err" &
pid=$!
deadline=$(($(date +%s) + 60))
while ! grep -q "epoch 3/" "$T/int.err" && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.05
done
kill -INT $pid
rc=0
wait $pid || rc=$?
exits "an interrupted run exits 1" 1
has "it says how to resume" "$T/int.err" "winnow score p.db --resume"
run "$WINNOW" info p.db
has "info lists the interrupted run" "$T/out" "interrupted"
run "$WINNOW" score p.db $score_args --resume
exits "--resume finishes the run" 0
has "the resumed run is run 3" "$T/out" "run 3 done"
"$WINNOW" export p.db --scores s3.csv
cmp -s s1.csv s3.csv
ok "a resumed run gives the scores of an uninterrupted one" $?

run "$WINNOW" score p.db $score_args --resume
exits "--resume with nothing to resume fails" 1
has "and says why" "$T/err" "no interrupted run to resume"

# With folds the checkpoint also carries the finished folds' predictions
# and features (the neighbours' votes are taken per fold): stopped in the
# second fold, the resumed run must equal an uninterrupted one.
fold_args="--folds 3 --epochs 4 --seed 5 --threads 1"
"$WINNOW" import f.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score f.db $fold_args --quiet
"$WINNOW" export f.db --scores f1.csv
"$WINNOW" score f.db $fold_args >"$T/fold.out" 2>"$T/fold.err" &
pid=$!
deadline=$(($(date +%s) + 60))
while ! grep -q "fold 2/3 epoch 2/" "$T/fold.err" &&
      [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.05
done
kill -INT $pid
rc=0
wait $pid || rc=$?
exits "a run stopped in its second fold exits 1" 1
run "$WINNOW" score f.db $fold_args --resume
exits "and resumes" 0
"$WINNOW" export f.db --scores f2.csv
cmp -s f1.csv f2.csv
ok "a resumed cross-validated run gives the uninterrupted scores" $?
knn=$(awk -F, 'NR > 1 && $12 != "" { n++ } END { print n + 0 }' f2.csv)
is "every sample has a neighbour vote with folds" "$knn" 300

# kill -9 after a few epochs with a checkpoint kept at every epoch: the
# next score marks the run interrupted, --resume starts from the last
# checkpoint (not from epoch 1) and ends with the uninterrupted scores.
if command -v sqlite3 >/dev/null 2>&1; then
  "$WINNOW" import k.db --csv ds/manifest.csv -q >/dev/null
  "$WINNOW" score k.db $score_args --checkpoint-every 0 \
    >"$T/k.out" 2>"$T/k.err" &
  pid=$!
  deadline=$(($(date +%s) + 60))
  while ! grep -q "epoch 6/" "$T/k.err" && [ "$(date +%s)" -lt "$deadline" ]
  do
    sleep 0.05
  done
  kill -9 $pid
  wait $pid 2>/dev/null
  kept=$(sqlite3 k.db "SELECT length(checkpoint) > 0 FROM runs WHERE id = 1")
  is "a running job keeps a checkpoint" "$kept" 1
  run "$WINNOW" score k.db $score_args --resume
  exits "--resume continues a run whose process was killed" 0
  first=$(grep -o 'epoch [0-9]*/' "$T/err" | head -1)
  case $first in
  "epoch 1/"|"") resumed_late=1 ;;
  *) resumed_late=0 ;;
  esac
  ok "it starts from the checkpoint ($first), not from the start" \
    $resumed_late
  is "the killed run is the one finished" \
    "$(sqlite3 k.db "SELECT id, status FROM runs")" "1|done"
  "$WINNOW" export k.db --scores k.csv
  cmp -s s1.csv k.csv
  ok "and ends with the scores of an uninterrupted run" $?
fi

"$WINNOW" import e.db --csv ds/manifest.csv -q >/dev/null
run "$WINNOW" export e.db --scores x.csv
exits "export before any run fails" 1
has "export says to score first" "$T/err" "no finished run"
test ! -e x.csv
ok "a failed export leaves no file" $?

# --side: the network's input side, recorded with the run.
"$WINNOW" import side.db --csv ds/manifest.csv -q >/dev/null
run "$WINNOW" score side.db --side 12 --epochs 1 --threads 1 -q
exits "score --side 12 exits 0" 0
"$WINNOW" info side.db --json >side.json
has "the run trained on 12x12 inputs" side.json "input=1x12x12"
run "$WINNOW" score side.db --side 7
exits "a side below 8 is a usage error" 2
has "the range is stated" "$T/err" "--side takes a whole number from 8 to 256"

run "$WINNOW" score missing.db
exits "score on a missing project fails" 1
run "$WINNOW" score p.db --epochs 0
exits "a bad option value is a usage error" 2

done_testing
