#include "vouch/readers/archive_toc.h"

#include <algorithm>
#include <memory>

#include "vouch/hashing/hex.h"
#include "vouch/hashing/sha256.h"

namespace vouch {
namespace {

constexpr uint32_t kMinVersion = (1u << 16) | (12 << 8);  // 1.12 (PostgreSQL 9.6..11)
constexpr uint32_t kMaxVersion = (1u << 16) | (16 << 8);  // 1.16 (PostgreSQL 17, 18)
constexpr uint32_t kV1_14 = (1u << 16) | (14 << 8), kV1_15 = (1u << 16) | (15 << 8), kV1_16 = kMaxVersion;
constexpr int64_t kMaxString = int64_t{1} << 30;
constexpr int kMaxPlausibleMinor = 20;

class TocParser {
 public:
  TocParser(ByteSource& src, const std::string& name, const TocVisitor& visit)
      : src_(src), name_(name), visit_(visit) {}

  Result<ArchiveToc> Parse() {
    ArchiveToc toc;
    ArchiveHeader& h = toc.header;
    std::string magic;
    VOUCH_RETURN_IF_ERROR(Bytes(5, &magic));
    if (magic != "PGDMP") return Unsupported(name_ + ": not a pg_dump archive (no PGDMP magic)");
    uint8_t b[6] = {};
    for (uint8_t& x : b) VOUCH_RETURN_IF_ERROR(Byte(&x));
    h.version_major = b[0];
    h.version_minor = b[1];
    h.version_rev = b[2];
    h.int_size = b[3];
    h.off_size = b[4];
    h.format = b[5];
    const std::string version = std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]);
    // No pg_dump ever wrote a major version other than 1, and minor versions
    // grow by one per PostgreSQL release or two: far beyond 1.16 is damage,
    // not a newer pg_dump.
    if (h.version_major != 1 || h.version_minor > kMaxPlausibleMinor) {
      return Corrupt(name_ + ": byte offset 5: archive version " + version +
                     " is not one pg_dump has written (damaged header)");
    }
    if (h.Version() < kMinVersion || h.Version() > ((kMaxVersion) | 0xff)) {
      return Unsupported(name_ + ": archive version " + version + " (vouch reads 1.12 to 1.16)");
    }
    if (h.int_size < 1 || h.int_size > 8 || h.off_size < 1 || h.off_size > 8) {
      return Corrupt(Where() + ": implausible integer size " + std::to_string(h.int_size) + " / offset size " +
                     std::to_string(h.off_size));
    }
    int_size_ = h.int_size;
    off_size_ = h.off_size;
    if (h.format != 1 && h.format != 3 && h.format != 5) {
      return Corrupt(Where() + ": unknown archive format code " + std::to_string(h.format));
    }
    if (h.Version() < kV1_15) {
      int64_t level;
      VOUCH_RETURN_IF_ERROR(Int(&level));
      if (level < -1 || level > 9) return Corrupt(Where() + ": invalid compression level " + std::to_string(level));
      h.compression_level = static_cast<int>(level);
      h.compression = level == 0 ? "none" : "gzip";
    } else {
      uint8_t algo = 0;
      VOUCH_RETURN_IF_ERROR(Byte(&algo));
      static const char* const kAlgos[] = {"none", "gzip", "lz4", "zstd"};
      if (algo > 3) return Corrupt(Where() + ": unknown compression algorithm " + std::to_string(algo));
      h.compression = kAlgos[algo];
    }
    for (int& t : h.created) {
      int64_t v;
      VOUCH_RETURN_IF_ERROR(Int(&v));
      t = static_cast<int>(v);
    }
    std::optional<std::string> s;
    VOUCH_RETURN_IF_ERROR(Str(&s));
    h.dbname = s.value_or("");
    VOUCH_RETURN_IF_ERROR(Str(&s));
    h.server_version = s.value_or("");
    VOUCH_RETURN_IF_ERROR(Str(&s));
    h.pg_dump_version = s.value_or("");

