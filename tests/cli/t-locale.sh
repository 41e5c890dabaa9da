#!/bin/sh
# Numbers any locale can read: under a locale whose decimal point is a
# comma (de_DE.UTF-8, made here with localedef), every number winnow
# writes for programs (stats --json, export --scores, --labels --status,
# --jsonl, and what the project file keeps of a run) is the one the C
# locale writes, byte for byte, and options read 0.9 as they do in C.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

# Without the locale's source this test cannot run; it must not pass as
# if it had (./setup installs both).
for tool in jq localedef; do
  if ! command -v $tool >/dev/null 2>&1; then
    echo "Bail out! $tool is needed (./setup installs it)"
    exit 1
  fi
done
if [ ! -f /usr/share/i18n/locales/de_DE ]; then
  echo "Bail out! /usr/share/i18n/locales/de_DE is missing (Debian package" \
    "locales; ./setup installs it)"
  exit 1
fi

# localedef may warn (and exit 1) about details of the source and still
# make the locale: the comma below is what counts.
mkdir -p "$T/locale"
localedef -i de_DE -f UTF-8 "$T/locale/de_DE.UTF-8" >localedef.out 2>&1
LOCPATH=$T/locale
export LOCPATH
de() { LC_ALL=de_DE.UTF-8 "$@"; }
c() { LC_ALL=C "$@"; }
if [ "$(de env printf '%.1f' 0.5 2>/dev/null)" != "0,5" ]; then
  echo "Bail out! no comma locale: localedef said:"
  sed 's/^/# /' localedef.out
  exit 1
fi
ok "the test locale writes 0.5 as 0,5" 0

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 7
# The same project made under each locale: a seed and a thread count give
# the same scores bit for bit, so what they keep must be the same.
for l in c de; do
  run $l "$WINNOW" import $l.db --csv ds/manifest.csv -q
  exits "import under $l exits 0" 0
  run $l "$WINNOW" score $l.db --epochs 2 --threads 1 --seed 1 -q
  exits "score under $l exits 0" 0
done

# ---- stats --json ----
run de "$WINNOW" stats de.db --json
exits "stats --json under de exits 0" 0
cp "$T/out" de-stats.json
jq -e . de-stats.json >/dev/null
ok "it is valid JSON" $?
is "a class's noise is a number" \
  "$(jq -r '[.classes[].noise | type] | unique | join(",")' de-stats.json)" \
  "number"
is "the noise rate is a number below 1" \
  "$(jq '.run.noise_rate | type == "number" and . < 1' de-stats.json)" true
c "$WINNOW" stats de.db --json >c-stats.json
cmp -s de-stats.json c-stats.json
ok "it is the C locale's output byte for byte" $?
c "$WINNOW" stats c.db --json | jq -c 'del(.run.finished)' >c-made.json
jq -c 'del(.run.finished)' de-stats.json >de-made.json
cmp -s de-made.json c-made.json
ok "the project scored under de has the C project's statistics" $?

# ---- export --scores ----
run de "$WINNOW" export de.db --scores de-scores.csv -q
exits "export --scores under de exits 0" 0
is "every row has the header's 14 fields" \
  "$(awk -F, '{ print NF }' de-scores.csv | sort -u | tr '\n' ' ')" "14 "
is "the scores are numbers with a point" \
  "$(awk -F, 'NR > 1 && $4 !~ /^[0-9.e+-]+$/' de-scores.csv | head -3)" ""
c "$WINNOW" export de.db --scores c-scores.csv -q
cmp -s de-scores.csv c-scores.csv
ok "the same bytes as under C" $?
c "$WINNOW" export c.db --scores c-made.csv -q
cmp -s de-scores.csv c-made.csv
ok "and as the project scored under C" $?
if command -v sqlite3 >/dev/null 2>&1; then
  # What the project file keeps as text: each sample's likeliest classes
  # and the run's parameters, parsed back by the review screen and info.
  q="SELECT top FROM scores ORDER BY sample_id; SELECT params FROM runs"
  is "the stored top classes and parameters are the C project's" \
    "$(sqlite3 de.db "$q" | cksum)" "$(sqlite3 c.db "$q" | cksum)"
  is "with a point in each probability" \
    "$(sqlite3 de.db 'SELECT top FROM scores LIMIT 1' | tr -d '0-9.:,')" ""
else
  ok "the stored top classes # SKIP sqlite3 is not installed" 0
fi

# ---- export --labels --status and --jsonl ----
run de "$WINNOW" export de.db --labels de-labels.csv --status \
  --jsonl de.jsonl -q
exits "export --labels --status --jsonl under de exits 0" 0
is "every label row has path,label,status,score" \
  "$(awk -F, '{ print NF }' de-labels.csv | sort -u | tr '\n' ' ')" "4 "
c "$WINNOW" export de.db --labels c-labels.csv --status --jsonl c.jsonl -q
cmp -s de-labels.csv c-labels.csv
ok "the labels are the same bytes as under C" $?
jq -c . de.jsonl >/dev/null
ok "every JSON line parses" $?
types='[.score, .scores.margin, .suggested_prob] | map(type) | unique'
is "its scores are numbers" \
  "$(jq -r "$types | join(\",\")" de.jsonl | sort -u)" "number"
cmp -s de.jsonl c.jsonl
ok "the JSON lines are the same bytes as under C" $?

# ---- --unreviewed accept-above P ----
# On copies: accepting suggestions writes to the project. 0.9 accepts
# nothing in so short a run; 0.75 accepts some.
for p in 0.9 0.75; do
  cp de.db acc-de.db
  cp de.db acc-c.db
  run de "$WINNOW" export acc-de.db --labels acc-de.csv \
    --unreviewed accept-above $p
  exits "accept-above $p is read under de" 0
  cp "$T/out" acc-de.out
  run c "$WINNOW" export acc-c.db --labels acc-c.csv \
    --unreviewed accept-above $p
  exits "and under C" 0
  is "it accepts the same suggestions" "$(cat acc-de.out)" "$(cat "$T/out")"
  cmp -s acc-de.csv acc-c.csv
  ok "and writes the same labels" $?
done
test "$(sed -n 's/.*kept, \([0-9]*\) auto-accepted.*/\1/p' acc-de.out)" -gt 0
ok "at 0.75 some are accepted" $?
run de "$WINNOW" export de.db --labels x.csv --unreviewed accept-above 0,9
exits "0,9 is no probability, under de as under C" 2
has "the message says so" "$T/err" \
  "accept-above takes a probability from 0 to 1, not '0,9'"

done_testing
