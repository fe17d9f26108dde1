// global/pg_control of a data directory or base backup: ControlFileData
// (src/include/catalog/pg_control.h) of PG_CONTROL_VERSION 1300, the layout
// of PostgreSQL 13 to 16, in the server's native byte order (little-endian
// x86/ARM builds), followed by a CRC-32C over the bytes before the `crc`
// field. Offsets are those of the C struct on a 64-bit build.
#pragma once

#include <cstdint>
#include <string_view>

#include "vouch/status.h"

namespace vouch {

struct ControlFile {
  uint64_t system_identifier = 0;
  uint32_t pg_control_version = 0;
  uint32_t catalog_version = 0;
  uint32_t state = 0;            // DBState: 0 starting up .. 6 in production
  uint64_t checkpoint_lsn = 0;   // checkPoint
  uint64_t redo_lsn = 0;         // checkPointCopy.redo
  uint32_t timeline = 0;         // checkPointCopy.ThisTimeLineID
  uint32_t blcksz = 0;
  uint32_t relseg_size = 0;
  uint32_t xlog_blcksz = 0;
  uint32_t xlog_seg_size = 0;
  uint32_t data_checksum_version = 0;  // 0 = data checksums off
  uint32_t crc_stored = 0;
  uint32_t crc_computed = 0;
  bool CrcOk() const { return crc_stored == crc_computed; }
};

// Parses the file's bytes (8192 on disk; at least the first 296 are read).
// Errors: kTruncated when shorter than the struct, kUnsupported for another
// pg_control_version (the fields are not where this layout says). A bad CRC
// is not an error: see CrcOk().
Result<ControlFile> ParseControlFile(std::string_view bytes);

}  // namespace vouch
