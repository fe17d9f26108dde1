// The archive readers on real pg_dump output of one database in every format
// the server's own pg_dump writes (custom: zlib, -Z0, -Z9,
// --load-via-partition-root, written to a pipe; directory: gzip, -Z0, -j 2;
// tar), dumped in other time zones: each gives the live database's digest,
// verify-archive passes, and what it reports about the archive agrees with
// pg_restore -l (the reference). Run over every server of the test matrix
// (15, 17, 18): from 16 on also lz4 and zstd, statistics, data-only and
// schema-only dumps; against 15, archives in the 1.15 and 1.16 layouts are
// rewritten from 15's by tests/support. Checksum sidecars are checked as
// sha256sum -c would.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/archive_rewriter.h"
#include "support/pg_test_env.h"
#include "vouch/hashing/u128.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

class ArchivePg : public testing::PreparedTest<ArchivePg> {
 protected:
  friend class testing::PreparedTest<ArchivePg>;
  static void Prepare() {
    db_ = testing::CreateDrillDatabase("vouch_arch", 0.003, 11, /*tricky=*/true);
    dir_ = testing::MakeTempDir("vouch_arch");
    vouch_ = testing::BinPath("VOUCH_BIN");
    // Large objects: digested (tests/sequences_pg_test.cc); here also summed by verify-archive.
    PsqlScalar(db_, "SELECT lo_from_bytea(0, '\\x0102030405'::bytea)");
    PsqlScalar(db_, "SELECT lo_from_bytea(0, convert_to(repeat('large object ', 5000), 'UTF8'))");
    const std::string d = " -d " + db_ + " ";
    for (const auto& [name, cmd] : std::vector<std::pair<std::string, std::string>>{
             {"zlib.custom", "PGTZ=America/New_York pg_dump -Fc" + d + "-f "},
             {"z0.custom", "PGTZ=Asia/Kolkata pg_dump -Fc -Z0" + d + "-f "},
             {"z9.custom", "pg_dump -Fc -Z9" + d + "-f "},
             {"root.custom", "pg_dump -Fc --load-via-partition-root" + d + "-f "},
             {"gzip.dir", "PGTZ=Asia/Kolkata pg_dump -Fd" + d + "-f "},
             {"z0.dir", "pg_dump -Fd -Z0" + d + "-f "},
             {"j2.dir", "PGTZ=America/New_York pg_dump -Fd -j 2" + d + "-f "},
             {"dump.tar", "PGTZ=America/New_York pg_dump -Ft" + d + "-f "}}) {
      auto r = RunCommand(cmd + dir_ + "/" + name);
      ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
      archives_.push_back(dir_ + "/" + name);
    }
    auto pipe = RunCommand("PGTZ=Asia/Kolkata pg_dump -Fc -d " + db_ + " | cat > " + dir_ + "/pipe.custom");
    ASSERT_EQ(pipe.exit_code, 0) << pipe.err;
    archives_.push_back(dir_ + "/pipe.custom");
    auto live = Vouch("digest " + testing::DatabaseUri(db_) + " -q");
    ASSERT_EQ(live.exit_code, 0) << live.err;
    live_ = live.out;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args); }
  static std::string FinalHash(const std::string& out) {
    size_t pos = out.find("FINAL_VALIDATION_HASH: ");
    return pos == std::string::npos ? "" : out.substr(pos + 23, 64);
  }
  // The table of rows and content hashes in `digest` output (notes after it
  // differ: a database does not mention its large objects).
  static std::string Tables(const std::string& out) {
    size_t pos = out.find("\n| Table");
    if (pos == std::string::npos) return "";
    size_t end = out.find("\n\n", pos + 1);
    std::string t = out.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    while (!t.empty() && t.back() == '\n') t.pop_back();  // the last block of a report ends the output
    return t;
  }

  // The large objects' hash computed from the server's own copy of them
  // (lo_get), each as xxhsum -H2 of "OID\0bytes", summed mod 2^128.
  static std::string LargeObjectReference() {
    static const std::string ref = [] {
      auto r = RunCommand("psql -X -At -F ' ' -d " + db_ +
                          " -c 'SELECT oid, encode(lo_get(oid), '\\''hex'\\'') FROM pg_largeobject_metadata'");
      EXPECT_EQ(r.exit_code, 0) << r.err;
      U128 sum;
      std::istringstream lines(r.out);
      for (std::string oid, hex; lines >> oid >> hex;) {
        const std::string file = dir_ + "/lo_" + oid;
        auto w = RunCommand("printf '%s\\0' " + oid + " > " + file + " && echo " + hex + " | xxd -r -p >> " + file +
                            " && xxhsum -H2 " + file + " | cut -c1-32");
        EXPECT_EQ(w.exit_code, 0) << w.err;
        U128 h;
        EXPECT_TRUE(U128::FromHex(w.out.substr(0, 32), &h)) << w.out;
        sum += h;
      }
      return sum.Hex();
    }();
    return ref;
  }

  static std::string db_, dir_, vouch_, live_;
  static std::vector<std::string> archives_;
};
std::string ArchivePg::db_, ArchivePg::dir_, ArchivePg::vouch_, ArchivePg::live_;
std::vector<std::string> ArchivePg::archives_;

