#!/bin/sh
# Manifests as people write them (column names, separators, no header,
# absolute paths, --root), and the exit status of an import that adds
# nothing.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

png data/img/a.png; png data/img/b.png; png data/img/c.png

# count DB: the number of samples `winnow info` reports.
count() {
  "$WINNOW" info "$1" | sed -n 's/^samples: *\([0-9]*\).*/\1/p'
}

# labels DB: "path,label" lines of the project, sorted.
labels() {
  "$WINNOW" export "$1" --labels - -q | sed 1d | sort
}

# --- the default column names, each one, and their order

i=0
for pc in path filename file image image_path; do
  for lc in label class category target; do
    i=$((i + 1))
    printf '%s,%s\nimg/a.png,cat\n' "$pc" "$lc" > "data/d$i.csv"
  done
done
fails=0
for n in $(seq 1 "$i"); do
  run "$WINNOW" import "d$n.db" --csv "data/d$n.csv" -q
  [ "$rc" -eq 0 ] || { fails=$((fails + 1)); head -1 "data/d$n.csv"; }
done
ok "every pair of default column names imports ($i pairs)" "$fails"

# An upper-case, padded header is the same; 'path' wins over 'file',
# 'label' over 'class'.
printf 'File, Path ,CLASS,Label\nnope.png,img/a.png,dog,cat\n' > data/order.csv
run "$WINNOW" import order.db --csv data/order.csv
exits "a header with several default names imports" 0
is "path before file, label before class" "$(labels order.db)" "img/a.png,cat"

# --- named columns

printf 'id,Image Path,species\n1,img/a.png,cat\n2,img/b.png,dog\n' \
  > data/named.csv
run "$WINNOW" import named.db --csv data/named.csv \
  --path-column 'image path' --label-column SPECIES
exits "--path-column and --label-column name any column, any case" 0
is "both rows" "$(count named.db)" 2

run "$WINNOW" import named2.db --csv data/named.csv --path-column img
exits "a --path-column the header lacks fails" 1
has "naming it and the header's columns" "$T/err" \
  "winnow: import: data/named.csv: no column 'img' (--path-column) in the header; split at ',', its columns are 'id', 'Image Path', 'species'"
test ! -e named2.db
ok "and leaves no project file" $?

run "$WINNOW" import named2.db --csv data/named.csv --path-column 'image path'
exits "a missing default label column fails" 1
has "naming the names tried" "$T/err" \
  "no label column (tried label, class, category, target) in the header; split at ',', its columns are 'id', 'Image Path', 'species'; name it with --label-column"

run "$WINNOW" import named2.db --csv data/named.csv \
  --path-column species --label-column SPECIES
exits "one column for both fails" 1
has "saying so" "$T/err" "path and label would both be read from column 3"

# --- no header

printf 'img/a.png,cat\nimg/b.png,dog\n' > data/bare.csv
run "$WINNOW" import bare.db --csv data/bare.csv --no-header
exits "--no-header reads the first line as a row" 0
is "both rows" "$(labels bare.db)" "img/a.png,cat
img/b.png,dog"

printf 'cat;img/a.png\ndog;img/c.png\n' > data/bare2.csv
run "$WINNOW" import bare2.db --csv data/bare2.csv --no-header \
  --path-column 2 --label-column 1
exits "--no-header takes column numbers" 0
is "from the columns named" "$(labels bare2.db)" "img/a.png,cat
img/c.png,dog"

run "$WINNOW" import bare3.db --csv data/bare.csv --no-header \
  --path-column path
exits "--no-header with a column name fails" 1
has "saying columns are numbers" "$T/err" \
  "winnow: import: data/bare.csv: --path-column 'path': without a header, columns are numbered from 1"

run "$WINNOW" import bare3.db --csv data/bare.csv
exits "a header-less file read with a header fails" 1
has "with --no-header as a fix" "$T/err" \
  "or give --no-header if the first line is a row"

# --- separators, detected and given; BOM and CRLF

printf 'path;label\nimg/a.png;cat\n"img/b.png";dog\n' > data/semi.csv
run "$WINNOW" import semi.db --csv data/semi.csv
exits "';' is detected" 0
is "both rows" "$(count semi.db)" 2

