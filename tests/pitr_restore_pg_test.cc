// vouch restore-test of a base backup and its WAL archive (issue "Restore
// and prove"), on a cluster of its own with wal_level = logical and WAL
// archiving on: a base backup, then writes, then `vouch digest --at-lsn`
// while commits keep landing before and after its LSN, then more writes and
// a WAL switch. The restore to the manifest's LSN gives exactly its data; the
// restore to the archive's end gives every commit; a missing segment, a
// damaged one, a target beyond the archive, a damaged data page and the
// wrong server binaries are named and never PASS; SIGTERM during recovery
// leaves nothing behind.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;
namespace fs = std::filesystem;

class PitrRestore : public testing::PreparedTest<PitrRestore> {
 protected:
  friend class testing::PreparedTest<PitrRestore>;
  static void Prepare() {
    const std::string root = testing::BinPath("VOUCH_SOURCE_DIR");
    pgcluster_ = root + "/scripts/pgcluster.sh";
    vouch_ = testing::BinPath("VOUCH_BIN");
    dir_ = testing::MakeTempDir("vouch_pitr");
    ASSERT_EQ(RunCommand("chmod 755 " + dir_ + " && mkdir -m 755 " + dir_ + "/scratch").exit_code, 0);
    auto start = RunCommand("PGCLUSTER_CONF='wal_level = logical' " + pgcluster_ + " start " + dir_ + "/src " +
                            std::to_string(testing::TestPg().major));
    ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
    archive_ = Env("PG_WAL_ARCHIVE");
    uri_ = "postgresql://vouch@127.0.0.1:" + Env("PGPORT") + "/pitr";
    ASSERT_EQ(Sql("postgres", "CREATE DATABASE pitr"), "");
    ASSERT_EQ(Sql("pitr",
                  "CREATE TABLE t (id bigserial PRIMARY KEY, v text, at timestamptz DEFAULT now()); INSERT INTO t (v) "
                  "SELECT md5(g::text) FROM generate_series(1, 5000) g"),
              "");
    // A database with an unlogged table, digested before the backup.
    ASSERT_EQ(Sql("postgres", "CREATE DATABASE pitr_u"), "");
    ASSERT_EQ(Sql("pitr_u",
                  "CREATE UNLOGGED TABLE u AS SELECT g AS id FROM generate_series(1, 120) g; CREATE TABLE l AS SELECT "
                  "g AS id FROM generate_series(1, 50) g"),
              "");
    auto digest_u = RunCommand(vouch_ + " digest -q postgresql://vouch@127.0.0.1:" + Env("PGPORT") + "/pitr_u -o " +
                               dir_ + "/unlogged.json");
    ASSERT_EQ(digest_u.exit_code, 0) << digest_u.err;
    auto backup = RunCommand(In() + "pg_basebackup -D " + dir_ + "/base -X none -c fast");
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    // The same as a gzipped tar, with its WAL in pg_wal.tar.
    auto tar = RunCommand(In() + "pg_basebackup -D " + dir_ + "/base_tar -Ft -z -X fetch -c fast");
    ASSERT_EQ(tar.exit_code, 0) << tar.err;
    ASSERT_EQ(Sql("pitr", "INSERT INTO t (v) SELECT 'after backup' FROM generate_series(1, 2000)"), "");

    // A writer commits one row at a time (with a pause between) while the
    // digest reads at an LSN.
    {
      std::ofstream w(dir_ + "/writer.sql");
      for (int i = 0; i < 3000; ++i) w << "INSERT INTO t (v) VALUES ('during'); SELECT pg_sleep(0.001);\n";
    }
    ASSERT_EQ(RunCommand(In() + "nohup sh -c 'psql -X -q -o /dev/null -d pitr -f " + dir_ + "/writer.sql; touch " +
                         dir_ + "/writer.done' >/dev/null 2>&1 &")
                  .exit_code,
              0);
    ASSERT_TRUE(WaitFor([] { return std::stol(Scalar("SELECT count(*) FROM t")) > 7100; }));
    auto digest = RunCommand(vouch_ + " digest -q --at-lsn " + uri_ + " -o " + dir_ + "/at.json");
    ASSERT_EQ(digest.exit_code, 0) << digest.err;
    ASSERT_TRUE(WaitFor([] { return fs::exists(dir_ + "/writer.done"); }));
    at_rows_ = ManifestRows(dir_ + "/at.json");
    DigestEveryDatabaseOnAStandby();
    // A segment of its own for the last rows, so that the writes' segment
    // is a middle one.
    ASSERT_EQ(Sql("pitr", "INSERT INTO t (v) SELECT 'after digest' FROM generate_series(1, 1000)"), "");
    Scalar("SELECT pg_switch_wal()");
    ASSERT_EQ(Sql("pitr", "INSERT INTO t (v) SELECT 'last' FROM generate_series(1, 100)"), "");
    auto final = RunCommand(vouch_ + " digest -q " + uri_ + " -o " + dir_ + "/final.json");
    ASSERT_EQ(final.exit_code, 0) << final.err;
    // Everything into the archive: the segment the switch ends.
    const std::string last = Scalar("SELECT pg_walfile_name(pg_switch_wal())");
    ASSERT_TRUE(WaitFor([&] { return Scalar("SELECT last_archived_wal FROM pg_stat_archiver") >= last; }));
  }
  // A hot standby of the cluster; writers commit in two databases while
  // `digest --all-databases --at-lsn` reads every database there.
  static void DigestEveryDatabaseOnAStandby() {
    ASSERT_EQ(Sql("postgres", "CREATE DATABASE pitr_w"), "");
    ASSERT_EQ(Sql("pitr_w", "CREATE TABLE w (id bigserial PRIMARY KEY, v text)"), "");
    before_standby_rows_ = std::stol(Scalar("SELECT count(*) FROM t"));
    auto replica = RunCommand(pgcluster_ + " replica " + dir_ + "/src " + dir_ + "/replica");
    ASSERT_EQ(replica.exit_code, 0) << replica.err;
    {
      std::ofstream w(dir_ + "/writer_w.sql");
      for (int i = 0; i < 2000; ++i) w << "INSERT INTO w (v) VALUES ('w'); SELECT pg_sleep(0.001);\n";
      std::ofstream t(dir_ + "/writer_t.sql");
      for (int i = 0; i < 2000; ++i) t << "INSERT INTO t (v) VALUES ('standby'); SELECT pg_sleep(0.001);\n";
    }
    for (const char* db : {"w", "t"}) {
      const std::string name = std::string("writer_") + db;
      ASSERT_EQ(RunCommand(In() + "nohup sh -c 'psql -X -q -o /dev/null -d " + (db[0] == 'w' ? "pitr_w" : "pitr") +
                           " -f " + dir_ + "/" + name + ".sql; touch " + dir_ + "/" + name + ".done' >/dev/null 2>&1 &")
                    .exit_code,
                0);
    }
    const std::string standby = "psql -X -At -h 127.0.0.1 -U vouch -p " + Env("PGPORT", "replica");
    ASSERT_TRUE(WaitFor([&] {
      auto n = RunCommand(standby + " -d pitr_w -c 'SELECT count(*) FROM w'");
      return n.exit_code == 0 && std::atol(n.out.c_str()) > 300;
    }));
    cluster_digest_ = RunCommand(
        vouch_ + " digest -q --at-lsn --all-databases postgresql://vouch@127.0.0.1:" + Env("PGPORT", "replica") +
        "/postgres -o " + dir_ + "/cluster --ledger " + dir_ + "/cluster.ledger");
    replay_state_ = RunCommand(standby + " -d postgres -c 'SELECT pg_get_wal_replay_pause_state()'").out;
    ASSERT_TRUE(WaitFor([] { return fs::exists(dir_ + "/writer_w.done") && fs::exists(dir_ + "/writer_t.done"); }));
    RunCommand(pgcluster_ + " stop " + dir_ + "/replica");
  }
  static void TearDownTestSuite() {
    if (dir_.empty()) return;
    RunCommand(pgcluster_ + " stop " + dir_ + "/replica; " + pgcluster_ + " stop " + dir_ + "/src; rm -rf " + dir_);
  }

