#include "vouch/readers/pg_page.h"

#include <cstring>
#include <string>

#include "native_load.h"

namespace vouch {
namespace {

constexpr int kSums = 32;
constexpr int kRows = static_cast<int>(kPgBlockSize / (sizeof(uint32_t) * kSums));
constexpr uint32_t kFnvPrime = 16777619;
constexpr uint32_t kBaseOffsets[kSums] = {
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

constexpr size_t kChecksumOffset = 8;  // pd_checksum
constexpr size_t kFlagsOffset = 10, kLowerOffset = 12, kUpperOffset = 14, kSpecialOffset = 16;
constexpr uint16_t kValidFlagBits = 0x0007;  // PD_VALID_FLAG_BITS

}  // namespace

namespace detail {

// pg_checksum_block(), with pd_checksum read as zero. Built twice (AVX2 and
// baseline), picked at load time: the 32 independent lanes vectorize.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
uint32_t
PgChecksumBlock(const char* page) {
  uint32_t sums[kSums];
  std::memcpy(sums, kBaseOffsets, sizeof sums);
  uint32_t row[kSums];
  for (int i = 0; i < kRows; ++i) {
    std::memcpy(row, page + static_cast<size_t>(i) * sizeof row, sizeof row);
    if (i == 0) {
      char* bytes = reinterpret_cast<char*>(row);
      bytes[kChecksumOffset] = 0;
      bytes[kChecksumOffset + 1] = 0;
    }
    for (int j = 0; j < kSums; ++j) {
      uint32_t tmp = sums[j] ^ row[j];
      sums[j] = tmp * kFnvPrime ^ (tmp >> 17);
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (int j = 0; j < kSums; ++j) {
      uint32_t tmp = sums[j];
      sums[j] = tmp * kFnvPrime ^ (tmp >> 17);
    }
  }
  uint32_t result = 0;
  for (int j = 0; j < kSums; ++j) result ^= sums[j];
  return result;
}

}  // namespace detail

uint16_t PgPageChecksum(const char* page, uint32_t block_number) {
  uint32_t checksum = detail::PgChecksumBlock(page) ^ block_number;
  return static_cast<uint16_t>((checksum % 65535) + 1);
}

uint16_t PgPageStoredChecksum(const char* page) { return LoadNative<uint16_t>(page, kChecksumOffset); }

uint64_t PgPageLsn(const char* page) {
  // PageXLogRecPtr: {uint32 xlogid; uint32 xrecoff}
  return (static_cast<uint64_t>(LoadNative<uint32_t>(page, 0)) << 32) | LoadNative<uint32_t>(page, 4);
}

bool PgPageIsNew(const char* page) { return LoadNative<uint16_t>(page, kUpperOffset) == 0; }

bool PgPageIsAllZero(const char* page) {
  for (size_t i = 0; i < kPgBlockSize; i += 8) {
    if (LoadNative<uint64_t>(page, i) != 0) return false;
  }
  return true;
}

PgPageVerdict CheckPgPage(const char* page, uint32_t block_number, uint64_t skip_from_lsn) {
  PgPageVerdict v;
  if (PgPageIsNew(page)) {
    v.kind = PgPageIsAllZero(page) ? PgPageVerdict::kNew : PgPageVerdict::kNotZero;
    if (v.kind == PgPageVerdict::kNotZero && skip_from_lsn != 0 && PgPageLsn(page) >= skip_from_lsn) {
      v.kind = PgPageVerdict::kNewerThanStart;
    }
    return v;
  }
  if (skip_from_lsn != 0 && PgPageLsn(page) >= skip_from_lsn) {
    v.kind = PgPageVerdict::kNewerThanStart;
    return v;
  }
  v.expected = PgPageChecksum(page, block_number);
  v.found = PgPageStoredChecksum(page);
  if (v.expected != v.found) {
    v.kind = PgPageVerdict::kBadChecksum;
    return v;
  }
  const auto flags = LoadNative<uint16_t>(page, kFlagsOffset);
  const auto lower = LoadNative<uint16_t>(page, kLowerOffset);
  const auto upper = LoadNative<uint16_t>(page, kUpperOffset);
  const auto special = LoadNative<uint16_t>(page, kSpecialOffset);
  const bool sane = (flags & ~kValidFlagBits) == 0 && lower <= upper && upper <= special && special <= kPgBlockSize &&
                    special % 8 == 0;
  v.kind = sane ? PgPageVerdict::kOk : PgPageVerdict::kBadHeader;
  return v;
}

RelationFileKind ClassifyRelationFile(std::string_view relpath, uint32_t* segment_number) {
  // Split into directory components and the file name.
  size_t slash = relpath.rfind('/');
  if (slash == std::string_view::npos) return RelationFileKind::kNotChecksummed;
  std::string_view dir = relpath.substr(0, slash);
  std::string_view name = relpath.substr(slash + 1);
  auto starts = [](std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; };

  bool in_tablespace = false;
  if (dir == "global" || starts(dir, "global/") || starts(dir, "base/")) {
    in_tablespace = true;
  } else if (starts(dir, "pg_tblspc/")) {
    // pg_tblspc/OID/PG_15_.../...: only the version directory is scanned.
    std::string_view rest = dir.substr(10);
    size_t s1 = rest.find('/');
    if (s1 != std::string_view::npos && starts(rest.substr(s1 + 1), "PG_")) in_tablespace = true;
  }
  if (!in_tablespace) return RelationFileKind::kNotChecksummed;

  // pgsql_tmp files and directories anywhere below.
  for (size_t pos = 0; pos <= dir.size();) {
    size_t next = dir.find('/', pos);
    if (next == std::string_view::npos) next = dir.size();
    if (starts(dir.substr(pos, next - pos), "pgsql_tmp")) return RelationFileKind::kNotChecksummed;
    pos = next + 1;
  }
  if (starts(name, "pgsql_tmp") || name == ".DS_Store") return RelationFileKind::kNotChecksummed;
  if (name == "pg_control" || name == "pg_filenode.map" || name == "PG_VERSION" || starts(name, "pg_internal.init")) {
    return RelationFileKind::kNotChecksummed;
  }

  // An incremental backup's INCREMENTAL.<relation file> (17 and later): the
  // segment number is the relation file's.
  bool incremental = false;
  if (starts(name, "INCREMENTAL.")) {
    name.remove_prefix(12);
    incremental = true;
    if (name.empty()) return RelationFileKind::kBadSegmentNumber;
  }
  uint32_t segno = 0;
  size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    // atoi() semantics as in pg_checksums: leading digits; 0 is refused.
    std::string digits;
    for (size_t i = dot + 1; i < name.size() && name[i] >= '0' && name[i] <= '9' && digits.size() < 10; ++i) {
      digits += name[i];
    }
    uint64_t v = digits.empty() ? 0 : std::stoull(digits);
    if (v == 0 || v > 0xFFFFFFFFu / kPgRelSegSize) return RelationFileKind::kBadSegmentNumber;
    segno = static_cast<uint32_t>(v);
  }
  *segment_number = segno;
  return incremental ? RelationFileKind::kIncremental : RelationFileKind::kChecksummed;
}

}  // namespace vouch
