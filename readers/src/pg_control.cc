#include "vouch/readers/pg_control.h"

#include <string>

#include "native_load.h"
#include "vouch/hashing/crc32c.h"

namespace vouch {
namespace {

// offsetof(ControlFileData, ...) for PG_CONTROL_VERSION 1300 on a 64-bit build.
constexpr size_t kSystemIdentifier = 0, kControlVersion = 8, kCatalogVersion = 12, kState = 16, kCheckPoint = 32,
                 kRedo = 40, kTimeline = 48, kBlcksz = 216, kRelsegSize = 220, kXlogBlcksz = 224,
                 kXlogSegSize = 228, kDataChecksumVersion = 252, kCrc = 288, kStructSize = 296;
constexpr uint32_t kSupportedVersion = 1300;

}  // namespace

Result<ControlFile> ParseControlFile(std::string_view bytes) {
  if (bytes.size() < kStructSize) {
    return Truncated("pg_control is " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                     std::to_string(kStructSize) + "-byte structure");
  }
  ControlFile c;
  c.pg_control_version = LoadNative<uint32_t>(bytes.data(), kControlVersion);
  if (c.pg_control_version != kSupportedVersion) {
    return Unsupported("pg_control version " + std::to_string(c.pg_control_version) +
                       " (vouch reads version 1300: PostgreSQL 13 to 16)");
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
  c.crc_stored = LoadNative<uint32_t>(bytes.data(), kCrc);
  c.crc_computed = Crc32c(bytes.data(), kCrc);
  return c;
}

}  // namespace vouch
