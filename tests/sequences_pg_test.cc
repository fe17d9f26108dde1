// Sequences and large objects on a real server (issue 18): each defect of a
// restored copy is found with exit 1 and named (a sequence reset behind the
// source, one behind its column, a changed INCREMENT, a large object deleted
// and another rewritten), a sequence ahead is only a note, every dump kind
// gives the database's FINAL_VALIDATION_HASH with large objects in it, and
// the large objects' digest is the one built from the server's own bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/pg_test_env.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

class SequencesPg : public testing::PreparedTest<SequencesPg> {
 protected:
  friend class testing::PreparedTest<SequencesPg>;
  static void Prepare() {
    vouch_ = testing::BinPath("VOUCH_BIN");
    dir_ = testing::MakeTempDir("vouch_seq");
    src_ = testing::CreateDatabase("vouch_seq_src");
    auto r = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + src_ + " <<'SQL'\n"
                        "CREATE TABLE orders (id serial PRIMARY KEY, item text);\n"
                        "CREATE INDEX orders_item ON orders (item);\n"
                        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text);\n"
                        "CREATE SEQUENCE ticket_seq INCREMENT 5 MINVALUE 10 MAXVALUE 100000 CYCLE;\n"
                        "CREATE TABLE tickets (no bigint DEFAULT nextval('ticket_seq') PRIMARY KEY, note text);\n"
                        "CREATE SEQUENCE \"Odd Seq\" AS smallint START 7;\n"
                        "INSERT INTO orders (item) SELECT 'item ' || g FROM generate_series(1, 500) g;\n"
                        "INSERT INTO events (kind) SELECT 'k' || g FROM generate_series(1, 40) g;\n"
                        "INSERT INTO tickets (note) SELECT 'n' || g FROM generate_series(1, 12) g;\n"
                        "SELECT lo_from_bytea(0, '\\x0102030405'::bytea);\n"
                        "SELECT lo_from_bytea(0, convert_to(repeat('large object ', 20000), 'UTF8'));\n"
                        "SELECT lo_from_bytea(0, ''::bytea);\n"
                        "SQL");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string d = " -d " + src_ + " -f " + dir_;
    for (const auto& [name, cmd] : std::vector<std::pair<std::string, std::string>>{
             {"src.custom", "pg_dump -Fc"},
             {"src.dir", "pg_dump -Fd"},
             {"src.tar", "pg_dump -Ft"},
             {"src.sql", "pg_dump -Fp"},
             {"data.sql", "pg_dump -Fp --data-only"},
             {"data.custom", "pg_dump -Fc --data-only"}}) {
      auto dump = RunCommand(cmd + d + "/" + name);
      ASSERT_EQ(dump.exit_code, 0) << cmd << ": " << dump.err;
      dumps_.push_back(dir_ + "/" + name);
    }
    restored_ = testing::CreateDatabase("vouch_seq_restored");
    auto restore = RunCommand("pg_restore -d " + restored_ + " " + dir_ + "/src.custom");
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(src_);
    testing::DropDatabase(restored_);
    RunCommand("rm -rf " + dir_);
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args); }
  // A copy of the restored database with `sql` applied.
  static std::string Defect(const std::string& sql) {
    std::string db = testing::CreateDatabase("vouch_seq_defect");
    auto copy = RunCommand("dropdb " + db + " && createdb -T " + restored_ + " " + db);
    EXPECT_EQ(copy.exit_code, 0) << copy.err;
    auto apply = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " <<'SQL'\n" + sql + "\nSQL");
    EXPECT_EQ(apply.exit_code, 0) << apply.err;
    return db;
  }
  static testing::CmdResult Drill(const std::string& source, const std::string& restored, const std::string& fmt = "") {
    return Vouch("drill " + source + " " + restored + (fmt.empty() ? "" : " --format " + fmt) + " -q");
  }
  static std::string FinalHash(const std::string& out) {
    size_t pos = out.find("FINAL_VALIDATION_HASH: ");
    return pos == std::string::npos ? "" : out.substr(pos + 23, 64);
  }
  // A drill's text report's final hash of one side ("source" or "restored").
  static std::string DrillHash(const std::string& out, const std::string& side) {
    const std::string head = "FINAL_VALIDATION_HASH " + side + ":";
    size_t pos = out.find(head);
    if (pos == std::string::npos) return "";
    pos = out.find_first_not_of(' ', pos + head.size());
    return out.substr(pos, 64);
  }
  static std::string Uri(const std::string& db) { return testing::DatabaseUri(db); }

  static std::string vouch_, dir_, src_, restored_;
  static std::vector<std::string> dumps_;
};
std::string SequencesPg::vouch_, SequencesPg::dir_, SequencesPg::src_, SequencesPg::restored_;
std::vector<std::string> SequencesPg::dumps_;

