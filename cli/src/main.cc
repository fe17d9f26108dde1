// vouch command line: parses arguments, runs a command from the library, and
// maps its outcome to an exit code (docs/design.md): 0 verified without findings,
// 1 findings, 2 usage/configuration error, 3 could not verify.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "drill_output.h"
#include "output.h"
#include "vouch/backup/nightly_backup.h"
#include "vouch/backup/verify_backup.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/engine/compare.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/drill.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/merge.h"
#include "vouch/engine/verify_archive.h"

namespace {

int ExitCodeFor(const vouch::Status& st) {
  switch (st.code()) {
    case vouch::StatusCode::kOk: return 0;
    case vouch::StatusCode::kInvalidArgument: return 2;
    case vouch::StatusCode::kCorrupt: return 1;
    case vouch::StatusCode::kIoError:
    case vouch::StatusCode::kTruncated:
    case vouch::StatusCode::kUnsupported:
    case vouch::StatusCode::kConnection: return 3;
  }
  return 3;
}

int Fail(const vouch::Status& st) {
  std::fprintf(stderr, "vouch: error: %s\n", st.message().c_str());
  return ExitCodeFor(st);
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

// A CLI11 check: a whole number >= `min` (CLI11 would wrap "-1" around for
// an unsigned option).
CLI::Validator Counting(unsigned min) {
  return CLI::Validator(
      [min](std::string& s) -> std::string {
        bool digits = !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoull(s) < min) return "'" + s + "': expected a whole number >= " + std::to_string(min);
        return {};
      },
      "");
}

// The drill's chains, gap and time columns and declared foreign keys from
// their flags; a bad value is a usage error naming the flag and the value.
vouch::Status BuildDrillOptions(const std::vector<std::string>& chains, const std::vector<std::string>& chain_configs,
                                const std::vector<std::string>& gap_columns, const std::vector<std::string>& fks,
                                const std::vector<std::string>& time_columns, vouch::DrillOptions& d) {
  vouch::CheckOptions& c = d.checks;
  std::set<std::string> chain_tables;
  auto add_chain = [&](vouch::ChainSpec spec, const std::string& from) -> vouch::Status {
    if (!chain_tables.insert(spec.table).second) {
      return vouch::InvalidArgument(from + ": a second chain for table " + spec.table);
    }
    c.chains.push_back(std::move(spec));
    return vouch::Status::Ok();
  };
  for (const auto& flag : chains) {
    auto spec = vouch::ParseChainFlag(flag);
    if (!spec.ok()) {
      const std::string& m = spec.status().message();
      return m.rfind("chain \"", 0) == 0 ? vouch::InvalidArgument("--" + m)
                                         : spec.status().WithContext("--chain '" + flag + "'");
    }
    VOUCH_RETURN_IF_ERROR(add_chain(std::move(*spec), "--chain '" + flag + "'"));
  }
  for (const auto& path : chain_configs) {
    auto specs = vouch::LoadChainConfig(path);
    if (!specs.ok()) {
      // A config file that cannot be read is a configuration error (exit 2), like a bad one.
      return vouch::InvalidArgument("--chain-config: " + specs.status().message());
    }
    for (auto& spec : *specs) VOUCH_RETURN_IF_ERROR(add_chain(std::move(spec), "--chain-config " + path));
  }
  std::set<std::string> seen;
  for (const auto& ref : gap_columns) {
    auto parsed = vouch::ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--gap-column");
    c.gap_columns.push_back(ref);
  }
  for (const auto& ref : time_columns) {
    auto parsed = vouch::ParseColumnRef(ref);
    if (!parsed.ok()) return parsed.status().WithContext("--time-column");
    const auto& [schema, table, column] = *parsed;
    if (!seen.insert(schema + "." + table).second) {
      return vouch::InvalidArgument("--time-column '" + ref + "': a second record-time column for " + schema + "." +
                                    table);
    }
    c.time_columns.push_back(ref);
  }
  for (const auto& text : fks) {
    auto fk = vouch::ParseForeignKeyFlag(text);
    if (!fk.ok()) return fk.status();  // "--fk '...': ..."
    c.declared_fks.push_back(std::move(*fk));
  }
  return vouch::Status::Ok();
}

}  // namespace

#define VOUCH_CLI_CHECK(expr)        \
  do {                               \
    ::vouch::Status st_ = (expr);    \
    if (!st_.ok()) return Fail(st_); \
  } while (0)

