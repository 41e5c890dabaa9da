#!/bin/sh
# winnow export: every format round-trips through the importer (labels CSV,
# class folders, IDX), JSON lines parse, the policies for unreviewed samples
# do what they say, several outputs go in one command, and every bad input
# (a non-empty folder, an unwritable path, a full disk, a class name that
# cannot be a folder) fails clearly with nothing written, as does an export
# killed midway.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
  echo "Bail out! jq is needed to check the JSON lines (./setup installs it)"
  exit 1
fi

"$TESTS_BUILDDIR/tools/shapes" ds 100 16 10 7
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score p.db --epochs 4 --threads 1 --seed 1 -q
truth() { awk -F, -v p="$1" '$1 == p { print $2 }' ds/truth.csv; }
given() { awk -F, -v p="$1" '$1 == p { print $3 }' ds/truth.csv; }
# Decisions: two flipped samples get their true label, one is kept.
flips=$(awk -F, '$4 == 1 { print $1 }' ds/truth.csv | head -2)
for f in $flips; do "$WINNOW" set p.db "$f" "$(truth "$f")" >/dev/null; done
"$WINNOW" set p.db img/0000.png "$(given img/0000.png)" >/dev/null
f1=$(echo "$flips" | head -1)
nolinks() { [ -z "$(find "$@" -name '*.tmp-*' 2>/dev/null)" ]; }

# ---- several outputs at once, and the labels CSV round trip ----
run "$WINNOW" export p.db --labels ds/clean.csv --jsonl all.jsonl \
  --folder tree --scores scores.csv
exits "four outputs in one command exit 0" 0
has "the summary counts the decisions" "$T/out" \
  "exported 100 samples: 2 relabeled, 1 kept, 0 auto-accepted, 97 unreviewed"
is "the CSV header" "$(head -1 ds/clean.csv)" "path,label"
is "one row per sample" "$(($(wc -l < ds/clean.csv) - 1))" 100
is "in import order" "$(sed -n '2p;101p' ds/clean.csv | cut -d, -f1 | tr '\n' ' ')" \
  "img/0000.png img/0099.png "
is "a decision is applied" "$(awk -F, -v p="$f1" '$1 == p { print $2 }' ds/clean.csv)" \
  "$(truth "$f1")"
"$WINNOW" export p.db --labels - -q > stdout.csv
cmp -s stdout.csv ds/clean.csv
ok "'-' writes the same to standard output" $?
"$WINNOW" import n.db --csv ds/clean.csv -q >/dev/null
"$WINNOW" export n.db --labels n.csv -q
cmp -s n.csv ds/clean.csv
ok "import of the exported CSV gives the same labels" $?
is "the scores CSV keeps its header" "$(head -1 scores.csv)" \
  "path,given_label,suggested_label,score,flagged,self_confidence,margin,cl_flag,aum,elr,suggested_prob,knn,dup_group,outlier"
"$WINNOW" export p.db --scores - | cmp -s - scores.csv
ok "and its rows" $?

run "$WINNOW" export p.db --labels st.csv --original --status
is "--original and --status add columns" "$(head -1 st.csv)" \
  "path,label,given_label,status,score"
is "a relabeled sample" "$(grep "^$f1," st.csv | cut -d, -f2-4)" \
  "$(truth "$f1"),$(given "$f1"),relabeled"
is "a kept sample" "$(grep '^img/0000.png,' st.csv | cut -d, -f4)" "kept"
is "the others are unreviewed" "$(grep -c ',unreviewed,' st.csv)" 97
is "the score is the latest run's" "$(grep '^img/0007.png,' st.csv | cut -d, -f5)" \
  "$(grep '^img/0007.png,' scores.csv | cut -d, -f4)"

# ---- JSON lines ----
is "one JSON line per sample" "$(wc -l < all.jsonl)" 100
jq -e . all.jsonl >/dev/null 2>jq.err
ok "every line parses with jq" $?
is "a relabeled sample in JSON" \
  "$(jq -r --arg p "$f1" 'select(.path == $p) | [.given_label, .label, .status, (.history | length), .history[0].source, .history[1].source, .history[1].run] | join(" ")' all.jsonl)" \
  "$(given "$f1") $(truth "$f1") relabeled 2 import human 1"
