#include "vouch/engine/schema_compare.h"

#include <map>

#include "vouch/hashing/hex.h"
#include "vouch/hashing/sha256.h"

namespace vouch {
namespace {

// Whether `o` takes part given what both sides hold.
bool Included(const SchemaObject& o, bool cluster, bool database_settings) {
  if (!o.Has(SchemaObject::kCluster)) return true;
  return o.IsDatabaseSetting() ? database_settings : cluster;
}

std::string Missing(const char* side) { return std::string("schema not in this source (the ") + side + ")"; }

}  // namespace

const char* SchemaDiffKindName(SchemaDiffKind k) {
  switch (k) {
    case SchemaDiffKind::kMissing: return "missing";
    case SchemaDiffKind::kExtra: return "extra";
    case SchemaDiffKind::kChanged: return "changed";
  }
  return "?";
}

std::vector<std::string> SchemaComparison::PresenceKinds() const {
  std::vector<std::string> out;
  for (const auto& k : kinds) {
    if (k.by_presence) out.push_back(k.kind);
  }
  return out;
}

SchemaComparison CompareSchemas(const SchemaCatalog* expected, const SchemaCatalog* actual) {
  SchemaComparison r;
  const bool e_has = expected != nullptr && expected->has_database_objects;
  const bool a_has = actual != nullptr && actual->has_database_objects;
  if (!e_has || !a_has) {
    r.not_compared = !e_has && !a_has ? Missing("source, nor in the restored copy")
                     : !e_has        ? Missing("source")
                                     : Missing("restored copy");
    return r;
  }
  r.compared = true;
  r.exact = expected->origin == "database" && actual->origin == "database";
  r.cluster_compared = expected->has_cluster_objects && actual->has_cluster_objects;
  if (!r.cluster_compared) {
    r.cluster_not_compared = std::string("cluster-wide objects (roles, memberships, tablespaces, settings) not in the ") +
                             (!expected->has_cluster_objects ? "source" : "restored copy") +
                             ": a dump holds none; give its pg_dumpall --globals-only file";
  }
  const bool db_settings = expected->has_database_settings && actual->has_database_settings;
  std::map<std::string, SchemaKindComparison, std::less<>> kinds;
  auto kind_of = [&](const SchemaObject& o) -> SchemaKindComparison& {
    auto& k = kinds[std::string(o.Kind())];
    k.kind = std::string(o.Kind());
    k.cluster = o.Has(SchemaObject::kCluster);
    return k;
  };
  const auto& e = expected->objects;
  const auto& a = actual->objects;
  size_t i = 0, j = 0;
  auto one_side = [&](const SchemaObject& o, SchemaDiffKind what) {
    if (!Included(o, r.cluster_compared, db_settings)) return;
    if (!r.exact && o.Has(SchemaObject::kOfChildTable)) {
      ++r.child_objects_not_in_dump;
      return;
    }
    auto& k = kind_of(o);
    ++k.compared;
    ++(what == SchemaDiffKind::kMissing ? k.missing : k.extra);
    r.differences.push_back({std::string(o.name), what});
  };
  while (i < e.size() || j < a.size()) {
    if (j == a.size() || (i < e.size() && e[i].name < a[j].name)) {
      one_side(e[i++], SchemaDiffKind::kMissing);
    } else if (i == e.size() || a[j].name < e[i].name) {
      one_side(a[j++], SchemaDiffKind::kExtra);
    } else {
      const SchemaObject& x = e[i++];
      const SchemaObject& y = a[j++];
      if (!Included(x, r.cluster_compared, db_settings)) continue;
      auto& k = kind_of(x);
      ++k.compared;
      bool same = true;
      if (r.exact && x.Has(SchemaObject::kHasExact) && y.Has(SchemaObject::kHasExact)) {
        same = x.exact == y.exact;
      } else if (x.Has(SchemaObject::kHasText) && y.Has(SchemaObject::kHasText)) {
        same = x.text == y.text;
      } else {
        k.by_presence = true;
      }
      if (!same) {
        ++k.changed;
        r.differences.push_back({std::string(x.name), SchemaDiffKind::kChanged});
      }
    }
  }
  for (auto& [name, k] : kinds) r.kinds.push_back(std::move(k));
  // Both sorted by table.
  const auto& eo = expected->column_orders;
  const auto& ao = actual->column_orders;
  for (size_t x = 0, y = 0; x < eo.size() && y < ao.size();) {
    if (eo[x].first < ao[y].first) {
      ++x;
    } else if (ao[y].first < eo[x].first) {
      ++y;
    } else {
      if (eo[x].second != ao[y].second) r.column_order_differs.push_back(eo[x].first);
      ++x;
      ++y;
    }
  }
  return r;
}

std::string SchemaValidationHash(const SchemaCatalog* c, bool with_cluster, bool with_database_settings) {
  if (c == nullptr || !c->has_database_objects) return {};
  Sha256 h;
  h.Update("vouch schema objects v1\n");
  for (const auto& o : c->objects) {
    if (o.Has(SchemaObject::kOfChildTable) || !Included(o, with_cluster, with_database_settings)) continue;
    h.Update(o.name);
    if (o.Has(SchemaObject::kHasText)) {
      h.Update(std::string_view("\0t", 2));
      h.Update(o.text.data(), o.text.size());
    } else {
      h.Update(std::string_view("\0p", 2));
    }
    h.Update("\n");
  }
  auto d = h.Finish();
  return HexEncode(d.data(), d.size());
}

}  // namespace vouch
