// Ed25519 keys and detached signatures (OpenSSL): a report signed with
// `vouch ... --sign KEY` verifies with vouch verify-evidence and with
//   openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in REPORT -sigfile REPORT.sig
// A signature file holds the 64 raw bytes of the signature over the
// report's bytes, exactly as written.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "vouch/status.h"

namespace vouch::evidence {

// Writes a new key pair: `path` the private key (PKCS#8 PEM, mode 0600)
// and `path`.pub the public key (PEM). Neither may exist yet.
Status GenerateKeyPair(const std::string& path);

class SigningKey {
 public:
  // Loads a private key. Like ssh, refuses a key file that others than its
  // owner may read or write (InvalidArgument naming its mode).
  static Result<std::unique_ptr<SigningKey>> Load(const std::string& path);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // The 64-byte Ed25519 signature of `data`.
  Result<std::string> Sign(std::string_view data) const;

 private:
  struct Key;
  explicit SigningKey(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

// Whether `signature` is `public_key_path`'s Ed25519 signature of `data`:
// Ok, Corrupt when it is not, another error when the key cannot be read.
Status VerifySignature(const std::string& public_key_path, std::string_view data, std::string_view signature);

// Writes `key`'s signature of `path`'s bytes to `path`.sig (replaced whole).
Status SignFile(const SigningKey& key, const std::string& path);

}  // namespace vouch::evidence
