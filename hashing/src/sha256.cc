#include "vouch/hashing/sha256.h"

#include <algorithm>
#include <cstdlib>

namespace vouch {

Sha256Digest Sha256::Finish() {
  uint8_t out[64];
  Sha256Digest d{};
  if (h_.Finish(out) != d.size()) std::abort();
  std::copy(out, out + d.size(), d.begin());
  return d;
}

Sha256Digest Sha256Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

}  // namespace vouch
