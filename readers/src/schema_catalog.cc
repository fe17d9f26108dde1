#include "vouch/readers/schema_catalog.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "vouch/hashing/sha256.h"

namespace vouch {

SchemaFingerprint FingerprintOf(std::string_view text) {
  Sha256Digest d = Sha256Of(text);
  SchemaFingerprint f;
  std::copy_n(d.begin(), f.size(), f.begin());
  return f;
}

std::string_view NameArena::Add(std::string_view s) {
  constexpr size_t kBlock = 64 * 1024;
  if (s.empty()) return {};
  if (s.size() > capacity_ - used_) {
    // A name longer than a block gets a block of its own size.
    capacity_ = std::max(kBlock, s.size());
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(capacity_));
    used_ = 0;
  }
  char* at = blocks_.back().get() + used_;
  std::memcpy(at, s.data(), s.size());
  used_ += s.size();
  return {at, s.size()};
}

void NameArena::Adopt(NameArena&& other) {
  // Before this arena's last block, which is the one still written to.
  const auto at = blocks_.empty() ? blocks_.end() : blocks_.end() - 1;
  blocks_.insert(at, std::make_move_iterator(other.blocks_.begin()), std::make_move_iterator(other.blocks_.end()));
  if (blocks_.size() == other.blocks_.size()) {  // this one had none: write on in other's last block
    used_ = other.used_;
    capacity_ = other.capacity_;
  }
  other.blocks_.clear();
  other.used_ = other.capacity_ = 0;
}

void SchemaCatalog::Append(SchemaCatalog&& other) {
  if (!names) names = std::make_shared<NameArena>();
  if (other.names && other.names != names) {
    if (other.names.use_count() == 1) {
      names->Adopt(std::move(*other.names));
    } else {  // another catalog shares those names: copy them
      for (SchemaObject& o : other.objects) o.name = names->Add(o.name);
    }
  }
  objects.reserve(objects.size() + other.objects.size());
  objects.insert(objects.end(), other.objects.begin(), other.objects.end());
  other.objects.clear();
}

SchemaObject& SchemaCatalog::Add(std::string_view name) {
  if (!names) names = std::make_shared<NameArena>();  // moved from
  SchemaObject& o = objects.emplace_back();
  o.name = names->Add(name);
  return o;
}

void SchemaCatalog::Finish() {
  // Stable: of equal names the last added wins (a dump's RULE entry that
  // replaces a view's placeholder body comes after the view). Sorted as
  // positions, then moved into place: std::stable_sort's buffer would be a
  // second copy of the objects (30 MB at 100,000 tables).
  std::vector<uint32_t> order(objects.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const int c = objects[a].name.compare(objects[b].name);
    return c < 0 || (c == 0 && a < b);
  });
  // order[k] is the object that goes to k: follow each cycle of moves.
  for (size_t k = 0; k < order.size(); ++k) {
    if (order[k] == k) continue;
    SchemaObject held = std::move(objects[k]);
    size_t at = k;
    while (order[at] != k) {
      const size_t from = order[at];
      objects[at] = std::move(objects[from]);
      order[at] = static_cast<uint32_t>(at);
      at = from;
    }
    objects[at] = std::move(held);
    order[at] = static_cast<uint32_t>(at);
  }
  // Equal names folded in place (a second list would double the peak).
  size_t w = 0;
  for (size_t r = 0; r < objects.size(); ++r) {
    if (w > 0 && objects[w - 1].name == objects[r].name) {
      objects[w - 1] = std::move(objects[r]);
    } else {
      if (w != r) objects[w] = std::move(objects[r]);
      ++w;
    }
  }
  objects.resize(w);
  // A vector that grew by doubling holds up to twice its objects, for as
  // long as the catalog lives (a drill's whole read). The copy made here is
  // brief, and comes before the rows are read.
  if (objects.capacity() - objects.size() > objects.size() / 8) objects.shrink_to_fit();
  std::sort(column_orders.begin(), column_orders.end());
  column_orders.shrink_to_fit();
}

void SchemaCatalog::MergeCluster(const SchemaCatalog& globals) {
  // A dump's own database settings (its DATABASE PROPERTIES entry's ALTER
  // DATABASE ... SET, with --create) stay: they are the database's, and a
  // globals file has none.
  auto from_globals = [](const SchemaObject& o) {
    return o.Has(SchemaObject::kCluster) && !o.IsDatabaseSetting();
  };
  std::erase_if(objects, from_globals);
  for (const auto& o : globals.objects) {
    if (!from_globals(o)) continue;
    SchemaObject& copy = Add(o.name);  // into this catalog's names
    copy.text = o.text;
    copy.exact = o.exact;
    copy.flags = o.flags;
  }
  has_cluster_objects = globals.has_cluster_objects;
  Finish();
}

