#include <string_view>
#include <unordered_set>

#include "vouch/backup/verify_backup.h"
#include "vouch/readers/incremental_file.h"
#include "vouch/readers/pg_page.h"
#include "vouch/readers/wal.h"

namespace vouch {
namespace {

// What one incremental backup (index i) of the chain needs of the backups
// before it: each INCREMENTAL.X finds X in full, walking back, with only
// INCREMENTAL.X on the way (pg_combinebackup's reconstruct_from_incremental_file).
void CheckDependencies(const std::vector<std::string>& dirs,
                       const std::vector<std::unordered_set<std::string_view>>& have, size_t i,
                       const BackupVerification& b, BackupChainVerification& c) {
  for (const auto& path : b.paths) {
    uint32_t segno = 0;
    if (ClassifyRelationFile(path, &segno) != RelationFileKind::kIncremental) continue;
    const size_t slash = path.rfind('/');
    const std::string bare = path.substr(0, slash + 1) + path.substr(slash + 1 + kIncrementalPrefix.size());
    std::string missing;  // why the walk failed; "" when X was found in full
    size_t j = i;
    while (true) {
      if (j == 0) {
        missing = "needs " + bare + ", which no earlier backup holds in full";
        break;
      }
      --j;
      if (have[j].count(bare)) break;
      if (!have[j].count(path)) {
        missing = "needs " + bare + ", which " + dirs[j] + " holds neither in full nor as INCREMENTAL";
        break;
      }
    }
    if (missing.empty())
      ++c.dependencies_checked;
    else
      c.findings.push_back({FindingKind::kChain, dirs[i] + "/" + path, std::move(missing)});
  }
}

}  // namespace

Outcome BackupVerification::outcome() const {
  Outcome o{findings, unverified};
  if (manifest_version == 0 && no_manifest.empty() && o.findings.empty()) {
    o.findings.push_back({FindingKind::kManifest, "backup_manifest", "no usable manifest"});
  }
  return o;
}

Outcome BackupChainVerification::outcome() const {
  Outcome o;
  for (const auto& b : backups) {
    Outcome one = b.outcome();
    for (auto& f : one.findings) o.findings.push_back(std::move(f));
    for (auto& u : one.unverified) o.unverified.push_back(b.dir + ": " + u);
  }
  for (const auto& f : findings) o.findings.push_back(f);
  return o;
}

Result<BackupChainVerification> VerifyBackupChain(const std::vector<std::string>& dirs,
                                                  const VerifyBackupOptions& options) {
  if (dirs.size() < 2) {
    return InvalidArgument("a chain needs at least two backups: the full one, then its incrementals, oldest first");
  }
  BackupChainVerification c;
  VerifyBackupOptions o = options;
  o.keep_paths = true;
  for (const auto& d : dirs) {
    auto v = VerifyBackup(d, o);
    if (!v.ok()) return v.status();
    c.backups.push_back(std::move(v).value());
  }
  auto add = [&](size_t i, std::string detail) {
    c.findings.push_back({FindingKind::kChain, dirs[i], std::move(detail)});
  };
  const BackupVerification& first = c.backups[0];
  if (first.incremental.incremental) {
    add(0, "is an incremental backup (INCREMENTAL FROM LSN " + FormatLsn(first.incremental.from_lsn) +
               "), but the first backup of a chain must be a full one");
  }
  std::vector<std::unordered_set<std::string_view>> have(dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i) {
    const BackupVerification& b = c.backups[i];
    for (const auto& p : b.paths) have[i].insert(p);
    if (i == 0) continue;
    if (!b.incremental.incremental) {
      add(i, "is a full backup, but only the first backup of a chain may be one");
      continue;
    }
    if (b.system_identifier && first.system_identifier && *b.system_identifier != *first.system_identifier) {
      add(i, "system identifier " + std::to_string(*b.system_identifier) + ", but " + dirs[0] + " has " +
                 std::to_string(*first.system_identifier));
    } else if (!b.system_identifier || !first.system_identifier) {
      add(i, "the system identifier cannot be compared: global/pg_control of this backup or of " + dirs[0] +
                 " is not readable");
    }
    const BackupVerification& prior = c.backups[i - 1];
    if (!prior.start_lsn || !prior.start_tli) {
      add(i, "follows LSN " + FormatLsn(b.incremental.from_lsn) + ", but " + dirs[i - 1] +
                 " has no START WAL LOCATION and START TIMELINE in its backup_label to compare");
    } else {
      if (b.incremental.from_tli != *prior.start_tli) {
        add(i, "follows timeline " + std::to_string(b.incremental.from_tli) + " (INCREMENTAL FROM TLI), but " +
                   dirs[i - 1] + " starts on timeline " + std::to_string(*prior.start_tli));
      }
      if (b.incremental.from_lsn != *prior.start_lsn) {
        add(i, "follows LSN " + FormatLsn(b.incremental.from_lsn) + " (INCREMENTAL FROM LSN), but " + dirs[i - 1] +
                   " starts at LSN " + FormatLsn(*prior.start_lsn) + ": it was taken against another backup");
      }
    }
    CheckDependencies(dirs, have, i, b, c);
  }
  return c;
}

}  // namespace vouch
