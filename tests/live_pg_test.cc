// The live reader against the real server: the same digest as vouch's own
// reading of pg_dump's output of the same database, whatever the server's or
// the client's session defaults; a pg_dump | psql copy has the same final
// hash; connection failures and a backend killed mid-run are exit 3.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

class LivePg : public testing::PreparedTest<LivePg> {
 protected:
  friend class testing::PreparedTest<LivePg>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_live", 0.005, 9, /*tricky=*/true);
    dir_ = testing::MakeTempDir("vouch_live");
    vouch_ = testing::BinPath("VOUCH_BIN");
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static std::string Uri(const std::string& db) { return testing::DatabaseUri(db); }
  static std::string FinalHash(const testing::CmdResult& r) {
    size_t pos = r.out.find("FINAL_VALIDATION_HASH: ");
    return pos == std::string::npos ? "" : r.out.substr(pos + 23, 64);
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args); }

  static std::string db_, dir_, vouch_;
};
std::string LivePg::db_, LivePg::dir_, LivePg::vouch_;

TEST_F(LivePg, LiveDigestEqualsDumpDigest) {
  auto live = Vouch("digest " + Uri(db_) + " --jobs 2 -q");
  ASSERT_EQ(live.exit_code, 0) << live.err;
  ASSERT_EQ(RunCommand("PGTZ=UTC pg_dump -Fp -d " + db_ + " -f " + dir_ + "/live.sql").exit_code, 0);
  auto dump = Vouch("digest " + dir_ + "/live.sql -q");
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(live.out.substr(live.out.find("\n| ")), dump.out.substr(dump.out.find("\n| ")));
  EXPECT_FALSE(FinalHash(live).empty());
  EXPECT_EQ(FinalHash(live), FinalHash(dump));
  // Leaf partitions are read, not the partitioned parent; generated columns are left out.
  EXPECT_NE(live.out.find("| public.parted_eu "), std::string::npos);
  EXPECT_EQ(live.out.find("| public.parted "), std::string::npos);
  EXPECT_NE(live.out.find("| public.\"Odd \"\"Table\"\" Näme\" "), std::string::npos) << live.out;
}

// Generated columns are left out on every side, as pg_dump leaves them out:
// stored ones, and from PostgreSQL 18 virtual ones (the default kind there).
// A table that differs only in its generation expressions has the same
// content hash. The report names the server's version.
TEST_F(LivePg, GeneratedColumnsAreLeftOutOnEverySide) {
  const int major = testing::TestPg().major;
  const std::string db = testing::CreateDatabase("vouch_gen_cols");
  const std::string virt =
      major >= 18 ? ", v int GENERATED ALWAYS AS (a * 2) VIRTUAL, d int GENERATED ALWAYS AS (a + 1)" : "";
  ASSERT_EQ(RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db +
                       " -c 'CREATE TABLE g (id int PRIMARY KEY, a int, s int GENERATED ALWAYS AS (a * 3) STORED" +
                       virt + ")' -c 'INSERT INTO g (id, a) SELECT x, x FROM generate_series(1, 500) x'" +
                       " -c 'CREATE TABLE plain_g (id int PRIMARY KEY, a int)'" +
                       " -c 'INSERT INTO plain_g SELECT x, x FROM generate_series(1, 500) x'")
                .exit_code,
            0);
  auto live = Vouch("digest " + Uri(db) + " -q");
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_NE(live.out.find("(database, PostgreSQL " + std::to_string(major) + "."), std::string::npos) << live.out;
  auto hash_of = [](const std::string& out, const std::string& table) {
    size_t p = out.find("| public." + table + " ");
    if (p == std::string::npos) return std::string();
    std::string line = out.substr(p, out.find('\n', p) - p);
    return line.substr(line.rfind('|', line.size() - 2) + 2, 32);
  };
  ASSERT_FALSE(hash_of(live.out, "g").empty()) << live.out;
  EXPECT_EQ(hash_of(live.out, "g"), hash_of(live.out, "plain_g")) << live.out;
  for (const std::string flags : {"-Fc", "-Fd", "-Fp"}) {
    SCOPED_TRACE(flags);
    const std::string out = dir_ + "/gen" + flags;
    ASSERT_EQ(RunCommand("rm -rf " + out + " && pg_dump " + flags + " -d " + db + " -f " + out).exit_code, 0);
    auto dump = Vouch("digest " + out + " -q");
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_EQ(FinalHash(dump), FinalHash(live));
    EXPECT_NE(dump.out.find("PostgreSQL " + std::to_string(major) + "."), std::string::npos) << dump.out;
  }
  testing::DropDatabase(db);
}

