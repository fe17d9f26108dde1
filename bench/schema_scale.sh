#!/usr/bin/env bash
# Schema scale: many small tables, measured in one run against pg_dump and
# pg_restore on the same database.
#   bench/schema_scale.sh [TABLES=100000] [PARTITIONS=5000] [REPS=1]
# Generates, in a throwaway cluster (max_locks_per_transaction raised, as
# pg_dump of that many tables needs too):
#   - "wide": TABLES tables in 100 schemas, table i holding (i * 37) % 1001
#     rows (0-1,000), plus one range-partitioned parent with PARTITIONS leaves
#     (the leaves count among TABLES);
#   - "small": 10,000 tables of 10 rows each.
# Rows of the report (vouch/baseline, median of REPS, alternating):
#   live digest            vs pg_dump -Fc -Z0 (uncompressed: per-table cost,
#                          not gzip)                             target ≤ 0.5×
#   schema digest          vs pg_dump --schema-only (vouch digest
#                          --schema-only: schema objects, no rows) target ≤ 0.5×
#   digest of the dump     vs pg_restore -f /dev/null            target ≤ 1.0× + 1 s
#   peak RSS of digest, compare (live vs dump) and drill (live vs a restored
#   copy)                                                        target ≤ 256 MB
#   manifest bytes per table under 100 rows                      target ≤ 512
# Prints one line per row; exit 0 when it ran (a missed target is reported,
# not an error), 3 when a command failed.
set -euo pipefail
cd "$(dirname "$0")/.."
TABLES=${1:-100000}
PARTS=${2:-5000}
REPS=${3:-1}
source bench/lib.sh
bench_workdir
PGCLUSTER_CONF=$'max_locks_per_transaction = 4096\nmax_connections = 50' scripts/pgcluster.sh start "$work/pg" >/dev/null
eval "$(scripts/pgcluster.sh env "$work/pg")"
PATH="$PG_BINDIR:$PATH"

