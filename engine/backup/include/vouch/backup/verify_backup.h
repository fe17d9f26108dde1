// vouch verify-backup: proves a pg_basebackup base backup is complete and
// intact without restoring it. What PostgreSQL's pg_verifybackup checks, and
// more:
//   - backup_manifest (versions 1 and 2) parses by pg_verifybackup's rules
//     and its Manifest-Checksum holds;
//   - every listed file is there with its size and checksum (CRC32C,
//     SHA-224/256/384/512), files on disk but not listed and the reverse are
//     named, with pg_verifybackup's exemptions (backup_manifest, pg_wal,
//     postgresql.auto.conf, recovery.signal, standby.signal, as path prefixes);
//   - plain (-Fp) directories and tar (-Ft) backups alike: base.tar, pg_wal.tar
//     and OID.tar, optionally .gz/.zst/.lz4, are streamed member by member
//     (PostgreSQL 15's pg_verifybackup cannot read them);
//   - optionally every 8 KB data page's checksum (pg_checksums' files, the
//     server's page rules; pages newer than the backup's start are left to
//     WAL replay, as pg_basebackup does);
//   - the WAL the manifest's WAL-Ranges need (or through a PITR target LSN),
//     from pg_wal and WAL archives (plain or compressed segments): no segment
//     missing, every page header valid (magic, address, timeline, system
//     identifier of this cluster), timeline history consistent;
//   - optionally a sha256sum/md5sum sidecar.
// Files are read once each, in parallel (oneTBB), in 128 KB blocks: memory is
// bounded by jobs × 128 KB (plus 48 KB of page headers per WAL segment
// needed), never by file size. A large file whose manifest
// checksum is CRC32C is split across threads and its parts combined.
//
// Errors and findings are distinct: a finding is something wrong with the
// backup (the product's output); a Status error means vouch could not do
// the check (I/O error, bad option): exit 3 or 2, never a verdict.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/base/finding.h"
#include "vouch/base/progress.h"
#include "vouch/readers/backup_manifest.h"
#include "vouch/readers/checksums.h"
#include "vouch/status.h"

