// vouch digest SOURCE: every table's row count and content hash, and the
// final validation hash; the JSON manifest with -o.
#include <fmt/format.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "command.h"
#include "render/digest.h"
#include "vouch/chain/chain_spec.h"
#include "vouch/engine/drill_checks.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/source.h"
#include "vouch/readers/live_reader.h"

namespace vouch::cli {
namespace {

// A database's manifest file in --all-databases' directory: its name, with
// every byte outside [A-Za-z0-9_-] (and a leading '.') written as %XX.
std::string ManifestFileName(const std::string& database) {
  std::string out;
  for (unsigned char c : database) {
    if (std::isalnum(c) || c == '_' || c == '-' || (c == '.' && !out.empty())) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out + ".json";
}

// digest --all-databases --at-lsn -o DIR: a manifest per database, all read
// at the standby's one paused position.
int DigestEveryDatabase(const std::string& source, const DigestOptions& options, const std::string& dir, TableList list,
                        bool quiet, const SignFlag& sign, const LedgerFlag& ledger) {
  auto reports = DigestAllDatabases(source, options);
  if (!reports.ok()) return Fail(reports.status());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) return Fail(IoError(dir + ": cannot make the directory"));
  std::vector<const DigestReport*> all;
  bool anomalous = false;
  for (const DigestReport& report : *reports) {
    const std::string& name = report.source.properties.at("database");
    const std::string path = (std::filesystem::path(dir) / ManifestFileName(name)).string();
    if (!WriteFile(path, [&](const Sink& sink) { WriteManifest(report, VOUCH_VERSION, sink); })) {
      return Fail(IoError(path + ": cannot write manifest"));
    }
    if (Status st = sign.Sign(path); !st.ok()) return Fail(st);
    // A ledger line per database, each its own scope.
    auto entry = LedgerEntryOf("digest", report, report.outcome());
    if (entry.verdict == "PASS") entry.verdict = "MEASURED";
    auto anomaly = ledger.Append(entry, sign);
    if (!anomaly.ok()) return Fail(anomaly.status());
    anomalous = anomalous || *anomaly;
    std::cout << "== Database " << name << " (" << path << ")\n" << DigestText(report, list) << "\n";
    all.push_back(&report);
  }
  std::cout << "All " << reports->size() << " databases of the cluster read at LSN "
            << reports->front().source.properties.at("at_lsn")
            << " (standby replay paused): " << reports->front().source.properties.at("cluster_databases") << "\n";
  if (!quiet) PrintRunStats(all);
  return anomalous ? 1 : 0;
}

}  // namespace

Command AddDigest(CLI::App& app) {
  struct Options {
    std::string source, format = "text", output, chunk_size = "4M", globals;
    bool schema_only = false, all_databases = false;
    DigestOptions digest;
    Selection selection;
    LiveReadFlags live;
    bool quiet = false;
    TableList list = TableList::kAuto;
    SignFlag sign;
    LedgerFlag ledger;
    std::vector<std::string> chains;
    ProgressFlag progress;
    RunProgress run;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "digest",
      "Digest every table of SOURCE: a database URI, a pg_dump archive (custom, directory, tar), a plain dump "
      "(.sql[.gz|.zst|.lz4]) or a vouch manifest");
  cmd->footer(
      "Examples:\n"
      "  vouch digest postgresql://vouch@db1/app -o app-manifest.json\n"
      "  vouch digest nightly.dump --jobs 4 -n public --format json");
  cmd->add_option("SOURCE", o->source, "database URI, dump, archive or manifest")->required();
  cmd->add_option("-j,--jobs", o->digest.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--format", o->format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  AddListOption(cmd, o->list);
  cmd->add_option("-o,--output", o->output, "also write the JSON manifest to FILE");
  cmd->add_option("--chunk-size", o->chunk_size, "bytes of rows per chunk, e.g. 64K, 4M (1K..256M)");
  cmd->add_option("--buckets", o->digest.buckets, "the most buckets a table gets (power of two; one per 64 rows up to it; default 4096)")
      ->check([](const std::string& s) {
        unsigned long v = std::stoul(s);
        return (v >= 1 && v <= (1u << 20) && (v & (v - 1)) == 0) ? std::string()
                                                                 : std::string("must be a power of two <= 1048576");
      });
  cmd->add_option("--globals", o->globals,
                  "SOURCE's cluster-wide objects (roles, memberships, tablespaces, ALTER ROLE ... SET) when it is a "
                  "dump: its pg_dumpall --globals-only file, fingerprinted with the schema objects");
  cmd->add_flag("--schema-only", o->schema_only,
                "a database's schema objects and cluster-wide objects only: their count and SCHEMA_VALIDATION_HASH, "
                "no rows read (no manifest)");
  cmd->add_flag("--at-lsn", o->digest.at_lsn,
                "a database read at an exact WAL position, recorded in the manifest (at_lsn): on a primary "
                "(wal_level = logical) a temporary logical slot's snapshot, one database; on a hot standby with "
                "replay paused meanwhile. 'restore-test --target-manifest' restores to it");
  cmd->add_flag("--all-databases", o->all_databases,
                "with --at-lsn, on a hot standby: every database of the cluster at one WAL position, replay paused "
                "for them all; -o DIR gets one manifest per database (DATABASE.json), which 'restore-test "
                "--target-manifest DIR' restores and proves together");
  cmd->add_flag("-q,--quiet", o->quiet, "no run statistics or progress on stderr");
  o->progress.Add(cmd);
  cmd->add_option("--shard", o->selection.shard,
                  "digest only shard k of N (k/N, 0-based): a deterministic 1/N of every table's rows, selected by "
                  "the server for a database; add the N manifests with 'vouch merge'");
  o->selection.Add(cmd);
  o->live.Add(cmd);
  o->sign.Add(cmd);
  o->ledger.Add(cmd);
  cmd->add_option("--chain", o->chains,
                  "also verify this audit chain while digesting, as drill's --chain (TABLE[:key=value,...], "
                  "repeatable): its links, continuity and head; with --ledger the head is recorded, and a later run "
                  "of a database checks that it is still there");
  return {cmd, [o]() -> int {
            if (Status st = o->sign.Check(o->output, /*json=*/true, !o->ledger.file.empty()); !st.ok()) return Fail(st);
            if (Status st = o->selection.Apply(o->digest); !st.ok()) return Fail(st);
            if (Status st = o->live.Apply(o->digest); !st.ok()) return Fail(st);
            auto size = ParseSize(o->chunk_size);
            if (!size || *size < 1024 || *size > (size_t{256} << 20)) {
              return Fail(InvalidArgument("--chunk-size " + o->chunk_size + ": expected 1K..256M"));
            }
            o->digest.chunk_size = *size;
            if (!o->globals.empty() && LooksLikeConninfo(o->source)) {
              return Fail(InvalidArgument("--globals " + o->globals +
                                          ": a globals file is for a dump; a database's roles are read from its "
                                          "catalogs"));
            }
            if (o->digest.at_lsn && !LooksLikeConninfo(o->source)) {
              return Fail(InvalidArgument(o->source + ": --at-lsn reads a database; a dump has no WAL position"));
            }
            if (o->schema_only) {
              if (!LooksLikeConninfo(o->source)) {
                return Fail(InvalidArgument(o->source +
                                            ": --schema-only reads a database's catalogs; a dump's schema objects "
                                            "come with its digest"));
              }
              if (!o->output.empty() || o->format != "text" || !o->digest.filter.empty()) {
                return Fail(InvalidArgument("--schema-only prints the schema hash only: no -o, --format json or "
                                            "table selection"));
              }
              o->digest.schema_only = true;
            }
            if (o->all_databases) {
              if (!o->digest.at_lsn) {
                return Fail(InvalidArgument("--all-databases reads every database at one WAL position: add --at-lsn"));
              }
              if (o->output.empty() || o->format != "text" || o->schema_only || !o->globals.empty()) {
                return Fail(
                    InvalidArgument("--all-databases writes a manifest per database into -o DIR: give -o, "
                                    "and no --format json, --schema-only or --globals"));
              }
              return DigestEveryDatabase(o->source, o->digest, o->output, o->list, o->quiet, o->sign, o->ledger);
            }
            // --chain: the drill's chain check runs in the same pass.
            CheckOptions checks;
            checks.catalog_fks = false;
            checks.sequence_columns = false;
            for (const auto& flag : o->chains) {
              auto spec = ParseChainFlag(flag);
              if (!spec.ok()) return Fail(spec.status().WithContext("--chain '" + flag + "'"));
              checks.chains.push_back(std::move(spec).value());
            }
            if (!checks.chains.empty() && (o->schema_only || o->all_databases)) {
              return Fail(InvalidArgument("--chain reads rows: no --schema-only or --all-databases"));
            }
            std::optional<DrillObserver> observer;
            if (!checks.chains.empty()) o->digest.observer = &observer.emplace(checks);
            o->digest.progress = &o->run.side[0];
            auto display = o->progress.Start("vouch digest", {{"", &o->run.side[0]}}, nullptr, o->quiet);
            auto src = OpenSource(o->source, o->digest);
            if (!src.ok()) return Fail(src.status());
            auto report = DigestSource(**src, o->digest);
            display.reset();
            if (!report.ok()) return Fail(report.status());
            SourceChecks chain_checks;
            if (observer) {
              auto finished = observer->Finish(src->get(), o->digest, &*report);
              if (!finished.ok()) return Fail(finished.status());
              chain_checks = std::move(finished).value();
            }
            if (!o->globals.empty()) {
              auto globals = ParseGlobalsFile(o->globals);
              if (!globals.ok()) return Fail(globals.status());
              if (!report->schema) {
                report->schema.emplace();
                report->schema->origin = "dump";
              }
              report->schema->MergeCluster(*globals);
            }
            // The manifest is written a table at a time, never held whole.
            auto manifest = [&](const Sink& sink) { WriteManifest(*report, VOUCH_VERSION, sink); };
            if (!o->output.empty() && !WriteFile(o->output, manifest)) {
              return Fail(IoError(o->output + ": cannot write manifest"));
            }
            if (Status st = o->sign.Sign(o->output); !st.ok()) return Fail(st);
            bool anomalous = false;
            bool chains_pass = true;
            for (const auto& c : chain_checks.chains) chains_pass = chains_pass && c.Passed();
            if (!o->schema_only) {
              // A digest measures: its verdict is MEASURED when every table
              // was hashed.
              auto entry = LedgerEntryOf("digest", *report, report->outcome());
              if (entry.verdict == "PASS") entry.verdict = "MEASURED";
              if (!chains_pass) entry.verdict = "FAIL";
              if (Status st = AddChainHeads(o->ledger.file, o->source, chain_checks, entry); !st.ok()) return Fail(st);
              auto anomaly = o->ledger.Append(entry, o->sign);
              if (!anomaly.ok()) return Fail(anomaly.status());
              anomalous = *anomaly;
            }
            if (o->format == "json") {
              manifest(StdoutSink());
            } else if (o->schema_only) {
              std::cout << DigestSchemaText(*report);
            } else {
              std::cout << DigestText(*report, o->list);
              for (const auto& c : chain_checks.chains) {
                std::cout << fmt::format(
                    "Audit chain {}: {} — {} entries, head seq {} hash {}; {} link failures, {} breaks, {} "
                    "duplicates\n",
                    c.spec.table, c.Passed() ? "✅ verified" : "❌ broken", c.result.entries, c.result.max_seq,
                    c.result.head_hash.empty() ? "-" : c.result.head_hash, c.result.link_failures,
                    c.result.continuity_breaks, c.result.duplicates);
                if (!c.found) std::cout << "  table not found\n";
                if (!c.error.empty()) std::cout << "  " << c.error << "\n";
              }
            }
            if (!o->quiet) PrintRunStats({&*report});  // not for manifests
            // A digest is a measurement, not a verification: no verdict
            // (but a canary, with --fail-on-anomaly).
            return anomalous || !chains_pass ? 1 : 0;
          }};
}

}  // namespace vouch::cli
