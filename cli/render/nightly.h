// Renderings of the nightly checks of a backup directory (vouch verify-backup
// --newest-in): a line per check for the terminal, JSON, and Prometheus's
// textfile format.
#pragma once

#include <string>

#include "vouch/backup/nightly_backup.h"

namespace vouch::cli {

// What a check found, in one line ("24.0 h old (limit 1.0 h)").
std::string NightlyCheckDetail(const NightlyReport& r, const NightlyCheck& c);
std::string NightlyText(const NightlyReport& r);
std::string NightlyJson(const NightlyReport& r);
// vouch_nightly_backup_ok{dir="..."}, _age_seconds, _bytes, _size_ratio,
// _checks_failed, _compressed_files, _last_run_timestamp_seconds.
std::string NightlyPrometheus(const NightlyReport& r);

}  // namespace vouch::cli
