// What the custom, directory and tar readers share: turning the TOC into
// tables (columns from the COPY statement, timestamptz columns and keys from
// the DDL), the archive facts, and handing out chunks through a ChunkFeeder.
// Internal to readers/.
#pragma once

#include <functional>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "chunk_feeder.h"
#include "vouch/readers/archive_reader.h"
#include "vouch/readers/archive_toc.h"
#include "vouch/readers/dump_schema.h"
#include "vouch/readers/sequences.h"
#include "vouch/readers/schema_catalog.h"

namespace vouch {

class ArchiveBase : public ArchiveReader {
 public:
  Result<bool> NextChunk(RowChunk& chunk, size_t target) override;
  const std::deque<TableInfo>& tables() const override { return tables_; }
  std::deque<TableInfo> ReleaseTables() override { return std::move(tables_); }
  const SourceInfo& source_info() const override { return info_; }
  const std::vector<ForeignKey>* foreign_keys() const override { return &foreign_keys_; }
  const std::vector<SequenceInfo>* sequences() const override { return &sequences_; }
  const std::vector<LargeObjectInfo>* large_objects() const override {
    return large_objects_read_ ? &large_objects_ : nullptr;
  }
  const SchemaCatalog* schema() const override {
    return options_.schema && !schema_handed_ ? &schema_objects_ : nullptr;
  }
  bool ReleaseSchema(SchemaCatalog* out) override {
    if (!options_.schema || schema_handed_) return false;
    *out = std::move(schema_objects_);
    return true;
  }
  // The table of contents, read by Init, gave every object.
  void HandSchemaTo(SchemaSink sink) override {
    if (!options_.schema || schema_handed_) return;
    schema_handed_ = true;
    sink(std::move(schema_objects_));
    schema_objects_ = SchemaCatalog();
  }
  ArchiveFacts facts() const override {
    std::lock_guard<std::mutex> lock(facts_mu_);
    return facts_;
  }

 protected:
  // What a TOC entry with data holds.
  enum class DataKind { kTable, kLargeObjects, kOther };
  struct DataEntry {
    size_t toc_index;  // into kept_
    DataKind kind;
    int table = -1;        // index into tables_ (kTable, when selected)
    bool selected = true;  // false: skipped by the table selection
  };

  ArchiveBase(std::string location, std::string format, const ArchiveOptions& options)
      : location_(std::move(location)), options_(options) {
    facts_.format = std::move(format);
  }

  // The TOC is read in two steps. Visitor() is handed to ReadArchiveToc: it
  // sees each entry as it is parsed, reads its SQL (DumpSchema), counts it,
  // and keeps only the entries that have data (by `has_data`), as
  // data_entries_, without their SQL. Errors: a TABLE DATA entry without a
  // parseable COPY statement (e.g. pg_dump --inserts), two entries for one
  // table, a bad ENCODING entry. `toc_location` names the file holding the
  // TOC ("dump.custom", "dir/toc.dat", "dump.tar: toc.dat").
  TocVisitor Visitor(std::string toc_location, std::function<bool(const TocEntry&)> has_data);
  // Then Init takes the parsed TOC (its data entries): fills facts, selects
  // the tables (tables_), and gives them their types and keys.
  Status Init(ArchiveToc toc);

  // Subclasses build the jobs once the TOC is known.
  void StartFeeder(std::vector<ChunkFeeder::Job> jobs, std::function<Status()> finish);
  // Stops and joins the workers. Every subclass destructor calls it first:
  // the jobs use the subclass's members, which die before the base's.
  void StopFeeder() { feeder_.reset(); }

  // What is kept of a TOC entry with data once the TOC is read: its name and
  // where its data lies, not its SQL (a TocEntry is four times the size).
  struct KeptEntry {
    uint64_t toc_offset = 0;
    int64_t dump_id = 0;
    std::string desc, tag;
    std::optional<std::string> namespace_, filename;
    int offset_flag = 0;
    uint64_t offset = 0;
  };