    int64_t count;
    VOUCH_RETURN_IF_ERROR(Int(&count));
    if (count < 0) return Corrupt(Where() + ": negative TOC entry count");
    for (int64_t i = 0; i < count; ++i) {  // no reserve(count): the count is untrusted
      TocEntry e;
      e.toc_offset = pos_;
      auto st = Entry(h, &e);
      if (!st.ok()) {
        return Status(st.code(),
                      st.message() + " (TOC entry " + std::to_string(i + 1) + " of " + std::to_string(count) + ")");
      }
      bool keep = true;
      if (visit_) {
        auto kept = visit_(e);
        if (!kept.ok()) return kept.status();
        keep = *kept;
      }
      if (keep) toc.entries.push_back(std::move(e));
    }
    FlushHash();
    auto digest = sha_.Finish();
    toc.sha256 = HexEncode(digest.data(), digest.size());
    toc.size = pos_;
    return toc;
  }

 private:
  std::string Where() const { return name_ + ": byte offset " + std::to_string(pos_); }

  // The parser reads ahead into buf_ (a TOC is read one small field at a
  // time: 100,000 tables make millions of them) and hashes what it consumed
  // in runs, not byte by byte. It may read past the TOC: ArchiveToc::size
  // says where the TOC ends.
  Status Fill() {
    FlushHash();
    auto r = src_.Read(buf_, kBuffer);
    if (!r.ok()) return r.status();
    if (*r == 0) return Truncated(Where() + ": archive ends inside its header or TOC");
    bpos_ = hash_from_ = 0;
    bend_ = *r;
    return Status::Ok();
  }

  void FlushHash() {
    if (hashing_ && bpos_ > hash_from_) sha_.Update(buf_ + hash_from_, bpos_ - hash_from_);
    hash_from_ = bpos_;
  }

  void SetHashing(bool on) {
    FlushHash();
    hashing_ = on;
  }

  Status Byte(uint8_t* out) {
    if (bpos_ == bend_) VOUCH_RETURN_IF_ERROR(Fill());
    *out = static_cast<uint8_t>(buf_[bpos_++]);
    ++pos_;
    return Status::Ok();
  }

