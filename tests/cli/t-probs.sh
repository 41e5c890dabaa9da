#!/bin/sh
# Bring your own model: `score --probs` from a CSV and from a .npy (with
# features), the scores it stores against those worked out here from the
# same probabilities, every bad input refused with nothing stored, the
# busy check, trusted decisions; `export --probs/--features` read back
# (numpy, bit for bit); info/log/stats --json parsed with jq; the views of
# winnow-project(5) read with the sqlite3 shell.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 3 7 >/dev/null
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" export p.db --labels order.csv -q
classes=$("$WINNOW" info p.db --json | jq -r '[.classes[].name] | join(",")')
is "classes in class order" "$classes" "cross,disc,square"

# The stored state that a failed --probs must leave as it was.
state() {
  sqlite3 p.db "SELECT (SELECT count(*) FROM runs) || ' ' ||
    (SELECT count(*) FROM scores) || ' ' || (SELECT count(*) FROM run_arrays)"
}

# probs.csv: columns in another order than the classes, rows reversed;
# each row a random point of the simplex, written with 6 decimals and the
# last column making the sum 1.
awk -F, 'BEGIN { srand(7) } NR > 1 { n++; path[n] = $1 }
  END { print "square,PATH,cross,disc"
    for (i = n; i >= 1; i--) {
      a = rand() + 0.01; b = rand() + 0.01; c = rand() + 0.01; s = a + b + c
      a = sprintf("%.6f", a / s); b = sprintf("%.6f", b / s)
      printf "%s,%s,%s,%.6f\n", a, path[i], b, 1 - a - b } }' order.csv > probs.csv

before=$(state)
run "$WINNOW" score p.db --probs probs.csv --threads 1
exits "score --probs CSV exits 0" 0
has "it reports the run" "$T/out" "run 1 done: 60 samples in 3 classes scored from probs.csv"
is "the run is stored" "$(sqlite3 p.db "SELECT status, n_samples FROM runs WHERE id = 1")" "done|60"

