// pg_dump-style table selection: -t/-T table patterns and -n/-N schema
// patterns, with pg_dump's rules: `*` and `?` are wildcards, unquoted letters
// are folded to lower case, "quoted" parts match exactly, `schema.table` or a
// bare `table` (any schema). A table is selected when it matches a -t pattern
// (or, without -t, its schema matches a -n pattern, or there is no -n), and
// matches no -T pattern (and, without -t, its schema no -N pattern).
// Unlike pg_dump, a -t/-T pattern that names a partitioned table applies to
// every leaf partition under it: `-t parent` selects the whole partition tree.
#pragma once

#include <string>
#include <vector>

#include "vouch/readers/table_stream.h"
#include "vouch/status.h"

namespace vouch {

class TableFilter {
 public:
  Status AddTable(const std::string& pattern);          // -t
  Status AddExcludeTable(const std::string& pattern);   // -T
  Status AddSchema(const std::string& pattern);         // -n
  Status AddExcludeSchema(const std::string& pattern);  // -N

  bool Selects(const std::string& schema, const std::string& name) const;
  // As above, for a table whose partition ancestors are known: a -t or -T
  // pattern matching the table or any of its ancestors applies to it; -n/-N
  // look at the table's own schema.
  bool Selects(const TableInfo& table) const;
  bool empty() const { return tables_.empty() && xtables_.empty() && schemas_.empty() && xschemas_.empty(); }
  // Include patterns (-t, -n) that selected nothing among `seen` tables, for
  // an error: a typo must not silently verify nothing. `seen` should list
  // the partitioned tables above the leaves too (a -t pattern may name one).
  std::vector<std::string> UnmatchedIncludes(const std::vector<std::pair<std::string, std::string>>& seen) const;

 private:
  // One dot-separated part: literal bytes, with '*' and '?' wildcards where
  // wild[i] is set (a quoted '*' is literal).
  struct Glob {
    std::string chars;
    std::vector<bool> wild;
    bool Matches(const std::string& s) const;
  };
  struct Pattern {
    std::string text;
    bool has_schema = false;
    bool schema_only = false;  // a -n/-N pattern
    Glob schema, name;
  };
  static Glob ParseGlob(const std::string& part);
  static Result<Pattern> Compile(const std::string& text, bool schema_only);
  static bool Match(const Pattern& p, const std::string& schema, const std::string& name);
  bool SelectsTree(const std::string& schema, const std::string& name,
                   const std::vector<RelationName>& ancestors) const;

  std::vector<Pattern> tables_, xtables_, schemas_, xschemas_;
};

}  // namespace vouch
