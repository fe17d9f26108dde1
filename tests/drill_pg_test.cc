// vouch drill on real databases (issue 6): the generated drill database is
// restored with pg_dump -Fc | pg_restore; the clean copy passes with equal
// final hashes, and each defect applied to a copy of it fails and is named
// exactly: the key, the seq, the gap, the orphaned child, the RPO.
#include <gtest/gtest.h>

#include <algorithm>

#include "render/drill.h"
#include "support/pg_test_env.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/engine/drill.h"

namespace vouch {
namespace {

using testing::PsqlScalar;
using testing::RunCommand;

class DrillPg : public testing::PreparedTest<DrillPg> {
 protected:
  friend class testing::PreparedTest<DrillPg>;
  static void Prepare() {
    src_ = testing::CreateDrillDatabase("vouch_drill_src", 0.01, 6, /*tricky=*/false);
    restored_ = testing::CreateDatabase("vouch_drill_restored");
    auto r = RunCommand("pg_dump -Fc -d " + src_ + " | pg_restore -d " + restored_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    dir_ = testing::MakeTempDir("vouch_drill");
    // Dumps as sources, one taken in a non-UTC zone.
    auto d =
        RunCommand("pg_dump -Fc -d " + src_ + " -f " + dir_ + "/src.custom && PGTZ=America/New_York pg_dump -Fp -d " +
                   src_ + " | gzip > " + dir_ + "/src.sql.gz");
    ASSERT_EQ(d.exit_code, 0) << d.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(src_);
    testing::DropDatabase(restored_);
    RunCommand("rm -rf " + dir_);
  }
  // A copy of the restored database with `sql` applied.
  static std::string Defect(const std::string& sql) {
    std::string db = testing::CreateDatabase("vouch_drill_defect");
    auto copy = RunCommand("dropdb " + db + " && createdb -T " + restored_ + " " + db);
    EXPECT_EQ(copy.exit_code, 0) << copy.err;
    auto apply = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db + " -c " + ShellQuote(sql));
    EXPECT_EQ(apply.exit_code, 0) << apply.err;
    return db;
  }
  static std::string ShellQuote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    return out + "'";
  }
  // Each generated table and its record-time column (its first timestamp column).
  static std::vector<std::pair<std::string, std::string>> RecordColumns() {
    return {{"agents", "created_at"},   {"sessions", "started_at"},  {"tasks", "created_at"},
            {"executions", "started_at"}, {"tool_calls", "called_at"}, {"audit_log", "ts"}};
  }
  static DrillOptions Options() {
    DrillOptions o;
    o.compare.digest.jobs = 2;
    auto chain = ParseChainFlag("audit_log");
    EXPECT_TRUE(chain.ok()) << chain.status().message();
    o.checks.chains.push_back(*chain);
    return o;
  }
  static DrillReport Drill(const std::string& restored, const DrillOptions& o = Options()) {
    auto r = RunDrill(testing::DatabaseUri(src_), testing::DatabaseUri(restored), o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : DrillReport{};
  }
  // The failed checks, one line each: "section / name: detail".
  static std::vector<std::string> Failures(const DrillReport& r) {
    std::vector<std::string> out;
    for (const auto& c : r.checks) {
      if (!c.passed) out.push_back(c.section + " / " + c.name + ": " + Detail(r, &c));
    }
    return out;
  }
  // A check's line as the report words it (cli/render/drill.cc).
  static std::string Detail(const DrillReport& r, const DrillCheck* c) { return cli::DrillCheckDetail(r, *c); }
  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
  }
  static const DrillCheck* Find(const DrillReport& r, const std::string& name) {
    for (const auto& c : r.checks) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
  static std::string src_, restored_, dir_;
};
std::string DrillPg::src_, DrillPg::restored_, DrillPg::dir_;

TEST_F(DrillPg, CleanRestorePassesWithEqualFinalHashes) {
  DrillReport r = Drill(restored_);
  EXPECT_TRUE(r.outcome().Verified()) << Join(Failures(r));
  EXPECT_EQ(r.source_final_hash, r.restored_final_hash);
  EXPECT_EQ(r.source_final_hash.size(), 64u);
  ASSERT_EQ(r.restored_checks.chains.size(), 1u);
  const ChainCheck& c = r.restored_checks.chains[0];
  EXPECT_EQ(std::to_string(c.result.entries), PsqlScalar(restored_, "SELECT count(*) FROM audit_log"));
  EXPECT_EQ(c.result.head_hash, PsqlScalar(restored_, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
  EXPECT_EQ(c.gaps.max_gap, 1u);
  // Every catalog FK of the generated schema was checked.
  EXPECT_EQ(r.restored_checks.orphans.size(), 4u);
  for (const auto& o : r.restored_checks.orphans) {
    EXPECT_TRUE(o.not_checked.empty()) << o.Name() << ": " << o.not_checked;
    EXPECT_EQ(std::to_string(o.child_rows), PsqlScalar(restored_, "SELECT count(*) FROM " + o.fk.table));
  }
  // Earliest and latest per table agree with the server's min/max.
  for (const auto& t : r.restored_checks.temporal) {
    ASSERT_NE(t.record(), nullptr) << t.name;
    std::string q = "SELECT to_char(min(" + t.record_column +
                    ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' ' || "
                    "to_char(max(" +
                    t.record_column + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM " + t.name;
    EXPECT_EQ(FormatTimestamp(t.record()->min_us) + " " + FormatTimestamp(t.record()->max_us), PsqlScalar(restored_, q))
        << t.name;
  }
  // The drill's final hash covers the chain head: without the chain it is
  // the digest's final hash, which differs.
  EXPECT_NE(r.restored_final_hash, r.compare.actual.FinalHashHex());
  EXPECT_EQ(r.rpo_us.value_or(-1), 0);
}

TEST_F(DrillPg, DumpsAsTheSourceGiveTheSameVerdictAndHash) {
  DrillReport live = Drill(restored_);
  for (const char* dump : {"/src.custom", "/src.sql.gz"}) {
    auto r = RunDrill(dir_ + dump, testing::DatabaseUri(restored_), Options());
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->outcome().Verified()) << dump << "\n" << Join(Failures(*r));
    EXPECT_EQ(r->source_final_hash, live.source_final_hash) << dump;
    ASSERT_EQ(r->source_checks.chains.size(), 1u);
    EXPECT_EQ(r->source_checks.chains[0].result.head_hash, live.restored_checks.chains[0].result.head_hash);
    EXPECT_EQ(r->source_latest_us, live.source_latest_us) << dump;
  }
  // The custom archive names its foreign keys up front; the plain dump after
  // its data, which the report says.
  auto plain = RunDrill(dir_ + "/src.sql.gz", testing::DatabaseUri(restored_), Options());
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(plain->source_checks.fk_note, "");
}

TEST_F(DrillPg, ChangedRowIsNamedByKey) {
  DrillReport r = Drill(Defect("UPDATE tasks SET title = title || '!' WHERE id = 7"));
  EXPECT_FALSE(r.outcome().Verified());
  auto f = Failures(r);
  const DrillCheck* c = Find(r, "public.tasks content");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("1 changed: id=7"), std::string::npos) << Detail(r, c);
  // Only the content and the final hash fail.
  EXPECT_EQ(f.size(), 2u) << Join(f);
}

TEST_F(DrillPg, DeletedRowIsNamedWithCountMinusOne) {
  DrillReport r = Drill(Defect("DELETE FROM tool_calls WHERE id = 11"));
  const DrillCheck* c = Find(r, "public.tool_calls content");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("count −1"), std::string::npos) << Detail(r, c);
  EXPECT_NE(Detail(r, c).find("1 missing: id=11"), std::string::npos) << Detail(r, c);
}

TEST_F(DrillPg, OrphanAfterParentDeletedWithForeignKeyDropped) {
  std::string task = PsqlScalar(restored_, "SELECT task_id FROM executions ORDER BY id LIMIT 1");
  std::string children =
      PsqlScalar(restored_, "SELECT string_agg('id=' || id, ' ' ORDER BY id) FROM executions WHERE task_id = " + task);
  std::string db = Defect(
      "ALTER TABLE executions DROP CONSTRAINT executions_task_id_fkey; "
      "DELETE FROM tasks WHERE id = " +
      task);
  DrillReport r = Drill(db);
  const DrillCheck* c = Find(r, "orphans public.executions(task_id) → public.tasks(id)");
  ASSERT_NE(c, nullptr) << Join(Failures(r));
  EXPECT_FALSE(c->passed);
  size_t n = static_cast<size_t>(std::count(children.begin(), children.end(), '='));
  EXPECT_NE(Detail(r, c).find(std::to_string(n) + " orphaned of"), std::string::npos) << Detail(r, c);
  // Every orphaned child is named by its key, with its reference.
  for (size_t pos = 0; pos < children.size();) {
    size_t sp = children.find(' ', pos);
    std::string key = children.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    EXPECT_NE(Detail(r, c).find(key + " (task_id=" + task + ")"), std::string::npos) << key << " in " << Detail(r, c);
    pos = sp == std::string::npos ? children.size() : sp + 1;
  }
  // With a memory limit far below the key sets, they spill: the same orphans
  // and samples for every key on both sides, and no spill directory left.
  DrillOptions small = Options();
  small.checks.memory_limit = 4096;
  small.checks.temp_dir = dir_ + "/spill";
  ASSERT_EQ(RunCommand("mkdir -p " + small.checks.temp_dir).exit_code, 0);
  DrillReport spilled = Drill(db, small);
  for (auto side : {&DrillReport::source_checks, &DrillReport::restored_checks}) {
    const std::vector<OrphanCheck>& a = (r.*side).orphans;
    const std::vector<OrphanCheck>& b = (spilled.*side).orphans;
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].Name(), b[i].Name());
      EXPECT_EQ(a[i].orphans, b[i].orphans) << a[i].Name();
      EXPECT_EQ(a[i].parent_keys, b[i].parent_keys) << a[i].Name();
      EXPECT_EQ(a[i].child_rows, b[i].child_rows) << a[i].Name();
      EXPECT_EQ(a[i].samples, b[i].samples) << a[i].Name();
    }
  }
  const DrillCheck* sc = Find(spilled, c->name);
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(Detail(spilled, sc), Detail(r, c));
  EXPECT_EQ(RunCommand("rmdir " + small.checks.temp_dir).exit_code, 0) << "a spill directory was left behind";
}

