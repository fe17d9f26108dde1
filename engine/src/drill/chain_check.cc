#include "drill/chain_check.h"

#include "vouch/chain/link_verifier.h"

namespace vouch::drill {
namespace {

struct Chain {
  ChainCheck check;
  std::unique_ptr<LinkVerifier> verifier;
  std::unique_ptr<ChainContinuity> continuity;
  SeqGapTracker gaps;
  SeqWindow window;
};

struct ChainPlan final : CheckPlan {
  size_t chain = 0;
};

struct ChainPartial final : CheckPartial {
  LinkVerifier::Scratch scratch;
  std::vector<ChainLink> links;
  uint64_t bad_links = 0;
  std::vector<std::string> bad_link_samples;
  int64_t head_seq = std::numeric_limits<int64_t>::min();
  std::string head_hash;
  SeqWindow window;
};

std::string ChainFacts(const ChainCheck& c) {
  return Facts({{"found", c.found},
                {"entries", c.result.entries},
                {"link_failures", c.result.link_failures},
                {"breaks", c.result.continuity_breaks},
                {"duplicates", c.result.duplicates},
                {"unreadable_rows", c.bad_rows},
                {"suspicious_gaps", c.gaps.suspicious}});
}

class ChainRowCheck final : public RowCheck {
 public:
  explicit ChainRowCheck(const CheckOptions& options) : options_(options) {
    for (const auto& spec : options_.chains) {
      auto c = std::make_unique<Chain>();
      c->check.spec = spec;
      c->check.description = DescribeChainSpec(spec);
      chains_.push_back(std::move(c));
    }
  }

  Result<std::unique_ptr<CheckPlan>> Plan(const TableLayout& layout) override {
    const TableInfo& t = *layout.table;
    std::unique_ptr<ChainPlan> plan;
    // Two specs of one table: each is checked for fit, the last one that fits is verified.
    for (size_t ci = 0; ci < chains_.size(); ++ci) {
      Chain& c = *chains_[ci];
      const auto [schema, name] = ChainTableName(c.check.spec);
      if (!SameTable(t, schema, name)) continue;
      c.check.found = true;
      std::vector<bool> is_time(t.columns.size(), false);
      for (size_t i : layout.time_cols) is_time[i] = true;
      auto v = LinkVerifier::Make(c.check.spec, t.columns, is_time);
      if (!v.ok()) {
        c.check.error = v.status().message();
        continue;
      }
      c.verifier = std::make_unique<LinkVerifier>(std::move(v).value());
      c.continuity = std::make_unique<ChainContinuity>(c.verifier->HasGenesis(), c.verifier->GenesisFingerprint());
      c.continuity->SetMemoryLimit(options_.memory_limit / chains_.size(), options_.temp_dir);
      if (!plan) plan = std::make_unique<ChainPlan>();
      plan->chain = ci;
    }
    return std::unique_ptr<CheckPlan>(std::move(plan));
  }

  std::unique_ptr<CheckPartial> NewPartial(const CheckPlan&) const override { return std::make_unique<ChainPartial>(); }

  void Scan(const CheckPlan& p, const Row& row, CheckPartial& out) const override {
    const Chain& chain = *chains_[static_cast<const ChainPlan&>(p).chain];
    auto& part = static_cast<ChainPartial&>(out);
    ChainLink link;
    auto outcome = chain.verifier->Verify(row.text(), part.scratch, &link);
    if (outcome == LinkVerifier::kBadSeq || outcome == LinkVerifier::kFieldCount) {
      ++part.bad_links;
      if (part.bad_link_samples.size() < options_.max_samples) {
        part.bad_link_samples.push_back("row at uncompressed byte offset " + std::to_string(row.offset()) +
                                        (outcome == LinkVerifier::kBadSeq ? ": sequence value is NULL or not an integer"
                                                                          : ": wrong number of fields"));
      }
      return;
    }
    part.links.push_back(link);
    if (link.seq >= part.head_seq) {
      part.head_seq = link.seq;
      part.head_hash.assign(chain.verifier->StoredHash(row.text(), part.scratch));
    }
    if (row.InWindow()) part.window.Add(link.seq);
  }

  void Fold(const CheckPlan& p, CheckPartial& in, uint64_t) override {
    Chain& c = *chains_[static_cast<const ChainPlan&>(p).chain];
    auto& part = static_cast<ChainPartial&>(in);
    for (const ChainLink& l : part.links) {
      c.continuity->Add(l);
      c.gaps.Add(l.seq);
    }
    c.check.bad_rows += part.bad_links;
    for (auto& b : part.bad_link_samples) {
      if (c.check.bad_row_samples.size() < options_.max_samples) c.check.bad_row_samples.push_back(std::move(b));
    }
    if (!part.links.empty()) c.continuity->NoteHead(part.head_seq, part.head_hash);
    c.window.Merge(part.window);
  }

  Status Finish(const FinishContext&, SourceChecks& out) override {
    for (auto& c : chains_) {
      if (c->continuity) {
        c->check.result = c->continuity->Finish();
        if (!c->continuity->spill_status().ok()) return c->continuity->spill_status();
        c->check.gaps = c->gaps.Finish(SequenceGapOptions(options_, c->window));
      }
      out.chains.push_back(c->check);
    }
    return Status::Ok();
  }

  // On the restored copy; a source whose chain is already broken is named
  // too, as that is not the restore's fault.
  void Judge(const SourceChecks& restored, const SourceChecks& source, std::vector<DrillCheck>& out) const override {
    for (size_t i = 0; i < restored.chains.size(); ++i) {
      const ChainCheck& c = restored.chains[i];
      out.push_back({"Audit Chain", c.spec.table + " chain", c.Passed(), DrillSubject::kChain, i, ChainFacts(c)});
      if (i >= source.chains.size() || !source.ran) continue;
      const ChainCheck& sc = source.chains[i];
      if (sc.found && !sc.Passed() && !sc.SpecLooksWrong()) {
        out.push_back({"Audit Chain", c.spec.table + " chain in the source", false, DrillSubject::kSourceChain, i,
                       ChainFacts(sc)});
      }
    }
  }

 private:
  CheckOptions options_;
  std::vector<std::unique_ptr<Chain>> chains_;  // one per --chain spec
};

}  // namespace

std::unique_ptr<RowCheck> MakeChainCheck(const CheckOptions& options) {
  return std::make_unique<ChainRowCheck>(options);
}

}  // namespace vouch::drill
