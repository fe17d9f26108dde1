#include "vouch/readers/plain_dump_reader.h"

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <utility>

#include "vouch/hashing/large_object_hash.h"
#include "vouch/io_buffer.h"
#include "vouch/readers/byte_scan.h"
#include "vouch/readers/dump_schema.h"
#include "vouch/readers/schema_catalog.h"
#include "vouch/readers/sequences.h"

namespace vouch {
namespace {

constexpr size_t kReadSize = 1 << 20;
constexpr size_t kMaxLine = size_t{256} << 20;  // a statement line longer than this is not a dump

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

class PlainDumpReader final : public TableStreamReader {
 public:
  PlainDumpReader(std::unique_ptr<ByteSource> src, std::string location, Compression c) : src_(std::move(src)) {
    info_.kind = "plain dump";
    info_.location = std::move(location);
    info_.compression = CompressionName(c);
    struct stat st;
    if (::stat(info_.location.c_str(), &st) == 0 && S_ISREG(st.st_mode)) file_size_ = static_cast<uint64_t>(st.st_size);
  }
  // The file's bytes read (compressed), of its size; a pipe's size is unknown.
  ReadExtent Extent() const override { return {src_->RawOffset(), file_size_, false}; }

  Result<bool> NextChunk(RowChunk& chunk, size_t target) override {
    if (!failed_.ok()) return failed_;  // errors are sticky: never read on past one
    auto r = ReadNext(chunk, target);
    if (!r.ok()) failed_ = r.status();
    return r;
  }
  const std::deque<TableInfo>& tables() const override { return tables_; }
  std::deque<TableInfo> ReleaseTables() override { return std::move(tables_); }
  const SourceInfo& source_info() const override { return info_; }
  const std::vector<SequenceInfo>* sequences() const override { return &sequences_.sequences(); }
  const std::vector<LargeObjectInfo>* large_objects() const override { return &large_objects_; }
  const SchemaCatalog* schema() const override { return finished_ ? &schema_objects_ : nullptr; }
  bool ReleaseSchema(SchemaCatalog* out) override {
    if (!finished_) return false;
    *out = std::move(schema_objects_);
    return true;
  }

 private:
  // A plain dump prints each TOC entry under "-- Name: N; Type: T; Schema:
  // S; Owner: O": the lines up to the next such header are its SQL, given
  // to the schema collector (every line, "--" ones too: a function body can
  // hold them; the comment lines that close the entry are trimmed).
  void StartEntry(std::string_view header) {
    FlushEntry();
    auto field = [&](std::string_view key, std::string_view next) -> std::string_view {
      size_t at = header.find(key);
      if (at == std::string_view::npos) return {};
      at += key.size();
      size_t end = next.empty() ? std::string_view::npos : header.find(next, at);
      return header.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    };
    entry_desc_ = std::string(field("; Type: ", "; Schema: "));
    entry_tag_ = std::string(field("-- Name: ", "; Type: "));
    entry_ns_ = std::string(field("; Schema: ", "; Owner: "));
    if (entry_ns_ == "-") entry_ns_.clear();
    entry_text_.clear();
    entry_started_ = false;
    collecting_ = !entry_desc_.empty() && entry_desc_ != "TABLE DATA" && entry_desc_ != "SEQUENCE SET" &&
                  entry_desc_ != "BLOB" && entry_desc_ != "BLOBS" && entry_desc_ != "COMMENT";
  }
  void FlushEntry() {
    if (!collecting_) return;
    collecting_ = false;
    std::string_view text(entry_text_);
    // The "--" and empty lines that open the next entry's header.
    while (true) {
      while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
      size_t nl = text.rfind('\n');
      std::string_view last = text.substr(nl == std::string_view::npos ? 0 : nl + 1);
      if (last != "--" || text.empty()) break;
      text.remove_suffix(last.size());
    }
    schema_collector_.AddEntry(entry_desc_, entry_ns_, entry_tag_, std::string(text) + "\n");
    entry_text_.clear();
  }
  void CollectLine(std::string_view line) {
    if (!collecting_) return;
    if (!entry_started_) {
      if (line.empty() || line == "--") return;
      entry_started_ = true;
    }
    entry_text_.append(line);
    entry_text_.push_back('\n');
  }

  Result<bool> ReadNext(RowChunk& chunk, size_t target) {
    while (true) {
      if (current_ < 0) {
        auto started = FindNextCopy();
        if (!started.ok()) return started.status();
        if (!*started) return false;
      }
      VOUCH_RETURN_IF_ERROR(ReadCopyChunk(chunk, std::max<size_t>(target, 64)));
      if (chunk.size > 0 || chunk.last_of_table) return true;
    }
  }

