// vouch restore-test: a backup restored for real into a scratch cluster that
// vouch starts and removes, then proven with the drill (rows, schema
// objects, sequences, large objects, and the drill checks that are asked
// for). Each phase is timed; their sum is the measured RTO.
//   - A pg_dump archive is restored with the real pg_restore and proven
//     against the archive itself.
//   - A plain base backup (pg_basebackup -Fp) is copied, never touched,
//     its WAL taken from a WAL archive (plain or compressed segments) by
//     restore_command, recovered by the server to a target (an LSN, a time,
//     the LSN of a manifest read with digest --at-lsn, or the archive's
//     end), and proven against an expected manifest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vouch/engine/drill.h"
#include "vouch/status.h"

namespace vouch {

// Where recovery of a base backup stops.
struct RecoveryTarget {
  enum Kind { kLatest, kLsn, kTime } kind = kLatest;
  std::string value;     // "0/3000028" or a timestamp the server reads
  std::string manifest;  // the manifest the LSN came from (--target-manifest), if any
};

struct RestoreTestOptions {
  // A pg_dump archive (custom, directory or tar), or a plain base backup's
  // directory (it has backup_label).
  std::string backup;
  // A pgBackRest set instead of `backup` (repo set): restored with the
  // tool's own `pgbackrest restore` (found on PATH), its WAL taken from the
  // repository's archive; then as a base backup.
  struct Pgbackrest {
    std::string repo, stanza, set;  // set "": the newest
    std::string cipher_pass;        // an encrypted repository's (never printed)
  } pgbackrest;
  // Base backups: tablespaces kept outside the backup's data directory (OID,
  // directory), as a Barman rsync backup keeps them: placed beside the
  // restored data directory and linked from pg_tblspc/OID, unless the
  // backup links them itself.
  std::vector<std::pair<std::string, std::string>> tablespaces;
  // Base backups: the WAL archive restore_command reads (segments plain or
  // .gz/.zst/.lz4), the recovery target, and the manifest the restored
  // database is compared with (its "database" is the one read).
  std::string wal_archive;
  RecoveryTarget target;
  // A manifest, or a directory of them (digest --all-databases --at-lsn -o
  // DIR): every database named is proven, each against its own.
  std::string expect;
  // Base backups: the live source (a primary or a standby), read when
  // recovery has ended: its latest commit is the RPO's start, instead of the
  // manifest's read time.
  std::string source;
  // The server's bin directory (initdb, pg_ctl, postgres, pg_restore);
  // empty: the newest /usr/lib/postgresql/N/bin.
  std::string pg_bin;
  std::string scratch_parent = "/tmp";  // where the scratch cluster is made
  // Run as root: the scratch server runs as this user (initdb refuses
  // root); empty: "postgres". Ignored when not root.
  std::string run_as;
  // Keep the scratch cluster's directory here (it must not exist yet); the
  // server is stopped all the same.
  std::string keep;
  // The source cluster's roles and tablespaces (pg_dumpall --globals-only),
  // run with psql before pg_restore, as a DR runbook does; the drill then
  // compares them too. Empty: the scratch cluster has only "postgres".
  std::string globals;
  int jobs = 2;  // pg_restore -j
  std::optional<int64_t> rto_target_us;
  DrillOptions drill;  // the checks run against the restored database
  // Told each phase as it begins, and counted into by the drill, for a
  // progress display; not owned.
  RunProgress* progress = nullptr;
};

struct RestorePhase {
  // "initdb", "server start", "globals", "pg_restore", "verify"; a base
  // backup: "copy", "stage WAL", "server start" (to a consistent state),
  // "WAL replay" (to the target), "verify".
  std::string name;
  int64_t us = 0;
};

// A base backup's recovery, as the server reported it.
struct RecoveryReport {
  std::string wal_archive;
  std::string target;       // "latest", "LSN 0/3000028 (from M.json)", "time ..."
  std::string start_lsn;    // the backup's (backup_label)
  std::string end_lsn;      // the last record replayed ("redo done at")
  std::string stop;         // the server's "recovery stopping before ..." line, if any
  std::string last_commit;  // pg_last_xact_replay_timestamp(), UTC
  // The source's latest commit the RPO is measured from, UTC, and where it
  // came from: the manifests' latest read, or the live --source.
  std::string source_latest, source_latest_from;
  uint64_t replayed_bytes = 0;
  // The segments recovery read from the backup's start to its end (the
  // first and last counted), and those staged from the archive.
  uint64_t segments_replayed = 0;
  uint64_t segments_staged = 0, segments_decompressed = 0;
  // Unlogged tables: a physical restore brings them back empty, by design,
  // so they are expected empty ("public.t (120 rows in the manifest)").
  std::vector<std::string> unlogged;
  // Each named failure: a segment missing, a target beyond the archive, a
  // damaged segment, the server's FATAL lines. Any makes the test fail.
  std::vector<std::string> failures;
};

// One database of the restored cluster, proven against its manifest (a
// base backup) or against the archive (a dump).
struct RestoredDatabase {
  std::string name;
  std::string expect;  // the manifest; "" for a dump, proven against the archive
  // The drill against the restored database; none when the restore left no
  // database to read.
  std::optional<DrillReport> drill;
};

struct RestoreTestReport {
  std::string backup;
  std::string kind = "pg_dump archive";    // or "base backup"
  std::optional<RecoveryReport> recovery;  // base backups
  // Base backups: the source's latest commit (RecoveryReport::source_latest)
  // minus the last replayed commit.
  std::optional<int64_t> rpo_us;
  std::string globals;         // the globals file run before pg_restore, if any
  std::string server_version;  // "postgres (PostgreSQL) 15.18 ..."
  std::string pg_bin;
  std::vector<RestorePhase> phases;
  int pg_restore_exit = 0;
  // Every "pg_restore: error: ..." line (with the lines that belong to it),
  // in order.
  std::vector<std::string> pg_restore_errors;
  // The globals file's errors under psql (its ERROR lines), but for the
  // bootstrap superuser's "already exists", which every such file gives.
  std::vector<std::string> globals_errors;
  // The databases proven: a dump's own (restored under its name,
  // pg_restore --create); a base backup's, one per expected manifest.
  std::vector<RestoredDatabase> databases;
  int64_t rto_us = 0;  // the phases' sum
  std::optional<int64_t> rto_target_us;

  bool RestoreClean() const {
    return pg_restore_exit == 0 && pg_restore_errors.empty() && globals_errors.empty() &&
           (!recovery || recovery->failures.empty());
  }
  bool RtoMet() const { return !rto_target_us || rto_us <= *rto_target_us; }
  // Every database was read and compared.
  bool AllDrilled() const;
  // The drills' outcomes together.
  Outcome DrillOutcome() const;
  bool Passed() const;
};

// An error (exit 2 or 3) only when the test could not be run: no server
// binaries, no scratch directory, initdb or the server failing. A restore
// that fails is a report that does not pass (exit 1).
Result<RestoreTestReport> RunRestoreTest(const RestoreTestOptions& options);

}  // namespace vouch