TEST_F(ArchivePg, EveryFormatGivesTheLiveDigest) {
  ASSERT_FALSE(FinalHash(live_).empty()) << live_;
  // The time-zone dumps really hold local offsets, so the rewrite is exercised.
  EXPECT_NE(RunCommand("pg_restore -f - " + dir_ + "/z0.custom | grep -c '+05:30'").out, "0\n");
  for (const auto& a : archives_) {
    SCOPED_TRACE(a);
    for (const char* jobs : {"1", "2"}) {
      auto r = Vouch(std::string("digest -q --jobs ") + jobs + " " + a);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(Tables(r.out), Tables(live_));
      EXPECT_EQ(FinalHash(r.out), FinalHash(live_));
    }
    auto v = Vouch("verify-archive -q " + a);
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("Result: ✅ VERIFIED"), std::string::npos) << v.out;
    EXPECT_EQ(FinalHash(v.out), FinalHash(live_));
  }
  // Row counts are the server's.
  auto r = Vouch("digest -q " + dir_ + "/zlib.custom");
  std::string count = PsqlScalar(db_, "SELECT count(*) FROM audit_log");
  EXPECT_NE(r.out.find("| public.audit_log "), std::string::npos);
  std::string line = r.out.substr(r.out.find("| public.audit_log "));
  line = line.substr(0, line.find('\n'));
  std::string digits;
  for (char c : line.substr(0, line.rfind('|', line.size() - 2))) {
    if (c >= '0' && c <= '9') digits += c;
  }
  EXPECT_EQ(digits, count) << line;
}

// pg_restore -l's entries counted by desc: "3374; 0 16385 TABLE DATA public
// agents vouch" is a TABLE DATA entry (descs have one or two words).
std::map<std::string, uint64_t> EntriesByDesc(const testing::PgRestoreListing& l) {
  std::map<std::string, uint64_t> by_desc;
  for (const auto& line : l.entries) {
    std::istringstream words(line);
    std::string id, oid1, oid2, w1, w2;
    words >> id >> oid1 >> oid2 >> w1 >> w2;
    std::string desc = w1;
    for (const char* two : {"TABLE DATA", "FK CONSTRAINT", "SEQUENCE SET", "SEQUENCE OWNED", "DEFAULT ACL",
                            "BLOB METADATA", "STATISTICS DATA", "MATERIALIZED VIEW", "TABLE ATTACH", "INDEX ATTACH"}) {
      if (w1 + " " + w2 == two) desc = two;
    }
    ++by_desc[desc];
  }
  return by_desc;
}

