# tests/tmux.sh: drive winnow's screen in a private tmux server. Sourced by
# the review tests after lib.sh.
#
# Each test gets its own server (-L wn$$, no config file), killed on exit.
# Panes stay after their program ends (remain-on-exit), so a test can read
# whether the terminal left the alternate screen (#{alternate_on}: 0 once
# endwin ran). Waits poll the screen against a deadline; there are no fixed
# sleeps.
command -v tmux >/dev/null 2>&1 || {
  echo "1..0 # SKIP tmux is not installed"
  exit 0
}
unset TMUX TMUX_PANE
TM_SOCK=wn$$
# The screen is UTF-8 whatever the caller's locale: block characters and
# colours are what the tests look at.
TM_LOCALE=C.UTF-8
TM_DEADLINE=${TM_DEADLINE:-20}
trap 'tmux -L "$TM_SOCK" kill-server >/dev/null 2>&1; rm -rf "$T"' EXIT INT TERM

tm() { tmux -u -L "$TM_SOCK" -f /dev/null "$@"; }

# tm_start W H COMMAND: run COMMAND (one shell string) in a new W x H
# window in $T, named "w"; its exit status goes to $T/rc. (tmux 3.3a does
# not always reap a pane's process, so #{pane_dead_status} cannot be
# trusted; the shell around the command reaps it instead.)
tm_start() {
  _w=$1 _h=$2
  shift 2
  rm -f "$T/rc"
  _cmd="$*; echo \$? >'$T/rc.tmp' && mv '$T/rc.tmp' '$T/rc'"
  if tm has-session 2>/dev/null; then
    tm new-window -d -n w -c "$T" -e LC_ALL=$TM_LOCALE -e LANG=$TM_LOCALE \
      "$_cmd"
    tm resize-window -t w -x "$_w" -y "$_h"
  else
    # exit-empty off: the server outlives a test's last window (closed
    # by tm_kill), so the next tm_start never meets a server on its way
    # out; the test's exit trap kills the server.
    tm start-server \; set -g exit-empty off \; \
      set -g default-terminal tmux-256color \; \
      set -g remain-on-exit on \; set -g history-limit 200 \; \
      new-session -d -s t -n w -x "$_w" -y "$_h" -c "$T" \
      -e LC_ALL=$TM_LOCALE -e LANG=$TM_LOCALE "$_cmd"
  fi
}

# tm_pid: the process id of the program in window w (the shell's child).
tm_pid() {
  _end=$(($(date +%s) + TM_DEADLINE))
  while :; do
    _p=$(pgrep -P "$(tm_var pane_pid)" | head -1)
    [ -n "$_p" ] && break
    [ "$(date +%s)" -ge "$_end" ] && break
    sleep 0.02
  done
  echo "$_p"
}

# tm_kill: close the window (before starting the next program).
tm_kill() { tm kill-window -t w >/dev/null 2>&1 || true; }

tm_keys() { tm send-keys -t w "$@"; }

# tm_screen [-e]: the screen as text (with -e, colours as escapes).
tm_screen() { tm capture-pane -p -t w "$@"; }

tm_var() { tm display-message -p -t w "#{$1}"; }

# tm_wait TEXT: wait until the screen (or what scrolled off it since the
# window opened) shows TEXT (fixed string); 1 on timeout, with the screen
# as a diagnostic.
tm_wait() {
  _end=$(($(date +%s) + TM_DEADLINE))
  while :; do
    tm_screen -S - >"$T/screen" 2>/dev/null || :
    grep -qF -- "$1" "$T/screen" && return 0
    [ "$(date +%s)" -ge "$_end" ] && break
    sleep 0.02
  done
  diag "timed out waiting for '$1'; the screen:"
  sed 's/^/#   /' "$T/screen"
  return 1
}

# tm_wait_gone TEXT: wait until the screen no longer shows TEXT.
tm_wait_gone() {
  _end=$(($(date +%s) + TM_DEADLINE))
  while :; do
    tm_screen >"$T/screen" 2>/dev/null || :
    grep -qF -- "$1" "$T/screen" || return 0
    [ "$(date +%s)" -ge "$_end" ] && break
    sleep 0.02
  done
  diag "timed out waiting for '$1' to go; the screen:"
  sed 's/^/#   /' "$T/screen"
  return 1
}

# tm_wait_exit: wait until the program in window w has ended; prints its
# exit status (128 + N when signal N killed it), or "timeout".
tm_wait_exit() {
  _end=$(($(date +%s) + TM_DEADLINE))
  while [ ! -f "$T/rc" ]; do
    if [ "$(date +%s)" -ge "$_end" ]; then
      echo timeout
      return 1
    fi
    sleep 0.02
  done
  cat "$T/rc"
}

# tm_current: the path of the sample the screen shows ("#3 of 60  PATH").
tm_current() {
  tm_screen | sed -n 's/.*#[0-9][0-9]* of [0-9][0-9]*  *\([^ ]*\).*/\1/p' |
    head -1
}

# tm_wait_current_not PATH: wait until the current sample is another one.
tm_wait_current_not() {
  _end=$(($(date +%s) + TM_DEADLINE))
  while [ "$(tm_current)" = "$1" ]; do
    if [ "$(date +%s)" -ge "$_end" ]; then
      diag "timed out waiting to leave $1"
      return 1
    fi
    sleep 0.02
  done
}

# tm_settle TARGET: wait until the screen of window TARGET shows the
# program's screen (the title line) and stops changing.
tm_settle() {
  _prev=""
  _end=$(($(date +%s) + TM_DEADLINE))
  while [ "$(date +%s)" -lt "$_end" ]; do
    _now=$(tm capture-pane -p -t "$1" 2>/dev/null)
    case $_now in
    *"winnow "*) [ "$_now" = "$_prev" ] && return 0 ;;
    esac
    _prev=$_now
    sleep 0.05
  done
  diag "the screen of $1 did not settle"
  return 1
}
