#include "archive_rewriter.h"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace vouch::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint8_t kFormatCustom = 1;
constexpr uint8_t kFormatDirectory = 3;
constexpr uint8_t kBlockTableData = 1;
constexpr uint8_t kBlockLargeObjects = 3;
constexpr uint8_t kOffsetNotSet = 1;
constexpr uint8_t kOffsetSet = 2;
constexpr uint8_t kOffsetNoData = 3;
constexpr size_t kMaxChunk = 4096;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Failure("cannot read " + path.string());
  return ss.str();
}

void WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) throw Failure("cannot write " + path.string());
}

// Sign byte, then `size` bytes of magnitude, least significant first.
void PutInt(std::string& out, int size, int64_t v) {
  out.push_back(v < 0 ? 1 : 0);
  uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  for (int i = 0; i < size; ++i, mag >>= 8) out.push_back(static_cast<char>(mag & 0xff));
}

// Reads archive primitives from `buf`, named `what` in error messages.
class Reader {
 public:
  Reader(std::string_view buf, std::string what) : buf_(buf), what_(std::move(what)) {}

  void set_int_size(int size) { int_size_ = size; }
  size_t pos() const { return pos_; }
  bool AtEnd() const { return pos_ == buf_.size(); }

  std::string_view Bytes(size_t n) {
    if (n > buf_.size() - pos_) {
      throw Failure(what_ + ": truncated at byte " + std::to_string(pos_) + " (wanted " + std::to_string(n) +
                    " more bytes)");
    }
    std::string_view out = buf_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint8_t Byte() { return static_cast<uint8_t>(Bytes(1)[0]); }
  int64_t Int() {
    bool negative = Byte() != 0;
    uint64_t mag = 0;
    for (int i = 0; i < int_size_; ++i) mag |= static_cast<uint64_t>(Byte()) << (8 * i);
    return static_cast<int64_t>(negative ? 0 - mag : mag);
  }
  std::optional<std::string_view> Str() {
    int64_t len = Int();
    if (len == -1) return std::nullopt;
    if (len < 0)
      throw Failure(what_ + ": bad string length " + std::to_string(len) + " before byte " + std::to_string(pos_));
    return Bytes(static_cast<size_t>(len));
  }
  // A slice of the buffer, to copy fields verbatim.
  std::string_view Span(size_t from) const { return buf_.substr(from, pos_ - from); }
  const std::string& what() const { return what_; }

 private:
  std::string_view buf_;
  std::string what_;
  size_t pos_ = 0;
  int int_size_ = 4;
};

struct TocEntry {
  int64_t dump_id = 0;
  std::string desc;
  std::string_view through_tableam;  // raw dumpId .. tableam
  std::string_view from_owner;       // raw owner .. dependency list terminator
  uint8_t offset_flag = 0;           // custom format: the input's data-offset flag
  std::string_view file_name_raw;    // directory format: the raw file-name Str
  std::string file_name;             // directory format: its value ("" when NULL)
};

// A parsed 1.14 header and TOC; the views point into the parsed buffer.
struct Archive {
  int int_size = 0;
  int off_size = 0;
  int64_t compression_level = 0;
  std::string_view header_tail;  // raw creation time .. pg_dump version
  std::vector<TocEntry> toc;
};

// Parses the header and TOC of a `format` archive, leaving `r` just after the TOC.
Archive ParseArchive(Reader& r, uint8_t format) {
  if (r.Bytes(5) != "PGDMP") throw Failure(r.what() + ": no PGDMP magic");
  int major = r.Byte();
  int minor = r.Byte();
  r.Byte();  // revision
  if (major != 1 || minor != 14) {
    throw Failure(r.what() + ": archive version " + std::to_string(major) + "." + std::to_string(minor) +
                  ", expected 1.14");
  }
  Archive a;
  a.int_size = r.Byte();
  a.off_size = r.Byte();
  if (a.int_size < 1 || a.int_size > 8 || a.off_size < 1 || a.off_size > 8) {
    throw Failure(r.what() + ": unsupported integer/offset size " + std::to_string(a.int_size) + "/" +
                  std::to_string(a.off_size));
  }
  r.set_int_size(a.int_size);
  int found_format = r.Byte();
  if (found_format != format) {
    throw Failure(r.what() + ": archive format " + std::to_string(found_format) + ", expected " +
                  std::to_string(format));
  }
  a.compression_level = r.Int();
  size_t tail_start = r.pos();
  for (int i = 0; i < 7; ++i) r.Int();  // creation time
  for (int i = 0; i < 3; ++i) r.Str();  // database, server version, pg_dump version
  a.header_tail = r.Span(tail_start);

  int64_t count = r.Int();
  if (count < 0) throw Failure(r.what() + ": negative TOC entry count");
  for (int64_t i = 0; i < count; ++i) {
    TocEntry e;
    size_t start = r.pos();
    e.dump_id = r.Int();
    r.Int();                              // hadDumper
    for (int f = 0; f < 3; ++f) r.Str();  // tableoid, oid, tag
    e.desc = r.Str().value_or("");
    r.Int();                              // section
    for (int f = 0; f < 6; ++f) r.Str();  // defn, dropStmt, copyStmt, namespace, tablespace, tableam
    e.through_tableam = r.Span(start);
    start = r.pos();
    r.Str();  // owner
    r.Str();  // withOids
    while (r.Str()) {
    }
    e.from_owner = r.Span(start);
    if (format == kFormatCustom) {
      e.offset_flag = r.Byte();
      if (e.offset_flag < kOffsetNotSet || e.offset_flag > kOffsetNoData) {
        throw Failure(r.what() + ": bad data-offset flag " + std::to_string(e.offset_flag) + " for dump ID " +
                      std::to_string(e.dump_id));
      }
      r.Bytes(static_cast<size_t>(a.off_size));
    } else {
      start = r.pos();
      e.file_name = r.Str().value_or("");
      e.file_name_raw = r.Span(start);
    }
    a.toc.push_back(std::move(e));
  }
  return a;
}

// Header of archive version 1.`minor`: only the version and the compression
// field (one algorithm byte since 1.15) differ from the input's.
std::string BuildHeader(const Archive& a, int minor, DumpCompression c, uint8_t format) {
  uint8_t algorithm = 0;
  switch (c) {
    case DumpCompression::kNone: algorithm = 0; break;
    case DumpCompression::kGzip: algorithm = 1; break;
    case DumpCompression::kLz4: algorithm = 2; break;
    case DumpCompression::kZstd: algorithm = 3; break;
  }
  std::string out = "PGDMP";
  for (int b : {1, minor, 0, a.int_size, a.off_size, static_cast<int>(format), static_cast<int>(algorithm)}) {
    out.push_back(static_cast<char>(b));
  }
  out.append(a.header_tail);
  return out;
}

// A TOC entry without its format-specific extra; 1.16 adds relkind.
void AppendTocEntry(std::string& out, const Archive& a, const TocEntry& e, int minor) {
  out.append(e.through_tableam);
  if (minor >= 16) PutInt(out, a.int_size, e.desc == "TABLE" ? 'r' : 0);
  out.append(e.from_owner);
}

// Decompresses a zlib stream, or with `gzip` a gzip file of one or more members.
std::string Inflate(std::string_view in, bool gzip, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, gzip ? 15 + 16 : 15) != Z_OK) throw Failure("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  if (in.size() > UINT_MAX) throw Failure(what + ": too large");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  std::vector<char> buf(1 << 16);
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return out;
      if (!gzip) throw Failure(what + ": bytes after the end of the zlib stream");
      inflateReset(&zs);
    } else if (rc != Z_OK) {
      throw Failure(what + ": cannot decompress (" + (zs.msg ? zs.msg : "truncated") + ")");
    }
  }
}

