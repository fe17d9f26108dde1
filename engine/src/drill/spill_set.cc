#include "drill/spill_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace vouch::drill {
namespace {

constexpr size_t kValue = sizeof(uint64_t);

Status ErrnoError(const std::string& path, const char* what, int err) {
  return IoError(path + ": " + what + ": " + std::strerror(err));
}

// Values appended at once before the budget is looked at again: small
// enough that one Fold of a large chunk does not overshoot a small budget.
size_t AppendSlice(size_t limit) { return std::max<size_t>(64, limit / (16 * kValue)); }

// Read buffer per run and how many runs one merge reads at once, from the
// budget: a merge's buffers stay within a quarter of it (two streams are read
// at once when probing), at least two runs of 512 bytes.
size_t ReadBufferValues(size_t limit) { return std::clamp<size_t>(limit / 256, 512, size_t{1} << 20) / kValue; }
size_t FanIn(size_t limit) { return std::clamp<size_t>(limit / (4 * ReadBufferValues(limit) * kValue), 2, 64); }

// A run file being written: values in native byte order, nothing else (the
// file lives as long as the drill).
class RunWriter {
 public:
  explicit RunWriter(std::string path) : path_(std::move(path)) {}
  ~RunWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return ErrnoError(path_, "cannot create a spill run", errno);
    return Status::Ok();
  }
  Status Write(const uint64_t* values, size_t n) {
    const char* p = reinterpret_cast<const char*>(values);
    size_t left = n * kValue;
    while (left > 0) {
      ssize_t w = ::write(fd_, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return ErrnoError(path_, "cannot write a spill run", w < 0 ? errno : ENOSPC);
      p += w;
      left -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }
  Status Close() {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return ErrnoError(path_, "cannot write a spill run", errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

void RemoveFile(const std::string& path) { ::unlink(path.c_str()); }

}  // namespace

// A k-way merge of sorted sources (run files read through a buffer each, and
// at most one sorted range in memory) by a min-heap on their current values.
class SortedStream::Merger {
 public:
  Merger(bool unique, size_t buffer_values) : unique_(unique), buffer_values_(buffer_values) {}

  Status AddRun(const std::string& path) {
    auto s = std::make_unique<Source>();
    s->path = path;
    s->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) return ErrnoError(path, "cannot open a spill run", errno);
    s->buffer.resize(buffer_values_);
    VOUCH_RETURN_IF_ERROR(s->Refill());
    if (s->pos != s->end) heap_.push_back(s.get());
    sources_.push_back(std::move(s));
    return Status::Ok();
  }
  void AddMemory(const uint64_t* begin, const uint64_t* end) {
    if (begin == end) return;
    auto s = std::make_unique<Source>();
    s->pos = begin;
    s->end = end;
    heap_.push_back(s.get());
    sources_.push_back(std::move(s));
  }
  void Start() { std::make_heap(heap_.begin(), heap_.end(), Later); }

  // The next value (the next distinct one for a unique merge); false at the
  // end or on an error, then in `status`.
  bool Next(uint64_t& value, Status& status) {
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), Later);
      Source* top = heap_.back();
      uint64_t v = *top->pos++;
      if (top->pos == top->end && top->fd >= 0) {
        if (Status s = top->Refill(); !s.ok()) {
          status = s;
          heap_.clear();
          return false;
        }
      }
      if (top->pos != top->end) {
        std::push_heap(heap_.begin(), heap_.end(), Later);
      } else {
        heap_.pop_back();
      }
      if (unique_ && have_last_ && v == last_) continue;
      have_last_ = true;
      last_ = v;
      value = v;
      return true;
    }
    return false;
  }

 private:
  struct Source {
    ~Source() {
      if (fd >= 0) ::close(fd);
    }
    // Reads the next part of the run; pos == end after it: the run is done.
    Status Refill() {
      char* p = reinterpret_cast<char*>(buffer.data());
      size_t want = buffer.size() * kValue, got = 0;
      while (got < want) {
        ssize_t r = ::read(fd, p + got, want - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ErrnoError(path, "cannot read a spill run", errno);
        if (r == 0) break;
        got += static_cast<size_t>(r);
      }
      if (got % kValue != 0) return IoError(path + ": a spill run ends inside a value (truncated)");
      pos = buffer.data();
      end = pos + got / kValue;
      return Status::Ok();
    }
    std::string path;  // empty for the in-memory range
    int fd = -1;
    std::vector<uint64_t> buffer;
    const uint64_t* pos = nullptr;
    const uint64_t* end = nullptr;
  };
  static bool Later(const Source* a, const Source* b) { return *a->pos > *b->pos; }

