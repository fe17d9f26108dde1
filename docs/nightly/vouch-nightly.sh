#!/usr/bin/env bash
# vouch-nightly.sh [CONFIG]: the nightly backup checks, for Prometheus.
#
# 1. `vouch verify-backup --newest-in $VOUCH_BACKUP_DIR`: the newest base
#    backup (pg_basebackup) there exists, is recent, is not much smaller than
#    the one before, and its compressed files decompress to their end.
# 2. `vouch verify-archive` on the newest pg_dump archive in $VOUCH_DUMP_DIR:
#    read to its end, every row checked.
# Each report (--format prometheus) goes to the node_exporter textfile
# collector directory as vouch-backup.prom and vouch-archive.prom, and the
# script's own metrics (each check's exit code and time, the dump's age) as
# vouch-nightly.prom. Every file is written to a temporary file in the same
# directory and renamed, so node_exporter never reads half a file. A check
# that printed nothing (exit 2 or 3) leaves its previous file in place: its
# last-run timestamp then shows how old it is.
#
# Settings come from the environment (systemd: EnvironmentFile=) or from
# CONFIG, a file of NAME=value lines read by this shell; see
# vouch-nightly.default. Every check runs even when one fails. Exit status:
# 0 when every check passed, else the highest exit status of a check (1
# findings, 2 usage error, 3 could not verify, 127 vouch not found); 2 when
# nothing is configured, 3 when the textfile directory is not writable.
set -uo pipefail

