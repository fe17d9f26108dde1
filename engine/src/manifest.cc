#include "vouch/engine/manifest.h"

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/partitions.h"
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

// The roll-ups a manifest lists must be those its tables add up to (they
// are derived, and outside the final hash, so an edit would go unnoticed).
Status CheckRollups(const json& j, const DigestReport& r, const std::string& location) {
  if (!j.contains("partitioned")) return Status::Ok();
  std::map<std::string, std::string> computed;
  for (const auto& p : PartitionRollups(r.tables)) {
    computed[p.QualifiedName()] = p.not_computed.empty() ? p.digest.ContentHashHex() : "";
  }
  for (const json& p : j.at("partitioned")) {
    std::string name = QualifiedTableName(p.at("schema").get<std::string>(), p.at("name").get<std::string>());
    auto it = computed.find(name);
    if (it == computed.end() || it->second != p.value("content_hash", "")) {
      return Corrupt(location + ": partitioned table " + name +
                     ": its roll-up does not match its leaf partitions (edited manifest?)");
    }
  }
  return Status::Ok();
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
    // Optional (absent for a table that is no partition), so older manifests load.
    if (!t.partition_ancestors.empty()) {
      json ancestors = json::array();
      for (const auto& a : t.partition_ancestors) ancestors.push_back({{"schema", a.schema}, {"name", a.name}});
      tables.back()["partition_ancestors"] = ancestors;
    }
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
  // The partitioned tables' roll-ups (derived from the tables, outside the
  // final hash); only when there are partitions.
  json rollups = json::array();
  for (const auto& r : PartitionRollups(report.tables)) {
    json o = {{"schema", r.schema}, {"name", r.name}, {"root", r.is_root}, {"leaves", r.leaves.size()},
              {"rows", r.rows}};
    if (r.not_computed.empty()) {
      o["sum"] = r.digest.sum().Hex();
      o["content_hash"] = r.digest.ContentHashHex();
    } else {
      o["not_computed"] = r.not_computed;
    }
    rollups.push_back(std::move(o));
  }
  if (!rollups.empty()) j["partitioned"] = rollups;
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
                     {},
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
      for (const json& a : t.value("partition_ancestors", json::array())) {
        tr.partition_ancestors.push_back({a.at("schema").get<std::string>(), a.at("name").get<std::string>()});
      }
      if (tr.digest.ContentHashHex() != t.at("content_hash").get<std::string>()) {
        return Corrupt(where + ": content_hash does not match rows and sum (edited manifest?)");
      }
      r.tables.push_back(std::move(tr));
    }
    r.ComputeFinalHash();
    if (r.FinalHashHex() != j.at("final_validation_hash").get<std::string>()) {
      return Corrupt(location + ": final_validation_hash does not match the tables (edited manifest?)");
    }
    VOUCH_RETURN_IF_ERROR(CheckRollups(j, r, location));
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
