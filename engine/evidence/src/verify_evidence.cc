#include "vouch/evidence/verify_evidence.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "files.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/manifest.h"
#include "vouch/evidence/signature.h"
#include "vouch/evidence/timestamp.h"
#include "vouch/hashing/final_hash.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/table_digest.h"
#include "vouch/hashing/u128.h"

namespace vouch::evidence {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The checks of one report, with a prefix ("database app: ") for a report
// that holds several drills.
class Checks {
 public:
  Checks(std::vector<EvidenceCheck>* out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}
  void Add(const std::string& name, bool passed, const std::string& detail) {
    out_->push_back({prefix_ + name, passed, detail});
  }

 private:
  std::vector<EvidenceCheck>* out_;
  std::string prefix_;
};

// A table entry of a drill or compare report whose two sides have the same
// rows and content hash.
bool SameContent(const json& t) {
  return !Str(t, "expected_content_hash").empty() && Str(t, "expected_content_hash") == Str(t, "actual_content_hash") &&
         t.value("expected_rows", uint64_t{0}) == t.value("actual_rows", uint64_t{0});
}

std::string ContentHashHexOf(uint64_t rows, const U128& sum) {
  const auto h = ContentHashOf(rows, sum);
  return HexEncode(h.data(), h.size());
}

// One side ("expected"/"actual" in a table entry) of a comparison's tables:
// each table's content hash from its rows and sum, and the FINAL hash from
// them, the chain heads and the large objects.
void CheckSide(const json& tables, const char* side, const std::vector<FinalChainEntry>& chains,
               const FinalLargeObjects& los, const std::string& stated, const std::string& label, Checks& checks) {
  const std::string rows_key = std::string(side) + "_rows", hash_key = std::string(side) + "_content_hash",
                    sum_key = std::string(side) + "_sum";
  std::vector<std::pair<std::string, std::string>> names;
  std::vector<std::pair<uint64_t, U128>> digests;
  std::string bad;
  size_t tables_checked = 0;
  for (const auto& t : tables) {
    const std::string hash = Str(t, hash_key.c_str());
    if (hash.empty()) continue;  // not on this side
    U128 sum;
    if (!t.contains(sum_key) || !U128::FromHex(Str(t, sum_key.c_str()), &sum)) {
      checks.Add("content hashes (" + label + ")", false,
                 Str(t, "table") + ": no " + sum_key + " (a report written before vouch recorded sums)");
      return;
    }
    const uint64_t rows = t.value(rows_key, uint64_t{0});
    if (ContentHashHexOf(rows, sum) != hash && bad.empty()) {
      bad = Str(t, "table") + ": its content hash " + hash + " is not that of its rows and sum";
    }
    ++tables_checked;
    names.emplace_back(Str(t, "schema"), Str(t, "name"));
    digests.emplace_back(rows, sum);
  }
  checks.Add(
      "content hashes (" + label + ")", bad.empty(),
      bad.empty() ? std::to_string(tables_checked) + " tables' content hashes follow from their rows and sums" : bad);
  std::vector<FinalTableEntry> entries;
  for (size_t i = 0; i < names.size(); ++i)
    entries.push_back({names[i].first, names[i].second, digests[i].first, digests[i].second});
  const Sha256Digest f = FinalValidationHash(std::move(entries), chains, los);
  const std::string recomputed = HexEncode(f.data(), f.size());
  checks.Add("final hash (" + label + ")", recomputed == stated,
             recomputed == stated ? "FINAL_VALIDATION_HASH " + stated + " recomputes"
                                  : "the report says " + stated + ", its tables give " + recomputed);
}

// The chain heads that count in a drill side's final hash: every chain
// found and read without error, when both sides read their rows.
std::vector<FinalChainEntry> ChainsOf(const json& chains) {
  std::vector<FinalChainEntry> out;
  for (const auto& c : chains) {
    if (!c.value("found", false) || !Str(c, "error").empty()) continue;
    const std::string table = Str(c, "table");
    const size_t dot = table.find('.');
    std::string head = Str(c, "head_hash");
    if (auto raw = HexDecode(head)) head = *raw;
    out.push_back({dot == std::string::npos ? "public" : table.substr(0, dot),
                   dot == std::string::npos ? table : table.substr(dot + 1), std::move(head),
                   c.value("entries", uint64_t{0})});
  }
  return out;
}

FinalLargeObjects LargeObjectsOf(const json& report, const char* side) {
  FinalLargeObjects los;
  if (report.value("rows_only", false) || !report.contains("large_objects")) return los;
  const json& s = report.at("large_objects").at(side);
  los.count = s.value("count", uint64_t{0});
  if (los.count > 0) {
    auto raw = HexDecode(Str(s, "digest"));
    if (raw && raw->size() == los.digest.size()) std::copy(raw->begin(), raw->end(), los.digest.begin());
  }
  return los;
}

// A drill report (drill --format json, or a database of a restore-test's).
void CheckDrill(const json& d, Checks& checks) {
  const json& tables = d.at("tables");
  // Each table's match from its rows and hashes, and its content check.
  std::string bad;
  std::map<std::string, bool> content_check;
  for (const auto& c : d.at("checks")) {
    const std::string name = Str(c, "name");
    if (name.size() > 8 && name.ends_with(" content"))
      content_check[name.substr(0, name.size() - 8)] = c.value("passed", false);
  }
  for (const auto& t : tables) {
    const bool same = SameContent(t);
    const bool match = t.value("match", false);
    if (match && !same && bad.empty()) bad = Str(t, "table") + " is marked a match, but its rows or hashes differ";
    if (match != (Str(t, "status") == "MATCH") && bad.empty())
      bad = Str(t, "table") + ": its status and match disagree";
    auto it = content_check.find(Str(t, "table"));
    if (it != content_check.end() && it->second != match && bad.empty()) {
      bad = Str(t, "table") + ": its content check says " + (it->second ? "passed" : "failed") + ", the table " +
            (match ? "matches" : "does not match");
    }
  }
  checks.Add(
      "tables", bad.empty(),
      bad.empty() ? std::to_string(tables.size()) + " tables: each match follows from its rows and hashes" : bad);
  // Each side's final hash, with the chain heads when both sides read rows.
  const bool ran =
      d.at("checks_run").at("source").value("ran", false) && d.at("checks_run").at("restored").value("ran", false);
  const json& f = d.at("final_validation_hash");
  CheckSide(tables, "expected", ran ? ChainsOf(d.at("chains").at("source")) : std::vector<FinalChainEntry>{},
            LargeObjectsOf(d, "source"), Str(f, "source"), "source", checks);
  CheckSide(tables, "actual", ran ? ChainsOf(d.at("chains").at("restored")) : std::vector<FinalChainEntry>{},
            LargeObjectsOf(d, "restored"), Str(f, "restored"), "restored", checks);
  const bool equal = !Str(f, "source").empty() && Str(f, "source") == Str(f, "restored");
  checks.Add(
      "final hash match", f.value("match", !equal) == equal,
      f.value("match", !equal) == equal
          ? std::string(equal ? "the final hashes are equal, and said so" : "the final hashes differ, and said so")
          : "the report says match = " + f.at("match").dump() + " for " + Str(f, "source") + " and " + Str(f, "restored"));
  // The verdict from the checks.
  size_t failed = 0;
  for (const auto& c : d.at("checks")) failed += c.value("passed", false) ? 0 : 1;
  const size_t total = d.at("checks").size();
  const bool passed = d.value("passed", false);
  const json& s = d.at("summary");
  std::string verdict;  // what does not hold, "; " between
  auto problem = [&](const std::string& p) { verdict += (verdict.empty() ? "" : "; ") + p; };
  if (passed && failed > 0) problem("the verdict is PASS, but " + std::to_string(failed) + " checks failed");
  if (s.value("failed", size_t{0}) != failed || s.value("checks", size_t{0}) != total) {
    problem("the summary counts " + s.at("failed").dump() + " of " + s.at("checks").dump() +
            " checks failed; the checks: " + std::to_string(failed) + " of " + std::to_string(total));
  }
  if (passed != (Str(s, "verdict").find("PASS") != std::string::npos)) problem("passed and the verdict line disagree");
  checks.Add("verdict", verdict.empty(),
             verdict.empty() ? std::string(passed ? "PASS" : "FAIL") + ", " + std::to_string(failed) + " of " +
                                   std::to_string(total) + " checks failed"
                             : verdict);
}

// A compare report: each table's match, the final hashes, the verdict.
void CheckCompare(const json& c, Checks& checks) {
  const json& tables = c.at("tables");
  bool all_match = true;
  std::string bad;
  for (const auto& t : tables) {
    const bool same = SameContent(t);
    if (t.value("match", false) && !same && bad.empty()) bad = Str(t, "table") + " is marked a match, but differs";
    all_match = all_match && t.value("match", false);
  }
  checks.Add("tables", bad.empty(), bad.empty() ? "each match follows from its rows and hashes" : bad);
  CheckSide(tables, "expected", {}, LargeObjectsOf(c, "source"), Str(c.at("expected"), "final_validation_hash"),
            "expected", checks);
  CheckSide(tables, "actual", {}, LargeObjectsOf(c, "restored"), Str(c.at("actual"), "final_validation_hash"), "actual",
            checks);
  const bool said = c.value("match", false);
  checks.Add("verdict", !said || all_match,
             !said || all_match ? std::string(said ? "match" : "no match") : "match is claimed, but a table differs");
}

}  // namespace

