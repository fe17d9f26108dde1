// ByteSource: a stream of bytes (a file, a decompressed file, a buffer).
// Readers take this interface so tests can feed them fakes, truncated and
// corrupted buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vouch/status.h"

namespace vouch {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into dst. Returns 0 only at the clean end of the stream;
  // a damaged or truncated stream returns an error instead (never a short EOF).
  virtual Result<size_t> Read(char* dst, size_t n) = 0;
  // What this stream is, for messages: "dump.sql.gz (gzip)".
  virtual std::string Describe() const = 0;
  // Bytes consumed so far from the underlying file (compressed offset).
  virtual uint64_t RawOffset() const = 0;
  // The bytes this source has read ahead and not handed out yet (possibly
  // none), for a caller that parses small records in place: an uncompressed
  // custom archive has a chunk header per row, and two virtual reads a row
  // cost more than the hashing. Consume(k) hands out the first k of them, as
  // a Read of k bytes would. A source without a read-ahead buffer has none.
  virtual std::string_view Buffered() const { return {}; }
  virtual void Consume(size_t /*k*/) {}
};

// kZlib (a bare zlib stream, as in custom-format archives) is never detected
// from magic bytes (78 xx is too common a start); callers name it.
enum class Compression { kNone, kGzip, kZstd, kLz4, kZlib, kBzip2 };
const char* CompressionName(Compression c);

// Recognizes a compression format from the first bytes of a stream (never the
// file name): gzip 1f 8b, zstd 28 b5 2f fd, lz4 frame 04 22 4d 18.
Compression DetectCompression(std::string_view first_bytes);

// Opens a file as raw bytes.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);
// Opens a file and decompresses it if its magic bytes name a known format.
Result<std::unique_ptr<ByteSource>> OpenDecodedFile(const std::string& path, Compression* detected = nullptr);
// Wraps `inner` (positioned at its start) in a decoder for `c`; `name` is used in messages.
std::unique_ptr<ByteSource> MakeDecoder(Compression c, std::unique_ptr<ByteSource> inner, std::string name);
// Reads up to n bytes into dst, fewer only at the end of the stream; returns
// how many. Allocates nothing (for headers read once per row).
Result<size_t> ReadUpTo(ByteSource& source, char* dst, size_t n);
// The same into a new string.
Result<std::string> ReadPrefix(ByteSource& source, size_t n);
// A source that first gives back `prefix` (bytes read ahead to sniff a
// format), then continues with `inner`.
std::unique_ptr<ByteSource> MakePrefixedSource(std::string prefix, std::unique_ptr<ByteSource> inner);
// A source over a copy of `data` (tests, fuzzing).
std::unique_ptr<ByteSource> MakeMemorySource(std::string data, std::string name = "<memory>");

}  // namespace vouch
