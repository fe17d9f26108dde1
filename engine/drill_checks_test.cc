// The drill's parsers: timestamps (against GNU date as the reference),
// durations, --fk and column references; the observer's gap checks on rows
// fed to it directly.
#include "vouch/engine/drill_checks.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <string>
#include <vector>

namespace vouch {
namespace {

// Seconds since the epoch by GNU date (the independent reference).
int64_t DateSeconds(const std::string& text) {
  std::string cmd = "date -u -d '" + text + "' +%s";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  long long v = 0;
  EXPECT_EQ(fscanf(p, "%lld", &v), 1) << cmd;
  pclose(p);
  return v;
}

TEST(DrillParse, TimestampsAsCopyWritesThemAgreeWithGnuDate) {
  struct Case {
    const char* pg;    // as COPY writes it
    const char* date;  // the same instant for date(1)
    int64_t micros;
  } cases[] = {
      {"2025-09-30 16:48:00+00", "2025-09-30 16:48:00 UTC", 0},
      {"2025-09-30 16:48:00.5+00", "2025-09-30 16:48:00 UTC", 500000},
      {"2025-09-30 16:48:00.123456+00", "2025-09-30 16:48:00 UTC", 123456},
      {"2025-09-30 12:48:00-04", "2025-09-30 16:48:00 UTC", 0},
      {"2025-09-30 22:18:00+05:30", "2025-09-30 16:48:00 UTC", 0},
      {"2024-02-29 23:59:59.999999", "2024-02-29 23:59:59 UTC", 999999},
      {"1969-12-31 23:59:59.25+00", "1969-12-31 23:59:59 UTC", 250000},
      {"2000-01-01T00:00:00Z", "2000-01-01 00:00:00 UTC", 0},
      {"1900-03-01 00:00:00+00", "1900-03-01 00:00:00 UTC", 0},
  };
  for (const auto& c : cases) {
    auto us = ParseTimestampText(c.pg);
    ASSERT_TRUE(us.has_value()) << c.pg;
    EXPECT_EQ(*us, DateSeconds(c.date) * 1000000 + c.micros) << c.pg;
  }
  for (const char* bad : {"", "infinity", "2025-13-01 00:00:00", "2025-09-30 16:48", "2025-09-30 16:48:00+",
                          "yesterday", "2025-09-30 16:48:00.+00", "2025-09-30 16:48:00 +00"}) {
    EXPECT_FALSE(ParseTimestampText(bad).has_value()) << bad;
  }
}

TEST(DrillParse, FormatTimestampRoundTrips) {
  for (const char* t : {"2025-09-30 16:48:00", "1969-12-31 23:59:59", "2000-02-29 00:00:01", "1900-01-01 00:00:00"}) {
    auto us = ParseTimestampText(t);
    ASSERT_TRUE(us.has_value()) << t;
    EXPECT_EQ(FormatTimestamp(*us), t);
  }
  EXPECT_EQ(FormatTimestamp(*ParseTimestampText("1969-12-31 23:59:59.25"), true), "1969-12-31 23:59:59.250000");
}

TEST(DrillParse, Durations) {
  EXPECT_EQ(ParseDuration("15m"), 15 * 60 * 1000000LL);
  EXPECT_EQ(ParseDuration("90s"), 90 * 1000000LL);
  EXPECT_EQ(ParseDuration("90"), 90 * 1000000LL);
  EXPECT_EQ(ParseDuration("2h"), 7200 * 1000000LL);
  EXPECT_EQ(ParseDuration("1d"), 86400 * 1000000LL);
  EXPECT_EQ(ParseDuration("500ms"), 500000);
  EXPECT_EQ(ParseDuration("1.5m"), 90 * 1000000LL);
  EXPECT_FALSE(ParseDuration("15 minutes").has_value());
  EXPECT_FALSE(ParseDuration("-1s").has_value());
  EXPECT_FALSE(ParseDuration("m").has_value());
}

TEST(DrillParse, ForeignKeyFlags) {
  auto fk = ParseForeignKeyFlag("tasks(session_id)=sessions(id)");
  ASSERT_TRUE(fk.ok()) << fk.status().message();
  EXPECT_EQ(fk->schema, "public");
  EXPECT_EQ(fk->table, "tasks");
  EXPECT_EQ(fk->columns, std::vector<std::string>{"session_id"});
  EXPECT_EQ(fk->ref_table, "sessions");
  auto composite = ParseForeignKeyFlag("ops.lines(order_id, line_no)=ops.orders(id,no)");
  ASSERT_TRUE(composite.ok()) << composite.status().message();
  EXPECT_EQ(composite->ref_schema, "ops");
  EXPECT_EQ(composite->columns, (std::vector<std::string>{"order_id", "line_no"}));
  EXPECT_EQ(composite->ref_columns, (std::vector<std::string>{"id", "no"}));
  for (const char* bad : {"tasks(session_id)", "tasks(a,b)=sessions(id)", "tasks()=sessions(id)", "=sessions(id)",
                          "tasks(session_id)=sessions"}) {
    auto r = ParseForeignKeyFlag(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(DrillParse, ColumnRefs) {
  auto r = ParseColumnRef("audit_log.seq");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::make_tuple(std::string("public"), std::string("audit_log"), std::string("seq")));
  auto q = ParseColumnRef("ops.events.id");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(std::get<0>(*q), "ops");
  for (const char* bad : {"seq", ".seq", "t.", "a.b.c.d"}) EXPECT_FALSE(ParseColumnRef(bad).ok()) << bad;
}

// A source with no rows of its own: the tests hand the observer chunks.
class NoRowsReader final : public TableStreamReader {
 public:
  Result<bool> NextChunk(RowChunk&, size_t) override { return false; }
  const std::deque<TableInfo>& tables() const override { return tables_; }
  const SourceInfo& source_info() const override { return info_; }

 private:
  std::deque<TableInfo> tables_;
  SourceInfo info_;
};

TableInfo MakeTable(std::string name, std::vector<std::string> columns, std::vector<std::string> time_columns) {
  TableInfo t;
  t.schema = "public";
  t.name = std::move(name);
  t.columns = std::move(columns);
  t.time_columns = std::move(time_columns);
  return t;
}

// Scans `rows` (COPY text, each ending in '\n') as one chunk and folds it.
void Feed(DrillObserver& observer, const TableInfo& table, uint32_t index, const std::string& rows) {
  RowChunk chunk;
  chunk.table = &table;
  chunk.table_index = index;
  chunk.data.assign(rows.begin(), rows.end());
  chunk.size = rows.size();
  observer.Fold(index, observer.Scan(chunk));
}

CheckOptions WindowOptions() {
  CheckOptions o;
  o.catalog_fks = false;
  o.now_us = *ParseTimestampText("2025-12-01 00:00:00+00");
  o.gap_threshold = 10;  // every gap below is shorter: only the window makes one suspicious
  o.recovery_window =
      std::make_pair(*ParseTimestampText("2025-06-01 00:00:00+00"), *ParseTimestampText("2025-06-30 00:00:00+00"));
  return o;
}

TEST(DrillObserverGaps, GapColumnGapInsideRecoveryWindowIsSuspicious) {
  CheckOptions o = WindowOptions();
  o.gap_columns = {"events.id", "late.id"};
  DrillObserver observer(o);
  NoRowsReader reader;
  ASSERT_TRUE(observer.BeginSource(reader).ok());
  TableInfo events = MakeTable("events", {"id", "at"}, {"at"});
  TableInfo late = MakeTable("late", {"id", "at"}, {"at"});
  ASSERT_TRUE(observer.BeginTable(events, 0).ok());
  ASSERT_TRUE(observer.BeginTable(late, 1).ok());
  // events: 4 is missing between two rows written inside the window; 8..9
  // are missing between rows written before it.
  Feed(observer, events, 0,
       "1\t2025-01-01 00:00:00+00\n2\t2025-01-02 00:00:00+00\n3\t2025-06-10 00:00:00+00\n"
       "5\t2025-06-11 00:00:00+00\n6\t2025-06-12 00:00:00+00\n7\t2025-02-01 00:00:00+00\n"
       "10\t2025-02-02 00:00:00+00\n");
  // late: no row inside the window, so its short gap stays unsuspicious.
  Feed(observer, late, 1, "1\t2025-01-01 00:00:00+00\n3\t2025-01-02 00:00:00+00\n");
  auto checks = observer.Finish("", DigestOptions());
  ASSERT_TRUE(checks.ok()) << checks.status().message();
  ASSERT_EQ(checks->gaps.size(), 2u);
  const GapCheck& e = checks->gaps[0];
  EXPECT_EQ(e.table, "events");
  EXPECT_EQ(e.result.gaps, 2u);
  EXPECT_EQ(e.result.suspicious, 1u);  // 4, not 8..9
  const GapCheck& l = checks->gaps[1];
  EXPECT_EQ(l.table, "late");
  EXPECT_EQ(l.result.gaps, 1u);
  EXPECT_EQ(l.result.suspicious, 0u);
}

TEST(DrillObserverGaps, ChainAndGapColumnOfOneTableKeepTheirOwnWindows) {
  CheckOptions o = WindowOptions();
  ChainSpec spec;
  spec.genesis.clear();  // the hashes are not under test: links fail, seqs still count
  o.chains = {spec};
  o.gap_columns = {"audit_log.n"};
  DrillObserver observer(o);
  NoRowsReader reader;
  ASSERT_TRUE(observer.BeginSource(reader).ok());
  TableInfo audit =
      MakeTable("audit_log", {"seq", "prev_hash", "hash", "ts", "actor", "action", "payload", "n"}, {"ts"});
  ASSERT_TRUE(observer.BeginTable(audit, 0).ok());
  // seq 4 is missing between rows written before the window; the rows inside
  // it (seq 6..8) carry n 1, 3, 4, so n's 2 is missing inside the window and
  // its 5..9 outside. Neither column's values may widen the other's window.
  std::string rows;
  const struct {
    int seq;
    const char* ts;
    int n;
  } links[] = {{1, "2025-01-01", 10}, {2, "2025-01-02", 11}, {3, "2025-01-03", 12}, {5, "2025-01-05", 13},
               {6, "2025-06-10", 1},  {7, "2025-06-11", 3},  {8, "2025-06-12", 4}};
  for (const auto& l : links) {
    rows += std::to_string(l.seq) + "\tab\tcd\t" + l.ts + " 00:00:00+00\tal\tinsert\t{}\t" + std::to_string(l.n) + "\n";
  }
  Feed(observer, audit, 0, rows);
  auto checks = observer.Finish("", DigestOptions());
  ASSERT_TRUE(checks.ok()) << checks.status().message();
  ASSERT_EQ(checks->chains.size(), 1u);
  const ChainCheck& c = checks->chains[0];
  ASSERT_TRUE(c.found);
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.gaps.gaps, 1u);
  EXPECT_EQ(c.gaps.suspicious, 0u);  // seq 4 lies outside the window's seqs 6..8
  ASSERT_EQ(checks->gaps.size(), 1u);
  const GapCheck& g = checks->gaps[0];
  EXPECT_EQ(g.result.gaps, 2u);
  EXPECT_EQ(g.result.suspicious, 1u);  // n 2 lies inside the window's n 1..4
}

}  // namespace
}  // namespace vouch