TEST_F(LivePg, DumpsTakenInOtherTimeZonesGiveTheLiveDigest) {
  auto live = Vouch("digest " + Uri(db_) + " -q");
  ASSERT_EQ(live.exit_code, 0) << live.err;
  for (const char* zone : {"America/New_York", "Asia/Kolkata", "Pacific/Chatham"}) {
    SCOPED_TRACE(zone);
    std::string file = dir_ + "/zone.sql";
    ASSERT_EQ(RunCommand(std::string("PGTZ=") + zone + " pg_dump -Fp -d " + db_ + " -f " + file).exit_code, 0);
    // The dump really holds local offsets (so this test can fail).
    EXPECT_NE(RunCommand("grep -cE '[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?[+-]([1-9][0-9]|0[1-9])' " + file).out,
              "0\n");
    auto dump = Vouch("digest " + file + " -q");
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    EXPECT_EQ(dump.out.substr(dump.out.find("\n| ")), live.out.substr(live.out.find("\n| ")));
  }
  // A timestamptz inside a composite value cannot be rewritten: a clear
  // error, never a wrong hash.
  std::string db = testing::CreateDatabase("vouch_tz_composite");
  ASSERT_EQ(RunCommand("psql -X -q -d " + db +
                       " -c \"CREATE TYPE ev AS (at timestamptz, label text); "
                       "CREATE TABLE t (id int, e ev); INSERT INTO t VALUES (1, ROW('2025-03-01 12:00+00', 'x'))\"")
                .exit_code,
            0);
  ASSERT_EQ(RunCommand("PGTZ=Asia/Kolkata pg_dump -Fp -d " + db + " -f " + dir_ + "/composite.sql").exit_code, 0);
  auto r = Vouch("digest " + dir_ + "/composite.sql");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("column e holds a timestamptz with a non-UTC offset"), std::string::npos) << r.err;
  ASSERT_EQ(RunCommand("PGTZ=UTC pg_dump -Fp -d " + db + " -f " + dir_ + "/composite.sql").exit_code, 0);
  EXPECT_EQ(Vouch("digest " + dir_ + "/composite.sql").exit_code, 0);
  testing::DropDatabase(db);
}

TEST_F(LivePg, DoesNotHangWhenTheLastTableEndsEmpty) {
  // The reader once polled no sockets for 60 s after its last (empty) table.
  auto r = RunCommand("timeout 30 " + vouch_ + " digest " + Uri(db_) + " -q --jobs 1");
  EXPECT_EQ(r.exit_code, 0) << "exit 124 means it hung: " << r.err;
}

TEST_F(LivePg, SessionAndServerDefaultsDoNotChangeTheHash) {
  auto ref = Vouch("digest " + Uri(db_) + " -q");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  auto odd = RunCommand(
      "PGOPTIONS='-c TimeZone=Asia/Kolkata -c DateStyle=SQL,DMY -c extra_float_digits=0 "
      "-c bytea_output=escape -c IntervalStyle=sql_standard' PGTZ=America/New_York " +
      vouch_ + " digest " + Uri(db_) + " -q");
  ASSERT_EQ(odd.exit_code, 0) << odd.err;
  EXPECT_EQ(FinalHash(odd), FinalHash(ref));
  std::string alter = "ALTER DATABASE " + db_ + " SET timezone = 'America/New_York'; ALTER DATABASE " + db_ +
                      " SET datestyle = 'German'; ALTER DATABASE " + db_ + " SET extra_float_digits = -15";
  ASSERT_EQ(RunCommand("psql -X -q -d postgres -c \"" + alter + "\"").exit_code, 0);
  auto server = Vouch("digest " + Uri(db_) + " -q");
  RunCommand("psql -X -q -d postgres -c 'ALTER DATABASE " + db_ + " RESET ALL'");
  ASSERT_EQ(server.exit_code, 0) << server.err;
  EXPECT_EQ(FinalHash(server), FinalHash(ref));
}

