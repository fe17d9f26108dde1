#include "vouch/readers/pg_control.h"

#include <cstring>
#include <string>

#include "vouch/readers/crc32c.h"

namespace vouch {
namespace {

// offsetof(ControlFileData, ...) for PG_CONTROL_VERSION 1300 on a 64-bit build.
constexpr size_t kSystemIdentifier = 0, kControlVersion = 8, kCatalogVersion = 12, kState = 16, kCheckPoint = 32,
                 kRedo = 40, kTimeline = 48, kBlcksz = 216, kRelsegSize = 220, kXlogBlcksz = 224,
                 kXlogSegSize = 228, kDataChecksumVersion = 252, kCrc = 288, kStructSize = 296;
constexpr uint32_t kSupportedVersion = 1300;

template <typename T>
T At(std::string_view b, size_t offset) {
  T v;
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

}  // namespace

Result<ControlFile> ParseControlFile(std::string_view bytes) {
  if (bytes.size() < kStructSize) {
    return Truncated("pg_control is " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                     std::to_string(kStructSize) + "-byte structure");
  }
  ControlFile c;
  c.pg_control_version = At<uint32_t>(bytes, kControlVersion);
  if (c.pg_control_version != kSupportedVersion) {
    return Unsupported("pg_control version " + std::to_string(c.pg_control_version) +
                       " (vouch reads version 1300: PostgreSQL 13 to 16)");
  }
  c.system_identifier = At<uint64_t>(bytes, kSystemIdentifier);
  c.catalog_version = At<uint32_t>(bytes, kCatalogVersion);
  c.state = At<uint32_t>(bytes, kState);
  c.checkpoint_lsn = At<uint64_t>(bytes, kCheckPoint);
  c.redo_lsn = At<uint64_t>(bytes, kRedo);
  c.timeline = At<uint32_t>(bytes, kTimeline);
  c.blcksz = At<uint32_t>(bytes, kBlcksz);
  c.relseg_size = At<uint32_t>(bytes, kRelsegSize);
  c.xlog_blcksz = At<uint32_t>(bytes, kXlogBlcksz);
  c.xlog_seg_size = At<uint32_t>(bytes, kXlogSegSize);
  c.data_checksum_version = At<uint32_t>(bytes, kDataChecksumVersion);
  c.crc_stored = At<uint32_t>(bytes, kCrc);
  c.crc_computed = Crc32c(bytes.data(), kCrc);
  return c;
}

}  // namespace vouch
