// Fields of PostgreSQL's COPY text format, as COPY TO writes them and the
// readers hand rows over: fields separated by a tab, `\N` for NULL, and
// backslash escapes for the bytes that would break the framing. The chain
// module decodes the few fields it hashes; content digests never unescape.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vouch {

// True for the NULL marker, exactly `\N` (a longer field containing `\N` is
// data: it decodes to "N").
inline bool IsCopyNull(std::string_view f) { return f.size() == 2 && f[0] == '\\' && f[1] == 'N'; }

// Decodes one field (not NULL) into `out`, replacing its contents and reusing
// its capacity. Escapes as PostgreSQL's COPY FROM reads them: \b \f \n \r \t
// \v, \\, \ooo (1-3 octal digits, value mod 256), \xH or \xHH (1-2 hex
// digits; `\x` with no hex digit is "x"), and a backslash before any other
// byte stands for that byte. A backslash ending the field is dropped, as
// PostgreSQL drops it.
void CopyUnescape(std::string_view field, std::string& out);
// The same, appending to `out`.
void AppendCopyUnescaped(std::string_view field, std::string& out);

// Appends `field` as COPY TO writes it (CopyAttributeOutText, tab
// delimiter): a backslash doubled, \b \f \n \r \t \v for those control
// bytes, every other byte as it is.
void AppendCopyEscaped(std::string_view field, std::string& out);

// Splits a row (without its '\n') into its raw, still escaped fields, which
// view `row`. `fields` is cleared first; its capacity is reused. A tab after
// an odd run of backslashes is data, not a separator (COPY FROM accepts
// `\<TAB>` although COPY TO never writes it). Returns false when the row ends
// in an unpaired backslash (a damaged row); `fields` is filled anyway.
bool SplitCopyRow(std::string_view row, std::vector<std::string_view>& fields);

}  // namespace vouch
