// Page-aligned byte vectors for read()/pread() to fill.
//
// Why not std::vector<char>: glibc serves an allocation of 128 KB or more
// with its own mmap and puts the data 16 bytes past the page start (smaller
// blocks are 16-byte aligned). The kernel's copy out of the page cache into
// a destination 16 bytes off a 64-byte boundary ran 4-5x slower on the AMD
// EPYC (Zen 3) machines vouch is measured on: a 752 MB cached file read in
// 128 KB preads took 0.48-0.53 s into such a buffer and 0.09-0.11 s into a
// page-aligned one (64 KB and 1 MB reads alike). Whether a buffer landed
// aligned was chance, which showed as run-to-run noise of up to 3x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace vouch {

template <typename T>
struct PageAlignedAllocator {
  using value_type = T;
  static constexpr size_t kAlign = 4096;

  PageAlignedAllocator() = default;
  template <typename U>
  PageAlignedAllocator(const PageAlignedAllocator<U>&) {}

  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T) - kAlign) throw std::bad_alloc();
    // aligned_alloc wants a multiple of the alignment.
    const size_t bytes = (n * sizeof(T) + kAlign - 1) / kAlign * kAlign;
    void* p = std::aligned_alloc(kAlign, bytes == 0 ? kAlign : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }

  template <typename U>
  bool operator==(const PageAlignedAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using AlignedVector = std::vector<T, PageAlignedAllocator<T>>;
using IoBuffer = AlignedVector<char>;

}  // namespace vouch