printf 'path\tnote\tlabel\nimg/a.png\ta, b\tcat\nimg/b.png\t\tdog\n' \
  > data/tab.tsv
run "$WINNOW" import tab.db --csv data/tab.tsv
exits "tab is detected" 0
is "both rows" "$(labels tab.db)" "img/a.png,cat
img/b.png,dog"

run "$WINNOW" import semi2.db --csv data/semi.csv --sep ';'
exits "--sep ';' is taken" 0
run "$WINNOW" import tab2.db --csv data/tab.tsv --sep tab
exits "--sep tab is taken" 0
run "$WINNOW" import tab3.db --csv data/tab.tsv --sep "$(printf '\t')"
exits "and a literal tab" 0
run "$WINNOW" import tab4.db --csv data/tab.tsv --sep '\t'
exits "and \\t" 0
run "$WINNOW" import x.db --csv data/tab.tsv --sep :
exits "another --sep is a usage error" 2
has "naming what it takes" "$T/err" "--sep takes ',', ';' or tab, not ':'"

run "$WINNOW" import semi3.db --csv data/semi.csv --sep ,
exits "a --sep that does not split the header fails" 1
has "saying what it split and to check --sep" "$T/err" \
  "in the header; split at ',', its columns are 'path;label'; name it with --path-column, or check --sep"
run "$WINNOW" import semi3.db --csv data/semi.csv --sep , --path-column path
has "also when the column is named" "$T/err" \
  "no column 'path' (--path-column) in the header; split at ',', its columns are 'path;label'; check --sep"

printf 'path;label,x\nimg/a.png;cat,1\n' > data/amb.csv
run "$WINNOW" import amb.db --csv data/amb.csv
exits "a separator that cannot be told fails" 1
has "saying which two fit" "$T/err" \
  "winnow: import: data/amb.csv: cannot tell the separator: both ',' and ';' split the first lines into the same number of columns; give it with --sep"
run "$WINNOW" import amb.db --csv data/amb.csv --sep ';' \
  --label-column 'label,x'
exits "--sep settles it" 0
is "split at ';'" "$(labels amb.db)" 'img/a.png,"cat,1"'

printf '\357\273\277Path;Class\r\nimg/a.png;cat\r\nimg/c.png;dog\r\n' \
  > data/excel.csv
run "$WINNOW" import excel.db --csv data/excel.csv
exits "a BOM, CRLF and ';' (a spreadsheet's export) import" 0
is "every row, without CRs" "$(labels excel.db)" "img/a.png,cat
img/c.png,dog"

# --- paths: absolute, --root, '..', missing, not a regular file

printf 'path,label\n%s/data/img/a.png,cat\n%s/data/img/../img/b.png,dog\n' \
  "$T" "$T" > data/abs.csv
run "$WINNOW" import abs.db --csv data/abs.csv
exits "absolute paths import" 0
is "stored as written, normalised" "$(labels abs.db)" "$T/data/img/a.png,cat
$T/data/img/b.png,dog"

mkdir -p lists pics/sub
png pics/sub/x.png; png pics/y.png; png pics/.hidden.png
ln -s sub/x.png pics/link.png
mkfifo pics/fifo.png
printf 'path,label\nsub/x.png,cat\ny.png,dog\n../data/img/a.png,cat\n' \
  > lists/m.csv
printf 'link.png,dog\n.hidden.png,cat\nfifo.png,cat\nnone.png,cat\n' \
  >> lists/m.csv
run timeout 20 "$WINNOW" import root.db --csv lists/m.csv --root pics
exits "--root: relative paths are read under it" 0
has "the images under it" "$T/out" "imported 4 images"
has "'..' out of it is refused" "$T/err" \
  "winnow: import: lists/m.csv:4: path '../data/img/a.png' leaves the root folder pics"
has "a FIFO named by a row is refused unopened" "$T/err" \
  "winnow: import: pics/fifo.png: not a regular file"
has "a missing file is named" "$T/err" \
  "winnow: import: pics/none.png: No such file or directory"
is "a link and a hidden file named by rows are read" "$(labels root.db)" \
  ".hidden.png,cat
link.png,dog
sub/x.png,cat
y.png,dog"

run "$WINNOW" import root2.db --csv lists/m.csv --root nowhere
exits "a missing --root fails" 1
has "naming it" "$T/err" \
  "winnow: import: --root nowhere: No such file or directory"

