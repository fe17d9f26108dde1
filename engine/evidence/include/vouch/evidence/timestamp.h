// RFC 3161 timestamps (--tsa-url): a time-stamping authority's signed
// token over a report's SHA-256, kept beside it as FILE.tsr, so that the
// report provably existed, unchanged, at that time: a key on the report's
// own host cannot backdate it. verify-evidence checks the token offline
// against the authority's CA (--tsa-ca); so does
//   openssl ts -verify -data FILE -in FILE.tsr -CAfile CA
#pragma once

#include <string>

#include "vouch/status.h"

namespace vouch::evidence {

// Asks the authority at `url` (http://host[:port]/path) for a token over
// `path`'s bytes (SHA-256, a nonce, its certificate included) and writes the
// response to `path`.tsr. An error when the authority cannot be reached or
// does not grant it.
Status TimestampFile(const std::string& path, const std::string& url);
// The same for bytes in memory: the authority's response (DER).
Result<std::string> TimestampBytes(const std::string& data, const std::string& url);

// Checks `token` (a TimeStampResp, DER) against `data` and the CA
// certificates in `ca_file`: Ok with the token's time ("2026-12-07
// 18:40:01 UTC") in *time, Corrupt when it does not hold, another error
// when the files cannot be read.
Status VerifyTimestamp(const std::string& data, const std::string& token, const std::string& ca_file,
                       std::string* time);

}  // namespace vouch::evidence
