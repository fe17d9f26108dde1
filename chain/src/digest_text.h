// Text forms of a digest as the hash/prev_hash columns store it (internal to
// the chain module): hex, base64, bytea.
#pragma once

#include <string>
#include <string_view>

#include "vouch/chain/chain_spec.h"

namespace vouch::chain_internal {

// Decodes `text` (already COPY-unescaped) into `out` (replaced, capacity
// reused); false if it is not valid for `e`:
//   kHex:    an even number of hex digits, either case
//   kBase64: standard alphabet; '=' padding optional; whitespace (the line
//            breaks encode() inserts every 76 characters) ignored
//   kBytea:  `\x` + hex, or the escape format (`\\`, `\ooo`, other bytes as is)
bool DecodeDigestText(ChainEncoding e, std::string_view text, std::string& out);

// Encodes digest bytes as `e` stores them (lower-case hex, padded base64,
// `\x` + lower-case hex); the inverse of DecodeDigestText.
std::string EncodeDigestText(ChainEncoding e, std::string_view bytes);

}  // namespace vouch::chain_internal
