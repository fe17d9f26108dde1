// The pieces the archive readers are built from, on hand-made input: DDL
// knowledge (keys, foreign keys, timestamptz columns), the strict ustar
// reader, checksum-file lines. Real pg_dump/sha256sum output is checked in
// tests/archive_pg_test.cc and tests/archive_damage_pg_test.cc.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "vouch/readers/archive_reader.h"
#include "vouch/readers/checksum_file.h"
#include "vouch/readers/dump_schema.h"
#include "vouch/readers/tar_reader.h"

namespace vouch {
namespace {

void Feed(DumpSchema& s, const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    s.AddLine(std::string_view(text).substr(start, nl - start));
    start = nl + 1;
  }
}

TEST(DumpSchema, KeysAndForeignKeysAsPgDumpWritesThem) {
  DumpSchema s;
  Feed(s,
       "ALTER TABLE ONLY public.agents\n    ADD CONSTRAINT agents_pkey PRIMARY KEY (id);\n"
       "ALTER TABLE ONLY \"My Schema\".\"Odd \"\"T\"\n    ADD CONSTRAINT odd_pkey PRIMARY KEY (\"A b\", c) WITH "
       "(fillfactor='50');\n"
       "ALTER TABLE ONLY public.sessions\n    ADD CONSTRAINT sessions_agent_id_fkey FOREIGN KEY (agent_id) "
       "REFERENCES public.agents(id) ON DELETE CASCADE;\n"
       "ALTER TABLE public.parted\n    ADD CONSTRAINT parted_fk FOREIGN KEY (a, \"B\") REFERENCES "
       "\"My Schema\".\"Odd \"\"T\"(\"A b\", c) DEFERRABLE INITIALLY DEFERRED NOT VALID;\n"
       "ALTER TABLE ONLY public.agents ALTER COLUMN id SET DEFAULT nextval('public.agents_id_seq'::regclass);\n"
       "    ADD CONSTRAINT stray PRIMARY KEY (nope);\n");
  ASSERT_NE(s.PrimaryKey("public", "agents"), nullptr);
  EXPECT_EQ(*s.PrimaryKey("public", "agents"), std::vector<std::string>{"id"});
  ASSERT_NE(s.PrimaryKey("My Schema", "Odd \"T"), nullptr);
  EXPECT_EQ(*s.PrimaryKey("My Schema", "Odd \"T"), (std::vector<std::string>{"A b", "c"}));
  EXPECT_EQ(s.PrimaryKey("public", "sessions"), nullptr);
  ASSERT_EQ(s.foreign_keys().size(), 2u);
  const ForeignKey& a = s.foreign_keys()[0];
  EXPECT_EQ(a.name, "sessions_agent_id_fkey");
  EXPECT_EQ(a.schema + "." + a.table, "public.sessions");
  EXPECT_EQ(a.columns, std::vector<std::string>{"agent_id"});
  EXPECT_EQ(a.ref_schema + "." + a.ref_table, "public.agents");
  EXPECT_EQ(a.ref_columns, std::vector<std::string>{"id"});
  EXPECT_EQ(a.options, "ON DELETE CASCADE");
  const ForeignKey& b = s.foreign_keys()[1];
  EXPECT_EQ(b.columns, (std::vector<std::string>{"a", "B"}));
  EXPECT_EQ(b.ref_table, "Odd \"T");
  EXPECT_EQ(b.ref_columns, (std::vector<std::string>{"A b", "c"}));
  EXPECT_EQ(b.options, "DEFERRABLE INITIALLY DEFERRED NOT VALID");
}

// pg_dump 15's lines for a two-level tree (a range-partitioned table with a
// list-partitioned sub-partition and a default leaf), as a plain dump holds
// them and as the defns of "TABLE ATTACH" TOC entries.
TEST(DumpSchema, PartitionAncestorsFromAttachPartition) {
  DumpSchema s;
  Feed(s,
       "ALTER TABLE ONLY s.m ATTACH PARTITION s.m_0 FOR VALUES FROM (0) TO (10);\n"
       "ALTER TABLE ONLY s.m ATTACH PARTITION s.m_1 FOR VALUES FROM (10) TO (20);\n"
       "ALTER TABLE ONLY s.m_1 ATTACH PARTITION s.m_1a FOR VALUES IN (1, 2);\n"
       "ALTER TABLE ONLY s.m_1 ATTACH PARTITION \"Odd\".\"Leaf \"\"x\" DEFAULT;\n"
       "ALTER INDEX s.m_pkey ATTACH PARTITION s.m_0_pkey;\n");
  EXPECT_TRUE(s.PartitionAncestors("s", "m").empty());
  EXPECT_EQ(s.PartitionAncestors("s", "m_0"), (std::vector<RelationName>{{"s", "m"}}));
  EXPECT_EQ(s.PartitionAncestors("s", "m_1a"), (std::vector<RelationName>{{"s", "m_1"}, {"s", "m"}}));
  EXPECT_EQ(s.PartitionAncestors("Odd", "Leaf \"x"), (std::vector<RelationName>{{"s", "m_1"}, {"s", "m"}}));
  EXPECT_TRUE(s.PartitionAncestors("s", "m_0_pkey").empty());  // an index, not a table
  // A damaged dump's cycle ends.
  DumpSchema c;
  Feed(c, "ALTER TABLE ONLY s.a ATTACH PARTITION s.b DEFAULT;\nALTER TABLE ONLY s.b ATTACH PARTITION s.a DEFAULT;\n");
  EXPECT_EQ(c.PartitionAncestors("s", "a").size(), 64u);
}

TEST(DumpSchema, TimestamptzColumnsThroughDomainsArraysRangesAndParents) {
  DumpSchema s;
  Feed(s,
       "CREATE DOMAIN public.moment AS timestamp with time zone;\n"
       "CREATE TYPE public.span AS RANGE (\n    subtype = timestamp(3) with time zone,\n"
       "    multirange_type_name = public.spans\n);\n"
       "CREATE TYPE public.pair AS (\n\tat timestamp with time zone,\n\tlabel text\n);\n"
       "CREATE TABLE public.events (\n    id integer NOT NULL,\n    at public.moment,\n"
       "    ats timestamp with time zone[],\n    during public.span,\n    p public.pair,\n    d date,\n"
       "    other public.unknown_type\n);\n"
       "CREATE TABLE public.child (\n    note text\n)\nINHERITS (public.events);\n");
  TableInfo t;
  t.schema = "public";
  t.name = "child";
  t.SetColumns({"id", "at", "ats", "during", "p", "d", "other", "note"});
  s.SetTzKinds(&t);
  EXPECT_EQ(t.tz_kinds,
            (std::vector<TzKind>{TzKind::kNone, TzKind::kScalar, TzKind::kQuotedElements, TzKind::kQuotedElements,
                                 TzKind::kCheckOnly, TzKind::kNone, TzKind::kCheckOnly, TzKind::kNone}));
  TableInfo unknown;  // no DDL at all (a --data-only dump): every column is checked
  unknown.schema = "public";
  unknown.name = "nowhere";
  unknown.SetColumns({"a"});
  s.SetTzKinds(&unknown);
  EXPECT_EQ(unknown.tz_kinds, std::vector<TzKind>{TzKind::kCheckOnly});
  TableInfo plain;
  plain.schema = "public";
  plain.name = "events";
  plain.SetColumns({"id", "d"});
  s.SetTzKinds(&plain);
  EXPECT_TRUE(plain.tz_kinds.empty());
}

// information_schema.time_stamp is a domain over timestamp(2) with time zone
// that no dump defines: a timestamp column as on the database side
// (PostgreSQL's regression database has one; a dump's temporal statistics
// lacked the column a database's had).
TEST(DumpSchema, InformationSchemaTimeStampIsATimestamptzColumn) {
  DumpSchema s;
  Feed(s,
       "CREATE TABLE public.tab_core_types (\n    \"timestamp\" timestamp without time zone,\n"
       "    time_stamp information_schema.time_stamp,\n    n information_schema.cardinal_number\n);\n");
  TableInfo t;
  t.schema = "public";
  t.name = "tab_core_types";
  t.SetColumns({"timestamp", "time_stamp", "n"});
  s.SetTzKinds(&t);
  EXPECT_EQ(t.tz_kinds, (std::vector<TzKind>{TzKind::kNone, TzKind::kScalar, TzKind::kCheckOnly}));
  s.SetTimeColumns(&t);
  EXPECT_EQ(t.time_columns, (std::vector<std::string>{"timestamp", "time_stamp"}));
}

TEST(DumpSchema, CopyStatements) {
  TableInfo t;
  ASSERT_TRUE(ParseCopyStatement("COPY \"S\".\"a \"\"b\" (\"X\", y) FROM stdin;", &t));
  EXPECT_EQ(t.schema, "S");
  EXPECT_EQ(t.name, "a \"b");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"X", "y"}));
  EXPECT_TRUE(ParseCopyStatement("COPY public.nocols  FROM stdin;", &t));
  EXPECT_TRUE(t.columns.empty());
  EXPECT_FALSE(ParseCopyStatement("COPY public.t (a, b FROM stdin;", &t));
  EXPECT_FALSE(ParseCopyStatement("COPY public.t (a) TO stdout;", &t));
  EXPECT_FALSE(ParseCopyStatement("INSERT INTO public.t VALUES (1);", &t));
}

