// RandomAccessFile: a file read at any offset, from several threads at once
// (pread), so that independent parts of an archive — the data blocks of a
// custom-format dump — are read in parallel. A memory implementation serves
// tests and fuzzing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "vouch/readers/byte_source.h"
#include "vouch/status.h"

namespace vouch {

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at `offset` into dst; fewer only at the end of the
  // file. Safe to call from several threads.
  virtual Result<size_t> ReadAt(uint64_t offset, char* dst, size_t n) const = 0;
  // The size when the file was opened.
  virtual uint64_t size() const = 0;
  virtual const std::string& name() const = 0;
  // Bytes ReadAt returned so far, from every thread (a progress display's
  // count of an archive's bytes read).
  uint64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }

 protected:
  void CountRead(size_t n) const { bytes_read_.fetch_add(n, std::memory_order_relaxed); }

 private:
  mutable std::atomic<uint64_t> bytes_read_{0};
};

Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path);
std::unique_ptr<RandomAccessFile> MakeMemoryFile(std::string data, std::string name = "<memory>");

// A sequential source over `file` from byte `begin` to its end, read ahead in
// blocks of `buffer` bytes (small reads are served from the buffer, large ones
// go straight to the caller). RawOffset() is the absolute file offset of the
// next byte. `file` must outlive the source.
std::unique_ptr<ByteSource> MakeFileRangeSource(const RandomAccessFile& file, uint64_t begin,
                                                size_t buffer = size_t{1} << 20);

}  // namespace vouch