namespace sqlident {

bool Read(std::string_view s, size_t* pos, std::string* out) {
  size_t i = *pos;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  if (i >= s.size()) return false;
  out->clear();
  if (s[i] == '"') {
    ++i;
    while (i < s.size()) {
      if (s[i] == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          out->push_back('"');
          i += 2;
          continue;
        }
        *pos = i + 1;
        return true;
      }
      out->push_back(s[i++]);
    }
    return false;  // unterminated
  }
  const size_t start = i;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalnum(c) || c == '_' || c == '$' || c >= 0x80)) break;
    ++i;
  }
  if (i == start) return false;
  out->assign(s.substr(start, i - start));
  *pos = i;
  return true;
}

bool ReadQualified(std::string_view s, size_t* pos, std::vector<std::string>* parts) {
  parts->clear();
  std::string part;
  if (!Read(s, pos, &part)) return false;
  parts->push_back(part);
  while (*pos < s.size() && s[*pos] == '.') {
    ++*pos;
    if (!Read(s, pos, &part)) return false;
    parts->push_back(part);
  }
  return true;
}

}  // namespace sqlident

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The first statement of a TOC entry's text: up to the first ";\n" that ends
// a line followed by an empty line, the end, or a line that starts with
// "ALTER " (pg_dump ends each statement so; a plain dump adds its OWNER
// statements after an empty line, and pg_dump appends the column settings of
// a table, materialized view or index, ALTER TABLE ONLY t ALTER COLUMN c SET
// COMPRESSION / STORAGE / STATISTICS / (options), on the next line; the
// server's pg_get_*def texts indent their own lines).
std::string_view FirstStatement(std::string_view s) {
  s = TrimLeft(s);
  size_t from = 0;
  while (true) {
    size_t end = s.find(";\n", from);
    if (end == std::string_view::npos) {
      while (!s.empty() && (s.back() == '\n' || s.back() == ';')) s.remove_suffix(1);
      return s;
    }
    if (end + 2 >= s.size() || s[end + 2] == '\n' || StartsWith(s.substr(end + 2), "ALTER ")) return s.substr(0, end);
    from = end + 2;
  }
}

// Finds `word` in `s` from `from`, outside double-quoted identifiers and
// single-quoted literals.
size_t FindOutsideQuotes(std::string_view s, std::string_view word, size_t from = 0) {
  char quote = 0;
  for (size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote re-enters at once: same result
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (s.compare(i, word.size(), word) == 0) return i;
  }
  return std::string_view::npos;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '.';
    out += p;
  }
  return out;
}

std::string Qualified(std::string_view ns, std::string_view name) {
  return ns.empty() ? std::string(name) : std::string(ns) + "." + std::string(name);
}

// The body of "CREATE [MATERIALIZED] VIEW name [WITH (...)] AS\n<body>": the
// text pg_get_viewdef returns, without its ';' and the check option or
// WITH NO DATA pg_dump appends.
std::optional<std::string> ViewBody(std::string_view defn) {
  std::string_view st = FirstStatement(defn);
  size_t as = st.find(" AS\n");
  if (as == std::string_view::npos) return std::nullopt;
  std::string_view body = st.substr(as + 4);
  for (std::string_view suffix : {"\n  WITH CASCADED CHECK OPTION", "\n  WITH LOCAL CHECK OPTION", "\n  WITH NO DATA"}) {
    if (body.size() >= suffix.size() && body.substr(body.size() - suffix.size()) == suffix) {
      body.remove_suffix(suffix.size());
    }
  }
  while (!body.empty() && body.back() == ';') body.remove_suffix(1);
  return std::string(body);
}

