// SharedReadAhead under load: reader threads (the hashing threads), each
// reading a file through a read-ahead of its own, while helper threads fill
// every ring between bits of make-believe work of their own (Help) and then
// until each file is read (HelpUntilDone), as verify-backup's workers do.
// Every reader must be handed each byte of its range exactly once and in
// order, whatever the sizes (empty, shorter than a block, the ring's size,
// ranges past the end of the file), the timing (readers that start late or
// consume slowly, so that helpers sleep and are woken) and the errors (a read
// that fails, a file that could not be opened).
#include "shared_read_ahead.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/test_files.h"

namespace vouch::backup_internal {
namespace {

namespace fs = std::filesystem;
using testing::WriteFile;

constexpr uint64_t kToEnd = UINT64_MAX;
constexpr int kReaders = 6;
constexpr int kHelpers = 4;

// Bytes no other file or offset repeats: a block handed out twice, late or
// from another file does not compare equal.
std::string Contents(size_t file, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t w = (uint64_t{file} << 48) + i / 8 + 0x9E3779B97F4A7C15ull;
    w = (w ^ (w >> 30)) * 0xBF58476D1CE4E5B9ull;
    w = (w ^ (w >> 27)) * 0x94D049BB133111EBull;
    w ^= w >> 31;
    std::memcpy(&s[i], &w, std::min<size_t>(8, size - i));
  }
  return s;
}

// What one reader does with its read-ahead in a round.
struct Task {
  enum Kind { kRead, kReadError, kNotOpened } kind = kRead;
  size_t file = 0;
  uint64_t begin = 0, end = kToEnd;
};

class SharedReadAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "vouch_read_ahead_" + std::to_string(getpid());
    fs::remove_all(root_);
    const size_t ring = SharedReadAhead::kSlots * kBlock;
    const std::vector<size_t> sizes = {
        0, 1, 8191, kBlock - 1, kBlock, kBlock + 1, 3 * kBlock + 4097, ring, ring * 3 + 123, (5 << 20) + 7};
    for (size_t f = 0; f < sizes.size(); ++f) {
      contents_.push_back(Contents(f, sizes[f]));
      paths_.push_back(root_ + "/f" + std::to_string(f));
      WriteFile(paths_.back(), contents_.back());
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  // Every file whole, to exactly its end, a range inside it, and a range
  // that starts beyond it; a read error; a file that could not be opened.
  std::vector<Task> Tasks() const {
    std::vector<Task> tasks;
    for (size_t f = 0; f < contents_.size(); ++f) {
      const uint64_t size = contents_[f].size();
      tasks.push_back({Task::kRead, f, 0, kToEnd});
      tasks.push_back({Task::kRead, f, 0, size});
      if (size > 10) tasks.push_back({Task::kRead, f, size / 3 + 1, size - 5});
      tasks.push_back({Task::kRead, f, size + 10, kToEnd});
    }
    tasks.push_back({Task::kReadError, 0, 0, kToEnd});
    tasks.push_back({Task::kNotOpened, 0, 0, kToEnd});
    return tasks;
  }

  // One reader's task through `ahead`; "" when every byte came once and in
  // order and the read ended where it should, else what went wrong.
  std::string Read(const Task& t, SharedReadAhead& ahead, std::mt19937& rng) const {
    if (t.kind == Task::kNotOpened) {
      ahead.Close();
      return "";
    }
    // A directory: pread fails with EISDIR at the first byte.
    const std::string path = t.kind == Task::kReadError ? root_ : paths_[t.file];
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "cannot open " + path;
    const std::string& want = contents_[t.file];
    const bool slow = rng() % 3 == 0;  // the ring fills up and helpers sleep
    uint64_t at = t.begin;
    std::string error;
    const ReadEnd r = ahead.Run(fd, t.begin, t.end, [&](const char* p, size_t n) {
      if (!error.empty()) return;
      if (n == 0 || n > kBlock)
        error = "a block of " + std::to_string(n) + " bytes";
      else if (at + n > want.size() || std::memcmp(p, want.data() + at, n) != 0)
        error = std::to_string(n) + " bytes handed out at " + std::to_string(at) + " are not the file's";
      at += n;
      if (slow) std::this_thread::yield();
    });
    ::close(fd);
    if (!error.empty()) return error;
    const std::string what = path + " [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + ")";
    if (t.kind == Task::kReadError) {
      if (r.error != EISDIR || r.offset != t.begin || at != t.begin)
        return what + ": expected EISDIR at " + std::to_string(t.begin) + ", got error " + std::to_string(r.error) +
               " at " + std::to_string(r.offset);
      return "";
    }
    const uint64_t stop = std::max(t.begin, std::min<uint64_t>(t.end, want.size()));
    if (at != stop) return what + ": " + std::to_string(at - t.begin) + " bytes handed out";
    if (r.error != 0 || r.offset != stop)
      return what + ": ended at " + std::to_string(r.offset) + " with error " + std::to_string(r.error);
    return "";
  }

  std::string root_;
  std::vector<std::string> paths_, contents_;
};

TEST_F(SharedReadAheadTest, EveryReaderGetsEveryByteOnceInOrder) {
  const std::vector<Task> tasks = Tasks();
  std::mt19937 seeds(20240611);
  // Each round: every reader takes the next task (readers start at
  // different tasks), the helpers help all of them.
  for (size_t round = 0; round < tasks.size(); ++round) {
    std::vector<std::unique_ptr<SharedReadAhead>> aheads;
    for (int i = 0; i < kReaders; ++i) aheads.push_back(std::make_unique<SharedReadAhead>());
    std::vector<std::string> errors(kReaders);
    std::vector<std::thread> threads;
    for (int i = 0; i < kReaders; ++i) {
      threads.emplace_back([&, i, seed = seeds()] {
        std::mt19937 rng(seed);
        if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        const Task& t = tasks[(round + static_cast<size_t>(i) * 7) % tasks.size()];
        errors[i] = Read(t, *aheads[i], rng);
      });
    }
    for (int h = 0; h < kHelpers; ++h) {
      threads.emplace_back([&, seed = seeds()] {
        std::mt19937 rng(seed);
        const int bits_of_own_work = static_cast<int>(rng() % 64);
        for (int k = 0; k < bits_of_own_work; ++k) {
          for (auto& a : aheads) a->Help();
          std::this_thread::yield();
        }
        for (auto& a : aheads) a->HelpUntilDone();
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kReaders; ++i) EXPECT_EQ(errors[i], "") << "round " << round << ", reader " << i;
  }
}

// With nobody helping, the reader reads every block itself.
TEST_F(SharedReadAheadTest, ReadsAloneWithoutHelpers) {
  std::mt19937 rng(7);
  for (const Task& t : Tasks()) {
    SharedReadAhead ahead;
    EXPECT_EQ(Read(t, ahead, rng), "");
  }
}

}  // namespace
}  // namespace vouch::backup_internal
