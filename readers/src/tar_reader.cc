#include "vouch/readers/tar_reader.h"

#include <algorithm>
#include <cstring>

namespace vouch {
namespace {

constexpr size_t kBlock = 512;

// A numeric header field: octal digits (leading spaces or zeros, ended by a
// NUL or space), or GNU base-256 when the first byte has its high bit set.
bool ParseNumber(const char* f, size_t len, uint64_t* out) {
  const auto* u = reinterpret_cast<const unsigned char*>(f);
  if (u[0] & 0x80) {
    if (u[0] != 0x80) return false;  // negative or too large
    uint64_t v = 0;
    for (size_t i = 1; i < len; ++i) {
      if (v >> 56) return false;
      v = (v << 8) | u[i];
    }
    *out = v;
    return true;
  }
  size_t i = 0;
  while (i < len && f[i] == ' ') ++i;
  uint64_t v = 0;
  bool any = false;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v >> 60) return false;
    v = v * 8 + static_cast<uint64_t>(f[i] - '0');
    any = true;
  }
  for (; i < len; ++i) {
    if (f[i] != '\0' && f[i] != ' ') return false;
  }
  *out = v;
  return any;
}

std::string Field(const char* f, size_t len) { return std::string(f, strnlen(f, len)); }

}  // namespace

Status TarReader::ReadBlock(char* block, bool* eof) {
  auto got = ReadUpTo(src_, block, kBlock);
  if (!got.ok()) return got.status();
  *eof = *got == 0;
  if (*got != 0 && *got != kBlock) {
    return Truncated(name_ + ": byte offset " + std::to_string(offset_ + *got) +
                     ": the archive ends inside a 512-byte tar block (truncated)");
  }
  offset_ += *got;
  return Status::Ok();
}

Status TarReader::Skip(uint64_t n) {
  alignas(64) char buf[8192];  // aligned: see vouch/io_buffer.h
  while (n > 0) {
    auto r = src_.Read(buf, static_cast<size_t>(std::min<uint64_t>(n, sizeof buf)));
    if (!r.ok()) return r.status();
    if (*r == 0) {
      return Truncated(name_ + ": byte offset " + std::to_string(offset_) + ": the archive ends inside member " +
                       current_.name + " (truncated)");
    }
    n -= *r;
    offset_ += *r;
  }
  return Status::Ok();
}

Result<bool> TarReader::Next(TarMember* member) {
  if (ended_) return false;
  VOUCH_RETURN_IF_ERROR(Skip(left_));
  left_ = 0;
  if (padding_ > 0) {  // zeros up to the next block, as every tar writer pads
    char pad[kBlock];
    uint64_t at = offset_;
    size_t got = 0;
    while (got < padding_) {
      auto r = src_.Read(pad + got, static_cast<size_t>(padding_) - got);
      if (!r.ok()) return r.status();
      if (*r == 0) {
        return Truncated(name_ + ": byte offset " + std::to_string(offset_ + got) +
                         ": the archive ends inside the padding of member " + current_.name + " (truncated)");
      }
      got += *r;
    }
    offset_ += got;
    padding_ = 0;
    for (size_t i = 0; i < got; ++i) {
      if (pad[i] != 0) {
        return Corrupt(name_ + ": byte offset " + std::to_string(at + i) + ": non-zero padding after member " +
                       current_.name);
      }
    }
  }
  char h[kBlock];
  const uint64_t at = offset_;
  bool eof = false;
  VOUCH_RETURN_IF_ERROR(ReadBlock(h, &eof));
  if (eof) {
    return Truncated(name_ + ": byte offset " + std::to_string(at) +
                     ": the archive ends without its end-of-archive marker (truncated)");
  }
  if (std::all_of(h, h + kBlock, [](char c) { return c == 0; })) {
    // The end-of-archive marker: a second zero block, then nothing but zeros
    // (tar implementations pad to their record size).
    VOUCH_RETURN_IF_ERROR(ReadBlock(h, &eof));
    if (eof) {
      return Truncated(name_ + ": byte offset " + std::to_string(offset_) +
                       ": the end-of-archive marker lacks its second zero block (truncated)");
    }
    uint64_t h_at = offset_ - kBlock;  // file offset of h[0]
    size_t h_len = kBlock;
    while (true) {
      auto nonzero = std::find_if(h, h + h_len, [](char c) { return c != 0; });
      if (nonzero != h + h_len) {
        return Corrupt(name_ + ": byte offset " + std::to_string(h_at + static_cast<uint64_t>(nonzero - h)) +
                       ": data after the end-of-archive marker");
      }
      auto r = src_.Read(h, kBlock);  // trailing padding need not be whole blocks
      if (!r.ok()) return r.status();
      if (*r == 0) break;
      h_at = offset_;
      h_len = *r;
      offset_ += *r;
    }
    ended_ = true;
    return false;
  }
  uint64_t stored = 0;
  if (!ParseNumber(h + 148, 8, &stored)) {
    return Corrupt(name_ + ": byte offset " + std::to_string(at) + ": not a tar header (unreadable checksum field)");
  }
  uint64_t sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_chksum = i >= 148 && i < 156;
    unsigned char c = in_chksum ? ' ' : static_cast<unsigned char>(h[i]);
    sum += c;
    signed_sum += in_chksum ? ' ' : static_cast<signed char>(h[i]);
  }
  if (stored != sum && static_cast<int64_t>(stored) != signed_sum) {
    return Corrupt(name_ + ": byte offset " + std::to_string(at) + ": tar header checksum mismatch (damaged header)");
  }
  if (std::memcmp(h + 257, "ustar", 5) != 0) {
    return Corrupt(name_ + ": byte offset " + std::to_string(at) + ": not a ustar header");
  }
  TarMember m;
  m.header_offset = at;
  m.type = h[156] == '\0' ? '0' : h[156];
  m.name = Field(h, 100);
  std::string prefix = Field(h + 345, 155);
  if (!prefix.empty()) m.name = prefix + "/" + m.name;
  m.link_target = Field(h + 157, 100);
  if (!ParseNumber(h + 124, 12, &m.size)) {
    return Corrupt(name_ + ": byte offset " + std::to_string(at) + ": member " + m.name + ": unreadable size field");
  }
  if (m.type == 'x' || m.type == 'g' || m.type == 'L' || m.type == 'K') {
    return Unsupported(name_ + ": byte offset " + std::to_string(at) + ": member " + m.name +
                       " uses a pax or GNU extended header, which vouch does not read");
  }
  if (m.type == '1' || m.type == '2' || m.type == '5') m.size = 0;  // links and directories carry no data
  left_ = m.size;
  padding_ = (kBlock - m.size % kBlock) % kBlock;
  current_ = m;
  *member = std::move(m);
  return true;
}

Result<size_t> TarReader::MemberData::Read(char* dst, size_t n) {
  if (r_.left_ == 0) return size_t{0};
  size_t want = static_cast<size_t>(std::min<uint64_t>(n, r_.left_));
  auto got = r_.src_.Read(dst, want);
  if (!got.ok()) return got.status();
  if (*got == 0) {
    return Truncated(r_.name_ + ": byte offset " + std::to_string(r_.offset_) + ": the archive ends inside member " +
                     r_.current_.name + " (truncated)");
  }
  r_.left_ -= *got;
  r_.offset_ += *got;
  return *got;
}

std::string TarReader::MemberData::Describe() const { return r_.name_ + ": member " + r_.current_.name; }

uint64_t TarReader::MemberData::RawOffset() const { return r_.offset_; }

}  // namespace vouch
