#include "vouch/chain/continuity.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace vouch {
namespace {

constexpr int kPageBits = 16;
constexpr size_t kPageSize = size_t{1} << kPageBits;  // values per page
constexpr size_t kWords = kPageSize / 64;

int64_t PageIndex(int64_t v) { return v >> kPageBits; }  // floor division, negatives included
size_t PageOffset(int64_t v) { return static_cast<size_t>(static_cast<uint64_t>(v) & (kPageSize - 1)); }
int64_t PageBase(int64_t index) { return index * static_cast<int64_t>(kPageSize); }

}  // namespace

// --- ChainContinuity ----------------------------------------------------------

struct ChainContinuity::Page {
  uint64_t present[kWords] = {};
  uint64_t failed[kWords] = {};      // some copy of the seq failed its link
  uint64_t duplicated[kWords] = {};  // the seq was added more than once
  uint64_t hash_fp[kPageSize];       // valid where present
  uint64_t prev_fp[kPageSize];
};

// Pages beyond the memory limit, in fixed-size slots of one unlinked file.
struct ChainContinuity::Spill {
  size_t max_resident = 2;  // pages
  std::string dir;
  int fd = -1;
  std::map<int64_t, uint64_t> slot_of;  // spilled page index → slot
  std::vector<uint64_t> free_slots;
  uint64_t next_slot = 0;
  std::unordered_map<int64_t, uint64_t> last_use;  // resident page index → clock
  uint64_t clock = 0;
  uint64_t written = 0;
  Status status;
  ~Spill() {
    if (fd >= 0) ::close(fd);
  }
  Status Open() {
    std::string parent = dir;
    if (parent.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    std::string path = parent + "/vouch-chain-XXXXXX";
    fd = ::mkstemp(path.data());
    if (fd < 0) return IoError("cannot create a chain spill file in " + parent + ": " + std::strerror(errno));
    ::unlink(path.c_str());
    return Status::Ok();
  }
  Status Write(uint64_t slot, const Page& page) {
    return Transfer(slot, const_cast<Page*>(&page), true);
  }
  Status Read(uint64_t slot, Page& page) const { return Transfer(slot, &page, false); }
  Status Transfer(uint64_t slot, Page* page, bool write) const {
    auto* p = reinterpret_cast<char*>(page);
    size_t done = 0;
    const off_t base = static_cast<off_t>(slot * sizeof(Page));
    while (done < sizeof(Page)) {
      ssize_t n = write ? ::pwrite(fd, p + done, sizeof(Page) - done, base + static_cast<off_t>(done))
                        : ::pread(fd, p + done, sizeof(Page) - done, base + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return IoError(std::string("chain spill file: cannot ") + (write ? "write" : "read") + " a page: " +
                       (n < 0 ? std::strerror(errno) : "short read"));
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
};

ChainContinuity::ChainContinuity(bool has_genesis, uint64_t genesis_fp)
    : has_genesis_(has_genesis), genesis_fp_(genesis_fp) {}
ChainContinuity::ChainContinuity(ChainContinuity&&) noexcept = default;
ChainContinuity& ChainContinuity::operator=(ChainContinuity&&) noexcept = default;
ChainContinuity::~ChainContinuity() = default;

size_t ChainContinuity::PageBytes() { return sizeof(Page); }

void ChainContinuity::SetMemoryLimit(size_t bytes, std::string temp_dir) {
  if (bytes == 0) {
    spill_.reset();  // only before the first Add: spilled pages would be lost
    return;
  }
  if (!spill_) spill_ = std::make_unique<Spill>();
  spill_->max_resident = std::max<size_t>(2, bytes / sizeof(Page));
  spill_->dir = std::move(temp_dir);
  for (const auto& [index, page] : pages_) spill_->last_use[index] = ++spill_->clock;
  EvictBeyondLimit(last_page_ != nullptr ? last_index_ : INT64_MIN);
}

const Status& ChainContinuity::spill_status() const {
  static const Status kOk;
  return spill_ ? spill_->status : kOk;
}

uint64_t ChainContinuity::pages_spilled() const { return spill_ ? spill_->written : 0; }

ChainContinuity::Page& ChainContinuity::Touch(int64_t index) {
  std::unique_ptr<Page>& page = pages_[index];
  if (page == nullptr) {
    page.reset(new Page);  // default-initialized: the fingerprints stay unwritten
    if (spill_) {
      auto it = spill_->slot_of.find(index);
      if (it != spill_->slot_of.end()) {
        Status st = spill_->Read(it->second, *page);
        if (!st.ok() && spill_->status.ok()) spill_->status = st;
        spill_->free_slots.push_back(it->second);
        spill_->slot_of.erase(it);
      }
    }
  }
  if (spill_) {
    spill_->last_use[index] = ++spill_->clock;
    EvictBeyondLimit(index);
  }
  return *page;
}

void ChainContinuity::EvictBeyondLimit(int64_t keep) {
  while (spill_ && spill_->status.ok() && pages_.size() > spill_->max_resident) {
    int64_t victim = keep;
    uint64_t oldest = UINT64_MAX;
    for (const auto& [index, used] : spill_->last_use) {
      if (index != keep && used < oldest) {
        oldest = used;
        victim = index;
      }
    }
    if (victim == keep) return;
    if (spill_->fd < 0) {
      spill_->status = spill_->Open();
      if (!spill_->status.ok()) return;
    }
    uint64_t slot;
    if (!spill_->free_slots.empty()) {
      slot = spill_->free_slots.back();
      spill_->free_slots.pop_back();
    } else {
      slot = spill_->next_slot++;
    }
    auto it = pages_.find(victim);
    spill_->status = spill_->Write(slot, *it->second);
    if (!spill_->status.ok()) return;  // kept in memory; the caller reports the error
    ++spill_->written;
    spill_->slot_of[victim] = slot;
    spill_->last_use.erase(victim);
    if (last_page_ == it->second.get()) last_page_ = nullptr;
    pages_.erase(it);
  }
}

const ChainContinuity::Page* ChainContinuity::View(int64_t index, std::unique_ptr<Page>& buffer) const {
  auto it = pages_.find(index);
  if (it != pages_.end()) return it->second.get();
  if (!spill_) return nullptr;
  auto s = spill_->slot_of.find(index);
  if (s == spill_->slot_of.end()) return nullptr;
  if (buffer == nullptr) buffer.reset(new Page);
  Status st = spill_->Read(s->second, *buffer);
  if (!st.ok()) {
    if (spill_->status.ok()) spill_->status = st;
    return nullptr;
  }
  return buffer.get();
}

std::vector<int64_t> ChainContinuity::PageIndexes() const {
  std::vector<int64_t> out;
  for (const auto& [index, page] : pages_) out.push_back(index);
  if (spill_) {
    for (const auto& [index, slot] : spill_->slot_of) out.push_back(index);
    std::sort(out.begin(), out.end());
  }
  return out;
}

ChainContinuity::Page& ChainContinuity::PageFor(int64_t seq) {
  int64_t index = PageIndex(seq);
  if (last_page_ != nullptr && index == last_index_) return *last_page_;
  Page& page = Touch(index);
  last_index_ = index;
  last_page_ = &page;
  return page;
}

void ChainContinuity::Add(const ChainLink& link) {
  Page& page = PageFor(link.seq);
  size_t off = PageOffset(link.seq), w = off / 64;
  uint64_t bit = uint64_t{1} << (off % 64);
  ++entries_;
  if (!link.link_ok) {
    ++link_failures_;
    page.failed[w] |= bit;
  }
  if (page.present[w] & bit) {
    ++duplicates_;
    page.duplicated[w] |= bit;
    if (std::pair(link.hash_fp, link.prev_fp) >= std::pair(page.hash_fp[off], page.prev_fp[off])) return;
  }
  page.present[w] |= bit;
  page.hash_fp[off] = link.hash_fp;
  page.prev_fp[off] = link.prev_fp;
}

void ChainContinuity::Merge(ChainContinuity&& other) {
  entries_ += other.entries_;
  link_failures_ += other.link_failures_;
  duplicates_ += other.duplicates_;
  if (other.spill_ && !other.spill_->status.ok() && (!spill_ || spill_->status.ok())) {
    if (!spill_) spill_ = std::make_unique<Spill>();
    spill_->status = other.spill_->status;
  }
  std::unique_ptr<Page> buffer;
  for (int64_t index : other.PageIndexes()) {
    const Page* theirs = other.View(index, buffer);
    if (theirs == nullptr) continue;  // unreadable: other's spill_status, copied above
    bool have = pages_.count(index) > 0 || (spill_ && spill_->slot_of.count(index) > 0);
    if (!have) {
      auto own = other.pages_.find(index);
      std::unique_ptr<Page>& mine = pages_[index];
      if (own != other.pages_.end()) {
        mine = std::move(own->second);
      } else {
        mine.reset(new Page(*theirs));
      }
      if (spill_) {
        spill_->last_use[index] = ++spill_->clock;
        EvictBeyondLimit(index);
      }
      continue;
    }
    Page& mine = Touch(index);
    for (size_t w = 0; w < kWords; ++w) {
      mine.failed[w] |= theirs->failed[w];
      mine.duplicated[w] |= theirs->duplicated[w];
      for (uint64_t bits = theirs->present[w]; bits != 0; bits &= bits - 1) {
        size_t off = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        uint64_t bit = uint64_t{1} << (off % 64);
        if (mine.present[w] & bit) {
          ++duplicates_;
          mine.duplicated[w] |= bit;
          if (std::pair(theirs->hash_fp[off], theirs->prev_fp[off]) >= std::pair(mine.hash_fp[off], mine.prev_fp[off])) {
            continue;
          }
        }
        mine.present[w] |= bit;
        mine.hash_fp[off] = theirs->hash_fp[off];
        mine.prev_fp[off] = theirs->prev_fp[off];
      }
    }
  }
  if (other.has_head_) NoteHead(other.head_seq_, other.head_hash_);
  last_page_ = nullptr;
  other = ChainContinuity(other.has_genesis_, other.genesis_fp_);
}

void ChainContinuity::NoteHead(int64_t seq, std::string_view stored_hash) {
  if (!has_head_ || seq > head_seq_ || (seq == head_seq_ && stored_hash < head_hash_)) {
    has_head_ = true;
    head_seq_ = seq;
    head_hash_.assign(stored_hash);
  }
}

ChainContinuity::Result ChainContinuity::Finish() const {
  Result r;
  r.entries = entries_;
  r.link_failures = link_failures_;
  r.duplicates = duplicates_;
  bool first = true;
  uint64_t pred_hash = 0;
  std::unique_ptr<Page> buffer;
  for (int64_t index : PageIndexes()) {
    const Page* page = View(index, buffer);
    if (page == nullptr) continue;  // unreadable: spill_status() says so
    const int64_t base = PageBase(index);
    for (size_t w = 0; w < kWords; ++w) {
      for (uint64_t bits = page->present[w]; bits != 0; bits &= bits - 1) {
        size_t off = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        uint64_t bit = uint64_t{1} << (off % 64);
        int64_t seq = base + static_cast<int64_t>(off);
        bool broken;
        if (first) {
          r.min_seq = seq;
          broken = has_genesis_ && page->prev_fp[off] != genesis_fp_;
          first = false;
        } else {
          broken = page->prev_fp[off] != pred_hash;
        }
        if (broken) {
          ++r.continuity_breaks;
          if (r.first_breaks.size() < kMaxListed) r.first_breaks.push_back(seq);
        }
        if ((page->failed[w] & bit) && r.first_link_failures.size() < kMaxListed) r.first_link_failures.push_back(seq);
        if ((page->duplicated[w] & bit) && r.first_duplicates.size() < kMaxListed) r.first_duplicates.push_back(seq);
        pred_hash = page->hash_fp[off];
        r.max_seq = seq;
      }
    }
  }
  if (has_head_ && !first && head_seq_ == r.max_seq) r.head_hash = head_hash_;
  return r;
}

// --- SeqGapTracker -------------------------------------------------------------

struct SeqGapTracker::Page {
  uint64_t present[kWords] = {};
};

SeqGapTracker::SeqGapTracker() = default;
SeqGapTracker::SeqGapTracker(SeqGapTracker&&) noexcept = default;
SeqGapTracker& SeqGapTracker::operator=(SeqGapTracker&&) noexcept = default;
SeqGapTracker::~SeqGapTracker() = default;

SeqGapTracker::Page& SeqGapTracker::PageFor(int64_t v) {
  int64_t index = PageIndex(v);
  if (last_page_ != nullptr && index == last_index_) return *last_page_;
  std::unique_ptr<Page>& page = pages_[index];
  if (page == nullptr) page = std::make_unique<Page>();
  last_index_ = index;
  last_page_ = page.get();
  return *page;
}

void SeqGapTracker::Add(int64_t v) {
  size_t off = PageOffset(v);
  PageFor(v).present[off / 64] |= uint64_t{1} << (off % 64);
  ++values_;
}

void SeqGapTracker::Merge(SeqGapTracker&& other) {
  values_ += other.values_;
  for (auto& [index, theirs] : other.pages_) {
    std::unique_ptr<Page>& mine = pages_[index];
    if (mine == nullptr) {
      mine = std::move(theirs);
    } else {
      for (size_t w = 0; w < kWords; ++w) mine->present[w] |= theirs->present[w];
    }
  }
  last_page_ = nullptr;
  other = SeqGapTracker();
}

SeqGapTracker::Result SeqGapTracker::Finish(const GapOptions& options) const {
  Result r;
  r.values = values_;
  bool first = true;
  int64_t prev = 0;  // the last present value walked
  // A missing run between present values a < b.
  auto gap = [&](int64_t a, int64_t b) {
    uint64_t step = static_cast<uint64_t>(b) - static_cast<uint64_t>(a);
    r.max_gap = std::max(r.max_gap, step);
    if (step == 1) return;
    int64_t from = a + 1, to = b - 1;
    ++r.gaps;
    r.missing += step - 1;
    bool in_window = options.window && from <= options.window->second && to >= options.window->first;
    if (step - 1 >= options.suspicious_size || in_window) ++r.suspicious;
    if (r.ranges.size() < options.max_ranges) r.ranges.emplace_back(from, to);
  };
  for (const auto& [index, page] : pages_) {
    const int64_t base = PageBase(index);
    for (size_t w = 0; w < kWords; ++w) {
      uint64_t bits = page->present[w];
      if (bits == 0) continue;
      const int64_t word_base = base + static_cast<int64_t>(w * 64);
      r.distinct += static_cast<uint64_t>(std::popcount(bits));
      if (bits == ~uint64_t{0} && !first && prev == word_base - 1) {  // dense run continues
        r.max_gap = std::max<uint64_t>(r.max_gap, 1);
        prev = word_base + 63;
        continue;
      }
      for (; bits != 0; bits &= bits - 1) {
        int64_t v = word_base + std::countr_zero(bits);
        if (first) {
          r.min = v;
          first = false;
        } else {
          gap(prev, v);
        }
        prev = v;
      }
    }
  }
  if (!first) r.max = prev;
  r.duplicates = r.values - r.distinct;
  return r;
}

}  // namespace vouch
