#include "render/restore.h"

#include <fmt/format.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "render/drill.h"

namespace vouch::cli {
namespace {

// The WAL replay rate: the bytes replayed over the "WAL replay" phase (from
// a consistent state to the target); none without that phase or bytes.
std::optional<double> ReplayMbPerSecond(const RestoreTestReport& r) {
  if (!r.recovery || r.recovery->replayed_bytes == 0) return std::nullopt;
  for (const auto& p : r.phases) {
    if (p.name == "WAL replay" && p.us > 0) return r.recovery->replayed_bytes / 1048576.0 / (p.us / 1e6);
  }
  return std::nullopt;
}

std::string RecoveryText(const RecoveryReport& rec, std::optional<int64_t> rpo_us, std::optional<double> rate) {
  std::string out = "Recovery\n";
  out += fmt::format("  WAL archive    {}\n", rec.wal_archive);
  out += fmt::format("  target         {}\n", rec.target);
  out += fmt::format("  from           {} (the backup's start)\n", rec.start_lsn);
  if (!rec.end_lsn.empty()) out += fmt::format("  redo done at   {}\n", rec.end_lsn);
  if (!rec.stop.empty()) out += fmt::format("  stopped        {}\n", rec.stop);
  out += fmt::format("  WAL replayed   {:.1f} MB in {} segments; {} segments staged ({} decompressed)",
                     rec.replayed_bytes / 1048576.0, rec.segments_replayed, rec.segments_staged,
                     rec.segments_decompressed);
  out += rate ? fmt::format(", {:.1f} MB/s over the WAL replay phase\n", *rate) : "\n";
  if (!rec.last_commit.empty()) out += fmt::format("  last commit    {}\n", rec.last_commit);
  for (const auto& u : rec.unlogged) {
    out += fmt::format("  unlogged       {}: empty after a physical restore, by design; expected empty\n", u);
  }
  if (!rec.source_latest.empty()) {
    out += fmt::format("  source latest  {} ({})\n", rec.source_latest, rec.source_latest_from);
  }
  if (rpo_us)
    out += fmt::format("  RPO            {} (the source's latest commit minus the last commit replayed)\n",
                       FormatDurationUs(*rpo_us));
  return out + "\n";
}

nlohmann::ordered_json RecoveryJson(const RecoveryReport& rec, std::optional<int64_t> rpo_us,
                                    std::optional<double> rate) {
  return {{"wal_archive", rec.wal_archive},
          {"target", rec.target},
          {"start_lsn", rec.start_lsn},
          {"end_lsn", rec.end_lsn},
          {"stop", rec.stop},
          {"last_commit", rec.last_commit},
          {"source_latest", rec.source_latest},
          {"source_latest_from", rec.source_latest_from},
          {"replayed_bytes", rec.replayed_bytes},
          {"segments_replayed", rec.segments_replayed},
          {"segments_staged", rec.segments_staged},
          {"segments_decompressed", rec.segments_decompressed},
          {"replay_mb_per_second", rate ? nlohmann::ordered_json(*rate) : nullptr},
          {"unlogged_tables_expected_empty", rec.unlogged},
          {"rpo_seconds", rpo_us ? nlohmann::ordered_json(*rpo_us / 1e6) : nullptr},
          {"failures", rec.failures}};
}

// "a, b, c"
std::string DatabaseNames(const RestoreTestReport& r) {
  std::string out;
  for (size_t i = 0; i < r.databases.size(); ++i) out += (i ? ", " : "") + r.databases[i].name;
  return out;
}

// "database d" or "databases a, b, c".
std::string DatabasesText(const RestoreTestReport& r) {
  return (r.databases.size() == 1 ? "database " : "databases ") + DatabaseNames(r);
}

// Each database's drill, under a heading of its own when there are several;
// `drill` renders one, `heading` the line above it.
std::string EachDrill(const RestoreTestReport& r, const std::function<std::string(const DrillReport&)>& drill,
                      const std::function<std::string(const RestoredDatabase&)>& heading) {
  if (r.databases.empty()) return "Not verified: the restore left no database to read.\n";
  std::string out;
  for (const auto& db : r.databases) {
    if (r.databases.size() > 1) out += heading(db);
    out += db.drill ? drill(*db.drill) : "Not verified: database " + db.name + " could not be read.\n";
  }
  return out;
}

}  // namespace

std::string RestoreTestText(const RestoreTestReport& r, TableList list) {
  std::string out = fmt::format("vouch restore-test {}\n", r.backup);
  out += fmt::format(
      "Verdict: {}\n",
      r.Passed() ? (r.recovery ? "✅ PASS — recovered to the target, and the restored database holds the expected data"
                               : "✅ PASS — restored, and the restored database holds the archive")
                 : "❌ FAIL");
  out += fmt::format("Server: {} ({}), {}\n\n", r.server_version, r.pg_bin, DatabasesText(r));
  if (r.recovery) out += RecoveryText(*r.recovery, r.rpo_us, ReplayMbPerSecond(r));
  out += "Restore phases\n";
  for (const auto& p : r.phases) out += fmt::format("  {:<14} {:>12}\n", p.name, FormatDurationUs(p.us));
  out += fmt::format("  {:<14} {:>12}", "RTO (total)", FormatDurationUs(r.rto_us));
  if (r.rto_target_us) {
    out += fmt::format("   target {}: {}", FormatDurationUs(*r.rto_target_us), r.RtoMet() ? "met" : "MISSED");
  }
  out += "\n\n";
  // The first errors, each with its statement indented under it.
  auto errors = [&](const std::vector<std::string>& list) {
    constexpr size_t kShown = 20;
    for (size_t i = 0; i < list.size() && i < kShown; ++i) {
      std::string e = list[i];
      for (size_t at = e.find('\n'); at != std::string::npos; at = e.find('\n', at + 1)) e.insert(at + 1, "    ");
      out += "  - " + e + "\n";
    }
    if (list.size() > kShown)
      out += fmt::format("  … and {} more (--format json lists them all)\n", list.size() - kShown);
  };
  if (!r.globals_errors.empty()) {
    out += fmt::format("globals: {} error(s)\n", r.globals_errors.size());
    errors(r.globals_errors);
  }
  if (r.recovery) {
    if (r.recovery->failures.empty()) out += "Recovery: no failure\n";
    if (!r.recovery->failures.empty()) {
      out += fmt::format("Recovery: {} failure(s)\n", r.recovery->failures.size());
      errors(r.recovery->failures);
    }
  } else if (r.pg_restore_exit == 0 && r.pg_restore_errors.empty()) {
    out += "pg_restore: no error\n";
  } else {
    out += fmt::format("pg_restore: exit {}, {} error(s)\n", r.pg_restore_exit, r.pg_restore_errors.size());
    errors(r.pg_restore_errors);
  }
  out += "\n";
  out += EachDrill(
      r, [&](const DrillReport& d) { return DrillText(d, list); },
      [](const RestoredDatabase& db) { return fmt::format("== Database {} (against {})\n", db.name, db.expect); });
  return out;
}

std::string RestoreTestJson(const RestoreTestReport& r) {
  nlohmann::ordered_json j;
  j["tool"] = "vouch restore-test";
  j["backup"] = r.backup;
  j["kind"] = r.kind;
  j["server_version"] = r.server_version;
  j["pg_bin"] = r.pg_bin;
  j["passed"] = r.Passed();
  nlohmann::ordered_json phases = nlohmann::ordered_json::array();
  for (const auto& p : r.phases) phases.push_back({{"name", p.name}, {"seconds", p.us / 1e6}});
  j["phases"] = phases;
  j["rto_seconds"] = r.rto_us / 1e6;
  j["rto_target_seconds"] = r.rto_target_us ? nlohmann::ordered_json(*r.rto_target_us / 1e6) : nullptr;
  j["globals"] = {{"file", r.globals.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.globals)},
                  {"errors", r.globals_errors}};
  if (r.recovery) {
    j["recovery"] = RecoveryJson(*r.recovery, r.rpo_us, ReplayMbPerSecond(r));
  } else {
    j["pg_restore"] = {{"exit", r.pg_restore_exit}, {"errors", r.pg_restore_errors}};
  }
  nlohmann::ordered_json databases = nlohmann::ordered_json::array();
  for (const auto& db : r.databases) {
    databases.push_back(
        {{"database", db.name},
         {"expect", db.expect.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(db.expect)},
         {"drill", db.drill ? nlohmann::ordered_json::parse(DrillJson(*db.drill)) : nullptr}});
  }
  j["databases"] = databases;
  return j.dump(2) + "\n";
}