// A function's body as pg_dump prints it: "AS $tag$prosrc$tag$" (prosrc), or
// a SQL-standard body "BEGIN ATOMIC ... END" / "RETURN ..."
// (pg_get_function_sqlbody). None for C functions ("AS 'file', 'symbol'").
std::optional<std::string> FunctionBody(std::string_view defn) {
  size_t as = defn.find("\n    AS $");
  if (as != std::string_view::npos) {
    size_t tag_start = as + 8;
    size_t tag_end = defn.find('$', tag_start + 1);
    if (tag_end == std::string_view::npos) return std::nullopt;
    std::string_view tag = defn.substr(tag_start, tag_end - tag_start + 1);
    size_t body_end = defn.find(tag, tag_end + 1);
    if (body_end == std::string_view::npos) return std::nullopt;
    return "body:" + std::string(defn.substr(tag_end + 1, body_end - tag_end - 1));
  }
  size_t atomic = defn.find("\n    BEGIN ATOMIC\n");
  if (atomic != std::string_view::npos) {
    size_t end = defn.find("\nEND;\n", atomic);
    if (end == std::string_view::npos) return std::nullopt;
    return "sqlbody:" + std::string(defn.substr(atomic + 5, end + 4 - atomic - 5));
  }
  size_t ret = defn.find("\n    RETURN ");
  if (ret != std::string_view::npos) {
    size_t end = defn.find(";\n", ret);
    if (end == std::string_view::npos) return std::nullopt;
    return "sqlbody:" + std::string(defn.substr(ret + 5, end - ret - 5));
  }
  return std::nullopt;
}

}  // namespace

void DumpSchemaCollector::Add(std::string_view name, std::string_view text, bool has_text, const std::string& table) {
  SchemaObject o;
  o.name = names_->Add(name);
  if (has_text) {
    o.text = FingerprintOf(text);
    o.flags |= SchemaObject::kHasText;
  }
  // Every caller names an object of a table "KIND table.rest": the table is
  // kept as its length there.
  const size_t at = o.name.find(' ') + 1;
  const bool of_table = !table.empty() && table.size() <= UINT16_MAX && o.name.compare(at, table.size(), table) == 0;
  objects_.push_back(std::move(o));
  object_table_.push_back(of_table ? static_cast<uint16_t>(table.size()) : 0);
}

// "CREATE TABLE name (\n    col type ...,\n    CONSTRAINT c CHECK (...)\n)..."
void DumpSchemaCollector::AddTableBody(const std::string& table, std::string_view defn) {
  std::string_view st = TrimLeft(defn);
  size_t open = st.find(" (\n");
  size_t first_nl = st.find('\n');
  if (open == std::string_view::npos || first_nl == std::string_view::npos || open + 2 != first_nl) return;
  // A typed table's columns ("CREATE TABLE t OF type (\n    c WITH OPTIONS
  // ...") come from its type and are listed only when they have options:
  // they are flagged as a child table's are, as on the database side.
  const bool typed = FindOutsideQuotes(st.substr(0, first_nl), " OF ") != std::string_view::npos;
  std::string_view rest = st.substr(open + 3);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!StartsWith(line, "    ")) break;  // ")" or ");": the body ended
    line.remove_prefix(4);
    if (!line.empty() && line.back() == ',') line.remove_suffix(1);
    if (StartsWith(line, "CONSTRAINT ")) {
      size_t pos = 11;
      std::string cname;
      if (!sqlident::Read(line, &pos, &cname)) continue;
      std::string_view def = TrimLeft(line.substr(pos));
      // PostgreSQL 18 names NOT NULL constraints; they are the columns' NOT
      // NULL here, as on the database side.
      if (!StartsWith(def, "NOT NULL")) Add("CONSTRAINT " + table + "." + cname, def, true, table);
      continue;
    }
    size_t pos = 0;
    std::string col;
    if (sqlident::Read(line, &pos, &col)) {
      Add("COLUMN " + table + "." + col, {}, false, table);
      if (typed) objects_.back().flags |= SchemaObject::kOfChildTable;
    }
  }
  // "INHERITS (parent)" after the body: the table has a parent.
  if (st.find("\nINHERITS (") != std::string_view::npos) child_tables_.push_back(table);
  if (st.find(" FORCE ROW LEVEL SECURITY;") != std::string_view::npos) rls_forced_.push_back(table);
}

