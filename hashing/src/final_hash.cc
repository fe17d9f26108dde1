#include "vouch/hashing/final_hash.h"

#include <algorithm>
#include <tuple>

namespace vouch {
namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutStr(std::string& out, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  out += s;
}

}  // namespace

std::string FinalHashInput(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains) {
  std::sort(tables.begin(), tables.end(),
            [](const auto& a, const auto& b) { return std::tie(a.schema, a.name) < std::tie(b.schema, b.name); });
  std::sort(chains.begin(), chains.end(),
            [](const auto& a, const auto& b) { return std::tie(a.schema, a.table) < std::tie(b.schema, b.table); });
  std::string in = "vouch.final.v1\n";
  for (const auto& t : tables) {
    in.push_back('T');
    PutStr(in, t.schema);
    PutStr(in, t.name);
    PutU64(in, t.rows);
    auto b = t.sum.BigEndianBytes();
    in.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  for (const auto& c : chains) {
    in.push_back('C');
    PutStr(in, c.schema);
    PutStr(in, c.table);
    PutStr(in, c.head_hash);
    PutU64(in, c.length);
  }
  return in;
}

Sha256Digest FinalValidationHash(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains) {
  return Sha256Of(FinalHashInput(std::move(tables), std::move(chains)));
}

}  // namespace vouch