TEST_F(ArchivePg, MetadataAgreesWithPgRestoreList) {
  for (const auto& a : archives_) {
    SCOPED_TRACE(a);
    auto v = Vouch("verify-archive -q --format json " + a);
    ASSERT_EQ(v.exit_code, 0) << v.err;
    auto j = nlohmann::json::parse(v.out);
    testing::PgRestoreListing l = testing::PgRestoreList(a);
    auto by_desc = EntriesByDesc(l);
    const auto& m = j["metadata"];
    EXPECT_EQ(m["database"], l.header["dbname"]);
    EXPECT_EQ(m["server_version"], l.header["Dumped from database version"]);
    EXPECT_EQ(m["pg_dump_version"], l.header["Dumped by pg_dump version"]);
    EXPECT_EQ(m["archive_version"], l.header["Dump Version"].substr(0, l.header["Dump Version"].find('-')) + ".0");
    uint64_t total = 0;
    for (const auto& [desc, n] : m["toc_entries_by_type"].items()) total += n.get<uint64_t>();
    EXPECT_EQ(std::to_string(total), l.header["TOC Entries"]);
    for (const auto& [desc, n] : by_desc) {
      if (desc == "BLOB" || desc == "BLOBS" || desc == "BLOB METADATA" || desc == "ACL" || desc == "COMMENT") {
        continue;  // listed differently
      }
      EXPECT_EQ(m["toc_entries_by_type"].value(desc, 0), n) << desc;
    }
    EXPECT_EQ(m["foreign_keys"].size(), by_desc["FK CONSTRAINT"]);
    // pg_dump 15 lists one BLOB entry per object; 17 on, BLOB METADATA
    // entries of up to 1,000 objects each ("17271..17272").
    if (testing::TestPg().major < 17)
      EXPECT_EQ(m["large_objects"], by_desc["BLOB"]);
    else
      EXPECT_GE(by_desc["BLOB METADATA"], 1u);
    EXPECT_EQ(m["large_objects"], std::stoull(PsqlScalar(db_, "SELECT count(*) FROM pg_largeobject_metadata")));
    EXPECT_EQ(m["large_objects"], 2u);
    EXPECT_EQ(m["large_object_hash"], LargeObjectReference());
    EXPECT_EQ(m["large_object_bytes"], 5u + 13u * 5000u);
    // Every byte of the archive was read: its size on disk.
    uintmax_t size = 0;
    if (std::filesystem::is_directory(a)) {
      for (const auto& de : std::filesystem::directory_iterator(a)) size += de.file_size();
    } else {
      size = std::filesystem::file_size(a);
    }
    EXPECT_EQ(m["archive_bytes"], size);
    // The drill dataset's foreign keys, as its DDL declares them.
    bool found = false;
    for (const auto& fk : m["foreign_keys"]) {
      if (fk["table"] == "public.tool_calls") {
        found = true;
        EXPECT_EQ(fk["columns"], nlohmann::json::array({"execution_id"}));
        EXPECT_EQ(fk["references"], "public.executions");
        EXPECT_EQ(fk["ref_columns"], nlohmann::json::array({"id"}));
      }
    }
    EXPECT_TRUE(found) << m["foreign_keys"].dump();
  }
}

// Archive layouts 1.15 (pg_dump 16) and 1.16 (17, 18) with every
// compression. Against a server of 16 or later its own pg_dump writes them
// (custom and directory, none/gzip/lz4/zstd; plus --statistics, data-only and
// schema-only dumps); against 15 they are rewritten from 15's archives by
// tests/support.
TEST_F(ArchivePg, Pg16And17LayoutsWithEveryCompression) {
  if (testing::TestPg().major >= 16) {
    const std::string minor = testing::TestPg().major >= 17 ? "16" : "15";
    for (const char* name : {"none", "gzip", "lz4", "zstd"}) {
      for (const char* format : {"c", "d"}) {
        SCOPED_TRACE(std::string(name) + " " + format);
        const std::string a = dir_ + "/real_" + name + "." + format;
        auto r = RunCommand("pg_dump -F" + std::string(format) + " -Z " + name + " -d " + db_ + " -f " + a);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(testing::PgRestoreList(a).header["Compression"], name);
        auto v = Vouch("verify-archive -q " + a);
        EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
        EXPECT_NE(v.out.find("archive version 1." + minor + ".0, compression " + name), std::string::npos) << v.out;
        EXPECT_EQ(Tables(v.out), Tables(live_));
        EXPECT_EQ(FinalHash(v.out), FinalHash(live_));
        EXPECT_NE(v.out.find("2 large objects"), std::string::npos) << v.out;
      }
    }
    // Statistics entries (18's --statistics) and a data-only dump change
    // nothing of the data; a schema-only dump holds none.
    std::vector<std::string> same = {"-Fc -a"};
    if (testing::TestPg().major >= 18) same.push_back("-Fc --statistics");
    for (const auto& flags : same) {
      SCOPED_TRACE(flags);
      const std::string a = dir_ + "/real_flags.custom";
      auto r = RunCommand("pg_dump " + flags + " -d " + db_ + " -f " + a);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      if (flags == "-Fc --statistics") {
        EXPECT_GT(EntriesByDesc(testing::PgRestoreList(a))["STATISTICS DATA"], 0u);
      }
      auto v = Vouch("digest -q " + a);
      EXPECT_EQ(v.exit_code, 0) << v.err;
      EXPECT_EQ(FinalHash(v.out), FinalHash(live_)) << v.out;
    }
    auto r = RunCommand("pg_dump -Fc -s -d " + db_ + " -f " + dir_ + "/real_schema.custom");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto v = Vouch("verify-archive -q " + dir_ + "/real_schema.custom");
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("0 tables, 0 rows"), std::string::npos) << v.out;
    return;
  }
  using testing::DumpCompression;
  for (int minor : {15, 16}) {
    for (auto [c, name] : {std::pair{DumpCompression::kNone, "none"}, std::pair{DumpCompression::kGzip, "gzip"},
                           std::pair{DumpCompression::kLz4, "lz4"}, std::pair{DumpCompression::kZstd, "zstd"}}) {
      SCOPED_TRACE(std::to_string(minor) + " " + name);
      std::string custom = dir_ + "/v" + std::to_string(minor) + name + ".custom";
      std::string directory = dir_ + "/v" + std::to_string(minor) + name + ".dir";
      ASSERT_EQ(testing::RewriteCustomArchive(dir_ + "/pipe.custom", custom, minor, c), "");
      ASSERT_EQ(testing::RewriteDirectoryArchive(dir_ + "/gzip.dir", directory, minor, c), "");
      // PostgreSQL 15 cannot read them: they are really another layout.
      EXPECT_NE(RunCommand("pg_restore -l " + custom).exit_code, 0);
      for (const auto& a : {custom, directory}) {
        auto v = Vouch("verify-archive -q " + a);
        EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
        EXPECT_NE(v.out.find("archive version 1." + std::to_string(minor) + ".0, compression " + name),
                  std::string::npos)
            << v.out;
        EXPECT_EQ(Tables(v.out), Tables(live_));
        EXPECT_EQ(FinalHash(v.out), FinalHash(live_));
        EXPECT_NE(v.out.find("2 large objects"), std::string::npos) << v.out;
      }
    }
  }
}

