// Micro-benchmarks of the hot paths, in bytes/s (SetBytesProcessed) and
// items/s (rows, values, links, merges):
//   BM_RowHash     H(row) over ~100-byte rows (the 1.5 GB/s/core target)
//   BM_FoldChunk   a whole 4 MB chunk: split rows, canonicalize, hash, fold
//   BM_PlainReader plain-dump reader + pipeline end to end from memory
//   BM_ChainLinkVerify  audit-chain links/s (items/s): SHA-256 links of
//                  drill-shaped audit_log rows with a 200-byte payload
//   BM_SplitCopyRow     COPY text rows into fields (what the chain verifier does per row)
//   BM_TimestamptzUtc   rewriting a timestamptz to UTC (dumps taken in another zone)
//   BM_InflateIsal / BM_InflateZlib  gzip decode through vouch's decoder (ISA-L)
//                  and through plain zlib, same stream: bytes/s of output
//   BM_ZstdDecode / BM_Lz4Decode     vouch's zstd and lz4 frame decoders
//   BM_Crc32c      CRC-32C (backup manifests), hardware path and portable table
//   BM_DigestMerge TableDigest::Merge of two 4096-bucket digests (shards, threads)
#include <benchmark/benchmark.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "vouch/base/copy_text.h"
#include "vouch/base/timestamptz.h"
#include "vouch/chain/link_verifier.h"
#include "vouch/engine/digest_pipeline.h"
#include "vouch/hashing/crc32c.h"
#include "vouch/hashing/hex.h"
#include "vouch/hashing/row_hash.h"
#include "vouch/hashing/sha256.h"
#include "vouch/hashing/table_digest.h"
#include "vouch/readers/binary_copy.h"
#include "vouch/readers/byte_source.h"
#include "vouch/readers/canonical_row.h"
#include "vouch/readers/plain_dump_reader.h"

namespace {

// ThreadRange(1, kMaxThreads): 1, 2, 4, ... up to the machine's hardware threads.
const int kMaxThreads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

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
BENCHMARK(BM_RowHash)->Arg(100)->Arg(250)->Arg(1000)->ThreadRange(1, kMaxThreads);

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
      if (canon.Canonicalize(std::string_view(p, static_cast<size_t>(nl - p)), scratch, &c, &fields) !=
          vouch::RowCanonicalizer::kOk)
        std::abort();
      d.AddRowHash(vouch::HashRow(c));
      p = nl + 1;
    }
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.SetLabel(state.range(0) ? "permuted columns" : "identity order");
}
BENCHMARK(BM_FoldChunk)->Arg(0)->Arg(1)->ThreadRange(1, kMaxThreads);

void BM_PlainReaderPipeline(benchmark::State& state) {
  std::string dump =
      "--\n-- PostgreSQL database dump\n--\n\n--\n-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: "
      "x\n--\n\n"
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
  auto v =
      vouch::LinkVerifier::Make(vouch::ChainSpec(), {"seq", "ts", "actor", "action", "payload", "prev_hash", "hash"},
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
BENCHMARK(BM_ChainLinkVerify)->ThreadRange(1, kMaxThreads);

void BM_SplitCopyRow(benchmark::State& state) {
  static const std::vector<std::string> rows = MakeAuditRows(4096, 200);
  std::vector<std::string_view> fields;
  size_t bytes = 0, n = 0;
  for (auto _ : state) {
    for (const std::string& row : rows) {
      if (!vouch::SplitCopyRow(row, fields)) std::abort();
      n += fields.size();
      bytes += row.size() + 1;
    }
  }
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_SplitCopyRow)->ThreadRange(1, kMaxThreads);

// Arg 0: values already in UTC (+00); 1: values with a -04 offset, as a dump
// taken in America/New_York writes them.
void BM_TimestamptzUtc(benchmark::State& state) {
  std::vector<std::string> values;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 4096; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "2025-%02d-%02d %02d:%02d:%02d.%06d%s", static_cast<int>(1 + rng() % 12),
                  static_cast<int>(1 + rng() % 28), static_cast<int>(rng() % 24), static_cast<int>(rng() % 60),
                  static_cast<int>(rng() % 60), static_cast<int>(rng() % 1000000), state.range(0) ? "-04" : "+00");
    values.emplace_back(buf);
  }
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& v : values) {
      out.clear();
      if (!vouch::AppendTimestamptzUtc(v, &out)) std::abort();
      bytes += v.size();
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(state.range(0) ? "offset -04" : "already +00");
}
BENCHMARK(BM_TimestamptzUtc)->Arg(0)->Arg(1)->ThreadRange(1, kMaxThreads);