is "scores, suggestion and flag are there" \
  "$(jq -r 'select(.path == "img/0007.png") | [(.score | type), (.scores | keys | join(",")), (.suggested_label | type), (.suggested_prob | type), (.flagged | type)] | join(" ")' all.jsonl)" \
  "number aum,cl_flag,elr,knn,margin,self_confidence string number boolean"

# Names that need escaping: a quote and a backslash in a class, a byte
# that is not UTF-8 and a tab in a path.
mkdir w
png w/plain.png
png "$(printf 'w/bad\377.png')"
png "$(printf 'w/t\tab.png')"
printf 'path,label\nplain.png,"a""b\\c"\n%s,x\n"%s",x\n' \
  "$(printf 'bad\377.png')" "$(printf 't\tab.png')" > w/m.csv
"$WINNOW" import w.db --csv w/m.csv -q >/dev/null
"$WINNOW" export w.db --jsonl w.jsonl -q
jq -e . w.jsonl >/dev/null 2>&1
ok "JSON lines parse whatever the names hold" $?
is "a class name with a quote and a backslash survives" \
  "$(jq -r 'select(.path == "plain.png") | .label' w.jsonl)" 'a"b\c'

# ---- class folders ----
is "the tree has a folder per class" "$(ls tree | tr '\n' ' ')" "cross disc square "
is "with every sample" "$(find tree -type l | wc -l)" 100
target=$(readlink "tree/$(truth "$f1")/$(echo "$f1" | tr / _)")
is "each a symbolic link to its source file" "$target" "$T/ds/$f1"
"$WINNOW" import t.db tree -q >/dev/null
"$WINNOW" export t.db --labels t.csv -q
sed 's|^[a-z]*/img_|img/|' t.csv | sort > t.sorted
sort ds/clean.csv > clean.sorted
cmp -s t.sorted clean.sorted
ok "importing the tree gives the same labels" $?

run "$WINNOW" export p.db --folder copies --link copy
exits "--link copy exits 0" 0
has "it counts copies" "$T/out" "copies: 0 links, 100 copies"
cmp -s "copies/$(given img/0007.png)/img_0007.png" ds/img/0007.png
ok "a copy is the source file" $?
run "$WINNOW" export p.db --folder hard --link hard
exits "--link hard exits 0" 0
is "a hard link shares the source's inode" \
  "$(stat -c %i "hard/$(given img/0007.png)/img_0007.png")" "$(stat -c %i ds/img/0007.png)"
mv ds/img/0009.png moved.png
mkdir empty
run "$WINNOW" export p.db --folder empty
exits "an empty existing folder is filled" 0
has "a moved source is written from the stored pixels" "$T/out" \
  "99 links, 0 copies, 1 PNGs from the stored pixels"
f=$(find empty -name img_0009.png)
test -f "$f" && ! test -L "$f" && [ "$(head -c 4 "$f" | tail -c 3)" = PNG ]
ok "as a PNG file" $?
mv moved.png ds/img/0009.png

# ---- IDX ----
"$MKPNG" idx img.idx lab.idx.gz 30 6 5 3
"$WINNOW" import i.db --idx img.idx lab.idx.gz -q >/dev/null
"$WINNOW" set i.db 'img.idx#4' 0 >/dev/null
run "$WINNOW" export i.db --idx out.idx.gz outl.idx --folder itree
exits "--idx exits 0" 0
gzip -dc out.idx.gz | cmp -s - img.idx
ok "the images are the imported ones, gzipped for a .gz name" $?
"$WINNOW" import j.db --idx out.idx.gz outl.idx -q >/dev/null
"$WINNOW" export i.db --labels - -q | cut -d, -f2 > i.labels
"$WINNOW" export j.db --labels - -q | cut -d, -f2 > j.labels
cmp -s i.labels j.labels
ok "importing the IDX pair gives the same labels" $?
is "including the decision" "$(sed -n 6p j.labels)" 0
is "IDX samples become PNG files in a tree" "$(find itree -type f -name '*.png' | wc -l)" 30
run "$WINNOW" export p.db --idx x.idx xl.idx
exits "--idx on a project not from IDX fails" 1
has "and says why" "$T/err" "--idx: the project has samples not imported from IDX files"
test ! -e x.idx && test ! -e xl.idx && nolinks .
ok "writing nothing" $?

