// Live counters of a run, for a progress display (the command line's status
// line): the digest pipeline and the backup verifier add to them as they go,
// once per chunk or file (relaxed atomics), and another thread reads them
// a few times a second. Nothing here is part of any result.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace vouch {

// One side of a run: a source being digested, or a backup being verified.
struct ProgressCounters {
  std::atomic<uint64_t> bytes{0};  // bytes of rows read (decoded), or of files checked
  std::atomic<uint64_t> rows{0};
  std::atomic<uint64_t> tables_done{0}, tables_total{0};  // or files
  // How far the source's input is read (TableStreamReader::Extent): its
  // bytes read of its size; total 0 when the source cannot tell, and an
  // estimate (a database's relation sizes) when `estimate`.
  std::atomic<uint64_t> extent_done{0}, extent_total{0};
  std::atomic<bool> estimate{false};
  std::atomic<bool> started{false}, finished{false};

  void Start() {
    bytes = rows = tables_done = tables_total = extent_done = extent_total = 0;
    finished = false;
    started = true;
  }
};

// A run's counters: up to two sides read at once (drill: the source and the
// restored copy; compare: expected and actual) and the phase it is in
// ("pg_restore", "WAL replay"), for commands that do more than read.
class RunProgress {
 public:
  ProgressCounters side[2];

  void SetPhase(std::string phase) {
    std::lock_guard lock(mu_);
    phase_ = std::move(phase);
  }
  std::string phase() const {
    std::lock_guard lock(mu_);
    return phase_;
  }

 private:
  mutable std::mutex mu_;
  std::string phase_;
};

}  // namespace vouch
