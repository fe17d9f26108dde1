// vouch merge PART...: the manifests of the N shards of one source, added.
#include <iostream>
#include <memory>

#include "command.h"
#include "render/digest.h"
#include "vouch/engine/manifest.h"
#include "vouch/engine/merge.h"

namespace vouch::cli {

Command AddMerge(CLI::App& app) {
  struct Options {
    std::vector<std::string> parts;
    std::string format = "text", output;
    TableList list = TableList::kAuto;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "merge", "Add the manifests of the N shards of one source (digest --shard k/N -o part.json) into one manifest");
  cmd->footer(
      "Examples:\n"
      "  vouch digest postgresql://vouch@db1/app --shard 0/2 -o part-0.json   # and 1/2 on another host\n"
      "  vouch merge part-0.json part-1.json -o app-manifest.json");
  cmd->add_option("PART", o->parts, "shard manifests, all N of them")->required();
  cmd->add_option("-o,--output", o->output, "write the merged manifest to FILE");
  cmd->add_option("--format", o->format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  AddListOption(cmd, o->list);
  return {cmd, [o]() -> int {
            auto merged = MergeShards(o->parts);
            if (!merged.ok()) return Fail(merged.status());
            auto manifest = [&](const Sink& sink) { WriteManifest(*merged, VOUCH_VERSION, sink); };
            if (!o->output.empty() && !WriteFile(o->output, manifest)) {
              return Fail(IoError(o->output + ": cannot write manifest"));
            }
            if (o->format == "json") {
              manifest(StdoutSink());
            } else {
              std::cout << DigestText(*merged, o->list);
            }
            return ExitCode(merged->outcome());
          }};
}

}  // namespace vouch::cli