// A foreign key to a generated column: no COPY holds the column's values,
// so rows cannot show orphans. It is a note ("not checkable"), not a failed
// check, from the database's catalog and from its dump's alike.
TEST_F(DrillPg, ForeignKeyToAGeneratedColumnIsNotCheckableNotFailed) {
  std::string db = Defect(
      "CREATE TABLE gen_p (x int PRIMARY KEY, y int GENERATED ALWAYS AS (x * 2) STORED UNIQUE);"
      "INSERT INTO gen_p VALUES (1), (2);"
      "CREATE TABLE gen_c (id int PRIMARY KEY, r int REFERENCES gen_p (y));"
      "INSERT INTO gen_c VALUES (1, 4), (2, NULL);");
  const std::string dump = dir_ + "/gen.custom";
  auto d = RunCommand("pg_dump -Fc -d " + db + " -f " + dump);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  for (const std::string& source : {testing::DatabaseUri(db), dump}) {
    auto run = RunDrill(source, testing::DatabaseUri(db), Options());
    ASSERT_TRUE(run.ok()) << run.status().message();
    const DrillReport& r = *run;
    EXPECT_TRUE(r.outcome().Verified()) << source << "\n" << Join(Failures(r));
    auto it = std::find_if(r.restored_checks.orphans.begin(), r.restored_checks.orphans.end(),
                           [](const OrphanCheck& o) { return o.fk.table == "gen_c"; });
    ASSERT_NE(it, r.restored_checks.orphans.end()) << source;
    EXPECT_TRUE(it->Passed()) << source;
    EXPECT_FALSE(it->Checked()) << source;
    EXPECT_TRUE(it->not_checked.empty()) << source << ": " << it->not_checked;
    EXPECT_NE(it->not_checkable.find("public.gen_p do not hold y"), std::string::npos) << it->not_checkable;
    const DrillCheck* c = Find(r, "orphans " + it->Name());
    ASSERT_NE(c, nullptr) << it->Name();
    EXPECT_EQ(Detail(r, c).rfind("not checkable: ", 0), 0u) << Detail(r, c);
  }
  testing::DropDatabase(db);
}

