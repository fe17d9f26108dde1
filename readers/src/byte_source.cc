#include "vouch/readers/byte_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace vouch {
namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSource() override { close(fd_); }

  Result<size_t> Read(char* dst, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, dst, n);
      if (r >= 0) {
        offset_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      return IoError(path_ + ": read error at byte offset " + std::to_string(offset_) + ": " + std::strerror(errno));
    }
  }
  std::string Describe() const override { return path_; }
  uint64_t RawOffset() const override { return offset_; }

 private:
  int fd_;
  std::string path_;
  uint64_t offset_ = 0;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string data, std::string name) : data_(std::move(data)), name_(std::move(name)) {}
  Result<size_t> Read(char* dst, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::string Describe() const override { return name_; }
  uint64_t RawOffset() const override { return pos_; }

 private:
  std::string data_;
  std::string name_;
  size_t pos_ = 0;
};

// Gives back bytes that were read ahead to sniff the format, then continues
// with the inner source.
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> inner)
      : prefix_(std::move(prefix)), inner_(std::move(inner)) {}
  Result<size_t> Read(char* dst, size_t n) override {
    if (pos_ < prefix_.size()) {
      size_t k = std::min(n, prefix_.size() - pos_);
      std::memcpy(dst, prefix_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return inner_->Read(dst, n);
  }
  std::string Describe() const override { return inner_->Describe(); }
  uint64_t RawOffset() const override { return inner_->RawOffset() - (prefix_.size() - pos_); }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  std::unique_ptr<ByteSource> inner_;
};

}  // namespace

std::unique_ptr<ByteSource> MakeGzipDecoder(std::unique_ptr<ByteSource> inner, std::string name);
std::unique_ptr<ByteSource> MakeZlibDecoder(std::unique_ptr<ByteSource> inner, std::string name);
std::unique_ptr<ByteSource> MakeZstdDecoder(std::unique_ptr<ByteSource> inner, std::string name);
std::unique_ptr<ByteSource> MakeLz4Decoder(std::unique_ptr<ByteSource> inner, std::string name);
std::unique_ptr<ByteSource> MakeBzip2Decoder(std::unique_ptr<ByteSource> inner, std::string name);

const char* CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kZlib: return "zlib";
    case Compression::kZstd: return "zstd";
    case Compression::kLz4: return "lz4";
    case Compression::kBzip2: return "bzip2";
  }
  return "?";
}

Compression DetectCompression(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return Compression::kGzip;
  if (starts("\x28\xb5\x2f\xfd")) return Compression::kZstd;
  if (starts(std::string_view("\x04\x22\x4d\x18", 4))) return Compression::kLz4;
  // "BZh", the block size '1'..'9', then a block's or the end's magic.
  if (b.size() >= 10 && starts("BZh") && b[3] >= '1' && b[3] <= '9' &&
      (b.substr(4, 6) == std::string_view("\x31\x41\x59\x26\x53\x59", 6) ||
       b.substr(4, 6) == std::string_view("\x17\x72\x45\x38\x50\x90", 6))) {
    return Compression::kBzip2;
  }
  return Compression::kNone;
}

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(path + ": cannot open: " + std::strerror(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, path));
}

std::unique_ptr<ByteSource> MakeDecoder(Compression c, std::unique_ptr<ByteSource> inner, std::string name) {
  switch (c) {
    case Compression::kGzip: return MakeGzipDecoder(std::move(inner), std::move(name));
    case Compression::kZlib: return MakeZlibDecoder(std::move(inner), std::move(name));
    case Compression::kZstd: return MakeZstdDecoder(std::move(inner), std::move(name));
    case Compression::kLz4: return MakeLz4Decoder(std::move(inner), std::move(name));
    case Compression::kBzip2: return MakeBzip2Decoder(std::move(inner), std::move(name));
    case Compression::kNone: break;
  }
  return inner;
}

Result<std::unique_ptr<ByteSource>> OpenDecodedFile(const std::string& path, Compression* detected) {
  auto file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  auto head = ReadPrefix(**file, 10);  // bzip2's magic is the longest
  if (!head.ok()) return head.status();
  Compression c = DetectCompression(*head);
  if (detected) *detected = c;
  auto src = std::make_unique<PrefixedSource>(std::move(head).value(), std::move(file).value());
  return MakeDecoder(c, std::move(src), path);
}

Result<size_t> ReadUpTo(ByteSource& source, char* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    auto r = source.Read(dst + got, n - got);
    if (!r.ok()) return r.status();
    if (*r == 0) break;
    got += *r;
  }
  return got;
}

Result<std::string> ReadPrefix(ByteSource& source, size_t n) {
  // Grown as bytes arrive: n may come from an untrusted header (a tar
  // member's size), so it is not allocated up front.
  constexpr size_t kStep = size_t{64} << 10;
  std::string head;
  while (head.size() < n) {
    const size_t at = head.size(), want = std::min(kStep, n - at);
    head.resize(at + want);
    auto got = ReadUpTo(source, head.data() + at, want);
    if (!got.ok()) return got.status();
    head.resize(at + *got);
    if (*got < want) break;
  }
  return head;
}

std::unique_ptr<ByteSource> MakePrefixedSource(std::string prefix, std::unique_ptr<ByteSource> inner) {
  return std::make_unique<PrefixedSource>(std::move(prefix), std::move(inner));
}

std::unique_ptr<ByteSource> MakeMemorySource(std::string data, std::string name) {
  return std::make_unique<MemorySource>(std::move(data), std::move(name));
}

}  // namespace vouch
