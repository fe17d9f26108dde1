// LoadChainConfig: the TOML form of chain specs (chain_spec.h).
#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "vouch/chain/chain_spec.h"

namespace vouch {
namespace {

constexpr const char* kKeyList =
    "table, seq_column, prev_column, hash_column, fields, separator, timestamps, algorithm, encoding, genesis, null_as";

std::string At(const std::string& path, const toml::source_region& where) {
  return path + ":" + std::to_string(where.begin.line);
}

Result<std::string> StringValue(const std::string& path, const std::string& key, const toml::node& node) {
  const toml::value<std::string>* s = node.as_string();
  if (s == nullptr) return InvalidArgument(At(path, node.source()) + ": \"" + key + "\" must be a string");
  return s->get();
}

// One [[chain]] table.
Result<ChainSpec> ParseChainTable(const std::string& path, const toml::table& t) {
  ChainSpec spec;
  bool has_table = false, has_genesis = false;
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    if (key == "fields") {
      const toml::array* a = node.as_array();
      if (a == nullptr) return InvalidArgument(At(path, node.source()) + ": \"fields\" must be an array of strings");
      spec.fields.clear();
      for (const toml::node& e : *a) {
        Result<std::string> f = StringValue(path, "fields", e);
        if (!f.ok()) return f.status();
        spec.fields.push_back(std::move(*f));
      }
      continue;
    }
    Result<std::string> v = StringValue(path, key, node);
    if (key == "table") {
      if (!v.ok()) return v.status();
      spec.table = v->find('.') == std::string::npos ? "public." + *v : *v;
      has_table = true;
    } else if (key == "seq_column" || key == "prev_column" || key == "hash_column" || key == "separator" ||
               key == "genesis" || key == "null_as") {
      if (!v.ok()) return v.status();
      std::string& field = key == "seq_column"    ? spec.seq_column
                           : key == "prev_column" ? spec.prev_column
                           : key == "hash_column" ? spec.hash_column
                           : key == "separator"   ? spec.separator
                           : key == "genesis"     ? spec.genesis
                                                  : spec.null_as;
      field = std::move(*v);
      has_genesis |= key == "genesis";
    } else if (key == "algorithm") {
      if (!v.ok()) return v.status();
      auto a = ChainAlgorithmFromName(*v);
      if (!a)
        return InvalidArgument(At(path, node.source()) + ": algorithm \"" + *v +
                               "\" is not sha256, sha512 or xxh3-128");
      spec.algorithm = *a;
    } else if (key == "encoding") {
      if (!v.ok()) return v.status();
      auto e = ChainEncodingFromName(*v);
      if (!e) return InvalidArgument(At(path, node.source()) + ": encoding \"" + *v + "\" is not hex, base64 or bytea");
      spec.encoding = *e;
    } else if (key == "timestamps") {
      if (!v.ok()) return v.status();
      auto r = TimestampRenderingFromName(*v);
      if (!r) {
        return InvalidArgument(At(path, node.source()) + ": timestamps \"" + *v +
                               "\" is not as-stored, iso-micros, iso-millis or iso-seconds");
      }
      spec.timestamps = *r;
    } else {
      return InvalidArgument(At(path, k.source()) + ": unknown key \"" + key + "\" in [[chain]] (keys: " + kKeyList +
                             ")");
    }
  }
  if (!has_table) return InvalidArgument(At(path, t.source()) + ": [[chain]] without \"table\"");
  if (!has_genesis) spec.genesis = DefaultGenesis(spec.algorithm, spec.encoding);
  Status valid = ValidateChainSpec(spec);
  if (!valid.ok()) return valid.WithContext(At(path, t.source()));
  return spec;
}

}  // namespace

Result<std::vector<ChainSpec>> LoadChainConfig(const std::string& path) {
  {
    std::ifstream probe(path);
    if (!probe) return IoError("cannot open chain config " + path + ": " + std::strerror(errno));
  }
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ":" +
                           std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  for (const auto& [k, node] : root) {
    if (k.str() != "chain") {
      return InvalidArgument(At(path, k.source()) + ": unknown key \"" + std::string(k.str()) +
                             "\" (a chain config holds [[chain]] tables)");
    }
  }
  const toml::node* chains = root.get("chain");
  if (chains == nullptr) return InvalidArgument(path + ": no [[chain]] table");
  const toml::array* list = chains->as_array();
  if (list == nullptr || !list->is_array_of_tables()) {
    return InvalidArgument(At(path, chains->source()) + ": \"chain\" must be an array of tables, written [[chain]]");
  }
  std::vector<ChainSpec> specs;
  std::set<std::string> tables;
  for (const toml::node& node : *list) {
    Result<ChainSpec> spec = ParseChainTable(path, *node.as_table());
    if (!spec.ok()) return spec.status();
    if (!tables.insert(spec->table).second) {
      return InvalidArgument(At(path, node.source()) + ": a second [[chain]] for table " + spec->table);
    }
    specs.push_back(std::move(*spec));
  }
  if (specs.empty()) return InvalidArgument(path + ": no [[chain]] table");
  return specs;
}

}  // namespace vouch
