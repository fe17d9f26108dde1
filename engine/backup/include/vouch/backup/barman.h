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

#include "vouch/backup/verify_backup.h"
#include "vouch/status.h"

namespace vouch {

struct BarmanTarget {
  // A server's directory (holds base/ and wals/), or one backup's
  // (SERVER/base/ID, holds backup.info).
  std::string dir;
  std::string backup_id;  // with a server's directory: this backup; "" = the newest DONE one
};

// Errors: the directory is neither (exit 2); backup.info damaged (Corrupt,
// naming the file and line; exit 1); WAL compressed by a method vouch does
// not read (Unsupported, exit 3). A backup whose status is not DONE, and
// damage to its files and WAL, are findings.
Result<BackupVerification> VerifyBarman(const BarmanTarget& target, const VerifyBackupOptions& options);

}  // namespace vouch
