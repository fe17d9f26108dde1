// Tests of the chain module. Expected digests are computed independently of
// the code under test: OpenSSL's one-shot SHA256()/SHA512(), xxHash's
// XXH3_128bits, EVP_EncodeBlock for base64, libc's gmtime_r for timestamp
// text, and the sha256sum tool for one pinned input. Gap and continuity
// results are checked against std::set / std::map reference implementations.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <new>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "vouch/base/copy_text.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/chain/continuity.h"
#include "vouch/chain/link_verifier.h"

// Counts operator new calls made by the current thread while t_counting is
// set: the "no allocation per row" contract of LinkVerifier::Verify.
namespace {
std::atomic<long> g_allocations{0};
thread_local bool t_counting = false;
}  // namespace
// GCC 12 sees malloc/free through the inlined replacements and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  if (t_counting) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace vouch {
namespace {

// --- independent helpers -------------------------------------------------------

std::string Hex(const unsigned char* p, size_t n, bool upper = false) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return Hex(d, sizeof d);
}

// Raw digest bytes of `s` under `a`, computed without the chain module.
std::string DigestBytes(ChainAlgorithm a, const std::string& s) {
  const auto* in = reinterpret_cast<const unsigned char*>(s.data());
  if (a == ChainAlgorithm::kSha256) {
    unsigned char d[32];
    SHA256(in, s.size(), d);
    return std::string(reinterpret_cast<char*>(d), sizeof d);
  }
  if (a == ChainAlgorithm::kSha512) {
    unsigned char d[64];
    SHA512(in, s.size(), d);
    return std::string(reinterpret_cast<char*>(d), sizeof d);
  }
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(s.data(), s.size()));
  return std::string(reinterpret_cast<char*>(c.digest), sizeof c.digest);
}

// The value a column of encoding `e` stores (before COPY escaping). Base64
// gets a line break every 76 characters, as PostgreSQL's encode() writes it.
std::string StoredText(ChainEncoding e, const std::string& bytes, bool upper = false) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (e == ChainEncoding::kHex) return Hex(p, bytes.size(), upper);
  if (e == ChainEncoding::kBytea) return "\\x" + Hex(p, bytes.size());
  std::string b64(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), p, static_cast<int>(bytes.size()));
  b64.resize(static_cast<size_t>(n));
  for (size_t i = 76; i < b64.size(); i += 77) b64.insert(i, "\n");
  return b64;
}

// COPY text escaping of a value, as COPY TO writes it.
std::string CopyEscape(const std::string& v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// A timestamptz as PostgreSQL's COPY TO writes it with TimeZone=UTC: the
// fraction loses its trailing zeros, and disappears when zero.
std::string PgTimestamptz(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  int frac = static_cast<int>(micros % 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (frac != 0) {
    snprintf(buf, sizeof buf, ".%06d", frac);
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "+00";
}

// The chain's rendering of the same instant, as vouch-gen writes it.
std::string IsoMicros(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros % 1000000));
  return buf;
}

// --- a drill-shaped audit_log, built as bench/gen/vouch_gen.cc builds it ----

const std::vector<std::string> kColumns = {"seq", "ts", "actor", "action", "payload", "prev_hash", "hash"};
const std::vector<bool> kIsTimestamp = {false, true, false, false, false, false, false};
constexpr int64_t kStartSeconds = 1757924530;  // 2025-09-15 08:22:10 UTC

struct AuditRow {
  int64_t seq;
  int64_t micros;
  std::string actor, action, payload, prev, hash;
};

// Links rows[i] to rows[i-1] (hash = hex(sha256(prev|seq|ts|actor|action|payload))).
void Relink(std::vector<AuditRow>& rows, size_t from, const std::string& genesis) {
  for (size_t i = from; i < rows.size(); ++i) {
    AuditRow& r = rows[i];
    r.prev = i == 0 ? genesis : rows[i - 1].hash;
    r.hash = Sha256Hex(r.prev + "|" + std::to_string(r.seq) + "|" + IsoMicros(r.micros) + "|" + r.actor + "|" +
                       r.action + "|" + r.payload);
  }
}

std::vector<AuditRow> MakeAuditChain(const std::vector<int64_t>& seqs) {
  static const char* kActions[] = {"login", "logout", "create", "update", "delete",
                                   "grant", "revoke", "export", "import", "approve"};
  // Fractions that PostgreSQL prints shortened: none, .5, .12345, .123456, .1, .000007
  static const int kFractions[] = {0, 500000, 123450, 123456, 100000, 7, 999999};
  std::mt19937_64 rng(1234);
  std::vector<AuditRow> rows;
  for (int64_t seq : seqs) {
    AuditRow r;
    r.seq = seq;
    r.micros = (kStartSeconds + (seq < 0 ? -seq : seq) % 1000000 * 37) * 1000000 + kFractions[(seq % 7 + 7) % 7];
    char actor[32];
    snprintf(actor, sizeof actor, "agent-%05d", static_cast<int>(1 + rng() % 1247));
    r.actor = actor;
    r.action = kActions[rng() % 10];
    r.payload = "{\"object\": " + std::to_string(rng() % 1000000) + ", \"detail\": \"" +
                (rng() % 2 ? "ok" : "changed") + "\", \"ip\": \"10." + std::to_string(rng() % 256) + "." +
                std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "\"}";
    if (seq % 97 == 0) r.payload += "\ttab\\back\nline\r";  // bytes COPY must escape
    rows.push_back(std::move(r));
  }
  Relink(rows, 0, std::string(64, '0'));
  return rows;
}

std::vector<AuditRow> MakeAuditChain(int64_t n) {
  std::vector<int64_t> seqs;
  for (int64_t s = 1; s <= n; ++s) seqs.push_back(s);
  return MakeAuditChain(seqs);
}

std::string CopyRow(const AuditRow& r) {
  return std::to_string(r.seq) + "\t" + PgTimestamptz(r.micros) + "\t" + CopyEscape(r.actor) + "\t" +
         CopyEscape(r.action) + "\t" + CopyEscape(r.payload) + "\t" + CopyEscape(r.prev) + "\t" + CopyEscape(r.hash);
}

LinkVerifier MakeVerifier(const ChainSpec& spec = ChainSpec()) {
  Result<LinkVerifier> v = LinkVerifier::Make(spec, kColumns, kIsTimestamp);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return std::move(v).value();
}

struct Checked {
  ChainContinuity::Result chain;
  SeqGapTracker::Result gaps;
  std::vector<int64_t> not_ok;  // rows whose Verify outcome was not kOk
};

// Verifies COPY rows in a shuffled order, split across `parts` partial
// continuity/gap objects that are merged at the end, as parallel workers do.
Checked CheckRows(const LinkVerifier& v, std::vector<std::string> rows, unsigned seed = 1, size_t parts = 3) {
  std::mt19937_64 rng(seed);
  std::shuffle(rows.begin(), rows.end(), rng);
  std::vector<ChainContinuity> chains;
  std::vector<SeqGapTracker> gaps(parts);
  for (size_t i = 0; i < parts; ++i) chains.emplace_back(v.HasGenesis(), v.GenesisFingerprint());
  LinkVerifier::Scratch scratch;
  Checked out;
  for (size_t i = 0; i < rows.size(); ++i) {
    size_t part = i % parts;
    ChainLink link;
    LinkVerifier::Outcome o = v.Verify(rows[i], scratch, &link);
    if (o == LinkVerifier::kFieldCount || o == LinkVerifier::kBadSeq) {
      out.not_ok.push_back(-1);
      continue;
    }
    if (o != LinkVerifier::kOk) out.not_ok.push_back(link.seq);
    chains[part].Add(link);
    gaps[part].Add(link.seq);
    chains[part].NoteHead(link.seq, v.StoredHash(rows[i], scratch));
  }
  for (size_t i = 1; i < parts; ++i) {
    chains[0].Merge(std::move(chains[i]));
    gaps[0].Merge(std::move(gaps[i]));
  }
  out.chain = chains[0].Finish();
  out.gaps = gaps[0].Finish(GapOptions());
  return out;
}

std::vector<std::string> CopyRows(const std::vector<AuditRow>& rows) {
  std::vector<std::string> out;
  for (const AuditRow& r : rows) out.push_back(CopyRow(r));
  return out;
}

// --- COPY text ------------------------------------------------------------------

TEST(CopyText, UnescapesAsPostgresReads) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"plain text", "plain text"},
      {"a\\tb\\nc\\rd", "a\tb\nc\rd"},
      {"\\b\\f\\v", "\b\f\v"},
      {"back\\\\slash", "back\\slash"},
      {"\\101\\102", "AB"},
      {"\\1", std::string(1, '\1')},
      {"\\0123", "\n3"},  // at most three octal digits
      {"\\777", "\xff"},  // value mod 256
      {"\\18", std::string("\1") + "8"},
      {"\\x41\\x6a", "Aj"},
      {"\\x4", "\x04"},
      {"\\x4g", "\x04g"},
      {"\\xg", "xg"},  // \x without a hex digit is x
      {"\\q\\.", "q."},
      {"a\\Nb", "aNb"},  // \N inside a value is just N
      {"dangling\\", "dangling"},
  };
  std::string out = "old contents";
  for (const auto& [in, want] : cases) {
    CopyUnescape(in, out);
    EXPECT_EQ(out, want) << "input " << in;
  }
  out = "x";
  AppendCopyUnescaped("\\ty", out);
  EXPECT_EQ(out, "x\ty");
  EXPECT_TRUE(IsCopyNull("\\N"));
  EXPECT_FALSE(IsCopyNull("\\\\N"));
  EXPECT_FALSE(IsCopyNull("N"));
  EXPECT_FALSE(IsCopyNull(""));
  EXPECT_FALSE(IsCopyNull("\\Nx"));
}

