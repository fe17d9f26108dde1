// Text, JSON and Prometheus renderings of a BackupVerification.
#include "render/backup.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "render/kit.h"
#include "vouch/backup/verify_backup.h"
#include "vouch/readers/wal.h"

namespace vouch::cli {
namespace {

std::map<std::string, uint64_t> KindCounts(const BackupVerification& v) {
  std::map<std::string, uint64_t> m;
  for (const auto& f : v.findings) ++m[std::string(FindingKindName(f.kind))];
  return m;
}

uint64_t CountOf(const std::map<std::string, uint64_t>& m, std::initializer_list<const char*> kinds) {
  uint64_t n = 0;
  for (const char* k : kinds) {
    auto it = m.find(k);
    if (it != m.end()) n += it->second;
  }
  return n;
}

constexpr size_t kTextFindings = 100;

// Findings as the backup reports' JSON lists them: kind, path, detail.
nlohmann::ordered_json FindingsJson(const std::vector<Finding>& findings) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    out.push_back({{"kind", FindingKindName(f.kind)}, {"path", f.subject}, {"detail", f.detail}});
  }
  return out;
}

using Kinds = std::map<std::string, uint64_t>;

// The manifest's line and the files' line.
void TextManifestAndFiles(std::ostream& o, const BackupVerification& v, const Kinds& kinds) {
  // Manifest.
  const uint64_t manifest_findings = CountOf(kinds, {"manifest", "sysid"});
  if (v.format == "pgbackrest") {
    o << Mark(manifest_findings == 0 && v.manifest_version != 0) << " backup.manifest (pgBackRest): ";
    if (v.manifest_version == 0) {
      o << "not usable\n";
    } else {
      o << GroupThousands(v.files_listed) << " files listed, backrest-checksum verified\n";
    }
  } else if (!v.no_manifest.empty()) {
    o << Mark(manifest_findings == 0) << " backup_manifest: none (" << v.no_manifest
      << "): every file read to its end, data pages by their checksums, pg_control by its CRC\n";
  } else if (v.manifest_version == 0) {
    o << "❌ backup_manifest: not usable\n";
  } else {
    o << Mark(manifest_findings == 0) << " backup_manifest: version " << v.manifest_version << ", "
      << GroupThousands(v.files_listed) << " files listed, Manifest-Checksum "
      << (v.manifest_checksum_ok ? "verified" : "MISMATCH") << "\n";
  }

  // Files.
  const uint64_t file_findings = CountOf(kinds, {"missing", "extra", "size", "checksum", "type", "damaged", "control"});
  if (!v.no_manifest.empty()) {
    o << Mark(file_findings == 0 && v.files_verified == v.files_listed)
      << " files: " << GroupThousands(v.files_verified) << " of " << GroupThousands(v.files_listed)
      << " read to their end; " << Bytes(v.bytes) << " read\n";
  } else if (v.manifest_version != 0) {
    std::string algos;
    for (const auto& a : v.checksum_algorithms) algos += (algos.empty() ? "" : "/") + a;
    const uint64_t checked = v.files_listed - v.files_exempt;
    o << Mark(file_findings == 0 && v.files_verified == checked) << " files: " << GroupThousands(v.files_verified)
      << " of " << GroupThousands(checked) << " present with the listed size"
      << (algos.empty() ? " (the manifest has no checksums)" : " and " + algos + " checksum");
    if (v.files_exempt)
      o << " (" << GroupThousands(v.files_exempt) << " exempt, as pg_verifybackup: pg_wal/, postgresql.auto.conf, …)";
    o << "; " << Bytes(v.bytes) << " read";
    if (file_findings) {
      o << " —";
      for (const char* k : {"missing", "extra", "size", "checksum", "type", "damaged", "control"}) {
        auto it = kinds.find(k);
        if (it != kinds.end()) o << " " << it->second << " " << k;
      }
    }
    o << "\n";
  }
}

