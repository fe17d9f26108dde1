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

std::string LargeObjectsInput(std::vector<FinalLargeObjectEntry> objects) {
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.oid < b.oid; });
  std::string in = "vouch.large_objects.v1\n";
  for (const auto& o : objects) {
    for (int i = 3; i >= 0; --i) in.push_back(static_cast<char>(o.oid >> (8 * i)));
    PutStr(in, o.owner);
    auto b = o.hash.BigEndianBytes();
    in.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  return in;
}

FinalLargeObjects LargeObjectsDigest(std::vector<FinalLargeObjectEntry> objects) {
  FinalLargeObjects out;
  out.count = objects.size();
  out.digest = Sha256Of(LargeObjectsInput(std::move(objects)));
  return out;
}

std::string FinalHashInput(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains,
                           const FinalLargeObjects& large_objects) {
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
  // Only a source with large objects has this record: one without keeps the
  // final hash it had before large objects were digested.
  if (large_objects.count > 0) {
    in.push_back('L');
    PutU64(in, large_objects.count);
    in.append(reinterpret_cast<const char*>(large_objects.digest.data()), large_objects.digest.size());
  }
  return in;
}

Sha256Digest FinalValidationHash(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains,
                                 const FinalLargeObjects& large_objects) {
  return Sha256Of(FinalHashInput(std::move(tables), std::move(chains), large_objects));
}

}  // namespace vouch
