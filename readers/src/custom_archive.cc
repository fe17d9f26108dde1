// pg_dump custom format (-Fc): header and TOC, then data blocks (docs/formats.md
// "pg_dump custom format"; pg_backup_custom.c). A block is a type byte (1 table data, 3 large
// objects), the dump id, and chunks {Int len; len bytes} up to a zero length;
// a table's chunks form one compressed stream (zlib, lz4 frame, zstd frame)
// or raw COPY text. With data offsets set (a seekable output), every block is
// read in parallel from its offset and the blocks must tile the file from the
// end of the TOC to its last byte; without (written to a pipe), blocks are
// walked in file order.
#include <algorithm>
#include <mutex>

#include "archive_base.h"

namespace vouch {
namespace {

// Reads exactly n bytes; *eof is set (and OK returned) when the source ended
// before the first byte; ending after it is a truncation.
Status ReadExact(ByteSource& src, char* dst, size_t n, bool* eof, const std::string& where) {
  auto got = ReadUpTo(src, dst, n);
  if (!got.ok()) return got.status();
  *eof = *got == 0;
  if (*got != 0 && *got != n) {
    return Truncated(where + ": the file ends at byte offset " + std::to_string(src.RawOffset()) +
                     " inside a block header");
  }
  return Status::Ok();
}

// pg_dump's ReadInt (DecodeArchiveInt) from a stream whose offset is `at`
// (for messages: a caller that counts its offset need not ask the source).
Status ReadIntAt(ByteSource& src, uint64_t at, int int_size, int64_t* out, bool* eof, const std::string& where) {
  uint8_t b[9] = {};
  VOUCH_RETURN_IF_ERROR(ReadExact(src, reinterpret_cast<char*>(b), static_cast<size_t>(int_size) + 1, eof, where));
  if (*eof) return Status::Ok();
  if (!DecodeArchiveInt(b, int_size, out)) {
    return Corrupt(where + ": byte offset " + std::to_string(at) + ": invalid integer sign byte " +
                   std::to_string(b[0]));
  }
  return Status::Ok();
}

Status ReadInt(ByteSource& src, int int_size, int64_t* out, bool* eof, const std::string& where) {
  return ReadIntAt(src, src.RawOffset(), int_size, out, eof, where);
}

// The bytes of one stream of a data block: chunks {Int len; bytes} up to a
// zero length. Lengths are checked against the file size before anything is
// read, never used to size an allocation.
class ChunkedPayload final : public ByteSource {
 public:
  ChunkedPayload(ByteSource& src, int int_size, uint64_t file_size, std::string where)
      : src_(src), int_size_(int_size), file_size_(file_size), where_(std::move(where)), at_(src.RawOffset()) {}

  // Fills dst across as many chunks as fit (uncompressed archives write one
  // chunk per row: returning one chunk per call would make every row a call).
  Result<size_t> Read(char* dst, size_t n) override {
    size_t total = 0;
    const size_t head = static_cast<size_t>(int_size_) + 1;
    while (total < n && !done_) {
      std::string_view ahead = src_.Buffered();
      if (left_ == 0) {
        if (ahead.size() >= head) {  // the header in place, without a read
          VOUCH_RETURN_IF_ERROR(ChunkLength(reinterpret_cast<const uint8_t*>(ahead.data())));
          src_.Consume(head);
        } else {
          VOUCH_RETURN_IF_ERROR(NextChunk());
        }
        continue;
      }
      size_t want = static_cast<size_t>(std::min<uint64_t>(n - total, left_));
      if (!ahead.empty()) {
        const size_t k = std::min(want, ahead.size());
        std::memcpy(dst + total, ahead.data(), k);
        src_.Consume(k);
        total += k;
        left_ -= k;
        at_ += k;
        continue;
      }
      auto r = src_.Read(dst + total, want);
      if (!r.ok()) return r.status();
      if (*r == 0) {
        return Truncated(where_ + ": the file ends at byte offset " + std::to_string(at_) + " inside a data chunk");
      }
      total += *r;
      left_ -= *r;
      at_ += *r;
    }
    return total;
  }
  std::string Describe() const override { return where_; }
  uint64_t RawOffset() const override { return at_; }