TEST_F(SequencesPg, CleanRestorePassesAndEveryDumpGivesTheLiveFinalHash) {
  auto live = Vouch("digest " + Uri(src_) + " -q");
  ASSERT_EQ(live.exit_code, 0) << live.err;
  const std::string hash = FinalHash(live.out);
  ASSERT_FALSE(hash.empty()) << live.out;
  EXPECT_NE(live.out.find("Large objects: 3 "), std::string::npos) << live.out;
  for (const std::string& dump : dumps_) {
    auto d = Vouch("digest " + dump + " -q");
    ASSERT_EQ(d.exit_code, 0) << dump << ": " << d.err;
    EXPECT_EQ(FinalHash(d.out), hash) << dump << "\n" << d.out;
    // Dump against the database it came from: no false difference.
    auto drill = Drill(dump, Uri(src_));
    EXPECT_EQ(drill.exit_code, 0) << dump << "\n" << drill.out << drill.err;
  }
  auto drill = Drill(Uri(src_), Uri(restored_));
  EXPECT_EQ(drill.exit_code, 0) << drill.out << drill.err;
  EXPECT_NE(drill.out.find("sequences"), std::string::npos) << drill.out;
  auto m = Vouch("digest " + Uri(src_) + " --format json -q");
  ASSERT_EQ(m.exit_code, 0) << m.err;
  auto j = nlohmann::json::parse(m.out);
  EXPECT_EQ(j["version"], 5);
  EXPECT_EQ(j["final_validation_hash"], hash);
  EXPECT_EQ(j["sequences"].size(), 4u);
  // The manifest read back gives the same hash and drills clean against the
  // database.
  const std::string path = dir_ + "/clean.json";
  std::ofstream(path) << m.out;
  auto back = Drill(path, Uri(restored_));
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
}

// The large objects' digest built from the definition in
// docs/digest-format.md with the server's own bytes (lo_get) and owners,
// xxhsum -H2 for H("OID\0bytes") and sha256sum for the digest.
TEST_F(SequencesPg, LargeObjectsDigestIsTheOneBuiltFromTheServersBytes) {
  auto rows = RunCommand("psql -X -At -F ' ' -d " + src_ +
                         " -c \"SELECT oid, pg_get_userbyid(lomowner) FROM pg_largeobject_metadata ORDER BY oid\"");
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  const std::string bytes_file = dir_ + "/lo_table";
  ASSERT_EQ(RunCommand("printf 'vouch.large_objects.v1\\n' > " + bytes_file).exit_code, 0);
  std::istringstream lines(rows.out);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string oid, owner;
    f >> oid >> owner;
    const std::string obj = dir_ + "/lo_" + oid;
    // The bytes through a pipe (an object's hex is too long for a command line).
    auto h = RunCommand("printf '%s\\0' " + oid + " > " + obj + " && psql -X -At -d " + src_ +
                        " -c \"SELECT encode(lo_get(" + oid + "), 'hex')\" | xxd -r -p >> " + obj + " && xxhsum -H2 " +
                        obj + " | cut -c1-32");
    ASSERT_EQ(h.exit_code, 0) << h.err;
    char rec[17];
    std::snprintf(rec, sizeof rec, "%08x%08x", static_cast<unsigned>(std::stoul(oid)),
                  static_cast<unsigned>(owner.size()));
    auto w = RunCommand("printf '%s' " + std::string(rec, 16) + " | xxd -r -p >> " + bytes_file + " && printf '%s' " +
                        owner + " >> " + bytes_file + " && printf '%s' " + h.out.substr(0, 32) + " | xxd -r -p >> " +
                        bytes_file);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    ++n;
  }
  ASSERT_EQ(n, 3);
  auto sum = RunCommand("sha256sum " + bytes_file + " | cut -c1-64");
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  const std::string reference = sum.out.substr(0, 64);
  for (const std::string& source : {Uri(src_), dumps_[0], dumps_[1], dumps_[2], dumps_[3]}) {
    auto m = Vouch("digest " + source + " --format json -q");
    ASSERT_EQ(m.exit_code, 0) << m.err;
    auto j = nlohmann::json::parse(m.out);
    EXPECT_EQ(j["large_objects"]["count"], 3) << source;
    EXPECT_EQ(j["large_objects"]["digest"], reference) << source;
  }
}

