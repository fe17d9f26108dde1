// vouch restore-test end to end (issue "Restore and prove"): a database with
// many kinds of objects (tests/data/schema_rich.sql), an owner role of its
// own and a table of 200,000 rows, dumped by the real pg_dump, restored by
// the real pg_restore into a scratch cluster that vouch makes, and proven
// against the archive; a restore without the roles fails with pg_restore's
// error; SIGTERM in the middle leaves no server and no scratch directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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

class RestoreTest : public testing::PreparedTest<RestoreTest> {
 protected:
  friend class testing::PreparedTest<RestoreTest>;
  static void Prepare() {
    const char* root = std::getenv("VOUCH_SOURCE_DIR");
    ASSERT_NE(root, nullptr) << "VOUCH_SOURCE_DIR is not set: run the tests through ctest";
    db_ = testing::CreateDatabase("vouch_restore_src");
    dir_ = testing::MakeTempDir("vouch_restore");
    // The scratch clusters are made here: the server's user must reach them.
    ASSERT_EQ(RunCommand("chmod 755 " + dir_ + " && mkdir -m 755 " + dir_ + "/scratch").exit_code, 0);
    auto load = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db_ + " -f " + std::string(root) +
                           "/tests/data/schema_rich.sql && psql -X -q -v ON_ERROR_STOP=1 -d " + db_ +
                           " -c \"DO \\$\\$BEGIN CREATE ROLE vouch_rt_owner; EXCEPTION WHEN duplicate_object THEN "
                           "NULL; END\\$\\$; CREATE TABLE public.owned AS SELECT g AS id, md5(g::text) AS v FROM "
                           "generate_series(1, 200000) g; ALTER TABLE public.owned ADD PRIMARY KEY (id); ALTER TABLE "
                           "public.owned OWNER TO vouch_rt_owner\"");
    ASSERT_EQ(load.exit_code, 0) << load.err;
    auto dump = RunCommand("cd " + dir_ + " && pg_dump -Fc -d " + db_ + " -f db.custom && pg_dump -Ft -d " + db_ +
                           " -f db.tar && pg_dump -Fp -d " + db_ + " -f db.sql && pg_dump -Fd -d " + db_ +
                           " -f db.dir && pg_dumpall -g -f globals.sql");
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    vouch_ = testing::BinPath("VOUCH_BIN");
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) {
    return RunCommand("cd " + dir_ + " && " + vouch_ + " restore-test --scratch " + dir_ + "/scratch " + args);
  }
  static bool ScratchEmpty() { return fs::is_empty(dir_ + "/scratch"); }

  static std::string db_, dir_, vouch_;
};
std::string RestoreTest::db_, RestoreTest::dir_, RestoreTest::vouch_;

// Each archive format restores to PASS once the source's roles are in: the
// rows' and the schema objects' hashes (roles included) are the archive's,
// a drill check asked for by its flag ran, every phase is timed, and the
// scratch cluster is gone.
TEST_F(RestoreTest, EveryFormatRestoresAndProvesWithTheGlobals) {
  for (const char* archive : {"db.custom", "db.tar", "db.dir"}) {
    SCOPED_TRACE(archive);
    auto r = Vouch(std::string(archive) + " --globals globals.sql --gap-column public.owned.id --format json");
    EXPECT_EQ(r.exit_code, 0) << r.out.substr(0, 4000) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_TRUE(j["passed"].get<bool>());
    ASSERT_EQ(j["databases"].size(), 1u);
    EXPECT_EQ(j["databases"][0]["database"], db_);
    std::vector<std::string> phases;
    double sum = 0;
    for (const auto& p : j["phases"]) {
      phases.push_back(p["name"]);
      sum += p["seconds"].get<double>();
    }
    EXPECT_EQ(phases, (std::vector<std::string>{"initdb", "server start", "globals", "pg_restore", "verify"}));
    EXPECT_NEAR(j["rto_seconds"].get<double>(), sum, 1e-3);
    EXPECT_EQ(j["pg_restore"]["exit"], 0);
    EXPECT_TRUE(j["pg_restore"]["errors"].empty());
    const auto& d = j["databases"][0]["drill"];
    ASSERT_TRUE(d.is_object());
    EXPECT_EQ(d["final_validation_hash"]["source"], d["final_validation_hash"]["restored"]);
    // The drill's own check flags run in the same pass.
    ASSERT_EQ(d["gaps"]["restored"].size(), 1u) << d["gaps"].dump();
    EXPECT_EQ(d["gaps"]["restored"][0]["column"], "id");
    EXPECT_TRUE(d["gaps"]["restored"][0]["found"].get<bool>());
    EXPECT_EQ(d["gaps"]["restored"][0]["result"]["values"], 200000);
    EXPECT_TRUE(ScratchEmpty());
  }
}