 private:
  // Reads the next chunk's length; a zero length ends the stream. The
  // offset is counted here (at_), not asked of the source: this runs once
  // per row of an uncompressed archive.
  Status NextChunk() {
    uint8_t b[9] = {};
    bool eof = false;
    VOUCH_RETURN_IF_ERROR(ReadExact(src_, reinterpret_cast<char*>(b), static_cast<size_t>(int_size_) + 1, &eof, where_));
    if (eof) {
      return Truncated(where_ + ": the file ends at byte offset " + std::to_string(at_) +
                       " before the block's end-of-data marker (truncated)");
    }
    return ChunkLength(b);
  }
  // Takes the chunk header `b` (int_size_ + 1 bytes, at at_) as read.
  Status ChunkLength(const uint8_t* b) {
    const uint64_t at = at_;
    int64_t len = 0;
    if (!DecodeArchiveInt(b, int_size_, &len)) {
      return Corrupt(where_ + ": byte offset " + std::to_string(at) + ": invalid integer sign byte " +
                     std::to_string(b[0]));
    }
    at_ += static_cast<uint64_t>(int_size_) + 1;
    if (len < 0) return Corrupt(where_ + ": byte offset " + std::to_string(at) + ": negative chunk length");
    if (len == 0) {
      done_ = true;
      return Status::Ok();
    }
    uint64_t room = file_size_ - std::min(file_size_, at_);
    if (static_cast<uint64_t>(len) > room) {
      return Truncated(where_ + ": byte offset " + std::to_string(at) + ": a chunk of " + std::to_string(len) +
                       " bytes runs past the end of the file (" + std::to_string(file_size_) +
                       " bytes): truncated, or a damaged length");
    }
    left_ = static_cast<uint64_t>(len);
    return Status::Ok();
  }

  ByteSource& src_;
  const int int_size_;
  const uint64_t file_size_;
  const std::string where_;
  uint64_t at_;  // the source's offset (src_.RawOffset()), counted
  uint64_t left_ = 0;
  bool done_ = false;
};

class CustomArchive final : public ArchiveBase {
 public:
  CustomArchive(std::unique_ptr<RandomAccessFile> file, const ArchiveOptions& options)
      : ArchiveBase(file->name(), "custom", options), file_(std::move(file)) {}

  ~CustomArchive() override { StopFeeder(); }
  ReadExtent Extent() const override { return {file_->bytes_read(), file_->size(), false}; }

  std::string DataLocation(uint32_t table_index) const override {
    if (table_index >= table_entry_.size()) return {};
    const size_t i = table_entry_[table_index];
    return Where(data_entries_[i], block_at_[i]);
  }

  Status Open() {
    auto src = MakeFileRangeSource(*file_, 0, 64 << 10);
    auto toc = ReadArchiveToc(*src, location_, Visitor(location_, [](const TocEntry& e) { return e.offset_flag != 3; }));
    if (!toc.ok()) return toc.status();
    if (toc->header.format != 1) {
      return Corrupt(location_ + ": byte offset 10: format code " + std::to_string(toc->header.format) +
                     " in a file that starts like a custom archive");
    }
    toc_end_ = toc->size;
    compression_ = CompressionOfHeader(toc->header);
    int_size_ = toc->header.int_size;
    VOUCH_RETURN_IF_ERROR(Init(std::move(toc).value()));
    table_entry_.resize(tables_.size());
    block_at_.resize(data_entries_.size());
    for (size_t i = 0; i < data_entries_.size(); ++i) {
      const DataEntry& d = data_entries_[i];
      block_at_[i] = kept_[d.toc_index].offset;  // where the TOC says; a pipe's archive: where it is met
      if (d.kind == DataKind::kTable && d.selected) table_entry_[static_cast<size_t>(d.table)] = i;
    }
    facts_.archive_bytes = file_->size();
    const bool sequential = std::any_of(data_entries_.begin(), data_entries_.end(),
                                        [&](const DataEntry& d) { return kept_[d.toc_index].offset_flag == 1; });
    info_.properties["data_offsets"] = sequential ? "not set (written to a pipe)" : "set";
    if (sequential) {
      StartFeeder({[this](ChunkFeeder& f) { return WalkBlocks(f); }}, nullptr);
      return Status::Ok();
    }
    // Every block starts inside the data area; the largest are read first.
    std::vector<uint64_t> starts;
    for (const DataEntry& d : data_entries_) {
      const KeptEntry& e = kept_[d.toc_index];
      if (e.offset < toc_end_ || e.offset >= file_->size()) {
        return Corrupt(InToc(e) + ": its data offset " + std::to_string(e.offset) +
                       " lies outside the data area (byte offsets " + std::to_string(toc_end_) + " to " +
                       std::to_string(file_->size()) + ")");
      }
      starts.push_back(e.offset);
    }
    std::sort(starts.begin(), starts.end());
    std::vector<std::pair<uint64_t, size_t>> order;  // (estimated block size, data entry)
    for (size_t i = 0; i < data_entries_.size(); ++i) {
      const DataEntry& d = data_entries_[i];
      uint64_t off = kept_[d.toc_index].offset;
      if (!d.selected) continue;
      auto next = std::upper_bound(starts.begin(), starts.end(), off);
      order.emplace_back((next == starts.end() ? file_->size() : *next) - off, i);
    }
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<ChunkFeeder::Job> jobs;
    for (const auto& [size, i] : order) {
      jobs.push_back([this, i = i, size = size](ChunkFeeder& f) { return ReadBlockAt(f, i, size); });
    }
    StartFeeder(std::move(jobs), [this] { return CheckBlocksTileTheFile(); });
    return Status::Ok();
  }