  bool unique_;
  size_t buffer_values_;
  bool have_last_ = false;
  uint64_t last_ = 0;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<Source*> heap_;
};

SpillBudget::SpillBudget(size_t limit_bytes, std::string parent) : limit_(limit_bytes), parent_(std::move(parent)) {}

SpillBudget::~SpillBudget() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<std::string> SpillBudget::NewRunPath() {
  if (dir_.empty()) {
    std::string parent = parent_;
    if (parent.empty()) {
      std::error_code ec;
      parent = std::filesystem::temp_directory_path(ec).string();
      if (ec || parent.empty()) parent = "/tmp";
    }
    std::string templ = parent + "/vouch-spill-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      return ErrnoError(templ, "cannot make a directory for spill runs", errno);
    }
    dir_ = templ;
  }
  return dir_ + "/run-" + std::to_string(next_run_++);
}

Status SpillBudget::Enforce() {
  while (used_ > limit_) {
    SpillSet* largest = nullptr;
    for (SpillSet* s : sets_) {
      if (!s->buffer_.empty() && (largest == nullptr || s->buffer_.capacity() > largest->buffer_.capacity())) {
        largest = s;
      }
    }
    if (largest == nullptr) break;
    VOUCH_RETURN_IF_ERROR(largest->Spill());
  }
  return Status::Ok();
}

SpillSet::SpillSet(SpillBudget& budget, bool unique) : budget_(budget), unique_(unique) {
  budget_.sets_.push_back(this);
}

SpillSet::~SpillSet() {
  Clear();
  auto& sets = budget_.sets_;
  sets.erase(std::remove(sets.begin(), sets.end(), this), sets.end());
}

void SpillSet::ReleaseBuffer() {
  budget_.used_ -= buffer_.capacity() * kValue;
  std::vector<uint64_t>().swap(buffer_);
}

void SpillSet::Clear() {
  ReleaseBuffer();
  for (const auto& run : runs_) RemoveFile(run);
  runs_.clear();
  appended_ = 0;
}

Status SpillSet::Append(const uint64_t* values, size_t n) {
  const size_t slice = AppendSlice(budget_.limit_);
  while (n > 0) {
    const size_t m = std::min(n, slice);
    if (buffer_.size() + m > buffer_.capacity()) {
      // Grow within what the other sets leave of the budget, so that a
      // doubling does not overshoot it; Enforce spills when even that is full.
      const size_t cap = buffer_.capacity();
      const size_t others = budget_.used_ - cap * kValue;
      const size_t room = budget_.limit_ > others ? (budget_.limit_ - others) / kValue : 0;
      size_t want = std::max({cap * 2, buffer_.size() + m, size_t{512}});
      want = std::min(want, std::max(room, buffer_.size() + m));
      buffer_.reserve(want);
      budget_.used_ += (buffer_.capacity() - cap) * kValue;
    }
    buffer_.insert(buffer_.end(), values, values + m);
    appended_ += m;
    values += m;
    n -= m;
    VOUCH_RETURN_IF_ERROR(budget_.Enforce());
  }
  return Status::Ok();
}

Status SpillSet::Spill() {
  if (buffer_.empty()) return Status::Ok();
  std::sort(buffer_.begin(), buffer_.end());
  if (unique_) buffer_.erase(std::unique(buffer_.begin(), buffer_.end()), buffer_.end());
  auto path = budget_.NewRunPath();
  if (!path.ok()) return path.status();
  RunWriter w(*path);
  Status s = w.Open();
  if (s.ok()) s = w.Write(buffer_.data(), buffer_.size());
  if (s.ok()) s = w.Close();
  if (!s.ok()) {
    RemoveFile(*path);
    return s;
  }
  runs_.push_back(*path);
  ++budget_.runs_written_;
  ReleaseBuffer();
  return Status::Ok();
}