TEST_F(ArchivePg, ChecksumSidecarsAsSha256sumChecks) {
  const std::string a = dir_ + "/zlib.custom";
  ASSERT_EQ(
      RunCommand("cd " + dir_ + " && sha256sum zlib.custom z0.custom > SUMS && md5sum --tag zlib.custom > MD5SUMS")
          .exit_code,
      0);
  auto ok = Vouch("verify-archive -q " + a + " --checksums " + dir_ + "/SUMS");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("2 of 2 OK"), std::string::npos) << ok.out;
  auto md5 = Vouch("verify-archive -q " + a + " --checksums " + dir_ + "/MD5SUMS");
  EXPECT_EQ(md5.exit_code, 0) << md5.out;
  EXPECT_NE(md5.out.find("OK         zlib.custom (MD5)"), std::string::npos) << md5.out;
  // A sidecar inside a directory archive, naming its files: the sidecar is
  // not an unreferenced data file, and every file is covered.
  const std::string d = dir_ + "/z0.dir";
  ASSERT_EQ(RunCommand("cd " + d + " && sha256sum * > SHA256SUMS").exit_code, 0);
  auto dir = Vouch("verify-archive -q " + d + " --checksums " + d + "/SHA256SUMS");
  EXPECT_EQ(dir.exit_code, 0) << dir.out << dir.err;
  // Without --checksums the same file is one the TOC does not name.
  auto stray = Vouch("verify-archive -q " + d);
  EXPECT_EQ(stray.exit_code, 1) << stray.out;
  EXPECT_NE(stray.out.find("file SHA256SUMS is not named by the TOC"), std::string::npos) << stray.out;
  ASSERT_EQ(RunCommand("rm " + d + "/SHA256SUMS").exit_code, 0);
  // A wrong checksum, a missing file, a sidecar for another file: exit 1, each named.
  ASSERT_EQ(RunCommand("cd " + dir_ +
                       " && sed -E 's/^0/1/;t;s/^./0/' SUMS > BAD && sed 's/zlib.custom/gone.custom/' SUMS > MISSING "
                       "&& grep z0.custom SUMS > OTHER")
                .exit_code,
            0);
  ASSERT_NE(RunCommand("cd " + dir_ + " && cmp -s SUMS BAD").exit_code, 0) << "the BAD sidecar must differ";
  auto bad = Vouch("verify-archive -q " + a + " --checksums " + dir_ + "/BAD");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("FAILED     zlib.custom (SHA256)"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("CHECKSUMS FAILED"), std::string::npos) << bad.out;
  auto missing = Vouch("verify-archive -q " + a + " --checksums " + dir_ + "/MISSING");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("MISSING    gone.custom"), std::string::npos) << missing.out;
  auto other = Vouch("verify-archive -q " + a + " --checksums " + dir_ + "/OTHER");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.out.find("NOT LISTED " + a), std::string::npos) << other.out;
  // sha256sum itself agrees on every case.
  EXPECT_EQ(RunCommand("cd " + dir_ + " && sha256sum -c SUMS").exit_code, 0);
  EXPECT_NE(RunCommand("cd " + dir_ + " && sha256sum -c BAD").exit_code, 0);
  EXPECT_NE(RunCommand("cd " + dir_ + " && sha256sum -c MISSING").exit_code, 0);
  // An unreadable sidecar: could not verify.
  EXPECT_EQ(Vouch("verify-archive -q " + a + " --checksums " + dir_ + "/nope").exit_code, 3);
}

