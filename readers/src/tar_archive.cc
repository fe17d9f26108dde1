// pg_dump tar format (-Ft): a ustar archive holding toc.dat first, then one
// NNNN.dat member per data entry (never compressed), large objects as
// blob_OID.dat members listed by blobs.toc (blobs_N.toc from PostgreSQL 17),
// and restore.sql last (docs/formats.md "Directory and tar formats"; pg_backup_tar.c). Read in one pass:
// every member must be named by the TOC, every data entry must have its
// member, once.
#include <map>
#include <set>

#include "archive_base.h"
#include "vouch/readers/tar_reader.h"

namespace vouch {
namespace {

bool IsBlobsToc(const std::string& name) {
  if (name == "blobs.toc") return true;
  if (name.size() < 11 || name.compare(0, 6, "blobs_") != 0 || name.compare(name.size() - 4, 4, ".toc") != 0)
    return false;
  return name.find_first_not_of("0123456789", 6) == name.size() - 4;
}

bool IsBlobData(const std::string& name) {
  return name.size() > 9 && name.compare(0, 5, "blob_") == 0 && name.compare(name.size() - 4, 4, ".dat") == 0 &&
         name.find_first_not_of("0123456789", 5) == name.size() - 4;
}

class TarArchive final : public ArchiveBase {
 public:
  TarArchive(std::unique_ptr<RandomAccessFile> file, const ArchiveOptions& options)
      : ArchiveBase(file->name(), "tar", options), file_(std::move(file)) {}

  ~TarArchive() override { StopFeeder(); }
  ReadExtent Extent() const override { return {file_->bytes_read(), file_->size(), false}; }

  Status Open() {
    src_ = MakeFileRangeSource(*file_, 0);
    tar_ = std::make_unique<TarReader>(*src_, location_);
    TarMember m;
    auto more = tar_->Next(&m);
    if (!more.ok()) return more.status();
    if (!*more || m.name != "toc.dat" || m.type != '0') {
      return Corrupt(location_ + ": the first member is " + (*more ? m.name : std::string("missing")) +
                     ", not toc.dat: not a pg_dump tar archive, or a damaged one");
    }
    const std::string toc_name = location_ + ": toc.dat";
    auto toc = ReadArchiveToc(tar_->Data(), toc_name,
                              Visitor(toc_name, [](const TocEntry& e) { return e.filename && !e.filename->empty(); }));
    if (!toc.ok()) return toc.status();
    auto rest = ReadToEnd(tar_->Data());
    if (!rest.ok()) return rest.status();
    if (*rest != 0) {
      return Corrupt(toc_name + ": " + std::to_string(*rest) + " bytes after the end of the TOC");
    }
    if (toc->header.format == 1) return Corrupt(toc_name + ": byte offset 10: format code 1 (custom) in a tar archive");
    if (toc->header.compression != "none") {
      return Corrupt(toc_name + ": the header says the data is compressed (" + toc->header.compression +
                     "), which the tar format never is");
    }
    VOUCH_RETURN_IF_ERROR(Init(std::move(toc).value()));
    facts_.archive_bytes = file_->size();
    for (size_t i = 0; i < data_entries_.size(); ++i) {
      const DataEntry& d = data_entries_[i];
      const std::string& name = *kept_[d.toc_index].filename;
      if (d.kind == DataKind::kLargeObjects) continue;  // its file name has no member; blobs.toc does
      by_member_[name] = i;
      if (d.kind == DataKind::kTable && d.selected) {
        tables_[static_cast<size_t>(d.table)].data_location = location_ + ": member " + name;
      }
    }
    StartFeeder({[this](ChunkFeeder& f) { return WalkMembers(f); }}, nullptr);
    return Status::Ok();
  }

