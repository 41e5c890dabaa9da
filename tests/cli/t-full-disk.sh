#!/bin/sh
# Out of room during import, scoring, a decision and export: a clear
# `winnow: ...` line naming the full disk or the file size limit, and no
# damage. The project file passes integrity_check, what was committed
# before (samples, a decision, the published scores) is all there, no
# export is left half written under its name, and the same command works
# once there is room again.
#
# Two ways to run out: a small tmpfs the test mounts (as root, where mount
# works), topped up with a filler file to leave just so much room; and a
# file size limit (ulimit -f) in a subshell, where writes fail with EFBIG.
# Each runs where it can; with neither the test skips.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || {
  echo "1..0 # SKIP sqlite3 is not installed"
  exit 0
}

disk=$T/disk
mkdir "$disk"
tmpfs=0
if [ "$(id -u)" -eq 0 ] &&
  mount -t tmpfs -o size=4m,mode=0755 winnow-full "$disk" 2>/dev/null; then
  tmpfs=1
  trap 'umount "$disk" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
fi
# The unit of ulimit -f is the shell's (512 bytes in dash, 1024 in bash).
(
  trap '' XFSZ
  ulimit -f 1 && head -c 4096 /dev/zero >blk
) 2>/dev/null
blk=$(wc -c <blk 2>/dev/null || echo 0)
rm -f blk
[ "$blk" -eq 512 ] || [ "$blk" -eq 1024 ] || blk=0
if [ $tmpfs -eq 0 ] && [ "$blk" -eq 0 ]; then
  echo "1..0 # SKIP cannot mount a tmpfs (not root) nor limit file sizes"
  exit 0
fi
[ $tmpfs -eq 1 ] || diag "no tmpfs (not root, or mount refused): ulimit -f only"
[ "$blk" -ne 0 ] || diag "ulimit -f does not work here: tmpfs only"

# The reference project, made where there is room: 150 samples, a
# published run, one decision.
"$TESTS_BUILDDIR/tools/shapes" ds 150 16 10 5
"$WINNOW" import base.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score base.db --epochs 2 --threads 1 --quiet
"$WINNOW" set base.db img/0007.png cross >/dev/null
"$WINNOW" export base.db --scores base-scores.csv --labels base-labels.csv -q
# 6000 tiny images in one IDX file: more than one import batch (4096).
"$MKPNG" idx many.idx many-labels.idx 6000 8 8 3
cases=0 messages=$T/messages
: >"$messages"

# fill KB: leave about KB kilobytes free on the tmpfs.
fill() {
  rm -f "$disk/fill"
  _avail=$(df -Pk "$disk" | awk 'NR == 2 { print $4 }')
  [ "$_avail" -le "$1" ] ||
    dd if=/dev/zero of="$disk/fill" bs=1024 count=$((_avail - $1)) 2>/dev/null
}

# limited BYTES CMD...: CMD under a file size limit of BYTES.
limited() {
  _n=$(($1 / blk))
  shift
  (
    trap '' XFSZ
    ulimit -f $_n && exec "$@"
  )
}

# no_room WHAT: the last run failed with one line that says why in words a
# person knows: the disk is full, or a file would be too large.
no_room() {
  cases=$((cases + 1))
  exits "$1 fails" 1
  grep -Eiq '^winnow: .*(disk full|no space left on device|file too large)' \
    "$T/err"
  ok "$1 says why ($(head -1 "$T/err"))" $?
  head -1 "$T/err" >>"$messages"
  hasnt "$1 does not fall back on SQLite's words" "$T/err" "I/O error"
}

# intact WHAT DB [SCORES]: DB passes integrity_check and still holds the
# reference project's samples, decision and (or the given) scores.
intact() {
  is "$1: integrity_check" "$(sqlite3 "$2" 'PRAGMA integrity_check')" ok
  run "$WINNOW" export "$2" --scores chk-scores.csv --labels chk-labels.csv -q
  exits "$1: it can be exported" 0
  cmp -s chk-labels.csv base-labels.csv
  ok "$1: every label and the decision are there" $?
  cmp -s chk-scores.csv "${3:-base-scores.csv}"
  ok "$1: the published scores are intact" $?
}

# nothing_in DIR: DIR holds nothing but the filler (no export, no
# temporary file, no project file).
nothing_in() {
  ls "$1" | grep -v '^fill$' >"$T/left" || :
  is "$2" "$(cat "$T/left")" ""
}