TEST_F(ArchivePg, CompareAnArchiveWithTheDatabaseAndNameTheRow) {
  auto same = Vouch("compare -q " + testing::DatabaseUri(db_) + " " + dir_ + "/j2.dir");
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  std::string copy = testing::CreateDatabase("vouch_arch_copy");
  ASSERT_EQ(RunCommand("pg_restore -d " + copy + " " + dir_ + "/zlib.custom").exit_code, 0);
  ASSERT_EQ(
      RunCommand("psql -X -q -d " + copy + " -c 'UPDATE tasks SET priority = priority + 1 WHERE id = 7'").exit_code, 0);
  ASSERT_EQ(RunCommand("pg_dump -Fc -d " + copy + " -f " + dir_ + "/changed.custom").exit_code, 0);
  auto diff = Vouch("compare -q " + dir_ + "/dump.tar " + dir_ + "/changed.custom");
  EXPECT_EQ(diff.exit_code, 1) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("public.tasks: 0 missing, 0 extra, 1 changed (key id)\n  changed  id=7\n"), std::string::npos)
      << diff.out;
  testing::DropDatabase(copy);
}

TEST_F(ArchivePg, DataOnlyDumpInAnotherTimeZoneIsReadButNotHashed) {
  // Without DDL vouch cannot know which values are timestamptz to put in UTC:
  // every byte is still read and checked, the tables it cannot hash are
  // named, and the run says it could not verify the content (exit 3).
  const std::string a = dir_ + "/data_only.custom";
  ASSERT_EQ(RunCommand("PGTZ=Asia/Kolkata pg_dump -Fc --data-only -d " + db_ + " -f " + a).exit_code, 0);
  auto v = Vouch("verify-archive -q " + a + " -o " + dir_ + "/data_only.json");
  EXPECT_EQ(v.exit_code, 3) << v.out << v.err;
  EXPECT_NE(v.out.find("| public.audit_log  "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("not computed"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("Not hashed: public.audit_log: "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("FINAL_VALIDATION_HASH: not computed"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("NOT FULLY VERIFIED"), std::string::npos) << v.out;
  EXPECT_NE(v.err.find("no manifest written"), std::string::npos) << v.err;
  EXPECT_NE(RunCommand("test -e " + dir_ + "/data_only.json").exit_code, 0);
  // The same dump taken in UTC has nothing to rewrite: fully verified.
  ASSERT_EQ(RunCommand("PGTZ=UTC pg_dump -Fc --data-only -d " + db_ + " -f " + a).exit_code, 0);
  auto utc = Vouch("verify-archive -q " + a);
  EXPECT_EQ(utc.exit_code, 0) << utc.out;
  EXPECT_EQ(FinalHash(utc.out), FinalHash(live_));
}

TEST_F(ArchivePg, TableSelectionReadsOnlyTheSelectedTables) {
  auto r = Vouch("digest -q -t audit_log " + dir_ + "/gzip.dir");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| public.audit_log "), std::string::npos);
  EXPECT_NE(r.out.find("1 tables,"), std::string::npos) << r.out;
  auto none = Vouch("digest -q -t no_such_table " + dir_ + "/zlib.custom");
  EXPECT_EQ(none.exit_code, 2) << none.out << none.err;
}

}  // namespace
}  // namespace vouch
