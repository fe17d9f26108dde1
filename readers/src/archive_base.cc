#include "archive_base.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "vouch/hashing/large_object_hash.h"
#include "vouch/io_buffer.h"

namespace vouch {
namespace {

// The header's struct tm fields as text; untrusted, so computed without overflow.
std::string CreatedText(const ArchiveHeader& h) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02d %02d:%02d:%02d", h.created[5] + 1900LL, h.created[4] + 1LL,
                h.created[3], h.created[2], h.created[1], h.created[0]);
  return buf;
}

// Feeds a TOC entry's SQL text to the schema and the sequences line by line.
Status AddDdl(DumpSchema& schema, DumpSequences& sequences, const std::string& text) {
  std::string_view s(text);
  while (!s.empty()) {
    size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    auto seq = sequences.AddLine(line);
    if (!seq.ok()) return seq.status();
    if (!*seq) schema.AddLine(line);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return Status::Ok();
}

}  // namespace

Compression CompressionOfHeader(const ArchiveHeader& h) {
  if (h.compression == "gzip") return Compression::kZlib;
  if (h.compression == "lz4") return Compression::kLz4;
  if (h.compression == "zstd") return Compression::kZstd;
  return Compression::kNone;
}

Result<uint64_t> ReadToEnd(ByteSource& src) {
  return ReadToEnd(src, [](const char*, size_t) {});
}

Result<uint64_t> ReadToEnd(ByteSource& src, const std::function<void(const char*, size_t)>& sink) {
  IoBuffer buf(size_t{256} << 10);
  uint64_t total = 0;
  while (true) {
    auto r = src.Read(buf.data(), buf.size());
    if (!r.ok()) return r.status();
    if (*r == 0) return total;
    sink(buf.data(), *r);
    total += *r;
  }
}

Result<std::vector<BlobsTocLine>> ReadBlobsToc(ByteSource& src, const std::string& where) {
  std::string text;
  IoBuffer buf(size_t{64} << 10);
  while (true) {
    auto r = src.Read(buf.data(), buf.size());
    if (!r.ok()) return r.status();
    if (*r == 0) break;
    text.append(buf.data(), *r);
  }
  std::vector<BlobsTocLine> lines;
  std::string_view rest(text);
  for (size_t line_no = 1; !rest.empty(); ++line_no) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      return Corrupt(where + ": line " + std::to_string(line_no) + " has no newline (truncated?)");
    }
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    size_t sp = line.find(' ');
    std::string_view oid = line.substr(0, sp);
    bool digits = !oid.empty() && oid.size() <= 10 &&
                  std::all_of(oid.begin(), oid.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (sp == std::string_view::npos || !digits || sp + 1 >= line.size() ||
        line.find_first_of("/ ", sp + 1) != std::string_view::npos) {
      return Corrupt(where + ": line " + std::to_string(line_no) +
                     " is not \"OID FILENAME\": " + std::string(line.substr(0, 80)));
    }
    lines.push_back({std::string(oid), std::string(line.substr(sp + 1))});
  }
  return lines;
}

std::string ArchiveBase::NameEntry(const std::string& desc, const std::optional<std::string>& namespace_,
                                   const std::string& tag, int64_t dump_id) const {
  std::string what = desc;
  if (namespace_ && !namespace_->empty())
    what += " " + QualifiedTableName(*namespace_, tag);
  else if (!tag.empty())
    what += " " + tag;
  return "TOC entry " + std::to_string(dump_id) + " (" + what + ")";
}

