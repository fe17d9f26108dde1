#include "vouch/hashing/final_hash.h"

#include <algorithm>
#include <tuple>

namespace vouch {
namespace {

// Writes the canonical input to `out` (a string or an incremental SHA-256),
// so that hashing 100,000 tables does not first build their input whole.
template <typename Out>
void WriteFinalInput(Out& out, std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains) {
  auto put_u64 = [&](uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * (7 - i)));
    out.Update(std::string_view(b, 8));
  };
  auto put_str = [&](std::string_view s) {
    uint32_t n = static_cast<uint32_t>(s.size());
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(n >> (8 * (3 - i)));
    out.Update(std::string_view(b, 4));
    out.Update(s);
  };
  std::sort(tables.begin(), tables.end(),
            [](const auto& a, const auto& b) { return std::tie(a.schema, a.name) < std::tie(b.schema, b.name); });
  std::sort(chains.begin(), chains.end(),
            [](const auto& a, const auto& b) { return std::tie(a.schema, a.table) < std::tie(b.schema, b.table); });
  out.Update(std::string_view("vouch.final.v1\n"));
  for (const auto& t : tables) {
    out.Update(std::string_view("T"));
    put_str(t.schema);
    put_str(t.name);
    put_u64(t.rows);
    auto b = t.sum.BigEndianBytes();
    out.Update(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  for (const auto& c : chains) {
    out.Update(std::string_view("C"));
    put_str(c.schema);
    put_str(c.table);
    put_str(c.head_hash);
    put_u64(c.length);
  }
}

// Batches the many small writes into 64 KB updates of the hash.
struct BufferedSha {
  Sha256 sha;
  std::string buf;
  void Update(std::string_view v) {
    buf.append(v);
    if (buf.size() >= (64 << 10)) {
      sha.Update(buf);
      buf.clear();
    }
  }
  Sha256Digest Finish() {
    sha.Update(buf);
    return sha.Finish();
  }
};

struct StringOut {
  std::string s;
  void Update(std::string_view v) { s.append(v); }
};

}  // namespace

std::string FinalHashInput(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains) {
  StringOut out;
  WriteFinalInput(out, std::move(tables), std::move(chains));
  return std::move(out.s);
}

Sha256Digest FinalValidationHash(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains) {
  BufferedSha sha;
  WriteFinalInput(sha, std::move(tables), std::move(chains));
  return sha.Finish();
}

}  // namespace vouch
