// H(large object): XXH3-128 (seed 0) of the object's OID in decimal ASCII,
// one NUL byte, then the object's bytes, streamed (an object can be up to
// 4 TB). The large objects of a source are summed mod 2^128, like rows: the
// sum does not depend on the order they are read in (docs/digest-format.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "vouch/hashing/u128.h"

namespace vouch {

class LargeObjectHasher {
 public:
  explicit LargeObjectHasher(uint64_t oid);
  ~LargeObjectHasher();
  LargeObjectHasher(const LargeObjectHasher&) = delete;
  LargeObjectHasher& operator=(const LargeObjectHasher&) = delete;

  void Update(const char* data, size_t len);
  U128 Finish() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vouch
