// What the evidence module's files share: reading a whole file, OpenSSL's
// last error as text, and writing a file beside its final name and
// renaming it into place.
#pragma once

#include <openssl/err.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "vouch/status.h"

namespace vouch::evidence {

// A file's bytes; "" with *exists false when it cannot be opened (a
// signature, a token or a ledger that may not be there).
inline std::string ReadFileIfAny(const std::string& path, bool* exists) {
  std::ifstream in(path, std::ios::binary);
  *exists = static_cast<bool>(in);
  if (!in) return std::string();
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline Result<std::string> ReadWholeFile(const std::string& path) {
  bool exists = false;
  std::string bytes = ReadFileIfAny(path, &exists);
  if (!exists) return IoError(path + ": cannot read it");
  return bytes;
}

inline std::string SslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// `bytes` to `path` whole or not at all (PATH.tmp, renamed); `what` names
// the file in the error ("the signature").
inline Status ReplaceFile(const std::string& path, const std::string& bytes, const std::string& what) {
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return IoError(path + ": cannot write " + what);
  }
  return Status::Ok();
}

}  // namespace vouch::evidence