TEST(CopyText, SplitsOnUnescapedTabs) {
  std::vector<std::string_view> f;
  EXPECT_TRUE(SplitCopyRow("a\tb\t\tc", f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"a", "b", "", "c"}));
  EXPECT_TRUE(SplitCopyRow("", f));
  EXPECT_EQ(f, (std::vector<std::string_view>{""}));
  EXPECT_TRUE(SplitCopyRow("\t", f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"", ""}));
  EXPECT_TRUE(SplitCopyRow("a\\\tb", f));  // backslash-TAB is a data tab
  EXPECT_EQ(f, (std::vector<std::string_view>{"a\\\tb"}));
  EXPECT_TRUE(SplitCopyRow("a\\\\\tb", f));  // an escaped backslash, then a separator
  EXPECT_EQ(f, (std::vector<std::string_view>{"a\\\\", "b"}));
  EXPECT_TRUE(SplitCopyRow("\\N\tx\\\\", f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"\\N", "x\\\\"}));
  EXPECT_FALSE(SplitCopyRow("a\tb\\", f));  // dangling backslash
  EXPECT_EQ(f.size(), 2u);

  f.clear();
  f.reserve(16);
  const auto* data = f.data();
  EXPECT_TRUE(SplitCopyRow("1\t2\t3\t4\t5", f));
  EXPECT_EQ(f.size(), 5u);
  EXPECT_EQ(f.data(), data);  // capacity reused
}

// --- timestamps -----------------------------------------------------------------

std::string Render(std::string_view in, TimestampRendering r = TimestampRendering::kIsoUtcMicros) {
  std::string out = "<";
  if (!AppendRenderedTimestamp(in, r, out)) return "error";
  return out.substr(1);
}

TEST(Timestamp, RendersPostgresTextInUtc) {
  EXPECT_EQ(Render("2025-09-15 08:22:10.5+00"), "2025-09-15T08:22:10.500000Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10+00"), "2025-09-15T08:22:10.000000Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10.123456+00"), "2025-09-15T08:22:10.123456Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10.000007+00"), "2025-09-15T08:22:10.000007Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10.5"), "2025-09-15T08:22:10.500000Z");  // timestamp without tz
  EXPECT_EQ(Render("2025-09-15T08:22:10.5Z"), "2025-09-15T08:22:10.500000Z");
  // Other zones are converted, across day, month and year boundaries.
  EXPECT_EQ(Render("2025-09-15 13:52:10.5+05:30"), "2025-09-15T08:22:10.500000Z");
  EXPECT_EQ(Render("2025-09-15 05:22:10-03"), "2025-09-15T08:22:10.000000Z");
  EXPECT_EQ(Render("2024-12-31 22:00:00-03"), "2025-01-01T01:00:00.000000Z");
  EXPECT_EQ(Render("2025-01-01 01:00:00+05:30"), "2024-12-31T19:30:00.000000Z");
  EXPECT_EQ(Render("2024-03-01 00:30:00+01"), "2024-02-29T23:30:00.000000Z");
  EXPECT_EQ(Render("1900-01-01 00:00:00+00:19:32"), "1899-12-31T23:40:28.000000Z");
  EXPECT_EQ(Render("0001-01-01 00:00:00+00"), "0001-01-01T00:00:00.000000Z");
  // Coarser renderings truncate.
  EXPECT_EQ(Render("2025-09-15 08:22:10.123456+00", TimestampRendering::kIsoUtcMillis), "2025-09-15T08:22:10.123Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10.5+00", TimestampRendering::kIsoUtcMillis), "2025-09-15T08:22:10.500Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10.999+00", TimestampRendering::kIsoUtcSeconds), "2025-09-15T08:22:10Z");
  EXPECT_EQ(Render("2025-09-15 08:22:10.5-07", TimestampRendering::kAsStored), "2025-09-15 08:22:10.5-07");
  // Not renderable.
  for (const char* bad :
       {"infinity", "-infinity", "2025-09-15 08:22:10 BC", "2025-09-15 08:22:10+00 BC", "0001-01-01 00:00:00+01",
        "9999-12-31 23:00:00-02", "10000-01-01 00:00:00+00", "0000-01-01 00:00:00+00", "2025-02-29 00:00:00+00",
        "2025-13-01 00:00:00+00", "2025-09-15 24:00:00+00", "2025-09-15 08:22:10.+00", "2025-09-15 08:22:10.1234567+00",
        "2025-09-15 08:22:10+16", "2025-09-15 08:22", "2025-09-15 08:22:10+00x", ""}) {
    EXPECT_EQ(Render(bad), "error") << bad;
  }
}

// --- specs ----------------------------------------------------------------------

