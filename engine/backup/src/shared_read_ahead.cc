#include "shared_read_ahead.h"

namespace vouch::backup_internal {

void SharedReadAhead::Start(int fd, uint64_t begin, uint64_t end) {
  {
    std::lock_guard<std::mutex> lock(fill_mu_);
    fd_ = fd;
    off_ = begin;
    end_ = end;
    result_ = {begin, 0};
    eof_ = begin >= end;
    phase_.store(kActive, std::memory_order_release);
  }
  std::lock_guard<std::mutex> lock(wait_mu_);
  wake_.notify_all();
}

void SharedReadAhead::Consumed(uint64_t c) {
  // seq_cst here and in HelpUntilDone: a helper going to sleep either sees
  // this block consumed or is seen asleep.
  consumed_.store(c, std::memory_order_seq_cst);
  if (helpers_asleep_.load(std::memory_order_seq_cst) > 0 && filled_.load(std::memory_order_acquire) - c <= kRefillAt) {
    std::lock_guard<std::mutex> lock(wait_mu_);
    wake_.notify_all();
  }
}

void SharedReadAhead::Close() {
  {
    std::lock_guard<std::mutex> lock(fill_mu_);
    phase_.store(kDone, std::memory_order_release);
  }
  std::lock_guard<std::mutex> lock(wait_mu_);
  wake_.notify_all();
}

void SharedReadAhead::Help() {
  if (phase_.load(std::memory_order_acquire) != kActive || Free() < kRefillAt) return;
  while (Free() > 0) {
    std::unique_lock<std::mutex> lock(fill_mu_, std::try_to_lock);
    if (!lock.owns_lock() || phase_.load(std::memory_order_relaxed) != kActive || eof_) return;
    if (Free() > 0) FillLocked();
  }
}

void SharedReadAhead::HelpUntilDone() {
  while (true) {
    const int phase = phase_.load(std::memory_order_acquire);
    if (phase == kDone) return;
    if (phase == kActive && Free() > 0) {
      std::lock_guard<std::mutex> lock(fill_mu_);
      if (phase_.load(std::memory_order_relaxed) != kActive || eof_) return;
      if (Free() > 0) FillLocked();
      continue;
    }
    std::unique_lock<std::mutex> lock(wait_mu_);
    helpers_asleep_.fetch_add(1, std::memory_order_seq_cst);
    wake_.wait(lock, [&] {
      const int p = phase_.load(std::memory_order_acquire);
      return p == kDone || (p == kActive && Free() >= kRefillAt);
    });
    helpers_asleep_.fetch_sub(1, std::memory_order_relaxed);
  }
}

size_t SharedReadAhead::Free() const {
  return kSlots -
         static_cast<size_t>(filled_.load(std::memory_order_seq_cst) - consumed_.load(std::memory_order_seq_cst));
}

void SharedReadAhead::FillLocked() {
  const uint64_t f = filled_.load(std::memory_order_relaxed);
  Slot& s = ring_[f % kSlots];
  const size_t want = static_cast<size_t>(std::min<uint64_t>(kBlock, end_ - off_));
  s.n = 0;
  const ReadEnd r = ReadRange(fd_, off_, off_ + want, s.data.data(), kBlock, [&](const char*, size_t n) { s.n += n; });
  off_ += s.n;
  result_ = {off_, r.error};
  if (r.error != 0 || s.n < want || off_ >= end_) eof_ = true;  // an error, the end of the file, or of the range
  if (s.n > 0) filled_.store(f + 1, std::memory_order_release);
}

}  // namespace vouch::backup_internal
