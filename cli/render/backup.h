// Renderings of a base-backup verification (vouch verify-backup): text for
// the terminal, JSON, and Prometheus's textfile format.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vouch/backup/verify_backup.h"

namespace vouch::cli {

// ✅/❌ lines per check (manifest, files, pages, "WAL segments A through B",
// sidecar), the findings, and the verdict.
std::string BackupText(const BackupVerification& v);
// Everything in the result, machine-readable.
std::string BackupJson(const BackupVerification& v);
// node_exporter textfile-collector format: vouch_backup_verified{dir="..."},
// vouch_backup_files, _files_verified, _bytes, _findings, _findings_by_kind,
// _pages_checked, _wal_segments, _wal_segments_missing, _verify_seconds,
// _last_run_timestamp_seconds and _last_success_timestamp_seconds, each
// with # HELP and # TYPE. last_success is finished_at when verified, else
// `previous_success` (carried over from the previous textfile; omitted when
// there is none).
std::string BackupPrometheus(const BackupVerification& v, std::optional<double> previous_success = std::nullopt);
// vouch_backup_last_success_timestamp_seconds{dir="<dir>"} read back from a
// textfile BackupPrometheus wrote, to carry it over a failed run.
std::optional<double> PreviousBackupSuccess(std::string_view textfile, const std::string& dir);

// Each backup's BackupText, then the chain's checks and the verdict.
std::string BackupChainText(const BackupChainVerification& c);
std::string BackupChainJson(const BackupChainVerification& c);

// The window (oldest retained backup's start to the newest segment), the
// retained backups, the oldest one's BackupText, the archiver's state, and
// the verdict.
std::string RecoveryWindowText(const RecoveryWindow& w);
std::string RecoveryWindowJson(const RecoveryWindow& w);

}  // namespace vouch::cli
