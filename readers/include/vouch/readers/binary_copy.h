// COPY ... TO STDOUT (FORMAT binary) turned into the rows COPY text would
// have given (docs/formats.md, "Binary COPY"): the server sends each value in
// its binary form, which costs it far less than its text output functions,
// and vouch writes the text those functions would have written under the
// canonical session settings (DateStyle ISO, IntervalStyle postgres,
// TimeZone UTC, extra_float_digits 3, bytea_output hex, client_encoding
// UTF8), then COPY text's escaping. The digest of a table read either way is
// the same. Only the types below have a converter; a table with a column of
// any other type is read as text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/readers/table_stream.h"
#include "vouch/status.h"

namespace vouch {

// The built-in types with a converter (their OIDs are fixed in every
// PostgreSQL release).
enum class BinaryKind : uint8_t {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kOid,
  kFloat4,
  kFloat8,
  kNumeric,
  kText,  // text, varchar, bpchar, name, json, enum labels: the bytes as sent
  kChar,  // "char" (PostgreSQL 15+ output: a high-bit byte as \ooo)
  kBytea,
  kDate,
  kTime,
  kTimeTz,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJsonb,
  kInet,
  kCidr,
  kMacaddr,
  kArray,
};

// The kind of the built-in scalar type `type_oid`, or none. "char" needs a
// server of version 15 or later (`server_version_num`), whose output escapes
// high-bit bytes.
std::optional<BinaryKind> BinaryKindOfType(uint32_t type_oid, int server_version_num);

// One column: its kind and, for an array, its elements' kind and the element
// type OID the array's header must carry.
struct BinaryColumn {
  BinaryKind kind = BinaryKind::kText;
  BinaryKind element = BinaryKind::kText;
  uint32_t element_oid = 0;
};

// Converts one table's binary COPY stream, fed in pieces of any size, into
// COPY text rows. Not thread-safe; its buffers are reused from row to row.
class BinaryCopyDecoder {
 public:
  // With `keep_tuples`, Feed appends the whole tuples as they came (field
  // count and fields, framing checked) instead of converting them, for
  // ConvertBinaryChunk to convert elsewhere.
  explicit BinaryCopyDecoder(std::vector<BinaryColumn> columns, bool keep_tuples = false);
  ~BinaryCopyDecoder();
  BinaryCopyDecoder(const BinaryCopyDecoder&) = delete;
  BinaryCopyDecoder& operator=(const BinaryCopyDecoder&) = delete;

  // Appends the text rows of every whole tuple in what has arrived so far
  // (each row ending in '\n') to `out`. An error names the row and column.
  Status Feed(std::string_view bytes, std::string& out);
  // The stream ended: it must have ended with the trailer.
  Status Finish() const;
  uint64_t rows() const { return rows_; }

 private:
  friend Status ConvertBinaryChunk(RowChunk& chunk, std::string& scratch);
  Status Parse(const char* p, size_t n, size_t* used, std::string& out);
  Status ConvertRow(const char* p, std::string& out);

  std::vector<BinaryColumn> columns_;
  bool keep_tuples_ = false;
  std::string pending_;  // bytes of an incomplete header or tuple
  std::string scratch_, scratch2_;
  bool header_done_ = false, ended_ = false;
  uint64_t rows_ = 0;
};

// Converts a chunk of whole binary tuples (RowChunk::binary_columns) into
// COPY text rows in place; `scratch` is reused between calls. Does nothing
// to a chunk of text rows.
Status ConvertBinaryChunk(RowChunk& chunk, std::string& scratch);

// The text output of one value of `column` (binary form [v, v + len)),
// unescaped, appended to `out`; for tests and the fuzz target.
Status BinaryValueText(const BinaryColumn& column, const char* v, int32_t len, std::string& out);

}  // namespace vouch
