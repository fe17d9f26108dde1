// Cryptographic hashes of files and streams through OpenSSL's EVP interface
// (MD5, SHA-1, SHA-2): what checksum sidecars (sha256sum, md5sum) and backup
// manifests name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vouch {

enum class HashAlgorithm { kMd5, kSha1, kSha224, kSha256, kSha384, kSha512 };

// "MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512" (as `sha256sum --tag`
// and backup manifests write them).
const char* HashAlgorithmName(HashAlgorithm a);
std::optional<HashAlgorithm> HashAlgorithmFromName(std::string_view name);
// The algorithm whose hex digest has `hex_length` digits (32 MD5, 40 SHA-1,
// 56 SHA-224, 64 SHA-256, 96 SHA-384, 128 SHA-512).
std::optional<HashAlgorithm> HashAlgorithmFromHexLength(size_t hex_length);

class EvpHash {
 public:
  explicit EvpHash(HashAlgorithm a);
  ~EvpHash();
  EvpHash(const EvpHash&) = delete;
  EvpHash& operator=(const EvpHash&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  // Writes the digest to out (room for 64 bytes) and returns its length;
  // the object can be reused afterwards.
  size_t Finish(uint8_t* out);
  // Lower-case hex of the digest, the same way.
  std::string FinishHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace vouch