  Status Bytes(int64_t n, std::string* out) {
    out->clear();
    while (n > 0) {  // grows only as bytes actually arrive
      if (bpos_ == bend_) VOUCH_RETURN_IF_ERROR(Fill());
      const size_t k = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(bend_ - bpos_)));
      out->append(buf_ + bpos_, k);
      bpos_ += k;
      pos_ += k;
      n -= static_cast<int64_t>(k);
    }
    return Status::Ok();
  }

  Status Int(int64_t* out) {
    uint8_t b[9] = {};
    for (int i = 0; i <= int_size_; ++i) VOUCH_RETURN_IF_ERROR(Byte(&b[i]));
    if (!DecodeArchiveInt(b, int_size_, out)) {
      return Corrupt(Where() + ": invalid integer sign byte " + std::to_string(b[0]));
    }
    return Status::Ok();
  }

  // ReadStr: Int length (-1 = NULL), then the bytes.
  Status Str(std::optional<std::string>* out) {
    int64_t len;
    uint64_t at = pos_;
    VOUCH_RETURN_IF_ERROR(Int(&len));
    if (len == -1) {
      out->reset();
      return Status::Ok();
    }
    if (len < 0 || len > kMaxString) {
      return Corrupt(name_ + ": byte offset " + std::to_string(at) + ": invalid string length " + std::to_string(len));
    }
    std::string s;
    VOUCH_RETURN_IF_ERROR(Bytes(len, &s));
    *out = std::move(s);
    return Status::Ok();
  }

  Status Entry(const ArchiveHeader& h, TocEntry* e) {
    int64_t had;
    std::optional<std::string> s;
    VOUCH_RETURN_IF_ERROR(Int(&e->dump_id));
    if (e->dump_id <= 0) return Corrupt(Where() + ": invalid dump id " + std::to_string(e->dump_id));
    VOUCH_RETURN_IF_ERROR(Int(&had));
    e->had_dumper = had != 0;
    VOUCH_RETURN_IF_ERROR(Str(&s));
    e->tableoid = s.value_or("");
    VOUCH_RETURN_IF_ERROR(Str(&s));
    e->oid = s.value_or("");
    VOUCH_RETURN_IF_ERROR(Str(&s));
    e->tag = s.value_or("");
    VOUCH_RETURN_IF_ERROR(Str(&s));
    e->desc = s.value_or("");
    VOUCH_RETURN_IF_ERROR(Int(&e->section));
    if (e->section < 1 || e->section > 4) return Corrupt(Where() + ": invalid section " + std::to_string(e->section));
    VOUCH_RETURN_IF_ERROR(Str(&e->defn));
    VOUCH_RETURN_IF_ERROR(Str(&e->drop_stmt));
    VOUCH_RETURN_IF_ERROR(Str(&e->copy_stmt));
    VOUCH_RETURN_IF_ERROR(Str(&e->namespace_));
    VOUCH_RETURN_IF_ERROR(Str(&e->tablespace));
    if (h.Version() >= kV1_14) VOUCH_RETURN_IF_ERROR(Str(&e->tableam));
    if (h.Version() >= kV1_16) VOUCH_RETURN_IF_ERROR(Int(&e->relkind));
    VOUCH_RETURN_IF_ERROR(Str(&e->owner));
    VOUCH_RETURN_IF_ERROR(Str(&s));  // withOids, always "false"
    while (true) {
      VOUCH_RETURN_IF_ERROR(Str(&s));
      if (!s) break;
      e->dependencies.push_back(*s);
    }
    if (h.format == 1) {  // custom: the data block's offset, left out of the TOC hash
      SetHashing(false);
      uint8_t flag = 0, x = 0;
      VOUCH_RETURN_IF_ERROR(Byte(&flag));
      if (flag < 1 || flag > 3) return Corrupt(Where() + ": invalid data offset flag " + std::to_string(flag));
      e->offset_flag = flag;
      for (int i = 0; i < off_size_; ++i) {
        VOUCH_RETURN_IF_ERROR(Byte(&x));
        e->offset |= static_cast<uint64_t>(x) << (8 * i);
      }
      SetHashing(true);
    } else {  // directory and tar: the data file name
      VOUCH_RETURN_IF_ERROR(Str(&e->filename));
    }
    return Status::Ok();
  }

  ByteSource& src_;
  std::string name_;
  const TocVisitor& visit_;
  int int_size_ = 4, off_size_ = 8;
  uint64_t pos_ = 0;
  Sha256 sha_;
  bool hashing_ = true;
  static constexpr size_t kBuffer = 64 << 10;
  std::unique_ptr<char[]> buf_holder_ = std::make_unique<char[]>(kBuffer);
  char* const buf_ = buf_holder_.get();
  size_t bpos_ = 0, bend_ = 0, hash_from_ = 0;  // buf_[hash_from_, bpos_) is consumed, not yet hashed
};

}  // namespace

bool DecodeArchiveInt(const uint8_t* bytes, int int_size, int64_t* out) {
  if (bytes[0] > 1) return false;
  uint64_t v = 0;
  for (int i = 0; i < int_size; ++i) v |= static_cast<uint64_t>(bytes[1 + i]) << (8 * i);
  *out = static_cast<int64_t>(bytes[0] ? 0 - v : v);
  return true;
}

Result<ArchiveToc> ReadArchiveToc(ByteSource& src, const std::string& name, const TocVisitor& visit) {
  return TocParser(src, name, visit).Parse();
}

}  // namespace vouch
