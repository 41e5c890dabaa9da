#!/bin/sh
# winnow stats: samples, classes, review progress, the latest run's noise
# estimates and matrix (confused pairs first, shaded on a terminal only),
# how the run's proposals fared; --json is one valid JSON object with the
# same numbers.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
  echo "Bail out! jq is needed to check stats --json (./setup installs it)"
  exit 1
fi

"$TESTS_BUILDDIR/tools/shapes" ds 150 16 10 7
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null

run "$WINNOW" stats p.db
exits "stats before any run exits 0" 0
has "it counts the samples" "$T/out" "samples:   150"
has "and says there is no run yet" "$T/out" "none finished yet (winnow score p.db)"
run "$WINNOW" stats p.db --json
jq -e . "$T/out" >/dev/null
ok "--json before any run is valid JSON" $?
is "with no run and no proposals" "$(jq -c '[.run, .proposals, .review.unreviewed]' "$T/out")" \
  "[null,null,150]"

"$WINNOW" score p.db --epochs 4 --threads 1 --seed 1 -q
"$WINNOW" export p.db --scores s.csv
# One flagged sample each: the suggestion accepted, rejected (the given
# label kept), corrected (the third class).
awk -F, 'NR > 1 && $5 == 1 { print $1, $2, $3 }' s.csv | head -3 > flagged3
third() { for c in cross disc square; do [ "$c" != "$1" ] && [ "$c" != "$2" ] && echo "$c" && return; done; }
{
  read -r p g sug && "$WINNOW" set p.db "$p" "$sug"
  read -r p g sug && "$WINNOW" set p.db "$p" "$g"
  read -r p g sug && "$WINNOW" set p.db "$p" "$(third "$g" "$sug")"
} < flagged3 >/dev/null
# And one unflagged sample relabeled, which is no proposal.
p=$(awk -F, 'NR > 1 && $5 == 0 { print $1; exit }' s.csv)
"$WINNOW" set p.db "$p" "$(third "$(grep "^$p," s.csv | cut -d, -f2)" x)" >/dev/null

run "$WINNOW" stats p.db --json
exits "stats --json exits 0" 0
jq -e . "$T/out" >/dev/null
ok "it is valid JSON" $?
cp "$T/out" st.json
is "samples and classes" "$(jq -c '[.samples, [.classes[].name]]' st.json)" \
  '[150,["cross","disc","square"]]'
is "review progress" "$(jq -c '.review' st.json)" \
  '{"unreviewed":146,"kept":1,"relabeled":3,"auto":0}'
is "proposals: one accepted, rejected, corrected each" \
  "$(jq -c '.proposals | [.accepted, .rejected, .corrected, .open + .accepted + .rejected + .corrected + .auto == .flagged]' st.json)" \
  '[1,1,1,true]'
is "as many flagged as the scores say" "$(jq .proposals.flagged st.json)" \
  "$(awk -F, 'NR > 1 && $5 == 1' s.csv | wc -l)"
is "the matrix is 3 x 3 with rows summing to 1" \
  "$(jq -c '[(.run.matrix | length), (.run.matrix | map(add * 1000 | round) | unique)]' st.json)" \
  '[3,[1000]]'
is "a class's noise is 1 - its diagonal cell" \
  "$(jq '[range(3) as $i | (.classes[$i].noise + .run.matrix[$i][$i] - 1 | fabs) < 1e-6] | all' st.json)" \
  "true"
is "confused pairs come most confused first" \
  "$(jq '.run.confused | map(.rate) | . == (sort | reverse)' st.json)" "true"
test "$(jq '.run.confused | length' st.json)" -gt 0
ok "and there are some" $?
is "the run is the latest" "$(jq .run.id st.json)" 1

run "$WINNOW" stats p.db
exits "stats exits 0" 0
has "the text shows the review" "$T/out" \
  "review:    4 decided by a person (3 relabeled, 1 kept), 0 auto-accepted, 146 unreviewed"
has "the noise rate" "$T/out" "estimated noise rate"
has "the matrix" "$T/out" "noise matrix (% of each given label; rows: given label, columns: estimated true label):"
has "the proposals" "$T/out" "1 accepted, 1 rejected, 1 corrected"
first=$(jq -r '.run.confused[0] | "  \(.given) -> \(.true): "' st.json)
is "the most confused pair is listed first" \
  "$(sed -n '/^most confused/{n;p;}' "$T/out" | cut -d: -f1):" "${first%: }:"
diag_disc=$(jq -r '.run.matrix[1][1] * 1000 | round / 10' st.json)
has "the matrix in the text matches the JSON" "$T/out" "$(printf '%.1f' "$diag_disc")"
hasnt "no colour into a pipe" "$T/out" "$(printf '\033[')"

run "$WINNOW" stats p.db --color always
has "--color always shades the confused cells" "$T/out" "$(printf '\033[97;48;5;')"
TERM=xterm script -qec "\"$WINNOW\" stats p.db" /dev/null > tty.out 2>&1
has "a terminal gets the shading" tty.out "$(printf '\033[97;48;5;')"
NO_COLOR=1 TERM=xterm script -qec "\"$WINNOW\" stats p.db" /dev/null > tty.out 2>&1
hasnt "NO_COLOR turns it off" tty.out "$(printf '\033[')"
TERM=dumb script -qec "\"$WINNOW\" stats p.db" /dev/null > tty.out 2>&1
hasnt "so does TERM=dumb" tty.out "$(printf '\033[')"

# Names that need escaping still give valid JSON.
png w/a.png
printf 'path,label\na.png,"say ""hi"" \\ there"\n' > w/m.csv
"$WINNOW" import w.db --csv w/m.csv -q >/dev/null
is "a class name with quotes comes out whole" \
  "$("$WINNOW" stats w.db --json | jq -r '.classes[0].name')" 'say "hi" \ there'

run "$WINNOW" stats missing.db
exits "stats on a missing project fails" 1
run "$WINNOW" stats p.db --color sometimes
exits "a bad --color is a usage error" 2
run "$WINNOW" stats --help
exits "stats --help exits 0" 0
has "stats --help shows its usage" "$T/out" "usage: winnow stats"

done_testing