 private:
  std::string Where(const DataEntry& d, uint64_t offset) const {
    return location_ + ": data block of " + EntryName(kept_[d.toc_index]) + " at byte offset " +
           std::to_string(offset);
  }

  // Reads a block header at the source's position. *eof: the file ended
  // cleanly before it.
  Status ReadBlockHeader(ByteSource& src, uint8_t* type, int64_t* id, bool* eof) {
    char t = 0;
    VOUCH_RETURN_IF_ERROR(ReadExact(src, &t, 1, eof, location_));
    if (*eof) return Status::Ok();
    *type = static_cast<uint8_t>(t);
    VOUCH_RETURN_IF_ERROR(ReadInt(src, int_size_, id, eof, location_));
    if (*eof) {
      return Truncated(location_ + ": the file ends at byte offset " + std::to_string(src.RawOffset()) +
                       " inside a block header");
    }
    return Status::Ok();
  }

  Status CheckBlockType(const DataEntry& d, uint8_t type, uint64_t offset) const {
    uint8_t want = d.kind == DataKind::kLargeObjects ? 3 : 1;
    if (type == want) return Status::Ok();
    return Corrupt(Where(d, offset) + ": block type " + std::to_string(type) + ", expected " + std::to_string(want) +
                   (want == 1 ? " (table data)" : " (large objects)"));
  }

  // Reads the rest of the block of `d` (its header was read at `offset`).
  Status ReadBlockBody(ChunkFeeder& f, ByteSource& src, const DataEntry& d, uint64_t offset) {
    const std::string where = Where(d, offset);
    if (d.kind == DataKind::kLargeObjects) return ReadLargeObjects(src, where);
    auto payload = std::make_unique<ChunkedPayload>(src, int_size_, file_->size(), where);
    if (!d.selected) return ReadToEnd(*payload).status();  // walked, not decompressed
    auto text = MakeDecoder(compression_, std::move(payload), where);
    if (d.kind == DataKind::kTable) return f.FeedCopyText(tables_[static_cast<size_t>(d.table)], d.table, *text, where);
    return ReadToEnd(*text).status();
  }

  // A large-object block: {Int oid; chunks...} repeated, ended by oid 0; each
  // object its own stream.
  Status ReadLargeObjects(ByteSource& src, const std::string& where) {
    while (true) {
      uint64_t at = src.RawOffset();
      int64_t oid = 0;
      bool eof = false;
      VOUCH_RETURN_IF_ERROR(ReadInt(src, int_size_, &oid, &eof, where));
      if (eof) return Truncated(where + ": the file ends at byte offset " + std::to_string(at) + " inside the block");
      if (oid == 0) return Status::Ok();
      if (oid < 0) return Corrupt(where + ": byte offset " + std::to_string(at) + ": negative large object oid");
      std::string what = where + ": large object " + std::to_string(oid);
      auto data =
          MakeDecoder(compression_, std::make_unique<ChunkedPayload>(src, int_size_, file_->size(), what), what);
      VOUCH_RETURN_IF_ERROR(ReadLargeObject(static_cast<uint64_t>(oid), *data));
    }
  }