  static std::string Env(const std::string& key, const std::string& cluster = "src") {
    auto r = RunCommand("sed -n 's/^" + key + "=//p' " + dir_ + "/" + cluster + "/env");
    return r.out.substr(0, r.out.find('\n'));
  }
  static std::string In() { return "eval \"$(" + pgcluster_ + " env " + dir_ + "/src)\" && "; }
  // "" when the statements ran, else psql's errors.
  static std::string Sql(const std::string& db, const std::string& sql) {
    auto r = RunCommand(In() + "psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c \"" + sql + "\"");
    return r.exit_code == 0 ? "" : r.err;
  }
  static std::string Scalar(const std::string& sql) {
    auto r = RunCommand(In() + "psql -X -At -d pitr -c \"" + sql + "\"");
    return r.out.substr(0, r.out.find('\n'));
  }
  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 1200; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  static int64_t ManifestRows(const std::string& path) {
    auto j = nlohmann::json::parse(testing::ReadFileBytes(path), nullptr, false);
    if (j.is_discarded()) return -1;
    int64_t rows = 0;
    for (const auto& t : j["tables"]) rows += t["rows"].get<int64_t>();
    return rows;
  }
  static testing::CmdResult RestoreTest(const std::string& args) {
    return RunCommand("cd " + dir_ + " && " + vouch_ + " restore-test --scratch " + dir_ + "/scratch " + args);
  }
  // A copy of the archive, for damaging.
  static std::string CopyArchive(const std::string& name) {
    const std::string to = dir_ + "/" + name;
    EXPECT_EQ(RunCommand("cp -a " + archive_ + " " + to).exit_code, 0);
    return to;
  }
  // The LSN the digest read at, which the writer's commits surround: its
  // segment is one in the middle of the archive, with writes in it.
  static uint64_t AtLsn() {
    const auto at = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/at.json"));
    const std::string lsn = at["source"]["properties"]["at_lsn"];
    const size_t slash = lsn.find('/');
    return (std::stoull(lsn.substr(0, slash), nullptr, 16) << 32) | std::stoull(lsn.substr(slash + 1), nullptr, 16);
  }
  static std::string MiddleSegment() {
    const uint64_t segno = AtLsn() / (16u << 20);
    char name[25];
    std::snprintf(name, sizeof name, "%08X%08X%08X", 1u, static_cast<unsigned>(segno / 256),
                  static_cast<unsigned>(segno % 256));
    return name;
  }

