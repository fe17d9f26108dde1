// Binary COPY against the server's own text output (issue "Live reads at half
// the server's cost"): a table per supported type filled with edge values,
// and a hundred thousand random floats, read by COPY text under vouch's
// canonical session settings and by COPY binary converted on the client,
// must give the same rows byte for byte; `vouch digest` gives the same
// table digests and final hash with --copy-format text, binary and auto, and
// with large tables split into TID ranges. A type without a converter keeps
// its table on text (auto) or is an error naming it (binary).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "nlohmann/json.hpp"
#include "support/pg_test_env.h"
#include "vouch/readers/binary_copy.h"

namespace vouch {
namespace {

using testing::RunCommand;

// vouch's canonical session settings (docs/formats.md).
constexpr const char* kCanonical =
    "PGOPTIONS='-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c TimeZone=UTC "
    "-c bytea_output=hex' PGCLIENTENCODING=UTF8 ";

struct Case {
  std::string table, type;
  BinaryColumn column;
  std::vector<std::string> values;  // SQL literals
};

std::vector<Case> Cases(int major) {
  using K = BinaryKind;
  std::vector<Case> c = {
      {"t_bool", "bool", {K::kBool}, {"true", "false"}},
      {"t_int2", "int2", {K::kInt2}, {"-32768", "32767", "0"}},
      {"t_int4", "int4", {K::kInt4}, {"-2147483648", "2147483647", "-1"}},
      {"t_int8", "int8", {K::kInt8}, {"-9223372036854775808", "9223372036854775807"}},
      {"t_oid", "oid", {K::kOid}, {"0", "4294967295"}},
      {"t_float4",
       "float4",
       {K::kFloat4},
       {"'NaN'", "'-Infinity'", "'Infinity'", "'-0'", "1234567", "0.0001", "'1e-45'", "'1.17549435e-38'",
        "'3.4028235e38'", "0.1", "100000", "'1e6'"}},
      {"t_float8",
       "float8",
       {K::kFloat8},
       {"'NaN'", "'-Infinity'", "'Infinity'", "'-0'", "0.0001", "'4.9e-324'", "'2.2250738585072014e-308'", "'1e308'",
        "'1.7976931348623157e308'", "1e15", "1e14", "123456789012345678", "-34902897112121472", "0.1",
        "'9007199254740993'"}},
      {"t_numeric",
       "numeric",
       {K::kNumeric},
       {"0", "0.000", "'NaN'", "-1.5", "'1e-1000'", "12345678901234567890.0987654321", "0.00001", "-0.0100", "10000",
        "9999.9999", "repeat('9', 131072)::numeric", "('1' || repeat('0', 1000))::numeric",
        "('0.' || repeat('0', 16380) || '1')::numeric"}},
      {"t_text",
       "text",
       {K::kText},
       {"''", "'a\tb'", "E'line\\nbreak\\r\\\\back\\b\\f\\v'", "'NULL'", "'\\N'", "'Grüße, 東京 🙂'",
        "E'\\x01\\x1f'"}},
      {"t_varchar", "varchar(20)", {K::kText}, {"'x y'", "''"}},
      {"t_bpchar", "char(5)", {K::kText}, {"'ab'", "''"}},
      {"t_name", "name", {K::kText}, {"'pg_class'", "'a b'"}},
      {"t_json", "json", {K::kText}, {"'{\"a\": [1, \"x\\ty\"], \"b\": null}'", "'  [ ]  '"}},
      {"t_jsonb", "jsonb", {K::kJsonb}, {"'{\"a\": [1, \"x\\ty\"], \"b\": null, \"é\": 1.50}'", "'\"\\\\\"'"}},
      {"t_bytea", "bytea", {K::kBytea}, {"'\\x'", "'\\x00ff10'", "decode(repeat('ab', 3000), 'hex')"}},
      {"t_date",
       "date",
       {K::kDate},
       {"'infinity'", "'-infinity'", "'2000-01-01'", "'4713-01-01 BC'", "'0001-12-31 BC'", "'5874897-12-31'",
        "'1999-12-31'"}},
      {"t_time", "time", {K::kTime}, {"'24:00:00'", "'00:00:00'", "'12:34:56.789'", "'23:59:59.999999'"}},
      {"t_timetz",
       "timetz",
       {K::kTimeTz},
       {"'12:00:00+05:30'", "'00:00:01-03'", "'24:00:00-15:59'", "'10:00:00.5+00'", "'01:02:03+01:02:03'"}},
      {"t_timestamp",
       "timestamp",
       {K::kTimestamp},
       {"'infinity'", "'-infinity'", "'2024-02-29 12:00:00.000001'", "'4713-01-01 00:00:00 BC'",
        "'294276-12-31 23:59:59.999999'", "'1900-01-01'", "'0044-03-15 12:00 BC'"}},
      {"t_timestamptz",
       "timestamptz",
       {K::kTimestampTz},
       {"'infinity'", "'-infinity'", "'2024-06-01 12:00:00+02'", "'4713-01-01 00:00:00+00 BC'",
        "'1970-01-01 00:00:00.5+00'", "'294276-12-31 23:59:59.999999+00'"}},
      {"t_interval",
       "interval",
       {K::kInterval},
       {"'0'", "'1 year 2 mons 3 days 04:05:06.789'", "'-1 year -2 mons +3 days -04:05:06'", "'1 mon -1 day'",
        "'-00:00:00.000001'", "'178000000 years'", "'-2147483648 days'", "'2562047788:00:54.775807'",
        "'1 day -00:00:01'", "'-1 days +00:00:01'"}},
      {"t_uuid",
       "uuid",
       {K::kUuid},
       {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"}},
      {"t_inet",
       "inet",
       {K::kInet},
       {"'192.168.1.5'", "'10.0.0.0/8'", "'::1'", "'::'", "'::ffff:1.2.3.4'", "'::1.2.3.4'", "'fe80::1'",
        "'2001:db8::/32'", "'2001:db8:0:0:1:0:0:1'", "'1:0:0:1::/64'"}},
      {"t_cidr", "cidr", {K::kCidr}, {"'10.0.0.0/8'", "'192.168.1.0/24'", "'2001:db8::/32'", "'1.2.3.4/32'", "'::/0'"}},
      {"t_macaddr", "macaddr", {K::kMacaddr}, {"'08:00:2b:01:02:03'", "'ff:ff:ff:ff:ff:ff'"}},
      {"t_enum", "mood", {K::kText}, {"'happy'", "'so so'"}},
      {"t_domain", "posint2", {K::kInt4}, {"1", "42"}},
      {"t_int_array",
       "int4[]",
       {K::kArray, K::kInt4, 23},
       {"'{}'", "'{1,NULL,3}'", "'[0:1]={1,2}'", "'{{1,2},{3,4}}'", "'[-3:-2][1:2]={{1,2},{3,4}}'", "'{NULL}'"}},
      {"t_text_array",
       "text[]",
       {K::kArray, K::kText, 25},
       {"ARRAY['a b', '', 'NULL', 'null', 'x\"y', 'back\\slash', '{', 'a,b', E'tab\\there', NULL]",
        "ARRAY[ARRAY['1','2'],ARRAY['3',NULL]]", "ARRAY[' lead', 'trail ']"}},
      {"t_bytea_array", "bytea[]", {K::kArray, K::kBytea, 17}, {"ARRAY['\\x01'::bytea, NULL, '\\x'::bytea]"}},
      {"t_ts_array",
       "timestamptz[]",
       {K::kArray, K::kTimestampTz, 1184},
       {"ARRAY['2024-01-01 00:00+00'::timestamptz, 'infinity']"}},
      {"t_num_array", "numeric[]", {K::kArray, K::kNumeric, 1700}, {"'{1.50,NaN,-0.001}'"}},
      {"t_float_array", "float8[]", {K::kArray, K::kFloat8, 701}, {"'{NaN,-0,1e-5,Infinity}'"}},
      {"t_enum_array", "mood[]", {K::kArray, K::kText, 0}, {"ARRAY['so so', 'happy']::mood[]"}},
      {"t_domain_array", "posint2[]", {K::kArray, K::kInt4, 0}, {"ARRAY[1, 2]::posint2[]"}},
      {"t_uuid_array", "uuid[]", {K::kArray, K::kUuid, 2950}, {"ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]"}},
      {"t_jsonb_array", "jsonb[]", {K::kArray, K::kJsonb, 3802}, {"ARRAY['{\"a\": \"b c\"}'::jsonb, '1']"}},
      {"t_inet_array", "inet[]", {K::kArray, K::kInet, 869}, {"'{10.0.0.1/8,::1}'"}},
      {"t_interval_array", "interval[]", {K::kArray, K::kInterval, 1186}, {"ARRAY['1 day -01:00'::interval]"}},
  };
  if (major >= 15) c.push_back({"t_char", "\"char\"", {K::kChar}, {"'a'", "'\\200'::text::\"char\"", "''"}});
  if (major >= 17) c.push_back({"t_interval_inf", "interval", {K::kInterval}, {"'infinity'", "'-infinity'"}});
  return c;
}

class BinaryCopyPg : public testing::PreparedTest<BinaryCopyPg> {
 protected:
  friend class testing::PreparedTest<BinaryCopyPg>;
  static void Prepare() {
    db_ = testing::CreateDatabase("vouch_binary");
    dir_ = testing::MakeTempDir("vouch_binary");
    vouch_ = testing::BinPath("VOUCH_BIN");
    std::string sql =
        "CREATE TYPE mood AS ENUM ('happy', 'so so');\n"
        "CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);\n"
        "CREATE DOMAIN posint2 AS posint;\n";
    for (const Case& c : Cases(testing::TestPg().major)) {
      sql += "CREATE TABLE " + c.table + " (v " + c.type + ");\n";
      for (const std::string& v : c.values) sql += "INSERT INTO " + c.table + " VALUES (" + v + ");\n";
      sql += "INSERT INTO " + c.table + " VALUES (NULL);\n";
    }
    // Random floats over the whole range, and random bit patterns: where the
    // shortest digits lie on a bound of the rounding interval, PostgreSQL
    // writes one more digit than std::to_chars.
    sql +=
        "CREATE TABLE t_float_random (id int, d float8, f float4);\n"
        "INSERT INTO t_float_random SELECT x, (random() - 0.5) * 10 ^ (trunc(random() * 600) - 300),"
        " ((random() - 0.5) * 10 ^ (trunc(random() * 70) - 35))::float4 FROM generate_series(1, 50000) x;\n"
        "INSERT INTO t_float_random SELECT x, (x::bigint * 4096 + (random() * 2^40)::bigint)::float8 * 4,"
        " (x * 64)::float4 * 3 FROM generate_series(50001, 100000) x;\n"
        "CREATE TABLE t_mixed (id int PRIMARY KEY, ts timestamptz, amount numeric(12, 2), note text, tags text[]);\n"
        "INSERT INTO t_mixed SELECT x, '2024-01-01'::timestamptz + x * interval '17 minutes', x * 1.25,"
        " 'note ' || x, ARRAY['a' || x, NULL] FROM generate_series(1, 20000) x;\n"
        "CREATE TABLE t_point (id int, p point);\n"
        "INSERT INTO t_point VALUES (1, '(1,2)');\n";
    std::string file = dir_ + "/setup.sql";
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(sql.c_str(), f);
    fclose(f);
    auto r = RunCommand("psql -X -q -v ON_ERROR_STOP=1 -d " + db_ + " -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    testing::DropDatabase(db_);
    RunCommand("rm -rf " + dir_);
  }
  static std::vector<std::string> SortedLines(const std::string& s) {
    std::vector<std::string> lines;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::sort(lines.begin(), lines.end());
    return lines;
  }
  static testing::CmdResult Vouch(const std::string& args) { return RunCommand(vouch_ + " " + args); }
  static nlohmann::json Manifest(const std::string& args, const std::string& name) {
    auto r = Vouch("digest " + testing::DatabaseUri(db_) + " -q -o " + dir_ + "/" + name + " " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(testing::ReadFileBytes(dir_ + "/" + name), nullptr, false);
  }

  static std::string db_, dir_, vouch_;
};
std::string BinaryCopyPg::db_, BinaryCopyPg::dir_, BinaryCopyPg::vouch_;

// Row by row: the server's text and vouch's conversion of the binary rows.
TEST_F(BinaryCopyPg, ConvertedRowsEqualTheServersTextRows) {
  auto cases = Cases(testing::TestPg().major);
  cases.push_back({"t_float_random", "", {}, {}});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.table);
    std::vector<BinaryColumn> cols = {c.column};
    std::string list = "v";
    if (c.table == "t_float_random") {
      cols = {{BinaryKind::kFloat8}, {BinaryKind::kFloat4}, {BinaryKind::kInt4}};
      list = "d, f, id";
    }
    // An enum's or a domain's array carries its own element type's OID.
    if (c.column.kind == BinaryKind::kArray && c.column.element_oid == 0) {
      const std::string elem = c.type.substr(0, c.type.size() - 2);
      cols[0].element_oid =
          static_cast<uint32_t>(std::stoul(testing::PsqlScalar(db_, "SELECT '" + elem + "'::regtype::oid")));
    }
    auto text = RunCommand(std::string(kCanonical) + "psql -X -q -d " + db_ + " -c 'COPY " + c.table + " (" + list +
                           ") TO STDOUT'");
    ASSERT_EQ(text.exit_code, 0) << text.err;
    const std::string bin_file = dir_ + "/" + c.table + ".bin";
    auto bin = RunCommand(std::string(kCanonical) + "psql -X -q -d " + db_ + " -c 'COPY " + c.table + " (" + list +
                          ") TO STDOUT (FORMAT binary)' > " + bin_file);
    ASSERT_EQ(bin.exit_code, 0) << bin.err;
    const std::string stream = testing::ReadFileBytes(bin_file);
    BinaryCopyDecoder dec(cols);
    std::string converted;
    // Fed in uneven pieces, as the server's messages may come.
    for (size_t at = 0, step = 1; at < stream.size(); at += step, step = step * 3 % 8191 + 1) {
      Status st = dec.Feed(std::string_view(stream).substr(at, step), converted);
      ASSERT_TRUE(st.ok()) << st.message();
    }
    ASSERT_TRUE(dec.Finish().ok()) << dec.Finish().message();
    auto want = SortedLines(text.out), got = SortedLines(converted);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]);
  }
}

// The whole reader: every table's digest and the final hash are the same
// read as text, as binary, and split into TID ranges; the manifest says how
// each table was read.
TEST_F(BinaryCopyPg, DigestIsTheSameReadEitherWay) {
  auto text = Manifest("--copy-format text -t 't_*' -T t_point", "text.json");
  auto binary = Manifest("--copy-format binary -t 't_*' -T t_point", "binary.json");
  auto split = Manifest("--copy-format auto --jobs 3 --split-over 64K", "split.json");
  auto sums = [](const nlohmann::json& m) {
    std::map<std::string, std::string> out;
    for (const auto& t : m.at("tables")) out[t.at("name").get<std::string>()] = t.at("sum").get<std::string>();
    return out;
  };
  ASSERT_FALSE(text.is_discarded());
  ASSERT_FALSE(binary.is_discarded());
  ASSERT_FALSE(split.is_discarded());
  EXPECT_EQ(sums(text), sums(binary));
  auto all = sums(split);
  all.erase("t_point");
  EXPECT_EQ(all, sums(text));
  EXPECT_EQ(text.at("final_validation_hash"), binary.at("final_validation_hash"));
  for (const auto& t : binary.at("tables")) EXPECT_EQ(t.value("read_as", ""), "binary") << t.at("name");
  for (const auto& t : text.at("tables")) EXPECT_EQ(t.value("read_as", ""), "text") << t.at("name");
  std::map<std::string, std::string> how;
  for (const auto& t : split.at("tables")) how[t.at("name").get<std::string>()] = t.value("read_as", "");
  EXPECT_EQ(how["t_point"], "text (column p: point)");
  EXPECT_NE(how["t_float_random"].find("binary, "), std::string::npos) << how["t_float_random"];
  EXPECT_NE(how["t_float_random"].find(" TID ranges"), std::string::npos) << how["t_float_random"];
  EXPECT_NE(split.at("source").dump().find("copy_format"), std::string::npos);
}

TEST_F(BinaryCopyPg, BinaryNamesATableItCannotRead) {
  auto r = Vouch("digest " + testing::DatabaseUri(db_) + " -q --copy-format binary");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("table public.t_point cannot be read with binary COPY: column p has type point"),
            std::string::npos)
      << r.err;
  auto bad = Vouch("digest " + testing::DatabaseUri(db_) + " -q --split-over lots");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

}  // namespace
}  // namespace vouch