// A ustar header as POSIX defines it, checksum computed here.
std::string Header(const std::string& name, uint64_t size, char type = '0', const std::string& prefix = "") {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  if (size < (uint64_t{1} << 33)) {
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  } else {  // GNU base-256
    h[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>(size >> (8 * i));
  }
  h[156] = type;
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  std::memcpy(h.data() + 345, prefix.data(), prefix.size());
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  return h;
}

std::string Member(const std::string& name, const std::string& data) {
  std::string padded = data;
  padded.resize((data.size() + 511) / 512 * 512, '\0');
  return Header(name, data.size()) + padded;
}

struct TarRead {
  Status status;
  std::vector<std::pair<std::string, std::string>> members;
};

TarRead ReadTar(const std::string& bytes) {
  auto src = MakeMemorySource(bytes, "t.tar");
  TarReader tar(*src, "t.tar");
  TarRead out;
  TarMember m;
  while (true) {
    auto more = tar.Next(&m);
    if (!more.ok()) {
      out.status = more.status();
      return out;
    }
    if (!*more) return out;
    std::string data;
    char buf[300];
    while (true) {
      auto r = tar.Data().Read(buf, sizeof buf);
      if (!r.ok()) {
        out.status = r.status();
        return out;
      }
      if (*r == 0) break;
      data.append(buf, *r);
    }
    out.members.emplace_back(m.name, data);
  }
}

TEST(TarReader, MembersPaddingAndTheEndMarker) {
  const std::string end(1024, '\0');
  std::string tar = Member("toc.dat", "hello") + Member("2.dat", std::string(512, 'x')) + Member("empty", "") + end;
  TarRead r = ReadTar(tar);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.members.size(), 3u);
  EXPECT_EQ(r.members[0], (std::pair<std::string, std::string>{"toc.dat", "hello"}));
  EXPECT_EQ(r.members[1].second, std::string(512, 'x'));
  EXPECT_EQ(r.members[2].second, "");
  // GNU tar pads to its record size with zeros: fine. Anything else after the marker is not.
  EXPECT_TRUE(ReadTar(tar + std::string(9216, '\0')).status.ok());
  TarRead junk = ReadTar(tar + "x");
  EXPECT_EQ(junk.status.code(), StatusCode::kCorrupt);
  EXPECT_NE(junk.status.message().find("t.tar: byte offset " + std::to_string(tar.size())), std::string::npos)
      << junk.status.message();
  // The prefix field extends the name.
  TarRead prefixed = ReadTar(Header("file", 0, '0', "some/dir") + end);
  ASSERT_TRUE(prefixed.status.ok());
  EXPECT_EQ(prefixed.members[0].first, "some/dir/file");
}