  static int FreePort() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
  }
  // The drill's failed checks in a restore-test's JSON report, for messages.
  static std::string FailedChecks(const nlohmann::json& j) {
    std::string out;
    if (!j.contains("databases") || j["databases"].empty()) return "no database";
    for (const auto& db : j["databases"]) {
      if (db["drill"].is_null()) out += "no drill of " + db["database"].get<std::string>() + "\n";
      if (db["drill"].is_null()) continue;
      for (const auto& c : db["drill"]["checks"]) {
        if (c["passed"].is_boolean() && !c["passed"].get<bool>()) out += c.dump() + "\n";
      }
    }
    return out;
  }

  static std::string pgcluster_, vouch_, dir_, archive_, uri_, replay_state_;
  static int64_t at_rows_, before_standby_rows_;
  static testing::CmdResult cluster_digest_;
};
std::string PitrRestore::pgcluster_, PitrRestore::vouch_, PitrRestore::dir_, PitrRestore::archive_, PitrRestore::uri_,
    PitrRestore::replay_state_;
int64_t PitrRestore::at_rows_ = 0, PitrRestore::before_standby_rows_ = 0;
testing::CmdResult PitrRestore::cluster_digest_;

// The digest at an LSN saw some of the writer's commits and not others; the
// restore to that LSN (recovery_target_inclusive off) holds exactly its rows.
TEST_F(PitrRestore, TheRestoreToTheManifestsLsnHoldsExactlyItsData) {
  EXPECT_GT(at_rows_, 7000) << "the digest saw none of the writer's commits";
  EXPECT_LT(at_rows_, 10000) << "the digest saw all of the writer's commits";
  auto r = RestoreTest("base --wal-archive " + archive_ + " --target-manifest at.json --format json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 6000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j["passed"].get<bool>()) << FailedChecks(j);
  EXPECT_EQ(j["kind"], "base backup");
  ASSERT_EQ(j["databases"].size(), 1u);
  EXPECT_EQ(j["databases"][0]["database"], "pitr");
  const auto at = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/at.json"));
  const std::string lsn = at["source"]["properties"]["at_lsn"];
  // The sequence's state was read past the LSN (sequences are not
  // transactional): not recorded as the state there.
  EXPECT_EQ(at["source"]["properties"]["sequence_state"], "not recorded: read after at_lsn, outside the snapshot");
  EXPECT_NE(j["recovery"]["stop"].get<std::string>().find(lsn), std::string::npos) << j["recovery"].dump(2);
  EXPECT_EQ(j["databases"][0]["drill"]["final_validation_hash"]["restored"], at["final_validation_hash"])
      << j["databases"][0].dump(2);
  std::vector<std::string> phases;
  for (const auto& p : j["phases"]) phases.push_back(p["name"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"copy", "stage WAL", "server start", "WAL replay", "verify"}));
  // The replay rate: the bytes replayed over the WAL replay phase.
  const double bytes = j["recovery"]["replayed_bytes"].get<double>();
  EXPECT_GT(bytes, 0) << j["recovery"].dump(2);
  // The segments from the backup's start to the target's, both counted.
  const std::string start = j["recovery"]["start_lsn"];
  const uint64_t start_lsn = (std::stoull(start.substr(0, start.find('/')), nullptr, 16) << 32) |
                             std::stoull(start.substr(start.find('/') + 1), nullptr, 16);
  EXPECT_EQ(j["recovery"]["segments_replayed"].get<uint64_t>(), AtLsn() / (16u << 20) - start_lsn / (16u << 20) + 1)
      << j["recovery"].dump(2);
  ASSERT_TRUE(j["recovery"]["replay_mb_per_second"].is_number()) << j["recovery"].dump(2);
  EXPECT_NEAR(j["recovery"]["replay_mb_per_second"].get<double>(),
              bytes / 1048576.0 / j["phases"][3]["seconds"].get<double>(),
              0.01 * j["recovery"]["replay_mb_per_second"].get<double>());
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
}

