// verify-backup --barman: a backup in a Barman server directory
// (barman_home/SERVER: base/ID/backup.info and data/, wals/), verified
// deeper than `barman check-backup` (which only looks for the WAL files'
// names): its backup.info read strictly (status DONE, its cluster and WAL
// range); its data directory, plain or tar (backup_method=postgres), against
// the backup_manifest pg_basebackup wrote; without one (backup_method=rsync)
// every file read to its end, every data page's checksum and pg_control's
// CRC checked; and every WAL segment the backup needs read from the
// server's wals/ (Barman's hashed directories, compressed files without a
// suffix, recognized by their magic) with page headers, system identifier
// and timeline history checked. The result is a BackupVerification,
// rendered as verify-backup's.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "vouch/backup/verify_backup.h"
#include "vouch/readers/barman.h"
#include "vouch/status.h"

namespace vouch {

struct BarmanTarget {
  // A server's directory (holds base/ and wals/), or one backup's
  // (SERVER/base/ID, holds backup.info).
  std::string dir;
  std::string backup_id;  // with a server's directory: this backup; "" = the newest DONE one
};

// Where a backup lies and what its backup.info says.
struct BarmanLocation {
  std::string server_dir;  // holds wals/
  std::string backup_dir;  // holds backup.info and data/
  std::string backup_id;
  std::vector<std::string> notes;  // newer backups passed over, and why
  BarmanBackupInfo info;
  // The tablespaces kept beside data/ (base/ID/OID): (OID, directory).
  std::vector<std::pair<std::string, std::string>> tablespaces;
};

// Whether `dir` is a Barman backup's directory (backup.info, data/) or a
// server's (base/, wals/).
bool IsBarmanDirectory(const std::string& dir);

// The backup `target` names: a backup's own directory, or a server's
// newest DONE backup (or target.backup_id). Errors: neither kind of
// directory, no such backup (exit 2); its backup.info damaged (Corrupt).
Result<BarmanLocation> LocateBarmanBackup(const BarmanTarget& target);

// Errors: the directory is neither (exit 2); backup.info damaged (Corrupt,
// naming the file and line; exit 1); WAL compressed by a method vouch does
// not read (Unsupported, exit 3). A backup whose status is not DONE, and
// damage to its files and WAL, are findings.
Result<BackupVerification> VerifyBarman(const BarmanTarget& target, const VerifyBackupOptions& options);

// A server's newest backup as the nightly check sees it (verify-backup
// --newest-in on a Barman server directory), without reading it: its
// backup.info and the DONE backup's before it, and whether the server still
// holds what it needs: its data files (those backup_manifest lists, of
// their size; an rsync backup's pg_control and PG_VERSION; a tar backup's
// tar files) and every WAL segment from begin_wal to end_wal.
struct BarmanBackupPresence {
  std::string dir;  // the backup's directory
  std::string id;
  BarmanBackupInfo info;
  std::string previous_id;  // the DONE backup before it; "" when none
  uint64_t previous_size = 0;
  double end_time = 0;  // end_time (else begin_time) as unix seconds; 0 unknown
  uint64_t files_listed = 0, files_present = 0;
  std::vector<std::string> files_missing;  // the first few, with what is wrong
  uint64_t wal_needed = 0, wal_present = 0;
  std::vector<std::string> wal_missing;  // the first few
};

// Errors: `server_dir` is not a Barman server's directory (exit 2); the
// newest backup's backup.info damaged (Corrupt). A server without a backup
// gives id "".
Result<BarmanBackupPresence> InspectNewestBarmanBackup(const std::string& server_dir);

}  // namespace vouch
