// Builds PostgreSQL 16 (archive version 1.15) and 17 (1.16) pg_dump archives
// for tests from real PostgreSQL 15 (1.14) ones, since no PG16+ server is at
// hand. Independent of vouch's readers: it uses only the standard library,
// zlib, liblz4 and libzstd.
#pragma once

#include <string>

namespace vouch::testing {

enum class DumpCompression { kNone, kGzip, kLz4, kZstd };

// Rewrites the custom-format archive `in_path` (version 1.14, as pg_dump 15
// -Fc writes it, zlib-compressed or not, data offsets set or not) to
// `out_path` as archive version 1.`minor` (15 or 16) with its data
// compressed by `c` (kGzip: a zlib stream, kLz4: an LZ4 frame, kZstd: a zstd
// frame per table and per large object, split into chunks of at most 4096
// bytes; kNone: one chunk per COPY line) and every data offset set. Header
// fields, TOC fields and block order are kept; 1.16 TOC entries get relkind
// 'r' for TABLE entries and 0 otherwise. Returns "" on success, else an error
// message.
std::string RewriteCustomArchive(const std::string& in_path, const std::string& out_path, int minor, DumpCompression c);

// Same for the directory-format archive `in_dir` (pg_dump 15 -Fd): creates
// `out_dir` (which must not exist or be empty) holding exactly a new toc.dat,
// each data file N.dat recompressed as N.dat (kNone), N.dat.gz (a gzip file),
// N.dat.lz4 (an LZ4 frame) or N.dat.zst (a zstd frame), and, for large
// objects, blobs.toc copied unchanged and each blob_OID.dat it lists
// recompressed the same way. Returns "" on success, else an error message.
std::string RewriteDirectoryArchive(const std::string& in_dir, const std::string& out_dir, int minor,
                                    DumpCompression c);

}  // namespace vouch::testing
