#include "objects_compare.h"

#include <map>
#include <tuple>

#include "vouch/hashing/hex.h"

namespace vouch {
namespace {

// The last value a sequence handed out (before its first nextval: one
// increment before the value it will give), as a wide integer.
__int128 Position(int64_t last_value, bool is_called, int64_t increment) {
  return is_called ? static_cast<__int128>(last_value) : static_cast<__int128>(last_value) - increment;
}

std::string Who(const SourceInfo& s) { return s.location.empty() ? s.kind : s.location; }

}  // namespace

const char* SequenceStateName(SequenceState s) {
  switch (s) {
    case SequenceState::kNotCompared: return "not compared";
    case SequenceState::kEqual: return "equal";
    case SequenceState::kAhead: return "ahead";
    case SequenceState::kBehind: return "behind";
  }
  return "unknown";
}

std::string SequenceComparison::QualifiedName() const { return QualifiedTableName(schema, name); }

void CompareSequences(CompareReport& r) {
  const auto& e = r.expected.sequences;
  const auto& a = r.actual.sequences;
  if (r.expected.rows_only || r.actual.rows_only) {
    r.sequences_not_compared = "--rows-only";
    return;
  }
  if (!e || !a) {
    // Said only when the side that tells has some: a read of some tables
    // on both sides has nothing to say about them.
    if ((e && !e->empty()) || (a && !a->empty()))
      r.sequences_not_compared = std::string(!e ? Who(r.expected.source) : Who(r.actual.source)) +
                               " does not tell its sequences (a table selection, a shard, or a manifest before "
                               "version 3)";
    return;
  }
  r.sequences_compared = true;
  std::map<std::pair<std::string, std::string>, std::pair<const SequenceInfo*, const SequenceInfo*>> both;
  for (const auto& s : *e) both[{s.schema, s.name}].first = &s;
  for (const auto& s : *a) both[{s.schema, s.name}].second = &s;
  for (const auto& [key, pair] : both) {
    const auto [x, y] = pair;
    SequenceComparison c;
    c.schema = key.first;
    c.name = key.second;
    c.missing = y == nullptr;
    c.extra = x == nullptr;
    if (x) {
      c.expected_definition = x->fingerprint.empty() ? (x->has_definition ? x->DefinitionText() : "") : x->fingerprint;
      c.expected_last = x->last_value;
      c.expected_called = x->is_called;
    }
    if (y) {
      c.actual_definition = y->fingerprint.empty() ? (y->has_definition ? y->DefinitionText() : "") : y->fingerprint;
      c.actual_last = y->last_value;
      c.actual_called = y->is_called;
    }
    if (x && y) {
      // A manifest holds fingerprints only: compare those when either side is one.
      if (x->has_definition && y->has_definition) {
        c.definition_differs = (x->fingerprint.empty() && y->fingerprint.empty())
                                   ? c.expected_definition != c.actual_definition
                                   : x->DefinitionFingerprint() != y->DefinitionFingerprint();
      }
      if (x->has_state && y->has_state) {
        // The direction and the step before the first value come from a
        // side that knows the definition (a manifest or a --data-only dump
        // does not: ascending by one).
        const SequenceInfo* def = x->fingerprint.empty() && x->has_definition ? x
                                  : (y->fingerprint.empty() && y->has_definition ? y : nullptr);
        const int64_t inc = def ? def->increment : 1;
        const __int128 pe = Position(x->last_value, x->is_called, inc), pa = Position(y->last_value, y->is_called, inc);
        const __int128 diff = (pa - pe) * (inc < 0 ? -1 : 1);
        c.state = diff == 0 ? SequenceState::kEqual : diff > 0 ? SequenceState::kAhead : SequenceState::kBehind;
        const __int128 d = pa > pe ? pa - pe : pe - pa;
        c.distance = d > static_cast<__int128>(UINT64_MAX) ? UINT64_MAX : static_cast<uint64_t>(d);
      }
    }
    r.sequences.push_back(std::move(c));
  }
}

void CompareLargeObjects(CompareReport& r, size_t max_keys) {
  LargeObjectsComparison& c = r.large_objects;
  const auto& e = r.expected.large_objects;
  const auto& a = r.actual.large_objects;
  if (r.expected.rows_only || r.actual.rows_only) {
    c.not_compared = "--rows-only";
    return;
  }
  if (!e || !a) {
    if ((e && !e->empty()) || (a && !a->empty()))
      c.not_compared = std::string(!e ? Who(r.expected.source) : Who(r.actual.source)) +
                     " does not tell its large objects (a table selection, a shard, a --schema-only dump, or a "
                     "manifest before version 3)";
    return;
  }
  c.compared = true;
  c.expected_count = e->size();
  c.actual_count = a->size();
  auto hex = [](const DigestReport& d) {
    FinalLargeObjects f = d.LargeObjects();
    return f.count ? HexEncode(f.digest.data(), f.digest.size()) : std::string();
  };
  c.expected_digest = hex(r.expected);
  c.actual_digest = hex(r.actual);
  auto note = [&](std::vector<std::string>& list, std::string text) {
    if (list.size() < max_keys) list.push_back(std::move(text));
  };
  size_t i = 0, j = 0;  // both sorted by oid
  while (i < e->size() || j < a->size()) {
    if (j == a->size() || (i < e->size() && (*e)[i].oid < (*a)[j].oid)) {
      ++c.missing;
      note(c.missing_oids, std::to_string((*e)[i++].oid));
    } else if (i == e->size() || (*a)[j].oid < (*e)[i].oid) {
      ++c.extra;
      note(c.extra_oids, std::to_string((*a)[j++].oid));
    } else {
      const LargeObjectInfo &x = (*e)[i++], &y = (*a)[j++];
      std::string what;
      if (x.hash != y.hash) what = "content";
      if (x.owner != y.owner) {
        what += std::string(what.empty() ? "" : ", ") + "owner " + (x.owner.empty() ? "(none)" : x.owner) + " → " +
                (y.owner.empty() ? "(none)" : y.owner);
      }
      if (!what.empty()) {
        ++c.changed;
        note(c.changed_oids, std::to_string(x.oid) + " (" + what + ")");
      }
    }
  }
}

}  // namespace vouch
