// The check of one stream of a backup file's bytes (internal to
// verify-backup): its manifest checksum (CRC-32C or an EVP hash) and, for a
// relation file, every data page's checksum and header, counted in a
// PageTally. Shared by the pg_basebackup verifier (verify_backup.cc) and the
// pgBackRest one (pgbackrest.cc).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vouch/hashing/crc32c.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/incremental_file.h"
#include "vouch/readers/pg_page.h"

namespace vouch::backup_internal {

constexpr int kPagesReportedPerFile = 5;

inline std::string Hex16(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04X", v);
  return buf;
}

inline std::optional<HashAlgorithm> EvpFor(ManifestChecksumType t) {
  switch (t) {
    case ManifestChecksumType::kSha224: return HashAlgorithm::kSha224;
    case ManifestChecksumType::kSha256: return HashAlgorithm::kSha256;
    case ManifestChecksumType::kSha384: return HashAlgorithm::kSha384;
    case ManifestChecksumType::kSha512: return HashAlgorithm::kSha512;
    default: return std::nullopt;
  }
}

struct PageSettings {
  bool enabled = false;
  uint32_t relseg_size = kPgRelSegSize;
  uint64_t skip_from_lsn = 0;  // the backup's start LSN
};

// Page results of one stream (a file, a part of one, a tar member).
struct PageTally {
  uint64_t checked = 0, fresh = 0, skipped = 0, bad = 0;
  std::vector<std::pair<uint32_t, std::string>> first_bad;  // (block, what), the first few

  void Merge(PageTally&& o) {
    checked += o.checked;
    fresh += o.fresh;
    skipped += o.skipped;
    bad += o.bad;
    for (auto& b : o.first_bad) first_bad.push_back(std::move(b));
  }
};

// An INCREMENTAL.* file's header, as StreamCheck found it.
struct IncrementalVerdict {
  std::string error;    // "" when valid
  uint64_t blocks = 0;  // blocks the file carries
};

// What one stream of bytes is checked for: the manifest checksum (CRC-32C or
// an EVP hash) and, for relation files, every page. Bytes come in order;
// `offset` is where in the file the first one is (a multiple of 8 KB).
class StreamCheck {
 public:
  StreamCheck(ManifestChecksumType type, bool pages, uint32_t segno, const PageSettings& ps, uint64_t offset)
      : type_(type), pages_(pages), segno_(segno), ps_(ps), offset_(offset) {
    if (auto a = EvpFor(type)) evp_ = std::make_unique<EvpHash>(*a);
  }

  // The stream is an INCREMENTAL.* file of `file_size` bytes, read whole
  // from its start: its header is parsed and checked, and the blocks that
  // follow it are the pages (numbered by the header's list).
  void Incremental(uint64_t file_size) {
    incremental_ = true;
    file_size_ = file_size;
  }

  void Update(const char* p, size_t n) {
    if (type_ == ManifestChecksumType::kCrc32c)
      crc_ = Crc32cExtend(crc_, p, n);
    else if (evp_)
      evp_->Update(p, n);
    if (incremental_ && !header_done_) {
      const size_t took = TakeHeader(p, n);
      p += took;
      n -= took;
      offset_ += took;
      bytes_ += took;
    }
    if (pages_ && n > 0 && (!incremental_ || header_ok_)) Pages(p, n);
    offset_ += n;
    bytes_ += n;
  }

  // Ends the stream: a partial block left over is reported, and an
  // incremental file's header that never completed.
  void Finish() {
    if (incremental_ && !header_done_) ParseHeader();
    if (pages_ && !carry_.empty()) {
      ++tally_.bad;
      tally_.first_bad.emplace_back(BlockAt(offset_ - carry_.size()),
                                    "a partial block of " + std::to_string(carry_.size()) +
                                        " bytes at the end (the size is not a multiple of 8192)");
      carry_.clear();
    }
  }

  uint32_t crc() const { return crc_; }
  uint64_t bytes() const { return bytes_; }
  PageTally& tally() { return tally_; }
  // An incremental file's header: what is wrong with it ("" when valid), and
  // how many blocks it carries.
  IncrementalVerdict incremental_verdict() const { return {incremental_error_, blocks_.size()}; }
  // The digest's bytes as a manifest writes them.
  std::string Digest() {
    if (type_ == ManifestChecksumType::kCrc32c) return CrcBytes(crc_);
    if (!evp_) return "";
    uint8_t out[64];
    size_t n = evp_->Finish(out);
    return std::string(reinterpret_cast<char*>(out), n);
  }
  static std::string CrcBytes(uint32_t crc) {
    std::string b(4, '\0');
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    return b;
  }

