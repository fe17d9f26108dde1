// FINAL_VALIDATION_HASH: SHA-256 over the sorted canonical encoding of every
// table's (schema, name, rows, sum) and every audit chain's (schema, table,
// head hash, length). Same data gives the same hash whatever the source kind,
// thread count or read order (docs/digest-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/hashing/sha256.h"
#include "vouch/hashing/u128.h"

namespace vouch {

struct FinalTableEntry {
  std::string_view schema;  // views of the caller's strings (100,000 tables: no copies)
  std::string_view name;
  uint64_t rows = 0;
  U128 sum;
};

struct FinalChainEntry {
  std::string schema;
  std::string table;
  std::string head_hash;  // raw bytes of the chain's last hash
  uint64_t length = 0;
};

// One large object of the large-objects pseudo-table.
struct FinalLargeObjectEntry {
  uint32_t oid = 0;
  std::string owner;
  U128 hash;  // H(large object), vouch/hashing/large_object_hash.h
};

// The large-objects pseudo-table of a source: how many, and the SHA-256 of
// their canonical bytes (LargeObjectsInput). count 0: the source has none,
// and the final hash is exactly that of its tables and chains.
struct FinalLargeObjects {
  uint64_t count = 0;
  Sha256Digest digest{};
};

// "vouch.large_objects.v1\n", then per object in OID order: oid (u32 BE),
// owner (u32 BE length, bytes), H(large object) (16 bytes BE). Exposed for
// known-answer tests (docs/digest-format.md "Large objects").
std::string LargeObjectsInput(std::vector<FinalLargeObjectEntry> objects);
FinalLargeObjects LargeObjectsDigest(std::vector<FinalLargeObjectEntry> objects);

// The exact bytes that are hashed (exposed for known-answer tests).
std::string FinalHashInput(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains,
                           const FinalLargeObjects& large_objects = {});
Sha256Digest FinalValidationHash(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains,
                                 const FinalLargeObjects& large_objects = {});

}  // namespace vouch
