// Helpers for integration tests that use the throwaway PostgreSQL cluster of
// the CTest fixture "pg" (scripts/pgcluster.sh writes its KEY=VALUE env file,
// named by VOUCH_TEST_ENV). A missing cluster fails the test; it never skips.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace vouch::testing {

struct PgEnv {
  std::map<std::string, std::string> vars;  // PGHOST, PGPORT, PGUSER, PG_BINDIR, ...
  std::string bindir;
  int major = 0;  // the server's (and its tools') major version: 15, 17, 18
};

const PgEnv& TestPg();

// Creates a database with a unique name starting with `prefix`.
std::string CreateDatabase(const std::string& prefix);
void DropDatabase(const std::string& name);

struct CmdResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `shell_cmd` with /bin/bash -c, the cluster's PG* variables set and
// PG_BINDIR first on PATH; captures stdout and stderr separately.
CmdResult RunCommand(const std::string& shell_cmd);

// The path in environment variable `env_var` (VOUCH_BIN, VOUCH_GEN_BIN).
std::string BinPath(const char* env_var);

// Creates a database (unique name from `prefix`) holding the vouch-gen drill
// dataset at `scale` and, with `tricky`, the tables of tricky_schema.h.
std::string CreateDrillDatabase(const std::string& prefix, double scale, int seed, bool tricky);
// postgresql://user@127.0.0.1:port/db for the test cluster.
std::string DatabaseUri(const std::string& db);
// A fresh directory under the gtest temp dir, named after `prefix` and the pid.
std::string MakeTempDir(const std::string& prefix);

// The bytes of a file ("" when it cannot be read).
std::string ReadFileBytes(const std::string& path);

// The TOC of an archive as `pg_restore -l` (the reference) prints it: its
// entry lines ("3374; 0 16385 TABLE DATA public agents vouch") and its
// header lines (";     dbname: drill" as header["dbname"] = "drill").
struct PgRestoreListing {
  std::vector<std::string> entries;
  std::map<std::string, std::string> header;
};
PgRestoreListing PgRestoreList(const std::string& archive);

// `psql -X -At -d db -c sql`, trimmed; fails the test on error.
std::string PsqlScalar(const std::string& db, const std::string& sql);

// A cluster of a suite's own (scripts/pgcluster.sh start DIR/src, of the
// test's major version), for suites that reconfigure it (archive_command)
// or stop it: its env file's values and psql against it.
class OwnCluster {
 public:
  // Starts it in `dir`/src; "" or why it failed.
  std::string Start(const std::string& dir);
  void Stop();                                    // and deletes its data
  std::string Env(const std::string& key) const;  // a value of DIR/src/env
  std::string In() const;                         // "eval \"$(pgcluster.sh env …)\" && ": its PG* set
  // psql -c `sql` in `db`: "" when it succeeds, else psql's stderr.
  std::string Sql(const std::string& db, const std::string& sql) const;
  // The first line psql -At prints for `sql` in postgres.
  std::string Scalar(const std::string& sql) const;
  // postgresql://vouch@127.0.0.1:PORT/db
  std::string Uri(const std::string& db) const;
  const std::string& pgcluster() const { return pgcluster_; }

 private:
  std::string pgcluster_, dir_;
};

// Overwrites the byte in the middle of file `path` with 0xFF in place (a
// bit flip inside a compressed file); true when it was written.
bool FlipMiddleByte(const std::string& path);

// Base for suites with expensive shared preparation (generating a database,
// dumping it): runs Derived::Prepare() once per process from SetUp(), so that
// a failure there fails every test. (gtest reports a failing SetUpTestSuite
// as "skipped", which ctest would count as passed.)
template <typename Derived>
class PreparedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static bool prepared = false;
    static bool failed = false;
    if (!prepared) {
      prepared = true;
      Derived::Prepare();
      failed = HasFailure();
    }
    ASSERT_FALSE(failed) << "suite preparation failed (see the first failure above)";
  }
};

}  // namespace vouch::testing
