// Schema objects compared between two sources (vouch drill), and the
// SCHEMA_VALIDATION_HASH of one (docs/digest-format.md "Schema objects").
//
// Two databases compare every object by its exact fingerprint (everything
// the catalogs say). Where a side is a dump, objects compare by the text both
// print the same way where their kind has one (SchemaObject::kHasText), else
// by presence, and the comparison says which kinds were compared by presence
// only. Against a dump, a child table's column, constraint or trigger that one
// side lacks is not a difference (pg_dump leaves out what a table inherits).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "vouch/readers/schema_catalog.h"

namespace vouch {

enum class SchemaDiffKind : uint8_t { kMissing, kExtra, kChanged };
const char* SchemaDiffKindName(SchemaDiffKind k);  // "missing", "extra", "changed"

struct SchemaDifference {
  std::string name;  // "INDEX public.t_idx"
  SchemaDiffKind kind = SchemaDiffKind::kMissing;
};

// The objects of one kind ("INDEX", "ACL", ...).
struct SchemaKindComparison {
  std::string kind;
  size_t compared = 0;          // objects on either side that were compared
  bool by_presence = false;     // some compared by presence only
  size_t missing = 0, extra = 0, changed = 0;
  bool cluster = false;         // a cluster-wide kind
};

struct SchemaComparison {
  // False when a side has no schema (a --data-only dump, a manifest of
  // version 1 or 2, a table selection): `not_compared` says why.
  bool compared = false;
  std::string not_compared;
  bool exact = false;  // both sides are databases
  // Cluster-wide objects (roles, memberships, tablespaces, settings) are
  // compared only where both sides have them; else `cluster_not_compared`.
  bool cluster_compared = false;
  std::string cluster_not_compared;
  std::vector<SchemaKindComparison> kinds;      // sorted by kind
  std::vector<SchemaDifference> differences;    // sorted by name
  size_t child_objects_not_in_dump = 0;         // see the header comment
  // Two databases: the tables of both that list their columns in another
  // order than the source's (sorted). A note, not a difference: columns
  // compare by name (a restore puts an inheritance child's inherited columns
  // first).
  std::vector<std::string> column_order_differs;
  // Kinds (of `kinds`) compared by presence only, for the report.
  std::vector<std::string> PresenceKinds() const;
};

// Compares `expected` (the source) with `actual` (the restored copy); a null
// side has no schema. `expected_where`/`actual_where` word a missing schema.
SchemaComparison CompareSchemas(const SchemaCatalog* expected, const SchemaCatalog* actual);

// The SCHEMA_VALIDATION_HASH of a catalog, 64 hex: SHA-256 over its objects
// in name order (docs/digest-format.md), each as its name and its text
// fingerprint (or "presence"), leaving out child tables' objects; the
// cluster-wide objects only with `with_cluster`, the database's settings
// only with `with_database_settings`. Empty when `c` has no schema.
std::string SchemaValidationHash(const SchemaCatalog* c, bool with_cluster, bool with_database_settings);

}  // namespace vouch
