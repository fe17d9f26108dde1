// The WAL part of verify-backup (internal): an inventory of the WAL files
// found in the backup's pg_wal (directory or tar members) and in WAL
// archives, and the check of the segments a backup needs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vouch/backup/verify_backup.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/wal.h"

namespace vouch::backup_internal {

struct WalCandidate {
  std::string display;  // where it is, for messages: "pg_wal/0000...", "/archive/0000....gz", "pg_wal.tar:0000..."
  std::string path;     // a file to open; empty when `scan` holds a tar member read while streaming
  WalFileName name;
  std::optional<WalSegmentScan> scan;
  Status scan_error;  // a tar member that could not be read to its end
  // The SHA-1 (hex) of the plain segment, where the archive records one
  // (pgBackRest's SEGMENT-SHA1 names): checked while it is scanned.
  std::string sha1;
};

// Scans candidate `c` from `src` (its plain bytes) into c.scan, or its
// damage into c.scan_error (a SHA-1 that does not match too). Errors that
// are not damage are returned.
Status ScanCandidate(WalCandidate& c, ByteSource& src);

struct WalHistoryFile {
  std::string display;
  std::string text;
};

struct WalInventory {
  // By 24-digit base name; candidates in search order (the backup first).
  std::map<std::string, std::vector<WalCandidate>> segments;
  std::map<uint32_t, WalHistoryFile> histories;  // the first found per timeline
  std::vector<std::string> sources;
};

// Adds the WAL files of directory `dir` (not recursive) to `inv`, shown as
// display_prefix + name. A directory that does not exist is an error unless
// `missing_ok`; history files are read here.
Status AddWalDirectory(WalInventory& inv, const std::string& dir, const std::string& display_prefix, bool missing_ok);

struct WalCheckInput {
  std::vector<ManifestWalRange> ranges;
  std::optional<uint64_t> until_lsn;
  uint32_t segment_size = 16u << 20;
  uint16_t magic = 0xD110;
  uint64_t system_identifier = 0;  // 0: take the first segment's
  int jobs = 1;
};

// Checks every segment the ranges (and until_lsn) need; fills `summary`,
// appends findings, adds the bytes read. Errors: a WAL file that exists but
// cannot be read.
Status CheckWal(WalInventory& inv, const WalCheckInput& in, BackupWalSummary* summary, std::vector<Finding>* findings,
                uint64_t* bytes);

}  // namespace vouch::backup_internal