TEST(ChainFlag, DefaultsAndFullForm) {
  Result<ChainSpec> d = ParseChainFlag("audit_log");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ChainSpec def;
  EXPECT_EQ(d->table, "public.audit_log");
  EXPECT_EQ(d->fields, def.fields);
  EXPECT_EQ(d->separator, "|");
  EXPECT_EQ(d->genesis, std::string(64, '0'));
  EXPECT_EQ(d->algorithm, ChainAlgorithm::kSha256);
  EXPECT_EQ(d->encoding, ChainEncoding::kHex);
  EXPECT_EQ(d->timestamps, TimestampRendering::kIsoUtcMicros);

  Result<ChainSpec> f = ParseChainFlag(
      "ops.events:seq=id,prev=p,hash=h,fields=p|id|at|body,sep=',',algo=xxh3-128,enc=base64,ts=iso-millis,"
      "genesis=GENESIS,null=NULL");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->table, "ops.events");
  EXPECT_EQ(f->seq_column, "id");
  EXPECT_EQ(f->prev_column, "p");
  EXPECT_EQ(f->hash_column, "h");
  EXPECT_EQ(f->fields, (std::vector<std::string>{"p", "id", "at", "body"}));
  EXPECT_EQ(f->separator, ",");
  EXPECT_EQ(f->algorithm, ChainAlgorithm::kXxh3_128);
  EXPECT_EQ(f->encoding, ChainEncoding::kBase64);
  EXPECT_EQ(f->timestamps, TimestampRendering::kIsoUtcMillis);
  EXPECT_EQ(f->genesis, "GENESIS");
  EXPECT_EQ(f->null_as, "NULL");

  // TOML key names work too.
  Result<ChainSpec> t = ParseChainFlag("a:seq_column=n,separator=;,algorithm=sha512,timestamps=as-stored");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->seq_column, "n");
  EXPECT_EQ(t->separator, ";");
  EXPECT_EQ(t->timestamps, TimestampRendering::kAsStored);
}