// The decoders' input: drill-shaped COPY text. Random payload letters make it
// compress less well (≈ 2.4:1 with gzip -6, in the labels) than real
// dumps, so these numbers, per byte of output, are on the slow side.
const std::string& DecodeInput() {
  static const std::string text = MakeRows(32 << 20, 100);
  return text;
}

// A ByteSource over bytes that outlive it, so decoding is timed without a copy.
class ViewSource final : public vouch::ByteSource {
 public:
  explicit ViewSource(std::string_view data) : data_(data) {}
  vouch::Result<size_t> Read(char* dst, size_t n) override {
    n = std::min(n, data_.size() - pos_);
    std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::string Describe() const override { return "<bench>"; }
  uint64_t RawOffset() const override { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// The compression ratio, for labels (a user counter would break the CSV
// reporter, which wants every counter in every row).
std::string RatioLabel(const std::string& what, size_t compressed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ", %.2f:1",
                static_cast<double>(DecodeInput().size()) / static_cast<double>(compressed));
  return what + buf;
}

// Decodes `compressed` with vouch's decoder for `c` in 1 MB reads; aborts on
// an error or a wrong output length.
void DecodeWithVouch(benchmark::State& state, vouch::Compression c, const std::string& compressed,
                     const std::string& label) {
  std::string buf(1 << 20, '\0');
  for (auto _ : state) {
    auto dec = vouch::MakeDecoder(c, std::make_unique<ViewSource>(compressed), "bench");
    size_t total = 0;
    for (;;) {
      auto r = dec->Read(buf.data(), buf.size());
      if (!r.ok()) std::abort();
      if (*r == 0) break;
      total += *r;
    }
    if (total != DecodeInput().size()) std::abort();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * DecodeInput().size()));
  state.SetLabel(RatioLabel(label, compressed.size()));
}

const std::string& GzipInput() {
  static const std::string gz = [] {
    const std::string& in = DecodeInput();
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();  // gzip wrapper
    std::string out(deflateBound(&zs, in.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  }();
  return gz;
}

void BM_InflateIsal(benchmark::State& state) {
  DecodeWithVouch(state, vouch::Compression::kGzip, GzipInput(), "vouch gzip decoder (ISA-L igzip)");
}
BENCHMARK(BM_InflateIsal)->ThreadRange(1, kMaxThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same gzip stream through zlib's inflate, 1 MB of output at a time, as
// gzip -dc and pg_restore decode.
void BM_InflateZlib(benchmark::State& state) {
  const std::string& gz = GzipInput();
  std::string buf(1 << 20, '\0');
  for (auto _ : state) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) std::abort();
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    zs.avail_in = static_cast<uInt>(gz.size());
    int ret = Z_OK;
    while (ret != Z_STREAM_END) {
      zs.next_out = reinterpret_cast<Bytef*>(buf.data());
      zs.avail_out = static_cast<uInt>(buf.size());
      ret = inflate(&zs, Z_NO_FLUSH);
      if (ret != Z_OK && ret != Z_STREAM_END) std::abort();
    }
    if (zs.total_out != DecodeInput().size()) std::abort();
    inflateEnd(&zs);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * DecodeInput().size()));
  state.SetLabel(RatioLabel("zlib inflate", gz.size()));
}
BENCHMARK(BM_InflateZlib)->ThreadRange(1, kMaxThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ZstdDecode(benchmark::State& state) {
  static const std::string zst = [] {
    const std::string& in = DecodeInput();
    std::string out(ZSTD_compressBound(in.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
    if (ZSTD_isError(n)) std::abort();
    out.resize(n);
    return out;
  }();
  DecodeWithVouch(state, vouch::Compression::kZstd, zst, "zstd -3");
}
BENCHMARK(BM_ZstdDecode)->ThreadRange(1, kMaxThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Lz4Decode(benchmark::State& state) {
  static const std::string lz = [] {
    const std::string& in = DecodeInput();
    std::string out(LZ4F_compressFrameBound(in.size(), nullptr), '\0');
    size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr);
    if (LZ4F_isError(n)) std::abort();
    out.resize(n);
    return out;
  }();
  DecodeWithVouch(state, vouch::Compression::kLz4, lz, "lz4 frame");
}
BENCHMARK(BM_Lz4Decode)->ThreadRange(1, kMaxThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arg 0: Crc32c (the hardware path where the CPU has one); 1: the portable table.
void BM_Crc32c(benchmark::State& state) {
  std::string block = MakeRows(1 << 20, 100);
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = state.range(0) ? vouch::Crc32cExtendPortable(crc, block.data(), block.size())
                         : vouch::Crc32cExtend(crc, block.data(), block.size());
  }
  benchmark::DoNotOptimize(crc);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * block.size()));
  state.SetLabel(state.range(0) ? "portable" : vouch::Crc32cImplementation());
}
BENCHMARK(BM_Crc32c)->Arg(0)->Arg(1)->ThreadRange(1, kMaxThreads);

// What `vouch merge` and the pipeline's per-thread fold do per table.
void BM_DigestMerge(benchmark::State& state) {
  std::mt19937_64 rng(11);
  vouch::TableDigest part;
  for (int i = 0; i < 300000; ++i) part.AddRowHash(vouch::U128{rng(), rng()});
  part.Finish();  // 4096 buckets
  vouch::TableDigest total = part;
  for (auto _ : state) total.Merge(part);
  benchmark::DoNotOptimize(total);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * part.bucket_count() * sizeof(vouch::U128)));
}
BENCHMARK(BM_DigestMerge)->ThreadRange(1, kMaxThreads);

}  // namespace

