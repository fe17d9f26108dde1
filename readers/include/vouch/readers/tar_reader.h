// TarReader: a strict reader of the ustar archives PostgreSQL writes
// (pg_dump -Ft, pg_basebackup -Ft; src/port/tar.c): 512-byte headers whose
// checksum is verified, sizes in octal or base-256, the ustar prefix field,
// data padded to 512 bytes, and an end-of-archive marker of zero blocks after
// which only zeros may follow. Extension headers (pax, GNU long names) are
// reported as unsupported rather than misread. Reads sequentially from any
// ByteSource, so a compressed tar works through a decoder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vouch/readers/byte_source.h"

namespace vouch {

struct TarMember {
  std::string name;
  char type = '0';             // '0' regular file, '5' directory, '2' symlink, ...
  uint64_t size = 0;           // data bytes
  uint64_t header_offset = 0;  // of the member's header in the tar stream
  std::string link_target;     // symlinks
};

class TarReader {
 public:
  // `name` is used in messages. `src` must outlive the reader.
  TarReader(ByteSource& src, std::string name) : src_(src), name_(std::move(name)) {}

  // Moves to the next member, skipping what is left of the current one's
  // data. Returns false at the end-of-archive marker (and checks that only
  // zeros follow it).
  Result<bool> Next(TarMember* member);

  // The current member's data: Read returns 0 at its end; reading past the
  // end of the tar stream is a truncation error. Valid until Next().
  ByteSource& Data() { return data_; }

 private:
  class MemberData final : public ByteSource {
   public:
    explicit MemberData(TarReader& r) : r_(r) {}
    Result<size_t> Read(char* dst, size_t n) override;
    std::string Describe() const override;
    uint64_t RawOffset() const override;

   private:
    TarReader& r_;
  };
  Status ReadBlock(char* block, bool* eof);
  Status Skip(uint64_t n);

  ByteSource& src_;
  std::string name_;
  MemberData data_{*this};
  TarMember current_;
  uint64_t left_ = 0;     // data bytes of the current member not read yet
  uint64_t padding_ = 0;  // bytes after its data up to the next 512-byte boundary
  uint64_t offset_ = 0;   // of the next byte of src_
  bool ended_ = false;
};

}  // namespace vouch
