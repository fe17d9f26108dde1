#include "vouch/readers/binary_copy.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "vouch/base/copy_text.h"

namespace vouch {
namespace {

// Built-in type OIDs (src/include/catalog/pg_type.dat; fixed across releases).
enum : uint32_t {
  kBoolOid = 16,
  kByteaOid = 17,
  kCharOid = 18,
  kNameOid = 19,
  kInt8Oid = 20,
  kInt2Oid = 21,
  kInt4Oid = 23,
  kTextOid = 25,
  kOidOid = 26,
  kJsonOid = 114,
  kCidrOid = 650,
  kFloat4Oid = 700,
  kFloat8Oid = 701,
  kMacaddrOid = 829,
  kInetOid = 869,
  kBpcharOid = 1042,
  kVarcharOid = 1043,
  kDateOid = 1082,
  kTimeOid = 1083,
  kTimestampOid = 1114,
  kTimestampTzOid = 1184,
  kIntervalOid = 1186,
  kTimeTzOid = 1266,
  kNumericOid = 1700,
  kUuidOid = 2950,
  kJsonbOid = 3802,
};

constexpr int64_t kUsecsPerSec = 1000000;
constexpr int64_t kUsecsPerMinute = 60 * kUsecsPerSec;
constexpr int64_t kUsecsPerHour = 60 * kUsecsPerMinute;
constexpr int64_t kUsecsPerDay = 24 * kUsecsPerHour;
constexpr int64_t kPostgresEpochJdate = 2451545;  // 2000-01-01

uint16_t U16(const char* p) {
  auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
uint32_t U32(const char* p) {
  auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
uint64_t U64(const char* p) { return (uint64_t{U32(p)} << 32) | U32(p + 4); }
int16_t I16(const char* p) { return static_cast<int16_t>(U16(p)); }
int32_t I32(const char* p) { return static_cast<int32_t>(U32(p)); }
int64_t I64(const char* p) { return static_cast<int64_t>(U64(p)); }

Status Bad(const std::string& what) { return ConnectionError("binary COPY: " + what); }

template <typename T>
void AppendInt(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// pg_ultostr_zeropad: at least `width` digits.
void AppendPadded(std::string& out, uint64_t v, int width) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  for (auto n = r.ptr - buf; n < width; ++n) out.push_back('0');
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

// Whether the decimal digits × 10^k lie exactly half-way between v (> 0,
// finite) and one of its neighbours: a bound of v's rounding interval. Exact
// integer arithmetic: such a decimal is a dyadic rational whose odd part is
// the midpoint's.
template <typename F>
bool AtBound(F v, uint64_t digits, int k) {
  constexpr int kMantBits = std::numeric_limits<F>::digits - 1;  // 52 or 23
  constexpr int kBias = std::numeric_limits<F>::max_exponent - 1 + kMantBits;
  uint64_t bits;
  if constexpr (sizeof(F) == 8) {
    std::memcpy(&bits, &v, 8);
  } else {
    uint32_t b32;
    std::memcpy(&b32, &v, 4);
    bits = b32;
  }
  const uint64_t mant = bits & ((uint64_t{1} << kMantBits) - 1);
  const int exp_field = static_cast<int>(bits >> kMantBits);
  const uint64_t m = exp_field == 0 ? mant : mant | (uint64_t{1} << kMantBits);
  const int e2 = (exp_field == 0 ? 1 : exp_field) - kBias;
  unsigned __int128 n;
  int t = k;
  if (k >= 0) {
    n = digits;
    for (int i = 0; i < k; ++i) {
      n *= 5;
      if (n >> 64) return false;  // larger than any midpoint's odd part
    }
  } else {
    if (-k > 27) return false;  // 5^-k cannot divide fewer than 20 digits
    uint64_t q = 1;
    for (int i = 0; i < -k; ++i) q *= 5;
    if (digits % q != 0) return false;
    n = digits / q;
  }
  if (n == 0) return false;
  while ((n & 1) == 0) {
    n >>= 1;
    ++t;
  }
  if (n == 2 * m + 1 && t == e2 - 1) return true;                        // the upper midpoint
  if (mant == 0 && exp_field > 1) return n == 4 * m - 1 && t == e2 - 2;  // a power of two: the lower gap is half
  return n == 2 * m - 1 && t == e2 - 1;
}

// The digits of a to_chars scientific string ("d.ddde±x") and its decimal
// exponent; trailing zeros dropped.
int SplitScientific(std::string_view s, char* digits, int* exp) {
  const size_t e = s.find('e');
  int nd = 0;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits[nd++] = c;
  }
  while (nd > 1 && digits[nd - 1] == '0') --nd;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+'), s.data() + s.size(), *exp);
  return nd;
}

uint64_t DigitsValue(const char* d, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v * 10 + static_cast<uint64_t>(d[i] - '0');
  return v;
}

// float4out/float8out with extra_float_digits > 0 (src/common/d2s.c,
// f2s.c): PostgreSQL's Ryu, built without STRICTLY_SHORTEST, never takes a
// decimal that lies exactly on a bound of the value's rounding interval,
// where std::to_chars (Ryu too) takes it for an even significand. So the
// digits are to_chars' shortest unless they are such a bound; then the
// fewest more digits, correctly rounded, that are strictly inside. Written
// in fixed notation when the decimal exponent is in [-4, max_fixed), as
// d.ddde±XX otherwise.
template <typename F>
void AppendFloat(std::string& out, F v, int max_fixed) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (v == 0) {
    out += std::signbit(v) ? "-0" : "0";
    return;
  }
  const bool neg = v < 0;
  const F a = neg ? -v : v;
  char buf[64], digits[40];
  auto r = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific);
  int exp = 0;
  int nd = SplitScientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf)), digits, &exp);
  if (AtBound(a, DigitsValue(digits, nd), exp - (nd - 1))) {
    constexpr int kMaxDigits = std::numeric_limits<F>::max_digits10;
    for (int p = nd + 1; p <= kMaxDigits; ++p) {
      r = std::to_chars(buf, buf + sizeof buf, a, std::chars_format::scientific, p - 1);
      char more[40];
      int mexp = 0;
      int mn = SplitScientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf)), more, &mexp);
      F back{};
      std::from_chars(buf, r.ptr, back, std::chars_format::scientific);
      if (back == a && !AtBound(a, DigitsValue(more, mn), mexp - (mn - 1))) {
        std::memcpy(digits, more, static_cast<size_t>(mn));
        nd = mn;
        exp = mexp;
        break;
      }
    }
  }
  if (neg) out.push_back('-');
  if (exp >= -4 && exp < max_fixed) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out.append(digits, static_cast<size_t>(nd));
    } else if (nd > exp + 1) {
      out.append(digits, static_cast<size_t>(exp + 1));
      out.push_back('.');
      out.append(digits + exp + 1, static_cast<size_t>(nd - exp - 1));
    } else {
      out.append(digits, static_cast<size_t>(nd));
      out.append(static_cast<size_t>(exp + 1 - nd), '0');
    }
    return;
  }
  out.push_back(digits[0]);
  if (nd > 1) {
    out.push_back('.');
    out.append(digits + 1, static_cast<size_t>(nd - 1));
  }
  out.push_back('e');
  out.push_back(exp < 0 ? '-' : '+');
  AppendPadded(out, static_cast<uint64_t>(exp < 0 ? -exp : exp), 2);
}

