// Order-free checks over an integer sequence: ChainContinuity (does every
// audit link point at its predecessor's hash?) and SeqGapTracker (which values
// of a sequence are missing?). Rows arrive in any order, chunk by chunk, from
// parallel workers: each worker fills its own object with Add, the partials
// are combined with Merge, and Finish walks the values in order.
//
// Memory is proportional to the span of values touched, in pages of 65536
// consecutive values allocated on first touch (ChainContinuity: ~1 MiB per
// page, SeqGapTracker: 8 KiB), never to the rows' text. Sparse values (1 and
// 10^12) cost two pages; Finish skips untouched ranges. Negative values work.
// ChainContinuity can be held to a memory limit (SetMemoryLimit): the least
// recently touched pages then go to a temporary file and come back when
// touched again, so a billion-link chain needs disk, not 16 GB of RAM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/chain/link_verifier.h"
#include "vouch/status.h"

namespace vouch {

class ChainContinuity {
 public:
  // `genesis_fp`: LinkVerifier::GenesisFingerprint(), checked against the
  // smallest seq's prev_fp when `has_genesis`.
  explicit ChainContinuity(bool has_genesis = false, uint64_t genesis_fp = 0);
  ChainContinuity(ChainContinuity&&) noexcept;
  ChainContinuity& operator=(ChainContinuity&&) noexcept;
  ~ChainContinuity();

  // Records one link (not thread-safe: one object per worker). A seq seen
  // twice counts as a duplicate; continuity then uses the copy with the
  // smaller (hash_fp, prev_fp), so the result does not depend on arrival
  // order. Every link added counts towards entries and, unless link_ok,
  // link_failures.
  void Add(const ChainLink& link);
  // Adds `other`'s links and head into this one, as if they had been Added
  // here; `other` is left empty.
  void Merge(ChainContinuity&& other);
  // Offers a head candidate: the stored hash text of `seq`. Call it with the
  // largest seq of each chunk; the largest seq offered wins (equal seqs: the
  // smaller text, again for order independence).
  void NoteHead(int64_t seq, std::string_view stored_hash);
  // Keeps at most `bytes` of pages in memory (never fewer than two pages);
  // the least recently touched others are written to a file made under
  // `temp_dir` (empty: $TMPDIR, else /tmp) and unlinked at once, so that it
  // disappears with the process whatever happens. 0: no limit (default).
  void SetMemoryLimit(size_t bytes, std::string temp_dir = {});
  // The first error writing or reading that file; Finish's result is only
  // valid while this is ok.
  const Status& spill_status() const;
  uint64_t pages_spilled() const;  // page writes to the file so far
  static size_t PageBytes();       // memory one page of 65,536 seqs takes

  static constexpr size_t kMaxListed = 20;
  struct Result {
    uint64_t entries = 0;                      // links added, duplicates included
    int64_t min_seq = 0, max_seq = 0;          // 0, 0 when empty
    std::string head_hash;                     // stored hash at max_seq; empty unless NoteHead was given max_seq
    uint64_t link_failures = 0;                // links whose recomputed hash != stored hash
    std::vector<int64_t> first_link_failures;  // ascending, at most kMaxListed
    // A break at s: prev_fp(s) != hash_fp(p), p the largest present seq < s;
    // or, for the smallest seq when a genesis is set, prev_fp != genesis. A
    // deleted run k..k+4 breaks at k+5; a rewritten and re-hashed link k
    // breaks at k+1.
    uint64_t continuity_breaks = 0;
    std::vector<int64_t> first_breaks;      // ascending, at most kMaxListed
    uint64_t duplicates = 0;                // extra copies of a seq (a seq seen 3 times adds 2)
    std::vector<int64_t> first_duplicates;  // distinct seqs, ascending, at most kMaxListed
    // Every link failed: almost surely a wrong spec (separator, field order,
    // timestamp rendering), not tampering.
    bool all_links_fail() const { return entries > 0 && link_failures == entries; }
  };
  // Walks the pages in seq order (spilled ones read back one at a time); the
  // object is unchanged.
  Result Finish() const;

 private:
  struct Page;
  struct Spill;
  Page& PageFor(int64_t seq);
  // The page `index` for writing: resident, read back from the file, or new.
  Page& Touch(int64_t index);
  // Writes the least recently touched pages but `keep` to the file until
  // the limit holds (or the file fails: spill_status()).
  void EvictBeyondLimit(int64_t keep);
  // A copy of page `index` as it stands (resident or spilled), or null.
  const Page* View(int64_t index, std::unique_ptr<Page>& buffer) const;
  std::vector<int64_t> PageIndexes() const;  // resident and spilled, ascending

  bool has_genesis_;
  uint64_t genesis_fp_;
  uint64_t entries_ = 0, link_failures_ = 0, duplicates_ = 0;
  std::map<int64_t, std::unique_ptr<Page>> pages_;  // page index (seq >> 16) → resident page
  int64_t last_index_ = 0;                          // PageFor's cache
  Page* last_page_ = nullptr;
  std::unique_ptr<Spill> spill_;                    // with a memory limit only
  bool has_head_ = false;
  int64_t head_seq_ = 0;
  std::string head_hash_;
};

struct GapOptions {
  // A missing run of at least this many values is suspicious. The default, 1,
  // makes every gap suspicious, as for an audit sequence where no value may be
  // missing; a generic id column may allow rolled-back inserts with a larger
  // value. UINT64_MAX leaves only `window`.
  uint64_t suspicious_size = 1;
  // Inclusive seq range (e.g. the values written inside the recovery
  // window): a missing run intersecting it is suspicious whatever its size.
  std::optional<std::pair<int64_t, int64_t>> window;
  size_t max_ranges = 20;  // how many missing runs Result::ranges lists
};

class SeqGapTracker {
 public:
  SeqGapTracker();
  SeqGapTracker(SeqGapTracker&&) noexcept;
  SeqGapTracker& operator=(SeqGapTracker&&) noexcept;
  ~SeqGapTracker();

  void Add(int64_t v);                // not thread-safe: one object per worker
  void Merge(SeqGapTracker&& other);  // `other` is left empty

  struct Result {
    uint64_t values = 0;       // values added
    uint64_t distinct = 0;     // distinct values
    uint64_t duplicates = 0;   // values - distinct
    int64_t min = 0, max = 0;  // 0, 0 when empty
    uint64_t gaps = 0;         // missing runs between min and max
    uint64_t missing = 0;      // values missing between min and max
    // Largest step between consecutive distinct values: 1 = no gaps (seed
    // 000's "Max Gap Size: 1 (Normal sequential)"), 6 after deleting 5 values;
    // 0 with fewer than two distinct values.
    uint64_t max_gap = 0;
    uint64_t suspicious = 0;                          // missing runs that are suspicious per GapOptions
    std::vector<std::pair<int64_t, int64_t>> ranges;  // first missing runs [from, to], ascending
  };
  Result Finish(const GapOptions& options) const;

 private:
  struct Page;
  Page& PageFor(int64_t v);

  uint64_t values_ = 0;
  std::map<int64_t, std::unique_ptr<Page>> pages_;  // page index (v >> 16) → presence bitmap
  int64_t last_index_ = 0;
  Page* last_page_ = nullptr;
};

}  // namespace vouch
