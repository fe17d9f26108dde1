// TableStreamReader: what every source reader yields — chunks of whole rows of
// one table at a time, in the source's COPY text format, plus the tables'
// column lists. Readers never hash; engine/ does.
#pragma once

#include <compare>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/timestamptz.h"
#include "vouch/io_buffer.h"
#include "vouch/status.h"

namespace vouch {

struct SchemaCatalog;  // vouch/readers/schema_catalog.h

// schema.name with each part double-quoted where SQL needs it.
std::string QualifiedTableName(const std::string& schema, const std::string& name);

// A table named by its schema and name (unquoted).
struct RelationName {
  std::string schema;
  std::string name;
  friend bool operator==(const RelationName&, const RelationName&) = default;
  friend auto operator<=>(const RelationName&, const RelationName&) = default;
};

struct TableInfo {
  std::string schema;
  std::string name;
  // For a leaf partition: the partitioned tables above it, its parent first
  // and its partition root last. Empty for a table that is not a partition,
  // or when the source does not say (a --data-only dump).
  std::vector<RelationName> partition_ancestors;
  // Column names in the order the source's rows list them (COPY order).
  std::vector<std::string> columns;
  // canonical_order[i] = index into `columns` of the i-th column in byte order
  // of the names: the canonical row lists fields in this order (docs/design.md).
  std::vector<uint32_t> canonical_order;
  bool canonical_is_identity = true;
  // Primary key (or unique, not-null key) columns, in key order; empty when
  // the table has none or the source does not say. Used to name differing
  // rows, never in the digest.
  std::vector<std::string> key_columns;
  // Per column (COPY order): how its values hold timestamptz that a dump may
  // have written in a non-UTC zone. Empty when no column needs rewriting
  // (live sources read with TimeZone=UTC).
  std::vector<TzKind> tz_kinds;
  // Columns of type timestamp or timestamptz (or a domain over one), in the
  // table's own column order (attnum), for the temporal checks; the first is
  // the table's default record time. Empty when the source does not say.
  std::vector<std::string> time_columns;
  // Where the table's data starts, for messages ("uncompressed byte offset N").
  uint64_t data_offset = 0;
  // Where the table's data lives when that is not the source itself (an
  // archive's data file or block), for messages; row offsets count from its
  // first uncompressed byte. Empty: the source's location.
  std::string data_location;
  // How a live source read the rows, for the report: COPY format "binary" or
  // "text" (with the column that kept it from binary), and the TID ranges a
  // large table was split into. Empty for other sources.
  std::string read_as;

  std::string QualifiedName() const;  // schema.name, quoted where needed
  void SetColumns(std::vector<std::string> cols);
};

// A foreign key: from the catalogs, a dump's DDL, or declared by the user.
struct ForeignKey {
  std::string name;
  std::string schema, table;  // the referencing (child) table
  std::vector<std::string> columns;
  std::string ref_schema, ref_table;  // the referenced (parent) table
  std::vector<std::string> ref_columns;
  std::string options;  // what follows the referenced columns: ON DELETE ..., NOT VALID, ...
};

struct BinaryColumn;  // vouch/readers/binary_copy.h

struct RowChunk {
  const TableInfo* table = nullptr;
  uint32_t table_index = 0;
  uint64_t offset = 0;  // stream offset of data[0] (uncompressed)
  IoBuffer data;        // capacity reused between chunks; page-aligned (io_buffer.h)
  size_t size = 0;      // bytes of whole rows in data, each ending in '\n'
  // The table's last chunk: no more rows of it follow. A reader that knows
  // where a table ends says so (the pipeline then releases the table's state
  // early); such a chunk may hold no rows. A reader that never says so is
  // still correct, only its tables' state is released at the end.
  bool last_of_table = false;
  // Non-null: `data` holds whole binary COPY tuples of a live table, with
  // these converters, and `size` counts their bytes; ConvertBinaryChunk
  // (vouch/readers/binary_copy.h) turns them into the COPY text rows above.
  // The reader leaves that to its caller so that it runs on every core (the
  // digest pipeline's parallel stage) rather than on the reading thread.
  const std::vector<BinaryColumn>* binary_columns = nullptr;
};

// Calls fn(row) for every row of the chunk in order, the row without its
// '\n' (row.data() - chunk.data.data() is its offset in the chunk), until fn
// returns false. Returns whether it saw every row.
template <typename Fn>
bool ForEachRow(const RowChunk& chunk, Fn&& fn) {
  const char* p = chunk.data.data();
  const char* const end = p + chunk.size;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!fn(std::string_view(p, static_cast<size_t>(nl - p)))) return false;
    p = nl + 1;
  }
  return true;
}