BENCHMARK_MAIN();

// The binary COPY converter (live reads) on rows shaped like the drill
// dataset's audit_log: timestamptz, int8, and five text columns of about 200
// bytes in all; bytes are the COPY text produced.
void BM_BinaryCopyDecode(benchmark::State& state) {
  auto be = [](uint64_t v, int n) {
    std::string s;
    for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return s;
  };
  std::mt19937_64 rng(5);
  std::string stream("PGCOPY\n\377\r\n\0", 11);
  stream += be(0, 4) + be(0, 4);
  const int kRows = 4096;
  for (int r = 0; r < kRows; ++r) {
    stream += be(7, 2);
    stream += be(8, 4) + be(788918400000000ull + rng() % 100000000000000ull, 8);
    stream += be(8, 4) + be(rng() % 100000000, 8);
    for (int c = 0; c < 5; ++c) {
      std::string text(20 + rng() % 40, 'a' + static_cast<char>(rng() % 26));
      stream += be(text.size(), 4) + text;
    }
  }
  stream += be(0xffff, 2);
  using K = vouch::BinaryKind;
  const std::vector<vouch::BinaryColumn> cols = {{K::kTimestampTz}, {K::kInt8}, {K::kText}, {K::kText},
                                                 {K::kText},        {K::kText}, {K::kText}};
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    vouch::BinaryCopyDecoder dec(cols);
    out.clear();
    if (!dec.Feed(stream, out).ok() || !dec.Finish().ok()) std::abort();
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRows));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_BinaryCopyDecode)->ThreadRange(1, kMaxThreads);
