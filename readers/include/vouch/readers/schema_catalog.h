// SchemaCatalog: every schema object of a source (a database's catalogs, a
// dump's DDL) and the cluster-wide objects (roles, memberships, tablespaces,
// settings: a database's catalogs, a pg_dumpall --globals-only file), each
// as a name and fingerprints of its defining text, never the text itself
// (docs/digest-format.md "Schema objects"). At most 256 bytes per object.
//
// Names are "KIND identity", unquoted: "INDEX public.t_pkey",
// "CONSTRAINT public.t.t_pkey", "FUNCTION public.f(integer)",
// "COLUMN public.t.a", "ACL TABLE public.t", "ROLE alice",
// "MEMBERSHIP admins alice".
//
// Two fingerprints per object:
//  - `text`: of the text a database and its dump both print the same way
//    (pg_get_indexdef, pg_get_constraintdef, pg_get_viewdef, pg_get_triggerdef
//    and its enabled state, a function's body, a policy as pg_dump prints it,
//    an enum's labels, an extension's schema, a role's attributes as
//    pg_dumpall prints them). Set only where the object's kind has such a
//    text (kHasText); other kinds compare by presence across source kinds.
//  - `exact`: everything the catalogs say about the object (kHasExact,
//    databases only): a database against a database compares these.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vouch/status.h"

namespace vouch {

using SchemaFingerprint = std::array<uint8_t, 16>;

// The first 16 bytes of SHA-256 over `text`.
SchemaFingerprint FingerprintOf(std::string_view text);

// The objects' names, copied once into blocks that never move: a name
// costs its bytes and no allocation of its own. 100,000 tables make about
// 570,000 objects, and a drill holds two catalogs while it reads the rows.
class NameArena {
 public:
  // A copy of `s` that lives as long as the arena.
  std::string_view Add(std::string_view s);
  // Takes `other`'s blocks: the names in them stay where they are.
  void Adopt(NameArena&& other);

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, capacity_ = 0;  // of the last block
};

struct SchemaObject {
  enum Flags : uint8_t {
    kHasText = 1,   // `text` is set
    kHasExact = 2,  // `exact` is set (a database's catalogs)
    // A column, constraint or trigger of a table that has a parent (a
    // partition, an inheritance child): a dump leaves out what such a table
    // inherits, so against a dump its absence is not a difference, and the
    // schema hash leaves it out on every side.
    kOfChildTable = 4,
    kCluster = 8,  // a cluster-wide object (role, membership, tablespace, setting)
  };
  // In the arena of the catalog (or collector) that holds the object; a
  // literal in tests.
  std::string_view name;
  SchemaFingerprint text{}, exact{};
  uint8_t flags = 0;

  // "INDEX" of "INDEX public.t_pkey", "ACL" of "ACL TABLE public.t".
  std::string_view Kind() const { return std::string_view(name).substr(0, name.find(' ')); }
  bool Has(Flags f) const { return (flags & f) != 0; }
  // A setting of the database itself ("SETTING DATABASE name", "SETTING
  // DATABASE ROLE r name"): in its catalogs and a --create dump, never in a
  // globals file.
  bool IsDatabaseSetting() const { return name.rfind("SETTING DATABASE ", 0) == 0; }
};

struct SchemaCatalog {
  // Sorted by name, names unique.
  std::vector<SchemaObject> objects;
  // Where the objects' names are. A copy of the catalog shares it, so its
  // objects stay valid; it only grows.
  std::shared_ptr<NameArena> names = std::make_shared<NameArena>();
  // "database" (catalogs, exact fingerprints) or "dump" (DDL text).
  std::string origin;
  bool has_database_objects = false;  // false: a --data-only dump
  bool has_cluster_objects = false;   // roles etc. (a database, or a --globals file)
  // The database's own ALTER DATABASE ... SET settings ("SETTING DATABASE
  // name"): a database's catalogs; a dump only when made with --create.
  bool has_database_settings = false;
  // A database's tables ("schema.table", sorted), each with a fingerprint of
  // its column names in the table's own order (attnum); empty for a dump or
  // a manifest. Not objects: columns compare by name, and a table that lists
  // them in another order (a restore puts an inheritance child's inherited
  // columns first) is a note, never a difference.
  std::vector<std::pair<std::string, SchemaFingerprint>> column_orders;

  // Appends an object named `name` (copied into `names`).
  SchemaObject& Add(std::string_view name);
  // Moves `other`'s objects (and their names) to the end of this one's;
  // Finish() sorts them in.
  void Append(SchemaCatalog&& other);
  // Sorts by name and keeps the first of equal names.
  void Finish();
  // Adds the cluster-wide objects of `globals` (replacing any held), but
  // for the database's own settings ("SETTING DATABASE name"), which stay.
  void MergeCluster(const SchemaCatalog& globals);
};

// Gathers schema objects from a dump's TOC entries (an archive's, or those a
// plain dump prints under "-- Name: ...; Type: ...; Schema: ..." headers): the
// entry's desc, namespace, tag and SQL text. Keeps only fingerprints.
class DumpSchemaCollector {
 public:
  void AddEntry(std::string_view desc, std::string_view namespace_, std::string_view tag, std::string_view defn);
  // The objects seen (has_database_objects false when no entry was DDL: a
  // --data-only dump), and the collector emptied.
  SchemaCatalog Finish();

 private:
  void Add(std::string_view name, std::string_view text, bool has_text, const std::string& table = {});
  void AddTableBody(const std::string& table, std::string_view defn);
  void AddConstraint(std::string_view defn);

  // A deque: 100,000 tables make 400,000 objects, which a growing vector
  // would hold twice while it moves them.
  std::deque<SchemaObject> objects_;
  std::shared_ptr<NameArena> names_ = std::make_shared<NameArena>();
  // Per object: the length of the "schema.table" it belongs to, which its
  // name holds right after its kind ("COLUMN s.t.c"), or 0.
  std::vector<uint16_t> object_table_;
  std::vector<std::string> child_tables_;  // tables with a parent (ATTACH PARTITION, INHERITS)
  std::vector<std::string> rls_enabled_, rls_forced_;
  bool any_ddl_ = false;
  bool database_settings_seen_ = false;
};

// Parses a pg_dumpall --globals-only (or -r/-t) file: roles with their
// attributes (never their passwords), memberships, tablespaces and
// ALTER ROLE ... SET settings. Errors name the file and line.
Result<SchemaCatalog> ParseGlobalsFile(const std::string& path);
Result<SchemaCatalog> ParseGlobalsText(std::string_view text, const std::string& location);

// SQL identifier helpers for DDL as pg_dump prints it.
namespace sqlident {
// Reads one identifier (bare or "double-quoted") at s[*pos], skipping
// leading spaces; returns false when none is there.
bool Read(std::string_view s, size_t* pos, std::string* out);
// Reads "a.b" or "a" (a qualified name) into its parts.
bool ReadQualified(std::string_view s, size_t* pos, std::vector<std::string>* parts);
}  // namespace sqlident

}  // namespace vouch