// numeric_out (get_str_from_var): base-10000 digits, the integer part
// without leading zeros, then exactly dscale fraction digits.
Status AppendNumeric(std::string& out, const char* v, int32_t len) {
  if (len < 8) return Bad("numeric of " + std::to_string(len) + " bytes");
  const int ndigits = U16(v);  // unsigned: a numeric may have 32768 base-10000 digits
  const int weight = I16(v + 2);
  const uint16_t sign = U16(v + 4);
  const int dscale = I16(v + 6);
  if (ndigits < 0 || len != 8 + 2 * ndigits) return Bad("numeric length does not match its digit count");
  switch (sign) {
    case 0xC000: out += "NaN"; return Status::Ok();
    case 0xD000: out += "Infinity"; return Status::Ok();
    case 0xF000: out += "-Infinity"; return Status::Ok();
    case 0x0000:
    case 0x4000: break;
    default: return Bad("numeric sign " + std::to_string(sign));
  }
  if (dscale < 0 || dscale > 0x3FFF) return Bad("numeric display scale " + std::to_string(dscale));
  auto digit = [&](int d) -> int { return d >= 0 && d < ndigits ? I16(v + 8 + 2 * d) : 0; };
  for (int d = 0; d < ndigits; ++d) {
    if (digit(d) < 0 || digit(d) > 9999) return Bad("numeric digit out of range");
  }
  if (sign == 0x4000) out.push_back('-');
  int d = 0;
  if (weight < 0) {
    d = weight + 1;
    out.push_back('0');
  } else {
    for (d = 0; d <= weight; ++d) {
      int dig = digit(d);
      if (d == 0) {
        AppendInt(out, dig);
      } else {
        AppendPadded(out, static_cast<uint64_t>(dig), 4);
      }
    }
  }
  if (dscale > 0) {
    out.push_back('.');
    const size_t end = out.size() + static_cast<size_t>(dscale);
    for (int i = 0; i < dscale; i += 4, ++d) AppendPadded(out, static_cast<uint64_t>(digit(d)), 4);
    out.resize(end);
  }
  return Status::Ok();
}

