#include "vouch/engine/manifest.h"

#include <ctime>
#include <fstream>
#include <cstring>
#include <map>
#include <unordered_map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/partitions.h"
#include "vouch/engine/schema_compare.h"
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
  std::vector<U128> sums = d.buckets();
  std::string out;
  out.reserve(32 * sums.size());
  for (const U128& b : sums) out += b.Hex();
  return out;
}

json TableJson(const TableResult& t) {
  json j = {{"schema", t.schema},
            {"name", t.name},
            {"columns", t.columns},
            {"key", t.key_columns},
            {"rows", t.digest.rows()},
            {"sum", t.digest.sum().Hex()},
            {"content_hash", t.digest.ContentHashHex()}};
  // A single bucket is the sum itself: version 4 leaves it out, version 5
  // its count too.
  if (t.digest.bucket_count() > 1) {
    j["bucket_count"] = t.digest.bucket_count();
    j["buckets"] = BucketsHex(t.digest);
  }
  // Optional (absent for a table that is no partition), so older manifests
  // load; [schema, name] pairs from version 5 (objects before).
  if (!t.partition_ancestors.empty()) {
    json ancestors = json::array();
    for (const auto& a : t.partition_ancestors) ancestors.push_back(json::array({a.schema, a.name}));
    j["partition_ancestors"] = ancestors;
  }
  if (!t.read_as.empty()) j["read_as"] = t.read_as;
  return j;
}

// One table of a manifest, checked: its buckets add up to its sum (written
// by table digest format `digest_version`), its content hash recomputes.
Result<TableResult> TableFromJson(const json& t, const std::string& location, uint8_t digest_version) {
  TableResult tr{t.at("schema").get<std::string>(),
                 t.at("name").get<std::string>(),
                 t.at("columns").get<std::vector<std::string>>(),
                 TableDigest(),
                 t.value("key", std::vector<std::string>{}),
                 {},
                 {},
                 t.value("read_as", std::string())};
  std::string where = location + ": table " + tr.QualifiedName();
  // Version 5 leaves out the count of a single bucket.
  uint64_t n = t.contains("bucket_count") || t.contains("buckets") ? t.at("bucket_count").get<uint64_t>() : 1;
  U128 sum;
  if (!U128::FromHex(t.at("sum").get<std::string>(), &sum)) return Corrupt(where + ": invalid sum");
  // Version 4 leaves out a single bucket (it is the sum); earlier versions
  // list it.
  const std::string one = n == 1 && !t.contains("buckets") ? sum.Hex() : std::string();
  const std::string& hex = one.empty() ? t.at("buckets").get_ref<const std::string&>() : one;
  if (n == 0 || n > TableDigest::kMaxBuckets || hex.size() != 32ull * n) {
    return Corrupt(where + ": bucket list has the wrong length");
  }
  std::vector<U128> buckets(n);
  for (size_t i = 0; i < n; ++i) {
    if (!U128::FromHex(std::string_view(hex).substr(32 * i, 32), &buckets[i])) {
      return Corrupt(where + ": buckets are not hex");
    }
  }
  auto d = TableDigest::FromParts(t.at("rows").get<uint64_t>(), sum, std::move(buckets), digest_version);
  if (!d.ok()) return d.status().WithContext(where);
  tr.digest = std::move(d).value();
  for (const json& a : t.value("partition_ancestors", json::array())) {
    if (a.is_array()) {
      if (a.size() != 2) return Corrupt(where + ": malformed partition_ancestors");
      tr.partition_ancestors.push_back({a.at(0).get<std::string>(), a.at(1).get<std::string>()});
    } else {
      tr.partition_ancestors.push_back({a.at("schema").get<std::string>(), a.at("name").get<std::string>()});
    }
  }
  if (tr.digest.ContentHashHex() != t.at("content_hash").get<std::string>()) {
    return Corrupt(where + ": content_hash does not match rows and sum (edited manifest?)");
  }
  return tr;
}