// A zlib stream, or with `gzip` a gzip file, at zlib's default level.
std::string Deflate(std::string_view in, bool gzip) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Failure("deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, deflateEnd);
  if (in.size() > UINT_MAX) throw Failure("data too large for one deflate call");
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw Failure("deflate failed");
  out.resize(zs.total_out);
  return out;
}

// One LZ4 frame with default preferences, written as a stream (no content size).
std::string Lz4Frame(std::string_view in) {
  LZ4F_cctx* raw_ctx = nullptr;
  if (LZ4F_isError(LZ4F_createCompressionContext(&raw_ctx, LZ4F_VERSION))) throw Failure("LZ4F context failed");
  std::unique_ptr<LZ4F_cctx, LZ4F_errorCode_t (*)(LZ4F_cctx*)> ctx(raw_ctx, LZ4F_freeCompressionContext);
  std::string out(LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(in.size(), nullptr), '\0');
  size_t pos = 0;
  auto check = [&](size_t n) {
    if (LZ4F_isError(n)) throw Failure(std::string("LZ4 compression failed: ") + LZ4F_getErrorName(n));
    pos += n;
  };
  check(LZ4F_compressBegin(ctx.get(), out.data(), out.size(), nullptr));
  check(LZ4F_compressUpdate(ctx.get(), out.data() + pos, out.size() - pos, in.data(), in.size(), nullptr));
  check(LZ4F_compressEnd(ctx.get(), out.data() + pos, out.size() - pos, nullptr));
  out.resize(pos);
  return out;
}