  std::string Where(uint64_t offset) const {
    return info_.location + ": uncompressed byte offset " + std::to_string(offset);
  }

  // Reads more bytes into buf_ after end_, compacting first. Sets eof_.
  Status Fill() {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      base_ += pos_;
      end_ -= pos_;
      pos_ = 0;
    }
    if (buf_.size() - end_ < kReadSize) buf_.resize(end_ + kReadSize);
    auto r = src_->Read(buf_.data() + end_, buf_.size() - end_);
    if (!r.ok()) return r.status();
    if (*r == 0) eof_ = true;
    end_ += *r;
    return Status::Ok();
  }

  // Walks statement lines up to the next table's COPY line. Returns false at a
  // complete end of the dump.
  Result<bool> FindNextCopy() {
    while (true) {
      char* nl = static_cast<char*>(memchr(buf_.data() + pos_, '\n', end_ - pos_));
      if (nl == nullptr) {
        if (eof_) {
          if (pos_ < end_) {
            std::string_view last(buf_.data() + pos_, end_ - pos_);
            uint64_t off = base_ + pos_;
            pos_ = end_;
            auto handled = HandleStatementLine(last, off);
            if (!handled.ok()) return handled.status();
          }
          return Finish();
        }
        if (end_ - pos_ > kMaxLine) return Corrupt(Where(base_ + pos_) + ": line longer than 256 MB: not a SQL dump");
        VOUCH_RETURN_IF_ERROR(Fill());
        continue;
      }
      std::string_view line(buf_.data() + pos_, static_cast<size_t>(nl - (buf_.data() + pos_)));
      uint64_t off = base_ + pos_;
      pos_ = static_cast<size_t>(nl - buf_.data()) + 1;
      auto started = HandleStatementLine(line, off);
      if (!started.ok()) return started.status();
      if (*started) return true;
    }
  }

  Result<bool> HandleStatementLine(std::string_view line, uint64_t off) {
    if (line.find('\0') != std::string_view::npos) {
      return Unsupported(Where(off) + ": binary data: not a plain-format SQL dump");
    }
    if (!seen_header_) {
      if (StartsWith(line, "-- PostgreSQL database cluster dump")) {
        return Unsupported(Where(off) +
                           ": this is a pg_dumpall cluster dump; vouch reads single-database dumps (pg_dump)");
      }
      if (StartsWith(line, "-- PostgreSQL database dump")) {
        seen_header_ = true;
        return false;
      }
      if (line.empty() || line == "--") return false;
      return Unsupported(Where(off) + ": not a pg_dump plain-format dump (no '-- PostgreSQL database dump' header)");
    }
    if (StartsWith(line, "-- Name: ") || StartsWith(line, "-- Data for Name: ")) {
      StartEntry(line);
    } else if (StartsWith(line, "-- PostgreSQL database dump complete")) {
      FlushEntry();
    } else {
      CollectLine(line);
    }
    if (StartsWith(line, "--")) {
      if (StartsWith(line, "-- PostgreSQL database dump complete")) seen_footer_ = true;
      if (StartsWith(line, "-- Dumped from database version "))
        info_.properties["server_version"] = std::string(line.substr(32));
      if (StartsWith(line, "-- Dumped by pg_dump version "))
        info_.properties["pg_dump_version"] = std::string(line.substr(29));
      if (line.find("; Type: ") != std::string_view::npos) {
        expect_data_ = line.find("; Type: TABLE DATA;") != std::string_view::npos;
        data_header_ = std::string(line);
      }
      return false;
    }
    if (StartsWith(line, "SET client_encoding = '")) {
      std::string_view enc = line.substr(23);
      enc = enc.substr(0, enc.find('\''));
      info_.properties["encoding"] = std::string(enc);
      if (enc != "UTF8" && enc != "SQL_ASCII") {
        return Unsupported(Where(off) + ": dump encoding " + std::string(enc) +
                           " is not supported yet (vouch hashes UTF-8; dump with --encoding=UTF8)");
      }
      return false;
    }
    auto seq = sequences_.AddLine(line);
    if (!seq.ok()) return Corrupt(Where(off) + ": " + seq.status().message());
    if (*seq) return false;
    if (schema_.AddLine(line)) return false;
    if (StartsWith(line, "SELECT pg_catalog.lo_unlink(")) return false;  // --clean
    if (StartsWith(line, "SELECT pg_catalog.lo") || StartsWith(line, "ALTER LARGE OBJECT ")) {
      VOUCH_RETURN_IF_ERROR(LargeObjectLine(line, off));
      return false;
    }
    if (!expect_data_) return false;
    if (StartsWith(line, "INSERT INTO ")) {
      return Unsupported(Where(off) +
                         ": table data is written as INSERT statements (pg_dump --inserts); "
                         "content hashing needs COPY-format data (" +
                         data_header_ + ")");
    }
    if (StartsWith(line, "COPY ") && EndsWith(line, " FROM stdin;")) {
      TableInfo t;
      if (!ParseCopyStatement(line, &t))
        return Corrupt(Where(off) + ": cannot parse COPY statement: " + std::string(line));
      t.data_offset = base_ + pos_;
      // pg_dump writes the ATTACH PARTITION lines before the data.
      t.partition_ancestors = schema_.PartitionAncestors(t.schema, t.name);
      schema_.SetTzKinds(&t);
      schema_.SetTimeColumns(&t);
      expect_data_ = false;
      std::string key = t.schema + '\0' + t.name;
      auto it = index_.find(key);
      if (it != index_.end()) {
        // The same table twice (e.g. partitions dumped with --load-via-partition-root):
        // its rows add up, provided both blocks list the same columns.
        if (tables_[it->second].columns != t.columns) {
          return Unsupported(Where(off) + ": table " + t.QualifiedName() +
                             " appears twice with different column lists");
        }
        current_ = static_cast<int>(it->second);
      } else {
        index_.emplace(key, tables_.size());
        current_ = static_cast<int>(tables_.size());
        tables_.push_back(std::move(t));
      }
      return true;
    }
    return false;
  }

