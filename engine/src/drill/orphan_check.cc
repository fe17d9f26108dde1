#include "drill/orphan_check.h"

#include <algorithm>
#include <map>
#include <shared_mutex>
#include <tuple>
#include <unordered_set>

#include "drill/spill_set.h"
#include "vouch/base/copy_text.h"
#include "vouch/engine/source.h"

namespace vouch::drill {
namespace {

// Orphan hashes kept for naming sample rows: enough for any sample, bounded
// whatever the number of orphans (the smallest hashes, so the same ones
// whatever the read order or memory limit).
constexpr size_t kMaxOrphanHashes = 100000;

struct Key {
  OrphanCheck check;
  std::unique_ptr<SpillSet> parents;   // parent key hashes, a set
  std::unique_ptr<SpillSet> children;  // non-NULL child reference hashes, a multiset
  bool child_seen = false, parent_seen = false;
  // The tables whose rows were the child's: the child itself, or the leaves
  // under a partitioned child (read again for samples).
  std::vector<std::string> child_tables;
  std::unordered_set<uint64_t> orphan_hashes;  // after Compare
};

using Refs = std::vector<std::pair<size_t, std::vector<size_t>>>;  // (Key index, COPY indexes)

struct OrphanPlan final : CheckPlan {
  Refs parents, children;
};

struct OrphanPartial final : CheckPartial {
  OrphanPartial(size_t parents, size_t children)
      : parent_hashes(parents), child_hashes(children), child_nulls(children) {}
  std::string keybuf;
  std::vector<std::vector<uint64_t>> parent_hashes;  // per OrphanPlan::parents
  std::vector<std::vector<uint64_t>> child_hashes;   // per OrphanPlan::children
  std::vector<uint64_t> child_nulls;
};

bool SameKey(const ForeignKey& k, const ForeignKey& o) {
  return std::tie(k.schema, k.table, k.columns, k.ref_schema, k.ref_table, k.ref_columns) ==
         std::tie(o.schema, o.table, o.columns, o.ref_schema, o.ref_table, o.ref_columns);
}

// Reads the child tables with orphans again and names sample rows whose
// reference is an orphan hash.
class OrphanSampler final : public RowObserver {
 public:
  OrphanSampler(std::vector<Key*> keys, size_t max_samples) : keys_(std::move(keys)), max_(max_samples) {}
  Status BeginSource(const TableStreamReader&) override { return Status::Ok(); }
  Status BeginTable(const TableInfo& t, uint32_t index) override;
  std::unique_ptr<Partial> Scan(const RowChunk& chunk) const override;
  void Fold(uint32_t, std::unique_ptr<Partial> partial) override {
    for (auto& [i, text] : static_cast<Found*>(partial.get())->rows) {
      auto& rows = collected_[i];
      rows.push_back(std::move(text));
      // Only the smallest max_ are kept in the end: drop the rest as they
      // pile up, so that a table of orphans does not sit in memory.
      if (rows.size() >= 2 * max_ + 64) Keep(rows);
    }
  }
  // Sorted, so that the samples do not depend on read order.
  void Store() {
    for (auto& [i, rows] : collected_) {
      Keep(rows);
      keys_[i]->check.samples = rows;
    }
  }

