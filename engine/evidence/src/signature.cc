#include "vouch/evidence/signature.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "files.h"
namespace vouch::evidence {
namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

// OpenSSL's last error, for messages.
// Writes `text` to a file that must not exist, created with `mode`.
Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return errno == EEXIST ? InvalidArgument(path + ": exists already (a key is never overwritten)")
                           : IoError(path + ": cannot create it");
  }
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  return close(fd) == 0 && ok ? Status::Ok() : IoError(path + ": cannot write it");
}

std::string Pem(const std::function<int(BIO*)>& write) {
  Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || write(bio.get()) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

struct SigningKey::Key {
  Pkey pkey{nullptr, &EVP_PKEY_free};
};

SigningKey::SigningKey(std::unique_ptr<Key> key) : key_(std::move(key)) {}
SigningKey::~SigningKey() = default;

Status GenerateKeyPair(const std::string& path) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  if (!key) return IoError("cannot make an Ed25519 key: " + SslError());
  const std::string priv =
      Pem([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  const std::string pub = Pem([&](BIO* b) { return PEM_write_bio_PUBKEY(b, key.get()); });
  if (priv.empty() || pub.empty()) return IoError("cannot write the key as PEM: " + SslError());
  if (access((path + ".pub").c_str(), F_OK) == 0) {
    return InvalidArgument(path + ".pub: exists already (a key is never overwritten)");
  }
  VOUCH_RETURN_IF_ERROR(WriteNew(path, priv, 0600));
  Status st = WriteNew(path + ".pub", pub, 0644);
  if (!st.ok()) unlink(path.c_str());
  return st;
}

Result<std::unique_ptr<SigningKey>> SigningKey::Load(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return IoError(path + ": no such key file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return InvalidArgument(path + ": permissions " + mode +
                           " are too open: a private key must be readable by its owner only (chmod 600 " + path + ")");
  }
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  Bio bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())), &BIO_free);
  auto key = std::make_unique<Key>();
  key->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key->pkey) return InvalidArgument(path + ": not a PEM private key: " + SslError());
  if (EVP_PKEY_get_id(key->pkey.get()) != EVP_PKEY_ED25519) {
    return InvalidArgument(path + ": not an Ed25519 key (vouch keygen makes one)");
  }
  return std::unique_ptr<SigningKey>(new SigningKey(std::move(key)));
}

Result<std::string> SigningKey::Sign(std::string_view data) const {
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      len != 64) {
    return IoError("cannot sign: " + SslError());
  }
  return sig;
}

Status VerifySignature(const std::string& public_key_path, std::string_view data, std::string_view signature) {
  auto text = ReadWholeFile(public_key_path);
  if (!text.ok()) return text.status();
  Bio bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())), &BIO_free);
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return InvalidArgument(public_key_path + ": not a PEM public key: " + SslError());
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return InvalidArgument(public_key_path + ": not an Ed25519 public key");
  }
  if (signature.size() != 64) {
    return Corrupt("the signature is " + std::to_string(signature.size()) + " bytes, not Ed25519's 64");
  }
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return IoError("cannot verify: " + SslError());
  }
  const int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                  reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  return ok == 1 ? Status::Ok() : Corrupt("the signature does not match the report's bytes and this public key");
}

Status SignFile(const SigningKey& key, const std::string& path) {
  auto data = ReadWholeFile(path);
  if (!data.ok()) return data.status();
  auto sig = key.Sign(*data);
  if (!sig.ok()) return sig.status();
  return ReplaceFile(path + ".sig", *sig, "the signature");
}

}  // namespace vouch::evidence
