#include "vouch/engine/source.h"

#include <tbb/info.h>

#include <algorithm>

#include "vouch/engine/manifest.h"
#include "vouch/readers/archive_reader.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/live_reader.h"
#include "vouch/readers/paused_standby.h"
#include "vouch/readers/plain_dump_reader.h"

namespace vouch {
namespace {

// One read of a source, limited to `only_tables` ("schema.name") for a
// database (other readers read every table), or its loaded manifest.
struct OpenedSource {
  SourceKind kind{};
  std::unique_ptr<TableStreamReader> reader;
  std::unique_ptr<DigestReport> manifest;
};

Result<OpenedSource> OpenOnce(const std::string& source, const DigestOptions& options,
                              const std::vector<std::string>& only_tables) {
  OpenedSource opened;
  opened.kind = SourceKind::kDatabase;
  if (LooksLikeConninfo(source)) {
    LiveOptions live;
    live.jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
    live.only_tables = only_tables;
    live.filter = &options.filter;
    live.shard_index = options.shard_index;
    live.shard_count = std::max<uint32_t>(1, options.shard_count);
    live.schema = options.schema && !options.rows_only && only_tables.empty() && options.filter.empty();
    live.schema_only = live.schema && options.schema_only;
    live.rows_only = options.rows_only;
    live.at_lsn = options.at_lsn;
    live.copy_format = options.copy_format;
    live.split_bytes = options.split_bytes;
    auto reader = OpenLiveReader(source, live);
    if (!reader.ok()) return reader.status();
    opened.reader = std::move(reader).value();
    return opened;
  }
  opened.kind = SourceKind::kArchive;
  if (LooksLikeArchive(source)) {
    ArchiveOptions archive;
    archive.jobs = options.jobs > 0 ? options.jobs : tbb::info::default_concurrency();
    archive.only_tables = only_tables;
    archive.filter = &options.filter;
    archive.schema = options.schema;
    auto reader = OpenArchive(source, archive);
    if (!reader.ok()) return reader.status();
    opened.reader = std::move(reader).value();
    return opened;
  }
  Compression compression = Compression::kNone;
  auto src = OpenDecodedFile(source, &compression);
  if (!src.ok()) return src.status();
  // Sniff the decompressed start to pick the reader; the sniffed bytes are
  // given back to it.
  auto sniffed = ReadPrefix(**src, 512);
  if (!sniffed.ok()) return sniffed.status();
  const std::string head = std::move(sniffed).value();
  if (head.empty()) return Unsupported(source + ": file is empty");
  if (StartsLikeArchive(head)) {  // an archive inside a compressed file
    return Unsupported(source + ": a " + CompressionName(compression) +
                       "-compressed pg_dump archive: decompress it first (pg_dump's own compression, -Z, is read "
                       "directly)");
  }
  if (LooksLikeManifest(head)) {
    if (compression != Compression::kNone) return Unsupported(source + ": compressed manifests are not supported");
    opened.kind = SourceKind::kManifest;
    auto m = LoadManifest(source);
    if (!m.ok()) return m.status();
    opened.manifest = std::make_unique<DigestReport>(std::move(m).value());
    return opened;
  }
  if (!LooksLikePlainDump(head)) {
    return Unsupported(source +
                       ": not a pg_dump plain-format dump, vouch manifest or database URI (unrecognized content)");
  }
  opened.kind = SourceKind::kPlainDump;
  opened.reader = MakePlainDumpReader(MakePrefixedSource(head, std::move(src).value()), source, compression);
  return opened;
}

// A database, archive or plain dump: each Read() opens it, but the first
// gets the reader OpenSource opened to tell what the source is.
class OpenedFileOrDatabase final : public Source {
 public:
  OpenedFileOrDatabase(SourceKind kind, std::string spec, std::unique_ptr<TableStreamReader> first)
      : Source(kind, std::move(spec)), first_(std::move(first)) {}
  const std::vector<ForeignKey>* foreign_keys() const override {
    return first_ ? first_->foreign_keys() : fks_known_ ? &fks_ : nullptr;
  }
  Result<std::unique_ptr<TableStreamReader>> Read(const DigestOptions& options,
                                                  const std::vector<std::string>& only_tables) override {
    if (first_ && only_tables.empty()) {
      if (const auto* fks = first_->foreign_keys()) {
        fks_ = *fks;
        fks_known_ = true;
      }
      return std::move(first_);
    }
    auto opened = OpenOnce(spec(), options, only_tables);
    if (!opened.ok()) return opened.status();
    return std::move(opened->reader);
  }

