#include "render/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "render/kit.h"

namespace vouch::cli {

ProgressSample ProgressSample::Of(const ProgressCounters& c) {
  ProgressSample s;
  s.bytes = c.bytes.load(std::memory_order_relaxed);
  s.rows = c.rows.load(std::memory_order_relaxed);
  s.done = c.tables_done.load(std::memory_order_relaxed);
  s.total = c.tables_total.load(std::memory_order_relaxed);
  s.extent_done = c.extent_done.load(std::memory_order_relaxed);
  s.extent_total = c.extent_total.load(std::memory_order_relaxed);
  s.estimate = c.estimate.load(std::memory_order_relaxed);
  s.started = c.started.load(std::memory_order_relaxed);
  s.finished = c.finished.load(std::memory_order_relaxed);
  return s;
}

double ProgressFraction(const ProgressSample& s) {
  if (s.finished) return 1;
  double f = -1;
  if (s.extent_total > 0) {
    f = static_cast<double>(s.extent_done) / static_cast<double>(s.extent_total);
  } else if (s.total > 0) {
    f = static_cast<double>(s.done) / static_cast<double>(s.total);
  }
  // Never 100% before the end: an estimate runs over, a file's last bytes
  // are still being hashed.
  return f < 0 ? f : std::min(f, 0.99);
}

std::string FormatEta(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds) + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

std::string ProgressSideText(const std::string& label, const ProgressSample& s, double rate, ProgressUnit unit) {
  std::string out = label;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
  if (!s.started) {
    add("opening");
    return out;
  }
  const double f = ProgressFraction(s);
  if (f >= 0) add((s.estimate && !s.finished ? "~" : "") + Num(f * 100, "%.0f") + "%");
  add(Bytes(s.bytes));
  if (unit == ProgressUnit::kTables) add(GroupThousands(s.rows) + " rows");
  const char* what = unit == ProgressUnit::kTables ? " tables" : " files";
  add(GroupThousands(s.done) + (s.total > 0 ? "/" + GroupThousands(s.total) : "") + what);
  if (rate >= 0 && !s.finished) add(Num(rate / (1 << 20), "%.1f") + " MB/s");
  if (s.finished) add("done");
  return out;
}

ProgressDisplay::ProgressDisplay(std::string command, std::vector<Side> sides, const RunProgress* run, bool tty,
                                 std::chrono::milliseconds log_interval)
    : command_(std::move(command)),
      sides_(std::move(sides)),
      run_(run),
      tty_(tty),
      interval_(tty ? std::chrono::milliseconds(250) : log_interval),
      start_(std::chrono::steady_clock::now()),
      history_(sides_.size()) {
  thread_ = std::thread([this] { Loop(); });
}

ProgressDisplay::~ProgressDisplay() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (tty_ && printed_) {
    std::fputs("\r\033[K", stderr);  // the line goes; the report follows on a clean screen
    std::fflush(stderr);
  }
}

std::string ProgressDisplay::Line() {
  const auto now = std::chrono::steady_clock::now();
  std::string line = command_;
  if (run_ != nullptr) {
    std::string phase = run_->phase();
    if (!phase.empty()) line += " [" + phase + "]";
  }
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  line += " " + FormatEta(elapsed) + ":";
  bool any_started = false;
  for (const Side& side : sides_) any_started = any_started || side.counters->started.load(std::memory_order_relaxed);
  if (!any_started && run_ != nullptr) {
    line.pop_back();  // a phase that reads no rows (pg_restore): its name and the time
    return line;
  }
  double eta = -1;
  for (size_t i = 0; i < sides_.size(); ++i) {
    const ProgressSample s = ProgressSample::Of(*sides_[i].counters);
    // The rate over the last two seconds of samples (eight at 250 ms).
    History& h = history_[i];
    double rate = -1;
    if (h.n > 0) {
      const int oldest = h.n < 8 ? 0 : h.n % 8;
      const double dt = std::chrono::duration<double>(now - h.at[oldest]).count();
      if (dt > 0.2 && s.bytes >= h.bytes[oldest]) rate = static_cast<double>(s.bytes - h.bytes[oldest]) / dt;
    }
    h.at[h.n % 8] = now;
    h.bytes[h.n % 8] = s.bytes;
    ++h.n;
    line += (i == 0 ? " " : " · ") + ProgressSideText(sides_[i].label, s, rate, sides_[i].unit);
    // The slowest side decides when the run ends.
    const double f = ProgressFraction(s);
    if (f > 0.01 && !s.finished) eta = std::max(eta, elapsed * (1 - f) / f);
  }
  if (eta >= 0) line += " · ETA " + FormatEta(eta);
  return line;
}

void ProgressDisplay::Loop() {
  std::unique_lock lock(mu_);
  // The first line after a moment: a run that ends at once shows none.
  auto next = std::chrono::steady_clock::now() + (tty_ ? std::chrono::milliseconds(250) : interval_);
  while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
    next += interval_;
    std::string line = Line();
    if (tty_) {
      struct winsize ws {};
      size_t width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
      // Cut to the terminal's width (counting UTF-8 characters): a wrapped
      // line could not be redrawn in place.
      size_t chars = 0, cut = line.size();
      for (size_t k = 0; k < line.size(); ++k) {
        if ((static_cast<unsigned char>(line[k]) & 0xC0) == 0x80) continue;
        if (++chars == width) {
          cut = k;
          break;
        }
      }
      line.resize(cut);
      std::fprintf(stderr, "\r%s\033[K", line.c_str());
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    printed_ = true;
  }
}

}  // namespace vouch::cli
