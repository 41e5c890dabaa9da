#!/bin/sh
# winnow log: the label history newest first, with the run and the score at
# the time of each event; import events only with --all; one sample with
# PATH; an unknown PATH is named.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 5
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null

run "$WINNOW" log p.db
exits "log of a fresh project exits 0" 0
is "it has no decisions to show" "$(cat "$T/out")" ""
run "$WINNOW" log p.db --all
is "--all shows the 60 imports" "$(wc -l < "$T/out")" 60
is "each an import event without run or score" \
  "$(grep -c -- '  - -> [a-z]*  import  run -  score -  #' "$T/out")" 60

"$WINNOW" set p.db img/0003.png disc >/dev/null
"$WINNOW" score p.db --epochs 2 --threads 1 --seed 1 -q
"$WINNOW" set p.db img/0007.png cross >/dev/null
"$WINNOW" set p.db img/0003.png square >/dev/null

run "$WINNOW" log p.db
exits "log exits 0" 0
is "three decisions" "$(wc -l < "$T/out")" 3
line='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  img/[0-9]{4}\.png  [a-z]+ -> [a-z]+  human  run [-0-9]+  score [-.0-9]+  #[0-9]+$'
is "every line has the documented fields" "$(grep -Ec "$line" "$T/out")" 3
is "newest first" "$(awk '{ print $3 }' "$T/out" | tr '\n' ' ')" \
  "img/0003.png img/0007.png img/0003.png "
has "old -> new as class names" "$T/out" "  disc -> square  human"
# The score at the time is the run's score for that sample.
"$WINNOW" export p.db --scores s.csv
want=$(awk -F, '$1 == "img/0007.png" { printf "%.3f", $4 }' s.csv)
has "a decision after the run carries its id and the sample's score" \
  "$T/out" "img/0007.png  $(awk -F, 'NR == FNR && $1 == "img/0007.png" { print $3 }' ds/truth.csv) -> cross  human  run 1  score $want"
is "a decision before any run has none" \
  "$(tail -1 "$T/out" | sed 's/.*human  //; s/  #.*//')" "run -  score -"

run "$WINNOW" log p.db img/0003.png
is "PATH limits the log to one sample" "$(awk '{ print $3 }' "$T/out" | sort -u)" "img/0003.png"
is "both of its decisions" "$(wc -l < "$T/out")" 2
run "$WINNOW" log p.db img/0003.png --all
is "with --all, its import too" "$(wc -l < "$T/out")" 3
tail -1 "$T/out" > last
has "the import is last" last "  import  "

"$WINNOW" undo p.db >/dev/null
run "$WINNOW" log p.db img/0003.png
head -1 "$T/out" > first
sed -n 2p "$T/out" > second
has "an undo shows what it undoes" first "undoes #"
has "the undone decision is marked" second "  undone"

"$WINNOW" export p.db --labels l.csv --unreviewed accept-above 0.5 -q
run "$WINNOW" log p.db
auto=$(grep -c '  auto  run 1  score ' "$T/out")
test "$auto" -gt 0
ok "suggestions accepted by an export show as auto events of run 1 ($auto)" $?

run "$WINNOW" log p.db img/0999.png
exits "an unknown PATH fails" 1
is "and is named" "$(cat "$T/err")" "winnow: log: no sample 'img/0999.png' in the project"
run "$WINNOW" log missing.db
exits "log on a missing project fails" 1
run "$WINNOW" log p.db a b
exits "too many arguments is a usage error" 2
run "$WINNOW" log --help
exits "log --help exits 0" 0
has "log --help shows its usage" "$T/out" "usage: winnow log"

done_testing
