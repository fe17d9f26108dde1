// The progress status line (-P/--progress): one line on stderr, refreshed
// four times a second on a terminal and cleared at the end; with --progress
// and stderr not a terminal, a plain line every few seconds, for logs.
// It reads the run's counters (vouch/base/progress.h) from a thread of its
// own, so the reading threads never wait for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vouch/base/progress.h"

namespace vouch::cli {

// What a side's counters count: "rows" of tables, or "files" of a backup.
enum class ProgressUnit { kTables, kFiles };

// One rendering of the counters, for tests and the display alike.
struct ProgressSample {
  uint64_t bytes = 0, rows = 0, done = 0, total = 0, extent_done = 0, extent_total = 0;
  bool estimate = false, started = false, finished = false;
  static ProgressSample Of(const ProgressCounters& c);
};

// "source 43% 1.2 GB 480,000 rows 12/40 tables 85.3 MB/s": `rate` is the
// recent bytes per second (negative: not known yet). Fraction: the input
// read of its size when the source tells it (a database's "~" estimate),
// else the tables (files) done.
std::string ProgressSideText(const std::string& label, const ProgressSample& s, double rate, ProgressUnit unit);
// The fraction done (0..1), or negative when nothing tells it.
double ProgressFraction(const ProgressSample& s);
// "0:42", "1:02:03".
std::string FormatEta(double seconds);

class ProgressDisplay {
 public:
  struct Side {
    std::string label;  // "" for a command with one side
    const ProgressCounters* counters;
    ProgressUnit unit = ProgressUnit::kTables;
  };
  // `command`: "vouch drill"; `tty`: stderr is a terminal (a refreshed,
  // cleared line), else plain lines every `log_interval`.
  ProgressDisplay(std::string command, std::vector<Side> sides, const RunProgress* run, bool tty,
                  std::chrono::milliseconds log_interval = std::chrono::seconds(5));
  ~ProgressDisplay();  // stops the thread, clears the line
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // The line as it would be printed now (the thread calls it).
  std::string Line();

 private:
  void Loop();

  const std::string command_;
  const std::vector<Side> sides_;
  const RunProgress* run_;
  const bool tty_;
  const std::chrono::milliseconds interval_;
  const std::chrono::steady_clock::time_point start_;
  // Per side: the bytes at the last samples, for a rate over the last
  // couple of seconds.
  struct History {
    std::chrono::steady_clock::time_point at[8];
    uint64_t bytes[8] = {};
    int n = 0;
  };
  std::vector<History> history_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool printed_ = false;
  std::thread thread_;
};

}  // namespace vouch::cli
