#include "vouch/engine/merge.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/manifest.h"

namespace vouch {

Result<std::pair<uint32_t, uint32_t>> ParseShard(const std::string& text) {
  size_t slash = text.find('/');
  uint32_t k = 0, n = 0;
  auto num = [](std::string_view s, uint32_t* v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  if (slash == std::string::npos || !num(std::string_view(text).substr(0, slash), &k) ||
      !num(std::string_view(text).substr(slash + 1), &n) || n == 0 || n > 65536 || k >= n) {
    return InvalidArgument("--shard '" + text + "': expected k/N with 0 <= k < N <= 65536");
  }
  return std::make_pair(k, n);
}

Result<DigestReport> MergeShards(const std::vector<std::string>& manifest_paths) {
  std::vector<std::pair<std::string, DigestReport>> loaded;
  for (const auto& path : manifest_paths) {
    auto m = LoadManifest(path);
    if (!m.ok()) return m.status();
    loaded.emplace_back(path, std::move(m).value());
  }
  return MergeShards(std::move(loaded));
}

Result<DigestReport> MergeShards(std::vector<std::pair<std::string, DigestReport>> manifests) {
  if (manifests.empty()) return InvalidArgument("merge: no manifests given");
  std::vector<std::string> paths;
  for (const auto& [path, m] : manifests) paths.push_back(path);
  std::vector<DigestReport> parts;
  std::map<uint32_t, std::string> seen;  // shard index → path
  uint32_t count = 0;
  std::string method, origin, database, kind;
  std::vector<std::string> locations;  // where the shards were read, distinct
  for (auto& [path, loaded] : manifests) {
    DigestReport* m = &loaded;
    const auto& props = m->source.properties;
    auto shard = props.find("shard");
    if (shard == props.end()) {
      return InvalidArgument(path + ": not a shard manifest (written without --shard k/N)");
    }
    auto kn = ParseShard(shard->second);
    if (!kn.ok()) return InvalidArgument(path + ": bad shard property '" + shard->second + "'");
    auto [k, n] = *kn;
    std::string m_method = props.count("shard_method") ? props.at("shard_method") : "";
    std::string m_origin = props.count("original_location") ? props.at("original_location") : "";
    // The same data may be read through different names (replicas, hosts):
    // shards must agree on the kind of source and, for a database, its name.
    std::string m_database = props.count("database") ? props.at("database") : "";
    if (std::find(locations.begin(), locations.end(), m_origin) == locations.end()) locations.push_back(m_origin);
    if (parts.empty()) {
      count = n;
      method = m_method;
      origin = m_origin;
      database = m_database;
      kind = m->source.kind;
    } else if (n != count) {
      return InvalidArgument(path + ": shard " + shard->second + " of a " + std::to_string(n) + "-way split, " +
                             paths[0] + " is of a " + std::to_string(count) + "-way split");
    } else if (m_method != method || m->source.kind != kind || m_database != database) {
      return InvalidArgument(path + ": a shard of " + m_origin + " (" + m->source.kind + ", " + m_method + "), " +
                             paths[0] + " is of " + origin + " (" + kind + ", " + method + ")");
    }
    if (!seen.emplace(k, path).second) {
      return InvalidArgument(path + ": shard " + shard->second + " is also in " + seen[k]);
    }
    parts.push_back(std::move(*m));
  }
  if (seen.size() != count) {
    std::string missing;
    for (uint32_t k = 0; k < count && missing.size() < 200; ++k) {
      if (!seen.count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(count);
    }
    return InvalidArgument("merge: shards missing: " + missing + " (every shard of the split is needed)");
  }

  DigestReport merged = parts[0];
  if (kind.rfind("manifest (", 0) == 0 && kind.back() == ')') merged.source.kind = kind.substr(10, kind.size() - 11);
  merged.source.location = origin;
  merged.source.properties.erase("shard");
  merged.source.properties.erase("original_location");
  merged.source.properties["merged_shards"] = std::to_string(count);
  if (locations.size() > 1) {
    std::string all;
    for (const auto& l : locations) all += (all.empty() ? "" : ", ") + l;
    merged.source.properties["shard_locations"] = all;
  }
  merged.bytes_read = 0;
  merged.seconds = 0;
  merged.jobs = 0;
  for (const auto& p : parts) {
    merged.bytes_read += p.bytes_read;
    merged.seconds = std::max(merged.seconds, p.seconds);
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    const DigestReport& p = parts[i];
    if (p.tables.size() != merged.tables.size()) {
      return InvalidArgument(paths[i] + ": lists " + std::to_string(p.tables.size()) + " tables, " + paths[0] +
                             " lists " + std::to_string(merged.tables.size()));
    }
    for (size_t t = 0; t < p.tables.size(); ++t) {
      TableResult& into = merged.tables[t];
      const TableResult& from = p.tables[t];
      if (std::tie(into.schema, into.name, into.columns) != std::tie(from.schema, from.name, from.columns)) {
        return InvalidArgument(paths[i] + ": table " + from.QualifiedName() + " does not match " +
                               into.QualifiedName() + " of " + paths[0] + " (names or columns differ)");
      }
      if (!from.not_hashed.empty() && into.not_hashed.empty()) into.not_hashed = from.not_hashed;
      into.digest.Merge(from.digest);
    }
    // The shards' schema is kept only when every shard saw the same one.
    auto same_objects = [](const SchemaCatalog& a, const SchemaCatalog& b) {
      return a.objects.size() == b.objects.size() &&
             std::equal(a.objects.begin(), a.objects.end(), b.objects.begin(),
                        [](const SchemaObject& x, const SchemaObject& y) {
                          return x.name == y.name && x.flags == y.flags && x.text == y.text && x.exact == y.exact;
                        });
    };
    if (merged.schema && (!p.schema || !same_objects(*merged.schema, *p.schema))) merged.schema.reset();
  }
  merged.ComputeFinalHash();
  return merged;
}

}  // namespace vouch
