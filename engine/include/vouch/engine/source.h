// Typed sources: what a command reads tables from, opened once per side
// through one opener. A source is a database, a pg_dump archive, a plain dump
// or a vouch manifest (digests, no rows), or tables held in memory (tests,
// embedding). The engine's entry points (DigestSource, Compare, RunDrill)
// take sources; their string forms open them with OpenSource first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/readers/table_stream.h"
#include "vouch/status.h"

namespace vouch {

enum class SourceKind : uint8_t { kDatabase, kArchive, kPlainDump, kManifest, kMemory };

class Source {
 public:
  virtual ~Source() = default;
  SourceKind kind() const { return kind_; }
  // What the user named (a URI, a path), for messages.
  const std::string& spec() const { return spec_; }
  // The digests a manifest holds; null for every other kind.
  virtual const DigestReport* manifest() const { return nullptr; }
  // The source's foreign keys when it can tell them before its rows are read
  // (a database's catalogs, an archive's TOC); null otherwise, and for a
  // manifest.
  virtual const std::vector<ForeignKey>* foreign_keys() const { return nullptr; }
  // A reader of the source's rows (an error for a manifest). The first call
  // without `only_tables` gets the reader opened by OpenSource; later calls,
  // and those limited to `only_tables` ("schema.name"; a database reads only
  // those), open the source again.
  virtual Result<std::unique_ptr<TableStreamReader>> Read(const DigestOptions& options,
                                                          const std::vector<std::string>& only_tables = {}) = 0;

 protected:
  Source(SourceKind kind, std::string spec) : kind_(kind), spec_(std::move(spec)) {}

 private:
  SourceKind kind_;
  std::string spec_;
};

// Opens what `spec` names: a database (postgresql:// URI or key=value
// conninfo), a pg_dump archive (custom, directory, tar), a plain dump in any
// supported compression, or a saved vouch manifest (loaded and checked).
Result<std::unique_ptr<Source>> OpenSource(const std::string& spec, const DigestOptions& options);

// A manifest's digests already in memory (kind kManifest), under `spec`.
std::unique_ptr<Source> ManifestSourceOf(std::string spec, DigestReport manifest);

// A table held in memory: its description and its rows in COPY text, each
// ending in '\n'.
struct MemoryTable {
  TableInfo info;
  std::string rows;
};
// Tables in memory, read in the order given (kind kMemory). Each Read()
// yields them all again, whatever `only_tables` says.
std::unique_ptr<Source> MemorySource(std::string name, std::vector<MemoryTable> tables,
                                     std::vector<ForeignKey> foreign_keys = {});

// Digests a source: a manifest's digests (filtered), else every table read.
Result<DigestReport> DigestSource(Source& source, const DigestOptions& options);

// digest --all-databases: every database of the hot standby `conninfo`
// names (those that accept connections, templates left out), read one after
// another with its replay paused at one WAL position, each its own report
// with that "at_lsn". Each report also names the whole set
// ("cluster_databases", "cluster_database_count"), so that a restore can
// tell a manifest missing from it. An error on a primary: only a paused
// standby holds every database at one position.
Result<std::vector<DigestReport>> DigestAllDatabases(const std::string& conninfo, const DigestOptions& options);

// The property "cluster_databases" lists the databases so, in byte order.
std::string JoinDatabaseNames(const std::vector<std::string>& names);

}  // namespace vouch
