#include "vouch/readers/table_filter.h"

namespace vouch {
// Parses one dot-separated part: quotes, "" escapes, case folding, wildcards.
TableFilter::Glob TableFilter::ParseGlob(const std::string& part) {
  Glob g;
  bool quoted = false;
  for (size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (c == '"') {
      if (quoted && i + 1 < part.size() && part[i + 1] == '"') {
        g.chars += '"';
        g.wild.push_back(false);
        ++i;
      } else {
        quoted = !quoted;
      }
      continue;
    }
    bool wild = !quoted && (c == '*' || c == '?');
    if (!quoted && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    g.chars += c;
    g.wild.push_back(wild);
  }
  return g;
}

bool TableFilter::Glob::Matches(const std::string& s) const {
  // Iterative wildcard matching: on a mismatch, let the last '*' absorb one more byte.
  size_t p = 0, i = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (p < chars.size() && wild[p] && chars[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < chars.size() && ((wild[p] && chars[p] == '?') || (!wild[p] && chars[p] == s[i]))) {
      ++p;
      ++i;
    } else if (star != std::string::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < chars.size() && wild[p] && chars[p] == '*') ++p;
  return p == chars.size();
}

namespace {

// Splits at the dots that are outside double quotes.
std::vector<std::string> SplitDots(const std::string& s) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (c == '.' && !quoted) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  return parts;
}

}  // namespace

Result<TableFilter::Pattern> TableFilter::Compile(const std::string& text, bool schema_only) {
  auto parts = SplitDots(text);
  if (text.empty() || parts.size() > (schema_only ? 1u : 2u)) {
    return InvalidArgument("invalid name pattern '" + text + "' (expected " +
                           (schema_only ? "schema" : "[schema.]table") + ")");
  }
  Pattern p;
  p.text = text;
  if (schema_only) {
    p.schema_only = p.has_schema = true;
    p.schema = ParseGlob(parts[0]);
  } else if (parts.size() == 2) {
    p.has_schema = true;
    p.schema = ParseGlob(parts[0]);
    p.name = ParseGlob(parts[1]);
  } else {
    p.name = ParseGlob(parts[0]);
  }
  return p;
}

bool TableFilter::Match(const Pattern& p, const std::string& schema, const std::string& name) {
  if (p.schema_only) return p.schema.Matches(schema);
  return (!p.has_schema || p.schema.Matches(schema)) && p.name.Matches(name);
}

#define VOUCH_ADD_PATTERN(list, schema_only) \
  auto p = Compile(pattern, schema_only);    \
  if (!p.ok()) return p.status();            \
  list.push_back(std::move(p).value());      \
  return Status::Ok()

Status TableFilter::AddTable(const std::string& pattern) { VOUCH_ADD_PATTERN(tables_, false); }
Status TableFilter::AddExcludeTable(const std::string& pattern) { VOUCH_ADD_PATTERN(xtables_, false); }
Status TableFilter::AddSchema(const std::string& pattern) { VOUCH_ADD_PATTERN(schemas_, true); }
Status TableFilter::AddExcludeSchema(const std::string& pattern) { VOUCH_ADD_PATTERN(xschemas_, true); }
#undef VOUCH_ADD_PATTERN

bool TableFilter::Selects(const std::string& schema, const std::string& name) const {
  return SelectsTree(schema, name, {});
}

bool TableFilter::Selects(const TableInfo& table) const {
  return SelectsTree(table.schema, table.name, table.partition_ancestors);
}

bool TableFilter::SelectsTree(const std::string& schema, const std::string& name,
                              const std::vector<RelationName>& ancestors) const {
  // A table pattern matches the table itself or a partitioned table above it.
  auto any = [&](const std::vector<Pattern>& list) {
    for (const auto& p : list) {
      if (Match(p, schema, name)) return true;
      if (p.schema_only) continue;
      for (const auto& a : ancestors) {
        if (Match(p, a.schema, a.name)) return true;
      }
    }
    return false;
  };
  bool selected;
  if (!tables_.empty()) {
    selected = any(tables_);  // pg_dump: -n/-N do not apply when -t is given
  } else {
    selected = (schemas_.empty() || any(schemas_)) && !any(xschemas_);
  }
  return selected && !any(xtables_);
}

std::vector<std::string> TableFilter::UnmatchedIncludes(
    const std::vector<std::pair<std::string, std::string>>& seen) const {
  std::vector<std::string> out;
  for (const auto* list : {&tables_, &schemas_}) {
    for (const auto& p : *list) {
      bool hit = false;
      for (const auto& [schema, name] : seen) hit = hit || Match(p, schema, name);
      if (!hit) out.push_back(p.text);
    }
  }
  return out;
}

}  // namespace vouch
