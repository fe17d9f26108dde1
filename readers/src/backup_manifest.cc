#include "vouch/readers/backup_manifest.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "json_reader.h"
#include "vouch/hashing/evp_hash.h"
#include "vouch/hashing/hex.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// A scalar as PostgreSQL's JSON lexer hands it to the manifest parser: the
// token's text (strings unquoted), or nothing for null.
struct Token {
  bool present = false;
  bool is_string = false;
  std::string text;
};

// The state machine of parse_manifest.c (JM_EXPECT_*), driven by
// json::ReadJson's events. The first failure is kept; parsing stops there.
class ManifestSax {
 public:
  enum State {
    kTopStart,
    kTopField,
    kVersionValue,
    kSystemIdValue,
    kFilesStart,
    kFilesNext,
    kFileField,
    kFileValue,
    kWalStart,
    kWalNext,
    kWalField,
    kWalValue,
    kChecksumValue,
    kTopEnd,
    kEof
  };

  BackupManifest manifest;
  Status error;
  State state = kTopStart;

  bool null() { return Scalar(Token{}); }
  bool boolean(bool v) { return Scalar(Token{true, false, v ? "true" : "false"}); }
  // The token's text; "-0" is 0, as strtoul reads it.
  bool number(std::string_view text, bool integer) {
    return Scalar(Token{true, false, integer && text == "-0" ? std::string("0") : std::string(text)});
  }
  bool string(std::string& s) { return Scalar(Token{true, true, std::move(s)}); }

  bool start_object() {
    switch (state) {
      case kTopStart: state = kTopField; return true;
      case kFilesNext:
        state = kFileField;
        file_ = {};
        return true;
      case kWalNext:
        state = kWalField;
        wal_ = {};
        return true;
      default: return Fail("unexpected object start");
    }
  }
  bool end_object() {
    switch (state) {
      case kTopEnd: state = kEof; return true;
      case kFileField: state = kFilesNext; return FinishFile();
      case kWalField: state = kWalNext; return FinishWalRange();
      default: return Fail("unexpected object end");
    }
  }
  bool start_array() {
    switch (state) {
      case kFilesStart: state = kFilesNext; return true;
      case kWalStart: state = kWalNext; return true;
      default: return Fail("unexpected array start");
    }
  }
  bool end_array() {
    switch (state) {
      case kFilesNext:
      case kWalNext: state = kTopField; return true;
      default: return Fail("unexpected array end");
    }
  }
  bool key(const std::string& k) {
    switch (state) {
      case kTopField:
        if (manifest.version == 0) {
          if (k != "PostgreSQL-Backup-Manifest-Version") return Fail("expected version indicator");
          state = kVersionValue;
        } else if (k == "System-Identifier") {
          if (manifest.version < 2) return Fail("system identifier in a version 1 manifest");
          state = kSystemIdValue;
        } else if (k == "Files") {
          state = kFilesStart;
        } else if (k == "WAL-Ranges") {
          state = kWalStart;
        } else if (k == "Manifest-Checksum") {
          state = kChecksumValue;
        } else {
          return Fail("unrecognized top-level field");
        }
        return true;
      case kFileField:
        if (k == "Path")
          field_ = &file_.path;
        else if (k == "Encoded-Path")
          field_ = &file_.encoded_path;
        else if (k == "Size")
          field_ = &file_.size;
        else if (k == "Last-Modified")
          field_ = &file_.last_modified;
        else if (k == "Checksum-Algorithm")
          field_ = &file_.algorithm;
        else if (k == "Checksum")
          field_ = &file_.checksum;
        else
          return Fail("unexpected file field");
        state = kFileValue;
        return true;
      case kWalField:
        if (k == "Timeline")
          field_ = &wal_.timeline;
        else if (k == "Start-LSN")
          field_ = &wal_.start;
        else if (k == "End-LSN")
          field_ = &wal_.end;
        else
          return Fail("unexpected WAL range field");
        state = kWalValue;
        return true;
      default: return Fail("unexpected object field");
    }
  }
  void parse_error(size_t offset, std::string_view what) {
    if (error.ok()) {
      // PostgreSQL says only "parsing failed"; the byte offset helps more.
      error = Corrupt("could not parse backup manifest: parsing failed (byte offset " + std::to_string(offset) + ": " +
                      std::string(what) + ")");
    }
  }

