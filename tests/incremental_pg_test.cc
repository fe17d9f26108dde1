// Incremental base backups (PostgreSQL 17 and later) against the server's own
// tools as references: a full backup and two incremental backups taken with
// pg_basebackup --incremental while the data changes (and a third, in tar
// format). Each verifies on its own
// (pg_verifybackup agrees), INCREMENTAL files and the pages they carry are
// checked; the chain verifies without being combined; pg_combinebackup then
// combines it, vouch verifies the result as a full backup, and a server
// started on it holds exactly the source's data (vouch digest, both sides).
// Broken chains (a backup left out, the order wrong, a file an INCREMENTAL
// file needs removed, a damaged INCREMENTAL header) fail in vouch, and
// pg_combinebackup --dry-run fails on them too.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <iostream>

#include "render/backup.h"
#include "support/pg_test_env.h"
#include "support/test_files.h"
#include "vouch/backup/verify_backup.h"
#include "vouch/readers/incremental_file.h"

namespace vouch {
using cli::BackupText;
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

class IncrementalPg : public testing::PreparedTest<IncrementalPg> {
 protected:
  friend class testing::PreparedTest<IncrementalPg>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_inc", 0.002, 5, /*tricky=*/false);
    dir_ = testing::MakeTempDir("vouch_inc");
    auto sql = [](const std::string& statements) {
      auto r = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db_ + " -c \"" + statements + "\"");
      ASSERT_EQ(r.exit_code, 0) << statements << ": " << r.err;
    };
    auto backup = [](const std::string& name, const std::string& flags) {
      auto r = RunCommand("pg_basebackup -D " + dir_ + "/" + name + " --no-sync -c fast " + flags);
      ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    };
    sql("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 60000) g; "
        "ALTER TABLE big ADD PRIMARY KEY (id); CHECKPOINT");
    backup("full", "");
    // A few rows of a big table (its file becomes INCREMENTAL with blocks), a
    // new table, a dropped one.
    sql("UPDATE big SET t = 'changed' WHERE id % 5000 = 0; CREATE TABLE later AS SELECT 1 AS a; "
        "DELETE FROM big WHERE id BETWEEN 100 AND 120; CHECKPOINT");
    backup("inc1", "--incremental=" + dir_ + "/full/backup_manifest");
    sql("UPDATE big SET t = 'again' WHERE id % 7000 = 0; INSERT INTO big SELECT g, 'new' FROM "
        "generate_series(60001, 61000) g; DROP TABLE later; CHECKPOINT");
    backup("inc2", "--incremental=" + dir_ + "/inc1/backup_manifest --manifest-checksums=SHA256");
    // A tar-format incremental backup, taken against inc2.
    backup("inc3tar", "-Ft -z --incremental=" + dir_ + "/inc2/backup_manifest");
    auto live = Vouch("digest -q " + testing::DatabaseUri(db_));
    ASSERT_EQ(live.exit_code, 0) << live.err;
    live_hash_ = FinalHash(live.out);
    ASSERT_FALSE(live_hash_.empty()) << live.out;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }

  static testing::CmdResult Vouch(const std::string& args) {
    return RunCommand(testing::BinPath("VOUCH_BIN") + " " + args);
  }
  static std::string FinalHash(const std::string& out) {
    size_t pos = out.find("FINAL_VALIDATION_HASH: ");
    return pos == std::string::npos ? "" : out.substr(pos + 23, 64);
  }
  static std::string D(const std::string& name) { return dir_ + "/" + name; }
  // A copy of backup `name` whose files are hard links: damage goes through
  // WriteFile (which replaces a file) or removal.
  static std::string Copy(const std::string& name, const std::string& as) {
    auto r = RunCommand("rm -rf " + D(as) + " && cp -al " + D(name) + " " + D(as));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return D(as);
  }
  // The first INCREMENTAL file of backup `name` that carries blocks, relative.
  static std::string IncrementalWithBlocks(const std::string& name) {
    for (const auto& e : fs::recursive_directory_iterator(D(name) + "/base")) {
      if (e.path().filename().string().rfind("INCREMENTAL.", 0) == 0 && e.file_size() > 8192) {
        return fs::relative(e.path(), D(name)).string();
      }
    }
    ADD_FAILURE() << "no INCREMENTAL file with blocks in " << name;
    return "";
  }
  // pg_combinebackup --dry-run (it still wants an output directory, and
  // creates none).
  static testing::CmdResult CombineDryRun(const std::string& dirs) {
    return RunCommand("pg_combinebackup -n -o " + D("dry_run_output") + " " + dirs);
  }

  static std::string db_, dir_, live_hash_;
};
std::string IncrementalPg::db_, IncrementalPg::dir_, IncrementalPg::live_hash_;

