#!/usr/bin/env bash
# Golden outputs: every command of vouch in every output format, on a generated
# database, its dumps and base backups, and on damaged copies of each. The
# outputs are normalized (timings, temporary paths, ports, LSNs and other
# facts of one run, see normalize()) and compared byte for byte with
# tests/golden/expected/. A restructuring must leave them identical.
#   golden.sh check          run and compare (the CTest test golden_outputs)
#   golden.sh update         run and rewrite tests/golden/expected/
# Needs VOUCH_BIN and VOUCH_GEN_BIN (CTest sets them). It starts a throwaway
# PostgreSQL 15 cluster of its own (scripts/pgcluster.sh) with autovacuum off,
# so that base backups of it hold the same files on every run.
set -euo pipefail
mode=${1:-check}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
expected=$here/expected
: "${VOUCH_BIN:?set VOUCH_BIN to the vouch binary}"
: "${VOUCH_GEN_BIN:?set VOUCH_GEN_BIN to the vouch-gen binary}"

work=$(mktemp -d /tmp/vouch-golden.XXXXXX)
chmod 755 "$work"
cleanup() { "$root/scripts/pgcluster.sh" stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"$root/scripts/pgcluster.sh" start "$work/pg" 15 >/dev/null
eval "$("$root/scripts/pgcluster.sh" env "$work/pg")"
PATH="$PG_BINDIR:$PATH"
psql -X -q -d postgres -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
URI="postgresql://$PGUSER@127.0.0.1:$PGPORT"
out=$work/out
mkdir -p "$out"

# The facts that differ between runs and machines become placeholders: among
# them the server's minor version, and a base backup's bytes and data pages,
# which follow the minor version and the machine's locales (the catalogs;
# its file counts do not).
normalize() {
  sed -E \
    -e "s#$work#<WORK>#g" \
    -e "s#:$PGPORT\\b#:<PORT>#g" \
    -e "s#port=$PGPORT\\b#port=<PORT>#g" \
    -e 's/\b[0-9A-F]{24}\b/<WALSEG>/g' \
    -e 's#\b[0-9A-F]{1,8}/[0-9A-F]{1,8}\b#<LSN>#g' \
    -e 's/(^|[^.0-9])[0-9]{19}\b/\1<SYSID>/g' \
    -e 's/PostgreSQL 15\.[0-9]+[^",|)]*/PostgreSQL 15.X/g' \
    -e 's/"15\.[0-9]+( \([^"]*\))?"/"15.X"/g' \
    -e 's/\b(server_version|server|Server)( *[:=] *)15\.[0-9]+/\1\215.X/g' \
    -e 's/\b15\.[0-9]+ \((Debian|Ubuntu) [^)]*\)/15.X/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?( ?(UTC|GMT|Z|[+-][0-9]{2}(:?[0-9]{2})?))?/<TIME>/g' \
    -e 's/[0-9]+(\.[0-9]+)? ?(s|ms|µs|us)\b/<DUR>/g' \
    -e 's/[0-9]+(\.[0-9]+)? ?(MB|GB|KB|kB)\/s/<RATE>/g' \
    -e 's/"(seconds|elapsed_seconds|duration_seconds|mb_per_s|jobs|started|finished|generated_at|now)": *[-0-9.e+"A-Z:T ]+/"\1": <X>/g' \
    -e 's/\b[0-9]+ jobs\b/<N> jobs/g' \
    -e 's/CRC32C [0-9a-f]{8}, the manifest says [0-9a-f]{8}/CRC32C <CRC>, the manifest says <CRC>/g' \
    -e 's/ time="[0-9.]+"/ time="<DUR>"/g' \
    -e 's/"(newest_mtime|age_seconds|finished_at|started_at)": [0-9.e+]+/"\1": <X>/g' \
    -e 's/^(vouch_[a-z_]*(_seconds|_timestamp_seconds)(\{[^}]*\})?) [0-9.e+]+$/\1 <X>/' \
    -e 's/("toc_sha256": "|TOC SHA-256 )[0-9a-f]{64}/\1<TOCSHA>/g' \
    -e 's/CRC [0-9a-f]{8} in the file, its contents give [0-9a-f]{8}/CRC <CRC> in the file, its contents give <CRC>/g' \
    -e "s/$dump_sha/<SHA256:src.dump>/g" -e "s/$bad_sha/<SHA256:bad>/g" \
    -e 's/"(bytes|checked)": [0-9]+/"\1": <N>/' \
    -e 's/^(vouch_backup_(bytes|pages_checked)\{[^}]*\}) [0-9]+$/\1 <N>/' \
    -e 's/[0-9.]+ MB read/<N> MB read/' -e 's/[0-9,]+ pages checked/<N> pages checked/' |
    # A table's 4096 key buckets (hex) become their SHA-256.
    awk -v tmp="$work/buckets" '
      match($0, /"buckets": "[0-9a-f]+"/) {
        hex = substr($0, RSTART + 12, RLENGTH - 13)
        printf "%s", hex > tmp; close(tmp)
        cmd = "sha256sum " tmp; cmd | getline h; close(cmd)
        $0 = substr($0, 1, RSTART - 1) "\"buckets\": \"sha256:" substr(h, 1, 64) "\"" substr($0, RSTART + RLENGTH)
      }
      { print }'
}

# run NAME CMD...: runs one vouch command; its stdout, stderr and exit code,
# normalized, go to $out/NAME.
run() {
  local name=$1
  shift
  local rc=0
  "$@" >"$work/stdout" 2>"$work/stderr" || rc=$?
  {
    cat "$work/stdout"
    echo "--- stderr"
    grep -v '^vouch: read ' "$work/stderr" || true
    echo "--- exit $rc"
  } | normalize >"$out/$name"
}
V() { "$VOUCH_BIN" "$@"; }

# ---- Inputs --------------------------------------------------------------
createdb src
"$VOUCH_GEN_BIN" --scale 0.001 --seed 7 --dbname src >/dev/null 2>&1
pg_dump -Fc -d src -f "$work/src.dump"
pg_dump -Fd -d src -f "$work/src.dir"
pg_dump -Ft -d src -f "$work/src.tar"
pg_dump -Fp -d src -f "$work/src.sql"
gzip -k -n "$work/src.sql"
(cd "$work" && sha256sum src.dump >src.dump.sha256)
createdb restored
pg_restore -d restored "$work/src.dump"
createdb damaged -T restored
task=$(psql -X -At -d damaged -c "SELECT task_id FROM executions WHERE id = 1")
psql -X -q -d damaged -c "DELETE FROM audit_log WHERE seq BETWEEN 100 AND 104;
  UPDATE tasks SET priority = priority + 1 WHERE id = 7;
  ALTER TABLE executions DROP CONSTRAINT executions_task_id_fkey;
  DELETE FROM tasks WHERE id = $task AND id <> 7"
# A custom archive cut short, and one with a byte changed in the middle.
size=$(stat -c %s "$work/src.dump")
head -c $((size * 2 / 3)) "$work/src.dump" >"$work/cut.dump"
cp "$work/src.dump" "$work/flipped.dump"
printf '\xff' | dd of="$work/flipped.dump" bs=1 seek=$((size / 2)) conv=notrunc status=none
# The first hex digit changed (to 1 where it was 0): never the real sum.
(cd "$work" && sha256sum src.dump | sed -E 's/^0/1/; t; s/^./0/' >bad.sha256)
dump_sha=$(sha256sum "$work/src.dump" | cut -c1-64)
bad_sha=$(cut -c1-64 "$work/bad.sha256")

# Base backups: plain and tar, then a plain one with a changed, a missing and
# an extra file.
pg_basebackup -d "$URI/postgres" -D "$work/base" -Fp -X fetch -c fast
pg_basebackup -d "$URI/postgres" -D "$work/base.tar" -Ft -X fetch -c fast
cp -a "$work/base" "$work/bad-base"
printf 'x' | dd of="$work/bad-base/global/pg_control" bs=1 seek=100 conv=notrunc status=none
rm "$work/bad-base/PG_VERSION"
echo extra >"$work/bad-base/extra_file"
# A nightly backup directory: two dumps a day apart.
mkdir "$work/nightly"
cp "$work/src.dump" "$work/nightly/db-1.dump"
cp "$work/src.dump" "$work/nightly/db-2.dump"
touch -d '2 days ago' "$work/nightly/db-1.dump"
touch -d '1 day ago' "$work/nightly/db-2.dump"

# ---- Commands ------------------------------------------------------------
for f in text json; do
  run digest-live.$f V digest "$URI/src" --format $f -q
  run digest-custom.$f V digest "$work/src.dump" --format $f -q
  run digest-dir.$f V digest "$work/src.dir" --format $f -q
  run digest-tar.$f V digest "$work/src.tar" --format $f -q
  run digest-plain.$f V digest "$work/src.sql.gz" --format $f -q
  run digest-filtered.$f V digest "$work/src.dump" --format $f -q -t audit_log -t 'agent*'
  run compare-match.$f V compare "$URI/src" "$work/src.dump" --format $f -q
  run compare-damaged.$f V compare "$URI/src" "$URI/damaged" --format $f -q
  run verify-archive-custom.$f V verify-archive "$work/src.dump" --checksums "$work/src.dump.sha256" --format $f -q
  run verify-archive-dir.$f V verify-archive "$work/src.dir" --format $f -q
  run verify-archive-tar.$f V verify-archive "$work/src.tar" --format $f -q
  run verify-archive-cut.$f V verify-archive "$work/cut.dump" --format $f -q
  run verify-archive-flipped.$f V verify-archive "$work/flipped.dump" --format $f -q
  run verify-archive-badsum.$f V verify-archive "$work/src.dump" --checksums "$work/bad.sha256" --format $f -q
done
# --list problems: only the differing tables in text; JSON the same as without.
for f in text json; do
  run compare-damaged-problems.$f V compare "$URI/src" "$URI/damaged" --format $f -q --list problems
done
run digest-custom-problems.text V digest "$work/src.dump" -q --list problems
V digest "$work/src.dump" -q --shard 0/2 -o "$work/part0.json" >/dev/null
V digest "$work/src.dump" -q --shard 1/2 -o "$work/part1.json" >/dev/null
V digest "$work/src.dump" -q -o "$work/whole.json" >/dev/null
for f in text json; do
  run merge.$f V merge "$work/part0.json" "$work/part1.json" --format $f
  run merge-missing.$f V merge "$work/part0.json" --format $f
  run digest-manifest.$f V digest "$work/whole.json" --format $f -q
done
drill=(--chain audit_log --gap-column audit_log.seq --rpo-target 15m --now '2025-10-01 00:00:00Z'
  --drill-start '2025-09-30 23:40:00Z' --rto-target 30m -q)
for f in text markdown json junit; do
  run drill-pass.$f V drill "$URI/src" "$URI/restored" "${drill[@]}" --format $f
  run drill-damaged.$f V drill "$URI/src" "$URI/damaged" "${drill[@]}" --format $f
  run drill-archive.$f V drill "$work/src.dump" "$URI/restored" "${drill[@]}" --format $f
done
for f in text markdown; do
  run drill-damaged-problems.$f V drill "$URI/src" "$URI/damaged" "${drill[@]}" --format $f --list problems
done
# --rows-only: sequences, large objects and schema objects said not compared.
for f in text markdown json junit; do
  run drill-rows-only.$f V drill "$URI/src" "$URI/restored" "${drill[@]}" --rows-only --format $f
done
for f in text json; do
  run compare-rows-only.$f V compare "$URI/src" "$URI/damaged" --rows-only --format $f -q
done
for f in text json prometheus; do
  run verify-backup-plain.$f V verify-backup "$work/base" --page-checksums --format $f -q
  run verify-backup-tar.$f V verify-backup "$work/base.tar" --format $f -q
  run verify-backup-damaged.$f V verify-backup "$work/bad-base" --page-checksums --format $f -q
  run nightly.$f V verify-backup --newest-in "$work/nightly" --max-age 36h --format $f -q
  run nightly-stale.$f V verify-backup --newest-in "$work/nightly" --max-age 1h --format $f -q
done
run usage-error V drill "$URI/src" "$URI/restored" --rpo-target 15x
run missing-source V verify-archive "$work/absent.dump"

# ---- Compare -------------------------------------------------------------
if [ "$mode" = "update" ]; then
  rm -rf "$expected"
  cp -r "$out" "$expected"
  echo "golden: wrote $(ls "$expected" | wc -l) outputs to $expected"
  exit 0
fi
if diff -r -u "$expected" "$out" >"$work/diff"; then
  echo "golden: $(ls "$out" | wc -l) outputs identical"
  exit 0
fi
cat "$work/diff"
echo "golden: outputs differ from $expected (rerun with 'update' if the change is intended)"
exit 1
