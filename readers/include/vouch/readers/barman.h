// Barman's records of a server's backups (docs/formats.md "Barman backup
// directories"): each backup's backup.info, and the WAL archive's xlog.db.
// backup.info is "key=value" lines, one per field, sorted by key, the
// values as Python's str() writes them ("None" for none). xlog.db is one
// line per archived WAL file: name, size, time, compression, tab-separated.
// The parsers are strict: a line that is neither, a repeated key, a value
// that is not of its field's kind, or a field a verification needs that is
// absent is Corrupt, naming the file and line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/status.h"

namespace vouch {

struct BarmanBackupInfo {
  std::map<std::string, std::string> fields;  // every key as written ("None" kept)
  std::string status;                         // DONE, FAILED, STARTED, WAITING_FOR_WALS, ...
  std::string error;                          // the failure Barman recorded; "" for None
  std::string mode;                           // "postgres", "rsync-concurrent", "rsync-exclusive", ...
  std::string begin_wal, end_wal;             // segment names
  uint64_t begin_lsn = 0;                     // begin_xlog
  std::optional<uint64_t> end_lsn;            // end_xlog (None while a backup runs)
  uint32_t timeline = 0;
  uint64_t system_id = 0;             // systemid
  int version = 0;                    // server_version_num, 150018
  uint32_t segment_size = 16u << 20;  // xlog_segment_size, when written
  std::string compression;            // the data's (backup_compression); "" for None
  bool tablespaces = false;           // the backup holds tablespaces outside data/
};

// `path` names the file in messages.
Result<BarmanBackupInfo> ParseBarmanBackupInfo(std::string_view text, const std::string& path);

struct BarmanWalEntry {
  std::string name;
  uint64_t size = 0;
  std::string compression;  // "" for None
  size_t line = 0;
};

Result<std::vector<BarmanWalEntry>> ParseBarmanXlogDb(std::string_view text, const std::string& path);

// Whether vouch reads WAL files Barman compressed with `compression` (its
// configuration's name: gzip, pigz, pygzip, bzip2, pybzip2, zstd, lz4, ...):
// by their magic bytes, as Barman stores them without a suffix.
bool BarmanCompressionReadable(std::string_view compression);

}  // namespace vouch