TEST(ChainFlag, QuotingEscapesAndDefaultGenesis) {
  auto parse = [](const char* s) {
    Result<ChainSpec> r = ParseChainFlag(s);
    EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
    return r.ok() ? r.value() : ChainSpec();
  };
  EXPECT_EQ(parse("t:sep=\\t").separator, "\t");
  EXPECT_EQ(parse("t:sep=\\,").separator, ",");
  EXPECT_EQ(parse("t:sep='|'").separator, "|");
  EXPECT_EQ(parse("t:sep=|").separator, "|");
  EXPECT_EQ(parse("t:sep=' '").separator, " ");
  EXPECT_EQ(parse("t:sep=''").separator, "");
  EXPECT_EQ(parse("t:sep='\\t'").separator, "\\t");  // quotes are literal
  EXPECT_EQ(parse("t:fields=a|'b|c'|d\\|e").fields, (std::vector<std::string>{"a", "b|c", "d|e"}));
  EXPECT_EQ(parse("t: fields = a | b , sep = '|' ").fields, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse("t:genesis=").genesis, "");
  EXPECT_EQ(parse("t:").table, "public.t");
  EXPECT_EQ(parse("'my.schema'.'odd:name'").table, "my.schema.odd:name");
  EXPECT_EQ(parse("t:null=\\\\N").null_as, "\\N");
  // Without a genesis the zero digest follows the algorithm and encoding.
  EXPECT_EQ(parse("t:algo=sha512").genesis, std::string(128, '0'));
  EXPECT_EQ(parse("t:enc=base64").genesis, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_EQ(parse("t:enc=bytea,algo=xxh3-128").genesis, "\\x" + std::string(32, '0'));
  EXPECT_EQ(parse("t:algo=sha512,genesis=0").genesis, "0");
  EXPECT_EQ(DefaultGenesis(ChainAlgorithm::kSha256, ChainEncoding::kHex), ChainSpec().genesis);
}

TEST(ChainFlag, ErrorsNameTheProblem) {
  const std::pair<const char*, const char*> bad[] = {
      {"t:foo=1", "unknown key \"foo\""},
      {"t:algo=md5", "md5"},
      {"t:enc=base32", "base32"},
      {"t:ts=local", "local"},
      {"t:sep", "no '='"},
      {"t:seq=a,seq=b", "given twice"},
      {"t:seq=a,seq_column=b", "given twice"},
      {"t:sep='|", "unterminated quote"},
      {"t:sep=\\", "backslash at the end"},
      {"a.b.c", "more than one '.'"},
      {".t", "empty schema or name"},
      {"", "empty schema or name"},
      {"t:,sep=|", "empty option"},
      {"t:fields=a||b", "empty name in fields"},
      {"t:fields=prev_hash|hash", "hash column"},
      {"t:seq=hash", "three different columns"},
  };
  for (const auto& [flag, needle] : bad) {
    Result<ChainSpec> r = ParseChainFlag(flag);
    ASSERT_FALSE(r.ok()) << flag;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << flag << " -> " << r.status().message();
    EXPECT_NE(r.status().message().find(std::string("\"") + flag + "\""), std::string::npos) << r.status().message();
  }
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char p[] = "/tmp/vouch_chain_XXXXXX";
    int fd = mkstemp(p);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    path_ = p;
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ChainConfig, LoadsTomlChains) {
  TempFile f(R"(# two audited tables
[[chain]]
table = "audit_log"

[[chain]]
table = "ops.events"
seq_column = "id"
prev_column = "p"
hash_column = "h"
fields = ["p", "id", "at", "body"]
separator = "\t"
timestamps = "iso-seconds"
algorithm = "sha512"
encoding = "bytea"
null_as = "NULL"
)");
  Result<std::vector<ChainSpec>> r = LoadChainConfig(f.path());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  const ChainSpec& a = (*r)[0];
  EXPECT_EQ(a.table, "public.audit_log");
  EXPECT_EQ(a.fields, ChainSpec().fields);
  EXPECT_EQ(a.genesis, std::string(64, '0'));
  const ChainSpec& b = (*r)[1];
  EXPECT_EQ(b.table, "ops.events");
  EXPECT_EQ(b.seq_column, "id");
  EXPECT_EQ(b.prev_column, "p");
  EXPECT_EQ(b.hash_column, "h");
  EXPECT_EQ(b.fields, (std::vector<std::string>{"p", "id", "at", "body"}));
  EXPECT_EQ(b.separator, "\t");
  EXPECT_EQ(b.timestamps, TimestampRendering::kIsoUtcSeconds);
  EXPECT_EQ(b.algorithm, ChainAlgorithm::kSha512);
  EXPECT_EQ(b.encoding, ChainEncoding::kBytea);
  EXPECT_EQ(b.genesis, "\\x" + std::string(128, '0'));
  EXPECT_EQ(b.null_as, "NULL");
}

TEST(ChainConfig, ErrorsNameFileKeyAndLine) {
  const std::pair<const char*, const char*> bad[] = {
      {"[[chain]]\ntable = \"a\"\nsepartor = \",\"\n", ":3: unknown key \"separtor\""},
      {"[[chain]]\ntable = \"a\"\nfields = \"a|b\"\n", ":3: \"fields\" must be an array"},
      {"[[chain]]\ntable = \"a\"\nfields = [\"a\", 2]\n", ":3: \"fields\" must be a string"},
      {"[[chain]]\ntable = 7\n", ":2: \"table\" must be a string"},
      {"[[chain]]\nalgorithm = \"sha256\"\n", "without \"table\""},
      {"[[chain]]\ntable = \"a\"\nalgorithm = \"md5\"\n", ":3: algorithm \"md5\""},
      {"[[chain]]\ntable = \"a\"\n[[chain]]\ntable = \"public.a\"\n", "second [[chain]] for table public.a"},
      {"[chain]\ntable = \"a\"\n", "array of tables"},
      {"title = \"x\"\n", ":1: unknown key \"title\""},
      {"", "no [[chain]]"},
      {"[[chain]]\ntable = \"a\"\nfields = [\"hash\"]\n", "hash column"},
      {"[[chain]\n", ":1:"},
  };
  for (const auto& [text, needle] : bad) {
    TempFile f(text);
    Result<std::vector<ChainSpec>> r = LoadChainConfig(f.path());
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(f.path()), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << text << " -> " << r.status().message();
  }
  Result<std::vector<ChainSpec>> missing = LoadChainConfig("/nonexistent/vouch/chains.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
}

TEST(ChainSpec, Describe) {
  std::string d = DescribeChainSpec(ChainSpec());
  EXPECT_EQ(d,
            "public.audit_log: hash = hex(sha256(prev_hash|seq|ts|actor|action|payload)), seq seq, prev prev_hash, "
            "ts iso-micros, genesis 0000…0000 (64 chars)");
  ChainSpec s;
  s.separator = "\t";
  s.genesis.clear();
  s.null_as = "NULL";
  s.algorithm = ChainAlgorithm::kXxh3_128;
  EXPECT_NE(DescribeChainSpec(s).find("xxh3-128(prev_hash\\tseq"), std::string::npos) << DescribeChainSpec(s);
  EXPECT_NE(DescribeChainSpec(s).find("genesis not checked, NULL as \"NULL\""), std::string::npos);
}

// --- known answers ----------------------------------------------------------------

TEST(KnownAnswer, Sha256sumPinsTheHashInput) {
  const std::string input =
      std::string(64, '0') + "|1|2025-09-15T08:22:10.500000Z|agent-00042|login|{\"object\": 7, \"detail\": \"ok\"}";
  FILE* p = popen(("printf '%s' '" + input + "' | sha256sum").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[128] = {};
  ASSERT_NE(fgets(buf, sizeof buf, p), nullptr);
  ASSERT_EQ(pclose(p), 0);
  const std::string tool(buf, 64);
  EXPECT_EQ(tool, "b8dd8cff0efe5ecf38ecaca236aa391e54b94dceb10b2b2f3feed3504183caac");  // pinned
  EXPECT_EQ(Sha256Hex(input), tool);

  // The same link as a COPY row, timestamp shortened as PostgreSQL prints it.
  const std::string row = "1\t2025-09-15 08:22:10.5+00\tagent-00042\tlogin\t{\"object\": 7, \"detail\": \"ok\"}\t" +
                          std::string(64, '0') + "\t" + tool;
  LinkVerifier v = MakeVerifier();
  LinkVerifier::Scratch s;
  ChainLink link;
  ASSERT_EQ(v.Verify(row, s, &link), LinkVerifier::kOk);
  EXPECT_TRUE(link.link_ok);
  EXPECT_EQ(link.seq, 1);
  EXPECT_EQ(link.prev_fp, v.GenesisFingerprint());
  EXPECT_EQ(v.StoredHash(row, s), tool);
  // In another zone, and in upper case: the same link.
  std::string upper = tool;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  ChainLink other;
  ASSERT_EQ(v.Verify("1\t2025-09-15 05:22:10.5-03\tagent-00042\tlogin\t{\"object\": 7, \"detail\": \"ok\"}\t" +
                         std::string(64, '0') + "\t" + upper,
                     s, &other),
            LinkVerifier::kOk);
  EXPECT_TRUE(other.link_ok);
  EXPECT_EQ(other.hash_fp, link.hash_fp);
}

TEST(KnownAnswer, DrillChainOf1000Links) {
  std::vector<AuditRow> chain = MakeAuditChain(1000);
  LinkVerifier v = MakeVerifier();
  Checked c = CheckRows(v, CopyRows(chain));
  EXPECT_TRUE(c.not_ok.empty());
  EXPECT_EQ(c.chain.entries, 1000u);
  EXPECT_EQ(c.chain.min_seq, 1);
  EXPECT_EQ(c.chain.max_seq, 1000);
  EXPECT_EQ(c.chain.head_hash, chain.back().hash);
  EXPECT_EQ(c.chain.link_failures, 0u);
  EXPECT_EQ(c.chain.continuity_breaks, 0u);
  EXPECT_EQ(c.chain.duplicates, 0u);
  EXPECT_FALSE(c.chain.all_links_fail());
  EXPECT_EQ(c.gaps.distinct, 1000u);
  EXPECT_EQ(c.gaps.gaps, 0u);
  EXPECT_EQ(c.gaps.max_gap, 1u);

  // Every row kind the generator writes is in there: escapes, short fractions.
  int escaped = 0, whole_seconds = 0, half = 0;
  for (const AuditRow& r : chain) {
    std::string row = CopyRow(r);
    std::string ts = PgTimestamptz(r.micros);
    escaped += row.find("\\t") != std::string::npos;
    whole_seconds += ts.size() == 22;  // "YYYY-MM-DD HH:MM:SS+00"
    half += ts.ends_with(".5+00");
  }
  EXPECT_GT(escaped, 5);
  EXPECT_GT(whole_seconds, 100);
  EXPECT_GT(half, 100);
}

// --- defects ----------------------------------------------------------------------

TEST(Defects, EditedPayloadFailsOnlyThatLink) {
  std::vector<AuditRow> chain = MakeAuditChain(1000);
  chain[499].payload += " (edited)";  // seq 500, hash left alone
  Checked c = CheckRows(MakeVerifier(), CopyRows(chain));
  EXPECT_EQ(c.chain.link_failures, 1u);
  EXPECT_EQ(c.chain.first_link_failures, std::vector<int64_t>{500});
  EXPECT_EQ(c.chain.continuity_breaks, 0u);
  EXPECT_FALSE(c.chain.all_links_fail());
}

TEST(Defects, RehashedLinkBreaksContinuityAtItsSuccessor) {
  std::vector<AuditRow> chain = MakeAuditChain(1000);
  chain[499].payload += " (edited)";
  chain[499].hash = Sha256Hex(chain[499].prev + "|500|" + IsoMicros(chain[499].micros) + "|" + chain[499].actor + "|" +
                              chain[499].action + "|" + chain[499].payload);
  Checked c = CheckRows(MakeVerifier(), CopyRows(chain));
  EXPECT_EQ(c.chain.link_failures, 0u);
  EXPECT_EQ(c.chain.continuity_breaks, 1u);
  EXPECT_EQ(c.chain.first_breaks, std::vector<int64_t>{501});
}

TEST(Defects, DeletedRunIsAGapAndABreak) {
  std::vector<AuditRow> chain = MakeAuditChain(1000);
  chain.erase(chain.begin() + 299, chain.begin() + 304);  // seqs 300..304
  Checked c = CheckRows(MakeVerifier(), CopyRows(chain));
  EXPECT_EQ(c.chain.entries, 995u);
  EXPECT_EQ(c.chain.link_failures, 0u);
  EXPECT_EQ(c.chain.first_breaks, std::vector<int64_t>{305});
  EXPECT_EQ(c.gaps.gaps, 1u);
  EXPECT_EQ(c.gaps.missing, 5u);
  EXPECT_EQ(c.gaps.max_gap, 6u);
  EXPECT_EQ(c.gaps.suspicious, 1u);
  EXPECT_EQ(c.gaps.ranges, (std::vector<std::pair<int64_t, int64_t>>{{300, 304}}));
}

TEST(Defects, DeletedHeadOfChainFailsGenesis) {
  std::vector<AuditRow> chain = MakeAuditChain(100);
  chain.erase(chain.begin(), chain.begin() + 3);  // seqs 1..3
  Checked c = CheckRows(MakeVerifier(), CopyRows(chain));
  EXPECT_EQ(c.chain.min_seq, 4);
  EXPECT_EQ(c.chain.first_breaks, std::vector<int64_t>{4});
  ChainSpec no_genesis;
  no_genesis.genesis.clear();
  EXPECT_EQ(CheckRows(MakeVerifier(no_genesis), CopyRows(chain)).chain.continuity_breaks, 0u);
}

TEST(Defects, WrongGenesis) {
  std::vector<AuditRow> chain = MakeAuditChain(100);
  ChainSpec spec;
  spec.genesis = std::string(64, 'f');
  Checked c = CheckRows(MakeVerifier(spec), CopyRows(chain));
  EXPECT_EQ(c.chain.first_breaks, std::vector<int64_t>{1});
  EXPECT_EQ(c.chain.link_failures, 0u);
  // A genesis that is not hex at all is compared as text.
  Relink(chain, 0, "GENESIS");
  spec.genesis = "GENESIS";
  EXPECT_EQ(CheckRows(MakeVerifier(spec), CopyRows(chain)).chain.continuity_breaks, 0u);
  spec.genesis = "genesis";
  EXPECT_EQ(CheckRows(MakeVerifier(spec), CopyRows(chain)).chain.first_breaks, std::vector<int64_t>{1});
}

TEST(Defects, WrongSpecFailsEveryLink) {
  std::vector<AuditRow> chain = MakeAuditChain(200);
  for (auto mutate : std::vector<void (*)(ChainSpec&)>{
           [](ChainSpec& s) { s.separator = ","; }, [](ChainSpec& s) { s.timestamps = TimestampRendering::kAsStored; },
           [](ChainSpec& s) { s.fields = {"seq", "prev_hash", "ts", "actor", "action", "payload"}; },
           [](ChainSpec& s) { s.algorithm = ChainAlgorithm::kSha512; }}) {
    ChainSpec spec;
    mutate(spec);
    Checked c = CheckRows(MakeVerifier(spec), CopyRows(chain));
    EXPECT_EQ(c.chain.link_failures, 200u);
    EXPECT_TRUE(c.chain.all_links_fail());
    EXPECT_EQ(c.chain.first_link_failures.size(), ChainContinuity::kMaxListed);
    EXPECT_EQ(c.chain.first_link_failures.front(), 1);
  }
}

TEST(Defects, DuplicateSeqIsReportedAndOrderFree) {
  std::vector<AuditRow> chain = MakeAuditChain(300);
  std::vector<std::string> rows = CopyRows(chain);
  rows.push_back(rows[9]);  // seq 10 twice, identical
  // seq 20 twice: a forged copy, re-hashed so that it verifies by itself.
  AuditRow forged = chain[19];
  forged.payload = "forged";
  forged.hash =
      Sha256Hex(forged.prev + "|20|" + IsoMicros(forged.micros) + "|" + forged.actor + "|" + forged.action + "|forged");
  rows.push_back(CopyRow(forged));
  Checked first = CheckRows(MakeVerifier(), rows, 1);
  EXPECT_EQ(first.chain.entries, 302u);
  EXPECT_EQ(first.chain.duplicates, 2u);
  EXPECT_EQ(first.chain.first_duplicates, (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(first.chain.link_failures, 0u);
  EXPECT_EQ(first.gaps.duplicates, 2u);
  EXPECT_EQ(first.gaps.distinct, 300u);
  // Which copy of seq 20 continuity follows must not depend on arrival order
  // or on how the rows were split between workers.
  EXPECT_LE(first.chain.continuity_breaks, 1u);
  for (unsigned seed = 2; seed < 12; ++seed) {
    Checked again = CheckRows(MakeVerifier(), rows, seed, 1 + seed % 4);
    EXPECT_EQ(again.chain.first_duplicates, first.chain.first_duplicates);
    EXPECT_EQ(again.chain.first_breaks, first.chain.first_breaks);
    EXPECT_EQ(again.chain.head_hash, first.chain.head_hash);
  }
}

TEST(Defects, SparseAndNegativeSeqs) {
  std::vector<int64_t> seqs = {-70000, -69999, -65537, -65536, -65535,        -3,           -2,
                               -1,     0,      1,      2,      1000000000000, 1000000000001};
  std::vector<AuditRow> chain = MakeAuditChain(seqs);
  Checked c = CheckRows(MakeVerifier(), CopyRows(chain));
  EXPECT_TRUE(c.not_ok.empty());
  EXPECT_EQ(c.chain.link_failures, 0u);
  EXPECT_EQ(c.chain.continuity_breaks, 0u);
  EXPECT_EQ(c.chain.min_seq, -70000);
  EXPECT_EQ(c.chain.max_seq, 1000000000001);
  EXPECT_EQ(c.chain.head_hash, chain.back().hash);
  EXPECT_EQ(c.gaps.min, -70000);
  EXPECT_EQ(c.gaps.max, 1000000000001);
  EXPECT_EQ(c.gaps.gaps, 3u);
  EXPECT_EQ(c.gaps.ranges,
            (std::vector<std::pair<int64_t, int64_t>>{{-69998, -65538}, {-65534, -4}, {3, 999999999999}}));
  EXPECT_EQ(c.gaps.max_gap, 999999999998u);
  EXPECT_EQ(c.gaps.missing, 4461u + 65531u + 999999999997u);

  // Removing -65536 (the first seq of its page) breaks at -65535.
  chain.erase(chain.begin() + 3);
  EXPECT_EQ(CheckRows(MakeVerifier(), CopyRows(chain)).chain.first_breaks, std::vector<int64_t>{-65535});
}

// --- encodings and algorithms -------------------------------------------------------

struct EncodingCase {
  ChainAlgorithm algorithm;
  ChainEncoding encoding;
};

class Encodings : public ::testing::TestWithParam<EncodingCase> {};

TEST_P(Encodings, RoundTrip) {
  const EncodingCase ec = GetParam();
  ChainSpec spec;
  spec.algorithm = ec.algorithm;
  spec.encoding = ec.encoding;
  spec.genesis = StoredText(ec.encoding, std::string(ChainDigestSize(ec.algorithm), '\0'));
  std::string unbroken = spec.genesis;
  std::erase(unbroken, '\n');
  EXPECT_EQ(unbroken, DefaultGenesis(ec.algorithm, ec.encoding));
  std::vector<AuditRow> chain = MakeAuditChain(64);
  std::string prev = spec.genesis;
  for (size_t i = 0; i < chain.size(); ++i) {
    AuditRow& r = chain[i];
    r.prev = prev;
    std::string input = r.prev + "|" + std::to_string(r.seq) + "|" + IsoMicros(r.micros) + "|" + r.actor + "|" +
                        r.action + "|" + r.payload;
    // Hex digests are sometimes stored upper case; they still link.
    r.hash = StoredText(ec.encoding, DigestBytes(ec.algorithm, input), i % 5 == 0);
    prev = i % 5 == 0 ? StoredText(ec.encoding, DigestBytes(ec.algorithm, input)) : r.hash;
  }
  LinkVerifier v = MakeVerifier(spec);
  Checked c = CheckRows(v, CopyRows(chain));
  EXPECT_TRUE(c.not_ok.empty());
  EXPECT_EQ(c.chain.link_failures, 0u);
  EXPECT_EQ(c.chain.continuity_breaks, 0u);
  EXPECT_EQ(c.chain.head_hash, chain.back().hash);

  // The genesis is compared by value: another spelling of zero still matches
  // for hex and bytea, a non-zero digest does not.
  chain[10].payload = "edited";
  Checked bad = CheckRows(v, CopyRows(chain));
  EXPECT_EQ(bad.chain.first_link_failures, std::vector<int64_t>{11});
  // A hash that does not decode is a failed link, reported as such.
  chain[20].hash = ec.encoding == ChainEncoding::kBytea ? "\\xzz" : "!!";
  LinkVerifier::Scratch s;
  ChainLink link;
  EXPECT_EQ(v.Verify(CopyRow(chain[20]), s, &link), LinkVerifier::kBadHashEncoding);
  EXPECT_FALSE(link.link_ok);
  EXPECT_EQ(link.seq, 21);
  // So is one of the wrong length (truncated, or another algorithm's).
  chain[20].hash = StoredText(ec.encoding, std::string(ChainDigestSize(ec.algorithm) - 1, 'x'));
  EXPECT_EQ(v.Verify(CopyRow(chain[20]), s, &link), LinkVerifier::kBadHashEncoding);
}

INSTANTIATE_TEST_SUITE_P(Chain, Encodings,
                         ::testing::Values(EncodingCase{ChainAlgorithm::kSha256, ChainEncoding::kHex},
                                           EncodingCase{ChainAlgorithm::kSha256, ChainEncoding::kBase64},
                                           EncodingCase{ChainAlgorithm::kSha256, ChainEncoding::kBytea},
                                           EncodingCase{ChainAlgorithm::kSha512, ChainEncoding::kHex},
                                           EncodingCase{ChainAlgorithm::kSha512, ChainEncoding::kBase64},
                                           EncodingCase{ChainAlgorithm::kSha512, ChainEncoding::kBytea},
                                           EncodingCase{ChainAlgorithm::kXxh3_128, ChainEncoding::kHex},
                                           EncodingCase{ChainAlgorithm::kXxh3_128, ChainEncoding::kBase64},
                                           EncodingCase{ChainAlgorithm::kXxh3_128, ChainEncoding::kBytea}));

TEST(Encodings, ByteaInCopyTextAndLegacyEscapeOutput) {
  ChainSpec spec;
  spec.encoding = ChainEncoding::kBytea;
  spec.genesis = "\\x" + std::string(64, '0');
  std::vector<AuditRow> chain = MakeAuditChain(3);
  std::string prev = spec.genesis, digest;
  for (AuditRow& r : chain) {
    r.prev = prev;
    digest = DigestBytes(ChainAlgorithm::kSha256, r.prev + "|" + std::to_string(r.seq) + "|" + IsoMicros(r.micros) +
                                                      "|" + r.actor + "|" + r.action + "|" + r.payload);
    r.hash = StoredText(ChainEncoding::kBytea, digest);
    prev = r.hash;
  }
  LinkVerifier v = MakeVerifier(spec);
  LinkVerifier::Scratch s;
  std::string row = CopyRow(chain[2]);
  EXPECT_NE(row.find("\t\\\\x"), std::string::npos);  // COPY doubles the backslash
  ChainLink hex_link;
  ASSERT_EQ(v.Verify(row, s, &hex_link), LinkVerifier::kOk);
  EXPECT_TRUE(hex_link.link_ok);
  EXPECT_EQ(v.StoredHash(row, s), chain[2].hash);
  // bytea_output = escape writes the same bytes as octal escapes.
  std::string escaped;
  for (unsigned char b : digest) {
    char o[8];
    snprintf(o, sizeof o, "\\%03o", b);
    escaped += o;
  }
  AuditRow legacy = chain[2];
  legacy.hash = escaped;
  ChainLink esc_link;
  ASSERT_EQ(v.Verify(CopyRow(legacy), s, &esc_link), LinkVerifier::kOk);
  EXPECT_TRUE(esc_link.link_ok);
  EXPECT_EQ(esc_link.hash_fp, hex_link.hash_fp);
}

// --- row problems -------------------------------------------------------------------

TEST(LinkVerifier, MakeNamesMissingColumns) {
  ChainSpec spec;
  spec.fields.push_back("missing_col");
  Result<LinkVerifier> r = LinkVerifier::Make(spec, kColumns, kIsTimestamp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("\"missing_col\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("seq, ts, actor, action, payload, prev_hash, hash"), std::string::npos);
  spec = ChainSpec();
  spec.hash_column = "digest";
  EXPECT_FALSE(LinkVerifier::Make(spec, kColumns, kIsTimestamp).ok());
  EXPECT_FALSE(LinkVerifier::Make(ChainSpec(), kColumns, {true}).ok());
}

TEST(LinkVerifier, RowProblems) {
  LinkVerifier v = MakeVerifier();
  AuditRow r = MakeAuditChain(5)[2];
  LinkVerifier::Scratch s;
  ChainLink link;
  ASSERT_EQ(v.Verify(CopyRow(r), s, &link), LinkVerifier::kOk);
  const uint64_t prev_fp = link.prev_fp;

  EXPECT_EQ(v.Verify("1\t2\t3", s, &link), LinkVerifier::kFieldCount);
  EXPECT_EQ(v.Verify(CopyRow(r) + "\textra", s, &link), LinkVerifier::kFieldCount);
  AuditRow bad = r;
  std::string row = CopyRow(bad);
  EXPECT_EQ(v.Verify("x" + row, s, &link), LinkVerifier::kBadSeq);
  EXPECT_EQ(v.Verify("\\N" + row.substr(1), s, &link), LinkVerifier::kBadSeq);

  link = ChainLink();
  EXPECT_EQ(v.Verify(row.substr(0, row.rfind('\t')) + "\t\\N", s, &link), LinkVerifier::kNullHash);
  EXPECT_EQ(link.seq, 3);
  EXPECT_EQ(link.prev_fp, prev_fp);
  EXPECT_FALSE(link.link_ok);
  EXPECT_EQ(v.StoredHash(row.substr(0, row.rfind('\t')) + "\t\\N", s), "");

  link = ChainLink();
  EXPECT_EQ(v.Verify(row.substr(0, row.rfind('\t')) + "\tnot-hex", s, &link), LinkVerifier::kBadHashEncoding);
  EXPECT_EQ(link.seq, 3);
  EXPECT_FALSE(link.link_ok);

  std::string tail = row.substr(row.find('\t', 2));
  EXPECT_EQ(v.Verify("3\tinfinity" + tail, s, &link), LinkVerifier::kBadTimestamp);
  EXPECT_EQ(v.Verify("3\t2025-09-15 08:22:10+00 BC" + tail, s, &link), LinkVerifier::kBadTimestamp);
  EXPECT_FALSE(link.link_ok);
  EXPECT_EQ(link.seq, 3);
}

TEST(LinkVerifier, NullFieldsHashAsNullAs) {
  ChainSpec spec;
  spec.null_as = "<null>";
  LinkVerifier v = MakeVerifier(spec);
  const std::string prev(64, '0');
  const std::string hash = Sha256Hex(prev + "|1|2025-09-15T08:22:10.000000Z|<null>|login|");
  LinkVerifier::Scratch s;
  ChainLink link;
  ASSERT_EQ(v.Verify("1\t2025-09-15 08:22:10+00\t\\N\tlogin\t\t" + prev + "\t" + hash, s, &link), LinkVerifier::kOk);
  EXPECT_TRUE(link.link_ok);
  // A NULL prev_hash neither matches the genesis nor a decoded digest.
  ChainLink null_prev;
  EXPECT_EQ(v.Verify("1\t2025-09-15 08:22:10+00\t\\N\tlogin\t\t\\N\t" + hash, s, &null_prev), LinkVerifier::kOk);
  EXPECT_NE(null_prev.prev_fp, v.GenesisFingerprint());
}

TEST(LinkVerifier, NoAllocationPerRowOnceScratchHasGrown) {
  std::vector<AuditRow> chain = MakeAuditChain(500);
  std::vector<std::string> rows = CopyRows(chain);
  for (ChainEncoding e : {ChainEncoding::kHex, ChainEncoding::kBase64}) {
    ChainSpec spec;
    spec.encoding = e;
    LinkVerifier v = MakeVerifier(spec);
    LinkVerifier::Scratch s;
    ChainLink link;
    for (const std::string& row : rows) (void)v.Verify(row, s, &link);  // grow
    g_allocations = 0;
    t_counting = true;
    size_t ok = 0;
    for (const std::string& row : rows) ok += v.Verify(row, s, &link) == LinkVerifier::kOk && link.link_ok;
    for (const std::string& row : rows) ok += !v.StoredHash(row, s).empty();
    t_counting = false;
    EXPECT_EQ(g_allocations.load(), 0) << ChainEncodingName(e);
    EXPECT_EQ(ok, e == ChainEncoding::kHex ? 1000u : 500u);
  }
}

TEST(LinkVerifier, ParallelWorkersMergeToTheSerialResult) {
  std::vector<AuditRow> chain = MakeAuditChain(4000);
  chain[1234].payload = "tampered";
  std::vector<std::string> rows = CopyRows(chain);
  LinkVerifier v = MakeVerifier();
  constexpr int kThreads = 4;
  std::vector<ChainContinuity> partial;
  for (int t = 0; t < kThreads; ++t) partial.emplace_back(v.HasGenesis(), v.GenesisFingerprint());
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      LinkVerifier::Scratch s;  // one per thread
      for (size_t i = static_cast<size_t>(t) * 500; i < rows.size(); i += kThreads * 500) {
        for (size_t k = i; k < std::min(i + 500, rows.size()); ++k) {
          ChainLink link;
          if (v.Verify(rows[k], s, &link) == LinkVerifier::kOk) partial[static_cast<size_t>(t)].Add(link);
        }
        size_t last = std::min(i + 500, rows.size()) - 1;
        partial[static_cast<size_t>(t)].NoteHead(chain[last].seq, v.StoredHash(rows[last], s));
      }
    });
  }
  for (std::thread& w : workers) w.join();
  for (int t = 1; t < kThreads; ++t) partial[0].Merge(std::move(partial[static_cast<size_t>(t)]));
  ChainContinuity::Result r = partial[0].Finish();
  EXPECT_EQ(r.entries, 4000u);
  EXPECT_EQ(r.first_link_failures, std::vector<int64_t>{1235});
  EXPECT_EQ(r.continuity_breaks, 0u);
  EXPECT_EQ(r.head_hash, chain.back().hash);
  EXPECT_EQ(partial[1].Finish().entries, 0u);  // merged away
}

// --- order-free structures against references ---------------------------------------

TEST(ChainContinuity, EmptyAndHeadRules) {
  ChainContinuity c(true, 42);
  ChainContinuity::Result r = c.Finish();
  EXPECT_EQ(r.entries, 0u);
  EXPECT_FALSE(r.all_links_fail());
  EXPECT_EQ(r.continuity_breaks, 0u);
  c.Add({5, 1, 42, true});
  c.NoteHead(4, "old");
  EXPECT_EQ(c.Finish().head_hash, "");  // not told the head's hash
  c.NoteHead(5, "b");
  c.NoteHead(5, "a");
  c.NoteHead(3, "older");
  EXPECT_EQ(c.Finish().head_hash, "a");
}

TEST(ChainContinuity, MatchesReferenceOnRandomChains) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(seed);
    std::map<int64_t, std::pair<uint64_t, uint64_t>> ref;  // seq → (hash_fp, prev_fp)
    int64_t seq = static_cast<int64_t>(rng() % 200000) - 100000;
    uint64_t prev = 7;
    for (int i = 0; i < 30000; ++i) {
      seq += 1 + (rng() % 50 == 0 ? static_cast<int64_t>(rng() % 100000) : 0);
      uint64_t h = rng();
      uint64_t p = rng() % 300 == 0 ? rng() : prev;  // occasional break
      ref[seq] = {h, p};
      prev = h;
    }
    std::vector<ChainLink> links;
    std::set<int64_t> failing;
    for (const auto& [s, fp] : ref) {
      bool ok = rng() % 400 != 0;
      if (!ok) failing.insert(s);
      links.push_back({s, fp.first, fp.second, ok});
    }
    std::shuffle(links.begin(), links.end(), rng);
    ChainContinuity a(true, 7), b(true, 7);
    for (size_t i = 0; i < links.size(); ++i) (i % 3 ? a : b).Add(links[i]);
    a.Merge(std::move(b));
    ChainContinuity::Result r = a.Finish();

    std::vector<int64_t> breaks;
    uint64_t pred = 7;
    for (const auto& [s, fp] : ref) {
      if (fp.second != pred) breaks.push_back(s);
      pred = fp.first;
    }
    EXPECT_EQ(r.entries, ref.size());
    EXPECT_EQ(r.min_seq, ref.begin()->first);
    EXPECT_EQ(r.max_seq, ref.rbegin()->first);
    EXPECT_EQ(r.continuity_breaks, breaks.size()) << "seed " << seed;
    breaks.resize(std::min(breaks.size(), ChainContinuity::kMaxListed));
    EXPECT_EQ(r.first_breaks, breaks);
    EXPECT_EQ(r.link_failures, failing.size());
    std::vector<int64_t> fails(failing.begin(), failing.end());
    fails.resize(std::min(fails.size(), ChainContinuity::kMaxListed));
    EXPECT_EQ(r.first_link_failures, fails);
  }
}

// Held to a memory limit of two pages, a chain spanning a hundred pages in
// shuffled chunks, as parallel workers deliver them (duplicates, breaks,
// failures, two merged partials, each spilling), gives exactly the
// unlimited result.
TEST(ChainContinuity, SpilledPagesGiveTheUnlimitedResult) {
  std::mt19937_64 rng(11);
  std::vector<ChainLink> links;
  uint64_t prev = 7;
  for (int64_t seq = 0; seq < 100 * 65536; seq += 1 + static_cast<int64_t>(rng() % 600)) {
    uint64_t h = rng();
    links.push_back({seq, h, rng() % 500 == 0 ? rng() : prev, rng() % 700 != 0});
    if (rng() % 300 == 0) links.push_back({seq, rng(), prev, true});  // duplicate
    prev = h;
  }
  std::vector<std::pair<size_t, size_t>> chunks;  // [from, to) of `links`
  for (size_t i = 0; i < links.size(); i += 500) chunks.emplace_back(i, std::min(i + 500, links.size()));
  std::shuffle(chunks.begin(), chunks.end(), rng);
  auto run = [&](size_t limit) {
    ChainContinuity a(true, 7), b(true, 7);
    a.SetMemoryLimit(limit);
    b.SetMemoryLimit(limit);
    for (size_t c = 0; c < chunks.size(); ++c) {
      for (size_t i = chunks[c].first; i < chunks[c].second; ++i) (c % 3 ? a : b).Add(links[i]);
    }
    a.NoteHead(links.front().seq, "x");
    a.Merge(std::move(b));
    EXPECT_TRUE(a.spill_status().ok()) << a.spill_status().message();
    return std::pair(a.Finish(), a.pages_spilled());
  };
  auto [unlimited, none] = run(0);
  auto [limited, spilled] = run(2 * ChainContinuity::PageBytes());
  EXPECT_EQ(none, 0u);
  EXPECT_GT(spilled, 100u);
  EXPECT_GT(unlimited.continuity_breaks, 0u);
  EXPECT_GT(unlimited.duplicates, 0u);
  EXPECT_EQ(limited.entries, unlimited.entries);
  EXPECT_EQ(limited.min_seq, unlimited.min_seq);
  EXPECT_EQ(limited.max_seq, unlimited.max_seq);
  EXPECT_EQ(limited.link_failures, unlimited.link_failures);
  EXPECT_EQ(limited.first_link_failures, unlimited.first_link_failures);
  EXPECT_EQ(limited.continuity_breaks, unlimited.continuity_breaks);
  EXPECT_EQ(limited.first_breaks, unlimited.first_breaks);
  EXPECT_EQ(limited.duplicates, unlimited.duplicates);
  EXPECT_EQ(limited.first_duplicates, unlimited.first_duplicates);
}

TEST(ChainContinuity, AnUnwritableSpillDirectoryIsAnError) {
  ChainContinuity c;
  c.SetMemoryLimit(1, "/nonexistent/vouch-spill");
  for (int64_t p = 0; p < 4; ++p) c.Add({p * 65536, 1, 2, true});
  EXPECT_EQ(c.spill_status().code(), StatusCode::kIoError);
  EXPECT_NE(c.spill_status().message().find("/nonexistent/vouch-spill"), std::string::npos);
  EXPECT_EQ(c.Finish().entries, 4u);  // kept in memory
}

SeqGapTracker::Result ReferenceGaps(const std::multiset<int64_t>& values, const GapOptions& o) {
  SeqGapTracker::Result r;
  std::set<int64_t> d(values.begin(), values.end());
  r.values = values.size();
  r.distinct = d.size();
  r.duplicates = r.values - r.distinct;
  if (d.empty()) return r;
  r.min = *d.begin();
  r.max = *d.rbegin();
  for (auto it = std::next(d.begin()); it != d.end(); ++it) {
    int64_t a = *std::prev(it), b = *it;
    uint64_t step = static_cast<uint64_t>(b - a);
    r.max_gap = std::max(r.max_gap, step);
    if (step == 1) continue;
    ++r.gaps;
    r.missing += step - 1;
    bool in_window = o.window && a + 1 <= o.window->second && b - 1 >= o.window->first;
    if (step - 1 >= o.suspicious_size || in_window) ++r.suspicious;
    if (r.ranges.size() < o.max_ranges) r.ranges.emplace_back(a + 1, b - 1);
  }
  return r;
}

TEST(SeqGapTracker, MatchesReferenceOnRandomSets) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    std::multiset<int64_t> values;
    int64_t base = static_cast<int64_t>(rng() % 2000000) - 1000000;
    size_t runs = 1 + rng() % 40;
    for (size_t i = 0; i < runs; ++i) {
      int64_t start = base + static_cast<int64_t>(rng() % 400000);
      size_t len = rng() % 3 == 0 ? 1 + rng() % 5000 : 1 + rng() % 20;
      for (size_t k = 0; k < len; ++k) {
        if (rng() % 10 != 0) values.insert(start + static_cast<int64_t>(k));
        if (rng() % 50 == 0) values.insert(start + static_cast<int64_t>(k));  // duplicate
      }
    }
    if (seed % 3 == 0) values.insert(int64_t{1} << 45);  // far away
    if (seed == 5) values.clear();
    if (seed == 6) values = {9};
    std::vector<int64_t> order(values.begin(), values.end());
    std::shuffle(order.begin(), order.end(), rng);
    SeqGapTracker a, b, c;
    for (size_t i = 0; i < order.size(); ++i) (i % 3 == 0 ? a : i % 3 == 1 ? b : c).Add(order[i]);
    a.Merge(std::move(b));
    a.Merge(std::move(c));
    GapOptions o;
    o.suspicious_size = 1 + rng() % 6;
    if (seed % 2) o.window = std::pair<int64_t, int64_t>(base + 100000, base + 200000);
    o.max_ranges = 7;
    SeqGapTracker::Result got = a.Finish(o), want = ReferenceGaps(values, o);
    EXPECT_EQ(got.values, want.values) << "seed " << seed;
    EXPECT_EQ(got.distinct, want.distinct) << "seed " << seed;
    EXPECT_EQ(got.duplicates, want.duplicates) << "seed " << seed;
    EXPECT_EQ(got.min, want.min) << "seed " << seed;
    EXPECT_EQ(got.max, want.max) << "seed " << seed;
    EXPECT_EQ(got.gaps, want.gaps) << "seed " << seed;
    EXPECT_EQ(got.missing, want.missing) << "seed " << seed;
    EXPECT_EQ(got.max_gap, want.max_gap) << "seed " << seed;
    EXPECT_EQ(got.suspicious, want.suspicious) << "seed " << seed;
    EXPECT_EQ(got.ranges, want.ranges) << "seed " << seed;
    EXPECT_EQ(b.Finish(o).values, 0u);
  }
}