  // "TOC entry 3379 (TABLE DATA public.t)" for messages (a TocEntry or a
  // KeptEntry).
  template <typename Entry>
  std::string EntryName(const Entry& e) const {
    return NameEntry(e.desc, e.namespace_, e.tag, e.dump_id);
  }
  // "dump.custom: byte offset 1234: TOC entry 3379 (TABLE DATA public.t)".
  template <typename Entry>
  std::string InToc(const Entry& e) const {
    return toc_location_ + ": byte offset " + std::to_string(e.toc_offset) + ": " + EntryName(e);
  }
  // True when every data entry is selected: structural checks that need every
  // block read (coverage of the file) only run then.
  bool ReadsEverything() const { return all_selected_; }
  // A large object read to its end: its OID, its bytes.
  Status ReadLargeObject(uint64_t oid, ByteSource& data);
  // A data file read; `bytes` of it are added to facts_.archive_bytes.
  void CountDataFile(uint64_t bytes);

  const std::string location_;
  std::string toc_location_;
  const ArchiveOptions options_;
  ArchiveToc toc_;  // header and TOC hash (its entries are not kept: kept_)
  std::deque<TableInfo> tables_;
  std::vector<DataEntry> data_entries_;
  // Deques, not vectors: 100,000 entries grow without a doubling copy.
  std::deque<KeptEntry> kept_;  // per data entry, at DataEntry::toc_index
  std::map<int64_t, size_t> by_dump_id_;  // dump id -> index into data_entries_
  // While the TOC is read: what its SQL says, the tables of its data
  // entries (selected by Init), and the tables seen.
  DumpSchema schema_;
  std::deque<TableInfo> pending_tables_;
  DumpSchemaCollector schema_collector_;
  SchemaCatalog schema_objects_;  // set by Init
  bool schema_handed_ = false;
  std::set<std::pair<std::string, std::string>> seen_tables_;
  SourceInfo info_;
  ArchiveFacts facts_;
  std::vector<ForeignKey> foreign_keys_;  // set when opened, then constant
  // The sequences of the TOC's SEQUENCE, SEQUENCE OWNED BY, DEFAULT and
  // SEQUENCE SET entries (set by Init, then constant).
  DumpSequences dump_sequences_;
  std::vector<SequenceInfo> sequences_;
  // Large objects: their owners from the BLOB / BLOB METADATA entries, their
  // content hashes as the read jobs meet them (under facts_mu_); sorted by
  // oid once every job ended. Not read when a table selection was given.
  std::vector<LargeObjectInfo> large_objects_;
  std::map<uint32_t, size_t> lo_index_;
  bool large_objects_read_ = true;

 private:
  std::string NameEntry(const std::string& desc, const std::optional<std::string>& namespace_, const std::string& tag,
                        int64_t dump_id) const;
  LargeObjectInfo& LargeObject(uint32_t oid);
  std::unique_ptr<ChunkFeeder> feeder_;
  mutable std::mutex facts_mu_;  // facts_ and info_.properties, written by the read jobs
  bool all_selected_ = true;
};

// Compression of data blocks/files as the archive header names it.
Compression CompressionOfHeader(const ArchiveHeader& h);

// Reads `src` to its end (decompressing and checking it); returns its length.
Result<uint64_t> ReadToEnd(ByteSource& src);
// The same, handing each piece read to `sink`.
Result<uint64_t> ReadToEnd(ByteSource& src, const std::function<void(const char*, size_t)>& sink);

// One line of a large objects' TOC file (blobs.toc, blobs_N.toc): "OID FILE".
struct BlobsTocLine {
  std::string oid, file;
};
// Reads and parses such a file from `src`; `where` names it in messages.
Result<std::vector<BlobsTocLine>> ReadBlobsToc(ByteSource& src, const std::string& where);

}  // namespace vouch
