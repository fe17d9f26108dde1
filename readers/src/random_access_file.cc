#include "vouch/readers/random_access_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "vouch/io_buffer.h"

namespace vouch {
namespace {

class PosixFile final : public RandomAccessFile {
 public:
  PosixFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixFile() override { close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, char* dst, size_t n) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, dst + got, n - got, static_cast<off_t>(offset + got));
      if (r == 0) break;
      if (r < 0) {
        if (errno == EINTR) continue;
        return IoError(path_ + ": read error at byte offset " + std::to_string(offset + got) + ": " +
                       std::strerror(errno));
      }
      got += static_cast<size_t>(r);
    }
    CountRead(got);
    return got;
  }
  uint64_t size() const override { return size_; }
  const std::string& name() const override { return path_; }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
};

class MemoryFile final : public RandomAccessFile {
 public:
  MemoryFile(std::string data, std::string name) : data_(std::move(data)), name_(std::move(name)) {}
  Result<size_t> ReadAt(uint64_t offset, char* dst, size_t n) const override {
    if (offset >= data_.size()) return size_t{0};
    size_t k = std::min<uint64_t>(n, data_.size() - offset);
    std::memcpy(dst, data_.data() + offset, k);
    CountRead(k);
    return k;
  }
  uint64_t size() const override { return data_.size(); }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_;
};

class FileRangeSource final : public ByteSource {
 public:
  FileRangeSource(const RandomAccessFile& file, uint64_t begin, size_t buffer)
      : file_(file), next_(begin), buf_(std::max<size_t>(buffer, 4096)) {}

  Result<size_t> Read(char* dst, size_t n) override {
    if (pos_ == end_) {
      if (n >= buf_.size()) {  // large reads bypass the buffer
        auto r = file_.ReadAt(next_, dst, n);
        if (r.ok()) next_ += *r;
        return r;
      }
      auto r = file_.ReadAt(next_, buf_.data(), buf_.size());
      if (!r.ok()) return r.status();
      next_ += *r;
      pos_ = 0;
      end_ = *r;
      if (end_ == 0) return size_t{0};
    }
    size_t k = std::min(n, end_ - pos_);
    std::memcpy(dst, buf_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::string Describe() const override { return file_.name(); }
  uint64_t RawOffset() const override { return next_ - (end_ - pos_); }
  std::string_view Buffered() const override { return {buf_.data() + pos_, end_ - pos_}; }
  void Consume(size_t k) override { pos_ += std::min(k, end_ - pos_); }

 private:
  const RandomAccessFile& file_;
  uint64_t next_;  // file offset of the byte after the buffer's contents
  IoBuffer buf_;
  size_t pos_ = 0, end_ = 0;
};

}  // namespace

Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return IoError(path + ": cannot stat: " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return IoError(path + ": not a regular file");
  }
  return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixFile>(fd, path, static_cast<uint64_t>(st.st_size)));
}

std::unique_ptr<RandomAccessFile> MakeMemoryFile(std::string data, std::string name) {
  return std::make_unique<MemoryFile>(std::move(data), std::move(name));
}

std::unique_ptr<ByteSource> MakeFileRangeSource(const RandomAccessFile& file, uint64_t begin, size_t buffer) {
  return std::make_unique<FileRangeSource>(file, begin, buffer);
}

}  // namespace vouch
