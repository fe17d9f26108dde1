// global/pg_control of a data directory or base backup: ControlFileData
// (src/include/catalog/pg_control.h) in the server's native byte order
// (little-endian x86/ARM builds), followed by a CRC-32C over the bytes before
// the `crc` field. Offsets are those of the C struct on a 64-bit build. Three
// layouts are known (docs/formats.md):
//   1300  PostgreSQL 13 to 16
//   1700  PostgreSQL 17 (CheckPoint gains wal_level, in padding: same offsets)
//   1800  PostgreSQL 18 (default_char_signedness after data_checksum_version
//         moves the authentication nonce, and the CRC from 288 to 292)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "vouch/status.h"

namespace vouch {

struct ControlFile {
  uint64_t system_identifier = 0;
  uint32_t pg_control_version = 0;
  uint32_t catalog_version = 0;
  uint32_t state = 0;           // DBState: 0 starting up .. 6 in production
  uint64_t checkpoint_lsn = 0;  // checkPoint
  uint64_t redo_lsn = 0;        // checkPointCopy.redo
  uint32_t timeline = 0;        // checkPointCopy.ThisTimeLineID
  uint32_t blcksz = 0;
  uint32_t relseg_size = 0;
  uint32_t xlog_blcksz = 0;
  uint32_t xlog_seg_size = 0;
  uint32_t data_checksum_version = 0;           // 0 = data checksums off
  std::optional<bool> default_char_signedness;  // 1800 on: true = signed
  uint32_t crc_offset = 0;                      // where this layout keeps the CRC
  uint32_t crc_stored = 0;
  uint32_t crc_computed = 0;
  bool CrcOk() const { return crc_stored == crc_computed; }
};

// The pg_control versions ParseControlFile reads, and what they span.
inline constexpr std::string_view kKnownControlVersions = "1300, 1700 and 1800: PostgreSQL 13 to 18";

// The major version a pg_control version belongs to: 17 for 1700, 18 for
// 1800; 0 for 1300 (13 to 16 share it: the catalog version tells them apart).
int MajorOfControlVersion(uint32_t pg_control_version);

// The major version of a catalog version of a released PostgreSQL (13 to 18);
// 0 when it is not one of those.
int MajorOfCatalogVersion(uint32_t catalog_version);

// Parses the file's bytes (8192 on disk; at least the first 296 are read).
// Errors: kTruncated when shorter than the struct; kUnsupported for a
// pg_control_version this parser does not know (a newer PostgreSQL, or not a
// pg_control at all): its message says which version was found. A bad CRC is
// not an error: see CrcOk().
Result<ControlFile> ParseControlFile(std::string_view bytes);

}  // namespace vouch
