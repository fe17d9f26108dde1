// The plain-format reader on hand-made dumps shaped like pg_dump's output
// (tests/plain_dump_pg_test.cc checks real pg_dump output).
#include "vouch/readers/plain_dump_reader.h"

#include <gtest/gtest.h>

#include "vouch/readers/canonical_row.h"

namespace vouch {
namespace {

const char kHeader[] =
    "--\n-- PostgreSQL database dump\n--\n\n\\restrict abcDEF123\n\n"
    "-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)\n"
    "-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)\n\n"
    "SET client_encoding = 'UTF8';\n";
const char kFooter[] = "\\unrestrict abcDEF123\n\n--\n-- PostgreSQL database dump complete\n--\n\n";

std::string DataBlock(const std::string& table_header, const std::string& copy, const std::string& rows) {
  return "--\n-- Data for Name: " + table_header + "; Type: TABLE DATA; Schema: public; Owner: o\n--\n\n" + copy +
         "\n" + rows + "\\.\n\n\n";
}

struct Read {
  Status status;
  std::vector<std::pair<std::string, std::string>> rows;  // (table, row)
  std::deque<TableInfo> tables;
};

Read ReadAll(const std::string& dump, size_t chunk = 4096) {
  auto reader = MakePlainDumpReader(MakeMemorySource(dump, "t.sql"), "t.sql", Compression::kNone);
  Read out;
  RowChunk c;
  while (true) {
    auto more = reader->NextChunk(c, chunk);
    if (!more.ok()) {
      out.status = more.status();
      return out;
    }
    if (!*more) break;
    if (c.size == 0) {
      EXPECT_TRUE(c.last_of_table);  // only a table's end may come without rows
      continue;
    }
    EXPECT_EQ(c.data[c.size - 1], '\n');
    std::string_view s(c.data.data(), c.size);
    while (!s.empty()) {
      size_t nl = s.find('\n');
      out.rows.emplace_back(c.table->QualifiedName(), std::string(s.substr(0, nl)));
      s.remove_prefix(nl + 1);
    }
  }
  out.tables = reader->tables();
  return out;
}

TEST(PlainDumpReader, FindsTablesRowsAndQuotedNames) {
  std::string dump =
      std::string(kHeader) + "CREATE TABLE public.a (id integer);\n" +
      DataBlock("a", "COPY public.a (id, name) FROM stdin;", "1\tx\n2\t\\N\n") +
      DataBlock("My Table", "COPY \"My Schema\".\"My \"\"Table\" (\"Col B\", col_a) FROM stdin;", "b\ta\n") +
      DataBlock("empty", "COPY public.empty (id) FROM stdin;", "") +
      DataBlock("nocols", "COPY public.nocols  FROM stdin;", "\n\n") + kFooter;
  Read r = ReadAll(dump);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.tables.size(), 4u);
  EXPECT_EQ(r.tables[1].schema, "My Schema");
  EXPECT_EQ(r.tables[1].name, "My \"Table");
  EXPECT_EQ(r.tables[1].columns, (std::vector<std::string>{"Col B", "col_a"}));
  EXPECT_EQ(r.tables[1].QualifiedName(), "\"My Schema\".\"My \"\"Table\"");
  EXPECT_TRUE(r.tables[3].columns.empty());
  std::vector<std::pair<std::string, std::string>> want{{"public.a", "1\tx"},
                                                        {"public.a", "2\t\\N"},
                                                        {"\"My Schema\".\"My \"\"Table\"", "b\ta"},
                                                        {"public.nocols", ""},
                                                        {"public.nocols", ""}};
  EXPECT_EQ(r.rows, want);
}

TEST(PlainDumpReader, SameRowsForEveryChunkSize) {
  std::string rows;
  for (int i = 0; i < 5000; ++i)
    rows += std::to_string(i) + "\t" + std::string(static_cast<size_t>(i % 300), 'x') + "\n";
  std::string dump = std::string(kHeader) + DataBlock("a", "COPY public.a (id, v) FROM stdin;", rows) +
                     DataBlock("b", "COPY public.b (id, v) FROM stdin;", rows) + kFooter;
  Read ref = ReadAll(dump, 1 << 22);
  ASSERT_TRUE(ref.status.ok()) << ref.status.message();
  ASSERT_EQ(ref.rows.size(), 10000u);
  for (size_t chunk : {64u, 100u, 1024u, 65536u}) {
    Read r = ReadAll(dump, chunk);
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    EXPECT_EQ(r.rows, ref.rows) << "chunk " << chunk;
  }
}

TEST(PlainDumpReader, CopyWithoutTerminatorIsTruncationNamingTableAndOffset) {
  std::string dump = std::string(kHeader) + DataBlock("a", "COPY public.a (id) FROM stdin;", "1\n2\n");
  dump = dump.substr(0, dump.find("\\.\n"));  // cut right before "\."
  Read r = ReadAll(dump);
  ASSERT_EQ(r.status.code(), StatusCode::kTruncated) << r.status.message();
  EXPECT_NE(r.status.message().find("public.a"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("offset"), std::string::npos) << r.status.message();
}

TEST(PlainDumpReader, MissingFooterIsTruncation) {
  std::string dump = std::string(kHeader) + DataBlock("a", "COPY public.a (id) FROM stdin;", "1\n");
  Read r = ReadAll(dump);
  EXPECT_EQ(r.status.code(), StatusCode::kTruncated) << r.status.message();
  // Truncated inside the last row: still an error, not one row fewer.
  Read r2 = ReadAll(std::string(kHeader) +
                    "--\n-- Data for Name: a; Type: TABLE DATA; Schema: public; Owner: o\n--\n\n"
                    "COPY public.a (id) FROM stdin;\n1\n2");
  EXPECT_EQ(r2.status.code(), StatusCode::kTruncated) << r2.status.message();
}

TEST(PlainDumpReader, ErrorsAreSticky) {
  // After a failure the reader must not read on and report something else
  // (it once turned a gzip CRC failure into a bogus "truncated" error).
  std::string dump = std::string(kHeader) + DataBlock("a", "COPY public.a (id) FROM stdin;", "1\n2\n");
  dump = dump.substr(0, dump.find("\\.\n"));
  auto reader = MakePlainDumpReader(MakeMemorySource(dump, "t.sql"), "t.sql", Compression::kNone);
  RowChunk c;
  Status first;
  for (int i = 0; i < 5 && first.ok(); ++i) first = reader->NextChunk(c, 4096).status();
  ASSERT_FALSE(first.ok());
  for (int i = 0; i < 3; ++i) {
    auto again = reader->NextChunk(c, 4096);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().message(), first.message());
  }
}

TEST(PlainDumpReader, RejectsWhatItCannotHash) {
  EXPECT_EQ(ReadAll("hello world\nnot a dump\n").status.code(), StatusCode::kUnsupported);
  EXPECT_EQ(ReadAll("").status.code(), StatusCode::kUnsupported);
  EXPECT_EQ(ReadAll("--\n-- PostgreSQL database cluster dump\n--\n").status.code(), StatusCode::kUnsupported);
  std::string inserts = std::string(kHeader) +
                        "--\n-- Data for Name: a; Type: TABLE DATA; Schema: public; Owner: o\n--\n\n"
                        "INSERT INTO public.a VALUES (1);\n" +
                        kFooter;
  Read r = ReadAll(inserts);
  EXPECT_EQ(r.status.code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status.message().find("--inserts"), std::string::npos);
  std::string latin1 = std::string(kHeader) + "SET client_encoding = 'LATIN1';\n" + kFooter;
  EXPECT_EQ(ReadAll(latin1).status.code(), StatusCode::kUnsupported);
}

TEST(PlainDumpReader, CopyInsideAFunctionBodyIsNotData) {
  std::string dump =
      std::string(kHeader) +
      "CREATE FUNCTION public.f() RETURNS void AS $$\nCOPY public.a (id) FROM stdin;\n$$ LANGUAGE sql;\n" + kFooter;
  Read r = ReadAll(dump);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_TRUE(r.tables.empty());
}

TEST(RowCanonicalizer, OrdersFieldsByColumnNameBytes) {
  TableInfo t;
  t.SetColumns({"b", "a", "C", "é"});  // byte order: "C" < "a" < "b" < "é"
  RowCanonicalizer c(t);
  CanonicalScratch s;
  std::string_view out;
  size_t fields = 0;
  ASSERT_EQ(c.Canonicalize("vb\tva\tvC\tvé", s, &out, &fields), RowCanonicalizer::kOk);
  EXPECT_EQ(out, "vC\tva\tvb\tvé");
  EXPECT_EQ(c.Canonicalize("1\t2\t3", s, &out, &fields), RowCanonicalizer::kFieldCount);
  EXPECT_EQ(fields, 3u);
  TableInfo sorted;
  sorted.SetColumns({"a", "b"});
  RowCanonicalizer id(sorted);
  ASSERT_EQ(id.Canonicalize("1\t2", s, &out, &fields), RowCanonicalizer::kOk);
  EXPECT_EQ(out, "1\t2");
  EXPECT_EQ(id.Canonicalize("1\t2\t3", s, &out, &fields), RowCanonicalizer::kFieldCount);
}

}  // namespace
}  // namespace vouch
