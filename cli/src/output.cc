#include "output.h"

#include <fmt/format.h>

#include <algorithm>

namespace vouch::cli {

std::optional<size_t> ParseSize(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  unsigned long long v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
    if (v > (1ull << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = s.substr(i);
  if (unit.empty() || unit == "B") return v;
  if (unit == "K" || unit == "KB" || unit == "KiB") return v << 10;
  if (unit == "M" || unit == "MB" || unit == "MiB") return v << 20;
  if (unit == "G" || unit == "GB" || unit == "GiB") return v << 30;
  return std::nullopt;
}

std::string GroupThousands(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string DigestText(const DigestReport& r) {
  std::string out = fmt::format("Source: {} ({}, compression {})\n", r.source.location, r.source.kind, r.source.compression);
  auto ver = r.source.properties.find("pg_dump_version");
  if (ver != r.source.properties.end()) out += fmt::format("pg_dump version: {}\n", ver->second);
  size_t wname = 5, wrows = 9;
  for (const auto& t : r.tables) {
    wname = std::max(wname, t.QualifiedName().size());
    wrows = std::max(wrows, GroupThousands(t.digest.rows()).size());
  }
  out += fmt::format("\n| {:<{}} | {:>{}} | {:<32} |\n", "Table", wname, "Row Count", wrows, "Content Hash");
  out += fmt::format("|{:-<{}}|{:->{}}|{:-<34}|\n", "", wname + 2, "", wrows + 2, "");
  uint64_t total = 0;
  for (const auto& t : r.tables) {
    out += fmt::format("| {:<{}} | {:>{}} | {} |\n", t.QualifiedName(), wname, GroupThousands(t.digest.rows()), wrows,
                       t.digest.ContentHashHex());
    total += t.digest.rows();
  }
  out += fmt::format("\n{} tables, {} rows\n", r.tables.size(), GroupThousands(total));
  out += fmt::format("FINAL_VALIDATION_HASH: {}\n", r.FinalHashHex());
  return out;
}

std::string RunStats(const DigestReport& r) {
  double mb = static_cast<double>(r.bytes_read) / 1e6;
  return fmt::format("vouch: read {:.1f} MB of rows in {:.2f} s ({:.0f} MB/s) with {} jobs\n", mb, r.seconds,
                     r.seconds > 0 ? mb / r.seconds : 0.0, r.jobs);
}

}  // namespace vouch::cli