TEST(TarReader, DamageIsNamedWithItsOffset) {
  const std::string end(1024, '\0');
  const std::string tar = Member("a.dat", "12345") + Member("b.dat", "678") + end;
  for (size_t cut = 0; cut < tar.size(); cut += 97) {
    TarRead r = ReadTar(tar.substr(0, cut));
    EXPECT_EQ(r.status.code(), StatusCode::kTruncated) << "cut at " << cut << ": " << r.status.message();
  }
  std::string flipped = tar;
  flipped[100] ^= 1;  // the mode field: only the checksum notices
  EXPECT_NE(ReadTar(flipped).status.message().find("byte offset 0: tar header checksum mismatch"), std::string::npos);
  std::string padding = tar;
  padding[512 + 7] = 'z';  // in a.dat's padding
  EXPECT_NE(ReadTar(padding).status.message().find("byte offset 519: non-zero padding"), std::string::npos);
  std::string lone = Member("a.dat", "1") + std::string(512, '\0');  // one zero block only
  EXPECT_EQ(ReadTar(lone).status.code(), StatusCode::kTruncated);
  TarRead pax = ReadTar(Header("././@PaxHeader", 0, 'x') + end);
  EXPECT_EQ(pax.status.code(), StatusCode::kUnsupported);
}

TEST(TarReader, Base256SizesAreRead) {
  // A size past the octal field's 8 GiB: read as base-256, then truncated.
  auto src = MakeMemorySource(Header("big", uint64_t{1} << 34) + "abc", "t.tar");
  TarReader tar(*src, "t.tar");
  TarMember m;
  auto more = tar.Next(&m);
  ASSERT_TRUE(more.ok()) << more.status().message();
  EXPECT_EQ(m.size, uint64_t{1} << 34);
  char buf[16];
  auto r = tar.Data().Read(buf, sizeof buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3u);
  EXPECT_EQ(tar.Data().Read(buf, sizeof buf).status().code(), StatusCode::kTruncated);
}