# make_db DB TABLES PARTS ROWS_SQL: ROWS_SQL gives table i's row count.
make_db() {
  local db=$1 n=$2 parts=$3 rows=$4 plain=$(($2 - $3))
  createdb "$db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
DO \$\$ BEGIN
  FOR s IN 0..99 LOOP EXECUTE format('CREATE SCHEMA s%s', s); END LOOP;
  FOR i IN 0..$((plain - 1)) LOOP
    EXECUTE format('CREATE TABLE s%s.t%s (id int PRIMARY KEY, v text)', i % 100, i);
    EXECUTE format('INSERT INTO s%s.t%s SELECT g, md5(g::text) FROM generate_series(1, %s) g', i % 100, i, $rows);
    IF i % 500 = 499 THEN COMMIT; END IF;
  END LOOP;
  IF $parts > 0 THEN
    CREATE TABLE public.events (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    FOR p IN 0..$((parts - 1)) LOOP
      EXECUTE format('CREATE TABLE public.events_%s PARTITION OF public.events FOR VALUES FROM (%L) TO (%L)',
                     p, date '2000-01-01' + p, date '2000-01-01' + p + 1);
      IF p % 500 = 499 THEN COMMIT; END IF;
    END LOOP;
    INSERT INTO public.events SELECT g, date '2000-01-01' + (g % $parts), md5(g::text) FROM generate_series(1, $parts * 20) g;
  END IF;
END \$\$;
VACUUM ANALYZE;
SQL
}

line() { printf '%-46s %s\n' "$1" "$2"; }
failed=0
# measure LABEL BASELINE VOUCH: median seconds of each ("B V"), RSS of vouch's last run in VRSS.
measure() {
  local bt="" vt="" s rss rc
  for ((r = 0; r < REPS; r++)); do
    read -r s rss rc <<<"$(bench_time_rss "$2")"; [ "$rc" = 0 ] || { echo "baseline failed: $2" >&2; failed=1; }
    bt+="$s"$'\n'
    read -r s rss rc <<<"$(bench_time_rss "$3" "$work/vouch.err")"
    [ "$rc" = 0 ] || { echo "vouch failed ($rc): $3: $(head -c 300 "$work/vouch.err")" >&2; failed=1; }
    vt+="$s"$'\n'
    VRSS=$rss
  done
  read -r _ B <<<"$(printf '%s' "$bt" | bench_stats)"
  read -r _ VS <<<"$(printf '%s' "$vt" | bench_stats)"
}
rss_check() {  # LABEL KB
  line "$1 peak RSS" "$(awk -v k="$2" 'BEGIN {printf "%.0f MB  %s (target <= 256 MB)", k / 1024, (k / 1024 <= 256 ? "PASS" : "FAIL")}')"
}

run_case() {  # NAME DB TABLES
  local name=$1 db=$2 uri="postgresql://$PGUSER@127.0.0.1:$PGPORT/$2"
  echo "== $name: $3 tables, $(psql -X -At -d "$db" -c "SELECT pg_size_pretty(sum(pg_relation_size(oid))) FROM pg_class WHERE relkind = 'r' AND relnamespace <> 'pg_catalog'::regnamespace") of heap; $(bench_machine)"
  measure "live digest" "pg_dump -Fc -Z0 -f $work/$db.dump $db" "$VOUCH digest -q $uri -o $work/$db.json"
  line "live digest vs pg_dump -Fc -Z0" "$(awk -v b="$B" -v v="$VS" 'BEGIN {printf "vouch %.2f s, pg_dump %.2f s: %.2fx  %s (target <= 0.5x)", v, b, v / b, (v / b <= 0.5 ? "PASS" : "FAIL")}')"
  rss_check "live digest" "$VRSS"
  measure "schema digest" "pg_dump --schema-only -f /dev/null $db" "$VOUCH digest -q --schema-only $uri"
  line "schema digest vs pg_dump --schema-only" "$(awk -v b="$B" -v v="$VS" 'BEGIN {printf "vouch %.2f s, pg_dump %.2f s: %.2fx  %s (target <= 0.5x)", v, b, v / b, (v / b <= 0.5 ? "PASS" : "FAIL")}')"
  measure "dump digest" "pg_restore -f /dev/null $work/$db.dump" "$VOUCH digest -q $work/$db.dump"
  line "digest of its dump vs pg_restore -f /dev/null" "$(awk -v b="$B" -v v="$VS" 'BEGIN {printf "vouch %.2f s, pg_restore %.2f s: %.2fx  %s (target <= 1.0x + 1 s)", v, b, v / b, (v <= b + 1 ? "PASS" : "FAIL")}')"
  rss_check "dump digest" "$VRSS"
  measure "compare" "true" "$VOUCH compare -q $uri $work/$db.dump"
  line "compare live vs dump" "$(awk -v v="$VS" 'BEGIN {printf "%.2f s", v}')"
  rss_check "compare" "$VRSS"
  createdb "${db}_restored"
  pg_restore -d "${db}_restored" -j 2 "$work/$db.dump"
  measure "drill" "true" "$VOUCH drill -q $uri postgresql://$PGUSER@127.0.0.1:$PGPORT/${db}_restored"
  line "drill live vs restored" "$(awk -v v="$VS" 'BEGIN {printf "%.2f s", v}')"
  rss_check "drill" "$VRSS"
  local per
  per=$(jq '[.tables[] | select(.rows < 100) | (. | tojson | length)] | if length == 0 then 0 else (add / length) end' "$work/$db.json")
  line "manifest bytes per table under 100 rows" "$(awk -v p="$per" 'BEGIN {printf "%.0f (compact JSON)  %s (target <= 512)", p, (p <= 512 ? "PASS" : "FAIL")}')"
  line "manifest size" "$(du -h "$work/$db.json" | cut -f1)"
}

echo "generating $TABLES tables ($PARTS partitions) and 10,000 x 10 rows ..." >&2
make_db wide "$TABLES" "$PARTS" "(i * 37) % 1001"
make_db small 10000 0 10
run_case "schema scale" wide "$TABLES"
run_case "10,000 tables x 10 rows" small 10000
[ "$failed" = 0 ] || exit 3
