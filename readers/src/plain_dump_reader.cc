#include "vouch/readers/plain_dump_reader.h"

#include <cstring>
#include <map>

#include "vouch/readers/byte_scan.h"
#include <utility>

namespace vouch {
namespace {

constexpr size_t kReadSize = 1 << 20;
constexpr size_t kMaxLine = size_t{256} << 20;  // a statement line longer than this is not a dump

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Parses one SQL identifier at *s: "quoted" (with "" for ") or bare (up to a
// delimiter). Bare identifiers are returned as written (pg_dump writes them
// lower case). Returns false on a malformed quoted identifier.
bool ParseIdent(std::string_view* s, std::string* out) {
  out->clear();
  if (!s->empty() && (*s)[0] == '"') {
    size_t i = 1;
    while (i < s->size()) {
      if ((*s)[i] == '"') {
        if (i + 1 < s->size() && (*s)[i + 1] == '"') {
          out->push_back('"');
          i += 2;
          continue;
        }
        s->remove_prefix(i + 1);
        return true;
      }
      out->push_back((*s)[i++]);
    }
    return false;
  }
  size_t i = 0;
  while (i < s->size() && (*s)[i] != '.' && (*s)[i] != ',' && (*s)[i] != ' ' && (*s)[i] != '(' && (*s)[i] != ')') {
    out->push_back((*s)[i++]);
  }
  s->remove_prefix(i);
  return !out->empty();
}

// Parses `schema.name` (either part quoted) at the start of *s into
// "schema\0name" form; advances *s.
bool ParseQualified(std::string_view* s, std::string* key) {
  std::string a, b;
  if (!ParseIdent(s, &a)) return false;
  if (!s->empty() && (*s)[0] == '.') {
    s->remove_prefix(1);
    if (!ParseIdent(s, &b)) return false;
    *key = a + '\0' + b;
  } else {
    *key = std::string("\0", 1) + a;
  }
  return true;
}

bool StartsWithTimestamptz(std::string_view t, size_t* len) {
  for (std::string_view p : {std::string_view("timestamp with time zone"), std::string_view("timestamp(")}) {
    if (!StartsWith(t, p)) continue;
    if (p.size() > 10) {
      *len = p.size();
      return true;
    }
    size_t close = t.find(") with time zone");
    if (close != std::string_view::npos && close <= 12) {
      *len = close + 16;
      return true;
    }
  }
  return false;
}

// Parses `COPY schema.table (a, b) FROM stdin;` into `t`.
bool ParseCopyLine(std::string_view line, TableInfo* t) {
  std::string_view s = line.substr(5);  // after "COPY "
  std::string first, second;
  if (!ParseIdent(&s, &first)) return false;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    if (!ParseIdent(&s, &second)) return false;
    t->schema = first;
    t->name = second;
  } else {
    t->schema = "";
    t->name = first;
  }
  std::vector<std::string> cols;
  if (StartsWith(s, " (")) {
    s.remove_prefix(2);
    std::string col;
    while (true) {
      if (!ParseIdent(&s, &col)) return false;
      cols.push_back(col);
      if (StartsWith(s, ", ")) {
        s.remove_prefix(2);
        continue;
      }
      if (StartsWith(s, ")")) {
        s.remove_prefix(1);
        break;
      }
      return false;
    }
  } else if (StartsWith(s, " ")) {
    s.remove_prefix(1);  // zero-column table: "COPY public.t  FROM stdin;"
  }
  if (s != " FROM stdin;") return false;
  t->SetColumns(std::move(cols));
  return true;
}

class PlainDumpReader final : public TableStreamReader {
 public:
  PlainDumpReader(std::unique_ptr<ByteSource> src, std::string location, Compression c) : src_(std::move(src)) {
    info_.kind = "plain dump";
    info_.location = std::move(location);
    info_.compression = CompressionName(c);
  }

  Result<bool> NextChunk(RowChunk& chunk, size_t target) override {
    if (!failed_.ok()) return failed_;  // errors are sticky: never read on past one
    auto r = ReadNext(chunk, target);
    if (!r.ok()) failed_ = r.status();
    return r;
  }
  const std::deque<TableInfo>& tables() const override { return tables_; }
  const SourceInfo& source_info() const override { return info_; }