TEST(ChecksumFile, LinesAsSha256sumAndMd5sumWriteThem) {
  const std::string sha = std::string(64, 'a');
  const std::string md5 = "D41D8CD98F00B204E9800998ECF8427E";
  ChecksumFile f = ParseChecksumFile(sha + "  dump.custom\n" + sha + " *bin file\n# a comment\n" +
                                     "MD5 (x (1).dat) = " + md5 + "\n\\" + sha + "  a\\\\b\\nc\n" + "not a line\n" +
                                     sha + " dump\n" + "SHA256 (x) = " + md5 + "\n" + sha.substr(1) + "  short\n");
  ASSERT_EQ(f.entries.size(), 4u);
  EXPECT_EQ(f.entries[0].name, "dump.custom");
  EXPECT_EQ(f.entries[0].algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(f.entries[1].name, "bin file");
  EXPECT_EQ(f.entries[2].name, "x (1).dat");
  EXPECT_EQ(f.entries[2].algorithm, HashAlgorithm::kMd5);
  EXPECT_EQ(f.entries[2].hex, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(f.entries[3].name, "a\\b\nc");
  EXPECT_EQ(f.entries[3].line, 5u);
  // A line that is not one, one without the two-character separator, a
  // tagged line whose digest length does not fit its algorithm, a short digest.
  EXPECT_EQ(f.malformed_lines, (std::vector<size_t>{6, 7, 8, 9}));
}

TEST(ArchiveToc, EightByteIntegersOfAnyValueAreReadWithoutOverflow) {
  // Found by fuzz_archive_toc: intSize 8 and a compression level of -2^63,
  // whose negation overflowed int64_t.
  const std::string head("PGDMP\x01\x0e\x00\x08\x08\x03\x01\x00\x00\x00\x00\x00\x00\x00\x80", 20);
  auto src = MakeMemorySource(head, "x.dump");
  auto toc = ReadArchiveToc(*src, "x.dump");
  ASSERT_FALSE(toc.ok());
  EXPECT_EQ(toc.status().code(), StatusCode::kCorrupt) << toc.status().message();
  EXPECT_NE(toc.status().message().find("invalid compression level"), std::string::npos) << toc.status().message();
}

TEST(CustomArchive, ACreationTimeNoClockHasIsPrintedNotOverflowed) {
  // A real archive (the fuzz seed) whose header says year 1900 + INT_MAX:
  // the year was once computed in int (undefined behaviour, found by fuzzing).
  std::ifstream in(VOUCH_SOURCE_DIR "/readers/fuzz/corpus/archive_toc/fz", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  ASSERT_GT(bytes.size(), 100u);
  ASSERT_EQ(bytes.substr(41, 2), std::string("\0\x7e", 2)) << "year 2026 (126) expected in the seed's header";
  const uint32_t year = 0x7fffffff;
  std::memcpy(bytes.data() + 42, &year, 4);
  auto r = OpenCustomArchive(MakeMemoryFile(bytes, "fz"), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  RowChunk chunk;
  while (true) {
    auto more = (*r)->NextChunk(chunk, 4096);
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (!*more) break;
  }
  EXPECT_EQ((*r)->facts().created.substr(0, 11), "2147485547-");
}

}  // namespace
}  // namespace vouch
