// The pipeline's order-freedom and bounds: same digest for any thread count,
// chunk size and row order; malformed rows and edited manifests are errors.
#include "vouch/engine/digest_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <tuple>

#include "vouch/engine/compare.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/schema_compare.h"
#include "vouch/hashing/row_hash.h"
#include "vouch/readers/plain_dump_reader.h"

namespace vouch {
namespace {

std::string Dump(const std::vector<std::string>& rows_a, const std::vector<std::string>& rows_b) {
  std::string d =
      "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.20\n"
      "-- Dumped by pg_dump version 15.20\n\n";
  auto block = [&](const char* name, const char* copy, const std::vector<std::string>& rows) {
    d += std::string("--\n-- Data for Name: ") + name + "; Type: TABLE DATA; Schema: public; Owner: o\n--\n\n" + copy +
         "\n";
    for (const auto& r : rows) d += r + "\n";
    d += "\\.\n\n\n";
  };
  block("a", "COPY public.a (id, v) FROM stdin;", rows_a);
  block("b", "COPY public.b (z, id) FROM stdin;", rows_b);
  return d + "--\n-- PostgreSQL database dump complete\n--\n\n";
}

std::vector<std::string> Rows(int n, int salt) {
  std::vector<std::string> rows;
  for (int i = 0; i < n; ++i)
    rows.push_back(std::to_string(i) + "\tv" + std::to_string(i * salt) +
                   std::string(static_cast<size_t>(i % 37), 'q'));
  return rows;
}

Result<DigestReport> DigestDump(const std::string& dump, int jobs, size_t chunk) {
  auto reader = MakePlainDumpReader(MakeMemorySource(dump, "mem.sql"), "mem.sql", Compression::kNone);
  DigestOptions opt;
  opt.jobs = jobs;
  opt.chunk_size = chunk;
  return DigestTables(*reader, opt);
}

TEST(DigestPipeline, SameFinalHashForAnyJobsChunkSizeAndRowOrder) {
  auto a = Rows(20000, 3), b = Rows(7000, 5);
  auto ref = DigestDump(Dump(a, b), 1, 4 << 20);
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  ASSERT_EQ(ref->tables.size(), 2u);
  EXPECT_EQ(ref->tables[0].digest.rows(), 20000u);
  EXPECT_EQ(ref->tables[1].digest.rows(), 7000u);
  for (int jobs : {1, 2, 4}) {
    for (size_t chunk : {size_t{1024}, size_t{4096}, size_t{65536}, size_t{1} << 20, size_t{4} << 20}) {
      auto r = DigestDump(Dump(a, b), jobs, chunk);
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->FinalHashHex(), ref->FinalHashHex()) << "jobs " << jobs << " chunk " << chunk;
    }
  }
  std::mt19937 rng(9);
  std::shuffle(a.begin(), a.end(), rng);
  std::shuffle(b.begin(), b.end(), rng);
  auto shuffled = DigestDump(Dump(a, b), 2, 4096);
  ASSERT_TRUE(shuffled.ok());
  EXPECT_EQ(shuffled->FinalHashHex(), ref->FinalHashHex());
}

TEST(DigestPipeline, HashesCanonicalRowsWithColumnsInNameOrder) {
  // Table b lists (z, id): the canonical row is "id\tz".
  auto r = DigestDump(Dump({}, {"zval\t7"}), 1, 4096);
  ASSERT_TRUE(r.ok());
  TableDigest expected;
  expected.AddRowHash(HashRow("7\tzval"));
  EXPECT_EQ(r->tables[1].digest, expected);
  EXPECT_EQ(r->tables[1].columns, (std::vector<std::string>{"id", "z"}));
  EXPECT_EQ(r->tables[0].digest.rows(), 0u);
}

TEST(DigestPipeline, OneChangedByteChangesOnlyThatTable) {
  auto a = Rows(5000, 3), b = Rows(5000, 5);
  auto ref = DigestDump(Dump(a, b), 2, 8192);
  b[4321][0] = b[4321][0] == '1' ? '2' : '1';
  auto changed = DigestDump(Dump(a, b), 2, 8192);
  ASSERT_TRUE(ref.ok() && changed.ok());
  EXPECT_EQ(ref->tables[0].digest, changed->tables[0].digest);
  EXPECT_NE(ref->tables[1].digest.ContentHashHex(), changed->tables[1].digest.ContentHashHex());
  EXPECT_NE(ref->FinalHashHex(), changed->FinalHashHex());
}

TEST(DigestPipeline, WrongFieldCountIsCorruptWithTableAndOffset) {
  auto a = Rows(3000, 3);
  a[2000] += "\textra";
  auto r = DigestDump(Dump(a, {}), 2, 4096);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("public.a"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("has 3 fields"), std::string::npos) << r.status().message();
}

TEST(ContentHash, HoldsTheDigestsBytesAndPrintsTheirHex) {
  auto a = Rows(300, 3);
  auto d = DigestDump(Dump(a, a), 1, 8192);
  ASSERT_TRUE(d.ok()) << d.status().message();
  const TableDigest& t = d->tables[0].digest;
  ContentHash h(t.ContentHash());
  EXPECT_EQ(h.Hex(), t.ContentHashHex());
  EXPECT_EQ(ContentHash::FromHex(t.ContentHashHex()), h);
  EXPECT_FALSE(h.empty());
  EXPECT_TRUE(ContentHash().empty());
  EXPECT_EQ(ContentHash().Hex(), "");
  EXPECT_NE(ContentHash(), h);
  EXPECT_TRUE(ContentHash::FromHex("abc").empty());
  EXPECT_TRUE(ContentHash::FromHex(std::string(32, 'g')).empty());
}

TEST(Manifest, RoundTripsAndRejectsEdits) {
  auto r = DigestDump(Dump(Rows(1000, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  std::string json = ManifestJson(*r, "test");
  auto back = ParseManifest(json, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->FinalHashHex(), r->FinalHashHex());
  ASSERT_EQ(back->tables.size(), 2u);
  EXPECT_EQ(back->tables[0].digest, r->tables[0].digest);
  EXPECT_EQ(back->tables[1].columns, r->tables[1].columns);
  // Source properties survive the round trip (they were once read through a
  // dangling reference).
  EXPECT_EQ(back->source.properties.at("pg_dump_version"), "15.20");
  EXPECT_EQ(back->source.properties.at("server_version"), "15.20");

  std::string edited = json;
  size_t pos = edited.find("\"rows\":1000");
  ASSERT_NE(pos, std::string::npos);
  edited.replace(pos, 11, "\"rows\":1001");
  auto bad = ParseManifest(edited, "m.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorrupt);
  EXPECT_FALSE(ParseManifest("{\"format\": \"vouch-manifest\"", "m.json").ok());
  EXPECT_FALSE(ParseManifest("[]", "m.json").ok());
}

// The manifest is written a table at a time: the document nlohmann would
// print whole, but for the schema objects and the tables, one compact line
// each, not indented (version 5).
TEST(Manifest, StreamedTextIsTheWholeDocumentWithOneLinePerTable) {
  auto r = DigestDump(Dump(Rows(1000, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  std::string text = ManifestJson(*r, "test");
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["version"], 5);
  const std::string line0 = "\n" + j["tables"][0].dump() + ",\n";
  const std::string line1 = "\n" + j["tables"][1].dump() + "\n  ]";
  EXPECT_NE(text.find(line0), std::string::npos) << text;
  EXPECT_NE(text.find(line1), std::string::npos) << text;
  auto framed = j;
  framed["tables"] = nlohmann::json::array();
  const std::string frame = framed.dump(2);
  const size_t at = text.find("\"tables\": [\n");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(text.substr(0, at), frame.substr(0, frame.find("\"tables\": []")));
  // Each table's digest is sized by its rows: 1000 rows -> 8 buckets, 10 -> 1,
  // and a single bucket (the sum itself) is not written, nor its count.
  EXPECT_EQ(j["tables"][0]["bucket_count"], 8);
  EXPECT_EQ(j["tables"][0]["buckets"].get<std::string>().size(), 8u * 32);
  EXPECT_FALSE(j["tables"][1].contains("bucket_count"));
  EXPECT_FALSE(j["tables"][1].contains("buckets"));
  auto back = ParseManifest(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->tables[1].digest, r->tables[1].digest);
  EXPECT_LT(j["tables"][1].dump().size(), 256u);
}

// Version 3 wrote a table's single bucket; such a manifest still loads, and a
// listed bucket that is not the sum is rejected.
TEST(Manifest, VersionThreeSingleBucketIsReadAndChecked) {
  auto r = DigestDump(Dump(Rows(1000, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  auto v3 = nlohmann::json::parse(ManifestJson(*r, "test"));
  v3["version"] = 3;
  v3["tables"][1]["bucket_count"] = 1;
  v3["tables"][1]["buckets"] = v3["tables"][1]["sum"];
  auto back = ParseManifest(v3.dump(2), "v3.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->tables[1].digest, r->tables[1].digest);
  EXPECT_EQ(back->FinalHashHex(), r->FinalHashHex());
  v3["tables"][1]["buckets"] = std::string(32, '0');
  EXPECT_EQ(ParseManifest(v3.dump(2), "v3.json").status().code(), StatusCode::kCorrupt);
}

// A version-1 manifest (every table 4096 buckets) is still read: its digests
// fold down to their version-2 size, and its final hash is the same. The
// version-1 document is written here from its definition, not by vouch.
TEST(Manifest, VersionOneIsReadAndLaterVersionsAreRefusedWithTheWayOut) {
  auto r = DigestDump(Dump(Rows(1000, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  auto v1 = nlohmann::json::parse(ManifestJson(*r, "test"));
  v1.erase("schema");  // version 1 had none
  v1["version"] = 1;
  v1["digest"]["table_digest_version"] = 1;
  const std::vector<std::vector<std::string>> rows = {Rows(1000, 3), Rows(10, 5)};
  for (size_t t = 0; t < 2; ++t) {
    std::vector<U128> buckets(4096);
    for (const std::string& row : rows[t]) {
      // Canonical row: columns in name order; Dump() lists a (id, v), b (z, id).
      size_t tab = row.find('\t');
      U128 h = HashRow(t == 0 ? row : row.substr(tab + 1) + "\t" + row.substr(0, tab));
      buckets[h.hi >> 52] += h;
    }
    std::string hex;
    for (const U128& b : buckets) hex += b.Hex();
    v1["tables"][t]["bucket_count"] = 4096;
    v1["tables"][t]["buckets"] = hex;
  }
  auto back = ParseManifest(v1.dump(2), "old.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->FinalHashHex(), r->FinalHashHex());
  EXPECT_EQ(back->tables[0].digest.bucket_count(), 8u);
  EXPECT_EQ(back->tables[0].digest, r->tables[0].digest);
  EXPECT_EQ(back->tables[1].digest, r->tables[1].digest);

  auto v6 = v1;
  v6["version"] = 6;
  auto refused = ParseManifest(v6.dump(2), "new.json");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(refused.status().message().find("vouch digest SOURCE -o FILE"), std::string::npos)
      << refused.status().message();
  // Version 1 with buckets that do not add up is still rejected.
  v1["tables"][0]["buckets"] = std::string(32 * 4096, '0');
  EXPECT_EQ(ParseManifest(v1.dump(2), "old.json").status().code(), StatusCode::kCorrupt);
}

// Version 3 carries sequences (state and definition fingerprint) and large
// objects; both read back, the large objects inside the final hash (an
// edited object is rejected), the sequences outside it.
TEST(Manifest, SequencesAndLargeObjectsRoundTrip) {
  auto r = DigestDump(Dump(Rows(10, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  const std::string tables_only = r->FinalHashHex();
  SequenceInfo s;
  s.schema = "public";
  s.name = "a_id_seq";
  s.has_definition = s.has_state = s.is_called = true;
  s.last_value = 10;
  s.owned_by = {"public", "a", "id"};
  r->sequences = std::vector<SequenceInfo>{s};
  LargeObjectInfo lo{16400, "vouch", true, 5, U128{1, 2}};
  r->large_objects = std::vector<LargeObjectInfo>{lo};
  r->ComputeFinalHash();
  EXPECT_NE(r->FinalHashHex(), tables_only);
  const std::string text = ManifestJson(*r, "test");
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["sequences"][0]["definition"], s.DefinitionFingerprint());
  EXPECT_EQ(j["sequences"][0]["definition"].get<std::string>().size(), 32u);
  EXPECT_LT(j["sequences"][0].dump().size(), 256u);
  auto back = ParseManifest(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->FinalHashHex(), r->FinalHashHex());
  ASSERT_TRUE(back->sequences && back->sequences->size() == 1);
  EXPECT_EQ((*back->sequences)[0].DefinitionFingerprint(), s.DefinitionFingerprint());
  EXPECT_EQ((*back->sequences)[0].last_value, 10);
  ASSERT_TRUE(back->large_objects && back->large_objects->size() == 1);
  EXPECT_EQ((*back->large_objects)[0].hash, lo.hash);
  // A sequence's state is in no hash; a large object is.
  j["sequences"][0]["last_value"] = 99;
  EXPECT_TRUE(ParseManifest(j.dump(2), "m.json").ok());
  j["large_objects"]["objects"][0]["owner"] = "mallory";
  EXPECT_EQ(ParseManifest(j.dump(2), "m.json").status().code(), StatusCode::kCorrupt);
}

// A manifest with large objects (none, as most databases have) and schema
// objects: each list stays under its own key (both are "objects"), and the
// whole reads back.
TEST(Manifest, LargeObjectsAndSchemaObjectsKeepTheirOwnLists) {
  auto r = DigestDump(Dump(Rows(10, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  r->large_objects = std::vector<LargeObjectInfo>{};
  SchemaCatalog c;
  c.origin = "database";
  c.has_database_objects = true;
  SchemaObject o;
  o.name = "TABLE public.a";
  o.exact = FingerprintOf("a");
  o.flags = SchemaObject::kHasExact;
  c.objects.push_back(o);
  r->schema = c;
  const std::string text = ManifestJson(*r, "test");
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["large_objects"]["objects"].size(), 0u);
  ASSERT_EQ(j["schema"]["objects"].size(), 1u);
  EXPECT_EQ(j["schema"]["objects"][0][0], "TABLE public.a");
  auto back = ParseManifest(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->FinalHashHex(), r->FinalHashHex());
  ASSERT_TRUE(back->schema.has_value());
  EXPECT_EQ(back->schema->objects.size(), 1u);
}

// Schema objects are written one compact line each; they read back as they
// were, and an edited fingerprint or an object out of order is rejected.
TEST(Manifest, SchemaObjectsRoundTripAndEditsAreRejected) {
  auto r = DigestDump(Dump(Rows(10, 3), Rows(10, 5)), 2, 4096);
  ASSERT_TRUE(r.ok());
  SchemaCatalog c;
  c.origin = "database";
  c.has_database_objects = c.has_cluster_objects = c.has_database_settings = true;
  for (const char* name : {"CONSTRAINT public.a.a_pkey", "INDEX public.a_idx", "ROLE alice", "TABLE public.a"}) {
    SchemaObject o;
    o.name = name;
    o.exact = FingerprintOf(std::string(name) + " exact");
    o.flags = SchemaObject::kHasExact;
    if (o.name != "TABLE public.a") {
      o.text = FingerprintOf(name);
      o.flags |= SchemaObject::kHasText;
    }
    if (o.name == "CONSTRAINT public.a.a_pkey") o.exact = o.text;  // written "="
    if (o.name == "ROLE alice") o.flags |= SchemaObject::kCluster;
    c.objects.push_back(o);
  }
  r->schema = c;
  const std::string text = ManifestJson(*r, "test");
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["schema"]["objects"].size(), 4u);
  EXPECT_EQ(j["schema"]["objects"][0][3], "=");
  EXPECT_EQ(j["schema"]["objects"][1][3].get<std::string>().size(), 32u);
  EXPECT_EQ(j["schema"]["schema_validation_hash"], SchemaValidationHash(&c, true, true));
  auto back = ParseManifest(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_TRUE(back->schema.has_value());
  ASSERT_EQ(back->schema->objects.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(back->schema->objects[i].name, c.objects[i].name);
    EXPECT_EQ(back->schema->objects[i].flags, c.objects[i].flags);
    EXPECT_EQ(back->schema->objects[i].text, c.objects[i].text);
    EXPECT_EQ(back->schema->objects[i].exact, c.objects[i].exact);
  }
  EXPECT_EQ(back->FinalHashHex(), r->FinalHashHex());
  // "=" stands for a text fingerprint only where there is one.
  auto no_text = j;
  no_text["schema"]["objects"][3][3] = "=";
  EXPECT_EQ(ParseManifest(no_text.dump(2), "m.json").status().code(), StatusCode::kCorrupt);
  auto edited = j;
  std::string hex = edited["schema"]["objects"][1][3];
  hex[0] = hex[0] == '0' ? '1' : '0';
  edited["schema"]["objects"][1][3] = hex;
  EXPECT_EQ(ParseManifest(edited.dump(2), "m.json").status().code(), StatusCode::kCorrupt);
  auto swapped = j;
  std::swap(swapped["schema"]["objects"][0], swapped["schema"]["objects"][1]);
  EXPECT_EQ(ParseManifest(swapped.dump(2), "m.json").status().code(), StatusCode::kCorrupt);
  // An object's fingerprint that an earlier object has in the same place is
  // written as that object's index (version 5), and read back as it.
  auto repeated = *r;
  for (SchemaObject& o : repeated.schema->objects) {
    if (o.Has(SchemaObject::kHasText)) o.text = c.objects[0].text;
    o.exact = o.name == "CONSTRAINT public.a.a_pkey" ? o.text : c.objects[1].exact;
  }
  const std::string short_text = ManifestJson(repeated, "test");
  auto s = nlohmann::json::parse(short_text);
  EXPECT_EQ(s["schema"]["objects"][1][2], 0);  // a_pkey's text fingerprint
  EXPECT_EQ(s["schema"]["objects"][1][3].get<std::string>().size(), 32u);
  EXPECT_EQ(s["schema"]["objects"][2][3], 1);  // INDEX public.a_idx's exact one
  EXPECT_EQ(s["schema"]["objects"][3][2], "");
  EXPECT_EQ(s["schema"]["objects"][3][3], 1);
  EXPECT_LT(short_text.size(), text.size());
  auto again = ParseManifest(short_text, "m.json");
  ASSERT_TRUE(again.ok()) << again.status().message();
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(again->schema->objects[i].text, repeated.schema->objects[i].text) << i;
    EXPECT_EQ(again->schema->objects[i].exact, repeated.schema->objects[i].exact) << i;
  }
  // An index to itself or a later object, or in place of a fingerprint the
  // object does not have, is rejected.
  for (auto [obj, slot, k] : {std::tuple{1, 2, 1}, {2, 3, 3}, {3, 2, 0}}) {
    auto bad = s;
    bad["schema"]["objects"][obj][slot] = k;
    EXPECT_EQ(ParseManifest(bad.dump(2), "m.json").status().code(), StatusCode::kCorrupt) << obj << " " << slot;
  }
  // A version 2 manifest has no schema: read without one.
  auto v2 = j;
  v2.erase("schema");
  v2["version"] = 2;
  auto old = ParseManifest(v2.dump(2), "v2.json");
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_FALSE(old->schema.has_value());
}

}  // namespace
}  // namespace vouch
