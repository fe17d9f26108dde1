#include "vouch/base/timestamptz.h"

#include <cstdint>

#include "vouch/base/civil_time.h"

namespace vouch {
namespace {

void AppendPadded(std::string* out, int64_t v, int width) {
  std::string digits = std::to_string(v);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out->push_back('0');
  *out += digits;
}

}  // namespace

bool AppendTimestamptzUtc(std::string_view v, std::string* out) {
  if (v == "infinity" || v == "-infinity") {
    *out += v;
    return true;
  }
  // Year: 4 or more digits.
  size_t i = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  int64_t year, mon, day, hh, mm, ss;
  if (i < 4 || i > 9 || !ParseDigits(v, 0, i, &year)) return false;
  size_t p = i;
  if (p + 15 > v.size() || v[p] != '-' || !ParseDigits(v, p + 1, 2, &mon) || v[p + 3] != '-' ||
      !ParseDigits(v, p + 4, 2, &day) || v[p + 6] != ' ' || !ParseDigits(v, p + 7, 2, &hh) || v[p + 9] != ':' ||
      !ParseDigits(v, p + 10, 2, &mm) || v[p + 12] != ':' || !ParseDigits(v, p + 13, 2, &ss)) {
    return false;
  }
  p += 15;
  size_t frac_start = p;
  if (p < v.size() && v[p] == '.') {
    ++p;
    while (p < v.size() && v[p] >= '0' && v[p] <= '9') ++p;
    if (p == frac_start + 1) return false;
  }
  std::string_view frac = v.substr(frac_start, p - frac_start);
  if (p >= v.size() || (v[p] != '+' && v[p] != '-')) return false;
  int sign = v[p] == '+' ? 1 : -1;
  int64_t oh = 0, om = 0, os = 0;
  if (!ParseDigits(v, p + 1, 2, &oh)) return false;
  p += 3;
  if (p < v.size() && v[p] == ':') {
    if (!ParseDigits(v, p + 1, 2, &om)) return false;
    p += 3;
    if (p < v.size() && v[p] == ':') {
      if (!ParseDigits(v, p + 1, 2, &os)) return false;
      p += 3;
    }
  }
  bool bc = false;
  if (v.substr(p) == " BC") {
    bc = true;
    p += 3;
  }
  if (p != v.size() || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 24 || mm > 59 || ss > 60) return false;
  int64_t offset = sign * (oh * 3600 + om * 60 + os);
  if (offset == 0) {  // already UTC: only the offset's spelling could differ
    *out += v.substr(0, frac_start + frac.size());
    *out += "+00";
    if (bc) *out += " BC";
    return true;
  }
  int64_t astro = bc ? 1 - year : year;
  int64_t secs = DaysFromCivil(astro, mon, day) * 86400 + hh * 3600 + mm * 60 + ss - offset;
  const int64_t days = FloorDiv(secs, 86400);
  const int64_t rem = FloorMod(secs, 86400);
  const CivilDate c = CivilFromDays(days);
  const int64_t y = c.year, m = c.month, d = c.day;
  bool out_bc = y <= 0;
  AppendPadded(out, out_bc ? 1 - y : y, 4);
  out->push_back('-');
  AppendPadded(out, m, 2);
  out->push_back('-');
  AppendPadded(out, d, 2);
  out->push_back(' ');
  AppendPadded(out, rem / 3600, 2);
  out->push_back(':');
  AppendPadded(out, rem % 3600 / 60, 2);
  out->push_back(':');
  AppendPadded(out, rem % 60, 2);
  *out += frac;
  *out += "+00";
  if (out_bc) *out += " BC";
  return true;
}

bool AppendQuotedTimestamptzUtc(std::string_view v, std::string* out) {
  size_t i = 0;
  while (i < v.size()) {
    size_t q = v.find('"', i);
    if (q == std::string_view::npos) break;
    size_t e = v.find('"', q + 1);
    if (e == std::string_view::npos) return false;
    *out += v.substr(i, q + 1 - i);
    if (!AppendTimestamptzUtc(v.substr(q + 1, e - q - 1), out)) return false;
    out->push_back('"');
    i = e + 1;
  }
  *out += v.substr(i);
  return true;
}

bool HasNonUtcTimestamptz(std::string_view v) {
  // Look for "HH:MM:SS[.f]±HH" and report when the offset is not +00.
  for (size_t i = 0; i + 8 <= v.size(); ++i) {
    if (v[i + 2] != ':' || v[i + 5] != ':') continue;
    int64_t x;
    if (!ParseDigits(v, i, 2, &x) || !ParseDigits(v, i + 3, 2, &x) || !ParseDigits(v, i + 6, 2, &x)) continue;
    size_t p = i + 8;
    if (p < v.size() && v[p] == '.') {
      ++p;
      while (p < v.size() && v[p] >= '0' && v[p] <= '9') ++p;
    }
    if (p + 3 <= v.size() && (v[p] == '+' || v[p] == '-') && ParseDigits(v, p + 1, 2, &x)) {
      bool utc = v[p] == '+' && v.substr(p + 1, 2) == "00" && (p + 3 == v.size() || v[p + 3] != ':');
      if (!utc) return true;
    }
  }
  return false;
}

}  // namespace vouch