TEST_F(SequencesPg, SequenceResetBehindTheSourceFailsNamingIt) {
  std::string db = Defect("SELECT setval('orders_id_seq', 1);");
  auto r = Drill(Uri(src_), Uri(db));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("public.orders_id_seq: behind the source by 499: last_value 500 in the source, 1 restored"),
            std::string::npos)
      << r.out;
  // The rows still match: only the sequence is wrong.
  EXPECT_NE(r.out.find("3 tables: 3 match"), std::string::npos) << r.out;
  // The manifest of the source catches it too.
  const std::string manifest = dir_ + "/src.json";
  ASSERT_EQ(Vouch("digest " + Uri(src_) + " -o " + manifest + " -q").exit_code, 0);
  auto c = Vouch("compare " + manifest + " " + Uri(db) + " -q");
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_NE(c.out.find("Sequence public.orders_id_seq ❌: behind by 499"), std::string::npos) << c.out;
  testing::DropDatabase(db);
}

TEST_F(SequencesPg, SequenceBehindItsColumnFailsOnEitherSide) {
  // The source itself: a sequence whose next value is already taken.
  std::string src = testing::CreateDatabase("vouch_seq_behind");
  ASSERT_EQ(RunCommand("dropdb " + src + " && createdb -T " + src_ + " " + src).exit_code, 0);
  PsqlScalar(src, "SELECT setval('ticket_seq', 40)");
  std::string copy = testing::CreateDatabase("vouch_seq_behind_copy");
  ASSERT_EQ(RunCommand("pg_dump -Fc -d " + src + " | pg_restore -d " + copy).exit_code, 0);
  auto r = Drill(Uri(src), Uri(copy), "json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  int failed = 0;
  for (const auto& k : j["sequences"]["behind_column_checks"]) {
    if (k["passed"] == false) {
      ++failed;
      EXPECT_EQ(k["sequence"], "public.ticket_seq");
      EXPECT_EQ(k["column"], "public.tickets.no");
      EXPECT_EQ(k["next_value"], 45);
      EXPECT_EQ(k["column_max"], 65);  // 10, 15, ..., 65
    }
  }
  EXPECT_EQ(failed, 2) << r.out;  // source and restored copy
  // The same from the plain dump of the source (the column's max from the
  // dump's rows).
  ASSERT_EQ(RunCommand("pg_dump -d " + src + " -f " + dir_ + "/behind.sql").exit_code, 0);
  auto p = Drill(dir_ + "/behind.sql", Uri(copy));
  EXPECT_EQ(p.exit_code, 1) << p.out;
  EXPECT_NE(p.out.find("public.ticket_seq behind public.tickets.no (source)"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("nextval() gives 45, but public.tickets.no already holds 65"), std::string::npos) << p.out;
  testing::DropDatabase(src);
  testing::DropDatabase(copy);
}

TEST_F(SequencesPg, SequenceAheadOfTheSourceIsANote) {
  std::string db = Defect("SELECT setval('orders_id_seq', 532); SELECT setval('events_id_seq', 41);");
  auto r = Drill(Uri(src_), Uri(db));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("public.orders_id_seq: ahead of the source by 32 (a note)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("public.events_id_seq: ahead of the source by 1 (a note)"), std::string::npos) << r.out;
  testing::DropDatabase(db);
}

TEST_F(SequencesPg, ChangedIncrementFails) {
  std::string db = Defect("ALTER SEQUENCE ticket_seq INCREMENT 7;");
  auto r = Drill(Uri(src_), Uri(db));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("public.ticket_seq: definition AS bigint START 10 INCREMENT 5 MINVALUE 10 MAXVALUE 100000 "
                       "CACHE 1 CYCLE → AS bigint START 10 INCREMENT 7"),
            std::string::npos)
      << r.out;
  // Against the custom dump as the source too.
  auto d = Drill(dumps_[0], Uri(db));
  EXPECT_EQ(d.exit_code, 1) << d.out;
  EXPECT_NE(d.out.find("public.ticket_seq: definition"), std::string::npos) << d.out;
  testing::DropDatabase(db);
}

TEST_F(SequencesPg, DeletedAndRewrittenLargeObjectsAreNamed) {
  const std::string first = PsqlScalar(restored_, "SELECT min(oid) FROM pg_largeobject_metadata");
  const std::string last = PsqlScalar(restored_, "SELECT max(oid) FROM pg_largeobject_metadata");
  std::string db = Defect("SELECT lo_unlink(" + last + "); SELECT lo_put(" + first + ", 2, '\\xff'::bytea);");
  for (const std::string& source : {Uri(src_), dumps_[1], dumps_[3]}) {
    auto r = Drill(source, Uri(db));
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("1 missing: " + last), std::string::npos) << source << "\n" << r.out;
    EXPECT_NE(r.out.find("1 changed: " + first + " (content)"), std::string::npos) << source << "\n" << r.out;
  }
  auto c = Vouch("compare " + dumps_[2] + " " + Uri(db) + " -q");
  EXPECT_EQ(c.exit_code, 1) << c.out;
  EXPECT_NE(c.out.find("missing " + last + "; changed " + first + " (content)"), std::string::npos) << c.out;
  testing::DropDatabase(db);
}

// --rows-only: a sequence reset behind the source, a dropped index and a
// deleted large object are not failures but said not compared, and the
// final hash is the tables' alone; without it each fails.
TEST_F(SequencesPg, RowsOnlyReportsSequencesLargeObjectsAndSchemaAsNotCompared) {
  const std::string last = PsqlScalar(restored_, "SELECT max(oid) FROM pg_largeobject_metadata");
  std::string db = Defect("SELECT setval('orders_id_seq', 1); DROP INDEX orders_item; SELECT lo_unlink(" + last + ");");
  auto full = Drill(Uri(src_), Uri(db));
  EXPECT_EQ(full.exit_code, 1) << full.out << full.err;
  EXPECT_NE(full.out.find("public.orders_id_seq: behind the source by 499"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("missing INDEX public.orders_item"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("1 missing: " + last), std::string::npos) << full.out;

  auto r = Vouch("drill " + Uri(src_) + " " + Uri(db) + " --rows-only -q");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Overall Result: ✅ PASS — all "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checks passed (--rows-only: sequences, large objects and schema objects not compared)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nSequences\n  not compared: --rows-only\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nLarge Objects\n  not compared: --rows-only (3 in the source, 2 in the restored copy, left "
                       "out of FINAL_VALIDATION_HASH)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Schema objects not compared: --rows-only"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SCHEMA_VALIDATION_HASH: not computed (--rows-only)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FINAL_VALIDATION_HASH covers the rows and audit chains only (--rows-only): it leaves out the "
                       "large objects (3 in the source, 2 in the restored copy)"),
            std::string::npos)
      << r.out;
  // Nothing it did not read passes.
  for (const char* said : {"SCHEMA_VALIDATION_HASH source", "the same as the source", "orders_id_seq", "orders_item",
                           "✅ 3 large objects"}) {
    EXPECT_EQ(r.out.find(said), std::string::npos) << said << "\n" << r.out;
  }
  // The final hash is the tables' alone: a digest of every table by name
  // (a selection has no large objects), not the database's (which has them).
  const std::string hash = DrillHash(r.out, "source");
  ASSERT_EQ(hash.size(), 64u) << r.out;
  EXPECT_EQ(DrillHash(r.out, "restored"), hash) << r.out;
  auto tables = Vouch("digest " + Uri(src_) + " -t 'public.*' -q");
  ASSERT_EQ(tables.exit_code, 0) << tables.err;
  EXPECT_EQ(FinalHash(tables.out), hash) << tables.out;
  auto whole = Vouch("digest " + Uri(src_) + " -q");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_NE(FinalHash(whole.out), hash) << whole.out;

  auto j = Vouch("drill " + Uri(src_) + " " + Uri(db) + " --rows-only -q --format json");
  EXPECT_EQ(j.exit_code, 0) << j.out << j.err;
  auto json = nlohmann::json::parse(j.out);
  EXPECT_EQ(json["rows_only"], true);
  EXPECT_EQ(json["passed"], true);
  EXPECT_EQ(json["sequences"]["compared"], false);
  EXPECT_EQ(json["sequences"]["not_compared"], "--rows-only");
  EXPECT_EQ(json["large_objects"]["compared"], false);
  EXPECT_EQ(json["large_objects"]["left_out"]["source"], 3);
  EXPECT_EQ(json["large_objects"]["left_out"]["restored"], 2);
  EXPECT_EQ(json["schema_objects"]["compared"], false);
  EXPECT_EQ(json["schema_objects"]["not_compared"], "--rows-only");
  EXPECT_TRUE(json["schema_validation_hash"]["match"].is_null()) << j.out;
  for (const auto& c : json["checks"]) {
    const std::string section = c["section"];
    EXPECT_TRUE(section != "Sequences" && section != "Large Objects" && section != "Schema Objects" &&
                section != "Schema Validation Hash")
        << section;
  }
  auto junit = Vouch("drill " + Uri(src_) + " " + Uri(db) + " --rows-only -q --format junit");
  EXPECT_EQ(junit.exit_code, 0) << junit.out << junit.err;
  EXPECT_NE(junit.out.find("failures=\"0\" errors=\"0\" skipped=\"4\""), std::string::npos) << junit.out;
  EXPECT_NE(junit.out.find("<testcase classname=\"vouch.drill.Sequences\" name=\"sequences\">\n    <skipped "
                           "message=\"not compared: --rows-only\"/>"),
            std::string::npos)
      << junit.out;
  auto md = Vouch("drill " + Uri(src_) + " " + Uri(db) + " --rows-only -q --format markdown");
  EXPECT_EQ(md.exit_code, 0) << md.out << md.err;
  EXPECT_NE(md.out.find("### Sequences\nNot compared: --rows-only"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("- **Schema Validation Hash**: not computed (`--rows-only`)"), std::string::npos) << md.out;

  // Cluster-wide objects are schema objects: not with --rows-only.
  auto globals = Vouch("drill " + dumps_[0] + " " + Uri(db) + " --rows-only --globals " + dumps_[3] + " -q");
  EXPECT_EQ(globals.exit_code, 2) << globals.out << globals.err;
  EXPECT_NE(globals.err.find("--globals: cluster-wide objects are schema objects"), std::string::npos) << globals.err;
  testing::DropDatabase(db);
}

TEST_F(SequencesPg, RowsOnlyStillFailsOnRows) {
  std::string db = Defect("UPDATE orders SET item = 'changed' WHERE id = 7; SELECT setval('orders_id_seq', 1);");
  auto r = Vouch("drill " + Uri(src_) + " " + Uri(db) + " --rows-only -q");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("❌ FAIL — 2 of "), std::string::npos) << r.out;  // the table's content and the final hash
  EXPECT_NE(r.out.find("Data Integrity · public.orders content"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("changed  id=7"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("orders_id_seq"), std::string::npos) << r.out;
  // compare: the same rows judged, the sequence not.
  auto c = Vouch("compare " + Uri(src_) + " " + Uri(db) + " --rows-only -q");
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_NE(c.out.find("changed  id=7"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("Rows only (--rows-only): sequences and large objects not compared"), std::string::npos)
      << c.out;
  EXPECT_EQ(c.out.find("Sequence public.orders_id_seq"), std::string::npos) << c.out;
  auto cfull = Vouch("compare " + Uri(src_) + " " + Uri(db) + " -q");
  EXPECT_EQ(cfull.exit_code, 1) << cfull.out << cfull.err;
  EXPECT_NE(cfull.out.find("Sequence public.orders_id_seq ❌: behind by 499"), std::string::npos) << cfull.out;
  testing::DropDatabase(db);
}

// Every kind of source read rows only gives the same final hash: a dump's
// large objects and a manifest's are left out as a database's are.
TEST_F(SequencesPg, RowsOnlyAgainstDumpsAndManifests) {
  const std::string last = PsqlScalar(restored_, "SELECT max(oid) FROM pg_largeobject_metadata");
  std::string db = Defect("SELECT setval('orders_id_seq', 1); DROP INDEX orders_item; SELECT lo_unlink(" + last + ");");
  const std::string manifest = dir_ + "/rows_only_src.json";
  ASSERT_EQ(Vouch("digest " + Uri(src_) + " -o " + manifest + " -q").exit_code, 0);
  auto live = Vouch("drill " + Uri(src_) + " " + Uri(db) + " --rows-only -q");
  ASSERT_EQ(live.exit_code, 0) << live.out << live.err;
  const std::string hash = DrillHash(live.out, "source");
  for (const std::string& source : {manifest, dumps_[0], dumps_[1], dumps_[2], dumps_[3]}) {
    auto full = Drill(source, Uri(db));
    EXPECT_EQ(full.exit_code, 1) << source << "\n" << full.out << full.err;
    auto r = Vouch("drill " + source + " " + Uri(db) + " --rows-only -q");
    EXPECT_EQ(r.exit_code, 0) << source << "\n" << r.out << r.err;
    EXPECT_EQ(DrillHash(r.out, "source"), hash) << source << "\n" << r.out;
    EXPECT_EQ(DrillHash(r.out, "restored"), hash) << source << "\n" << r.out;
    EXPECT_NE(r.out.find("(3 in the source, 2 in the restored copy"), std::string::npos) << source << "\n" << r.out;
    auto c = Vouch("compare " + source + " " + Uri(db) + " --rows-only -q");
    EXPECT_EQ(c.exit_code, 0) << source << "\n" << c.out << c.err;
  }
  testing::DropDatabase(db);
}

TEST_F(SequencesPg, LargeObjectsWithoutPrivilegeAreAClearError) {
  RunCommand("psql -X -q -d " + src_ + " -c 'DROP ROLE IF EXISTS vouch_seq_reader'");
  auto role = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + src_ +
                         " -c 'CREATE ROLE vouch_seq_reader LOGIN' -c 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "
                         "vouch_seq_reader' -c 'GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO vouch_seq_reader'");
  ASSERT_EQ(role.exit_code, 0) << role.err;
  const std::string uri = "postgresql://vouch_seq_reader@127.0.0.1:" + testing::TestPg().vars.at("PGPORT") + "/" + src_;
  auto r = Vouch("digest " + uri + " -q");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("needs the SELECT privilege on each (GRANT SELECT ON LARGE OBJECT"), std::string::npos) << r.err;
  // --rows-only lists the large objects without reading them.
  auto rows = Vouch("compare " + uri + " " + uri + " --rows-only -q");
  EXPECT_EQ(rows.exit_code, 0) << rows.out << rows.err;
  RunCommand("psql -X -q -d " + src_ + " -c 'DROP OWNED BY vouch_seq_reader' -c 'DROP ROLE vouch_seq_reader'");
}

}  // namespace
}  // namespace vouch