// Without the roles, pg_restore cannot give the table to its owner: the run
// fails (exit 1) and names pg_restore's error, and the scratch cluster is
// still removed.
TEST_F(RestoreTest, AMissingRoleIsPgRestoresErrorAndFails) {
  auto r = Vouch("db.custom --format json");
  EXPECT_EQ(r.exit_code, 1) << r.out.substr(0, 4000) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_FALSE(j["passed"].get<bool>());
  EXPECT_EQ(j["pg_restore"]["exit"], 1);
  bool named = false;
  for (const auto& e : j["pg_restore"]["errors"]) {
    const std::string text = e.get<std::string>();
    named |= text.find("role \"vouch_rt_owner\" does not exist") != std::string::npos &&
             text.find("ALTER TABLE public.owned OWNER TO vouch_rt_owner") != std::string::npos;
  }
  EXPECT_TRUE(named) << j["pg_restore"].dump(2).substr(0, 4000);
  EXPECT_TRUE(ScratchEmpty());
  // The text report says FAIL and shows the errors; JUnit, written beside
  // it, fails the pg_restore test case with the error and holds the drill's
  // suite too.
  auto text = Vouch("db.custom --format junit -o report.xml");
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("❌ FAIL"), std::string::npos);
  EXPECT_NE(text.out.find("pg_restore: exit 1"), std::string::npos) << text.out.substr(0, 2000);
  const std::string xml = testing::ReadFileBytes(dir_ + "/report.xml");
  const size_t pg_restore_case = xml.find("<testcase classname=\"vouch.restore-test\" name=\"pg_restore\">");
  ASSERT_NE(pg_restore_case, std::string::npos) << xml.substr(0, 2000);
  EXPECT_NE(xml.find("role &quot;vouch_rt_owner&quot; does not exist", pg_restore_case), std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"vouch drill\""), std::string::npos);
  // Markdown: the measured recovery time as its own section, then the DR
  // report.
  auto md = Vouch("db.custom --format markdown");
  EXPECT_EQ(md.exit_code, 1);
  EXPECT_NE(md.out.find("## Recovery Time (measured)\n\n| Phase | Time |"), std::string::npos)
      << md.out.substr(0, 2000);
  EXPECT_NE(md.out.find("| pg_restore |"), std::string::npos);
  EXPECT_NE(md.out.find("# DR Restore Validation Report"), std::string::npos);
  // HTML: the verdict, the RTO's phases on the timeline, pg_restore's
  // error among the findings, then the Markdown's sections as HTML.
  auto html = Vouch("db.custom --format html -o report.html");
  EXPECT_EQ(html.exit_code, 1);
  const std::string page = testing::ReadFileBytes(dir_ + "/report.html");
  EXPECT_NE(page.find("<div id=\"verdict\" class=\"fail\">❌ FAIL</div>"), std::string::npos) << page.substr(0, 2000);
  EXPECT_NE(page.find("<g class=\"phase\" data-phase=\"pg_restore\""), std::string::npos);
  EXPECT_NE(page.find("<g class=\"phase\" data-phase=\"initdb\""), std::string::npos);
  const size_t findings = page.find("<section id=\"findings\">");
  ASSERT_NE(findings, std::string::npos);
  EXPECT_NE(page.find("role &quot;vouch_rt_owner&quot; does not exist", findings), std::string::npos);
  EXPECT_NE(page.find("<h2>Recovery Time (measured)</h2>"), std::string::npos);
  EXPECT_NE(page.find("<h1>DR Restore Validation Report"), std::string::npos);
}