 private:
  void Keep(std::vector<std::string>& rows) const {
    std::sort(rows.begin(), rows.end());
    rows.resize(std::min(rows.size(), max_));
  }
  struct Found final : Partial {
    std::vector<std::pair<size_t, std::string>> rows;
  };
  struct Plan {
    const TableInfo* table;
    std::vector<size_t> key;
    Refs refs;
  };
  std::vector<Key*> keys_;
  size_t max_;
  mutable std::shared_mutex mu_;
  std::map<uint32_t, std::unique_ptr<Plan>> plans_;
  std::map<size_t, std::vector<std::string>> collected_;
};

Status OrphanSampler::BeginTable(const TableInfo& t, uint32_t index) {
  auto plan = std::make_unique<Plan>();
  plan->table = &t;
  for (const auto& k : t.key_columns) {
    if (auto i = ColumnIndex(t, k)) plan->key.push_back(*i);
  }
  for (size_t i = 0; i < keys_.size(); ++i) {
    const ForeignKey& fk = keys_[i]->check.fk;
    if (!OfTable(t, fk.schema, fk.table)) continue;
    std::vector<size_t> cols;
    for (const auto& c : fk.columns) {
      if (auto k = ColumnIndex(t, c)) cols.push_back(*k);
    }
    if (cols.size() == fk.columns.size()) plan->refs.emplace_back(i, std::move(cols));
  }
  std::unique_lock lock(mu_);
  plans_[index] = std::move(plan);
  return Status::Ok();
}

std::unique_ptr<RowObserver::Partial> OrphanSampler::Scan(const RowChunk& chunk) const {
  const Plan* plan;
  {
    std::shared_lock lock(mu_);
    auto it = plans_.find(chunk.table_index);
    if (it == plans_.end() || it->second->refs.empty()) return nullptr;
    plan = it->second.get();
  }
  auto found = std::make_unique<Found>();
  std::vector<std::string_view> f;
  std::string buf;
  ForEachRow(chunk, [&](std::string_view row) {
    SplitCopyRow(row, f);
    if (f.size() != plan->table->columns.size()) return true;
    for (const auto& [i, cols] : plan->refs) {
      bool is_null;
      uint64_t h = KeyHash(f, cols, buf, &is_null);
      if (!is_null && keys_[i]->orphan_hashes.contains(h)) {
        found->rows.emplace_back(i, DescribeRow(f, *plan->table, plan->key, cols));
      }
    }
    return true;
  });
  return found;
}

enum class Held { kYes, kNo, kLacksColumn };

// Whether the source's digest holds schema.table although none of its rows
// was read, with `cols`: a table with no rows, a partitioned table whose
// leaves have none, or one with no partition at all (then only its schema
// object says it is there, and not its columns).
Held HeldWithoutRows(const DigestReport* report, const std::string& schema, const std::string& table,
                     const std::vector<std::string>& cols) {
  if (report == nullptr) return Held::kNo;
  for (const TableResult& t : report->tables) {
    const bool leaf_under = std::any_of(t.partition_ancestors.begin(), t.partition_ancestors.end(),
                                        [&](const RelationName& a) { return a.schema == schema && a.name == table; });
    if (!leaf_under && !(t.schema == schema && t.name == table)) continue;
    for (const auto& c : cols) {
      if (std::find(t.columns.begin(), t.columns.end(), c) == t.columns.end()) return Held::kLacksColumn;
    }
    return Held::kYes;
  }
  if (report->schema) {
    const std::string name = "TABLE " + schema + "." + table;
    const auto& objects = report->schema->objects;
    auto it = std::lower_bound(objects.begin(), objects.end(), name,
                               [](const SchemaObject& o, const std::string& n) { return o.name < n; });
    if (it != objects.end() && it->name == name) return Held::kYes;
  }
  return Held::kNo;
}

// A key column the catalog names and the rows leave out: a generated
// column, whose values COPY (and so every dump) leaves out.
std::string NotInRows(const std::string& table, const std::string& columns) {
  return "the rows of " + table + " do not hold " + columns + " (a generated column: no COPY holds its values)";
}

class OrphanRowCheck final : public RowCheck {
 public:
  explicit OrphanRowCheck(const CheckOptions& options) : options_(options) {}