 private:
  uint32_t BlockAt(uint64_t offset) const {
    if (incremental_) {
      const uint64_t i = (offset - data_start_) / kPgBlockSize;
      const uint32_t rel = i < blocks_.size() ? blocks_[i] : static_cast<uint32_t>(i);
      return static_cast<uint32_t>(segno_ * ps_.relseg_size + rel);
    }
    return static_cast<uint32_t>(segno_ * ps_.relseg_size + offset / kPgBlockSize);
  }
  // Takes the header's bytes off the front of [p, p+n); parses it once whole.
  size_t TakeHeader(const char* p, size_t n) {
    size_t took = 0;
    while (!header_done_) {
      const uint64_t need = IncrementalHeaderBytesNeeded(header_, ps_.relseg_size, kPgBlockSize);
      if (need == 0) {
        ParseHeader();
        break;
      }
      if (took == n) break;
      const size_t t = static_cast<size_t>(std::min<uint64_t>(n - took, need - header_.size()));
      header_.append(p + took, t);
      took += t;
    }
    return took;
  }
  void ParseHeader() {
    header_done_ = true;
    auto h = ParseIncrementalHeader(header_, file_size_, ps_.relseg_size, kPgBlockSize);
    if (h.ok()) {
      header_ok_ = true;
      blocks_ = std::move(h->blocks);
      data_start_ = h->header_length;
    } else {
      incremental_error_ = h.status().message();
    }
    std::string().swap(header_);
  }
  void Page(const char* page, uint64_t offset) {
    const uint32_t blkno = BlockAt(offset);
    PgPageVerdict v = CheckPgPage(page, blkno, ps_.skip_from_lsn);
    switch (v.kind) {
      case PgPageVerdict::kOk: ++tally_.checked; break;
      case PgPageVerdict::kNew: ++tally_.fresh; break;
      case PgPageVerdict::kNewerThanStart: ++tally_.skipped; break;
      case PgPageVerdict::kBadChecksum:
        ++tally_.checked;
        ++tally_.bad;
        if (tally_.first_bad.size() < kPagesReportedPerFile) {
          tally_.first_bad.emplace_back(blkno,
                                        "checksum " + Hex16(v.found) + " in the page, expected " + Hex16(v.expected));
        }
        break;
      case PgPageVerdict::kBadHeader:
        ++tally_.checked;
        ++tally_.bad;
        if (tally_.first_bad.size() < kPagesReportedPerFile) {
          tally_.first_bad.emplace_back(blkno, "page header invalid (pd_flags, pd_lower, pd_upper or pd_special)");
        }
        break;
      case PgPageVerdict::kNotZero:
        ++tally_.bad;
        if (tally_.first_bad.size() < kPagesReportedPerFile) {
          tally_.first_bad.emplace_back(blkno, "marked new (pd_upper 0) but not all zeros");
        }
        break;
    }
  }
  void Pages(const char* p, size_t n) {
    uint64_t off = offset_;
    if (!carry_.empty()) {
      size_t take = std::min(n, kPgBlockSize - carry_.size());
      carry_.append(p, take);
      p += take;
      n -= take;
      off += take;
      if (carry_.size() < kPgBlockSize) return;
      Page(carry_.data(), off - kPgBlockSize);
      carry_.clear();
    }
    while (n >= kPgBlockSize) {
      Page(p, off);
      p += kPgBlockSize;
      n -= kPgBlockSize;
      off += kPgBlockSize;
    }
    if (n > 0) carry_.assign(p, n);
  }

  ManifestChecksumType type_;
  bool pages_;
  uint32_t segno_;
  PageSettings ps_;
  uint64_t offset_;
  uint64_t bytes_ = 0;
  uint32_t crc_ = 0;
  std::unique_ptr<EvpHash> evp_;
  std::string carry_;
  PageTally tally_;
  // Incremental files.
  bool incremental_ = false, header_done_ = false, header_ok_ = false;
  uint64_t file_size_ = 0, data_start_ = 0;
  std::string header_;  // its bytes until it is whole
  std::vector<uint32_t> blocks_;
  std::string incremental_error_;
};

}  // namespace vouch::backup_internal
