#!/usr/bin/env bash
# End-to-end benchmark of `vouch drill SOURCE RESTORED` (issue 6) on the drill
# dataset: the source database and a restored copy (pg_dump -Fc | pg_restore)
# on one server. In one run, alternating, REPS repetitions:
#   - the drill (both digests at once, compare, audit chain, gaps, orphans,
#     temporal, sequences, large objects, schema objects) against two
#     `vouch digest` runs of the same databases, one after the other
#     (target: drill ≤ 1.5× their wall time);
#   - the drill against the same drill with --rows-only, which reads no
#     sequence, large object or schema object (target: ≤ 1.05×, "everything
#     a restore must bring back" costs at most 5% over the rows alone).
# So that the second row measures all three kinds, the source gets before it
# is dumped what vouch-gen does not make (its rows, and so the golden final
# hashes, stay as they are): a sequence per table, OWNED BY its key, its
# default and set to the key's largest value (what serial gives), and
# LO_COUNT large objects of LO_MB MB each (default 5 of 4 MB).
# Then the chain verifier's links/s per core from the micro-benchmark
# (target ≥ 1 M links/s, SHA-256).
#   bench/drill.sh [SCALE=1.0] [REPS=3]
# From the environment: LO_COUNT, LO_MB; DRILL_ROWS, the comparisons to time
# ("digest rows-only", the default; bench/run times its own drill vs digest
# row and asks for "rows-only"); the micro-benchmark runs with "digest".
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-1.0}
REPS=${2:-3}
LO_COUNT=${LO_COUNT:-5}
LO_MB=${LO_MB:-4}
DRILL_ROWS=${DRILL_ROWS:-digest rows-only}
source bench/lib.sh
bench_cluster_with_data "$SCALE"
psql -X -q -v ON_ERROR_STOP=1 -d bench >/dev/null <<SQL
DO \$\$
DECLARE t text; k text; s text;
BEGIN
  FOR t, k IN VALUES ('agents', 'id'), ('sessions', 'id'), ('tasks', 'id'), ('executions', 'id'),
                     ('tool_calls', 'id'), ('audit_log', 'seq') LOOP
    s := t || '_' || k || '_seq';
    EXECUTE format('CREATE SEQUENCE public.%I OWNED BY public.%I.%I', s, t, k);
    EXECUTE format('ALTER TABLE public.%I ALTER COLUMN %I SET DEFAULT nextval(%L)', t, k, 'public.' || s);
    EXECUTE format('SELECT setval(%L, (SELECT max(%I) FROM public.%I))', 'public.' || s, k, t);
  END LOOP;
END
\$\$;
-- 32 bytes of md5 hex, repeated: LO_MB MB an object, different per object.
SELECT lo_from_bytea(0, convert_to(repeat(md5(g::text), $LO_MB * 32768), 'UTF8')) FROM generate_series(1, $LO_COUNT) g;
SQL
createdb restored
pg_dump -Fc -d bench | pg_restore -d restored
psql -X -q -d bench -c "VACUUM ANALYZE" >/dev/null
psql -X -q -d restored -c "VACUUM ANALYZE" >/dev/null
SRC="postgresql://$PGUSER@127.0.0.1:$PGPORT/bench"
RST="postgresql://$PGUSER@127.0.0.1:$PGPORT/restored"
bytes=$(psql -X -At -d bench -c "SELECT 2 * sum(pg_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
links=$(psql -X -At -d bench -c "SELECT count(*) FROM audit_log")
objects=$(psql -X -At -d bench -c "SELECT (SELECT count(*) FROM pg_sequence) || ' sequences, ' || (SELECT count(*) FROM pg_largeobject_metadata) || ' large objects (' || (SELECT pg_size_pretty(sum(length(data))::bigint) FROM pg_largeobject) || ')'")

echo "drill: scale $SCALE, $(awk -v r="$bytes" 'BEGIN{printf "%.0f MB", r/1e6}') of table data on both sides, $links audit links, $objects a side; $(bench_machine); load average $(cut -d' ' -f1-3 /proc/loadavg) before"
if [[ " $DRILL_ROWS " == *" digest "* ]]; then
  bench_report "drill vs 2x digest" "$VOUCH digest $SRC --quiet; $VOUCH digest $RST --quiet" \
    "$VOUCH drill $SRC $RST --chain audit_log --quiet" "$bytes" 1.5
fi
if [[ " $DRILL_ROWS " == *" rows-only "* ]]; then
  bench_report "drill vs --rows-only" "$VOUCH drill $SRC $RST --chain audit_log --rows-only --quiet" \
    "$VOUCH drill $SRC $RST --chain audit_log --quiet" "$bytes" 1.05
fi
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) after"
# What each compared: the full drill every kind, --rows-only the rows alone.
"$VOUCH" drill "$SRC" "$RST" --chain audit_log --quiet |
  grep -E '^(Overall Result|FINAL_VALIDATION_HASH restored|SCHEMA_VALIDATION_HASH restored)|^  ✅ [0-9]+ sequences|^  [✅❌] [0-9]+ in the source, [0-9]+ restored|^  ✅ (INDEX|CONSTRAINT|TABLE):' |
  sed 's/^ */vouch drill: /'
"$VOUCH" drill "$SRC" "$RST" --chain audit_log --rows-only --quiet |
  grep -E '^(Overall Result|FINAL_VALIDATION_HASH (restored|covers)|SCHEMA_VALIDATION_HASH)|not compared' |
  sed 's/^ */vouch drill --rows-only: /'
/usr/bin/time -f "vouch drill peak RSS %M KB" "$VOUCH" drill "$SRC" "$RST" --chain audit_log --quiet >/dev/null

if [[ " $DRILL_ROWS " == *" digest "* ]] && [ -x "$MICROBENCH" ]; then
  "$MICROBENCH" --benchmark_filter='BM_ChainLink' --benchmark_min_time=0.5 2>/dev/null |
    awk '/BM_ChainLink/ { for (i = 1; i <= NF; i++) if ($i ~ /items_per_second=/) { v = $i; sub(/items_per_second=/, "", v); sub(/\/s$/, "", v); mult = 1;
           if (v ~ /k$/) mult = 1e3; if (v ~ /M$/) mult = 1e6; if (v ~ /G$/) mult = 1e9; sub(/[kMG]$/, "", v);
           printf "%-40s %.2f M links/s per core  %s (target >= 1 M)\n", $1, v * mult / 1e6, (v * mult >= 1e6 ? "PASS" : "FAIL") } }'
fi
