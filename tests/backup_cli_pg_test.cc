// `vouch verify-backup` on the command line, on a real pg_basebackup: exit 0
// for an intact backup (with the "WAL segments A through B" line), 1 naming
// a removed file (as pg_verifybackup does), Prometheus output, the nightly
// --newest-in check, and usage errors.
#include <gtest/gtest.h>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::RunCommand;

class BackupCli : public testing::PreparedTest<BackupCli> {
 protected:
  friend class testing::PreparedTest<BackupCli>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_bcli", 0.002, 9, /*tricky=*/false);
    dir_ = testing::MakeTempDir("vouch_bcli");
    auto b = RunCommand("pg_basebackup -c fast -D " + dir_ + "/nightly/base -Fp -X fetch --manifest-checksums=SHA256");
    ASSERT_EQ(b.exit_code, 0) << b.err;
    vouch_ = testing::BinPath("VOUCH_BIN");
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args); }
  static std::string db_, dir_, vouch_;
};
std::string BackupCli::db_, BackupCli::dir_, BackupCli::vouch_;

TEST_F(BackupCli, IntactBackupPassesLikePgVerifybackup) {
  ASSERT_EQ(RunCommand("pg_verifybackup " + dir_ + "/nightly/base").exit_code, 0);
  auto r = Vouch("verify-backup " + dir_ + "/nightly/base --page-checksums -q");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("WAL segments "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" through "), std::string::npos) << r.out;
  auto prom = Vouch("verify-backup " + dir_ + "/nightly/base --format prometheus -q");
  EXPECT_EQ(prom.exit_code, 0) << prom.err;
  EXPECT_NE(prom.out.find("# TYPE vouch_backup_verified gauge"), std::string::npos) << prom.out;
  EXPECT_NE(prom.out.find("vouch_backup_verified{"), std::string::npos) << prom.out;
}

TEST_F(BackupCli, RemovedFileIsNamedWithExitOne) {
  const std::string copy = dir_ + "/copy";
  ASSERT_EQ(RunCommand("cp -a " + dir_ + "/nightly/base " + copy + " && rm " + copy + "/PG_VERSION").exit_code, 0);
  auto ref = RunCommand("pg_verifybackup " + copy);
  EXPECT_NE(ref.exit_code, 0);
  auto r = Vouch("verify-backup " + copy + " -q");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("PG_VERSION"), std::string::npos) << r.out;
  // The HTML page: the verdict first, the missing file among the findings.
  auto html = Vouch("verify-backup " + copy + " -q --format html");
  EXPECT_EQ(html.exit_code, 1) << html.err;
  const size_t verdict = html.out.find("<div id=\"verdict\" class=\"fail\">❌ FAIL — 1 finding</div>");
  const size_t findings = html.out.find("<section id=\"findings\">");
  ASSERT_NE(verdict, std::string::npos) << html.out.substr(0, 3000);
  ASSERT_NE(findings, std::string::npos) << html.out.substr(0, 3000);
  EXPECT_LT(verdict, findings);
  EXPECT_NE(html.out.find("PG_VERSION", findings), std::string::npos);
  // Not for a nightly check, which has no such page.
  EXPECT_EQ(Vouch("verify-backup --newest-in " + dir_ + "/nightly --format html").exit_code, 2);
}

TEST_F(BackupCli, NightlyCheckOfTheNewestBackup) {
  auto ok = Vouch("verify-backup --newest-in " + dir_ +
                  "/nightly --max-age 1h --expect backup_manifest --expect 'global/pg_*' -q");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto missing = Vouch("verify-backup --newest-in " + dir_ + "/nightly --expect no_such_file -q");
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_NE(missing.out.find("no_such_file"), std::string::npos) << missing.out;
}

TEST_F(BackupCli, UsageErrors) {
  EXPECT_EQ(Vouch("verify-backup -q").exit_code, 2);
  EXPECT_EQ(Vouch("verify-backup --newest-in " + dir_ + " --max-age soon -q").exit_code, 2);
  EXPECT_EQ(Vouch("verify-backup " + dir_ + "/nightly/base --newest-in " + dir_ + " -q").exit_code, 2);
  auto none = Vouch("verify-backup " + dir_ + "/no-such-backup -q");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("no-such-backup"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace vouch