TEST(SeqGapTracker, DenseRunsAndSuspiciousRules) {
  SeqGapTracker t;
  for (int64_t v = -200000; v < 200000; ++v) {
    if (v != 5 && (v < 1000 || v > 1002)) t.Add(v);
  }
  GapOptions o;
  SeqGapTracker::Result r = t.Finish(o);
  EXPECT_EQ(r.distinct, 399996u);
  EXPECT_EQ(r.gaps, 2u);
  EXPECT_EQ(r.max_gap, 4u);
  EXPECT_EQ(r.suspicious, 2u);  // default: every gap
  o.suspicious_size = 2;
  EXPECT_EQ(t.Finish(o).suspicious, 1u);  // only the run of 3
  o.suspicious_size = UINT64_MAX;
  o.window = std::pair<int64_t, int64_t>(0, 5);
  EXPECT_EQ(t.Finish(o).suspicious, 1u);  // only the gap inside the window
  o.max_ranges = 1;
  EXPECT_EQ(t.Finish(o).ranges, (std::vector<std::pair<int64_t, int64_t>>{{5, 5}}));

  SeqGapTracker dense;
  for (int64_t v = 1; v <= 1000; ++v) dense.Add(v);
  EXPECT_EQ(dense.Finish({}).max_gap, 1u);  // the DR report's "Max Gap Size: 1 (Normal sequential)"
  SeqGapTracker one;
  one.Add(3);
  one.Add(3);
  EXPECT_EQ(one.Finish({}).max_gap, 0u);
  EXPECT_EQ(one.Finish({}).duplicates, 1u);
  SeqGapTracker extremes;
  extremes.Add(INT64_MIN);
  extremes.Add(INT64_MAX);
  SeqGapTracker::Result e = extremes.Finish({});
  EXPECT_EQ(e.max_gap, UINT64_MAX);
  EXPECT_EQ(e.missing, UINT64_MAX - 1);
  EXPECT_EQ(e.ranges, (std::vector<std::pair<int64_t, int64_t>>{{INT64_MIN + 1, INT64_MAX - 1}}));
}

}  // namespace
}  // namespace vouch