# ---- what happens to unreviewed samples ----
run "$WINNOW" export p.db --labels drop.csv --unreviewed drop-flagged
exits "drop-flagged exits 0" 0
cut -d, -f1 drop.csv | sort > kept.paths
cut -d, -f1 ds/clean.csv | sort | comm -23 - kept.paths > dropped.paths
awk -F, 'NR == FNR { d[$1] = 1; next } FNR > 1 && ($1 in d) && $5 != 1 { bad++ }
  END { exit bad > 0 }' dropped.paths scores.csv
ok "only flagged samples are left out" $?
want=$(awk -F, 'NR > 1 && $5 == 1 { print $1 }' scores.csv | grep -v -x -F "$flips" | grep -v -x -c img/0000.png)
is "every unreviewed flagged sample is left out" "$(wc -l < dropped.paths)" "$want"
grep -q "^$f1," drop.csv
ok "a flagged sample a person decided on stays" $?
has "the summary counts them" "$T/out" "$(wc -l < dropped.paths) flagged samples left out"

before=$("$WINNOW" log p.db | wc -l)
mkdir full && touch full/x
run "$WINNOW" export p.db --labels acc.csv --folder full --unreviewed accept-above 0.6
exits "an export that fails with accept-above exits 1" 1
is "and records no auto event" "$("$WINNOW" log p.db | wc -l)" "$before"
test ! -e acc.csv
ok "nor writes its other outputs" $?
run "$WINNOW" export p.db --labels acc.csv --status --jsonl acc.jsonl \
  --unreviewed accept-above 0.6
exits "accept-above exits 0" 0
n_auto=$(grep -c ',auto,' acc.csv)
want=$(awk -F, 'NR > 1 && $11 >= 0.6 && $2 != $3' scores.csv | cut -d, -f1 | grep -v -x -F "$flips" | grep -v -x img/0000.png | wc -l)
is "suggestions at or above P are taken" "$n_auto" "$want"
test "$n_auto" -gt 0
ok "(there are some: $n_auto)" $?
has "the summary counts them" "$T/out" "accepted $n_auto suggestions of run 1"
is "each is an auto event in the log" "$("$WINNOW" log p.db | grep -c '  auto  run 1  score ')" "$n_auto"
a1=$(grep ',auto,' acc.csv | head -1 | cut -d, -f1)
is "in JSON, the accepted label ends the history as an event to come" \
  "$(jq -c --arg p "$a1" 'select(.path == $p) | [.status, (.history[-1] | .id, .source, .run)]' acc.jsonl)" \
  '["auto",null,"auto",1]'
"$WINNOW" export p.db --jsonl acc3.jsonl -q
is "which a later export shows recorded" \
  "$(jq -c --arg p "$a1" 'select(.path == $p) | [.status, (.history[-1] | (.id | type), .source, .new == $ARGS.named.l)]' --arg l "$(grep "^$a1," acc.csv | cut -d, -f2)" acc3.jsonl)" \
  '["auto","number","auto",true]'
"$WINNOW" export p.db --labels acc2.csv --status --unreviewed accept-above 0.6 -q
cmp -s acc.csv acc2.csv
ok "a second export accepts nothing new" $?
is "and records nothing more" "$("$WINNOW" log p.db | grep -c '  auto  ')" "$n_auto"