// One zstd frame at the default level, fed as a stream and then ended, as
// pg_dump does (so the frame header carries no content size).
std::string ZstdFrame(std::string_view in) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!ctx) throw Failure("ZSTD_createCCtx failed");
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  std::vector<char> buf(ZSTD_CStreamOutSize());
  std::string out;
  for (ZSTD_EndDirective mode : {ZSTD_e_continue, ZSTD_e_end}) {
    size_t left = 0;
    do {
      ZSTD_outBuffer dst{buf.data(), buf.size(), 0};
      left = ZSTD_compressStream2(ctx.get(), &dst, &src, mode);
      if (ZSTD_isError(left)) throw Failure(std::string("zstd compression failed: ") + ZSTD_getErrorName(left));
      out.append(buf.data(), dst.pos);
    } while (mode == ZSTD_e_end ? left != 0 : src.pos < src.size);
  }
  return out;
}

// `raw` encoded by `c`; kGzip gives a gzip file when `gzip_file`, else a zlib stream.
std::string Compress(std::string_view raw, DumpCompression c, bool gzip_file) {
  switch (c) {
    case DumpCompression::kNone: return std::string(raw);
    case DumpCompression::kGzip: return Deflate(raw, gzip_file);
    case DumpCompression::kLz4: return Lz4Frame(raw);
    case DumpCompression::kZstd: return ZstdFrame(raw);
  }
  throw Failure("unknown compression");
}

// Reads one stream's chunks through the zero length; returns its uncompressed bytes.
std::string ReadStream(Reader& r, int64_t compression_level, const std::string& what) {
  std::string packed;
  for (int64_t len = r.Int(); len != 0; len = r.Int()) {
    if (len < 0) throw Failure(r.what() + ": negative chunk length in " + what);
    packed.append(r.Bytes(static_cast<size_t>(len)));
  }
  return compression_level == 0 ? packed : Inflate(packed, false, r.what() + ": " + what);
}

// Appends `raw` compressed by `c` as chunks of at most kMaxChunk bytes and the
// terminating zero length. With kNone and `by_line`, chunks are cut as pg_dump
// writes COPY data: one per line, and the end marker "\\.\n\n\n" as one.
void AppendStream(std::string& out, int int_size, std::string_view raw, DumpCompression c, bool by_line) {
  const std::string packed = Compress(raw, c, false);
  std::string_view rest = packed;
  while (!rest.empty()) {
    size_t n = std::min(rest.size(), kMaxChunk);
    if (c == DumpCompression::kNone && by_line) {
      size_t nl = rest.find('\n');
      n = nl == std::string_view::npos || rest == "\\.\n\n\n" ? rest.size() : nl + 1;
    }
    PutInt(out, int_size, static_cast<int64_t>(n));
    out.append(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  PutInt(out, int_size, 0);
}

void RewriteCustom(const std::string& in_path, const std::string& out_path, int minor, DumpCompression c) {
  const std::string bytes = ReadFile(in_path);
  Reader r(bytes, in_path);
  const Archive a = ParseArchive(r, kFormatCustom);
  std::map<int64_t, const TocEntry*> by_id;
  for (const TocEntry& e : a.toc) by_id[e.dump_id] = &e;

  std::string data;                    // the rewritten blocks
  std::map<int64_t, size_t> block_at;  // dump ID -> block position in `data`
  while (!r.AtEnd()) {
    size_t block_pos = data.size();
    uint8_t type = r.Byte();
    int64_t id = r.Int();
    std::string what = "dump ID " + std::to_string(id);
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second->offset_flag == kOffsetNoData) {
      throw Failure(in_path + ": data block for " + what + ", which the TOC lists without data");
    }
    if (!block_at.emplace(id, block_pos).second) throw Failure(in_path + ": second data block for " + what);
    data.push_back(static_cast<char>(type));
    PutInt(data, a.int_size, id);
    if (type == kBlockTableData) {
      AppendStream(data, a.int_size, ReadStream(r, a.compression_level, what), c, true);
    } else if (type == kBlockLargeObjects) {
      for (int64_t oid = r.Int();; oid = r.Int()) {
        PutInt(data, a.int_size, oid);
        if (oid == 0) break;
        std::string object = ReadStream(r, a.compression_level, what + ", large object " + std::to_string(oid));
        AppendStream(data, a.int_size, object, c, false);
      }
    } else {
      throw Failure(in_path + ": unknown block type " + std::to_string(type) + " for " + what);
    }
  }
  for (const TocEntry& e : a.toc) {
    if (e.offset_flag != kOffsetNoData && !block_at.count(e.dump_id)) {
      throw Failure(in_path + ": no data block for dump ID " + std::to_string(e.dump_id));
    }
  }

  const std::string header = BuildHeader(a, minor, c, kFormatCustom);
  // Offset fields have a fixed size, so the TOC's size does not depend on `data_base`.
  auto build_toc = [&](uint64_t data_base) {
    std::string toc;
    PutInt(toc, a.int_size, static_cast<int64_t>(a.toc.size()));
    for (const TocEntry& e : a.toc) {
      AppendTocEntry(toc, a, e, minor);
      auto it = block_at.find(e.dump_id);
      toc.push_back(static_cast<char>(it == block_at.end() ? kOffsetNoData : kOffsetSet));
      uint64_t offset = it == block_at.end() ? 0 : data_base + it->second;
      for (int i = 0; i < a.off_size; ++i, offset >>= 8) toc.push_back(static_cast<char>(offset & 0xff));
    }
    return toc;
  };
  const uint64_t data_base = header.size() + build_toc(0).size();
  WriteFile(out_path, header + build_toc(data_base) + data);
}

// Rejects TOC-supplied file names that are not plain names inside the archive directory.
void CheckPlainName(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    throw Failure(what + ": unexpected file name '" + name + "'");
  }
}

