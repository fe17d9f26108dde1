// pg_dump directory format (-Fd): toc.dat (header and TOC, never compressed)
// and one file per data entry, named in the TOC without its compression
// suffix: N.dat, N.dat.gz (a gzip file), N.dat.lz4 or N.dat.zst; large
// objects in blobs.toc (blobs_N.toc from PostgreSQL 17) listing "OID
// blob_OID.dat" lines (docs/formats.md "Directory and tar formats"; pg_backup_directory.c). Every file the
// TOC names must exist exactly once, every file in the directory must be
// named, and the data files are read in parallel, largest first.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <optional>
#include <set>

#include "archive_base.h"

namespace vouch {
namespace {

namespace fs = std::filesystem;

const char* const kSuffixes[] = {"", ".gz", ".lz4", ".zst"};

Compression CompressionOfSuffix(const std::string& name) {
  auto ends = [&](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".gz")) return Compression::kGzip;
  if (ends(".lz4")) return Compression::kLz4;
  if (ends(".zst")) return Compression::kZstd;
  return Compression::kNone;
}

class DirectoryArchive final : public ArchiveBase {
 public:
  DirectoryArchive(std::string dir, const ArchiveOptions& options)
      : ArchiveBase(dir, "directory", options), dir_(dir) {}

  ~DirectoryArchive() override { StopFeeder(); }
  // The data files read to their end, of all the directory's files but the
  // TOC (summed on the first call: a stat per file).
  ReadExtent Extent() const override {
    if (!extent_total_) {
      uint64_t total = 0;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir_, ec)) {
        if (e.path().filename() != "toc.dat" && e.is_regular_file(ec)) total += e.file_size(ec);
      }
      extent_total_ = total;
    }
    return {extent_done_.load(std::memory_order_relaxed), *extent_total_, false};
  }

  Status Open() {
    const std::string toc_path = dir_ + "/toc.dat";
    std::error_code ec;
    if (!fs::exists(toc_path, ec)) {
      return Unsupported(dir_ + ": a directory without toc.dat: not a pg_dump directory archive (or its TOC is lost)");
    }
    auto toc_file = OpenRandomAccessFile(toc_path);
    if (!toc_file.ok()) return toc_file.status();
    auto src = MakeFileRangeSource(**toc_file, 0, 64 << 10);
    auto toc = ReadArchiveToc(*src, toc_path,
                              Visitor(toc_path, [](const TocEntry& e) { return e.filename && !e.filename->empty(); }));
    if (!toc.ok()) return toc.status();
    if (src->RawOffset() != (*toc_file)->size()) {
      return Corrupt(toc_path + ": byte offset " + std::to_string(src->RawOffset()) + ": " +
                     std::to_string((*toc_file)->size() - src->RawOffset()) + " bytes after the end of the TOC");
    }
    if (toc->header.format == 1)
      return Corrupt(toc_path + ": byte offset 10: format code 1 (custom) in a directory archive");
    VOUCH_RETURN_IF_ERROR(Init(std::move(toc).value()));
    facts_.archive_bytes = (*toc_file)->size();

    // What the directory holds, and what the TOC names.
    std::set<std::string> present;
    for (const auto& de : fs::directory_iterator(dir_, ec)) present.insert(de.path().filename().string());
    if (ec) return IoError(dir_ + ": cannot list the directory: " + ec.message());
    std::set<std::string> named{"toc.dat"};
    named.insert(options_.foreign_files.begin(), options_.foreign_files.end());
    std::vector<std::string> problems;
    auto resolve = [&](const std::string& name, std::string* found) {
      std::vector<std::string> hits;
      for (const char* s : kSuffixes) {
        if (present.count(name + s)) hits.push_back(name + s);
      }
      for (const auto& h : hits) named.insert(h);
      if (hits.empty()) {
        problems.push_back("missing data file " + name + " (nor .gz, .lz4, .zst)");
        return false;
      }
      if (hits.size() > 1) {
        problems.push_back("both " + hits[0] + " and " + hits[1] + " exist");
        return false;
      }
      *found = hits[0];
      return true;
    };
    std::vector<std::pair<uint64_t, ChunkFeeder::Job>> jobs;
    for (size_t i = 0; i < data_entries_.size(); ++i) {
      const DataEntry& d = data_entries_[i];
      const KeptEntry& e = kept_[d.toc_index];
      std::string file;
      if (!resolve(*e.filename, &file)) continue;
      if (d.kind == DataKind::kLargeObjects) {
        VOUCH_RETURN_IF_ERROR(ResolveLargeObjects(file, resolve));
      }
      if (!d.selected) continue;
      uint64_t size = fs::file_size(dir_ + "/" + file, ec);
      if (d.kind == DataKind::kTable) tables_[static_cast<size_t>(d.table)].data_location = dir_ + "/" + file;
      jobs.emplace_back(size, [this, i, file](ChunkFeeder& f) { return ReadDataFile(f, data_entries_[i], file); });
    }
    for (const auto& p : present) {
      if (!named.count(p)) problems.push_back("file " + p + " is not named by the TOC");
    }
    if (!problems.empty()) {
      std::string msg = dir_ + ": ";
      for (size_t i = 0; i < problems.size() && i < 10; ++i) msg += (i ? "; " : "") + problems[i];
      if (problems.size() > 10) msg += "; and " + std::to_string(problems.size() - 10) + " more";
      return Corrupt(msg);
    }
    if (!blob_files_.empty() && ReadsEverything()) {
      uint64_t size = 0;
      for (const auto& lo : blob_files_) size += fs::file_size(dir_ + "/" + lo.second, ec);
      jobs.emplace_back(size, [this](ChunkFeeder& f) { return ReadLargeObjects(f); });
    }
    std::stable_sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<ChunkFeeder::Job> ordered;
    for (auto& j : jobs) ordered.push_back(std::move(j.second));
    StartFeeder(std::move(ordered), nullptr);
    return Status::Ok();
  }

 private:
  // The large objects a blobs TOC file names, each resolved to its file.
  template <typename Resolve>
  Status ResolveLargeObjects(const std::string& toc_name, Resolve& resolve) {
    const std::string path = dir_ + "/" + toc_name;
    auto src = OpenDecodedFile(path);
    if (!src.ok()) return src.status();
    auto lines = ReadBlobsToc(**src, path);
    if (!lines.ok()) return lines.status();
    for (const auto& line : *lines) {
      std::string file;
      if (resolve(line.file, &file)) blob_files_.emplace_back(line.oid, file);
    }
    return Status::Ok();
  }

  Status ReadDataFile(ChunkFeeder& f, const DataEntry& d, const std::string& name) {
    const std::string path = dir_ + "/" + name;
    auto file = OpenRandomAccessFile(path);
    if (!file.ok()) return file.status();
    CountDataFile((*file)->size());
    auto text = MakeDecoder(CompressionOfSuffix(name), MakeFileRangeSource(**file, 0), path);
    Status st = d.kind == DataKind::kTable ? f.FeedCopyText(tables_[static_cast<size_t>(d.table)], d.table, *text, path)
                                           : ReadToEnd(*text).status();
    extent_done_.fetch_add((*file)->size(), std::memory_order_relaxed);
    return st;
  }

  Status ReadLargeObjects(ChunkFeeder& f) {
    for (const auto& [oid, name] : blob_files_) {
      if (f.stopping()) return Status::Ok();
      const std::string path = dir_ + "/" + name;
      auto file = OpenRandomAccessFile(path);
      if (!file.ok()) return file.status();
      CountDataFile((*file)->size());
      auto data = MakeDecoder(CompressionOfSuffix(name), MakeFileRangeSource(**file, 0), path);
      VOUCH_RETURN_IF_ERROR(ReadLargeObject(std::stoull(oid), *data));
      extent_done_.fetch_add((*file)->size(), std::memory_order_relaxed);
    }
    return Status::Ok();
  }

  const std::string dir_;
  std::vector<std::pair<std::string, std::string>> blob_files_;  // (oid, file)
  std::atomic<uint64_t> extent_done_{0};                         // bytes of the data files read (feeder threads)
  mutable std::optional<uint64_t> extent_total_;
};

}  // namespace

Result<std::unique_ptr<ArchiveReader>> OpenDirectoryArchive(const std::string& path, const ArchiveOptions& options) {
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto a = std::make_unique<DirectoryArchive>(dir, options);
  VOUCH_RETURN_IF_ERROR(a->Open());
  return std::unique_ptr<ArchiveReader>(std::move(a));
}

}  // namespace vouch
