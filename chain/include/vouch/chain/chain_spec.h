// ChainSpec: how an audit table links its rows by hash (docs/design.md "Checks
// beyond content"): hash_i = H(field_1 sep field_2 sep ... field_n), where the
// fields normally start with prev_hash_i and prev_hash_i = hash_{i-1}. Specs
// come from the command line (ParseChainFlag) or a TOML file
// (LoadChainConfig); both check them with the same rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/status.h"

namespace vouch {

// The hash function H. Names: "sha256", "sha512", "xxh3-128" (XXH3 128-bit,
// seed 0, digest bytes in xxHash's canonical big-endian order).
enum class ChainAlgorithm { kSha256, kSha512, kXxh3_128 };

// How the hash and prev_hash columns store a digest. Names: "hex" (text,
// either case), "base64" (text, standard alphabet, padding and line breaks
// optional, as PostgreSQL's encode(..., 'base64') writes it), "bytea" (a
// bytea column: COPY text `\\x<hex>`, or the legacy escape output).
enum class ChainEncoding { kHex, kBase64, kBytea };

// How a timestamp column is written into the hash input. The stored value
// (PostgreSQL's COPY text, any UTC offset) is converted to UTC and rendered:
//   "as-stored"   the COPY text unchanged
//   "iso-micros"  2025-09-15T08:22:10.500000Z
//   "iso-millis"  2025-09-15T08:22:10.500Z   (sub-millisecond digits truncated)
//   "iso-seconds" 2025-09-15T08:22:10Z       (fraction truncated)
enum class TimestampRendering { kAsStored, kIsoUtcMicros, kIsoUtcMillis, kIsoUtcSeconds };

struct ChainSpec {
  std::string table = "public.audit_log";  // schema.name; parsers add "public." to a bare name
  std::string seq_column = "seq";          // integer position of a link in the chain
  std::string prev_column = "prev_hash";   // the predecessor's hash, as stored
  std::string hash_column = "hash";        // this link's hash, as stored
  // The hash input: these columns' values, in this order, joined by
  // `separator`. A value is the decoded COPY text; NULL is `null_as`;
  // timestamp columns are rendered per `timestamps`.
  std::vector<std::string> fields = {"prev_hash", "seq", "ts", "actor", "action", "payload"};
  std::string separator = "|";
  TimestampRendering timestamps = TimestampRendering::kIsoUtcMicros;
  ChainAlgorithm algorithm = ChainAlgorithm::kSha256;
  ChainEncoding encoding = ChainEncoding::kHex;
  // prev_hash of the first link as the column holds it (bytea: `\x00…`, not
  // COPY-escaped); compared after decoding per `encoding`, so case does not
  // matter for hex; a value that does not decode is compared as text.
  // Empty = the first link's prev_hash is not checked.
  std::string genesis = std::string(64, '0');
  std::string null_as;  // what a NULL field contributes to the hash input
};

const char* ChainAlgorithmName(ChainAlgorithm a);
const char* ChainEncodingName(ChainEncoding e);
const char* TimestampRenderingName(TimestampRendering t);
std::optional<ChainAlgorithm> ChainAlgorithmFromName(std::string_view name);
std::optional<ChainEncoding> ChainEncodingFromName(std::string_view name);
std::optional<TimestampRendering> TimestampRenderingFromName(std::string_view name);

// Digest length in bytes: 32, 64, 16.
size_t ChainDigestSize(ChainAlgorithm a);

// The all-zero digest of `a` as `e` stores it: 64 '0' for sha256/hex,
// "AAAA...AA=" for sha256/base64, `\x00...00` for bytea. The parsers use it as
// the genesis when the spec names no genesis but changes the algorithm or
// encoding.
std::string DefaultGenesis(ChainAlgorithm a, ChainEncoding e);

// Checks a spec as both parsers do: the table is schema.name, column and
// field names are non-empty, the hash column is not among the hashed fields,
// the seq, prev and hash columns are distinct (the separator may be empty).
// InvalidArgument naming the problem.
Status ValidateChainSpec(const ChainSpec& spec);

// Parses the compact command-line form (`--chain`):
//
//   FLAG   := TABLE [ ':' [ OPTION { ',' OPTION } ] ]
//   TABLE  := [ SCHEMA '.' ] NAME                    (no schema: public)
//   OPTION := KEY '=' VALUE
//   KEY    := seq | prev | hash | fields | sep | algo | enc | ts | genesis | null
//             (or the TOML names: seq_column, prev_column, hash_column,
//              separator, algorithm, encoding, timestamps, null_as)
//   fields VALUE := NAME { '|' NAME }
//
// Every key is optional and may appear once; "audit_log" alone is the
// default spec for public.audit_log. Quoting, anywhere in FLAG: '...' takes
// everything up to the next ' literally (so ':' ',' '=' '|' '.' and spaces
// lose their meaning); outside quotes a backslash escapes: \t TAB, \n LF,
// \r CR, and \ before any other character is that character (\, \' \\ \|).
// Unquoted spaces around keys, values and field names are dropped.
// Examples:
//   audit_log:sep=\t,algo=sha512
//   public.events:fields=prev|id|at|body,sep=',',ts=as-stored,genesis=
//   ops.audit:hash=digest,enc=base64,null=NULL
// An empty genesis ("genesis=") disables the genesis check. Errors
// (InvalidArgument) quote the flag and name the bad key or value.
Result<ChainSpec> ParseChainFlag(std::string_view text);

// Reads chain specs from a TOML file: one or more [[chain]] tables with keys
// table (required), seq_column, prev_column, hash_column, fields (array of
// strings), separator, timestamps, algorithm, encoding, genesis, null_as;
// others default as in ChainSpec. Unknown keys, wrong types, a missing
// [[chain]], or two chains on one table are errors (InvalidArgument, naming
// the file, the key and its line); an unreadable file is IoError.
Result<std::vector<ChainSpec>> LoadChainConfig(const std::string& path);

// One line for reports, e.g.
//   public.audit_log: hash = hex(sha256(prev_hash|seq|ts|actor|action|payload)),
//   seq seq, prev prev_hash, ts iso-micros, genesis 0000…0000 (64 chars)
// Control characters in the separator are shown escaped (\t).
std::string DescribeChainSpec(const ChainSpec& spec);

// The chain table's schema and name: spec.table split at its first dot
// ("public" when it has none).
std::pair<std::string, std::string> ChainTableName(const ChainSpec& spec);

}  // namespace vouch
