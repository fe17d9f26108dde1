#!/usr/bin/env bash
# The progress line in a real terminal: tmux runs `vouch digest` on a plain
# dump that arrives through a FIFO with a pause in the middle, so the run is
# caught while it reads. capture-pane must show the status line then, and
# not once the command has ended (the line is cleared); with stderr not a
# terminal there is no line unless --progress, which prints plain lines
# (no escape sequences) for logs; --no-progress silences the terminal.
#   progress_tty_test.sh VOUCH_BINARY
set -euo pipefail
VOUCH=$1
command -v tmux >/dev/null || { echo "tmux is not installed (scripts/install-deps.sh installs it)"; exit 1; }
work=$(mktemp -d)
session="vouch-progress-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

{
  echo "-- PostgreSQL database dump"
  echo
  echo "--"
  echo "-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: vouch"
  echo "--"
  echo
  echo "COPY public.t (id, v) FROM stdin;"
  seq 1 300000 | awk '{print $1 "\tvalue-" $1}'
  echo '\.'
  echo
  echo "-- PostgreSQL database dump complete"
} >"$work/dump.sql"
half=$(($(stat -c %s "$work/dump.sql") / 2))

# Feeds the dump into FIFO $1: half of it, a pause of $2 seconds, the rest.
feed() {
  rm -f "$1"
  mkfifo "$1"
  (head -c "$half" "$work/dump.sql"; sleep "$2"; tail -c +$((half + 1)) "$work/dump.sql") >"$1" &
}
fail() { echo "FAIL: $*"; exit 1; }

# 1. A terminal: the line shows while the dump is read, and is gone after.
# (The pause is long, the polling longer: on a loaded machine vouch may
# take seconds to start and draw.)
feed "$work/f1.sql" 8
tmux new-session -d -s "$session" -x 200 -y 20 \
  "'$VOUCH' digest --chunk-size 64K '$work/f1.sql' >'$work/out1.txt'; echo \"exit=\$?\" >'$work/rc1'; sleep 60"
seen=""
for _ in $(seq 1 60); do
  sleep 0.2
  pane=$(tmux capture-pane -p -t "$session")
  if grep -qE '^vouch digest [0-9]+:[0-9]{2}: .*[0-9,]+ rows [0-9,]+/[0-9,]+ tables' <<<"$pane"; then
    seen=$(grep -E '^vouch digest' <<<"$pane")
    break
  fi
done
[ -n "$seen" ] || fail "no progress line in the terminal while reading; pane:
$pane"
echo "seen in the terminal: $seen"
for _ in $(seq 1 100); do [ -f "$work/rc1" ] && break; sleep 0.2; done
[ "$(cat "$work/rc1" 2>/dev/null)" = "exit=0" ] || fail "vouch digest did not succeed: $(cat "$work/rc1" 2>/dev/null)"
pane=$(tmux capture-pane -p -t "$session")
grep -qE '^vouch digest [0-9]+:[0-9]{2}:' <<<"$pane" && fail "the progress line was not cleared at the end:
$pane"
grep -q '^vouch: read ' <<<"$pane" || fail "the run statistics are missing after the cleared line:
$pane"
grep -q '300,000' "$work/out1.txt" || fail "the report (stdout) lacks the 300,000 rows"
grep -qE 'rows [0-9,]+/' "$work/out1.txt" && fail "progress leaked into stdout"
tmux kill-session -t "$session"

# 2. --no-progress in a terminal: no line.
feed "$work/f2.sql" 2
tmux new-session -d -s "$session" -x 200 -y 20 \
  "'$VOUCH' digest --no-progress -q '$work/f2.sql' >/dev/null; echo \"exit=\$?\" >'$work/rc2'; sleep 60"
for _ in $(seq 1 12); do
  sleep 0.2
  tmux capture-pane -p -t "$session" | grep -qE '^vouch digest [0-9]' && fail "--no-progress still showed a line"
done
for _ in $(seq 1 100); do [ -f "$work/rc2" ] && break; sleep 0.2; done
[ "$(cat "$work/rc2" 2>/dev/null)" = "exit=0" ] || fail "vouch digest --no-progress did not succeed"
tmux kill-session -t "$session"

# 3. Not a terminal: nothing without --progress ...
feed "$work/f3.sql" 1
"$VOUCH" digest -q "$work/f3.sql" >/dev/null 2>"$work/err3"
[ ! -s "$work/err3" ] || fail "stderr not a terminal, no --progress, yet: $(cat "$work/err3")"

# 4. ... and plain lines every 5 s with it (a pause of 7 s gives one at least).
feed "$work/f4.sql" 7
"$VOUCH" digest --progress -q "$work/f4.sql" >/dev/null 2>"$work/err4"
grep -qE '^vouch digest [0-9]+:[0-9]{2}: .* tables' "$work/err4" || fail "--progress printed no plain line: $(cat "$work/err4")"
grep -q $'\033' "$work/err4" && fail "--progress to a file wrote escape sequences"
grep -q $'\r' "$work/err4" && fail "--progress to a file wrote carriage returns"
echo "plain progress lines: $(grep -c '^vouch digest' "$work/err4")"
echo PASS
