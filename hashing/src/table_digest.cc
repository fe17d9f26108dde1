#include "vouch/hashing/table_digest.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "vouch/hashing/hex.h"
#include "vouch/hashing/sha256.h"

namespace vouch {
namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU128(std::string& out, const U128& v) {
  auto b = v.BigEndianBytes();
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
}
uint64_t GetBE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}
bool ValidCount(uint32_t n) { return n != 0 && n <= TableDigest::kMaxBuckets && std::has_single_bit(n); }

}  // namespace

uint32_t TableDigest::BucketsFor(uint64_t rows, uint32_t max_buckets) {
  uint64_t n = std::bit_floor(std::max<uint64_t>(1, rows / kRowsPerBucket));
  return static_cast<uint32_t>(std::min<uint64_t>(n, ValidCount(max_buckets) ? max_buckets : kDefaultBuckets));
}

TableDigest::TableDigest(uint32_t max_buckets) : max_buckets_(ValidCount(max_buckets) ? max_buckets : kDefaultBuckets) {}

void TableDigest::SetResolution(uint32_t buckets) {
  resolution_ = buckets;
  shift_ = 64 - static_cast<uint32_t>(std::countr_zero(buckets));
}

void TableDigest::Spread(uint32_t buckets) {
  std::vector<U128> sums(buckets);
  for (const U128& h : sums_) sums[BucketOf(h, buckets)] += h;
  sums_ = std::move(sums);
  SetResolution(buckets);
}

void TableDigest::Coarsen(uint32_t buckets) {
  if (resolution_ == 0) {
    Spread(buckets);
    return;
  }
  if (buckets >= resolution_) return;
  sums_ = SumsAt(buckets);
  SetResolution(buckets);
}

std::vector<U128> TableDigest::SumsAt(uint32_t buckets) const {
  std::vector<U128> out(buckets);
  if (resolution_ == 0) {
    for (const U128& h : sums_) out[BucketOf(h, buckets)] += h;
    return out;
  }
  const uint32_t group = resolution_ / buckets;
  for (uint32_t i = 0; i < resolution_; ++i) out[i / group] += sums_[i];
  return out;
}

void TableDigest::Finish() {
  uint32_t target = BucketsFor(rows_, max_buckets_);
  if (resolution_ == 0 || resolution_ > target) Coarsen(target);
  sums_.shrink_to_fit();
}

TableDigest TableDigest::Finished() const {
  TableDigest d = *this;
  d.Finish();
  return d;
}

uint32_t TableDigest::bucket_count() const {
  return finished() ? resolution_ : std::min(resolution_ == 0 ? kMaxBuckets : resolution_, BucketsFor(rows_, max_buckets_));
}

std::vector<U128> TableDigest::buckets() const { return SumsAt(bucket_count()); }

void TableDigest::Merge(const TableDigest& other) {
  if (resolution_ == 0 && other.resolution_ == 0 && sums_.size() + other.sums_.size() <= max_buckets_) {
    sums_.insert(sums_.end(), other.sums_.begin(), other.sums_.end());
  } else {
    uint32_t target = std::min(resolution_ == 0 ? max_buckets_ : resolution_,
                               other.resolution_ == 0 ? max_buckets_ : other.resolution_);
    Coarsen(target);
    std::vector<U128> add = other.SumsAt(target);
    for (uint32_t i = 0; i < target; ++i) sums_[i] += add[i];
  }
  rows_ += other.rows_;
  sum_ += other.sum_;
}

std::array<uint8_t, 16> ContentHashOf(uint64_t rows, const U128& sum) {
  std::string input;
  PutU64(input, rows);
  PutU128(input, sum);
  Sha256Digest d = Sha256Of(input);
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), d.data(), out.size());
  return out;
}

std::array<uint8_t, 16> TableDigest::ContentHash() const { return ContentHashOf(rows_, sum_); }

std::string TableDigest::ContentHashHex() const {
  auto h = ContentHash();
  return HexEncode(h.data(), h.size());
}

std::string TableDigest::CanonicalBytes() const {
  std::vector<U128> sums = buckets();
  std::string out = "VTD";
  out.push_back(static_cast<char>(kFormatVersion));
  PutU64(out, rows_);
  PutU128(out, sum_);
  PutU32(out, static_cast<uint32_t>(sums.size()));
  out.reserve(out.size() + 16 * sums.size());
  for (const U128& b : sums) PutU128(out, b);
  return out;
}

Result<TableDigest> TableDigest::FromParts(uint64_t rows, const U128& sum, std::vector<U128> buckets,
                                           uint8_t version) {
  if (version != 1 && version != kFormatVersion) {
    return Unsupported("table digest format version " + std::to_string(version) + " (this vouch reads versions 1 and " +
                       std::to_string(kFormatVersion) + ")");
  }
  const uint32_t n = static_cast<uint32_t>(buckets.size());
  if (buckets.size() > kMaxBuckets || !ValidCount(n)) return Corrupt("invalid bucket count " + std::to_string(buckets.size()));
  if (version == kFormatVersion && n > BucketsFor(rows, kMaxBuckets)) {
    return Corrupt(std::to_string(n) + " buckets for " + std::to_string(rows) + " rows (version " +
                   std::to_string(kFormatVersion) + " allows one per " + std::to_string(kRowsPerBucket) + " rows)");
  }
  U128 total;
  for (const U128& b : buckets) total += b;
  if (!(total == sum)) return Corrupt("table digest buckets do not add up to its sum");
  TableDigest d(std::max(n, kDefaultBuckets));
  d.rows_ = rows;
  d.sum_ = sum;
  d.sums_ = std::move(buckets);
  d.SetResolution(n);
  d.Finish();  // a version-1 digest is folded down to its version-2 size
  return d;
}

Result<TableDigest> TableDigest::FromCanonicalBytes(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  constexpr size_t kHeader = 3 + 1 + 8 + 16 + 4;
  if (bytes.size() < kHeader || bytes.substr(0, 3) != "VTD") return Corrupt("not a vouch table digest");
  uint32_t n = static_cast<uint32_t>(GetBE(p + 28, 4));
  if (!ValidCount(n)) return Corrupt("invalid bucket count " + std::to_string(n));
  if (bytes.size() != kHeader + 16ull * n) return Corrupt("table digest has the wrong length");
  std::vector<U128> sums(n);
  for (uint32_t i = 0; i < n; ++i) sums[i] = U128::FromBigEndian(p + kHeader + 16ull * i);
  return FromParts(GetBE(p + 4, 8), U128::FromBigEndian(p + 12), std::move(sums), p[3]);
}

uint32_t TableDigest::CommonBuckets(const TableDigest& other) const {
  return std::min(bucket_count(), other.bucket_count());
}

std::vector<uint32_t> TableDigest::DifferingBuckets(const TableDigest& other) const {
  const uint32_t n = CommonBuckets(other);
  std::vector<U128> a = SumsAt(n), b = other.SumsAt(n);
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(a[i] == b[i])) out.push_back(i);
  }
  return out;
}

bool operator==(const TableDigest& a, const TableDigest& b) {
  if (a.rows_ != b.rows_ || !(a.sum_ == b.sum_)) return false;
  const uint32_t n = a.CommonBuckets(b);
  return a.SumsAt(n) == b.SumsAt(n);
}

}  // namespace vouch