namespace vouch {

// A backup whose tool writes no backup_manifest (Barman's rsync method):
// what the tool's own record says in its place.
struct BackupWithoutManifest {
  std::string why;       // who made it without one, for the report ("Barman rsync backup")
  ManifestWalRange wal;  // the WAL it needs: its start and stop LSN and timeline
  // Tablespaces the tool keeps outside the data directory (OID, directory):
  // read as pg_tblspc/OID/... of the backup.
  std::vector<std::pair<std::string, std::string>> tablespaces;
};

struct VerifyBackupOptions {
  int jobs = 0;                 // worker threads; 0 = all cores
  bool page_checksums = false;  // check every data page's checksum too
  // Directories searched for WAL after the backup's own pg_wal (pg_wal.tar).
  std::vector<std::string> wal_archives;
  // "X/X": the WAL must also be complete from the backup's end through this
  // LSN (a PITR target), following timeline history to the latest timeline.
  std::optional<std::string> until_lsn;
  std::string checksums;  // a sha256sum/md5sum-style file to verify too; empty = none
  bool skip_wal = false;  // no WAL checks (pg_verifybackup --no-parse-wal)
  // More relative paths exempt from missing/extra checks, as prefixes
  // (pg_verifybackup --ignore).
  std::vector<std::string> ignore;
  // Unix time (seconds) when the run ends, for finished_at; tests pin it.
  // Default: the system clock.
  std::function<double()> now;
  // Keep the manifest's paths that are present (BackupVerification::paths),
  // for the checks across a chain of backups.
  bool keep_paths = false;
  // Counted into as the files are read (bytes against the manifest's sizes,
  // files against its count), for a progress display; not owned.
  ProgressCounters* progress = nullptr;
  // Set, and the backup has no backup_manifest: not a finding. Every file is
  // then read to its end (a read error is one), relation files checked by
  // their page checksums (page_checksums should be on), pg_control by its
  // CRC, and the WAL by this range.
  std::optional<BackupWithoutManifest> without_manifest;
};

// Something wrong with the backup: a Finding (vouch/base/finding.h) of one of
// the base-backup kinds, kManifest … kChain. Its subject is a path relative
// to the data directory ("base/5/16384"), tar members too (the detail names
// the tar file); a tar file itself for kDamaged; a WAL file where it was
// found ("pg_wal/0000…", "pg_wal.tar:0000…", "/archive/0000….gz"), or the
// first missing segment's name.

struct BackupWalSummary {
  bool checked = false;
  std::string note;                  // why WAL was not checked, or what to know about it
  std::vector<std::string> sources;  // where WAL was looked for, in order
  uint64_t start_lsn = 0;            // the WAL range required
  uint64_t end_lsn = 0;
  std::string first_segment;  // file names of the first and last required segment
  std::string last_segment;
  uint64_t segments_required = 0;
  uint64_t segments_verified = 0;  // present with valid page headers
  uint64_t segments_missing = 0;
  std::vector<uint32_t> timelines;  // of the required segments, ascending
};

// An incremental backup (PostgreSQL 17 and later): what its backup_label
// says it follows, and the INCREMENTAL.* files it holds.
struct BackupIncrementalSummary {
  bool incremental = false;  // backup_label has INCREMENTAL FROM LSN/TLI
  uint64_t from_lsn = 0;     // the prior backup's start
  uint32_t from_tli = 0;
  uint64_t files = 0;   // INCREMENTAL.* files read, headers checked
  uint64_t blocks = 0;  // blocks those files carry
};

struct BackupVerification {
  std::string dir;
  std::string format;                 // "plain" or "tar"
  std::vector<std::string> archives;  // tar format: the tar files read
  int manifest_version = 0;           // 0: no usable manifest
  // Who wrote the backup, when not pg_basebackup alone ("Barman backup
  // 20261208T000022 of server pg, postgres method"); empty otherwise.
  std::string origin;
  // VerifyBackupOptions::without_manifest's why, when the backup had none:
  // its files were read whole and page-checked instead (files_listed counts
  // the files found).
  std::string no_manifest;
  bool manifest_checksum_ok = false;
  std::optional<uint64_t> system_identifier;  // from global/pg_control
  int pg_major = 0;                           // from pg_control's catalog version, else PG_VERSION; 0 = unknown
  // backup_label's START WAL LOCATION and START TIMELINE.
  std::optional<uint64_t> start_lsn;
  std::optional<uint32_t> start_tli;
  BackupIncrementalSummary incremental;
  // With VerifyBackupOptions::keep_paths: the manifest's paths found in the
  // backup, in the manifest's order.
  std::vector<std::string> paths;
  uint64_t files_listed = 0;       // in the manifest
  uint64_t files_exempt = 0;       // of those, exempt from checks (pg_wal/..., postgresql.auto.conf, ignore)
  uint64_t files_verified = 0;     // present with the listed size and (if listed) checksum
  uint64_t files_checksummed = 0;  // of those, with a checksum compared
  uint64_t bytes = 0;              // bytes read and checked (decompressed), WAL included
  std::vector<std::string> checksum_algorithms;  // the manifest's, e.g. {"CRC32C"}
  // Page checksums (VerifyBackupOptions::page_checksums).
  bool page_checks_requested = false;
  bool data_checksums = false;  // pg_control: data_checksum_version != 0
  uint64_t pages_checked = 0;   // checksum computed and compared
  uint64_t pages_new = 0;       // all-zero new pages (valid, no checksum yet)
  uint64_t pages_skipped = 0;   // pd_lsn at or after the backup start: WAL replay rewrites them
  uint64_t pages_bad = 0;
  BackupWalSummary wal;
  std::optional<ChecksumReport> checksums;
  std::vector<Finding> findings;   // in a stable order (kind, then path)
  std::vector<std::string> notes;  // what to know about the run
  // Checks that were asked for and could not be made, and why (page
  // checksums without a usable pg_control, or of a cluster without data
  // checksums): the backup is then not fully verified, whatever was found.
  std::vector<std::string> unverified;
  int jobs = 0;
  double seconds = 0;      // wall time of the run
  double finished_at = 0;  // unix seconds

