// The drill's parsers: timestamps (against GNU date as the reference),
// durations, --fk and column references.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "vouch/engine/drill_checks.h"

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
  for (const char* bad : {"", "infinity", "2025-13-01 00:00:00", "2025-09-30 16:48", "2025-09-30 16:48:00+", "yesterday",
                          "2025-09-30 16:48:00.+00", "2025-09-30 16:48:00 +00"}) {
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

}  // namespace
}  // namespace vouch
