// Reader for pg_dump's plain format (.sql, optionally gzip/zstd/lz4
// compressed; docs/formats.md "Plain format"). Finds each table's COPY block after its
// "-- Data for Name: ...; Type: TABLE DATA" header, skips \restrict and
// \unrestrict, and hands out the COPY rows in place, without copying rows one
// by one. Requires the dump's completion footer, so a truncated dump is an
// error, never a smaller digest.
#pragma once

#include <memory>
#include <string>

#include "vouch/readers/byte_source.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

// `source` must already be decompressed. `compression` is recorded in
// source_info().
std::unique_ptr<TableStreamReader> MakePlainDumpReader(std::unique_ptr<ByteSource> source, std::string location,
                                                       Compression compression);

// Sniffs the first bytes of a decompressed stream: true when it looks like a
// plain SQL dump (text starting with a comment, SET, or a psql meta-command).
bool LooksLikePlainDump(std::string_view head);

}  // namespace vouch