TEST_F(DrillPg, EditedAuditPayloadBreaksTheChainAtItsSeq) {
  DrillReport r = Drill(Defect("UPDATE audit_log SET payload = payload || ' ' WHERE seq = 100"));
  const DrillCheck* c = Find(r, "public.audit_log chain");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("1 link fails at seq 100"), std::string::npos) << Detail(r, c);
  EXPECT_EQ(r.restored_checks.chains[0].result.first_link_failures, std::vector<int64_t>{100});
}

TEST_F(DrillPg, DeletedAuditRunIsAGapOfItsSizeAtItsSeq) {
  DrillReport r = Drill(Defect("DELETE FROM audit_log WHERE seq BETWEEN 200 AND 204"));
  const ChainCheck& c = r.restored_checks.chains.at(0);
  EXPECT_FALSE(c.Passed());
  EXPECT_EQ(c.gaps.gaps, 1u);
  ASSERT_EQ(c.gaps.ranges.size(), 1u);
  EXPECT_EQ(c.gaps.ranges[0], std::make_pair(int64_t{200}, int64_t{204}));
  EXPECT_EQ(c.gaps.max_gap, 6u);
  EXPECT_EQ(c.result.first_breaks, std::vector<int64_t>{205});
  const DrillCheck* d = Find(r, "public.audit_log chain");
  ASSERT_NE(d, nullptr);
  EXPECT_NE(Detail(r, d).find("200..204 (size 5)"), std::string::npos) << Detail(r, d);
}

