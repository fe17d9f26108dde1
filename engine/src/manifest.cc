#include "vouch/engine/manifest.h"

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/hashing/hex.h"

namespace vouch {
namespace {

using nlohmann::json;

std::string NowUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string BucketsHex(const TableDigest& d) {
  std::string out;
  out.reserve(32 * d.bucket_count());
  for (const U128& b : d.buckets()) out += b.Hex();
  return out;
}

}  // namespace

std::string ManifestJson(const DigestReport& report, const std::string& vouch_version) {
  json tables = json::array();
  for (const auto& t : report.tables) {
    tables.push_back({{"schema", t.schema},
                      {"name", t.name},
                      {"columns", t.columns},
                      {"key", t.key_columns},
                      {"rows", t.digest.rows()},
                      {"sum", t.digest.sum().Hex()},
                      {"content_hash", t.digest.ContentHashHex()},
                      {"bucket_count", t.digest.bucket_count()},
                      {"buckets", BucketsHex(t.digest)}});
  }
  json props = json::object();
  for (const auto& [k, v] : report.source.properties) props[k] = v;
  json j = {{"format", "vouch-manifest"},
            {"version", kManifestVersion},
            {"vouch_version", vouch_version},
            {"created_at", NowUtc()},
            {"digest",
             {{"row_hash", "xxh3-128"},
              {"sum", "sum of row hashes mod 2^128"},
              {"canonical_row", "COPY text, fields in byte order of column names"},
              {"table_digest_version", TableDigest::kFormatVersion}}},
            {"source",
             {{"kind", report.source.kind},
              {"location", report.source.location},
              {"compression", report.source.compression},
              {"properties", props}}},
            {"tables", tables},
            {"final_validation_hash", report.FinalHashHex()}};
  return j.dump(2) + "\n";
}

Result<DigestReport> ParseManifest(const std::string& text, const std::string& location) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(location + ": manifest is not valid JSON");
  try {
    if (j.value("format", "") != "vouch-manifest") return Unsupported(location + ": not a vouch manifest");
    int version = j.at("version").get<int>();
    if (version != kManifestVersion) {
      return Unsupported(location + ": manifest version " + std::to_string(version) + " (this vouch reads version " +
                         std::to_string(kManifestVersion) + ")");
    }
    DigestReport r;
    const json& src = j.at("source");
    r.source.kind = "manifest (" + src.value("kind", "") + ")";
    r.source.location = location;
    r.source.compression = src.value("compression", "none");
    const json props = src.value("properties", json::object());
    for (const auto& [k, v] : props.items()) r.source.properties[k] = v.get<std::string>();
    r.source.properties["original_location"] = src.value("location", "");
    for (const json& t : j.at("tables")) {
      TableResult tr{t.at("schema").get<std::string>(),
                     t.at("name").get<std::string>(),
                     t.at("columns").get<std::vector<std::string>>(),
                     TableDigest(),
                     t.value("key", std::vector<std::string>{}),
                     {}};
      std::string where = location + ": table " + tr.QualifiedName();
      uint32_t n = t.at("bucket_count").get<uint32_t>();
      std::string hex = t.at("buckets").get<std::string>();
      U128 sum;
      if (!U128::FromHex(t.at("sum").get<std::string>(), &sum)) return Corrupt(where + ": invalid sum");
      if (hex.size() != 32ull * n) return Corrupt(where + ": bucket list has the wrong length");
      // Rebuild through the canonical encoding, which checks the buckets add up.
      std::string bytes = "VTD";
      bytes.push_back(static_cast<char>(TableDigest::kFormatVersion));
      uint64_t rows = t.at("rows").get<uint64_t>();
      for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<char>(rows >> (8 * i)));
      auto sb = sum.BigEndianBytes();
      bytes.append(reinterpret_cast<const char*>(sb.data()), sb.size());
      for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<char>(n >> (8 * i)));
      auto raw = HexDecode(hex);
      if (!raw) return Corrupt(where + ": buckets are not hex");
      bytes += *raw;
      auto d = TableDigest::FromCanonicalBytes(bytes);
      if (!d.ok()) return d.status().WithContext(where);
      tr.digest = std::move(d).value();
      if (tr.digest.ContentHashHex() != t.at("content_hash").get<std::string>()) {
        return Corrupt(where + ": content_hash does not match rows and sum (edited manifest?)");
      }
      r.tables.push_back(std::move(tr));
    }
    r.ComputeFinalHash();
    if (r.FinalHashHex() != j.at("final_validation_hash").get<std::string>()) {
      return Corrupt(location + ": final_validation_hash does not match the tables (edited manifest?)");
    }
    return r;
  } catch (const json::exception& e) {
    return Corrupt(location + ": malformed manifest: " + e.what());
  }
}

Result<DigestReport> LoadManifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open manifest");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseManifest(ss.str(), path);
}

bool LooksLikeManifest(std::string_view head) {
  size_t i = head.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && head[i] == '{';
}

}  // namespace vouch