// j2date (src/backend/utils/adt/datetime.c): a Julian day to the
// proleptic Gregorian year (0 and below are BC), month and day.
void J2Date(int jd, int* year, int* month, int* day) {
  unsigned int julian = static_cast<unsigned int>(jd);
  julian += 32044;
  unsigned int quad = julian / 146097;
  unsigned int extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + extra / 146097;
  quad = julian / 1461;
  julian -= quad * 1461;
  int y = static_cast<int>(julian * 4 / 1461);
  julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
  y += static_cast<int>(quad * 4);
  *year = y - 4800;
  quad = julian * 2141 / 65536;
  *day = static_cast<int>(julian - 7834 * quad / 256);
  *month = static_cast<int>((quad + 10) % 12 + 1);
}

void AppendYmd(std::string& out, int year, int month, int day) {
  AppendPadded(out, static_cast<uint64_t>(year > 0 ? year : -(year - 1)), 4);
  out.push_back('-');
  AppendPadded(out, static_cast<uint64_t>(month), 2);
  out.push_back('-');
  AppendPadded(out, static_cast<uint64_t>(day), 2);
}

// AppendSeconds: two digits, then up to six fraction digits without
// trailing zeros.
void AppendSeconds(std::string& out, int64_t sec, int64_t usec) {
  AppendPadded(out, static_cast<uint64_t>(sec < 0 ? -sec : sec), 2);
  if (usec == 0) return;
  char frac[7];
  uint64_t u = static_cast<uint64_t>(usec < 0 ? -usec : usec);
  if (u >= 1000000) {  // cannot come from the server; printed whole as PostgreSQL would
    out.push_back('.');
    AppendInt(out, u);
    return;
  }
  for (int i = 5; i >= 0; --i, u /= 10) frac[i] = static_cast<char>('0' + u % 10);
  int n = 6;
  while (frac[n - 1] == '0') --n;
  out.push_back('.');
  out.append(frac, static_cast<size_t>(n));
}

// HH:MM:SS[.ffffff] of a time of day in microseconds (24:00:00 allowed).
void AppendTimeOfDay(std::string& out, int64_t t) {
  const int64_t hour = t / kUsecsPerHour;
  t -= hour * kUsecsPerHour;
  const int64_t min = t / kUsecsPerMinute;
  t -= min * kUsecsPerMinute;
  const int64_t sec = t / kUsecsPerSec;
  AppendPadded(out, static_cast<uint64_t>(hour), 2);
  out.push_back(':');
  AppendPadded(out, static_cast<uint64_t>(min), 2);
  out.push_back(':');
  AppendSeconds(out, sec, t - sec * kUsecsPerSec);
}

// EncodeTimezone: tz is seconds west of UTC, shown with the opposite sign.
void AppendZone(std::string& out, int32_t tz) {
  int sec = tz < 0 ? -tz : tz;
  int min = sec / 60;
  sec -= min * 60;
  const int hour = min / 60;
  min -= hour * 60;
  out.push_back(tz <= 0 ? '+' : '-');
  AppendPadded(out, static_cast<uint64_t>(hour), 2);
  if (sec != 0 || min != 0) {
    out.push_back(':');
    AppendPadded(out, static_cast<uint64_t>(min), 2);
  }
  if (sec != 0) {
    out.push_back(':');
    AppendPadded(out, static_cast<uint64_t>(sec), 2);
  }
}

Status AppendDate(std::string& out, int32_t date) {
  if (date == std::numeric_limits<int32_t>::min()) {
    out += "-infinity";
    return Status::Ok();
  }
  if (date == std::numeric_limits<int32_t>::max()) {
    out += "infinity";
    return Status::Ok();
  }
  const int64_t jd = int64_t{date} + kPostgresEpochJdate;
  if (jd < 0 || jd > std::numeric_limits<int32_t>::max()) return Bad("date out of range");
  int y, m, d;
  J2Date(static_cast<int>(jd), &y, &m, &d);
  AppendYmd(out, y, m, d);
  if (y <= 0) out += " BC";
  return Status::Ok();
}