# self_confidence = 1 - p[label], margin = (max other - p[label] + 1) / 2,
# suggestion the likeliest other class, from the CSV itself.
"$WINNOW" export p.db --scores s.csv -q
bad=$(awk -F, 'NR == FNR { if (FNR > 1) { sq[$2] = $1; cr[$2] = $3; di[$2] = $4 }; next }
  FNR == 1 { next }
  { p["square"] = sq[$1]; p["cross"] = cr[$1]; p["disc"] = di[$1]
    y = p[$2]; best = -1
    for (c in p) if (c != $2 && p[c] > best) { best = p[c]; sug = c }
    d1 = $6 - (1 - y); d2 = $7 - (best - y + 1) / 2
    if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2
    if (d1 > 1e-6 || d2 > 1e-6 || $3 != sug || $9 != "" || $10 != "") n++ }
  END { print n + 0 }' probs.csv s.csv)
is "every self_confidence, margin and suggestion is the CSV's" "$bad" 0
flagged=$(awk -F, 'NR > 1 && $5 == 1' s.csv | wc -l)
is "flagged is stored for the run" \
  "$(sqlite3 p.db "SELECT count(*) FROM scores WHERE run_id = 1 AND flagged")" \
  "$((flagged + 0))"
has "the run records its origin" "$T/out" "flagged"
sum=$(sha256sum probs.csv | cut -d' ' -f1)
run "$WINNOW" info p.db
has "info names the file and its SHA-256" "$T/out" "probs.csv sha256=$sum"

# Export: CSV in import order with the same values.
run "$WINNOW" export p.db --probs out.csv
exits "export --probs CSV exits 0" 0
is "the CSV's header" "$(head -1 out.csv)" "path,cross,disc,square"
is "its rows are in import order" "$(cut -d, -f1 out.csv | sed 1d)" \
  "$(cut -d, -f1 order.csv | sed 1d)"
bad=$(awk -F, 'NR == FNR { if (FNR > 1) v[$2] = $3 " " $4 " " $1; next }
  FNR > 1 { split(v[$1], w, " ")
    for (j = 1; j <= 3; j++) { d = $(j + 1) - w[j]; if (d < 0) d = -d; if (d > 1e-7) n++ } }
  END { print n + 0 }' probs.csv out.csv)
is "the exported probabilities are the ones given" "$bad" 0

# ---- bad inputs: exit 1, the message, nothing stored ----
before=$(state)
# refused CASE FILE MESSAGE [EXTRA ARGS]
refused() {
  name=$1 file=$2 msg=$3
  shift 3
  run "$WINNOW" score p.db --probs "$file" "$@"
  exits "$name: exits 1" 1
  is "$name: the message" "$(cat "$T/err")" "$msg"
  is "$name: nothing stored" "$(state)" "$before"
}
first=$(sed -n 2p order.csv | cut -d, -f1)
grep -v "^[^,]*,$first," probs.csv > missing.csv
refused "CSV without a sample" missing.csv \
  "winnow: score: missing.csv: path '$first' has no row"
{ cat probs.csv; echo "0.2,zz.png,0.3,0.5"; } > extra.csv
refused "CSV with an unknown path" extra.csv \
  "winnow: score: extra.csv:62: path 'zz.png' is not in the project"
{ cat probs.csv; sed -n 2p probs.csv; } > twice.csv
refused "CSV listing a path twice" twice.csv \
  "winnow: score: twice.csv:62: path '$(sed -n 2p probs.csv | cut -d, -f2)' listed again (first on line 2)"
sed '1s/disc/horse/' probs.csv > horse.csv
refused "CSV with a class the project lacks" horse.csv \
  "winnow: score: horse.csv: line 1: column 'horse' is not a class of the project"
cut -d, -f1-3 probs.csv > nodisc.csv
refused "CSV without a class's column" nodisc.csv \
  "winnow: score: nodisc.csv: line 1: class 'disc' has no column"
sed '5s/^[^,]*,/0.9,/' probs.csv > sum.csv
refused "CSV row not summing to 1" sum.csv \
  "$("$WINNOW" score p.db --probs sum.csv 2>&1 >/dev/null | grep -F 'sum.csv:5: the row sums to')"
has "  (the sum message names line 5)" "$T/err" "sum.csv:5: the row sums to"
sed '7s/^[^,]*,/nan,/' probs.csv > nan.csv
refused "CSV with NaN" nan.csv "winnow: score: nan.csv:7: class 'square' is NaN"
sed '9s/^[^,]*,/-0.5,/' probs.csv > neg.csv
refused "CSV with a negative value" neg.csv \
  "winnow: score: neg.csv:9: class 'square' is negative (-0.5)"
sed '4s/^[^,]*,/x,/' probs.csv > word.csv
refused "CSV with a word for a number" word.csv \
  "winnow: score: word.csv:4: class 'square': 'x' is not a number"
refused "a missing file" nothere.csv \
  "winnow: score: nothere.csv: No such file or directory"

run "$WINNOW" score p.db --features f.npy
exits "--features without --probs is a usage error" 2
has "  and says so" "$T/err" "--features goes with --probs"
run "$WINNOW" score p.db --probs probs.csv --epochs 3
exits "--probs with --epochs is a usage error" 2
has "  and says why" "$T/err" "--probs scores without training: --epochs does not apply"

# A live `winnow score` (a running run whose process exists) blocks it.
sleep 60 &
pid=$!
now=$(($(date +%s) * 1000))
sqlite3 p.db "INSERT INTO runs (status, started, pid, heartbeat)
  VALUES ('running', $now, $pid, $now)"
before=$(state)
run "$WINNOW" score p.db --probs probs.csv
exits "a project being scored refuses --probs" 1
has "  as busy" "$T/err" "project is busy: run"
is "  and stores nothing" "$(state)" "$before"
kill "$pid"
wait "$pid" 2>/dev/null

# A person's decision is trusted: score 0, never flagged.
top=$(sed -n 2p s.csv | cut -d, -f1)
"$WINNOW" set p.db "$top" "$(sed -n 2p s.csv | cut -d, -f2)" >/dev/null
run "$WINNOW" score p.db --probs probs.csv -q
exits "score --probs after a decision exits 0" 0
is "the decided sample scores 0, not flagged" \
  "$("$WINNOW" export p.db --scores - | awk -F, -v p="$top" '$1 == p { print $4 "," $5 }')" \
  "0,0"

# ---- .npy in, with features; everything out bit for bit ----
py=""
for c in /usr/bin/python3 python3; do
  if "$c" -c 'import numpy' 2>/dev/null; then py=$c; break; fi
done
if [ -z "$py" ]; then
  echo "ok $((tap_n + 1)) # SKIP no python3 with numpy"
  tap_n=$((tap_n + 1))
else
  "$py" - <<'EOF'
import numpy as np
rng = np.random.default_rng(3)
p = rng.dirichlet(np.ones(3), size=60)          # float64, as torch users save
np.save("p64.npy", p)
np.save("f.npy", rng.normal(size=(60, 5)).astype(np.float32))
q = p.astype(np.float32)
bad = q.copy(); bad[7, 1] = np.nan; np.save("nan.npy", bad)
bad = q.copy(); bad[3, 0] = -0.25; bad[3, 1] += 0.25; np.save("neg.npy", bad)
bad = q.copy(); bad[11, 2] += 0.5; np.save("sum.npy", bad)
np.save("short.npy", q[:59])
np.save("wide.npy", np.hstack([q, np.zeros((60, 1), np.float32)]))
np.save("flat.npy", q[:, 0].copy())
f = rng.normal(size=(60, 5)).astype(np.float32); f[2, 4] = np.inf
np.save("finf.npy", f)
np.save("fshort.npy", f[:10])
open("cut.npy", "wb").write(open("p64.npy", "rb").read()[:200])
EOF
  before=$(state)
  refused "npy with too few rows" short.npy \
    "winnow: score: short.npy: 59 rows, the project has 60 samples (one row per sample, in the order export --labels writes)"
  refused "npy with a column too many" wide.npy \
    "winnow: score: wide.npy: 4 columns, the project has 3 classes"
  refused "npy of one dimension" flat.npy \
    "winnow: score: flat.npy: a 1-D array of 60 values: expected N x K, one row per sample and one column per class"
  p7=$(sed -n 9p order.csv | cut -d, -f1)
  refused "npy with NaN" nan.npy \
    "winnow: score: nan.npy: row 7 ($p7): class 'disc' is NaN"
  p3=$(sed -n 5p order.csv | cut -d, -f1)
  refused "npy with a negative value" neg.npy \
    "winnow: score: neg.npy: row 3 ($p3): class 'cross' is negative (-0.25)"
  run "$WINNOW" score p.db --probs sum.npy
  has "npy row not summing to 1: row named" "$T/err" \
    "winnow: score: sum.npy: row 11 ($(sed -n 13p order.csv | cut -d, -f1)): the row sums to 1.5"
  is "  nothing stored" "$(state)" "$before"
  run "$WINNOW" score p.db --probs cut.npy
  exits "a truncated npy: exits 1" 1
  has "  names the file" "$T/err" "winnow: score: cut.npy: "
  is "  nothing stored" "$(state)" "$before"
  refused "features with infinity" p64.npy \
    "winnow: score: finf.npy: row 2 ($(sed -n 4p order.csv | cut -d, -f1)), column 4 is infinite" \
    --features finf.npy
  refused "features with too few rows" p64.npy \
    "winnow: score: fshort.npy: 10 rows, the project has 60 samples (one row per sample, in the order export --labels writes)" \
    --features fshort.npy

  run "$WINNOW" score p.db --probs p64.npy --features f.npy --threads 1
  exits "score --probs float64 npy with features exits 0" 0
  knn=$("$WINNOW" export p.db --scores - | awk -F, 'NR > 1 && $12 != ""' | wc -l)
  is "features give every sample its neighbour votes" "$knn" 60
  run "$WINNOW" export p.db --probs out.npy --features feat.npy --scores sc.csv
  exits "export --probs --features --scores exits 0" 0
  run "$py" - <<'EOF'
import csv, numpy as np
p = np.load("p64.npy").astype(np.float32)
o = np.load("out.npy")
assert o.dtype == np.float32 and o.shape == (60, 3), (o.dtype, o.shape)
assert (o.view(np.uint32) == p.view(np.uint32)).all(), "probs differ"
f = np.load("f.npy"); g = np.load("feat.npy")
assert g.dtype == np.float32 and g.shape == (60, 5)
assert (f.astype(np.float16).astype(np.float32) == g).all(), "features"
# self_confidence against 1 - p[label], labels from export --labels
names = ["cross", "disc", "square"]
order = [r for r in csv.reader(open("order.csv"))][1:]
lab = {r[0]: names.index(r[1]) for r in order}
idx = {r[0]: i for i, r in enumerate(order)}
for r in list(csv.reader(open("sc.csv")))[1:]:
    i = idx[r[0]]
    if r[3] == "0" and r[4] == "0" and float(r[5]) == 0:
        continue  # trusted (the decision above)
    assert abs(float(r[5]) - (1 - float(p[i, lab[r[0]]]))) < 1e-6, r
print("same")
EOF
  is "numpy reads back the probabilities bit for bit, features as float16, scores agree" \
    "$(cat "$T/out" "$T/err")" "same"
fi

# ---- JSON ----
run "$WINNOW" info p.db --json
exits "info --json exits 0" 0
is "info --json: version, schema, samples, runs and origin" \
  "$(jq -c '[.version, .schema, .samples, (.runs | length), .runs[0].origin, (.runs[0].params | startswith("probs=/"))]' "$T/out")" \
  '[1,4,60,4,"probs",true]'
is "info --json: classes" "$(jq -c '[.classes[] | .name]' "$T/out")" \
  '["cross","disc","square"]'
run "$WINNOW" log p.db --json
exits "log --json exits 0" 0
is "log --json: one object per line, each parsed" \
  "$(jq -c '[.version, .source, .new_label, .undone]' "$T/out" | wc -l)" \
  "$(wc -l < "$T/out")"
is "log --json: the decision" \
  "$(jq -c '[.version, .path, .source]' "$T/out")" "[1,\"$top\",\"human\"]"
is "log --json --all: imports too" "$("$WINNOW" log p.db --json --all | jq -s length)" 61
is "stats --json has a version" "$("$WINNOW" stats p.db --json | jq .version)" 1
is "export --jsonl has a version on every line" \
  "$("$WINNOW" export p.db --jsonl - -q | jq -s 'map(.version) | unique' -c)" "[1]"
run "$WINNOW" info nothere.db --json
is "errors stay on stderr" "$(cat "$T/out")" ""

# ---- the views, with the sqlite3 shell ----
q() { sqlite3 -readonly p.db "$1"; }
is "samples_v: every sample, names for labels" \
  "$(q "SELECT count(*), count(DISTINCT label) FROM samples_v")" "60|3"
is "samples_v: the current label and who set it" \
  "$(q "SELECT label_source FROM samples_v WHERE path = '$top'")" "human"
is "labels_v: the history with names" \
  "$(q "SELECT count(*) FROM labels_v WHERE source = 'human' AND new_label IN ('cross','disc','square')")" 1
is "scores_v: the newest done run, one row per sample" \
  "$(q "SELECT count(*), min(run_id), count(suggested_label), count(aum) FROM scores_v")" \
  "60|$(q "SELECT max(id) FROM runs WHERE status = 'done'")|60|0"
is "scores_v: ordered by score" \
  "$(q "SELECT path FROM scores_v ORDER BY score DESC, sample_id LIMIT 1")" \
  "$("$WINNOW" export p.db --scores - | sed -n 2p | cut -d, -f1)"
is "runs_v: every run and its origin" \
  "$(q "SELECT count(*), sum(params LIKE 'probs=%') FROM runs_v")" "4|3"
is "class_noise_v: rows of the newest run sum to 1" \
  "$(q "SELECT count(*) FROM (SELECT given_label, round(sum(rate), 6) AS s FROM class_noise_v GROUP BY given_label) WHERE s = 1")" 3

# A schema 2 file (this one with schema 3's and 4's objects taken out) is
# upgraded by the first command that writes, and keeps its runs.
cp p.db old.db
sqlite3 old.db "DROP VIEW samples_v; DROP VIEW labels_v; DROP VIEW scores_v;
  DROP VIEW runs_v; DROP VIEW class_noise_v; DROP TABLE run_arrays;
  DROP INDEX label_events_follows; DROP TABLE run_pairs;
  ALTER TABLE label_events DROP COLUMN follows;
  ALTER TABLE label_events DROP COLUMN excluded;
  ALTER TABLE scores DROP COLUMN outlier; PRAGMA user_version = 2"
run "$WINNOW" score old.db --probs probs.csv -q
exits "score --probs on a schema 2 file exits 0" 0
is "it is at schema 4, with its views and every run" \
  "$(sqlite3 old.db "PRAGMA user_version; SELECT count(*) FROM scores_v;
    SELECT count(*) FROM runs_v")" "$(printf '4\n60\n5')"

# ---- a trained run keeps its probabilities and features too ----
"$WINNOW" score p.db --epochs 1 --threads 1 -q
run "$WINNOW" export p.db --probs trained.csv --features trained.npy
exits "a trained run's probabilities and features export" 0
is "  one row per sample" "$(($(wc -l < trained.csv) - 1))" 60
has "  from the new run" "$T/out" "the features of run 5"

# An import since the run: the rows would not line up.
png ds/img/new.png 16 16 3
printf 'img/new.png,disc\n' >> ds/manifest.csv
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
run "$WINNOW" export p.db --probs late.npy
exits "export --probs after an import fails" 1
has "  and says to score again" "$T/err" "winnow: export: run 5 scored 60 samples and the project has 61 now"
[ ! -e late.npy ]
ok "  and writes nothing" $?

done_testing