// Reads data file `name` as pg_restore 15 does (`name`, else the gzip file
// `name`.gz) and writes it into `out_dir` compressed by `c`, suffixed accordingly.
void RecompressFile(const fs::path& in_dir, const fs::path& out_dir, const std::string& name, DumpCompression c) {
  CheckPlainName(name, in_dir.string());
  std::string raw;
  if (fs::exists(in_dir / name)) {
    raw = ReadFile(in_dir / name);
  } else {
    const fs::path gz = in_dir / (name + ".gz");
    raw = Inflate(ReadFile(gz), true, gz.string());
  }
  const char* suffix = "";
  switch (c) {
    case DumpCompression::kNone: suffix = ""; break;
    case DumpCompression::kGzip: suffix = ".gz"; break;
    case DumpCompression::kLz4: suffix = ".lz4"; break;
    case DumpCompression::kZstd: suffix = ".zst"; break;
  }
  WriteFile(out_dir / (name + suffix), Compress(raw, c, true));
}

void RewriteDirectory(const fs::path& in_dir, const fs::path& out_dir, int minor, DumpCompression c) {
  const fs::path toc_path = in_dir / "toc.dat";
  const std::string bytes = ReadFile(toc_path);
  Reader r(bytes, toc_path.string());
  const Archive a = ParseArchive(r, kFormatDirectory);
  if (!r.AtEnd()) throw Failure(toc_path.string() + ": bytes after the TOC");

  if (fs::exists(out_dir)) {
    if (!fs::is_directory(out_dir) || !fs::is_empty(out_dir)) {
      throw Failure(out_dir.string() + " exists and is not an empty directory");
    }
  } else {
    fs::create_directories(out_dir);
  }

  std::string toc = BuildHeader(a, minor, c, kFormatDirectory);
  PutInt(toc, a.int_size, static_cast<int64_t>(a.toc.size()));
  for (const TocEntry& e : a.toc) {
    AppendTocEntry(toc, a, e, minor);
    toc.append(e.file_name_raw);
  }
  WriteFile(out_dir / "toc.dat", toc);

  for (const TocEntry& e : a.toc) {
    if (e.file_name.empty()) continue;
    if (e.desc != "BLOBS") {
      RecompressFile(in_dir, out_dir, e.file_name, c);
      continue;
    }
    CheckPlainName(e.file_name, toc_path.string());
    const std::string blobs_toc = ReadFile(in_dir / e.file_name);
    WriteFile(out_dir / e.file_name, blobs_toc);
    std::istringstream lines(blobs_toc);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      unsigned long oid = 0;
      std::string name;
      if (!(fields >> oid >> name)) throw Failure((in_dir / e.file_name).string() + ": bad line '" + line + "'");
      RecompressFile(in_dir, out_dir, name, c);
    }
  }
}

void CheckMinor(int minor) {
  if (minor != 15 && minor != 16)
    throw Failure("target archive version 1." + std::to_string(minor) + " is not 1.15 or 1.16");
}

}  // namespace

std::string RewriteCustomArchive(const std::string& in_path, const std::string& out_path, int minor,
                                 DumpCompression c) {
  try {
    CheckMinor(minor);
    RewriteCustom(in_path, out_path, minor, c);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::string RewriteDirectoryArchive(const std::string& in_dir, const std::string& out_dir, int minor,
                                    DumpCompression c) {
  try {
    CheckMinor(minor);
    RewriteDirectory(in_dir, out_dir, minor, c);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace vouch::testing
