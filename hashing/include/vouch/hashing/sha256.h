// SHA-256 through OpenSSL's EVP interface (which uses SHA-NI/AVX2 when present).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace vouch {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  Sha256Digest Finish();  // the object can be reused after Finish

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Sha256Digest Sha256Of(std::string_view data);

}  // namespace vouch