TocVisitor ArchiveBase::Visitor(std::string toc_location, std::function<bool(const TocEntry&)> has_data) {
  toc_location_ = std::move(toc_location);
  return [this, has_data = std::move(has_data)](TocEntry& e) -> Result<bool> {
    ++facts_.entries_by_desc[e.desc];
    if (e.defn) {
      if (Status st = AddDdl(schema_, dump_sequences_, *e.defn); !st.ok()) return Corrupt(InToc(e) + ": " + st.message());
    }
    if ((e.desc == "BLOB" || e.desc == "BLOB METADATA") && e.defn) {
      // pg_dump 15 writes one BLOB entry per object, its lo_create line;
      // 17 on one BLOB METADATA entry per group of objects of one owner, a
      // line per OID (pg_restore turns each into lo_create).
      const bool oid_lines = e.desc == "BLOB METADATA";
      std::string_view d = *e.defn;
      while (!d.empty()) {
        size_t nl = d.find('\n');
        std::string_view line = d.substr(0, nl);
        uint32_t oid = 0;
        bool found = ParseLoCreate(line, &oid);
        if (!found && oid_lines && !line.empty() && line.size() <= 10 &&
            std::all_of(line.begin(), line.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          const uint64_t v = std::stoull(std::string(line));
          found = v <= UINT32_MAX;
          oid = static_cast<uint32_t>(v);
        }
        if (found) LargeObject(oid).owner = e.owner.value_or("");
        if (nl == std::string_view::npos) break;
        d.remove_prefix(nl + 1);
      }
    }
    if (options_.schema) {
      schema_collector_.AddEntry(e.desc, e.namespace_.value_or(""), e.tag, e.defn ? std::string_view(*e.defn) : "");
    }
    if (e.desc == "ENCODING" && e.defn) {
      // pg_dump writes exactly "SET client_encoding = 'NAME';\n": anything
      // else is a damaged entry, not an encoding to refuse.
      constexpr std::string_view kPrefix = "SET client_encoding = '", kSuffix = "';\n";
      std::string_view d = *e.defn;
      const bool framed = d.size() > kPrefix.size() + kSuffix.size() && d.substr(0, kPrefix.size()) == kPrefix &&
                          d.substr(d.size() - kSuffix.size()) == kSuffix;
      std::string enc = framed ? std::string(d.substr(kPrefix.size(), d.size() - kPrefix.size() - kSuffix.size())) : "";
      const bool name_ok = !enc.empty() && std::all_of(enc.begin(), enc.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      if (!name_ok) return Corrupt(InToc(e) + ": not the \"SET client_encoding = '...';\" pg_dump writes");
      info_.properties["encoding"] = enc;
      if (enc != "UTF8" && enc != "SQL_ASCII") {
        return Unsupported(location_ + ": archive encoding " + enc +
                           " is not supported yet (vouch hashes UTF-8; dump with --encoding=UTF8)");
      }
    }
    if (!has_data(e)) {
      if (e.desc == "TABLE DATA") return Corrupt(InToc(e) + " has no data");
      return false;  // its SQL is in schema_ now; the entry itself is not needed again
    }
    if (by_dump_id_.count(e.dump_id)) {
      return Corrupt(InToc(e) + ": a second TOC entry with data has this dump id");
    }
    DataEntry d{data_entries_.size(), DataKind::kOther};
    if (e.desc == "BLOBS") d.kind = DataKind::kLargeObjects;
    if (e.desc == "TABLE DATA") {
      d.kind = DataKind::kTable;
      ++facts_.table_data_entries;
      TableInfo t;
      std::string copy = e.copy_stmt.value_or("");
      while (!copy.empty() && copy.back() == '\n') copy.pop_back();
      if (copy.empty()) {
        return Unsupported(InToc(e) +
                           ": table data is written as INSERT statements (pg_dump --inserts); content hashing needs "
                           "COPY-format data");
      }
      if (!ParseCopyStatement(copy, &t)) {
        return Corrupt(InToc(e) + ": cannot parse its COPY statement: " + copy);
      }
      // The table is the entry's own (namespace, tag): with
      // --load-via-partition-root the COPY statement names the partition root.
      t.schema = e.namespace_.value_or("");
      t.name = e.tag;
      if (!seen_tables_.emplace(t.schema, t.name).second) {
        return Corrupt(InToc(e) + ": a second TABLE DATA entry for this table");
      }
      d.table = static_cast<int>(pending_tables_.size());  // until Init selects
      pending_tables_.push_back(std::move(t));
    }
    // Kept: named (desc, namespace, tag) and located (offset, file); its SQL
    // was read above.
    kept_.push_back({e.toc_offset, e.dump_id, std::move(e.desc), std::move(e.tag), std::move(e.namespace_),
                     std::move(e.filename), e.offset_flag, e.offset});
    by_dump_id_[kept_.back().dump_id] = data_entries_.size();
    data_entries_.push_back(d);
    return false;
  };
}

Status ArchiveBase::Init(ArchiveToc toc) {
  std::set<std::pair<std::string, std::string>>().swap(seen_tables_);  // the TOC is read
  toc_ = std::move(toc);
  const ArchiveHeader& h = toc_.header;
  facts_.header = h;
  facts_.created = CreatedText(h);
  facts_.toc_sha256 = toc_.sha256;
  info_.kind = facts_.format + " archive";
  info_.location = location_;
  info_.compression = h.compression;
  info_.properties["archive_version"] =
      std::to_string(h.version_major) + "." + std::to_string(h.version_minor) + "." + std::to_string(h.version_rev);
  info_.properties["server_version"] = h.server_version;
  info_.properties["pg_dump_version"] = h.pg_dump_version;
  info_.properties["database"] = h.dbname;
  info_.properties["created"] = facts_.created;

  // Every entry was seen (TABLE ATTACH ones too, wherever they stand), so
  // each table knows its partitioned ancestors: `-t parent` selects the
  // leaves under it.
  const std::set<std::string> only(options_.only_tables.begin(), options_.only_tables.end());
  const bool filtered = !options_.only_tables.empty() || (options_.filter && !options_.filter->empty());
  // The pending tables are in the order of their entries: each moves on
  // (or is dropped) from the front, and the deque gives its blocks back as
  // it empties (at 100,000 tables two full deques would be 50 MB).
  for (DataEntry& d : data_entries_) {
    if (d.kind == DataKind::kTable) {
      TableInfo t = std::move(pending_tables_.front());
      pending_tables_.pop_front();
      t.partition_ancestors = schema_.PartitionAncestors(t.schema, t.name);
      bool selected = options_.only_tables.empty() || only.count(t.QualifiedName()) > 0;
      if (options_.filter && !options_.filter->empty() && !options_.filter->Selects(t)) selected = false;
      d.selected = selected;
      d.table = -1;
      if (selected) {
        d.table = static_cast<int>(tables_.size());
        tables_.push_back(std::move(t));
      }
    } else if (filtered) {
      d.selected = false;  // large objects are not part of a table selection
    }
    if (!d.selected) all_selected_ = false;
  }
  // DDL can come after the data entries in the TOC (constraints are
  // post-data), so the tables learn their types and keys only now.
  for (TableInfo& t : tables_) {
    schema_.SetTzKinds(&t);
    schema_.SetTimeColumns(&t);
    if (const auto* key = schema_.PrimaryKey(t.schema, t.name)) t.key_columns = *key;
  }
  sequences_ = dump_sequences_.Take();
  SortSequences(sequences_);
  large_objects_read_ = !filtered;
  facts_.foreign_keys = schema_.foreign_keys();
  foreign_keys_ = facts_.foreign_keys;
  schema_ = DumpSchema();
  schema_objects_ = schema_collector_.Finish();
  return Status::Ok();
}

void ArchiveBase::StartFeeder(std::vector<ChunkFeeder::Job> jobs, std::function<Status()> finish) {
  // After every job: the subclass's checks, then what the jobs counted.
  auto done = [this, finish = std::move(finish)]() -> Status {
    if (finish) VOUCH_RETURN_IF_ERROR(finish());
    std::lock_guard<std::mutex> lock(facts_mu_);
    SortLargeObjects(large_objects_);
    lo_index_.clear();
    return Status::Ok();
  };
  feeder_ = std::make_unique<ChunkFeeder>(options_.jobs, options_.max_row_bytes, std::move(jobs), std::move(done));
}

Result<bool> ArchiveBase::NextChunk(RowChunk& chunk, size_t target) { return feeder_->Next(chunk, target); }

Status ArchiveBase::ReadLargeObject(uint64_t oid, ByteSource& data) {
  LargeObjectHasher h(oid);
  auto bytes = ReadToEnd(data, [&h](const char* p, size_t n) { h.Update(p, n); });
  if (!bytes.ok()) return bytes.status();
  std::lock_guard<std::mutex> lock(facts_mu_);
  ++facts_.large_objects;
  facts_.large_object_bytes += *bytes;
  const U128 hash = h.Finish();
  facts_.large_object_sum += hash;
  if (oid > UINT32_MAX) return Corrupt(location_ + ": large object " + std::to_string(oid) + ": not an OID");
  LargeObjectInfo& lo = LargeObject(static_cast<uint32_t>(oid));
  if (lo.has_content) return Corrupt(location_ + ": the data of large object " + std::to_string(oid) + " appears twice");
  lo.has_content = true;
  lo.bytes = *bytes;
  lo.hash = hash;
  return Status::Ok();
}

LargeObjectInfo& ArchiveBase::LargeObject(uint32_t oid) {
  auto [it, fresh] = lo_index_.emplace(oid, large_objects_.size());
  if (fresh) large_objects_.push_back(LargeObjectInfo{oid, {}, false, 0, {}});
  return large_objects_[it->second];
}

void ArchiveBase::CountDataFile(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(facts_mu_);
  ++facts_.data_files;
  facts_.archive_bytes += bytes;
}

Result<std::unique_ptr<ArchiveReader>> OpenDirectoryArchive(const std::string& path, const ArchiveOptions& options);

namespace {
bool IsCustomHead(std::string_view head) { return head.substr(0, 5) == "PGDMP"; }
bool IsTarHead(std::string_view head) { return head.size() >= 262 && head.substr(257, 5) == "ustar"; }
}  // namespace

bool StartsLikeArchive(std::string_view head) { return IsCustomHead(head) || IsTarHead(head); }

bool LooksLikeArchive(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return false;
  if (S_ISDIR(st.st_mode)) return true;
  auto file = OpenRandomAccessFile(path);
  if (!file.ok()) return false;
  char head[512];
  auto got = (*file)->ReadAt(0, head, sizeof head);
  return got.ok() && StartsLikeArchive(std::string_view(head, *got));
}

Result<std::unique_ptr<ArchiveReader>> OpenArchive(const std::string& path, const ArchiveOptions& options) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return IoError(path + ": cannot open: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return OpenDirectoryArchive(path, options);
  auto file = OpenRandomAccessFile(path);
  if (!file.ok()) return file.status();
  char head[512] = {};
  auto got = (*file)->ReadAt(0, head, sizeof head);
  if (!got.ok()) return got.status();
  std::string_view h(head, *got);
  if (IsCustomHead(h)) {
    const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    if (base == "toc.dat") {
      return Unsupported(path + ": the TOC of a directory archive: give the directory that holds it");
    }
    return OpenCustomArchive(std::move(file).value(), options);
  }
  if (IsTarHead(h)) return OpenTarArchive(std::move(file).value(), options);
  return Unsupported(path + ": not a pg_dump custom, directory or tar archive");
}

}  // namespace vouch
