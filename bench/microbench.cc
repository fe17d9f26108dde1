// Micro-benchmarks of the hot paths, in bytes/s (SetBytesProcessed):
//   BM_RowHash     H(row) over ~100-byte rows (the 1.5 GB/s/core target)
//   BM_FoldChunk   a whole 4 MB chunk: split rows, canonicalize, hash, fold
//   BM_PlainReader plain-dump reader + pipeline end to end from memory
//   BM_ChainLinkVerify  audit-chain links/s (items/s): SHA-256 links of
//                  drill-shaped audit_log rows with a 200-byte payload
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>

#include "vouch/chain/link_verifier.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/sha256.h"
#include "vouch/hashing/row_hash.h"
#include "vouch/hashing/table_digest.h"
#include "vouch/readers/canonical_row.h"
#include "vouch/readers/plain_dump_reader.h"

namespace {

// Rows shaped like the drill dataset: an id, a timestamp, text, a hex hash.
std::string MakeRows(size_t bytes, size_t row_len) {
  std::mt19937_64 rng(42);
  std::string out;
  uint64_t id = 1;
  while (out.size() < bytes) {
    std::string row = std::to_string(id++);
    row += "\t2025-09-15 08:22:15.123456+00\tagent-";
    row += std::to_string(rng() % 1000);
    row += "\t";
    while (row.size() + 1 < row_len) row.push_back(static_cast<char>('a' + rng() % 26));
    out += row;
    out.push_back('\n');
  }
  return out;
}

void BM_RowHash(benchmark::State& state) {
  const size_t row_len = static_cast<size_t>(state.range(0));
  std::string rows = MakeRows(1 << 20, row_len);
  size_t n = rows.size() / row_len;
  vouch::U128 acc;
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) acc += vouch::HashRow(rows.data() + i * row_len, row_len - 1);
  }
  benchmark::DoNotOptimize(acc);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * row_len));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_RowHash)->Arg(100)->Arg(250)->Arg(1000)->ThreadRange(1, 2);

void BM_FoldChunk(benchmark::State& state) {
  std::string rows = MakeRows(4 << 20, 100);
  vouch::TableInfo t;
  t.schema = "public";
  t.name = "t";
  // Column names out of byte order, so rows are permuted as dump rows are.
  t.SetColumns(state.range(0) ? std::vector<std::string>{"id", "created_at", "actor", "payload"}
                              : std::vector<std::string>{"a", "b", "c", "d"});
  vouch::RowCanonicalizer canon(t, /*check_escapes=*/true);  // as the pipeline runs it
  vouch::CanonicalScratch scratch;
  for (auto _ : state) {
    vouch::TableDigest d;
    const char* p = rows.data();
    const char* end = p + rows.size();
    while (p < end) {
      const char* nl = static_cast<const char*>(memchr(p, '\n', static_cast<size_t>(end - p)));
      std::string_view c;
      size_t fields;
      if (canon.Canonicalize(std::string_view(p, static_cast<size_t>(nl - p)), scratch, &c, &fields) != vouch::RowCanonicalizer::kOk) std::abort();
      d.AddRowHash(vouch::HashRow(c));
      p = nl + 1;
    }
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.SetLabel(state.range(0) ? "permuted columns" : "identity order");
}
BENCHMARK(BM_FoldChunk)->Arg(0)->Arg(1)->ThreadRange(1, 2);

void BM_PlainReaderPipeline(benchmark::State& state) {
  std::string dump =
      "--\n-- PostgreSQL database dump\n--\n\n--\n-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: x\n--\n\n"
      "COPY public.t (id, created_at, actor, payload) FROM stdin;\n";
  dump += MakeRows(64 << 20, 100);
  dump += "\\.\n\n\n--\n-- PostgreSQL database dump complete\n--\n\n";
  for (auto _ : state) {
    state.PauseTiming();  // copying the 64 MB input is setup, not reading
    auto reader = vouch::MakePlainDumpReader(vouch::MakeMemorySource(dump), "bench", vouch::Compression::kNone);
    state.ResumeTiming();
    vouch::DigestOptions opt;
    opt.jobs = static_cast<int>(state.range(0));
    auto r = vouch::DigestTables(*reader, opt);
    if (!r.ok()) std::abort();
    benchmark::DoNotOptimize(r->final_hash);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * dump.size()));
}
BENCHMARK(BM_PlainReaderPipeline)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// audit_log COPY rows (seq, ts, actor, action, payload, prev_hash, hash)
// linked as vouch-gen links them: hash = hex(sha256(prev|seq|ts|actor|action|payload)).
std::vector<std::string> MakeAuditRows(size_t n, size_t payload_len) {
  std::mt19937_64 rng(7);
  std::vector<std::string> rows;
  std::string prev(64, '0');
  for (size_t seq = 1; seq <= n; ++seq) {
    std::string payload;
    while (payload.size() < payload_len) payload.push_back(static_cast<char>('a' + rng() % 26));
    std::string input = prev + "|" + std::to_string(seq) + "|2025-09-15T08:22:10.123456Z|agent-00042|update|" + payload;
    vouch::Sha256Digest d = vouch::Sha256Of(input);
    std::string hash = vouch::HexEncode(d.data(), d.size());
    rows.push_back(std::to_string(seq) + "\t2025-09-15 08:22:10.123456+00\tagent-00042\tupdate\t" + payload + "\t" +
                   prev + "\t" + hash);
    prev = hash;
  }
  return rows;
}

void BM_ChainLinkVerify(benchmark::State& state) {
  static const std::vector<std::string> rows = MakeAuditRows(4096, 200);
  auto v = vouch::LinkVerifier::Make(vouch::ChainSpec(),
                                     {"seq", "ts", "actor", "action", "payload", "prev_hash", "hash"},
                                     {false, true, false, false, false, false, false});
  if (!v.ok()) std::abort();
  vouch::LinkVerifier::Scratch scratch;  // one per thread, as in the pipeline
  size_t ok = 0, bytes = 0;
  for (auto _ : state) {
    for (const std::string& row : rows) {
      vouch::ChainLink link;
      v->Verify(row, scratch, &link);
      ok += link.link_ok;
      bytes += row.size() + 1;
    }
  }
  if (ok != static_cast<size_t>(state.iterations()) * rows.size()) state.SkipWithError("a link failed to verify");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ChainLinkVerify)->ThreadRange(1, 2);

}  // namespace

BENCHMARK_MAIN();
