#include "vouch/readers/sequences.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <tuple>

#include "vouch/hashing/hex.h"
#include "packed_columns.h"
#include "vouch/hashing/sha256.h"

namespace vouch {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// One SQL identifier at *s as pg_dump writes it: "quoted" ("" for ") or bare.
bool Ident(std::string_view* s, std::string* out) {
  out->clear();
  if (!s->empty() && (*s)[0] == '"') {
    for (size_t i = 1; i < s->size(); ++i) {
      if ((*s)[i] != '"') {
        out->push_back((*s)[i]);
        continue;
      }
      if (i + 1 < s->size() && (*s)[i + 1] == '"') {
        out->push_back('"');
        ++i;
        continue;
      }
      s->remove_prefix(i + 1);
      return true;
    }
    return false;
  }
  size_t i = 0;
  while (i < s->size() && std::string_view(".,;() '").find((*s)[i]) == std::string_view::npos) out->push_back((*s)[i++]);
  s->remove_prefix(i);
  return !out->empty();
}

// "a.b" (or "a.b.c" with `three`) at *s.
bool Dotted(std::string_view* s, std::vector<std::string>* parts, size_t n) {
  parts->assign(n, "");
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) {
      if (s->empty() || (*s)[0] != '.') return false;
      s->remove_prefix(1);
    }
    if (!Ident(s, &(*parts)[i])) return false;
  }
  return true;
}

bool Relation(std::string_view* s, RelationName* out) {
  std::vector<std::string> p;
  if (!Dotted(s, &p, 2)) return false;
  *out = {p[0], p[1]};
  return true;
}