bool EvidenceReport::Passed() const {
  return !checks.empty() && std::all_of(checks.begin(), checks.end(), [](const EvidenceCheck& c) { return c.passed; });
}

Result<EvidenceReport> VerifyEvidence(const std::string& report, const std::string& public_key,
                                      const std::string& signature, const std::string& tsa_ca) {
  EvidenceReport out;
  out.report = report;
  auto read = ReadWholeFile(report);
  if (!read.ok()) return read.status();
  const std::string bytes = std::move(read).value();
  Checks top(&out.checks, "");
  bool has_sig = false, has_token = false;
  const std::string sig = ReadFileIfAny(signature, &has_sig);
  if (!has_sig) {
    top.Add("signature", false, signature + ": no signature (sign with --sign KEY)");
  } else {
    Status st = VerifySignature(public_key, bytes, sig);
    if (!st.ok() && st.code() != StatusCode::kCorrupt) return st;  // the key cannot be read
    top.Add("signature", st.ok(), st.ok() ? "Ed25519, " + public_key : st.message());
  }
  const std::string token = ReadFileIfAny(report + ".tsr", &has_token);
  if (has_token || !tsa_ca.empty()) {
    std::string when;
    Status st = !has_token       ? Corrupt(report + ".tsr: no timestamp (take one with --tsa-url)")
                : tsa_ca.empty() ? Corrupt(report + ".tsr is there: give --tsa-ca to check it")
                                 : VerifyTimestamp(bytes, token, tsa_ca, &when);
    if (!st.ok() && st.code() != StatusCode::kCorrupt) return st;
    top.Add("timestamp", st.ok(), st.ok() ? "RFC 3161, " + when + ", " + tsa_ca : st.message());
  }
  const json j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    top.Add("report", false, "not JSON: a report is signed and verified as JSON (--format json)");
    return out;
  }
  if (j.contains("digest") && j.at("digest").is_object() && j.contains("tables")) {
    out.kind = "manifest";
    auto m = LoadManifest(report);
    top.Add("digests", m.ok(),
            m.ok() ? std::to_string(m->tables.size()) +
                         " tables' content hashes, the FINAL_VALIDATION_HASH and the schema hash recompute"
                   : m.status().message());
    return out;
  }
  try {
    if (Str(j, "tool") == "vouch restore-test") {
      out.kind = "restore-test report";
      bool all = true;
      for (const auto& db : j.at("databases")) {
        Checks each(&out.checks, "database " + Str(db, "database") + ": ");
        if (db.at("drill").is_null()) {
          each.Add("drill", false, "not read");
          all = false;
          continue;
        }
        CheckDrill(db.at("drill"), each);
        all = all && db.at("drill").value("passed", false);
      }
      // The RTO is the phases' sum, checked against its target; a restore
      // that failed (recovery failures, pg_restore or globals errors) or
      // missed its RTO does not pass.
      double sum = 0;
      for (const auto& ph : j.at("phases")) sum += ph.at("seconds").get<double>();
      const double rto = j.at("rto_seconds").get<double>();
      const json& target = j.at("rto_target_seconds");
      const bool rto_met = target.is_null() || rto <= target.get<double>();
      top.Add(
          "RTO", std::abs(sum - rto) <= 1e-3 * std::max(1.0, rto),
          std::abs(sum - rto) <= 1e-3 * std::max(1.0, rto)
              ? "the phases add up to the RTO, " + std::to_string(rto) + " s"
              : "the report says " + std::to_string(rto) + " s, its phases add up to " + std::to_string(sum) + " s");
      bool clean = j.at("globals").at("errors").empty();
      if (j.contains("recovery")) clean = clean && j.at("recovery").at("failures").empty();
      if (j.contains("pg_restore")) {
        clean = clean && j.at("pg_restore").at("exit").get<int>() == 0 && j.at("pg_restore").at("errors").empty();
      }
      const bool passed = j.value("passed", false);
      std::string bad;
      if (passed && !(all && !j.at("databases").empty())) bad = "PASS, but a database's drill did not pass";
      if (passed && !clean) bad = "PASS, but the restore lists failures or errors";
      if (passed && !rto_met) bad = "PASS, but the RTO misses its target";
      top.Add("verdict", bad.empty(), bad.empty() ? std::string(passed ? "PASS" : "FAIL") : bad);
    } else if (j.contains("checks") && j.contains("final_validation_hash") && j.contains("summary")) {
      out.kind = "drill report";
      CheckDrill(j, top);
    } else if (j.contains("expected") && j.contains("actual") && j.contains("tables")) {
      out.kind = "compare report";
      CheckCompare(j, top);
    } else if (j.contains("dir") && j.contains("findings") && j.contains("verified") && j.contains("files_listed")) {
      // A backup's report: the verdict from its findings and what it could
      // not check (the files' checksums themselves are the backup's).
      out.kind = "backup report";
      const bool findings = !j.at("findings").empty(), unverified = !j.at("unverified").empty();
      const bool verified = j.at("verified").get<bool>(), complete = j.at("complete").get<bool>();
      std::string bad;
      if (verified && (findings || unverified))
        bad = "verified is claimed, but the report lists findings or checks not made";
      if (complete == unverified) bad = "complete disagrees with the checks it lists as not made";
      top.Add("verdict", bad.empty(),
              bad.empty() ? std::string(verified ? "verified" : "not verified") + ", " +
                                std::to_string(j.at("findings").size()) + " findings"
                          : bad);
      if (j.at("files_verified").get<uint64_t>() > j.at("files_listed").get<uint64_t>()) {
        top.Add("files", false, "more files verified than the manifest lists");
      }
    } else {
      out.kind = "report";
      top.Add("content", false, "a report of a kind verify-evidence cannot recompute: only its signature was checked");
    }
  } catch (const json::exception& e) {
    top.Add("report", false, std::string("malformed: ") + e.what());
  }
  return out;
}

}  // namespace vouch::evidence