  // The findings (no usable manifest is always one) and the checks asked
  // for and not made: verified when there are neither (ExitCode(): 0, 1, 3).
  Outcome outcome() const;
};

// Verifies the base backup in directory `dir` (pg_basebackup -D dir, plain
// or tar format). Errors: `dir` missing or not a directory, not a base
// backup (kUnsupported), an option out of range (kInvalidArgument), a file
// or directory that exists but cannot be read (kIoError), a WAL archive
// directory that does not exist.
Result<BackupVerification> VerifyBackup(const std::string& dir, const VerifyBackupOptions& options);

}  // namespace vouch

namespace vouch {

// A chain of base backups given oldest first: a full backup, then
// incremental backups (PostgreSQL 17+, pg_basebackup --incremental), each
// taken against the one before it. Each backup is verified on its own
// (VerifyBackup), and the chain as pg_combinebackup would need it, without
// combining it:
//   - the first backup is full and every later one incremental;
//   - every backup has the same system identifier (pg_control);
//   - each incremental backup's INCREMENTAL FROM LSN and TLI (backup_label)
//     are exactly the prior backup's START WAL LOCATION and TIMELINE;
//   - every INCREMENTAL.X file finds X in full in an earlier backup, with
//     only INCREMENTAL.X in the backups between.
struct BackupChainVerification {
  std::vector<BackupVerification> backups;  // in the order given
  std::vector<Finding> findings;            // kind "chain"; path names the backup directory
  uint64_t dependencies_checked = 0;        // INCREMENTAL files whose earlier versions were found

  // Every backup's findings and the chain's; what a backup left unverified,
  // prefixed with its directory.
  Outcome outcome() const;
};

// Errors: fewer than two directories, and whatever VerifyBackup returns for
// one of them.
Result<BackupChainVerification> VerifyBackupChain(const std::vector<std::string>& dirs,
                                                  const VerifyBackupOptions& options);

// The recovery window (verify-backup --recovery-window): the span inside
// which a point-in-time restore can succeed, from the oldest retained base
// backup's start to the WAL archive's newest segment. Proven by verifying
// the oldest backup with its WAL required through that segment (every
// segment there, valid headers, timelines followed by their history files),
// and optionally by the server's own archiver statistics.
struct RecoveryWindowOptions {
  // A database (conninfo) whose pg_stat_archiver is read: no failure since
  // the last success, and a last archived segment younger than max_age_s.
  std::string source;
  double max_age_s = 3600;
  // For the oldest backup (jobs, page checksums, ...); its wal_archives
  // (required) are the archive the window is proven in.
  VerifyBackupOptions backup;
};

struct RetainedBackup {
  std::string dir;
  uint64_t start_lsn = 0;
  uint32_t timeline = 0;
};

struct ArchiverStatus {
  int64_t archived_count = 0, failed_count = 0;
  std::string last_archived_wal, last_archived_time, last_failed_wal, last_failed_time;
  double last_archived_age_s = -1;  // -1: nothing archived yet
};

struct RecoveryWindow {
  std::string backups_dir;
  std::vector<RetainedBackup> backups;  // oldest start first
  // Entries of backups_dir that are not base backups, with why.
  std::vector<std::string> not_backups;
  std::string newest_segment;           // the archive's, by (segment, timeline)
  uint64_t start_lsn = 0, end_lsn = 0;  // the window: the oldest start, the newest segment's end
  BackupVerification oldest;            // verified with WAL through the newest segment
  std::optional<ArchiverStatus> archiver;
  std::vector<Finding> findings;  // kind "archiver"

  Outcome outcome() const;
};

// Errors: no base backup in `backups_dir`, no WAL archive or no segment in
// it, and what VerifyBackup returns for the oldest backup.
Result<RecoveryWindow> VerifyRecoveryWindow(const std::string& backups_dir, const RecoveryWindowOptions& options);

}  // namespace vouch
