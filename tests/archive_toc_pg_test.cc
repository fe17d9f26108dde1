// The archive header and TOC parser against pg_restore -l (the reference) on
// real pg_dump archives: custom (zlib and uncompressed, offsets set and, when
// written to a pipe, not set) and the toc.dat of a directory archive. Every
// truncation of the header/TOC is an error, never a shorter TOC.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/pg_test_env.h"
#include "vouch/readers/archive_toc.h"

namespace vouch {
namespace {

using testing::RunCommand;

class ArchiveTocPg : public testing::PreparedTest<ArchiveTocPg> {
 protected:
  friend class testing::PreparedTest<ArchiveTocPg>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_toc", 0.002, 5, /*tricky=*/true);
    dir_ = testing::MakeTempDir("vouch_toc");
    auto r = RunCommand("cd " + dir_ + " && pg_dump -Fc -d " + db_ + " -f zlib.dump && pg_dump -Fc -Z0 -d " + db_ +
                        " -f plain.dump && pg_dump -Fc -d " + db_ + " | cat > pipe.dump && pg_dump -Fd -d " + db_ +
                        " -f dirdump");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static std::string db_, dir_;
};
std::string ArchiveTocPg::db_, ArchiveTocPg::dir_;

TEST_F(ArchiveTocPg, AgreesWithPgRestoreList) {
  for (const std::string file : {"zlib.dump", "plain.dump", "pipe.dump", "dirdump/toc.dat"}) {
    SCOPED_TRACE(file);
    std::string path = dir_ + "/" + file;
    auto src = OpenFileSource(path);
    ASSERT_TRUE(src.ok());
    auto toc = ReadArchiveToc(**src, path);
    ASSERT_TRUE(toc.ok()) << toc.status().message();
    testing::PgRestoreListing ref = testing::PgRestoreList(file == "dirdump/toc.dat" ? dir_ + "/dirdump" : path);
    const ArchiveHeader& h = toc->header;
    EXPECT_EQ(ref.header["dbname"], h.dbname);
    EXPECT_EQ(ref.header["TOC Entries"], std::to_string(toc->entries.size()));
    // pg_restore 16 and later name the algorithm, older ones print the level.
    EXPECT_EQ(ref.header["Compression"],
              testing::TestPg().major >= 16 ? h.compression : std::to_string(h.compression_level));
    EXPECT_EQ(ref.header["Dump Version"], std::to_string(h.version_major) + "." + std::to_string(h.version_minor) +
                                              "-" + std::to_string(h.version_rev));
    EXPECT_EQ(ref.header["Integer"], std::to_string(h.int_size) + " bytes");
    EXPECT_EQ(ref.header["Offset"], std::to_string(h.off_size) + " bytes");
    EXPECT_EQ(ref.header["Dumped from database version"], h.server_version);
    EXPECT_EQ(ref.header["Dumped by pg_dump version"], h.pg_dump_version);
    // pg_restore -l leaves out the entries it handles specially.
    static const std::set<std::string> kUnlisted = {"ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE"};
    std::vector<std::string> ours;
    for (const TocEntry& e : toc->entries) {
      if (kUnlisted.count(e.desc)) continue;
      ours.push_back(std::to_string(e.dump_id) + "; " + e.tableoid + " " + e.oid + " " + e.desc + " " +
                     (e.namespace_ && !e.namespace_->empty() ? *e.namespace_ : "-") + " " + e.tag + " " +
                     e.owner.value_or(""));
    }
    EXPECT_EQ(ours, ref.entries);
    int data_entries = 0;
    for (const TocEntry& e : toc->entries) {
      if (e.desc != "TABLE DATA") continue;
      ++data_entries;
      ASSERT_TRUE(e.copy_stmt.has_value()) << e.tag;
      EXPECT_EQ(e.copy_stmt->rfind("COPY ", 0), 0u) << *e.copy_stmt;
      if (file == "dirdump/toc.dat") {
        EXPECT_EQ(e.filename.value_or(""), std::to_string(e.dump_id) + ".dat");
      } else {
        EXPECT_EQ(e.offset_flag, file == "pipe.dump" ? 1 : 2) << "data offsets are set only in seekable output";
      }
    }
    EXPECT_GT(data_entries, 6);
  }
}

TEST_F(ArchiveTocPg, EveryTruncationIsAnError) {
  std::string bytes = testing::ReadFileBytes(dir_ + "/zlib.dump");
  // Find where the TOC ends: parse once and note how much was consumed.
  auto whole = MakeMemorySource(bytes, "zlib.dump");
  auto parsed = ReadArchiveToc(*whole, "zlib.dump");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  size_t toc_end = static_cast<size_t>(parsed->size);
  ASSERT_GT(toc_end, 100u);
  for (size_t cut = 0; cut < toc_end; cut += 1 + cut / 50) {
    auto src = MakeMemorySource(bytes.substr(0, cut), "cut.dump");
    auto toc = ReadArchiveToc(*src, "cut.dump");
    ASSERT_FALSE(toc.ok()) << "cut at " << cut << " of a " << toc_end << "-byte TOC parsed";
    EXPECT_TRUE(toc.status().code() == StatusCode::kTruncated || toc.status().code() == StatusCode::kUnsupported)
        << cut << ": " << toc.status().message();
  }
}

TEST_F(ArchiveTocPg, CorruptLengthsAreErrorsNotAllocations) {
  std::string bytes = testing::ReadFileBytes(dir_ + "/zlib.dump");
  // The first TOC entry's tableoid string length sits after the header; make
  // every 4-byte little-endian length we can find huge, one at a time.
  int tried = 0;
  for (size_t pos = 60; pos + 5 < bytes.size() && tried < 200; ++pos) {
    if (bytes[pos] != 0 || bytes[pos + 2] != 0 || bytes[pos + 3] != 0 || bytes[pos + 4] != 0) continue;
    std::string bad = bytes;
    bad[pos + 4] = '\x7f';  // length ≈ 2^30 × 2: above any real TOC string
    auto src = MakeMemorySource(bad, "bad.dump");
    auto toc = ReadArchiveToc(*src, "bad.dump");
    ++tried;
    if (!toc.ok()) {
      EXPECT_TRUE(toc.status().code() == StatusCode::kCorrupt || toc.status().code() == StatusCode::kTruncated)
          << toc.status().message();
    }
  }
  EXPECT_GT(tried, 10);
}

}  // namespace
}  // namespace vouch