 private:
  struct PendingFile {
    Token path, encoded_path, size, last_modified, algorithm, checksum;
  };
  struct PendingWal {
    Token timeline, start, end;
  };

  bool Fail(const std::string& what) { return FailRaw("could not parse backup manifest: " + what); }
  bool FailRaw(const std::string& message) {
    if (error.ok()) error = Corrupt(message);
    return false;
  }

  bool Scalar(Token t) {
    switch (state) {
      case kVersionValue:
        if (t.text == "1")
          manifest.version = 1;
        else if (t.text == "2")
          manifest.version = 2;
        else
          return Fail("unexpected manifest version");
        state = kTopField;
        return true;
      case kSystemIdValue: {
        auto v = ParseUnsigned(t);
        if (!v) return Fail("system identifier in manifest not an integer");
        manifest.system_identifier = *v;
        state = kTopField;
        return true;
      }
      case kFileValue:
        *field_ = std::move(t);
        state = kFileField;
        return true;
      case kWalValue:
        *field_ = std::move(t);
        state = kWalField;
        return true;
      case kChecksumValue:
        checksum_ = std::move(t);
        state = kTopEnd;
        return true;
      default: return Fail("unexpected scalar");
    }
  }

  // strtoul(..., 10) with nothing left over, as parse_manifest.c does.
  static std::optional<uint64_t> ParseUnsigned(const Token& t) {
    if (!t.present) return std::nullopt;
    uint64_t v = 0;
    const char* end = t.text.data() + t.text.size();
    auto [ptr, ec] = std::from_chars(t.text.data(), end, v);  // digits only: no sign, no space
    if (ec != std::errc() || ptr != end || t.text.empty()) return std::nullopt;
    return v;
  }

  bool FinishFile() {
    if (!file_.path.present && !file_.encoded_path.present) return Fail("missing path name");
    if (file_.path.present && file_.encoded_path.present) return Fail("both path name and encoded path name");
    if (!file_.size.present) return Fail("missing size");
    if (!file_.algorithm.present && file_.checksum.present) return Fail("checksum without algorithm");
    ManifestFile f;
    if (file_.encoded_path.present) {
      auto decoded = HexDecode(file_.encoded_path.text);
      if (!decoded) return Fail("could not decode file name");
      f.path = std::move(*decoded);
      f.encoded = true;
    } else {
      f.path = std::move(file_.path.text);
    }
    auto size = ParseUnsigned(file_.size);
    if (!size) return Fail("file size is not an integer");
    f.size = *size;
    if (file_.algorithm.present) {
      auto type = ManifestChecksumTypeFromName(file_.algorithm.text);
      if (!type) return FailRaw("unrecognized checksum algorithm: " + Quoted(file_.algorithm.text));
      f.checksum_type = *type;
    }
    if (file_.checksum.present && !file_.checksum.text.empty()) {
      auto bytes = HexDecode(file_.checksum.text);
      if (!bytes) return FailRaw("invalid checksum for file " + Quoted(f.path) + ": " + Quoted(file_.checksum.text));
      f.checksum = std::move(*bytes);
    }
    manifest.files.push_back(std::move(f));
    if (!paths_.insert(manifest.files.size() - 1).second) {
      return FailRaw("duplicate path name in backup manifest: " + Quoted(manifest.files.back().path));
    }
    return true;
  }

  bool FinishWalRange() {
    if (!wal_.timeline.present) return Fail("missing timeline");
    if (!wal_.start.present) return Fail("missing start LSN");
    if (!wal_.end.present) return Fail("missing end LSN");
    auto tli = ParseUnsigned(wal_.timeline);
    if (!tli || *tli > UINT32_MAX) return Fail("timeline is not an integer");
    auto start = ParseLsn(wal_.start.text);
    if (!start) return Fail("could not parse start LSN");
    auto end = ParseLsn(wal_.end.text);
    if (!end) return Fail("could not parse end LSN");
    manifest.wal_ranges.push_back({static_cast<uint32_t>(*tli), *start, *end});
    return true;
  }

