#include "vouch/hashing/evp_hash.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "vouch/hashing/hex.h"

namespace vouch {
namespace {

struct Algo {
  HashAlgorithm a;
  const char* name;
  size_t hex_length;
  const EVP_MD* (*md)();
};
const Algo kAlgos[] = {
    {HashAlgorithm::kMd5, "MD5", 32, EVP_md5},          {HashAlgorithm::kSha1, "SHA1", 40, EVP_sha1},
    {HashAlgorithm::kSha224, "SHA224", 56, EVP_sha224}, {HashAlgorithm::kSha256, "SHA256", 64, EVP_sha256},
    {HashAlgorithm::kSha384, "SHA384", 96, EVP_sha384}, {HashAlgorithm::kSha512, "SHA512", 128, EVP_sha512}};

const Algo& Of(HashAlgorithm a) {
  for (const Algo& x : kAlgos) {
    if (x.a == a) return x;
  }
  std::abort();
}

}  // namespace

const char* HashAlgorithmName(HashAlgorithm a) { return Of(a).name; }

std::optional<HashAlgorithm> HashAlgorithmFromName(std::string_view name) {
  for (const Algo& x : kAlgos) {
    if (name == x.name) return x.a;
  }
  return std::nullopt;
}

std::optional<HashAlgorithm> HashAlgorithmFromHexLength(size_t hex_length) {
  for (const Algo& x : kAlgos) {
    if (hex_length == x.hex_length) return x.a;
  }
  return std::nullopt;
}

struct EvpHash::Ctx {
  EVP_MD_CTX* md = nullptr;
  const EVP_MD* type = nullptr;
};

EvpHash::EvpHash(HashAlgorithm a) : ctx_(std::make_unique<Ctx>()) {
  ctx_->type = Of(a).md();
  ctx_->md = EVP_MD_CTX_new();
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, ctx_->type, nullptr) != 1) std::abort();
}

EvpHash::~EvpHash() { EVP_MD_CTX_free(ctx_->md); }

void EvpHash::Update(const void* data, size_t n) {
  if (EVP_DigestUpdate(ctx_->md, data, n) != 1) std::abort();
}

size_t EvpHash::Finish(uint8_t* out) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out, &len) != 1) std::abort();
  if (EVP_DigestInit_ex(ctx_->md, ctx_->type, nullptr) != 1) std::abort();
  return len;
}

std::string EvpHash::FinishHex() {
  uint8_t out[EVP_MAX_MD_SIZE];
  size_t len = Finish(out);
  return HexEncode(out, len);
}

}  // namespace vouch