// timestamp_out / timestamptz_out in UTC (timestamp2tm, EncodeDateTime).
Status AppendTimestamp(std::string& out, int64_t ts, bool with_zone) {
  if (ts == std::numeric_limits<int64_t>::min()) {
    out += "-infinity";
    return Status::Ok();
  }
  if (ts == std::numeric_limits<int64_t>::max()) {
    out += "infinity";
    return Status::Ok();
  }
  int64_t date = ts / kUsecsPerDay;
  int64_t time = ts - date * kUsecsPerDay;
  if (time < 0) {
    time += kUsecsPerDay;
    date -= 1;
  }
  date += kPostgresEpochJdate;
  if (date < 0 || date > std::numeric_limits<int32_t>::max()) return Bad("timestamp out of range");
  int y, m, d;
  J2Date(static_cast<int>(date), &y, &m, &d);
  AppendYmd(out, y, m, d);
  out.push_back(' ');
  AppendTimeOfDay(out, time);
  if (with_zone) out += "+00";
  if (y <= 0) out += " BC";
  return Status::Ok();
}

// interval_out with IntervalStyle postgres (interval2itm, EncodeInterval).
void AppendInterval(std::string& out, int64_t time, int32_t day, int32_t month) {
  if (time == std::numeric_limits<int64_t>::min() && day == std::numeric_limits<int32_t>::min() &&
      month == std::numeric_limits<int32_t>::min()) {
    out += "-infinity";  // PostgreSQL 17+
    return;
  }
  if (time == std::numeric_limits<int64_t>::max() && day == std::numeric_limits<int32_t>::max() &&
      month == std::numeric_limits<int32_t>::max()) {
    out += "infinity";
    return;
  }
  const int64_t year = month / 12, mon = month % 12, mday = day;
  const int64_t hour = time / kUsecsPerHour;
  time -= hour * kUsecsPerHour;
  const int64_t min = time / kUsecsPerMinute;
  time -= min * kUsecsPerMinute;
  const int64_t sec = time / kUsecsPerSec;
  const int64_t fsec = time - sec * kUsecsPerSec;
  bool is_zero = true, is_before = false;
  auto part = [&](int64_t value, const char* units) {
    if (value == 0) return;
    if (!is_zero) out.push_back(' ');
    if (is_before && value > 0) out.push_back('+');
    AppendInt(out, value);
    out.push_back(' ');
    out += units;
    if (value != 1) out.push_back('s');
    is_before = value < 0;
    is_zero = false;
  };
  part(year, "year");
  part(mon, "mon");
  part(mday, "day");
  if (is_zero || hour != 0 || min != 0 || sec != 0 || fsec != 0) {
    const bool minus = hour < 0 || min < 0 || sec < 0 || fsec < 0;
    if (!is_zero) out.push_back(' ');
    if (minus) {
      out.push_back('-');
    } else if (is_before) {
      out.push_back('+');
    }
    AppendPadded(out, static_cast<uint64_t>(hour < 0 ? -hour : hour), 2);
    out.push_back(':');
    AppendPadded(out, static_cast<uint64_t>(min < 0 ? -min : min), 2);
    out.push_back(':');
    AppendSeconds(out, sec, fsec);
  }
}

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(std::string& out, const char* p, size_t n) {
  const size_t at = out.size();
  out.resize(at + 2 * n);
  char* o = out.data() + at;
  for (size_t i = 0; i < n; ++i) {
    auto b = static_cast<unsigned char>(p[i]);
    o[2 * i] = kHex[b >> 4];
    o[2 * i + 1] = kHex[b & 15];
  }
}

void AppendUuid(std::string& out, const char* p) {
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    AppendHex(out, p + i, 1);
  }
}