TEST_F(DrillPg, LostLastMinutesOfWritesGiveTheRpo) {
  // Every table loses what was written in its last 10 minutes.
  std::string latest = PsqlScalar(restored_, "SELECT max(ts) FROM audit_log");
  std::string cut = "'" + latest + "'::timestamptz - interval '10 minutes'";
  std::string db =
      Defect("DELETE FROM tool_calls WHERE called_at > " + cut + "; DELETE FROM executions WHERE started_at > " + cut +
             "; DELETE FROM tasks WHERE created_at > " + cut + "; DELETE FROM sessions WHERE started_at > " + cut +
             "; DELETE FROM agents WHERE created_at > " + cut + "; DELETE FROM audit_log WHERE ts > " + cut);
  DrillOptions o = Options();
  o.rpo_target_us = 5 * 60 * 1000000LL;
  DrillReport r = Drill(db, o);
  ASSERT_TRUE(r.rpo_us.has_value());
  // The reference, by the server: each table's latest record time in the
  // source minus in the restored copy; the RPO is the largest of them.
  int64_t worst = -1;
  std::string worst_table;
  for (const auto& [table, column] : RecordColumns()) {
    const std::string q = "SELECT (extract(epoch FROM max(" + column + ")) * 1e6)::bigint FROM " + table;
    int64_t lag = std::stoll(PsqlScalar(src_, q)) - std::stoll(PsqlScalar(db, q));
    if (lag > worst) worst = lag, worst_table = "public." + table;
  }
  EXPECT_EQ(*r.rpo_us, worst);
  EXPECT_EQ(r.table_lags.at(0).QualifiedName(), worst_table);
  EXPECT_EQ(r.table_lags.size(), RecordColumns().size());
  EXPECT_GE(*r.rpo_us, 10 * 60 * 1000000LL);
  const DrillCheck* c = Find(r, "RPO");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed) << Detail(r, c);
}

TEST_F(DrillPg, RpoIsTheWorstLossOfAnyTable) {
  // Two tables lose their tails, one more than the other; the others keep
  // every record, so the latest record over all tables survives.
  std::string db = Defect(
      "DELETE FROM tool_calls WHERE called_at > (SELECT max(called_at) FROM tool_calls) - interval '40 minutes'; "
      "DELETE FROM audit_log WHERE ts > (SELECT max(ts) FROM audit_log) - interval '5 minutes'");
  DrillReport r = Drill(db);
  ASSERT_TRUE(r.rpo_us.has_value());
  const std::string q = "SELECT (extract(epoch FROM max(called_at)) * 1e6)::bigint FROM tool_calls";
  EXPECT_EQ(*r.rpo_us, std::stoll(PsqlScalar(src_, q)) - std::stoll(PsqlScalar(db, q)));
  EXPECT_GE(*r.rpo_us, 40 * 60 * 1000000LL);
  ASSERT_GE(r.table_lags.size(), 2u);
  EXPECT_EQ(r.table_lags[0].QualifiedName(), "public.tool_calls");
  EXPECT_EQ(r.table_lags[0].column, "called_at");
  EXPECT_EQ(r.table_lags[1].QualifiedName(), "public.audit_log");
  EXPECT_GE(r.table_lags[1].lag_us, 5 * 60 * 1000000LL);
  EXPECT_LT(r.table_lags[1].lag_us, r.table_lags[0].lag_us);
  for (size_t i = 2; i < r.table_lags.size(); ++i) EXPECT_EQ(r.table_lags[i].lag_us, 0) << r.table_lags[i].name;
  // What the RPO was before: the gap between the latest records over all
  // tables, which another table kept.
  ASSERT_TRUE(r.source_latest_us && r.restored_latest_us);
  EXPECT_LT(*r.source_latest_us - *r.restored_latest_us, 40 * 60 * 1000000LL);
  DrillOptions o = Options();
  o.rpo_target_us = 60 * 1000000LL;
  DrillReport t = Drill(db, o);
  const DrillCheck* c = Find(t, "RPO");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(c->facts.find("table=public.tool_calls"), std::string::npos) << c->facts;
}