std::string FingerprintHex(const SchemaFingerprint& f) { return HexEncode(f.data(), f.size()); }

// The schema objects of a manifest as they are written: each fingerprint
// that an earlier object has in the same place is written as that object's
// index (version 5: every table's "id integer NOT NULL" column, every
// partition's primary key). The fingerprints remembered are bounded, so the
// writer's memory is whatever the number of objects.
class SchemaObjectWriter {
 public:
  // [name, flags, text fingerprint, "" or index; exact, "", "=" or index].
  json Next(const SchemaObject& o) {
    const bool text = o.Has(SchemaObject::kHasText), exact = o.Has(SchemaObject::kHasExact);
    json out = json::array({o.name, o.flags, text ? Slot(0, o.text) : json(""),
                            !exact ? json("") : text && o.exact == o.text ? json("=") : Slot(1, o.exact)});
    ++index_;
    return out;
  }

 private:
  struct Hash {
    size_t operator()(const SchemaFingerprint& f) const {
      size_t h;
      std::memcpy(&h, f.data(), sizeof h);  // the first bytes of a SHA-256
      return h;
    }
  };
  static constexpr size_t kRemembered = 1 << 16;

  json Slot(int slot, const SchemaFingerprint& f) {
    auto& seen = seen_[slot];
    auto [it, fresh] = seen.try_emplace(f, index_);
    if (!fresh) return it->second;
    if (seen.size() > kRemembered) {
      seen.clear();
      seen.emplace(f, index_);
    }
    return FingerprintHex(f);
  }

  uint64_t index_ = 0;
  std::unordered_map<SchemaFingerprint, uint64_t, Hash> seen_[2];
};

// `earlier`: the objects read before this one, which an index refers to.
// The name is copied into `names`.
Result<SchemaObject> SchemaObjectFromJson(const json& a, const std::string& location,
                                          const std::vector<SchemaObject>& earlier, NameArena& names) {
  if (!a.is_array() || a.size() != 4) return Corrupt(location + ": malformed schema object");
  SchemaObject o;
  o.name = names.Add(a.at(0).get_ref<const std::string&>());
  o.flags = a.at(1).get<uint8_t>();
  auto fingerprint = [&](const json& v, SchemaObject::Flags flag, SchemaFingerprint* f) -> Status {
    if (v.is_number_unsigned()) {  // the same as an earlier object's
      const uint64_t k = v.get<uint64_t>();
      if (!o.Has(flag) || k >= earlier.size() || !earlier[k].Has(flag)) {
        return Corrupt(location + ": schema object " + std::string(o.name) + ": invalid fingerprint reference");
      }
      *f = flag == SchemaObject::kHasText ? earlier[k].text : earlier[k].exact;
      return Status::Ok();
    }
    const std::string& hex = v.get_ref<const std::string&>();
    if (!o.Has(flag))
      return hex.empty() ? Status::Ok()
                         : Corrupt(location + ": schema object " + std::string(o.name) + ": unexpected fingerprint");
    auto raw = HexDecode(hex);
    if (!raw || raw->size() != f->size())
      return Corrupt(location + ": schema object " + std::string(o.name) + ": invalid fingerprint");
    std::copy(raw->begin(), raw->end(), f->begin());
    return Status::Ok();
  };
  VOUCH_RETURN_IF_ERROR(fingerprint(a.at(2), SchemaObject::kHasText, &o.text));
  if (o.Has(SchemaObject::kHasText) && o.Has(SchemaObject::kHasExact) && a.at(3).is_string() &&
      a.at(3).get_ref<const std::string&>() == "=") {
    o.exact = o.text;
    return o;
  }
  VOUCH_RETURN_IF_ERROR(fingerprint(a.at(3), SchemaObject::kHasExact, &o.exact));
  return o;
}

