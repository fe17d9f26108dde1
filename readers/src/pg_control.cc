#include "vouch/readers/pg_control.h"

#include <string>

#include "native_load.h"
#include "vouch/hashing/crc32c.h"

namespace vouch {
namespace {

// offsetof(ControlFileData, ...) on a 64-bit build. Every known layout
// shares the fields up to data_checksum_version; 1800 puts one bool after it,
// which moves the 32-byte nonce by one and the CRC (4-byte aligned) by four.
constexpr size_t kSystemIdentifier = 0, kControlVersion = 8, kCatalogVersion = 12, kState = 16, kCheckPoint = 32,
                 kRedo = 40, kTimeline = 48, kBlcksz = 216, kRelsegSize = 220, kXlogBlcksz = 224, kXlogSegSize = 228,
                 kDataChecksumVersion = 252, kDefaultCharSignedness = 256, kStructSize = 296;

struct Layout {
  uint32_t version;
  size_t crc;
  bool char_signedness;
};
constexpr Layout kLayouts[] = {{1300, 288, false}, {1700, 288, false}, {1800, 292, true}};

}  // namespace

int MajorOfControlVersion(uint32_t pg_control_version) {
  switch (pg_control_version) {
    case 1700: return 17;
    case 1800: return 18;
    default: return 0;
  }
}

int MajorOfCatalogVersion(uint32_t catalog_version) {
  switch (catalog_version) {
    case 202007201: return 13;
    case 202107181: return 14;
    case 202209061: return 15;
    case 202307071: return 16;
    case 202406281: return 17;
    case 202506291: return 18;
    default: return 0;
  }
}

Result<ControlFile> ParseControlFile(std::string_view bytes) {
  if (bytes.size() < kStructSize) {
    return Truncated("pg_control is " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                     std::to_string(kStructSize) + "-byte structure");
  }
  ControlFile c;
  c.pg_control_version = LoadNative<uint32_t>(bytes.data(), kControlVersion);
  const Layout* layout = nullptr;
  for (const auto& l : kLayouts) {
    if (l.version == c.pg_control_version) layout = &l;
  }
  if (layout == nullptr) {
    return Unsupported(
        "pg_control version " + std::to_string(c.pg_control_version) + " is not one vouch knows (" +
        std::string(kKnownControlVersions) +
        (c.pg_control_version > kLayouts[std::size(kLayouts) - 1].version ? "; a newer PostgreSQL?)" : ")"));
  }
  c.system_identifier = LoadNative<uint64_t>(bytes.data(), kSystemIdentifier);
  c.catalog_version = LoadNative<uint32_t>(bytes.data(), kCatalogVersion);
  c.state = LoadNative<uint32_t>(bytes.data(), kState);
  c.checkpoint_lsn = LoadNative<uint64_t>(bytes.data(), kCheckPoint);
  c.redo_lsn = LoadNative<uint64_t>(bytes.data(), kRedo);
  c.timeline = LoadNative<uint32_t>(bytes.data(), kTimeline);
  c.blcksz = LoadNative<uint32_t>(bytes.data(), kBlcksz);
  c.relseg_size = LoadNative<uint32_t>(bytes.data(), kRelsegSize);
  c.xlog_blcksz = LoadNative<uint32_t>(bytes.data(), kXlogBlcksz);
  c.xlog_seg_size = LoadNative<uint32_t>(bytes.data(), kXlogSegSize);
  c.data_checksum_version = LoadNative<uint32_t>(bytes.data(), kDataChecksumVersion);
  if (layout->char_signedness) c.default_char_signedness = bytes[kDefaultCharSignedness] != 0;
  c.crc_offset = static_cast<uint32_t>(layout->crc);
  c.crc_stored = LoadNative<uint32_t>(bytes.data(), layout->crc);
  c.crc_computed = Crc32c(bytes.data(), layout->crc);
  return c;
}

}  // namespace vouch