if [ $tmpfs -eq 1 ]; then
  # -- import --
  fill 0
  run "$WINNOW" import "$disk/new.db" --csv ds/manifest.csv
  no_room "import into a new project on a full disk"
  nothing_in "$disk" "it leaves no project file behind"

  # Room for the first batch of 4096 but not the rest: the batch stays.
  fill 1700
  run "$WINNOW" import "$disk/many.db" --idx many.idx many-labels.idx -q
  no_room "an import that outgrows the disk"
  has "it says what was kept" "$T/err" \
    "the 4096 images imported before that are kept in $disk/many.db"
  is "integrity_check after it" \
    "$(sqlite3 "$disk/many.db" 'PRAGMA integrity_check')" ok
  is "the first batch is in the project" \
    "$(sqlite3 "$disk/many.db" 'SELECT count(*) FROM samples')" 4096
  rm -f "$disk/fill"
  run "$WINNOW" import "$disk/many.db" --idx many.idx many-labels.idx -q
  exits "with room the same import finishes" 0
  has "adding the rest" "$T/out" "imported 1904 images"
  rm -f "$disk"/many.db*

  # Into an existing project: nothing of it changes.
  cp base.db "$disk/p.db"
  fill 0
  run "$WINNOW" import "$disk/p.db" --idx many.idx many-labels.idx -q
  no_room "an import into a project on a full disk"
  rm -f "$disk/fill"
  intact "after it" "$disk/p.db"

  # -- score: from no room at all to enough, failing wherever it fails --
  failed=0
  for kb in 0 12 24 40 64 96 160; do
    rm -f "$disk"/p.db*
    cp base.db "$disk/p.db"
    fill $kb
    run "$WINNOW" score "$disk/p.db" --epochs 2 --threads 1 --quiet
    rm -f "$disk/fill"
    if [ $rc -eq 0 ]; then
      diag "score with ${kb} KB free: done"
      "$WINNOW" export "$disk/p.db" --scores new-scores.csv -q
      intact "score with ${kb} KB free, done" "$disk/p.db" new-scores.csv
      continue
    fi
    failed=$((failed + 1))
    at=$(sqlite3 "$disk/p.db" "SELECT coalesce(max(status || ' ' ||
      coalesce(message, '')), 'no run') FROM runs WHERE id > 1")
    diag "score with ${kb} KB free: failed, new run: $at"
    no_room "score with ${kb} KB free"
    intact "score with ${kb} KB free" "$disk/p.db"
    run "$WINNOW" score "$disk/p.db" --epochs 2 --threads 1 --quiet
    exits "score with ${kb} KB free: with room again it works" 0
  done
  [ $failed -ge 2 ]
  ok "scoring failed at two or more levels of room ($failed)" $?

  # -- a decision --
  rm -f "$disk"/p.db*
  cp base.db "$disk/p.db"
  fill 0
  run "$WINNOW" set "$disk/p.db" img/0008.png disc
  no_room "a decision on a full disk"
  rm -f "$disk/fill"
  intact "after it" "$disk/p.db"
  rm -f "$disk"/p.db*

  # -- export: the project has room, the output has none --
  for kb in 0 8; do
    fill $kb
    run "$WINNOW" export base.db --scores "$disk/s.csv" --labels "$disk/l.csv"
    no_room "export with ${kb} KB free"
    nothing_in "$disk" "it leaves no file, whole or partial"
  done
  rm -f "$disk/fill"
  run "$WINNOW" export base.db --scores "$disk/s.csv" -q
  exits "with room, export works" 0
  cmp -s "$disk/s.csv" base-scores.csv
  ok "and writes the whole file" $?
  rm -f "$disk"/*
fi

if [ "$blk" -ne 0 ]; then
  mkdir lim
  # -- import: no trap here, winnow import ignores SIGXFSZ itself --
  run sh -c "ulimit -f $((100 * 1024 / blk)); exec \"\$@\"" sh \
    "$WINNOW" import lim/new.db --csv ds/manifest.csv
  no_room "import past the file size limit"
  ls lim >"$T/left"
  is "it leaves no project file behind" "$(cat "$T/left")" ""
  run limited $((1700 * 1024)) "$WINNOW" import lim/many.db \
    --idx many.idx many-labels.idx -q
  no_room "an import that outgrows the limit"
  has "it says what was kept" "$T/err" "the 4096 images imported before that"
  is "integrity_check after it" \
    "$(sqlite3 lim/many.db 'PRAGMA integrity_check')" ok
  run "$WINNOW" import lim/many.db --idx many.idx many-labels.idx -q
  exits "without the limit the same import finishes" 0
  has "adding the rest" "$T/out" "imported 1904 images"

  # -- score: the project file is larger than the limit --
  cp base.db lim/p.db
  run limited $((64 * 1024)) "$WINNOW" score lim/p.db --epochs 2 \
    --threads 1 --quiet
  no_room "score past the file size limit"
  intact "after it" lim/p.db
  run "$WINNOW" score lim/p.db --epochs 2 --threads 1 --quiet
  exits "without the limit, score works" 0

  # -- export: room for the project's -shm (32 KiB), not for the JSON --
  rm -f lim/*
  run limited $((40 * 1024)) "$WINNOW" export base.db --scores lim/s.csv \
    --jsonl lim/s.jsonl
  no_room "export past the file size limit"
  has "it names the file" "$T/err" "lim/s.jsonl"
  ls lim >"$T/left"
  is "it leaves no file, whole or partial" "$(cat "$T/left")" ""
fi
diag "$cases cases of no room; the messages:"
sort "$messages" | uniq -c | sed 's/^/# /'
done_testing
