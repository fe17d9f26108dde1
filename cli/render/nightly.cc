#include "render/nightly.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "render/kit.h"

namespace vouch::cli {
namespace {

std::string Hours(double seconds) { return Num(seconds / 3600, "%.1f h"); }

std::string ExistsDetail(const NightlyReport& r) {
  if (!r.repository.empty()) {
    if (r.newest.empty()) return "no backup in " + r.repository;
    return r.newest + " (" + std::to_string(r.newest_files) + " files, database " + Bytes(r.newest_bytes) + ")";
  }
  if (r.newest.empty()) {
    return "no backup in " + r.parent_dir + (r.name_pattern.empty() ? "" : " matching \"" + r.name_pattern + "\"");
  }
  return r.newest + (r.newest_is_dir ? " (directory, " + std::to_string(r.newest_files) + " files, " : " (") +
         Bytes(r.newest_bytes) + ")";
}

std::string SizeDetail(const NightlyReport& r) {
  if (r.previous.empty()) return Bytes(r.newest_bytes) + "; no previous backup to compare with";
  const double ratio =
      r.previous_bytes == 0 ? 1.0 : static_cast<double>(r.newest_bytes) / static_cast<double>(r.previous_bytes);
  return Bytes(r.newest_bytes) + ", " + Num(ratio, "%.2f× the previous backup's size") + " (" + r.previous + ", " +
         Bytes(r.previous_bytes) + "); at least " + Num(r.min_size_ratio, "%.2f×") + " expected";
}

std::string DecompressDetail(const NightlyCheck& c) {
  if (c.ok) return Bytes(c.file_bytes) + " decompressed to its end (" + Bytes(c.decoded_bytes) + ")";
  if (c.compression_mismatch) {
    return "not " + c.compression + " data (the file starts like " +
           (c.found_compression.empty() ? std::string("no known compression") : c.found_compression) + ")";
  }
  return c.damage;
}

// "complete": M of N present, the first missing named; or why nothing could
// be counted (a backup not DONE, a manifest that cannot be read).
std::string CompleteDetail(const NightlyCheck& c) {
  if (c.needed == 0) return c.damage;
  const bool wal = c.subject.rfind("WAL", 0) == 0;
  std::string d = std::to_string(c.matches) + " of " + std::to_string(c.needed) +
                  (wal ? " segments archived" : " files in the repository with their stored size");
  if (!c.damage.empty()) d += "; missing: " + c.damage;
  return d;
}

}  // namespace

std::string NightlyCheckDetail(const NightlyReport& r, const NightlyCheck& c) {
  switch (c.kind) {
    case NightlyCheck::Kind::kExists: return ExistsDetail(r);
    case NightlyCheck::Kind::kAge: return Hours(r.age_seconds) + " old (limit " + Hours(r.max_age_seconds) + ")";
    case NightlyCheck::Kind::kExpected:
      return c.matches > 0 ? std::to_string(c.matches) + " file" + (c.matches == 1 ? "" : "s") + " match"
                           : "no file matches";
    case NightlyCheck::Kind::kSize: return SizeDetail(r);
    case NightlyCheck::Kind::kDecompress: return DecompressDetail(c);
    case NightlyCheck::Kind::kComplete: return CompleteDetail(c);
  }
  return "";
}

std::string NightlyText(const NightlyReport& r) {
  std::ostringstream o;
  o << "Newest backup in " << r.parent_dir << (r.repository.empty() ? "" : " (" + r.repository + ")") << ": "
    << (r.newest.empty() ? "none" : r.newest) << "\n";
  for (const auto& c : r.checks) {
    o << Mark(c.ok) << " " << NightlyCheckName(c.kind);
    if (!c.subject.empty()) o << " " << c.subject;
    o << ": " << NightlyCheckDetail(r, c) << "\n";
  }
  const std::string secs = Num(r.seconds, "%.2f");
  if (r.outcome().Verified())
    o << "Status: ✅ PASSED (" << r.checks.size() << " checks, " << secs << " s)\n";
  else
    o << "Status: ❌ FAILED (" << r.Failed() << " of " << r.checks.size() << " checks failed, " << secs << " s)\n";
  return o.str();
}

std::string NightlyJson(const NightlyReport& r) {
  nlohmann::ordered_json j;
  j["parent_dir"] = r.parent_dir;
  if (!r.repository.empty()) j["repository"] = r.repository;
  j["ok"] = r.outcome().Verified();
  j["newest"] = r.newest;
  j["newest_is_dir"] = r.newest_is_dir;
  j["newest_mtime"] = r.newest_mtime;
  j["age_seconds"] = r.age_seconds;
  j["newest_bytes"] = r.newest_bytes;
  j["newest_files"] = r.newest_files;
  j["previous"] = r.previous;
  j["previous_bytes"] = r.previous_bytes;
  j["compressed_files"] = r.compressed_files;
  j["compressed_bytes"] = r.compressed_bytes;
  auto checks = nlohmann::ordered_json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"kind", NightlyCheckName(c.kind)},
                      {"ok", c.ok},
                      {"subject", c.subject},
                      {"detail", NightlyCheckDetail(r, c)}});
  }
  j["checks"] = checks;
  j["failed"] = r.Failed();
  j["seconds"] = r.seconds;
  j["finished_at"] = r.finished_at;
  return JsonDocument(j);
}

std::string NightlyPrometheus(const NightlyReport& r) {
  std::ostringstream o;
  const std::string label = PromLabel("dir", r.parent_dir);
  auto metric = [&](const char* name, const char* help, const std::string& value) {
    WriteGauge(o, name, help, label, value);
  };
  auto num = [](double v) { return Num(v, "%.3f"); };
  metric("vouch_nightly_backup_ok", "1 when every check of the newest backup passed, else 0.",
         r.outcome().Verified() ? "1" : "0");
  metric("vouch_nightly_backup_checks_failed", "Checks of the newest backup that failed.", std::to_string(r.Failed()));
  metric("vouch_nightly_backup_age_seconds", "Age of the newest backup.", num(r.newest.empty() ? 0 : r.age_seconds));
  metric("vouch_nightly_backup_bytes", "Size of the newest backup.", std::to_string(r.newest_bytes));
  metric("vouch_nightly_backup_size_ratio", "Size of the newest backup over the previous one's (1 without one).",
         num(r.previous_bytes ? static_cast<double>(r.newest_bytes) / static_cast<double>(r.previous_bytes) : 1.0));
  metric("vouch_nightly_backup_compressed_files", "Compressed files of the newest backup read to their end.",
         std::to_string(r.compressed_files));
  metric("vouch_nightly_backup_last_run_timestamp_seconds", "Unix time the check ran.", num(r.finished_at));
  return o.str();
}

}  // namespace vouch::cli
