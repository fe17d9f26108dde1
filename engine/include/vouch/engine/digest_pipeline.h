// The digest pipeline: read chunks of rows (serial) → canonicalize and hash
// rows (parallel) → fold into per-table digests (order-free). At most
// `2 × jobs + 1` chunks are in flight, so memory is bounded by
// chunks-in-flight × chunk size, never by table size.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vouch/base/finding.h"
#include "vouch/base/progress.h"
#include "vouch/engine/row_observer.h"
#include "vouch/hashing/final_hash.h"
#include "vouch/hashing/sha256.h"
#include "vouch/hashing/table_digest.h"
#include "vouch/readers/live_reader.h"
#include "vouch/readers/schema_catalog.h"
#include "vouch/readers/sequences.h"
#include "vouch/readers/table_filter.h"
#include "vouch/readers/table_stream.h"
#include "vouch/status.h"

namespace vouch {

struct DigestOptions {
  int jobs = 0;  // threads; 0 = all cores
  // Bytes of rows per chunk; with many jobs chunks are smaller, so that at
  // most 96 MB of them are in flight (but never below 64 KB).
  size_t chunk_size = size_t{4} << 20;
  uint32_t buckets = TableDigest::kDefaultBuckets;
  // pg_dump-style -t/-T/-n/-N selection. Rows of unselected tables are read
  // (a dump is still decompressed to its end) but not hashed or reported. An
  // include pattern that selects nothing is a usage error.
  TableFilter filter;
  // A table whose rows cannot be hashed correctly — a timestamptz with a
  // non-UTC offset in a column whose type the dump does not give — is
  // reported (TableResult::not_hashed) instead of ending the run, so that
  // the rest of the source is still read and checked (verify-archive).
  bool skip_unhashable_tables = false;
  // Scale-out (--shard k/N): digest only shard `shard_index` of
  // `shard_count`, a deterministic partition of every table's rows; the N
  // shards' manifests add up (MergeShards) to the whole source's digest.
  // Databases select the rows on the server (LiveOptions); other sources are
  // read whole and hash only the rows with row-hash % N == k.
  // shard_count 0: not sharded (1: the whole source, recorded as shard 0/1).
  uint32_t shard_index = 0, shard_count = 0;
  // Sees every selected row in the same pass (drill checks); not owned.
  RowObserver* observer = nullptr;
  // Read the schema objects too: a database's (and its cluster-wide
  // objects) from its catalogs, an archive's from its DDL (a plain dump's
  // come with its DDL whatever this says). Without a table selection only:
  // with one, DigestReport::schema stays empty.
  bool schema = true;
  // A database's schema objects only, no rows (vouch digest --schema-only).
  bool schema_only = false;
  // Rows only (drill and compare --rows-only): no sequences, large objects or
  // schema objects in the report. A database does not read them (its large
  // objects are listed, not read); a dump's come with its stream and are
  // left out; a manifest's are dropped. FINAL_VALIDATION_HASH then covers
  // the tables alone: a source's large objects are in it otherwise.
  bool rows_only = false;
  // A database read at an exact WAL position (LiveOptions::at_lsn); an
  // error for any other source.
  bool at_lsn = false;
  // How a database's tables are read (LiveOptions::copy_format, split_bytes).
  CopyFormat copy_format = CopyFormat::kAuto;
  uint64_t split_bytes = 0;
  // Given the schema objects as soon as the reader has them all, on the
  // reader's thread (TableStreamReader::HandSchemaTo), instead of
  // DigestReport::schema: a drill compares them while the rows are read. A
  // reader that has them only with its last row still puts them in the
  // report.
  TableStreamReader::SchemaSink schema_sink;
  // Counted into as the rows are read, for a progress display; not owned.
  ProgressCounters* progress = nullptr;
};

struct TableResult {
  std::string schema;
  std::string name;
  std::vector<std::string> columns;  // canonical (byte) order
  TableDigest digest;
  std::vector<std::string> key_columns;  // as the source names them; may be empty
  // Why the table's content could not be hashed (skip_unhashable_tables);
  // empty when `digest` is its content's digest.
  std::string not_hashed;
  // For a leaf partition: the partitioned tables above it, its parent first,
  // its partition root last (TableInfo::partition_ancestors).
  std::vector<RelationName> partition_ancestors;
  // How a database's rows were read (TableInfo::read_as); empty otherwise.
  // Reported, never part of any hash.
  std::string read_as;
  // Wall time from the table's first chunk read to its last one hashed (its
  // rows are read beside other tables'); 0 for a manifest. Reported only.
  double seconds = 0;
  std::string QualifiedName() const;
};

struct DigestReport {
  SourceInfo source;
  std::vector<TableResult> tables;  // sorted by (schema, name)
  Sha256Digest final_hash{};
  // The source's sequences (sorted; never in any hash) and large objects
  // (sorted by oid; in final_hash when there are any), or nullopt when the
  // source does not tell them: a table selection, a shard, a manifest of
  // version 1 or 2.
  std::optional<std::vector<SequenceInfo>> sequences;
  std::optional<std::vector<LargeObjectInfo>> large_objects;
  // The schema objects (vouch/readers/schema_catalog.h); none for a source
  // that has no schema reader, or with a table selection. Not part of
  // final_hash: SCHEMA_VALIDATION_HASH (vouch/engine/schema_compare.h).
  std::optional<SchemaCatalog> schema;
  // True when `schema` is empty because a table selection was in effect
  // (not written to manifests).
  bool schema_not_selected = false;
  // Read with DigestOptions::rows_only: no sequences, large objects or schema
  // objects, and final_hash over the tables alone. `large_objects_left_out`
  // counts the source's large objects when it tells them (listed by a
  // database, in a dump's TOC or a manifest), so that a report can say
  // whether the final hash is the one a full read gives (none left out).
  bool rows_only = false;
  std::optional<uint64_t> large_objects_left_out;
  // Run statistics (not part of any digest).
  uint64_t bytes_read = 0;
  double seconds = 0;
  int jobs = 0;

  std::string FinalHashHex() const;
  // True when every table's content was hashed: only then is final_hash the
  // source's FINAL_VALIDATION_HASH.
  bool Complete() const;
  // A digest has no findings of its own; a table whose content was not
  // hashed (a shard's part, a manifest's gap) is not verified.
  Outcome outcome() const;
  // Recomputes final_hash from the tables (after loading or merging).
  void ComputeFinalHash();
  // The final hash over the tables plus audit-chain heads (vouch drill),
  // and the large objects when there are any.
  Sha256Digest FinalHashWith(std::vector<FinalChainEntry> chains) const;
  // The large-objects pseudo-table's count and digest (count 0 without any).
  FinalLargeObjects LargeObjects() const;
};

// Reads `reader` to its end and digests every table. An error from the reader
// or a malformed row stops the run: no partial report is returned.
Result<DigestReport> DigestTables(TableStreamReader& reader, const DigestOptions& options);

// Opens SOURCE (OpenSource in vouch/engine/source.h) and digests it.
Result<DigestReport> DigestSource(const std::string& source, const DigestOptions& options);

}  // namespace vouch