std::string RestoreTestMarkdown(const RestoreTestReport& r, TableList list) {
  std::string out = "# Restore Test Report\n\n";
  out += fmt::format("- **Backup:** `{}`\n", r.backup);
  out += fmt::format("- **Verdict:** {}\n", r.Passed() ? "✅ PASS" : "❌ FAIL");
  out += fmt::format("- **Server:** {} (`{}`), {}\n\n", r.server_version, r.pg_bin, DatabasesText(r));
  out += "## Recovery Time (measured)\n\n| Phase | Time |\n|---|---:|\n";
  for (const auto& p : r.phases) out += fmt::format("| {} | {} |\n", p.name, FormatDurationUs(p.us));
  out += fmt::format("| **RTO (total)** | **{}** |\n\n", FormatDurationUs(r.rto_us));
  if (r.rto_target_us) {
    out += fmt::format("RTO target {}: {}\n\n", FormatDurationUs(*r.rto_target_us), r.RtoMet() ? "✅ met" : "❌ missed");
  }
  if (r.recovery) out += "## Recovery\n\n```\n" + RecoveryText(*r.recovery, r.rpo_us, ReplayMbPerSecond(r)) + "```\n\n";
  out += "## Restore Errors\n\n";
  if (r.RestoreClean())
    out += r.recovery ? "None: recovery reached its target.\n\n"
                      : "None: the globals and pg_restore ran without an error.\n\n";
  if (r.recovery) {
    for (const auto& e : r.recovery->failures) out += "```\n" + e + "\n```\n";
  }
  for (const auto* list_of : {&r.globals_errors, &r.pg_restore_errors}) {
    for (const auto& e : *list_of) out += "```\n" + e + "\n```\n";
  }
  out += "\n";
  out += EachDrill(
      r, [&](const DrillReport& d) { return DrillMarkdown(d, list); },
      [](const RestoredDatabase& db) {
        return fmt::format("\n# Database `{}` (against `{}`)\n\n", db.name, db.expect);
      });
  return out;
}

