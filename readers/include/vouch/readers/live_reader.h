// Reader for a live PostgreSQL database through libpq (docs/design.md, "From source to verdict"; "Live
// database reading rules"): read-only, one REPEATABLE READ snapshot shared by
// `jobs` connections (pg_export_snapshot / SET TRANSACTION SNAPSHOT, the
// protocol of pg_dump -j), the canonical session settings of docs/formats.md,
// tables streamed with COPY ... TO STDOUT, largest first, with their columns
// in byte order of their names. Works on a hot standby. Credentials come only
// from libpq (URI, PGPASSWORD, .pgpass, PGSERVICE) and are never printed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vouch/readers/table_filter.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

// How a live table's rows travel (--copy-format): binary COPY, converted to
// the canonical text on the client (vouch/readers/binary_copy.h), costs the
// server far less than its text output functions.
enum class CopyFormat {
  kAuto,    // binary for each table whose every column has a converter, else text
  kText,    // text for every table
  kBinary,  // binary for every table; a table that cannot be read so is an error (exit 2)
};

struct LiveOptions {
  int jobs = 1;                          // connections
  std::vector<std::string> only_tables;  // "schema.name" (quoted as needed); empty = all
  const TableFilter* filter = nullptr;   // pg_dump-style selection; null = all
  // Scale-out (--shard k/N): read only the rows with
  // (hashtext(ROW(key columns)::text) & 2^31-1) % count == index, computed by
  // the server (all columns for a table without a key). count 1 = all rows.
  uint32_t shard_index = 0, shard_count = 1;
  // Also read the schema objects and cluster-wide objects (schema()).
  bool schema = false;
  // Read only those (with `schema`): no table's rows (the tables are still
  // locked, as pg_dump --schema-only locks them).
  bool schema_only = false;
  // Rows only (drill and compare --rows-only): no sequences, and the large
  // objects listed (oid and owner, so that a report can count them) but not
  // read. Schema objects follow `schema`.
  bool rows_only = false;
  // Read at an exact WAL position, recorded as the source's "at_lsn": on a
  // primary (wal_level = logical) in the snapshot a temporary logical
  // replication slot exports, its consistent point the LSN; on a hot
  // standby with replay paused for the read, at pg_last_wal_replay_lsn().
  // Restoring to that LSN with recovery_target_inclusive = off gives
  // exactly these rows.
  bool at_lsn = false;
  CopyFormat copy_format = CopyFormat::kAuto;
  // A table whose heap is larger than this (the planner's page count) is read
  // in TID ranges (ctid >= '(a,0)' AND ctid < '(b,0)', a TID range scan on
  // PostgreSQL 14+) by several connections at once, in the same snapshot: one
  // big table no longer reads at one connection's pace. 0 (the default):
  // never. A range is read through the executor without the sequential
  // scan's bulk-read buffer ring, which costs the server about 1.8x the CPU
  // of one COPY of that table (docs/benchmarks.md): worth it only where the
  // server has idle cores and wall time matters more than its load.
  uint64_t split_bytes = 0;
};

// True when `spec` names a database rather than a file: a postgres:// or
// postgresql:// URI, or a libpq key=value conninfo string.
bool LooksLikeConninfo(const std::string& spec);

Result<std::unique_ptr<TableStreamReader>> OpenLiveReader(const std::string& conninfo, const LiveOptions& options);

}  // namespace vouch