TEST_F(LivePg, DumpRestoreCopyHasTheSameFinalHash) {
  std::string copy = testing::CreateDatabase("vouch_live_copy");
  auto restore = RunCommand("pg_dump -Fc -d " + db_ + " | pg_restore -d " + copy);
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  auto a = Vouch("digest " + Uri(db_) + " -q --jobs 2");
  auto b = Vouch("digest " + Uri(copy) + " -q --jobs 1");
  ASSERT_EQ(a.exit_code, 0);
  ASSERT_EQ(b.exit_code, 0);
  EXPECT_EQ(FinalHash(a), FinalHash(b));
  // One changed value changes the hash.
  ASSERT_EQ(
      RunCommand("psql -X -q -d " + copy + " -c \"UPDATE types SET f8 = 0.30000000000000004 WHERE id = 3\"").exit_code,
      0);
  auto c = Vouch("digest " + Uri(copy) + " -q");
  EXPECT_NE(FinalHash(c), FinalHash(a));
  // numeric 1.10 and 1.1 are different values (their scale differs).
  ASSERT_EQ(RunCommand("psql -X -q -d " + copy +
                       " -c \"UPDATE types SET f8 = 0.1 WHERE id = 3; "
                       "UPDATE types SET num = 1.1 WHERE id = 1\"")
                .exit_code,
            0);
  auto d = Vouch("compare " + Uri(db_) + " " + Uri(copy));
  EXPECT_EQ(d.exit_code, 1) << d.out;
  EXPECT_NE(d.out.find("public.types: 0 missing, 0 extra, 1 changed (key id)\n  changed  id=1\n"), std::string::npos)
      << d.out;
  testing::DropDatabase(copy);
}

TEST_F(LivePg, HotStandbyGivesTheSameDigest) {
  const auto& v = testing::TestPg().vars;
  std::string source = std::string(std::getenv("VOUCH_SOURCE_DIR"));
  std::string env_dir = std::string(std::getenv("VOUCH_TEST_ENV"));
  env_dir = env_dir.substr(0, env_dir.rfind('/'));
  std::string rdir = dir_ + "/replica";
  auto make = RunCommand(source + "/scripts/pgcluster.sh replica " + env_dir + " " + rdir);
  ASSERT_EQ(make.exit_code, 0) << make.err;
  std::string rport = RunCommand("sed -n 's/^PGPORT=//p' " + rdir + "/env").out;
  rport.erase(rport.find_last_not_of("\n") + 1);
  std::string replica_uri = "postgresql://" + v.at("PGUSER") + "@127.0.0.1:" + rport + "/" + db_;
  // Wait until the standby has replayed everything the primary wrote.
  std::string lsn = PsqlScalar(db_, "SELECT pg_current_wal_lsn()");
  auto wait = RunCommand("for i in $(seq 1 100); do r=$(psql -X -At -p " + rport + " -d " + db_ +
                         " -c \"SELECT pg_last_wal_replay_lsn() >= '" + lsn +
                         "'\" 2>/dev/null); "
                         "[ \"$r\" = t ] && exit 0; sleep 0.2; done; exit 1");
  ASSERT_EQ(wait.exit_code, 0) << "standby did not catch up";
  auto primary = Vouch("digest " + Uri(db_) + " -q --jobs 2 --format json");
  auto standby = Vouch("digest " + replica_uri + " -q --jobs 2 --format json");
  // --at-lsn on the standby: replay paused for the read, resumed after.
  auto at_lsn = Vouch("digest " + replica_uri + " -q --jobs 2 --format json --at-lsn");
  const std::string pause_state =
      RunCommand("psql -X -At -p " + rport + " -d " + db_ + " -c 'SELECT pg_get_wal_replay_pause_state()'").out;
  // On the primary (wal_level = replica here) --at-lsn needs a logical slot.
  auto on_primary = Vouch("digest " + Uri(db_) + " -q --at-lsn");
  RunCommand(source + "/scripts/pgcluster.sh stop " + rdir);
  EXPECT_EQ(at_lsn.exit_code, 0) << at_lsn.err;
  EXPECT_NE(at_lsn.out.find("\"at_lsn_method\": \"standby replay paused\""), std::string::npos)
      << at_lsn.out.substr(0, 1500);
  EXPECT_NE(at_lsn.out.find("\"at_lsn\": \""), std::string::npos);
  EXPECT_EQ(pause_state, "not paused\n");
  EXPECT_EQ(on_primary.exit_code, 2) << on_primary.err;
  EXPECT_NE(on_primary.err.find("--at-lsn on a primary needs wal_level = logical (it is replica)"), std::string::npos)
      << on_primary.err;
  ASSERT_EQ(standby.exit_code, 0) << standby.err;
  ASSERT_EQ(primary.exit_code, 0) << primary.err;
  auto final_of = [](const std::string& json) {
    size_t p = json.find("\"final_validation_hash\": \"");
    return p == std::string::npos ? std::string() : json.substr(p + 26, 64);
  };
  EXPECT_FALSE(final_of(primary.out).empty());
  EXPECT_EQ(final_of(standby.out), final_of(primary.out));
  EXPECT_EQ(final_of(at_lsn.out), final_of(primary.out));
  EXPECT_NE(standby.out.find("\"in_recovery\": \"true\""), std::string::npos) << standby.out.substr(0, 1500);
  EXPECT_NE(standby.out.find("\"replay_lsn\""), std::string::npos);
  EXPECT_NE(primary.out.find("\"in_recovery\": \"false\""), std::string::npos);
}

