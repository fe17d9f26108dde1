#include "vouch/chain/link_verifier.h"

#include <openssl/evp.h>
// SHA-256/512 through the low-level API for the per-link digests: OpenSSL
// 3's EVP_DigestInit_ex2 re-creates the digest state (a malloc and provider
// lookups) for every link, which costs more than hashing a ~300-byte link
// with SHA-NI (measured 1.3-1.7x per link). Deprecated in 3.0, present in
// every 3.x; EVP still serves the genesis and other algorithms.
#include <openssl/sha.h>
#include <xxhash.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "digest_text.h"
#include "vouch/base/civil_time.h"
#include "vouch/base/copy_text.h"

namespace vouch {
namespace {

// Fingerprint seeds: a stored value that does not decode is fingerprinted
// from its text with kTextSeed, so it can equal another undecodable value
// (a genesis such as "GENESIS") but not a decoded digest; NULL has its own.
constexpr uint64_t kTextSeed = 0x6a09e667f3bcc908ull;
constexpr uint64_t kNullFingerprint = 0xbb67ae8584caa73bull;

// Writes v as exactly `width` digits.
char* Put(char* p, int v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

bool ParseInt64(std::string_view s, int64_t* v) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *v);
  return ec == std::errc() && p == end && !s.empty();
}

}  // namespace

bool AppendRenderedTimestamp(std::string_view s, TimestampRendering r, std::string& out) {
  if (r == TimestampRendering::kAsStored) {
    out.append(s);
    return true;
  }
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || !ParseDigits(s, 0, 4, &y) || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) || s[7] != '-' ||
      !ParseDigits(s, 8, 2, &d) || (s[10] != ' ' && s[10] != 'T') || !ParseDigits(s, 11, 2, &h) || s[13] != ':' ||
      !ParseDigits(s, 14, 2, &mi) || s[16] != ':' || !ParseDigits(s, 17, 2, &sec)) {
    return false;
  }
  size_t p = 19;
  int micros = 0;
  if (p < s.size() && s[p] == '.') {
    int n = 0;
    for (++p; p < s.size() && s[p] >= '0' && s[p] <= '9'; ++p, ++n) {
      if (n == 6) return false;
      micros = micros * 10 + (s[p] - '0');
    }
    if (n == 0) return false;
    for (; n < 6; ++n) micros *= 10;
  }
  int offset = 0;  // seconds east of UTC
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '+' ? 1 : -1, oh = 0, om = 0, os = 0;
    if (!ParseDigits(s, p + 1, 2, &oh)) return false;
    p += 3;
    if (p < s.size() && s[p] == ':') {
      if (!ParseDigits(s, p + 1, 2, &om)) return false;
      p += 3;
      if (p < s.size() && s[p] == ':') {
        if (!ParseDigits(s, p + 1, 2, &os)) return false;
        p += 3;
      }
    }
    if (oh > 15 || om > 59 || os > 59) return false;
    offset = sign * (oh * 3600 + om * 60 + os);
  }
  // Anything left (" BC"), "infinity", or a field out of range: not renderable.
  if (p != s.size() || y < 1 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) {
    return false;
  }
  if (offset != 0) {
    int64_t t = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    const int64_t rem = FloorMod(t, 86400);
    const CivilDate c = CivilFromDays(FloorDiv(t, 86400));
    if (c.year < 1 || c.year > 9999) return false;
    y = static_cast<int>(c.year);
    mo = c.month;
    d = c.day;
    h = static_cast<int>(rem / 3600);
    mi = static_cast<int>(rem / 60 % 60);
    sec = static_cast<int>(rem % 60);
  }
  char buf[32];
  char* q = Put(buf, y, 4);
  *q++ = '-';
  q = Put(q, mo, 2);
  *q++ = '-';
  q = Put(q, d, 2);
  *q++ = 'T';
  q = Put(q, h, 2);
  *q++ = ':';
  q = Put(q, mi, 2);
  *q++ = ':';
  q = Put(q, sec, 2);
  if (r == TimestampRendering::kIsoUtcMicros) {
    *q++ = '.';
    q = Put(q, micros, 6);
  } else if (r == TimestampRendering::kIsoUtcMillis) {
    *q++ = '.';
    q = Put(q, micros / 1000, 3);
  }
  *q++ = 'Z';
  out.append(buf, static_cast<size_t>(q - buf));
  return true;
}