  // Data offsets set: the block of data entry i, read from its offset; it
  // likely spans `size` bytes (to the next block), so a small block reads
  // ahead no more than it needs.
  Status ReadBlockAt(ChunkFeeder& f, size_t i, uint64_t size) {
    const DataEntry& d = data_entries_[i];
    const KeptEntry& e = kept_[d.toc_index];
    auto src = MakeFileRangeSource(*file_, e.offset, static_cast<size_t>(std::clamp<uint64_t>(size + 64, 4096, 1 << 20)));
    uint8_t type = 0;
    int64_t id = 0;
    bool eof = false;
    VOUCH_RETURN_IF_ERROR(ReadBlockHeader(*src, &type, &id, &eof));
    if (eof || id != e.dump_id) {
      return Corrupt(location_ + ": byte offset " + std::to_string(e.offset) + ": the TOC puts the data of " +
                     EntryName(e) + " here, but the block there belongs to dump id " + std::to_string(id) +
                     " (damaged offset, or blocks moved)");
    }
    VOUCH_RETURN_IF_ERROR(CheckBlockType(d, type, e.offset));
    VOUCH_RETURN_IF_ERROR(ReadBlockBody(f, *src, d, e.offset));
    std::lock_guard<std::mutex> lock(mu_);
    extents_.emplace_back(e.offset, src->RawOffset());
    return Status::Ok();
  }

  // Data offsets set: the blocks, read, must cover the file from the end of
  // the TOC to its last byte, without gaps, overlaps or trailing bytes.
  Status CheckBlocksTileTheFile() {
    if (!ReadsEverything()) return Status::Ok();
    std::sort(extents_.begin(), extents_.end());
    uint64_t expect = toc_end_;
    for (const auto& [begin, end] : extents_) {
      if (begin > expect) {
        return Corrupt(location_ + ": byte offsets " + std::to_string(expect) + " to " + std::to_string(begin) + ": " +
                       std::to_string(begin - expect) + " bytes that no data block of the TOC accounts for");
      }
      if (begin < expect) {
        return Corrupt(location_ + ": byte offset " + std::to_string(begin) + ": data blocks overlap");
      }
      expect = end;
    }
    if (expect != file_->size()) {
      return Corrupt(location_ + ": byte offset " + std::to_string(expect) + ": " +
                     std::to_string(file_->size() - expect) + " bytes after the last data block (trailing garbage)");
    }
    return Status::Ok();
  }

  // Data offsets not set: every block in file order, each data entry exactly
  // once, up to the clean end of the file.
  Status WalkBlocks(ChunkFeeder& f) {
    auto src = MakeFileRangeSource(*file_, toc_end_);
    std::vector<bool> seen(data_entries_.size());
    while (!f.stopping()) {
      uint64_t at = src->RawOffset();
      uint8_t type = 0;
      int64_t id = 0;
      bool eof = false;
      VOUCH_RETURN_IF_ERROR(ReadBlockHeader(*src, &type, &id, &eof));
      if (eof) break;
      auto it = by_dump_id_.find(id);
      if (it == by_dump_id_.end()) {
        return Corrupt(location_ + ": byte offset " + std::to_string(at) + ": a data block for dump id " +
                       std::to_string(id) + ", which the TOC does not list with data");
      }
      const DataEntry& d = data_entries_[it->second];
      if (seen[it->second]) {
        return Corrupt(location_ + ": byte offset " + std::to_string(at) + ": a second data block for " +
                       EntryName(kept_[d.toc_index]));
      }
      seen[it->second] = true;
      VOUCH_RETURN_IF_ERROR(CheckBlockType(d, type, at));
      block_at_[it->second] = at;
      VOUCH_RETURN_IF_ERROR(ReadBlockBody(f, *src, d, at));
    }
    for (size_t i = 0; i < data_entries_.size(); ++i) {
      if (!seen[i]) {
        return Truncated(location_ + ": " + EntryName(kept_[data_entries_[i].toc_index]) +
                         " has no data block: the blocks end at byte offset " + std::to_string(src->RawOffset()) +
                         " (truncated?)");
      }
    }
    return Status::Ok();
  }

  std::unique_ptr<RandomAccessFile> file_;
  uint64_t toc_end_ = 0;
  Compression compression_ = Compression::kNone;
  int int_size_ = 4;
  // Per table (its index): its data entry; per data entry: its block's
  // offset. DataLocation() words them on demand.
  std::vector<size_t> table_entry_;
  std::vector<uint64_t> block_at_;
  std::mutex mu_;
  std::vector<std::pair<uint64_t, uint64_t>> extents_;  // [begin, end) of each block read
};

}  // namespace

Result<std::unique_ptr<ArchiveReader>> OpenCustomArchive(std::unique_ptr<RandomAccessFile> file,
                                                         const ArchiveOptions& options) {
  auto a = std::make_unique<CustomArchive>(std::move(file), options);
  VOUCH_RETURN_IF_ERROR(a->Open());
  return std::unique_ptr<ArchiveReader>(std::move(a));
}

}  // namespace vouch
