// vouch verify-archive ARCHIVE: a pg_dump archive read to its end without
// restoring it.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "command.h"
#include "render/digest.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/verify_archive.h"

namespace vouch::cli {

Command AddVerifyArchive(CLI::App& app) {
  struct Options {
    std::string archive, checksums, format = "text", output;
    SignFlag sign;
    LedgerFlag ledger;
    DigestOptions digest;
    Selection selection;  // --shard only
    bool quiet = false;
    TableList list = TableList::kAuto;
    ProgressFlag progress;
    RunProgress run;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "verify-archive",
      "Read a pg_dump archive (custom, directory or tar) to its end without restoring it: structure, "
      "every block decompressed, every row checked; per-table rows and content hashes");
  cmd->footer(
      "Examples:\n"
      "  vouch verify-archive nightly.dump --checksums nightly.dump.sha256\n"
      "  vouch verify-archive /backups/app.dir --jobs 2 -o app-manifest.json");
  cmd->add_option("ARCHIVE", o->archive, "custom-format file, directory-format directory or tar file")->required();
  cmd->add_option("--checksums", o->checksums, "also verify this sha256sum/md5sum-style checksum file");
  cmd->add_option("-j,--jobs", o->digest.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->add_option("--format", o->format,
                  "stdout format: text, json, or prometheus (gauges for a node_exporter textfile)")
      ->check(CLI::IsMember({"text", "json", "prometheus"}));
  AddListOption(cmd, o->list);
  cmd->add_option("-o,--output", o->output, "also write the JSON digest manifest to FILE");
  cmd->add_flag("-q,--quiet", o->quiet, "no run statistics or progress on stderr");
  o->progress.Add(cmd);
  cmd->add_option("--shard", o->selection.shard,
                  "hash only shard k of N (k/N) of the rows; the archive is still read to its end");
  o->sign.Add(cmd);
  o->ledger.Add(cmd);
  return {cmd, [o]() -> int {
            if (Status st = o->sign.Check(o->output, /*json=*/true, !o->ledger.file.empty()); !st.ok()) return Fail(st);
            if (Status st = o->selection.Apply(o->digest); !st.ok()) return Fail(st);
            VerifyArchiveOptions vo;
            vo.digest = o->digest;
            vo.checksums = o->checksums;
            vo.digest.progress = &o->run.side[0];
            auto display = o->progress.Start("vouch verify-archive", {{"", &o->run.side[0]}}, nullptr, o->quiet);
            auto v = VerifyArchive(o->archive, vo);
            display.reset();
            if (!v.ok()) return Fail(v.status());
            const bool complete = v->ContentComplete();
            if (!o->output.empty() && complete &&
                !WriteFile(o->output, [&](const Sink& sink) { WriteManifest(v->digest, VOUCH_VERSION, sink); })) {
              return Fail(IoError(o->output + ": cannot write manifest"));
            }
            if (complete) {
              if (Status st = o->sign.Sign(o->output); !st.ok()) return Fail(st);
            }
            auto entry = LedgerEntryOf("verify-archive", v->digest, v->outcome());
            entry.source["toc_sha256"] = v->facts.toc_sha256;  // the dump's identity
            auto anomaly = o->ledger.Append(entry, o->sign);
            if (!anomaly.ok()) return Fail(anomaly.status());
            if (o->format == "prometheus") {
              const double now =
                  std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
              std::cout << ArchivePrometheus(*v, now);
            } else if (o->format == "json") {
              std::cout << ArchiveJson(*v, complete ? ManifestJson(v->digest, VOUCH_VERSION) : std::string());
            } else {
              std::cout << ArchiveText(*v, o->list);
            }
            if (!o->quiet && !v->damage) PrintRunStats({&v->digest});
            if (v->damage) std::fprintf(stderr, "vouch: archive damaged: %s\n", v->damage->detail.c_str());
            if (!o->output.empty() && !complete) {
              std::fprintf(stderr, "vouch: no manifest written: the digest is incomplete\n");
            }
            return *anomaly ? 1 : ExitCode(v->outcome());
          }};
}

}  // namespace vouch::cli
