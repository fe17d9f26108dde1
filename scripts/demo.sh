#!/usr/bin/env bash
# The demo: installs the dependencies, builds vouch (Release), starts a
# throwaway PostgreSQL cluster, generates the drill-shaped sample database,
# dumps it with pg_dump (plain format, gzip), runs `vouch digest` on the dump
# and on the live database, restores the dump into a second database with one
# row changed and lets `vouch compare` name it, verifies a custom-format
# archive and its checksum file, and shows a damaged dump being caught. The
# cluster is stopped and removed at exit.
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

echo "== Generating the drill database (scale $SCALE)"
createdb drill
build/bench/gen/vouch-gen --scale "$SCALE" --dbname drill
echo "== Dumping it: pg_dump -Fp drill | gzip > drill.sql.gz"
PGTZ=UTC pg_dump -Fp -d drill | gzip > "$work/drill.sql.gz"
ls -l "$work/drill.sql.gz" | awk '{print "   " $5 " bytes"}'
echo "== Row counts on the server (SELECT count(*))"
for t in agents sessions tasks executions tool_calls audit_log; do
  printf '   %-12s %s\n' "$t" "$(psql -X -At -d drill -c "SELECT count(*) FROM public.$t")"
done
echo "== vouch digest drill.sql.gz"
build/cli/vouch digest "$work/drill.sql.gz" -o "$work/drill.manifest.json"
URI="postgresql://$PGUSER@127.0.0.1:$PGPORT"
echo "== vouch compare $URI/drill drill.sql.gz (the live database against its dump)"
build/cli/vouch compare "$URI/drill" "$work/drill.sql.gz" --quiet | tail -3
echo "== Restoring the dump into drill_copy and changing one row (tasks id=7)"
createdb drill_copy
gzip -dc "$work/drill.sql.gz" | psql -X -q -v ON_ERROR_STOP=1 -d drill_copy >/dev/null
psql -X -q -d drill_copy -c "UPDATE tasks SET priority = priority + 1 WHERE id = 7"
echo "== vouch compare $URI/drill $URI/drill_copy"
set +e
build/cli/vouch compare "$URI/drill" "$URI/drill_copy" --quiet
echo "   vouch exit code: $? (1 = differences found)"
set -e
echo "== The nightly check of a custom-format archive: pg_dump -Fc drill > drill.dump; sha256sum > drill.dump.sha256"
PGTZ=America/New_York pg_dump -Fc -d drill -f "$work/drill.dump"
(cd "$work" && sha256sum drill.dump > drill.dump.sha256)
build/cli/vouch verify-archive "$work/drill.dump" --checksums "$work/drill.dump.sha256" --quiet
echo "== A damaged copy (one bit flipped in the middle of the gzip stream)"
cp "$work/drill.sql.gz" "$work/damaged.sql.gz"
size=$(stat -c %s "$work/damaged.sql.gz")
printf '\x55' | dd of="$work/damaged.sql.gz" bs=1 seek=$((size / 2)) conv=notrunc status=none
set +e
build/cli/vouch digest "$work/damaged.sql.gz"
echo "   vouch exit code: $? (1 = corruption found)"
