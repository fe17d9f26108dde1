// The nightly check that replaces a daily backup-verification shell script: newest
// backup, age, expected files, size against the previous one, and every
// compressed file read to its end. Times are pinned through options.now
// and file modification times.
#include "vouch/backup/nightly_backup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "render/nightly.h"
#include "support/test_files.h"

namespace vouch {
using cli::NightlyJson;
using cli::NightlyPrometheus;
using cli::NightlyText;
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

constexpr double kNow = 1732330800;  // 2024-11-23 03:00 UTC

void WriteGzip(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

void SetMTime(const std::string& path, double t) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(t);
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, 0), 0) << path;
}

class NightlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "vouch_nightly_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    std::string data(300000, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 31) % 97 + 'a' - 40);
    // Yesterday's backup, and last night's (an hour old).
    WriteGzip(root_ + "/2024-11-22/postgres/agents.dump.gz", data + data);
    WriteFile(root_ + "/2024-11-22/redis/dump.rdb", std::string(100000, 'r'));
    SetMTime(root_ + "/2024-11-22", kNow - 25 * 3600);
    WriteGzip(root_ + "/2024-11-23/postgres/agents.dump.gz", data + data + "x");
    WriteFile(root_ + "/2024-11-23/redis/dump.rdb", std::string(100000, 'r'));
    SetMTime(root_ + "/2024-11-23", kNow - 3600);
    opts_.now = [] { return kNow; };
    opts_.jobs = 2;
    opts_.expected = {"postgres/*.dump.gz", "*.rdb"};
  }
  void TearDown() override { fs::remove_all(root_); }

  NightlyReport Check() {
    auto r = CheckNewestBackup(root_, opts_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : NightlyReport{};
  }
  static std::string Failed(const NightlyReport& r) {
    std::string f;
    for (const auto& c : r.checks) {
      if (!c.ok)
        f +=
            (f.empty() ? "" : " ") + std::string(NightlyCheckName(c.kind)) + (c.subject.empty() ? "" : ":" + c.subject);
    }
    return f;
  }

  std::string root_;
  NightlyOptions opts_;
};

TEST_F(NightlyTest, LastNightsBackupPasses) {
  NightlyReport r = Check();
  EXPECT_TRUE(r.outcome().Verified()) << NightlyText(r);
  EXPECT_EQ(r.newest, root_ + "/2024-11-23");
  EXPECT_TRUE(r.newest_is_dir);
  EXPECT_EQ(r.newest_files, 2u);
  EXPECT_DOUBLE_EQ(r.age_seconds, 3600);
  EXPECT_EQ(r.previous, root_ + "/2024-11-22");
  EXPECT_EQ(r.compressed_files, 1u);
  EXPECT_EQ(r.compressed_bytes, 600001u);
  EXPECT_NE(NightlyText(r).find("Status: ✅ PASSED"), std::string::npos) << NightlyText(r);
  auto j = nlohmann::json::parse(NightlyJson(r));
  EXPECT_EQ(j["ok"], true);
  EXPECT_NE(NightlyPrometheus(r).find("vouch_nightly_backup_ok{dir=\"" + root_ + "\"} 1\n"), std::string::npos);
}

TEST_F(NightlyTest, EachFailureIsNamed) {
  opts_.max_age_seconds = 1800;
  EXPECT_EQ(Failed(Check()), "age");
  opts_.max_age_seconds = 24 * 3600;

  opts_.expected.push_back("rabbitmq/*.json.gz");
  EXPECT_EQ(Failed(Check()), "expected:rabbitmq/*.json.gz");
  opts_.expected.pop_back();

  // Suspiciously small: a few per cent of the previous one.
  WriteFile(root_ + "/2024-11-23/redis/dump.rdb", "r");
  SetMTime(root_ + "/2024-11-23", kNow - 3600);
  EXPECT_EQ(Failed(Check()), "size");
  opts_.min_size_ratio = 0;
  EXPECT_EQ(Failed(Check()), "");
  opts_.min_size_ratio = 0.5;

  // A gzip file cut short (gzip -t fails) and a .zst that is not zstd.
  std::string gz;
  {
    std::ifstream in(root_ + "/2024-11-23/postgres/agents.dump.gz", std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  WriteFile(root_ + "/2024-11-23/postgres/agents.dump.gz", gz.substr(0, gz.size() / 2));
  WriteFile(root_ + "/2024-11-23/postgres/extra.zst", "plain text");
  SetMTime(root_ + "/2024-11-23", kNow - 3600);
  opts_.min_size_ratio = 0;
  NightlyReport r = Check();
  EXPECT_EQ(Failed(r), "decompress:postgres/agents.dump.gz decompress:postgres/extra.zst");
  EXPECT_NE(NightlyText(r).find("Status: ❌ FAILED (2 of"), std::string::npos) << NightlyText(r);
  EXPECT_NE(NightlyPrometheus(r).find("vouch_nightly_backup_checks_failed{dir=\"" + root_ + "\"} 2\n"),
            std::string::npos);
}

TEST_F(NightlyTest, SingleFileBackupsAndNone) {
  const std::string files = root_ + "/files";
  WriteGzip(files + "/pg_20241122.dump.gz", std::string(5000, 'a'));
  SetMTime(files + "/pg_20241122.dump.gz", kNow - 30 * 3600);
  WriteGzip(files + "/pg_20241123.dump.gz", std::string(5000, 'b'));
  SetMTime(files + "/pg_20241123.dump.gz", kNow - 2 * 3600);
  WriteFile(files + "/notes.txt", "not a backup");
  SetMTime(files + "/notes.txt", kNow);
  opts_.name_pattern = "*.dump.gz";
  opts_.expected = {"pg_*.dump.gz"};
  auto r = CheckNewestBackup(files, opts_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->outcome().Verified()) << NightlyText(*r);
  EXPECT_EQ(r->newest, files + "/pg_20241123.dump.gz");
  EXPECT_FALSE(r->newest_is_dir);

  opts_.name_pattern = "*.tar";
  r = CheckNewestBackup(files, opts_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->outcome().Verified());
  EXPECT_EQ(Failed(*r), "exists");
  EXPECT_EQ(CheckNewestBackup(root_ + "/none", opts_).status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace vouch
