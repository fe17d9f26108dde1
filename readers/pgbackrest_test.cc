// pgBackRest's repository files (vouch/readers/pgbackrest.h) as pgBackRest
// 2.45 (Debian 12) wrote them for a PostgreSQL 15 cluster
// (readers/testdata/pgbackrest): their seal checks, and every change to
// them is refused with the file and line named. The manifests of real
// full, differential and incremental sets are read in
// tests/pgbackrest_pg_test.cc.
#include "vouch/readers/pgbackrest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace vouch {
namespace {

std::string TestFile(const std::string& name) {
  std::ifstream in(std::string(VOUCH_SOURCE_DIR) + "/readers/testdata/pgbackrest/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PgbrInfo, BackupInfoOfARealRepositoryReadsAndSeals) {
  auto info = ParsePgbrBackupInfo(TestFile("backup.info"), "backup.info");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->current.id, 1u);
  EXPECT_EQ(info->current.system_id, 7716664690170002816u);
  EXPECT_EQ(info->current.version, "15");
  ASSERT_EQ(info->history.size(), 1u);
  ASSERT_NE(info->Db(1), nullptr);
  EXPECT_EQ(info->Db(1)->system_id, 7716664690170002816u);
  ASSERT_EQ(info->sets.size(), 1u);
  const PgbrSet& s = info->sets[0];
  EXPECT_EQ(s.type, "full");
  EXPECT_EQ(s.archive_start, "000000010000000000000015");
  EXPECT_EQ(s.lsn_stop, "0/15000138");
  EXPECT_FALSE(s.error);
  EXPECT_EQ(s.timestamp_start, 1796678056);
  EXPECT_EQ(s.timestamp_stop, 1796678078);
  EXPECT_EQ(s.size, 331889343u);
  EXPECT_EQ(s.repo_size, 94504413u);
}

TEST(PgbrInfo, ArchiveInfoNamesTheSystemIdentifierOfEachDb) {
  auto info = ParsePgbrArchiveInfo(TestFile("archive.info"), "archive.info");
  ASSERT_TRUE(info.ok()) << info.status().message();
  ASSERT_NE(info->Db(1), nullptr);
  EXPECT_EQ(info->Db(1)->system_id, 7716664690170002816u);
  EXPECT_EQ(info->Db(1)->version, "15");
}

TEST(PgbrInfo, AChangedValueBreaksTheSealWithItsLineNamed) {
  std::string text = TestFile("backup.info");
  const size_t at = text.find("\"backup-error\":false");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 20, "\"backup-error\":true ");
  auto info = ParsePgbrBackupInfo(text, "backup.info");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(info.status().message().find("backup.info: line 19: backrest-checksum"), std::string::npos)
      << info.status().message();
  EXPECT_NE(info.status().message().find("does not match"), std::string::npos);
}

TEST(PgbrInfo, TruncatedOrMalformedFilesAreCorruptWithTheLine) {
  const std::string text = TestFile("backup.info");
  auto cut = ParsePgbrBackupInfo(text.substr(0, text.size() / 2), "backup.info");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kCorrupt);
  auto no_seal = ParsePgbrBackupInfo(text.substr(0, text.rfind("[backrest]")), "backup.info");
  ASSERT_FALSE(no_seal.ok());
  EXPECT_NE(no_seal.status().message().find("no [backrest] backrest-checksum"), std::string::npos)
      << no_seal.status().message();
  std::string bad = text;
  bad.replace(bad.find("db-id=1\n"), 8, "db-id:1\n");
  auto line = ParsePgbrBackupInfo(bad, "backup.info");
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.status().message().find("backup.info: line 11: expected key=value"), std::string::npos)
      << line.status().message();
  auto json = ParsePgbrIni("[a]\nb={oops\n", "x.info");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("x.info: line 2: b: the value is not JSON"), std::string::npos);
}

// The cipher is OpenSSL's "enc" format: a file `openssl enc -aes-256-cbc
// -md sha1 -pass pass:sekrit` wrote (the independent reference) decrypts;
// a wrong passphrase is an IoError naming the file, not data.
TEST(PgbrCipher, DecryptsWhatOpensslEncWrites) {
  const std::string bytes = TestFile("openssl_enc.bin");
  ASSERT_TRUE(PgbrEncrypted(bytes));
  auto plain = PgbrDecrypt(bytes, "sekrit", "openssl_enc.bin");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, "vouch reads what openssl enc writes\n");
  auto wrong = PgbrDecrypt(bytes, "sekret", "openssl_enc.bin");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kIoError);
  EXPECT_NE(wrong.status().message().find("openssl_enc.bin: cannot be decrypted"), std::string::npos);
  EXPECT_EQ(wrong.status().message().find("sekre"), std::string::npos);  // never the passphrase
  auto cut = PgbrDecrypt(bytes.substr(0, bytes.size() - 5), "sekrit", "openssl_enc.bin");
  EXPECT_FALSE(cut.ok());
}

TEST(PgbrInfo, AnEncryptedFileIsUnsupportedNotCorrupt) {
  const char kEncrypted[] = "Salted__\x01\x02\x03\x04\x05\x06\x07\x08junk";
  auto info = ParsePgbrBackupInfo(std::string(kEncrypted, sizeof kEncrypted - 1), "backup.info");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(info.status().message().find("encrypted"), std::string::npos);
}

}  // namespace
}  // namespace vouch