void LinkVerifier::Scratch::MdCtxFree::operator()(evp_md_ctx_st* c) const { EVP_MD_CTX_free(c); }
LinkVerifier::Scratch::Scratch() = default;
LinkVerifier::Scratch::~Scratch() = default;
LinkVerifier::Scratch::Scratch(Scratch&&) noexcept = default;
LinkVerifier::Scratch& LinkVerifier::Scratch::operator=(Scratch&&) noexcept = default;

Result<LinkVerifier> LinkVerifier::Make(const ChainSpec& spec, const std::vector<std::string>& columns,
                                        const std::vector<bool>& is_timestamp) {
  VOUCH_RETURN_IF_ERROR(ValidateChainSpec(spec));
  if (columns.size() != is_timestamp.size()) {
    return InvalidArgument("chain " + spec.table + ": " + std::to_string(columns.size()) + " columns but " +
                           std::to_string(is_timestamp.size()) + " timestamp flags");
  }
  auto find = [&](const std::string& name, const char* role, size_t* index) -> Status {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) {
        *index = i;
        return Status::Ok();
      }
    }
    std::string list;
    for (const std::string& c : columns) list += (list.empty() ? "" : ", ") + c;
    return InvalidArgument("chain " + spec.table + ": " + role + " column \"" + name +
                           "\" is not a column of the table (" + list + ")");
  };
  LinkVerifier v;
  v.spec_ = spec;
  v.ncols_ = columns.size();
  v.digest_size_ = ChainDigestSize(spec.algorithm);
  VOUCH_RETURN_IF_ERROR(find(spec.seq_column, "seq", &v.seq_col_));
  VOUCH_RETURN_IF_ERROR(find(spec.prev_column, "prev", &v.prev_col_));
  VOUCH_RETURN_IF_ERROR(find(spec.hash_column, "hash", &v.hash_col_));
  for (const std::string& f : spec.fields) {
    Field field{};
    VOUCH_RETURN_IF_ERROR(find(f, "hashed", &field.column));
    field.timestamp = is_timestamp[field.column];
    v.fields_.push_back(field);
  }
  if (spec.algorithm != ChainAlgorithm::kXxh3_128) {
    const char* name = spec.algorithm == ChainAlgorithm::kSha256 ? "SHA256" : "SHA512";
    EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
    if (md == nullptr) return Unsupported(std::string("OpenSSL provides no ") + name);
    v.md_ = std::shared_ptr<evp_md_st>(md, EVP_MD_free);
  }
  v.has_genesis_ = !spec.genesis.empty();
  if (v.has_genesis_) {
    std::string bytes;
    v.Fingerprint(spec.genesis, bytes, &v.genesis_fp_);
  }
  return v;
}

bool LinkVerifier::Fingerprint(std::string_view stored, std::string& bytes, uint64_t* fp) const {
  if (chain_internal::DecodeDigestText(spec_.encoding, stored, bytes)) {
    *fp = XXH3_64bits(bytes.data(), bytes.size());
    return true;
  }
  *fp = XXH3_64bits_withSeed(stored.data(), stored.size(), kTextSeed);
  return false;
}

std::string_view LinkVerifier::Unescaped(std::string_view raw, std::string& buf) {
  if (memchr(raw.data(), '\\', raw.size()) == nullptr) return raw;
  CopyUnescape(raw, buf);
  return buf;
}

