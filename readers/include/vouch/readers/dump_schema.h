// DumpSchema: what a pg_dump's DDL says about its tables, gathered line by
// line from the statements of a plain dump or the `defn` text of an archive's
// TOC entries (the same text: a plain dump prints the TOC's defns in order).
// It knows which columns hold timestamptz (directly, through domains, arrays,
// ranges, or inherited from a parent table; docs/formats.md "Canonical row text"), each table's
// primary key, and the foreign keys.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/timestamptz.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

class DumpSchema {
 public:
  // Takes one line of DDL as pg_dump writes it (without its '\n'). Returns
  // true when the line was DDL this class follows (CREATE TABLE/TYPE/DOMAIN
  // and their bodies, INHERITS, ALTER TABLE ... ADD CONSTRAINT, ALTER TABLE
  // ONLY ... ATTACH PARTITION).
  bool AddLine(std::string_view line);

  // Sets t->tz_kinds from the DDL for t's schema, name and columns: empty when
  // no column needs rewriting; kCheckOnly for columns whose type the DDL does
  // not tell (a --data-only dump).
  void SetTzKinds(TableInfo* t) const;
  // Sets t->time_columns: its timestamp/timestamptz columns in DDL order.
  void SetTimeColumns(TableInfo* t) const;

  // The partitioned tables above schema.name, from the DDL's "ALTER TABLE
  // ONLY parent ATTACH PARTITION child ..." lines: its parent first, its
  // partition root last; empty when it is attached to none.
  std::vector<RelationName> PartitionAncestors(const std::string& schema, const std::string& name) const;

  // The primary key columns of schema.name, or null when none was seen.
  const std::vector<std::string>* PrimaryKey(const std::string& schema, const std::string& name) const;

  const std::vector<ForeignKey>& foreign_keys() const { return foreign_keys_; }

 private:
  enum class Ddl { kNone, kTable, kComposite, kRange, kDomain };
  TzKind KindOfType(std::string_view t) const;
  bool FindColumnKind(const std::string& key, const std::string& col, TzKind* kind, int depth = 0) const;
  void AddConstraint(std::string_view line);

  Ddl ddl_ = Ddl::kNone;
  std::string ddl_name_, inherits_for_;
  std::string alter_table_;  // "schema\0name" of the last "ALTER TABLE [ONLY] x" line
  bool composite_has_tz_ = false, range_of_tz_ = false;
  // Keyed "schema\0name". A table's own columns, packed in one string: each
  // name, a NUL and its TzKind as one byte (one allocation per table: a map
  // of columns per table held 22 MB at 100,000 tables).
  std::map<std::string, std::string> table_cols_;
  std::map<std::string, std::vector<std::string>> parents_;
  std::map<std::string, std::string> partition_parent_;  // child -> parent it is attached to
  std::map<std::string, TzKind> type_kinds_;
  std::map<std::string, std::vector<std::string>> primary_keys_;
  std::map<std::string, std::vector<std::string>> time_cols_;  // in DDL order
  std::vector<ForeignKey> foreign_keys_;
};

// Parses `COPY schema.table (a, b) FROM stdin;` (identifiers quoted as
// pg_dump quotes them) into t->schema, t->name and t->SetColumns(). Returns
// false when the line is not such a statement.
bool ParseCopyStatement(std::string_view line, TableInfo* t);

}  // namespace vouch