int main(int argc, char** argv) {
  CLI::App app{"vouch: integrity verification for PostgreSQL backups and restores", "vouch"};
  app.set_version_flag("--version", std::string("vouch ") + VOUCH_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  std::string source, format = "text", output;
  vouch::DigestOptions opt;
  std::string chunk_size = "4M";
  bool quiet = false;

  auto* digest = app.add_subcommand(
      "digest",
      "Digest every table of SOURCE: a database URI, a pg_dump archive (custom, directory, tar), a plain dump "
      "(.sql[.gz|.zst|.lz4]) or a vouch manifest");
  digest->add_option("SOURCE", source, "database URI, dump, archive or manifest")->required();
  digest->add_option("-j,--jobs", opt.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  digest->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  digest->add_option("-o,--output", output, "also write the JSON manifest to FILE");
  digest->add_option("--chunk-size", chunk_size, "bytes of rows per chunk, e.g. 64K, 4M (1K..256M)");
  digest->add_option("--buckets", opt.buckets, "key buckets per table (power of two)")->check([](const std::string& s) {
    unsigned long v = std::stoul(s);
    return (v >= 1 && v <= (1u << 20) && (v & (v - 1)) == 0) ? std::string()
                                                             : std::string("must be a power of two <= 1048576");
  });
  digest->add_flag("-q,--quiet", quiet, "no run statistics on stderr");
  std::string shard;
  digest->add_option(
      "--shard", shard,
      "digest only shard k of N (k/N, 0-based): a deterministic 1/N of every table's rows, selected by the "
      "server for a database; add the N manifests with 'vouch merge'");
  std::vector<std::string> tables, xtables, schemas, xschemas;
  auto add_selection = [&](CLI::App* cmd) {
    cmd->add_option("-t,--table", tables, "only tables matching PATTERN (pg_dump rules; repeatable)");
    cmd->add_option("-T,--exclude-table", xtables, "skip tables matching PATTERN");
    cmd->add_option("-n,--schema", schemas, "only tables in schemas matching PATTERN");
    cmd->add_option("-N,--exclude-schema", xschemas, "skip schemas matching PATTERN");
  };
  add_selection(digest);

  std::string expected, actual;
  vouch::CompareOptions cmp;
  auto* compare =
      app.add_subcommand("compare", "Compare EXPECTED with ACTUAL table by table and name the differing rows");
  compare->add_option("EXPECTED", expected, "database URI, dump file or manifest")->required();
  compare->add_option("ACTUAL", actual, "database URI, dump file or manifest")->required();
  compare->add_option("-j,--jobs", opt.jobs, "threads and connections per side (default: all cores)")
      ->check(CLI::Range(1, 1024));
  compare->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  compare->add_option("--max-keys", cmp.max_keys, "keys listed per kind and table (default 20)");
  compare->add_flag("-q,--quiet", quiet, "no run statistics on stderr");
  add_selection(compare);

  std::string archive, checksums;
  auto* verify = app.add_subcommand(
      "verify-archive",
      "Read a pg_dump archive (custom, directory or tar) to its end without restoring it: structure, "
      "every block decompressed, every row checked; per-table rows and content hashes");
  verify->add_option("ARCHIVE", archive, "custom-format file, directory-format directory or tar file")->required();
  verify->add_option("--checksums", checksums, "also verify this sha256sum/md5sum-style checksum file");
  verify->add_option("-j,--jobs", opt.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  verify->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  verify->add_option("-o,--output", output, "also write the JSON digest manifest to FILE");
  verify->add_flag("-q,--quiet", quiet, "no run statistics on stderr");
  verify->add_option("--shard", shard,
                     "hash only shard k of N (k/N) of the rows; the archive is still read to its end");
  std::vector<std::string> parts;
  auto* merge = app.add_subcommand(
      "merge", "Add the manifests of the N shards of one source (digest --shard k/N -o part.json) into one manifest");
  merge->add_option("PART", parts, "shard manifests, all N of them")->required();
  merge->add_option("-o,--output", output, "write the merged manifest to FILE");
  merge->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));

  std::string drill_source, drill_restored;
  struct {
    std::vector<std::string> chains, chain_configs, gap_columns, fks, time_columns;
    uint64_t gap_threshold = 1;
    bool no_catalog_fks = false;
    std::string now, future_skew = "5m", recovery_window, rpo_target, rto_target, drill_start, drill_end;
    size_t max_samples = 10;
  } df;
  auto* drill = app.add_subcommand(
      "drill",
      "Validate a restore end to end (DR drill): compare SOURCE with RESTORED table by table, verify audit "
      "chains, sequence gaps, foreign keys (orphans), timestamps, RPO/RTO, and write the report");
  drill->add_option("SOURCE", drill_source, "what was backed up: database URI, dump, archive or manifest")->required();
  drill->add_option("RESTORED", drill_restored, "the restored copy: database URI or dump")->required();
  drill->add_option("--chain", df.chains, "audit chain TABLE[:key=value,...] (repeatable; see README)")
      ->allow_extra_args(false);
  drill->add_option("--chain-config", df.chain_configs, "TOML file of [[chain]] specs (repeatable)")
      ->allow_extra_args(false);
  drill
      ->add_option("--gap-column", df.gap_columns,
                   "[schema.]table.column: an integer sequence to check for gaps (repeatable)")
      ->allow_extra_args(false);
  drill
      ->add_option("--gap-threshold", df.gap_threshold,
                   "a run of this many missing values or more is suspicious (default 1)")
      ->check(Counting(1));
  drill->add_option("--fk", df.fks, "declare a foreign key child(col[,col])=parent(col[,col]) to check (repeatable)")
      ->allow_extra_args(false);
  drill->add_flag("--no-catalog-fks", df.no_catalog_fks, "check only --fk keys, not those the source declares");
  drill
      ->add_option("--time-column", df.time_columns,
                   "[schema.]table.column: the table's record time (default: its first timestamp column; repeatable)")
      ->allow_extra_args(false);
  drill->add_option("--now", df.now, "the time future timestamps are judged against (default: when the drill starts)");
  drill->add_option("--future-skew", df.future_skew,
                    "allowed clock skew before a timestamp is in the future (default 5m)");
  drill->add_option("--recovery-window", df.recovery_window, "FROM..TO: count the records written in this window");
  drill->add_option("--rpo-target", df.rpo_target, "maximum data loss, e.g. 15m (RPO check)");
  drill->add_option("--rto-target", df.rto_target,
                    "maximum time to restore, e.g. 30m (RTO check; needs --drill-start)");
  drill->add_option("--drill-start", df.drill_start, "when the outage/drill began (RTO start)");
  drill->add_option("--drill-end", df.drill_end,
                    "when service was restored (RTO end; default: --now, else when vouch drill starts)");
  drill->add_option("--max-keys", cmp.max_keys, "differing keys listed per kind and table (default 20)")
      ->check(Counting(0));
  drill->add_option("--max-samples", df.max_samples, "sample keys listed per finding (default 10)")->check(Counting(0));
  drill->add_option("-j,--jobs", opt.jobs, "threads and connections per side (default: all cores)")
      ->check(CLI::Range(1, 1024));
  drill->add_option("--format", format, "report format: text, markdown, json or junit")
      ->check(CLI::IsMember({"text", "markdown", "json", "junit"}));
  drill->add_option("-o,--output", output, "write the report (--format) to FILE; stdout then gets the text report");
  drill->add_flag("-q,--quiet", quiet, "no run statistics on stderr");
  add_selection(drill);

  std::vector<std::string> backup_dirs;
  std::string newest_in, max_age = "24h", backup_format = "text";
  vouch::VerifyBackupOptions bo;
  vouch::NightlyOptions no;
  std::string until;
  bool no_wal = false, no_decompress = false;
  auto* vbackup = app.add_subcommand(
      "verify-backup",
      "Verify a pg_basebackup (plain or tar format) against its backup_manifest: every file's size and checksum "
      "(CRC32C, SHA-2), extra and missing files, the WAL range it needs, optionally every data page's checksum; or, "
      "with --newest-in, the nightly checks of a backup directory");
  vbackup->add_option("DIR", backup_dirs,
                      "the base backup directory (plain format, or base.tar[.gz] etc.); several: a chain of a full "
                      "backup and its incremental backups, oldest first");
  vbackup->add_option("-j,--jobs", bo.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  vbackup->add_flag("--page-checksums", bo.page_checksums, "also check every 8 KB data page's checksum");
  vbackup->add_option("--wal-archive", bo.wal_archives, "also look for WAL segments here (plain, .gz, .zst, .lz4)");
  vbackup->add_option("--until", until, "the WAL must reach this LSN (a PITR target), e.g. 0/5000028");
  vbackup->add_flag("--no-wal", no_wal, "do not check WAL");
  vbackup->add_option("--checksums", bo.checksums, "also verify this sha256sum/md5sum-style checksum file");
  vbackup->add_option("--ignore", bo.ignore, "a relative path to leave out of the checks (repeatable)");
  vbackup->add_option("--newest-in", newest_in,
                      "nightly checks instead: the newest backup (file or directory) in this directory");
  vbackup->add_option("--max-age", max_age, "with --newest-in: the newest backup must be younger (default 24h)");
  vbackup->add_option("--expect", no.expected, "with --newest-in: a file pattern the backup must contain (repeatable)");
  vbackup
      ->add_option("--min-size", no.min_size_ratio,
                   "with --newest-in: smallest size relative to the previous backup (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  vbackup->add_option("--name", no.name_pattern, "with --newest-in: consider only entries matching this pattern");
  vbackup->add_flag("--no-decompress", no_decompress, "with --newest-in: do not decompress .gz/.zst/.lz4 files");
  vbackup->add_option("--format", backup_format, "stdout format: text, json or prometheus (node_exporter textfile)")
      ->check(CLI::IsMember({"text", "json", "prometheus"}));
  vbackup->add_option("-o,--output", output, "also write the report (--format) to FILE");
  vbackup->add_flag("-q,--quiet", quiet, "no run statistics on stderr");

  app.add_subcommand("help", "Show this help");
  app.footer(
      "Exit codes: 0 verified, no findings; 1 findings (differences, damage, failed drill checks); 2 usage error; "
      "3 could not verify.\nRun 'vouch COMMAND --help' for a command's options, e.g. vouch drill --help.");
  const std::string usage = app.help();  // after parsing, help() describes the chosen subcommand

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (app.got_subcommand("help")) {
    std::cout << usage;
    return 0;
  }
  for (const auto& p : tables) VOUCH_CLI_CHECK(opt.filter.AddTable(p));
  for (const auto& p : xtables) VOUCH_CLI_CHECK(opt.filter.AddExcludeTable(p));
  for (const auto& p : schemas) VOUCH_CLI_CHECK(opt.filter.AddSchema(p));
  for (const auto& p : xschemas) VOUCH_CLI_CHECK(opt.filter.AddExcludeSchema(p));
  if (!shard.empty()) {
    auto kn = vouch::ParseShard(shard);
    if (!kn.ok()) return Fail(kn.status());
    std::tie(opt.shard_index, opt.shard_count) = *kn;
  }
  if (vbackup->parsed()) {
    auto emit = [&](const std::string& text) -> int {
      if (!output.empty() && !WriteFile(output, text)) {
        std::fprintf(stderr, "vouch: error: %s: cannot write the report\n", output.c_str());
        return 3;
      }
      std::cout << text;
      return 0;
    };
    if (!newest_in.empty()) {
      if (!backup_dirs.empty()) return Fail(vouch::InvalidArgument("give either DIR or --newest-in, not both"));
      auto age = vouch::ParseDuration(max_age);
      if (!age) return Fail(vouch::InvalidArgument("--max-age '" + max_age + "': expected a duration like 24h or 90m"));
      no.max_age_seconds = static_cast<double>(*age) / 1e6;
      no.check_compressed = !no_decompress;
      no.jobs = bo.jobs;
      auto r = vouch::CheckNewestBackup(newest_in, no);
      if (!r.ok()) return Fail(r.status());
      std::string text = backup_format == "json"         ? vouch::NightlyJson(*r)
                         : backup_format == "prometheus" ? vouch::NightlyPrometheus(*r)
                                                         : vouch::NightlyText(*r);
      if (int rc = emit(text); rc != 0) return rc;
      return vouch::ExitCode(r->outcome());
    }
    if (backup_dirs.empty()) return Fail(vouch::InvalidArgument("verify-backup: give DIR (or --newest-in DIR)"));
    if (!until.empty()) bo.until_lsn = until;
    bo.skip_wal = no_wal;
    if (backup_dirs.size() > 1) {
      if (backup_format == "prometheus") {
        return Fail(vouch::InvalidArgument("verify-backup: --format prometheus takes one DIR, not a chain"));
      }
      auto c = vouch::VerifyBackupChain(backup_dirs, bo);
      if (!c.ok()) return Fail(c.status());
      if (int rc = emit(backup_format == "json" ? vouch::BackupChainJson(*c) : vouch::BackupChainText(*c)); rc != 0) {
        return rc;
      }
      return ExitCode(c->outcome());
    }
    const std::string& backup_dir = backup_dirs[0];
    std::optional<double> previous;
    if (backup_format == "prometheus" && !output.empty()) {
      std::ifstream old(output, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
      previous = vouch::PreviousBackupSuccess(text, backup_dir);
    }
    auto v = vouch::VerifyBackup(backup_dir, bo);
    if (!v.ok()) return Fail(v.status());
    std::string text = backup_format == "json"         ? vouch::BackupJson(*v)
                       : backup_format == "prometheus" ? vouch::BackupPrometheus(*v, previous)
                                                       : vouch::BackupText(*v);
    if (int rc = emit(text); rc != 0) return rc;
    if (!quiet) {
      std::fprintf(stderr, "vouch: read %.1f MB in %.2f s (%.0f MB/s) with %d jobs\n",
                   static_cast<double>(v->bytes) / 1e6, v->seconds,
                   v->seconds > 0 ? static_cast<double>(v->bytes) / 1e6 / v->seconds : 0.0, v->jobs);
    }
    return ExitCode(v->outcome());
  }
  if (merge->parsed()) {
    auto merged = vouch::MergeShards(parts);
    if (!merged.ok()) return Fail(merged.status());
    std::string manifest = vouch::ManifestJson(*merged, VOUCH_VERSION);
    if (!output.empty() && !WriteFile(output, manifest)) {
      return Fail(vouch::IoError(output + ": cannot write manifest"));
    }
    std::cout << (format == "json" ? manifest : vouch::cli::DigestText(*merged));
    return vouch::ExitCode(merged->outcome());
  }
  if (digest->parsed()) {
    auto size = vouch::cli::ParseSize(chunk_size);
    if (!size || *size < 1024 || *size > (size_t{256} << 20)) {
      return Fail(vouch::InvalidArgument("--chunk-size " + chunk_size + ": expected 1K..256M"));
    }
    opt.chunk_size = *size;
    auto report = vouch::DigestSource(source, opt);
    if (!report.ok()) return Fail(report.status());
    std::string manifest = vouch::ManifestJson(*report, VOUCH_VERSION);
    if (!output.empty() && !WriteFile(output, manifest)) {
      return Fail(vouch::IoError(output + ": cannot write manifest"));
    }
    if (format == "json") {
      std::cout << manifest;
    } else {
      std::cout << vouch::cli::DigestText(*report);
    }
    if (!quiet && report->jobs > 0) std::cerr << vouch::cli::RunStats(*report);  // not for manifests
    return 0;
  }
  if (verify->parsed()) {
    vouch::VerifyArchiveOptions vo;
    vo.digest = opt;
    vo.checksums = checksums;
    auto v = vouch::VerifyArchive(archive, vo);
    if (!v.ok()) return Fail(v.status());
    const bool complete = v->ContentComplete();
    std::string manifest = complete ? vouch::ManifestJson(v->digest, VOUCH_VERSION) : std::string();
    if (!output.empty() && complete && !WriteFile(output, manifest)) {
      return Fail(vouch::IoError(output + ": cannot write manifest"));
    }
    std::cout << (format == "json" ? vouch::cli::ArchiveJson(*v, manifest) : vouch::cli::ArchiveText(*v));
    if (!quiet && !v->damage) std::cerr << vouch::cli::RunStats(v->digest);
    if (v->damage) std::fprintf(stderr, "vouch: archive damaged: %s\n", v->damage->detail.c_str());
    if (!output.empty() && !complete) std::fprintf(stderr, "vouch: no manifest written: the digest is incomplete\n");
    return vouch::ExitCode(v->outcome());
  }
  if (drill->parsed()) {
    vouch::DrillOptions d;
    auto built = BuildDrillOptions(df.chains, df.chain_configs, df.gap_columns, df.fks, df.time_columns, d);
    if (!built.ok()) return Fail(built);
    d.compare = cmp;
    d.compare.digest = opt;
    vouch::CheckOptions& c = d.checks;
    c.gap_threshold = df.gap_threshold;
    c.catalog_fks = !df.no_catalog_fks;
    c.max_samples = df.max_samples;
    auto timestamp = [](const char* flag, const std::string& text) -> vouch::Result<int64_t> {
      auto us = vouch::ParseTimestampText(text);
      if (!us) {
        return vouch::InvalidArgument(
            std::string(flag) + " '" + text +
            "': expected a timestamp YYYY-MM-DD[ HH:MM:SS[.ffffff]][Z|+HH[:MM]] (UTC unless an "
            "offset is given)");
      }
      return *us;
    };
    auto duration = [](const char* flag, const std::string& text) -> vouch::Result<int64_t> {
      auto us = vouch::ParseDuration(text);
      if (!us)
        return vouch::InvalidArgument(std::string(flag) + " '" + text +
                                      "': expected a duration like 500ms, 90s, 15m, 2h, 1d");
      return *us;
    };
    if (!df.now.empty()) {
      auto v = timestamp("--now", df.now);
      if (!v.ok()) return Fail(v.status());
      c.now_us = *v;
    }
    {
      auto v = duration("--future-skew", df.future_skew);
      if (!v.ok()) return Fail(v.status());
      c.future_skew_us = *v;
    }
    if (!df.recovery_window.empty()) {
      size_t dots = df.recovery_window.find("..");
      if (dots == std::string::npos) {
        return Fail(vouch::InvalidArgument("--recovery-window '" + df.recovery_window +
                                           "': expected FROM..TO (two timestamps)"));
      }
      auto from = timestamp("--recovery-window", df.recovery_window.substr(0, dots));
      if (!from.ok()) return Fail(from.status());
      auto to = timestamp("--recovery-window", df.recovery_window.substr(dots + 2));
      if (!to.ok()) return Fail(to.status());
      if (*to < *from)
        return Fail(vouch::InvalidArgument("--recovery-window '" + df.recovery_window + "': TO is before FROM"));
      c.recovery_window = std::make_pair(*from, *to);
    }
    if (!df.rpo_target.empty()) {
      auto v = duration("--rpo-target", df.rpo_target);
      if (!v.ok()) return Fail(v.status());
      d.rpo_target_us = *v;
    }
    if (!df.rto_target.empty()) {
      auto v = duration("--rto-target", df.rto_target);
      if (!v.ok()) return Fail(v.status());
      d.rto_target_us = *v;
    }
    if (!df.drill_start.empty()) {
      auto v = timestamp("--drill-start", df.drill_start);
      if (!v.ok()) return Fail(v.status());
      d.drill_start_us = *v;
    }
    if (!df.drill_end.empty()) {
      if (!d.drill_start_us)
        return Fail(vouch::InvalidArgument("--drill-end '" + df.drill_end + "' needs --drill-start"));
      auto v = timestamp("--drill-end", df.drill_end);
      if (!v.ok()) return Fail(v.status());
      d.drill_end_us = *v;
    }
    if (d.rto_target_us && !d.drill_start_us) {
      return Fail(vouch::InvalidArgument("--rto-target '" + df.rto_target + "' needs --drill-start (and --drill-end)"));
    }
    if (d.drill_start_us && !d.drill_end_us) {
      // The restore is done when it is validated: end at --now, else now.
      d.drill_end_us = c.now_us != 0 ? c.now_us
                                     : std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count();
    }
    if (d.drill_start_us && *d.drill_end_us < *d.drill_start_us) {
      return Fail(vouch::InvalidArgument("--drill-start '" + df.drill_start + "' is after the drill end (" +
                                         vouch::FormatTimestamp(*d.drill_end_us) + ")"));
    }
    auto report = vouch::RunDrill(drill_source, drill_restored, d);
    if (!report.ok()) return Fail(report.status());
    std::string rendered = format == "markdown" ? vouch::cli::DrillMarkdown(*report)
                           : format == "json"   ? vouch::cli::DrillJson(*report)
                           : format == "junit"  ? vouch::cli::DrillJUnit(*report)
                                                : vouch::cli::DrillText(*report);
    if (!output.empty()) {
      if (!WriteFile(output, rendered)) return Fail(vouch::IoError(output + ": cannot write the report"));
      std::cout << (format == "text" ? rendered : vouch::cli::DrillText(*report));
    } else {
      std::cout << rendered;
    }
    if (!quiet) {
      for (const auto* side : {&report->compare.expected, &report->compare.actual}) {
        if (side->jobs > 0) std::cerr << vouch::cli::RunStats(*side);
      }
    }
    return vouch::ExitCode(report->outcome());
  }
  if (compare->parsed()) {
    cmp.digest = opt;
    auto report = vouch::Compare(expected, actual, cmp);
    if (!report.ok()) return Fail(report.status());
    std::cout << (format == "json" ? vouch::cli::CompareJson(*report) : vouch::cli::CompareText(*report));
    if (!quiet) {
      for (const auto* side : {&report->expected, &report->actual}) {
        if (side->jobs > 0) std::cerr << vouch::cli::RunStats(*side);
      }
    }
    return vouch::ExitCode(report->outcome());
  }
  return 2;
}