 private:
  Status WalkMembers(ChunkFeeder& f) {
    std::set<std::string> seen, blob_members, blob_listed;
    bool has_blobs_entry = false, restore_sql = false, blobs_toc = false;
    int64_t last_data_toc_index = -1;  // pg_restore reads a tar archive in one pass, in TOC order
    for (const DataEntry& d : data_entries_) has_blobs_entry = has_blobs_entry || d.kind == DataKind::kLargeObjects;
    TarMember m;
    while (!f.stopping()) {
      auto more = tar_->Next(&m);
      if (!more.ok()) return more.status();
      if (!*more) break;
      const std::string where = location_ + ": byte offset " + std::to_string(m.header_offset) + ": member " + m.name;
      if (m.type != '0') return Corrupt(where + ": not a regular file (type '" + std::string(1, m.type) + "')");
      if (!seen.insert(m.name).second) return Corrupt(where + " appears twice");
      if (restore_sql) return Corrupt(where + " follows restore.sql, which pg_dump writes last");
      if (m.name == "restore.sql") {
        VOUCH_RETURN_IF_ERROR(ReadToEnd(tar_->Data()).status());
        restore_sql = true;
        continue;
      }
      if (IsBlobData(m.name) && has_blobs_entry) {
        const std::string oid = m.name.substr(5, m.name.size() - 9);
        if (oid.size() > 10) return Corrupt(where + ": not a large object OID");
        VOUCH_RETURN_IF_ERROR(ReadLargeObject(std::stoull(oid), tar_->Data()));
        blob_members.insert(m.name);
        continue;
      }
      if (IsBlobsToc(m.name) && has_blobs_entry) {
        VOUCH_RETURN_IF_ERROR(ReadBlobsMembers(where, &blob_listed));
        blobs_toc = true;
        continue;
      }
      auto it = by_member_.find(m.name);
      if (it == by_member_.end()) return Corrupt(where + " is not named by the TOC");
      const DataEntry& d = data_entries_[it->second];
      if (last_data_toc_index >= 0 && d.toc_index < static_cast<size_t>(last_data_toc_index)) {
        return Corrupt(where +
                       " comes after a member the TOC lists later: out of TOC order, which pg_restore "
                       "cannot read");
      }
      last_data_toc_index = static_cast<int64_t>(d.toc_index);
      CountDataFile(0);  // its bytes are the tar file's, counted already
      if (d.kind == DataKind::kTable && d.selected) {
        VOUCH_RETURN_IF_ERROR(f.FeedCopyText(tables_[static_cast<size_t>(d.table)], d.table, tar_->Data(),
                                             location_ + ": member " + m.name));
      } else {
        VOUCH_RETURN_IF_ERROR(ReadToEnd(tar_->Data()).status());
      }
    }
    if (f.stopping()) return Status::Ok();
    for (const auto& [name, i] : by_member_) {
      if (!seen.count(name)) {
        return Corrupt(location_ + ": " + EntryName(kept_[data_entries_[i].toc_index]) + ": its member " + name +
                       " is missing from the archive");
      }
    }
    if (has_blobs_entry && !blobs_toc)
      return Corrupt(location_ + ": the TOC has large objects but no blobs.toc member");
    for (const auto& b : blob_listed) {
      if (!blob_members.count(b))
        return Corrupt(location_ + ": large object member " + b + " (listed in blobs.toc) is missing");
    }
    for (const auto& b : blob_members) {
      if (!blob_listed.count(b)) return Corrupt(location_ + ": member " + b + " is not listed in blobs.toc");
    }
    if (!restore_sql) {
      return Truncated(location_ + ": no restore.sql member, which pg_dump writes last: the archive is incomplete");
    }
    return Status::Ok();
  }

  // blobs.toc: lines "OID blob_OID.dat", each a member of the archive.
  Status ReadBlobsMembers(const std::string& where, std::set<std::string>* listed) {
    auto lines = ReadBlobsToc(tar_->Data(), where);
    if (!lines.ok()) return lines.status();
    for (const auto& line : *lines) {
      if (!IsBlobData(line.file)) return Corrupt(where + ": " + line.file + " is not a blob_OID.dat name");
      listed->insert(line.file);
    }
    return Status::Ok();
  }

  std::unique_ptr<RandomAccessFile> file_;
  std::unique_ptr<ByteSource> src_;
  std::unique_ptr<TarReader> tar_;
  std::map<std::string, size_t> by_member_;  // member name -> data entry
};

}  // namespace

Result<std::unique_ptr<ArchiveReader>> OpenTarArchive(std::unique_ptr<RandomAccessFile> file,
                                                      const ArchiveOptions& options) {
  auto a = std::make_unique<TarArchive>(std::move(file), options);
  VOUCH_RETURN_IF_ERROR(a->Open());
  return std::unique_ptr<ArchiveReader>(std::move(a));
}

}  // namespace vouch