SortedStream::SortedStream(SpillSet& set) : set_(set) {}
SortedStream::~SortedStream() = default;

Status SortedStream::Open() {
  SpillSet& set = set_;
  SpillBudget& budget = set.budget_;
  const size_t buffer_values = ReadBufferValues(budget.limit_), fan_in = FanIn(budget.limit_);
  std::sort(set.buffer_.begin(), set.buffer_.end());
  if (set.unique_) set.buffer_.erase(std::unique(set.buffer_.begin(), set.buffer_.end()), set.buffer_.end());
  // Earlier passes: merge the oldest runs into one until a single merge can
  // read them all (and the buffer) at once.
  const size_t in_memory = set.buffer_.empty() ? 0 : 1;
  while (set.runs_.size() + in_memory > fan_in) {
    const size_t take = std::min(fan_in, set.runs_.size() + in_memory - fan_in + 1);
    std::vector<std::string> inputs(set.runs_.begin(), set.runs_.begin() + static_cast<ptrdiff_t>(take));
    Merger merger(set.unique_, buffer_values);
    Status s;
    for (const auto& in : inputs) {
      s = merger.AddRun(in);
      if (!s.ok()) break;
    }
    auto out = budget.NewRunPath();
    if (s.ok() && !out.ok()) s = out.status();
    if (!s.ok()) return status_ = s;
    merger.Start();
    RunWriter w(*out);
    s = w.Open();
    std::vector<uint64_t> pending;
    pending.reserve(buffer_values);
    uint64_t v;
    while (s.ok() && merger.Next(v, s)) {
      pending.push_back(v);
      if (pending.size() == buffer_values) {
        s = w.Write(pending.data(), pending.size());
        pending.clear();
      }
    }
    if (s.ok()) s = w.Write(pending.data(), pending.size());
    if (s.ok()) s = w.Close();
    if (!s.ok()) {
      RemoveFile(*out);
      return status_ = s;
    }
    for (const auto& in : inputs) RemoveFile(in);
    set.runs_.erase(set.runs_.begin(), set.runs_.begin() + static_cast<ptrdiff_t>(take));
    set.runs_.push_back(*out);
    ++budget.runs_written_;
  }
  merger_ = std::make_unique<Merger>(set.unique_, buffer_values);
  for (const auto& run : set.runs_) {
    if (Status s = merger_->AddRun(run); !s.ok()) {
      merger_.reset();
      return status_ = s;
    }
  }
  merger_->AddMemory(set.buffer_.data(), set.buffer_.data() + set.buffer_.size());
  merger_->Start();
  return Status::Ok();
}

bool SortedStream::Next(uint64_t& value) {
  if (!merger_ || !status_.ok()) return false;
  return merger_->Next(value, status_);
}

Status ProbeAbsent(SpillSet& present, SpillSet& probes, uint64_t* present_distinct,
                   const std::function<void(uint64_t value, uint64_t count)>& absent) {
  SortedStream p(present), q(probes);
  VOUCH_RETURN_IF_ERROR(p.Open());
  VOUCH_RETURN_IF_ERROR(q.Open());
  uint64_t distinct = 0, pv = 0, qv = 0;
  // Advances `present` to its next distinct value.
  auto next_present = [&]() {
    uint64_t v;
    while (p.Next(v)) {
      if (distinct > 0 && v == pv) continue;
      pv = v;
      ++distinct;
      return true;
    }
    return false;
  };
  bool hp = next_present(), hq = q.Next(qv);
  while (hq) {
    while (hp && pv < qv) hp = next_present();
    const uint64_t value = qv;
    uint64_t count = 0;
    do {
      ++count;
      hq = q.Next(qv);
    } while (hq && qv == value);
    if (!hp || pv != value) absent(value, count);
  }
  while (hp) hp = next_present();
  VOUCH_RETURN_IF_ERROR(p.status());
  VOUCH_RETURN_IF_ERROR(q.status());
  *present_distinct = distinct;
  return Status::Ok();
}

}  // namespace vouch::drill
