// TableDigest: the order-free, mergeable digest of one table's rows
// (docs/digest-format.md is the byte-level definition; tests pin it).
//
//   rows    number of rows
//   sum     Σ H(row) mod 2^128
//   buckets B partial sums; a row goes to bucket (H(row).hi >> (64 - log2 B)),
//           so two digests that differ tell which buckets hold the differing rows
//
// Its size follows its content (format version 2): a finished digest has one
// bucket per 64 rows (BucketsFor), at least one and at most `max_buckets`, so
// an empty or small table costs a few dozen bytes and a large one keeps the
// full resolution. While rows are being added, a digest keeps the row hashes
// themselves until it has more than `max_buckets` of them, then bucket sums at
// `max_buckets`; Finish() folds it down to its final size. A coarser digest is
// the finer one with neighbouring buckets added (bucket j of B/2 = buckets 2j
// and 2j+1 of B), so digests of different sizes still compare and merge, at
// the coarser of the two resolutions.
//
// Adding rows in any order, on any number of threads, in any shard split, and
// merging the parts gives the same rows, sum and (at a common resolution)
// buckets.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/hashing/u128.h"
#include "vouch/status.h"

namespace vouch {

// A table's content hash: the first 16 bytes of SHA-256(rows as u64
// big-endian ‖ sum as 16 bytes big-endian).
std::array<uint8_t, 16> ContentHashOf(uint64_t rows, const U128& sum);

class TableDigest {
 public:
  // The finest resolution a table gets unless --buckets says otherwise.
  static constexpr uint32_t kDefaultBuckets = 4096;
  static constexpr uint32_t kMaxBuckets = 1u << 20;
  // A finished digest has one bucket per this many rows.
  static constexpr uint64_t kRowsPerBucket = 64;
  static constexpr uint8_t kFormatVersion = 2;

  // The bucket count of a finished digest of `rows` rows: the largest power of
  // two ≤ rows / 64, at least 1, at most `max_buckets`.
  static uint32_t BucketsFor(uint64_t rows, uint32_t max_buckets = kDefaultBuckets);
  // The bucket of a row hash at resolution `buckets` (a power of two).
  static uint32_t BucketOf(const U128& h, uint32_t buckets) {
    return buckets <= 1 ? 0 : static_cast<uint32_t>(h.hi >> (64 - std::countr_zero(buckets)));
  }

  // `max_buckets` must be a power of two between 1 and 2^20 (else the default).
  explicit TableDigest(uint32_t max_buckets = kDefaultBuckets);

  void AddRowHash(const U128& h) {
    ++rows_;
    sum_ += h;
    if (resolution_ != 0) {
      sums_[shift_ == 64 ? 0 : h.hi >> shift_] += h;  // BucketOf(h, resolution_)
    } else {
      sums_.push_back(h);  // a row hash, while collecting
      if (sums_.size() > max_buckets_) Spread(max_buckets_);
    }
  }
  // Adds another digest (rows of a disjoint part). The result has the
  // coarser of the two resolutions.
  void Merge(const TableDigest& other);
  // Folds the digest down to BucketsFor(rows) buckets (or keeps a coarser
  // resolution it already has). Rows added afterwards go to those buckets.
  void Finish();
  // A finished copy (this one unchanged).
  TableDigest Finished() const;
  bool finished() const { return resolution_ != 0 && resolution_ <= BucketsFor(rows_, max_buckets_); }

  uint64_t rows() const { return rows_; }
  const U128& sum() const { return sum_; }
  uint32_t max_buckets() const { return max_buckets_; }
  // These describe the digest as finished (an unfinished one is folded first).
  uint32_t bucket_count() const;
  std::vector<U128> buckets() const;
  uint32_t BucketOf(const U128& h) const { return BucketOf(h, bucket_count()); }

  // First 16 bytes of SHA-256(rows as u64 big-endian ‖ sum as 16 bytes big-endian);
  // printed as 32 hex digits in reports ("Content Hash").
  std::array<uint8_t, 16> ContentHash() const;
  std::string ContentHashHex() const;

  // Canonical versioned encoding of the finished digest: "VTD" ‖ version ‖
  // rows u64 BE ‖ sum ‖ bucket count u32 BE ‖ each bucket sum (all sums 16
  // bytes big-endian).
  std::string CanonicalBytes() const;
  // Reads version 2, and version 1 (the same layout with a fixed bucket
  // count, folded down to its version-2 size). Checks that the buckets add up
  // to the sum and that a version-2 digest is no larger than its rows allow.
  static Result<TableDigest> FromCanonicalBytes(std::string_view bytes);
  // The same checks, from parts (a manifest's fields). `version` is the
  // table digest format version the parts were written in.
  static Result<TableDigest> FromParts(uint64_t rows, const U128& sum, std::vector<U128> buckets, uint8_t version);

  // The resolution at which this digest and `other` can be compared: the
  // coarser of the two.
  uint32_t CommonBuckets(const TableDigest& other) const;
  // Indexes of buckets whose sums differ, at CommonBuckets(other).
  std::vector<uint32_t> DifferingBuckets(const TableDigest& other) const;

  // Same rows, same sum and the same buckets at the common resolution.
  friend bool operator==(const TableDigest& a, const TableDigest& b);

 private:
  void SetResolution(uint32_t buckets);
  // Turns collected row hashes into bucket sums at `buckets`.
  void Spread(uint32_t buckets);
  // Folds bucket sums down to `buckets` (≤ the current resolution).
  void Coarsen(uint32_t buckets);
  // The bucket sums at `buckets` (≤ this digest's resolution).
  std::vector<U128> SumsAt(uint32_t buckets) const;

  uint64_t rows_ = 0;
  U128 sum_;
  uint32_t max_buckets_ = kDefaultBuckets;
  // 0 while collecting (sums_ holds the row hashes), else the number of
  // buckets in sums_.
  uint32_t resolution_ = 0;
  uint32_t shift_ = 64;  // 64 - log2(resolution_): the row loop's BucketOf
  std::vector<U128> sums_;
};

}  // namespace vouch
