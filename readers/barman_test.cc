// Barman's records (readers/testdata/barman: a backup.info and an xlog.db
// as Barman 3.4 wrote them for a backup_method=postgres backup) parse, and
// every kind of damage is Corrupt naming the file and line.
#include "vouch/readers/barman.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace vouch {
namespace {

std::string Testdata(const std::string& name) {
  std::ifstream in(std::string(VOUCH_SOURCE_DIR) + "/readers/testdata/barman/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(BarmanBackupInfo, ARealOneParses) {
  auto info = ParseBarmanBackupInfo(Testdata("backup.info"), "backup.info");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->status, "DONE");
  EXPECT_EQ(info->mode, "postgres");
  EXPECT_EQ(info->error, "");
  EXPECT_EQ(info->begin_wal, "000000010000000000000003");
  EXPECT_EQ(info->begin_lsn, 0x3000028u);
  ASSERT_TRUE(info->end_lsn.has_value());
  EXPECT_EQ(*info->end_lsn, 0x4000000u);
  EXPECT_EQ(info->timeline, 1u);
  EXPECT_EQ(info->system_id, 7716716198236050687u);
  EXPECT_EQ(info->version, 150018);
  EXPECT_EQ(info->segment_size, 16u << 20);
  EXPECT_EQ(info->compression, "");
  EXPECT_FALSE(info->tablespaces);
  EXPECT_EQ(info->fields.size(), 27u);
}

TEST(BarmanBackupInfo, DamageIsNamedByFileAndLine) {
  const std::string text = Testdata("backup.info");
  struct Case {
    std::string text, expect;
  } cases[] = {
      // Truncated at a line's end: the fields are sorted by key, the last
      // ones are missing; inside a line: that line is not a field.
      {text.substr(0, text.find("mode=")), "no status field (17 fields: truncated?)"},
      {text.substr(0, text.find("mode=") + 2), "line 18: not a key=value line"},
      {Replace(text, "begin_xlog=0/3000028", "begin_xlog=0/30zz"), "line 5: begin_xlog \"0/30zz\" is not an LSN"},
      {Replace(text, "mode=postgres\n", "mode=postgres\nmode=rsync\n"), "line 19: mode repeats line 18"},
      {Replace(text, "size=24507473\nstatus", "size 24507473\nstatus"), "line 21: not a key=value line"},
      {Replace(text, "systemid=7716716198236050687", "systemid=77x"), "systemid \"77x\" is not a system identifier"},
      {Replace(text, "end_wal=000000010000000000000003", "end_wal=None"), "line 12: end_wal is None in a DONE backup"},
      {Replace(text, "begin_wal=000000010000000000000003", "begin_wal=00000001000000000000000"),
       "begin_wal \"00000001000000000000000\" is not a WAL segment name"},
  };
  for (const auto& c : cases) {
    auto info = ParseBarmanBackupInfo(c.text, "/b/backup.info");
    ASSERT_FALSE(info.ok()) << c.expect;
    EXPECT_EQ(info.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(info.status().message().find("/b/backup.info"), std::string::npos) << info.status().message();
    EXPECT_NE(info.status().message().find(c.expect), std::string::npos) << info.status().message();
  }
}

TEST(BarmanBackupInfo, AFailedBackupMayLackItsRange) {
  std::string text = Replace(Testdata("backup.info"), "status=DONE", "status=FAILED");
  text = Replace(text, "end_xlog=0/4000000", "end_xlog=None");
  text = Replace(text, "error=None", "error=failure copying files (rsync returned 23)");
  auto info = ParseBarmanBackupInfo(text, "backup.info");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->status, "FAILED");
  EXPECT_FALSE(info->end_lsn.has_value());
  EXPECT_EQ(info->error, "failure copying files (rsync returned 23)");
}

TEST(BarmanXlogDb, LinesParseAndDamageIsNamed) {
  auto db = ParseBarmanXlogDb(Testdata("xlog.db"), "xlog.db");
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_EQ(db->size(), 3u);
  EXPECT_EQ((*db)[0].name, "000000010000000000000001");
  EXPECT_EQ((*db)[0].size, 2333204u);
  EXPECT_EQ((*db)[0].compression, "gzip");
  EXPECT_EQ((*db)[1].compression, "");
  auto bad = ParseBarmanXlogDb(Testdata("xlog.db") + "000000010000000000000004\t12\n", "/w/xlog.db");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/w/xlog.db: line 4: "), std::string::npos) << bad.status().message();
  EXPECT_TRUE(BarmanCompressionReadable("bzip2"));
  EXPECT_TRUE(BarmanCompressionReadable(""));
  EXPECT_FALSE(BarmanCompressionReadable("custom"));
  EXPECT_FALSE(BarmanCompressionReadable("xz"));
}

}  // namespace
}  // namespace vouch
