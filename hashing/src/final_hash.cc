#include "vouch/hashing/final_hash.h"

#include <algorithm>
#include <tuple>

namespace vouch {
namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutStr(std::string& out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  out += s;
}

// Writes the canonical input to `out` (a string or an incremental SHA-256),
// so that hashing 100,000 tables does not first build their input whole.
template <typename Out>
void WriteFinalInput(Out& out, std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains,
                     const FinalLargeObjects& large_objects) {
  std::string b;  // one record at a time
  std::sort(tables.begin(), tables.end(),
            [](const auto& x, const auto& y) { return std::tie(x.schema, x.name) < std::tie(y.schema, y.name); });
  std::sort(chains.begin(), chains.end(),
            [](const auto& x, const auto& y) { return std::tie(x.schema, x.table) < std::tie(y.schema, y.table); });
  out.Update(std::string_view("vouch.final.v1\n"));
  for (const auto& t : tables) {
    b.assign(1, 'T');
    PutStr(b, t.schema);
    PutStr(b, t.name);
    PutU64(b, t.rows);
    auto sum = t.sum.BigEndianBytes();
    b.append(reinterpret_cast<const char*>(sum.data()), sum.size());
    out.Update(b);
  }
  for (const auto& c : chains) {
    b.assign(1, 'C');
    PutStr(b, c.schema);
    PutStr(b, c.table);
    PutStr(b, c.head_hash);
    PutU64(b, c.length);
    out.Update(b);
  }
  // Only a source with large objects has this record: one without keeps the
  // final hash it had before large objects were digested.
  if (large_objects.count > 0) {
    b.assign(1, 'L');
    PutU64(b, large_objects.count);
    b.append(reinterpret_cast<const char*>(large_objects.digest.data()), large_objects.digest.size());
    out.Update(b);
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
  StringOut out;
  WriteFinalInput(out, std::move(tables), std::move(chains), large_objects);
  return std::move(out.s);
}

Sha256Digest FinalValidationHash(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains,
                                 const FinalLargeObjects& large_objects) {
  BufferedSha sha;
  WriteFinalInput(sha, std::move(tables), std::move(chains), large_objects);
  return sha.Finish();
}

}  // namespace vouch