// On a hot standby, every database of the cluster was read at one paused
// replay position while writers committed in two of them; the restore to
// that LSN holds exactly each database's data.
TEST_F(PitrRestore, EveryDatabaseOfAStandbyRestoresToItsOnePosition) {
  ASSERT_EQ(cluster_digest_.exit_code, 0) << cluster_digest_.out << cluster_digest_.err;
  EXPECT_EQ(replay_state_, "not paused\n") << "replay was not resumed after the read";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_ + "/cluster")) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"pitr.json", "pitr_u.json", "pitr_w.json", "postgres.json"}));
  std::string lsn;
  for (const auto& f : files) {
    const auto m = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/cluster/" + f));
    if (lsn.empty()) lsn = m["source"]["properties"]["at_lsn"];
    EXPECT_EQ(m["source"]["properties"]["at_lsn"], lsn) << f;
    EXPECT_EQ(m["source"]["properties"]["cluster_databases"], "pitr, pitr_u, pitr_w, postgres") << f;
  }
  EXPECT_NE(cluster_digest_.out.find("All 4 databases of the cluster read at LSN " + lsn), std::string::npos)
      << cluster_digest_.out;
  // A ledger line per database.
  auto ledger = RunCommand(vouch_ + " ledger verify " + dir_ + "/cluster.ledger");
  EXPECT_EQ(ledger.exit_code, 0) << ledger.out << ledger.err;
  EXPECT_NE(ledger.out.find("4 lines, the chain holds"), std::string::npos) << ledger.out;
  // The read fell between the writers' first and last commits, in both.
  const int64_t w_rows = ManifestRows(dir_ + "/cluster/pitr_w.json");
  EXPECT_GT(w_rows, 300);
  EXPECT_LT(w_rows, 2000);
  EXPECT_GT(ManifestRows(dir_ + "/cluster/pitr.json"), before_standby_rows_);
  EXPECT_LT(ManifestRows(dir_ + "/cluster/pitr.json"), before_standby_rows_ + 2000);
  // The unlogged table has no rows on a standby (the server refuses to read
  // it there): read as empty, and marked so.
  const auto u = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/cluster/pitr_u.json"));
  bool u_seen = false;
  for (const auto& t : u["tables"]) {
    if (t["name"] != "u") continue;
    u_seen = true;
    EXPECT_EQ(t["rows"], 0);
    EXPECT_EQ(t["read_as"], "not read: unlogged, so empty on a standby (its rows are never replicated)");
  }
  EXPECT_TRUE(u_seen) << u["tables"].dump();

  auto r = RestoreTest("base --wal-archive " + archive_ + " --target-manifest cluster --format json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 6000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j["passed"].get<bool>()) << FailedChecks(j);
  ASSERT_EQ(j["databases"].size(), 4u);
  for (const auto& db : j["databases"]) {
    const std::string name = db["database"];
    const auto m = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/cluster/" + name + ".json"));
    EXPECT_EQ(db["drill"]["final_validation_hash"]["restored"], m["final_validation_hash"]) << name;
  }
  // The unlogged table of pitr_u is named with its database.
  EXPECT_EQ(j["recovery"]["unlogged_tables_expected_empty"],
            nlohmann::json::array({"pitr_u: public.u (0 rows in the manifest)"}));
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
}

