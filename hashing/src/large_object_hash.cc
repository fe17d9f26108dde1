#include "vouch/hashing/large_object_hash.h"

#include <xxhash.h>

#include <string>

namespace vouch {

struct LargeObjectHasher::State {
  XXH3_state_t* xxh = XXH3_createState();
  ~State() { XXH3_freeState(xxh); }
};

LargeObjectHasher::LargeObjectHasher(uint64_t oid) : state_(std::make_unique<State>()) {
  XXH3_128bits_reset(state_->xxh);
  const std::string prefix = std::to_string(oid);
  XXH3_128bits_update(state_->xxh, prefix.data(), prefix.size() + 1);  // with its NUL
}

LargeObjectHasher::~LargeObjectHasher() = default;

void LargeObjectHasher::Update(const char* data, size_t len) { XXH3_128bits_update(state_->xxh, data, len); }

U128 LargeObjectHasher::Finish() const {
  const XXH128_hash_t h = XXH3_128bits_digest(state_->xxh);
  return U128{h.high64, h.low64};
}

}  // namespace vouch