TEST_F(DrillPg, AmcheckPassesTheRestoredIndexesAndLeavesNoExtension) {
  DrillOptions o = Options();
  o.amcheck = true;
  DrillReport r = Drill(restored_, o);
  ASSERT_TRUE(r.index_checks.has_value());
  // The reference: the B-tree indexes of the generated tables, by the server.
  EXPECT_EQ(std::to_string(r.index_checks->checked),
            PsqlScalar(restored_, "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a "
                                  "ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"));
  EXPECT_GT(r.index_checks->checked, 0u);
  EXPECT_TRUE(r.index_checks->failures.empty());
  const DrillCheck* c = Find(r, "B-tree indexes (amcheck)");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->passed) << Detail(r, c);
  EXPECT_EQ(PsqlScalar(restored_, "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'"), "0");
}

TEST_F(DrillPg, AmcheckNamesAnIndexOutOfOrder) {
  // An index built under one ordering and read under another, as a text
  // index built under one collation is after a restore onto another glibc:
  // its comparison function is replaced after the index was built.
  std::string db = Defect(
      "CREATE FUNCTION public.vouch_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS "
      "'SELECT CASE WHEN $1 < $2 THEN -1 WHEN $1 > $2 THEN 1 ELSE 0 END'; "
      "CREATE OPERATOR CLASS public.vouch_int_ops FOR TYPE int USING btree AS OPERATOR 1 <, OPERATOR 2 <=, "
      "OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 public.vouch_cmp(int, int); "
      "CREATE TABLE public.idx_t (v int); INSERT INTO public.idx_t SELECT generate_series(1, 2000); "
      "CREATE INDEX idx_t_v ON public.idx_t (v public.vouch_int_ops); "
      "CREATE OR REPLACE FUNCTION public.vouch_cmp(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS "
      "'SELECT CASE WHEN $1 < $2 THEN 1 WHEN $1 > $2 THEN -1 ELSE 0 END'");
  DrillOptions o = Options();
  o.amcheck = true;
  DrillReport r = Drill(db, o);
  ASSERT_TRUE(r.index_checks.has_value());
  ASSERT_EQ(r.index_checks->failures.size(), 1u);
  EXPECT_EQ(r.index_checks->failures[0].index, "public.idx_t_v");
  EXPECT_EQ(r.index_checks->failures[0].table, "public.idx_t");
  const DrillCheck* c = Find(r, "B-tree indexes (amcheck)");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("public.idx_t_v on public.idx_t: "), std::string::npos) << Detail(r, c);
  testing::DropDatabase(db);
}

TEST_F(DrillPg, AmcheckNeedsADatabase) {
  DrillOptions o = Options();
  o.amcheck = true;
  auto r = RunDrill(testing::DatabaseUri(src_), dir_ + "/src.custom", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--amcheck"), std::string::npos) << r.status().message();
}

TEST_F(DrillPg, TimestampMovedIntoTheFutureIsNamed) {
  DrillReport r = Drill(Defect("UPDATE tasks SET completed_at = now() + interval '1 year' WHERE id = 5"));
  const DrillCheck* c = Find(r, "future timestamps");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("public.tasks.completed_at: 1 (id=5"), std::string::npos) << Detail(r, c);
}

TEST_F(DrillPg, NullRecordTimestampIsNamed) {
  DrillReport r = Drill(Defect(
      "ALTER TABLE sessions ALTER started_at DROP NOT NULL; UPDATE sessions SET started_at = NULL WHERE id = 3"));
  const DrillCheck* c = Find(r, "NULL record timestamps");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("public.sessions.started_at: 1"), std::string::npos) << Detail(r, c);
}

TEST_F(DrillPg, FlippedBitInByteaIsNamedByKey) {
  DrillReport r = Drill(Defect(
      "UPDATE tool_calls SET result_digest = set_bit(result_digest, 0, 1 - get_bit(result_digest, 0)) WHERE id = 9"));
  const DrillCheck* c = Find(r, "public.tool_calls content");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_NE(Detail(r, c).find("1 changed: id=9"), std::string::npos) << Detail(r, c);
}

