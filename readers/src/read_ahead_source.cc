#include "vouch/readers/read_ahead_source.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "vouch/io_buffer.h"

namespace vouch {
namespace {

class ReadAheadSource final : public ByteSource {
 public:
  ReadAheadSource(std::unique_ptr<ByteSource> inner, size_t block, size_t blocks)
      : inner_(std::move(inner)), describe_(inner_->Describe()) {
    for (size_t i = 0; i < std::max<size_t>(blocks, 2); ++i) free_.push_back(std::make_unique<Block>(block));
    thread_ = std::thread([this] { Produce(); });
  }
  ~ReadAheadSource() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      if (current_ && pos_ < current_->size) {
        const size_t take = std::min(n, current_->size - pos_);
        std::memcpy(dst, current_->data.data() + pos_, take);
        pos_ += take;
        return take;
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (current_) {
        free_.push_back(std::move(current_));
        cv_.notify_all();
      }
      cv_.wait(lock, [&] { return !ready_.empty() || done_; });
      if (ready_.empty()) {
        if (!error_.ok()) return error_;
        return size_t{0};
      }
      current_ = std::move(ready_.front());
      ready_.pop_front();
      pos_ = 0;
      raw_offset_ = current_->raw_offset;
    }
  }
  std::string Describe() const override { return describe_; }
  uint64_t RawOffset() const override { return raw_offset_; }

 private:
  struct Block {
    explicit Block(size_t n) : data(n) {}
    IoBuffer data;
    size_t size = 0;
    uint64_t raw_offset = 0;
  };

  void Produce() {
    while (true) {
      std::unique_ptr<Block> b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !free_.empty() || stop_; });
        if (stop_) return;
        b = std::move(free_.back());
        free_.pop_back();
      }
      auto got = ReadUpTo(*inner_, b->data.data(), b->data.size());
      std::lock_guard<std::mutex> lock(mu_);
      if (!got.ok()) {
        error_ = got.status();
        done_ = true;
        cv_.notify_all();
        return;
      }
      const bool last = *got < b->data.size();  // ReadUpTo is short only at the end
      b->size = *got;
      b->raw_offset = inner_->RawOffset();
      if (*got > 0) ready_.push_back(std::move(b));
      done_ = last;
      cv_.notify_all();
      if (last) return;
    }
  }

  std::unique_ptr<ByteSource> inner_;  // read by the producer thread only
  const std::string describe_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Block>> ready_;
  std::vector<std::unique_ptr<Block>> free_;
  bool stop_ = false, done_ = false;
  Status error_;
  // The consumer's.
  std::unique_ptr<Block> current_;
  size_t pos_ = 0;
  uint64_t raw_offset_ = 0;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace

std::unique_ptr<ByteSource> MakeReadAheadSource(std::unique_ptr<ByteSource> inner, size_t block, size_t blocks) {
  return std::make_unique<ReadAheadSource>(std::move(inner), block, blocks);
}

}  // namespace vouch