// pg_inet_net_ntop (src/port/inet_net_ntop.c), then network_out's "/bits"
// for a cidr that lacks it.
Status AppendInet(std::string& out, const char* v, int32_t len, bool cidr) {
  if (len < 4) return Bad("inet of " + std::to_string(len) + " bytes");
  const auto* u = reinterpret_cast<const unsigned char*>(v);
  const int family = u[0], bits = u[1], nb = u[3];
  const size_t at = out.size();
  if (family == 2) {
    if (nb != 4 || len != 8 || bits > 32) return Bad("malformed IPv4 inet value");
    for (int i = 0; i < 4; ++i) {
      if (i > 0) out.push_back('.');
      AppendInt(out, static_cast<unsigned>(u[4 + i]));
    }
    if (bits != 32) {
      out.push_back('/');
      AppendInt(out, bits);
    }
  } else if (family == 3) {
    if (nb != 16 || len != 20 || bits > 128) return Bad("malformed IPv6 inet value");
    const unsigned char* src = u + 4;
    unsigned words[8];
    for (int i = 0; i < 8; ++i) words[i] = (unsigned{src[2 * i]} << 8) | src[2 * i + 1];
    int best_base = -1, best_len = 0, cur_base = -1, cur_len = 0;
    for (int i = 0; i < 8; ++i) {
      if (words[i] == 0) {
        if (cur_base == -1) {
          cur_base = i;
          cur_len = 1;
        } else {
          ++cur_len;
        }
      } else if (cur_base != -1) {
        if (best_base == -1 || cur_len > best_len) best_base = cur_base, best_len = cur_len;
        cur_base = -1;
      }
    }
    if (cur_base != -1 && (best_base == -1 || cur_len > best_len)) best_base = cur_base, best_len = cur_len;
    if (best_base != -1 && best_len < 2) best_base = -1;
    for (int i = 0; i < 8; ++i) {
      if (best_base != -1 && i >= best_base && i < best_base + best_len) {
        if (i == best_base) out.push_back(':');
        continue;
      }
      if (i != 0) out.push_back(':');
      if (i == 6 && best_base == 0 &&
          (best_len == 6 || (best_len == 7 && words[7] != 0x0001) || (best_len == 5 && words[5] == 0xffff))) {
        for (int b = 0; b < 4; ++b) {
          if (b > 0) out.push_back('.');
          AppendInt(out, static_cast<unsigned>(src[12 + b]));
        }
        break;
      }
      char buf[8];
      auto r = std::to_chars(buf, buf + sizeof buf, words[i], 16);
      out.append(buf, static_cast<size_t>(r.ptr - buf));
    }
    if (best_base != -1 && best_base + best_len == 8) out.push_back(':');
    if (bits != 128) {
      out.push_back('/');
      AppendInt(out, bits);
    }
  } else {
    return Bad("inet address family " + std::to_string(family));
  }
  if (cidr && out.find('/', at) == std::string::npos) {
    out.push_back('/');
    AppendInt(out, bits);
  }
  return Status::Ok();
}

Status WrongLength(const char* type, int32_t len) {
  return Bad(std::string(type) + " value of " + std::to_string(len) + " bytes");
}

Status AppendScalar(BinaryKind kind, const char* v, int32_t len, std::string& out) {
  auto need = [&](int32_t n, const char* type) -> Status { return len == n ? Status::Ok() : WrongLength(type, len); };
  switch (kind) {
    case BinaryKind::kBool:
      VOUCH_RETURN_IF_ERROR(need(1, "bool"));
      out.push_back(v[0] != 0 ? 't' : 'f');
      return Status::Ok();
    case BinaryKind::kInt2:
      VOUCH_RETURN_IF_ERROR(need(2, "int2"));
      AppendInt(out, I16(v));
      return Status::Ok();
    case BinaryKind::kInt4:
      VOUCH_RETURN_IF_ERROR(need(4, "int4"));
      AppendInt(out, I32(v));
      return Status::Ok();
    case BinaryKind::kInt8:
      VOUCH_RETURN_IF_ERROR(need(8, "int8"));
      AppendInt(out, I64(v));
      return Status::Ok();
    case BinaryKind::kOid:
      VOUCH_RETURN_IF_ERROR(need(4, "oid"));
      AppendInt(out, U32(v));
      return Status::Ok();
    case BinaryKind::kFloat4: {
      VOUCH_RETURN_IF_ERROR(need(4, "float4"));
      uint32_t bits = U32(v);
      float f;
      std::memcpy(&f, &bits, 4);
      AppendFloat(out, f, 6);
      return Status::Ok();
    }
    case BinaryKind::kFloat8: {
      VOUCH_RETURN_IF_ERROR(need(8, "float8"));
      uint64_t bits = U64(v);
      double f;
      std::memcpy(&f, &bits, 8);
      AppendFloat(out, f, 15);
      return Status::Ok();
    }
    case BinaryKind::kNumeric: return AppendNumeric(out, v, len);
    case BinaryKind::kText: out.append(v, static_cast<size_t>(len)); return Status::Ok();
    case BinaryKind::kChar: {
      VOUCH_RETURN_IF_ERROR(need(1, "\"char\""));
      auto c = static_cast<unsigned char>(v[0]);
      if (c & 0x80) {
        out.push_back('\\');
        out.push_back(static_cast<char>('0' + (c >> 6)));
        out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
        out.push_back(static_cast<char>('0' + (c & 7)));
      } else if (c != 0) {
        out.push_back(static_cast<char>(c));
      }
      return Status::Ok();
    }
    case BinaryKind::kBytea:
      out += "\\x";
      AppendHex(out, v, static_cast<size_t>(len));
      return Status::Ok();
    case BinaryKind::kDate: VOUCH_RETURN_IF_ERROR(need(4, "date")); return AppendDate(out, I32(v));
    case BinaryKind::kTime: {
      VOUCH_RETURN_IF_ERROR(need(8, "time"));
      int64_t t = I64(v);
      if (t < 0 || t > kUsecsPerDay) return Bad("time out of range");
      AppendTimeOfDay(out, t);
      return Status::Ok();
    }
    case BinaryKind::kTimeTz: {
      VOUCH_RETURN_IF_ERROR(need(12, "timetz"));
      int64_t t = I64(v);
      int32_t zone = I32(v + 8);
      if (t < 0 || t > kUsecsPerDay || zone < -15 * 3600 - 59 * 60 - 59 || zone > 15 * 3600 + 59 * 60 + 59) {
        return Bad("timetz out of range");
      }
      AppendTimeOfDay(out, t);
      AppendZone(out, zone);
      return Status::Ok();
    }
    case BinaryKind::kTimestamp:
      VOUCH_RETURN_IF_ERROR(need(8, "timestamp"));
      return AppendTimestamp(out, I64(v), false);
    case BinaryKind::kTimestampTz:
      VOUCH_RETURN_IF_ERROR(need(8, "timestamptz"));
      return AppendTimestamp(out, I64(v), true);
    case BinaryKind::kInterval:
      VOUCH_RETURN_IF_ERROR(need(16, "interval"));
      AppendInterval(out, I64(v), I32(v + 8), I32(v + 12));
      return Status::Ok();
    case BinaryKind::kUuid:
      VOUCH_RETURN_IF_ERROR(need(16, "uuid"));
      AppendUuid(out, v);
      return Status::Ok();
    case BinaryKind::kJsonb:
      if (len < 1 || v[0] != 1) return Bad("jsonb of an unknown version");
      out.append(v + 1, static_cast<size_t>(len - 1));
      return Status::Ok();
    case BinaryKind::kInet:
    case BinaryKind::kCidr: return AppendInet(out, v, len, kind == BinaryKind::kCidr);
    case BinaryKind::kMacaddr:
      VOUCH_RETURN_IF_ERROR(need(6, "macaddr"));
      for (int i = 0; i < 6; ++i) {
        if (i > 0) out.push_back(':');
        AppendHex(out, v + i, 1);
      }
      return Status::Ok();
    case BinaryKind::kArray: break;
  }
  return Bad("an array inside an array's element");
}