# ---- bad input ----
mkdir busy && touch busy/keep
run "$WINNOW" export p.db --labels b.csv --folder busy
exits "a non-empty folder fails" 1
is "it is named" "$(cat "$T/err")" "winnow: export: busy: folder exists and is not empty"
is "the folder is untouched" "$(ls busy)" "keep"
test ! -e b.csv && nolinks .
ok "nothing else is written" $?
run "$WINNOW" export p.db --labels /nonexistent/dir/x.csv
exits "an unwritable path fails" 1
has "it is named" "$T/err" "winnow: export: /nonexistent/dir/x.csv: No such file or directory"
run "$WINNOW" export p.db --jsonl /proc/x.jsonl
exits "a path in /proc fails" 1
run "$WINNOW" export p.db --labels /dev/full
exits "a full disk fails" 1
has "and says so" "$T/err" "winnow: export: /dev/full: no space left on device"
run sh -c "\"$WINNOW\" export p.db --labels - >/dev/full"
exits "a full disk on standard output fails" 1
has "and says so" "$T/err" "standard output: no space left on device"
run sh -c "ulimit -f 64; exec \"$WINNOW\" export p.db --jsonl big.jsonl --labels big.csv"
exits "a file larger than allowed fails" 1
has "and says so" "$T/err" "big.jsonl: File too large"
test ! -e big.jsonl && test ! -e big.csv && nolinks .
ok "leaving no file and no temporary" $?

for bad in 'a/b' '..' "$(printf 'tab\there')"; do
  rm -rf bn bn.db bntree
  png bn/x.png
  printf 'path,label\n"x.png","%s"\n' "$bad" > bn/m.csv
  "$WINNOW" import bn.db --csv bn/m.csv -q >/dev/null
  run "$WINNOW" export bn.db --folder bntree --labels bn.csv
  exits "class '$bad' as a folder fails" 1
  has "it is named" "$T/err" "cannot be a folder name"
  test ! -e bntree && test ! -e bn.csv && nolinks .
  ok "nothing is written" $?
done

# ---- an export killed midway ----
# JSON lines (a megabyte of them) to a FIFO nobody reads block the export
# once the pipe is full, while the labels file is half written under its
# temporary name.
"$MKPNG" idx big.idx bigl.idx 3000 8 8 3
"$WINNOW" import big.db --idx big.idx bigl.idx -q >/dev/null
killed() {
  rm -f fifo mid.csv
  mkfifo fifo
  exec 3<>fifo # a reader that never reads, without a process of its own
  "$WINNOW" export big.db --labels mid.csv --jsonl - >fifo 2>kill.err 3<&- &
  pid=$!
  deadline=$(($(date +%s) + 20))
  while [ -z "$(find . -maxdepth 1 -name 'mid.csv.tmp-*')" ] &&
    [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
  sleep 0.1
  kill "-$1" $pid
  rc=0
  wait $pid || rc=$?
  exec 3<&-
}
for sig in TERM INT; do
  killed $sig
  exits "SIG$sig stops the export with status 1" 1
  has "it says it was interrupted" kill.err "winnow: export: interrupted"
  test ! -e mid.csv && nolinks .
  ok "SIG$sig leaves no file and no temporary" $?
done
killed KILL
test ! -e mid.csv
ok "SIGKILL never leaves a partial file under the real name" $?
rm -f mid.csv.tmp-*

# ---- usage ----
run "$WINNOW" export p.db
exits "nothing to export is a usage error" 2
run "$WINNOW" export p.db --labels a.csv --jsonl a.csv
exits "one name for two outputs is a usage error" 2
run "$WINNOW" export p.db --labels - --jsonl -
exits "two outputs on standard output is a usage error" 2
run "$WINNOW" export p.db --folder d --link soft
exits "a bad --link is a usage error" 2
run "$WINNOW" export p.db --labels a.csv --unreviewed accept-above 1.5
exits "a probability above 1 is a usage error" 2
run "$WINNOW" export p.db --labels a.csv --unreviewed maybe
exits "an unknown policy is a usage error" 2
run "$WINNOW" export p.db --idx only.idx
exits "--idx with one file is a usage error" 2
run "$WINNOW" export p.db --status --jsonl a.jsonl
exits "--status without --labels is a usage error" 2
run "$WINNOW" export --help
exits "export --help exits 0" 0
has "export --help describes the policies" "$T/out" "accept-above P"

done_testing