  // Indexes into manifest.files, hashed and compared by path.
  struct PathHash {
    const std::vector<ManifestFile>* files;
    size_t operator()(size_t i) const { return std::hash<std::string>()((*files)[i].path); }
  };
  struct PathEq {
    const std::vector<ManifestFile>* files;
    bool operator()(size_t a, size_t b) const { return (*files)[a].path == (*files)[b].path; }
  };

  PendingFile file_;
  PendingWal wal_;
  Token* field_ = nullptr;
  std::unordered_set<size_t, PathHash, PathEq> paths_{64, PathHash{&manifest.files}, PathEq{&manifest.files}};

 public:
  Token checksum_;
};

}  // namespace

const char* ManifestChecksumTypeName(ManifestChecksumType t) {
  switch (t) {
    case ManifestChecksumType::kNone: return "NONE";
    case ManifestChecksumType::kCrc32c: return "CRC32C";
    case ManifestChecksumType::kSha224: return "SHA224";
    case ManifestChecksumType::kSha256: return "SHA256";
    case ManifestChecksumType::kSha384: return "SHA384";
    case ManifestChecksumType::kSha512: return "SHA512";
  }
  return "?";
}

std::optional<ManifestChecksumType> ManifestChecksumTypeFromName(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  for (auto t : {ManifestChecksumType::kNone, ManifestChecksumType::kCrc32c, ManifestChecksumType::kSha224,
                 ManifestChecksumType::kSha256, ManifestChecksumType::kSha384, ManifestChecksumType::kSha512}) {
    if (upper == ManifestChecksumTypeName(t)) return t;
  }
  return std::nullopt;
}

size_t ManifestChecksumLength(ManifestChecksumType t) {
  switch (t) {
    case ManifestChecksumType::kNone: return 0;
    case ManifestChecksumType::kCrc32c: return 4;
    case ManifestChecksumType::kSha224: return 28;
    case ManifestChecksumType::kSha256: return 32;
    case ManifestChecksumType::kSha384: return 48;
    case ManifestChecksumType::kSha512: return 64;
  }
  return 0;
}

Result<BackupManifest> ParseBackupManifest(std::string_view text) {
  ManifestSax sax;
  const bool ok = json::ReadJson(text, sax);
  if (!sax.error.ok()) return sax.error;
  if (!ok) return Corrupt("could not parse backup manifest: parsing failed");
  if (sax.state != ManifestSax::kEof) return Corrupt("could not parse backup manifest: manifest ended unexpectedly");

  BackupManifest m = std::move(sax.manifest);
  if (m.version == 2 && !m.system_identifier) {
    return Corrupt("could not parse backup manifest: manifest version 2 without System-Identifier");
  }

  // The checksum covers everything up to and including the newline that
  // ends the line before "Manifest-Checksum".
  const char* last = static_cast<const char*>(memrchr(text.data(), '\n', text.size()));
  const char* penultimate =
      last == nullptr ? nullptr : static_cast<const char*>(memrchr(text.data(), '\n', last - text.data()));
  if (penultimate == nullptr) return Corrupt("could not parse backup manifest: expected at least 2 lines");
  if (last != text.data() + text.size() - 1) {
    return Corrupt("could not parse backup manifest: last line not newline-terminated");
  }
  if (!sax.checksum_.present) return Corrupt("manifest has no checksum");
  const std::string& stated = sax.checksum_.text;
  auto stated_bytes = HexDecode(stated);
  if (stated.size() != 64 || !stated_bytes) return Corrupt("invalid manifest checksum: " + Quoted(stated));
  m.manifest_checksum = HexEncode(*stated_bytes);
  EvpHash sha(HashAlgorithm::kSha256);
  sha.Update(text.data(), static_cast<size_t>(penultimate - text.data()) + 1);
  m.computed_checksum = sha.FinishHex();
  return m;
}

}  // namespace vouch