bool ArraySpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// One element of array_out: quoted when empty, "NULL" in any case, or
// holding braces, the delimiter, quotes, backslashes or white space; quotes
// and backslashes then escaped.
void AppendArrayElement(std::string& out, std::string_view e) {
  bool quote = e.empty() || (e.size() == 4 && (e[0] | 0x20) == 'n' && (e[1] | 0x20) == 'u' && (e[2] | 0x20) == 'l' &&
                             (e[3] | 0x20) == 'l');
  for (size_t i = 0; !quote && i < e.size(); ++i) {
    char c = e[i];
    quote = c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || ArraySpace(c);
  }
  if (!quote) {
    out += e;
    return;
  }
  out.push_back('"');
  for (char c : e) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

// array_out of array_send's form: ndim, has-nulls flag, element OID, each
// dimension's length and lower bound, then the elements (length -1: NULL).
Status AppendArray(const BinaryColumn& col, const char* v, int32_t len, std::string& out, std::string& element) {
  if (len < 12) return Bad("array header of " + std::to_string(len) + " bytes");
  const int32_t ndim = I32(v);
  const uint32_t elem_oid = U32(v + 8);
  if (ndim < 0 || ndim > 6) return Bad("array of " + std::to_string(ndim) + " dimensions");
  if (elem_oid != col.element_oid) {
    return Bad("array of element type " + std::to_string(elem_oid) + ", expected " + std::to_string(col.element_oid));
  }
  if (len < 12 + 8 * ndim) return Bad("array dimensions cut short");
  int32_t dims[6], lbs[6];
  uint64_t items = ndim > 0 ? 1 : 0;
  for (int d = 0; d < ndim; ++d) {
    dims[d] = I32(v + 12 + 8 * d);
    lbs[d] = I32(v + 16 + 8 * d);
    if (dims[d] < 0) return Bad("array dimension of negative length");
    items *= static_cast<uint64_t>(dims[d]);
    // Every element takes at least its 4-byte length.
    if (items > static_cast<uint64_t>(len) / 4 + 1) return Bad("array longer than its value");
  }
  if (items == 0) {
    out += "{}";
    return Status::Ok();
  }
  bool bounds = false;
  for (int d = 0; d < ndim; ++d) bounds |= lbs[d] != 1;
  if (bounds) {
    for (int d = 0; d < ndim; ++d) {
      out.push_back('[');
      AppendInt(out, lbs[d]);
      out.push_back(':');
      AppendInt(out, int64_t{lbs[d]} + dims[d] - 1);
      out.push_back(']');
    }
    out.push_back('=');
  }
  const char* p = v + 12 + 8 * ndim;
  const char* const end = v + len;
  int32_t index[6] = {0, 0, 0, 0, 0, 0};
  for (int d = 0; d < ndim; ++d) out.push_back('{');
  for (uint64_t k = 0; k < items; ++k) {
    if (k > 0) {
      // Close the dimensions that just wrapped, then open them again.
      int d = ndim - 1;
      int closed = 0;
      while (d > 0 && index[d] == dims[d]) {
        index[d] = 0;
        ++index[d - 1];
        ++closed;
        --d;
      }
      out.append(static_cast<size_t>(closed), '}');
      out.push_back(',');
      out.append(static_cast<size_t>(closed), '{');
    }
    if (end - p < 4) return Bad("array element cut short");
    const int32_t elen = I32(p);
    p += 4;
    if (elen == -1) {
      out += "NULL";
    } else {
      if (elen < 0 || end - p < elen) return Bad("array element cut short");
      element.clear();
      VOUCH_RETURN_IF_ERROR(AppendScalar(col.element, p, elen, element));
      AppendArrayElement(out, element);
      p += elen;
    }
    ++index[ndim - 1];
  }
  if (p != end) return Bad("array value longer than its elements");
  out.append(static_cast<size_t>(ndim), '}');
  return Status::Ok();
}

constexpr char kSignature[] = "PGCOPY\n\377\r\n\0";
constexpr size_t kSignatureLen = 11;

}  // namespace