# Without --root the manifest's folder is the root, as before.
printf 'path,label\nimg/a.png,cat\n../x.png,dog\n' > data/rel.csv
run "$WINNOW" import rel.db --csv data/rel.csv
has "'..' out of the manifest's folder is refused" "$T/err" \
  "winnow: import: data/rel.csv:3: path '../x.png' leaves the manifest's folder"

# --- an import that adds nothing fails, and leaves nothing it made

mkdir -p empty/cat empty/dog
run "$WINNOW" import e.db empty
exits "empty class folders fail" 1
has "saying what was looked for, and where" "$T/err" \
  "winnow: import: empty: nothing imported: no PNG, JPEG or WebP images found under empty/<class>/ folders; put each class's images in a folder named after it"
test ! -e e.db
ok "no project file is left" $?

mkdir -p txt/cat
echo hello > txt/cat/notes.txt
echo hello > txt/cat/photo.jpg
run "$WINNOW" import t.db txt
exits "a folder of files that are not images fails" 1
has "each is named" "$T/err" "winnow: import: txt/cat/notes.txt: unknown extension"
has "an image by name only is named too" "$T/err" \
  "winnow: import: txt/cat/photo.jpg: not an image (PNG, JPEG or WebP)"
has "with the reason" "$T/err" \
  "txt: nothing imported: none of the 1 images found could be read"
test ! -e t.db
ok "no project file is left" $?

mkdir -p broken/cat
echo junk > broken/cat/a.png
run "$WINNOW" import b.db broken
exits "a folder of unreadable images fails" 1
has "saying none could be read" "$T/err" \
  "winnow: import: broken: nothing imported: none of the 1 images found could be read (each is named above)"

printf 'path,label\nimg/none1.png,cat\nimg/none2.png,dog\n,dog\n' > data/bad.csv
run "$WINNOW" import c.db --csv data/bad.csv
exits "a manifest whose every row is bad fails" 1
has "saying so, with where paths are read" "$T/err" \
  "winnow: import: data/bad.csv: nothing imported: all 3 rows were skipped (each is named above); relative paths are read under data/ (--root names another folder)"
test ! -e c.db
ok "no project file is left" $?

printf 'path,label\nimg/a.png,\n' > data/nolabel.csv
run "$WINNOW" import c.db --csv data/nolabel.csv
has "without the hint when no file was missing" "$T/err" \
  "winnow: import: data/nolabel.csv: nothing imported: all 1 rows were skipped (each is named above)"

# Into an existing project: a failure, the project as it was.
labels bare.db > before.txt
"$WINNOW" info bare.db > info-before.txt
run "$WINNOW" import bare.db --csv data/bad.csv
exits "an import of nothing into a project fails" 1
has "saying the project is as it was" "$T/err" \
  "winnow: import: nothing was imported; bare.db is as it was"
test -e bare.db
ok "the project file is kept" $?
is "with its samples" "$(labels bare.db)" "$(cat before.txt)"
"$WINNOW" info bare.db > info-after.txt
cmp -s info-after.txt info-before.txt
ok "and its history" $?

# Again, all of it there: not a failure.
run "$WINNOW" import bare.db --csv data/bare.csv --no-header
exits "a re-import with nothing new exits 0" 0
has "and says so" "$T/out" "nothing new: the images of this source are in bare.db already"
run "$WINNOW" import e2.db data
exits "(a folder import)" 0
run "$WINNOW" import e2.db data
exits "a folder re-import exits 0" 0
has "and says so" "$T/out" "nothing new"

# IDX files whose every label lacks a class name.
printf '\0\0\10\3\0\0\0\2\0\0\0\2\0\0\0\2' > two-images.idx
printf '\1\2\3\4\5\6\7\10' >> two-images.idx
printf '\0\0\10\1\0\0\0\2\3\3' > two-labels.idx
printf 'a\nb\n' > names.txt
run "$WINNOW" import i.db --idx two-images.idx two-labels.idx \
  --class-names names.txt
exits "IDX labels none of which has a class name fail" 1
has "saying so" "$T/err" \
  "winnow: import: two-images.idx: nothing imported: all 2 images were skipped (each is named above)"
test ! -e i.db
ok "no project file is left" $?

done_testing
