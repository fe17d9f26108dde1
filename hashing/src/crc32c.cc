#include "vouch/hashing/crc32c.h"

#include <bit>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define VOUCH_CRC32C_X86 1
#endif

namespace vouch {
namespace {

// Reflected Castagnoli polynomial. A 32-bit value stands for a polynomial
// whose x^0 coefficient is bit 31 (zlib's convention in crc32.c).
constexpr uint32_t kPoly = 0x82F63B78u;

// a(x) · b(x) mod P(x).
uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

struct PowerTable {
  uint32_t x2n[32];  // x^(2^k) mod P
  PowerTable() {
    uint32_t p = 1u << 30;  // x^1
    x2n[0] = p;
    for (int k = 1; k < 32; ++k) x2n[k] = p = MultModP(p, p);
  }
};
const PowerTable& Powers() {
  static const PowerTable t;
  return t;
}

// x^(n · 2^k) mod P.
uint32_t X2nModP(uint64_t n, unsigned k) {
  const PowerTable& t = Powers();
  uint32_t p = 1u << 31;  // x^0
  while (n) {
    if (n & 1) p = MultModP(t.x2n[k & 31], p);
    n >>= 1;
    ++k;
  }
  return p;
}

struct SliceTables {
  uint32_t t[8][256];
  SliceTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = t[0][i];
      for (int k = 1; k < 8; ++k) {
        c = t[0][c & 0xff] ^ (c >> 8);
        t[k][i] = c;
      }
    }
  }
};
const SliceTables& Slices() {
  static const SliceTables t;
  return t;
}

// The raw CRC register (no pre/post inversion) advanced over n bytes.
uint32_t RegisterPortable(uint32_t reg, const unsigned char* p, size_t n) {
  const auto& t = Slices().t;
  if constexpr (std::endian::native == std::endian::little) {
    while (n >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      w ^= reg;
      reg = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
            t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
      p += 8;
      n -= 8;
    }
  }
  while (n--) reg = t[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
  return reg;
}

#ifdef VOUCH_CRC32C_X86
// Three streams of kStream bytes run side by side (the instruction has a
// latency of 3 cycles and a throughput of 1), then are joined:
// reg(a ‖ b ‖ c) = shift(reg(a), 2·kStream) ^ shift(reg(b), kStream) ^ reg(c)
// with b and c started from 0, where shift(r, n) = r · x^(8n) mod P — a
// linear map, applied through four byte tables.
constexpr size_t kStream = 4096;

struct ShiftTable {
  uint32_t t[4][256];
  explicit ShiftTable(uint64_t bytes) {
    const uint32_t k = X2nModP(bytes, 3);
    for (int i = 0; i < 4; ++i) {
      for (uint32_t b = 0; b < 256; ++b) t[i][b] = MultModP(k, b << (8 * i));
    }
  }
  uint32_t Apply(uint32_t r) const {
    return t[0][r & 0xff] ^ t[1][(r >> 8) & 0xff] ^ t[2][(r >> 16) & 0xff] ^ t[3][r >> 24];
  }
};
const ShiftTable& ShiftOne() {
  static const ShiftTable t(kStream);
  return t;
}
const ShiftTable& ShiftTwo() {
  static const ShiftTable t(2 * kStream);
  return t;
}

inline uint64_t Load64(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

__attribute__((target("sse4.2"))) uint32_t RegisterSse42(uint32_t reg, const unsigned char* p, size_t n) {
  uint64_t r0 = reg;
  if (n >= 3 * kStream) {
    const ShiftTable& one = ShiftOne();
    const ShiftTable& two = ShiftTwo();
    while (n >= 3 * kStream) {
      uint64_t r1 = 0, r2 = 0;
      for (size_t i = 0; i < kStream; i += 8) {
        r0 = _mm_crc32_u64(r0, Load64(p + i));
        r1 = _mm_crc32_u64(r1, Load64(p + kStream + i));
        r2 = _mm_crc32_u64(r2, Load64(p + 2 * kStream + i));
      }
      r0 = two.Apply(static_cast<uint32_t>(r0)) ^ one.Apply(static_cast<uint32_t>(r1)) ^ static_cast<uint32_t>(r2);
      p += 3 * kStream;
      n -= 3 * kStream;
    }
  }
  while (n >= 8) {
    r0 = _mm_crc32_u64(r0, Load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t r = static_cast<uint32_t>(r0);
  while (n--) r = _mm_crc32_u8(r, *p++);
  return r;
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n) {
  return ~RegisterPortable(~crc, static_cast<const unsigned char*>(data), n);
}

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n) {
#ifdef VOUCH_CRC32C_X86
  if (HaveSse42()) return ~RegisterSse42(~crc, static_cast<const unsigned char*>(data), n);
#endif
  return Crc32cExtendPortable(crc, data, n);
}

uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return MultModP(X2nModP(length_b, 3), crc_a) ^ crc_b;
}

const char* Crc32cImplementation() {
#ifdef VOUCH_CRC32C_X86
  if (HaveSse42()) return "sse4.2";
#endif
  return "portable";
}

}  // namespace vouch