bool Int64(std::string_view s, int64_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool Uint32(std::string_view s, uint32_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// The text of a SQL string literal at *s ('...' with '' for '), advancing past it.
bool Literal(std::string_view* s, std::string* out) {
  out->clear();
  if (s->empty() || (*s)[0] != '\'') return false;
  for (size_t i = 1; i < s->size(); ++i) {
    if ((*s)[i] != '\'') {
      out->push_back((*s)[i]);
      continue;
    }
    if (i + 1 < s->size() && (*s)[i + 1] == '\'') {
      out->push_back('\'');
      ++i;
      continue;
    }
    s->remove_prefix(i + 1);
    return true;
  }
  return false;
}

bool NeedsQuotes(const std::string& id) {
  if (id.empty() || !((id[0] >= 'a' && id[0] <= 'z') || id[0] == '_')) return true;
  return !std::all_of(id.begin(), id.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$'; });
}

std::string Quote(const std::string& id) {
  if (!NeedsQuotes(id)) return id;
  std::string q = "\"";
  for (char c : id) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string ColumnName::Qualified() const { return Quote(schema) + "." + Quote(table) + "." + Quote(column); }

std::string SequenceInfo::QualifiedName() const { return QualifiedTableName(schema, name); }

int64_t SequenceTypeMin(const std::string& type) {
  if (type == "smallint") return std::numeric_limits<int16_t>::min();
  if (type == "integer") return std::numeric_limits<int32_t>::min();
  return std::numeric_limits<int64_t>::min();
}

int64_t SequenceTypeMax(const std::string& type) {
  if (type == "smallint") return std::numeric_limits<int16_t>::max();
  if (type == "integer") return std::numeric_limits<int32_t>::max();
  return std::numeric_limits<int64_t>::max();
}

bool SequenceInfo::NextValue(int64_t* out) const {
  if (!is_called) {
    *out = last_value;
    return true;
  }
  // nextval: last_value + increment, within [min, max] (overflow-safe).
  int64_t next;
  bool overflow = __builtin_add_overflow(last_value, increment, &next);
  if (overflow || next > max_value || next < min_value) {
    if (!cycle) return false;
    next = increment > 0 ? min_value : max_value;
  }
  *out = next;
  return true;
}

std::string SequenceInfo::DefinitionText() const {
  std::string s = "AS " + type + " START " + std::to_string(start) + " INCREMENT " + std::to_string(increment) +
                  " MINVALUE " + std::to_string(min_value) + " MAXVALUE " + std::to_string(max_value) + " CACHE " +
                  std::to_string(cache) + (cycle ? " CYCLE" : " NO CYCLE");
  if (!owned_by.column.empty()) s += " OWNED BY " + owned_by.Qualified();
  return s;
}

std::string SequenceInfo::DefinitionFingerprint() const {
  if (!fingerprint.empty()) return fingerprint;
  if (!has_definition) return "";
  const Sha256Digest d = Sha256Of(DefinitionText());
  return HexEncode(d.data(), 16);
}

void SortSequences(std::vector<SequenceInfo>& seqs) {
  std::sort(seqs.begin(), seqs.end(),
            [](const SequenceInfo& a, const SequenceInfo& b) { return std::tie(a.schema, a.name) < std::tie(b.schema, b.name); });
  for (SequenceInfo& s : seqs) {
    if (!s.owned_by.column.empty()) s.feeds.push_back(s.owned_by);
    std::sort(s.feeds.begin(), s.feeds.end());
    s.feeds.erase(std::unique(s.feeds.begin(), s.feeds.end()), s.feeds.end());
  }
}

void SortLargeObjects(std::vector<LargeObjectInfo>& los) {
  std::sort(los.begin(), los.end(), [](const LargeObjectInfo& a, const LargeObjectInfo& b) { return a.oid < b.oid; });
}

bool ParseSetval(std::string_view line, RelationName* seq, int64_t* value, bool* is_called) {
  constexpr std::string_view kPrefix = "SELECT pg_catalog.setval(";
  if (!StartsWith(line, kPrefix)) return false;
  std::string_view s = line.substr(kPrefix.size());
  std::string name;
  if (!Literal(&s, &name) || !StartsWith(s, ", ")) return false;
  s.remove_prefix(2);
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos || !Int64(s.substr(0, comma), value)) return false;
  s.remove_prefix(comma + 2);
  if (s == "true);") {
    *is_called = true;
  } else if (s == "false);") {
    *is_called = false;
  } else {
    return false;
  }
  std::string_view n(name);
  return Relation(&n, seq) && n.empty();
}

bool FindNextvalCall(std::string_view text, RelationName* seq) {
  size_t at = text.find("nextval('");
  if (at == std::string_view::npos) return false;
  std::string_view s = text.substr(at + 8);
  std::string name;
  if (!Literal(&s, &name) || !StartsWith(s, "::regclass)")) return false;
  std::string_view n(name);
  return Relation(&n, seq) && n.empty();
}

SequenceInfo& DumpSequences::Get(const RelationName& name) {
  auto [it, fresh] = index_.emplace(name, seqs_.size());
  if (fresh) {
    seqs_.emplace_back();
    seqs_.back().schema = name.schema;
    seqs_.back().name = name.name;
  }
  return seqs_[it->second];
}

std::vector<SequenceInfo> DumpSequences::Take() {
  std::vector<SequenceInfo> out = std::move(seqs_);
  *this = DumpSequences();  // and the integer columns of every table, 16 MB at 100,000 tables
  return out;
}

Status DumpSequences::Clause(std::string_view body) {
  auto number = [&](std::string_view prefix, int64_t* out) -> Result<bool> {
    if (!StartsWith(body, prefix)) return false;
    std::string_view v = body.substr(prefix.size());
    while (!v.empty() && (v.back() == ';')) v.remove_suffix(1);
    if (!Int64(v, out)) return InvalidArgument("sequence " + pending_.QualifiedName() + ": cannot read '" + std::string(body) + "'");
    return true;
  };
  int64_t v = 0;
  for (auto [prefix, field, seen] : {std::tuple{std::string_view("START WITH "), &pending_.start, &saw_start_},
                                     std::tuple{std::string_view("INCREMENT BY "), &pending_.increment, (bool*)nullptr},
                                     std::tuple{std::string_view("MINVALUE "), &pending_.min_value, &saw_min_},
                                     std::tuple{std::string_view("MAXVALUE "), &pending_.max_value, &saw_max_},
                                     std::tuple{std::string_view("CACHE "), &pending_.cache, (bool*)nullptr}}) {
    auto got = number(prefix, &v);
    if (!got.ok()) return got.status();
    if (*got) {
      *field = v;
      if (seen) *seen = true;
      return Status::Ok();
    }
  }
  std::string_view b = body;
  while (!b.empty() && b.back() == ';') b.remove_suffix(1);
  if (StartsWith(b, "AS ")) {
    saw_type_ = true;
    pending_.type = std::string(b.substr(3));
    if (pending_.type != "smallint" && pending_.type != "integer" && pending_.type != "bigint") {
      return InvalidArgument("sequence " + pending_.QualifiedName() + ": unknown type '" + pending_.type + "'");
    }
    return Status::Ok();
  }
  // An identity sequence's persistence where it differs from its table's:
  // not part of the definition (CREATE UNLOGGED SEQUENCE is read alike).
  if (b == "NO MINVALUE" || b == "NO MAXVALUE" || b == "NO CYCLE" || b == "LOGGED" || b == "UNLOGGED") {
    return Status::Ok();
  }
  if (b == "CYCLE") {
    pending_.cycle = true;
    return Status::Ok();
  }
  if (StartsWith(b, "SEQUENCE NAME ")) {
    std::string_view n = b.substr(14);
    RelationName r;
    if (!Relation(&n, &r) || !n.empty()) return InvalidArgument("cannot read '" + std::string(body) + "'");
    pending_.schema = r.schema;
    pending_.name = r.name;
    return Status::Ok();
  }
  return InvalidArgument("sequence " + pending_.QualifiedName() + ": unknown clause '" + std::string(body) + "'");
}

Status DumpSequences::EndDefinition() {
  SequenceInfo& p = pending_;
  if (p.name.empty()) return InvalidArgument("an identity column's sequence without SEQUENCE NAME");
  if (block_ == Block::kIdentity && !saw_type_) {
    auto it = int_columns_.find(identity_column_.schema + '\0' + identity_column_.table);
    if (it != int_columns_.end()) {
      if (auto t = packed::Find(it->second, identity_column_.column)) {
        p.type = *t == 's' ? "smallint" : *t == 'i' ? "integer" : "bigint";
      }
    }
  }
  if (!saw_min_) p.min_value = p.increment > 0 ? 1 : SequenceTypeMin(p.type);
  if (!saw_max_) p.max_value = p.increment > 0 ? SequenceTypeMax(p.type) : -1;
  if (!saw_start_) p.start = p.increment > 0 ? p.min_value : p.max_value;
  SequenceInfo& s = Get({p.schema, p.name});
  s.has_definition = true;
  s.type = p.type;
  s.start = p.start;
  s.increment = p.increment;
  s.min_value = p.min_value;
  s.max_value = p.max_value;
  s.cache = p.cache;
  s.cycle = p.cycle;
  if (block_ == Block::kIdentity) {
    s.owned_by = identity_column_;
    s.feeds.push_back(identity_column_);
  }
  block_ = Block::kNone;
  return Status::Ok();
}

Result<bool> DumpSequences::AddLine(std::string_view line) {
  if (block_ == Block::kSequence || block_ == Block::kIdentity) {
    std::string_view body = line;
    while (!body.empty() && body[0] == ' ') body.remove_prefix(1);
    if (block_ == Block::kIdentity && (body == ");" || body == ")")) {
      VOUCH_RETURN_IF_ERROR(EndDefinition());
      return true;
    }
    VOUCH_RETURN_IF_ERROR(Clause(body));
    if (block_ == Block::kSequence && !line.empty() && line.back() == ';') VOUCH_RETURN_IF_ERROR(EndDefinition());
    return true;
  }
  if (block_ == Block::kTable) {
    if (StartsWith(line, ")")) {
      block_ = Block::kNone;
      return false;  // DumpSchema reads tables too
    }
    std::string_view body = line;
    while (!body.empty() && body[0] == ' ') body.remove_prefix(1);
    std::string col;
    RelationName seq;
    if (!StartsWith(body, "CONSTRAINT ") && Ident(&body, &col)) {
      for (std::string_view type : {std::string_view(" smallint"), std::string_view(" integer"), std::string_view(" bigint")}) {
        if (StartsWith(body, type) && (body.size() == type.size() || body[type.size()] == ' ' || body[type.size()] == ',')) {
          packed::Append(int_columns_[table_.schema + '\0' + table_.name], col, type[1]);
        }
      }
      if (FindNextvalCall(body, &seq)) Get(seq).feeds.push_back({table_.schema, table_.name, col});
    }
    return false;
  }
  for (std::string_view prefix : {std::string_view("CREATE SEQUENCE "), std::string_view("CREATE UNLOGGED SEQUENCE ")}) {
    if (!StartsWith(line, prefix)) continue;
    std::string_view rest = line.substr(prefix.size());
    RelationName r;
    if (!Relation(&rest, &r) || !rest.empty()) {
      return InvalidArgument("cannot read the sequence name of '" + std::string(line.substr(0, 200)) + "'");
    }
    pending_ = SequenceInfo();
    pending_.schema = r.schema;
    pending_.name = r.name;
    saw_min_ = saw_max_ = saw_start_ = saw_type_ = false;
    block_ = Block::kSequence;
    return true;
  }
  if (RelationName seq; StartsWith(line, "SELECT pg_catalog.setval(")) {
    int64_t value = 0;
    bool called = false;
    if (!ParseSetval(line, &seq, &value, &called)) {
      return InvalidArgument("cannot read '" + std::string(line.substr(0, 200)) + "'");
    }
    SequenceInfo& s = Get(seq);
    s.has_state = true;
    s.last_value = value;
    s.is_called = called;
    return true;
  }
  if (StartsWith(line, "ALTER SEQUENCE ")) {
    std::string_view rest = line.substr(15);
    RelationName seq;
    if (!Relation(&rest, &seq) || !StartsWith(rest, " OWNED BY ")) return false;
    rest.remove_prefix(10);
    if (rest == "NONE;") return true;
    std::vector<std::string> p;
    if (!Dotted(&rest, &p, 3) || rest != ";") {
      return InvalidArgument("cannot read '" + std::string(line.substr(0, 200)) + "'");
    }
    SequenceInfo& s = Get(seq);
    s.owned_by = {p[0], p[1], p[2]};
    s.feeds.push_back(s.owned_by);
    return true;
  }
  for (std::string_view prefix : {std::string_view("ALTER TABLE ONLY "), std::string_view("ALTER TABLE ")}) {
    if (!StartsWith(line, prefix)) continue;
    std::string_view rest = line.substr(prefix.size());
    RelationName t;
    std::string col;
    if (!Relation(&rest, &t) || !StartsWith(rest, " ALTER COLUMN ")) return false;
    rest.remove_prefix(14);
    if (!Ident(&rest, &col)) return false;
    if (StartsWith(rest, " SET DEFAULT ")) {
      RelationName seq;
      if (FindNextvalCall(rest, &seq)) Get(seq).feeds.push_back({t.schema, t.name, col});
      return false;  // DumpSchema may want it too
    }
    if (StartsWith(rest, " ADD GENERATED ") && rest.size() > 0 && rest.back() == '(') {
      pending_ = SequenceInfo();
      saw_min_ = saw_max_ = saw_start_ = saw_type_ = false;
      identity_column_ = {t.schema, t.name, col};
      block_ = Block::kIdentity;
      return true;
    }
    return false;
  }
  for (std::string_view prefix : {std::string_view("CREATE TABLE "), std::string_view("CREATE UNLOGGED TABLE ")}) {
    if (!StartsWith(line, prefix)) continue;
    std::string_view rest = line.substr(prefix.size());
    if (Relation(&rest, &table_) && rest == " (") block_ = Block::kTable;
    return false;
  }
  return false;
}

bool ParseLoCreate(std::string_view line, uint32_t* oid) {
  constexpr std::string_view kPrefix = "SELECT pg_catalog.lo_create('";
  if (!StartsWith(line, kPrefix) || line.size() < kPrefix.size() + 4 || line.substr(line.size() - 3) != "');") {
    return false;
  }
  return Uint32(line.substr(kPrefix.size(), line.size() - kPrefix.size() - 3), oid);
}

bool ParseLoOwner(std::string_view line, uint32_t* oid, std::string* owner) {
  constexpr std::string_view kPrefix = "ALTER LARGE OBJECT ";
  if (!StartsWith(line, kPrefix)) return false;
  std::string_view s = line.substr(kPrefix.size());
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos || !Uint32(s.substr(0, sp), oid)) return false;
  s.remove_prefix(sp);
  if (!StartsWith(s, " OWNER TO ")) return false;
  s.remove_prefix(10);
  if (!Ident(&s, owner) || s != ";") return false;
  return true;
}

bool ParseLoOpen(std::string_view line, uint32_t* oid) {
  constexpr std::string_view kPrefix = "SELECT pg_catalog.lo_open('";
  if (!StartsWith(line, kPrefix)) return false;
  std::string_view s = line.substr(kPrefix.size());
  size_t q = s.find('\'');
  if (q == std::string_view::npos || !Uint32(s.substr(0, q), oid)) return false;
  return StartsWith(s.substr(q), "', ") && s.substr(s.size() - 2) == ");";
}

bool ParseLowrite(std::string_view line, std::string_view* hex) {
  constexpr std::string_view kPrefix = "SELECT pg_catalog.lowrite(0, ";
  if (!StartsWith(line, kPrefix) || line.size() < kPrefix.size() + 4 || line.substr(line.size() - 3) != "');") {
    return false;
  }
  std::string_view s = line.substr(kPrefix.size(), line.size() - kPrefix.size() - 3);
  if (StartsWith(s, "'\\x")) {
    s.remove_prefix(3);
  } else if (StartsWith(s, "E'\\\\x")) {  // standard_conforming_strings off
    s.remove_prefix(5);
  } else {
    return false;
  }
  *hex = s;
  return true;
}

bool IsLoClose(std::string_view line) { return line == "SELECT pg_catalog.lo_close(0);"; }

bool DecodeHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const size_t at = out->size();
  out->resize(at + hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      out->resize(at);
      return false;
    }
    (*out)[at + i / 2] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace vouch