// SHA-256 over every object's four fields, so that an edit to any is seen.
std::string SchemaObjectsSha256(const SchemaCatalog& c) {
  Sha256 h;
  for (const auto& o : c.objects) {
    h.Update(o.name);
    const uint8_t flags = o.flags;
    h.Update(std::string_view("\0", 1));
    h.Update(&flags, 1);
    h.Update(o.text.data(), o.text.size());
    h.Update(o.exact.data(), o.exact.size());
  }
  auto d = h.Finish();
  return HexEncode(d.data(), d.size());
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

// Sequences: name, state and the definition's fingerprint (at most about
// 256 bytes an object whatever the definition).
json SequencesJson(const std::vector<SequenceInfo>& seqs) {
  json out = json::array();
  for (const SequenceInfo& s : seqs) {
    json o = {{"schema", s.schema}, {"name", s.name}};
    if (s.has_state) {
      o["last_value"] = s.last_value;
      o["is_called"] = s.is_called;
    }
    if (s.has_definition) o["definition"] = s.DefinitionFingerprint();
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<SequenceInfo>> SequencesFromJson(const json& j, const std::string& location) {
  std::vector<SequenceInfo> out;
  for (const json& o : j) {
    SequenceInfo s;
    s.schema = o.at("schema").get<std::string>();
    s.name = o.at("name").get<std::string>();
    if (o.contains("last_value")) {
      s.has_state = true;
      s.last_value = o.at("last_value").get<int64_t>();
      s.is_called = o.at("is_called").get<bool>();
    }
    if (o.contains("definition")) {
      s.has_definition = true;
      s.fingerprint = o.at("definition").get<std::string>();
      if (s.fingerprint.size() != 32) return Corrupt(location + ": sequence " + s.QualifiedName() + ": bad definition");
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Large objects: each one's oid, owner, size and content hash, and their
// digest (the large-objects pseudo-table's, which final_validation_hash
// covers).
json LargeObjectsJson(const DigestReport& r) {
  const FinalLargeObjects d = r.LargeObjects();
  json objects = json::array();
  uint64_t bytes = 0;
  for (const LargeObjectInfo& lo : *r.large_objects) {
    objects.push_back({{"oid", lo.oid}, {"owner", lo.owner}, {"hash", lo.hash.Hex()}, {"bytes", lo.bytes}});
    bytes += lo.bytes;
  }
  return {{"count", d.count},
          {"bytes", bytes},
          {"digest", d.count ? HexEncode(d.digest.data(), d.digest.size()) : ""},
          {"objects", objects}};
}

Result<std::vector<LargeObjectInfo>> LargeObjectsFromJson(const json& j, const std::string& location) {
  std::vector<LargeObjectInfo> out;
  for (const json& o : j.at("objects")) {
    LargeObjectInfo lo;
    lo.oid = o.at("oid").get<uint32_t>();
    lo.owner = o.at("owner").get<std::string>();
    lo.has_content = true;
    lo.bytes = o.value("bytes", uint64_t{0});
    if (!U128::FromHex(o.at("hash").get<std::string>(), &lo.hash)) {
      return Corrupt(location + ": large object " + std::to_string(lo.oid) + ": bad hash");
    }
    out.push_back(std::move(lo));
  }
  SortLargeObjects(out);
  return out;
}

}  // namespace

void WriteManifest(const DigestReport& report, const std::string& vouch_version,
                   const std::function<void(std::string_view)>& sink) {
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
            {"tables", json::array()},
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
  if (report.sequences) j["sequences"] = SequencesJson(*report.sequences);
  if (report.large_objects) j["large_objects"] = LargeObjectsJson(report);
  const SchemaCatalog* schema = report.schema ? &*report.schema : nullptr;
  if (schema != nullptr) {
    j["schema"] = {{"origin", schema->origin},
                   {"database_objects", schema->has_database_objects},
                   {"cluster_objects", schema->has_cluster_objects},
                   {"database_settings", schema->has_database_settings},
                   {"schema_validation_hash",
                    SchemaValidationHash(schema, schema->has_cluster_objects, schema->has_database_settings)},
                   {"objects_sha256", SchemaObjectsSha256(*schema)},
                   {"objects", json::array()}};
  }
  // The document as nlohmann would print it whole, with the tables written
  // one at a time where its empty list stands: memory for one table, not for
  // every table's text.
  const std::string frame = j.dump(2);
  const std::string_view placeholder = "\"tables\": []";
  const size_t at = frame.find(placeholder);
  size_t from = 0;
  if (schema != nullptr) {
    // The schema objects, one line each, where their empty list stands
    // ("schema" sorts before "tables").
    // ("large_objects" has an "objects" list of its own, and sorts first).
    const std::string_view objects = "\"objects\": []";
    const size_t o = frame.find(objects, frame.find("\"schema\": {"));
    sink(std::string_view(frame).substr(0, o));
    sink("\"objects\": [");
    // One line each, not indented: a table's few objects cost their
    // fields.
    SchemaObjectWriter writer;
    std::string item;
    for (size_t i = 0; i < schema->objects.size(); ++i) {
      item = i > 0 ? ",\n" : "\n";
      item += writer.Next(schema->objects[i]).dump();
      sink(item);
    }
    sink(schema->objects.empty() ? "]" : "\n    ]");
    from = o + objects.size();
  }
  sink(std::string_view(frame).substr(from, at - from));
  if (report.tables.empty()) {
    sink(placeholder);
  } else {
    sink("\"tables\": [\n");
    // One line per table, as the schema objects: a table of a few rows
    // costs its fields, not their indentation.
    std::string item;
    for (size_t i = 0; i < report.tables.size(); ++i) {
      item = i > 0 ? ",\n" : "";
      item += TableJson(report.tables[i]).dump();
      sink(item);
    }
    sink("\n  ]");
  }
  sink(std::string_view(frame).substr(at + placeholder.size()));
  sink("\n");
}

std::string ManifestJson(const DigestReport& report, const std::string& vouch_version) {
  std::string out;
  WriteManifest(report, vouch_version, [&](std::string_view s) { out += s; });
  return out;
}

namespace {

// `Input`: the whole text, or a stream (a file read as it is parsed).
template <typename Input>
Result<DigestReport> ParseManifestFrom(Input&& input, const std::string& location) {
  // Tables are checked and kept as they are parsed, and dropped from the
  // document, so a manifest of 100,000 tables never sits in memory as JSON.
  DigestReport r;
  Status table_error;
  uint8_t digest_version = 0;  // from "digest", which precedes "tables" (keys are sorted)
  bool in_tables = false, in_schema = false, in_objects = false;
  SchemaCatalog schema;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if (depth == 2 && in_schema && event == json::parse_event_t::key) {
      in_objects = parsed == "objects";
    } else if (depth == 3 && in_objects && event == json::parse_event_t::array_end) {
      if (!table_error.ok()) return false;
      try {
        auto o = SchemaObjectFromJson(parsed, location, schema.objects, *schema.names);
        if (!o.ok()) {
          table_error = o.status();
        } else {
          schema.objects.push_back(std::move(o).value());
        }
      } catch (const json::exception& e) {
        table_error = Corrupt(location + ": malformed schema object: " + e.what());
      }
      return false;  // not kept in the document
    } else if (depth == 1 && event == json::parse_event_t::key) {
      in_tables = parsed == "tables";
      in_schema = parsed == "schema";
      in_objects = false;
    } else if (depth == 1 && event == json::parse_event_t::object_end && parsed.contains("table_digest_version")) {
      digest_version = parsed.value("table_digest_version", uint8_t{0});
    } else if (depth == 2 && in_tables && event == json::parse_event_t::object_end) {
      if (!table_error.ok()) return false;
      try {
        auto t = TableFromJson(parsed, location, digest_version == 0 ? TableDigest::kFormatVersion : digest_version);
        if (!t.ok()) {
          table_error = t.status();
        } else {
          r.tables.push_back(std::move(t).value());
        }
      } catch (const json::exception& e) {
        table_error = Corrupt(location + ": malformed manifest table: " + e.what());
      }
      return false;  // not kept in the document
    }
    return true;
  };
  json j = json::parse(std::forward<Input>(input), cb, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(location + ": manifest is not valid JSON");
  try {
    if (j.value("format", "") != "vouch-manifest") return Unsupported(location + ": not a vouch manifest");
    const int version = j.at("version").get<int>();
    if (version < 1 || version > kManifestVersion) {
      return Unsupported(location + ": manifest version " + std::to_string(version) + " (this vouch reads versions 1 to " +
                         std::to_string(kManifestVersion) + "; write a new one with 'vouch digest SOURCE -o FILE')");
    }
    const int expected_digest = version == 1 ? 1 : TableDigest::kFormatVersion;
    if (j.at("digest").value("table_digest_version", 0) != expected_digest) {
      return Unsupported(location + ": manifest version " + std::to_string(version) + " with table digest version " +
                         std::to_string(j.at("digest").value("table_digest_version", 0)) +
                         " (expected " + std::to_string(expected_digest) + "; write a new one with 'vouch digest SOURCE -o FILE')");
    }
    if (!table_error.ok()) return table_error;
    if (!j.contains("tables")) return Corrupt(location + ": malformed manifest: no tables");
    const json& src = j.at("source");
    r.source.kind = "manifest (" + src.value("kind", "") + ")";
    r.source.location = location;
    r.source.compression = src.value("compression", "none");
    const json props = src.value("properties", json::object());
    for (const auto& [k, v] : props.items()) r.source.properties[k] = v.template get<std::string>();
    r.source.properties["original_location"] = src.value("location", "");
    if (version == 1) r.source.properties["manifest_version"] = "1";
    if (version >= 3 && j.contains("sequences")) {
      auto seqs = SequencesFromJson(j.at("sequences"), location);
      if (!seqs.ok()) return seqs.status();
      r.sequences = std::move(seqs).value();
    }
    if (version >= 3 && j.contains("large_objects")) {
      auto los = LargeObjectsFromJson(j.at("large_objects"), location);
      if (!los.ok()) return los.status();
      r.large_objects = std::move(los).value();
    }
    r.ComputeFinalHash();
    if (r.FinalHashHex() != j.at("final_validation_hash").get<std::string>()) {
      return Corrupt(location + ": final_validation_hash does not match the tables (edited manifest?)");
    }
    VOUCH_RETURN_IF_ERROR(CheckRollups(j, r, location));
    if (j.contains("schema")) {
      if (version < 3) return Corrupt(location + ": a version " + std::to_string(version) + " manifest with a schema");
      const json& s = j.at("schema");
      schema.origin = s.at("origin").get<std::string>();
      schema.has_database_objects = s.at("database_objects").get<bool>();
      schema.has_cluster_objects = s.at("cluster_objects").get<bool>();
      schema.has_database_settings = s.at("database_settings").get<bool>();
      for (size_t i = 1; i < schema.objects.size(); ++i) {
        if (!(schema.objects[i - 1].name < schema.objects[i].name)) {
          return Corrupt(location + ": schema objects out of order at " + std::string(schema.objects[i].name));
        }
      }
      if (SchemaObjectsSha256(schema) != s.at("objects_sha256").get<std::string>() ||
          SchemaValidationHash(&schema, schema.has_cluster_objects, schema.has_database_settings) !=
              s.at("schema_validation_hash").get<std::string>()) {
        return Corrupt(location + ": schema objects do not match their hashes (edited manifest?)");
      }
      r.schema = std::move(schema);
    }
    return r;
  } catch (const json::exception& e) {
    return Corrupt(location + ": malformed manifest: " + e.what());
  }
}

}  // namespace

Result<DigestReport> ParseManifest(const std::string& text, const std::string& location) {
  return ParseManifestFrom(text, location);
}

Result<DigestReport> LoadManifest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open manifest");
  // Parsed as it is read: the file's text is never held whole.
  return ParseManifestFrom(in, path);
}

bool LooksLikeManifest(std::string_view head) {
  size_t i = head.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && head[i] == '{';
}

}  // namespace vouch