// "ALTER TABLE [ONLY] name\n    ADD CONSTRAINT c <def>;" (or ALTER DOMAIN).
void DumpSchemaCollector::AddConstraint(std::string_view defn) {
  std::string_view st = FirstStatement(defn);
  size_t pos;
  if (StartsWith(st, "ALTER TABLE ONLY ")) {
    pos = 17;
  } else if (StartsWith(st, "ALTER TABLE ")) {
    pos = 12;
  } else if (StartsWith(st, "ALTER DOMAIN ")) {
    pos = 13;
  } else {
    return;
  }
  std::vector<std::string> parts;
  if (!sqlident::ReadQualified(st, &pos, &parts)) return;
  size_t add = st.find("ADD CONSTRAINT ", pos);
  if (add == std::string_view::npos) return;
  pos = add + 15;
  std::string cname;
  if (!sqlident::Read(st, &pos, &cname)) return;
  const std::string table = Join(parts);
  std::string_view def = TrimLeft(st.substr(pos));
  if (StartsWith(def, "NOT NULL")) return;  // PostgreSQL 18's named NOT NULL: the column's NOT NULL
  Add("CONSTRAINT " + table + "." + cname, def, true, table);
}

void DumpSchemaCollector::AddEntry(std::string_view desc, std::string_view ns, std::string_view tag,
                                   std::string_view defn) {
  const std::string qname = Qualified(ns, tag);
  if (desc == "SCHEMA") {
    any_ddl_ = true;
    Add("SCHEMA " + std::string(tag), {}, false);
  } else if (desc == "EXTENSION") {
    any_ddl_ = true;
    size_t w = defn.find(" WITH SCHEMA ");
    std::string schema;
    size_t pos = w + 13;
    if (w != std::string_view::npos && sqlident::Read(defn, &pos, &schema)) {
      Add("EXTENSION " + std::string(tag), "schema=" + schema, true);
    } else {
      Add("EXTENSION " + std::string(tag), {}, false);
    }
  } else if (desc == "COLLATION") {
    Add("COLLATION " + qname, {}, false);
  } else if (desc == "TYPE") {
    any_ddl_ = true;
    std::string_view st = FirstStatement(defn);
    size_t e = st.find(" AS ENUM (\n");
    if (e == std::string_view::npos) {
      if (st.find(" AS ENUM (") != std::string_view::npos) {  // an enum without labels: "AS ENUM ("
        Add("TYPE " + qname, "enum:", true);
      } else {
        Add("TYPE " + qname, {}, false);
      }
      return;
    }
    // "    'label',\n" per label, each a literal with '' doubled.
    std::string labels = "enum:";
    bool first = true;
    std::string_view rest = st.substr(e + 11);
    while (StartsWith(rest, "    '")) {
      size_t i = 5;
      std::string label;
      while (i < rest.size()) {
        if (rest[i] == '\'') {
          if (i + 1 < rest.size() && rest[i + 1] == '\'') {
            label += '\'';
            i += 2;
            continue;
          }
          break;
        }
        label += rest[i++];
      }
      labels += (first ? "" : "\n") + label;
      first = false;
      size_t nl = rest.find('\n', i);
      if (nl == std::string_view::npos) break;
      rest = rest.substr(nl + 1);
    }
    Add("TYPE " + qname, labels, true);
  } else if (desc == "DOMAIN") {
    any_ddl_ = true;
    Add("DOMAIN " + qname, {}, false);
    // Its valid constraints, one "\tCONSTRAINT name def" line each.
    std::string_view st = FirstStatement(defn);
    size_t at = 0;
    while ((at = st.find("\n\tCONSTRAINT ", at)) != std::string_view::npos) {
      size_t pos = at + 13;
      size_t nl = st.find('\n', pos);
      std::string_view line = st.substr(0, nl);
      std::string cname;
      at = pos;
      if (!sqlident::Read(line, &pos, &cname)) continue;
      Add("CONSTRAINT " + qname + "." + cname, TrimLeft(line.substr(pos)), true, qname);
    }
  } else if (desc == "TABLE") {
    any_ddl_ = true;
    Add("TABLE " + qname, {}, false);
    AddTableBody(qname, defn);
  } else if (desc == "TABLE ATTACH") {
    // "ALTER TABLE ONLY parent ATTACH PARTITION child ..."
    std::string_view st = FirstStatement(defn);
    size_t at = FindOutsideQuotes(st, " ATTACH PARTITION ");
    std::vector<std::string> parts;
    size_t pos = at + 18;
    if (at != std::string_view::npos && sqlident::ReadQualified(st, &pos, &parts)) {
      child_tables_.push_back(Join(parts));
    }
  } else if (desc == "VIEW" || desc == "MATERIALIZED VIEW") {
    any_ddl_ = true;
    const std::string name = (desc == "VIEW" ? "VIEW " : "MATVIEW ") + qname;
    auto body = ViewBody(defn);
    Add(name, body.value_or(""), body.has_value());
  } else if (desc == "RULE") {
    // A view pg_dump had to create with a placeholder body first (circular
    // dependencies) gets its real body in a rule entry.
    std::string_view st = TrimLeft(defn);
    if (StartsWith(st, "CREATE OR REPLACE VIEW ")) {
      size_t pos = 23;
      std::vector<std::string> parts;
      if (sqlident::ReadQualified(st, &pos, &parts)) {
        auto body = ViewBody(st);
        Add("VIEW " + Join(parts), body.value_or(""), body.has_value());
      }
    }
  } else if (desc == "FUNCTION" || desc == "PROCEDURE") {
    any_ddl_ = true;
    auto body = FunctionBody(defn);
    Add(std::string(desc) + " " + qname, body.value_or(""), body.has_value());
  } else if (desc == "INDEX") {
    Add("INDEX " + qname, FirstStatement(defn), true);
  } else if (desc == "CONSTRAINT" || desc == "FK CONSTRAINT" || desc == "CHECK CONSTRAINT") {
    AddConstraint(defn);
  } else if (desc == "TRIGGER") {
    std::string_view st = FirstStatement(defn);
    size_t pos;
    if (StartsWith(st, "CREATE TRIGGER ")) {
      pos = 15;
    } else if (StartsWith(st, "CREATE CONSTRAINT TRIGGER ")) {
      pos = 26;
    } else {
      return;  // e.g. only the enabled state of a partition's cloned trigger
    }
    std::string tname;
    std::vector<std::string> parts;
    if (!sqlident::Read(st, &pos, &tname)) return;
    size_t on = FindOutsideQuotes(st, " ON ", pos);
    pos = on + 4;
    if (on == std::string_view::npos || !sqlident::ReadQualified(st, &pos, &parts)) return;
    char state = 'O';
    std::string_view after = defn.substr(std::min(defn.size(), static_cast<size_t>(st.data() - defn.data()) + st.size()));
    if (after.find(" DISABLE TRIGGER ") != std::string_view::npos) state = 'D';
    if (after.find(" ENABLE ALWAYS TRIGGER ") != std::string_view::npos) state = 'A';
    if (after.find(" ENABLE REPLICA TRIGGER ") != std::string_view::npos) state = 'R';
    const std::string table = Join(parts);
    Add("TRIGGER " + table + "." + tname, std::string(st) + "\nenabled=" + state, true, table);
  } else if (desc == "POLICY") {
    std::string_view st = FirstStatement(defn);
    size_t pos = 14;  // "CREATE POLICY "
    std::string pname;
    std::vector<std::string> parts;
    if (!StartsWith(st, "CREATE POLICY ") || !sqlident::Read(st, &pos, &pname)) return;
    size_t on = FindOutsideQuotes(st, " ON ", pos);
    pos = on + 4;
    if (on == std::string_view::npos || !sqlident::ReadQualified(st, &pos, &parts)) return;
    // Not an object of its table's for kOfChildTable: a partition or an
    // inheritance child inherits no policy, so a dump holds its own ones
    // (as a database's catalogs do).
    Add("POLICY " + Join(parts) + "." + pname, st, true);
  } else if (desc == "ROW SECURITY") {
    rls_enabled_.push_back(qname);
  } else if (desc == "ACL") {
    // Tags: "TABLE t", "COLUMN t.c", "FUNCTION f(a integer)", "SCHEMA s",
    // "TYPE t", "DOMAIN d", "SEQUENCE s" (names quoted as SQL needs).
    size_t sp = tag.find(' ');
    if (sp == std::string_view::npos) return;
    std::string_view kind = tag.substr(0, sp);
    std::string_view rest = tag.substr(sp + 1);
    size_t pos = 0;
    std::vector<std::string> parts;
    std::string ident;
    if (kind == "FUNCTION" || kind == "PROCEDURE") {
      if (!sqlident::Read(rest, &pos, &ident)) return;
      Add("ACL " + std::string(kind) + " " + Qualified(ns, ident) + std::string(rest.substr(pos)), {}, false);
    } else if (kind == "SCHEMA") {
      if (!sqlident::Read(rest, &pos, &ident)) return;
      Add("ACL SCHEMA " + ident, {}, false);
    } else if (kind == "TABLE" || kind == "COLUMN" || kind == "TYPE" || kind == "DOMAIN" || kind == "SEQUENCE") {
      if (!sqlident::ReadQualified(rest, &pos, &parts)) return;
      Add("ACL " + std::string(kind) + " " + Qualified(ns, Join(parts)), {}, false);
    }
  } else if (desc == "DATABASE PROPERTIES") {
    database_settings_seen_ = true;
    // "ALTER DATABASE d SET name TO value;" per setting.
    std::string_view rest = defn;
    size_t at = 0;
    while ((at = rest.find("ALTER DATABASE ", at)) != std::string_view::npos) {
      size_t pos = at + 15;
      std::string db, param;
      at = pos;
      if (!sqlident::Read(rest, &pos, &db)) continue;
      if (rest.compare(pos, 5, " SET ") != 0) continue;
      pos += 5;
      if (!sqlident::Read(rest, &pos, &param)) continue;
      Add("SETTING DATABASE " + param, {}, false);
      objects_.back().flags |= SchemaObject::kCluster;
    }
    // "ALTER ROLE r IN DATABASE d SET name TO value;" per role setting.
    at = 0;
    while ((at = rest.find("ALTER ROLE ", at)) != std::string_view::npos) {
      size_t pos = at + 11;
      std::string role, db, param;
      at = pos;
      if (!sqlident::Read(rest, &pos, &role)) continue;
      if (rest.compare(pos, 13, " IN DATABASE ") != 0) continue;
      pos += 13;
      if (!sqlident::Read(rest, &pos, &db)) continue;
      if (rest.compare(pos, 5, " SET ") != 0) continue;
      pos += 5;
      if (!sqlident::Read(rest, &pos, &param)) continue;
      Add("SETTING DATABASE ROLE " + role + " " + param, {}, false);
      objects_.back().flags |= SchemaObject::kCluster;
    }
  } else if (desc == "DATABASE") {
    database_settings_seen_ = true;
  }
}