// Facts about the source for the manifest: kind, compression, versions.
struct SequenceInfo;     // vouch/readers/sequences.h
struct LargeObjectInfo;  // vouch/readers/sequences.h

struct SourceInfo {
  std::string kind;                               // "plain dump", "manifest", ...
  std::string location;                           // path or connection description (never a password)
  std::string compression;                        // "none", "gzip", "zstd", "lz4"
  std::map<std::string, std::string> properties;  // e.g. "pg_dump_version"
};

class TableStreamReader {
 public:
  virtual ~TableStreamReader() = default;
  // Fills `chunk` with the next run of whole rows of one table, about
  // `target_size` bytes (more when a single row is longer). Returns false at
  // the end of the source, once every table was read to its end.
  virtual Result<bool> NextChunk(RowChunk& chunk, size_t target_size) = 0;
  // Tables met so far; references stay valid while the reader lives. Complete
  // once NextChunk returned false.
  virtual const std::deque<TableInfo>& tables() const = 0;
  // Hands the tables over once the reader is done (NextChunk returned false
  // or failed), so that a digest of 100,000 tables moves their names and
  // columns into its results instead of holding two copies; tables() is
  // empty afterwards. The default copies.
  virtual std::deque<TableInfo> ReleaseTables() { return tables(); }
  virtual const SourceInfo& source_info() const = 0;
  // The source's foreign keys (catalog or dump DDL), or null when the source
  // cannot tell them before its rows are read (a plain dump lists them after
  // the data).
  virtual const std::vector<ForeignKey>* foreign_keys() const { return nullptr; }
  // Where the rows of table `table_index` (RowChunk::table_index) lie, for
  // messages, when the reader tells it on demand rather than in the table's
  // data_location (a custom archive's data block: a string for each of
  // 100,000 tables would be 15 MB); empty otherwise. May be called while
  // the rows are read.
  virtual std::string DataLocation(uint32_t /*table_index*/) const { return {}; }
  // True when the reader itself yields only one shard's rows (a database
  // reader with LiveOptions::shard_count > 1); otherwise the pipeline selects
  // a shard's rows by their hash.
  virtual bool yields_one_shard() const { return false; }
  // The source's sequences (definitions and states) and large objects
  // (vouch/readers/sequences.h), complete once NextChunk returned false;
  // sequences() may grow while the rows are read (a plain dump defines them
  // as it goes). Null when the source cannot tell: a read limited to some
  // tables, a shard.
  virtual const std::vector<SequenceInfo>* sequences() const { return nullptr; }
  virtual const std::vector<LargeObjectInfo>* large_objects() const { return nullptr; }
  // The source's schema objects (and, for a database, its cluster-wide
  // objects), or null when the reader does not read them. Complete once
  // NextChunk returned false (a plain dump's DDL runs to its end).
  virtual const SchemaCatalog* schema() const { return nullptr; }
  // Hands the schema objects over into *out once the reader is done, as
  // ReleaseTables() does the tables (400,000 objects at 100,000 tables are
  // not copied); false when schema() is null. schema() is empty afterwards.
  // The default copies.
  virtual bool ReleaseSchema(SchemaCatalog* out);
  // Hands the schema objects to `sink` as soon as they are all read (at
  // once when they already are), on whichever thread read them, instead of
  // keeping them to the end: a drill compares both sides' objects, and lets
  // them go, while the rows are still read. A reader that has its objects
  // only at the end of the rows (a plain dump) keeps them (the default);
  // so does one whose read of them fails. ReleaseSchema() and schema() have
  // nothing once they were handed over.
  using SchemaSink = std::function<void(SchemaCatalog&&)>;
  virtual void HandSchemaTo(SchemaSink sink) { (void)sink; }

  // How far the reading is, for a progress display: `done` of `total` bytes
  // of the source's input (an archive's or dump's file bytes read, a
  // database's relation sizes against the bytes of rows it sent), total 0
  // when the reader cannot tell. A database's total is the planner's size
  // of its relations, an estimate (`estimate` true). Called on the thread
  // that calls NextChunk, between its calls.
  struct ReadExtent {
    uint64_t done = 0, total = 0;
    bool estimate = false;
  };
  virtual ReadExtent Extent() const { return {}; }
};

}  // namespace vouch
