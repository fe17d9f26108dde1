// vouch command line: parses arguments, runs a command from the library, and
// maps its outcome to an exit code (DESIGN.md): 0 verified without findings,
// 1 findings, 2 usage/configuration error, 3 could not verify.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "output.h"
#include "vouch/engine/compare.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/engine/manifest.h"
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

}  // namespace

#define VOUCH_CLI_CHECK(expr)                 \
  do {                                        \
    ::vouch::Status st_ = (expr);             \
    if (!st_.ok()) return Fail(st_);          \
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
      "digest", "Digest every table of SOURCE: a database URI, a pg_dump archive (custom, directory, tar), a plain dump "
                "(.sql[.gz|.zst|.lz4]) or a vouch manifest");
  digest->add_option("SOURCE", source, "database URI, dump, archive or manifest")->required();
  digest->add_option("-j,--jobs", opt.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  digest->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  digest->add_option("-o,--output", output, "also write the JSON manifest to FILE");
  digest->add_option("--chunk-size", chunk_size, "bytes of rows per chunk, e.g. 64K, 4M (1K..256M)");
  digest->add_option("--buckets", opt.buckets, "key buckets per table (power of two)")
      ->check([](const std::string& s) {
        unsigned long v = std::stoul(s);
        return (v >= 1 && v <= (1u << 20) && (v & (v - 1)) == 0) ? std::string() : std::string("must be a power of two <= 1048576");
      });
  digest->add_flag("-q,--quiet", quiet, "no run statistics on stderr");
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
  auto* compare = app.add_subcommand("compare", "Compare EXPECTED with ACTUAL table by table and name the differing rows");
  compare->add_option("EXPECTED", expected, "database URI, dump file or manifest")->required();
  compare->add_option("ACTUAL", actual, "database URI, dump file or manifest")->required();
  compare->add_option("-j,--jobs", opt.jobs, "threads and connections per side (default: all cores)")->check(CLI::Range(1, 1024));
  compare->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  compare->add_option("--max-keys", cmp.max_keys, "keys listed per kind and table (default 20)");
  compare->add_flag("-q,--quiet", quiet, "no run statistics on stderr");
  add_selection(compare);

  std::string archive, checksums;
  auto* verify = app.add_subcommand(
      "verify-archive", "Read a pg_dump archive (custom, directory or tar) to its end without restoring it: structure, "
                        "every block decompressed, every row checked; per-table rows and content hashes");
  verify->add_option("ARCHIVE", archive, "custom-format file, directory-format directory or tar file")->required();
  verify->add_option("--checksums", checksums, "also verify this sha256sum/md5sum-style checksum file");
  verify->add_option("-j,--jobs", opt.jobs, "threads (default: all cores)")->check(CLI::Range(1, 1024));
  verify->add_option("--format", format, "stdout format: text or json")->check(CLI::IsMember({"text", "json"}));
  verify->add_option("-o,--output", output, "also write the JSON digest manifest to FILE");
  verify->add_flag("-q,--quiet", quiet, "no run statistics on stderr");

  app.add_subcommand("help", "Show this help");
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
    if (!quiet && v->damage.ok()) std::cerr << vouch::cli::RunStats(v->digest);
    if (!v->damage.ok()) std::fprintf(stderr, "vouch: archive damaged: %s\n", v->damage.message().c_str());
    if (!output.empty() && !complete) std::fprintf(stderr, "vouch: no manifest written: the digest is incomplete\n");
    if (!v->Verified()) return 1;
    return complete ? 0 : 3;
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
    return report->AllMatch() ? 0 : 1;
  }
  return 2;
}
