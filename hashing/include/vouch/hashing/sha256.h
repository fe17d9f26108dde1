// SHA-256 through OpenSSL's EVP interface (which uses SHA-NI/AVX2 when present).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/hashing/evp_hash.h"

namespace vouch {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  void Update(const void* data, size_t n) { h_.Update(data, n); }
  void Update(std::string_view s) { h_.Update(s); }
  Sha256Digest Finish();  // the object can be reused after Finish

 private:
  EvpHash h_{HashAlgorithm::kSha256};
};

Sha256Digest Sha256Of(std::string_view data);

}  // namespace vouch