LinkVerifier::Outcome LinkVerifier::Verify(std::string_view row, Scratch& s, ChainLink* link) const {
  // A row ending in a dangling backslash is verified as it decodes; the
  // damage shows as a failed link.
  (void)SplitCopyRow(row, s.fields);
  if (s.fields.size() != ncols_) return kFieldCount;
  // Most rows have no escape at all: one scan saves one per field.
  const bool escaped = memchr(row.data(), '\\', row.size()) != nullptr;
  auto unescaped = [&](std::string_view raw) { return escaped ? Unescaped(raw, s.text) : raw; };
  int64_t seq;
  if (!ParseInt64(s.fields[seq_col_], &seq)) return kBadSeq;
  link->seq = seq;
  link->link_ok = false;

  std::string_view prev = s.fields[prev_col_];
  if (IsCopyNull(prev)) {
    link->prev_fp = kNullFingerprint;
  } else {
    Fingerprint(unescaped(prev), s.bytes, &link->prev_fp);
  }
  std::string_view hash = s.fields[hash_col_];
  if (IsCopyNull(hash)) {
    link->hash_fp = kNullFingerprint;
    return kNullHash;
  }
  // From here on s.bytes holds the stored digest.
  if (!Fingerprint(unescaped(hash), s.bytes, &link->hash_fp) || s.bytes.size() != digest_size_) {
    return kBadHashEncoding;
  }

  s.input.clear();
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i > 0) s.input += spec_.separator;
    std::string_view raw = s.fields[fields_[i].column];
    if (IsCopyNull(raw)) {
      s.input += spec_.null_as;
    } else if (fields_[i].timestamp && spec_.timestamps != TimestampRendering::kAsStored) {
      if (!AppendRenderedTimestamp(unescaped(raw), spec_.timestamps, s.input)) return kBadTimestamp;
    } else if (escaped) {
      AppendCopyUnescaped(raw, s.input);
    } else {
      s.input += raw;
    }
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  size_t len;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (spec_.algorithm == ChainAlgorithm::kSha256) {
    SHA256_CTX c;
    if (SHA256_Init(&c) != 1 || SHA256_Update(&c, s.input.data(), s.input.size()) != 1 ||
        SHA256_Final(digest, &c) != 1) {
      std::abort();
    }
    len = SHA256_DIGEST_LENGTH;
  } else if (spec_.algorithm == ChainAlgorithm::kSha512) {
    SHA512_CTX c;
    if (SHA512_Init(&c) != 1 || SHA512_Update(&c, s.input.data(), s.input.size()) != 1 ||
        SHA512_Final(digest, &c) != 1) {
      std::abort();
    }
    len = SHA512_DIGEST_LENGTH;
#pragma GCC diagnostic pop
  } else if (md_ != nullptr) {
    if (s.md == nullptr) {
      s.md.reset(EVP_MD_CTX_new());
      if (s.md == nullptr) std::abort();
    }
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(s.md.get(), md_.get(), nullptr) != 1 ||
        EVP_DigestUpdate(s.md.get(), s.input.data(), s.input.size()) != 1 ||
        EVP_DigestFinal_ex(s.md.get(), digest, &n) != 1) {
      std::abort();  // only on memory exhaustion or a broken provider, as in EvpHash
    }
    len = n;
  } else {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(s.input.data(), s.input.size()));
    static_assert(sizeof c.digest == 16);
    memcpy(digest, c.digest, sizeof c.digest);
    len = sizeof c.digest;
  }
  link->link_ok = len == s.bytes.size() && memcmp(digest, s.bytes.data(), len) == 0;
  return kOk;
}

std::string_view LinkVerifier::StoredHash(std::string_view row, Scratch& s) const {
  (void)SplitCopyRow(row, s.fields);
  if (s.fields.size() != ncols_ || IsCopyNull(s.fields[hash_col_])) return {};
  return Unescaped(s.fields[hash_col_], s.text);
}

}  // namespace vouch