  LargeObjectInfo& LargeObject(uint32_t oid) {
    auto [it, fresh] = lo_index_.emplace(oid, large_objects_.size());
    if (fresh) large_objects_.push_back(LargeObjectInfo{oid, {}, false, 0, {}});
    return large_objects_[it->second];
  }

  // The statements pg_dump writes for large objects: lo_create and ALTER
  // LARGE OBJECT ... OWNER TO (their definitions), then lo_open, lowrite...,
  // lo_close (their data), each object's bytes hashed as they come.
  Status LargeObjectLine(std::string_view line, uint64_t off) {
    uint32_t oid = 0;
    std::string owner;
    std::string_view hex;
    if (ParseLoCreate(line, &oid)) {
      LargeObject(oid);
    } else if (ParseLoOwner(line, &oid, &owner)) {
      LargeObject(oid).owner = std::move(owner);
    } else if (ParseLoOpen(line, &oid)) {
      if (lo_hasher_) return Corrupt(Where(off) + ": lo_open of large object " + std::to_string(oid) +
                                     " before lo_close of large object " + std::to_string(lo_open_));
      lo_open_ = oid;
      lo_bytes_ = 0;
      lo_hasher_ = std::make_unique<LargeObjectHasher>(oid);
    } else if (ParseLowrite(line, &hex)) {
      if (!lo_hasher_) return Corrupt(Where(off) + ": lowrite outside lo_open ... lo_close");
      lo_buf_.clear();
      if (!DecodeHex(hex, &lo_buf_)) {
        return Corrupt(Where(off) + ": large object " + std::to_string(lo_open_) + ": lowrite data is not hex");
      }
      lo_hasher_->Update(lo_buf_.data(), lo_buf_.size());
      lo_bytes_ += lo_buf_.size();
    } else if (IsLoClose(line)) {
      if (!lo_hasher_) return Corrupt(Where(off) + ": lo_close without lo_open");
      LargeObjectInfo& lo = LargeObject(lo_open_);
      if (lo.has_content) {
        return Corrupt(Where(off) + ": the data of large object " + std::to_string(lo_open_) + " appears twice");
      }
      lo.has_content = true;
      lo.bytes = lo_bytes_;
      lo.hash = lo_hasher_->Finish();
      lo_hasher_.reset();
    } else {
      return Corrupt(Where(off) + ": a large object statement vouch cannot read: " +
                     std::string(line.substr(0, 120)));
    }
    return Status::Ok();
  }

  Result<bool> Finish() {
    if (!seen_header_) return Unsupported(info_.location + ": empty or not a pg_dump plain-format dump");
    if (lo_hasher_) {
      return Truncated(Where(base_ + end_) + ": large object " + std::to_string(lo_open_) + " has no lo_close");
    }
    SortLargeObjects(large_objects_);
    if (!seen_footer_) {
      return Truncated(Where(base_ + end_) +
                       ": dump ends without its '-- PostgreSQL database dump complete' footer (truncated?)");
    }
    FlushEntry();
    schema_objects_ = schema_collector_.Finish();
    finished_ = true;
    // Constraints follow the data in a plain dump: keys are known only now.
    for (TableInfo& t : tables_) {
      if (const auto* key = schema_.PrimaryKey(t.schema, t.name)) t.key_columns = *key;
    }
    return false;
  }