TEST_F(DrillPg, WrongChainSpecSaysEveryLinkFails) {
  DrillOptions o = Options();
  auto wrong = ParseChainFlag("audit_log:sep=','");
  ASSERT_TRUE(wrong.ok()) << wrong.status().message();
  o.checks.chains = {*wrong};
  DrillReport r = Drill(restored_, o);
  const DrillCheck* c = Find(r, "public.audit_log chain");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->passed);
  EXPECT_TRUE(r.restored_checks.chains[0].SpecLooksWrong());
  EXPECT_NE(Detail(r, c).find("the chain spec is probably wrong"), std::string::npos) << Detail(r, c);
  // Content still matches: the data is fine.
  const DrillCheck* content = Find(r, "public.audit_log content");
  ASSERT_NE(content, nullptr);
  EXPECT_TRUE(content->passed);
}

}  // namespace
}  // namespace vouch

namespace vouch {
namespace {

// The command line: exit 0 on a clean restore, 1 with findings, 2 for a bad
// flag, 3 when a side cannot be read; the report formats are written.
TEST_F(DrillPg, CommandLineExitCodesAndFormats) {
  const std::string vouch = testing::BinPath("VOUCH_BIN") + " drill " + testing::DatabaseUri(src_) + " ";
  auto clean = RunCommand(vouch + testing::DatabaseUri(restored_) + " --chain audit_log --rpo-target 15m -q");
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_NE(clean.out.find("Overall Result: ✅ PASS"), std::string::npos) << clean.out;
  std::string junit = dir_ + "/drill.xml";
  auto defect = RunCommand(vouch + testing::DatabaseUri(Defect("DELETE FROM audit_log WHERE seq = 300")) +
                           " --chain audit_log --format junit -o " + junit + " -q");
  EXPECT_EQ(defect.exit_code, 1) << defect.out << defect.err;
  std::string xml = testing::ReadFileBytes(junit);
  EXPECT_NE(xml.find("failures=\"3\""), std::string::npos) << xml;  // content, chain, final hash
  EXPECT_NE(xml.find("1 missing: seq=300"), std::string::npos) << xml;
  auto md = RunCommand(vouch + testing::DatabaseUri(restored_) + " --chain audit_log --format markdown -q");
  EXPECT_EQ(md.exit_code, 0) << md.err;
  for (const char* section :
       {"### Critical Table Row Counts", "### Data Integrity Checksums", "### Audit Chain Verification",
        "### Temporal Consistency", "### Referential Integrity", "FINAL_VALIDATION_HASH: "}) {
    EXPECT_NE(md.out.find(section), std::string::npos) << section;
  }
  // A small --memory-limit spills the key sets under $TMPDIR, with the same verdict, and leaves nothing there.
  const std::string tmp = dir_ + "/tmp";
  ASSERT_EQ(RunCommand("mkdir -p " + tmp).exit_code, 0);
  auto spilled = RunCommand("TMPDIR=" + tmp + " " + vouch + testing::DatabaseUri(restored_) +
                            " --chain audit_log --rpo-target 15m --memory-limit 4K -q");
  EXPECT_EQ(spilled.exit_code, 0) << spilled.out << spilled.err;
  EXPECT_NE(spilled.out.find("Overall Result: ✅ PASS"), std::string::npos) << spilled.out;
  EXPECT_EQ(RunCommand("rmdir " + tmp).exit_code, 0) << "a spill directory was left behind";
  auto no_tmp = RunCommand("TMPDIR=" + dir_ + "/no-such-tmp " + vouch + testing::DatabaseUri(restored_) +
                           " --memory-limit 4K -q");
  EXPECT_EQ(no_tmp.exit_code, 3) << no_tmp.err;
  EXPECT_NE(no_tmp.err.find(dir_ + "/no-such-tmp"), std::string::npos) << no_tmp.err;
  for (const char* size : {"12", "lots", "4T"}) {
    auto r = RunCommand(vouch + testing::DatabaseUri(restored_) + " --memory-limit " + size + " -q");
    EXPECT_EQ(r.exit_code, 2) << size << ": " << r.err;
    EXPECT_NE(r.err.find("--memory-limit"), std::string::npos) << r.err;
  }
  auto bad = RunCommand(vouch + testing::DatabaseUri(restored_) + " --chain 'audit_log:foo=1' -q");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("foo"), std::string::npos) << bad.err;
  auto missing = RunCommand(testing::BinPath("VOUCH_BIN") + " drill " + dir_ + "/no-such.dump " +
                            testing::DatabaseUri(restored_) + " -q");
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("no-such.dump"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace vouch