std::optional<BinaryKind> BinaryKindOfType(uint32_t oid, int server_version_num) {
  switch (oid) {
    case kBoolOid: return BinaryKind::kBool;
    case kInt2Oid: return BinaryKind::kInt2;
    case kInt4Oid: return BinaryKind::kInt4;
    case kInt8Oid: return BinaryKind::kInt8;
    case kOidOid: return BinaryKind::kOid;
    case kFloat4Oid: return BinaryKind::kFloat4;
    case kFloat8Oid: return BinaryKind::kFloat8;
    case kNumericOid: return BinaryKind::kNumeric;
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kJsonOid: return BinaryKind::kText;
    case kCharOid:
      if (server_version_num >= 150000) return BinaryKind::kChar;
      return std::nullopt;
    case kByteaOid: return BinaryKind::kBytea;
    case kDateOid: return BinaryKind::kDate;
    case kTimeOid: return BinaryKind::kTime;
    case kTimeTzOid: return BinaryKind::kTimeTz;
    case kTimestampOid: return BinaryKind::kTimestamp;
    case kTimestampTzOid: return BinaryKind::kTimestampTz;
    case kIntervalOid: return BinaryKind::kInterval;
    case kUuidOid: return BinaryKind::kUuid;
    case kJsonbOid: return BinaryKind::kJsonb;
    case kInetOid: return BinaryKind::kInet;
    case kCidrOid: return BinaryKind::kCidr;
    case kMacaddrOid: return BinaryKind::kMacaddr;
    default: return std::nullopt;
  }
}

Status BinaryValueText(const BinaryColumn& column, const char* v, int32_t len, std::string& out) {
  if (column.kind == BinaryKind::kArray) {
    std::string element;
    return AppendArray(column, v, len, out, element);
  }
  return AppendScalar(column.kind, v, len, out);
}

BinaryCopyDecoder::BinaryCopyDecoder(std::vector<BinaryColumn> columns, bool keep_tuples)
    : columns_(std::move(columns)), keep_tuples_(keep_tuples) {}
BinaryCopyDecoder::~BinaryCopyDecoder() = default;

Status BinaryCopyDecoder::Feed(std::string_view bytes, std::string& out) {
  if (pending_.empty()) {
    size_t used = 0;
    Status st = Parse(bytes.data(), bytes.size(), &used, out);
    if (!st.ok()) return st;
    pending_.assign(bytes.data() + used, bytes.size() - used);
    return Status::Ok();
  }
  pending_.append(bytes.data(), bytes.size());
  size_t used = 0;
  Status st = Parse(pending_.data(), pending_.size(), &used, out);
  if (!st.ok()) return st;
  pending_.erase(0, used);
  return Status::Ok();
}

Status BinaryCopyDecoder::Finish() const {
  if (!header_done_) return Bad("the stream ended before its header");
  if (!ended_) return Bad("the stream ended after row " + std::to_string(rows_) + " without its trailer");
  return Status::Ok();
}