  Status Begin(const TableStreamReader& reader) override {
    std::vector<ForeignKey> fks;
    if (options_.catalog_fks) {
      if (const auto* known = reader.foreign_keys()) {
        fks = *known;
      } else {
        note_ =
            "the source names its foreign keys only after its data (a plain dump): only --fk relationships "
            "were checked";
      }
      for (const auto& o : options_.other_side_fks) {
        if (std::none_of(fks.begin(), fks.end(), [&](const ForeignKey& k) { return SameKey(k, o); })) fks.push_back(o);
      }
    }
    size_t catalog = fks.size();
    fks.insert(fks.end(), options_.declared_fks.begin(), options_.declared_fks.end());
    if (!budget_) budget_ = std::make_unique<SpillBudget>(options_.memory_limit, options_.temp_dir);
    for (size_t i = 0; i < fks.size(); ++i) {
      auto k = std::make_unique<Key>();
      k->check.fk = fks[i];
      k->check.declared = i >= catalog;
      k->parents = std::make_unique<SpillSet>(*budget_, /*unique=*/true);
      k->children = std::make_unique<SpillSet>(*budget_, /*unique=*/false);
      keys_.push_back(std::move(k));
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<CheckPlan>> Plan(const TableLayout& layout) override {
    const TableInfo& t = *layout.table;
    std::unique_ptr<OrphanPlan> plan;
    for (size_t ki = 0; ki < keys_.size(); ++ki) {
      Key& k = *keys_[ki];
      const ForeignKey& fk = k.check.fk;
      for (bool parent : {false, true}) {
        // A partitioned table's rows (parent keys or child references) are
        // its leaves'.
        if (!OfTable(t, parent ? fk.ref_schema : fk.schema, parent ? fk.ref_table : fk.table)) continue;
        std::vector<size_t> cols;
        for (const auto& c : parent ? fk.ref_columns : fk.columns) {
          auto i = ColumnIndex(t, c);
          if (!i) {
            if (k.check.declared) {
              return InvalidArgument("--fk: " + t.QualifiedName() + " has no column " + c + " (" +
                                     ColumnsList(t.columns) + ")");
            }
            // The catalog names the column, the rows do not hold it: its
            // values are generated, never copied.
            k.check.not_checkable = NotInRows(t.QualifiedName(), c);
            cols.clear();
            break;
          }
          cols.push_back(*i);
        }
        if (cols.empty()) continue;
        (parent ? k.parent_seen : k.child_seen) = true;
        if (!parent) k.child_tables.push_back(t.QualifiedName());
        if (!plan) plan = std::make_unique<OrphanPlan>();
        plan->needs_fields = true;
        (parent ? plan->parents : plan->children).emplace_back(ki, std::move(cols));
      }
    }
    return std::unique_ptr<CheckPlan>(std::move(plan));
  }

  std::unique_ptr<CheckPartial> NewPartial(const CheckPlan& p) const override {
    const auto& plan = static_cast<const OrphanPlan&>(p);
    return std::make_unique<OrphanPartial>(plan.parents.size(), plan.children.size());
  }

  void Scan(const CheckPlan& p, const Row& row, CheckPartial& out) const override {
    const auto& plan = static_cast<const OrphanPlan&>(p);
    auto& part = static_cast<OrphanPartial&>(out);
    bool null_ref;
    for (size_t k = 0; k < plan.parents.size(); ++k) {
      uint64_t h = KeyHash(row.fields(), plan.parents[k].second, part.keybuf, &null_ref);
      if (!null_ref) part.parent_hashes[k].push_back(h);
    }
    for (size_t k = 0; k < plan.children.size(); ++k) {
      uint64_t h = KeyHash(row.fields(), plan.children[k].second, part.keybuf, &null_ref);
      if (null_ref)
        ++part.child_nulls[k];
      else
        part.child_hashes[k].push_back(h);
    }
  }

  void Fold(const CheckPlan& p, CheckPartial& in, uint64_t) override {
    const auto& plan = static_cast<const OrphanPlan&>(p);
    auto& part = static_cast<OrphanPartial&>(in);
    for (size_t k = 0; k < plan.parents.size(); ++k) {
      Keep(*keys_[plan.parents[k].first]->parents, part.parent_hashes[k]);
    }
    for (size_t k = 0; k < plan.children.size(); ++k) {
      Key& key = *keys_[plan.children[k].first];
      Keep(*key.children, part.child_hashes[k]);
      key.check.null_refs += part.child_nulls[k];
    }
  }

  Status Finish(const FinishContext& context, SourceChecks& out) override {
    out.fk_note = note_;
    if (!spill_status_.ok()) return spill_status_.WithContext("orphan check");
    for (auto& k : keys_) VOUCH_RETURN_IF_ERROR(Compare(*k, context));
    // The key sets are done with: their memory and spill directory go now.
    for (auto& k : keys_) {
      k->parents.reset();
      k->children.reset();
    }
    budget_.reset();
    if (Status s = NameSamples(context); !s.ok()) return s;
    for (auto& k : keys_) out.orphans.push_back(k->check);
    return Status::Ok();
  }

  void Judge(const SourceChecks& restored, const SourceChecks&, std::vector<DrillCheck>& out) const override {
    for (size_t i = 0; i < restored.orphans.size(); ++i) {
      const OrphanCheck& f = restored.orphans[i];
      out.push_back(
          {"Referential Integrity", "orphans " + f.Name() + (f.declared ? " (declared)" : ""), f.Passed(),
           DrillSubject::kOrphans, i,
           Facts({{"checked", f.Checked()}, {"orphans", f.orphans}, {"child_rows", f.child_rows}})});
    }
  }

 private:
  // Into the key's set; a failure to spill is kept for Finish (Fold cannot
  // fail), and nothing more is kept after it.
  void Keep(SpillSet& set, const std::vector<uint64_t>& hashes) {
    if (spill_status_.ok()) spill_status_ = set.Append(hashes.data(), hashes.size());
  }

  // Counts the key's orphans (child references with no parent key), or says
  // why it was not checked: both sorted sets merged, in memory or from their
  // spilled runs alike. A side none of whose rows was read may still be
  // there without rows: a table with none, or a partitioned table with none
  // in its leaves (or no partition at all).
  Status Compare(Key& k, const FinishContext& context) {
    const DigestOptions& digest = context.digest;
    OrphanCheck& c = k.check;
    for (bool parent : {false, true}) {
      const std::string& schema = parent ? c.fk.ref_schema : c.fk.schema;
      const std::string& table = parent ? c.fk.ref_table : c.fk.table;
      if (!c.Checked() || (parent ? k.parent_seen : k.child_seen)) continue;
      if (!digest.filter.empty() && !digest.filter.Selects(schema, table)) {
        c.not_checked = "table " + QualifiedTableName(schema, table) + " is not selected (-t/-T/-n/-N)";
        continue;
      }
      const std::vector<std::string>& cols = parent ? c.fk.ref_columns : c.fk.columns;
      switch (HeldWithoutRows(context.report, schema, table, cols)) {
        case Held::kYes: break;
        case Held::kNo: c.not_checked = "the source has no table " + QualifiedTableName(schema, table); break;
        case Held::kLacksColumn:
          if (c.declared) {
            return InvalidArgument("--fk: " + QualifiedTableName(schema, table) + " has no column among " +
                                   ColumnsList(cols));
          }
          c.not_checkable = NotInRows(QualifiedTableName(schema, table), ColumnsList(cols));
          break;
      }
    }
    if (!c.Checked()) return Status::Ok();
    c.child_rows = k.children->appended() + c.null_refs;
    Status s = ProbeAbsent(*k.parents, *k.children, &c.parent_keys, [&](uint64_t h, uint64_t count) {
      c.orphans += count;
      if (k.orphan_hashes.size() < kMaxOrphanHashes) k.orphan_hashes.insert(h);
    });
    k.parents->Clear();
    k.children->Clear();
    return s.WithContext("orphans " + c.Name());
  }

  // Names sample orphaned rows by reading the child tables with orphans again.
  Status NameSamples(const FinishContext& context) {
    std::vector<Key*> with_orphans;
    std::vector<std::string> child_tables;
    for (auto& k : keys_) {
      if (k->check.orphans == 0) continue;
      with_orphans.push_back(k.get());
      for (const auto& name : k->child_tables) {
        if (std::find(child_tables.begin(), child_tables.end(), name) == child_tables.end()) child_tables.push_back(name);
      }
    }
    if (with_orphans.empty() || context.source == nullptr) return Status::Ok();
    OrphanSampler sampler(with_orphans, options_.max_samples);
    DigestOptions d = context.digest;
    d.observer = &sampler;
    d.filter = TableFilter();
    auto reader = context.source->Read(d, child_tables);
    if (!reader.ok()) return reader.status();
    auto r = DigestTables(**reader, d);
    if (!r.ok()) return r.status().WithContext("naming orphaned rows");
    sampler.Store();
    return Status::Ok();
  }

  CheckOptions options_;
  // Shared by every key's sets, declared first so they go before it.
  std::unique_ptr<SpillBudget> budget_;
  std::vector<std::unique_ptr<Key>> keys_;
  Status spill_status_;  // the first failure to spill
  std::string note_;     // SourceChecks::fk_note
};

}  // namespace

std::unique_ptr<RowCheck> MakeOrphanCheck(const CheckOptions& options) {
  return std::make_unique<OrphanRowCheck>(options);
}

}  // namespace vouch::drill
