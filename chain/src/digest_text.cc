#include "digest_text.h"

#include <cstdint>

namespace vouch::chain_internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Digit values, -1 for non-digits: a table, because digests are random and
// the branches of a range test mispredict on every other digit.
struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int c = 0; c < 256; ++c) {
      v[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
             : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
             : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                    : int8_t{-1};
    }
  }
};
constexpr HexTable kHexValues;

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool DecodeHex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.resize(hex.size() / 2);
  int bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int a = kHexValues.v[static_cast<uint8_t>(hex[2 * i])], b = kHexValues.v[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= a | b;  // negative if either is not a digit
    out[i] = static_cast<char>((a << 4) | (b & 15));
  }
  return bad >= 0;
}

bool DecodeBase64(std::string_view text, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t digits = 0, pad = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = Base64Value(c);
    if (v < 0 || pad > 0) return false;  // bad character, or data after padding
    ++digits;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (digits % 4 == 1) return false;  // 6 bits cannot end a byte
  if (pad > 0 && (digits + pad) % 4 != 0) return false;
  return true;
}

bool DecodeByteaEscape(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
      continue;
    }
    if (i + 3 >= text.size()) return false;  // `\ooo` needs three digits
    int v = 0;
    for (size_t k = 1; k <= 3; ++k) {
      char d = text[i + k];
      if (d < '0' || d > '7') return false;
      v = (v << 3) | (d - '0');
    }
    if (v > 0xff) return false;
    out.push_back(static_cast<char>(v));
    i += 3;
  }
  return true;
}

}  // namespace

bool DecodeDigestText(ChainEncoding e, std::string_view text, std::string& out) {
  switch (e) {
    case ChainEncoding::kHex: return DecodeHex(text, out);
    case ChainEncoding::kBase64: return DecodeBase64(text, out);
    case ChainEncoding::kBytea:
      if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') return DecodeHex(text.substr(2), out);
      return DecodeByteaEscape(text, out);
  }
  return false;
}

std::string EncodeDigestText(ChainEncoding e, std::string_view bytes) {
  std::string out;
  if (e == ChainEncoding::kBase64) {
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
      uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
                   static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 | static_cast<uint8_t>(bytes[i + 2]);
      for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64[(v >> s) & 63]);
    }
    size_t rest = bytes.size() - i;
    if (rest > 0) {
      uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
      if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
      out.push_back(kBase64[(v >> 18) & 63]);
      out.push_back(kBase64[(v >> 12) & 63]);
      out.push_back(rest == 2 ? kBase64[(v >> 6) & 63] : '=');
      out.push_back('=');
    }
    return out;
  }
  if (e == ChainEncoding::kBytea) out = "\\x";
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 15]);
  }
  return out;
}

}  // namespace vouch::chain_internal