Status BinaryCopyDecoder::Parse(const char* p, size_t n, size_t* used, std::string& out) {
  size_t at = 0;
  if (!header_done_) {
    if (n < kSignatureLen + 8) return Status::Ok();
    if (std::memcmp(p, kSignature, kSignatureLen) != 0) return Bad("the stream does not start with PGCOPY's signature");
    const uint32_t ext = U32(p + kSignatureLen + 4);
    if (ext > (1u << 20)) return Bad("header extension of " + std::to_string(ext) + " bytes");
    if (n < kSignatureLen + 8 + ext) return Status::Ok();
    if (U32(p + kSignatureLen) & 0x10000) return Bad("the stream holds OIDs");
    at = kSignatureLen + 8 + ext;
    header_done_ = true;
  }
  while (at < n) {
    if (ended_) return Bad("data after the trailer");
    if (n - at < 2) break;
    const int16_t fields = I16(p + at);
    if (fields == -1) {
      ended_ = true;
      at += 2;
      continue;
    }
    if (static_cast<size_t>(fields) != columns_.size()) {
      return Bad("row " + std::to_string(rows_ + 1) + " has " + std::to_string(fields) + " fields, expected " +
                 std::to_string(columns_.size()));
    }
    // The tuple must be whole before it is converted.
    size_t q = at + 2;
    bool whole = true;
    for (int16_t f = 0; f < fields; ++f) {
      if (n - q < 4) {
        whole = false;
        break;
      }
      const int32_t len = I32(p + q);
      q += 4;
      if (len == -1) continue;
      if (len < 0) return Bad("row " + std::to_string(rows_ + 1) + ": field of length " + std::to_string(len));
      if (n - q < static_cast<size_t>(len)) {
        whole = false;
        break;
      }
      q += static_cast<size_t>(len);
    }
    if (!whole) break;
    if (keep_tuples_) {
      out.append(p + at, q - at);
    } else {
      VOUCH_RETURN_IF_ERROR(ConvertRow(p + at + 2, out));
    }
    ++rows_;
    at = q;
  }
  *used = at;
  return Status::Ok();
}

Status BinaryCopyDecoder::ConvertRow(const char* p, std::string& out) {
  const size_t row_start = out.size();  // a row that fails leaves nothing behind
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c > 0) out.push_back('\t');
    const int32_t len = I32(p);
    p += 4;
    if (len == -1) {
      out += "\\N";
      continue;
    }
    const BinaryColumn& col = columns_[c];
    Status st;
    switch (col.kind) {
      case BinaryKind::kText:  // the common case: escaped straight from the message
        AppendCopyEscaped(std::string_view(p, static_cast<size_t>(len)), out);
        break;
      case BinaryKind::kBytea:  // "\x..." with COPY's backslash doubled
        out += "\\\\x";
        AppendHex(out, p, static_cast<size_t>(len));
        break;
      case BinaryKind::kJsonb:
        if (len < 1 || p[0] != 1) {
          st = Bad("jsonb of an unknown version");
        } else {
          AppendCopyEscaped(std::string_view(p + 1, static_cast<size_t>(len - 1)), out);
        }
        break;
      case BinaryKind::kChar:
      case BinaryKind::kArray:
        scratch_.clear();
        st = col.kind == BinaryKind::kArray ? AppendArray(col, p, len, scratch_, scratch2_)
                                            : AppendScalar(col.kind, p, len, scratch_);
        if (st.ok()) AppendCopyEscaped(scratch_, out);
        break;
      default:  // numbers, dates and times, addresses: nothing to escape
        st = AppendScalar(col.kind, p, len, out);
        break;
    }
    if (!st.ok()) {
      out.resize(row_start);
      return st.WithContext("row " + std::to_string(rows_ + 1) + ", column " + std::to_string(c + 1));
    }
    p += len;
  }
  out.push_back('\n');
  return Status::Ok();
}

Status ConvertBinaryChunk(RowChunk& chunk, std::string& scratch) {
  if (chunk.binary_columns == nullptr) return Status::Ok();
  // The tuples were framed by the reader's decoder: a field count that
  // matches and lengths within the chunk. A decoder without a header reads
  // them as they are.
  BinaryCopyDecoder dec(*chunk.binary_columns);
  dec.header_done_ = true;
  scratch.clear();
  size_t used = 0;
  VOUCH_RETURN_IF_ERROR(dec.Parse(chunk.data.data(), chunk.size, &used, scratch));
  if (used != chunk.size) return Bad("a chunk ends inside a tuple");
  if (chunk.data.size() < scratch.size()) chunk.data.resize(scratch.size());
  std::memcpy(chunk.data.data(), scratch.data(), scratch.size());
  chunk.size = scratch.size();
  chunk.binary_columns = nullptr;
  return Status::Ok();
}

}  // namespace vouch
