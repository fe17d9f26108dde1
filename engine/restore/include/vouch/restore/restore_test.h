// vouch restore-test: a pg_dump archive restored for real, with the real
// pg_restore, into a scratch cluster that vouch starts and removes, then
// proven against the archive itself with the drill (rows, schema objects,
// sequences, large objects, and the drill checks that are asked for). Each
// phase is timed; their sum is the measured RTO.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vouch/engine/drill.h"
#include "vouch/status.h"

namespace vouch {

struct RestoreTestOptions {
  std::string backup;  // a pg_dump archive: custom, directory or tar
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
};

struct RestorePhase {
  std::string name;  // "initdb", "server start", "globals", "pg_restore", "verify"
  int64_t us = 0;
};

struct RestoreTestReport {
  std::string backup;
  std::string globals;         // the globals file run before pg_restore, if any
  std::string database;        // restored under the archive's own name (pg_restore --create)
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
  // The drill of the archive (source) against the restored database; none
  // when pg_restore could not create the database.
  std::optional<DrillReport> drill;
  int64_t rto_us = 0;  // the phases' sum
  std::optional<int64_t> rto_target_us;

  bool RestoreClean() const { return pg_restore_exit == 0 && pg_restore_errors.empty() && globals_errors.empty(); }
  bool RtoMet() const { return !rto_target_us || rto_us <= *rto_target_us; }
  bool Passed() const;
};

// An error (exit 2 or 3) only when the test could not be run: no server
// binaries, no scratch directory, initdb or the server failing. A restore
// that fails is a report that does not pass (exit 1).
Result<RestoreTestReport> RunRestoreTest(const RestoreTestOptions& options);

}  // namespace vouch
