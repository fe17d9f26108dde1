// Damaged pg_dump archives, a matrix per format (custom with data offsets
// set, custom without, custom -Z0, tar, directory gzip and -Z0; from pg_dump
// 16 on also custom lz4 and directory zstd): truncation at
// many offsets, single bit flips in the header, the TOC and the data, a huge
// chunk length, a TOC count larger than the file, swapped blocks and members,
// a missing and an extra data file. Every case must end in one of:
//   - damage reported, naming the file and where (exit 1 of verify-archive);
//   - "could not verify" for a damaged magic or version in the header (exit 3);
//   - a final hash, TOC hash or large objects' hash different from the intact
//     archive's (an lz4 frame has no checksum of its content: a flipped
//     byte in a large object decompresses without complaint);
//   - or, when vouch sees nothing, an archive that pg_restore (the
//     reference) restores to exactly the intact archive's output: the damage
//     touched nothing the archive means (a gzip header's time stamp, the
//     offset field of an entry without data, the order of blocks in an
//     archive without offsets).
// Never a crash, a hang, or a huge allocation: the sanitizer build runs this.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "support/pg_test_env.h"
#include "support/test_files.h"
#include "vouch/engine/verify_archive.h"
#include "vouch/readers/archive_toc.h"

namespace vouch {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

using testing::WriteFile;

// What pg_restore makes of an archive, without its random \restrict keys.
std::string Restored(const std::string& path) {
  auto r = RunCommand("pg_restore -f - " + path + " 2>&1 | grep -v '^\\\\\\(un\\)\\?restrict '; exit ${PIPESTATUS[0]}");
  return std::to_string(r.exit_code) + "\n" + r.out;
}

struct Reference {
  std::string final_hash, toc_sha256, large_objects, restored;
};

class ArchiveDamage : public testing::PreparedTest<ArchiveDamage> {
 protected:
  friend class testing::PreparedTest<ArchiveDamage>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_dmg", 0.0007, 13, /*tricky=*/true);
    dir_ = testing::MakeTempDir("vouch_dmg");
    testing::PsqlScalar(db_, "SELECT lo_from_bytea(0, '\\x0102030405'::bytea)");
    const std::string d = " -d " + db_ + " -f " + dir_ + "/";
    auto r =
        RunCommand("PGTZ=Asia/Kolkata pg_dump -Fc" + d + "zlib.custom && pg_dump -Fc -Z0" + d +
                   "z0.custom && pg_dump -Fc -d " + db_ + " | cat > " + dir_ + "/pipe.custom && pg_dump -Ft" + d +
                   "dump.tar && PGTZ=America/New_York pg_dump -Fd" + d + "gzip.dir && pg_dump -Fd -Z0" + d + "z0.dir");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // pg_dump 16 and later also compress with lz4 and zstd.
    if (testing::TestPg().major >= 16) {
      r = RunCommand("pg_dump -Fc -Z lz4" + d + "lz4.custom && pg_dump -Fd -Z zstd" + d + "zstd.dir");
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  static std::vector<std::string> Customs() {
    std::vector<std::string> v = {"zlib.custom", "z0.custom", "pipe.custom"};
    if (testing::TestPg().major >= 16) v.push_back("lz4.custom");
    return v;
  }
  static std::vector<std::string> Directories() {
    std::vector<std::string> v = {"gzip.dir", "z0.dir"};
    if (testing::TestPg().major >= 16) v.push_back("zstd.dir");
    return v;
  }
  static void TearDownTestSuite() {
    std::cout << "[ matrix   ] " << cases_ << " damaged archives: " << named_ << " damage named, " << hash_differs_
              << " final or TOC hash differs, " << header_unsupported_
              << " no longer an archive vouch reads (magic or version hit), " << harmless_.size()
              << " restore identically (pg_restore):\n";
    for (const auto& h : harmless_) std::cout << "[ matrix   ]   " << h << "\n";
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }

  static Reference Intact(const std::string& path) {
    Reference ref;
    auto v = VerifyArchive(path, {});
    EXPECT_TRUE(v.ok()) << v.status().message();
    if (!v.ok()) return ref;
    EXPECT_TRUE(v->outcome().Verified()) << (v->damage ? v->damage->detail : "");
    ref.final_hash = v->digest.FinalHashHex();
    ref.toc_sha256 = v->facts.toc_sha256;
    ref.large_objects = v->facts.large_object_sum.Hex();
    ref.restored = Restored(path);
    return ref;
  }

  // Judges one damaged archive at `path` (made from the intact one `ref`
  // describes); `header` when the damage lies in the archive's first bytes
  // (magic, version). Returns "" when the outcome is acceptable.
  static std::string Judge(const std::string& path, const Reference& ref, bool header, const std::string& what) {
    VerifyArchiveOptions opts;
    opts.digest.jobs = 2;
    auto v = VerifyArchive(path, opts);
    ++cases_;
    if (!v.ok()) {
      if (header && v.status().code() == StatusCode::kUnsupported) {
        ++header_unsupported_;
        return "";
      }
      return "could not verify: " + v.status().message();
    }
    if (v->damage) {
      const std::string& m = v->damage->detail;
      bool names_where = m.find("offset") != std::string::npos || m.find("file") != std::string::npos ||
                         m.find("member") != std::string::npos;
      if (m.rfind(path, 0) != 0 || !names_where) return "damage message does not say where: " + m;
      ++named_;
      return "";
    }
    if (v->digest.FinalHashHex() != ref.final_hash || v->facts.toc_sha256 != ref.toc_sha256 ||
        v->facts.large_object_sum.Hex() != ref.large_objects) {
      ++hash_differs_;
      return "";
    }
    if (Restored(path) == ref.restored) {
      harmless_.push_back(path.substr(dir_.size() + 1) + ": " + what);
      return "";
    }
    return "verified with the intact archive's hashes, but pg_restore restores something else";
  }

  static std::string db_, dir_;
  static int cases_, named_, hash_differs_, header_unsupported_;
  static std::vector<std::string> harmless_;
};
std::string ArchiveDamage::db_, ArchiveDamage::dir_;
int ArchiveDamage::cases_, ArchiveDamage::named_, ArchiveDamage::hash_differs_, ArchiveDamage::header_unsupported_;
std::vector<std::string> ArchiveDamage::harmless_;

// Offsets spread over [begin, end): every one of the first `dense`, then
// about `n` more.
std::vector<size_t> Spread(size_t begin, size_t end, size_t dense, size_t n) {
  std::vector<size_t> out;
  for (size_t i = begin; i < end && i < begin + dense; ++i) out.push_back(i);
  if (end > begin + dense) {
    size_t step = std::max<size_t>(1, (end - begin - dense) / n);
    for (size_t i = begin + dense; i < end; i += step) out.push_back(i);
  }
  return out;
}

// The end of the header and TOC, and the data blocks' offsets (custom format).
struct Layout {
  size_t toc_end = 0;
  std::vector<uint64_t> blocks;
  size_t count_at = 0;  // where the TOC entry count is
};
Layout CustomLayout(const std::string& bytes) {
  Layout l;
  auto src = MakeMemorySource(bytes);
  auto toc = ReadArchiveToc(*src, "x");
  EXPECT_TRUE(toc.ok()) << toc.status().message();
  if (!toc.ok()) return l;
  l.toc_end = toc->size;
  for (const auto& e : toc->entries) {
    if (e.offset_flag == 2) l.blocks.push_back(e.offset);
  }
  std::sort(l.blocks.begin(), l.blocks.end());
  // The header: 11 bytes; the compression as an Int level (1.14) or one
  // algorithm byte (1.15 on: pg_dump 16 and later); 7 Ints, 3 Strs; then
  // the count.
  const bool algorithm_byte = static_cast<unsigned char>(bytes[6]) >= 15;
  size_t p = 11 + (algorithm_byte ? 1 : 5) + 7 * 5;
  for (int i = 0; i < 3; ++i) {
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + p + 1, 4);
    p += 5 + (bytes[p] ? 0 : len);
  }
  l.count_at = p;
  return l;
}

void PutInt(std::string& bytes, size_t at, uint32_t v) {
  bytes[at] = 0;
  std::memcpy(bytes.data() + at + 1, &v, 4);
}

TEST_F(ArchiveDamage, CustomArchives) {
  for (const std::string& name : Customs()) {
    SCOPED_TRACE(name);
    const std::string intact_path = dir_ + "/" + name;
    const std::string bytes = testing::ReadFileBytes(intact_path);
    const Reference ref = Intact(intact_path);
    const Layout l = CustomLayout(bytes);
    ASSERT_GT(l.toc_end, 100u);
    const std::string path = dir_ + "/damaged_" + name;
    auto check = [&](const std::string& damaged, const std::string& what, bool header) {
      WriteFile(path, damaged);
      EXPECT_EQ(Judge(path, ref, header, what), "") << what;
    };
    for (size_t cut : Spread(0, bytes.size(), 64, 120)) {
      check(bytes.substr(0, cut), "truncated to " + std::to_string(cut) + " bytes", cut < 12);
    }
    for (size_t pos : Spread(0, l.toc_end, 40, 80)) {
      std::string b = bytes;
      b[pos] = static_cast<char>(b[pos] ^ (1 << (pos * 7 % 8)));
      check(b, "bit flipped in the header/TOC at " + std::to_string(pos), pos < 12);
    }
    for (size_t pos : Spread(l.toc_end, bytes.size(), 16, 120)) {
      std::string b = bytes;
      b[pos] = static_cast<char>(b[pos] ^ (1 << (pos * 5 % 8)));
      check(b, "bit flipped in the data at " + std::to_string(pos), false);
    }
    // The first block's first chunk length, made huge.
    {
      std::string b = bytes;
      PutInt(b, l.toc_end + 1 + 5, 0x7fffffff);
      check(b, "huge chunk length", false);
    }
    // A TOC entry count larger than the file.
    for (uint32_t count : {1000u, 0x7fffffffu}) {
      std::string b = bytes;
      PutInt(b, l.count_at, count);
      check(b, "TOC count " + std::to_string(count), false);
    }
    // Two blocks swapped (the TOC's offsets then point at the wrong blocks).
    if (l.blocks.size() >= 3) {
      size_t a0 = l.blocks[0], a1 = l.blocks[1], a2 = l.blocks[2];
      std::string b = bytes.substr(0, a0) + bytes.substr(a1, a2 - a1) + bytes.substr(a0, a1 - a0) + bytes.substr(a2);
      check(b, "first two blocks swapped", false);
    } else {
      // Without offsets, the blocks follow the TOC: swap the first two by walking nothing; a
      // duplicated tail block is the structural case there.
      check(bytes + bytes.substr(l.toc_end, 64), "block bytes appended", false);
    }
    check(bytes + std::string(1, '\0'), "a trailing byte", false);
  }
}

// A row the canonicalizer refuses, in an uncompressed custom archive with
// data offsets and in one written to a pipe (no offsets): the message names
// the data block (its TOC entry and byte offset), the table and the row,
// which the reader words on demand (CustomArchive::DataLocation).
TEST_F(ArchiveDamage, RowErrorNamesTheDataBlockAndTheTable) {
  auto piped = RunCommand("pg_dump -Fc -Z0 -d " + db_ + " | cat > " + dir_ + "/z0pipe.custom");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  for (const std::string name : {"z0.custom", "z0pipe.custom"}) {
    SCOPED_TRACE(name);
    std::string bytes = testing::ReadFileBytes(dir_ + "/" + name);
    const Layout l = CustomLayout(bytes);
    // The first data block follows the TOC: type (1 byte), then its dump id
    // (pg_dump's integer: a sign byte and int_size bytes), then its chunks.
    // Its first row's last byte made a tab: the row gets a field more than
    // its COPY statement lists columns (or a backslash that escapes nothing),
    // and no byte moves.
    auto src = MakeMemorySource(bytes);
    auto toc = ReadArchiveToc(*src, "x");
    ASSERT_TRUE(toc.ok()) << toc.status().message();
    const size_t block = l.toc_end;
    ASSERT_EQ(bytes[block], 1) << "not a data block";
    int64_t id = 0;
    ASSERT_TRUE(DecodeArchiveInt(reinterpret_cast<const uint8_t*>(bytes.data() + block + 1), toc->header.int_size, &id));
    ASSERT_TRUE(std::any_of(toc->entries.begin(), toc->entries.end(),
                            [&](const TocEntry& e) { return e.dump_id == id && e.desc == "TABLE DATA"; }))
        << "the first data block is no table's";
    const size_t row_end = bytes.find('\n', block + 10);
    ASSERT_NE(row_end, std::string::npos);
    bytes[row_end - 1] = '\t';
    const std::string path = dir_ + "/rowerr_" + name;
    WriteFile(path, bytes);
    VerifyArchiveOptions opts;
    opts.digest.jobs = 2;
    auto v = VerifyArchive(path, opts);
    const std::string m = !v.ok() ? v.status().message() : v->damage ? v->damage->detail : "";
    ASSERT_FALSE(m.empty()) << "the damaged row was not reported";
    EXPECT_EQ(m.rfind(path + ": data block of TOC entry " + std::to_string(id) + " (TABLE DATA ", 0), 0u) << m;
    EXPECT_NE(m.find(") at byte offset " + std::to_string(block) + ": table "), std::string::npos) << m;
    EXPECT_NE(m.find("row at uncompressed byte offset 0"), std::string::npos) << m;
  }
}

// ustar member extents: (header offset, end of padded data).
std::vector<std::pair<size_t, size_t>> TarMembers(const std::string& b) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t p = 0;
  while (p + 512 <= b.size() && b[p] != '\0') {
    size_t size = std::stoul(std::string(b.data() + p + 124, 11), nullptr, 8);
    size_t end = p + 512 + (size + 511) / 512 * 512;
    out.emplace_back(p, end);
    p = end;
  }
  return out;
}