void TextIncremental(std::ostream& o, const BackupVerification& v, const Kinds& kinds) {
  // Incremental backup.
  if (v.incremental.incremental || v.incremental.files > 0) {
    const uint64_t inc_findings = CountOf(kinds, {"incremental", "label"});
    o << Mark(inc_findings == 0) << " incremental backup: ";
    if (v.incremental.incremental) {
      o << "follows the backup that started at LSN " << FormatLsn(v.incremental.from_lsn) << " on timeline "
        << v.incremental.from_tli;
    } else {
      o << "backup_label does not say what it follows";
    }
    o << "; " << GroupThousands(v.incremental.files) << " INCREMENTAL files read, "
      << GroupThousands(v.incremental.files - std::min(v.incremental.files, inc_findings)) << " with valid headers, "
      << GroupThousands(v.incremental.blocks) << " blocks carried\n";
  }
}

void TextPages(std::ostream& o, const BackupVerification& v, const Kinds& kinds) {
  // Pages.
  if (v.page_checks_requested) {
    const uint64_t page_findings = CountOf(kinds, {"page"});
    if (!v.data_checksums && v.pages_checked == 0) {
      o << "⚠️ data page checksums: not checked (see below)\n";
    } else {
      o << Mark(page_findings == 0) << " data page checksums: " << GroupThousands(v.pages_checked) << " pages checked, "
        << GroupThousands(v.pages_bad) << " bad (" << GroupThousands(v.pages_new) << " new and empty, "
        << GroupThousands(v.pages_skipped) << " newer than the backup start, left to WAL replay)\n";
    }
  }
}

void TextWal(std::ostream& o, const BackupVerification& v, const Kinds& kinds) {
  // WAL.
  const uint64_t wal_findings =
      CountOf(kinds, {"wal-missing", "wal-truncated", "wal-header", "wal-sysid", "wal-timeline"});
  if (!v.wal.checked) {
    o << "➖ WAL: " << v.wal.note << "\n";
  } else if (v.wal.segments_required == 0) {
    o << "➖ WAL: " << (v.wal.note.empty() ? "no segments required" : v.wal.note) << "\n";
  } else {
    o << Mark(wal_findings == 0 && v.wal.segments_verified == v.wal.segments_required) << " WAL segments "
      << v.wal.first_segment << " through " << v.wal.last_segment << ": " << GroupThousands(v.wal.segments_verified)
      << " of " << GroupThousands(v.wal.segments_required) << " present with valid page headers";
    if (v.wal.segments_missing) o << ", " << GroupThousands(v.wal.segments_missing) << " missing";
    o << " (LSN " << FormatLsn(v.wal.start_lsn) << " to " << FormatLsn(v.wal.end_lsn) << "; timeline";
    if (v.wal.timelines.size() > 1) o << "s";
    for (size_t i = 0; i < v.wal.timelines.size(); ++i) o << (i ? ", " : " ") << v.wal.timelines[i];
    o << ")\n";
  }
}

// The sidecar's line, the findings, notes, what was not checked, the verdict.
void TextTail(std::ostream& o, const BackupVerification& v) {
  // Sidecar.
  if (v.checksums) {
    const uint64_t bad = v.checksums->Failed();
    o << Mark(v.checksums->AllOk()) << " checksum file " << v.checksums->sidecar << ": "
      << GroupThousands(v.checksums->results.size() - bad) << " of " << GroupThousands(v.checksums->results.size())
      << " lines OK\n";
  }

  if (!v.findings.empty()) {
    o << "\nFindings (" << v.findings.size() << "):\n";
    size_t shown = 0;
    for (const auto& f : v.findings) {
      if (shown++ == kTextFindings) {
        o << "  … and " << (v.findings.size() - kTextFindings) << " more (--format json lists them all)\n";
        break;
      }
      o << "  ❌ " << FindingKindName(f.kind) << ": " << f.subject << ": " << f.detail << "\n";
    }
  }
  if (!v.notes.empty()) {
    o << "\nNotes:\n";
    for (const auto& n : v.notes) o << "  - " << n << "\n";
  }
  if (!v.unverified.empty()) {
    o << "\nAsked for, not checked:\n";
    for (const auto& n : v.unverified) o << "  ⚠️ " << n << "\n";
  }
  o << "\n";
  if (v.outcome().Verified()) {
    o << "✅ VERIFIED";
  } else if (ExitCode(v.outcome()) == 3) {
    o << "⚠️ NOT FULLY VERIFIED: no findings, but " << v.unverified.size() << " check"
      << (v.unverified.size() == 1 ? "" : "s") << " asked for could not be made";
  } else {
    o << "❌ NOT VERIFIED: " << v.findings.size() << " finding" << (v.findings.size() == 1 ? "" : "s");
  }
  o << " (" << Num(v.seconds, "%.2f") << " s, " << v.jobs << " jobs)\n";
}

}  // namespace

