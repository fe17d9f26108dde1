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

// The exact bytes that are hashed (exposed for known-answer tests).
std::string FinalHashInput(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains);
Sha256Digest FinalValidationHash(std::vector<FinalTableEntry> tables, std::vector<FinalChainEntry> chains);

}  // namespace vouch