SchemaCatalog DumpSchemaCollector::Finish() {
  SchemaCatalog c;
  c.origin = "dump";
  c.has_database_objects = any_ddl_;
  c.has_database_settings = database_settings_seen_;
  std::sort(rls_forced_.begin(), rls_forced_.end());
  std::sort(rls_enabled_.begin(), rls_enabled_.end());
  std::set<std::string> rls(rls_enabled_.begin(), rls_enabled_.end());
  rls.insert(rls_forced_.begin(), rls_forced_.end());
  for (const auto& t : rls) {
    const bool on = std::binary_search(rls_enabled_.begin(), rls_enabled_.end(), t);
    const bool forced = std::binary_search(rls_forced_.begin(), rls_forced_.end(), t);
    Add("RLS " + t, std::string("enabled=") + (on ? "true" : "false") + " forced=" + (forced ? "true" : "false"),
        true);
  }
  std::set<std::string, std::less<>> children(child_tables_.begin(), child_tables_.end());
  c.objects.reserve(objects_.size());
  for (size_t i = 0; !objects_.empty(); ++i) {  // the deque gives its blocks back as it empties
    SchemaObject& o = objects_.front();
    if (object_table_[i] != 0 && children.count(o.name.substr(o.name.find(' ') + 1, object_table_[i])) > 0) {
      o.flags |= SchemaObject::kOfChildTable;
    }
    c.objects.push_back(std::move(o));
    objects_.pop_front();
  }
  c.names = std::move(names_);  // the objects' names live there
  c.Finish();
  *this = DumpSchemaCollector();
  return c;
}