 private:
  std::unique_ptr<TableStreamReader> first_;
  std::vector<ForeignKey> fks_;  // kept when the first reader is handed out
  bool fks_known_ = false;
};

class ManifestSource final : public Source {
 public:
  ManifestSource(std::string spec, DigestReport manifest)
      : Source(SourceKind::kManifest, std::move(spec)), manifest_(std::move(manifest)) {}
  const DigestReport* manifest() const override { return &manifest_; }
  Result<std::unique_ptr<TableStreamReader>> Read(const DigestOptions&, const std::vector<std::string>&) override {
    return InvalidArgument(spec() + ": a manifest holds digests, not rows");
  }

 private:
  DigestReport manifest_;
};

}  // namespace

std::unique_ptr<Source> ManifestSourceOf(std::string spec, DigestReport manifest) {
  return std::make_unique<ManifestSource>(std::move(spec), std::move(manifest));
}

namespace {

// Yields each table's rows as one chunk.
class MemoryReader final : public TableStreamReader {
 public:
  MemoryReader(const std::vector<MemoryTable>& tables, const std::vector<ForeignKey>& fks, SourceInfo info)
      : source_(tables), fks_(fks), info_(std::move(info)) {}
  Result<bool> NextChunk(RowChunk& chunk, size_t) override {
    if (next_ == source_.size()) return false;
    const MemoryTable& t = source_[next_];
    tables_.push_back(t.info);
    chunk.table = &tables_.back();
    chunk.table_index = static_cast<uint32_t>(next_);
    chunk.offset = 0;
    chunk.data.assign(t.rows.begin(), t.rows.end());
    chunk.size = t.rows.size();
    chunk.last_of_table = true;
    ++next_;
    return true;
  }
  const std::deque<TableInfo>& tables() const override { return tables_; }
  std::deque<TableInfo> ReleaseTables() override { return std::move(tables_); }
  const SourceInfo& source_info() const override { return info_; }
  const std::vector<ForeignKey>* foreign_keys() const override { return &fks_; }

 private:
  const std::vector<MemoryTable>& source_;
  const std::vector<ForeignKey>& fks_;
  SourceInfo info_;
  std::deque<TableInfo> tables_;
  size_t next_ = 0;
};

class MemoryTables final : public Source {
 public:
  MemoryTables(std::string name, std::vector<MemoryTable> tables, std::vector<ForeignKey> fks)
      : Source(SourceKind::kMemory, std::move(name)), tables_(std::move(tables)), fks_(std::move(fks)) {}
  const std::vector<ForeignKey>* foreign_keys() const override { return &fks_; }
  Result<std::unique_ptr<TableStreamReader>> Read(const DigestOptions&, const std::vector<std::string>&) override {
    SourceInfo info;
    info.kind = "memory";
    info.location = spec();
    info.compression = "none";
    return std::unique_ptr<TableStreamReader>(std::make_unique<MemoryReader>(tables_, fks_, std::move(info)));
  }