TEST_F(IncrementalPg, EachBackupVerifiesWithItsIncrementalFiles) {
  for (const char* name : {"full", "inc1", "inc2"}) {
    SCOPED_TRACE(name);
    auto ref = RunCommand("pg_verifybackup " + D(name));
    EXPECT_EQ(ref.exit_code, 0) << ref.err;
    VerifyBackupOptions o;
    o.jobs = 2;
    o.page_checksums = true;
    auto v = VerifyBackup(D(name), o);
    ASSERT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ(ExitCode(v->outcome()), 0) << BackupText(*v);
    EXPECT_EQ(v->pg_major, testing::TestPg().major);
    EXPECT_GT(v->pages_checked, 100u);
    ASSERT_TRUE(v->start_lsn.has_value());
    if (std::string(name) == "full") {
      EXPECT_FALSE(v->incremental.incremental);
      EXPECT_EQ(v->incremental.files, 0u);
      continue;
    }
    EXPECT_TRUE(v->incremental.incremental);
    EXPECT_GT(v->incremental.files, 100u);  // every relation file not sent whole
    EXPECT_GT(v->incremental.blocks, 0u);
    const std::string text = BackupText(*v);
    EXPECT_NE(text.find("✅ incremental backup: follows the backup that started at LSN"), std::string::npos) << text;
  }
  // The tar-format one, streamed member by member; 18's pg_verifybackup reads
  // it too (without WAL parsing).
  VerifyBackupOptions o;
  o.jobs = 2;
  o.page_checksums = true;
  auto tar = VerifyBackup(D("inc3tar"), o);
  ASSERT_TRUE(tar.ok()) << tar.status().message();
  EXPECT_EQ(ExitCode(tar->outcome()), 0) << BackupText(*tar);
  EXPECT_EQ(tar->format, "tar");
  EXPECT_TRUE(tar->incremental.incremental);
  EXPECT_GT(tar->incremental.files, 100u);
  if (testing::TestPg().major >= 18) {
    auto ref = RunCommand("pg_verifybackup -n " + D("inc3tar"));
    EXPECT_EQ(ref.exit_code, 0) << ref.err;
  }
  // The INCREMENTAL file's header as the reference reads it: pg_combinebackup
  // found every one valid in the chain test; here the block count of one file
  // against its size, as the server wrote it.
  const std::string rel = IncrementalWithBlocks("inc1");
  const std::string bytes = testing::ReadFile(D("inc1") + "/" + rel);
  auto h = ParseIncrementalHeader(bytes, bytes.size(), 131072, 8192);
  ASSERT_TRUE(h.ok()) << rel << ": " << h.status().message();
  EXPECT_GT(h->blocks.size(), 0u);
  EXPECT_EQ(h->header_length % 8192, 0u);
}

TEST_F(IncrementalPg, ChainVerifiesCombinesAndRestoresTheSourceData) {
  const std::string chain = D("full") + " " + D("inc1") + " " + D("inc2");
  auto v = Vouch("verify-backup -q --page-checksums " + chain);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("✅ CHAIN VERIFIED"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("1 full and 2 incremental backups"), std::string::npos) << v.out;

  auto dry = CombineDryRun(chain);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  auto c = RunCommand("pg_combinebackup --no-sync -o " + D("combined") + " " + chain);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto full = Vouch("verify-backup -q --page-checksums " + D("combined"));
  EXPECT_EQ(full.exit_code, 0) << full.out << full.err;
  EXPECT_EQ(full.out.find("incremental backup:"), std::string::npos) << full.out;
  EXPECT_EQ(RunCommand("pg_verifybackup " + D("combined")).exit_code, 0);

  // A server on the combined backup holds the source's data.
  const std::string env_dir = D("restored_env");
  const std::string script = testing::BinPath("VOUCH_SOURCE_DIR") + "/scripts/pgcluster.sh";
  auto start = RunCommand("cp -a " + D("combined") + " " + D("combined_copy") + " && " + script + " adopt " + env_dir +
                          " " + D("combined_copy"));
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  auto port = RunCommand("sed -n 's/^PGPORT=//p' " + env_dir + "/env");
  std::string p = port.out.substr(0, port.out.find('\n'));
  auto restored = Vouch("digest -q postgresql://vouch@127.0.0.1:" + p + "/" + db_);
  RunCommand(script + " stop " + env_dir);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(FinalHash(restored.out), live_hash_) << restored.out;
}

TEST_F(IncrementalPg, BrokenChainsFailAsPgCombinebackupDoes) {
  struct Case {
    std::string what, dirs, expect;
  };
  // A file inc2's INCREMENTAL file needs, gone from inc1 (and so from the chain).
  const std::string rel = IncrementalWithBlocks("inc2");
  const std::string gone = Copy("inc1", "inc1_gone");
  const std::string in_inc1 =
      fs::exists(gone + "/" + rel) ? rel : rel.substr(0, rel.rfind('/') + 1) + rel.substr(rel.rfind('/') + 13);
  ASSERT_TRUE(fs::exists(gone + "/" + in_inc1)) << in_inc1;
  fs::remove(gone + "/" + in_inc1);
  // A damaged INCREMENTAL header (its magic) in inc2.
  const std::string bad = Copy("inc2", "inc2_bad");
  std::string bytes = testing::ReadFile(bad + "/" + rel);
  bytes[0] ^= 0x01;
  testing::WriteFile(bad + "/" + rel, bytes);

  const std::vector<Case> cases = {
      {"inc1 left out", D("full") + " " + D("inc2"), "(INCREMENTAL FROM LSN), but " + D("full") + " starts at LSN"},
      {"order reversed", D("inc1") + " " + D("full"), "but the first backup of a chain must be a full one"},
      {"a needed file removed", D("full") + " " + gone + " " + D("inc2"), "holds neither in full nor as INCREMENTAL"},
      {"damaged header", D("full") + " " + D("inc1") + " " + bad, "incremental: " + rel + ": byte offset 0: magic"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto v = Vouch("verify-backup -q " + c.dirs);
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_NE(v.out.find(c.expect), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("❌ CHAIN NOT VERIFIED"), std::string::npos) << v.out;
    auto ref = CombineDryRun(c.dirs);
    EXPECT_NE(ref.exit_code, 0) << "pg_combinebackup -n accepted it: " << ref.out;
    EXPECT_EQ(ref.err.find("no output directory"), std::string::npos) << ref.err;
    std::cout << "[ reference] " << c.what << ": " << ref.err.substr(0, ref.err.find('\n')) << "\n";
  }
}

}  // namespace
}  // namespace vouch