// What cannot be restored is refused before any cluster is made: a plain
// dump (exit 2, pg_restore cannot read it), a bad drill flag (exit 2), a file
// that is not there (exit 3).
TEST_F(RestoreTest, APlainDumpOrNoFileIsRefusedBeforeAnyCluster) {
  auto plain = Vouch("db.sql");
  EXPECT_EQ(plain.exit_code, 2) << plain.out << plain.err;
  EXPECT_NE(plain.err.find("db.sql: pg_restore cannot read it (a plain dump is restored with psql"), std::string::npos)
      << plain.err;
  auto flag = Vouch("db.custom --gap-column nonsense");
  EXPECT_EQ(flag.exit_code, 2) << flag.out << flag.err;
  EXPECT_NE(flag.err.find("--gap-column"), std::string::npos) << flag.err;
  auto none = Vouch("nothing.custom");
  EXPECT_EQ(none.exit_code, 3) << none.out << none.err;
  EXPECT_NE(none.err.find("nothing.custom: no such file or directory"), std::string::npos) << none.err;
  EXPECT_EQ(plain.out + flag.out + none.out, "");
  EXPECT_TRUE(ScratchEmpty());
}

// Runs restore-test of the custom dump, sends it SIGTERM once `ready` holds
// for its scratch directory (and `delay_ms` later), and checks that the run
// ends with 128 + SIGTERM, leaving neither a process of the scratch cluster
// nor its directory.
void SigtermWhen(const std::string& dir, const std::string& vouch, const std::function<bool(const fs::path&)>& ready,
                 int delay_ms) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string scratch = dir + "/scratch";
    const std::string archive = dir + "/db.custom";
    const std::string globals = dir + "/globals.sql";
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(vouch.c_str(), vouch.c_str(), "restore-test", "--scratch", scratch.c_str(), "--globals", globals.c_str(),
          archive.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  bool seen = false;
  for (int i = 0; i < 1200 && !seen; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir + "/scratch", ec)) seen |= ready(e.path());
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(seen) << "the phase to interrupt was not seen";
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_TRUE(fs::is_empty(dir + "/scratch"));
  // "[/]" matches "/" but not this command's own line; pgrep exits 1 when
  // nothing matches (2 and up: it could not look).
  auto procs = RunCommand("pgrep -a -f -- '" + dir + "[/]scratch'");
  EXPECT_EQ(procs.exit_code, 1) << "processes left: " << procs.out << procs.err;
}

// SIGTERM while pg_restore runs against the scratch server (pg_ctl's log
// is there once the server was started).
TEST_F(RestoreTest, SigtermDuringTheRestoreLeavesNoServerAndNoScratchDirectory) {
  SigtermWhen(
      dir_, vouch_,
      [](const fs::path& p) { return fs::exists(p / "data" / "postmaster.pid") && fs::exists(p / "server.log"); }, 300);
}

// SIGTERM in the middle of initdb: the handler waits for initdb to end
// before it removes the directory.
TEST_F(RestoreTest, SigtermDuringInitdbLeavesNothing) {
  SigtermWhen(
      dir_, vouch_, [](const fs::path& p) { return fs::exists(p / "data" / "PG_VERSION"); }, 0);
}

// A signed restore-test report verifies (its drill recomputed, its phases
// adding up to the RTO); a shortened RTO, signed again, is named.
TEST_F(RestoreTest, ASignedReportVerifiesAndAShortenedRtoIsNamed) {
  auto in = [&](const std::string& cmd) { return RunCommand("cd " + dir_ + " && " + cmd); };
  ASSERT_EQ(in("test -e rt.key || " + vouch_ + " keygen --out rt.key").exit_code, 0);
  auto r = Vouch("db.custom --globals globals.sql --format json -o rt.json --sign rt.key");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ok = in(vouch_ + " verify-evidence rt.json --pubkey rt.key.pub");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("✅ RTO: the phases add up to the RTO"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("✅ database " + db_ + ": final hash (restored)"), std::string::npos) << ok.out;
  auto j = nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/rt.json"));
  j["rto_seconds"] = 0.5;
  std::ofstream(dir_ + "/rt-short.json") << j.dump(2);
  ASSERT_EQ(in("openssl pkeyutl -sign -inkey rt.key -rawin -in rt-short.json -out rt-short.json.sig").exit_code, 0);
  auto shortened = in(vouch_ + " verify-evidence rt-short.json --pubkey rt.key.pub");
  EXPECT_EQ(shortened.exit_code, 1);
  EXPECT_NE(shortened.out.find("❌ RTO: the report says 0.500000 s, its phases add up to"), std::string::npos)
      << shortened.out;
  EXPECT_TRUE(ScratchEmpty());
}

}  // namespace
}  // namespace vouch
