// Sets of 64-bit values larger than memory, as an external sort keeps them:
// values are appended to an in-memory buffer; when the buffers of all the
// sets sharing one SpillBudget hold more than the budget, the largest buffer
// is sorted and written to a run file in a temporary directory, and reading
// merges the runs (k-way, in passes of a bounded fan-in) with what is still
// in memory. A set that never exceeds the budget never touches a file, so
// the in-memory path costs nothing extra.
//
// The orphan check keeps its parent keys and child references in these
// (drill/orphan_check.cc); nothing in here knows about keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vouch/status.h"

namespace vouch::drill {

class SpillSet;

// The memory the sets of one owner may hold together, and the temporary
// directory their runs go to: created under `parent` (mkdtemp) on the first
// spill, removed with every file in it when the budget is destroyed, errors
// included. Not thread-safe; the sets it serves are used by one thread.
class SpillBudget {
 public:
  // `limit_bytes`: what the sets' buffers may hold together; `parent`: where
  // the temporary directory is made (empty: the system's temporary directory).
  SpillBudget(size_t limit_bytes, std::string parent);
  ~SpillBudget();
  SpillBudget(const SpillBudget&) = delete;
  SpillBudget& operator=(const SpillBudget&) = delete;

  size_t limit() const { return limit_; }
  size_t used() const { return used_; }            // bytes the sets' buffers hold now (capacity)
  const std::string& dir() const { return dir_; }  // empty until the first spill
  uint64_t runs_written() const { return runs_written_; }

 private:
  friend class SpillSet;
  friend class SortedStream;
  // A fresh run file's path, making the directory first if need be.
  Result<std::string> NewRunPath();
  // Spills the largest buffers until the sets hold no more than the limit.
  Status Enforce();

  size_t limit_;
  size_t used_ = 0;
  std::string parent_, dir_;
  uint64_t next_run_ = 0, runs_written_ = 0;
  std::vector<SpillSet*> sets_;
};

// A multiset of uint64 values (or a set, when `unique`: duplicates may be
// dropped as soon as they meet, and reading yields each value once).
class SpillSet {
 public:
  SpillSet(SpillBudget& budget, bool unique);
  ~SpillSet();  // removes its run files
  SpillSet(const SpillSet&) = delete;
  SpillSet& operator=(const SpillSet&) = delete;

  // Appends `n` values; may write runs (of this set or another sharing the
  // budget). An error names the file that could not be written.
  Status Append(const uint64_t* values, size_t n);
  uint64_t appended() const { return appended_; }
  size_t runs() const { return runs_.size(); }
  // Frees the buffer and removes the run files: the set is empty again.
  void Clear();

 private:
  friend class SpillBudget;
  friend class SortedStream;
  // Sorts the buffer and writes it as a run; the buffer's memory is freed.
  Status Spill();
  void ReleaseBuffer();

  SpillBudget& budget_;
  bool unique_;
  uint64_t appended_ = 0;
  std::vector<uint64_t> buffer_;
  std::vector<std::string> runs_;  // sorted run files
};

// The values of a set in ascending order (each once for a unique set):
// merges its runs with its sorted buffer. While runs exceed the fan-in that
// the budget affords, they are first merged into longer runs. Reading leaves
// the set's values in place, but sorts its buffer. Next() returns false at
// the end or on a read error; status() tells which.
class SortedStream {
 public:
  explicit SortedStream(SpillSet& set);
  ~SortedStream();
  SortedStream(const SortedStream&) = delete;
  SortedStream& operator=(const SortedStream&) = delete;

  // Opens the runs; an error (the stream then yields nothing) names a file.
  Status Open();
  bool Next(uint64_t& value);
  const Status& status() const { return status_; }

  class Merger;  // spill_set.cc

 private:
  SpillSet& set_;
  std::unique_ptr<Merger> merger_;
  Status status_;
};

// Merges two sorted streams: counts the distinct values of `present`, and
// calls `absent` once for each distinct value of `probes` that `present`
// lacks, with how many times `probes` holds it (in ascending order). What
// the orphan check asks of a foreign key: which child references have no
// parent key.
Status ProbeAbsent(SpillSet& present, SpillSet& probes, uint64_t* present_distinct,
                   const std::function<void(uint64_t value, uint64_t count)>& absent);

}  // namespace vouch::drill