 private:
  std::vector<MemoryTable> tables_;
  std::vector<ForeignKey> fks_;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenSource(const std::string& spec, const DigestOptions& options) {
  auto opened = OpenOnce(spec, options, {});
  if (!opened.ok()) return opened.status();
  if (opened->manifest) {
    return std::unique_ptr<Source>(std::make_unique<ManifestSource>(spec, std::move(*opened->manifest)));
  }
  return std::unique_ptr<Source>(std::make_unique<OpenedFileOrDatabase>(opened->kind, spec, std::move(opened->reader)));
}

std::unique_ptr<Source> MemorySource(std::string name, std::vector<MemoryTable> tables,
                                     std::vector<ForeignKey> foreign_keys) {
  return std::make_unique<MemoryTables>(std::move(name), std::move(tables), std::move(foreign_keys));
}

Result<DigestReport> DigestSource(Source& src, const DigestOptions& options) {
  const std::string& source = src.spec();
  if (src.manifest() != nullptr) {
    if (options.shard_count >= 1)
      return InvalidArgument(source + ": a manifest holds digests, not rows: it cannot be sharded");
    DigestReport m = *src.manifest();
    if (!options.filter.empty()) {
      std::vector<std::pair<std::string, std::string>> seen;
      for (const auto& t : m.tables) seen.emplace_back(t.schema, t.name);
      auto unmatched = options.filter.UnmatchedIncludes(seen);
      if (!unmatched.empty()) return InvalidArgument(source + ": pattern '" + unmatched.front() + "' matches no table");
      std::erase_if(m.tables, [&](const TableResult& t) { return !options.filter.Selects(t.schema, t.name); });
      // As for every other source: a selection of tables has neither.
      m.sequences.reset();
      m.large_objects.reset();
      m.schema.reset();  // a table selection has no schema comparison
      m.schema_not_selected = true;
      m.ComputeFinalHash();
    }
    if (options.rows_only) {
      // The tables' digests alone, as a database or a dump read rows only.
      if (m.large_objects) m.large_objects_left_out = m.large_objects->size();
      m.sequences.reset();
      m.large_objects.reset();
      m.schema.reset();
      m.rows_only = true;
      m.ComputeFinalHash();
    }
    return m;
  }
  auto reader = src.Read(options);
  if (!reader.ok()) return reader.status();
  return DigestTables(**reader, options);
}

Result<DigestReport> DigestSource(const std::string& spec, const DigestOptions& options) {
  auto src = OpenSource(spec, options);
  if (!src.ok()) return src.status();
  return DigestSource(**src, options);
}

std::string JoinDatabaseNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Result<std::vector<DigestReport>> DigestAllDatabases(const std::string& conninfo, const DigestOptions& options) {
  if (!LooksLikeConninfo(conninfo)) {
    return InvalidArgument(conninfo + ": --all-databases reads a hot standby's databases; this is not a database");
  }
  if (options.shard_count >= 1 || !options.filter.empty() || options.schema_only) {
    return InvalidArgument(
        "--all-databases reads every table of every database: no --shard, table selection or "
        "--schema-only");
  }
  auto paused = PausedStandby::Pause(conninfo);
  if (!paused.ok()) return paused.status();
  const auto& names = (*paused)->databases();
  if (names.empty()) return InvalidArgument(conninfo + ": the cluster has no database that accepts connections");
  DigestOptions each = options;
  each.at_lsn = true;  // each read finds replay paused, and records where
  std::vector<DigestReport> out;
  for (const std::string& name : names) {
    auto db = ConninfoForDatabase(conninfo, name);
    if (!db.ok()) return db.status();
    auto report = DigestSource(*db, each);
    if (!report.ok()) return Status(report.status().code(), "database " + name + ": " + report.status().message());
    auto& props = report->source.properties;
    if (props["at_lsn"] != (*paused)->lsn()) {
      return IoError("database " + name + " was read at " + props["at_lsn"] + ", not at " + (*paused)->lsn() +
                     ": replay was resumed during the read");
    }
    props["cluster_databases"] = JoinDatabaseNames(names);
    props["cluster_database_count"] = std::to_string(names.size());
    props["at_lsn_method"] = "standby replay paused (every database of the cluster at this position)";
    out.push_back(std::move(report).value());
  }
  VOUCH_RETURN_IF_ERROR((*paused)->StillAt());
  VOUCH_RETURN_IF_ERROR((*paused)->Resume());
  return out;
}

}  // namespace vouch
