// Sequences and large objects: what a source says about them besides its
// tables' rows (docs/formats.md "Sequences and large objects").
//
// A sequence has a definition (type, start, increment, bounds, cache, cycle,
// the column it is OWNED BY) and a state (last_value, is_called). Sequences
// are not transactional, so their state is never part of a hash; the drill
// compares it by order (behind / ahead), and the definition exactly.
//
// A large object is (oid, owner, content): its content is hashed as it is
// read (H(large object), vouch/hashing/large_object_hash.h), never held.
//
// DumpSequences follows the statements pg_dump writes for sequences, line by
// line, from a plain dump or from an archive's TOC entries (the same text):
//   CREATE SEQUENCE s\n    AS integer\n    START WITH 1\n ... CACHE 1;
//   ALTER TABLE t ALTER COLUMN c ADD GENERATED ... AS IDENTITY (\n    SEQUENCE NAME s\n ... );
//   ALTER SEQUENCE s OWNED BY t.c;
//   ALTER TABLE ONLY t ALTER COLUMN c SET DEFAULT nextval('s'::regclass);
//   c type DEFAULT nextval('s'::regclass) ...  (inside CREATE TABLE)
//   SELECT pg_catalog.setval('s', 42, true);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/hashing/u128.h"
#include "vouch/readers/table_stream.h"

namespace vouch {

// A column of a table, by name (unquoted).
struct ColumnName {
  std::string schema, table, column;
  std::string Qualified() const;  // schema.table.column, quoted where SQL needs it
  friend bool operator==(const ColumnName&, const ColumnName&) = default;
  friend auto operator<=>(const ColumnName&, const ColumnName&) = default;
};

struct SequenceInfo {
  std::string schema, name;
  // The definition, as PostgreSQL stores it (pg_sequence): defaults filled
  // in where the DDL says NO MINVALUE / NO MAXVALUE or leaves a clause out.
  bool has_definition = false;
  std::string type = "bigint";  // smallint, integer or bigint
  int64_t start = 1, increment = 1, min_value = 1, max_value = INT64_MAX, cache = 1;
  bool cycle = false;
  ColumnName owned_by;  // empty column: owned by none
  // The columns whose values it gives: its OWNED BY column and every column
  // whose default calls nextval() on it (sorted, unique).
  std::vector<ColumnName> feeds;
  // The state (setval in a dump; the sequence relation live).
  bool has_state = false;
  int64_t last_value = 0;
  bool is_called = false;

  std::string QualifiedName() const;
  // The value nextval() returns next, if the sequence has one to give (a
  // called sequence at its bound without CYCLE has none).
  bool NextValue(int64_t* out) const;
  // "AS integer START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1
  // NO CYCLE OWNED BY public.t.id": one text for the definition, compared
  // exactly and fingerprinted in manifests (docs/digest-format.md).
  std::string DefinitionText() const;
  // 32 hex digits: the first 16 bytes of SHA-256(DefinitionText()), or the
  // fingerprint a manifest stored (`fingerprint`; the fields are then not
  // known). Empty without a definition.
  std::string DefinitionFingerprint() const;
  std::string fingerprint;  // set only when read from a manifest
};

struct LargeObjectInfo {
  uint32_t oid = 0;
  std::string owner;         // role name; empty when the source does not say (--no-owner)
  bool has_content = false;  // its data was read (a --schema-only dump has none)
  uint64_t bytes = 0;
  U128 hash;  // H(large object) of its content
};

// Sorts by (schema, name) / oid; fills each sequence's `feeds`.
void SortSequences(std::vector<SequenceInfo>& seqs);
void SortLargeObjects(std::vector<LargeObjectInfo>& los);

// The defaults PostgreSQL gives a sequence of `type` with `increment`.
int64_t SequenceTypeMin(const std::string& type);
int64_t SequenceTypeMax(const std::string& type);

// `SELECT pg_catalog.setval('public.s', 42, true);` → (public, s), 42, true.
bool ParseSetval(std::string_view line, RelationName* seq, int64_t* value, bool* is_called);
// `nextval('public.s'::regclass)` anywhere in `text` → (public, s).
bool FindNextvalCall(std::string_view text, RelationName* seq);

class DumpSequences {
 public:
  // One line of DDL or data statements (without '\n'). Returns true when the
  // line was one this class follows. An error: a sequence statement it
  // cannot read (not what pg_dump writes), naming the line.
  Result<bool> AddLine(std::string_view line);
  // The sequences seen so far (definition, state or both), unsorted.
  const std::vector<SequenceInfo>& sequences() const { return seqs_; }
  bool empty() const { return seqs_.empty(); }
  std::vector<SequenceInfo> Take();

 private:
  SequenceInfo& Get(const RelationName& name);
  Status Clause(std::string_view body);
  Status EndDefinition();

  enum class Block { kNone, kSequence, kIdentity, kTable };
  Block block_ = Block::kNone;
  SequenceInfo pending_;
  bool saw_min_ = false, saw_max_ = false, saw_start_ = false;
  ColumnName identity_column_;
  RelationName table_;  // CREATE TABLE being read
  bool saw_type_ = false;
  std::vector<SequenceInfo> seqs_;
  std::map<RelationName, size_t> index_;
  // Integer columns of the tables read (an identity sequence takes its
  // column's type: pg_dump writes no AS for it), per table "schema\0name":
  // each column's name, a NUL and its type's initial ('s', 'i', 'b'), packed
  // in one string (one allocation per table, not one per column: 100,000
  // tables held 16 MB as a map of columns).
  std::map<std::string, std::string> int_columns_;
};

// Plain-dump large object statements (pg_dump's text output):
//   SELECT pg_catalog.lo_create('16400');
//   ALTER LARGE OBJECT 16400 OWNER TO role;
//   SELECT pg_catalog.lo_open('16400', 131072);
//   SELECT pg_catalog.lowrite(0, '\x0a0b...');   (or E'\\x0a0b...')
//   SELECT pg_catalog.lo_close(0);
bool ParseLoCreate(std::string_view line, uint32_t* oid);
bool ParseLoOwner(std::string_view line, uint32_t* oid, std::string* owner);
bool ParseLoOpen(std::string_view line, uint32_t* oid);
// The hex digits of a lowrite(0, ...) line, undecoded; false when the line
// is not one.
bool ParseLowrite(std::string_view line, std::string_view* hex);
bool IsLoClose(std::string_view line);
// Decodes hex digit pairs into out (appended); false on a bad digit or an
// odd count.
bool DecodeHex(std::string_view hex, std::string* out);

}  // namespace vouch