std::string BackupText(const BackupVerification& v) {
  std::ostringstream o;
  const auto kinds = KindCounts(v);
  o << "Base backup " << v.dir << " (" << v.format << " format";
  if (v.pg_major) o << ", PostgreSQL " << v.pg_major;
  if (v.system_identifier) o << ", system identifier " << *v.system_identifier;
  o << ")\n";
  if (!v.origin.empty()) o << "  " << v.origin << "\n";
  if (!v.archives.empty()) {
    o << "  tar files:";
    for (const auto& a : v.archives) o << " " << a;
    o << "\n";
  }

  TextManifestAndFiles(o, v, kinds);
  TextIncremental(o, v, kinds);
  TextPages(o, v, kinds);
  TextWal(o, v, kinds);
  TextTail(o, v);
  return o.str();
}

std::string BackupJson(const BackupVerification& v) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["dir"] = v.dir;
  j["verified"] = v.outcome().Verified();
  j["complete"] = v.outcome().Complete();
  j["format"] = v.format;
  j["archives"] = v.archives;
  if (!v.origin.empty()) j["origin"] = v.origin;
  j["manifest_version"] = v.manifest_version;
  if (!v.no_manifest.empty()) j["no_manifest"] = v.no_manifest;
  j["manifest_checksum_ok"] = v.manifest_checksum_ok;
  j["system_identifier"] = v.system_identifier ? ordered_json(std::to_string(*v.system_identifier)) : ordered_json();
  j["pg_major"] = v.pg_major;
  j["start_lsn"] = v.start_lsn ? ordered_json(FormatLsn(*v.start_lsn)) : ordered_json();
  j["start_timeline"] = v.start_tli ? ordered_json(*v.start_tli) : ordered_json();
  ordered_json inc;
  inc["incremental"] = v.incremental.incremental;
  if (v.incremental.incremental) {
    inc["from_lsn"] = FormatLsn(v.incremental.from_lsn);
    inc["from_timeline"] = v.incremental.from_tli;
  }
  inc["files"] = v.incremental.files;
  inc["blocks"] = v.incremental.blocks;
  j["incremental"] = inc;
  j["files_listed"] = v.files_listed;
  j["files_exempt"] = v.files_exempt;
  j["files_verified"] = v.files_verified;
  j["files_checksummed"] = v.files_checksummed;
  j["bytes"] = v.bytes;
  j["checksum_algorithms"] = v.checksum_algorithms;
  ordered_json pages;
  pages["requested"] = v.page_checks_requested;
  pages["data_checksums"] = v.data_checksums;
  pages["checked"] = v.pages_checked;
  pages["new"] = v.pages_new;
  pages["skipped_newer_than_start"] = v.pages_skipped;
  pages["bad"] = v.pages_bad;
  j["pages"] = pages;
  ordered_json wal;
  wal["checked"] = v.wal.checked;
  if (!v.wal.note.empty()) wal["note"] = v.wal.note;
  wal["sources"] = v.wal.sources;
  wal["start_lsn"] = FormatLsn(v.wal.start_lsn);
  wal["end_lsn"] = FormatLsn(v.wal.end_lsn);
  wal["first_segment"] = v.wal.first_segment;
  wal["last_segment"] = v.wal.last_segment;
  wal["segments_required"] = v.wal.segments_required;
  wal["segments_verified"] = v.wal.segments_verified;
  wal["segments_missing"] = v.wal.segments_missing;
  wal["timelines"] = v.wal.timelines;
  j["wal"] = wal;
  if (v.checksums) {
    ordered_json c;
    c["file"] = v.checksums->sidecar;
    c["lines"] = v.checksums->results.size();
    c["failed"] = v.checksums->Failed();
    c["malformed_lines"] = v.checksums->malformed_lines;
    j["checksums"] = c;
  }
  j["findings"] = FindingsJson(v.findings);
  j["notes"] = v.notes;
  j["unverified"] = v.unverified;
  j["jobs"] = v.jobs;
  j["seconds"] = v.seconds;
  j["finished_at"] = v.finished_at;
  return JsonDocument(j);
}

