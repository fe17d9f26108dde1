#include "render/restore.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "render/drill.h"

namespace vouch::cli {

std::string RestoreTestText(const RestoreTestReport& r, TableList list) {
  std::string out = fmt::format("vouch restore-test {}\n", r.backup);
  out += fmt::format("Verdict: {}\n",
                     r.Passed() ? "✅ PASS — restored, and the restored database holds the archive" : "❌ FAIL");
  out += fmt::format("Server: {} ({}), database {}\n\n", r.server_version, r.pg_bin, r.database);
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
  if (r.pg_restore_exit == 0 && r.pg_restore_errors.empty()) {
    out += "pg_restore: no error\n";
  } else {
    out += fmt::format("pg_restore: exit {}, {} error(s)\n", r.pg_restore_exit, r.pg_restore_errors.size());
    errors(r.pg_restore_errors);
  }
  out += "\n";
  if (r.drill) {
    out += DrillText(*r.drill, list);
  } else {
    out += "Not verified: the restore left no database to read.\n";
  }
  return out;
}

std::string RestoreTestJson(const RestoreTestReport& r) {
  nlohmann::ordered_json j;
  j["tool"] = "vouch restore-test";
  j["backup"] = r.backup;
  j["database"] = r.database;
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
  j["pg_restore"] = {{"exit", r.pg_restore_exit}, {"errors", r.pg_restore_errors}};
  j["drill"] = r.drill ? nlohmann::ordered_json::parse(DrillJson(*r.drill)) : nullptr;
  return j.dump(2) + "\n";
}

}  // namespace vouch::cli