// A directory the set of manifests is not whole in is refused before any
// restore: the missing database is named.
TEST_F(PitrRestore, AManifestMissingFromTheClustersSetIsNamed) {
  ASSERT_EQ(RunCommand("rm -rf " + dir_ + "/partial && cp -a " + dir_ + "/cluster " + dir_ + "/partial && rm " + dir_ +
                       "/partial/pitr_w.json")
                .exit_code,
            0);
  auto r = RestoreTest("base --wal-archive " + archive_ + " --target-manifest partial");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("holds manifests of pitr, pitr_u, postgres; the cluster's databases were pitr, pitr_u, "
                       "pitr_w, postgres (a manifest is missing)"),
            std::string::npos)
      << r.err;
}

// A primary cannot give every database at one position.
TEST_F(PitrRestore, AllDatabasesOnAPrimaryIsRefused) {
  auto r = RunCommand(vouch_ + " digest -q --at-lsn --all-databases " + uri_ + " -o " + dir_ + "/primary");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("is a primary: only a hot standby, its replay paused, holds every database at one WAL "
                       "position"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/primary"));
}

// To the archive's end, from compressed segments as well: every commit.
TEST_F(PitrRestore, TheRestoreToTheArchivesEndHoldsEveryCommitFromCompressedSegmentsToo) {
  const std::string archive = CopyArchive("archive_gz");
  ASSERT_EQ(RunCommand("gzip " + archive + "/" + MiddleSegment()).exit_code, 0);
  auto r = RestoreTest("base --wal-archive " + archive + " --expect final.json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 6000) << r.err;
  EXPECT_NE(r.out.find("✅ PASS"), std::string::npos);
  EXPECT_NE(r.out.find("(1 decompressed)"), std::string::npos) << r.out.substr(0, 2000);
}

// A tar backup (base.tar.gz, pg_wal.tar.gz) is extracted, then the same.
TEST_F(PitrRestore, ATarBackupIsExtractedAndRestoresToTheArchivesEnd) {
  auto r = RestoreTest("base_tar --wal-archive " + archive_ + " --expect final.json --format json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 6000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j["passed"].get<bool>());
  std::vector<std::string> phases;
  for (const auto& p : j["phases"]) phases.push_back(p["name"]);
  EXPECT_EQ(phases, (std::vector<std::string>{"extract", "stage WAL", "server start", "WAL replay", "verify"}));
  EXPECT_TRUE(fs::exists(dir_ + "/base_tar/base.tar.gz"));
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
}

// A segment missing in the middle is named before anything is copied.
TEST_F(PitrRestore, AMissingSegmentIsNamed) {
  const std::string archive = CopyArchive("archive_missing");
  const std::string middle = MiddleSegment();
  ASSERT_FALSE(middle.empty());
  fs::remove(archive + "/" + middle);
  auto r = RestoreTest("base --wal-archive " + archive + " --expect final.json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("WAL segment " + middle + " is missing from " + archive), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("PASS"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
}

// --rpo-target holds for the real RPO: the manifest's read time minus the
// last commit replayed (here, the writer's last commit before final.json
// was read).
TEST_F(PitrRestore, TheRealRpoIsCheckedAgainstTheTarget) {
  auto missed = RestoreTest("base --wal-archive " + archive_ + " --expect final.json --rpo-target 1ms --format json");
  EXPECT_EQ(missed.exit_code, 1) << missed.out << missed.err;
  auto j = nlohmann::json::parse(missed.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << missed.out;
  ASSERT_TRUE(j["recovery"]["rpo_seconds"].is_number()) << j["recovery"].dump(2);
  EXPECT_GT(j["recovery"]["rpo_seconds"].get<double>(), 0.001);
  EXPECT_NE(j["recovery"]["failures"].dump().find("exceeds the target 0.001 s"), std::string::npos)
      << j["recovery"].dump(2);
  auto met = RestoreTest("base --wal-archive " + archive_ + " --expect final.json --rpo-target 1d");
  EXPECT_EQ(met.exit_code, 0) << met.out << met.err;
}

// With the live --source, the RPO runs from the source's state when
// recovery ended (here the primary's clock: track_commit_timestamp is off),
// not from the manifest's older read.
TEST_F(PitrRestore, TheRpoRunsFromALiveSourceReadWhenRecoveryEnds) {
  const std::string before = Scalar("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\\\"T\\\"HH24:MI:SS')");
  auto r = RestoreTest("base --wal-archive " + archive_ + " --expect final.json --source " + uri_ + " --format json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 4000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  const auto& rec = j["recovery"];
  EXPECT_EQ(rec["source_latest_from"],
            "the live source's clock at the read (track_commit_timestamp is off, or no commit yet)");
  ASSERT_FALSE(before.empty());
  EXPECT_GE(rec["source_latest"].get<std::string>(), before) << rec.dump(2);
  const auto final_manifest = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/final.json"));
  EXPECT_GT(rec["source_latest"].get<std::string>(),
            final_manifest["source"]["properties"]["snapshot_time"].get<std::string>());
  // The last commit replayed precedes `before`: the RPO covers at least
  // the time between them.
  ASSERT_TRUE(rec["rpo_seconds"].is_number()) << rec.dump(2);
  EXPECT_LT(rec["last_commit"].get<std::string>(), before);
  EXPECT_GT(rec["rpo_seconds"].get<double>(), 0.0);
}

// An archive whose newest timeline forked off before the backup began: the
// server refuses it, and the report names the timeline mismatch.
TEST_F(PitrRestore, ATimelineThatForkedBeforeTheBackupIsNamed) {
  const std::string archive = CopyArchive("archive_timeline");
  {
    std::ofstream h(archive + "/00000002.history");
    h << "1\t0/1000000\tno recovery target specified\n";
  }
  auto r = RestoreTest("base --wal-archive " + archive + " --expect final.json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("timeline mismatch: requested timeline 2 is not a child of this server's history"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(Latest checkpoint is at "), std::string::npos) << "the server's DETAIL: " << r.out;
  EXPECT_EQ(r.out.find("PASS"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
}

// A damaged segment ends recovery early: named with the server's words.
TEST_F(PitrRestore, ADamagedSegmentEndsRecoveryAndIsNamed) {
  const std::string archive = CopyArchive("archive_damaged");
  const std::string middle = MiddleSegment();
  {
    std::fstream f(archive + "/" + middle, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(AtLsn() % (16u << 20)));
    const std::string junk(300, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto r = RestoreTest("base --wal-archive " + archive + " --expect final.json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("recovery ended at LSN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in segment " + middle), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("PASS"), std::string::npos);
}

// An unlogged table comes back empty from a physical restore, by design:
// expected empty, reported, never a false FAIL.
TEST_F(PitrRestore, AnUnloggedTableIsExpectedEmptyNotAFailure) {
  auto r = RestoreTest("base --wal-archive " + archive_ + " --expect unlogged.json --format json");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 6000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j["passed"].get<bool>());
  EXPECT_EQ(j["recovery"]["unlogged_tables_expected_empty"],
            nlohmann::json::array({"public.u (120 rows in the manifest)"}));
  bool l_seen = false;
  for (const auto& t : j["databases"][0]["drill"]["tables"]) {
    if (t["table"] == "public.l") l_seen = t["match"].get<bool>();
  }
  EXPECT_TRUE(l_seen) << j["databases"].dump(2);
}

TEST_F(PitrRestore, ATargetBeyondTheArchiveIsNamed) {
  auto r = RestoreTest("base --wal-archive " + archive_ + " --expect final.json --target-lsn FF/0");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("recovery target FF/0 is beyond the archive"), std::string::npos) << r.out;
}

// A bit flipped in the table's file in a copy of the backup: the page
// checksum (the cluster has them) or the digest catches it; never PASS.
TEST_F(PitrRestore, ADamagedDataPageNeverPasses) {
  const std::string copy = dir_ + "/base_damaged";
  ASSERT_EQ(RunCommand("cp -a " + dir_ + "/base " + copy).exit_code, 0);
  const std::string rel = Scalar("SELECT pg_relation_filepath('t')");
  {
    std::fstream f(copy + "/" + rel, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << rel;
    f.seekg(8192 * 3 + 4000);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(8192 * 3 + 4000);
    f.write(&c, 1);
  }
  auto r = RestoreTest("base_damaged --wal-archive " + archive_ + " --expect final.json");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("PASS —"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
}

TEST_F(PitrRestore, BinariesOfAnotherMajorVersionAreRefused) {
  const std::string bin = dir_ + "/fake_bin";
  fs::create_directories(bin);
  {
    std::ofstream p(bin + "/postgres");
    p << "#!/bin/sh\necho 'postgres (PostgreSQL) 99.1'\n";
  }
  fs::permissions(bin + "/postgres", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  auto r = RestoreTest("base --wal-archive " + archive_ + " --expect final.json --pg-bin " + bin);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("PostgreSQL 99 binaries; the backup is PostgreSQL " + std::to_string(testing::TestPg().major)),
            std::string::npos)
      << r.err;
}

// verify-backup --recovery-window: the oldest of the retained backups (the
// plain one) with its WAL through the archive's newest segment, and the
// server's archiver statistics.
TEST_F(PitrRestore, TheRecoveryWindowIsProvenFromTheOldestBackupToTheNewestSegment) {
  ASSERT_EQ(RunCommand("mkdir -p " + dir_ + "/backups && ln -sfn " + dir_ + "/base " + dir_ + "/backups/a && ln -sfn " +
                       dir_ + "/base_tar " + dir_ + "/backups/b")
                .exit_code,
            0);
  const std::string source = " --source " + uri_;
  auto r = RunCommand(vouch_ + " verify-backup -q --format json --recovery-window " + dir_ + "/backups --wal-archive " +
                      archive_ + source + " --max-age 1h");
  EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 4000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["backups"].size(), 2u);
  EXPECT_EQ(j["backups"][0]["dir"], dir_ + "/backups/a");
  std::string newest;
  for (const auto& e : fs::directory_iterator(archive_)) {
    const std::string n = e.path().filename().string();
    if (n.size() == 24) newest = std::max(newest, n);
  }
  EXPECT_EQ(j["window"]["newest_segment"], newest);
  EXPECT_EQ(j["archiver"]["failed_count"], 0);

  // The archiver's last segment older than --max-age.
  auto stale = RunCommand(vouch_ + " verify-backup -q --recovery-window " + dir_ + "/backups --wal-archive " +
                          archive_ + source + " --max-age 1ms");
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
  EXPECT_NE(stale.out.find("❌ archiver: " + Scalar("SELECT last_archived_wal FROM pg_stat_archiver") +
                           ": the last archived segment is"),
            std::string::npos)
      << stale.out;

  // A segment removed from the middle of the window is named.
  const std::string archive = CopyArchive("archive_window");
  fs::remove(archive + "/" + MiddleSegment());
  auto gap = RunCommand(vouch_ + " verify-backup -q --format json --recovery-window " + dir_ +
                        "/backups --wal-archive " + archive);
  EXPECT_EQ(gap.exit_code, 1) << gap.out << gap.err;
  auto g = nlohmann::json::parse(gap.out, nullptr, false);
  ASSERT_FALSE(g.is_discarded()) << gap.out;
  bool named = false;
  for (const auto& f : g["oldest"]["findings"]) named |= f["kind"] == "wal-missing" && f["path"] == MiddleSegment();
  EXPECT_TRUE(named) << g["oldest"]["findings"].dump(2);
}

// A page of an index overwritten in the restored copy (kept with --keep,
// started again): the amcheck step of a drill on it names the index.
TEST_F(PitrRestore, AnIndexPageOverwrittenInTheRestoredCopyIsCaughtByAmcheck) {
  const std::string kept = dir_ + "/kept";
  auto r = RestoreTest("base --wal-archive " + archive_ + " --expect final.json --keep " + kept);
  ASSERT_EQ(r.exit_code, 0) << r.out.substr(0, 4000) << r.err;
  EXPECT_NE(r.out.find("Index Integrity\n  ✅"), std::string::npos) << r.out;
  // A physical copy keeps the source's file names.
  const std::string rel = Scalar("SELECT pg_relation_filepath('t_pkey')");
  {
    std::fstream f(kept + "/data/" + rel, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << rel;
    std::string page(8192, '\0');
    f.seekg(8192);
    f.read(page.data(), 8192);
    f.seekp(8192 * 2);
    f.write(page.data(), 8192);
  }
  const int port = FreePort();
  const std::string as = geteuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string pg_ctl = as + testing::TestPg().bindir + "/pg_ctl -D " + kept + "/data -l " + kept + "/again.log";
  auto start = RunCommand(pg_ctl + " -w start -o '-p " + std::to_string(port) + " -k " + kept +
                          " -c listen_addresses=127.0.0.1'");
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err << testing::ReadFileBytes(kept + "/again.log");
  auto drill = RunCommand(vouch_ + " drill " + dir_ + "/final.json 'host=127.0.0.1 port=" + std::to_string(port) +
                          " user=vouch dbname=pitr' --amcheck");
  RunCommand(pg_ctl + " -w -m fast stop; rm -rf " + kept);
  EXPECT_EQ(drill.exit_code, 1) << drill.out << drill.err;
  EXPECT_NE(drill.out.find("public.t_pkey on public.t: "), std::string::npos) << drill.out;
}

// SIGTERM while the scratch server recovers: no server, no directory.
TEST_F(PitrRestore, SigtermDuringRecoveryLeavesNothing) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    const std::string scratch = dir_ + "/scratch", base = dir_ + "/base", expect = dir_ + "/final.json";
    execl(vouch_.c_str(), vouch_.c_str(), "restore-test", "--scratch", scratch.c_str(), "--wal-archive",
          archive_.c_str(), "--expect", expect.c_str(), base.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool seen = false;
  for (int i = 0; i < 2400 && !seen; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ + "/scratch", ec)) {
      seen |= fs::exists(e.path() / "data" / "postmaster.pid") && fs::exists(e.path() / "server.log");
    }
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(seen) << "the server was not seen starting";
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_TRUE(fs::is_empty(dir_ + "/scratch"));
  auto procs = RunCommand("pgrep -a -f -- '" + dir_ + "[/]scratch'");
  EXPECT_EQ(procs.exit_code, 1) << "processes left: " << procs.out << procs.err;
}

}  // namespace
}  // namespace vouch