std::string BackupPrometheus(const BackupVerification& v, std::optional<double> previous_success) {
  std::ostringstream o;
  const std::string label = PromLabel("dir", v.dir);
  auto metric = [&](const char* name, const char* help, const std::string& value) {
    WriteGauge(o, name, help, label, value);
  };
  metric("vouch_backup_verified", "1 when the base backup verified with no findings, else 0.",
         v.outcome().Verified() ? "1" : "0");
  metric("vouch_backup_files", "Files listed in the backup manifest.", std::to_string(v.files_listed));
  metric("vouch_backup_files_verified", "Listed files present with their size and checksum.",
         std::to_string(v.files_verified));
  metric("vouch_backup_bytes", "Bytes read and checked (decompressed), WAL included.", std::to_string(v.bytes));
  metric("vouch_backup_findings", "Findings of the last verification.", std::to_string(v.findings.size()));
  o << "# HELP vouch_backup_findings_by_kind Findings of the last verification by kind.\n"
    << "# TYPE vouch_backup_findings_by_kind gauge\n";
  for (const auto& [kind, n] : KindCounts(v)) {
    o << "vouch_backup_findings_by_kind{" << label << "," << PromLabel("kind", kind) << "} " << n << "\n";
  }
  metric("vouch_backup_pages_checked", "Data pages whose checksum was verified.", std::to_string(v.pages_checked));
  metric("vouch_backup_wal_segments", "WAL segments the backup needs that are present and valid.",
         std::to_string(v.wal.segments_verified));
  metric("vouch_backup_wal_segments_missing", "WAL segments the backup needs that were not found.",
         std::to_string(v.wal.segments_missing));
  metric("vouch_backup_verify_seconds", "Wall time of the last verification.", Num(v.seconds, "%.3f"));
  metric("vouch_backup_last_run_timestamp_seconds", "Unix time the last verification finished.",
         Num(v.finished_at, "%.3f"));
  std::optional<double> success = v.outcome().Verified() ? std::optional<double>(v.finished_at) : previous_success;
  if (success) {
    metric("vouch_backup_last_success_timestamp_seconds",
           "Unix time of the last verification that found the backup intact.", Num(*success, "%.3f"));
  }
  return o.str();
}

std::optional<double> PreviousBackupSuccess(std::string_view textfile, const std::string& dir) {
  const std::string prefix = "vouch_backup_last_success_timestamp_seconds{" + PromLabel("dir", dir) + "} ";
  size_t pos = 0;
  while (pos < textfile.size()) {
    size_t nl = textfile.find('\n', pos);
    std::string_view line = textfile.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? textfile.size() : nl + 1;
    if (line.substr(0, prefix.size()) == prefix) {
      std::string value(line.substr(prefix.size()));
      char* end = nullptr;
      double d = std::strtod(value.c_str(), &end);
      if (end != value.c_str()) return d;
    }
  }
  return std::nullopt;
}

std::string BackupChainText(const BackupChainVerification& c) {
  std::ostringstream o;
  o << "Chain of " << c.backups.size() << " backups, oldest first\n";
  for (size_t i = 0; i < c.backups.size(); ++i) {
    o << "\n[" << (i + 1) << "/" << c.backups.size() << "] " << BackupText(c.backups[i]);
  }
  o << "\nChain:\n";
  size_t incrementals = 0;
  for (const auto& b : c.backups) incrementals += b.incremental.incremental ? 1 : 0;
  o << Mark(c.findings.empty()) << " " << (c.backups.size() - incrementals) << " full and " << incrementals
    << " incremental backups; each incremental starts where the one before it started (INCREMENTAL FROM LSN, TLI), "
       "the same system identifier throughout; "
    << GroupThousands(c.dependencies_checked) << " INCREMENTAL files find their earlier versions\n";
  for (const auto& f : c.findings)
    o << "  ❌ " << FindingKindName(f.kind) << ": " << f.subject << ": " << f.detail << "\n";
  o << "\n";
  switch (ExitCode(c.outcome())) {
    case 0: o << "✅ CHAIN VERIFIED: pg_combinebackup has all it needs\n"; break;
    case 3: o << "⚠️ CHAIN NOT FULLY VERIFIED: no findings, but a check asked for could not be made\n"; break;
    default: o << "❌ CHAIN NOT VERIFIED\n"; break;
  }
  return o.str();
}