 private:
  Result<bool> ReadNext(RowChunk& chunk, size_t target) {
    while (true) {
      if (current_ < 0) {
        auto started = FindNextCopy();
        if (!started.ok()) return started.status();
        if (!*started) return false;
      }
      VOUCH_RETURN_IF_ERROR(ReadCopyChunk(chunk, std::max<size_t>(target, 64)));
      if (chunk.size > 0) return true;
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
    if (StartsWith(line, "--")) {
      if (StartsWith(line, "-- PostgreSQL database dump complete")) seen_footer_ = true;
      if (StartsWith(line, "-- Dumped from database version ")) info_.properties["server_version"] = std::string(line.substr(32));
      if (StartsWith(line, "-- Dumped by pg_dump version ")) info_.properties["pg_dump_version"] = std::string(line.substr(29));
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
    if (HandleDdl(line)) return false;
    if (StartsWith(line, "SELECT pg_catalog.lo_create(")) {
      info_.properties["large_objects_not_digested"] = std::to_string(++large_objects_);
      return false;
    }
    if (StartsWith(line, "ALTER TABLE ONLY ")) {
      alter_table_ = std::string(line.substr(17));
      return false;
    }
    if (!alter_table_.empty()) {
      // "    ADD CONSTRAINT t_pkey PRIMARY KEY (a, b);" names the table's key.
      size_t pk = line.find(" PRIMARY KEY (");
      if (StartsWith(line, "    ADD CONSTRAINT ") && pk != std::string_view::npos && EndsWith(line, ");")) {
        SetKey(alter_table_, line.substr(pk + 14, line.size() - pk - 16));
      }
      alter_table_.clear();
    }
    if (!expect_data_) return false;
    if (StartsWith(line, "INSERT INTO ")) {
      return Unsupported(Where(off) + ": table data is written as INSERT statements (pg_dump --inserts); "
                                      "content hashing needs COPY-format data (" + data_header_ + ")");
    }
    if (StartsWith(line, "COPY ") && EndsWith(line, " FROM stdin;")) {
      TableInfo t;
      if (!ParseCopyLine(line, &t)) return Corrupt(Where(off) + ": cannot parse COPY statement: " + std::string(line));
      t.data_offset = base_ + pos_;
      SetTzKinds(&t);
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

  // How values of the type written `t` (from a column or field line) hold
  // timestamptz.
  TzKind KindOfType(std::string_view t) const {
    size_t len = 0;
    TzKind base;
    if (StartsWithTimestamptz(t, &len)) {
      base = TzKind::kScalar;
    } else if (StartsWith(t, "tstzrange") || StartsWith(t, "tstzmultirange")) {
      return TzKind::kQuotedElements;
    } else {
      std::string_view rest = t;
      std::string key;
      if (!ParseQualified(&rest, &key)) return TzKind::kNone;
      len = t.size() - rest.size();
      if (key[0] == '\0') return TzKind::kNone;  // unqualified: a built-in type
      auto it = type_kinds_.find(key);
      base = it == type_kinds_.end() ? TzKind::kCheckOnly : it->second;  // unknown user type: check values
    }
    bool array = t.substr(len, 2) == "[]";
    if (base == TzKind::kScalar && array) return TzKind::kQuotedElements;
    return base;
  }

  // Follows multi-line DDL: CREATE TABLE column lists, INHERITS, CREATE
  // DOMAIN, CREATE TYPE (range, composite). Returns true if `line` was one.
  bool HandleDdl(std::string_view line) {
    if (ddl_ != Ddl::kNone) {
      if (StartsWith(line, ")")) {
        if (ddl_ == Ddl::kComposite && composite_has_tz_) type_kinds_[ddl_name_] = TzKind::kCheckOnly;
        if (ddl_ == Ddl::kTable && line == ")") inherits_for_ = ddl_name_;
        ddl_ = Ddl::kNone;
        return true;
      }
      std::string_view body = line;
      while (!body.empty() && body[0] == ' ') body.remove_prefix(1);
      if (ddl_ == Ddl::kRange) {
        for (std::string_view k : {std::string_view("subtype = "), std::string_view("multirange_type_name = ")}) {
          if (!StartsWith(body, k)) continue;
          std::string_view v = body.substr(k.size());
          if (k.size() == 10 && KindOfType(v) == TzKind::kScalar) range_of_tz_ = true;
          if (k.size() > 10 && range_of_tz_) {
            std::string key;
            if (ParseQualified(&v, &key)) type_kinds_[key] = TzKind::kQuotedElements;
          }
        }
        if (range_of_tz_) type_kinds_[ddl_name_] = TzKind::kQuotedElements;
        return true;
      }
      if (StartsWith(body, "CONSTRAINT ")) return true;
      std::string col;
      if (!ParseIdent(&body, &col) || body.empty() || body[0] != ' ') return true;
      TzKind k = KindOfType(body.substr(1));
      if (ddl_ == Ddl::kTable) table_cols_[ddl_name_][col] = k;
      if (ddl_ == Ddl::kComposite && k != TzKind::kNone) composite_has_tz_ = true;
      return true;
    }
    if (!inherits_for_.empty()) {
      std::string child = std::move(inherits_for_);
      inherits_for_.clear();
      if (StartsWith(line, "INHERITS (")) {
        std::string_view rest = line.substr(10);
        std::string parent;
        while (ParseQualified(&rest, &parent)) {
          parents_[child].push_back(parent);
          if (!StartsWith(rest, ", ")) break;
          rest.remove_prefix(2);
        }
        return true;
      }
    }
    std::string_view rest;
    Ddl mode = Ddl::kNone;
    for (auto [prefix, m] : {std::pair{std::string_view("CREATE TABLE "), Ddl::kTable},
                             std::pair{std::string_view("CREATE UNLOGGED TABLE "), Ddl::kTable},
                             std::pair{std::string_view("CREATE TYPE "), Ddl::kComposite},
                             std::pair{std::string_view("CREATE DOMAIN "), Ddl::kDomain}}) {
      if (StartsWith(line, prefix)) {
        rest = line.substr(prefix.size());
        mode = m;
      }
    }
    if (mode == Ddl::kNone) return false;
    std::string name;
    if (!ParseQualified(&rest, &name)) return false;
    if (mode == Ddl::kDomain) {
      if (StartsWith(rest, " AS ")) type_kinds_[name] = KindOfType(rest.substr(4));
      return true;
    }
    if (mode == Ddl::kTable && rest == " (") {
      table_cols_[name];  // known, even with no columns of its own
    } else if (mode == Ddl::kComposite && rest == " AS RANGE (") {
      mode = Ddl::kRange;
      range_of_tz_ = false;
    } else if (!(mode == Ddl::kComposite && rest == " AS (")) {
      return mode == Ddl::kComposite;  // enums, base types, shells: no columns
    }
    ddl_ = mode;
    ddl_name_ = name;
    composite_has_tz_ = false;
    return true;
  }

  // Looks `col` up in table `key`'s own columns, then its parents'.
  bool FindColumnKind(const std::string& key, const std::string& col, TzKind* kind, int depth = 0) const {
    auto t = table_cols_.find(key);
    if (t != table_cols_.end()) {
      auto c = t->second.find(col);
      if (c != t->second.end()) {
        *kind = c->second;
        return true;
      }
    }
    auto p = parents_.find(key);
    if (p == parents_.end() || depth > 64) return false;
    for (const auto& parent : p->second) {
      if (FindColumnKind(parent, col, kind, depth + 1)) return true;
    }
    return false;
  }

  void SetTzKinds(TableInfo* t) const {
    std::string key = t->schema + '\0' + t->name;
    bool known = table_cols_.count(key) > 0;
    bool any = false;
    t->tz_kinds.assign(t->columns.size(), TzKind::kNone);
    for (size_t i = 0; i < t->columns.size(); ++i) {
      TzKind k = TzKind::kCheckOnly;  // no DDL for it (e.g. a --data-only dump)
      if (known && !FindColumnKind(key, t->columns[i], &k)) k = TzKind::kCheckOnly;
      t->tz_kinds[i] = k;
      any = any || k != TzKind::kNone;
    }
    if (!any) t->tz_kinds.clear();
  }

  // `qualified` is "schema.table" as pg_dump writes it, `cols` "a, b".
  void SetKey(const std::string& qualified, std::string_view cols) {
    TableInfo probe;
    std::string copy_like = "COPY " + qualified + " (" + std::string(cols) + ") FROM stdin;";
    if (!ParseCopyLine(copy_like, &probe)) return;
    auto it = index_.find(probe.schema + '\0' + probe.name);
    if (it != index_.end()) tables_[it->second].key_columns = probe.columns;
  }

  Result<bool> Finish() {
    if (!seen_header_) return Unsupported(info_.location + ": empty or not a pg_dump plain-format dump");
    if (!seen_footer_) {
      return Truncated(Where(base_ + end_) +
                       ": dump ends without its '-- PostgreSQL database dump complete' footer (truncated?)");
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
        Keep(d + term + 3, have - term - 3, chunk.offset + term + 3);
        current_ = -1;
        return Status::Ok();
      }
      if (eof_) {
        return Truncated(info_.location + ": table " + t.QualifiedName() + ": COPY data starting at uncompressed byte offset " +
                         std::to_string(t.data_offset) + " has no terminating \\. line (stream ends at offset " +
                         std::to_string(chunk.offset + have) + "): the dump is truncated");
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
  SourceInfo info_;
  std::deque<TableInfo> tables_;
  std::map<std::string, size_t> index_;
  std::vector<char> buf_ = std::vector<char>(kReadSize);
  size_t pos_ = 0, end_ = 0;
  uint64_t base_ = 0;  // stream offset of buf_[0]
  bool eof_ = false;
  bool seen_header_ = false, seen_footer_ = false, expect_data_ = false;
  std::string data_header_;
  std::string alter_table_;  // table named by the last "ALTER TABLE ONLY" line
  // DDL seen so far, keyed "schema\0name": how each column and user type holds
  // timestamptz, and inheritance parents.
  enum class Ddl { kNone, kTable, kComposite, kRange, kDomain };
  Ddl ddl_ = Ddl::kNone;
  std::string ddl_name_, inherits_for_;
  bool composite_has_tz_ = false, range_of_tz_ = false;
  std::map<std::string, std::map<std::string, TzKind>> table_cols_;
  std::map<std::string, std::vector<std::string>> parents_;
  std::map<std::string, TzKind> type_kinds_;
  int current_ = -1;  // table whose COPY block is being read
  uint64_t large_objects_ = 0;
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
