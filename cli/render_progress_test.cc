// The progress line's pieces (render/progress.h): what it says for the
// counters a run gives it.
#include <gtest/gtest.h>

#include "render/progress.h"

namespace vouch::cli {
namespace {

TEST(ProgressLine, FractionComesFromTheInputThenFromTheTables) {
  ProgressSample s;
  s.started = true;
  EXPECT_LT(ProgressFraction(s), 0);  // nothing tells it
  s.done = 1;
  s.total = 4;
  EXPECT_DOUBLE_EQ(ProgressFraction(s), 0.25);
  s.extent_done = 30;
  s.extent_total = 40;
  EXPECT_DOUBLE_EQ(ProgressFraction(s), 0.75);  // the input's bytes win over the tables
  s.extent_done = 50;                           // an estimate ran over
  EXPECT_DOUBLE_EQ(ProgressFraction(s), 0.99);
  s.finished = true;
  EXPECT_DOUBLE_EQ(ProgressFraction(s), 1.0);
}

TEST(ProgressLine, SideTextSaysBytesRowsTablesAndRate) {
  ProgressSample s;
  EXPECT_EQ(ProgressSideText("source", s, -1, ProgressUnit::kTables), "source opening");
  s.started = true;
  s.bytes = 3 << 20;
  s.rows = 1234567;
  s.done = 2;
  s.total = 8;
  s.extent_done = 1;
  s.extent_total = 4;
  s.estimate = true;
  EXPECT_EQ(ProgressSideText("restored", s, 5.5 * (1 << 20), ProgressUnit::kTables),
            "restored ~25% 3.0 MB 1,234,567 rows 2/8 tables 5.5 MB/s");
  s.estimate = false;
  s.total = 0;  // a plain dump tells its tables as it meets them
  EXPECT_EQ(ProgressSideText("", s, -1, ProgressUnit::kFiles), "25% 3.0 MB 2 files");
  s.finished = true;
  EXPECT_EQ(ProgressSideText("", s, 100, ProgressUnit::kFiles), "100% 3.0 MB 2 files done");
}

TEST(ProgressLine, EtaIsMinutesAndSecondsOrHours) {
  EXPECT_EQ(FormatEta(0), "0:00");
  EXPECT_EQ(FormatEta(42.4), "0:42");
  EXPECT_EQ(FormatEta(3725), "1:02:05");
  EXPECT_EQ(FormatEta(-3), "0:00");
}

TEST(ProgressLine, DisplayLineNamesThePhaseAndBothSides) {
  ProgressCounters a, b;
  RunProgress run;
  run.SetPhase("read");
  a.Start();
  a.tables_total = 3;
  a.tables_done = 1;
  ProgressDisplay d("vouch drill", {{"source", &a}, {"restored", &b}}, &run, /*tty=*/false, std::chrono::hours(1));
  const std::string line = d.Line();
  EXPECT_EQ(line.rfind("vouch drill [read] 0:00: source 33% 0 bytes 0 rows 1/3 tables · restored opening", 0), 0u)
      << line;
  run.SetPhase("pg_restore");
  ProgressCounters c, e;
  ProgressDisplay restoring("vouch restore-test", {{"backup", &c}, {"restored", &e}}, &run, false,
                            std::chrono::hours(1));
  EXPECT_EQ(restoring.Line(), "vouch restore-test [pg_restore] 0:00");
}

}  // namespace
}  // namespace vouch::cli
