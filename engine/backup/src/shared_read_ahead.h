// The reading of files for verify-backup (internal): a byte range read a
// block at a time, and the read-ahead that lets the run's other threads copy
// a large file out of the page cache while one thread hashes it.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "vouch/io_buffer.h"

namespace vouch::backup_internal {

// One read: 128 KB stays in L2 while it is copied out of the page cache and
// hashed; a multiple of kPgBlockSize. (What decides the copy's speed is the
// buffer's alignment: see vouch/io_buffer.h.)
constexpr size_t kBlock = size_t{128} << 10;

// Where a read of a byte range stopped: its end, the end of the file, or an
// error (errno) at `offset`.
struct ReadEnd {
  uint64_t offset = 0;
  int error = 0;
};

// Reads [begin, end) of fd into buf, a block at a time, and passes each to
// consume(p, n) in order.
template <typename Consume>
ReadEnd ReadRange(int fd, uint64_t begin, uint64_t end, char* buf, size_t cap, Consume&& consume) {
  uint64_t off = begin;
  while (off < end) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(cap, end - off));
    const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {off, errno};
    if (n == 0) break;
    consume(buf, static_cast<size_t>(n));
    off += static_cast<uint64_t>(n);
  }
  return {off, 0};
}

// The read-ahead of one file whose digest must be computed in order (SHA-2)
// by one thread: when the file is large, that thread is the run's critical
// path, and copying the file out of the page cache on another core takes
// about a sixth of its time off it. The copying is done by the run's other
// threads, between blocks of their own files (Help) and, once the queue is
// empty, until the file is read (HelpUntilDone): a thread of its own for it
// made one more runnable thread than cores, and the hashing thread lost its
// core to it or to a worker for tens of ms a run (measured with the three
// pinned to cores: 604 ms against 658 ms, medians of 11, SHA-256 backup of
// 1 GB on 2 cores). When the ring is empty the hashing thread reads the
// next block itself (a helper may be busy with something long, such as
// the WAL check). Tried before and no better: a mapping of the file with a
// thread populating it ahead (MADV_POPULATE_READ), and pinning only the
// hashing thread to its core.
//
// Blocks are filled in order by one filler at a time (fill_mu_): a helper,
// or the hashing thread when the ring runs dry. filled_ and consumed_ count
// blocks; slot i % kSlots is written only once block i - kSlots is consumed.
class SharedReadAhead {
 public:
  static constexpr size_t kSlots = 8;
  static constexpr size_t kRefillAt = kSlots / 2;  // a sleeping helper is woken at half empty

  // The hashing thread: reads [begin, end) of fd and passes the blocks to
  // consume(p, n) in order. Once per object.
  template <typename Consume>
  ReadEnd Run(int fd, uint64_t begin, uint64_t end, Consume&& consume) {
    Start(fd, begin, end);
    uint64_t c = 0;
    while (true) {
      if (c < filled_.load(std::memory_order_acquire)) {
        const Slot& s = ring_[c % kSlots];
        consume(s.data.data(), s.n);
        Consumed(++c);
        continue;
      }
      std::lock_guard<std::mutex> lock(fill_mu_);
      if (c < filled_.load(std::memory_order_relaxed)) continue;  // a helper filled it meanwhile
      if (eof_) break;
      FillLocked();
    }
    Close();  // past it no helper touches fd_ or result_
    return result_;
  }

  // The hashing thread, once it is done with the file or could not open it
  // (or left on an exception): helpers stop waiting for it. Run() ends with
  // it.
  void Close();

  // A helper between blocks of its own: fills what is free of the ring,
  // unless the ring is more than half full or another thread is filling.
  void Help();

  // A helper with nothing else to do: fills the ring until the file is
  // read, sleeping while it is full.
  void HelpUntilDone();

 private:
  enum Phase { kWaiting, kActive, kDone };
  struct Slot {
    IoBuffer data = IoBuffer(kBlock);
    size_t n = 0;
  };

  // Run's start: the range to read, and the helpers woken to it.
  void Start(int fd, uint64_t begin, uint64_t end);
  // Run, after passing on block c - 1: a sleeping helper is woken once the
  // ring is half empty.
  void Consumed(uint64_t c);
  size_t Free() const;
  // Reads the next block into the next slot. With fill_mu_ held, !eof_,
  // and a free slot.
  void FillLocked();

  std::array<Slot, kSlots> ring_;
  std::atomic<uint64_t> filled_{0}, consumed_{0};
  std::atomic<int> phase_{kWaiting};
  std::mutex fill_mu_;  // guards what follows, and the filling of a slot
  int fd_ = -1;
  uint64_t off_ = 0, end_ = 0;
  bool eof_ = false;
  ReadEnd result_;
  std::mutex wait_mu_;  // for a helper's sleep
  std::condition_variable wake_;
  std::atomic<int> helpers_asleep_{0};
};

}  // namespace vouch::backup_internal
