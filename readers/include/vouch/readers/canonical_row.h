// RowCanonicalizer: turns a row as a source lists it into the canonical row of
// docs/design.md (fields in byte order of the column names), checking its field
// count. One per table; Canonicalize is const and thread-safe, the scratch
// buffers belong to the calling thread and are reused across rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/readers/table_stream.h"

namespace vouch {

struct CanonicalScratch {
  std::string row;
  std::vector<uint32_t> bounds;  // field start/end offsets
};

class RowCanonicalizer {
 public:
  // `check_escapes`: a row with a byte COPY TO never writes (a stray
  // backslash or carriage return) is kBadEscape; for rows from files, where
  // damage can produce one.
  explicit RowCanonicalizer(const TableInfo& table, bool check_escapes = false);
  enum Outcome { kOk, kFieldCount, kBadTimestamptz, kNonUtcUnknownType, kBadEscape };
  // `row` excludes its '\n'. On success *out views either `row` itself or
  // scratch.row. kFieldCount: *fields holds the number found. Otherwise
  // *fields is the index (COPY order) of the column whose value is a problem.
  Outcome Canonicalize(std::string_view row, CanonicalScratch& scratch, std::string_view* out, size_t* fields) const;

 private:
  const TableInfo* table_;
  size_t ncols_;
  bool rewrite_;  // some column holds timestamptz to normalize or check
  bool check_escapes_;
};

}  // namespace vouch
