// TableDigest: the order-free, mergeable digest of one table's rows
// (docs/digest-format.md is the byte-level definition; tests pin it).
//
//   rows    number of rows
//   sum     Σ H(row) mod 2^128
//   buckets B partial sums; a row goes to bucket (H(row).hi >> (64 - log2 B)),
//           so two digests that differ tell which buckets hold the differing rows
//
// Adding rows in any order, on any number of threads, in any shard split, and
// merging the parts gives the same digest.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/hashing/u128.h"
#include "vouch/status.h"

namespace vouch {

class TableDigest {
 public:
  static constexpr uint32_t kDefaultBuckets = 4096;
  static constexpr uint8_t kFormatVersion = 1;

  // `buckets` must be a power of two between 1 and 2^20.
  explicit TableDigest(uint32_t buckets = kDefaultBuckets);

  void AddRowHash(const U128& h) {
    ++rows_;
    sum_ += h;
    buckets_[BucketOf(h)] += h;
  }
  // Adds another digest of the same bucket count (rows of a disjoint part).
  Status Merge(const TableDigest& other);

  uint32_t BucketOf(const U128& h) const { return shift_ == 64 ? 0 : static_cast<uint32_t>(h.hi >> shift_); }
  uint64_t rows() const { return rows_; }
  const U128& sum() const { return sum_; }
  uint32_t bucket_count() const { return static_cast<uint32_t>(buckets_.size()); }
  const std::vector<U128>& buckets() const { return buckets_; }

  // First 16 bytes of SHA-256(rows as u64 big-endian ‖ sum as 16 bytes big-endian);
  // printed as 32 hex digits in reports ("Content Hash").
  std::array<uint8_t, 16> ContentHash() const;
  std::string ContentHashHex() const;

  // Canonical versioned encoding: "VTD" ‖ version ‖ rows u64 BE ‖ sum ‖
  // bucket count u32 BE ‖ each bucket sum (all sums 16 bytes big-endian).
  std::string CanonicalBytes() const;
  static Result<TableDigest> FromCanonicalBytes(std::string_view bytes);

  // Indexes of buckets whose sums differ (same bucket count required).
  std::vector<uint32_t> DifferingBuckets(const TableDigest& other) const;

  friend bool operator==(const TableDigest&, const TableDigest&) = default;

 private:
  uint64_t rows_ = 0;
  U128 sum_;
  uint32_t shift_ = 52;
  std::vector<U128> buckets_;
};

}  // namespace vouch
