#!/usr/bin/env bash
# The demo: installs the dependencies, builds vouch (Release), starts a
# throwaway PostgreSQL cluster and runs a whole DR drill on a generated sample
# database: generate, dump (pg_dump -Fc + sha256sum), verify the archive
# without restoring it, restore it into a second database, `vouch drill`
# (content hashes, audit chain, gaps, orphans, temporal, RPO: PASS), then
# inject defects into a copy of the restore (a deleted run of audit rows, a
# changed row, an orphaned child) and show the drill catching and naming each
# one. The cluster is stopped and removed at exit.
#   VOUCH_DEMO_SCALE=0.05  dataset scale (1.0 ≈ 4 M rows, 1 GB); default 0.02
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${VOUCH_DEMO_SCALE:-0.02}
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target vouch vouch-gen

work=$(mktemp -d)
chmod 755 "$work"
cleanup() { scripts/pgcluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
scripts/pgcluster.sh start "$work/pg" >/dev/null
eval "$(scripts/pgcluster.sh env "$work/pg")"
PATH="$PG_BINDIR:$PATH"
URI="postgresql://$PGUSER@127.0.0.1:$PGPORT"

echo "== 1. Generating the drill database (scale $SCALE): agents → sessions → tasks → executions → tool_calls, audit_log hash chain"
createdb drill
build/bench/gen/vouch-gen --scale "$SCALE" --dbname drill
echo "== 2. Backup: pg_dump -Fc drill > drill.dump; sha256sum drill.dump > drill.dump.sha256"
pg_dump -Fc -d drill -f "$work/drill.dump"
(cd "$work" && sha256sum drill.dump > drill.dump.sha256)
echo "== 3. vouch verify-archive drill.dump --checksums drill.dump.sha256 (every block read, every row checked; no restore)"
build/cli/vouch verify-archive "$work/drill.dump" --checksums "$work/drill.dump.sha256" --quiet | tail -4
echo "== 4. Restore: pg_restore -d drill_restored drill.dump"
createdb drill_restored
pg_restore -d drill_restored "$work/drill.dump"
echo "== 5. vouch drill $URI/drill $URI/drill_restored --chain audit_log --rpo-target 15m"
build/cli/vouch drill "$URI/drill" "$URI/drill_restored" --chain audit_log --rpo-target 15m --quiet \
  --format markdown -o "$work/dr-report.md"
echo "   vouch exit code: $? (0 = every check passed); the Markdown DR report: $(wc -l < "$work/dr-report.md") lines, e.g."
sed -n '/### Audit Chain Verification/,/Max Gap Size/p' "$work/dr-report.md" | sed 's/^/   /'
echo "== 6. Injected defects in a copy of the restore: audit rows 100-104 deleted, tasks id=7 changed,"
echo "      the task of execution 1 deleted with its foreign key dropped"
createdb -T drill_restored drill_damaged
task=$(psql -X -At -d drill_damaged -c "SELECT task_id FROM executions WHERE id = 1")
psql -X -q -d drill_damaged -c "DELETE FROM audit_log WHERE seq BETWEEN 100 AND 104;
  UPDATE tasks SET priority = priority + 1 WHERE id = 7;
  ALTER TABLE executions DROP CONSTRAINT executions_task_id_fkey;
  DELETE FROM tasks WHERE id = $task AND id <> 7"
set +e
build/cli/vouch drill "$URI/drill" "$URI/drill_damaged" --chain audit_log --rpo-target 15m --quiet | sed -n '/^Overall Result/,$p'
echo "   vouch exit code: ${PIPESTATUS[0]} (1 = findings)"
set -e
