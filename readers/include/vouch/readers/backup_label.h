// backup_label of a base backup: the lines vouch uses, as the server writes
// them (do_pg_backup_stop / build_backup_content) and pg_combinebackup reads
// them:
//   START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
//   START TIMELINE: 1
//   INCREMENTAL FROM LSN: 0/2000028      (incremental backups, 17 and later)
//   INCREMENTAL FROM TLI: 1
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "vouch/status.h"

namespace vouch {

struct BackupLabel {
  std::optional<uint64_t> start_lsn;
  std::optional<uint32_t> start_tli;
  std::optional<uint64_t> incremental_from_lsn;  // set for an incremental backup
  std::optional<uint32_t> incremental_from_tli;
};

// Reads the lines above; others are ignored. Errors (kCorrupt, naming the
// line): a known key whose value does not parse, or one INCREMENTAL FROM
// line without the other.
Result<BackupLabel> ParseBackupLabel(std::string_view text);

}  // namespace vouch