std::string BackupChainJson(const BackupChainVerification& c) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["verified"] = c.outcome().Verified();
  ordered_json backups = ordered_json::array();
  for (const auto& b : c.backups) backups.push_back(ordered_json::parse(BackupJson(b)));
  j["backups"] = backups;
  j["chain_findings"] = FindingsJson(c.findings);
  j["dependencies_checked"] = c.dependencies_checked;
  return JsonDocument(j);
}

std::string RecoveryWindowText(const RecoveryWindow& w) {
  std::ostringstream o;
  o << "Recovery window of " << w.backups_dir << ": " << FormatLsn(w.start_lsn) << " (the oldest backup's start) to "
    << FormatLsn(w.end_lsn) << " (the end of " << w.newest_segment << ", the archive's newest segment)\n";
  o << w.backups.size() << " retained base backup(s), oldest first:\n";
  for (const auto& b : w.backups) {
    o << "  " << b.dir << "  start " << FormatLsn(b.start_lsn) << " timeline " << b.timeline << "\n";
  }
  for (const auto& n : w.not_backups) o << "  not a backup: " << n << "\n";
  o << "\nThe oldest, with WAL through the newest segment:\n" << BackupText(w.oldest);
  if (w.archiver) {
    const ArchiverStatus& a = *w.archiver;
    o << "\nArchiver (pg_stat_archiver): " << GroupThousands(static_cast<uint64_t>(a.archived_count)) << " archived, "
      << GroupThousands(static_cast<uint64_t>(a.failed_count)) << " failed; last archived "
      << (a.last_archived_wal.empty() ? std::string("none") : a.last_archived_wal + " at " + a.last_archived_time)
      << "; last failed "
      << (a.last_failed_wal.empty() ? std::string("none") : a.last_failed_wal + " at " + a.last_failed_time) << "\n";
  }
  for (const auto& f : w.findings) {
    o << "  ❌ " << FindingKindName(f.kind) << ": " << f.subject << ": " << f.detail << "\n";
  }
  o << "\n";
  switch (ExitCode(w.outcome())) {
    case 0: o << "✅ RECOVERY WINDOW VERIFIED: a point-in-time restore to any LSN inside it has its WAL\n"; break;
    case 3:
      o << "⚠️ RECOVERY WINDOW NOT FULLY VERIFIED: no findings, but a check asked for could not be made\n";
      break;
    default: o << "❌ RECOVERY WINDOW NOT VERIFIED\n"; break;
  }
  return o.str();
}

std::string RecoveryWindowJson(const RecoveryWindow& w) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["verified"] = w.outcome().Verified();
  j["backups_dir"] = w.backups_dir;
  j["window"] = {
      {"start_lsn", FormatLsn(w.start_lsn)}, {"end_lsn", FormatLsn(w.end_lsn)}, {"newest_segment", w.newest_segment}};
  ordered_json backups = ordered_json::array();
  for (const auto& b : w.backups) {
    backups.push_back({{"dir", b.dir}, {"start_lsn", FormatLsn(b.start_lsn)}, {"timeline", b.timeline}});
  }
  j["backups"] = backups;
  j["not_backups"] = w.not_backups;
  j["oldest"] = ordered_json::parse(BackupJson(w.oldest));
  if (w.archiver) {
    const ArchiverStatus& a = *w.archiver;
    j["archiver"] = {{"archived_count", a.archived_count},
                     {"failed_count", a.failed_count},
                     {"last_archived_wal", a.last_archived_wal},
                     {"last_archived_time", a.last_archived_time},
                     {"last_failed_wal", a.last_failed_wal},
                     {"last_failed_time", a.last_failed_time},
                     {"last_archived_age_seconds", a.last_archived_age_s}};
  } else {
    j["archiver"] = nullptr;
  }
  j["findings"] = FindingsJson(w.findings);
  return JsonDocument(j);
}

}  // namespace vouch::cli