TEST_F(ArchiveDamage, TarArchives) {
  const std::string intact_path = dir_ + "/dump.tar";
  const std::string bytes = testing::ReadFileBytes(intact_path);
  const Reference ref = Intact(intact_path);
  const auto members = TarMembers(bytes);
  ASSERT_GE(members.size(), 5u);
  const std::string path = dir_ + "/damaged.tar";
  auto check = [&](const std::string& damaged, const std::string& what, bool header) {
    WriteFile(path, damaged);
    EXPECT_EQ(Judge(path, ref, header, what), "") << what;
  };
  for (size_t cut : Spread(0, bytes.size(), 16, 150)) {
    check(bytes.substr(0, cut), "truncated to " + std::to_string(cut), cut < 512);
  }
  for (size_t pos : Spread(0, bytes.size(), 16, 250)) {
    std::string b = bytes;
    b[pos] = static_cast<char>(b[pos] ^ (1 << (pos * 3 % 8)));
    check(b, "bit flipped at " + std::to_string(pos), pos < 512);
  }
  // Data members swapped (pg_restore reads them in TOC order), one missing,
  // one extra (a copy of another under a new name, header checksum fixed).
  auto [m1, e1] = members[1];
  auto [m2, e2] = members[2];
  check(bytes.substr(0, m1) + bytes.substr(m2, e2 - m2) + bytes.substr(m1, e1 - m1) + bytes.substr(e2),
        "two data members swapped", false);
  check(bytes.substr(0, m1) + bytes.substr(e1), "a data member missing", false);
  std::string extra = bytes.substr(m1, e1 - m1);
  std::memset(extra.data(), 0, 100);
  std::memcpy(extra.data(), "9999.dat", 8);
  std::memset(extra.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(extra[i]);
  std::snprintf(extra.data() + 148, 8, "%06o", sum);
  check(bytes.substr(0, e1) + extra + bytes.substr(e1), "an extra member", false);
}

TEST_F(ArchiveDamage, DirectoryArchives) {
  for (const std::string& name : Directories()) {
    SCOPED_TRACE(name);
    const std::string intact = dir_ + "/" + name;
    const Reference ref = Intact(intact);
    const std::string path = dir_ + "/damaged.dir";
    std::string largest;
    uintmax_t largest_size = 0;
    for (const auto& de : fs::directory_iterator(intact)) {
      if (de.path().filename() != "toc.dat" && de.file_size() > largest_size) {
        largest = de.path().filename().string();
        largest_size = de.file_size();
      }
    }
    // Copies the archive, lets `edit` damage the copy, judges it.
    auto check = [&](const std::function<void()>& edit, const std::string& what, bool header) {
      fs::remove_all(path);
      fs::copy(intact, path);
      edit();
      EXPECT_EQ(Judge(path, ref, header, what), "") << what;
    };
    for (const std::string& file : {std::string("toc.dat"), largest}) {
      const std::string bytes = testing::ReadFileBytes(intact + "/" + file);
      for (size_t cut : Spread(0, bytes.size(), 16, 60)) {
        check([&] { WriteFile(path + "/" + file, bytes.substr(0, cut)); },
              file + " truncated to " + std::to_string(cut), false);
      }
      for (size_t pos : Spread(0, bytes.size(), 16, 80)) {
        std::string b = bytes;
        b[pos] = static_cast<char>(b[pos] ^ (1 << (pos * 3 % 8)));
        check([&] { WriteFile(path + "/" + file, b); }, file + " bit flipped at " + std::to_string(pos),
              file == "toc.dat" && pos < 12);
      }
    }
    check([&] { fs::remove(path + "/" + largest); }, "a data file missing", false);
    check([&] { fs::copy(path + "/" + largest, path + "/9999.dat"); }, "an extra data file", false);
    check([&] { fs::remove(path + "/toc.dat"); }, "toc.dat missing", true);
  }
}

}  // namespace
}  // namespace vouch