// ---------------------------------------------------------------------------
// pg_dumpall --globals-only

namespace {

// A single-quoted literal at s[*pos] ('' doubled), unquoted.
bool ReadLiteral(std::string_view s, size_t* pos, std::string* out) {
  size_t i = *pos;
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != '\'') return false;
  out->clear();
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        out->push_back('\'');
        ++i;
        continue;
      }
      *pos = i + 1;
      return true;
    }
    out->push_back(s[i]);
  }
  return false;
}

// Removes " KEYWORD '...'" (a literal) from `attrs`.
void DropClause(std::string& attrs, std::string_view keyword) {
  size_t at = attrs.find(keyword);
  if (at == std::string::npos) return;
  size_t pos = at + keyword.size();
  std::string lit;
  if (!ReadLiteral(attrs, &pos, &lit)) return;
  attrs.erase(at, pos - at);
}

}  // namespace

Result<SchemaCatalog> ParseGlobalsText(std::string_view text, const std::string& location) {
  SchemaCatalog c;
  c.origin = "dump";
  bool header = false;
  auto add = [&](const std::string& name, std::optional<std::string> t) {
    SchemaObject& o = c.Add(name);
    o.flags = SchemaObject::kCluster;
    if (t) {
      o.text = FingerprintOf(*t);
      o.flags |= SchemaObject::kHasText;
    }
  };
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find('\0') != std::string_view::npos) {
      return Unsupported(location + ": line " + std::to_string(line_no) + ": binary data: not a pg_dumpall file");
    }
    if (StartsWith(line, "-- PostgreSQL database cluster dump")) header = true;
    if (StartsWith(line, "-- PostgreSQL database dump") && !StartsWith(line, "-- PostgreSQL database dump complete")) {
      if (!header) {
        return Unsupported(location + ": line " + std::to_string(line_no) +
                           ": a pg_dump database dump, not a pg_dumpall --globals-only file");
      }
      break;  // a full pg_dumpall: its globals come first; the databases are not read here
    }
    if (!header) {
      if (line.empty() || line == "--" || StartsWith(line, "\\restrict")) continue;
      return Unsupported(location + ": line " + std::to_string(line_no) +
                         ": not a pg_dumpall file (no '-- PostgreSQL database cluster dump' header)");
    }
    std::string ident, ident2;
    size_t pos;
    if (StartsWith(line, "CREATE ROLE ")) {
      pos = 12;
      if (!sqlident::Read(line, &pos, &ident)) {
        return Corrupt(location + ": line " + std::to_string(line_no) + ": cannot read the role name");
      }
      add("ROLE " + ident, std::nullopt);  // its attributes follow in ALTER ROLE ... WITH
    } else if (StartsWith(line, "ALTER ROLE ")) {
      pos = 11;
      if (!sqlident::Read(line, &pos, &ident)) {
        return Corrupt(location + ": line " + std::to_string(line_no) + ": cannot read the role name");
      }
      std::string_view rest = line.substr(pos);
      if (StartsWith(rest, " WITH ")) {
        std::string attrs(rest.substr(6));
        if (!attrs.empty() && attrs.back() == ';') attrs.pop_back();
        DropClause(attrs, " PASSWORD");  // never kept, not even hashed
        DropClause(attrs, " VALID UNTIL");
        add("ROLE " + ident, attrs);
      } else if (StartsWith(rest, " SET ")) {
        pos += 5;
        if (sqlident::Read(line, &pos, &ident2)) add("SETTING ROLE " + ident + " " + ident2, std::nullopt);
      }
    } else if (StartsWith(line, "GRANT ")) {
      // "GRANT role TO member [WITH ADMIN OPTION] [GRANTED BY g];" (role
      // memberships; privileges on tablespaces say " ON ").
      if (FindOutsideQuotes(line, " ON ") != std::string_view::npos) continue;
      pos = 6;
      if (!sqlident::Read(line, &pos, &ident)) continue;
      size_t to = FindOutsideQuotes(line, " TO ", pos);
      if (to == std::string_view::npos) continue;
      pos = to + 4;
      if (!sqlident::Read(line, &pos, &ident2)) continue;
      const bool admin = line.find(" WITH ADMIN OPTION", pos) != std::string_view::npos;
      add("MEMBERSHIP " + ident + " " + ident2, std::string("admin=") + (admin ? "true" : "false"));
    } else if (StartsWith(line, "CREATE TABLESPACE ")) {
      pos = 18;
      if (!sqlident::Read(line, &pos, &ident)) continue;
      size_t owner = line.find(" OWNER ", pos);
      pos = owner + 7;
      if (owner != std::string_view::npos && sqlident::Read(line, &pos, &ident2)) {
        add("TABLESPACE " + ident, "owner=" + ident2);
      } else {
        add("TABLESPACE " + ident, std::nullopt);
      }
    }
  }
  if (!header) return Unsupported(location + ": empty, or not a pg_dumpall --globals-only file");
  c.has_cluster_objects = true;
  c.Finish();
  // A role's "CREATE ROLE" and "ALTER ROLE ... WITH" lines: Finish kept the
  // later one, with the attributes.
  return c;
}

Result<SchemaCatalog> ParseGlobalsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError(path + ": read error");
  return ParseGlobalsText(ss.str(), path);
}

}  // namespace vouch
