#include "chunk_feeder.h"

#include <algorithm>
#include <cstring>

#include "vouch/readers/byte_scan.h"

namespace vouch {
namespace {

Status Cancelled() { return IoError("cancelled"); }

}  // namespace

ChunkFeeder::ChunkFeeder(int workers, size_t max_row, std::vector<Job> jobs, std::function<Status()> finish)
    : workers_(std::max(1, workers)),
      max_row_(std::max<size_t>(max_row, 4096)),
      jobs_(std::move(jobs)),
      finish_(std::move(finish)),
      max_ready_(static_cast<size_t>(std::max(2, workers))) {}

ChunkFeeder::~ChunkFeeder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ChunkFeeder::Fail(const Status& st) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.ok()) error_ = st;
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
}

void ChunkFeeder::Run() {
  while (!stopping()) {
    size_t i = next_job_.fetch_add(1);
    if (i >= jobs_.size()) break;
    Status st = jobs_[i](*this);
    if (!st.ok()) {
      Fail(st);
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
  ready_cv_.notify_all();
}

IoBuffer ChunkFeeder::TakeBuffer() {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.empty()) return {};
  IoBuffer b = std::move(free_.back());
  free_.pop_back();
  return b;
}

Status ChunkFeeder::Push(Filled f) {
  std::unique_lock<std::mutex> lock(mu_);
  space_cv_.wait(lock, [&] { return stop_ || ready_.size() < max_ready_; });
  if (stop_) return Cancelled();
  ready_.push_back(std::move(f));
  ready_cv_.notify_one();
  return Status::Ok();
}

Result<bool> ChunkFeeder::Next(RowChunk& chunk, size_t target) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_) {
    started_ = true;
    target_ = std::max<size_t>(target, 4096);
    size_t n = std::min(static_cast<size_t>(workers_), jobs_.size());
    running_ = static_cast<int>(n);
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
  }
  if (chunk.data.capacity() > 0) {  // give the consumer's old buffer back
    free_.push_back(std::move(chunk.data));
    chunk.data = {};
  }
  chunk.size = 0;
  ready_cv_.wait(lock, [&] { return !error_.ok() || !ready_.empty() || running_ == 0; });
  if (!error_.ok()) return error_;
  if (!ready_.empty()) {
    Filled f = std::move(ready_.front());
    ready_.pop_front();
    space_cv_.notify_one();
    chunk.table = f.table;
    chunk.table_index = f.index;
    chunk.offset = f.offset;
    chunk.data = std::move(f.data);
    chunk.size = f.size;
    chunk.last_of_table = f.last;
    return true;
  }
  if (!finished_) {
    finished_ = true;
    lock.unlock();
    Status st = finish_ ? finish_() : Status::Ok();
    lock.lock();
    if (!st.ok()) {
      error_ = st;
      return st;
    }
  }
  return false;
}

Status ChunkFeeder::FeedCopyText(const TableInfo& t, uint32_t index, ByteSource& text, const std::string& where) {
  auto in_table = [&](const Status& st) {
    return Status(st.code(), st.message() + " (while reading table " + t.QualifiedName() + ")");
  };
  const std::string what = where + ": table " + t.QualifiedName();
  IoBuffer buf = TakeBuffer();
  size_t have = 0;
  uint64_t base = 0;  // uncompressed offset of buf[0] in the table's data
  bool eof = false;
  // Chunks start small and grow to the target while the table goes on: an
  // archive of 100,000 small tables must not fill a target-sized buffer
  // (cleared, so resident) for each of the few rows of each.
  size_t want = std::min<size_t>(target_, 64 << 10);
  while (true) {
    if (stopping()) return Cancelled();
    if (buf.size() < want) buf.resize(want);
    while (have < buf.size() && !eof) {
      auto r = text.Read(buf.data() + have, buf.size() - have);
      if (!r.ok()) return in_table(r.status());
      if (*r == 0) eof = true;
      have += *r;
    }
    size_t term = FindCopyTerminator(buf.data(), have);
    if (term != have) {
      // pg_dump ends the data with "\.\n\n\n": exactly two empty lines follow
      // the end-of-data line, and then the data ends.
      uint64_t term_offset = base + term;
      std::string tail(buf.data() + term + 3, std::min<size_t>(have - term - 3, 16));
      while (!eof && tail.size() <= 2) {
        char more[16];
        auto r = text.Read(more, sizeof more);
        if (!r.ok()) return in_table(r.status());
        if (*r == 0) eof = true;
        tail.append(more, *r);
      }
      if (tail != "\n\n") {
        return Corrupt(what + ": uncompressed byte offset " + std::to_string(term_offset) +
                       (tail.size() < 2 || tail.substr(0, 2) != "\n\n"
                            ? ": the end-of-data line (\\.) is not followed by the two empty lines pg_dump writes"
                            : ": data after the end-of-data line (\\.)"));
      }
      return Push({&t, index, base, std::move(buf), term, /*last=*/true});
    }
    if (eof) {
      return Truncated(what + ": the data ends at uncompressed byte offset " + std::to_string(base + have) +
                       " without its end-of-data line (\\.): truncated");
    }
    const void* last = memrchr(buf.data(), '\n', have);
    if (last == nullptr) {  // one row longer than the buffer
      if (buf.size() >= max_row_) {
        return Corrupt(what + ": uncompressed byte offset " + std::to_string(base) + ": a line longer than " +
                       std::to_string(max_row_) + " bytes: not COPY data");
      }
      buf.resize(std::min(buf.size() * 2, max_row_));
      continue;
    }
    size_t cut = static_cast<size_t>(static_cast<const char*>(last) - buf.data()) + 1;
    want = std::min(want * 4, target_);
    IoBuffer next = TakeBuffer();
    if (next.size() < std::max(want, have - cut)) next.resize(std::max(want, have - cut));
    std::memcpy(next.data(), buf.data() + cut, have - cut);
    VOUCH_RETURN_IF_ERROR(Push({&t, index, base, std::move(buf), cut}));
    base += cut;
    have -= cut;
    buf = std::move(next);
  }
}

}  // namespace vouch
