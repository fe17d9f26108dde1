#include "vouch/readers/table_stream.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "vouch/readers/byte_scan.h"
#include "vouch/readers/canonical_row.h"
#include "vouch/readers/schema_catalog.h"

namespace vouch {
namespace {

bool IsBareIdentifier(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (unsigned char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string QuoteIdent(const std::string& s) {
  if (IsBareIdentifier(s)) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string QualifiedTableName(const std::string& schema, const std::string& name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

std::string TableInfo::QualifiedName() const { return QualifiedTableName(schema, name); }

void TableInfo::SetColumns(std::vector<std::string> cols) {
  columns = std::move(cols);
  canonical_order.resize(columns.size());
  std::iota(canonical_order.begin(), canonical_order.end(), 0u);
  // Byte order of the UTF-8 names (std::string compares as unsigned char).
  std::stable_sort(canonical_order.begin(), canonical_order.end(),
                   [&](uint32_t a, uint32_t b) { return columns[a] < columns[b]; });
  canonical_is_identity = true;
  for (size_t i = 0; i < canonical_order.size(); ++i) {
    if (canonical_order[i] != i) canonical_is_identity = false;
  }
}

RowCanonicalizer::RowCanonicalizer(const TableInfo& table, bool check_escapes)
    : table_(&table), ncols_(table.columns.size()), rewrite_(false), check_escapes_(check_escapes) {
  for (TzKind k : table.tz_kinds) rewrite_ = rewrite_ || k != TzKind::kNone;
}

RowCanonicalizer::Outcome RowCanonicalizer::Canonicalize(std::string_view row, CanonicalScratch& s,
                                                         std::string_view* out, size_t* fields) const {
  if (ncols_ == 0) {  // COPY of a table without columns writes empty lines
    *fields = row.empty() ? 0 : 1;
    *out = row;
    return row.empty() ? kOk : kFieldCount;
  }
  const char* p = row.data();
  const char* end = p + row.size();
  if (check_escapes_) {
    size_t bad = FindInvalidCopyEscape(p, row.size());
    if (bad != row.size()) {
      *fields = CountByte(p, bad, '\t');  // the column it is in
      return kBadEscape;
    }
  }
  if (table_->canonical_is_identity && !rewrite_) {
    size_t tabs = CountByte(p, row.size(), '\t');
    *fields = tabs + 1;
    *out = row;
    return tabs + 1 == ncols_ ? kOk : kFieldCount;
  }
  s.bounds.clear();
  const char* field = p;
  while (true) {
    const char* tab = static_cast<const char*>(memchr(field, '\t', static_cast<size_t>(end - field)));
    const char* fend = tab ? tab : end;
    s.bounds.push_back(static_cast<uint32_t>(field - p));
    s.bounds.push_back(static_cast<uint32_t>(fend - p));
    if (!tab) break;
    field = tab + 1;
  }
  *fields = s.bounds.size() / 2;
  if (*fields != ncols_) return kFieldCount;
  s.row.clear();
  for (size_t i = 0; i < ncols_; ++i) {
    uint32_t k = table_->canonical_order[i];
    if (i) s.row.push_back('\t');
    std::string_view f(p + s.bounds[2 * k], s.bounds[2 * k + 1] - s.bounds[2 * k]);
    TzKind kind = rewrite_ ? table_->tz_kinds[k] : TzKind::kNone;
    if (kind == TzKind::kNone || f == "\\N") {
      s.row.append(f);
      continue;
    }
    *fields = k;
    size_t before = s.row.size();
    bool ok = true;
    switch (kind) {
      case TzKind::kScalar: ok = AppendTimestamptzUtc(f, &s.row); break;
      case TzKind::kQuotedElements: ok = AppendQuotedTimestamptzUtc(f, &s.row); break;
      case TzKind::kCheckOnly:
        if (HasNonUtcTimestamptz(f)) return kNonUtcUnknownType;
        s.row.append(f);
        break;
      case TzKind::kNone: break;
    }
    if (!ok) {
      s.row.resize(before);
      return kBadTimestamptz;
    }
  }
  *out = s.row;
  return kOk;
}

bool TableStreamReader::ReleaseSchema(SchemaCatalog* out) {
  const SchemaCatalog* s = schema();
  if (s == nullptr) return false;
  *out = *s;
  return true;
}

}  // namespace vouch