if [ $# -gt 1 ]; then
  echo "usage: $0 [CONFIG]" >&2
  exit 2
fi
if [ $# -eq 1 ]; then
  if [ ! -r "$1" ]; then
    echo "vouch-nightly: cannot read $1" >&2
    exit 2
  fi
  set -a
  # shellcheck disable=SC1090
  . "$1"
  set +a
fi

VOUCH=${VOUCH:-vouch}
BACKUP_DIR=${VOUCH_BACKUP_DIR:-}
DUMP_DIR=${VOUCH_DUMP_DIR:-}
DUMP_NAME=${VOUCH_DUMP_NAME:-*}
TEXTFILE_DIR=${VOUCH_TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}
MAX_AGE=${VOUCH_MAX_AGE:-26h}
# Extra options, split on spaces (no quoting, no glob expansion).
read -r -a BACKUP_ARGS <<<"${VOUCH_BACKUP_ARGS:-}"
read -r -a ARCHIVE_ARGS <<<"${VOUCH_ARCHIVE_ARGS:-}"

log() { echo "vouch-nightly: $*" >&2; }

if [ -z "$BACKUP_DIR" ] && [ -z "$DUMP_DIR" ]; then
  log "nothing to check: set VOUCH_BACKUP_DIR and/or VOUCH_DUMP_DIR"
  exit 2
fi
if [ ! -d "$TEXTFILE_DIR" ] || [ ! -w "$TEXTFILE_DIR" ]; then
  log "cannot write to the textfile directory $TEXTFILE_DIR"
  exit 3
fi

TMPS=()
# shellcheck disable=SC2317  # called by the trap
cleanup() { [ ${#TMPS[@]} -eq 0 ] || rm -f "${TMPS[@]}"; }
trap cleanup EXIT

# new_tmp NAME: TMP becomes a new temporary file in the textfile directory,
# removed on exit unless published. Its name starts with a dot and does not
# end in .prom, so node_exporter ignores it.
new_tmp() {
  TMP=$(mktemp "$TEXTFILE_DIR/.$1.XXXXXX") || return 1
  TMPS+=("$TMP")
}

# publish TMP NAME: TMP becomes TEXTFILE_DIR/NAME in one rename.
publish() {
  chmod 0644 "$1" && mv -f "$1" "$TEXTFILE_DIR/$2"
}

# A Prometheus label value: \, " and newline escaped.
label() {
  local v=${1//\\/\\\\}
  v=${v//\"/\\\"}
  printf '%s' "${v//$'\n'/\\n}"
}

EXIT_LINES=()
TIME_LINES=()
DURATION_LINES=()
AGE_LINES=()
worst=0

# record CHECK RC STARTED: the script's own metrics for one check.
record() {
  local now
  now=$(date +%s)
  EXIT_LINES+=("vouch_nightly_run_exit_code{check=\"$1\"} $2")
  TIME_LINES+=("vouch_nightly_run_timestamp_seconds{check=\"$1\"} $now")
  DURATION_LINES+=("vouch_nightly_run_duration_seconds{check=\"$1\"} $((now - $3))")
  [ "$2" -le "$worst" ] || worst=$2
}

# run_check CHECK FILE COMMAND...: runs COMMAND (vouch with --format
# prometheus), publishes its output as FILE when it finished with a report
# (exit 0 or 1), and records its exit status.
run_check() {
  local check=$1 file=$2 started rc
  shift 2
  started=$(date +%s)
  log "$check: $*"
  if ! new_tmp "$file"; then
    record "$check" 3 "$started"
    return
  fi
  "$@" >"$TMP"
  rc=$?
  if [ "$rc" -le 1 ] && [ -s "$TMP" ]; then
    publish "$TMP" "$file" || rc=3
  else
    log "$check: exit $rc, no report; $TEXTFILE_DIR/$file left as it was"
  fi
  log "$check: exit $rc"
  record "$check" "$rc" "$started"
}

if [ -n "$BACKUP_DIR" ]; then
  run_check backup vouch-backup.prom \
    "$VOUCH" verify-backup --newest-in "$BACKUP_DIR" --max-age "$MAX_AGE" --format prometheus "${BACKUP_ARGS[@]}"
fi

if [ -n "$DUMP_DIR" ]; then
  if [ ! -d "$DUMP_DIR" ] || [ ! -r "$DUMP_DIR" ]; then
    log "archive: cannot read the dump directory $DUMP_DIR"
    record archive 3 "$(date +%s)"
  else
    # The newest entry (a custom or tar file, or a directory-format dump) by
    # modification time; hidden names, checksum files, signatures and JSON
    # reports left out.
    newest=$(find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -name "$DUMP_NAME" ! -name '.*' \
      ! -name '*.sha256' ! -name '*.md5' ! -name '*.sig' ! -name '*.tsr' ! -name '*.json' -printf '%T@ %p\0' |
      LC_ALL=C sort -z -n -r | head -z -n 1 | tr -d '\0')
    if [ -z "$newest" ]; then
      log "archive: no dump matching '$DUMP_NAME' in $DUMP_DIR"
      record archive 1 "$(date +%s)"
    else
      dump=${newest#* }
      age=$(awk -v m="${newest%% *}" -v now="$(date +%s)" 'BEGIN { printf "%.0f", now - m }')
      AGE_LINES+=("vouch_nightly_archive_age_seconds{archive=\"$(label "$dump")\"} $age")
      # DUMP.sha256 beside the dump (sha256sum's output): checked too.
      sums=()
      [ ! -f "$dump.sha256" ] || sums=(--checksums "$dump.sha256")
      run_check archive vouch-archive.prom \
        "$VOUCH" verify-archive "$dump" --format prometheus "${sums[@]}" "${ARCHIVE_ARGS[@]}"
    fi
  fi
fi

# The script's own metrics, last: their timestamps say the run finished.
new_tmp vouch-nightly.prom || exit 3
{
  echo "# HELP vouch_nightly_run_exit_code Exit status of the check's last run (0 passed, 1 findings, 2 usage error, 3 could not verify)."
  echo "# TYPE vouch_nightly_run_exit_code gauge"
  printf '%s\n' "${EXIT_LINES[@]}"
  echo "# HELP vouch_nightly_run_timestamp_seconds Unix time the check's last run ended."
  echo "# TYPE vouch_nightly_run_timestamp_seconds gauge"
  printf '%s\n' "${TIME_LINES[@]}"
  echo "# HELP vouch_nightly_run_duration_seconds How long the check's last run took."
  echo "# TYPE vouch_nightly_run_duration_seconds gauge"
  printf '%s\n' "${DURATION_LINES[@]}"
  if [ ${#AGE_LINES[@]} -ne 0 ]; then
    echo "# HELP vouch_nightly_archive_age_seconds Age of the newest pg_dump archive when it was checked."
    echo "# TYPE vouch_nightly_archive_age_seconds gauge"
    printf '%s\n' "${AGE_LINES[@]}"
  fi
} >"$TMP"
publish "$TMP" vouch-nightly.prom || exit 3

if [ "$worst" -ne 0 ]; then
  log "a check failed (worst exit status $worst)"
fi
exit "$worst"