std::string RestoreTestJUnit(const RestoreTestReport& r) {
  std::vector<std::pair<std::string, std::string>> cases;  // name, failure ("" when passed)
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : "\n") + e;
    return out;
  };
  if (!r.globals.empty()) cases.push_back({"globals", join(r.globals_errors)});
  if (r.recovery) {
    cases.push_back({"recovery", join(r.recovery->failures)});
  } else {
    cases.push_back({"pg_restore", r.pg_restore_exit == 0 && r.pg_restore_errors.empty()
                                       ? std::string()
                                       : fmt::format("exit {}: {}", r.pg_restore_exit, join(r.pg_restore_errors))});
  }
  if (r.rto_target_us) {
    cases.push_back({"RTO", r.RtoMet() ? std::string()
                                       : fmt::format("{} over the target {}", FormatDurationUs(r.rto_us),
                                                     FormatDurationUs(*r.rto_target_us))});
  }
  if (r.databases.empty()) cases.push_back({"verify", "the restore left no database to read"});
  for (const auto& db : r.databases) {
    if (!db.drill) cases.push_back({"verify " + db.name, "database " + db.name + " could not be read"});
  }
  size_t failures = 0;
  for (const auto& c : cases) failures += c.second.empty() ? 0 : 1;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  out +=
      fmt::format("<testsuite name=\"vouch restore-test\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                  cases.size(), failures, r.rto_us / 1e6);
  out += fmt::format(
      "  <properties>\n    <property name=\"backup\" value=\"{}\"/>\n    <property name=\"database\" "
      "value=\"{}\"/>\n",
      Xml(r.backup), Xml(DatabaseNames(r)));
  for (const auto& p : r.phases) {
    out += fmt::format("    <property name=\"phase {}\" value=\"{:.3f} s\"/>\n", Xml(p.name), p.us / 1e6);
  }
  out += "  </properties>\n";
  for (const auto& [name, failure] : cases) {
    out += fmt::format("  <testcase classname=\"vouch.restore-test\" name=\"{}\"", Xml(name));
    if (failure.empty()) {
      out += "/>\n";
    } else {
      out += fmt::format(">\n    <failure message=\"{}\" type=\"restore\">{}</failure>\n  </testcase>\n",
                         Xml(failure.substr(0, failure.find('\n'))), Xml(failure));
    }
  }
  out += "</testsuite>\n";
  for (const auto& db : r.databases) {
    if (!db.drill) continue;
    std::string drill = DrillJUnit(*db.drill);
    out += drill.substr(drill.find("?>\n") + 3);  // without its XML declaration
  }
  return out + "</testsuites>\n";
}

}  // namespace vouch::cli
