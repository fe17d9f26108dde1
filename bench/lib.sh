# shellcheck shell=bash
# Shared by the end-to-end benchmark scripts: a throwaway cluster with the
# drill dataset, timing, and one report line per comparison. Source it from
# the repository root. VOUCH_BUILD_DIR names the build tree (default build;
# BUILD is read too, for bench/backup_verify.sh).
BUILD_DIR=${VOUCH_BUILD_DIR:-${BUILD:-build}}
VOUCH=$BUILD_DIR/cli/vouch
GEN=$BUILD_DIR/bench/gen/vouch-gen
MICROBENCH=$BUILD_DIR/bench/vouch_microbench
[ -x "$VOUCH" ] && [ -x "$GEN" ] || { echo "build first: cmake -S . -B $BUILD_DIR && cmake --build $BUILD_DIR (or set VOUCH_BUILD_DIR)" >&2; exit 2; }

# Everything the scripts start lives in $work; one EXIT trap removes it and
# stops the cluster. bench_on_exit CMD adds a command to run first.
bench_exit_cmds=""
bench_cleanup() {
  eval "$bench_exit_cmds"
  if [ -n "${work:-}" ]; then
    scripts/pgcluster.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
}
bench_on_exit() { bench_exit_cmds+="$1"$'\n'; }
bench_workdir() {
  [ -n "${work:-}" ] && return 0
  work=$(mktemp -d)
  chmod 755 "$work"  # the server may run as another user (postgres, as root)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# bench_cluster_with_data SCALE [DBNAME=bench]: starts a cluster in $work/pg
# (once), loads the drill dataset into DBNAME.
bench_cluster_with_data() {
  local db=${2:-bench}
  bench_workdir
  if [ ! -f "$work/pg/env" ]; then
    scripts/pgcluster.sh start "$work/pg" >/dev/null
    eval "$(scripts/pgcluster.sh env "$work/pg")"
    PATH="$PG_BINDIR:$PATH"
  fi
  createdb "$db"
  echo "generating scale $1 into $db ..." >&2
  "$GEN" --scale "$1" --dbname "$db" 2>/dev/null
}

bench_now() { date +%s.%N; }
# Prints the wall seconds of a shell command line.
bench_time() { local t0 t1; t0=$(bench_now); bash -c "$1" >/dev/null; t1=$(bench_now); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f\n", b - a}'; }
# bench_time_rss CMD [ERRFILE]: runs a shell command line (stdout discarded,
# stderr to ERRFILE, default /dev/null) and prints "SECONDS PEAK_RSS_KB RC".
# The peak RSS is that of the largest process of the command (GNU time's %M:
# the rusage of waited-for descendants), not of a server it talks to.
bench_time_rss() {
  local t0 t1 rss rc=0 f
  f=$(mktemp)
  t0=$(bench_now)
  /usr/bin/time -f %M -o "$f" bash -c "$1" >/dev/null 2>"${2:-/dev/null}" || rc=$?
  t1=$(bench_now)
  rss=$(tail -n 1 "$f")
  rm -f "$f"
  [[ $rss =~ ^[0-9]+$ ]] || rss=0
  awk -v a="$t0" -v b="$t1" -v m="$rss" -v rc="$rc" 'BEGIN{printf "%.4f %d %d\n", b - a, m, rc}'
}
# Reads seconds, one a line; prints "MIN MEDIAN" (of an even count, the mean of the middle two).
bench_stats() { sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
bench_machine() { echo "$(nproc) cores;$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"; }

# bench_report NAME BASELINE_CMD VOUCH_CMD BYTES [TARGET [faster]]: runs both
# REPS times, alternating (the baseline first on even repetitions, vouch first
# on odd ones); prints min/median, the ratio of the medians (the verdict's)
# and the median of the REPS pairs' ratios (BENCH_VERBOSE=1: each pair on
# stderr). With "faster", the target is baseline/vouch >= TARGET, else
# vouch/baseline <= TARGET.
bench_report() {
  local name=$1 bcmd=$2 vcmd=$3 bytes=$4 target=${5:-} mode=${6:-} bt="" vt="" pr="" b v bmin bmed vmin vmed pmed
  for ((r = 0; r < REPS; r++)); do
    if ((r % 2 == 0)); then
      b=$(bench_time "$bcmd"); v=$(bench_time "$vcmd")
    else
      v=$(bench_time "$vcmd"); b=$(bench_time "$bcmd")
    fi
    bt+="$b"$'\n'
    vt+="$v"$'\n'
    pr+="$(awk -v b="$b" -v v="$v" 'BEGIN{printf "%.4f", v / b}')"$'\n'
    [ -z "${BENCH_VERBOSE:-}" ] || echo "  $name: repetition $((r + 1)): baseline $b s, vouch $v s, load $(cut -d' ' -f1 /proc/loadavg)" >&2
  done
  read -r bmin bmed <<<"$(printf '%s' "$bt" | bench_stats)"
  read -r vmin vmed <<<"$(printf '%s' "$vt" | bench_stats)"
  read -r _ pmed <<<"$(printf '%s' "$pr" | bench_stats)"
  awk -v n="$name" -v bmin="$bmin" -v bmed="$bmed" -v vmin="$vmin" -v vmed="$vmed" -v raw="$bytes" -v t="$target" -v m="$mode" -v p="$pmed" 'BEGIN {
    r = vmed / bmed
    if (t == "") verdict = "(no target; for reference)"
    else if (m == "faster") verdict = (1 / r >= t ? "PASS" : "FAIL") " (target: vouch >= " t "x faster)"
    else verdict = (r <= t ? "PASS" : "FAIL") " (target <= " t ")"
    printf "%-22s baseline min %.3f s median %.3f s | vouch min %.3f s median %.3f s (%.0f MB/s) | vouch/baseline %.3f (pairs: median %.3f)  %s\n",
      n, bmin, bmed, vmin, vmed, raw / vmed / 1e6, r, p, verdict }'
}

# bench_version_backups SCALE V: for PostgreSQL major V (Debian 12's 15, or 17
# and 18 from scripts/pgchroot.sh, root only), a throwaway cluster of V with
# the drill dataset at SCALE, and in $work/vV:
#   plain/          pg_basebackup -Fp -X fetch, CRC32C manifest
#   tar_gzip/ tar_lz4/ tar_zstd/   -Ft with that compression (V >= 18 only:
#                   the first pg_verifybackup that reads tar)
#   recovered/data  the plain backup recovered to consistency by a server of V
#                   and cleanly stopped: what pg_checksums (which refuses a
#                   base backup) can check
# The cluster is stopped at the end. Sets BV_BIN (V's own tools).
bench_version_backups() {
  local scale=$1 v=$2 d=$work/v$2 pg=$work/pgv$2 stopped
  bench_workdir
  mkdir -p "$d"
  scripts/pgcluster.sh start "$pg" "$v" >/dev/null
  bench_on_exit "scripts/pgcluster.sh stop $pg >/dev/null 2>&1 || true"
  (
    eval "$(scripts/pgcluster.sh env "$pg")"
    PATH="$PG_BINDIR:$PATH"
    createdb bench
    "$GEN" --scale "$scale" --dbname bench 2>/dev/null
    psql -qX -d bench -c CHECKPOINT
    pg_basebackup -D "$d/plain" -Fp -X fetch -c fast --no-sync --manifest-checksums=CRC32C
    if [ "$v" -ge 18 ]; then
      for c in gzip lz4 zstd; do pg_basebackup -D "$d/tar_$c" -Ft --compress="$c" -X fetch -c fast --no-sync; done
    fi
  )
  scripts/pgcluster.sh stop "$pg" >/dev/null
  cp -a "$d/plain" "$d/recover_src"
  scripts/pgcluster.sh adopt "$pg" "$d/recover_src" >/dev/null
  stopped=$(scripts/pgcluster.sh shutdown "$pg")
  mkdir -p "$d/recovered"
  mv "$stopped" "$d/recovered/data"
  rm -rf "$(dirname "$stopped")"
  if [ -x "/usr/lib/postgresql/$v/bin/pg_verifybackup" ]; then BV_BIN=/usr/lib/postgresql/$v/bin
  else BV_BIN=$(scripts/pgchroot.sh bindir "$v"); fi
}
