#include "vouch/readers/dump_schema.h"

#include <algorithm>
#include <utility>

#include "packed_columns.h"

namespace vouch {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

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
// "schema\0name" form (an unqualified name gets an empty schema); advances *s.
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

// Parses `a, "B c")` (the part after an opening parenthesis) up to and
// including the closing parenthesis.
bool ParseIdentList(std::string_view* s, std::vector<std::string>* out) {
  out->clear();
  std::string col;
  while (true) {
    if (!ParseIdent(s, &col)) return false;
    out->push_back(col);
    if (StartsWith(*s, ", ")) {
      s->remove_prefix(2);
      continue;
    }
    if (StartsWith(*s, ")")) {
      s->remove_prefix(1);
      return true;
    }
    return false;
  }
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  size_t z = key.find('\0');
  return {key.substr(0, z), key.substr(z + 1)};
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

}  // namespace

bool ParseCopyStatement(std::string_view line, TableInfo* t) {
  if (!StartsWith(line, "COPY ")) return false;
  std::string_view s = line.substr(5);
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
    if (!ParseIdentList(&s, &cols)) return false;
  } else if (StartsWith(s, " ")) {
    s.remove_prefix(1);  // zero-column table: "COPY public.t  FROM stdin;"
  }
  if (s != " FROM stdin;") return false;
  t->SetColumns(std::move(cols));
  return true;
}

// How values of the type written `t` (from a column or field line) hold
// timestamptz.
TzKind DumpSchema::KindOfType(std::string_view t) const {
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
    if (key == std::string_view("information_schema\0time_stamp", 29)) {
      // The SQL standard's domain over timestamp(2) with time zone: a system
      // type, whose definition no dump holds (a database's catalogs say it
      // is a timestamp column).
      base = TzKind::kScalar;
    } else {
      base = it == type_kinds_.end() ? TzKind::kCheckOnly : it->second;  // unknown user type: check values
    }
  }
  bool array = t.substr(len, 2) == "[]";
  if (base == TzKind::kScalar && array) return TzKind::kQuotedElements;
  return base;
}

bool DumpSchema::AddLine(std::string_view line) {
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
    if (ddl_ == Ddl::kTable) {
      packed::Append(table_cols_[ddl_name_], col, static_cast<char>(k));
      std::string_view type = body.substr(1);
      bool scalar_time =
          (k == TzKind::kScalar) || (StartsWith(type, "timestamp") && type.find("[]") == std::string_view::npos);
      if (scalar_time) time_cols_[ddl_name_].push_back(col);
    }
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
  if (!alter_table_.empty()) {
    bool constraint = StartsWith(line, "    ADD CONSTRAINT ");
    if (constraint) AddConstraint(line.substr(19));
    alter_table_.clear();
    if (constraint) return true;
  }
  for (std::string_view prefix : {std::string_view("ALTER TABLE ONLY "), std::string_view("ALTER TABLE ")}) {
    if (!StartsWith(line, prefix)) continue;
    std::string_view rest = line.substr(prefix.size());
    std::string key;
    if (!ParseQualified(&rest, &key)) break;
    // Only the two-line form "ALTER TABLE [ONLY] x\n    ADD CONSTRAINT ...".
    if (rest.empty()) {
      alter_table_ = key;
      return true;
    }
    // "ALTER TABLE ONLY parent ATTACH PARTITION child FOR VALUES ...;" (or DEFAULT;)
    constexpr std::string_view kAttach = " ATTACH PARTITION ";
    std::string child;
    if (StartsWith(rest, kAttach)) {
      rest.remove_prefix(kAttach.size());
      if (ParseQualified(&rest, &child) && child != key) {
        partition_parent_[child] = key;
        return true;
      }
    }
    break;
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

// `s` is what follows "    ADD CONSTRAINT " on the line after "ALTER TABLE x".
void DumpSchema::AddConstraint(std::string_view s) {
  std::string name;
  if (!ParseIdent(&s, &name)) return;
  if (StartsWith(s, " PRIMARY KEY (")) {
    s.remove_prefix(14);
    std::vector<std::string> cols;
    if (ParseIdentList(&s, &cols)) primary_keys_[alter_table_] = std::move(cols);
    return;
  }
  if (!StartsWith(s, " FOREIGN KEY (")) return;
  s.remove_prefix(14);
  ForeignKey fk;
  fk.name = name;
  std::tie(fk.schema, fk.table) = SplitKey(alter_table_);
  if (!ParseIdentList(&s, &fk.columns) || !StartsWith(s, " REFERENCES ")) return;
  s.remove_prefix(12);
  std::string ref;
  if (!ParseQualified(&s, &ref)) return;
  std::tie(fk.ref_schema, fk.ref_table) = SplitKey(ref);
  if (StartsWith(s, "(")) {  // omitted: the referenced table's primary key
    s.remove_prefix(1);
    if (!ParseIdentList(&s, &fk.ref_columns)) return;
  }
  while (!s.empty() && (s.back() == ';' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  fk.options = std::string(s);
  foreign_keys_.push_back(std::move(fk));
}

// Looks `col` up in table `key`'s own columns, then its parents'.
bool DumpSchema::FindColumnKind(const std::string& key, const std::string& col, TzKind* kind, int depth) const {
  auto t = table_cols_.find(key);
  if (t != table_cols_.end()) {
    if (auto k = packed::Find(t->second, col)) {
      *kind = static_cast<TzKind>(*k);
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

void DumpSchema::SetTzKinds(TableInfo* t) const {
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

void DumpSchema::SetTimeColumns(TableInfo* t) const {
  auto it = time_cols_.find(t->schema + '\0' + t->name);
  if (it == time_cols_.end()) return;
  t->time_columns.clear();
  for (const auto& c : it->second) {
    if (std::find(t->columns.begin(), t->columns.end(), c) != t->columns.end()) t->time_columns.push_back(c);
  }
}

std::vector<RelationName> DumpSchema::PartitionAncestors(const std::string& schema, const std::string& name) const {
  std::vector<RelationName> out;
  std::string key = schema + '\0' + name;
  // Bounded: a damaged dump could attach tables in a cycle.
  for (auto it = partition_parent_.find(key); it != partition_parent_.end() && out.size() < 64;
       it = partition_parent_.find(key)) {
    key = it->second;
    auto [s, n] = SplitKey(key);
    out.push_back({s, n});
  }
  return out;
}

const std::vector<std::string>* DumpSchema::PrimaryKey(const std::string& schema, const std::string& name) const {
  auto it = primary_keys_.find(schema + '\0' + name);
  return it == primary_keys_.end() ? nullptr : &it->second;
}

}  // namespace vouch
