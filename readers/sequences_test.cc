// The sequence and large-object statements pg_dump writes (as pg_dump 15
// prints them; tests/sequences_pg_test.cc reads real pg_dump output).
#include "vouch/readers/sequences.h"

#include <gtest/gtest.h>

#include <sstream>

#include "vouch/hashing/large_object_hash.h"
#include "vouch/readers/plain_dump_reader.h"

namespace vouch {
namespace {

Result<std::vector<SequenceInfo>> Feed(const std::string& text) {
  DumpSequences d;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto r = d.AddLine(line);
    if (!r.ok()) return r.status();
  }
  auto seqs = d.Take();
  SortSequences(seqs);
  return seqs;
}

TEST(Setval, ParsesNameValueAndIsCalled) {
  RelationName n;
  int64_t v = 0;
  bool called = false;
  ASSERT_TRUE(ParseSetval("SELECT pg_catalog.setval('public.t_id_seq', 500, true);", &n, &v, &called));
  EXPECT_EQ(n, (RelationName{"public", "t_id_seq"}));
  EXPECT_EQ(v, 500);
  EXPECT_TRUE(called);
  ASSERT_TRUE(ParseSetval("SELECT pg_catalog.setval('\"My Schema\".\"it''s \"\"q\"\"\"', -9223372036854775808, false);",
                          &n, &v, &called));
  EXPECT_EQ(n, (RelationName{"My Schema", "it's \"q\""}));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(called);
  EXPECT_FALSE(ParseSetval("SELECT pg_catalog.setval('public.s', 5x, true);", &n, &v, &called));
  EXPECT_FALSE(ParseSetval("SELECT pg_catalog.setval('public.s', 5, maybe);", &n, &v, &called));
  EXPECT_FALSE(ParseSetval("SELECT pg_catalog.setval('public.s, 5, true);", &n, &v, &called));
}

TEST(DumpSequences, CreateSequenceWithDefaultsFilledIn) {
  auto seqs = Feed(
      "CREATE SEQUENCE public.t_id_seq\n    AS integer\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n"
      "    NO MAXVALUE\n    CACHE 1;\n"
      "ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;\n"
      "CREATE SEQUENCE public.down\n    START WITH -1\n    INCREMENT BY -2\n    NO MINVALUE\n    NO MAXVALUE\n"
      "    CACHE 20\n    CYCLE;\n"
      "SELECT pg_catalog.setval('public.t_id_seq', 42, true);\n");
  ASSERT_TRUE(seqs.ok()) << seqs.status().message();
  ASSERT_EQ(seqs->size(), 2u);
  const SequenceInfo& d = (*seqs)[0];
  EXPECT_EQ(d.name, "down");
  EXPECT_EQ(d.type, "bigint");
  EXPECT_EQ(d.increment, -2);
  EXPECT_EQ(d.min_value, INT64_MIN);
  EXPECT_EQ(d.max_value, -1);
  EXPECT_EQ(d.cache, 20);
  EXPECT_TRUE(d.cycle);
  EXPECT_FALSE(d.has_state);
  const SequenceInfo& t = (*seqs)[1];
  EXPECT_EQ(t.DefinitionText(),
            "AS integer START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1 NO CYCLE OWNED BY public.t.id");
  EXPECT_TRUE(t.has_state);
  EXPECT_EQ(t.last_value, 42);
  int64_t next = 0;
  ASSERT_TRUE(t.NextValue(&next));
  EXPECT_EQ(next, 43);
  ASSERT_EQ(t.feeds.size(), 1u);
  EXPECT_EQ(t.feeds[0], (ColumnName{"public", "t", "id"}));
}

TEST(DumpSequences, IdentityTakesItsColumnsTypeAndDefaultsFeedColumns) {
  auto seqs = Feed(
      "CREATE TABLE public.u (\n    id integer NOT NULL,\n    w bigint DEFAULT nextval('public.shared'::regclass)\n);\n"
      "ALTER TABLE public.u ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.u_id_seq\n"
      "    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);\n"
      "ALTER TABLE ONLY public.v ALTER COLUMN k SET DEFAULT nextval('public.shared'::regclass);\n");
  ASSERT_TRUE(seqs.ok()) << seqs.status().message();
  ASSERT_EQ(seqs->size(), 2u);
  const SequenceInfo& shared = (*seqs)[0];
  EXPECT_FALSE(shared.has_definition);
  ASSERT_EQ(shared.feeds.size(), 2u);
  EXPECT_EQ(shared.feeds[0], (ColumnName{"public", "u", "w"}));
  EXPECT_EQ(shared.feeds[1], (ColumnName{"public", "v", "k"}));
  const SequenceInfo& u = (*seqs)[1];
  EXPECT_TRUE(u.has_definition);
  EXPECT_EQ(u.type, "integer");
  EXPECT_EQ(u.max_value, 2147483647);
  EXPECT_EQ(u.owned_by, (ColumnName{"public", "u", "id"}));
}

// pg_dump says an identity sequence's persistence, LOGGED or UNLOGGED, when
// it differs from its table's (ALTER SEQUENCE ... SET UNLOGGED; recent minor
// releases of every version): no part of the definition vouch compares.
TEST(DumpSequences, IdentityPersistenceClauseIsRead) {
  auto seqs = Feed(
      "CREATE TABLE public.l (\n    a integer NOT NULL\n);\n"
      "ALTER TABLE public.l ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.l_a_seq\n"
      "    UNLOGGED\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);\n"
      "ALTER TABLE public.m ALTER COLUMN a ADD GENERATED ALWAYS AS IDENTITY (\n    SEQUENCE NAME public.m_a_seq\n"
      "    LOGGED\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);\n");
  ASSERT_TRUE(seqs.ok()) << seqs.status().message();
  ASSERT_EQ(seqs->size(), 2u);
  EXPECT_EQ((*seqs)[0].DefinitionText(),
            "AS integer START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 2147483647 CACHE 1 NO CYCLE OWNED BY public.l.a");
  EXPECT_EQ((*seqs)[1].owned_by, (ColumnName{"public", "m", "a"}));
}

TEST(DumpSequences, UnknownClauseIsAnError) {
  auto seqs = Feed("CREATE SEQUENCE public.s\n    START WITH 1\n    FROBNICATE 3\n    CACHE 1;\n");
  ASSERT_FALSE(seqs.ok());
  EXPECT_NE(seqs.status().message().find("FROBNICATE"), std::string::npos);
}

TEST(SequenceInfo, NextValueAtTheBound) {
  SequenceInfo s;
  s.type = "smallint";
  s.max_value = 32767;
  s.last_value = 32767;
  s.is_called = true;
  int64_t next = 0;
  EXPECT_FALSE(s.NextValue(&next));
  s.cycle = true;
  ASSERT_TRUE(s.NextValue(&next));
  EXPECT_EQ(next, 1);
  s.is_called = false;
  ASSERT_TRUE(s.NextValue(&next));
  EXPECT_EQ(next, 32767);
}

TEST(LargeObjectStatements, Parse) {
  uint32_t oid = 0;
  std::string owner;
  std::string_view hex;
  EXPECT_TRUE(ParseLoCreate("SELECT pg_catalog.lo_create('16403');", &oid));
  EXPECT_EQ(oid, 16403u);
  EXPECT_FALSE(ParseLoCreate("SELECT pg_catalog.lo_create('99999999999');", &oid));
  EXPECT_TRUE(ParseLoOwner("ALTER LARGE OBJECT 16403 OWNER TO \"Big Boss\";", &oid, &owner));
  EXPECT_EQ(owner, "Big Boss");
  EXPECT_TRUE(ParseLoOpen("SELECT pg_catalog.lo_open('4294967295', 131072);", &oid));
  EXPECT_EQ(oid, 4294967295u);
  ASSERT_TRUE(ParseLowrite("SELECT pg_catalog.lowrite(0, '\\x68656c6C6f');", &hex));
  std::string bytes;
  ASSERT_TRUE(DecodeHex(hex, &bytes));
  EXPECT_EQ(bytes, "hello");
  ASSERT_TRUE(ParseLowrite("SELECT pg_catalog.lowrite(0, E'\\\\x00ff');", &hex));
  bytes.clear();
  ASSERT_TRUE(DecodeHex(hex, &bytes));
  EXPECT_EQ(bytes, std::string("\0\xff", 2));
  EXPECT_FALSE(DecodeHex("abc", &bytes));
  EXPECT_FALSE(DecodeHex("zz", &bytes));
  EXPECT_TRUE(IsLoClose("SELECT pg_catalog.lo_close(0);"));
}

// A plain dump's large objects: owner from ALTER LARGE OBJECT, content from
// the lowrite lines, hashed as H("OID\0bytes") (hashing_test.cc pins H
// against xxhsum).
TEST(PlainDumpLargeObjects, ReadAndHashed) {
  const std::string dump =
      "--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n"
      "SELECT pg_catalog.lo_create('16403');\nALTER LARGE OBJECT 16403 OWNER TO vouch;\n"
      "SELECT pg_catalog.lo_create('16404');\n"
      "BEGIN;\nSELECT pg_catalog.lo_open('16403', 131072);\nSELECT pg_catalog.lowrite(0, '\\x6865');\n"
      "SELECT pg_catalog.lowrite(0, '\\x6c6c6f');\nSELECT pg_catalog.lo_close(0);\n"
      "SELECT pg_catalog.lo_open('16404', 131072);\nSELECT pg_catalog.lo_close(0);\nCOMMIT;\n"
      "SELECT pg_catalog.setval('public.s', 3, false);\n"
      "\n--\n-- PostgreSQL database dump complete\n--\n\n";
  auto reader = MakePlainDumpReader(MakeMemorySource(dump, "x"), "test.sql", Compression::kNone);
  RowChunk chunk;
  auto more = reader->NextChunk(chunk, 4096);
  ASSERT_TRUE(more.ok()) << more.status().message();
  EXPECT_FALSE(*more);
  ASSERT_NE(reader->large_objects(), nullptr);
  const auto& los = *reader->large_objects();
  ASSERT_EQ(los.size(), 2u);
  LargeObjectHasher h(16403);
  h.Update("hello", 5);
  EXPECT_EQ(los[0].oid, 16403u);
  EXPECT_EQ(los[0].owner, "vouch");
  EXPECT_EQ(los[0].bytes, 5u);
  EXPECT_EQ(los[0].hash, h.Finish());
  EXPECT_EQ(los[1].owner, "");
  EXPECT_TRUE(los[1].has_content);
  EXPECT_EQ(los[1].hash, LargeObjectHasher(16404).Finish());
  ASSERT_NE(reader->sequences(), nullptr);
  ASSERT_EQ(reader->sequences()->size(), 1u);
  EXPECT_EQ((*reader->sequences())[0].last_value, 3);
}

TEST(PlainDumpLargeObjects, BadHexNamesTheOffset) {
  const std::string dump =
      "--\n-- PostgreSQL database dump\n--\n\n"
      "SELECT pg_catalog.lo_open('5', 131072);\nSELECT pg_catalog.lowrite(0, '\\x6g');\n";
  auto reader = MakePlainDumpReader(MakeMemorySource(dump, "x"), "bad.sql", Compression::kNone);
  RowChunk chunk;
  auto more = reader->NextChunk(chunk, 4096);
  ASSERT_FALSE(more.ok());
  const std::string at = "bad.sql: uncompressed byte offset " + std::to_string(dump.find("SELECT pg_catalog.lowrite"));
  EXPECT_NE(more.status().message().find(at), std::string::npos)
      << more.status().message();
  EXPECT_NE(more.status().message().find("not hex"), std::string::npos);
}

}  // namespace
}  // namespace vouch