TEST_F(LivePg, ConnectionFailuresExit3WithoutThePassword) {
  auto refused = Vouch("digest 'postgresql://vouch:s3cretPW@127.0.0.1:1/postgres' -q");
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_EQ(refused.out, "");
  EXPECT_NE(refused.err.find("cannot connect"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("s3cretPW"), std::string::npos) << refused.err;
  auto nodb = Vouch("digest " + Uri("no_such_database_x") + " -q");
  EXPECT_EQ(nodb.exit_code, 3);
  EXPECT_NE(nodb.err.find("no_such_database_x"), std::string::npos) << nodb.err;
}

TEST_F(LivePg, PasswordsComeFromLibpqAndAreNeverPrinted) {
  PsqlScalar("postgres",
             "DROP ROLE IF EXISTS vouch_pw; CREATE ROLE vouch_pw LOGIN PASSWORD 'Right-Pw-42'; "
             "GRANT pg_read_all_data TO vouch_pw; SELECT 1");
  const auto& v = testing::TestPg().vars;
  std::string base = "vouch_pw@127.0.0.1:" + v.at("PGPORT") + "/" + db_;
  auto wrong = Vouch("digest 'postgresql://vouch_pw:Wrong-Pw-13@" + base.substr(9) + "' -q");
  EXPECT_EQ(wrong.exit_code, 3);
  EXPECT_NE(wrong.err.find("password authentication failed"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("Wrong-Pw-13"), std::string::npos) << wrong.err;
  auto ref = Vouch("digest " + Uri(db_) + " -q");
  auto env = RunCommand("PGPASSWORD=Right-Pw-42 " + vouch_ + " digest postgresql://" + base + " -q");
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(FinalHash(env), FinalHash(ref));
  auto uri = Vouch("digest 'postgresql://vouch_pw:Right-Pw-42@" + base.substr(9) + "' -q --format json");
  EXPECT_EQ(uri.exit_code, 0) << uri.err;
  EXPECT_EQ(uri.out.find("Right-Pw-42"), std::string::npos) << "the password reached the manifest";
  PsqlScalar("postgres", "DROP OWNED BY vouch_pw; DROP ROLE vouch_pw; SELECT 1");
}

TEST_F(LivePg, BackendTerminatedMidRunExit3) {
  // Hold an exclusive lock so vouch's COPY waits, then terminate its backend.
  std::thread locker([&] {
    RunCommand("psql -X -q -d " + db_ +
               " -c 'BEGIN; LOCK TABLE public.tool_calls IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT'");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::thread killer([&] {
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::string n =
          PsqlScalar("postgres",
                     "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'vouch' "
                     "AND datname = '" +
                         db_ + "' AND wait_event_type = 'Lock'");
      if (n != "0") {  // done: release the lock holder too
        PsqlScalar("postgres", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + db_ +
                                   "' AND query LIKE '%pg_sleep(8)%' AND pid <> pg_backend_pid()");
        return;
      }
    }
  });
  auto r = Vouch("digest " + Uri(db_) + " -q --jobs 2");
  killer.join();
  locker.join();
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("terminat"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vouch