  // Moves the next run of whole rows of the current table into `chunk`.
  // Sets chunk.size to 0 when the table ended (its "\." line was consumed).
  Status ReadCopyChunk(RowChunk& chunk, size_t target) {
    const TableInfo& t = tables_[static_cast<size_t>(current_)];
    chunk.table = &t;
    chunk.table_index = static_cast<uint32_t>(current_);
    chunk.offset = base_ + pos_;
    chunk.last_of_table = false;
    size_t have = end_ - pos_;
    size_t cap = std::max(target, have);
    if (chunk.data.size() < cap) chunk.data.resize(cap);
    std::memcpy(chunk.data.data(), buf_.data() + pos_, have);
    pos_ = end_ = 0;
    base_ = chunk.offset + have;
    while (true) {
      // Fill the chunk from the source (decompressing straight into it).
      while (have < chunk.data.size() && !eof_) {
        auto r = src_->Read(chunk.data.data() + have, chunk.data.size() - have);
        if (!r.ok()) {  // the stream failed somewhere ahead of the rows handed out so far
          return Status(r.status().code(), r.status().message() + " (while reading table " + t.QualifiedName() + ")");
        }
        if (*r == 0) eof_ = true;
        have += *r;
        base_ += *r;
      }
      const char* d = chunk.data.data();
      size_t term = FindCopyTerminator(d, have);  // offset of the "\." line, or `have`
      if (term != have) {
        chunk.size = term;
        chunk.last_of_table = true;
        Keep(d + term + 3, have - term - 3, chunk.offset + term + 3);
        current_ = -1;
        return Status::Ok();
      }
      if (eof_) {
        return Truncated(info_.location + ": table " + t.QualifiedName() +
                         ": COPY data starting at uncompressed byte offset " + std::to_string(t.data_offset) +
                         " has no terminating \\. line (stream ends at offset " + std::to_string(chunk.offset + have) +
                         "): the dump is truncated");
      }
      const void* last = memrchr(d, '\n', have);
      if (last != nullptr) {
        size_t cut = static_cast<size_t>(static_cast<const char*>(last) - d) + 1;
        chunk.size = cut;
        Keep(d + cut, have - cut, chunk.offset + cut);
        return Status::Ok();
      }
      chunk.data.resize(chunk.data.size() * 2);  // one row longer than the chunk
    }
  }

  // Puts bytes that follow a chunk back in front of the stream.
  void Keep(const char* p, size_t n, uint64_t offset) {
    if (buf_.size() < n + kReadSize) buf_.resize(n + kReadSize);
    std::memcpy(buf_.data(), p, n);
    pos_ = 0;
    end_ = n;
    base_ = offset;
  }

  std::unique_ptr<ByteSource> src_;
  uint64_t file_size_ = 0;  // 0: not a regular file
  SourceInfo info_;
  std::deque<TableInfo> tables_;
  std::map<std::string, size_t> index_;
  IoBuffer buf_ = IoBuffer(kReadSize);
  size_t pos_ = 0, end_ = 0;
  uint64_t base_ = 0;  // stream offset of buf_[0]
  bool eof_ = false;
  bool seen_header_ = false, seen_footer_ = false, expect_data_ = false;
  std::string data_header_;
  DumpSchema schema_;
  DumpSchemaCollector schema_collector_;
  SchemaCatalog schema_objects_;
  bool finished_ = false;
  std::string entry_desc_, entry_ns_, entry_tag_, entry_text_;
  bool collecting_ = false, entry_started_ = false;
  int current_ = -1;  // table whose COPY block is being read
  DumpSequences sequences_;
  std::vector<LargeObjectInfo> large_objects_;
  std::map<uint32_t, size_t> lo_index_;
  std::unique_ptr<LargeObjectHasher> lo_hasher_;  // between lo_open and lo_close
  uint32_t lo_open_ = 0;
  uint64_t lo_bytes_ = 0;
  std::string lo_buf_;
  Status failed_;
};

}  // namespace

std::unique_ptr<TableStreamReader> MakePlainDumpReader(std::unique_ptr<ByteSource> source, std::string location,
                                                       Compression compression) {
  return std::make_unique<PlainDumpReader>(std::move(source), std::move(location), compression);
}

bool LooksLikePlainDump(std::string_view head) {
  return StartsWith(head, "--") || StartsWith(head, "SET ") || StartsWith(head, "\\");
}

}  // namespace vouch
